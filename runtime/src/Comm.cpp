// The C entry points of vsart_comm.h: argument checks, then a call into the
// backend (vsart_comm's virtuals); vsart_comm_run_each / _run_threads.
#include "Comm.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace vsart::comm {

vsart_status_t resolveTimeout(double timeoutS, const char *what, double *out) {
  if (std::isnan(timeoutS) || std::isinf(timeoutS))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": timeout must be a finite number");
  if (timeoutS > 0) {
    *out = timeoutS;
    return VSART_OK;
  }
  double d = vsart_comm_default_timeout();
  if (d <= 0) {
    const char *env = std::getenv("VSART_COMM_TIMEOUT_S");
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": VSART_COMM_TIMEOUT_S='" +
                    (env ? env : "") +
                    "' is not a positive number of seconds");
  }
  *out = d;
  return VSART_OK;
}

Clock::time_point deadlineAfter(double seconds) {
  // Ten years is "forever" and keeps the duration arithmetic in range.
  const double capped = std::min(seconds, 3.2e8);
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(capped));
}

std::string formatSeconds(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", seconds);
  return buf;
}

std::string rankList(const std::vector<int32_t> &ranks) {
  std::string s;
  for (int32_t r : ranks)
    s += (s.empty() ? "" : ", ") + std::to_string(r);
  return s;
}

std::string timeoutMessage(const char *name, double seconds, int32_t rank,
                           const std::string &waiting,
                           const std::vector<int32_t> &group) {
  std::string s = std::string("collective ") + name + " timed out after " +
                  formatSeconds(seconds) + " s on rank " +
                  std::to_string(rank) + " (waiting for " + waiting;
  if (!group.empty())
    s += "; group of world ranks " + rankList(group);
  return s + ")";
}

} // namespace vsart::comm

using vsart::fail;

namespace {

vsart_status_t nullComm(const char *what) {
  return fail(VSART_ERROR_INVALID_ARGUMENT,
              std::string(what) + ": null communicator");
}

/// True when [a, a + an) and [b, b + bn) share a byte.
bool overlap(const void *a, size_t an, const void *b, size_t bn) {
  if (an == 0 || bn == 0)
    return false;
  const uintptr_t x = reinterpret_cast<uintptr_t>(a);
  const uintptr_t y = reinterpret_cast<uintptr_t>(b);
  return x < y + bn && y < x + an;
}

/// size * bytes without overflow, else an error naming `what`.
vsart_status_t total(const char *what, size_t bytes, int32_t size,
                     size_t *out) {
  if (bytes > std::numeric_limits<size_t>::max() / static_cast<size_t>(size))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": " + std::to_string(bytes) + " bytes x " +
                    std::to_string(size) + " ranks overflows");
  *out = bytes * static_cast<size_t>(size);
  return VSART_OK;
}

vsart_status_t checkPeer(const char *what, const char *role, int32_t peer,
                         int32_t size) {
  if (peer == VSART_COMM_NO_PEER || (peer >= 0 && peer < size))
    return VSART_OK;
  return fail(VSART_ERROR_INVALID_ARGUMENT,
              std::string(what) + ": " + role + " rank " +
                  std::to_string(peer) + " is outside [0, " +
                  std::to_string(size) + ") and not VSART_COMM_NO_PEER");
}

bool isStatus(int code) {
  return code > 0 && code <= static_cast<int>(VSART_ERROR_COMM);
}

} // namespace

extern "C" double vsart_comm_default_timeout(void) {
  const char *env = std::getenv("VSART_COMM_TIMEOUT_S");
  if (!env || !*env)
    return 300.0;
  char *end = nullptr;
  errno = 0;
  const double v = std::strtod(env, &end);
  if (errno || *end || !(v > 0) || std::isinf(v))
    return -1.0;
  return v;
}

extern "C" void vsart_comm_destroy(vsart_comm_t comm) { delete comm; }

extern "C" int32_t vsart_comm_rank(vsart_comm_t comm) {
  return comm ? comm->rank() : -1;
}

extern "C" int32_t vsart_comm_size(vsart_comm_t comm) {
  return comm ? comm->size() : 0;
}

extern "C" const char *vsart_comm_backend(vsart_comm_t comm) {
  return comm ? comm->backend() : "";
}

extern "C" double vsart_comm_timeout(vsart_comm_t comm) {
  return comm ? comm->timeout() : 0.0;
}

extern "C" vsart_status_t vsart_comm_all_to_all(vsart_comm_t comm,
                                                const void *send, void *recv,
                                                size_t chunk_bytes,
                                                void *stream) {
  const char *what = "comm_all_to_all";
  if (!comm)
    return nullComm(what);
  size_t bytes = 0;
  if (vsart_status_t st = total(what, chunk_bytes, comm->size(), &bytes))
    return st;
  if (bytes && (!send || !recv))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": null buffer");
  if (overlap(send, bytes, recv, bytes))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": send and recv overlap");
  return comm->allToAll(send, recv, chunk_bytes, stream);
}

extern "C" vsart_status_t
vsart_comm_all_to_all_n(vsart_comm_t comm, int32_t count,
                        const void *const *sends, void *const *recvs,
                        const size_t *chunk_bytes, void *stream) {
  const char *what = "comm_all_to_all_n";
  if (!comm)
    return nullComm(what);
  if (count < 1 || count > VSART_COMM_MAX_BUFFERS || !sends || !recvs ||
      !chunk_bytes)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": count must be in [1, " +
                    std::to_string(VSART_COMM_MAX_BUFFERS) +
                    "] with buffer and size arrays");
  for (int32_t t = 0; t < count; ++t) {
    size_t bytes = 0;
    if (vsart_status_t st = total(what, chunk_bytes[t], comm->size(), &bytes))
      return st;
    if (bytes && (!sends[t] || !recvs[t]))
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  std::string(what) + ": null buffer " + std::to_string(t));
    for (int32_t u = 0; u < count; ++u) {
      size_t other = chunk_bytes[u] * size_t(comm->size());
      if (overlap(sends[t], bytes, recvs[u], other) ||
          (u != t && overlap(recvs[t], bytes, recvs[u], other)))
        return fail(VSART_ERROR_INVALID_ARGUMENT,
                    std::string(what) + ": buffers " + std::to_string(t) +
                        " and " + std::to_string(u) + " overlap");
    }
  }
  return comm->allToAllN(count, sends, recvs, chunk_bytes, stream);
}

extern "C" vsart_status_t vsart_comm_all_gather(vsart_comm_t comm,
                                                const void *send, void *recv,
                                                size_t bytes, void *stream) {
  const char *what = "comm_all_gather";
  if (!comm)
    return nullComm(what);
  size_t all = 0;
  if (vsart_status_t st = total(what, bytes, comm->size(), &all))
    return st;
  if (bytes && (!send || !recv))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": null buffer");
  const bool inPlace =
      bytes && send == static_cast<const char *>(recv) +
                           static_cast<size_t>(comm->rank()) * bytes;
  if (!inPlace && overlap(send, bytes, recv, all))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) +
                    ": send overlaps recv without being this rank's chunk");
  return comm->allGather(send, recv, bytes, stream);
}

extern "C" vsart_status_t vsart_comm_sendrecv(vsart_comm_t comm,
                                              const void *send,
                                              size_t send_bytes, int32_t dest,
                                              void *recv, size_t recv_bytes,
                                              int32_t src, void *stream) {
  const char *what = "comm_sendrecv";
  if (!comm)
    return nullComm(what);
  if (vsart_status_t st = checkPeer(what, "dest", dest, comm->size()))
    return st;
  if (vsart_status_t st = checkPeer(what, "src", src, comm->size()))
    return st;
  if (dest < 0)
    send_bytes = 0;
  if (src < 0)
    recv_bytes = 0;
  if ((send_bytes && !send) || (recv_bytes && !recv))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": null buffer");
  if (overlap(send, send_bytes, recv, recv_bytes))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": send and recv overlap");
  return comm->sendRecv(send, send_bytes, dest, recv, recv_bytes, src, stream);
}

/// Whether a receive buffer of `t` overlaps another buffer (sorted by start,
/// each receive is compared with its neighbours until they end before it).
static bool receiveOverlaps(int32_t count, const vsart_comm_transfer_t *t,
                     int32_t *a, int32_t *b) {
  std::vector<int32_t> order;
  for (int32_t i = 0; i < count; ++i)
    if (t[i].bytes)
      order.push_back(i);
  auto start = [&](int32_t i) { return reinterpret_cast<uintptr_t>(t[i].buf); };
  std::sort(order.begin(), order.end(),
            [&](int32_t x, int32_t y) { return start(x) < start(y); });
  for (size_t i = 0; i < order.size(); ++i)
    for (size_t j = i + 1; j < order.size(); ++j) {
      const vsart_comm_transfer_t &x = t[order[i]], &y = t[order[j]];
      if (!overlap(x.buf, x.bytes, y.buf, y.bytes))
        break; // y starts after x ends, and so do the later ones
      if (x.recv || y.recv) {
        *a = order[i], *b = order[j];
        return true;
      }
    }
  return false;
}

extern "C" vsart_status_t
vsart_comm_exchange(vsart_comm_t comm, int32_t count,
                    const vsart_comm_transfer_t *transfers, void *stream) {
  const char *what = "comm_exchange";
  if (!comm)
    return nullComm(what);
  if (count < 0 || (count > 0 && !transfers))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": negative count or null transfers");
  for (int32_t i = 0; i < count; ++i) {
    const vsart_comm_transfer_t &t = transfers[i];
    if (t.peer < 0 || t.peer >= comm->size() || (t.recv != 0 && t.recv != 1))
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  std::string(what) + ": transfer " + std::to_string(i) +
                      " names peer " + std::to_string(t.peer) + " of " +
                      std::to_string(comm->size()) + " ranks or recv " +
                      std::to_string(t.recv) + " (not 0 or 1)");
    if (t.bytes && !t.buf)
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  std::string(what) + ": transfer " + std::to_string(i) +
                      " has a null buffer");
  }
  int32_t a = 0, b = 0;
  if (receiveOverlaps(count, transfers, &a, &b))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": buffers of transfers " +
                    std::to_string(a) + " and " + std::to_string(b) +
                    " overlap and one of them receives");
  return comm->exchange(count, transfers, stream);
}

extern "C" vsart_status_t vsart_comm_barrier(vsart_comm_t comm, void *stream) {
  if (!comm)
    return nullComm("comm_barrier");
  return comm->barrier(stream);
}

extern "C" vsart_status_t vsart_comm_synchronize(vsart_comm_t comm,
                                                 void *stream) {
  if (!comm)
    return nullComm("comm_synchronize");
  return comm->synchronize(stream);
}

extern "C" vsart_status_t vsart_comm_split(vsart_comm_t comm, int32_t color,
                                           int32_t key, vsart_comm_t *out) {
  if (!out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "comm_split: null out");
  *out = nullptr;
  if (!comm)
    return nullComm("comm_split");
  return comm->split(color, key, out);
}

extern "C" void vsart_comm_abort(vsart_comm_t comm, const char *message) {
  if (comm)
    comm->abort(message && *message ? message : "(no reason given)");
}

extern "C" vsart_status_t vsart_comm_run_each(int32_t n,
                                              const vsart_comm_t *comms,
                                              int (*fn)(vsart_comm_t, void *),
                                              void *user) {
  if (n < 1 || !comms || !fn)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "comm_run_each: needs n >= 1, comms and fn");
  for (int32_t i = 0; i < n; ++i)
    if (!comms[i])
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  "comm_run_each: comms[" + std::to_string(i) + "] is null");

  struct Failure {
    vsart_status_t status;
    std::string message;
  };
  std::mutex mu;
  std::vector<Failure> failures; // in the order the ranks failed
  auto body = [&](vsart_comm_t comm) {
    const int code = fn(comm, user);
    if (code == 0)
      return;
    const vsart_status_t st =
        isStatus(code) ? static_cast<vsart_status_t>(code) : VSART_ERROR_COMM;
    std::string why = vsart_last_error();
    if (why.empty())
      why = isStatus(code) ? vsart_status_message(st)
                           : "returned " + std::to_string(code);
    {
      std::lock_guard<std::mutex> lock(mu);
      failures.push_back({st, "rank " + std::to_string(comm->rank()) +
                                  " failed: " + why});
    }
    comm->abort(why); // wakes the other ranks; ignored if already aborted
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n) - 1);
  for (int32_t i = 1; i < n; ++i)
    threads.emplace_back(body, comms[i]);
  body(comms[0]); // the calling thread drives the first handle
  for (std::thread &t : threads)
    t.join();
  if (failures.empty())
    return vsart::ok();
  // Prefer a root cause to a rank that only saw the abort it caused.
  const Failure *first = &failures.front();
  for (const Failure &f : failures)
    if (f.message.find("communicator aborted by rank") == std::string::npos) {
      first = &f;
      break;
    }
  return fail(first->status, first->message);
}

extern "C" vsart_status_t vsart_comm_run_threads(int32_t world_size,
                                                 int (*fn)(vsart_comm_t, void *),
                                                 void *user) {
  if (world_size < 1 || !fn)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "comm_run_threads: needs world_size >= 1 and fn");
  std::vector<vsart_comm_t> comms(static_cast<size_t>(world_size));
  if (vsart_status_t st =
          vsart_comm_create_threads(world_size, 0.0, comms.data()))
    return st;
  vsart_status_t st = vsart_comm_run_each(world_size, comms.data(), fn, user);
  std::string message = vsart_last_error();
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
  return st ? fail(st, message) : vsart::ok();
}

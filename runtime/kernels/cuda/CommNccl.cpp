// The NCCL backend of vsart_comm.h. libnccl.so.2 (or libnccl.so) is
// dlopen'ed on first use, like cuDNN in CudnnAttention.cpp: nccl.h is
// included for its types only, so executables have no link-time dependency
// on NCCL.
//
// Every communicator is nonblocking (ncclConfig_t.blocking = 0): an NCCL
// call may return ncclInProgress, and we then poll ncclCommGetAsyncError
// with a deadline instead of letting NCCL wait without bound. Where the API
// must wait for the GPU (synchronize, barrier), cudaStreamQuery is polled
// the same way. A timeout, an NCCL or CUDA error, or vsart_comm_abort sets
// the world's Fault (first failure wins) and ncclCommAbort's the
// communicator on its owning thread; in a multi-process world the
// rendezvous connections (Rendezvous.h) carry the abort to the other
// processes, whose next call or poll fails with the same message.
//
// Which calls can block, and for how long (T = the timeout):
//   create_nccl_from_env   rendezvous + init: at most about 2 T
//   create_nccl_local      init: at most T
//   all_to_all, all_gather, sendrecv: enqueue only; an ncclInProgress
//                          enqueue is polled for at most T
//   barrier, synchronize   at most T (from the call), polling every <= 1 ms
//   split                  at most T
//   destroy                ncclCommFinalize polled for at most T, then
//                          ncclCommDestroy, or ncclCommAbort on failure
//   abort                  never (flags; the owning thread aborts NCCL)
#include "Common.h"
#include "DynamicLibrary.h"

#include "../../src/Comm.h"
#include "../../src/Rendezvous.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if __has_include(<nccl.h>)
#include <dlfcn.h>
#include <nccl.h>
#define VSART_HAVE_NCCL_HEADERS 1
#else
#define VSART_HAVE_NCCL_HEADERS 0
#endif

using vsart::fail;
namespace comm = vsart::comm;

#if VSART_HAVE_NCCL_HEADERS
namespace {

// ---- the functions of libnccl we use ----------------------------------------

struct Api {
  ncclResult_t (*getVersion)(int *) = nullptr;
  const char *(*errorString)(ncclResult_t) = nullptr;
  const char *(*lastError)(ncclComm_t) = nullptr; // optional
  ncclResult_t (*getUniqueId)(ncclUniqueId *) = nullptr;
  ncclResult_t (*initRankConfig)(ncclComm_t *, int, ncclUniqueId, int,
                                 ncclConfig_t *) = nullptr;
  ncclResult_t (*split)(ncclComm_t, int, int, ncclComm_t *,
                        ncclConfig_t *) = nullptr;
  ncclResult_t (*finalize)(ncclComm_t) = nullptr;
  ncclResult_t (*destroy)(ncclComm_t) = nullptr;
  ncclResult_t (*abort)(ncclComm_t) = nullptr;
  ncclResult_t (*asyncError)(ncclComm_t, ncclResult_t *) = nullptr;
  ncclResult_t (*count)(const ncclComm_t, int *) = nullptr;
  ncclResult_t (*userRank)(const ncclComm_t, int *) = nullptr;
  ncclResult_t (*groupStart)() = nullptr;
  ncclResult_t (*groupEnd)() = nullptr;
  ncclResult_t (*send)(const void *, size_t, ncclDataType_t, int, ncclComm_t,
                       cudaStream_t) = nullptr;
  ncclResult_t (*recv)(void *, size_t, ncclDataType_t, int, ncclComm_t,
                       cudaStream_t) = nullptr;
  ncclResult_t (*allGather)(const void *, void *, size_t, ncclDataType_t,
                            ncclComm_t, cudaStream_t) = nullptr;
  ncclResult_t (*allReduce)(const void *, void *, size_t, ncclDataType_t,
                            ncclRedOp_t, ncclComm_t, cudaStream_t) = nullptr;
  int version = 0;
  std::string error; // why the library is unusable, "" when it loaded
};

using vsart::cuda::bindSymbol;

Api loadApi() {
  Api api;
  void *lib = vsart::cuda::openLibrary({"libnccl.so.2", "libnccl.so"}, "NCCL", api.error);
  if (!lib)
    return api;
  bool ok = bindSymbol(lib, "ncclGetVersion", api.getVersion) &&
            bindSymbol(lib, "ncclGetErrorString", api.errorString) &&
            bindSymbol(lib, "ncclGetUniqueId", api.getUniqueId) &&
            bindSymbol(lib, "ncclCommInitRankConfig", api.initRankConfig) &&
            bindSymbol(lib, "ncclCommSplit", api.split) &&
            bindSymbol(lib, "ncclCommFinalize", api.finalize) &&
            bindSymbol(lib, "ncclCommDestroy", api.destroy) &&
            bindSymbol(lib, "ncclCommAbort", api.abort) &&
            bindSymbol(lib, "ncclCommGetAsyncError", api.asyncError) &&
            bindSymbol(lib, "ncclCommCount", api.count) &&
            bindSymbol(lib, "ncclCommUserRank", api.userRank) &&
            bindSymbol(lib, "ncclGroupStart", api.groupStart) &&
            bindSymbol(lib, "ncclGroupEnd", api.groupEnd) &&
            bindSymbol(lib, "ncclSend", api.send) &&
            bindSymbol(lib, "ncclRecv", api.recv) &&
            bindSymbol(lib, "ncclAllGather", api.allGather) &&
            bindSymbol(lib, "ncclAllReduce", api.allReduce);
  bindSymbol(lib, "ncclGetLastError", api.lastError);
  if (!ok) {
    api.error = "libnccl lacks a function of NCCL 2.18 (ncclCommSplit, ...)";
    return api;
  }
  if (api.getVersion(&api.version) != ncclSuccess || api.version < 21800)
    api.error = "NCCL " + std::to_string(api.version) +
                " is older than 2.18, which nonblocking split needs";
  return api; // never dlclose'd
}

const Api &api() {
  static const Api a = loadApi();
  return a;
}

vsart_status_t requireApi(const char *what) {
  if (!api().error.empty())
    return fail(VSART_ERROR_NOT_FOUND, std::string(what) + ": " + api().error);
  return VSART_OK;
}

std::string describe(ncclResult_t r, ncclComm_t c) {
  std::string s = api().errorString ? api().errorString(r) : "NCCL error";
  if (api().lastError) {
    const char *last = api().lastError(c);
    if (last && *last)
      s += std::string(" (") + last + ")";
  }
  return s;
}

bool inProgressOrOk(ncclResult_t r) {
  return r == ncclSuccess || r == ncclInProgress;
}

ncclConfig_t nonblockingConfig() {
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  return config;
}

/// Sleeps a little longer each time, up to 1 ms (polling loops).
struct Backoff {
  int us = 10;
  void operator()() {
    std::this_thread::sleep_for(std::chrono::microseconds(us));
    us = std::min(us * 2, 1000);
  }
};

enum class Poll { Ready, TimedOut, Faulted };

/// Polls ncclCommGetAsyncError until the communicator leaves ncclInProgress
/// (Ready; *result gets its state), the deadline passes, or `fault` (if
/// given) is set, e.g. by an abort from another process.
Poll pollReady(ncclComm_t c, comm::Clock::time_point deadline,
               ncclResult_t *result, const comm::Fault *fault = nullptr) {
  Backoff backoff;
  for (;;) {
    ncclResult_t st = ncclSuccess;
    ncclResult_t q = api().asyncError(c, &st);
    *result = q != ncclSuccess ? q : st;
    if (*result != ncclInProgress)
      return Poll::Ready;
    if (fault && fault->failed())
      return Poll::Faulted;
    if (comm::Clock::now() >= deadline)
      return Poll::TimedOut;
    backoff();
  }
}

// ---- worlds and communicators -------------------------------------------------

/// What the communicators of one world share: the first failure, and (one
/// process per GPU) the rendezvous connections that carry aborts between
/// processes. Declared in this order so the rendezvous (whose watcher
/// writes the fault) goes first.
struct NcclWorld {
  comm::Fault fault;
  std::unique_ptr<comm::Rendezvous> rendezvous;
  double timeoutS = 0;

  /// Records message; the first failure goes to the other processes too.
  void failWith(const std::string &message) {
    if (fault.set(message) && rendezvous)
      rendezvous->abort(message);
  }
};

class NcclComm final : public vsart_comm {
public:
  NcclComm(std::shared_ptr<NcclWorld> world, ncclComm_t c, int device,
           int32_t rank, int32_t size, int32_t worldRank, bool isSplit,
           void *scratch)
      : world_(std::move(world)), comm_(c), device_(device), rank_(rank),
        size_(size), worldRank_(worldRank), split_(isSplit),
        scratch_(scratch) {}

  ~NcclComm() override {
    int previous = -1;
    cudaGetDevice(&previous);
    cudaSetDevice(device_);
    if (!broken_ && !world_->fault.failed()) {
      ncclResult_t r = api().finalize(comm_);
      if (inProgressOrOk(r) &&
          pollReady(comm_, comm::deadlineAfter(world_->timeoutS), &r,
                    &world_->fault) == Poll::Ready &&
          r == ncclSuccess)
        api().destroy(comm_);
      else
        api().abort(comm_);
    } else if (!broken_) {
      api().abort(comm_);
    }
    if (scratch_)
      cudaFree(scratch_);
    if (previous >= 0)
      cudaSetDevice(previous);
  }

  int32_t rank() const override { return rank_; }
  int32_t size() const override { return size_; }
  const char *backend() const override { return "nccl"; }
  double timeout() const override { return world_->timeoutS; }

  vsart_status_t allToAll(const void *send, void *recv, size_t chunk,
                          void *stream) override {
    return enqueue("all_to_all", allRanks(), [&](cudaStream_t s) {
      for (int32_t r = 0; r < size_; ++r) {
        ncclResult_t e =
            api().send(static_cast<const char *>(send) + r * chunk, chunk,
                       ncclUint8, r, comm_, s);
        if (!inProgressOrOk(e))
          return e;
        e = api().recv(static_cast<char *>(recv) + r * chunk, chunk, ncclUint8,
                       r, comm_, s);
        if (!inProgressOrOk(e))
          return e;
      }
      return ncclSuccess;
    }, stream);
  }

  vsart_status_t allToAllN(int32_t count, const void *const *sends,
                           void *const *recvs, const size_t *chunks,
                           void *stream) override {
    return enqueue("all_to_all", allRanks(), [&](cudaStream_t s) {
      for (int32_t r = 0; r < size_; ++r)
        for (int32_t t = 0; t < count; ++t) {
          ncclResult_t e =
              api().send(static_cast<const char *>(sends[t]) + r * chunks[t],
                         chunks[t], ncclUint8, r, comm_, s);
          if (!inProgressOrOk(e))
            return e;
          e = api().recv(static_cast<char *>(recvs[t]) + r * chunks[t],
                         chunks[t], ncclUint8, r, comm_, s);
          if (!inProgressOrOk(e))
            return e;
        }
      return ncclSuccess;
    }, stream);
  }

  vsart_status_t exchange(int32_t count, const vsart_comm_transfer_t *transfers,
                          void *stream) override {
    return enqueue("exchange", allRanks(), [&](cudaStream_t s) {
      for (int32_t i = 0; i < count; ++i) {
        const vsart_comm_transfer_t &t = transfers[i];
        ncclResult_t e =
            t.recv ? api().recv(t.buf, t.bytes, ncclUint8, t.peer, comm_, s)
                   : api().send(t.buf, t.bytes, ncclUint8, t.peer, comm_, s);
        if (!inProgressOrOk(e))
          return e;
      }
      return ncclSuccess;
    }, stream);
  }

  vsart_status_t allGather(const void *send, void *recv, size_t bytes,
                           void *stream) override {
    return enqueue("all_gather", allRanks(), [&](cudaStream_t s) {
      return api().allGather(send, recv, bytes, ncclUint8, comm_, s);
    }, stream);
  }

  vsart_status_t sendRecv(const void *send, size_t sendBytes, int32_t dest,
                          void *recv, size_t recvBytes, int32_t src,
                          void *stream) override {
    std::vector<int32_t> peers;
    for (int32_t p : {dest, src})
      if (p >= 0 && p != rank_ &&
          std::find(peers.begin(), peers.end(), p) == peers.end())
        peers.push_back(p);
    return enqueue("sendrecv", peers, [&](cudaStream_t s) {
      if (dest >= 0) {
        ncclResult_t e = api().send(send, sendBytes, ncclUint8, dest, comm_, s);
        if (!inProgressOrOk(e))
          return e;
      }
      if (src >= 0)
        return api().recv(recv, recvBytes, ncclUint8, src, comm_, s);
      return ncclSuccess;
    }, stream);
  }

  vsart_status_t barrier(void *stream) override {
    if (vsart_status_t st = enqueue("barrier", allRanks(), [&](cudaStream_t s) {
          return api().allReduce(scratch_, scratch_, 1, ncclInt32, ncclSum,
                                 comm_, s);
        }, stream))
      return st;
    return synchronize(stream);
  }

  vsart_status_t synchronize(void *stream) override;
  vsart_status_t split(int32_t color, int32_t key, vsart_comm_t *out) override;

  void abort(const std::string &message) override {
    // Only flags: ncclCommAbort must not race with the owning thread's
    // calls; that thread aborts NCCL at its next call or poll.
    world_->failWith("communicator aborted by rank " +
                     std::to_string(worldRank_) + ": " + message);
  }

private:
  std::vector<int32_t> allRanks() const {
    std::vector<int32_t> r;
    for (int32_t i = 0; i < size_; ++i)
      if (i != rank_)
        r.push_back(i);
    return r;
  }

  void abortNccl() {
    if (!broken_) {
      broken_ = true;
      api().abort(comm_);
    }
  }

  /// Fails with the world's first failure, aborting NCCL here.
  vsart_status_t worldFailure() {
    abortNccl();
    return fail(VSART_ERROR_COMM, world_->fault.message());
  }

  /// A failure seen on this rank: it becomes the world's (unless another
  /// came first), and this call fails with the world's message.
  vsart_status_t failure(const std::string &message) {
    world_->failWith(message);
    return worldFailure();
  }

  vsart_status_t ncclFailure(const char *op, ncclResult_t r) {
    return failure("NCCL " + std::string(op) + " failed on rank " +
                   std::to_string(worldRank_) + ": " + describe(r, comm_));
  }

  vsart_status_t timeoutFailure(const std::string &op,
                                const std::vector<int32_t> &peers) {
    std::string waiting = peers.empty()
                              ? std::string("this rank's stream")
                              : std::string("one or more of ") +
                                    (split_ ? "group " : "") + "ranks " +
                                    comm::rankList(peers);
    return failure(comm::timeoutMessage(op.c_str(), world_->timeoutS,
                                        worldRank_, waiting, {}));
  }

  vsart_status_t prepare() {
    if (world_->fault.failed())
      return worldFailure();
    if (broken_)
      return fail(VSART_ERROR_COMM, "NCCL communicator already aborted");
    return vsart::cuda::check(cudaSetDevice(device_), "comm: cudaSetDevice",
                              VSART_ERROR_COMM);
  }

  /// Queues issue(stream) as one NCCL group, polling an ncclInProgress end.
  template <class Issue>
  vsart_status_t enqueue(const char *op, const std::vector<int32_t> &peers,
                         Issue issue, void *stream) {
    if (vsart_status_t st = prepare())
      return st;
    const cudaStream_t s = vsart::cuda::toStream(stream);
    api().groupStart();
    const ncclResult_t issued = issue(s);
    ncclResult_t r = api().groupEnd(); // always close the group
    if (!inProgressOrOk(issued))
      return ncclFailure(op, issued);
    if (r == ncclInProgress) {
      const Poll p = pollReady(comm_, comm::deadlineAfter(world_->timeoutS),
                               &r, &world_->fault);
      if (p == Poll::Faulted)
        return worldFailure();
      if (p == Poll::TimedOut)
        return timeoutFailure(op, peers);
    }
    if (r != ncclSuccess)
      return ncclFailure(op, r);
    if (pendingOps_.find(op) == std::string::npos)
      pendingOps_ += (pendingOps_.empty() ? "" : "/") + std::string(op);
    for (int32_t p : peers)
      if (std::find(pendingPeers_.begin(), pendingPeers_.end(), p) ==
          pendingPeers_.end())
        pendingPeers_.push_back(p);
    return vsart::ok();
  }

  std::shared_ptr<NcclWorld> world_;
  ncclComm_t comm_;
  int device_;
  int32_t rank_, size_, worldRank_;
  bool split_;
  void *scratch_;      // 4 device bytes for the barrier's all-reduce
  bool broken_ = false; // ncclCommAbort'ed
  // Collectives queued since the last synchronize, for timeout messages.
  std::string pendingOps_;
  std::vector<int32_t> pendingPeers_;
};

vsart_status_t NcclComm::synchronize(void *stream) {
  if (vsart_status_t st = prepare())
    return st;
  const cudaStream_t s = vsart::cuda::toStream(stream);
  const auto deadline = comm::deadlineAfter(world_->timeoutS);
  Backoff backoff;
  for (;;) {
    if (world_->fault.failed()) // e.g. an abort from another process
      return worldFailure();
    ncclResult_t st = ncclSuccess;
    ncclResult_t q = api().asyncError(comm_, &st);
    if (q != ncclSuccess)
      st = q;
    if (!inProgressOrOk(st))
      return ncclFailure(pendingOps_.empty() ? "synchronize"
                                             : pendingOps_.c_str(),
                         st);
    const cudaError_t e = cudaStreamQuery(s);
    if (e == cudaSuccess && st == ncclSuccess) {
      pendingOps_.clear();
      pendingPeers_.clear();
      return vsart::ok();
    }
    if (e != cudaSuccess && e != cudaErrorNotReady)
      return failure("CUDA error on rank " + std::to_string(worldRank_) +
                     " while synchronizing " +
                     (pendingOps_.empty() ? "the stream" : pendingOps_) +
                     ": " + cudaGetErrorName(e) + " (" +
                     cudaGetErrorString(e) + ")");
    if (comm::Clock::now() >= deadline)
      return timeoutFailure(pendingOps_.empty() ? "synchronize" : pendingOps_,
                            pendingPeers_);
    backoff();
  }
}

vsart_status_t NcclComm::split(int32_t color, int32_t key, vsart_comm_t *out) {
  if (vsart_status_t st = prepare())
    return st;
  const auto deadline = comm::deadlineAfter(world_->timeoutS);
  ncclConfig_t config = nonblockingConfig();
  ncclComm_t child = nullptr;
  ncclResult_t r = api().split(comm_, color < 0 ? NCCL_SPLIT_NOCOLOR : color,
                               key, &child, &config);
  if (!inProgressOrOk(r))
    return ncclFailure("split", r);
  // Both the parent and the new communicator finish the split.
  ncclResult_t rc = ncclSuccess;
  Poll p = pollReady(comm_, deadline, &r, &world_->fault);
  if (p == Poll::Ready && child)
    p = pollReady(child, deadline, &rc, &world_->fault);
  if (p != Poll::Ready) {
    if (child)
      api().abort(child);
    return p == Poll::Faulted ? worldFailure()
                              : timeoutFailure("split", allRanks());
  }
  if (r != ncclSuccess || rc != ncclSuccess) {
    if (child)
      api().abort(child);
    return ncclFailure("split", r != ncclSuccess ? r : rc);
  }
  if (!child)
    return vsart::ok(); // VSART_COMM_NO_COLOR
  int rank = 0, size = 0;
  void *scratch = nullptr;
  if (api().userRank(child, &rank) != ncclSuccess ||
      api().count(child, &size) != ncclSuccess ||
      cudaMalloc(&scratch, 16) != cudaSuccess) {
    api().abort(child);
    return failure("split on rank " + std::to_string(worldRank_) +
                   ": cannot query the new communicator or allocate 16 "
                   "device bytes");
  }
  *out = new NcclComm(world_, child, device_, rank, size, worldRank_, true,
                      scratch);
  return vsart::ok();
}

/// cudaGetDeviceCount, 0 on any error (no driver, no device).
int deviceCount() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

} // namespace

namespace vsart::comm {

vsart_status_t createNcclFromLaunchEnv(const LaunchEnv &env, double timeoutS,
                                       vsart_comm_t *out) {
  const char *what = "comm_create_nccl_from_env";
  if (!out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, std::string(what) + ": null out");
  *out = nullptr;
  double timeout = 0;
  if (vsart_status_t st = resolveTimeout(timeoutS, what, &timeout))
    return st;
  if (vsart_status_t st = requireApi(what))
    return st;
  const int devices = deviceCount();
  const int device = env.localRank >= 0 ? env.localRank
                     : devices > 0      ? env.rank % devices
                                        : 0;
  if (device >= devices)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": rank " + std::to_string(env.rank) +
                    " wants GPU " + std::to_string(device) + " but " +
                    std::to_string(devices) + " are visible");
  if (vsart_status_t st = cuda::check(cudaSetDevice(device),
                                      "comm_create_nccl_from_env: "
                                      "cudaSetDevice"))
    return st;

  ncclUniqueId id{};
  std::string payload;
  if (env.rank == 0) {
    if (ncclResult_t r = api().getUniqueId(&id))
      return fail(VSART_ERROR_COMM, std::string(what) +
                                        ": ncclGetUniqueId: " +
                                        describe(r, nullptr));
    payload.assign(reinterpret_cast<const char *>(&id), sizeof(id));
  }
  auto world = std::make_shared<NcclWorld>();
  world->timeoutS = timeout;
  if (vsart_status_t st =
          Rendezvous::connect(env.rank, env.size, env.masterAddr, env.port,
                              timeout, &payload, &world->rendezvous))
    return st;
  if (payload.size() != sizeof(id))
    return fail(VSART_ERROR_COMM,
                std::string(what) + ": rank 0 sent " +
                    std::to_string(payload.size()) +
                    " bytes, not an ncclUniqueId");
  std::memcpy(&id, payload.data(), sizeof(id));
  NcclWorld *w = world.get();
  world->rendezvous->watch(
      [w](const std::string &message) { w->fault.set(message); });

  ncclConfig_t config = nonblockingConfig();
  ncclComm_t c = nullptr;
  ncclResult_t r = api().initRankConfig(&c, env.size, id, env.rank, &config);
  std::string why;
  Poll p = Poll::Ready;
  if (!inProgressOrOk(r))
    why = describe(r, c);
  else if ((p = pollReady(c, deadlineAfter(timeout), &r, &world->fault)) ==
           Poll::TimedOut)
    why = "timed out after " + formatSeconds(timeout) + " s";
  else if (p == Poll::Faulted)
    why = world->fault.message();
  else if (r != ncclSuccess)
    why = describe(r, c);
  void *scratch = nullptr;
  if (why.empty() && cudaMalloc(&scratch, 16) != cudaSuccess)
    why = "cannot allocate 16 device bytes";
  if (!why.empty()) {
    if (c)
      api().abort(c);
    const std::string message = "ncclCommInitRank failed on rank " +
                                std::to_string(env.rank) + ": " + why;
    world->failWith(message); // the other ranks stop waiting at once
    return fail(VSART_ERROR_COMM, std::string(what) + ": " + message);
  }
  *out = new NcclComm(world, c, device, env.rank, env.size, env.rank, false,
                      scratch);
  return vsart::ok();
}

} // namespace vsart::comm

extern "C" vsart_status_t vsart_comm_create_nccl_from_env(double timeout_s,
                                                          vsart_comm_t *out) {
  if (!out)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "comm_create_nccl_from_env: null out");
  *out = nullptr;
  comm::LaunchEnv env;
  if (vsart_status_t st = comm::readLaunchEnv(
          [](const char *name) -> const char * { return std::getenv(name); },
          &env))
    return st;
  return comm::createNcclFromLaunchEnv(env, timeout_s, out);
}

extern "C" vsart_status_t vsart_comm_create_nccl_local(int32_t num_gpus,
                                                       double timeout_s,
                                                       vsart_comm_t *ranks_out) {
  const char *what = "comm_create_nccl_local";
  if (!ranks_out)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": null ranks_out");
  const int devices = deviceCount();
  if (num_gpus < 1 || num_gpus > devices)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": num_gpus " + std::to_string(num_gpus) +
                    " is outside [1, " + std::to_string(devices) +
                    "] (visible GPUs)");
  double timeout = 0;
  if (vsart_status_t st = comm::resolveTimeout(timeout_s, what, &timeout))
    return st;
  if (vsart_status_t st = requireApi(what))
    return st;
  int previous = 0;
  cudaGetDevice(&previous);
  ncclUniqueId id{};
  if (ncclResult_t r = api().getUniqueId(&id))
    return fail(VSART_ERROR_COMM, std::string(what) + ": ncclGetUniqueId: " +
                                      describe(r, nullptr));
  // ncclCommInitAll, spelled out so that the communicators are nonblocking.
  std::vector<ncclComm_t> comms(static_cast<size_t>(num_gpus), nullptr);
  ncclConfig_t config = nonblockingConfig();
  std::string why;
  api().groupStart();
  for (int32_t i = 0; i < num_gpus && why.empty(); ++i) {
    if (cudaSetDevice(i) != cudaSuccess) {
      why = "cudaSetDevice(" + std::to_string(i) + ") failed";
      break;
    }
    ncclResult_t r = api().initRankConfig(&comms[i], num_gpus, id, i, &config);
    if (!inProgressOrOk(r))
      why = "GPU " + std::to_string(i) + ": " + describe(r, comms[i]);
  }
  ncclResult_t end = api().groupEnd();
  if (why.empty() && !inProgressOrOk(end))
    why = describe(end, nullptr);
  const auto deadline = comm::deadlineAfter(timeout);
  for (int32_t i = 0; i < num_gpus && why.empty(); ++i) {
    ncclResult_t r = ncclSuccess;
    if (!comms[i] || pollReady(comms[i], deadline, &r) != Poll::Ready)
      why = "GPU " + std::to_string(i) + ": timed out after " +
            comm::formatSeconds(timeout) + " s";
    else if (r != ncclSuccess)
      why = "GPU " + std::to_string(i) + ": " + describe(r, comms[i]);
  }
  std::vector<void *> scratch(static_cast<size_t>(num_gpus), nullptr);
  for (int32_t i = 0; i < num_gpus && why.empty(); ++i)
    if (cudaSetDevice(i) != cudaSuccess ||
        cudaMalloc(&scratch[i], 16) != cudaSuccess)
      why = "GPU " + std::to_string(i) + ": cannot allocate 16 bytes";
  if (!why.empty()) {
    for (int32_t i = 0; i < num_gpus; ++i) {
      cudaSetDevice(i);
      if (comms[i])
        api().abort(comms[i]);
      if (scratch[i])
        cudaFree(scratch[i]);
    }
    cudaSetDevice(previous);
    return fail(VSART_ERROR_COMM,
                std::string(what) + ": ncclCommInitRank failed: " + why);
  }
  auto world = std::make_shared<NcclWorld>();
  world->timeoutS = timeout;
  for (int32_t i = 0; i < num_gpus; ++i)
    ranks_out[i] = new NcclComm(world, comms[i], i, i, num_gpus, i, false,
                                scratch[i]);
  cudaSetDevice(previous);
  return vsart::ok();
}

#else // !VSART_HAVE_NCCL_HEADERS

namespace vsart::comm {
vsart_status_t createNcclFromLaunchEnv(const LaunchEnv &, double,
                                       vsart_comm_t *out) {
  if (out)
    *out = nullptr;
  return fail(VSART_ERROR_NOT_FOUND,
              "comm_create_nccl_from_env: built without nccl.h");
}
} // namespace vsart::comm

extern "C" vsart_status_t vsart_comm_create_nccl_from_env(double,
                                                          vsart_comm_t *out) {
  return comm::createNcclFromLaunchEnv(comm::LaunchEnv(), 0, out);
}

extern "C" vsart_status_t vsart_comm_create_nccl_local(int32_t, double,
                                                       vsart_comm_t *) {
  return fail(VSART_ERROR_NOT_FOUND,
              "comm_create_nccl_local: built without nccl.h");
}

#endif

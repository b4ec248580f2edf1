// The launch environment and the TCP rendezvous / abort channel of the
// multi-process communicators (Rendezvous.h). Plain POSIX sockets.
//
// Wire format: a connecting rank sends "VSARDV01" + rank + size (u32, big
// endian); after that every message is a frame: one type byte, a u32 length,
// the bytes. Rank 0 answers 'P' + payload, or 'E' + why it refuses. Later
// frames: 'A' + message (abort), 'B' (goodbye: the closing connection is no
// failure).
#include "Rendezvous.h"
#include "Comm.h"

#include <arpa/inet.h>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

using vsart::fail;

namespace vsart::comm {

// ---- the launch environment ----------------------------------------------

namespace {

bool parseInt(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  if (!s || !*s)
    return false;
  char *end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s, &end, 10);
  if (errno || *end || v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

} // namespace

vsart_status_t readLaunchEnv(const EnvLookup &lookup, LaunchEnv *out) {
  auto get = [&](const char *name) -> const char * {
    const char *v = lookup(name);
    return v && *v ? v : nullptr;
  };
  struct Names {
    const char *launcher, *rank, *size, *localRank, *localSize;
  };
  static const Names kLaunchers[] = {
      {"torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"},
      {"Open MPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
       "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"},
      {"MPICH", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"},
  };
  const Names *names = nullptr;
  for (const Names &n : kLaunchers)
    if (get(n.rank) || get(n.size)) {
      names = &n;
      break;
    }
  if (!names)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "comm environment: no rank given: set RANK and WORLD_SIZE "
                "(torchrun) or start the processes with mpirun");
  LaunchEnv env;
  env.launcher = names->launcher;
  auto readInt = [&](const char *name, int64_t lo, int64_t hi, bool required,
                     int32_t *value) -> vsart_status_t {
    const char *v = get(name);
    if (!v && !required)
      return VSART_OK;
    int64_t parsed = 0;
    if (!parseInt(v, lo, hi, &parsed))
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  std::string("comm environment: ") + name + "=" +
                      (v ? "'" + std::string(v) + "'" : "(unset)") +
                      " is not an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
    *value = static_cast<int32_t>(parsed);
    return VSART_OK;
  };
  if (vsart_status_t st = readInt(names->size, 1, 1 << 20, true, &env.size))
    return st;
  if (vsart_status_t st =
          readInt(names->rank, 0, env.size - 1, true, &env.rank))
    return st;
  if (vsart_status_t st =
          readInt(names->localSize, 1, env.size, false, &env.localSize))
    return st;
  const int64_t maxLocal = (env.localSize > 0 ? env.localSize : env.size) - 1;
  if (vsart_status_t st =
          readInt(names->localRank, 0, maxLocal, false, &env.localRank))
    return st;

  if (const char *addr = get("MASTER_ADDR"))
    env.masterAddr = addr;
  else if (env.size == 1 || env.localSize == env.size)
    env.masterAddr = "127.0.0.1"; // every rank on this node
  else
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string("comm environment: MASTER_ADDR (rank 0's host) "
                            "is not set and the ") +
                    std::to_string(env.size) +
                    " ranks are not known to share one node (" +
                    names->localSize + ")");

  int32_t port = 29500;
  if (get("VSART_COMM_PORT")) {
    if (vsart_status_t st = readInt("VSART_COMM_PORT", 1, 65535, true, &port))
      return st;
  } else {
    if (vsart_status_t st = readInt("MASTER_PORT", 1, 65535, false, &port))
      return st;
    const char *agent = get("TORCHELASTIC_USE_AGENT_STORE");
    if (agent && (std::strcmp(agent, "True") == 0 ||
                  std::strcmp(agent, "true") == 0 ||
                  std::strcmp(agent, "1") == 0)) {
      if (port == 65535)
        return fail(VSART_ERROR_INVALID_ARGUMENT,
                    "comm environment: MASTER_PORT=65535 is held by "
                    "torchrun's agent store and has no next port; set "
                    "VSART_COMM_PORT");
      ++port; // torchrun's agent hosts its TCPStore on MASTER_PORT itself
    }
  }
  env.port = port;
  *out = std::move(env);
  return VSART_OK;
}

// ---- sockets ---------------------------------------------------------------

namespace {

constexpr char kMagic[8] = {'V', 'S', 'A', 'R', 'D', 'V', '0', '1'};
constexpr uint32_t kMaxFrame = 1u << 20;

/// Milliseconds to the deadline, rounded up (0 once it has passed).
int msLeft(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(
                        deadline - Clock::now())
                        .count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
}

std::string errnoText() { return std::strerror(errno); }

/// Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1
/// error (errno).
int waitFd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, msLeft(deadline));
    if (r > 0)
      return 1;
    if (r == 0)
      return 0;
    if (errno != EINTR)
      return -1;
  }
}

/// Reads exactly n bytes; err says why not ("" on timeout).
bool readExact(int fd, void *buf, size_t n, Clock::time_point deadline,
               std::string *err) {
  char *p = static_cast<char *>(buf);
  while (n) {
    const ssize_t r = ::recv(fd, p, n, MSG_DONTWAIT);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      *err = "connection closed";
      return false;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      *err = errnoText();
      return false;
    }
    const int w = waitFd(fd, POLLIN, deadline);
    if (w <= 0) {
      *err = w == 0 ? "" : errnoText();
      return false;
    }
  }
  return true;
}

bool writeAll(int fd, const void *buf, size_t n, Clock::time_point deadline) {
  const char *p = static_cast<const char *>(buf);
  while (n) {
    const ssize_t r = ::send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
        waitFd(fd, POLLOUT, deadline) > 0)
      continue;
    return false;
  }
  return true;
}

std::string frame(char type, const std::string &text) {
  std::string f(5, '\0');
  f[0] = type;
  const uint32_t len = htonl(static_cast<uint32_t>(text.size()));
  std::memcpy(&f[1], &len, 4);
  return f + text;
}

bool writeFrame(int fd, char type, const std::string &text,
                Clock::time_point deadline) {
  const std::string f = frame(type, text);
  return writeAll(fd, f.data(), f.size(), deadline);
}

/// Reads one frame; err "" means the deadline passed.
bool readFrame(int fd, char *type, std::string *text,
               Clock::time_point deadline, std::string *err) {
  char head[5];
  if (!readExact(fd, head, 5, deadline, err))
    return false;
  uint32_t len = 0;
  std::memcpy(&len, head + 1, 4);
  len = ntohl(len);
  if (len > kMaxFrame) {
    *err = "oversized message";
    return false;
  }
  text->assign(len, '\0');
  *type = head[0];
  return readExact(fd, text->data(), len, deadline, err);
}

void tune(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Notice a vanished node within about a minute, not hours.
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  int idle = 30, interval = 10, count = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

void closeFd(int &fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

/// Listening socket on every interface (IPv6 dual stack, else IPv4).
int listenOn(int port, int backlog, std::string *err) {
  for (int family : {AF_INET6, AF_INET}) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *err = errnoText();
      continue;
    }
    int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage addr{};
    socklen_t len = 0;
    if (family == AF_INET6) {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
      auto *a = reinterpret_cast<sockaddr_in6 *>(&addr);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_any;
      a->sin6_port = htons(static_cast<uint16_t>(port));
      len = sizeof(*a);
    } else {
      auto *a = reinterpret_cast<sockaddr_in *>(&addr);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_ANY);
      a->sin_port = htons(static_cast<uint16_t>(port));
      len = sizeof(*a);
    }
    if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), len) == 0 &&
        ::listen(fd, backlog) == 0)
      return fd;
    *err = errnoText();
    ::close(fd);
    if (*err == std::strerror(EADDRINUSE))
      break; // the other family would only hide the real problem
  }
  return -1;
}

/// One connection attempt to host:port, bounded by `deadline`.
int connectOnce(const std::string &host, int port, Clock::time_point deadline,
                std::string *err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res)) {
    *err = std::string("cannot resolve: ") + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                  ai->ai_protocol);
    if (fd < 0) {
      *err = errnoText();
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      // Bound each attempt so an unreachable host is retried, not waited on.
      const auto attempt =
          std::min(deadline, Clock::now() + std::chrono::seconds(2));
      int soErr = ETIMEDOUT;
      socklen_t len = sizeof(soErr);
      if (waitFd(fd, POLLOUT, attempt) > 0)
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soErr, &len);
      rc = soErr ? -1 : 0;
      errno = soErr;
    }
    if (rc != 0) {
      *err = errnoText();
      closeFd(fd);
    }
  }
  ::freeaddrinfo(res);
  return fd;
}

std::string lostMessage(int32_t rank) {
  return "rank " + std::to_string(rank) +
         " exited or lost its connection without destroying its communicator";
}

} // namespace

// ---- the rendezvous --------------------------------------------------------

vsart_status_t Rendezvous::connect(int32_t rank, int32_t size,
                                   const std::string &host, int port,
                                   double timeoutS, std::string *payload,
                                   std::unique_ptr<Rendezvous> *out) {
  if (size < 1 || rank < 0 || rank >= size || port < 1 || port > 65535 ||
      !payload || !out)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "rendezvous: bad rank, size, port or output");
  const auto deadline = deadlineAfter(timeoutS);
  const std::string secs = formatSeconds(timeoutS);
  std::unique_ptr<Rendezvous> rv(new Rendezvous(rank, size));
  if (size == 1) { // nobody to meet: keep the payload, open nothing
    *out = std::move(rv);
    return VSART_OK;
  }
  if (::pipe2(rv->wake_, O_CLOEXEC) != 0)
    return fail(VSART_ERROR_IO, "rendezvous: pipe: " + errnoText());

  if (rank == 0) {
    std::string err;
    int lfd = listenOn(port, std::min(size, 1024), &err);
    if (lfd < 0)
      return fail(VSART_ERROR_IO,
                  "rendezvous: rank 0 cannot listen on port " +
                      std::to_string(port) + ": " + err +
                      " (choose another with VSART_COMM_PORT)");
    std::vector<Peer> byRank(static_cast<size_t>(size));
    int32_t joined = 0;
    // Refuses every connected rank and fails with `why`.
    auto refuse = [&](int extraFd, const std::string &why) {
      const auto soon = Clock::now() + std::chrono::seconds(1);
      if (extraFd >= 0) {
        writeFrame(extraFd, 'E', why, soon);
        ::close(extraFd);
      }
      for (Peer &p : byRank)
        if (p.fd >= 0) {
          writeFrame(p.fd, 'E', why, soon);
          closeFd(p.fd);
        }
      ::close(lfd);
      return fail(VSART_ERROR_IO, "rendezvous: " + why);
    };
    while (joined < size - 1) {
      if (waitFd(lfd, POLLIN, deadline) <= 0) {
        std::vector<int32_t> missing;
        for (int32_t r = 1; r < size; ++r)
          if (byRank[r].fd < 0)
            missing.push_back(r);
        return refuse(-1, "timed out after " + secs + " s on rank 0 (port " +
                              std::to_string(port) + ") waiting for ranks " +
                              rankList(missing) + " to connect");
      }
      int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        continue;
      tune(fd);
      // A stray connection that says nothing is dropped after a while.
      const auto helloBy =
          std::min(deadline, Clock::now() + std::chrono::seconds(5));
      unsigned char hello[16];
      std::string readErr;
      if (!readExact(fd, hello, sizeof(hello), helloBy, &readErr) ||
          std::memcmp(hello, kMagic, 8) != 0) {
        ::close(fd);
        continue;
      }
      uint32_t r = 0, s = 0;
      std::memcpy(&r, hello + 8, 4);
      std::memcpy(&s, hello + 12, 4);
      r = ntohl(r);
      s = ntohl(s);
      if (s != static_cast<uint32_t>(size))
        return refuse(fd, "rank " + std::to_string(r) + " says the world has " +
                              std::to_string(s) + " ranks, rank 0 says " +
                              std::to_string(size));
      if (r < 1 || r >= static_cast<uint32_t>(size))
        return refuse(fd, "a process connected as rank " + std::to_string(r) +
                              " of " + std::to_string(size));
      if (byRank[r].fd >= 0)
        return refuse(fd, "two processes claim rank " + std::to_string(r));
      byRank[r].fd = fd;
      byRank[r].rank = static_cast<int32_t>(r);
      ++joined;
    }
    ::close(lfd);
    for (int32_t r = 1; r < size; ++r) {
      if (!writeFrame(byRank[r].fd, 'P', *payload, deadline)) {
        const std::string why = errnoText();
        for (Peer &p : byRank)
          closeFd(p.fd);
        return fail(VSART_ERROR_IO, "rendezvous: rank 0 cannot send to rank " +
                                        std::to_string(r) + ": " + why);
      }
      rv->peers_.push_back(std::move(byRank[r]));
    }
    *out = std::move(rv);
    return VSART_OK;
  }

  // Ranks > 0: connect to rank 0, retrying until the deadline.
  const std::string where = host + ":" + std::to_string(port);
  std::string err = "no attempt";
  int fd = -1, backoffMs = 5;
  while ((fd = connectOnce(host, port, deadline, &err)) < 0) {
    if (msLeft(deadline) == 0)
      return fail(VSART_ERROR_IO, "rendezvous: rank " + std::to_string(rank) +
                                      " cannot reach rank 0 at " + where +
                                      " within " + secs + " s (last error: " +
                                      err + ")");
    ::poll(nullptr, 0, std::min(backoffMs, msLeft(deadline)));
    backoffMs = std::min(2 * backoffMs, 200);
  }
  tune(fd);
  unsigned char hello[16];
  std::memcpy(hello, kMagic, 8);
  const uint32_t r = htonl(static_cast<uint32_t>(rank));
  const uint32_t s = htonl(static_cast<uint32_t>(size));
  std::memcpy(hello + 8, &r, 4);
  std::memcpy(hello + 12, &s, 4);
  char type = 0;
  std::string text;
  if (!writeAll(fd, hello, sizeof(hello), deadline) ||
      !readFrame(fd, &type, &text, deadline, &err)) {
    ::close(fd);
    return fail(VSART_ERROR_IO,
                "rendezvous: rank " + std::to_string(rank) +
                    " connected to rank 0 at " + where + " but " +
                    (err.empty() ? "got no answer within " + secs +
                                       " s (are all " + std::to_string(size) +
                                       " ranks started?)"
                                 : "lost it: " + err));
  }
  if (type != 'P') {
    ::close(fd);
    return fail(VSART_ERROR_IO, "rendezvous: rank 0 refused rank " +
                                    std::to_string(rank) + ": " + text);
  }
  *payload = std::move(text);
  Peer root;
  root.fd = fd;
  root.rank = 0;
  rv->peers_.push_back(std::move(root));
  *out = std::move(rv);
  return VSART_OK;
}

void Rendezvous::watch(AbortFn onAbort) {
  if (watcher_.joinable() || dropped_ || peers_.empty())
    return; // nothing to watch in a world of one
  onAbort_ = std::move(onAbort);
  watcher_ = std::thread([this] { run(); });
}

void Rendezvous::sendFrame(Peer &peer, char type, const std::string &text) {
  if (peer.fd >= 0) // best effort: a dead peer is the watcher's business
    writeFrame(peer.fd, type, text,
               Clock::now() + std::chrono::seconds(2));
}

void Rendezvous::abort(const std::string &message) {
  if (aborted_.exchange(true))
    return;
  std::lock_guard<std::mutex> lock(sendMu_);
  for (Peer &p : peers_) // rank 0: everyone; others: rank 0, who relays
    sendFrame(p, 'A', message);
}

void Rendezvous::deliver(const std::string &message, int32_t fromRank) {
  if (aborted_.exchange(true))
    return; // already failing: this is an echo of it
  if (rank_ == 0) {
    std::lock_guard<std::mutex> lock(sendMu_);
    for (Peer &p : peers_)
      if (p.rank != fromRank)
        sendFrame(p, 'A', message);
  }
  if (onAbort_)
    onAbort_(message);
}

void Rendezvous::run() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.assign(1, pollfd{wake_[0], POLLIN, 0});
    std::vector<Peer *> owners(1, nullptr);
    for (Peer &p : peers_)
      if (p.fd >= 0) {
        fds.push_back(pollfd{p.fd, POLLIN, 0});
        owners.push_back(&p);
      }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    if (fds[0].revents)
      return; // destroying
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents)
        continue;
      Peer &p = *owners[i];
      char buf[4096];
      const ssize_t n = ::recv(p.fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        continue;
      bool broken = n <= 0;
      if (n > 0) {
        p.inbox.append(buf, static_cast<size_t>(n));
        while (p.inbox.size() >= 5) {
          uint32_t len = 0;
          std::memcpy(&len, p.inbox.data() + 1, 4);
          len = ntohl(len);
          if (len > kMaxFrame) {
            broken = true;
            break;
          }
          if (p.inbox.size() < 5 + static_cast<size_t>(len))
            break;
          const char type = p.inbox[0];
          const std::string text = p.inbox.substr(5, len);
          p.inbox.erase(0, 5 + static_cast<size_t>(len));
          if (type == 'B')
            p.bye = true;
          else if (type == 'A')
            deliver(text, p.rank);
        }
      }
      if (broken) {
        {
          std::lock_guard<std::mutex> lock(sendMu_);
          closeFd(p.fd);
        }
        if (!p.bye)
          deliver(lostMessage(p.rank), p.rank);
      }
    }
  }
}

void Rendezvous::closeAll() {
  if (watcher_.joinable()) {
    const char c = 0;
    while (::write(wake_[1], &c, 1) < 0 && errno == EINTR) {
    }
    watcher_.join();
  }
  std::lock_guard<std::mutex> lock(sendMu_);
  for (Peer &p : peers_)
    closeFd(p.fd);
}

void Rendezvous::dropForTesting() {
  dropped_ = true;
  closeAll();
}

Rendezvous::~Rendezvous() {
  if (!dropped_) {
    std::lock_guard<std::mutex> lock(sendMu_);
    for (Peer &p : peers_)
      sendFrame(p, 'B', "");
  }
  closeAll();
  closeFd(wake_[0]);
  closeFd(wake_[1]);
}

} // namespace vsart::comm

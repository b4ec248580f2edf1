// The thread backend of vsart_comm.h: every rank of a world lives in this
// process and is driven by its own thread.
//
// A world has one mutex and one condition variable, shared by every group
// split from it, and an abort flag + message: an abort, timeout or mismatch
// sets them and wakes every waiter of every group, and every later call
// fails at once.
//
// Group collectives (all_to_all, all_gather, barrier, split) run in two
// phases. Enter: a rank's k-th collective posts its buffers in its slot, sets
// entered[rank] = k and waits until every member has entered k. Then each
// rank copies what it receives straight out of the senders' buffers into its
// own (no staging copy; outside the lock, so ranks copy in parallel). Leave:
// left[rank] = k, and wait until every member has left k, so no send buffer
// is released or slot overwritten while another rank still reads it. A rank
// can thus never be more than one collective ahead, and the per-rank
// counters keep consecutive collectives apart.
//
// sendrecv is point to point: a mailbox per (src, dst) pair with counters
// posted / consumed. The sender posts its buffer, the receiver waits for a
// post it has not consumed, copies from the sender's buffer and consumes
// it; the sender returns once its post is consumed. Posting before
// receiving makes a ring of sendrecv calls deadlock-free.
#include "Comm.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <numeric>
#include <utility>

using vsart::fail;
namespace comm = vsart::comm;

namespace {

struct World {
  std::mutex mu;
  std::condition_variable cv;
  bool aborted = false;
  std::string message; // what every call fails with once aborted
  double timeoutS = 0;
  int32_t size = 0;
};

/// One rank's arguments to its current group collective.
struct Post {
  const char *op = "";
  const void *send = nullptr;
  void *recv = nullptr;
  size_t bytes = 0;
  int32_t color = 0, key = 0;
};

struct Mailbox {
  uint64_t posted = 0, consumed = 0;
  const void *data = nullptr;
  size_t bytes = 0;
};

struct Group {
  Group(std::shared_ptr<World> w, std::vector<int32_t> ranks)
      : world(std::move(w)), worldRanks(std::move(ranks)),
        entered(worldRanks.size()), left(worldRanks.size()),
        posts(worldRanks.size()), splitGroup(worldRanks.size()),
        splitRank(worldRanks.size()) {}
  int32_t n() const { return static_cast<int32_t>(worldRanks.size()); }

  std::shared_ptr<World> world;
  std::vector<int32_t> worldRanks; // member -> rank in the world
  std::vector<uint64_t> entered, left;
  std::vector<Post> posts;
  std::map<std::pair<int32_t, int32_t>, Mailbox> mail; // (src, dst)
  // The groups of the last split (built once, by the first rank to see it).
  uint64_t splitBuilt = 0;
  std::vector<std::shared_ptr<Group>> splitGroup; // per member; null: none
  std::vector<int32_t> splitRank;
};

using Lock = std::unique_lock<std::mutex>;

class ThreadComm final : public vsart_comm {
public:
  ThreadComm(std::shared_ptr<Group> g, int32_t rank)
      : g_(std::move(g)), rank_(rank) {}

  int32_t rank() const override { return rank_; }
  int32_t size() const override { return g_->n(); }
  const char *backend() const override { return "threads"; }
  double timeout() const override { return world().timeoutS; }

  vsart_status_t allToAll(const void *send, void *recv, size_t chunk,
                          void *stream) override {
    return groupCollective(
        "all_to_all", send, recv, chunk, stream, [&](const Post *posts) {
          for (int32_t j = 0; j < size(); ++j)
            std::memcpy(static_cast<char *>(recv) + j * chunk,
                        static_cast<const char *>(posts[j].send) +
                            rank_ * chunk,
                        chunk);
        });
  }

  // Posts the array of send buffers; the byte total catches a mismatch.
  vsart_status_t allToAllN(int32_t count, const void *const *sends,
                           void *const *recvs, const size_t *chunks,
                           void *stream) override {
    size_t bytes = 0;
    for (int32_t t = 0; t < count; ++t)
      bytes += chunks[t];
    return groupCollective(
        "all_to_all", static_cast<const void *>(sends),
        const_cast<void *>(static_cast<const void *>(recvs)), bytes, stream,
        [&](const Post *posts) {
          for (int32_t j = 0; j < size(); ++j) {
            auto peer = static_cast<const void *const *>(posts[j].send);
            for (int32_t t = 0; t < count; ++t)
              std::memcpy(static_cast<char *>(recvs[t]) + j * chunks[t],
                          static_cast<const char *>(peer[t]) +
                              rank_ * chunks[t],
                          chunks[t]);
          }
        });
  }

  vsart_status_t allGather(const void *send, void *recv, size_t bytes,
                           void *stream) override {
    return groupCollective(
        "all_gather", send, recv, bytes, stream, [&](const Post *posts) {
          for (int32_t j = 0; j < size(); ++j) {
            char *dst = static_cast<char *>(recv) + j * bytes;
            if (dst != posts[j].send) // in place: already there
              std::memcpy(dst, posts[j].send, bytes);
          }
        });
  }

  // Posts the transfer list; each rank copies its receives out of the
  // matching senders' buffers (the k-th send from p to me is my k-th
  // receive from p).
  vsart_status_t exchange(int32_t count, const vsart_comm_transfer_t *transfers,
                          void *stream) override {
    const ExchangeList mine{count, transfers};
    std::string mismatch;
    vsart_status_t st = groupCollective(
        "exchange", &mine, nullptr, 0, stream, [&](const Post *posts) {
          mismatch = copyReceives(mine, posts);
        });
    if (st || mismatch.empty())
      return st;
    abort("exchange mismatch: " + mismatch);
    Lock lk(world().mu);
    return abortedError();
  }
  vsart_status_t barrier(void *stream) override {
    return groupCollective("barrier", nullptr, nullptr, 0, stream,
                           [](const Post *) {});
  }

  vsart_status_t synchronize(void *stream) override {
    if (stream)
      return badStream("synchronize");
    Lock lk(world().mu);
    return world().aborted ? abortedError() : vsart::ok();
  }

  vsart_status_t sendRecv(const void *send, size_t sendBytes, int32_t dest,
                          void *recv, size_t recvBytes, int32_t src,
                          void *stream) override;
  vsart_status_t split(int32_t color, int32_t key, vsart_comm_t *out) override;

  void abort(const std::string &message) override {
    Lock lk(world().mu);
    abortLocked("communicator aborted by rank " +
                std::to_string(worldRank()) + ": " + message);
  }

private:
  World &world() const { return *g_->world; }
  int32_t worldRank() const { return g_->worldRanks[rank_]; }

  vsart_status_t badStream(const char *op) const {
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string("comm_") + op +
                    ": the thread backend takes stream NULL");
  }
  /// The world's abort message as this call's error (lock held).
  vsart_status_t abortedError() const {
    return fail(VSART_ERROR_COMM, world().message);
  }
  /// First abort wins; wakes every waiter of the world (lock held).
  void abortLocked(const std::string &message) {
    World &w = world();
    if (!w.aborted) {
      w.aborted = true;
      w.message = message;
    }
    w.cv.notify_all();
  }

  /// Waits (lock held) until ready(), an abort or the deadline; a timeout
  /// aborts the world naming the ranks missing() returns.
  template <class Ready, class Missing>
  vsart_status_t wait(Lock &lk, comm::Clock::time_point deadline,
                      const char *op, Ready ready, Missing missing) {
    World &w = world();
    for (;;) {
      if (w.aborted)
        return abortedError();
      if (ready())
        return VSART_OK;
      if (w.cv.wait_until(lk, deadline) == std::cv_status::timeout &&
          !w.aborted && !ready()) {
        const std::vector<int32_t> group =
            g_->n() < w.size ? g_->worldRanks : std::vector<int32_t>();
        abortLocked(comm::timeoutMessage(op, w.timeoutS, worldRank(),
                                         "ranks " + comm::rankList(missing()),
                                         group));
        return abortedError();
      }
    }
  }

  /// Members (as world ranks) whose counter is below k.
  std::vector<int32_t> behind(const std::vector<uint64_t> &counter,
                              uint64_t k) const {
    std::vector<int32_t> r;
    for (int32_t j = 0; j < g_->n(); ++j)
      if (counter[j] < k)
        r.push_back(g_->worldRanks[j]);
    return r;
  }

  /// Enter phase: posts p as this rank's next collective k and waits until
  /// every member has posted k with the same op and size.
  vsart_status_t enter(Lock &lk, const Post &p, comm::Clock::time_point deadline,
                       uint64_t *k);
  /// Leave phase of collective k.
  vsart_status_t leave(Lock &lk, uint64_t k, comm::Clock::time_point deadline,
                       const char *op) {
    g_->left[rank_] = k;
    world().cv.notify_all();
    return wait(lk, deadline, op,
                [&] {
                  return std::all_of(g_->left.begin(), g_->left.end(),
                                     [&](uint64_t v) { return v >= k; });
                },
                [&] { return behind(g_->left, k); });
  }

  /// enter, copy(posts) outside the lock, leave.
  template <class Copy>
  vsart_status_t groupCollective(const char *op, const void *send, void *recv,
                                 size_t bytes, void *stream, Copy copy) {
    if (stream)
      return badStream(op);
    const auto deadline = comm::deadlineAfter(world().timeoutS);
    Post p;
    p.op = op;
    p.send = send;
    p.recv = recv;
    p.bytes = bytes;
    Lock lk(world().mu);
    uint64_t k = 0;
    if (vsart_status_t st = enter(lk, p, deadline, &k))
      return st;
    std::vector<Post> posts = g_->posts; // stable until everyone has left
    lk.unlock();
    copy(posts.data());
    lk.lock();
    if (vsart_status_t st = leave(lk, k, deadline, op))
      return st;
    return vsart::ok();
  }

  struct ExchangeList {
    int32_t count;
    const vsart_comm_transfer_t *transfers;
  };
  /// Copies every receive of `mine` from its sender's posted list; returns
  /// what does not match ("" when all did).
  std::string copyReceives(const ExchangeList &mine, const Post *posts) const {
    std::vector<std::vector<const vsart_comm_transfer_t *>> sends(size());
    for (int32_t p = 0; p < size(); ++p) {
      auto peer = static_cast<const ExchangeList *>(posts[p].send);
      for (int32_t i = 0; i < peer->count; ++i)
        if (!peer->transfers[i].recv && peer->transfers[i].peer == rank_)
          sends[p].push_back(&peer->transfers[i]);
    }
    std::vector<size_t> next(size(), 0);
    for (int32_t i = 0; i < mine.count; ++i) {
      const vsart_comm_transfer_t &r = mine.transfers[i];
      if (!r.recv)
        continue;
      const size_t k = next[r.peer]++;
      if (k >= sends[r.peer].size() || sends[r.peer][k]->bytes != r.bytes)
        return "rank " + std::to_string(rank_) + "'s receive " +
               std::to_string(k) + " from rank " + std::to_string(r.peer) +
               " (" + std::to_string(r.bytes) + " bytes) has no send of that size";
      if (r.bytes)
        std::memcpy(r.buf, sends[r.peer][k]->buf, r.bytes);
    }
    for (int32_t p = 0; p < size(); ++p)
      if (next[p] != sends[p].size())
        return "rank " + std::to_string(p) + " sends " +
               std::to_string(sends[p].size()) + " transfers to rank " +
               std::to_string(rank_) + ", which receives " +
               std::to_string(next[p]);
    return "";
  }
  std::shared_ptr<Group> g_;
  int32_t rank_;
  uint64_t calls_ = 0; // group collectives this rank has entered
};

vsart_status_t ThreadComm::enter(Lock &lk, const Post &p,
                                 comm::Clock::time_point deadline,
                                 uint64_t *k) {
  if (world().aborted)
    return abortedError();
  *k = ++calls_;
  g_->posts[rank_] = p;
  g_->entered[rank_] = *k;
  world().cv.notify_all();
  const uint64_t kk = *k;
  if (vsart_status_t st = wait(
          lk, deadline, p.op,
          [&] {
            return std::all_of(g_->entered.begin(), g_->entered.end(),
                               [&](uint64_t v) { return v >= kk; });
          },
          [&] { return behind(g_->entered, kk); }))
    return st;
  // Every member calls the same collective with the same size.
  const Post &first = g_->posts[0];
  for (int32_t j = 1; j < g_->n(); ++j) {
    const Post &q = g_->posts[j];
    if (std::strcmp(q.op, first.op) == 0 && q.bytes == first.bytes)
      continue;
    abortLocked("collective mismatch seen on rank " +
                std::to_string(worldRank()) + ": rank " +
                std::to_string(g_->worldRanks[0]) + " called " + first.op +
                " (" + std::to_string(first.bytes) + " bytes) while rank " +
                std::to_string(g_->worldRanks[j]) + " called " + q.op + " (" +
                std::to_string(q.bytes) + " bytes)");
    return abortedError();
  }
  return VSART_OK;
}

vsart_status_t ThreadComm::sendRecv(const void *send, size_t sendBytes,
                                    int32_t dest, void *recv, size_t recvBytes,
                                    int32_t src, void *stream) {
  if (stream)
    return badStream("sendrecv");
  const auto deadline = comm::deadlineAfter(world().timeoutS);
  Lock lk(world().mu);
  if (world().aborted)
    return abortedError();
  Mailbox *out = nullptr;
  uint64_t seq = 0;
  if (dest >= 0) { // post first, so a ring of sendrecv calls cannot deadlock
    out = &g_->mail[{rank_, dest}];
    out->data = send;
    out->bytes = sendBytes;
    seq = ++out->posted;
    world().cv.notify_all();
  }
  if (src >= 0) {
    Mailbox &in = g_->mail[{src, rank_}];
    const std::vector<int32_t> peer{g_->worldRanks[src]};
    if (vsart_status_t st =
            wait(lk, deadline, "sendrecv",
                 [&] { return in.posted > in.consumed; }, [&] { return peer; }))
      return st;
    if (in.bytes != recvBytes) {
      abortLocked("sendrecv size mismatch: rank " +
                  std::to_string(worldRank()) + " receives " +
                  std::to_string(recvBytes) + " bytes from rank " +
                  std::to_string(peer[0]) + ", which sends " +
                  std::to_string(in.bytes));
      return abortedError();
    }
    const void *data = in.data; // stays valid until we consume it
    lk.unlock();
    if (recvBytes)
      std::memcpy(recv, data, recvBytes);
    lk.lock();
    ++in.consumed;
    world().cv.notify_all();
  }
  if (out) {
    const std::vector<int32_t> peer{g_->worldRanks[dest]};
    if (vsart_status_t st =
            wait(lk, deadline, "sendrecv",
                 [&] { return out->consumed >= seq; }, [&] { return peer; }))
      return st;
  }
  return vsart::ok();
}

vsart_status_t ThreadComm::split(int32_t color, int32_t key,
                                 vsart_comm_t *out) {
  const auto deadline = comm::deadlineAfter(world().timeoutS);
  Post p;
  p.op = "split";
  p.color = color < 0 ? -1 : color;
  p.key = key;
  Lock lk(world().mu);
  uint64_t k = 0;
  if (vsart_status_t st = enter(lk, p, deadline, &k))
    return st;
  if (g_->splitBuilt != k) { // the first rank here builds every new group
    g_->splitBuilt = k;
    std::map<int32_t, std::vector<int32_t>> byColor; // color -> members
    for (int32_t j = 0; j < g_->n(); ++j) {
      g_->splitGroup[j].reset();
      if (g_->posts[j].color >= 0)
        byColor[g_->posts[j].color].push_back(j);
    }
    for (auto &entry : byColor) {
      std::vector<int32_t> &members = entry.second;
      std::stable_sort(members.begin(), members.end(),
                       [&](int32_t a, int32_t b) {
                         return g_->posts[a].key < g_->posts[b].key;
                       });
      std::vector<int32_t> ranks;
      for (int32_t j : members)
        ranks.push_back(g_->worldRanks[j]);
      auto group = std::make_shared<Group>(g_->world, std::move(ranks));
      for (size_t i = 0; i < members.size(); ++i) {
        g_->splitGroup[members[i]] = group;
        g_->splitRank[members[i]] = static_cast<int32_t>(i);
      }
    }
  }
  std::shared_ptr<Group> mine = g_->splitGroup[rank_];
  const int32_t newRank = g_->splitRank[rank_];
  if (vsart_status_t st = leave(lk, k, deadline, "split"))
    return st;
  lk.unlock();
  if (mine)
    *out = new ThreadComm(std::move(mine), newRank);
  return vsart::ok();
}

} // namespace

extern "C" vsart_status_t vsart_comm_create_threads(int32_t world_size,
                                                    double timeout_s,
                                                    vsart_comm_t *ranks_out) {
  if (!ranks_out)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "comm_create_threads: null ranks_out");
  if (world_size < 1 || world_size > 1024)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "comm_create_threads: world_size " +
                    std::to_string(world_size) + " is outside [1, 1024]");
  double timeout = 0;
  if (vsart_status_t st =
          comm::resolveTimeout(timeout_s, "comm_create_threads", &timeout))
    return st;
  auto world = std::make_shared<World>();
  world->timeoutS = timeout;
  world->size = world_size;
  std::vector<int32_t> ranks(static_cast<size_t>(world_size));
  std::iota(ranks.begin(), ranks.end(), 0);
  auto group = std::make_shared<Group>(world, std::move(ranks));
  for (int32_t r = 0; r < world_size; ++r)
    ranks_out[r] = new ThreadComm(group, r);
  return vsart::ok();
}

// Communicators (vsart_comm.h): the thread backend with 1-4 ranks, its
// failure paths (timeouts, aborts, mismatches, vsart_comm_run_*), argument
// checks, and the bootstrap of the NCCL backend that needs no GPU: the
// launch environment and the TCP rendezvous / abort channel on localhost.
#include "vsart_comm.h"

#include "Rendezvous.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// Runs body(comm, rank) on one thread per rank of a fresh thread world.
void runRanks(int n, double timeout,
              const std::function<void(vsart_comm_t, int)> &body) {
  std::vector<vsart_comm_t> comms(n);
  ASSERT_EQ(vsart_comm_create_threads(n, timeout, comms.data()), VSART_OK)
      << vsart_last_error();
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] { body(comms[r], r); });
  for (std::thread &t : threads)
    t.join();
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
}

uint8_t pattern(int from, int to, size_t i, int round = 0) {
  return static_cast<uint8_t>(from * 61 + to * 17 + i * 7 + round * 13 + 1);
}

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

// ---- collectives -------------------------------------------------------------

TEST(CommThreads, RankSizeBackend) {
  runRanks(3, 10, [](vsart_comm_t c, int r) {
    EXPECT_EQ(vsart_comm_rank(c), r);
    EXPECT_EQ(vsart_comm_size(c), 3);
    EXPECT_STREQ(vsart_comm_backend(c), "threads");
    EXPECT_EQ(vsart_comm_timeout(c), 10.0);
    EXPECT_EQ(vsart_comm_synchronize(c, nullptr), VSART_OK);
  });
  EXPECT_EQ(vsart_comm_rank(nullptr), -1);
  EXPECT_EQ(vsart_comm_size(nullptr), 0);
  EXPECT_STREQ(vsart_comm_backend(nullptr), "");
}

TEST(CommThreads, AllToAll) {
  for (int n = 1; n <= 4; ++n) {
    const size_t chunk = 37; // odd on purpose
    runRanks(n, 10, [&](vsart_comm_t c, int r) {
      std::vector<uint8_t> send(n * chunk), recv(n * chunk, 0xEE);
      for (int to = 0; to < n; ++to)
        for (size_t i = 0; i < chunk; ++i)
          send[to * chunk + i] = pattern(r, to, i);
      ASSERT_EQ(vsart_comm_all_to_all(c, send.data(), recv.data(), chunk,
                                      nullptr),
                VSART_OK)
          << vsart_last_error();
      for (int from = 0; from < n; ++from)
        for (size_t i = 0; i < chunk; ++i)
          ASSERT_EQ(recv[from * chunk + i], pattern(from, r, i))
              << "n=" << n << " rank " << r << " chunk " << from;
    });
  }
}

TEST(CommThreads, AllGather) {
  for (int n = 1; n <= 4; ++n) {
    const size_t bytes = 29;
    runRanks(n, 10, [&](vsart_comm_t c, int r) {
      std::vector<uint8_t> send(bytes), recv(n * bytes, 0xEE);
      for (size_t i = 0; i < bytes; ++i)
        send[i] = pattern(r, 0, i);
      ASSERT_EQ(vsart_comm_all_gather(c, send.data(), recv.data(), bytes,
                                      nullptr),
                VSART_OK)
          << vsart_last_error();
      for (int from = 0; from < n; ++from)
        for (size_t i = 0; i < bytes; ++i)
          ASSERT_EQ(recv[from * bytes + i], pattern(from, 0, i));
      // In place: this rank's chunk already sits in recv.
      std::vector<uint8_t> all(n * bytes, 0xEE);
      std::memcpy(all.data() + r * bytes, send.data(), bytes);
      ASSERT_EQ(vsart_comm_all_gather(c, all.data() + r * bytes, all.data(),
                                      bytes, nullptr),
                VSART_OK)
          << vsart_last_error();
      EXPECT_EQ(all, recv);
    });
  }
}

TEST(CommThreads, SendRecvRingRotation) {
  for (int n = 1; n <= 4; ++n) {
    const size_t bytes = 1000;
    runRanks(n, 10, [&](vsart_comm_t c, int r) {
      // Ring attention: pass the K/V block to the right n times; after step
      // k rank r holds rank (r - k)'s block, after n steps its own again.
      std::vector<uint8_t> cur(bytes), next(bytes);
      for (size_t i = 0; i < bytes; ++i)
        cur[i] = pattern(r, 0, i);
      for (int step = 1; step <= n; ++step) {
        ASSERT_EQ(vsart_comm_sendrecv(c, cur.data(), bytes, (r + 1) % n,
                                      next.data(), bytes, (r + n - 1) % n,
                                      nullptr),
                  VSART_OK)
            << vsart_last_error();
        std::swap(cur, next);
        const int owner = ((r - step) % n + n) % n;
        for (size_t i = 0; i < bytes; ++i)
          ASSERT_EQ(cur[i], pattern(owner, 0, i)) << "step " << step;
      }
    });
  }
}

TEST(CommThreads, SendRecvChainAndSelf) {
  runRanks(3, 10, [](vsart_comm_t c, int r) {
    // A chain 0 -> 1 -> 2 with VSART_COMM_NO_PEER at the ends.
    int32_t value = 100 + r, got = -1;
    const int dest = r == 2 ? VSART_COMM_NO_PEER : r + 1;
    const int src = r == 0 ? VSART_COMM_NO_PEER : r - 1;
    ASSERT_EQ(vsart_comm_sendrecv(c, &value, sizeof(value), dest, &got,
                                  sizeof(got), src, nullptr),
              VSART_OK)
        << vsart_last_error();
    EXPECT_EQ(got, r == 0 ? -1 : 100 + r - 1);
    // To itself.
    got = -1;
    ASSERT_EQ(vsart_comm_sendrecv(c, &value, sizeof(value), r, &got,
                                  sizeof(got), r, nullptr),
              VSART_OK);
    EXPECT_EQ(got, value);
    // Empty messages still pair up.
    ASSERT_EQ(vsart_comm_sendrecv(c, nullptr, 0, (r + 1) % 3, nullptr, 0,
                                  (r + 2) % 3, nullptr),
              VSART_OK);
  });
}

TEST(CommThreads, SplitUlyssesTimesRing) {
  // 4 ranks = 2 ring x 2 ulysses: ulysses groups {0,1}, {2,3} (color r / 2),
  // ring groups {0,2}, {1,3} (color r % 2).
  runRanks(4, 10, [](vsart_comm_t c, int r) {
    vsart_comm_t uly = nullptr, ring = nullptr, rev = nullptr, none = nullptr;
    ASSERT_EQ(vsart_comm_split(c, r / 2, r, &uly), VSART_OK)
        << vsart_last_error();
    ASSERT_EQ(vsart_comm_split(c, r % 2, r, &ring), VSART_OK);
    ASSERT_EQ(vsart_comm_split(c, 0, -r, &rev), VSART_OK); // key reverses
    ASSERT_EQ(vsart_comm_split(c, r == 1 ? VSART_COMM_NO_COLOR : 7, 0, &none),
              VSART_OK);
    ASSERT_TRUE(uly && ring && rev);
    EXPECT_EQ(vsart_comm_size(uly), 2);
    EXPECT_EQ(vsart_comm_rank(uly), r % 2);
    EXPECT_EQ(vsart_comm_size(ring), 2);
    EXPECT_EQ(vsart_comm_rank(ring), r / 2);
    EXPECT_EQ(vsart_comm_rank(rev), 3 - r);
    if (r == 1) {
      EXPECT_EQ(none, nullptr);
    } else {
      ASSERT_NE(none, nullptr);
      EXPECT_EQ(vsart_comm_size(none), 3);
      EXPECT_EQ(vsart_comm_rank(none), r == 0 ? 0 : r - 1);
    }

    // Collectives inside the groups are independent: interleave them.
    for (int round = 0; round < 50; ++round) {
      int32_t mine = 1000 * round + r;
      int32_t u[2] = {-1, -1}, g[2] = {-1, -1};
      ASSERT_EQ(vsart_comm_all_gather(uly, &mine, u, sizeof(mine), nullptr),
                VSART_OK)
          << vsart_last_error();
      ASSERT_EQ(vsart_comm_all_gather(ring, &mine, g, sizeof(mine), nullptr),
                VSART_OK)
          << vsart_last_error();
      EXPECT_EQ(u[0], 1000 * round + (r / 2) * 2);
      EXPECT_EQ(u[1], 1000 * round + (r / 2) * 2 + 1);
      EXPECT_EQ(g[0], 1000 * round + r % 2);
      EXPECT_EQ(g[1], 1000 * round + r % 2 + 2);
      int32_t a2a[2] = {10 * r, 10 * r + 1}, back[2] = {-1, -1};
      ASSERT_EQ(vsart_comm_all_to_all(uly, a2a, back, sizeof(int32_t),
                                      nullptr),
                VSART_OK);
      const int base = (r / 2) * 2;
      EXPECT_EQ(back[0], 10 * base + r % 2);
      EXPECT_EQ(back[1], 10 * (base + 1) + r % 2);
    }
    // A split of a split.
    vsart_comm_t single = nullptr;
    ASSERT_EQ(vsart_comm_split(uly, vsart_comm_rank(uly), 0, &single),
              VSART_OK);
    EXPECT_EQ(vsart_comm_size(single), 1);
    EXPECT_EQ(vsart_comm_barrier(single, nullptr), VSART_OK);
    EXPECT_EQ(vsart_comm_barrier(c, nullptr), VSART_OK);
    for (vsart_comm_t s : {uly, ring, rev, none, single})
      vsart_comm_destroy(s);
  });
}

TEST(CommThreads, ThousandConsecutiveCollectives) {
  // Ranks race ahead of each other: generations must keep every call apart.
  const int n = 4;
  runRanks(n, 20, [&](vsart_comm_t c, int r) {
    std::vector<uint8_t> send(n * 8), recv(n * 8);
    for (int it = 0; it < 1000; ++it) {
      switch (it % 4) {
      case 0: {
        for (int to = 0; to < n; ++to)
          for (size_t i = 0; i < 8; ++i)
            send[to * 8 + i] = pattern(r, to, i, it);
        ASSERT_EQ(vsart_comm_all_to_all(c, send.data(), recv.data(), 8,
                                        nullptr),
                  VSART_OK)
            << vsart_last_error();
        for (int from = 0; from < n; ++from)
          for (size_t i = 0; i < 8; ++i)
            ASSERT_EQ(recv[from * 8 + i], pattern(from, r, i, it)) << it;
        break;
      }
      case 1: {
        int64_t mine = it * 10 + r, all[n];
        ASSERT_EQ(vsart_comm_all_gather(c, &mine, all, sizeof(mine), nullptr),
                  VSART_OK);
        for (int j = 0; j < n; ++j)
          ASSERT_EQ(all[j], it * 10 + j) << it;
        break;
      }
      case 2: {
        int64_t mine = it * 10 + r, got = -1;
        ASSERT_EQ(vsart_comm_sendrecv(c, &mine, sizeof(mine), (r + 1) % n,
                                      &got, sizeof(got), (r + n - 1) % n,
                                      nullptr),
                  VSART_OK);
        ASSERT_EQ(got, it * 10 + (r + n - 1) % n) << it;
        break;
      }
      default:
        ASSERT_EQ(vsart_comm_barrier(c, nullptr), VSART_OK);
      }
    }
  });
}

// ---- failures ----------------------------------------------------------------

TEST(CommThreads, MissingRankTimesOutEverywhere) {
  const auto start = Clock::now();
  std::vector<std::string> messages(4);
  std::vector<vsart_status_t> status(4, VSART_OK);
  runRanks(4, 0.2, [&](vsart_comm_t c, int r) {
    std::vector<uint8_t> send(4 * 16), recv(4 * 16);
    if (r == 3) { // arrives long after the others gave up
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      const auto t = Clock::now();
      status[r] = vsart_comm_all_to_all(c, send.data(), recv.data(), 16,
                                        nullptr);
      messages[r] = vsart_last_error();
      EXPECT_LT(secondsSince(t), 0.1); // fails at once: the world is aborted
      return;
    }
    status[r] = vsart_comm_all_to_all(c, send.data(), recv.data(), 16, nullptr);
    messages[r] = vsart_last_error();
    EXPECT_LT(secondsSince(start), 1.5); // ~ the timeout (0.2 s), loosely
  });
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(status[r], VSART_ERROR_COMM) << r;
    EXPECT_TRUE(contains(messages[r], "collective all_to_all timed out after "
                                      "0.2 s on rank "))
        << messages[r];
    EXPECT_TRUE(contains(messages[r], "(waiting for ranks 3)")) << messages[r];
  }
  EXPECT_EQ(messages[0], messages[1]); // one message everywhere
  EXPECT_STREQ(vsart_status_message(VSART_ERROR_COMM), "communication error");
}

TEST(CommThreads, SendRecvTimeoutNamesThePeer) {
  std::string message;
  runRanks(2, 0.2, [&](vsart_comm_t c, int r) {
    if (r == 1)
      return; // never sends
    int32_t got = 0;
    EXPECT_EQ(vsart_comm_sendrecv(c, nullptr, 0, VSART_COMM_NO_PEER, &got,
                                  sizeof(got), 1, nullptr),
              VSART_ERROR_COMM);
    message = vsart_last_error();
  });
  EXPECT_EQ(message, "collective sendrecv timed out after 0.2 s on rank 0 "
                     "(waiting for ranks 1)");
}

TEST(CommThreads, TimeoutInSubGroupNamesWorldRanks) {
  std::string message;
  runRanks(4, 0.2, [&](vsart_comm_t c, int r) {
    vsart_comm_t ring = nullptr;
    ASSERT_EQ(vsart_comm_split(c, r % 2, r, &ring), VSART_OK);
    if (r == 1) {
      EXPECT_EQ(vsart_comm_barrier(ring, nullptr), VSART_ERROR_COMM);
      message = vsart_last_error();
    }
    vsart_comm_destroy(ring);
  });
  EXPECT_EQ(message, "collective barrier timed out after 0.2 s on rank 1 "
                     "(waiting for ranks 3; group of world ranks 1, 3)");
}

TEST(CommThreads, AbortWakesEveryRank) {
  std::vector<std::string> messages(4);
  const auto start = Clock::now();
  runRanks(4, 30, [&](vsart_comm_t c, int r) {
    vsart_comm_t sub = nullptr;
    ASSERT_EQ(vsart_comm_split(c, r / 2, r, &sub), VSART_OK);
    if (r == 2) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      vsart_comm_abort(sub, "out of memory in layer 7"); // a sub-group
      vsart_comm_abort(c, "ignored: the first abort wins");
    } else if (r == 3) {
      EXPECT_EQ(vsart_comm_barrier(sub, nullptr), VSART_ERROR_COMM);
    } else {
      EXPECT_EQ(vsart_comm_barrier(c, nullptr), VSART_ERROR_COMM);
    }
    // Later calls fail at once, on every communicator of the world.
    EXPECT_EQ(vsart_comm_barrier(c, nullptr), VSART_ERROR_COMM);
    EXPECT_EQ(vsart_comm_synchronize(sub, nullptr), VSART_ERROR_COMM);
    int32_t x = 0;
    EXPECT_EQ(vsart_comm_sendrecv(c, &x, 4, r, &x + 0, 0, VSART_COMM_NO_PEER,
                                  nullptr),
              VSART_ERROR_COMM);
    messages[r] = vsart_last_error();
    vsart_comm_destroy(sub);
  });
  EXPECT_LT(secondsSince(start), 5.0); // not the 30 s timeout
  for (const std::string &m : messages)
    EXPECT_EQ(m, "communicator aborted by rank 2: out of memory in layer 7");
}

TEST(CommThreads, MismatchAbortsBothRanks) {
  std::vector<std::string> messages(2);
  runRanks(2, 10, [&](vsart_comm_t c, int r) {
    std::vector<uint8_t> send(64), recv(64);
    vsart_status_t st =
        r == 0 ? vsart_comm_all_to_all(c, send.data(), recv.data(), 8, nullptr)
               : vsart_comm_all_gather(c, send.data(), recv.data(), 8, nullptr);
    EXPECT_EQ(st, VSART_ERROR_COMM);
    messages[r] = vsart_last_error();
  });
  EXPECT_TRUE(contains(messages[0], "rank 0 called all_to_all (8 bytes) while "
                                    "rank 1 called all_gather (8 bytes)"))
      << messages[0];
  EXPECT_EQ(messages[0], messages[1]);

  runRanks(2, 10, [&](vsart_comm_t c, int r) {
    std::vector<uint8_t> a(64), b(64);
    EXPECT_EQ(vsart_comm_sendrecv(c, a.data(), r == 0 ? 8 : 16, 1 - r, b.data(),
                                  r == 0 ? 8 : 16, 1 - r, nullptr),
              VSART_ERROR_COMM);
    messages[r] = vsart_last_error();
  });
  EXPECT_TRUE(contains(messages[0], "sendrecv size mismatch")) << messages[0];
}

struct RunState {
  std::atomic<int> done{0};
};

int goodRank(vsart_comm_t c, void *user) {
  int32_t v = vsart_comm_rank(c), all[8] = {};
  if (vsart_status_t st = vsart_comm_all_gather(c, &v, all, 4, nullptr))
    return st;
  for (int j = 0; j < vsart_comm_size(c); ++j)
    if (all[j] != j)
      return 99;
  static_cast<RunState *>(user)->done++;
  return 0;
}

int rankOneFails(vsart_comm_t c, void *) {
  if (vsart_comm_rank(c) == 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    // A real failure: an invalid call whose message is the last error.
    return vsart_comm_all_to_all(nullptr, nullptr, nullptr, 0, nullptr);
  }
  return vsart_comm_barrier(c, nullptr); // woken by the abort
}

int failsWithoutStatus(vsart_comm_t c, void *) {
  return vsart_comm_rank(c) == 0 ? 42 : vsart_comm_barrier(c, nullptr);
}

TEST(CommThreads, RunThreads) {
  for (int n = 1; n <= 4; ++n) {
    RunState state;
    EXPECT_EQ(vsart_comm_run_threads(n, goodRank, &state), VSART_OK)
        << vsart_last_error();
    EXPECT_EQ(state.done, n);
  }
  const auto start = Clock::now();
  EXPECT_EQ(vsart_comm_run_threads(3, rankOneFails, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(),
               "rank 1 failed: comm_all_to_all: null communicator");
  EXPECT_LT(secondsSince(start), 5.0); // the default timeout is 300 s
  EXPECT_EQ(vsart_comm_run_threads(2, failsWithoutStatus, nullptr),
            VSART_ERROR_COMM);
  EXPECT_STREQ(vsart_last_error(), "rank 0 failed: returned 42");

  // run_each over handles made elsewhere.
  vsart_comm_t comms[2];
  ASSERT_EQ(vsart_comm_create_threads(2, 10, comms), VSART_OK);
  RunState state;
  EXPECT_EQ(vsart_comm_run_each(2, comms, goodRank, &state), VSART_OK);
  EXPECT_EQ(state.done, 2);
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
}

TEST(CommThreads, BadArguments) {
  vsart_comm_t comms[2] = {nullptr, nullptr};
  EXPECT_EQ(vsart_comm_create_threads(0, 1, comms),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_create_threads(1025, 1, comms),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_create_threads(2, 1, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_create_threads(2, std::nan(""), comms),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_run_threads(0, goodRank, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_run_each(2, comms, goodRank, nullptr),
            VSART_ERROR_INVALID_ARGUMENT); // null handles
  EXPECT_EQ(vsart_comm_all_gather(nullptr, nullptr, nullptr, 0, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(), "comm_all_gather: null communicator");
  EXPECT_EQ(vsart_comm_barrier(nullptr, nullptr), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_split(nullptr, 0, 0, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  vsart_comm_abort(nullptr, "no-op");
  vsart_comm_destroy(nullptr);

  // The environment's default timeout.
  ASSERT_EQ(setenv("VSART_COMM_TIMEOUT_S", "2.5", 1), 0);
  EXPECT_EQ(vsart_comm_default_timeout(), 2.5);
  ASSERT_EQ(vsart_comm_create_threads(2, 0, comms), VSART_OK);
  EXPECT_EQ(vsart_comm_timeout(comms[1]), 2.5);
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
  for (const char *bad : {"abc", "-1", "0", "inf", "5s"}) {
    ASSERT_EQ(setenv("VSART_COMM_TIMEOUT_S", bad, 1), 0);
    EXPECT_EQ(vsart_comm_default_timeout(), -1.0) << bad;
    EXPECT_EQ(vsart_comm_create_threads(2, 0, comms),
              VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(contains(vsart_last_error(), "VSART_COMM_TIMEOUT_S"));
  }
  ASSERT_EQ(setenv("VSART_COMM_TIMEOUT_S", "3", 1), 0);
  EXPECT_EQ(vsart_comm_create_threads(2, 7, comms), VSART_OK); // explicit wins
  EXPECT_EQ(vsart_comm_timeout(comms[0]), 7.0);
  unsetenv("VSART_COMM_TIMEOUT_S");
  EXPECT_EQ(vsart_comm_default_timeout(), 300.0);

  // Checks before any communication (rank 1 does nothing, so a call that
  // got through would time out instead).
  vsart_comm_t c = comms[0];
  uint8_t buf[64];
  EXPECT_EQ(vsart_comm_all_to_all(c, buf, buf + 8, 16, nullptr),
            VSART_ERROR_INVALID_ARGUMENT); // overlap
  EXPECT_STREQ(vsart_last_error(), "comm_all_to_all: send and recv overlap");
  EXPECT_EQ(vsart_comm_all_to_all(c, nullptr, buf, 4, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_all_to_all(c, buf, buf + 32, SIZE_MAX / 2 + 1, nullptr),
            VSART_ERROR_INVALID_ARGUMENT); // overflow
  EXPECT_EQ(vsart_comm_all_gather(c, buf + 1, buf, 8, nullptr),
            VSART_ERROR_INVALID_ARGUMENT); // overlapping, not rank 0's chunk
  EXPECT_EQ(vsart_comm_sendrecv(c, buf, 8, 2, buf + 8, 8, 1, nullptr),
            VSART_ERROR_INVALID_ARGUMENT); // dest out of range
  EXPECT_TRUE(contains(vsart_last_error(), "dest rank 2 is outside [0, 2)"));
  EXPECT_EQ(vsart_comm_sendrecv(c, buf, 8, 1, buf + 8, 8, -2, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_sendrecv(c, buf, 8, 1, buf + 4, 8, 1, nullptr),
            VSART_ERROR_INVALID_ARGUMENT); // overlap
  EXPECT_EQ(vsart_comm_sendrecv(c, nullptr, 8, 1, buf, 8, 1, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  int dummyStream = 0;
  EXPECT_EQ(vsart_comm_barrier(c, &dummyStream), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(),
               "comm_barrier: the thread backend takes stream NULL");
  EXPECT_EQ(vsart_comm_split(c, 0, 0, nullptr), VSART_ERROR_INVALID_ARGUMENT);
  for (vsart_comm_t h : comms)
    vsart_comm_destroy(h);
}

// ---- launch environment --------------------------------------------------------

using vsart::comm::LaunchEnv;
using vsart::comm::readLaunchEnv;
using vsart::comm::Rendezvous;

vsart_status_t readEnv(const std::map<std::string, std::string> &vars,
                       LaunchEnv *env) {
  return readLaunchEnv(
      [&](const char *name) -> const char * {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
      },
      env);
}

TEST(CommEnv, Launchers) {
  LaunchEnv env;
  ASSERT_EQ(readEnv({{"RANK", "3"},
                     {"WORLD_SIZE", "8"},
                     {"LOCAL_RANK", "1"},
                     {"LOCAL_WORLD_SIZE", "2"},
                     {"MASTER_ADDR", "node0"},
                     {"MASTER_PORT", "1234"}},
                    &env),
            VSART_OK)
      << vsart_last_error();
  EXPECT_EQ(env.launcher, "torchrun");
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.size, 8);
  EXPECT_EQ(env.localRank, 1);
  EXPECT_EQ(env.localSize, 2);
  EXPECT_EQ(env.masterAddr, "node0");
  EXPECT_EQ(env.port, 1234);

  // torchrun's agent holds MASTER_PORT; one node needs no MASTER_ADDR.
  ASSERT_EQ(readEnv({{"RANK", "0"},
                     {"WORLD_SIZE", "2"},
                     {"LOCAL_WORLD_SIZE", "2"},
                     {"MASTER_PORT", "29400"},
                     {"TORCHELASTIC_USE_AGENT_STORE", "True"}},
                    &env),
            VSART_OK);
  EXPECT_EQ(env.port, 29401);
  EXPECT_EQ(env.masterAddr, "127.0.0.1");
  EXPECT_EQ(env.localRank, -1);

  ASSERT_EQ(readEnv({{"OMPI_COMM_WORLD_RANK", "1"},
                     {"OMPI_COMM_WORLD_SIZE", "4"},
                     {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                     {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"},
                     {"VSART_COMM_PORT", "40000"},
                     {"MASTER_PORT", "1"}},
                    &env),
            VSART_OK);
  EXPECT_EQ(env.launcher, "Open MPI");
  EXPECT_EQ(env.rank, 1);
  EXPECT_EQ(env.port, 40000);
  EXPECT_EQ(env.masterAddr, "127.0.0.1");

  ASSERT_EQ(readEnv({{"PMI_RANK", "0"}, {"PMI_SIZE", "1"}}, &env), VSART_OK);
  EXPECT_EQ(env.launcher, "MPICH");
  EXPECT_EQ(env.port, 29500);
}

TEST(CommEnv, Errors) {
  LaunchEnv env;
  auto fails = [&](const std::map<std::string, std::string> &vars,
                   const std::string &part) {
    EXPECT_EQ(readEnv(vars, &env), VSART_ERROR_INVALID_ARGUMENT) << part;
    EXPECT_TRUE(contains(vsart_last_error(), part)) << vsart_last_error();
  };
  fails({}, "set RANK and WORLD_SIZE");
  fails({{"RANK", "0"}}, "WORLD_SIZE=(unset)");
  fails({{"RANK", "4"}, {"WORLD_SIZE", "4"}}, "RANK='4' is not an integer in [0, 3]");
  fails({{"RANK", "x"}, {"WORLD_SIZE", "4"}}, "RANK='x'");
  fails({{"RANK", "0"}, {"WORLD_SIZE", "0"}}, "WORLD_SIZE='0'");
  fails({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_WORLD_SIZE", "1"},
         {"LOCAL_RANK", "1"}},
        "LOCAL_RANK='1'");
  fails({{"RANK", "0"}, {"WORLD_SIZE", "4"}, {"LOCAL_WORLD_SIZE", "2"}},
        "MASTER_ADDR (rank 0's host) is not set");
  fails({{"RANK", "0"}, {"WORLD_SIZE", "4"}}, "MASTER_ADDR");
  fails({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"MASTER_PORT", "70000"}},
        "MASTER_PORT='70000'");
  fails({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"VSART_COMM_PORT", "-5"}},
        "VSART_COMM_PORT='-5'");
  fails({{"RANK", "0"},
         {"WORLD_SIZE", "1"},
         {"MASTER_PORT", "65535"},
         {"TORCHELASTIC_USE_AGENT_STORE", "1"}},
        "set VSART_COMM_PORT");
}

// ---- TCP rendezvous on localhost ------------------------------------------------

/// A port that was free a moment ago.
int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
    return 0;
  close(fd);
  return ntohs(a.sin_port);
}

/// Collects onAbort messages of one rank.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> messages;
  Rendezvous::AbortFn fn() {
    return [this](const std::string &m) {
      std::lock_guard<std::mutex> lock(mu);
      messages.push_back(m);
      cv.notify_all();
    };
  }
  std::string wait(double seconds = 5) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::duration<double>(seconds),
                [&] { return !messages.empty(); });
    return messages.empty() ? "(nothing)" : messages.front();
  }
};

/// Rendezvous of n ranks on one port, one thread each.
std::vector<std::unique_ptr<Rendezvous>> rendezvous(int n, int port,
                                                    std::vector<std::string>
                                                        *payloads) {
  std::vector<std::unique_ptr<Rendezvous>> rv(n);
  payloads->assign(n, "");
  (*payloads)[0] = std::string("unique\0id", 9);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      EXPECT_EQ(Rendezvous::connect(r, n, "localhost", port, 10,
                                    &(*payloads)[r], &rv[r]),
                VSART_OK)
          << "rank " << r << ": " << vsart_last_error();
    });
  for (std::thread &t : threads)
    t.join();
  return rv;
}

TEST(CommRendezvous, HandsOutThePayload) {
  std::vector<std::string> payloads;
  auto rv = rendezvous(3, freePort(), &payloads);
  for (int r = 0; r < 3; ++r) {
    ASSERT_TRUE(rv[r]) << r;
    EXPECT_EQ(payloads[r], std::string("unique\0id", 9)) << r;
  }
  // Watching and closing cleanly reports nothing.
  Inbox inbox[3];
  for (int r = 0; r < 3; ++r)
    rv[r]->watch(inbox[r].fn());
  rv[2].reset();
  rv[1].reset();
  rv[0].reset();
  for (Inbox &i : inbox)
    EXPECT_TRUE(i.messages.empty()) << i.messages.front();
}

TEST(CommRendezvous, AbortReachesEveryRank) {
  std::vector<std::string> payloads;
  auto rv = rendezvous(3, freePort(), &payloads);
  Inbox inbox[3];
  for (int r = 0; r < 3; ++r)
    rv[r]->watch(inbox[r].fn());
  rv[2]->abort("communicator aborted by rank 2: boom");
  EXPECT_EQ(inbox[0].wait(), "communicator aborted by rank 2: boom");
  EXPECT_EQ(inbox[1].wait(), "communicator aborted by rank 2: boom");
  EXPECT_TRUE(inbox[2].messages.empty()); // not echoed to the sender
}

TEST(CommRendezvous, ACrashedRankAbortsTheOthers) {
  std::vector<std::string> payloads;
  auto rv = rendezvous(3, freePort(), &payloads);
  Inbox inbox[3];
  for (int r = 0; r < 3; ++r)
    rv[r]->watch(inbox[r].fn());
  rv[1]->dropForTesting(); // like a process that died
  const std::string lost =
      "rank 1 exited or lost its connection without destroying its "
      "communicator";
  EXPECT_EQ(inbox[0].wait(), lost);
  EXPECT_EQ(inbox[2].wait(), lost);

  // Rank 0 dying is seen by the others too.
  auto rv2 = rendezvous(2, freePort(), &payloads);
  Inbox other;
  rv2[1]->watch(other.fn());
  rv2[0]->dropForTesting();
  EXPECT_EQ(other.wait(), "rank 0 exited or lost its connection without "
                          "destroying its communicator");
}

TEST(CommRendezvous, TimeoutsAndRefusals) {
  // Rank 2 of 3 never comes: rank 0 and rank 1 both fail within the timeout.
  const int port = freePort();
  std::string msg0, msg1;
  std::string p0 = "id", p1;
  std::unique_ptr<Rendezvous> r0, r1;
  const auto start = Clock::now();
  std::thread t([&] {
    // A longer timeout than rank 0's, so rank 0's refusal arrives first.
    EXPECT_EQ(Rendezvous::connect(1, 3, "127.0.0.1", port, 2, &p1, &r1),
              VSART_ERROR_IO);
    msg1 = vsart_last_error();
  });
  EXPECT_EQ(Rendezvous::connect(0, 3, "127.0.0.1", port, 0.3, &p0, &r0),
            VSART_ERROR_IO);
  msg0 = vsart_last_error();
  t.join();
  EXPECT_LT(secondsSince(start), 2.0);
  EXPECT_EQ(msg0, "rendezvous: timed out after 0.3 s on rank 0 (port " +
                      std::to_string(port) +
                      ") waiting for ranks 2 to connect");
  EXPECT_TRUE(contains(msg1, "rank 0 refused rank 1: timed out")) << msg1;

  // Nobody listens.
  std::string p;
  std::unique_ptr<Rendezvous> r;
  EXPECT_EQ(Rendezvous::connect(1, 2, "127.0.0.1", freePort(), 0.2, &p, &r),
            VSART_ERROR_IO);
  EXPECT_TRUE(contains(vsart_last_error(), "cannot reach rank 0 at 127.0.0.1:"))
      << vsart_last_error();

  // A rank that disagrees on the world size is refused, and rank 0 fails.
  const int port2 = freePort();
  std::thread t2([&] {
    std::string q;
    std::unique_ptr<Rendezvous> rr;
    EXPECT_EQ(Rendezvous::connect(1, 4, "localhost", port2, 5, &q, &rr),
              VSART_ERROR_IO);
    EXPECT_TRUE(contains(vsart_last_error(),
                         "refused rank 1: rank 1 says the world has 4 ranks"))
        << vsart_last_error();
  });
  EXPECT_EQ(Rendezvous::connect(0, 2, "localhost", port2, 5, &p0, &r0),
            VSART_ERROR_IO);
  EXPECT_TRUE(contains(vsart_last_error(), "rank 0 says 2")) << vsart_last_error();
  t2.join();
}

} // namespace

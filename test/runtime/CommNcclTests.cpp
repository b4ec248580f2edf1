// NCCL communicators (vsart_comm.h, libvsart_cuda): collectives over the
// local GPUs (vsart_comm_create_nccl_local, one thread per GPU), the
// environment bootstrap with two threads acting as two processes (each
// its own world, meeting through the TCP rendezvous on localhost), and the
// failure paths (a timeout, an abort in-process and across the rendezvous).
// Tests that need GPUs skip with fewer than 2 GPUs or when NCCL does not
// load.
#include "vsart_comm.h"
#include "vsart_cuda.h"

#include "Rendezvous.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cuda_runtime.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int visibleGpus() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
    return 0;
  close(fd);
  return ntohs(a.sin_port);
}

/// Creates local NCCL communicators over n GPUs, or skips the test.
#define CREATE_LOCAL_OR_SKIP(n, timeout, comms)                                \
  do {                                                                         \
    if (visibleGpus() < 2)                                                     \
      GTEST_SKIP() << "needs 2 GPUs, " << visibleGpus() << " visible";         \
    (comms).assign((n), nullptr);                                              \
    vsart_status_t st_ =                                                       \
        vsart_comm_create_nccl_local((n), (timeout), (comms).data());          \
    if (st_ == VSART_ERROR_NOT_FOUND)                                          \
      GTEST_SKIP() << vsart_last_error();                                      \
    ASSERT_EQ(st_, VSART_OK) << vsart_last_error();                            \
  } while (0)

uint8_t pattern(int from, int to, size_t i) {
  return static_cast<uint8_t>(from * 61 + to * 17 + i * 7 + 1);
}

/// Device buffer of n bytes holding host (or zeros), freed on scope exit.
struct DeviceBytes {
  void *ptr = nullptr;
  size_t n = 0;
  explicit DeviceBytes(size_t bytes, const std::vector<uint8_t> &host = {})
      : n(bytes) {
    cudaMalloc(&ptr, n);
    if (host.empty())
      cudaMemset(ptr, 0, n);
    else
      cudaMemcpy(ptr, host.data(), n, cudaMemcpyHostToDevice);
  }
  ~DeviceBytes() { cudaFree(ptr); }
  std::vector<uint8_t> get() const {
    std::vector<uint8_t> h(n);
    cudaMemcpy(h.data(), ptr, n, cudaMemcpyDeviceToHost);
    return h;
  }
};

/// Every collective on one rank, checked bytewise; returns a status code.
int exerciseRank(vsart_comm_t c, void *) {
  const int r = vsart_comm_rank(c), n = vsart_comm_size(c);
  cudaSetDevice(r); // buffers on this rank's GPU (the local comms use GPU r)
  cudaStream_t stream = nullptr;
  cudaStreamCreate(&stream);
  int bad = 0;

  const size_t chunk = 4099; // odd on purpose
  std::vector<uint8_t> host(n * chunk);
  for (int to = 0; to < n; ++to)
    for (size_t i = 0; i < chunk; ++i)
      host[to * chunk + i] = pattern(r, to, i);
  DeviceBytes send(n * chunk, host), recv(n * chunk);
  if (vsart_status_t st =
          vsart_comm_all_to_all(c, send.ptr, recv.ptr, chunk, stream))
    return st;
  if (vsart_status_t st = vsart_comm_synchronize(c, stream))
    return st;
  std::vector<uint8_t> got = recv.get();
  for (int from = 0; from < n; ++from)
    for (size_t i = 0; i < chunk; ++i)
      bad += got[from * chunk + i] != pattern(from, r, i);
  EXPECT_EQ(bad, 0) << "all_to_all on rank " << r;

  // all_gather of chunk 0 of send.
  if (vsart_status_t st =
          vsart_comm_all_gather(c, send.ptr, recv.ptr, chunk, stream))
    return st;
  if (vsart_status_t st = vsart_comm_synchronize(c, stream))
    return st;
  got = recv.get();
  bad = 0;
  for (int from = 0; from < n; ++from)
    for (size_t i = 0; i < chunk; ++i)
      bad += got[from * chunk + i] != pattern(from, 0, i);
  EXPECT_EQ(bad, 0) << "all_gather on rank " << r;

  // Ring rotation: n steps bring every block home.
  std::vector<uint8_t> mine(chunk);
  for (size_t i = 0; i < chunk; ++i)
    mine[i] = pattern(r, 99, i);
  DeviceBytes a(chunk, mine), b(chunk);
  void *cur = a.ptr, *next = b.ptr;
  for (int step = 1; step <= n; ++step) {
    if (vsart_status_t st = vsart_comm_sendrecv(
            c, cur, chunk, (r + 1) % n, next, chunk, (r + n - 1) % n, stream))
      return st;
    std::swap(cur, next);
  }
  if (vsart_status_t st = vsart_comm_barrier(c, stream))
    return st;
  std::vector<uint8_t> home(chunk);
  cudaMemcpy(home.data(), cur, chunk, cudaMemcpyDeviceToHost);
  EXPECT_EQ(home, mine) << "ring rotation on rank " << r;

  // A split: even and odd ranks, all_gather inside each.
  vsart_comm_t sub = nullptr;
  if (vsart_status_t st = vsart_comm_split(c, r % 2, r, &sub))
    return st;
  EXPECT_EQ(vsart_comm_rank(sub), r / 2);
  const int m = vsart_comm_size(sub);
  int32_t word = 1000 + r;
  DeviceBytes w(4, std::vector<uint8_t>(reinterpret_cast<uint8_t *>(&word),
                                        reinterpret_cast<uint8_t *>(&word) + 4));
  DeviceBytes all(4 * m);
  vsart_status_t st = vsart_comm_all_gather(sub, w.ptr, all.ptr, 4, stream);
  if (!st)
    st = vsart_comm_synchronize(sub, stream);
  if (!st) {
    std::vector<uint8_t> g = all.get();
    for (int j = 0; j < m; ++j) {
      int32_t v = 0;
      std::memcpy(&v, g.data() + 4 * j, 4);
      EXPECT_EQ(v, 1000 + r % 2 + 2 * j) << "split all_gather on rank " << r;
    }
  }
  vsart_comm_destroy(sub);
  cudaStreamDestroy(stream);
  return st;
}

/// vsart_comm_exchange (two messages to every rank, itself included) and
/// Ulysses attention with 1 and 2 head chunks against dense attention over
/// the whole sequence on this rank's GPU.
int ulyssesRank(vsart_comm_t c, void *) {
  const int r = vsart_comm_rank(c), n = vsart_comm_size(c);
  cudaSetDevice(r);
  cudaStream_t stream = nullptr;
  cudaStreamCreate(&stream);
  const size_t len = 1031;
  std::vector<DeviceBytes *> bufs;
  std::vector<vsart_comm_transfer_t> t;
  for (int p = 0; p < n; ++p)
    for (int k = 0; k < 2; ++k) {
      std::vector<uint8_t> host(len + size_t(k));
      for (size_t i = 0; i < host.size(); ++i)
        host[i] = pattern(r, p + 7 * k, i);
      bufs.push_back(new DeviceBytes(host.size(), host));
      bufs.push_back(new DeviceBytes(host.size()));
      vsart_comm_transfer_t send{p, 0, bufs[bufs.size() - 2]->ptr, host.size()};
      vsart_comm_transfer_t recv{p, 1, bufs.back()->ptr, host.size()};
      t.push_back(send), t.push_back(recv);
    }
  vsart_status_t st = vsart_comm_exchange(c, int32_t(t.size()), t.data(), stream);
  if (!st)
    st = vsart_comm_synchronize(c, stream);
  for (int p = 0; p < n && !st; ++p)
    for (int k = 0; k < 2; ++k) {
      std::vector<uint8_t> got = bufs[size_t(4 * p + 2 * k + 1)]->get();
      int bad = 0;
      for (size_t i = 0; i < got.size(); ++i)
        bad += got[i] != pattern(p, r + 7 * k, i);
      EXPECT_EQ(bad, 0) << "exchange from " << p << " on rank " << r;
    }
  for (DeviceBytes *b : bufs)
    delete b;

  const int64_t B = 1, H = 4 * n, S = 96 * n, D = 64, s = S / n;
  const size_t all = size_t(B * H * S * D), mine = all / size_t(n);
  auto bf16s = [&](int salt, bool rowsOfThisRank) {
    std::vector<uint8_t> bytes;
    for (int64_t h = 0; h < B * H; ++h)
      for (int64_t i = 0; i < S; ++i) {
        if (rowsOfThisRank && i / s != r)
          continue;
        for (int64_t d = 0; d < D; ++d) {
          const float x = std::sin(float((h * S + i) * D + d) * 0.013f * float(salt));
          const uint32_t bits = [&] { uint32_t u; std::memcpy(&u, &x, 4); return u; }();
          const uint16_t b = uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
          bytes.push_back(uint8_t(b & 0xff)), bytes.push_back(uint8_t(b >> 8));
        }
      }
    return bytes;
  };
  auto args = [&](const void *q, const void *k, const void *v, void *out,
                  int64_t seq) {
    vsart_attention_args_t a = {};
    a.q = q, a.k = k, a.v = v, a.out = out;
    a.batch = B, a.num_heads = a.num_kv_heads = H, a.head_dim = D;
    a.seq_q = a.seq_kv = seq, a.scale = 0.125f;
    const int64_t strides[3] = {H * seq * D, seq * D, D};
    for (int i = 0; i < 3; ++i)
      a.q_strides[i] = a.k_strides[i] = a.v_strides[i] = a.out_strides[i] = strides[i];
    return a;
  };
  DeviceBytes fq(all * 2, bf16s(1, false)), fk(all * 2, bf16s(2, false)),
      fv(all * 2, bf16s(3, false)), fout(all * 2);
  DeviceBytes lq(mine * 2, bf16s(1, true)), lk(mine * 2, bf16s(2, true)),
      lv(mine * 2, bf16s(3, true)), lout(mine * 2);
  vsart_attention_args_t dense = args(fq.ptr, fk.ptr, fv.ptr, fout.ptr, S);
  if (!st)
    st = vsart_cuda_attention(&dense, stream);
  cudaStreamSynchronize(stream);
  const std::vector<uint8_t> want = fout.get();
  auto value = [](const std::vector<uint8_t> &b, size_t i) {
    const uint32_t u = uint32_t(b[2 * i] | (b[2 * i + 1] << 8)) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  };
  for (int chunks : {1, 2}) {
    vsart_attention_args_t a = args(lq.ptr, lk.ptr, lv.ptr, lout.ptr, s);
    if (!st)
      st = vsart_cuda_ulysses_attention(c, n, &a, chunks, nullptr, 0, stream);
    if (!st)
      st = vsart_comm_synchronize(c, stream);
    if (st)
      break;
    const std::vector<uint8_t> got = lout.get();
    double maxErr = 0, maxRef = 0;
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < s * D; ++i) {
        const float g = value(got, size_t(h * s * D + i));
        const float w = value(want, size_t((h * S + r * s) * D + i));
        maxErr = std::max(maxErr, double(std::fabs(g - w)));
        maxRef = std::max(maxRef, double(std::fabs(w)));
      }
    EXPECT_LE(maxErr, 1e-2 * maxRef) << "rank " << r << ", " << chunks << " chunks";
  }
  cudaStreamDestroy(stream);
  return st;
}

TEST(CommNccl, ExchangeAndUlyssesAttention) {
  std::vector<vsart_comm_t> comms;
  const int n = std::min(visibleGpus(), 4);
  CREATE_LOCAL_OR_SKIP(n, 60, comms);
  EXPECT_EQ(vsart_comm_run_each(n, comms.data(), ulyssesRank, nullptr), VSART_OK)
      << vsart_last_error();
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
}

TEST(CommNccl, ArgumentErrorsWithoutGpus) {
  vsart_comm_t comms[2] = {nullptr, nullptr};
  EXPECT_EQ(vsart_comm_create_nccl_local(0, 1, comms),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_create_nccl_local(visibleGpus() + 1, 1, comms),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(vsart_last_error(), "visible GPUs")) << vsart_last_error();
  EXPECT_EQ(vsart_comm_create_nccl_local(1, 1, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_comm_create_nccl_from_env(1, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  if (visibleGpus() == 0) {
    // One rank, no GPU: fails saying why (no NCCL, or no GPU 0), never hangs.
    vsart::comm::LaunchEnv env;
    env.masterAddr = "127.0.0.1";
    env.port = freePort();
    vsart_comm_t c = nullptr;
    EXPECT_NE(vsart::comm::createNcclFromLaunchEnv(env, 1, &c), VSART_OK);
    EXPECT_EQ(c, nullptr);
    EXPECT_STRNE(vsart_last_error(), "");
    std::printf("[ info ] without GPUs: %s\n", vsart_last_error());
  }
}

TEST(CommNccl, LocalCollectives) {
  std::vector<vsart_comm_t> comms;
  const int n = std::min(visibleGpus(), 4);
  CREATE_LOCAL_OR_SKIP(n, 60, comms);
  EXPECT_STREQ(vsart_comm_backend(comms[0]), "nccl");
  EXPECT_EQ(vsart_comm_run_each(n, comms.data(), exerciseRank, nullptr),
            VSART_OK)
      << vsart_last_error();
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
}

TEST(CommNccl, EnvRendezvousTwoRanks) {
  if (visibleGpus() < 2)
    GTEST_SKIP() << "needs 2 GPUs";
  const int port = freePort();
  std::vector<vsart_comm_t> comms(2, nullptr);
  std::vector<vsart_status_t> status(2, VSART_OK);
  std::vector<std::string> messages(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      vsart::comm::LaunchEnv env;
      env.rank = r;
      env.size = 2;
      env.localRank = r;
      env.masterAddr = "127.0.0.1";
      env.port = port;
      status[r] = vsart::comm::createNcclFromLaunchEnv(env, 60, &comms[r]);
      messages[r] = vsart_last_error();
      if (status[r] == VSART_OK)
        status[r] = static_cast<vsart_status_t>(exerciseRank(comms[r], nullptr));
    });
  for (std::thread &t : threads)
    t.join();
  if (status[0] == VSART_ERROR_NOT_FOUND)
    GTEST_SKIP() << messages[0];
  for (int r = 0; r < 2; ++r)
    EXPECT_EQ(status[r], VSART_OK) << "rank " << r << ": " << messages[r];
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
}

TEST(CommNccl, MissingPeerTimesOut) {
  std::vector<vsart_comm_t> comms;
  CREATE_LOCAL_OR_SKIP(2, 1.0, comms);
  std::string message;
  std::thread rank0([&] {
    cudaSetDevice(0);
    DeviceBytes a(64), b(64);
    const auto start = Clock::now();
    vsart_status_t st =
        vsart_comm_sendrecv(comms[0], a.ptr, 64, 1, b.ptr, 64, 1, nullptr);
    if (!st)
      st = vsart_comm_synchronize(comms[0], nullptr);
    EXPECT_EQ(st, VSART_ERROR_COMM);
    message = vsart_last_error();
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(),
              10.0);
  });
  rank0.join(); // rank 1 never took part
  EXPECT_TRUE(contains(message, "timed out after 1 s on rank 0")) << message;
  // The world is failed: rank 1 fails at once with the same message.
  EXPECT_EQ(vsart_comm_barrier(comms[1], nullptr), VSART_ERROR_COMM);
  EXPECT_EQ(message, vsart_last_error());
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
}

TEST(CommNccl, AbortWakesThePeer) {
  std::vector<vsart_comm_t> comms;
  CREATE_LOCAL_OR_SKIP(2, 60, comms);
  std::string message;
  std::thread rank0([&] {
    cudaSetDevice(0);
    DeviceBytes a(64), b(64);
    vsart_status_t st =
        vsart_comm_sendrecv(comms[0], a.ptr, 64, 1, b.ptr, 64, 1, nullptr);
    if (!st)
      st = vsart_comm_synchronize(comms[0], nullptr);
    EXPECT_EQ(st, VSART_ERROR_COMM);
    message = vsart_last_error();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  vsart_comm_abort(comms[1], "rank 1 ran out of memory");
  rank0.join();
  EXPECT_EQ(message, "communicator aborted by rank 1: rank 1 ran out of memory");
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
}

TEST(CommNccl, AbortCrossesTheRendezvous) {
  if (visibleGpus() < 2)
    GTEST_SKIP() << "needs 2 GPUs";
  const int port = freePort();
  std::vector<vsart_comm_t> comms(2, nullptr);
  std::vector<vsart_status_t> status(2, VSART_OK);
  std::string message;
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      vsart::comm::LaunchEnv env;
      env.rank = r;
      env.size = 2;
      env.localRank = r;
      env.masterAddr = "127.0.0.1";
      env.port = port;
      status[r] = vsart::comm::createNcclFromLaunchEnv(env, 60, &comms[r]);
      if (status[r] != VSART_OK)
        return;
      cudaSetDevice(r);
      if (r == 1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        vsart_comm_abort(comms[1], "bad input on rank 1");
        return;
      }
      DeviceBytes a(64), b(64);
      vsart_status_t st =
          vsart_comm_sendrecv(comms[0], a.ptr, 64, 1, b.ptr, 64, 1, nullptr);
      if (!st)
        st = vsart_comm_synchronize(comms[0], nullptr);
      EXPECT_EQ(st, VSART_ERROR_COMM);
      message = vsart_last_error();
    });
  for (std::thread &t : threads)
    t.join();
  if (status[0] == VSART_ERROR_NOT_FOUND)
    GTEST_SKIP() << "NCCL does not load";
  ASSERT_EQ(status[0], VSART_OK);
  EXPECT_EQ(message, "communicator aborted by rank 1: bad input on rank 1");
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
}

} // namespace

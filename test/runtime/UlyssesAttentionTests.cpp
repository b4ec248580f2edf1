// vsart_comm_exchange over thread ranks (pairing, self transfers, the
// argument checks and a mismatch), and Ulysses attention
// (vsart_cpu_ulysses_attention) against dense attention over the whole
// sequence, for 1, 2 and 4 ranks, batch 1 and 2 and every head-chunk
// count; its errors.
#include "vsart_comm.h"
#include "vsart_model.h"

#include <gtest/gtest.h>

#include "TestUtil.h"
#include "ThreadRanks.h"

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using vsart_test::randomVec;
using vsart_test::runRanks;

vsart_comm_transfer_t transfer(int32_t peer, bool recv, void *buf,
                               size_t bytes) {
  vsart_comm_transfer_t t = {};
  t.peer = peer, t.recv = recv ? 1 : 0, t.buf = buf, t.bytes = bytes;
  return t;
}

/// Every rank sends two messages of different sizes to every rank (itself
/// included); the k-th receive from p gets p's k-th send to this rank.
TEST(CommExchange, PairsSendsWithReceivesInOrder) {
  for (int n : {1, 2, 3})
    runRanks(n, [&](vsart_comm_t c, int r) {
      std::vector<std::vector<int>> sends, recvs;
      std::vector<vsart_comm_transfer_t> t;
      sends.reserve(size_t(2 * n)), recvs.reserve(size_t(2 * n));
      for (int p = 0; p < n; ++p)
        for (int k = 0; k < 2; ++k) {
          const size_t len = size_t(3 + k); // sizes differ by message
          sends.emplace_back(len, 1000 * r + 10 * p + k);
          recvs.emplace_back(len, -1);
          t.push_back(transfer(p, false, sends.back().data(), len * sizeof(int)));
          t.push_back(transfer(p, true, recvs.back().data(), len * sizeof(int)));
        }
      ASSERT_EQ(vsart_comm_exchange(c, int32_t(t.size()), t.data(), nullptr),
                VSART_OK)
          << vsart_last_error();
      for (int p = 0; p < n; ++p)
        for (int k = 0; k < 2; ++k)
          for (int x : recvs[size_t(2 * p + k)])
            EXPECT_EQ(x, 1000 * p + 10 * r + k) << "rank " << r;
      // An empty exchange is a synchronisation.
      EXPECT_EQ(vsart_comm_exchange(c, 0, nullptr, nullptr), VSART_OK);
    });
}

TEST(CommExchange, RejectsBadTransfers) {
  runRanks(2, [&](vsart_comm_t c, int) {
    char a[16], b[16];
    vsart_comm_transfer_t peer = transfer(2, false, a, 4);
    EXPECT_EQ(vsart_comm_exchange(c, 1, &peer, nullptr),
              VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(vsart_last_error()).find("peer 2 of 2"),
              std::string::npos);
    vsart_comm_transfer_t null = transfer(0, true, nullptr, 4);
    EXPECT_EQ(vsart_comm_exchange(c, 1, &null, nullptr),
              VSART_ERROR_INVALID_ARGUMENT);
    vsart_comm_transfer_t lap[] = {transfer(0, true, a, 8),
                                   transfer(1, false, a + 4, 8),
                                   transfer(1, false, b, 8)};
    EXPECT_EQ(vsart_comm_exchange(c, 3, lap, nullptr),
              VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(vsart_last_error()).find("overlap"), std::string::npos);
    EXPECT_EQ(vsart_comm_exchange(nullptr, 0, nullptr, nullptr),
              VSART_ERROR_INVALID_ARGUMENT);
  });
}

/// Rank 1 receives fewer bytes than rank 0 sends: every rank fails.
TEST(CommExchange, MismatchAbortsTheWorld) {
  runRanks(2, [&](vsart_comm_t c, int r) {
    std::vector<char> buf(64), got(64);
    vsart_comm_transfer_t t =
        r == 0 ? transfer(1, false, buf.data(), 16) : transfer(0, true, got.data(), 8);
    vsart_status_t st = vsart_comm_exchange(c, 1, &t, nullptr);
    if (st == VSART_OK) // the sender may pass; its next call sees the abort
      st = vsart_comm_barrier(c, nullptr);
    EXPECT_EQ(st, VSART_ERROR_COMM) << "rank " << r;
    EXPECT_NE(std::string(vsart_last_error()).find("exchange mismatch"),
              std::string::npos)
        << vsart_last_error();
  });
}


/// Rows [r·s, (r+1)·s) of every head of x (B, H, S, D): (B, H, s, D).
std::vector<float> rowsOf(const std::vector<float> &x, int64_t B, int64_t H,
                          int64_t S, int64_t D, int r, int G) {
  const int64_t s = S / G;
  std::vector<float> out(size_t(B * H * s * D));
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t i = 0; i < s * D; ++i)
      out[size_t(bh * s * D + i)] = x[size_t((bh * S + r * s) * D + i)];
  return out;
}

vsart_attention_args_t bhsdArgs(const float *q, const float *k, const float *v,
                                float *out, int64_t B, int64_t H, int64_t s,
                                int64_t D) {
  vsart_attention_args_t a = {};
  a.q = q, a.k = k, a.v = v, a.out = out;
  a.batch = B, a.num_heads = a.num_kv_heads = H;
  a.seq_q = a.seq_kv = s, a.head_dim = D;
  const int64_t st[3] = {H * s * D, s * D, D};
  for (int i = 0; i < 3; ++i)
    a.q_strides[i] = a.k_strides[i] = a.v_strides[i] = a.out_strides[i] = st[i];
  a.scale = 1.0f / std::sqrt(float(D));
  return a;
}

/// G ranks, each with all H heads of S / G rows, equal dense attention over
/// all S rows, for every chunk count dividing H / G and caller or own scratch.
void expectUlysses(int G, int64_t B, int64_t H, int64_t S, int64_t D) {
  const size_t n = size_t(B * H * S * D);
  const std::vector<float> q = randomVec(n, 1, -2.0f, 2.0f),
                           k = randomVec(n, 2, -2.0f, 2.0f),
                           v = randomVec(n, 3, -2.0f, 2.0f);
  std::vector<float> dense(n);
  vsart_attention_args_t all = bhsdArgs(q.data(), k.data(), v.data(),
                                        dense.data(), B, H, S, D);
  ASSERT_EQ(vsart_cpu_attention_strided(&all), VSART_OK) << vsart_last_error();
  for (int64_t chunks = 1; chunks <= H / G; ++chunks) {
    if ((H / G) % chunks)
      continue;
    for (bool callerScratch : {false, true}) {
      auto body = [&](vsart_comm_t c, int r) {
        const int64_t s = S / G;
        std::vector<float> lq = rowsOf(q, B, H, S, D, r, G),
                           lk = rowsOf(k, B, H, S, D, r, G),
                           lv = rowsOf(v, B, H, S, D, r, G);
        std::vector<float> out(lq.size(), NAN);
        vsart_attention_args_t a =
            bhsdArgs(lq.data(), lk.data(), lv.data(), out.data(), B, H, s, D);
        const size_t bytes = vsart_ulysses_attention_scratch_bytes(&a, G, 4);
        std::vector<double> scratch(callerScratch ? bytes / 8 + 64 : 0);
        void *at = nullptr;
        if (callerScratch) // 256-byte aligned inside the vector
          at = reinterpret_cast<void *>(
              (reinterpret_cast<uintptr_t>(scratch.data()) + 255) / 256 * 256);
        ASSERT_EQ(vsart_cpu_ulysses_attention(c, G, &a, int32_t(chunks), at,
                                              callerScratch ? bytes : 0),
                  VSART_OK)
            << vsart_last_error();
        const std::vector<float> want = rowsOf(dense, B, H, S, D, r, G);
        for (size_t i = 0; i < want.size(); ++i)
          ASSERT_NEAR(out[i], want[i], 1e-5f)
              << "rank " << r << " of " << G << ", " << chunks << " chunks, element " << i;
      };
      if (G == 1)
        body(nullptr, 0);
      else
        runRanks(G, body);
    }
  }
}

TEST(UlyssesAttention, OneRankIsDenseAttention) { expectUlysses(1, 1, 4, 24, 16); }
TEST(UlyssesAttention, TwoRanksEqualDense) { expectUlysses(2, 1, 8, 40, 16); }
TEST(UlyssesAttention, FourRanksBatchTwoEqualDense) {
  expectUlysses(4, 2, 8, 36, 8);
}

TEST(UlyssesAttention, Errors) {
  runRanks(2, [&](vsart_comm_t c, int) {
    std::vector<float> x(size_t(6 * 8 * 4), 0.f), out(x.size());
    vsart_attention_args_t a =
        bhsdArgs(x.data(), x.data(), x.data(), out.data(), 1, 6, 8, 4);
    // 6 heads over 2 ranks: 3 each; 2 chunks do not divide them.
    EXPECT_EQ(vsart_cpu_ulysses_attention(c, 2, &a, 2, nullptr, 0),
              VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(vsart_last_error()).find("divide the 3 heads"),
              std::string::npos)
        << vsart_last_error();
    EXPECT_EQ(vsart_cpu_ulysses_attention(c, 3, &a, 1, nullptr, 0),
              VSART_ERROR_INVALID_ARGUMENT); // not the communicator's size
    vsart_attention_args_t odd = bhsdArgs(x.data(), x.data(), x.data(),
                                          out.data(), 1, 5, 8, 4);
    EXPECT_EQ(vsart_cpu_ulysses_attention(c, 2, &odd, 1, nullptr, 0),
              VSART_ERROR_INVALID_ARGUMENT);
    vsart_attention_args_t strided = a;
    strided.q_strides[1] = 4, strided.q_strides[2] = 6 * 4; // (B, S, H, D)
    EXPECT_EQ(vsart_cpu_ulysses_attention(c, 2, &strided, 1, nullptr, 0),
              VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(vsart_last_error()).find("contiguous"),
              std::string::npos);
    vsart_attention_args_t masked = a;
    masked.mask = x.data();
    masked.mask_dims[0] = masked.mask_dims[1] = masked.mask_dims[2] = 1;
    masked.mask_dims[3] = 8;
    EXPECT_EQ(vsart_cpu_ulysses_attention(c, 2, &masked, 1, nullptr, 0),
              VSART_ERROR_INVALID_ARGUMENT);
    const size_t need = vsart_ulysses_attention_scratch_bytes(&a, 2, 4);
    std::vector<float> small(need / 4);
    EXPECT_EQ(vsart_cpu_ulysses_attention(c, 2, &a, 1, small.data(), need - 4),
              VSART_ERROR_INVALID_ARGUMENT);
  });
}

TEST(UlyssesAttention, ChunksFromTheEnvironment) {
  const std::vector<float> x(size_t(4 * 8 * 4), 0.5f);
  std::vector<float> out(x.size());
  vsart_attention_args_t a =
      bhsdArgs(x.data(), x.data(), x.data(), out.data(), 1, 4, 8, 4);
  setenv("VSART_ULYSSES_CHUNKS", "3", 1);
  EXPECT_EQ(vsart_cpu_ulysses_attention(nullptr, 1, &a, 1, nullptr, 0),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("VSART_ULYSSES_CHUNKS"),
            std::string::npos);
  setenv("VSART_ULYSSES_CHUNKS", "4", 1);
  EXPECT_EQ(vsart_cpu_ulysses_attention(nullptr, 1, &a, 1, nullptr, 0), VSART_OK)
      << vsart_last_error();
  unsetenv("VSART_ULYSSES_CHUNKS");
  for (float y : out)
    EXPECT_NEAR(y, 0.5f, 1e-6f);
}

} // namespace

// Ring attention (vsart_cpu_ring_attention, vsart_comm.h) over thread ranks
// against dense attention over the whole sequence (vsart_cpu_attention),
// with grouped-query heads, (batch, seq, heads, dim) strides and 1-4 ranks;
// vsart_cpu_attention_lse against a direct log-sum-exp; the errors.
#include "vsart_comm.h"
#include "vsart_model.h"

#include <gtest/gtest.h>

#include "ThreadRanks.h"

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using vsart_test::runRanks;

std::vector<float> randomVector(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}

/// (B, H, S, D) contiguous -> this rank's (B, S/G, H, D) chunk r.
std::vector<float> bshdChunk(const std::vector<float> &x, int64_t B, int64_t H,
                             int64_t S, int64_t D, int r, int G) {
  const int64_t s = S / G;
  std::vector<float> out(size_t(B * s * H * D));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < s; ++i)
        for (int64_t d = 0; d < D; ++d)
          out[size_t(((b * s + i) * H + h) * D + d)] =
              x[size_t(((b * H + h) * S + r * s + i) * D + d)];
  return out;
}

/// args over (B, s, H, D) layouts.
vsart_attention_args_t bshdArgs(const float *q, const float *k, const float *v,
                                float *out, int64_t B, int64_t H, int64_t Hkv,
                                int64_t s, int64_t D) {
  vsart_attention_args_t a = {};
  a.q = q, a.k = k, a.v = v, a.out = out;
  a.batch = B, a.num_heads = H, a.num_kv_heads = Hkv;
  a.seq_q = a.seq_kv = s, a.head_dim = D;
  const int64_t qs[3] = {s * H * D, D, H * D}, ks[3] = {s * Hkv * D, D, Hkv * D};
  for (int i = 0; i < 3; ++i) {
    a.q_strides[i] = a.out_strides[i] = qs[i];
    a.k_strides[i] = a.v_strides[i] = ks[i];
  }
  a.scale = 1.0f / std::sqrt(float(D));
  return a;
}

/// Global q (B, H, S, D) and k, v (B, Hkv, S, D) split over G ring ranks of
/// s = S / G tokens each, in (batch, seq, heads, dim) layout.
struct RingCase {
  int G;
  int64_t B, H, Hkv, s, D;
  std::vector<float> q, k, v;
  float scale;
};

/// Runs the ring on every rank (with `local` keys, `valid` real keys,
/// `mask` over the ring's keys and caller scratch as asked) and expects
/// each rank's rows of `want` (B, H, S, D).
void expectRing(const RingCase &rc, const std::vector<float> &want,
                const vsart_attention_args_t *local = nullptr,
                int64_t valid = 0, const std::vector<float> *mask = nullptr,
                bool callerScratch = false) {
  const int G = rc.G;
  const int64_t S = rc.s * G;
  runRanks(G, [&](vsart_comm_t c, int r) {
    auto ql = bshdChunk(rc.q, rc.B, rc.H, S, rc.D, r, G);
    auto kl = bshdChunk(rc.k, rc.B, rc.Hkv, S, rc.D, r, G);
    auto vl = bshdChunk(rc.v, rc.B, rc.Hkv, S, rc.D, r, G);
    std::vector<float> out(ql.size(), NAN);
    auto a = bshdArgs(ql.data(), kl.data(), vl.data(), out.data(), rc.B, rc.H,
                      rc.Hkv, rc.s, rc.D);
    a.scale = rc.scale;
    if (mask) {
      a.mask = mask->data();
      a.mask_dims[0] = int64_t(mask->size()) / S;
      a.mask_dims[1] = a.mask_dims[2] = 1, a.mask_dims[3] = S;
    }
    std::vector<float> scratch(vsart_ring_attention_scratch_bytes(&a, 4) / 4 +
                               64);
    ASSERT_EQ(vsart_cpu_ring_attention(
                  G == 1 ? nullptr : c, G, &a, local, valid,
                  callerScratch ? scratch.data() : nullptr,
                  scratch.size() * 4),
              VSART_OK)
        << vsart_last_error();
    auto expected = bshdChunk(want, rc.B, rc.H, S, rc.D, r, G);
    for (size_t i = 0; i < out.size(); ++i)
      ASSERT_NEAR(out[i], expected[i], 2e-5)
          << "rank " << r << " of " << G << ", element " << i;
  });
}

void checkRing(int G, bool callerScratch) {
  const int64_t B = 2, H = 4, Hkv = 2, s = 5, S = s * G, D = 8;
  const RingCase rc = {G, B, H, Hkv, s, D,
                       randomVector(size_t(B * H * S * D), 1),
                       randomVector(size_t(B * Hkv * S * D), 2),
                       randomVector(size_t(B * Hkv * S * D), 3),
                       1.0f / std::sqrt(float(D))};
  std::vector<float> want(rc.q.size());
  ASSERT_EQ(vsart_cpu_attention(rc.q.data(), rc.k.data(), rc.v.data(),
                                want.data(), B, H, Hkv, S, S, D, rc.scale,
                                nullptr, nullptr),
            VSART_OK);
  expectRing(rc, want, nullptr, 0, nullptr, callerScratch);
}

TEST(RingAttention, EqualsDenseOverTheWholeSequence) {
  for (int G : {1, 2, 3, 4})
    checkRing(G, false);
  checkRing(2, true);
}

/// Local keys (B, H, T, D contiguous) for the ring; kept in a static so a
/// pointer to it can be passed on (one test at a time uses it).
const vsart_attention_args_t &localKeys(const std::vector<float> &kt,
                                        const std::vector<float> &vt,
                                        int64_t H, int64_t T, int64_t D,
                                        const std::vector<float> *mask = nullptr,
                                        int64_t maskBatch = 1) {
  static vsart_attention_args_t local;
  local = {};
  local.k = kt.data(), local.v = vt.data(), local.seq_kv = T;
  const int64_t ts[3] = {H * T * D, T * D, D};
  for (int i = 0; i < 3; ++i)
    local.k_strides[i] = local.v_strides[i] = ts[i];
  if (mask) {
    local.mask = mask->data();
    local.mask_dims[0] = maskBatch, local.mask_dims[1] = 1;
    local.mask_dims[2] = 1, local.mask_dims[3] = T;
  }
  return local;
}

/// Joint attention under the ring: T text keys every rank holds whole
/// (`local`, BHSD layout) besides the video chunks going around equal dense
/// attention over [text, video].
TEST(RingAttention, LocalKeysJoinTheRing) {
  const int G = 3;
  const int64_t B = 1, H = 2, s = 4, S = s * G, T = 3, D = 8;
  const auto q = randomVector(size_t(B * H * S * D), 7);
  const auto kv = randomVector(size_t(B * H * S * D), 8);
  const auto vv = randomVector(size_t(B * H * S * D), 9);
  const auto kt = randomVector(size_t(B * H * T * D), 10);
  const auto vt = randomVector(size_t(B * H * T * D), 11);
  // Dense reference over [text, video] keys (contiguous b, h, s, d).
  std::vector<float> kAll(size_t(B * H * (T + S) * D)), vAll(kAll.size());
  for (int64_t h = 0; h < H; ++h)
    for (int64_t j = 0; j < T + S; ++j)
      for (int64_t d = 0; d < D; ++d) {
        size_t to = size_t((h * (T + S) + j) * D + d);
        kAll[to] = j < T ? kt[size_t((h * T + j) * D + d)]
                         : kv[size_t((h * S + j - T) * D + d)];
        vAll[to] = j < T ? vt[size_t((h * T + j) * D + d)]
                         : vv[size_t((h * S + j - T) * D + d)];
      }
  std::vector<float> want(q.size());
  ASSERT_EQ(vsart_cpu_attention(q.data(), kAll.data(), vAll.data(),
                                want.data(), B, H, H, S, T + S, D, 0.35f,
                                nullptr, nullptr),
            VSART_OK);
  expectRing({G, B, H, H, s, D, q, kv, vv, 0.35f}, want,
             &localKeys(kt, vt, H, T, D));
}

/// A padded sequence: of 3 chunks of 4 keys only the first 10 are real;
/// the ring ignores the 2 padded keys at the end (ring rank 2's tail).
TEST(RingAttention, PaddedKeysAreIgnored) {
  const int G = 3;
  const int64_t B = 1, H = 2, s = 4, S = s * G, valid = 10, D = 8;
  const auto q = randomVector(size_t(B * H * S * D), 12);
  const auto k = randomVector(size_t(B * H * S * D), 13);
  const auto v = randomVector(size_t(B * H * S * D), 14);
  // Dense reference over the first `valid` keys.
  std::vector<float> kv(size_t(B * H * valid * D)), vv(kv.size());
  for (int64_t h = 0; h < H; ++h)
    for (int64_t j = 0; j < valid * D; ++j) {
      kv[size_t(h * valid * D + j)] = k[size_t(h * S * D + j)];
      vv[size_t(h * valid * D + j)] = v[size_t(h * S * D + j)];
    }
  std::vector<float> want(q.size());
  ASSERT_EQ(vsart_cpu_attention(q.data(), kv.data(), vv.data(), want.data(),
                                B, H, H, S, valid, D, 0.35f, nullptr, nullptr),
            VSART_OK);
  expectRing({G, B, H, H, s, D, q, k, v, 0.35f}, want, nullptr, valid);
}

/// Key masks on the ring (over every rank's keys, the visiting chunk's
/// columns each step) and on local keys equal dense attention with the
/// concatenated mask; batch 2 with a per-batch mask.
TEST(RingAttention, KeyMasks) {
  const int G = 2;
  const int64_t B = 2, H = 2, s = 3, S = s * G, T = 2, D = 4;
  const auto q = randomVector(size_t(B * H * S * D), 15);
  const auto k = randomVector(size_t(B * H * S * D), 16);
  const auto v = randomVector(size_t(B * H * S * D), 17);
  const auto kt = randomVector(size_t(B * H * T * D), 18);
  const auto vt = randomVector(size_t(B * H * T * D), 19);
  const float inf = std::numeric_limits<float>::infinity();
  // Per batch: ring keys (video) then local keys (text).
  const std::vector<float> ringMask = {0, -inf, 0, 0, 0, -inf,
                                       -inf, 0, 0, 0, 0, 0};
  const std::vector<float> localMask = {0, -inf, 0, 0};
  // Dense reference over [video, text] keys with the joined mask.
  const int64_t K = S + T;
  std::vector<float> kAll(size_t(B * H * K * D)), vAll(kAll.size()),
      mAll(size_t(B * K));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < K; ++j)
      mAll[size_t(b * K + j)] =
          j < S ? ringMask[size_t(b * S + j)] : localMask[size_t(b * T + j - S)];
    for (int64_t h = 0; h < H; ++h)
      for (int64_t j = 0; j < K; ++j)
        for (int64_t d = 0; d < D; ++d) {
          const size_t to = size_t(((b * H + h) * K + j) * D + d);
          kAll[to] = j < S ? k[size_t(((b * H + h) * S + j) * D + d)]
                           : kt[size_t(((b * H + h) * T + j - S) * D + d)];
          vAll[to] = j < S ? v[size_t(((b * H + h) * S + j) * D + d)]
                           : vt[size_t(((b * H + h) * T + j - S) * D + d)];
        }
  }
  std::vector<float> want(q.size());
  const int64_t md[4] = {B, 1, 1, K};
  ASSERT_EQ(vsart_cpu_attention(q.data(), kAll.data(), vAll.data(),
                                want.data(), B, H, H, S, K, D, 0.5f,
                                mAll.data(), md),
            VSART_OK);
  const auto &local = localKeys(kt, vt, H, T, D, &localMask, B);
  expectRing({G, B, H, H, s, D, q, k, v, 0.5f}, want, &local, 0, &ringMask);
  // A mask of one chunk only is rejected.
  float x[64] = {};
  auto a = bshdArgs(x, x, x, x + 32, 1, 1, 1, s, 4);
  a.mask = ringMask.data();
  a.mask_dims[0] = a.mask_dims[1] = a.mask_dims[2] = 1, a.mask_dims[3] = s;
  runRanks(G, [&](vsart_comm_t c, int) {
    EXPECT_EQ(vsart_cpu_ring_attention(c, G, &a, nullptr, 0, nullptr, 0),
              VSART_ERROR_INVALID_ARGUMENT);
  });
}

TEST(RingAttention, LseIsTheLogSumExpOfScaledLogits) {
  const int64_t H = 2, Sq = 3, Sk = 7, D = 4;
  const auto q = randomVector(size_t(H * Sq * D), 4);
  const auto k = randomVector(size_t(H * Sk * D), 5);
  const auto v = randomVector(size_t(H * Sk * D), 6);
  std::vector<float> out(q.size()), lse(size_t(H * Sq));
  vsart_attention_args_t a = {};
  a.q = q.data(), a.k = k.data(), a.v = v.data(), a.out = out.data();
  a.batch = 1, a.num_heads = a.num_kv_heads = H, a.seq_q = Sq, a.seq_kv = Sk;
  a.head_dim = D, a.scale = 0.5f;
  const int64_t qs[3] = {H * Sq * D, Sq * D, D}, ks[3] = {H * Sk * D, Sk * D, D};
  for (int i = 0; i < 3; ++i)
    a.q_strides[i] = a.out_strides[i] = qs[i], a.k_strides[i] = a.v_strides[i] = ks[i];
  ASSERT_EQ(vsart_cpu_attention_lse(&a, lse.data()), VSART_OK);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < Sq; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < Sk; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < D; ++d)
          dot += q[size_t((h * Sq + i) * D + d)] * k[size_t((h * Sk + j) * D + d)];
        sum += std::exp(0.5 * dot);
      }
      EXPECT_NEAR(lse[size_t(h * Sq + i)], std::log(sum), 1e-5);
    }
  a.seq_kv = 0; // no keys: -inf rows
  ASSERT_EQ(vsart_cpu_attention_lse(&a, lse.data()), VSART_OK);
  EXPECT_EQ(lse[0], -std::numeric_limits<float>::infinity());
}

TEST(RingAttention, Errors) {
  float x[64] = {};
  auto a = bshdArgs(x, x, x, x, 1, 2, 2, 2, 4);
  a.out = x + 32;
  runRanks(2, [&](vsart_comm_t c, int) {
    EXPECT_EQ(vsart_cpu_ring_attention(c, 4, &a, nullptr, 0, nullptr, 0),
              VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(vsart_last_error()).find("group size is 4"),
              std::string::npos)
        << vsart_last_error();
  });
  EXPECT_EQ(vsart_cpu_ring_attention(nullptr, 2, &a, nullptr, 0, nullptr, 0),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("--ranks 2"), std::string::npos);
  float scratch[16];
  EXPECT_EQ(vsart_cpu_ring_attention(nullptr, 1, &a, nullptr, 0, scratch, sizeof scratch),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("needs"), std::string::npos);
  a.mask = x;
  a.mask_dims[0] = a.mask_dims[1] = a.mask_dims[2] = a.mask_dims[3] = 1;
  EXPECT_EQ(vsart_cpu_ring_attention(nullptr, 1, &a, nullptr, 0, nullptr, 0),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("key mask"), std::string::npos);
}

} // namespace

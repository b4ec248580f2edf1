// vsart_cpu_semantic_attention (Sparse VideoGen2's semantic-aware
// permutation): k-means against a naive reference, warm starts, top-p
// selection, the output against masked dense attention, batches, thread
// counts and argument errors.
#include "TestUtil.h"
#include "vsart.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

/// q, k, v (batch, heads, seq, d) contiguous; q and k drawn around
/// `centres` distinct centres (well separated), v uniform.
struct Problem {
  int64_t B = 1, H = 2, Hkv = 1, S = 96, D = 16;
  int64_t Cq = 6, Ckv = 5;
  std::vector<float> q, k, v;

  void fill(uint32_t seed, int64_t centres = 6, float noise = 0.15f) {
    auto around = [&](int64_t heads, uint32_t s) {
      std::mt19937 rng(s);
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      std::vector<float> x(size_t(B * heads * S * D));
      for (int64_t bh = 0; bh < B * heads; ++bh) {
        std::vector<float> c(size_t(centres * D));
        for (float &e : c)
          e = 2.0f * u(rng);
        for (int64_t t = 0; t < S; ++t) {
          const int64_t which = (t * 7 + bh) % centres;
          for (int64_t d = 0; d < D; ++d)
            x[size_t((bh * S + t) * D + d)] =
                c[size_t(which * D + d)] + noise * u(rng);
        }
      }
      return x;
    };
    q = around(H, seed), k = around(Hkv, seed + 1);
    v = vsart_test::randomVec(size_t(B * Hkv * S * D), seed + 2);
  }
};

/// Owns the state, scratch and outputs of one configuration.
struct SemRun {
  std::vector<float> qc, kc, out;
  std::vector<int32_t> qlab, klab;
  std::vector<uint8_t> map;
  std::vector<char> scratch;
  vsart_semantic_state_t state = {};
  vsart_semantic_args_t args = {};

  explicit SemRun(const Problem &p, float topP = 0.9f, int64_t itFirst = 5,
               int64_t itWarm = 2) {
    qc.assign(size_t(p.B * p.H * p.Cq * p.D), 0.0f);
    kc.assign(size_t(p.B * p.Hkv * p.Ckv * p.D), 0.0f);
    out.assign(size_t(p.B * p.H * p.S * p.D), NAN);
    qlab.assign(size_t(p.B * p.H * p.S), -1);
    klab.assign(size_t(p.B * p.Hkv * p.S), -1);
    map.assign(size_t(p.B * p.H * p.Cq * p.Ckv), 2);
    state.q_centroids = qc.data(), state.k_centroids = kc.data();
    vsart_attention_args_t &a = args.attn;
    a.q = p.q.data(), a.k = p.k.data(), a.v = p.v.data(), a.out = out.data();
    a.batch = p.B, a.num_heads = p.H, a.num_kv_heads = p.Hkv;
    a.seq_q = a.seq_kv = p.S, a.head_dim = p.D;
    a.scale = 1.0f / std::sqrt(float(p.D));
    for (int64_t *st : {a.q_strides, a.out_strides})
      st[0] = p.H * p.S * p.D, st[1] = p.S * p.D, st[2] = p.D;
    for (int64_t *st : {a.k_strides, a.v_strides})
      st[0] = p.Hkv * p.S * p.D, st[1] = p.S * p.D, st[2] = p.D;
    args.num_q_clusters = p.Cq, args.num_kv_clusters = p.Ckv;
    args.iterations_first = itFirst, args.iterations_warm = itWarm;
    args.top_p = topP, args.min_kept_fraction = 0.1f;
    args.state = &state;
    args.q_labels = qlab.data(), args.k_labels = klab.data();
    args.block_map = map.data();
    size_t bytes = 0;
    EXPECT_EQ(vsart_cpu_semantic_scratch_bytes(&args, &bytes), VSART_OK)
        << vsart_last_error();
    scratch.assign(bytes + 64, 0);
    // 64-byte aligned inside the vector.
    char *base = scratch.data();
    base += (64 - reinterpret_cast<uintptr_t>(base) % 64) % 64;
    args.scratch = base, args.scratch_bytes = bytes;
  }
  void call() {
    ASSERT_EQ(vsart_cpu_semantic_attention(&args), VSART_OK)
        << vsart_last_error();
  }
};

/// Naive k-means of one slice (s, d) as documented: seeds at tokens
/// c * S / C, iterations of assign (|c|^2 - 2 x.c, lower index on ties) and
/// mean update (empty clusters keep their centroid). Returns the labels of
/// the last assignment; `cent` holds the final centroids.
std::vector<int32_t> naiveKmeans(const float *x, int64_t S, int64_t D,
                                 int64_t C, int64_t iters,
                                 std::vector<float> &cent) {
  cent.assign(size_t(C * D), 0.0f);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t d = 0; d < D; ++d)
      cent[size_t(c * D + d)] = x[(c * S / C) * D + d];
  std::vector<int32_t> lab(static_cast<size_t>(S));
  for (int64_t it = 0; it < iters; ++it) {
    for (int64_t s = 0; s < S; ++s) {
      float best = INFINITY;
      for (int64_t c = 0; c < C; ++c) {
        float nn = 0.0f, dot = 0.0f;
        for (int64_t d = 0; d < D; ++d)
          nn += cent[size_t(c * D + d)] * cent[size_t(c * D + d)];
        for (int64_t d = 0; d < D; ++d)
          dot += x[s * D + d] * cent[size_t(c * D + d)];
        if (nn - 2.0f * dot < best)
          best = nn - 2.0f * dot, lab[size_t(s)] = int32_t(c);
      }
    }
    for (int64_t c = 0; c < C; ++c) {
      std::vector<double> sum(static_cast<size_t>(D), 0.0);
      int64_t n = 0;
      for (int64_t s = 0; s < S; ++s)
        if (lab[size_t(s)] == c) {
          ++n;
          for (int64_t d = 0; d < D; ++d)
            sum[size_t(d)] += x[s * D + d];
        }
      if (n > 0)
        for (int64_t d = 0; d < D; ++d)
          cent[size_t(c * D + d)] = float(sum[size_t(d)] / double(n));
    }
  }
  return lab;
}

/// Attention of every query row over the keys of the kept clusters
/// (block_map over the labels), in double.
std::vector<float> maskedReference(const Problem &p, const SemRun &r) {
  std::vector<float> out(size_t(p.B * p.H * p.S * p.D));
  const float scale = 1.0f / std::sqrt(float(p.D));
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t h = 0; h < p.H; ++h) {
      const int64_t bh = b * p.H + h, bg = b * p.Hkv + h / (p.H / p.Hkv);
      for (int64_t i = 0; i < p.S; ++i) {
        const int32_t qi = r.qlab[size_t(bh * p.S + i)];
        std::vector<double> w(static_cast<size_t>(p.S), 0.0);
        double m = -INFINITY;
        for (int64_t j = 0; j < p.S; ++j) {
          const int32_t kj = r.klab[size_t(bg * p.S + j)];
          if (!r.map[size_t((bh * p.Cq + qi) * p.Ckv + kj)]) {
            w[size_t(j)] = -INFINITY;
            continue;
          }
          double dot = 0;
          for (int64_t d = 0; d < p.D; ++d)
            dot += double(p.q[size_t((bh * p.S + i) * p.D + d)]) *
                   p.k[size_t((bg * p.S + j) * p.D + d)];
          w[size_t(j)] = dot * scale;
          m = std::max(m, w[size_t(j)]);
        }
        double sum = 0;
        std::vector<double> acc(static_cast<size_t>(p.D), 0.0);
        for (int64_t j = 0; j < p.S; ++j) {
          if (w[size_t(j)] == -INFINITY)
            continue;
          const double e = std::exp(w[size_t(j)] - m);
          sum += e;
          for (int64_t d = 0; d < p.D; ++d)
            acc[size_t(d)] += e * p.v[size_t((bg * p.S + j) * p.D + d)];
        }
        for (int64_t d = 0; d < p.D; ++d)
          out[size_t((bh * p.S + i) * p.D + d)] =
              sum > 0 ? float(acc[size_t(d)] / sum) : 0.0f;
      }
    }
  return out;
}

void expectClose(const std::vector<float> &got, const std::vector<float> &ref,
                 float tol) {
  ASSERT_EQ(got.size(), ref.size());
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - ref[i]) <= tol) && ++bad <= 5)
      ADD_FAILURE() << "[" << i << "] got " << got[i] << ", want " << ref[i];
  EXPECT_EQ(bad, 0u);
}

TEST(SemanticAttention, KmeansMatchesNaiveReference) {
  Problem p;
  p.B = 2, p.H = 2, p.Hkv = 1;
  p.fill(1);
  SemRun r(p, 0.9f, 4);
  r.call();
  EXPECT_EQ(r.state.initialized, 1);
  for (int64_t bh = 0; bh < p.B * p.H; ++bh) {
    std::vector<float> cent;
    const auto lab = naiveKmeans(p.q.data() + bh * p.S * p.D, p.S, p.D, p.Cq,
                                 4, cent);
    for (int64_t s = 0; s < p.S; ++s)
      ASSERT_EQ(r.qlab[size_t(bh * p.S + s)], lab[size_t(s)])
          << "slice " << bh << " token " << s;
    for (int64_t e = 0; e < p.Cq * p.D; ++e)
      ASSERT_NEAR(r.qc[size_t(bh * p.Cq * p.D + e)], cent[size_t(e)], 1e-5f);
  }
  for (int64_t bg = 0; bg < p.B * p.Hkv; ++bg) {
    std::vector<float> cent;
    const auto lab = naiveKmeans(p.k.data() + bg * p.S * p.D, p.S, p.D, p.Ckv,
                                 4, cent);
    for (int64_t s = 0; s < p.S; ++s)
      ASSERT_EQ(r.klab[size_t(bg * p.S + s)], lab[size_t(s)]);
    for (int64_t e = 0; e < p.Ckv * p.D; ++e)
      ASSERT_NEAR(r.kc[size_t(bg * p.Ckv * p.D + e)], cent[size_t(e)], 1e-5f);
  }
}

TEST(SemanticAttention, WarmStartContinuesTheColdRun) {
  Problem p;
  p.fill(2, 9, 1.5f); // overlapping clusters: centroids still move
  SemRun cold(p, 0.9f, 2), split(p, 0.9f, 1, 1);
  cold.call();
  split.call(); // 1 iteration from the seeds
  EXPECT_NE(cold.qc, split.qc);
  split.call(); // + 1 warm iteration
  EXPECT_EQ(cold.qc, split.qc);
  EXPECT_EQ(cold.kc, split.kc);
  EXPECT_EQ(cold.qlab, split.qlab);
  EXPECT_EQ(cold.map, split.map);
  EXPECT_EQ(0, std::memcmp(cold.out.data(), split.out.data(),
                           cold.out.size() * sizeof(float)));
  // A fresh state given the cold run's centroids and marked initialised.
  SemRun given(p, 0.9f, 50, 1);
  given.qc = split.qc, given.kc = split.kc; // same sizes: pointers stay valid
  given.state.q_centroids = given.qc.data();
  given.state.k_centroids = given.kc.data();
  given.state.initialized = 1;
  given.call();
  split.call();
  EXPECT_EQ(given.qc, split.qc);
  EXPECT_EQ(0, std::memcmp(given.out.data(), split.out.data(),
                           given.out.size() * sizeof(float)));
}

TEST(SemanticAttention, TopPOneIsDenseAttention) {
  Problem p;
  p.B = 2, p.H = 4, p.Hkv = 2, p.S = 80, p.Cq = 7, p.Ckv = 6;
  p.fill(3);
  SemRun r(p, 1.0f);
  r.call();
  for (uint8_t m : r.map)
    ASSERT_EQ(m, 1);
  std::vector<float> dense(r.out.size());
  vsart_attention_args_t a = r.args.attn;
  a.out = dense.data();
  ASSERT_EQ(vsart_cpu_attention_strided(&a), VSART_OK) << vsart_last_error();
  expectClose(r.out, dense, 1e-5f);
}

TEST(SemanticAttention, SmallTopPKeepsTheMinimumFraction) {
  Problem p;
  p.S = 200, p.Cq = 8, p.Ckv = 20;
  p.fill(4, 20, 0.1f);
  for (float frac : {0.1f, 0.25f, 0.0f}) {
    SemRun r(p, 0.01f);
    r.args.min_kept_fraction = frac;
    r.call();
    const int64_t want = std::max<int64_t>(1, int64_t(std::ceil(frac * 20)));
    int64_t least = p.Ckv;
    for (int64_t l = 0; l < p.B * p.H * p.Cq; ++l) {
      int64_t kept = 0;
      for (int64_t j = 0; j < p.Ckv; ++j) {
        ASSERT_LE(r.map[size_t(l * p.Ckv + j)], 1);
        kept += r.map[size_t(l * p.Ckv + j)];
      }
      EXPECT_GE(kept, want) << "fraction " << frac << " list " << l;
      least = std::min(least, kept);
    }
    EXPECT_EQ(least, want) << "fraction " << frac; // top_p adds little here
    expectClose(r.out, maskedReference(p, r), 2e-5f);
  }
}

TEST(SemanticAttention, MatchesMaskedAttentionAtDefaultTopP) {
  Problem p;
  p.B = 2, p.H = 4, p.Hkv = 2, p.S = 120, p.Cq = 8, p.Ckv = 10;
  p.fill(5, 10, 0.5f);
  SemRun r(p, 0.9f);
  r.call();
  size_t kept = 0;
  for (uint8_t m : r.map)
    kept += m;
  EXPECT_LT(kept, r.map.size()); // something was dropped
  expectClose(r.out, maskedReference(p, r), 2e-5f);
}

TEST(SemanticAttention, BatchTwoEqualsTwoBatchOneCalls) {
  Problem p2;
  p2.B = 2, p2.H = 2, p2.Hkv = 2;
  p2.fill(6, 7, 0.4f);
  SemRun r2(p2);
  r2.call();
  r2.call(); // a warm call too
  const size_t qn = size_t(p2.H * p2.S * p2.D), kn = size_t(p2.Hkv * p2.S * p2.D);
  for (int64_t b = 0; b < 2; ++b) {
    Problem p1 = p2;
    p1.B = 1;
    p1.q.assign(p2.q.begin() + b * qn, p2.q.begin() + (b + 1) * qn);
    p1.k.assign(p2.k.begin() + b * kn, p2.k.begin() + (b + 1) * kn);
    p1.v.assign(p2.v.begin() + b * kn, p2.v.begin() + (b + 1) * kn);
    SemRun r1(p1);
    r1.call();
    r1.call();
    EXPECT_EQ(0, std::memcmp(r1.out.data(), r2.out.data() + b * qn,
                             qn * sizeof(float)))
        << "batch " << b;
    const size_t cn = size_t(p2.H * p2.Cq * p2.D);
    EXPECT_TRUE(std::equal(r1.qc.begin(), r1.qc.end(), r2.qc.begin() + b * cn));
  }
}

TEST(SemanticAttention, SameBitsForAnyThreadCount) {
  Problem p;
  p.B = 2, p.H = 4, p.Hkv = 2, p.S = 300, p.Cq = 9, p.Ckv = 11;
  p.fill(7, 12, 0.5f);
  std::vector<std::vector<float>> outs, cents;
  for (int32_t threads : {1, 3, 8}) {
    vsart_set_num_threads(threads);
    SemRun r(p);
    r.call();
    r.call();
    outs.push_back(r.out), cents.push_back(r.qc);
  }
  vsart_set_num_threads(0);
  for (size_t i = 1; i < outs.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(outs[0].data(), outs[i].data(),
                             outs[0].size() * sizeof(float)));
    EXPECT_EQ(cents[0], cents[i]);
  }
}

TEST(SemanticAttention, StridedLayoutMatchesContiguous) {
  Problem p;
  p.H = 2, p.Hkv = 2;
  p.fill(8);
  SemRun ref(p);
  ref.call();
  // (b, s, h, d) copies of q, k, v and out.
  auto toBshd = [&](const std::vector<float> &x, int64_t heads) {
    std::vector<float> y(x.size());
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t s = 0; s < p.S; ++s)
        for (int64_t d = 0; d < p.D; ++d)
          y[size_t((s * heads + h) * p.D + d)] = x[size_t((h * p.S + s) * p.D + d)];
    return y;
  };
  Problem t = p;
  t.q = toBshd(p.q, p.H), t.k = toBshd(p.k, p.Hkv), t.v = toBshd(p.v, p.Hkv);
  SemRun r(t);
  for (int64_t *st : {r.args.attn.q_strides, r.args.attn.k_strides,
                      r.args.attn.v_strides, r.args.attn.out_strides})
    st[0] = p.S * p.H * p.D, st[1] = p.D, st[2] = p.H * p.D;
  r.call();
  EXPECT_EQ(r.out, toBshd(ref.out, p.H));
  EXPECT_EQ(r.qc, ref.qc);
}

TEST(SemanticAttention, RejectsBadArguments) {
  Problem p;
  p.fill(9);
  auto expectError = [&](const char *what, auto mutate) {
    SemRun r(p);
    mutate(r);
    EXPECT_EQ(vsart_cpu_semantic_attention(&r.args),
              VSART_ERROR_INVALID_ARGUMENT)
        << what;
    EXPECT_NE(std::string(vsart_last_error()).find(what), std::string::npos)
        << vsart_last_error();
    EXPECT_EQ(r.state.initialized, 0) << what;
  };
  EXPECT_EQ(vsart_cpu_semantic_attention(nullptr), VSART_ERROR_INVALID_ARGUMENT);
  float mask = 0;
  expectError("masks are not supported",
              [&](SemRun &r) { r.args.attn.mask = &mask; });
  expectError("must equal seq_kv", [](SemRun &r) { r.args.attn.seq_kv -= 1; });
  expectError("multiple of num_kv_heads",
              [](SemRun &r) { r.args.attn.num_kv_heads = 3; });
  expectError("cluster counts", [](SemRun &r) { r.args.num_q_clusters = 0; });
  expectError("cluster counts",
              [&](SemRun &r) { r.args.num_kv_clusters = p.S + 1; });
  expectError("iterations", [](SemRun &r) { r.args.iterations_first = 0; });
  expectError("iterations", [](SemRun &r) { r.args.iterations_warm = 0; });
  expectError("top_p", [](SemRun &r) { r.args.top_p = 0.0f; });
  expectError("top_p", [](SemRun &r) { r.args.top_p = 1.5f; });
  expectError("top_p", [](SemRun &r) { r.args.top_p = NAN; });
  expectError("min_kept_fraction",
              [](SemRun &r) { r.args.min_kept_fraction = -0.1f; });
  expectError("null pointer", [](SemRun &r) { r.args.attn.v = nullptr; });
  expectError("null state", [](SemRun &r) { r.args.state = nullptr; });
  expectError("null state",
              [](SemRun &r) { r.state.k_centroids = nullptr; });
  expectError("scratch", [](SemRun &r) { r.args.scratch_bytes -= 1; });
  expectError("scratch", [](SemRun &r) { r.args.scratch = nullptr; });
  size_t bytes = 0;
  SemRun r(p);
  EXPECT_EQ(vsart_cpu_semantic_scratch_bytes(&r.args, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  r.args.top_p = 2.0f;
  EXPECT_EQ(vsart_cpu_semantic_scratch_bytes(&r.args, &bytes),
            VSART_ERROR_INVALID_ARGUMENT);
  // Nothing to do: batch 0 needs no pointers and leaves the state alone.
  SemRun empty(p);
  empty.args.attn.batch = 0;
  empty.args.attn.q = nullptr;
  empty.args.state = nullptr;
  EXPECT_EQ(vsart_cpu_semantic_attention(&empty.args), VSART_OK)
      << vsart_last_error();
}

} // namespace

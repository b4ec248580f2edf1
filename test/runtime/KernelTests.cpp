// CPU kernels against naive double-precision references written here.
#include "vsart.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

const float kNegInf = -std::numeric_limits<float>::infinity();

using vsart_test::randomVec;

double geluTanhRef(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) *
                                    (x + 0.044715 * x * x * x)));
}
double geluErfRef(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

void expectClose(const std::vector<float> &got, const std::vector<double> &ref,
                 double tol, const char *what) {
  ASSERT_EQ(got.size(), ref.size());
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - ref[i]) <= tol * (1.0 + std::fabs(ref[i])))) {
      if (++bad <= 5)
        ADD_FAILURE() << what << " [" << i << "]: got " << got[i]
                      << ", expected " << ref[i];
    }
  EXPECT_EQ(bad, 0u) << what;
}

// Restores the default thread count after a test changes it.
struct ThreadGuard {
  ~ThreadGuard() { vsart_set_num_threads(0); }
};

// ---- gemm ------------------------------------------------------------------

struct GemmCase {
  int64_t m, n, k;
  int ta, tb;
  float alpha, beta;
  bool bias;
  vsart_epilogue_t epi;
  int64_t pad; // extra leading-dimension padding
};

std::vector<float> runGemm(const GemmCase &c, std::vector<double> *ref) {
  const int64_t lda = (c.ta ? c.m : c.k) + c.pad, ldb = (c.tb ? c.k : c.n) + c.pad;
  const int64_t ldc = c.n + c.pad;
  auto a = randomVec(size_t((c.ta ? c.k : c.m) * lda), 1);
  auto b = randomVec(size_t((c.tb ? c.n : c.k) * ldb), 2);
  auto cm = randomVec(size_t(c.m * ldc), 3);
  auto bias = randomVec(size_t(c.n), 4);
  if (ref) {
    ref->assign(cm.begin(), cm.end());
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < c.k; ++p)
          s += double(c.ta ? a[p * lda + i] : a[i * lda + p]) *
               double(c.tb ? b[j * ldb + p] : b[p * ldb + j]);
        double v = c.alpha * s + (c.beta != 0 ? c.beta * cm[i * ldc + j] : 0) +
                   (c.bias ? bias[j] : 0);
        if (c.epi == VSART_EPILOGUE_GELU_TANH)
          v = geluTanhRef(v);
        else if (c.epi == VSART_EPILOGUE_GELU_ERF)
          v = geluErfRef(v);
        (*ref)[i * ldc + j] = v;
      }
  }
  EXPECT_EQ(vsart_cpu_gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a.data(), lda,
                           b.data(), ldb, c.beta, cm.data(), ldc,
                           c.bias ? bias.data() : nullptr, c.epi),
            VSART_OK);
  return cm;
}

TEST(Gemm, MatchesReference) {
  const GemmCase cases[] = {
      {1, 1, 1, 0, 0, 1.0f, 0.0f, false, VSART_EPILOGUE_NONE, 0},
      {7, 5, 3, 0, 0, 1.0f, 0.0f, false, VSART_EPILOGUE_NONE, 0},
      {13, 17, 19, 1, 0, 0.5f, 0.0f, true, VSART_EPILOGUE_NONE, 3},
      {13, 17, 19, 0, 1, 1.0f, 2.0f, false, VSART_EPILOGUE_GELU_TANH, 1},
      {13, 17, 19, 1, 1, -1.5f, 0.25f, true, VSART_EPILOGUE_GELU_ERF, 0},
      {70, 300, 270, 0, 0, 1.0f, 1.0f, true, VSART_EPILOGUE_GELU_TANH, 0},
      {129, 257, 513, 1, 1, 0.125f, 0.0f, true, VSART_EPILOGUE_GELU_ERF, 5},
      {65, 33, 0, 0, 0, 1.0f, 1.0f, true, VSART_EPILOGUE_NONE, 0}, // k == 0
  };
  for (const GemmCase &c : cases) {
    SCOPED_TRACE(testing::Message() << "m=" << c.m << " n=" << c.n << " k=" << c.k
                                    << " ta=" << c.ta << " tb=" << c.tb);
    std::vector<double> ref;
    std::vector<float> got = runGemm(c, &ref);
    expectClose(got, ref, 1e-5 * std::sqrt(double(c.k) + 1) * 4, "gemm");
  }
}

TEST(Gemm, BetaZeroIgnoresNaNInC) {
  std::vector<float> a = {1, 2}, b = {3, 4}, c = {NAN};
  ASSERT_EQ(vsart_cpu_gemm(0, 0, 1, 1, 2, 1.0f, a.data(), 2, b.data(), 1, 0.0f,
                           c.data(), 1, nullptr, VSART_EPILOGUE_NONE),
            VSART_OK);
  EXPECT_EQ(c[0], 11.0f);
}

TEST(Gemm, RejectsBadArguments) {
  float x[4] = {};
  EXPECT_EQ(vsart_cpu_gemm(0, 0, 2, 2, 2, 1, x, 1, x, 2, 0, x, 2, nullptr,
                           VSART_EPILOGUE_NONE),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_gemm(0, 0, 2, 2, 2, 1, x, 2, x, 2, 0, x, 2, nullptr,
                           static_cast<vsart_epilogue_t>(3)),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STRNE(vsart_last_error(), "");
}

// ---- attention -------------------------------------------------------------

struct AttnCase {
  int64_t b, h, hkv, sq, skv, d;
  int64_t mask[4]; // mask dims; mask[0] == 0 means no mask
  bool maskRows;   // fully mask some query rows
};

void attentionRef(const AttnCase &c, const std::vector<float> &q,
                  const std::vector<float> &k, const std::vector<float> &v,
                  const std::vector<float> &mask, float scale,
                  std::vector<double> &out) {
  out.assign(size_t(c.b * c.h * c.sq * c.d), 0.0);
  const int64_t full[4] = {c.b, c.h, c.sq, c.skv};
  std::vector<double> s(size_t(c.skv));
  for (int64_t b = 0; b < c.b; ++b)
    for (int64_t h = 0; h < c.h; ++h) {
      const int64_t g = h / (c.h / c.hkv);
      for (int64_t i = 0; i < c.sq; ++i) {
        double mx = -INFINITY;
        for (int64_t j = 0; j < c.skv; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < c.d; ++d)
            dot += double(q[((b * c.h + h) * c.sq + i) * c.d + d]) *
                   k[((b * c.hkv + g) * c.skv + j) * c.d + d];
          s[j] = dot * scale;
          if (c.mask[0]) {
            const int64_t idx[4] = {b, h, i, j};
            int64_t off = 0;
            for (int e = 0; e < 4; ++e)
              off = off * c.mask[e] + (c.mask[e] == 1 ? 0 : idx[e]);
            (void)full;
            s[j] += mask[off];
          }
          mx = std::max(mx, s[j]);
        }
        if (mx == -INFINITY)
          continue; // all keys masked: 0
        double sum = 0;
        for (int64_t j = 0; j < c.skv; ++j)
          sum += (s[j] = std::exp(s[j] - mx));
        for (int64_t j = 0; j < c.skv; ++j)
          for (int64_t d = 0; d < c.d; ++d)
            out[((b * c.h + h) * c.sq + i) * c.d + d] +=
                s[j] / sum * v[((b * c.hkv + g) * c.skv + j) * c.d + d];
      }
    }
}

struct AttnInputs {
  std::vector<float> q, k, v, mask;
};

/// Contiguous (b, h, s, d) inputs of case c; mask is empty without one.
AttnInputs attnInputs(const AttnCase &c) {
  auto q = randomVec(size_t(c.b * c.h * c.sq * c.d), 11, -2, 2);
  auto k = randomVec(size_t(c.b * c.hkv * c.skv * c.d), 12, -2, 2);
  auto v = randomVec(size_t(c.b * c.hkv * c.skv * c.d), 13);
  std::vector<float> mask;
  if (c.mask[0]) {
    mask = randomVec(size_t(c.mask[0] * c.mask[1] * c.mask[2] * c.mask[3]), 14,
                     -3, 1);
    std::mt19937 rng(15);
    for (float &m : mask) // sprinkle -inf
      if (rng() % 5 == 0)
        m = kNegInf;
    if (c.maskRows && c.mask[2] > 1) // fully mask query rows 0 and 3
      for (int64_t r = 0; r < c.mask[0] * c.mask[1]; ++r)
        for (int64_t i : {int64_t(0), int64_t(3)})
          if (i < c.mask[2])
            for (int64_t j = 0; j < c.mask[3]; ++j)
              mask[(r * c.mask[2] + i) * c.mask[3] + j] = kNegInf;
  }
  return {q, k, v, mask};
}

std::vector<float> runAttention(const AttnCase &c, std::vector<double> *ref) {
  const AttnInputs in = attnInputs(c);
  const std::vector<float> &q = in.q, &k = in.k, &v = in.v, &mask = in.mask;
  const float scale = 1.0f / std::sqrt(float(c.d));
  if (ref)
    attentionRef(c, q, k, v, mask, scale, *ref);
  std::vector<float> out(size_t(c.b * c.h * c.sq * c.d), 42.0f);
  EXPECT_EQ(vsart_cpu_attention(q.data(), k.data(), v.data(), out.data(), c.b,
                                c.h, c.hkv, c.sq, c.skv, c.d, scale,
                                c.mask[0] ? mask.data() : nullptr,
                                c.mask[0] ? c.mask : nullptr),
            VSART_OK)
      << vsart_last_error();
  return out;
}

const AttnCase kAttnCases[] = {
    {1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, false},
    {2, 4, 2, 37, 70, 16, {0, 0, 0, 0}, false},
    {1, 3, 3, 5, 129, 7, {1, 3, 5, 129}, false},
    {2, 6, 2, 65, 66, 8, {2, 6, 65, 66}, true},
    {2, 4, 1, 40, 100, 12, {1, 1, 40, 100}, true},
    {3, 2, 2, 33, 17, 5, {3, 1, 1, 17}, false},
    {1, 2, 1, 9, 1, 4, {1, 2, 9, 1}, true}, // single key, rows fully masked
    {1, 2, 2, 4, 0, 3, {0, 0, 0, 0}, false}, // no keys: zeros
};

TEST(Attention, MatchesReference) {
  for (const AttnCase &c : kAttnCases) {
    SCOPED_TRACE(testing::Message() << "B=" << c.b << " H=" << c.h << "/" << c.hkv
                                    << " S=" << c.sq << "x" << c.skv << " D=" << c.d);
    std::vector<double> ref;
    std::vector<float> got = runAttention(c, &ref);
    expectClose(got, ref, 2e-5, "attention");
  }
}

TEST(Attention, FullyMaskedRowsAreZero) {
  const AttnCase c = {2, 6, 2, 65, 66, 8, {2, 6, 65, 66}, true};
  std::vector<float> out = runAttention(c, nullptr);
  for (int64_t r = 0; r < c.b * c.h; ++r)
    for (int64_t i : {0, 3})
      for (int64_t d = 0; d < c.d; ++d)
        EXPECT_EQ(out[size_t((r * c.sq + i) * c.d + d)], 0.0f);
}

TEST(Attention, RejectsBadArguments) {
  float x[64] = {};
  const int64_t badMask[4] = {1, 2, 3, 4};
  EXPECT_EQ(vsart_cpu_attention(x, x, x, x, 1, 3, 2, 2, 2, 2, 1.0f, nullptr,
                                nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_attention(x, x, x, x, 1, 2, 2, 2, 2, 2, 1.0f, x, badMask),
            VSART_ERROR_INVALID_ARGUMENT);
}

// ---- strided attention ------------------------------------------------------

/// (b, n1, n2, d) -> (b, n2, n1, d): swaps the head and sequence axes.
std::vector<float> swapAxes(const std::vector<float> &x, int64_t b, int64_t n1,
                            int64_t n2, int64_t d) {
  std::vector<float> y(x.size());
  for (int64_t i = 0; i < b; ++i)
    for (int64_t p = 0; p < n1; ++p)
      for (int64_t r = 0; r < n2; ++r)
        std::copy_n(&x[size_t(((i * n1 + p) * n2 + r) * d)], d,
                    &y[size_t(((i * n2 + r) * n1 + p) * d)]);
  return y;
}

void setStrides(int64_t out[3], int64_t s0, int64_t s1, int64_t s2) {
  out[0] = s0, out[1] = s1, out[2] = s2;
}

vsart_attention_args_t argsOf(const AttnCase &c) {
  vsart_attention_args_t a = {};
  a.batch = c.b, a.num_heads = c.h, a.num_kv_heads = c.hkv;
  a.seq_q = c.sq, a.seq_kv = c.skv, a.head_dim = c.d;
  a.scale = 1.0f / std::sqrt(float(c.d));
  for (int i = 0; i < 4; ++i)
    a.mask_dims[i] = c.mask[i];
  return a;
}

// The (batch, seq, heads, dim) layout gives the same bits as the contiguous
// (batch, heads, seq, dim) one: same blocks, same reduction order.
TEST(AttentionStrided, BshdMatchesContiguous) {
  for (const AttnCase &c : kAttnCases) {
    SCOPED_TRACE(testing::Message() << "B=" << c.b << " H=" << c.h << "/" << c.hkv
                                    << " S=" << c.sq << "x" << c.skv << " D=" << c.d);
    const AttnInputs in = attnInputs(c);
    const std::vector<float> expect = runAttention(c, nullptr);
    auto q = swapAxes(in.q, c.b, c.h, c.sq, c.d);
    auto k = swapAxes(in.k, c.b, c.hkv, c.skv, c.d);
    auto v = swapAxes(in.v, c.b, c.hkv, c.skv, c.d);
    std::vector<float> out(q.size(), 42.0f);
    vsart_attention_args_t a = argsOf(c);
    a.q = q.data(), a.k = k.data(), a.v = v.data(), a.out = out.data();
    a.mask = c.mask[0] ? in.mask.data() : nullptr;
    setStrides(a.q_strides, c.sq * c.h * c.d, c.d, c.h * c.d);
    setStrides(a.out_strides, c.sq * c.h * c.d, c.d, c.h * c.d);
    setStrides(a.k_strides, c.skv * c.hkv * c.d, c.d, c.hkv * c.d);
    setStrides(a.v_strides, c.skv * c.hkv * c.d, c.d, c.hkv * c.d);
    ASSERT_EQ(vsart_cpu_attention_strided(&a), VSART_OK) << vsart_last_error();
    const std::vector<float> got = swapAxes(out, c.b, c.sq, c.h, c.d);
    ASSERT_EQ(got.size(), expect.size());
    EXPECT_EQ(0, std::memcmp(got.data(), expect.data(), got.size() * 4));
  }
}

// q, k, v interleaved in one (b, s, 3, h, d) buffer (a fused QKV projection)
// and the output written with padded rows: only the strides differ.
TEST(AttentionStrided, FusedQkvAndPaddedOutput) {
  const AttnCase c = {2, 3, 3, 45, 45, 16, {2, 1, 45, 45}, true};
  const int64_t hd = c.h * c.d, pad = 3, od = c.d + pad;
  const AttnInputs in = attnInputs(c);
  const std::vector<float> expect = runAttention(c, nullptr);
  std::vector<float> qkv(size_t(c.b * c.sq * 3 * hd));
  const std::vector<float> *parts[3] = {&in.q, &in.k, &in.v};
  for (int part = 0; part < 3; ++part) {
    auto bshd = swapAxes(*parts[part], c.b, c.h, c.sq, c.d);
    for (int64_t row = 0; row < c.b * c.sq; ++row)
      std::copy_n(&bshd[size_t(row * hd)], hd, &qkv[size_t((row * 3 + part) * hd)]);
  }
  std::vector<float> out(size_t(c.b * c.sq * c.h * od), 42.0f);
  vsart_attention_args_t a = argsOf(c);
  a.q = qkv.data(), a.k = qkv.data() + hd, a.v = qkv.data() + 2 * hd;
  a.out = out.data();
  a.mask = in.mask.data();
  for (int64_t *st : {a.q_strides, a.k_strides, a.v_strides})
    setStrides(st, c.sq * 3 * hd, c.d, 3 * hd);
  setStrides(a.out_strides, c.sq * c.h * od, od, c.h * od);
  ASSERT_EQ(vsart_cpu_attention_strided(&a), VSART_OK) << vsart_last_error();
  for (int64_t b = 0; b < c.b; ++b)
    for (int64_t h = 0; h < c.h; ++h)
      for (int64_t i = 0; i < c.sq; ++i)
        for (int64_t d = 0; d < od; ++d) {
          const float got = out[size_t(((b * c.sq + i) * c.h + h) * od + d)];
          if (d >= c.d) // padding is never written
            ASSERT_EQ(got, 42.0f);
          else
            ASSERT_EQ(got, expect[size_t(((b * c.h + h) * c.sq + i) * c.d + d)]);
        }
}

TEST(AttentionStrided, RejectsBadArguments) {
  EXPECT_EQ(vsart_cpu_attention_strided(nullptr), VSART_ERROR_INVALID_ARGUMENT);
  float x[64] = {};
  vsart_attention_args_t a = argsOf({1, 2, 2, 2, 2, 2, {1, 2, 3, 4}, false});
  a.q = a.k = a.v = a.out = x;
  a.mask = x; // dim 2 (3) is neither 1 nor seq_q (2)
  EXPECT_EQ(vsart_cpu_attention_strided(&a), VSART_ERROR_INVALID_ARGUMENT);
  a.mask = nullptr, a.q = nullptr;
  EXPECT_EQ(vsart_cpu_attention_strided(&a), VSART_ERROR_INVALID_ARGUMENT);
}

/// x rounded to E4M3 at `multiplier` (vsart_cpu_quantize_rows on one value
/// with a fixed scale is not available, so through the byte table).
float e4m3At(float x, float multiplier) {
  // vsart_cpu_quantize_rows of the row {x, 448 / multiplier} keeps
  // max |row| = 448 / multiplier whenever |x| <= it, i.e. the multiplier.
  const float row[2] = {x, 448.0f / multiplier};
  uint8_t q[2];
  float scale;
  EXPECT_EQ(vsart_cpu_quantize_rows(row, 1, 2, 2, q, &scale), VSART_OK);
  return vsart_e4m3_to_float(q[0]) * scale;
}

// FP8 attention on the CPU: per-tensor E4M3 q, k and v, fp32 scores and
// softmax, its numerators rounded as x * 448, the output rounded with v's
// scale; checked
// against a plain double-precision evaluation of those rules (GQA, bshd
// strides), and within a few percent of exact attention.
TEST(AttentionStrided, Fp8RoundsQkvPAndOutput) {
  const AttnCase c = {2, 4, 2, 9, 23, 16, {0, 0, 0, 0}, false};
  const AttnInputs in = attnInputs(c);
  auto tensorScale = [](const std::vector<float> &x) { // 448 / max |x|
    float m = 0.0f;
    for (float e : x)
      m = std::max(m, std::fabs(e));
    return 448.0f / m;
  };
  const float mq = tensorScale(in.q), mk = tensorScale(in.k),
              mv = tensorScale(in.v);
  const float scale = 1.0f / std::sqrt(float(c.d));
  std::vector<float> ref(in.q.size());
  for (int64_t b = 0; b < c.b; ++b)
    for (int64_t h = 0; h < c.h; ++h)
      for (int64_t i = 0; i < c.sq; ++i) {
        const int64_t g = h / (c.h / c.hkv);
        std::vector<double> s(size_t(c.skv));
        double mx = -1e300, z = 0;
        for (int64_t j = 0; j < c.skv; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < c.d; ++d)
            dot += double(e4m3At(in.q[size_t(((b * c.h + h) * c.sq + i) * c.d + d)], mq)) *
                   e4m3At(in.k[size_t(((b * c.hkv + g) * c.skv + j) * c.d + d)], mk);
          s[size_t(j)] = dot * scale;
          mx = std::max(mx, s[size_t(j)]);
        }
        for (double &e : s)
          z += (e = std::exp(e - mx));
        for (int64_t d = 0; d < c.d; ++d) {
          double o = 0;
          for (int64_t j = 0; j < c.skv; ++j)
            o += double(e4m3At(float(s[size_t(j)]), 448.0f)) *
                 e4m3At(in.v[size_t(((b * c.hkv + g) * c.skv + j) * c.d + d)], mv);
          ref[size_t(((b * c.sq + i) * c.h + h) * c.d + d)] =
              e4m3At(float(o / z), mv);
        }
      }
  // The same tensors stored (b, s, h, d).
  auto q = swapAxes(in.q, c.b, c.h, c.sq, c.d);
  auto k = swapAxes(in.k, c.b, c.hkv, c.skv, c.d);
  auto v = swapAxes(in.v, c.b, c.hkv, c.skv, c.d);
  std::vector<float> out(q.size(), 42.0f), exact(q.size());
  vsart_attention_args_t a = argsOf(c);
  a.q = q.data(), a.k = k.data(), a.v = v.data(), a.out = out.data();
  setStrides(a.q_strides, c.sq * c.h * c.d, c.d, c.h * c.d);
  setStrides(a.out_strides, c.sq * c.h * c.d, c.d, c.h * c.d);
  setStrides(a.k_strides, c.skv * c.hkv * c.d, c.d, c.hkv * c.d);
  setStrides(a.v_strides, c.skv * c.hkv * c.d, c.d, c.hkv * c.d);
  a.fp8 = 1;
  ASSERT_EQ(vsart_cpu_attention_strided(&a), VSART_OK) << vsart_last_error();
  // Sums in float against double may flip a rounding: one E4M3 step (1/8
  // of the value) at most, in a few elements (the scales themselves may
  // differ in their last bit: 448 / (448 / m) need not be m).
  size_t flips = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_LE(std::fabs(out[i] - ref[i]), std::fabs(ref[i]) / 8 + 1e-6) << i;
    flips += std::fabs(out[i] - ref[i]) > 1e-5f * std::fabs(ref[i]) + 1e-7f;
  }
  EXPECT_LE(flips, out.size() / 50);
  a.fp8 = 0, a.out = exact.data();
  ASSERT_EQ(vsart_cpu_attention_strided(&a), VSART_OK) << vsart_last_error();
  EXPECT_LT(vsart_test::relL2(out, exact), 6e-2);
  EXPECT_GT(vsart_test::relL2(out, exact), 1e-3) << "FP8 cannot be exact";
}

// FP8 is the dense strided attention's only, and takes no mask.
TEST(AttentionStrided, Fp8RejectsMaskAndOtherKernels) {
  float x[64] = {}, lse[4];
  vsart_attention_args_t a = argsOf({1, 2, 2, 2, 2, 2, {1, 1, 1, 1}, false});
  a.q = a.k = a.v = a.out = x;
  a.fp8 = 1, a.mask = x;
  EXPECT_EQ(vsart_cpu_attention_strided(&a), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("no mask"), std::string::npos);
  a.mask = nullptr;
  EXPECT_EQ(vsart_cpu_attention_lse(&a, lse), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("only the dense"),
            std::string::npos);
  const int64_t offsets[2] = {0, 2}, listOffsets[2] = {0, 1};
  const int32_t lists[1] = {0};
  vsart_block_sparse_args_t b = {};
  b.attn = a, b.num_q_blocks = b.num_kv_blocks = 1;
  b.q_block_offsets = b.kv_block_offsets = offsets;
  b.list_offsets = listOffsets, b.lists = lists;
  EXPECT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_ERROR_INVALID_ARGUMENT);
  a.fp8 = 0;
  EXPECT_EQ(vsart_cpu_attention_strided(&a), VSART_OK) << vsart_last_error();
}

// ---- norms, softmax, modulation, gelu --------------------------------------

TEST(Norm, LayerNormMatchesReference) {
  for (auto [rows, dim] : {std::pair<int64_t, int64_t>{1, 1}, {7, 13}, {33, 1025}}) {
    for (int variant = 0; variant < 3; ++variant) {
      auto x = randomVec(size_t(rows * dim), 21, -3, 5);
      auto scale = randomVec(size_t(dim), 22), bias = randomVec(size_t(dim), 23);
      const float *sp = variant >= 1 ? scale.data() : nullptr;
      const float *bp = variant >= 2 ? bias.data() : nullptr;
      std::vector<double> ref(x.size());
      for (int64_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (int64_t i = 0; i < dim; ++i)
          mean += x[r * dim + i];
        mean /= dim;
        for (int64_t i = 0; i < dim; ++i)
          var += (x[r * dim + i] - mean) * (x[r * dim + i] - mean);
        var /= dim;
        for (int64_t i = 0; i < dim; ++i)
          ref[r * dim + i] = (x[r * dim + i] - mean) / std::sqrt(var + 1e-5) *
                                 (sp ? sp[i] : 1.0) + (bp ? bp[i] : 0.0);
      }
      std::vector<float> out(x.size());
      ASSERT_EQ(vsart_cpu_layer_norm(x.data(), out.data(), rows, dim, sp, bp, 1e-5f),
                VSART_OK);
      expectClose(out, ref, 1e-4, "layer_norm");
      // In place gives the same bits.
      ASSERT_EQ(vsart_cpu_layer_norm(x.data(), x.data(), rows, dim, sp, bp, 1e-5f),
                VSART_OK);
      EXPECT_EQ(0, std::memcmp(x.data(), out.data(), x.size() * sizeof(float)));
    }
  }
}

TEST(Norm, RmsNormMatchesReference) {
  for (auto [rows, dim] : {std::pair<int64_t, int64_t>{1, 1}, {9, 31}, {17, 3072}}) {
    auto x = randomVec(size_t(rows * dim), 31, -2, 2);
    auto scale = randomVec(size_t(dim), 32), bias = randomVec(size_t(dim), 33);
    for (bool withBias : {false, true}) {
      std::vector<double> ref(x.size());
      for (int64_t r = 0; r < rows; ++r) {
        double ms = 0;
        for (int64_t i = 0; i < dim; ++i)
          ms += double(x[r * dim + i]) * x[r * dim + i];
        double inv = 1.0 / std::sqrt(ms / dim + 1e-6);
        for (int64_t i = 0; i < dim; ++i)
          ref[r * dim + i] = x[r * dim + i] * inv * scale[i] + (withBias ? bias[i] : 0.0);
      }
      std::vector<float> out(x.size());
      ASSERT_EQ(vsart_cpu_rms_norm(x.data(), out.data(), rows, dim, scale.data(),
                                   withBias ? bias.data() : nullptr, 1e-6f),
                VSART_OK);
      expectClose(out, ref, 1e-4, "rms_norm");
    }
  }
}

TEST(Softmax, MatchesReferenceWithMaskedRows) {
  const int64_t rows = 11, dim = 37;
  auto x = randomVec(size_t(rows * dim), 41, -10, 10);
  for (int64_t i = 0; i < dim; ++i)
    x[size_t(2 * dim + i)] = kNegInf; // fully masked row -> 0
  for (int64_t i = 0; i < dim; i += 2)
    x[size_t(5 * dim + i)] = kNegInf; // partially masked row
  std::vector<double> ref(x.size(), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < dim; ++i)
      mx = std::max(mx, double(x[r * dim + i]));
    if (mx == -INFINITY)
      continue;
    for (int64_t i = 0; i < dim; ++i)
      sum += std::exp(x[r * dim + i] - mx);
    for (int64_t i = 0; i < dim; ++i)
      ref[r * dim + i] = std::exp(x[r * dim + i] - mx) / sum;
  }
  std::vector<float> out(x.size());
  ASSERT_EQ(vsart_cpu_softmax(x.data(), out.data(), rows, dim), VSART_OK);
  expectClose(out, ref, 1e-5, "softmax");
}

TEST(Elementwise, ModulateMatchesReference) {
  const int64_t b = 3, s = 7, d = 19;
  auto x = randomVec(size_t(b * s * d), 51);
  auto shift = randomVec(size_t(b * d), 52), scale = randomVec(size_t(b * d), 53);
  for (int variant = 0; variant < 3; ++variant) {
    const float *sh = variant != 1 ? shift.data() : nullptr;
    const float *sc = variant != 2 ? scale.data() : nullptr;
    std::vector<double> ref(x.size());
    for (int64_t bi = 0; bi < b; ++bi)
      for (int64_t si = 0; si < s; ++si)
        for (int64_t i = 0; i < d; ++i)
          ref[(bi * s + si) * d + i] = x[(bi * s + si) * d + i] *
                                           (1.0 + (sc ? sc[bi * d + i] : 0.0)) +
                                       (sh ? sh[bi * d + i] : 0.0);
    std::vector<float> out(x.size());
    ASSERT_EQ(vsart_cpu_modulate(x.data(), sh, sc, out.data(), b, s, d), VSART_OK);
    expectClose(out, ref, 1e-6, "modulate");
  }
}

// A norm with the modulation fused equals the norm, then the modulation,
// for every combination of affine and modulation operands (bitwise: the
// same fp32 operations in the same order).
TEST(Norm, NormModulateEqualsNormThenModulate) {
  const int64_t b = 3, s = 5, d = 24;
  auto x = randomVec(size_t(b * s * d), 71, -3, 3);
  auto scale = randomVec(size_t(d), 72), bias = randomVec(size_t(d), 73);
  auto shift = randomVec(size_t(b * d), 74), mscale = randomVec(size_t(b * d), 75);
  for (bool layer : {true, false})
    for (int variant = 0; variant < 4; ++variant) {
      const float *sh = variant & 1 ? shift.data() : nullptr;
      const float *sc = variant & 2 ? mscale.data() : nullptr;
      const float *bp = layer ? bias.data() : nullptr;
      std::vector<float> normed(x.size()), ref(x.size()), out(x.size());
      auto norm = layer ? vsart_cpu_layer_norm : vsart_cpu_rms_norm;
      auto fused = layer ? vsart_cpu_layer_norm_modulate : vsart_cpu_rms_norm_modulate;
      ASSERT_EQ(norm(x.data(), normed.data(), b * s, d, scale.data(), bp, 1e-6f),
                VSART_OK);
      ASSERT_EQ(vsart_cpu_modulate(normed.data(), sh, sc, ref.data(), b, s, d),
                VSART_OK);
      ASSERT_EQ(fused(x.data(), out.data(), b, s, d, scale.data(), bp, 1e-6f, sh, sc),
                VSART_OK);
      EXPECT_EQ(0, std::memcmp(out.data(), ref.data(), out.size() * sizeof(float)))
          << (layer ? "layer" : "rms") << " variant " << variant;
    }
  float y = 0;
  EXPECT_EQ(vsart_cpu_layer_norm_modulate(&y, &y, -1, 1, 1, nullptr, nullptr,
                                          1e-6f, nullptr, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_rms_norm_modulate(nullptr, &y, 1, 1, 1, nullptr, nullptr,
                                        1e-6f, nullptr, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
}

// The norm with interleaved RoPE equals the norm, then RoPE, in both output
// layouts (bitwise: the same fp32 operations).
TEST(Norm, NormRopeEqualsNormThenRope) {
  const int64_t b = 2, s = 5, h = 3, d = 8, dim = h * d;
  auto x = randomVec(size_t(b * s * dim), 91, -3, 3);
  auto scale = randomVec(size_t(dim), 92), bias = randomVec(size_t(dim), 93);
  auto cosT = randomVec(size_t(s * d / 2), 94), sinT = randomVec(size_t(s * d / 2), 95);
  for (bool layer : {true, false})
    for (int headsMajor : {0, 1}) {
      std::vector<float> normed(x.size()), ref(x.size()), out(x.size());
      auto norm = layer ? vsart_cpu_layer_norm : vsart_cpu_rms_norm;
      const float *bp = layer ? bias.data() : nullptr;
      ASSERT_EQ(norm(x.data(), normed.data(), b * s, dim, scale.data(), bp, 1e-6f),
                VSART_OK);
      for (int64_t bi = 0; bi < b; ++bi)
        for (int64_t si = 0; si < s; ++si)
          for (int64_t hi = 0; hi < h; ++hi)
            for (int64_t i = 0; i < d / 2; ++i) {
              const float *xr = normed.data() + ((bi * s + si) * h + hi) * d;
              const float c = cosT[si * d / 2 + i], sn = sinT[si * d / 2 + i];
              int64_t at = headsMajor ? ((bi * h + hi) * s + si) * d
                                      : ((bi * s + si) * h + hi) * d;
              ref[at + 2 * i] = xr[2 * i] * c - xr[2 * i + 1] * sn;
              ref[at + 2 * i + 1] = xr[2 * i] * sn + xr[2 * i + 1] * c;
            }
      vsart_norm_rope_args_t a = {};
      a.x = x.data();
      a.out = out.data();
      a.batch = b, a.seq = s, a.heads = h, a.head_dim = d;
      a.centered = layer ? 1 : 0;
      a.scale = scale.data();
      a.bias = bp;
      a.eps = 1e-6f;
      a.cos = cosT.data();
      a.sin = sinT.data();
      a.heads_major = headsMajor;
      ASSERT_EQ(vsart_cpu_norm_rope(&a), VSART_OK) << vsart_last_error();
      EXPECT_EQ(0, std::memcmp(out.data(), ref.data(), out.size() * sizeof(float)))
          << (layer ? "layer" : "rms") << " heads_major " << headsMajor;
      a.head_dim = 7;
      a.heads = 1;
      EXPECT_EQ(vsart_cpu_norm_rope(&a), VSART_ERROR_INVALID_ARGUMENT);
    }
  EXPECT_EQ(vsart_cpu_norm_rope(nullptr), VSART_ERROR_INVALID_ARGUMENT);
}

TEST(Elementwise, GeluMatchesReference) {
  auto x = randomVec(10001, 61, -6, 6);
  for (auto kind : {VSART_EPILOGUE_GELU_TANH, VSART_EPILOGUE_GELU_ERF}) {
    std::vector<double> ref(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      ref[i] = kind == VSART_EPILOGUE_GELU_TANH ? geluTanhRef(x[i]) : geluErfRef(x[i]);
    std::vector<float> out(x.size());
    ASSERT_EQ(vsart_cpu_gelu(x.data(), out.data(), int64_t(x.size()), kind), VSART_OK);
    expectClose(out, ref, 1e-5, "gelu");
  }
  float y;
  EXPECT_EQ(vsart_cpu_gelu(x.data(), &y, 1, VSART_EPILOGUE_NONE),
            VSART_ERROR_INVALID_ARGUMENT);
}

// ---- determinism across thread counts ---------------------------------------

TEST(Threads, ResultsIndependentOfThreadCount) {
  ThreadGuard guard;
  const GemmCase gc = {130, 300, 270, 1, 0, 1.0f, 0.5f, true,
                       VSART_EPILOGUE_GELU_TANH, 0};
  const AttnCase ac = {2, 4, 2, 100, 130, 16, {1, 1, 100, 130}, true};
  std::vector<float> x = randomVec(200 * 257, 71, -3, 3), ln1, sm1;
  std::vector<float> g1, a1;
  for (int threads : {1, 2, 3, 8}) {
    vsart_set_num_threads(threads);
    ASSERT_EQ(vsart_get_num_threads(), threads);
    std::vector<float> g = runGemm(gc, nullptr), a = runAttention(ac, nullptr);
    std::vector<float> ln(x.size()), sm(x.size());
    ASSERT_EQ(vsart_cpu_layer_norm(x.data(), ln.data(), 200, 257, nullptr, nullptr,
                                   1e-5f), VSART_OK);
    ASSERT_EQ(vsart_cpu_softmax(x.data(), sm.data(), 200, 257), VSART_OK);
    if (threads == 1) {
      g1 = g, a1 = a, ln1 = ln, sm1 = sm;
      continue;
    }
    SCOPED_TRACE(threads);
    EXPECT_EQ(0, std::memcmp(g.data(), g1.data(), g.size() * 4));
    EXPECT_EQ(0, std::memcmp(a.data(), a1.data(), a.size() * 4));
    EXPECT_EQ(0, std::memcmp(ln.data(), ln1.data(), ln.size() * 4));
    EXPECT_EQ(0, std::memcmp(sm.data(), sm1.data(), sm.size() * 4));
  }
}

// ---- tensors ----------------------------------------------------------------

TEST(Tensor, CreateQueryDestroy) {
  const int64_t dims[3] = {2, 3, 5};
  const vsart_dtype_t dtypes[] = {VSART_DTYPE_F32, VSART_DTYPE_F16,
                                  VSART_DTYPE_BF16, VSART_DTYPE_I64,
                                  VSART_DTYPE_I32, VSART_DTYPE_U8,
                                  VSART_DTYPE_BOOL};
  const size_t sizes[] = {4, 2, 2, 8, 4, 1, 1};
  for (size_t i = 0; i < 7; ++i) {
    vsart_tensor_t t = nullptr;
    ASSERT_EQ(vsart_tensor_create(dtypes[i], 3, dims, &t), VSART_OK);
    EXPECT_EQ(vsart_tensor_dtype(t), dtypes[i]);
    EXPECT_EQ(vsart_tensor_rank(t), 3);
    EXPECT_EQ(vsart_tensor_dim(t, 2), 5);
    EXPECT_EQ(vsart_tensor_dim(t, 3), -1);
    EXPECT_EQ(vsart_tensor_num_elements(t), 30);
    EXPECT_EQ(vsart_tensor_size_bytes(t), 30 * sizes[i]);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(vsart_tensor_data(t)) % 64, 0u);
    const auto *p = static_cast<const uint8_t *>(vsart_tensor_data(t));
    for (size_t j = 0; j < vsart_tensor_size_bytes(t); ++j)
      ASSERT_EQ(p[j], 0);
    vsart_tensor_destroy(t);
  }
  vsart_tensor_t t = nullptr;
  ASSERT_EQ(vsart_tensor_create(VSART_DTYPE_F32, 0, nullptr, &t), VSART_OK);
  EXPECT_EQ(vsart_tensor_num_elements(t), 1);
  vsart_tensor_destroy(t);
  const int64_t neg[1] = {-1}, huge[2] = {int64_t(1) << 40, int64_t(1) << 40};
  EXPECT_EQ(vsart_tensor_create(VSART_DTYPE_F32, 1, neg, &t),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(t, nullptr);
  EXPECT_EQ(vsart_tensor_create(VSART_DTYPE_F32, 2, huge, &t),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_tensor_create(VSART_DTYPE_F32, 9, huge, &t),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_tensor_create(static_cast<vsart_dtype_t>(7), 1, dims, &t),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_status_message(VSART_ERROR_NOT_FOUND), "not found");
  vsart_tensor_destroy(nullptr);
}

} // namespace

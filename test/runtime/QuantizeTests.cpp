// FP8 E4M3: the encoder against the format's definition (every code, ties,
// saturation), per-row quantization, the scaled GEMM against fp32 GEMMs
// (and its residual form against the steps it fuses), the norm that
// quantizes its rows against the norm then quantize_rows (and, with one
// scale per tensor, against its bound), the GEMM with an FP8 output against
// a double-precision reference, and sessions storing weights as
// F8E4M3_ROWS and F8E4M3_TENSOR.
#include "DTypes.h"
#include "TestUtil.h"
#include "vsart_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace {

using vsart_test::randomVec;
using vsart_test::relL2;
using vsart_test::storeF8Tensor;

bool isNanCode(int b) { return (b & 0x7f) == 0x7f; }

TEST(E4m3, EveryCodeRoundTrips) {
  for (int b = 0; b < 256; ++b) {
    const float v = vsart_e4m3_to_float(uint8_t(b));
    if (isNanCode(b)) {
      EXPECT_TRUE(std::isnan(v)) << b;
      continue;
    }
    EXPECT_EQ(vsart::floatToE4m3(v), b) << "code " << b << " value " << v;
  }
}

TEST(E4m3, KnownValues) {
  EXPECT_EQ(vsart_e4m3_to_float(0x38), 1.0f);
  EXPECT_EQ(vsart_e4m3_to_float(0x7e), 448.0f);
  EXPECT_EQ(vsart_e4m3_to_float(0x77), 240.0f);
  EXPECT_EQ(vsart_e4m3_to_float(0x01), std::ldexp(1.0f, -9)); // subnormal
  EXPECT_EQ(vsart_e4m3_to_float(0x08), std::ldexp(1.0f, -6)); // smallest normal
  EXPECT_EQ(vsart_e4m3_to_float(0xb8), -1.0f);
  EXPECT_EQ(vsart::floatToE4m3(1e6f), 0x7e); // saturates
  EXPECT_EQ(vsart::floatToE4m3(-INFINITY), 0xfe);
  EXPECT_EQ(vsart::floatToE4m3(464.0f), 0x7e); // 480 would be next: saturates
  EXPECT_EQ(vsart::floatToE4m3(NAN) & 0x7f, 0x7f);
  EXPECT_EQ(vsart::floatToE4m3(-0.0f), 0x80);
  EXPECT_EQ(vsart::floatToE4m3(std::ldexp(1.0f, -11)), 0x00); // below half
}

// Halfway between two neighbours rounds to the even code; just above it,
// to the upper one.
TEST(E4m3, TiesRoundToEven) {
  for (int b = 0; b < 0x7e; ++b) {
    const float lo = vsart_e4m3_to_float(uint8_t(b));
    const float hi = vsart_e4m3_to_float(uint8_t(b + 1));
    const float mid = 0.5f * (lo + hi); // exact: one more bit than E4M3
    EXPECT_EQ(vsart::floatToE4m3(mid), (b % 2 == 0) ? b : b + 1) << mid;
    EXPECT_EQ(vsart::floatToE4m3(std::nextafter(mid, hi)), b + 1) << mid;
    EXPECT_EQ(vsart::floatToE4m3(-mid), 0x80 | ((b % 2 == 0) ? b : b + 1));
  }
}

TEST(QuantizeRows, ScalesEachRowToItsMaximum) {
  // Row 0 peaks at -3.5, row 1 is zero, row 2 has one tiny value; ld 5.
  const std::vector<float> x = {1.0f,  -3.5f, 0.25f, 2.0f, 99.0f,
                                0.0f,  0.0f,  0.0f,  0.0f, 99.0f,
                                1e-3f, 0.0f,  0.0f,  0.0f, 99.0f};
  std::vector<uint8_t> q(12, 0xaa);
  std::vector<float> scales(3, -1.0f);
  ASSERT_EQ(vsart_cpu_quantize_rows(x.data(), 3, 4, 5, q.data(),
                                    scales.data()),
            VSART_OK)
      << vsart_last_error();
  EXPECT_EQ(scales[0], 3.5f / 448.0f);
  EXPECT_EQ(q[1], 0xfe); // -3.5 maps to -448
  EXPECT_EQ(q[0], vsart::floatToE4m3(1.0f * (448.0f / 3.5f)));
  EXPECT_EQ(scales[1], 1.0f);
  for (int c = 0; c < 4; ++c)
    EXPECT_EQ(q[size_t(4 + c)], 0);
  EXPECT_EQ(scales[2], 1e-3f / 448.0f);
  EXPECT_EQ(q[8], 0x7e);
  // Dequantized values stay within E4M3's relative step (2^-4) of x.
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      const float back = vsart_e4m3_to_float(q[size_t(r * 4 + c)]) * scales[r];
      EXPECT_NEAR(back, x[size_t(r * 5 + c)],
                  std::fabs(x[size_t(r * 5 + c)]) / 16 + 1e-9f);
    }
}

TEST(QuantizeRows, RejectsBadArguments) {
  float x[4] = {}, s[1];
  uint8_t q[4];
  EXPECT_EQ(vsart_cpu_quantize_rows(x, 1, 4, 3, q, s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_quantize_rows(nullptr, 1, 4, 4, q, s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_quantize_rows(x, 0, 4, 4, nullptr, nullptr), VSART_OK);
}

/// A (rows x cols) weight in F8E4M3_ROWS storage.
std::vector<uint8_t> storeF8Rows(const std::vector<float> &w, int64_t rows,
                                 int64_t cols) {
  const size_t at = vsart_f8_rows_scales_offset(rows * cols);
  std::vector<uint8_t> out(at + size_t(rows) * 4);
  EXPECT_EQ(vsart_cpu_quantize_rows(w.data(), rows, cols, cols, out.data(),
                                    reinterpret_cast<float *>(out.data() + at)),
            VSART_OK);
  return out;
}

// The scaled GEMM computes exactly the fp32 GEMM of the dequantized
// operands (up to summation order), and FP8 keeps a random product within a
// few percent of the unquantized one.
TEST(ScaledGemm, EqualsGemmOfDequantizedOperands) {
  const int64_t m = 37, n = 48, k = 64;
  const std::vector<float> a = randomVec(size_t(m * k), 1, -2.0f, 2.0f);
  const std::vector<float> w = randomVec(size_t(n * k), 2, -0.1f, 0.1f);
  const std::vector<float> bias = randomVec(size_t(n), 3);
  std::vector<uint8_t> aq(size_t(m * k));
  std::vector<float> as(static_cast<size_t>(m));
  ASSERT_EQ(vsart_cpu_quantize_rows(a.data(), m, k, k, aq.data(), as.data()),
            VSART_OK);
  const std::vector<uint8_t> wf8 = storeF8Rows(w, n, k);
  const auto *ws = reinterpret_cast<const float *>(
      wf8.data() + vsart_f8_rows_scales_offset(n * k));
  for (vsart_epilogue_t epi :
       {VSART_EPILOGUE_NONE, VSART_EPILOGUE_GELU_TANH, VSART_EPILOGUE_GELU_ERF}) {
    std::vector<float> got(size_t(m * n)), deq(size_t(m * n)),
        exact(size_t(m * n));
    ASSERT_EQ(vsart_cpu_scaled_gemm(m, n, k, 0.5f, aq.data(), as.data(),
                                    wf8.data(), got.data(), n, bias.data(), epi),
              VSART_OK)
        << vsart_last_error();
    std::vector<float> ad(a.size()), wd(w.size());
    for (int64_t i = 0; i < m * k; ++i)
      ad[size_t(i)] = vsart_e4m3_to_float(aq[size_t(i)]) * as[size_t(i / k)];
    for (int64_t i = 0; i < n * k; ++i)
      wd[size_t(i)] = vsart_e4m3_to_float(wf8[size_t(i)]) * ws[i / k];
    ASSERT_EQ(vsart_cpu_gemm(0, 1, m, n, k, 0.5f, ad.data(), k, wd.data(), k,
                             0.0f, deq.data(), n, bias.data(), epi),
              VSART_OK);
    ASSERT_EQ(vsart_cpu_gemm(0, 1, m, n, k, 0.5f, a.data(), k, w.data(), k,
                             0.0f, exact.data(), n, bias.data(), epi),
              VSART_OK);
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], deq[i], 1e-5f * (1.0f + std::fabs(deq[i]))) << i;
    EXPECT_LT(relL2(got, exact), 5e-2) << int(epi);
    EXPECT_GT(relL2(got, exact), 1e-4) << "FP8 cannot be exact";
  }
}

TEST(ScaledGemm, RejectsBadArguments) {
  uint8_t q[16] = {};
  float s[1] = {1.0f}, c[16];
  std::vector<uint8_t> w(64);
  EXPECT_EQ(vsart_cpu_scaled_gemm(1, 1, 16, 1.0f, q, s, w.data(), c, 0,
                                  nullptr, VSART_EPILOGUE_NONE),
            VSART_ERROR_INVALID_ARGUMENT); // ldc < n
  EXPECT_EQ(vsart_cpu_scaled_gemm(1, 1, 16, 1.0f, q, nullptr, w.data(), c, 1,
                                  nullptr, VSART_EPILOGUE_NONE),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_scaled_gemm(1, 1, 16, 1.0f, q, s, w.data(), c, 1,
                                  nullptr, static_cast<vsart_epilogue_t>(7)),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_scaled_gemm(0, 1, 16, 1.0f, nullptr, nullptr, nullptr,
                                  nullptr, 1, nullptr, VSART_EPILOGUE_NONE),
            VSART_OK);
}

// The residual form is the scaled GEMM, then residual + gate * it: the same
// fp32 operations as doing those steps by hand. Padding columns of C
// (ldc > n) are not written.
TEST(ScaledGemmResidual, EqualsResidualPlusGatedScaledGemm) {
  const int64_t m = 19, n = 24, k = 48, ldc = 29;
  const float pad = 123.0f;
  const std::vector<float> a = randomVec(size_t(m * k), 41, -2.0f, 2.0f);
  const std::vector<float> w = randomVec(size_t(n * k), 42, -0.1f, 0.1f);
  const std::vector<float> bias = randomVec(size_t(n), 43);
  const std::vector<float> residual = randomVec(size_t(m * ldc), 44, -3.0f, 3.0f);
  const std::vector<float> gate = randomVec(size_t(n), 45, -1.5f, 1.5f);
  std::vector<uint8_t> aq(size_t(m * k));
  std::vector<float> as(static_cast<size_t>(m));
  ASSERT_EQ(vsart_cpu_quantize_rows(a.data(), m, k, k, aq.data(), as.data()),
            VSART_OK);
  const std::vector<uint8_t> wf8 = storeF8Rows(w, n, k);
  for (bool useGate : {false, true})
    for (bool useBias : {false, true}) {
      SCOPED_TRACE(std::string(useGate ? "gate" : "no gate") + ", " +
                   (useBias ? "bias" : "no bias"));
      const float *bp = useBias ? bias.data() : nullptr;
      std::vector<float> got(size_t(m * ldc), pad), gemm(size_t(m * ldc));
      ASSERT_EQ(vsart_cpu_scaled_gemm_residual(
                    m, n, k, 0.75f, aq.data(), as.data(), wf8.data(),
                    got.data(), ldc, bp, residual.data(),
                    useGate ? gate.data() : nullptr),
                VSART_OK)
          << vsart_last_error();
      ASSERT_EQ(vsart_cpu_scaled_gemm(m, n, k, 0.75f, aq.data(), as.data(),
                                      wf8.data(), gemm.data(), ldc, bp,
                                      VSART_EPILOGUE_NONE),
                VSART_OK);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < ldc; ++j) {
          const size_t at = size_t(i * ldc + j);
          if (j >= n) {
            EXPECT_EQ(got[at], pad) << i << "," << j;
            continue;
          }
          const float gated = (useGate ? gate[size_t(j)] : 1.0f) * gemm[at];
          EXPECT_NEAR(got[at], residual[at] + gated,
                      1e-6f * (std::fabs(residual[at]) + std::fabs(gated)))
              << i << "," << j;
        }
    }
}

TEST(ScaledGemmResidual, RejectsBadArguments) {
  uint8_t q[16] = {};
  float s[1] = {1.0f}, c[8] = {}, r[8] = {};
  const std::vector<uint8_t> w(64);
  auto call = [&](float *out, const float *res, int64_t ldc) {
    return vsart_cpu_scaled_gemm_residual(1, 8, 16, 1.0f, q, s, w.data(), out,
                                          ldc, nullptr, res, nullptr);
  };
  EXPECT_EQ(call(c, r, 8), VSART_OK) << vsart_last_error();
  EXPECT_EQ(call(c, c, 8), VSART_ERROR_INVALID_ARGUMENT); // C aliases it
  EXPECT_NE(std::string(vsart_last_error()).find("c == residual"),
            std::string::npos)
      << vsart_last_error();
  EXPECT_EQ(call(c, nullptr, 8), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(call(c, r, 4), VSART_ERROR_INVALID_ARGUMENT); // ldc < n
  EXPECT_EQ(call(nullptr, r, 8), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_scaled_gemm_residual(-1, 8, 16, 1.0f, q, s, w.data(), c,
                                           8, nullptr, r, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_scaled_gemm_residual(0, 8, 16, 1.0f, nullptr, nullptr,
                                           nullptr, nullptr, 8, nullptr,
                                           nullptr, nullptr),
            VSART_OK);
}

// ---- a norm whose rows are quantized as they are produced -------------------

struct NormQuantCase {
  const char *name;
  int64_t batch, seq, dim;
  bool centered, scale, bias, modulate;
};

/// A case's random inputs (seeds from `seed`; row 1 constant), its outputs
/// preset to garbage, and the arguments pointing at them (args(), once the
/// inputs are final).
struct NormQuantData {
  std::vector<float> x, scale, bias, shift, modScale, s;
  std::vector<uint8_t> q;
  const NormQuantCase &c;
  NormQuantData(const NormQuantCase &c, unsigned seed) : c(c) {
    const int64_t rows = c.batch * c.seq;
    x = randomVec(size_t(rows * c.dim), seed, -3.0f, 5.0f);
    for (int64_t i = 0; i < c.dim; ++i)
      x[size_t(c.dim + i)] = 2.0f;
    scale = randomVec(size_t(c.dim), seed + 1);
    bias = randomVec(size_t(c.dim), seed + 2);
    shift = randomVec(size_t(c.batch * c.dim), seed + 3);
    modScale = randomVec(size_t(c.batch * c.dim), seed + 4);
    q.assign(size_t(rows * c.dim), 0xaa);
    s.assign(size_t(rows), -1.0f);
  }
  vsart_norm_quantize_args_t args() {
    vsart_norm_quantize_args_t a = {};
    a.x = x.data();
    a.q = q.data();
    a.scales = s.data();
    a.batch = c.batch, a.seq = c.seq, a.dim = c.dim;
    a.centered = c.centered;
    a.scale = c.scale ? scale.data() : nullptr;
    a.bias = c.bias ? bias.data() : nullptr;
    a.mod_shift = c.modulate ? shift.data() : nullptr;
    a.mod_scale = c.modulate ? modScale.data() : nullptr;
    a.eps = 1e-5f;
    return a;
  }
};

/// The rows vsart_cpu_norm_quantize quantizes: the norm (modulated or
/// plain) into fp32 rows.
std::vector<float> referenceNorm(const vsart_norm_quantize_args_t &a) {
  const int64_t rows = a.batch * a.seq;
  const auto *x = static_cast<const float *>(a.x);
  const auto *sc = static_cast<const float *>(a.scale);
  const auto *b = static_cast<const float *>(a.bias);
  std::vector<float> normed(size_t(rows * a.dim));
  vsart_status_t st;
  if (a.mod_shift)
    st = (a.centered ? vsart_cpu_layer_norm_modulate
                     : vsart_cpu_rms_norm_modulate)(
        x, normed.data(), a.batch, a.seq, a.dim, sc, b, a.eps,
        static_cast<const float *>(a.mod_shift),
        static_cast<const float *>(a.mod_scale));
  else
    st = (a.centered ? vsart_cpu_layer_norm : vsart_cpu_rms_norm)(
        x, normed.data(), rows, a.dim, sc, b, a.eps);
  EXPECT_EQ(st, VSART_OK) << vsart_last_error();
  return normed;
}

/// vsart_cpu_norm_quantize's reference: the norm, then
/// vsart_cpu_quantize_rows.
void normThenQuantize(const vsart_norm_quantize_args_t &a,
                      std::vector<uint8_t> &q, std::vector<float> &scales) {
  const int64_t rows = a.batch * a.seq;
  const std::vector<float> normed = referenceNorm(a);
  q.assign(size_t(rows * a.dim), 0);
  scales.assign(size_t(rows), 0.0f);
  ASSERT_EQ(vsart_cpu_quantize_rows(normed.data(), rows, a.dim, a.dim,
                                    q.data(), scales.data()),
            VSART_OK);
}

// Exactly the bytes and scales of the norm followed by quantize_rows: layer
// and RMS, with and without affine parameters and modulation, per-batch
// modulation rows, dims that are not multiples of 8, a constant row (which
// a plain layer norm maps to a zero row, scale 1) and enough rows to be
// split across threads.
TEST(NormQuantize, EqualsNormThenQuantizeRows) {
  const NormQuantCase cases[] = {
      {"layer_plain", 1, 5, 64, true, false, false, false},
      {"layer_scale_bias", 1, 7, 96, true, true, true, false},
      {"rms_scale", 1, 9, 40, false, true, false, false},
      {"rms_plain", 1, 3, 16, false, false, false, false},
      {"layer_modulated_batch2", 2, 6, 64, true, true, true, true},
      {"rms_modulated_batch2", 2, 5, 48, false, true, false, true},
      {"layer_modulated_dim37", 2, 3, 37, true, true, true, true},
      {"rms_bias_dim13", 1, 4, 13, false, false, true, false},
      {"layer_modulated_80_rows", 2, 40, 24, true, false, true, true},
  };
  for (const NormQuantCase &c : cases) {
    SCOPED_TRACE(c.name);
    NormQuantData d(c, 31);
    vsart_norm_quantize_args_t a = d.args();
    const std::vector<uint8_t> &q = d.q;
    const std::vector<float> &s = d.s;
    ASSERT_EQ(vsart_cpu_norm_quantize(&a), VSART_OK) << vsart_last_error();
    std::vector<uint8_t> qRef;
    std::vector<float> sRef;
    normThenQuantize(a, qRef, sRef);
    EXPECT_EQ(q, qRef);
    EXPECT_EQ(s, sRef);
    if (c.centered && !c.scale && !c.bias && !c.modulate) {
      EXPECT_EQ(s[1], 1.0f); // the constant row normalises to zeros
      EXPECT_EQ(q[size_t(c.dim)], 0);
    }
    for (float v : s)
      EXPECT_GT(v, 0.0f);
  }
}

TEST(NormQuantize, RejectsBadArguments) {
  float x[16] = {}, s[2] = {}, mod[8] = {};
  uint8_t q[16] = {};
  vsart_norm_quantize_args_t a = {};
  a.x = x;
  a.q = q;
  a.scales = s;
  a.batch = 1, a.seq = 2, a.dim = 8;
  a.centered = 1;
  a.eps = 1e-5f;
  ASSERT_EQ(vsart_cpu_norm_quantize(&a), VSART_OK) << vsart_last_error();
  EXPECT_EQ(vsart_cpu_norm_quantize(nullptr), VSART_ERROR_INVALID_ARGUMENT);
  auto rejects = [](vsart_norm_quantize_args_t bad, const char *why) {
    vsart_test::expectRejected(vsart_cpu_norm_quantize(&bad),
                               "cpu_norm_quantize: ", why);
  };
  vsart_test::forSharedNormQuantizeFaults(a, mod, rejects);
  vsart_norm_quantize_args_t bad = a;
  bad.seq = -2;
  rejects(bad, "negative seq");
  // No rows: nothing is read or written.
  bad = {};
  EXPECT_EQ(vsart_cpu_norm_quantize(&bad), VSART_OK);
  // Empty rows still get a scale, 1, as quantize_rows gives them.
  bad = a;
  bad.x = nullptr;
  bad.q = nullptr;
  bad.dim = 0;
  EXPECT_EQ(vsart_cpu_norm_quantize(&bad), VSART_OK) << vsart_last_error();
  EXPECT_EQ(s[0], 1.0f);
  EXPECT_EQ(s[1], 1.0f);
}

/// B of vsart_norm_quantize_args_t::per_tensor from its definition (fp32
/// parameters), in double.
double tensorBound(const vsart_norm_quantize_args_t &a) {
  auto at = [](const void *p, int64_t i, double absent) {
    return p ? double(static_cast<const float *>(p)[i]) : absent;
  };
  double bound = 0.0;
  for (int64_t b = 0; b < a.batch; ++b) {
    double maxA = 0.0, sumC = 0.0;
    for (int64_t i = 0; i < a.dim; ++i) {
      const double mod = 1.0 + at(a.mod_scale, b * a.dim + i, 0.0);
      const double ai = at(a.scale, i, 1.0) * mod;
      const double ci =
          at(a.bias, i, 0.0) * mod + at(a.mod_shift, b * a.dim + i, 0.0);
      maxA = std::max(maxA, std::fabs(ai));
      sumC += ci * ci;
    }
    bound = std::max(bound, maxA * std::sqrt(double(a.dim)) + std::sqrt(sumC));
  }
  return bound;
}

/// The 2-norm of row r of q (rows of `cols` E4M3 bytes) times `scale`.
double dequantizedRowNorm(const std::vector<uint8_t> &q, int64_t r,
                          int64_t cols, float scale) {
  double sum = 0.0;
  for (int64_t c = 0; c < cols; ++c) {
    const double v =
        double(vsart_e4m3_to_float(q[size_t(r * cols + c)])) * scale;
    sum += v * v;
  }
  return std::sqrt(sum);
}

// With per_tensor every row gets the scale of the bound B (layer and RMS
// norms, with and without affine parameters and modulation, batch 2) and
// its values are the reference norm's rounded as x * (448 / B), the rule of
// quantize_rows; every normalised value stays within B and every
// dequantized row's 2-norm within VSART_FP8_ROW_NORM_SLACK * 448 * scale.
// Row 1 is constant, row 2 a spike (a plain layer norm's output comes
// within 2 % of the bound there: it is tight).
TEST(NormQuantize, PerTensorScaleBoundsEveryRow) {
  const NormQuantCase cases[] = {
      {"layer_plain", 1, 6, 64, true, false, false, false},
      {"layer_scale_bias", 1, 7, 96, true, true, true, false},
      {"rms_scale", 1, 9, 40, false, true, false, false},
      {"rms_plain_dim13", 1, 4, 13, false, false, false, false},
      {"layer_modulated_batch2", 2, 6, 64, true, true, true, true},
      {"rms_modulated_batch2", 2, 5, 48, false, true, false, true},
      {"rms_bias_modulated_batch2", 2, 5, 48, false, false, true, true},
      {"layer_modulated_80_rows", 2, 40, 24, true, false, true, true},
  };
  for (const NormQuantCase &c : cases) {
    SCOPED_TRACE(c.name);
    const int64_t rows = c.batch * c.seq;
    NormQuantData d(c, 61);
    for (int64_t i = 0; i < c.dim; ++i) // row 2 is a spike
      d.x[size_t(2 * c.dim + i)] = i == 3 ? 1e3f : 0.0f;
    vsart_norm_quantize_args_t a = d.args();
    a.per_tensor = 1;
    const std::vector<uint8_t> &q = d.q;
    const std::vector<float> &s = d.s;
    ASSERT_EQ(vsart_cpu_norm_quantize(&a), VSART_OK) << vsart_last_error();
    const double bound = tensorBound(a);
    const float b = float(bound), expected = b / 448.0f;
    for (float v : s)
      EXPECT_EQ(v, expected);
    const std::vector<float> normed = referenceNorm(a);
    size_t bad = 0;
    for (size_t i = 0; i < q.size(); ++i) {
      if (q[i] != vsart::floatToE4m3(normed[i] * (448.0f / b)) && ++bad <= 5)
        ADD_FAILURE() << "byte " << i << " of " << normed[i];
      EXPECT_LE(std::fabs(normed[i]), bound * (1 + 1e-6)) << i;
    }
    EXPECT_EQ(bad, 0u);
    for (int64_t r = 0; r < rows; ++r)
      EXPECT_LE(dequantizedRowNorm(q, r, c.dim, expected),
                double(VSART_FP8_ROW_NORM_SLACK) * 448.0 * expected)
          << "row " << r;
    if (c.centered && !c.scale && !c.bias && !c.modulate) {
      float spike = 0.0f;
      for (int64_t i = 0; i < c.dim; ++i)
        spike = std::max(spike, std::fabs(normed[size_t(2 * c.dim + i)]));
      EXPECT_GT(spike, 0.98f * b);
    }
  }
}

// B = 0 (a zero scale, no bias or modulation) gives scale 1 and zero bytes.
TEST(NormQuantize, PerTensorZeroBoundKeepsScaleOne) {
  const std::vector<float> x = randomVec(3 * 16, 66), zero(16, 0.0f);
  std::vector<uint8_t> q(x.size(), 0xaa);
  std::vector<float> s(3, -1.0f);
  vsart_norm_quantize_args_t a = {};
  a.x = x.data();
  a.q = q.data();
  a.scales = s.data();
  a.batch = 1, a.seq = 3, a.dim = 16;
  a.scale = zero.data();
  a.eps = 1e-5f;
  a.per_tensor = 1;
  ASSERT_EQ(vsart_cpu_norm_quantize(&a), VSART_OK) << vsart_last_error();
  EXPECT_EQ(s, std::vector<float>(3, 1.0f));
  for (uint8_t b : q)
    EXPECT_EQ(b & 0x7f, 0);
}

TEST(StorageBytes, F8RowsHoldBytesThenScales) {
  const int64_t dims[2] = {3, 5};
  EXPECT_EQ(vsart_f8_rows_scales_offset(15), 16u);
  EXPECT_EQ(vsart_storage_bytes(VSART_DTYPE_F8E4M3_ROWS, 2, dims), 16u + 12u);
  EXPECT_EQ(vsart_storage_bytes(VSART_DTYPE_BF16, 2, dims), 30u);
  EXPECT_EQ(vsart_dtype_size(VSART_DTYPE_F8E4M3_ROWS), 0u); // not an element
  vsart_tensor_t t = nullptr;
  EXPECT_EQ(vsart_tensor_create(VSART_DTYPE_F8E4M3_ROWS, 2, dims, &t),
            VSART_ERROR_INVALID_ARGUMENT);
}

TEST(StorageBytes, F8TensorAddsTheRowNormAfterTheScales) {
  const int64_t dims[2] = {3, 5}, vec[1] = {7};
  EXPECT_EQ(vsart_storage_bytes(VSART_DTYPE_F8E4M3_TENSOR, 2, dims),
            16u + 3 * 4 + 4);
  EXPECT_EQ(vsart_storage_bytes(VSART_DTYPE_F8E4M3_TENSOR, 1, vec), 16u + 8);
  EXPECT_EQ(vsart_dtype_size(VSART_DTYPE_F8E4M3_TENSOR), 0u);
  vsart_tensor_t t = nullptr;
  EXPECT_EQ(vsart_tensor_create(VSART_DTYPE_F8E4M3_TENSOR, 2, dims, &t),
            VSART_ERROR_INVALID_ARGUMENT);
}

// ---- a session storing its weight in FP8 -----------------------------------
// "fp8": y[4,16] = scaled_gemm(quantize_rows(x[4,32]), w[16,32]) + b.

const vsart_tensor_desc_t kF8Inputs[] = {
    {"x", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {4, 32}}};
const vsart_tensor_desc_t kF8Outputs[] = {
    {"y", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {4, 16}}};
const vsart_tensor_desc_t kF8Weights[] = {
    {"w", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_ROWS, 2, {16, 32}},
    {"b", VSART_DTYPE_F32, VSART_DTYPE_F32, 1, {16}}};

vsart_status_t f8Forward(void *const *in, void *const *out,
                         const void *const *w, void *arena, void *,
                         const vsart_run_context_t *) {
  auto *q = static_cast<uint8_t *>(arena);
  auto *s = reinterpret_cast<float *>(q + 128);
  if (vsart_status_t st = vsart_cpu_quantize_rows(
          static_cast<const float *>(in[0]), 4, 32, 32, q, s))
    return st;
  return vsart_cpu_scaled_gemm(4, 16, 32, 1.0f, q, s, w[0],
                               static_cast<float *>(out[0]), 16,
                               static_cast<const float *>(w[1]),
                               VSART_EPILOGUE_NONE);
}

vsart_model_t f8Model() {
  return {VSART_MODEL_ABI_VERSION, "fp8", VSART_TARGET_CPU,
          &vsart_cpu_device_ops, 1, kF8Inputs, 1, kF8Outputs, 2, kF8Weights,
          256, f8Forward};
}

/// Binds "w" (16 x 32) from bf16 host data (wRounded: its values) and "b"
/// (16) in fp32, sets input 0 to x and runs a forward of s.
void bindBf16WeightAndRun(vsart_session_t s, const std::vector<float> &x,
                          const std::vector<float> &w,
                          const std::vector<float> &b,
                          std::vector<float> &wRounded) {
  std::vector<uint16_t> wBf16(w.size());
  wRounded.resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    wBf16[i] = vsart::floatToBf16(w[i]);
    wRounded[i] = vsart::bf16ToFloat(wBf16[i]);
  }
  const int64_t wDims[2] = {16, 32}, bDims[1] = {16};
  ASSERT_EQ(vsart_session_bind_weight(s, "w", VSART_DTYPE_BF16, 2, wDims,
                                      wBf16.data()),
            VSART_OK)
      << vsart_last_error();
  ASSERT_EQ(vsart_session_bind_weight(s, "b", VSART_DTYPE_F32, 1, bDims,
                                      b.data()),
            VSART_OK);
  ASSERT_EQ(vsart_session_set_input(s, 0, x.data()), VSART_OK);
  ASSERT_EQ(vsart_session_forward(s), VSART_OK) << vsart_last_error();
}

TEST(Session, StoresF8RowsWeightsQuantizedOnBind) {
  vsart_model_t m = f8Model();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK)
      << vsart_last_error();
  const std::vector<float> x = randomVec(4 * 32, 5), w = randomVec(16 * 32, 6),
                           b = randomVec(16, 7);
  // Bound from bf16 host data: converted to float, then quantized per row.
  std::vector<float> wRounded;
  bindBf16WeightAndRun(s, x, w, b, wRounded);
  ASSERT_FALSE(HasFatalFailure());
  std::vector<float> y(4 * 16), ref(4 * 16);
  ASSERT_EQ(vsart_session_get_output(s, 0, y.data()), VSART_OK);
  // The same computation by hand: exactly equal.
  const std::vector<uint8_t> wf8 = storeF8Rows(wRounded, 16, 32);
  std::vector<uint8_t> q(4 * 32);
  std::vector<float> sc(4);
  ASSERT_EQ(vsart_cpu_quantize_rows(x.data(), 4, 32, 32, q.data(), sc.data()),
            VSART_OK);
  ASSERT_EQ(vsart_cpu_scaled_gemm(4, 16, 32, 1.0f, q.data(), sc.data(),
                                  wf8.data(), ref.data(), 16, b.data(),
                                  VSART_EPILOGUE_NONE),
            VSART_OK);
  EXPECT_EQ(y, ref);
  // Weights (16 x 32 bytes + 16 scales) + bias + input + output + arena.
  EXPECT_GE(vsart_session_device_bytes(s), 512u + 64u + 64u + 512u + 256u);
  // Random weights fill FP8 storage too.
  ASSERT_EQ(vsart_session_randomize_weights(s, 11), VSART_OK);
  ASSERT_EQ(vsart_session_forward(s), VSART_OK) << vsart_last_error();
  ASSERT_EQ(vsart_session_get_output(s, 0, y.data()), VSART_OK);
  for (float v : y)
    EXPECT_TRUE(std::isfinite(v));
  vsart_session_destroy(s);
}

TEST(Session, RejectsF8StorageOutsideFloatWeights) {
  const vsart_tensor_desc_t badInputs[] = {
      {"x", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_ROWS, 2, {4, 32}}};
  const vsart_tensor_desc_t badWeights[] = {
      {"w", VSART_DTYPE_I64, VSART_DTYPE_F8E4M3_ROWS, 2, {16, 32}},
      {"b", VSART_DTYPE_F32, VSART_DTYPE_F32, 1, {16}}};
  vsart_session_t s = nullptr;
  vsart_model_t m = f8Model();
  m.inputs = badInputs;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("is for float weights"),
            std::string::npos)
      << vsart_last_error();
  m = f8Model();
  m.weights = badWeights;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  const vsart_tensor_desc_t tensorInputs[] = {
      {"x", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_TENSOR, 2, {4, 32}}};
  const vsart_tensor_desc_t scalarWeights[] = {
      {"w", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_TENSOR, 0, {}},
      {"b", VSART_DTYPE_F32, VSART_DTYPE_F32, 1, {16}}};
  m = f8Model();
  m.inputs = tensorInputs;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  m = f8Model();
  m.weights = scalarWeights;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("tensor-scaled"),
            std::string::npos)
      << vsart_last_error();
}

// ---- a session storing its weight in FP8 with one scale --------------------
// "fp8_tensor": raw = w's storage (16 x 32, F8E4M3_TENSOR) and y[4,16] =
// the dequantized scaled_gemm_quantize(norm_quantize(x[4,32], per tensor),
// w) + b with GELU: Wan's FFN-up.

constexpr size_t kF8TensorBytes = 512 + 17 * 4;
const vsart_tensor_desc_t kF8TensorOutputs[] = {
    {"y", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {4, 16}},
    {"raw", VSART_DTYPE_U8, VSART_DTYPE_U8, 1, {int64_t(kF8TensorBytes)}}};
const vsart_tensor_desc_t kF8TensorWeights[] = {
    {"w", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_TENSOR, 2, {16, 32}},
    {"b", VSART_DTYPE_F32, VSART_DTYPE_F32, 1, {16}}};

/// The FFN-up of the "fp8_tensor" model (q, scales and the output's bytes
/// and scales in `arena`) into y, dequantized.
vsart_status_t ffnUp(const float *x, const void *w, const float *b,
                     uint8_t *arena, float *y) {
  auto *as = reinterpret_cast<float *>(arena + 128);
  uint8_t *oq = arena + 160;
  auto *os = reinterpret_cast<float *>(arena + 224);
  vsart_norm_quantize_args_t a = {};
  a.x = x;
  a.q = arena;
  a.scales = as;
  a.batch = 1, a.seq = 4, a.dim = 32;
  a.centered = 1;
  a.eps = 1e-5f;
  a.per_tensor = 1;
  if (vsart_status_t st = vsart_cpu_norm_quantize(&a))
    return st;
  if (vsart_status_t st = vsart_cpu_scaled_gemm_quantize(
          4, 16, 32, 1.0f, arena, as, w, oq, os, b, VSART_EPILOGUE_GELU_TANH))
    return st;
  for (int i = 0; i < 64; ++i)
    y[i] = vsart_e4m3_to_float(oq[i]) * os[i / 16];
  return VSART_OK;
}

vsart_status_t f8TensorForward(void *const *in, void *const *out,
                               const void *const *w, void *arena, void *,
                               const vsart_run_context_t *) {
  std::memcpy(out[1], w[0], kF8TensorBytes);
  return ffnUp(static_cast<const float *>(in[0]), w[0],
               static_cast<const float *>(w[1]), static_cast<uint8_t *>(arena),
               static_cast<float *>(out[0]));
}

TEST(Session, StoresF8TensorWeightsWithOneScaleAndTheRowNorm) {
  vsart_model_t m = {VSART_MODEL_ABI_VERSION, "fp8_tensor", VSART_TARGET_CPU,
                     &vsart_cpu_device_ops, 1, kF8Inputs, 2, kF8TensorOutputs,
                     2, kF8TensorWeights, 256, f8TensorForward};
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK)
      << vsart_last_error();
  const std::vector<float> x = randomVec(4 * 32, 15),
                           w = randomVec(16 * 32, 16), b = randomVec(16, 17);
  std::vector<float> wRounded;
  bindBf16WeightAndRun(s, x, w, b, wRounded);
  ASSERT_FALSE(HasFatalFailure());
  std::vector<float> y(64), ref(64);
  std::vector<uint8_t> raw(kF8TensorBytes);
  ASSERT_EQ(vsart_session_get_output(s, 0, y.data()), VSART_OK);
  ASSERT_EQ(vsart_session_get_output(s, 1, raw.data()), VSART_OK);
  // The storage as defined (scale max |w| / 448 in every row, then the
  // rounded-up largest row norm), and the same forward by hand.
  const std::vector<uint8_t> stored = storeF8Tensor(wRounded, 16, 32);
  EXPECT_EQ(raw, stored);
  float scale;
  std::memcpy(&scale, raw.data() + 512, 4);
  float absMax = 0.0f;
  for (float v : wRounded)
    absMax = std::max(absMax, std::fabs(v));
  EXPECT_EQ(scale, absMax / 448.0f);
  std::vector<uint8_t> arena(256);
  ASSERT_EQ(ffnUp(x.data(), stored.data(), b.data(), arena.data(), ref.data()),
            VSART_OK)
      << vsart_last_error();
  EXPECT_EQ(y, ref);
  // Random weights: one scale, and the largest row norm of their bytes.
  ASSERT_EQ(vsart_session_randomize_weights(s, 11), VSART_OK);
  ASSERT_EQ(vsart_session_forward(s), VSART_OK) << vsart_last_error();
  ASSERT_EQ(vsart_session_get_output(s, 1, raw.data()), VSART_OK);
  float scales[17];
  std::memcpy(scales, raw.data() + 512, sizeof(scales));
  double largest = 0.0;
  for (int64_t r = 0; r < 16; ++r) {
    EXPECT_EQ(scales[r], scales[0]) << r;
    largest = std::max(largest, dequantizedRowNorm(raw, r, 32, scales[0]));
  }
  EXPECT_GE(double(scales[16]), largest);
  EXPECT_LT(double(std::nextafter(scales[16], 0.0f)), largest);
  vsart_session_destroy(s);
}

// ---- the scaled GEMM with an FP8 output -----------------------------------

/// The B of vsart_cpu_scaled_gemm_quantize from its definition (in double).
double outputBound(float alpha, float aScale, const std::vector<uint8_t> &w,
                   int64_t n, int64_t k, const float *bias) {
  float wNorm;
  std::memcpy(&wNorm, w.data() + vsart_f8_rows_scales_offset(n * k) + n * 4,
              4);
  double biasMax = 0.0;
  for (int64_t j = 0; bias && j < n; ++j)
    biasMax = std::max(biasMax, std::fabs(double(bias[j])));
  return std::fabs(double(alpha)) * double(VSART_FP8_ROW_NORM_SLACK) * 448.0 *
             double(aScale) * double(wNorm) +
         biasMax;
}

double geluTanh(double z) {
  return 0.5 * z * (1.0 + std::tanh(0.7978845608028654 *
                                    (z + 0.044715 * z * z * z)));
}

struct GemmQuantCase {
  const char *name;
  int64_t m, n, k;
  float alpha;
  bool bias;
  vsart_epilogue_t epi;
};

// Every row gets B / 448; the bytes are vsart_cpu_scaled_gemm's fp32 output
// rounded as x * (448 / B); the dequantized output is within E4M3's rounding
// (2^-4 relative, or a subnormal step) of the product in double; nothing
// exceeds B.
TEST(ScaledGemmQuantize, MatchesDoubleReferenceWithinE4m3Rounding) {
  const GemmQuantCase cases[] = {
      {"37x48x64_bias_tanh", 37, 48, 64, 1.0f, true, VSART_EPILOGUE_GELU_TANH},
      {"37x48x64", 37, 48, 64, 1.0f, false, VSART_EPILOGUE_NONE},
      {"20x32x96_negative_alpha_bias", 20, 32, 96, -0.75f, true,
       VSART_EPILOGUE_NONE},
      {"33x80x128_alpha_tanh", 33, 80, 128, 2.5f, false,
       VSART_EPILOGUE_GELU_TANH},
  };
  for (const GemmQuantCase &c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<uint8_t> aq;
    std::vector<float> as;
    vsart_test::perTensorRows(c.m, c.k, 71, aq, as);
    const std::vector<float> w = randomVec(size_t(c.n * c.k), 72, -0.1f, 0.1f);
    const std::vector<float> biasVec = randomVec(size_t(c.n), 73, -0.5f, 0.5f);
    const float *bias = c.bias ? biasVec.data() : nullptr;
    const std::vector<uint8_t> wf8 = storeF8Tensor(w, c.n, c.k);
    std::vector<uint8_t> q(size_t(c.m * c.n), 0xaa);
    std::vector<float> s(size_t(c.m), -1.0f), c32(size_t(c.m * c.n));
    ASSERT_EQ(vsart_cpu_scaled_gemm_quantize(c.m, c.n, c.k, c.alpha, aq.data(),
                                             as.data(), wf8.data(), q.data(),
                                             s.data(), bias, c.epi),
              VSART_OK)
        << vsart_last_error();
    const double bound = outputBound(c.alpha, as[0], wf8, c.n, c.k, bias);
    const float b = float(bound), scale = b / 448.0f;
    for (float v : s)
      EXPECT_EQ(v, scale);
    ASSERT_EQ(vsart_cpu_scaled_gemm(c.m, c.n, c.k, c.alpha, aq.data(),
                                    as.data(), wf8.data(), c32.data(), c.n,
                                    bias, c.epi),
              VSART_OK);
    const float wScale = reinterpret_cast<const float *>(
        wf8.data() + vsart_f8_rows_scales_offset(c.n * c.k))[0];
    size_t bad = 0;
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        const size_t at = size_t(i * c.n + j);
        EXPECT_EQ(q[at], vsart::floatToE4m3(c32[at] * (448.0f / b))) << at;
        double dot = 0.0;
        for (int64_t p = 0; p < c.k; ++p)
          dot += double(vsart_e4m3_to_float(aq[size_t(i * c.k + p)])) *
                 as[0] *
                 double(vsart_e4m3_to_float(wf8[size_t(j * c.k + p)])) *
                 wScale;
        double ref = double(c.alpha) * dot + (bias ? double(bias[j]) : 0.0);
        if (c.epi == VSART_EPILOGUE_GELU_TANH)
          ref = geluTanh(ref);
        const double got = double(vsart_e4m3_to_float(q[at])) * s[size_t(i)];
        if (!(std::fabs(got - ref) <=
              std::ldexp(std::fabs(ref), -4) + std::ldexp(double(scale), -9)) &&
            ++bad <= 5)
          ADD_FAILURE() << "[" << i << "," << j << "]: got " << got
                        << ", expected " << ref;
        EXPECT_LE(std::fabs(ref), bound);
      }
    EXPECT_EQ(bad, 0u);
  }
}

TEST(ScaledGemmQuantize, RejectsBadArguments) {
  const int64_t m = 2, n = 16, k = 16;
  const std::vector<uint8_t> w =
      storeF8Tensor(randomVec(size_t(n * k), 74), n, k);
  uint8_t q[m * k] = {}, out[m * n];
  float s[m] = {0.01f, 0.01f}, os[m];
  struct Call {
    int64_t m, n, k;
    const uint8_t *q;
    const float *s;
    const void *w;
    uint8_t *out;
    float *os;
    vsart_epilogue_t epi;
  };
  const Call good = {m, n, k, q, s, w.data(), out, os, VSART_EPILOGUE_NONE};
  auto run = [](const Call &c) {
    return vsart_cpu_scaled_gemm_quantize(c.m, c.n, c.k, 1.0f, c.q, c.s, c.w,
                                          c.out, c.os, nullptr, c.epi);
  };
  ASSERT_EQ(run(good), VSART_OK) << vsart_last_error();
  auto rejects = [&](auto fault, const char *why) {
    Call bad = good;
    fault(bad);
    vsart_test::expectRejected(run(bad), "cpu_scaled_gemm_quantize: ", why);
  };
  rejects([](Call &c) { c.m = -1; }, "negative m");
  rejects([](Call &c) { c.n = -16; }, "negative n");
  rejects([](Call &c) { c.k = -16; }, "negative k");
  rejects([](Call &c) { c.q = nullptr; }, "null a_q");
  rejects([](Call &c) { c.s = nullptr; }, "null a_scales");
  rejects([](Call &c) { c.w = nullptr; }, "null w");
  rejects([](Call &c) { c.out = nullptr; }, "null out_q");
  rejects([](Call &c) { c.os = nullptr; }, "null out_scales");
  rejects([](Call &c) { c.epi = VSART_EPILOGUE_GELU_ERF; }, "erf GELU");
  rejects([](Call &c) { c.epi = static_cast<vsart_epilogue_t>(7); },
          "unknown epilogue");
  // No rows: nothing is read or written.
  EXPECT_EQ(run({0, n, k, nullptr, nullptr, nullptr, nullptr, nullptr,
                 VSART_EPILOGUE_NONE}),
            VSART_OK);
}

} // namespace

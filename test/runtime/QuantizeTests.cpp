// FP8 E4M3: the encoder against the format's definition (every code, ties,
// saturation), per-row quantization, the scaled GEMM against fp32 GEMMs,
// and sessions storing weights as F8E4M3_ROWS.
#include "DTypes.h"
#include "TestUtil.h"
#include "vsart_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

namespace {

using vsart_test::randomVec;
using vsart_test::relL2;

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

TEST(Session, StoresF8RowsWeightsQuantizedOnBind) {
  vsart_model_t m = f8Model();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK)
      << vsart_last_error();
  const std::vector<float> x = randomVec(4 * 32, 5), w = randomVec(16 * 32, 6),
                           b = randomVec(16, 7);
  // Bound from bf16 host data: converted to float, then quantized per row.
  std::vector<uint16_t> wBf16(w.size());
  std::vector<float> wRounded(w.size());
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

TEST(Session, RejectsF8RowsStorageOutsideFloatWeights) {
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
}

} // namespace

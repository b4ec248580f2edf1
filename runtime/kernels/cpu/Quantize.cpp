// FP8 E4M3 with per-row scales: row quantization and the scaled gemm over
// row-quantized activations and F8E4M3_ROWS weights (the CPU twins of the
// CUDA kernels, and the CPU target's own path).
#include "Quantize.h"
#include "../../src/DTypes.h"
#include "../../src/Internal.h"

#include <vector>

void vsart::cpu::quantizeRow(const float *x, int64_t cols, uint8_t *q,
                             float *scale) {
  float absMax = 0.0f;
  for (int64_t c = 0; c < cols; ++c)
    absMax = std::max(absMax, std::fabs(x[c]));
  float multiplier = 1.0f;
  vsart::e4m3RowScale(absMax, scale, &multiplier);
  for (int64_t c = 0; c < cols; ++c)
    q[c] = vsart::floatToE4m3(x[c] * multiplier);
}

extern "C" float vsart_e4m3_to_float(uint8_t byte) {
  return vsart::e4m3ToFloat(byte);
}

extern "C" vsart_status_t vsart_cpu_quantize_rows(const float *x, int64_t rows,
                                                  int64_t cols, int64_t ld,
                                                  uint8_t *q, float *scales) {
  using vsart::fail;
  if (rows < 0 || cols < 0 || ld < cols)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "quantize_rows: negative size or ld < cols");
  if (rows > 0 && (!scales || (cols > 0 && (!x || !q))))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "quantize_rows: null pointer");
  vsart::parallelFor(rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      vsart::cpu::quantizeRow(x + r * ld, cols, q + r * cols, &scales[r]);
  });
  return vsart::ok();
}

namespace {

// rows x cols E4M3 bytes times their row's scale, as floats.
std::vector<float> dequantize(const uint8_t *q, const float *scales,
                              int64_t rows, int64_t cols) {
  float table[256];
  for (int i = 0; i < 256; ++i)
    table[i] = vsart::e4m3ToFloat(uint8_t(i));
  std::vector<float> out(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[size_t(r * cols + c)] = table[q[r * cols + c]] * scales[r];
  return out;
}

} // namespace

// Each operand's stored values times its scales, then the fp32 gemm (which
// checks the sizes and applies bias and epilogue): the same products as
// cuBLASLt's outer-vector scaling up to rounding.
extern "C" vsart_status_t
vsart_cpu_scaled_gemm(int64_t m, int64_t n, int64_t k, float alpha,
                      const uint8_t *a_q, const float *a_scales, const void *w,
                      float *c, int64_t ldc, const float *bias,
                      vsart_epilogue_t epilogue) {
  if (m > 0 && n > 0 && k > 0 && (!a_q || !a_scales || !w))
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "scaled_gemm: null operand or scales");
  std::vector<float> a, b;
  if (m > 0 && n > 0 && k > 0) {
    const auto *wq = static_cast<const uint8_t *>(w);
    a = dequantize(a_q, a_scales, m, k);
    b = dequantize(wq,
                   reinterpret_cast<const float *>(
                       wq + vsart_f8_rows_scales_offset(n * k)),
                   n, k);
  }
  return vsart_cpu_gemm(0, 1, m, n, k, alpha, a.data(), k, b.data(), k, 0.0f,
                        c, ldc, bias, epilogue);
}

// The scaled GEMM into C, then C = residual + gate * C row by row (C and the
// residual must not alias: C is written before the residual is read).
extern "C" vsart_status_t vsart_cpu_scaled_gemm_residual(
    int64_t m, int64_t n, int64_t k, float alpha, const uint8_t *a_q,
    const float *a_scales, const void *w, float *c, int64_t ldc,
    const float *bias, const float *residual, const float *gate) {
  if (m > 0 && n > 0 && (!residual || residual == c))
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "scaled_gemm_residual: null residual or c == residual");
  if (vsart_status_t st = vsart_cpu_scaled_gemm(m, n, k, alpha, a_q, a_scales,
                                                w, c, ldc, bias,
                                                VSART_EPILOGUE_NONE))
    return st;
  vsart::parallelFor(m, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float &out = c[i * ldc + j];
        out = residual[i * ldc + j] + (gate ? gate[j] : 1.0f) * out;
      }
  });
  return vsart::ok();
}

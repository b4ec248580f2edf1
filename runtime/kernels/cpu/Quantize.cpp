// FP8 E4M3: row quantization, the scaled gemm over row-quantized activations
// and F8E4M3_ROWS weights (and its residual form), its form with an FP8
// output over F8E4M3_TENSOR weights, and the tensor quantizer of those
// weights (the CPU twins of the CUDA kernels, and the CPU target's own path).
#include "Quantize.h"
#include "../../src/DTypes.h"
#include "../../src/Internal.h"
#include "../QuantizeArgs.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace {

float absMax(const float *x, int64_t n) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    m = std::max(m, std::fabs(x[i]));
  return m;
}

/// The 2-norm of cols E4M3 bytes times `scale`, in double.
double dequantizedNorm(const uint8_t *q, int64_t cols, float scale) {
  double sum = 0.0;
  for (int64_t c = 0; c < cols; ++c) {
    const double v = double(vsart::e4m3ToFloat(q[c])) * double(scale);
    sum += v * v;
  }
  return std::sqrt(sum);
}

/// The smallest float >= v.
float roundUp(double v) {
  const float f = static_cast<float>(v);
  return double(f) < v
             ? std::nextafter(f, std::numeric_limits<float>::infinity())
             : f;
}

} // namespace

void vsart::cpu::quantizeRowWith(const float *x, int64_t cols,
                                 float multiplier, uint8_t *q) {
  for (int64_t c = 0; c < cols; ++c)
    q[c] = vsart::floatToE4m3(x[c] * multiplier);
}

void vsart::cpu::quantizeRow(const float *x, int64_t cols, uint8_t *q,
                             float *scale) {
  float multiplier = 1.0f;
  vsart::e4m3RowScale(absMax(x, cols), scale, &multiplier);
  quantizeRowWith(x, cols, multiplier, q);
}

// The tensor quantized as one row (the rule of vsart_cpu_quantize_rows), a
// row at a time; each row's norm read back from its bytes.
void vsart::cpu::quantizeTensor(const float *x, int64_t rows, int64_t cols,
                                uint8_t *storage) {
  float scale = 1.0f, multiplier = 1.0f;
  vsart::e4m3RowScale(absMax(x, rows * cols), &scale, &multiplier);
  auto *scales = reinterpret_cast<float *>(
      storage + vsart_f8_rows_scales_offset(rows * cols));
  std::vector<double> norms(size_t(rows), 0.0);
  vsart::parallelFor(rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      uint8_t *q = storage + r * cols;
      quantizeRowWith(x + r * cols, cols, multiplier, q);
      scales[r] = scale;
      norms[size_t(r)] = dequantizedNorm(q, cols, scale);
    }
  });
  double largest = 0.0;
  for (double v : norms)
    largest = std::max(largest, v);
  scales[rows] = roundUp(largest);
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

// rows x cols E4M3 bytes times their row's scale, scales[r * scaleStep] (a
// step of 0 gives every row scales[0]), as floats.
std::vector<float> dequantize(const uint8_t *q, const float *scales,
                              int64_t scaleStep, int64_t rows, int64_t cols) {
  float table[256];
  for (int i = 0; i < 256; ++i)
    table[i] = vsart::e4m3ToFloat(uint8_t(i));
  std::vector<float> out(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[size_t(r * cols + c)] =
          table[q[r * cols + c]] * scales[r * scaleStep];
  return out;
}

/// Each operand's stored values times its scales (A's aScaleStep apart,
/// W's one per row after its bytes), then the fp32 gemm (which checks the
/// sizes and applies bias and epilogue).
vsart_status_t dequantizedGemm(int64_t m, int64_t n, int64_t k, float alpha,
                               const uint8_t *a_q, const float *a_scales,
                               int64_t aScaleStep, const void *w, float *c,
                               int64_t ldc, const float *bias,
                               vsart_epilogue_t epilogue) {
  std::vector<float> a, b;
  if (m > 0 && n > 0 && k > 0) {
    const auto *wq = static_cast<const uint8_t *>(w);
    a = dequantize(a_q, a_scales, aScaleStep, m, k);
    b = dequantize(wq,
                   reinterpret_cast<const float *>(
                       wq + vsart_f8_rows_scales_offset(n * k)),
                   1, n, k);
  }
  return vsart_cpu_gemm(0, 1, m, n, k, alpha, a.data(), k, b.data(), k, 0.0f,
                        c, ldc, bias, epilogue);
}

} // namespace

// The same products as cuBLASLt's outer-vector scaling up to rounding.
extern "C" vsart_status_t
vsart_cpu_scaled_gemm(int64_t m, int64_t n, int64_t k, float alpha,
                      const uint8_t *a_q, const float *a_scales, const void *w,
                      float *c, int64_t ldc, const float *bias,
                      vsart_epilogue_t epilogue) {
  if (m > 0 && n > 0 && k > 0 && (!a_q || !a_scales || !w))
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "scaled_gemm: null operand or scales");
  return dequantizedGemm(m, n, k, alpha, a_q, a_scales, 1, w, c, ldc, bias,
                         epilogue);
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

namespace {

/// B of vsart_cpu_scaled_gemm_quantize, in double, as a float; w_norm is
/// the fp32 after the n row scales of the F8E4M3_TENSOR weight.
float outputBound(int64_t n, int64_t k, float alpha, float aScale,
                  const void *w, const float *bias) {
  if (n == 0)
    return 0.0f;
  float wNorm;
  std::memcpy(&wNorm,
              static_cast<const uint8_t *>(w) +
                  vsart_f8_rows_scales_offset(n * k) + size_t(n) * 4,
              sizeof(float));
  double biasMax = 0.0;
  for (int64_t j = 0; bias && j < n; ++j)
    biasMax = std::max(biasMax, std::fabs(double(bias[j])));
  return float(std::fabs(double(alpha)) * double(VSART_FP8_ROW_NORM_SLACK) *
                   448.0 * double(aScale) * double(wNorm) +
               biasMax);
}

} // namespace

// The product in fp32 as vsart_cpu_scaled_gemm computes it (A with one
// scale), then every row rounded with the scale the bound fixed.
extern "C" vsart_status_t vsart_cpu_scaled_gemm_quantize(
    int64_t m, int64_t n, int64_t k, float alpha, const uint8_t *a_q,
    const float *a_scales, const void *w, uint8_t *out_q, float *out_scales,
    const float *bias, vsart_epilogue_t epilogue) {
  if (vsart_status_t st = vsart::checkScaledGemmQuantizeArgs(
          "cpu_scaled_gemm_quantize", m, n, k, a_q, a_scales, w, out_q,
          out_scales, epilogue))
    return st;
  if (m == 0)
    return vsart::ok();
  float scale = 1.0f, multiplier = 1.0f;
  vsart::e4m3RowScale(outputBound(n, k, alpha, a_scales[0], w, bias), &scale,
                      &multiplier);
  std::vector<float> c(size_t(m * n));
  if (vsart_status_t st = dequantizedGemm(m, n, k, alpha, a_q, a_scales, 0, w,
                                          c.data(), n, bias, epilogue))
    return st;
  vsart::parallelFor(m, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      vsart::cpu::quantizeRowWith(c.data() + i * n, n, multiplier,
                                  out_q + i * n);
      out_scales[i] = scale;
    }
  });
  return vsart::ok();
}

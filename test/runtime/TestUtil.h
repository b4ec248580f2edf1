// Helpers shared by the runtime's gtest files.
#ifndef VSART_TEST_TESTUTIL_H
#define VSART_TEST_TESTUTIL_H

#include "vsart.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace vsart_test {

/// n floats uniform in [lo, hi), reproducible from `seed`.
inline std::vector<float> randomVec(size_t n, uint32_t seed, float lo = -1.0f,
                                    float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

/// |got - ref| / |ref| (L2 norms).
inline double relL2(const std::vector<float> &got,
                    const std::vector<float> &ref) {
  double e = 0, r = 0;
  for (size_t i = 0; i < got.size() && i < ref.size(); ++i) {
    e += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
    r += double(ref[i]) * ref[i];
  }
  return std::sqrt(e / r);
}

/// A (rows x cols) weight in F8E4M3_TENSOR storage, from the definition:
/// the tensor quantized as one row (vsart_cpu_quantize_rows), its scale
/// for every row, then the largest 2-norm of a dequantized row (in double)
/// rounded up to a float.
inline std::vector<uint8_t> storeF8Tensor(const std::vector<float> &w,
                                          int64_t rows, int64_t cols) {
  const int64_t count = rows * cols;
  const size_t at = vsart_f8_rows_scales_offset(count);
  std::vector<uint8_t> out(at + size_t(rows + 1) * sizeof(float));
  float scale = 1.0f;
  EXPECT_EQ(vsart_cpu_quantize_rows(w.data(), 1, count, count, out.data(),
                                    &scale),
            VSART_OK);
  double largest = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) {
      const double v =
          double(vsart_e4m3_to_float(out[size_t(r * cols + c)])) * scale;
      sum += v * v;
    }
    largest = std::max(largest, std::sqrt(sum));
    std::memcpy(out.data() + at + size_t(r) * 4, &scale, 4);
  }
  float norm = float(largest);
  if (double(norm) < largest)
    norm = std::nextafter(norm, INFINITY);
  std::memcpy(out.data() + at + size_t(rows) * 4, &norm, 4);
  return out;
}

/// Expects `st` to be an invalid-argument rejection whose message
/// (vsart_last_error) names `name`; `why` labels the case in failures.
inline void expectRejected(vsart_status_t st, const char *name,
                           const char *why) {
  EXPECT_EQ(st, VSART_ERROR_INVALID_ARGUMENT) << why;
  EXPECT_NE(std::string(vsart_last_error()).find(name), std::string::npos)
      << why << ": " << vsart_last_error();
}

/// A (m x k) as Wan's FFN-up sees it: random rows through the per-tensor
/// layer norm (with scale and bias), so every row's dequantized 2-norm is
/// within the bound the GEMM's output scale relies on.
inline void perTensorRows(int64_t m, int64_t k, uint32_t seed,
                          std::vector<uint8_t> &q,
                          std::vector<float> &scales) {
  const std::vector<float> x = randomVec(size_t(m * k), seed, -3.0f, 5.0f),
                           gamma = randomVec(size_t(k), seed + 1, 0.5f, 1.5f),
                           beta = randomVec(size_t(k), seed + 2, -0.2f, 0.2f);
  q.assign(size_t(m * k), 0);
  scales.assign(size_t(m), 0.0f);
  vsart_norm_quantize_args_t a = {};
  a.x = x.data();
  a.q = q.data();
  a.scales = scales.data();
  a.batch = 1, a.seq = m, a.dim = k;
  a.centered = 1;
  a.scale = gamma.data();
  a.bias = beta.data();
  a.eps = 1e-6f;
  a.per_tensor = 1;
  ASSERT_EQ(vsart_cpu_norm_quantize(&a), VSART_OK) << vsart_last_error();
}

/// Calls rejects(bad, why) for each argument fault the CPU and CUDA
/// norm_quantize both reject, `bad` a copy of the valid `a` with that one
/// fault: a null x, q or scales, a negative dim, or one half of the
/// modulation pair (set to `mod`, a readable buffer of dim values).
template <class Rejects>
void forSharedNormQuantizeFaults(const vsart_norm_quantize_args_t &a,
                                 const void *mod, Rejects &&rejects) {
  auto with = [&](auto fault, const char *why) {
    vsart_norm_quantize_args_t bad = a;
    fault(bad);
    rejects(bad, why);
  };
  using Args = vsart_norm_quantize_args_t;
  with([](Args &b) { b.x = nullptr; }, "null x");
  with([](Args &b) { b.q = nullptr; }, "null q");
  with([](Args &b) { b.scales = nullptr; }, "null scales");
  with([](Args &b) { b.dim = -b.dim; }, "negative dim");
  with([&](Args &b) { b.mod_shift = mod; }, "mod_shift alone");
  with([&](Args &b) { b.mod_scale = mod; }, "mod_scale alone");
}

} // namespace vsart_test

#endif // VSART_TEST_TESTUTIL_H

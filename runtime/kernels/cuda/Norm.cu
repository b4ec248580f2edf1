// layer_norm, rms_norm and softmax over the last dim: one warp per row, bf16
// in and out, fp32 math. A row is read from global memory once per pass
// (later passes mostly hit L1/L2); rows whose length is a multiple of 8 with
// 16-byte aligned data move in 16-byte vectors.
#include "Common.h"

#include <cuda_bf16.h>

#include <cstdint>

namespace {

using bf16 = __nv_bfloat16;
constexpr int kWarps = 8; // rows per block

enum class RowOp { LayerNorm, RmsNorm, Softmax };

__device__ float warpSum(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ float warpMax(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/// Calls f(i, x[i]) for this lane's elements, VEC consecutive ones a step.
template <int VEC, class F>
__device__ void forRow(const bf16 *x, int64_t dim, F &&f) {
  for (int64_t i = int64_t(threadIdx.x & 31) * VEC; i < dim; i += 32 * VEC) {
    if constexpr (VEC == 8) {
      const uint4 raw = *reinterpret_cast<const uint4 *>(x + i);
      const bf16 *v = reinterpret_cast<const bf16 *>(&raw);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        f(i + e, __bfloat162float(v[e]));
    } else {
      f(i, __bfloat162float(x[i]));
    }
  }
}

/// y[i] = g(i, x[i]) for this lane's elements (y may alias x).
template <int VEC, class G>
__device__ void mapRow(const bf16 *x, bf16 *y, int64_t dim, G &&g) {
  for (int64_t i = int64_t(threadIdx.x & 31) * VEC; i < dim; i += 32 * VEC) {
    if constexpr (VEC == 8) {
      uint4 raw = *reinterpret_cast<const uint4 *>(x + i);
      bf16 *v = reinterpret_cast<bf16 *>(&raw);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        v[e] = __float2bfloat16(g(i + e, __bfloat162float(v[e])));
      *reinterpret_cast<uint4 *>(y + i) = raw;
    } else {
      y[i] = __float2bfloat16(g(i, __bfloat162float(x[i])));
    }
  }
}

template <int VEC>
__device__ void normRow(const bf16 *x, bf16 *y, int64_t dim, const bf16 *scale,
                        const bf16 *bias, float eps, bool centered) {
  float mean = 0.0f;
  if (centered) {
    float sum = 0.0f;
    forRow<VEC>(x, dim, [&](int64_t, float v) { sum += v; });
    mean = warpSum(sum) / float(dim);
  }
  float var = 0.0f;
  forRow<VEC>(x, dim, [&](int64_t, float v) { var += (v - mean) * (v - mean); });
  const float inv = rsqrtf(warpSum(var) / float(dim) + eps);
  mapRow<VEC>(x, y, dim, [&](int64_t i, float v) {
    float r = (v - mean) * inv;
    if (scale)
      r *= __bfloat162float(scale[i]);
    if (bias)
      r += __bfloat162float(bias[i]);
    return r;
  });
}

/// An all -inf row yields 0 (the attention rule).
template <int VEC>
__device__ void softmaxRow(const bf16 *x, bf16 *y, int64_t dim) {
  float mx = -INFINITY;
  forRow<VEC>(x, dim, [&](int64_t, float v) { mx = fmaxf(mx, v); });
  mx = warpMax(mx);
  if (mx == -INFINITY) {
    mapRow<VEC>(x, y, dim, [](int64_t, float) { return 0.0f; });
    return;
  }
  float sum = 0.0f;
  forRow<VEC>(x, dim, [&](int64_t, float v) { sum += expf(v - mx); });
  const float inv = 1.0f / warpSum(sum);
  mapRow<VEC>(x, y, dim,
              [&](int64_t, float v) { return expf(v - mx) * inv; });
}

template <int VEC, RowOp OP>
__global__ void __launch_bounds__(kWarps * 32)
    rowKernel(const bf16 *x, bf16 *out, int64_t rows, int64_t dim,
              const bf16 *scale, const bf16 *bias, float eps) {
  const int64_t r = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (r >= rows) // whole warps leave together
    return;
  const bf16 *xr = x + r * dim;
  bf16 *yr = out + r * dim;
  if constexpr (OP == RowOp::Softmax)
    softmaxRow<VEC>(xr, yr, dim);
  else
    normRow<VEC>(xr, yr, dim, scale, bias, eps, OP == RowOp::LayerNorm);
}

template <RowOp OP>
vsart_status_t launchRows(const char *name, const void *x, void *out,
                          int64_t rows, int64_t dim, const void *scale,
                          const void *bias, float eps, void *stream) {
  using vsart::fail;
  if (rows < 0 || dim < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, std::string(name) + ": negative size");
  if (rows * dim == 0)
    return vsart::ok();
  if (!x || !out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, std::string(name) + ": null pointer");
  const int64_t blocks = (rows + kWarps - 1) / kWarps;
  if (blocks > INT32_MAX)
    return fail(VSART_ERROR_INVALID_ARGUMENT, std::string(name) + ": too many rows");
  const bool vec = dim % 8 == 0 &&
                   (reinterpret_cast<uintptr_t>(x) |
                    reinterpret_cast<uintptr_t>(out)) % 16 == 0;
  const auto *xp = static_cast<const bf16 *>(x);
  auto *op = static_cast<bf16 *>(out);
  const auto *sp = static_cast<const bf16 *>(scale);
  const auto *bp = static_cast<const bf16 *>(bias);
  cudaStream_t s = vsart::cuda::toStream(stream);
  if (vec)
    rowKernel<8, OP><<<unsigned(blocks), kWarps * 32, 0, s>>>(xp, op, rows, dim,
                                                             sp, bp, eps);
  else
    rowKernel<1, OP><<<unsigned(blocks), kWarps * 32, 0, s>>>(xp, op, rows, dim,
                                                             sp, bp, eps);
  if (vsart_status_t st = vsart::cuda::checkLaunch(name))
    return st;
  return vsart::ok();
}

} // namespace

extern "C" vsart_status_t vsart_cuda_layer_norm(const void *x, void *out,
                                                int64_t rows, int64_t dim,
                                                const void *scale,
                                                const void *bias, float eps,
                                                void *stream) {
  return launchRows<RowOp::LayerNorm>("cuda_layer_norm", x, out, rows, dim,
                                      scale, bias, eps, stream);
}

extern "C" vsart_status_t vsart_cuda_rms_norm(const void *x, void *out,
                                              int64_t rows, int64_t dim,
                                              const void *scale,
                                              const void *bias, float eps,
                                              void *stream) {
  return launchRows<RowOp::RmsNorm>("cuda_rms_norm", x, out, rows, dim, scale,
                                    bias, eps, stream);
}

extern "C" vsart_status_t vsart_cuda_softmax(const void *x, void *out,
                                             int64_t rows, int64_t dim,
                                             void *stream) {
  return launchRows<RowOp::Softmax>("cuda_softmax", x, out, rows, dim, nullptr,
                                    nullptr, 0.0f, stream);
}

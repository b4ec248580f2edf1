// Elementwise gemm epilogues (erf GELU after cuBLASLt, the k == 0 fill),
// the gate of a scaled gemm's residual form, folded into its per-channel
// scales and bias before the matmul, and the output scale of the scaled gemm
// with an FP8 output, fixed before its matmul.
#include "BlockReduce.cuh"
#include "Common.h"
#include "E4m3.cuh"

#include <cuda_bf16.h>

#include <algorithm>

namespace {

using bf16 = __nv_bfloat16;

__device__ float gelu(float x, vsart_epilogue_t epi) {
  if (epi == VSART_EPILOGUE_GELU_TANH) {
    const float c = 0.7978845608028654f; // sqrt(2/pi)
    return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
  }
  if (epi == VSART_EPILOGUE_GELU_ERF)
    return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
  return x;
}

/// Grid-stride loop over batch * m * n elements of C.
__global__ void epilogueKernel(bf16 *c, int64_t m, int64_t n, int64_t ldc,
                               int64_t strideC, int64_t total,
                               const bf16 *bias, vsart_epilogue_t epi,
                               bool fill) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += step) {
    const int64_t j = e % n, i = (e / n) % m, b = e / n / m;
    bf16 *p = c + b * strideC + i * ldc + j;
    float v = fill ? (bias ? __bfloat162float(bias[j]) : 0.0f)
                   : __bfloat162float(*p);
    *p = __float2bfloat16(gelu(v, epi));
  }
}

__global__ void gateKernel(const float *scales, const bf16 *bias,
                           const bf16 *gate, int64_t n, float *gatedScales,
                           bf16 *gatedBias) {
  const int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= n)
    return;
  const float g = __bfloat162float(gate[j]);
  gatedScales[j] = scales[j] * g;
  if (bias)
    gatedBias[j] = __float2bfloat16(__bfloat162float(bias[j]) * g);
}

constexpr int kScaleThreads = 256;
constexpr int64_t kScaleRowsPerBlock = 4096;

/// max |bias[j]| over j < n (bias may be null), for every thread of the
/// CTA (kScaleThreads).
__device__ float biasAbsMax(const bf16 *bias, int64_t n) {
  __shared__ float slots[kScaleThreads / 32];
  float m = 0.0f;
  for (int64_t j = threadIdx.x; bias && j < n; j += kScaleThreads)
    m = fmaxf(m, fabsf(__bfloat162float(bias[j])));
  return vsart::cuda::blockReduce<kScaleThreads>(
      m, slots, [](float a, float b) { return fmaxf(a, b); });
}

/// Each CTA computes B (in double, the CPU twin's order, no FMA
/// contraction) and writes the scales of its kScaleRowsPerBlock rows; the
/// first also writes the scalars for cuBLASLt.
__global__ void __launch_bounds__(kScaleThreads)
    fp8OutputScalesKernel(int64_t m, int64_t n, float alpha,
                          const float *aScales, const float *wScales,
                          const float *wNorm, const bf16 *bias,
                          float *outScales, float *scalars) {
  const float biasMax = biasAbsMax(bias, n), aScale = aScales[0];
  double bound =
      __dmul_rn(fabs(double(alpha)), double(VSART_FP8_ROW_NORM_SLACK));
  bound = __dmul_rn(__dmul_rn(bound, 448.0), double(aScale));
  bound = __dadd_rn(__dmul_rn(bound, double(n > 0 ? *wNorm : 0.0f)),
                    double(biasMax));
  float multiplier = 0.0f;
  const float scale = vsart::cuda::e4m3::rowScale(float(bound), &multiplier);
  const int64_t r0 = int64_t(blockIdx.x) * kScaleRowsPerBlock;
  for (int64_t r = r0 + threadIdx.x; r < m && r < r0 + kScaleRowsPerBlock;
       r += kScaleThreads)
    outScales[r] = scale;
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    scalars[0] = aScale;
    scalars[4] = n > 0 ? wScales[0] : 1.0f;
    scalars[8] = multiplier;
  }
}

} // namespace

namespace vsart::cuda {

vsart_status_t fp8OutputScales(int64_t m, int64_t n, float alpha,
                               const float *aScales, const float *wScales,
                               const void *bias, float *outScales,
                               float *scalars, cudaStream_t stream) {
  if (m == 0)
    return ok();
  const int64_t blocks = (m + kScaleRowsPerBlock - 1) / kScaleRowsPerBlock;
  fp8OutputScalesKernel<<<unsigned(blocks), kScaleThreads, 0, stream>>>(
      m, n, alpha, aScales, wScales, wScales + n,
      static_cast<const bf16 *>(bias), outScales, scalars);
  return checkLaunch("cuda_scaled_gemm_quantize: output scales");
}

vsart_status_t gateChannels(const float *scales, const void *bias,
                            const void *gate, int64_t n, float *gatedScales,
                            void *gatedBias, cudaStream_t stream) {
  if (n == 0)
    return ok();
  const int threads = 256;
  gateKernel<<<unsigned((n + threads - 1) / threads), threads, 0, stream>>>(
      scales, static_cast<const bf16 *>(bias), static_cast<const bf16 *>(gate),
      n, gatedScales, static_cast<bf16 *>(gatedBias));
  return checkLaunch("cuda_scaled_gemm_residual: gate");
}

vsart_status_t matrixEpilogue(void *c, int64_t m, int64_t n, int64_t ldc,
                              int64_t strideC, int64_t batch, const void *bias,
                              vsart_epilogue_t epi, bool fill,
                              cudaStream_t stream) {
  const int64_t total = m * n * batch;
  if (total == 0)
    return ok();
  const int threads = 256;
  const int64_t blocks = std::min<int64_t>((total + threads - 1) / threads, 65536);
  epilogueKernel<<<unsigned(blocks), threads, 0, stream>>>(
      static_cast<bf16 *>(c), m, n, ldc, strideC, total,
      static_cast<const bf16 *>(bias), epi, fill);
  if (vsart_status_t st = checkLaunch("cuda_gemm epilogue"))
    return st;
  return ok();
}

} // namespace vsart::cuda

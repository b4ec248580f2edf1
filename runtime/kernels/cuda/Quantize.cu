// Row quantization of bf16 activations to FP8 E4M3 with one fp32 scale per
// row (the CPU twin is kernels/cpu/Quantize.cpp): a warp per row, 16-byte
// loads, 8 bytes written per lane and vector. Rows of up to 6144 values stay
// in a warp's registers between the abs-max and the conversion, rows of up to
// 16384 in a CTA's; longer ones are read twice.
#include "Common.h"
#include "E4m3.cuh"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <cstdint>

namespace {

using bf16 = __nv_bfloat16;
using namespace vsart::cuda::e4m3;
constexpr int kWarps = 8; // rows per block

/// Loads this thread's VPT vectors of a row (vector i at element
/// (i * STRIDE + first) * 8; zeros past `cols`), every load before the
/// first use, and returns their max |x|.
template <int VPT, int STRIDE>
__device__ float loadRow(const bf16 *src, int64_t cols, int first,
                         uint4 (&v)[VPT]) {
#pragma unroll
  for (int i = 0; i < VPT; ++i) {
    const int64_t c = (int64_t(i) * STRIDE + first) * 8;
    v[i] = c < cols ? *reinterpret_cast<const uint4 *>(src + c)
                    : make_uint4(0, 0, 0, 0);
  }
  float absMax = 0.0f;
#pragma unroll
  for (int i = 0; i < VPT; ++i)
    absMax = fmaxf(absMax, absMax8(v[i]));
  return absMax;
}

/// Stores the vectors loadRow loaded as E4M3 bytes.
template <int VPT, int STRIDE>
__device__ void storeRow(uint8_t *dst, int64_t cols, int first,
                         const uint4 (&v)[VPT], float multiplier) {
#pragma unroll
  for (int i = 0; i < VPT; ++i) {
    const int64_t c = (int64_t(i) * STRIDE + first) * 8;
    if (c < cols)
      *reinterpret_cast<uint2 *>(dst + c) = toE4m3x8(v[i], multiplier);
  }
}

/// Rows of up to VPT * 256 values: each lane keeps its VPT 16-byte vectors
/// in registers, so the row is read from memory once.
template <int VPT>
__global__ void quantizeRowsInRegisters(const bf16 *x, int64_t rows,
                                        int64_t cols, int64_t ld, uint8_t *q,
                                        float *scales) {
  const int64_t row = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (row >= rows)
    return;
  const int lane = threadIdx.x & 31;
  uint4 v[VPT];
  float multiplier = 0.0f;
  const float scale =
      rowScale(warpMax(loadRow<VPT, 32>(x + row * ld, cols, lane, v)),
               &multiplier);
  if (lane == 0)
    scales[row] = scale;
  storeRow<VPT, 32>(q + row * cols, cols, lane, v, multiplier);
}

/// Longer rows: a CTA of kRowThreads per row, each thread keeping VPT
/// 16-byte vectors in registers (thread t has vectors i * kRowThreads + t),
/// the maximum reduced through shared memory; the row is read once.
constexpr int kRowThreads = 128;

template <int VPT>
__global__ void __launch_bounds__(kRowThreads)
    quantizeLongRows(const bf16 *x, int64_t cols, int64_t ld, uint8_t *q,
                     float *scales) {
  __shared__ float warpMaxima[kRowThreads / 32];
  const int64_t row = blockIdx.x;
  uint4 v[VPT];
  float absMax =
      warpMax(loadRow<VPT, kRowThreads>(x + row * ld, cols, threadIdx.x, v));
  if (threadIdx.x % 32 == 0)
    warpMaxima[threadIdx.x / 32] = absMax;
  __syncthreads();
  absMax = warpMaxima[0];
#pragma unroll
  for (int w = 1; w < kRowThreads / 32; ++w)
    absMax = fmaxf(absMax, warpMaxima[w]);
  float multiplier = 0.0f;
  const float scale = rowScale(absMax, &multiplier);
  if (threadIdx.x == 0)
    scales[row] = scale;
  storeRow<VPT, kRowThreads>(q + row * cols, cols, threadIdx.x, v,
                             multiplier);
}

/// Rows too long for registers: a pass for the maximum, then one that reads
/// the row again (mostly from L2) and converts it.
__global__ void quantizeRowsTwoPass(const bf16 *x, int64_t rows, int64_t cols,
                                    int64_t ld, uint8_t *q, float *scales) {
  const int64_t row = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (row >= rows)
    return;
  const int lane = threadIdx.x & 31;
  const bf16 *src = x + row * ld;
  float absMax = 0.0f;
  for (int64_t c = int64_t(lane) * 8; c < cols; c += 256)
    absMax = fmaxf(absMax, absMax8(*reinterpret_cast<const uint4 *>(src + c)));
  float multiplier = 0.0f;
  const float scale = rowScale(warpMax(absMax), &multiplier);
  if (lane == 0)
    scales[row] = scale;
  uint8_t *dst = q + row * cols;
  for (int64_t c = int64_t(lane) * 8; c < cols; c += 256)
    *reinterpret_cast<uint2 *>(dst + c) =
        toE4m3x8(*reinterpret_cast<const uint4 *>(src + c), multiplier);
}

/// The smallest of `counts` at least `need`, or 0 when none is.
template <size_t N> int atLeast(int64_t need, const int (&counts)[N]) {
  for (int c : counts)
    if (need <= c)
      return c;
  return 0;
}

constexpr int kLaneVectors[] = {1, 2, 3, 4, 6, 8, 12, 16, 20, 24};
constexpr int kThreadVectors[] = {6, 8, 10, 12, 16};

} // namespace

extern "C" vsart_status_t vsart_cuda_quantize_rows(const void *x, int64_t rows,
                                                   int64_t cols, int64_t ld,
                                                   void *q, float *scales,
                                                   void *stream) {
  using vsart::fail;
  if (rows < 0 || cols < 0 || ld < cols)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_quantize_rows: negative size or ld < cols");
  if (cols % 8 || ld % 8)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_quantize_rows: cols and ld must be multiples of 8");
  if (rows == 0)
    return vsart::ok();
  if (!scales || (cols > 0 && (!x || !q)) ||
      reinterpret_cast<uintptr_t>(x) % 16 || reinterpret_cast<uintptr_t>(q) % 8)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_quantize_rows: null or misaligned pointer");
  const int64_t blocks = (rows + kWarps - 1) / kWarps;
  if (blocks > INT32_MAX)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_quantize_rows: too many rows");
  const auto *in = static_cast<const bf16 *>(x);
  auto *out = static_cast<uint8_t *>(q);
  const cudaStream_t s = vsart::cuda::toStream(stream);
  // A warp per row up to 6144 values, a CTA per row up to 16384, else two
  // passes.
  const int lane = atLeast((cols + 255) / 256, kLaneVectors);
  const int thread = atLeast((cols + 8 * kRowThreads - 1) / (8 * kRowThreads),
                             kThreadVectors);
  if (lane)
    vsart::cuda::withConstant<1, 2, 3, 4, 6, 8, 12, 16, 20, 24>(
        lane, [&](auto n) {
          quantizeRowsInRegisters<decltype(n)::value>
              <<<unsigned(blocks), kWarps * 32, 0, s>>>(in, rows, cols, ld,
                                                        out, scales);
        });
  else if (thread && rows <= INT32_MAX)
    vsart::cuda::withConstant<6, 8, 10, 12, 16>(thread, [&](auto n) {
      quantizeLongRows<decltype(n)::value>
          <<<unsigned(rows), kRowThreads, 0, s>>>(in, cols, ld, out, scales);
    });
  else
    quantizeRowsTwoPass<<<unsigned(blocks), kWarps * 32, 0, s>>>(
        in, rows, cols, ld, out, scales);
  return vsart::cuda::checkLaunch("cuda_quantize_rows");
}

// Row quantization of bf16 activations to FP8 E4M3 with one fp32 scale per
// row (the CPU twin is kernels/cpu/Quantize.cpp): a warp per row, 16-byte
// loads, 8 bytes written per lane and vector. Rows of up to 6144 values stay
// in registers between the abs-max and the conversion; longer ones are read
// twice.
#include "Common.h"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <cstdint>

namespace {

using bf16 = __nv_bfloat16;
constexpr int kWarps = 8; // rows per block

/// max |x| over 8 bf16 values.
__device__ float absMax8(uint4 raw) {
  const auto *v = reinterpret_cast<const __nv_bfloat162 *>(&raw);
  float m = 0.0f;
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    const float2 f = __bfloat1622float2(v[e]);
    m = fmaxf(m, fmaxf(fabsf(f.x), fabsf(f.y)));
  }
  return m;
}

/// 8 bf16 values times `multiplier` as E4M3 bytes (element 0 lowest).
__device__ uint2 toE4m3x8(uint4 raw, float multiplier) {
  const auto *v = reinterpret_cast<const __nv_bfloat162 *>(&raw);
  uint32_t packed[2] = {0, 0};
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    const float2 f = __bfloat1622float2(v[e]);
    const float2 scaled = {__fmul_rn(f.x, multiplier),
                           __fmul_rn(f.y, multiplier)};
    const __nv_fp8x2_storage_t two =
        __nv_cvt_float2_to_fp8x2(scaled, __NV_SATFINITE, __NV_E4M3);
    packed[e / 2] |= uint32_t(two) << (16 * (e % 2)); // x in the low byte
  }
  return make_uint2(packed[0], packed[1]);
}

/// The row's multiplier (448 / max |x|) after the warp's reduction of
/// `absMax`; lane 0 stores its scale. The CPU twin's rule (e4m3RowScale):
/// a zero, NaN or infinite maximum keeps scale 1.
__device__ float rowMultiplier(float absMax, float *scale) {
  for (int o = 16; o > 0; o >>= 1)
    absMax = fmaxf(absMax, __shfl_xor_sync(0xffffffffu, absMax, o));
  const bool plain = !(absMax > 0.0f) || isinf(absMax);
  if ((threadIdx.x & 31) == 0)
    *scale = plain ? 1.0f : __fdiv_rn(absMax, 448.0f);
  return plain ? 1.0f : __fdiv_rn(448.0f, absMax);
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
  const bf16 *src = x + row * ld;
  uint4 v[VPT];
#pragma unroll
  for (int i = 0; i < VPT; ++i) { // every load before the first use
    const int64_t c = (int64_t(i) * 32 + lane) * 8;
    v[i] = c < cols ? *reinterpret_cast<const uint4 *>(src + c)
                    : make_uint4(0, 0, 0, 0);
  }
  float absMax = 0.0f;
#pragma unroll
  for (int i = 0; i < VPT; ++i)
    absMax = fmaxf(absMax, absMax8(v[i]));
  const float multiplier = rowMultiplier(absMax, scales + row);
  uint8_t *dst = q + row * cols;
#pragma unroll
  for (int i = 0; i < VPT; ++i) {
    const int64_t c = (int64_t(i) * 32 + lane) * 8;
    if (c < cols)
      *reinterpret_cast<uint2 *>(dst + c) = toE4m3x8(v[i], multiplier);
  }
}

/// Longer rows: a pass for the maximum, then one that reads the row again
/// (mostly from L1/L2) and converts it.
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
  const float multiplier = rowMultiplier(absMax, scales + row);
  uint8_t *dst = q + row * cols;
  for (int64_t c = int64_t(lane) * 8; c < cols; c += 256)
    *reinterpret_cast<uint2 *>(dst + c) =
        toE4m3x8(*reinterpret_cast<const uint4 *>(src + c), multiplier);
}

/// Vectors per lane that keep a row of `cols` in registers (one of the
/// instantiated counts), or 0 when the row is too long for that.
int vectorsPerLane(int64_t cols) {
  const int64_t need = (cols + 255) / 256;
  for (int vpt : {1, 2, 3, 4, 6, 8, 12, 16, 20, 24})
    if (need <= vpt)
      return vpt;
  return 0;
}

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
  const int vpt = vectorsPerLane(cols);
  if (vpt == 0)
    quantizeRowsTwoPass<<<unsigned(blocks), kWarps * 32, 0, s>>>(
        in, rows, cols, ld, out, scales);
  else
    vsart::cuda::withConstant<1, 2, 3, 4, 6, 8, 12, 16, 20, 24>(
        vpt, [&](auto n) {
          quantizeRowsInRegisters<decltype(n)::value>
              <<<unsigned(blocks), kWarps * 32, 0, s>>>(in, rows, cols, ld,
                                                        out, scales);
        });
  return vsart::cuda::checkLaunch("cuda_quantize_rows");
}

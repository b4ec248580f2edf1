// E4M3 pieces shared by the FP8 kernels (row quantization, FP8 attention):
// bf16 vectors to E4M3 bytes with a multiplier, and the scale rule of
// vsart_cpu_quantize_rows (the host's e4m3RowScale).
#ifndef VSART_KERNELS_CUDA_E4M3_CUH
#define VSART_KERNELS_CUDA_E4M3_CUH

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <cstdint>

namespace vsart::cuda::e4m3 {

/// max |x| over 8 bf16 values.
__device__ inline float absMax8(uint4 raw) {
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
__device__ inline uint2 toE4m3x8(uint4 raw, float multiplier) {
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

__device__ inline float warpMax(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/// The row's scale (max |x| / 448) and, in *multiplier, 448 / max |x|: the
/// CPU twin's rule (e4m3RowScale), a zero, NaN or infinite maximum keeping
/// scale 1.
__device__ inline float rowScale(float absMax, float *multiplier) {
  const bool plain = !(absMax > 0.0f) || isinf(absMax);
  *multiplier = plain ? 1.0f : __fdiv_rn(448.0f, absMax);
  return plain ? 1.0f : __fdiv_rn(absMax, 448.0f);
}

} // namespace vsart::cuda::e4m3

#endif // VSART_KERNELS_CUDA_E4M3_CUH

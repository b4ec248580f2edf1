// layer_norm, rms_norm (optionally followed by the AdaLN modulation) and
// softmax over the last dim: one warp per row, bf16 in and out, fp32 math.
// Rows of up to 6144 elements whose length is a multiple of 8 with 16-byte
// aligned data are loaded once into registers in 16-byte vectors, every
// load issued before the first use; other rows are read from global memory
// once per pass (later passes mostly hit L1/L2). A norm may quantize its
// rows to FP8 E4M3 instead of writing them (vsart_cuda_norm_quantize), with
// a scale per row or one for all rows that a one-CTA kernel computes first.
#include "BlockReduce.cuh"
#include "Common.h"
#include "../NormArgs.h"
#include "../SparseArgs.h"
#include "E4m3.cuh"

#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace {

using bf16 = __nv_bfloat16;
constexpr int kWarps = 8; // rows per block

enum class RowOp { LayerNorm, RmsNorm, Softmax };

/// What a norm's rows become: bf16 rows, or E4M3 bytes with a scale per row
/// (its maximum) or with the one scale of the per-tensor bound.
enum class Quant { None, Rows, Tensor };

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

/// One call's rows: x and out are (rows, dim); scale, bias (dim) and the
/// AdaLN modulation mod_shift, mod_scale ((rows / seq, dim): row r takes
/// row r / seq) may be null. A quantizing norm writes q (rows, dim) and
/// scales (rows) instead of out; with one scale for all rows, bound points
/// at B (device memory, vsart_norm_quantize_args_t::per_tensor).
struct RowParams {
  const bf16 *x;
  bf16 *out;
  int64_t rows, dim;
  const bf16 *scale, *bias;
  float eps;
  const bf16 *modShift, *modScale;
  int64_t seq;
  uint8_t *q = nullptr;
  float *scales = nullptr;
  const float *bound = nullptr;
};

/// Row r's epilogue: affine, then modulation (its row found once).
struct RowEpilogue {
  const bf16 *scale, *bias, *shift, *modScale;
  float mean, inv;
  __device__ RowEpilogue(const RowParams &p, int64_t r, float mean, float inv)
      : scale(p.scale), bias(p.bias),
        shift(p.modShift ? p.modShift + r / p.seq * p.dim : nullptr),
        modScale(p.modScale ? p.modScale + r / p.seq * p.dim : nullptr),
        mean(mean), inv(inv) {}
  __device__ __forceinline__ float operator()(int64_t i, float v) const {
    float y = (v - mean) * inv;
    if (scale)
      y *= __bfloat162float(scale[i]);
    if (bias)
      y += __bfloat162float(bias[i]);
    if (modScale)
      y *= 1.0f + __bfloat162float(modScale[i]);
    if (shift)
      y += __bfloat162float(shift[i]);
    return y;
  }
  /// Elements i .. i + 7 (i a multiple of 8, the operands 16-byte aligned):
  /// each operand read as one vector.
  __device__ __forceinline__ void apply8(int64_t i, float (&v)[8]) const {
    auto load = [&](const bf16 *p, float (&f)[8]) {
      const uint4 raw = *reinterpret_cast<const uint4 *>(p + i);
      const bf16 *b = reinterpret_cast<const bf16 *>(&raw);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        f[e] = __bfloat162float(b[e]);
    };
    float a[8];
#pragma unroll
    for (int e = 0; e < 8; ++e)
      v[e] = (v[e] - mean) * inv;
    if (scale) {
      load(scale, a);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        v[e] *= a[e];
    }
    if (bias) {
      load(bias, a);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        v[e] += a[e];
    }
    if (modScale) {
      load(modScale, a);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        v[e] *= 1.0f + a[e];
    }
    if (shift) {
      load(shift, a);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        v[e] += a[e];
    }
  }
};

template <int VEC>
__device__ void normRow(const RowParams &p, int64_t r, bool centered) {
  const bf16 *x = p.x + r * p.dim;
  float mean = 0.0f;
  if (centered) {
    float sum = 0.0f;
    forRow<VEC>(x, p.dim, [&](int64_t, float v) { sum += v; });
    mean = warpSum(sum) / float(p.dim);
  }
  float var = 0.0f;
  forRow<VEC>(x, p.dim,
              [&](int64_t, float v) { var += (v - mean) * (v - mean); });
  const RowEpilogue epilogue(p, r, mean,
                            rsqrtf(warpSum(var) / float(p.dim) + p.eps));
  mapRow<VEC>(x, p.out + r * p.dim, p.dim, epilogue);
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
__global__ void __launch_bounds__(kWarps * 32) rowKernel(RowParams p) {
  const int64_t r = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (r >= p.rows) // whole warps leave together
    return;
  if constexpr (OP == RowOp::Softmax)
    softmaxRow<VEC>(p.x + r * p.dim, p.out + r * p.dim, p.dim);
  else
    normRow<VEC>(p, r, OP == RowOp::LayerNorm);
}

/// A row held in registers as bf16 (4 registers per 8 elements): lane l
/// has elements (c * 32 + l) * 8 + e.
template <int N> struct RegRow {
  uint4 raw[N];
  int64_t dim;
  __device__ int64_t at(int c) const {
    return (int64_t(c) * 32 + (threadIdx.x & 31)) * 8;
  }
  __device__ bool has(int c) const { return at(c) < dim; }
  __device__ float get(int c, int e) const {
    return __bfloat162float(reinterpret_cast<const bf16 *>(&raw[c])[e]);
  }
  __device__ void load(const bf16 *x) {
#pragma unroll
    for (int c = 0; c < N; ++c)
      if (has(c))
        raw[c] = *reinterpret_cast<const uint4 *>(x + at(c));
  }
  /// This lane's fold of f(acc, x) over its part of the row.
  template <class F> __device__ float fold(float init, F &&f) const {
    float acc = init;
#pragma unroll
    for (int c = 0; c < N; ++c)
      if (has(c)) {
#pragma unroll
        for (int e = 0; e < 8; ++e)
          acc = f(acc, get(c, e));
      }
    return acc;
  }
  /// The epilogue of chunk c's 8 elements, rounded to bf16.
  __device__ uint4 normChunk(int c, const RowEpilogue &epilogue) const {
    float v[8];
#pragma unroll
    for (int e = 0; e < 8; ++e)
      v[e] = get(c, e);
    epilogue.apply8(at(c), v);
    uint4 out;
    bf16 *b = reinterpret_cast<bf16 *>(&out);
#pragma unroll
    for (int e = 0; e < 8; ++e)
      b[e] = __float2bfloat16(v[e]);
    return out;
  }
  /// y = the epilogue of x, 8 elements at a time.
  __device__ void storeNorm(bf16 *y, const RowEpilogue &epilogue) const {
#pragma unroll
    for (int c = 0; c < N; ++c)
      if (has(c))
        *reinterpret_cast<uint4 *>(y + at(c)) = normChunk(c, epilogue);
  }
  /// The bf16 values storeNorm writes, kept in place of x and quantized as
  /// vsart_cuda_quantize_rows quantizes a row: E4M3 bytes to q (8 per
  /// chunk), the row's scale to *scale.
  __device__ void storeNormQuantized(uint8_t *q, float *scale,
                                     const RowEpilogue &epilogue) {
    float absMax = 0.0f;
#pragma unroll
    for (int c = 0; c < N; ++c)
      if (has(c)) {
        raw[c] = normChunk(c, epilogue);
        absMax = fmaxf(absMax, vsart::cuda::e4m3::absMax8(raw[c]));
      }
    float multiplier = 0.0f;
    const float s = vsart::cuda::e4m3::rowScale(warpMax(absMax), &multiplier);
    if ((threadIdx.x & 31) == 0)
      *scale = s;
#pragma unroll
    for (int c = 0; c < N; ++c)
      if (has(c))
        *reinterpret_cast<uint2 *>(q + at(c)) =
            vsart::cuda::e4m3::toE4m3x8(raw[c], multiplier);
  }
  /// storeNormQuantized with the scale of the bound B (the scale of every
  /// row) instead of the row's maximum: no reduction.
  __device__ void storeNormBounded(uint8_t *q, float *scale,
                                   const RowEpilogue &epilogue, float bound) {
#pragma unroll
    for (int c = 0; c < N; ++c)
      if (has(c))
        raw[c] = normChunk(c, epilogue);
    float multiplier = 0.0f;
    const float s = vsart::cuda::e4m3::rowScale(bound, &multiplier);
    if ((threadIdx.x & 31) == 0)
      *scale = s;
#pragma unroll
    for (int c = 0; c < N; ++c)
      if (has(c))
        *reinterpret_cast<uint2 *>(q + at(c)) =
            vsart::cuda::e4m3::toE4m3x8(raw[c], multiplier);
  }
  /// y[i] = g(i, x[i]).
  template <class G> __device__ void store(bf16 *y, G &&g) const {
#pragma unroll
    for (int c = 0; c < N; ++c)
      if (has(c)) {
        uint4 out;
        bf16 *b = reinterpret_cast<bf16 *>(&out);
#pragma unroll
        for (int e = 0; e < 8; ++e)
          b[e] = __float2bfloat16(g(at(c) + e, get(c, e)));
        *reinterpret_cast<uint4 *>(y + at(c)) = out;
      }
  }
};

/// Q other than None: a norm's rows go to p.q and p.scales instead of
/// p.out.
template <int N, RowOp OP, Quant Q>
__global__ void __launch_bounds__(kWarps * 32) regRowKernel(RowParams p) {
  static_assert(Q == Quant::None || OP != RowOp::Softmax, "norms only");
  const int64_t r = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (r >= p.rows)
    return;
  float bound = 0.0f;
  if constexpr (Q == Quant::Tensor) // loaded while the row loads
    bound = *p.bound;
  RegRow<N> row;
  row.dim = p.dim;
  row.load(p.x + r * p.dim);
  if constexpr (OP == RowOp::Softmax) {
    bf16 *yr = p.out + r * p.dim;
    const float mx = warpMax(
        row.fold(-INFINITY, [](float a, float v) { return fmaxf(a, v); }));
    if (mx == -INFINITY) { // an all -inf row yields 0 (the attention rule)
      row.store(yr, [](int64_t, float) { return 0.0f; });
      return;
    }
    const float inv = 1.0f / warpSum(row.fold(
        0.0f, [&](float a, float v) { return a + expf(v - mx); }));
    row.store(yr, [&](int64_t, float v) { return expf(v - mx) * inv; });
  } else {
    float mean = 0.0f;
    if constexpr (OP == RowOp::LayerNorm)
      mean = warpSum(row.fold(0.0f, [](float a, float v) { return a + v; })) /
             float(p.dim);
    const float var = warpSum(row.fold(0.0f, [&](float a, float v) {
      return a + (v - mean) * (v - mean);
    }));
    const RowEpilogue epilogue(p, r, mean, rsqrtf(var / float(p.dim) + p.eps));
    if constexpr (Q == Quant::Rows)
      row.storeNormQuantized(p.q + r * p.dim, p.scales + r, epilogue);
    else if constexpr (Q == Quant::Tensor)
      row.storeNormBounded(p.q + r * p.dim, p.scales + r, epilogue, bound);
    else
      row.storeNorm(p.out + r * p.dim, epilogue);
  }
}

/// The norm of a (batch, seq) row in registers, then interleaved RoPE on
/// each head's pairs (cos, sin: (seq, head_dim / 2)), written to the row's
/// place in (batch, heads, seq, head_dim) (headsMajor) or in place.
struct RopeParams {
  RowParams row;
  const bf16 *cos, *sin;
  int64_t seq, heads, headDim;
  bool headsMajor;
};

/// Row r (of batch * seq) of a norm_rope: normalised, rotated and stored;
/// stored(c, chunk) then sees each 8-value chunk c as written (bf16).
template <int N, bool CENTERED, class Stored>
__device__ __forceinline__ void ropeRow(const RopeParams &p, int64_t r,
                                        Stored &&stored) {
  const int64_t dim = p.row.dim, b = r / p.seq, s = r % p.seq;
  RegRow<N> row;
  row.dim = dim;
  row.load(p.row.x + r * dim);
  float mean = 0.0f;
  if constexpr (CENTERED)
    mean = warpSum(row.fold(0.0f, [](float a, float v) { return a + v; })) /
           float(dim);
  const float var = warpSum(row.fold(
      0.0f, [&](float a, float v) { return a + (v - mean) * (v - mean); }));
  const RowEpilogue epilogue(p.row, r, mean, rsqrtf(var / float(dim) + p.row.eps));
  // Head and position in 32 bits, stepped from chunk to chunk instead of a
  // 64-bit division per chunk: the pooling kernel issues instructions 56 %
  // of its cycles; 104.0 -> 101.0 us a call at Wan 1.3B on an H100.
  const int headDim = int(p.headDim);
  const bf16 *cosRow = p.cos + s * (p.headDim / 2);
  const bf16 *sinRow = p.sin + s * (p.headDim / 2);
  bf16 *outRow = p.row.out + (p.headsMajor
                                  ? (b * p.heads * p.seq + s) * p.headDim
                                  : r * dim);
  const int64_t headStride = p.headsMajor ? p.seq * p.headDim : p.headDim;
  int h = int(row.at(0)) / headDim, d = int(row.at(0)) - h * headDim;
#pragma unroll
  for (int c = 0; c < N; ++c) {
    if (c > 0) // chunk c starts 256 elements after chunk c - 1
      for (d += 256; d >= headDim; d -= headDim)
        ++h;
    if (row.has(c)) {
      const int64_t i = row.at(c);
      float v[8];
#pragma unroll
      for (int e = 0; e < 8; ++e)
        v[e] = row.get(c, e);
      epilogue.apply8(i, v);
      // Four pairs: their cos and sin are 4 consecutive table entries.
      const uint2 cr = *reinterpret_cast<const uint2 *>(cosRow + d / 2);
      const uint2 sr = *reinterpret_cast<const uint2 *>(sinRow + d / 2);
      const bf16 *cb = reinterpret_cast<const bf16 *>(&cr);
      const bf16 *sb = reinterpret_cast<const bf16 *>(&sr);
      uint4 out;
      bf16 *o = reinterpret_cast<bf16 *>(&out);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float cj = __bfloat162float(cb[j]), sj = __bfloat162float(sb[j]);
        o[2 * j] = __float2bfloat16(v[2 * j] * cj - v[2 * j + 1] * sj);
        o[2 * j + 1] = __float2bfloat16(v[2 * j] * sj + v[2 * j + 1] * cj);
      }
      *reinterpret_cast<uint4 *>(outRow + h * headStride + d) = out;
      stored(c, out);
    }
  }
}

template <int N, bool CENTERED>
__global__ void __launch_bounds__(kWarps * 32) regRowRopeKernel(RopeParams p) {
  const int64_t r = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (r < p.row.rows)
    ropeRow<N, CENTERED>(p, r, [](int, const uint4 &) {});
}

/// VSA's tiles of a norm_rope's output and where their means go
/// (vsart_norm_rope_args_t::pooled; head_dim % 8 == 0, so no padding).
struct TilePool {
  const int64_t *off; // tiles + 1, device
  float *pooled;      // (batch, heads, tiles, head_dim)
  int64_t tiles;
};

/// One CTA per (tile, batch entry): warp w norms and rotates the tile's rows
/// w, w + kWarps, ... like regRowRopeKernel and adds the bf16 values it
/// stores to fp32 sums in registers; the warps' sums meet in shared memory
/// (kWarps x dim floats) and add up in warp order (deterministic).
template <int N, bool CENTERED>
__global__ void __launch_bounds__(kWarps * 32)
    regRowRopePoolKernel(RopeParams p, TilePool pool) {
  extern __shared__ float4 partial4[];
  float *partial = reinterpret_cast<float *>(partial4);
  const int64_t t = blockIdx.x, b = blockIdx.y, dim = p.row.dim;
  const int64_t r0 = pool.off[t], r1 = pool.off[t + 1];
  const int warp = threadIdx.x / 32;
  float sum[N][8];
#pragma unroll
  for (int c = 0; c < N; ++c)
#pragma unroll
    for (int e = 0; e < 8; ++e)
      sum[c][e] = 0.0f;
  for (int64_t s = r0 + warp; s < r1; s += kWarps)
    ropeRow<N, CENTERED>(p, b * p.seq + s, [&](int c, const uint4 &chunk) {
      const bf16 *v = reinterpret_cast<const bf16 *>(&chunk);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        sum[c][e] += __bfloat162float(v[e]);
    });
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int c = 0; c < N; ++c) {
    const int64_t at = (int64_t(c) * 32 + lane) * 8; // RegRow's layout
    if (at < dim) {
      float4 *dst = reinterpret_cast<float4 *>(partial + warp * dim + at);
      dst[0] = make_float4(sum[c][0], sum[c][1], sum[c][2], sum[c][3]);
      dst[1] = make_float4(sum[c][4], sum[c][5], sum[c][6], sum[c][7]);
    }
  }
  __syncthreads();
  const float count = float(r1 - r0);
  for (int64_t i = threadIdx.x; i < dim; i += kWarps * 32) {
    float total = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w)
      total += partial[w * dim + i];
    const int64_t h = i / p.headDim, d = i % p.headDim;
    pool.pooled[((b * p.heads + h) * pool.tiles + t) * p.headDim + d] =
        total / count;
  }
}

/// Register chunks (256 elements each) a row of `dim` needs, rounded up to
/// an instantiated size; 0 when the row does not fit.
constexpr int kRegChunkSizes[] = {1, 2, 4, 6, 8, 12, 16, 20, 24};

int regChunks(int64_t dim) {
  for (int n : kRegChunkSizes)
    if (dim <= int64_t(n) * 256)
      return n;
  return 0;
}

/// f(std::integral_constant<int, N>()) for the instantiated chunk count N.
template <class F> void withRegChunks(int chunks, F &&f) {
  vsart::cuda::withConstant<1, 2, 4, 6, 8, 12, 16, 20, 24>(chunks, f);
}

template <RowOp OP, Quant Q = Quant::None>
void launchRegRows(int chunks, unsigned blocks, cudaStream_t s,
                   const RowParams &p) {
  withRegChunks(chunks, [&](auto n) {
    regRowKernel<decltype(n)::value, OP, Q><<<blocks, kWarps * 32, 0, s>>>(p);
  });
}

template <RowOp OP>
vsart_status_t launchRows(const char *name, RowParams p, void *stream) {
  using vsart::fail;
  if (p.rows < 0 || p.dim < 0 || p.seq < 1)
    return fail(VSART_ERROR_INVALID_ARGUMENT, std::string(name) + ": negative size");
  if (p.rows * p.dim == 0)
    return vsart::ok();
  if (!p.x || !p.out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, std::string(name) + ": null pointer");
  const int64_t blocks = (p.rows + kWarps - 1) / kWarps;
  if (blocks > INT32_MAX)
    return fail(VSART_ERROR_INVALID_ARGUMENT, std::string(name) + ": too many rows");
  // 16-byte vectors need every row operand aligned (arena and weights are).
  const bool vec = p.dim % 8 == 0 &&
                   (reinterpret_cast<uintptr_t>(p.x) |
                    reinterpret_cast<uintptr_t>(p.out) |
                    reinterpret_cast<uintptr_t>(p.scale) |
                    reinterpret_cast<uintptr_t>(p.bias) |
                    reinterpret_cast<uintptr_t>(p.modShift) |
                    reinterpret_cast<uintptr_t>(p.modScale)) % 16 == 0;
  cudaStream_t s = vsart::cuda::toStream(stream);
  if (vec && regChunks(p.dim) > 0)
    launchRegRows<OP>(regChunks(p.dim), unsigned(blocks), s, p);
  else if (vec)
    rowKernel<8, OP><<<unsigned(blocks), kWarps * 32, 0, s>>>(p);
  else
    rowKernel<1, OP><<<unsigned(blocks), kWarps * 32, 0, s>>>(p);
  if (vsart_status_t st = vsart::cuda::checkLaunch(name))
    return st;
  return vsart::ok();
}

RowParams rowParams(const void *x, void *out, int64_t rows, int64_t dim,
                    const void *scale, const void *bias, float eps) {
  return {static_cast<const bf16 *>(x), static_cast<bf16 *>(out), rows, dim,
          static_cast<const bf16 *>(scale), static_cast<const bf16 *>(bias),
          eps, nullptr, nullptr, 1};
}

/// The modulated form: (batch, seq) rows, modulation rows per batch entry.
template <RowOp OP>
vsart_status_t launchModulated(const char *name, const void *x, void *out,
                               int64_t batch, int64_t seq, int64_t dim,
                               const void *scale, const void *bias, float eps,
                               const void *shift, const void *modScale,
                               void *stream) {
  if (batch < 0 || seq < 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       std::string(name) + ": negative size");
  RowParams p = rowParams(x, out, batch * seq, dim, scale, bias, eps);
  p.modShift = static_cast<const bf16 *>(shift);
  p.modScale = static_cast<const bf16 *>(modScale);
  p.seq = seq > 0 ? seq : 1;
  return launchRows<OP>(name, p, stream);
}

} // namespace

extern "C" vsart_status_t vsart_cuda_layer_norm(const void *x, void *out,
                                                int64_t rows, int64_t dim,
                                                const void *scale,
                                                const void *bias, float eps,
                                                void *stream) {
  return launchRows<RowOp::LayerNorm>(
      "cuda_layer_norm", rowParams(x, out, rows, dim, scale, bias, eps), stream);
}

extern "C" vsart_status_t vsart_cuda_rms_norm(const void *x, void *out,
                                              int64_t rows, int64_t dim,
                                              const void *scale,
                                              const void *bias, float eps,
                                              void *stream) {
  return launchRows<RowOp::RmsNorm>(
      "cuda_rms_norm", rowParams(x, out, rows, dim, scale, bias, eps), stream);
}

extern "C" vsart_status_t vsart_cuda_softmax(const void *x, void *out,
                                             int64_t rows, int64_t dim,
                                             void *stream) {
  return launchRows<RowOp::Softmax>(
      "cuda_softmax", rowParams(x, out, rows, dim, nullptr, nullptr, 0.0f),
      stream);
}

extern "C" vsart_status_t vsart_cuda_layer_norm_modulate(
    const void *x, void *out, int64_t batch, int64_t seq, int64_t dim,
    const void *scale, const void *bias, float eps, const void *mod_shift,
    const void *mod_scale, void *stream) {
  return launchModulated<RowOp::LayerNorm>("cuda_layer_norm_modulate", x, out,
                                           batch, seq, dim, scale, bias, eps,
                                           mod_shift, mod_scale, stream);
}

extern "C" vsart_status_t vsart_cuda_rms_norm_modulate(
    const void *x, void *out, int64_t batch, int64_t seq, int64_t dim,
    const void *scale, const void *bias, float eps, const void *mod_shift,
    const void *mod_scale, void *stream) {
  return launchModulated<RowOp::RmsNorm>("cuda_rms_norm_modulate", x, out,
                                         batch, seq, dim, scale, bias, eps,
                                         mod_shift, mod_scale, stream);
}

namespace {

template <bool CENTERED>
void launchRopeRows(int chunks, unsigned blocks, cudaStream_t s,
                    const RopeParams &p) {
  withRegChunks(chunks, [&](auto n) {
    regRowRopeKernel<decltype(n)::value, CENTERED>
        <<<blocks, kWarps * 32, 0, s>>>(p);
  });
}

bool aligned(const void *p, uintptr_t bytes) {
  return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

/// Register chunks up to which the fused pooling keeps its sums in
/// registers (3072 values a row: 128 registers at Wan 1.3B's 1536, none
/// spilled); wider rows pool in a pass of their own.
constexpr int kPoolChunks = 12;

/// Whether regRowRopePoolKernel takes `a`: sums in registers, its shared
/// memory available, and tiles small enough (128 rows on average) that a
/// CTA per tile still fills the GPU.
bool fusedPoolFits(const vsart_norm_rope_args_t &a, int chunks, int smem) {
  int device = 0, limit = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                             device) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return chunks <= kPoolChunks && smem <= limit &&
         a.seq <= 128 * a.num_tiles;
}

template <bool CENTERED>
vsart_status_t launchRopePool(int chunks, int smem, cudaStream_t s,
                              const RopeParams &p, const TilePool &pool,
                              int64_t batch) {
  vsart_status_t st = VSART_OK;
  vsart::cuda::withConstant<1, 2, 4, 6, 8, 12>(chunks, [&](auto n) {
    auto kernel = regRowRopePoolKernel<decltype(n)::value, CENTERED>;
    if (smem > 48 * 1024)
      st = vsart::cuda::check(
          cudaFuncSetAttribute(kernel,
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               smem),
          "cuda_norm_rope: shared memory");
    if (!st)
      kernel<<<dim3(unsigned(pool.tiles), unsigned(batch)), kWarps * 32, smem,
               s>>>(p, pool);
  });
  return st;
}

/// The tile means of `a`'s output: fused into the rows' pass where it fits,
/// else the rows and then vsart_cuda_vsa_select's pooling over them.
vsart_status_t normRopePooled(const vsart_norm_rope_args_t &a,
                              const RopeParams &p, int64_t blocks,
                              cudaStream_t s) {
  const int chunks = regChunks(p.row.dim);
  const int smem = int(kWarps * p.row.dim * int64_t(sizeof(float)));
  if (fusedPoolFits(a, chunks, smem)) {
    const TilePool pool = {a.tile_offsets, a.pooled, a.num_tiles};
    return a.centered ? launchRopePool<true>(chunks, smem, s, p, pool, a.batch)
                      : launchRopePool<false>(chunks, smem, s, p, pool,
                                              a.batch);
  }
  if (a.centered)
    launchRopeRows<true>(chunks, unsigned(blocks), s, p);
  else
    launchRopeRows<false>(chunks, unsigned(blocks), s, p);
  if (vsart_status_t st = vsart::cuda::checkLaunch("cuda_norm_rope"))
    return st;
  int64_t strides[3];
  vsart::normRopeOutStrides(a, strides);
  return vsart::cuda::poolTiles("cuda_norm_rope", a.out, strides, a.batch,
                                a.heads, a.head_dim, a.tile_offsets,
                                a.num_tiles, a.pooled, s);
}

} // namespace

extern "C" vsart_status_t vsart_cuda_norm_rope(const vsart_norm_rope_args_t *a,
                                               void *stream) {
  using vsart::fail;
  if (!a)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_norm_rope: null args");
  if (a->batch < 0 || a->seq < 0 || a->heads < 0 || a->head_dim < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_norm_rope: negative size");
  const int64_t dim = a->heads * a->head_dim, rows = a->batch * a->seq;
  if (rows * dim == 0)
    return vsart::ok();
  if (a->head_dim % 8 != 0 || regChunks(dim) == 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_norm_rope: head_dim must be a multiple of 8 and heads * "
                "head_dim at most 6144");
  if (!a->x || !a->out || !a->cos || !a->sin)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_norm_rope: null pointer");
  if (!aligned(a->x, 16) || !aligned(a->out, 16) || !aligned(a->scale, 16) ||
      !aligned(a->bias, 16) || !aligned(a->cos, 8) || !aligned(a->sin, 8))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_norm_rope: x, out, scale and bias must be 16-byte "
                "aligned, cos and sin 8-byte aligned");
  const int64_t blocks = (rows + kWarps - 1) / kWarps;
  if (blocks > INT32_MAX)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_norm_rope: too many rows");
  if (a->pooled) {
    if (vsart_status_t st = vsart::checkTiles("cuda_norm_rope", a->num_tiles,
                                              a->tile_offsets, a->seq, false))
      return st;
    if (a->head_dim > 256 || a->batch > 65535)
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  "cuda_norm_rope: pooling takes head_dim <= 256 and at most "
                  "65535 batches");
  }
  RopeParams p;
  p.row = rowParams(a->x, a->out, rows, dim, a->scale, a->bias, a->eps);
  p.cos = static_cast<const bf16 *>(a->cos);
  p.sin = static_cast<const bf16 *>(a->sin);
  p.seq = a->seq;
  p.heads = a->heads;
  p.headDim = a->head_dim;
  p.headsMajor = a->heads_major != 0;
  cudaStream_t s = vsart::cuda::toStream(stream);
  if (a->pooled) {
    if (vsart_status_t st = normRopePooled(*a, p, blocks, s))
      return st;
  } else if (a->centered)
    launchRopeRows<true>(regChunks(dim), unsigned(blocks), s, p);
  else
    launchRopeRows<false>(regChunks(dim), unsigned(blocks), s, p);
  if (vsart_status_t st = vsart::cuda::checkLaunch("cuda_norm_rope"))
    return st;
  return vsart::ok();
}

namespace {

/// The shared checks, then the CUDA kernel's layout rules.
vsart_status_t checkNormQuantize(const vsart_norm_quantize_args_t *a) {
  using vsart::fail;
  if (vsart_status_t st = vsart::checkNormQuantizeArgs("cuda_norm_quantize", a))
    return st;
  if (a->dim % 8 != 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_norm_quantize: dim must be a multiple of 8");
  const int64_t rows = a->batch * a->seq;
  if (rows == 0)
    return VSART_OK;
  if (!aligned(a->x, 16) || !aligned(a->scale, 16) || !aligned(a->bias, 16) ||
      !aligned(a->mod_shift, 16) || !aligned(a->mod_scale, 16) ||
      !aligned(a->q, 8) || !aligned(a->scales, 4))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_norm_quantize: x, scale, bias, mod_shift and mod_scale "
                "must be 16-byte aligned, q 8-byte aligned");
  if ((rows + kWarps - 1) / kWarps > INT32_MAX)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_norm_quantize: too many rows");
  return VSART_OK;
}

// One CTA of the bound kernel: at Wan's 2 x 1536 parameters it takes about
// 10 us on an H100, mostly latency (the loads, four block reductions).
constexpr int kBoundThreads = 1024;

/// B of vsart_norm_quantize_args_t::per_tensor from p's bf16 parameters
/// over `batches` modulation rows, in double like the CPU twin (without
/// FMA contraction), written to *bound as a float. One CTA.
__global__ void __launch_bounds__(kBoundThreads)
    tensorBoundKernel(RowParams p, int64_t batches, float *bound) {
  __shared__ double slots[kBoundThreads / 32];
  auto at = [](const bf16 *v, int64_t i, double absent) {
    return v ? double(__bfloat162float(v[i])) : absent;
  };
  double best = 0.0;
  for (int64_t b = 0; b < batches; ++b) {
    double maxA = 0.0, sumC = 0.0;
#pragma unroll 2
    for (int64_t i = threadIdx.x; i < p.dim; i += kBoundThreads) {
      const int64_t bi = b * p.dim + i;
      const double mod = __dadd_rn(1.0, at(p.modScale, bi, 0.0));
      const double a = __dmul_rn(at(p.scale, i, 1.0), mod);
      const double c = __dadd_rn(__dmul_rn(at(p.bias, i, 0.0), mod),
                                 at(p.modShift, bi, 0.0));
      maxA = fmax(maxA, fabs(a));
      sumC = __dadd_rn(sumC, __dmul_rn(c, c));
    }
    maxA = vsart::cuda::blockReduce<kBoundThreads>(
        maxA, slots, [](double x, double y) { return fmax(x, y); });
    sumC = vsart::cuda::blockReduce<kBoundThreads>(
        sumC, slots, [](double x, double y) { return __dadd_rn(x, y); });
    best = fmax(best,
                __dadd_rn(__dmul_rn(maxA, sqrt(double(p.dim))), sqrt(sumC)));
  }
  if (threadIdx.x == 0)
    *bound = float(best);
}

/// The fallback's rounding with the bound's scale: x (rows x dim bf16,
/// contiguous, dim % 8 == 0) to q, every row's scale to scales.
__global__ void quantizeBoundedKernel(const bf16 *x, int64_t rows,
                                      int64_t dim, const float *bound,
                                      uint8_t *q, float *scales) {
  float multiplier = 0.0f;
  const float s = vsart::cuda::e4m3::rowScale(*bound, &multiplier);
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t v = first; v < rows * dim / 8; v += step)
    *reinterpret_cast<uint2 *>(q + v * 8) = vsart::cuda::e4m3::toE4m3x8(
        *reinterpret_cast<const uint4 *>(x + v * 8), multiplier);
  for (int64_t r = first; r < rows; r += step)
    scales[r] = s;
}

/// Rows too long for registers: the norm into stream-ordered bf16 scratch,
/// then vsart_cuda_quantize_rows, or with p.bound the one scale of the
/// bound (the scratch is freed, stream-ordered, after it).
template <RowOp OP>
vsart_status_t normThenQuantize(RowParams p, void *stream) {
  const cudaStream_t s = vsart::cuda::toStream(stream);
  vsart::cuda::CallScratch scratch(/*managed=*/false, s);
  void *normed = nullptr;
  if (vsart_status_t st =
          scratch.allocate(size_t(p.rows * p.dim) * sizeof(bf16),
                           "cuda_norm_quantize: cudaMallocAsync", &normed))
    return st;
  p.out = static_cast<bf16 *>(normed);
  if (vsart_status_t st = launchRows<OP>("cuda_norm_quantize", p, stream))
    return st;
  if (!p.bound)
    return vsart_cuda_quantize_rows(normed, p.rows, p.dim, p.dim, p.q,
                                    p.scales, stream);
  const int64_t vectors = p.rows * p.dim / 8;
  const int threads = 256;
  const int64_t blocks = std::min<int64_t>((vectors + threads - 1) / threads,
                                           4096);
  quantizeBoundedKernel<<<unsigned(blocks), threads, 0, s>>>(
      p.out, p.rows, p.dim, p.bound, p.q, p.scales);
  return vsart::cuda::checkLaunch("cuda_norm_quantize");
}

/// The norm of p quantized: in registers when the row fits, else through
/// scratch.
template <RowOp OP>
vsart_status_t normQuantize(const RowParams &p, void *stream) {
  const int chunks = regChunks(p.dim);
  if (chunks == 0)
    return normThenQuantize<OP>(p, stream);
  const unsigned blocks = unsigned((p.rows + kWarps - 1) / kWarps);
  const cudaStream_t s = vsart::cuda::toStream(stream);
  if (p.bound)
    launchRegRows<OP, Quant::Tensor>(chunks, blocks, s, p);
  else
    launchRegRows<OP, Quant::Rows>(chunks, blocks, s, p);
  if (vsart_status_t st = vsart::cuda::checkLaunch("cuda_norm_quantize"))
    return st;
  return vsart::ok();
}

} // namespace

extern "C" vsart_status_t
vsart_cuda_norm_quantize(const vsart_norm_quantize_args_t *a, void *stream) {
  if (vsart_status_t st = checkNormQuantize(a))
    return st;
  const int64_t rows = a->batch * a->seq;
  if (rows == 0)
    return vsart::ok();
  RowParams p = rowParams(a->x, nullptr, rows, a->dim, a->scale, a->bias,
                          a->eps);
  p.modShift = static_cast<const bf16 *>(a->mod_shift);
  p.modScale = static_cast<const bf16 *>(a->mod_scale);
  p.seq = a->seq;
  p.q = a->q;
  p.scales = a->scales;
  // B in stream-ordered scratch, freed after the kernels that read it.
  vsart::cuda::CallScratch scratch(/*managed=*/false,
                                   vsart::cuda::toStream(stream));
  if (a->per_tensor) {
    void *bound = nullptr;
    if (vsart_status_t st = scratch.allocate(
            sizeof(float), "cuda_norm_quantize: cudaMallocAsync", &bound))
      return st;
    p.bound = static_cast<float *>(bound);
    tensorBoundKernel<<<1, kBoundThreads, 0, vsart::cuda::toStream(stream)>>>(
        p, p.modScale ? a->batch : 1, static_cast<float *>(bound));
    if (vsart_status_t st = vsart::cuda::checkLaunch("cuda_norm_quantize"))
      return st;
  }
  return a->centered ? normQuantize<RowOp::LayerNorm>(p, stream)
                     : normQuantize<RowOp::RmsNorm>(p, stream);
}

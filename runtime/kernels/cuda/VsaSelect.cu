// VSA coarse stage on the GPU, the twin of vsart_cpu_vsa_select: bf16 q/k/v
// and coarse output, fp32 pooling, scores, selection and softmax.
//
// Two kernels on the caller's stream:
//   1. poolKernel, one CTA per (tile, batch, q head | k head | v head): the
//      fp32 mean of the tile's rows (vector loads when the layout allows),
//      reduced across row groups in a fixed order, into fp32 scratch of
//      (batch, heads, num_tiles, Dp) per tensor, Dp = head_dim rounded up to
//      4 and zero-padded.
//   2. selectKernel, one CTA of 8 warps per (QT query tiles, head, batch),
//      QT = 8 * RW: pooled q rows in shared memory; key tiles staged 32 at a
//      time, a lane per key tile, a warp per RW query rows (fp32 FMA) give
//      the QT x num_tiles scores in shared memory. Each warp then selects the
//      top_k of each of its rows exactly: the scores become order-preserving
//      uint32 keys in place, a 32-step bitwise search finds the k-th largest
//      key, then one ordered ballot pass writes every key above it and the
//      lowest-index ones equal to it, ascending (NaN ranks last, +0 == -0,
//      as on the CPU).
//      Finally the softmax weights times the pooled v (staged like k) give
//      the coarse rows, rounded to bf16 and copied to every row of the tile.
// Scratch: (batch * (heads + 2 * kv_heads) * num_tiles * Dp) floats from
// cudaMallocAsync on the stream, released with cudaFreeAsync after the
// kernels (stream-ordered; nothing is kept between calls). Shared memory of
// kernel 2 grows with num_tiles (QT x num_tiles floats): RW = 2 up to about
// 3,000 tiles, RW = 1 up to about 6,000, then the call fails.
// The tile offsets live on the device and are not checked here.
#include "Common.h"
#include "../SparseArgs.h"

#include <cuda_bf16.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>


namespace {

using bf16 = __nv_bfloat16;
constexpr int kThreads = 256, kWarps = kThreads / 32;
constexpr int kKeyChunk = 32; // key tiles staged at once: one per lane
constexpr int kMaxHeadDim = 256;

/// The unsigned type moving VEC bf16 at once.
template <int VEC> struct RawOf;
template <> struct RawOf<8> { using T = uint4; };
template <> struct RawOf<4> { using T = uint2; };
template <> struct RawOf<2> { using T = uint32_t; };
template <> struct RawOf<1> { using T = uint16_t; };

template <int VEC>
__device__ __forceinline__ void loadVec(const bf16 *p, float (&f)[VEC]) {
  const typename RawOf<VEC>::T raw =
      *reinterpret_cast<const typename RawOf<VEC>::T *>(p);
  const bf16 *e = reinterpret_cast<const bf16 *>(&raw);
#pragma unroll
  for (int i = 0; i < VEC; ++i)
    f[i] = __bfloat162float(e[i]);
}

template <int VEC>
__device__ __forceinline__ void copyVec(bf16 *dst, const bf16 *src) {
  using Raw = typename RawOf<VEC>::T;
  *reinterpret_cast<Raw *>(dst) = *reinterpret_cast<const Raw *>(src);
}

__device__ __forceinline__ float warpSum(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warpMax(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// ---- 1. pooling ------------------------------------------------------------

struct PoolParams {
  const bf16 *x[3];   // q, k, v
  int64_t st[3][3];   // their (batch, head, seq) strides
  float *pooled[3];   // (batch, heads of x, tiles, dimPad) each
  const int64_t *off; // tile offsets (device)
  int heads, kvHeads, tiles, dim, dimPad;
};

template <int VEC>
__global__ void __launch_bounds__(kThreads) poolKernel(PoolParams p) {
  __shared__ float part[kThreads * VEC]; // row group x dim partial sums
  const int t = blockIdx.x, b = blockIdx.y;
  int which = 0, head = blockIdx.z, heads = p.heads;
  if (head >= p.heads) {
    head -= p.heads, which = 1, heads = p.kvHeads;
    if (head >= p.kvHeads)
      head -= p.kvHeads, which = 2;
  }
  const int64_t r0 = p.off[t], r1 = p.off[t + 1];
  const int ncols = p.dim / VEC; // the host picks VEC dividing dim
  const int groups = ncols > 0 ? kThreads / ncols : 0;
  const int col = ncols > 0 ? int(threadIdx.x) % ncols : 0;
  const int grp = ncols > 0 ? int(threadIdx.x) / ncols : 0;
  if (grp < groups) {
    const int64_t *st = p.st[which];
    const bf16 *base = p.x[which] + b * st[0] + head * st[1] + col * VEC;
    float acc[VEC] = {};
#pragma unroll 4
    for (int64_t r = r0 + grp; r < r1; r += groups) {
      float f[VEC];
      loadVec<VEC>(base + r * st[2], f);
#pragma unroll
      for (int e = 0; e < VEC; ++e)
        acc[e] += f[e];
    }
#pragma unroll
    for (int e = 0; e < VEC; ++e)
      part[grp * p.dim + col * VEC + e] = acc[e];
  }
  __syncthreads();
  float *dst =
      p.pooled[which] + ((int64_t(b) * heads + head) * p.tiles + t) * p.dimPad;
  const float count = float(r1 - r0);
  for (int d = threadIdx.x; d < p.dimPad; d += kThreads) {
    float sum = 0.0f;
    if (d < p.dim)
      for (int g = 0; g < groups; ++g)
        sum += part[g * p.dim + d];
    dst[d] = d < p.dim ? sum / count : 0.0f;
  }
}

// ---- 2. scores, selection, softmax, coarse output --------------------------

struct SelectParams {
  const float *pq, *pk, *pv;
  const int64_t *off;
  int64_t *listOffsets;
  int32_t *lists;
  bf16 *out; // may be null
  int64_t os[3];
  int64_t numLists;
  int heads, kvHeads, group, tiles, topK, dim, dimPad, outPitch;
  float scale;
};

/// Shared memory of selectKernel<RW> in bytes.
size_t selectSmem(int rw, int64_t tiles, int64_t dimPad) {
  const int64_t qt = kWarps * rw;
  return size_t(4 * (qt * dimPad + kKeyChunk * (dimPad + 4) + qt * tiles + qt));
}

/// Keys ordered like the scores (NaN lowest, both zeros equal).
__device__ __forceinline__ uint32_t orderKey(float f) {
  if (isnan(f))
    return 0u;
  if (f == 0.0f)
    return 0x80000000u;
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/// Stages pooled rows [j0, j0 + kKeyChunk) of `src` (zero past `tiles`) into
/// dst with row pitch dimPad + 4 (conflict-free float4 reads, a row a lane).
__device__ void stageRows(float *dst, const float *src, int j0, int tiles,
                          int dimPad) {
  const int vecs = dimPad / 4;
  for (int idx = threadIdx.x; idx < kKeyChunk * vecs; idx += kThreads) {
    const int row = idx / vecs, c = idx % vecs;
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (j0 + row < tiles)
      v = reinterpret_cast<const float4 *>(src + int64_t(j0 + row) * dimPad)[c];
    reinterpret_cast<float4 *>(dst + row * (dimPad + 4))[c] = v;
  }
}

/// The float whose orderKey is `key` (NaN for 0; -0 comes back as +0).
__device__ __forceinline__ float fromOrderKey(uint32_t key) {
  return __uint_as_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key);
}

/// Writes the top k of key[0 .. n) (lower index first on equal keys) to
/// list in ascending index order. One warp; each lane touches only the
/// entries j == lane (mod 32).
__device__ void selectTopK(const uint32_t *key, int n, int k, int32_t *list,
                           int lane) {
  uint32_t kth = 0; // the largest value with at least k keys >= it
  for (int bit = 31; bit >= 0; --bit) {
    const uint32_t cand = kth | (1u << bit);
    unsigned cnt = 0;
    for (int j = lane; j < n; j += 32)
      cnt += key[j] >= cand;
    if (__reduce_add_sync(0xffffffffu, cnt) >= unsigned(k))
      kth = cand;
  }
  unsigned above = 0;
  for (int j = lane; j < n; j += 32)
    above += key[j] > kth;
  const int needEqual = k - int(__reduce_add_sync(0xffffffffu, above));
  const unsigned lower = (1u << lane) - 1u;
  int written = 0, equalSeen = 0;
  for (int j0 = 0; j0 < n; j0 += 32) {
    const int j = j0 + lane;
    const uint32_t kj = j < n ? key[j] : 0u;
    const bool equal = j < n && kj == kth;
    const unsigned equalMask = __ballot_sync(0xffffffffu, equal);
    const bool take =
        j < n && (kj > kth ||
                  (equal && equalSeen + __popc(equalMask & lower) < needEqual));
    const unsigned takeMask = __ballot_sync(0xffffffffu, take);
    if (take)
      list[written + __popc(takeMask & lower)] = j;
    written += __popc(takeMask);
    equalSeen += __popc(equalMask);
  }
}

template <int RW, int VEC>
__global__ void __launch_bounds__(kThreads, 2) selectKernel(SelectParams p) {
  constexpr int QT = kWarps * RW;
  extern __shared__ float4 smem4[];
  const int T = p.tiles, Dp = p.dimPad, kPitch = Dp + 4;
  float *qS = reinterpret_cast<float *>(smem4); // QT x Dp, later coarse bf16
  float *kS = qS + QT * Dp;                     // kKeyChunk x kPitch: k, v
  float *sS = kS + kKeyChunk * kPitch;          // QT x T: scores, weights
  float *invS = sS + QT * T;                    // QT: 1 / softmax sums
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int i0 = blockIdx.x * QT, h = blockIdx.y, b = blockIdx.z;
  const int g = h / p.group;
  const float *pq = p.pq + (int64_t(b) * p.heads + h) * T * Dp;
  const float *pk = p.pk + (int64_t(b) * p.kvHeads + g) * T * Dp;
  const float *pv = p.pv + (int64_t(b) * p.kvHeads + g) * T * Dp;
  if (blockIdx.x == 0 && h == 0 && b == 0 && threadIdx.x == 0)
    p.listOffsets[p.numLists] = p.numLists * p.topK;

  for (int idx = threadIdx.x; idx < QT * Dp / 4; idx += kThreads) {
    const int row = idx / (Dp / 4);
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (i0 + row < T)
      v = reinterpret_cast<const float4 *>(pq + int64_t(i0) * Dp)[idx];
    reinterpret_cast<float4 *>(qS)[idx] = v;
  }

  // Scores: lane = key tile of the chunk, warp = RW query rows.
  for (int j0 = 0; j0 < T; j0 += kKeyChunk) {
    __syncthreads();
    stageRows(kS, pk, j0, T, Dp);
    __syncthreads();
    float acc[RW] = {};
    const float *kr = kS + lane * kPitch;
    for (int d = 0; d < Dp; d += 4) {
      const float4 kv = *reinterpret_cast<const float4 *>(kr + d);
#pragma unroll
      for (int r = 0; r < RW; ++r) {
        const float4 qv =
            *reinterpret_cast<const float4 *>(qS + (warp * RW + r) * Dp + d);
        acc[r] = fmaf(qv.x, kv.x, acc[r]);
        acc[r] = fmaf(qv.y, kv.y, acc[r]);
        acc[r] = fmaf(qv.z, kv.z, acc[r]);
        acc[r] = fmaf(qv.w, kv.w, acc[r]);
      }
    }
    if (j0 + lane < T)
#pragma unroll
      for (int r = 0; r < RW; ++r)
        sS[(warp * RW + r) * T + j0 + lane] = p.scale * acc[r];
  }

  // Selection and softmax weights, a warp per row (its own rows only).
  for (int r = 0; r < RW; ++r) {
    const int row = warp * RW + r, i = i0 + row;
    if (i >= T)
      break;
    float *s = sS + row * T;
    uint32_t *key = reinterpret_cast<uint32_t *>(s); // in place, per lane
    float m = -INFINITY;
    for (int j = lane; j < T; j += 32) {
      m = fmaxf(m, s[j]);
      key[j] = orderKey(s[j]);
    }
    m = warpMax(m);
    const int64_t l = (int64_t(b) * p.heads + h) * T + i;
    selectTopK(key, T, p.topK, p.lists + l * p.topK, lane);
    if (lane == 0)
      p.listOffsets[l] = l * p.topK;
    if (!p.out)
      continue;
    float sum = 0.0f;
    for (int j = lane; j < T; j += 32) {
      const float e = m == -INFINITY ? 0.0f : expf(fromOrderKey(key[j]) - m);
      s[j] = e;
      sum += e;
    }
    sum = warpSum(sum);
    if (lane == 0)
      invS[row] = sum > 0.0f ? 1.0f / sum : 0.0f;
  }
  if (!p.out)
    return;

  // Coarse rows: lane = 4 dims (two groups of 128), warp = RW query rows.
  float acc[RW][2][4] = {};
  for (int j0 = 0; j0 < T; j0 += kKeyChunk) {
    __syncthreads();
    stageRows(kS, pv, j0, T, Dp);
    __syncthreads();
    const int n = min(kKeyChunk, T - j0);
    for (int jj = 0; jj < n; ++jj) {
      float w[RW];
#pragma unroll
      for (int r = 0; r < RW; ++r)
        w[r] = sS[(warp * RW + r) * T + j0 + jj];
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const int d = c * 128 + lane * 4;
        if (d >= Dp)
          continue;
        const float4 v =
            *reinterpret_cast<const float4 *>(kS + jj * kPitch + d);
#pragma unroll
        for (int r = 0; r < RW; ++r) {
          acc[r][c][0] = fmaf(w[r], v.x, acc[r][c][0]);
          acc[r][c][1] = fmaf(w[r], v.y, acc[r][c][1]);
          acc[r][c][2] = fmaf(w[r], v.z, acc[r][c][2]);
          acc[r][c][3] = fmaf(w[r], v.w, acc[r][c][3]);
        }
      }
    }
  }
  bf16 *oS = reinterpret_cast<bf16 *>(qS); // QT x outPitch; q is done
#pragma unroll
  for (int r = 0; r < RW; ++r) {
    const int row = warp * RW + r;
    if (i0 + row >= T)
      break;
    const float inv = invS[row];
#pragma unroll
    for (int c = 0; c < 2; ++c)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int d = c * 128 + lane * 4 + e;
        if (d < p.dim)
          oS[row * p.outPitch + d] = __float2bfloat16(acc[r][c][e] * inv);
      }
  }
  __syncthreads();
  // Every row of each query tile gets its coarse row.
  const int ncols = p.dim / VEC; // the host picks VEC dividing dim
  bf16 *ob = p.out + b * p.os[0] + h * p.os[1];
  for (int t = 0; t < QT && i0 + t < T; ++t) {
    const int64_t r0 = p.off[i0 + t], n = (p.off[i0 + t + 1] - r0) * ncols;
    for (int64_t idx = threadIdx.x; idx < n; idx += kThreads) {
      const int64_t row = r0 + idx / ncols;
      const int c = int(idx % ncols) * VEC;
      copyVec<VEC>(ob + row * p.os[2] + c, oS + t * p.outPitch + c);
    }
  }
}

/// Widest vector (bf16 elements, up to 8) that every row of every tensor
/// allows: a power of two dividing the addresses, the strides and head_dim.
int vectorWidth(
    std::initializer_list<std::pair<const void *, const int64_t *>> tensors,
    int64_t dim) {
  uint64_t bits = 16 | uint64_t(dim) * 2;
  for (const auto &t : tensors) {
    bits |= reinterpret_cast<uintptr_t>(t.first);
    for (int i = 0; i < 3; ++i)
      bits |= uint64_t(t.second[i]) * 2;
  }
  return int((bits & (~bits + 1)) / 2);
}

template <int VEC>
vsart_status_t launchPool(const PoolParams &p, int batch, cudaStream_t s) {
  const dim3 grid(unsigned(p.tiles), unsigned(batch),
                  unsigned(p.heads + 2 * p.kvHeads));
  poolKernel<VEC><<<grid, kThreads, 0, s>>>(p);
  return vsart::cuda::checkLaunch("cuda_vsa_select: pool kernel");
}

template <int RW, int VEC>
vsart_status_t launchSelect(const SelectParams &p, int batch, size_t smem,
                            cudaStream_t s) {
  auto kernel = selectKernel<RW, VEC>;
  if (vsart_status_t st = vsart::cuda::check(
          cudaFuncSetAttribute(
              kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
          "cuda_vsa_select: shared memory"))
    return st;
  constexpr int QT = kWarps * RW;
  const dim3 grid(unsigned((p.tiles + QT - 1) / QT), unsigned(p.heads),
                  unsigned(batch));
  kernel<<<grid, kThreads, smem, s>>>(p);
  return vsart::cuda::checkLaunch("cuda_vsa_select: select kernel");
}

template <int RW>
vsart_status_t dispatchSelect(const SelectParams &p, int vec, int batch,
                              size_t smem, cudaStream_t s) {
  switch (vec) {
  case 8:
    return launchSelect<RW, 8>(p, batch, smem, s);
  case 4:
    return launchSelect<RW, 4>(p, batch, smem, s);
  case 2:
    return launchSelect<RW, 2>(p, batch, smem, s);
  default:
    return launchSelect<RW, 1>(p, batch, smem, s);
  }
}

vsart_status_t dispatchPool(const PoolParams &p, int vec, int batch,
                            cudaStream_t s) {
  switch (vec) {
  case 8:
    return launchPool<8>(p, batch, s);
  case 4:
    return launchPool<4>(p, batch, s);
  case 2:
    return launchPool<2>(p, batch, s);
  default:
    return launchPool<1>(p, batch, s);
  }
}

} // namespace

extern "C" vsart_status_t
vsart_cuda_vsa_select(const vsart_vsa_select_args_t *args, void *stream) {
  using vsart::fail;
  if (vsart_status_t st =
          vsart::checkVsaSelectArgs("cuda_vsa_select", args, false))
    return st;
  const vsart_attention_args_t &a = args->attn;
  if (a.head_dim > kMaxHeadDim)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_vsa_select: head_dim above 256");
  if (a.seq_q > INT_MAX || a.batch > 65535 ||
      a.num_heads + 2 * a.num_kv_heads > 65535)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_vsa_select: more than 2^31 tokens or 65535 batches "
                "or heads");
  cudaStream_t s = vsart::cuda::toStream(stream);
  const int64_t T = args->num_tiles;
  const int64_t numLists = a.batch * a.num_heads * T;
  if (numLists == 0)
    return vsart::cuda::check(
        cudaMemsetAsync(args->list_offsets, 0, sizeof(int64_t), s),
        "cuda_vsa_select: list offsets");

  const int64_t D = a.head_dim, Dp = std::max<int64_t>(4, (D + 3) / 4 * 4);
  int device = 0, smemLimit = 0;
  if (vsart_status_t st = vsart::cuda::check(cudaGetDevice(&device),
                                             "cuda_vsa_select: cudaGetDevice"))
    return st;
  if (vsart_status_t st = vsart::cuda::check(
          cudaDeviceGetAttribute(
              &smemLimit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cuda_vsa_select: cudaDeviceGetAttribute"))
    return st;
  int rw = 2;
  if (selectSmem(rw, T, Dp) > size_t(smemLimit))
    rw = 1;
  const size_t smem = selectSmem(rw, T, Dp);
  if (smem > size_t(smemLimit))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_vsa_select: " + std::to_string(T) +
                    " tiles need more shared memory than the device has");

  const int64_t qFloats = a.batch * a.num_heads * T * Dp,
                kvFloats = a.batch * a.num_kv_heads * T * Dp;
  void *scratch = nullptr;
  if (vsart_status_t st = vsart::cuda::check(
          cudaMallocAsync(&scratch, size_t(qFloats + 2 * kvFloats) * 4, s),
          "cuda_vsa_select: cudaMallocAsync", VSART_ERROR_OUT_OF_MEMORY))
    return st;
  float *pooled = static_cast<float *>(scratch);

  PoolParams pp = {};
  const void *x[3] = {a.q, a.k, a.v};
  const int64_t *strides[3] = {a.q_strides, a.k_strides, a.v_strides};
  for (int i = 0; i < 3; ++i) {
    pp.x[i] = static_cast<const bf16 *>(x[i]);
    for (int j = 0; j < 3; ++j)
      pp.st[i][j] = strides[i][j];
  }
  pp.pooled[0] = pooled;
  pp.pooled[1] = pooled + qFloats;
  pp.pooled[2] = pooled + qFloats + kvFloats;
  pp.off = args->tile_offsets;
  pp.heads = int(a.num_heads), pp.kvHeads = int(a.num_kv_heads);
  pp.tiles = int(T), pp.dim = int(D), pp.dimPad = int(Dp);
  const int poolVec = vectorWidth(
      {{a.q, a.q_strides}, {a.k, a.k_strides}, {a.v, a.v_strides}}, D);

  SelectParams sp = {};
  sp.pq = pp.pooled[0], sp.pk = pp.pooled[1], sp.pv = pp.pooled[2];
  sp.off = args->tile_offsets;
  sp.listOffsets = args->list_offsets, sp.lists = args->lists;
  sp.out = static_cast<bf16 *>(a.out);
  for (int i = 0; i < 3; ++i)
    sp.os[i] = a.out_strides[i];
  sp.numLists = numLists;
  sp.heads = int(a.num_heads), sp.kvHeads = int(a.num_kv_heads);
  sp.group = int(a.num_heads / a.num_kv_heads);
  sp.tiles = int(T), sp.topK = int(args->top_k), sp.dim = int(D);
  sp.dimPad = int(Dp), sp.outPitch = int((D + 7) / 8 * 8);
  sp.scale = a.scale;
  const int outVec = a.out ? vectorWidth({{a.out, a.out_strides}}, D) : 1;

  vsart_status_t st = dispatchPool(pp, poolVec, int(a.batch), s);
  if (!st)
    st = rw == 2 ? dispatchSelect<2>(sp, outVec, int(a.batch), smem, s)
                 : dispatchSelect<1>(sp, outVec, int(a.batch), smem, s);
  const vsart_status_t freed = vsart::cuda::check(
      cudaFreeAsync(scratch, s), "cuda_vsa_select: cudaFreeAsync");
  if (st)
    return st;
  return freed ? freed : vsart::ok();
}

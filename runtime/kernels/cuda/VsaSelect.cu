// VSA coarse stage on the GPU, the twin of vsart_cpu_vsa_select: bf16 q/k/v
// and coarse output, fp32 pooling, scores, selection and softmax.
//
// On the caller's stream:
//   1. poolKernel, one CTA per (tile, batch, q head | k head | v head): the
//      fp32 mean of the tile's rows (vector loads when the layout allows),
//      reduced across row groups in a fixed order, into fp32 scratch of
//      (batch, heads, num_tiles, Dp) per tensor, Dp = head_dim rounded up to
//      4 and zero-padded. Given pooled_q and pooled_k (the means
//      vsart_cuda_norm_rope wrote, in this layout) only v is pooled, and
//      only for the coarse output. vsart::cuda::poolTiles runs the same
//      kernel for other callers (norm_rope's unfused path).
//   2. Per chunk of (batch, kv head) pairs (score matrices up to 256 MiB):
//      the scores of the group's stacked query heads against the pair's key
//      tiles, scale * q k^T, by a TF32 cuBLASLt gemm (fp32 accumulation;
//      FastVideo's own coarse stage is bf16): 16.3 us a Wan 1.3B layer on
//      an H100, 98 us by fp32 FMA; ties within TF32 rounding may then
//      select differently from the CPU twin; then
//      selectRows, a warp per score row, selects its top_k exactly: the
//      scores become order-preserving uint32 keys in shared memory, a
//      radix search (4 passes of 8-bit histograms in the warp's shared
//      memory; 36.8 us for Wan 1.3B's 7488 rows of 624 on an H100, 67.7 with
//      a 32-step bit search) finds the k-th largest key, then one ordered
//      ballot pass writes every key above it and the lowest-index ones equal
//      to it, ascending (NaN ranks last, +0 == -0, as on the CPU). With an
//      output it replaces the row by its softmax weights, and a second TF32
//      gemm of weights and pooled v gives the coarse rows (in place of the
//      pooled q; in scratch of their own when pooled_q, read only, is given).
//   3. spreadKernel copies each coarse row, rounded to bf16, to every token
//      of its tile.
// Measured on an H100, whole call with the coarse output: Wan 1.3B 480p (12
// heads, 624 tiles, k = 78) 0.46-0.50 ms, Wan 14B 720p (40 heads, 1440
// tiles, k = 180) 4.2-4.3 ms; the former single kernel (scores and coarse
// rows by CUDA-core FMA from shared memory, bound by its bandwidth) took
// 0.71 and 8.6 ms.
// Scratch: pooled q (given pooled_q, only for the coarse rows), pooled k
// unless given, pooled v for the coarse output and one chunk of scores,
// from cudaMallocAsync on the stream, released with cudaFreeAsync after the
// kernels (stream-ordered; nothing is kept between calls). selectRows
// stages a row per warp (8 x num_tiles x 4 bytes of shared memory: up to
// about 7,000 tiles on an H100).
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
#include <type_traits>
#include <utility>

namespace {

using bf16 = __nv_bfloat16;
constexpr int kThreads = 256, kWarps = kThreads / 32;
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
  bool value; // pool v too (only the coarse output reads it)
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

// ---- 2. selection and softmax weights, a warp per row --------------------
// The scores (batch, heads, tiles, tiles) come from a TF32 cuBLASLt gemm of
// the pooled q and k; the coarse rows from a second one of the weights and
// the pooled v (see vsart_cuda_vsa_select).

/// Keys ordered like the scores (NaN lowest, both zeros equal).
__device__ __forceinline__ uint32_t orderKey(float f) {
  if (isnan(f))
    return 0u;
  if (f == 0.0f)
    return 0x80000000u;
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/// The float whose orderKey is `key` (NaN for 0; -0 comes back as +0).
__device__ __forceinline__ float fromOrderKey(uint32_t key) {
  return __uint_as_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key);
}

/// Digits of the radix search for the k-th largest key: 4 passes of 8 bits.
constexpr int kRadixBits = 8, kBins = 1 << kRadixBits;

/// The k-th largest of key[0 .. n) (1 <= k <= n): 4 passes over the keys
/// that share the digits found so far, each a histogram of the next 8 bits
/// in the warp's `hist` (kBins counters) and a scan from the top bin. One
/// warp.
__device__ uint32_t kthLargest(const uint32_t *key, int n, int k,
                               unsigned *hist, int lane) {
  uint32_t prefix = 0, mask = 0;
  unsigned need = unsigned(k); // keys still to pass, counting down
  for (int shift = 32 - kRadixBits; shift >= 0; shift -= kRadixBits) {
    for (int b = lane; b < kBins; b += 32)
      hist[b] = 0;
    __syncwarp();
    for (int j = lane; j < n; j += 32)
      if ((key[j] & mask) == prefix)
        atomicAdd(&hist[(key[j] >> shift) & (kBins - 1)], 1u);
    __syncwarp();
    // Lane l owns the 8 bins below kBins - 8 l, highest first.
    constexpr int kPerLane = kBins / 32;
    const int top = kBins - 1 - lane * kPerLane;
    unsigned mine = 0;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i)
      mine += hist[top - i];
    unsigned before = mine; // inclusive scan over the lanes
    for (int o = 1; o < 32; o <<= 1) {
      const unsigned up = __shfl_up_sync(0xffffffffu, before, o);
      if (lane >= o)
        before += up;
    }
    before -= mine; // keys in higher bins than this lane's
    const unsigned owner =
        __ballot_sync(0xffffffffu, before < need && need <= before + mine);
    const int src = __ffs(owner) - 1;
    int digit = 0;
    unsigned passed = __shfl_sync(0xffffffffu, before, src);
    if (lane == src)
      for (int i = 0; i < kPerLane; ++i) {
        const unsigned h = hist[top - i];
        if (passed + h >= need) {
          digit = top - i;
          break;
        }
        passed += h;
      }
    digit = __shfl_sync(0xffffffffu, digit, src);
    need -= __shfl_sync(0xffffffffu, passed, src);
    prefix |= uint32_t(digit) << shift;
    mask |= uint32_t(kBins - 1) << shift;
    __syncwarp(); // the next pass clears hist
  }
  return prefix;
}

/// Writes the top k of key[0 .. n) (lower index first on equal keys) to
/// list in ascending index order. One warp; `hist` is its kBins counters.
__device__ void selectTopK(const uint32_t *key, int n, int k, int32_t *list,
                           unsigned *hist, int lane) {
  const uint32_t kth = kthLargest(key, n, k, hist, lane);
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

struct RowParams {
  float *scores;      // rows of `tiles` floats; weights replace them
  int64_t rows;       // in this call
  int64_t firstList;  // list index of row 0
  int64_t numLists;   // in all (the last row also ends the offsets)
  int64_t *listOffsets;
  int32_t *lists;
  int tiles, topK;
  bool weights; // also the softmax weights (the coarse output is wanted)
};

/// One warp per score row: the row's top_k key tiles, ascending, into its
/// list, and (with weights) the row's softmax in place of its scores. The
/// row is staged as order keys in the warp's part of shared memory.
__global__ void __launch_bounds__(kThreads) selectRows(RowParams p) {
  extern __shared__ uint32_t keys[]; // kWarps x tiles, then kWarps x kBins
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t r = int64_t(blockIdx.x) * kWarps + warp;
  if (r >= p.rows)
    return;
  const int T = p.tiles;
  float *s = p.scores + r * T;
  uint32_t *key = keys + warp * T;
  float m = -INFINITY;
  for (int j = lane; j < T; j += 32) {
    const float x = s[j];
    m = fmaxf(m, x);
    key[j] = orderKey(x);
  }
  m = warpMax(m);
  __syncwarp();
  const int64_t l = p.firstList + r;
  selectTopK(key, T, p.topK, p.lists + l * p.topK,
             keys + kWarps * T + warp * kBins, lane);
  if (lane == 0)
    p.listOffsets[l] = l * p.topK;
  if (lane == 0 && l + 1 == p.numLists)
    p.listOffsets[l + 1] = (l + 1) * p.topK;
  if (!p.weights)
    return;
  float sum = 0.0f;
  for (int j = lane; j < T; j += 32)
    sum += m == -INFINITY ? 0.0f : expf(fromOrderKey(key[j]) - m);
  sum = warpSum(sum);
  const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
  for (int j = lane; j < T; j += 32)
    s[j] = m == -INFINITY ? 0.0f : expf(fromOrderKey(key[j]) - m) * inv;
}

// ---- 3. coarse rows to every token of their tile ---------------------------

struct SpreadParams {
  const float *coarse; // (batch, heads, tiles, dimPad)
  const int64_t *off;  // tile offsets (device)
  bf16 *out;
  int64_t os[3];
  int heads, tiles, dim, dimPad;
};

/// One CTA per (tile, batch, head): the coarse row, rounded to bf16, into
/// every token row of the tile.
template <int VEC>
__global__ void __launch_bounds__(kThreads) spreadKernel(SpreadParams p) {
  __shared__ __align__(16) bf16 row[kMaxHeadDim];
  const int t = blockIdx.x, b = blockIdx.y, h = blockIdx.z;
  const float *src =
      p.coarse + ((int64_t(b) * p.heads + h) * p.tiles + t) * p.dimPad;
  for (int d = threadIdx.x; d < p.dim; d += kThreads)
    row[d] = __float2bfloat16(src[d]);
  __syncthreads();
  const int ncols = p.dim / VEC; // the host picks VEC dividing dim
  bf16 *ob = p.out + b * p.os[0] + h * p.os[1];
  const int64_t r0 = p.off[t], n = (p.off[t + 1] - r0) * ncols;
  for (int64_t idx = threadIdx.x; idx < n; idx += kThreads) {
    const int64_t tok = r0 + idx / ncols;
    const int c = int(idx % ncols) * VEC;
    copyVec<VEC>(ob + tok * p.os[2] + c, row + c);
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
vsart_status_t launchPool(const PoolParams &p, int batch, cudaStream_t s,
                          const char *name) {
  const dim3 grid(unsigned(p.tiles), unsigned(batch),
                  unsigned(p.heads + (p.value ? 2 : 1) * p.kvHeads));
  poolKernel<VEC><<<grid, kThreads, 0, s>>>(p);
  const std::string what = std::string(name) + ": pool kernel";
  return vsart::cuda::checkLaunch(what.c_str());
}

/// f(std::integral_constant<int, VEC>()) for vec 8, 4, 2, else 1.
template <class F> vsart_status_t withVec(int vec, F f) {
  return vsart::cuda::withConstant<8, 4, 2, 1>(vec, f);
}

vsart_status_t dispatchPool(const PoolParams &p, int vec, int batch,
                            cudaStream_t s, const char *name) {
  return withVec(
      vec, [&](auto v) { return launchPool<v.value>(p, batch, s, name); });
}

vsart_status_t dispatchSpread(const SpreadParams &p, int vec, int batch,
                              cudaStream_t s) {
  return withVec(vec, [&](auto v) {
    const dim3 grid(unsigned(p.tiles), unsigned(batch), unsigned(p.heads));
    spreadKernel<v.value><<<grid, kThreads, 0, s>>>(p);
    return vsart::cuda::checkLaunch("cuda_vsa_select: spread kernel");
  });
}

/// Score matrices (group * tiles x tiles floats each) held at once: the
/// (batch, kv head) pairs are processed in chunks below this many bytes.
constexpr int64_t kScoreBytes = int64_t(256) << 20;

/// Pools q and k, and v when `value`, into their (batch, heads, T, Dp)
/// scratch in one launch.
vsart_status_t poolQkv(const vsart_vsa_select_args_t &args, float *const out[3],
                       int64_t Dp, bool value, cudaStream_t s) {
  const vsart_attention_args_t &a = args.attn;
  PoolParams pp = {};
  const void *x[3] = {a.q, a.k, a.v};
  const int64_t *strides[3] = {a.q_strides, a.k_strides, a.v_strides};
  for (int i = 0; i < 3; ++i) {
    pp.x[i] = static_cast<const bf16 *>(x[i]);
    std::copy(strides[i], strides[i] + 3, pp.st[i]);
    pp.pooled[i] = out[i];
  }
  pp.off = args.tile_offsets;
  pp.heads = int(a.num_heads), pp.kvHeads = int(a.num_kv_heads);
  pp.tiles = int(args.num_tiles), pp.dim = int(a.head_dim), pp.dimPad = int(Dp);
  pp.value = value;
  const int vec = vectorWidth(
      {{a.q, a.q_strides}, {a.k, a.k_strides}, {a.v, a.v_strides}}, a.head_dim);
  return dispatchPool(pp, vec, int(a.batch), s, "cuda_vsa_select");
}

} // namespace

vsart_status_t vsart::cuda::poolTiles(const char *name, const void *x,
                                      const int64_t strides[3], int64_t batch,
                                      int64_t heads, int64_t headDim,
                                      const int64_t *offsets, int64_t tiles,
                                      float *pooled, cudaStream_t stream) {
  if (headDim > kMaxHeadDim || batch > 65535 || heads > 65535 ||
      tiles > INT_MAX)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(name) +
                    ": tile pooling takes head_dim <= 256, at most 65535 "
                    "batches and heads and 2^31 tiles");
  if (batch * heads * tiles == 0)
    return VSART_OK;
  PoolParams p = {}; // q's slot only
  p.x[0] = static_cast<const bf16 *>(x);
  std::copy(strides, strides + 3, p.st[0]);
  p.pooled[0] = pooled;
  p.off = offsets;
  p.heads = int(heads), p.tiles = int(tiles), p.dim = int(headDim);
  p.dimPad = int(pooledDim(headDim));
  return dispatchPool(p, vectorWidth({{x, strides}}, headDim), int(batch),
                      stream, name);
}

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
  const int64_t T = args->num_tiles, K = args->top_k;
  const int64_t numLists = a.batch * a.num_heads * T;
  if (numLists == 0)
    return vsart::cuda::check(
        cudaMemsetAsync(args->list_offsets, 0, sizeof(int64_t), s),
        "cuda_vsa_select: list offsets");
  int device = 0, smemLimit = 0;
  if (vsart_status_t st = vsart::cuda::check(cudaGetDevice(&device),
                                             "cuda_vsa_select: cudaGetDevice"))
    return st;
  if (vsart_status_t st = vsart::cuda::check(
          cudaDeviceGetAttribute(
              &smemLimit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cuda_vsa_select: cudaDeviceGetAttribute"))
    return st;
  // A row and a histogram per warp.
  const size_t rowSmem = size_t(kWarps) * (size_t(T) + kBins) * 4;
  if (rowSmem > size_t(smemLimit))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_vsa_select: " + std::to_string(T) +
                    " tiles need more shared memory than the device has");

  const int64_t D = a.head_dim, Dp = std::max<int64_t>(4, vsart::pooledDim(D));
  const bool coarse = a.out != nullptr, given = args->pooled_q != nullptr;
  if (given && D < 1) // the caller's rows hold pooledDim(D) = 0 floats
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_vsa_select: pooled_q and pooled_k need head_dim >= 1");
  const int64_t group = a.num_heads / a.num_kv_heads;
  const int64_t pairs = a.batch * a.num_kv_heads; // (batch, kv head)
  const int64_t pairScores = group * T * T;       // floats
  const int64_t chunk =
      std::clamp<int64_t>(kScoreBytes / (4 * pairScores), 1, pairs);
  const int64_t qFloats = a.batch * a.num_heads * T * Dp,
                kvFloats = a.batch * a.num_kv_heads * T * Dp;
  // Scratch: pooled q (given pooled_q, which is read only: the coarse rows
  // alone), pooled k unless given, pooled v for the coarse output, scores.
  const int64_t qScratch = !given || coarse ? qFloats : 0,
                kScratch = given ? 0 : kvFloats,
                vScratch = coarse ? kvFloats : 0;
  void *scratch = nullptr;
  if (vsart_status_t st = vsart::cuda::check(
          cudaMallocAsync(&scratch,
                          size_t(qScratch + kScratch + vScratch +
                                 chunk * pairScores) *
                              4,
                          s),
          "cuda_vsa_select: cudaMallocAsync", VSART_ERROR_OUT_OF_MEMORY))
    return st;
  float *const base = static_cast<float *>(scratch);
  float *const pooled[3] = {base, base + qScratch,
                            base + qScratch + kScratch};
  float *scores = pooled[2] + vScratch;
  const float *pq = given ? args->pooled_q : pooled[0];
  const float *pk = given ? args->pooled_k : pooled[1];
  float *coarseRows = pooled[0]; // in place of the pooled q unless given

  vsart_status_t st = VSART_OK;
  if (!given)
    st = poolQkv(*args, pooled, Dp, coarse, s);
  else if (coarse)
    st = vsart::cuda::poolTiles("cuda_vsa_select", a.v, a.v_strides, a.batch,
                                a.num_kv_heads, D, args->tile_offsets, T,
                                pooled[2], s);
  if (!st)
    st = vsart::cuda::check(
        cudaFuncSetAttribute(selectRows,
                             cudaFuncAttributeMaxDynamicSharedMemorySize,
                             int(rowSmem)),
        "cuda_vsa_select: shared memory");

  // Per chunk of (batch, kv head) pairs: the group's query heads stacked
  // (group * T rows) against the pair's T key tiles, then the selection,
  // then (with an output) the coarse rows.
  for (int64_t p0 = 0; p0 < pairs && !st; p0 += chunk) {
    const int64_t n = std::min(chunk, pairs - p0);
    const int64_t qAt = p0 * group * T * Dp;
    st = vsart::cuda::gemmTf32(false, true, group * T, T, Dp, a.scale,
                               pq + qAt, Dp, group * T * Dp, pk + p0 * T * Dp,
                               Dp, T * Dp, scores, T, pairScores, n, s);
    if (st)
      break;
    RowParams rp = {scores,          n * group * T, p0 * group * T, numLists,
                    args->list_offsets, args->lists, int(T),        int(K),
                    coarse};
    selectRows<<<unsigned((rp.rows + kWarps - 1) / kWarps), kThreads, rowSmem,
                 s>>>(rp);
    st = vsart::cuda::checkLaunch("cuda_vsa_select: select kernel");
    if (!st && coarse)
      st = vsart::cuda::gemmTf32(false, false, group * T, Dp, T, 1.0f, scores,
                                 T, pairScores, pooled[2] + p0 * T * Dp, Dp,
                                 T * Dp, coarseRows + qAt, Dp, group * T * Dp,
                                 n, s);
  }
  if (!st && coarse) {
    SpreadParams sp = {coarseRows, args->tile_offsets,
                       static_cast<bf16 *>(a.out),
                       {a.out_strides[0], a.out_strides[1], a.out_strides[2]},
                       int(a.num_heads), int(T), int(D), int(Dp)};
    st = dispatchSpread(sp, vectorWidth({{a.out, a.out_strides}}, D),
                        int(a.batch), s);
  }
  const vsart_status_t freed = vsart::cuda::check(
      cudaFreeAsync(scratch, s), "cuda_vsa_select: cudaFreeAsync");
  if (st)
    return st;
  return freed ? freed : vsart::ok();
}

// Semantic-aware permutation attention (Sparse VideoGen2) on the GPU, the
// twin of vsart_cpu_semantic_attention (kernels/cpu/SemanticAttention.cpp):
// bf16 q/k/v/out, fp32 k-means, scores and selection.
//
// Kernels on the caller's stream, per tensor (q over batch * heads slices,
// k over batch * kv heads):
//   seed      (first call) centroid c = token c * seq / clusters.
//   per k-means iteration:
//     prep      |c|^2 of every centroid; zero the sums and counts.
//     assign    a CTA per (64 tokens, slice) on tensor cores: the tokens
//               (bf16) against 64 centroids at a time split into bf16 hi +
//               lo, |c|^2 - 2 x.c, argmin with the lower index on ties.
//     update    a CTA per (256 tokens, slice): per-CTA sums and counts in
//               shared memory (global atomics for the sums when clusters x
//               head_dim floats don't fit), flushed with atomics; the CTA's
//               count per cluster is kept for the sort.
//     finalize  centroid = sum / count (empty clusters keep theirs).
//   scan      per slice: cluster starts, each (cluster, 256-token chunk)'s
//             first row, the block offsets.
//   scatter   stable counting sort: row = chunk base + rank among the
//             chunk's tokens of the same cluster.
//   gather    the rows in cluster order into scratch (bf16).
// Then select (a CTA per (query cluster, batch, head): scores, weighted
// softmax, ranks, cumulative p, the kept list), vsart_cuda_block_sparse_
// attention over all slices laid out as one sequence (batch 1, one head,
// SHARED lists), and the inverse permutation into out.
// Block-sparse attention takes one q_block_offsets array for every (batch,
// head), so the slices are concatenated; its grid is sized on the host, so
// query clusters are cut into blocks of at most 64 rows (M = ceil(seq / 64)
// + num_q_clusters block slots per slice, unused slots empty) and every
// block carries its cluster's list padded with -1 (skipped) to
// num_kv_clusters entries: nothing is read back to the host.
// The fp32 atomics make the centroids (and, on near-ties, the clusters) vary
// from run to run at rounding level.
#include "Common.h"
#include "FlashCommon.cuh"
#include "../ScratchCarver.h"
#include "../SparseArgs.h"

#include <cuda_bf16.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <type_traits>

namespace {

using bf16 = __nv_bfloat16;
constexpr int kChunk = 256;    // tokens per update / scatter CTA
constexpr int kBlockRows = 64; // query rows per block-sparse block
constexpr int kMaxHeadDim = 256;


/// The device scratch, carved in order.
struct Scratch {
  bf16 *qp, *kp, *vp, *op;
  int32_t *qlab, *klab, *qperm, *kperm;
  float *qsum, *ksum, *qnorm, *knorm;
  int32_t *qcnt, *kcnt, *chunkCnt, *slotStart;
  int64_t *qoff, *kvoff, *listOff;
  int32_t *lists;
  int64_t slots, chunks; // block slots per query slice, chunks per slice
  size_t bytes;

  Scratch(const vsart_semantic_args_t &s, char *base) {
    const vsart_attention_args_t &a = s.attn;
    const size_t BH = size_t(a.batch * a.num_heads),
                 BHkv = size_t(a.batch * a.num_kv_heads);
    const size_t S = size_t(a.seq_q), D = size_t(a.head_dim);
    const size_t Cq = size_t(s.num_q_clusters),
                 Ckv = size_t(s.num_kv_clusters);
    slots = int64_t((S + kBlockRows - 1) / kBlockRows + Cq);
    chunks = int64_t((S + kChunk - 1) / kChunk);
    vsart::ScratchCarver carver(base);
    auto take = [&](auto *&p, size_t count) { carver.take(p, count); };
    take(qp, BH * S * D), take(kp, BHkv * S * D), take(vp, BHkv * S * D);
    take(op, BH * S * D);
    take(qlab, BH * S), take(klab, BHkv * S);
    take(qperm, BH * S), take(kperm, BHkv * S);
    take(qsum, BH * Cq * D), take(ksum, BHkv * Ckv * D);
    take(qnorm, BH * Cq), take(knorm, BHkv * Ckv);
    take(qcnt, BH * Cq), take(kcnt, BHkv * Ckv);
    take(chunkCnt, std::max(BH * Cq, BHkv * Ckv) * size_t(chunks));
    take(slotStart, BH * (Cq + 1));
    take(qoff, BH * size_t(slots) + 1), take(kvoff, BHkv * Ckv + 1);
    take(listOff, BH * size_t(slots) + 1);
    take(lists, BH * size_t(slots) * Ckv);
    bytes = carver.bytes();
  }
};

/// One strided bf16 tensor (batch, heads, seq, d).
struct Tensor {
  const bf16 *x;
  int64_t st[3];
  int heads;
  __device__ const bf16 *row(int bh, int64_t s) const {
    return x + int64_t(bh / heads) * st[0] + int64_t(bh % heads) * st[1] +
           s * st[2];
  }
};

__global__ void seedKernel(Tensor t, int S, int C, int D, float *cent) {
  const int c = blockIdx.x, bh = blockIdx.y;
  const bf16 *r = t.row(bh, int64_t(c) * S / C);
  for (int d = threadIdx.x; d < D; d += blockDim.x)
    cent[(int64_t(bh) * C + c) * D + d] = __bfloat162float(r[d]);
}

__global__ void prepKernel(const float *cent, float *norm, float *sum,
                           int32_t *cnt, int C, int D) {
  const int64_t bh = blockIdx.x;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const float *cc = cent + (bh * C + c) * D;
    float n = 0.0f;
    for (int d = 0; d < D; ++d)
      n += cc[d] * cc[d];
    norm[bh * C + c] = n;
    cnt[bh * C + c] = 0;
  }
  for (int64_t i = threadIdx.x; i < int64_t(C) * D; i += blockDim.x)
    sum[bh * C * D + i] = 0.0f;
}

/// The k-means assignment on tensor cores (mma.sync, bf16): 4 warps, 64 tokens per
/// CTA, the attention kernels' Q-tile machinery (FlashCommon.cuh) with the
/// tokens as queries and 64 centroids at a time as keys. The tokens are bf16
/// already; each fp32 centroid is split into bf16 hi + lo (c = hi + lo to
/// ~16 bits), so x.c = x.hi + x.lo keeps the fp32 kernel's resolution of
/// near-equal distances: argmin_c |c|^2 - 2 x.c, the lower index on ties.
template <int DP>
__global__ void __launch_bounds__(128)
    assignMmaKernel(Tensor t, int S, int C, int D, const float *cent,
                    const float *norm, int32_t *labels, bool vec) {
  using C64 = vsart::cuda::flash::Config<DP, 64, 4, 1, true, 2>;
  namespace fl = vsart::cuda::flash;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16 *sX = reinterpret_cast<bf16 *>(smem);
  bf16 *sHi = sX + 64 * DP, *sLo = sHi + 64 * DP;
  float *sN = reinterpret_cast<float *>(sLo + 64 * DP);
  const int bh = blockIdx.y, s0 = blockIdx.x * 64;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  fl::loadTile<C64, 64>(sX, t.row(bh, 0), t.st[2], s0, S, D, vec);
  fl::cpAsyncCommit();
  fl::cpAsyncWait<0>();
  __syncthreads();
  uint32_t qf[1][DP / 16][4];
  fl::loadQFragments<C64>(qf, sX, warp, lane);
  float best[2] = {INFINITY, INFINITY};
  int bestI[2] = {0, 0};
  const float *cb = cent + int64_t(bh) * C * D;
  for (int c0 = 0; c0 < C; c0 += 64) {
    __syncthreads(); // the previous chunk is consumed
    for (int i = threadIdx.x; i < 64 * DP; i += 128) {
      const int c = i / DP, d = i % DP;
      const float x = c0 + c < C && d < D ? cb[int64_t(c0 + c) * D + d] : 0.0f;
      const bf16 hi = __float2bfloat16(x);
      const int at = fl::swz<DP>(c, d >> 3) + (d & 7);
      sHi[at] = hi;
      sLo[at] = __float2bfloat16(x - __bfloat162float(hi));
    }
    for (int c = threadIdx.x; c < 64; c += 128)
      sN[c] = c0 + c < C ? norm[int64_t(bh) * C + c0 + c] : INFINITY;
    __syncthreads();
    float hi[1][8][4], lo[1][8][4];
    fl::scores<C64>(hi, qf, sX, sHi, warp, lane);
    fl::scores<C64>(lo, qf, sX, sLo, warp, lane);
#pragma unroll
    for (int nt = 0; nt < 8; ++nt)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int c = nt * 8 + (lane & 3) * 2 + e; // ascending per thread
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const float dist =
              sN[c] - 2.0f * (hi[0][nt][2 * r + e] + lo[0][nt][2 * r + e]);
          if (dist < best[r])
            best[r] = dist, bestI[r] = c0 + c;
        }
      }
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
#pragma unroll
    for (int off = 1; off < 4; off <<= 1) { // over the quad sharing the row
      const float d = __shfl_xor_sync(0xffffffffu, best[r], off);
      const int i = __shfl_xor_sync(0xffffffffu, bestI[r], off);
      if (d < best[r] || (d == best[r] && i < bestI[r]))
        best[r] = d, bestI[r] = i;
    }
    const int row = s0 + warp * 16 + (lane >> 2) + 8 * r;
    if ((lane & 3) == 0 && row < S)
      labels[int64_t(bh) * S + row] = bestI[r];
  }
}

/// Launches assignMmaKernel for head_dim <= 256.
template <int DP>
vsart_status_t launchAssignMma(const Tensor &t, int slices, int S, int C,
                               int D, const float *cent, const float *norm,
                               int32_t *labels, bool vec, cudaStream_t stream) {
  const int smem = 3 * 64 * DP * 2 + 64 * 4;
  if (vsart_status_t st = vsart::cuda::check(
          cudaFuncSetAttribute(assignMmaKernel<DP>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               smem),
          "semantic assign: shared memory"))
    return st;
  assignMmaKernel<DP><<<dim3((S + 63) / 64, slices), 128, smem, stream>>>(
      t, S, C, D, cent, norm, labels, vec);
  return VSART_OK;
}

__global__ void updateKernel(Tensor t, int S, int C, int D,
                             const int32_t *labels, float *sum, int32_t *cnt,
                             int32_t *chunkCnt, int chunks, bool smemSums) {
  extern __shared__ float4 smem4[];
  int *sCnt = reinterpret_cast<int *>(smem4);
  float *sSum = reinterpret_cast<float *>(sCnt + C);
  const int bh = blockIdx.y, chunk = blockIdx.x, tid = threadIdx.x;
  const int lane = tid % 32, warp = tid / 32, warps = blockDim.x / 32;
  for (int c = tid; c < C; c += blockDim.x)
    sCnt[c] = 0;
  if (smemSums)
    for (int i = tid; i < C * D; i += blockDim.x)
      sSum[i] = 0.0f;
  __syncthreads();
  float *gSum = sum + int64_t(bh) * C * D;
  const int s1 = min(S, (chunk + 1) * kChunk);
  for (int s = chunk * kChunk + warp; s < s1; s += warps) {
    const int L = labels[int64_t(bh) * S + s];
    const bf16 *r = t.row(bh, s);
    for (int d = lane; d < D; d += 32) {
      const float v = __bfloat162float(r[d]);
      if (smemSums)
        atomicAdd(sSum + L * D + d, v);
      else
        atomicAdd(gSum + int64_t(L) * D + d, v);
    }
    if (lane == 0)
      atomicAdd(sCnt + L, 1);
  }
  __syncthreads();
  for (int c = tid; c < C; c += blockDim.x) {
    chunkCnt[(int64_t(bh) * chunks + chunk) * C + c] = sCnt[c];
    if (sCnt[c])
      atomicAdd(cnt + int64_t(bh) * C + c, sCnt[c]);
  }
  if (smemSums)
    for (int i = tid; i < C * D; i += blockDim.x)
      if (sCnt[i / D])
        atomicAdd(gSum + i, sSum[i]);
}

__global__ void finalizeKernel(float *cent, const float *sum,
                               const int32_t *cnt, int C, int D) {
  const int64_t bh = blockIdx.x;
  for (int64_t i = threadIdx.x; i < int64_t(C) * D; i += blockDim.x) {
    const int n = cnt[bh * C + i / D];
    if (n > 0)
      cent[bh * C * D + i] = sum[bh * C * D + i] / float(n);
  }
}

/// Per slice: chunkCnt becomes each (chunk, cluster)'s first row. Without
/// slots: offsets[bh * C + c] = bh * S + start of c. With slots (queries):
/// clusters cut into blocks of kBlockRows rows, slot offsets in `offsets`
/// (slots per slice), slotStart[bh * (C + 1) + c] = the first slot of c.
__global__ void scanKernel(const int32_t *cnt, int32_t *chunkCnt, int chunks,
                           int C, int S, int slices, int64_t *offsets,
                           int slots, int32_t *slotStart) {
  extern __shared__ int sStart[]; // [C + 1]
  const int bh = blockIdx.x;
  if (threadIdx.x == 0) {
    int at = 0;
    for (int c = 0; c < C; ++c)
      sStart[c] = at, at += cnt[int64_t(bh) * C + c];
    sStart[C] = at;
  }
  __syncthreads();
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    int base = sStart[c];
    for (int k = 0; k < chunks; ++k) {
      int32_t &e = chunkCnt[(int64_t(bh) * chunks + k) * C + c];
      const int n = e;
      e = base, base += n;
    }
    if (!slots)
      offsets[int64_t(bh) * C + c] = int64_t(bh) * S + sStart[c];
  }
  if (threadIdx.x != 0)
    return;
  if (!slots) {
    if (bh == slices - 1)
      offsets[int64_t(slices) * C] = int64_t(slices) * S;
    return;
  }
  int slot = 0;
  int64_t *off = offsets + int64_t(bh) * slots;
  for (int c = 0; c < C; ++c) {
    slotStart[int64_t(bh) * (C + 1) + c] = slot;
    for (int r = sStart[c]; r < sStart[c + 1]; r += kBlockRows)
      off[slot++] = int64_t(bh) * S + r;
  }
  slotStart[int64_t(bh) * (C + 1) + C] = slot;
  for (; slot < slots; ++slot)
    off[slot] = int64_t(bh) * S + S;
  if (bh == slices - 1)
    offsets[int64_t(slices) * slots] = int64_t(slices) * S;
}

__global__ void scatterKernel(const int32_t *labels, const int32_t *bases,
                              int S, int C, int chunks, int32_t *perm) {
  __shared__ int sLab[kChunk];
  const int bh = blockIdx.y, chunk = blockIdx.x, tid = threadIdx.x;
  const int s = chunk * kChunk + tid;
  const int L = s < S ? labels[int64_t(bh) * S + s] : -1;
  sLab[tid] = L;
  __syncthreads();
  if (s >= S)
    return;
  int rank = 0;
  for (int j = 0; j < tid; ++j)
    rank += sLab[j] == L;
  perm[int64_t(bh) * S +
       bases[(int64_t(bh) * chunks + chunk) * C + L] + rank] = s;
}

/// A warp per row: gather (dense[bh * S + row] = x[perm[row]]) or scatter
/// (x[perm[row]] = dense[bh * S + row]); VEC bf16 at a time.
template <int VEC, bool GATHER>
__global__ void copyRowsKernel(bf16 *x, Tensor t, bf16 *dense,
                               const int32_t *perm, int S, int D) {
  const int bh = blockIdx.y, lane = threadIdx.x % 32;
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= S)
    return;
  const int64_t tok = perm[int64_t(bh) * S + row];
  bf16 *strided = x + int64_t(bh / t.heads) * t.st[0] +
                  int64_t(bh % t.heads) * t.st[1] + tok * t.st[2];
  bf16 *packed = dense + (int64_t(bh) * S + row) * D;
  bf16 *dst = GATHER ? packed : strided;
  const bf16 *src = GATHER ? strided : packed;
  if constexpr (VEC == 8) {
    for (int d = lane * 8; d < D; d += 256)
      *reinterpret_cast<uint4 *>(dst + d) =
          *reinterpret_cast<const uint4 *>(src + d);
  } else {
    for (int d = lane; d < D; d += 32)
      dst[d] = src[d];
  }
}

size_t selectSmem(int D, int Ckv) {
  return size_t(D) * 4 + size_t(Ckv) * 16;
}

struct SelectParams {
  const float *qc, *kc;
  const int32_t *kcnt, *slotStart;
  int H, Hkv, Cq, Ckv, D, slots, minKept;
  float scale, topP;
  bool keepAll;
  int32_t *lists;
  uint8_t *blockMap;
};

__device__ bool ranksBefore(const float *pr, int i, int j) {
  const bool ni = isnan(pr[i]), nj = isnan(pr[j]);
  if (ni != nj)
    return nj;
  if (!ni && pr[i] != pr[j])
    return pr[i] > pr[j];
  return i < j;
}

__global__ void selectKernel(SelectParams p) {
  extern __shared__ float4 smem4[];
  float *sQ = reinterpret_cast<float *>(smem4);
  float *sP = sQ + p.D, *sCum = sP + p.Ckv;
  int *sRank = reinterpret_cast<int *>(sCum + p.Ckv);
  int *sList = sRank + p.Ckv;
  __shared__ int sCount;
  const int i = blockIdx.x, bh = blockIdx.y, tid = threadIdx.x;
  const int b = bh / p.H, h = bh % p.H, bg = b * p.Hkv + h / (p.H / p.Hkv);
  const int64_t l = int64_t(bh) * p.Cq + i;
  for (int d = tid; d < p.D; d += blockDim.x)
    sQ[d] = p.qc[l * p.D + d];
  __syncthreads();
  const float *kc = p.kc + int64_t(bg) * p.Ckv * p.D;
  for (int j = tid; j < p.Ckv; j += blockDim.x) {
    float dot = 0.0f;
    for (int d = 0; d < p.D; ++d)
      dot += sQ[d] * kc[int64_t(j) * p.D + d];
    sP[j] = p.scale * dot;
  }
  __syncthreads();
  if (tid == 0) { // in index order, as on the CPU
    const int32_t *n = p.kcnt + int64_t(bg) * p.Ckv;
    float m = -INFINITY, sum = 0.0f;
    for (int j = 0; j < p.Ckv; ++j)
      m = fmaxf(m, sP[j]);
    for (int j = 0; j < p.Ckv; ++j)
      sP[j] = float(n[j]) * expf(sP[j] - m), sum += sP[j];
    for (int j = 0; j < p.Ckv; ++j)
      sP[j] = sum > 0.0f ? sP[j] / sum : 0.0f;
  }
  __syncthreads();
  for (int j = tid; j < p.Ckv; j += blockDim.x) {
    int r = 0;
    for (int k = 0; k < p.Ckv; ++k)
      r += ranksBefore(sP, k, j);
    sRank[j] = r;
    sCum[r] = sP[j];
  }
  __syncthreads();
  if (tid == 0) { // cumulative p of the clusters ranked higher
    float before = 0.0f;
    for (int r = 0; r < p.Ckv; ++r) {
      const float x = sCum[r];
      sCum[r] = before, before += x;
    }
  }
  __syncthreads();
  for (int j = tid; j < p.Ckv; j += blockDim.x) {
    const int r = sRank[j];
    const bool kept = p.keepAll || r < p.minKept || sCum[r] <= p.topP;
    sRank[j] = kept;
    if (p.blockMap)
      p.blockMap[l * p.Ckv + j] = kept;
  }
  __syncthreads();
  if (tid == 0) {
    int n = 0;
    for (int j = 0; j < p.Ckv; ++j)
      if (sRank[j])
        sList[n++] = bg * p.Ckv + j;
    sCount = n;
  }
  __syncthreads();
  const int32_t *ss = p.slotStart + int64_t(bh) * (p.Cq + 1);
  for (int slot = ss[i]; slot < ss[i + 1]; ++slot) {
    int32_t *dst = p.lists + (int64_t(bh) * p.slots + slot) * p.Ckv;
    for (int e = tid; e < sCount; e += blockDim.x)
      dst[e] = sList[e];
  }
}

__global__ void iotaKernel(int64_t *x, int64_t n, int64_t step) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n)
    x[i] = i * step;
}

using vsart::cuda::check;
using vsart::cuda::checkLaunch;

/// The kernels' launch limits and the shared memory they need.
vsart_status_t checkDevice(const vsart_semantic_args_t &s, int *smemLimit) {
  const vsart_attention_args_t &a = s.attn;
  const std::string n = "cuda_semantic_attention: ";
  if (a.head_dim > kMaxHeadDim)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, n + "head_dim above 256");
  if (a.seq_q * a.batch * a.num_heads > INT_MAX / 2 ||
      a.batch * a.num_heads > 65535)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       n + "more than 2^30 rows or 65535 (batch, head) pairs");
  int device = 0;
  if (vsart_status_t st = check(cudaGetDevice(&device), "cudaGetDevice"))
    return st;
  if (vsart_status_t st = check(
          cudaDeviceGetAttribute(smemLimit,
                                 cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                 device),
          "cudaDeviceGetAttribute"))
    return st;
  const int64_t C = std::max(s.num_q_clusters, s.num_kv_clusters);
  if (selectSmem(int(a.head_dim), int(s.num_kv_clusters)) > size_t(*smemLimit) ||
      size_t(C + 1) * 4 > size_t(*smemLimit))
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       n + "too many clusters for shared memory");
  return VSART_OK;
}

/// k-means of one tensor, then its stable sort (perm, offsets) and the
/// permuted rows (and those of `v` with the same permutation).
vsart_status_t clusterAndPermute(const Tensor &t, const Tensor *v, int slices,
                                 int S, int D, int C, float *cent, bool seed,
                                 int64_t iters, float *sum, float *norm,
                                 int32_t *cnt, int32_t *labels, int32_t *perm,
                                 bf16 *xp, bf16 *vp, const Scratch &w,
                                 int64_t *offsets, int slots, int smemLimit,
                                 cudaStream_t stream) {
  const int chunks = int(w.chunks);
  if (seed) {
    seedKernel<<<dim3(C, slices), 128, 0, stream>>>(t, S, C, D, cent);
    if (vsart_status_t st = checkLaunch("semantic seed"))
      return st;
  }
  const bool vecX = D % 8 == 0 && reinterpret_cast<uintptr_t>(t.x) % 16 == 0 &&
                    t.st[0] % 8 == 0 && t.st[1] % 8 == 0 && t.st[2] % 8 == 0;
  const bool smemSums = size_t(C) * (D + 1) * 4 <= 96 * 1024;
  const size_t uSmem = size_t(C) * 4 + (smemSums ? size_t(C) * D * 4 : 0);
  if (uSmem > size_t(smemLimit))
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "cuda_semantic_attention: too many clusters");
  if (vsart_status_t st =
          check(cudaFuncSetAttribute(updateKernel,
                                     cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     int(uSmem)),
                "semantic update: shared memory"))
    return st;
  for (int64_t it = 0; it < iters; ++it) {
    prepKernel<<<slices, 256, 0, stream>>>(cent, norm, sum, cnt, C, D);
    vsart_status_t st = VSART_OK;
    if (D <= 64)
      st = launchAssignMma<64>(t, slices, S, C, D, cent, norm, labels, vecX, stream);
    else if (D <= 128)
      st = launchAssignMma<128>(t, slices, S, C, D, cent, norm, labels, vecX, stream);
    else
      st = launchAssignMma<256>(t, slices, S, C, D, cent, norm, labels, vecX, stream);
    if (st)
      return st;
    updateKernel<<<dim3(chunks, slices), 256, uSmem, stream>>>(
        t, S, C, D, labels, sum, cnt, w.chunkCnt, chunks, smemSums);
    finalizeKernel<<<slices, 256, 0, stream>>>(cent, sum, cnt, C, D);
    if (vsart_status_t st = checkLaunch("semantic k-means"))
      return st;
  }
  scanKernel<<<slices, 128, size_t(C + 1) * 4, stream>>>(
      cnt, w.chunkCnt, chunks, C, S, slices, offsets, slots, w.slotStart);
  scatterKernel<<<dim3(chunks, slices), kChunk, 0, stream>>>(
      labels, w.chunkCnt, S, C, chunks, perm);
  if (vsart_status_t st = checkLaunch("semantic sort"))
    return st;
  const dim3 grid((S + 7) / 8, slices);
  for (int i = 0; i < (v ? 2 : 1); ++i) {
    const Tensor &src = i ? *v : t;
    bf16 *dst = i ? vp : xp;
    const bool vec = D % 8 == 0 && reinterpret_cast<uintptr_t>(src.x) % 16 == 0 &&
                     src.st[0] % 8 == 0 && src.st[1] % 8 == 0 &&
                     src.st[2] % 8 == 0;
    bf16 *x = const_cast<bf16 *>(src.x);
    if (vec)
      copyRowsKernel<8, true><<<grid, 256, 0, stream>>>(x, src, dst, perm, S, D);
    else
      copyRowsKernel<1, true><<<grid, 256, 0, stream>>>(x, src, dst, perm, S, D);
    if (vsart_status_t st = checkLaunch("semantic gather"))
      return st;
  }
  return VSART_OK;
}

Tensor tensorOf(const void *x, const int64_t st[3], int64_t heads) {
  Tensor t;
  t.x = static_cast<const bf16 *>(x);
  t.st[0] = st[0], t.st[1] = st[1], t.st[2] = st[2];
  t.heads = int(heads);
  return t;
}

} // namespace

extern "C" vsart_status_t
vsart_cuda_semantic_scratch_bytes(const vsart_semantic_args_t *args,
                                  size_t *bytes) {
  if (vsart_status_t st = vsart::checkSemanticArgs(
          "cuda_semantic_scratch_bytes", args, false))
    return st;
  if (!bytes)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "cuda_semantic_scratch_bytes: null result");
  *bytes = Scratch(*args, nullptr).bytes;
  return vsart::ok();
}

extern "C" vsart_status_t
vsart_cuda_semantic_attention(const vsart_semantic_args_t *args,
                              void *stream) {
  using vsart::fail;
  if (vsart_status_t st =
          vsart::checkSemanticArgs("cuda_semantic_attention", args, true))
    return st;
  const vsart_attention_args_t &a = args->attn;
  const int64_t B = a.batch, H = a.num_heads, Hkv = a.num_kv_heads;
  const int64_t S = a.seq_q, D = a.head_dim;
  if (B * H * S * D == 0)
    return vsart::ok();
  int smemLimit = 0;
  if (vsart_status_t st = checkDevice(*args, &smemLimit))
    return st;
  const size_t need = Scratch(*args, nullptr).bytes;
  if (!args->scratch || args->scratch_bytes < need)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_semantic_attention: scratch of " +
                    std::to_string(args->scratch_bytes) + " bytes, " +
                    std::to_string(need) + " needed");
  const Scratch w(*args, static_cast<char *>(args->scratch));
  cudaStream_t s = vsart::cuda::toStream(stream);
  vsart_semantic_state_t &state = *args->state;
  const bool seed = state.initialized == 0;
  const int64_t iters = seed ? args->iterations_first : args->iterations_warm;
  const int Cq = int(args->num_q_clusters), Ckv = int(args->num_kv_clusters);
  const int slots = int(w.slots);

  const Tensor tq = tensorOf(a.q, a.q_strides, H),
               tk = tensorOf(a.k, a.k_strides, Hkv),
               tv = tensorOf(a.v, a.v_strides, Hkv);
  if (vsart_status_t st = clusterAndPermute(
          tq, nullptr, int(B * H), int(S), int(D), Cq, state.q_centroids, seed,
          iters, w.qsum, w.qnorm, w.qcnt, w.qlab, w.qperm, w.qp, nullptr, w,
          w.qoff, slots, smemLimit, s))
    return st;
  if (vsart_status_t st = clusterAndPermute(
          tk, &tv, int(B * Hkv), int(S), int(D), Ckv, state.k_centroids, seed,
          iters, w.ksum, w.knorm, w.kcnt, w.klab, w.kperm, w.kp, w.vp, w,
          w.kvoff, 0, smemLimit, s))
    return st;
  state.initialized = 1;
  if (args->q_labels)
    if (vsart_status_t st = check(
            cudaMemcpyAsync(args->q_labels, w.qlab, size_t(B * H * S) * 4,
                            cudaMemcpyDeviceToDevice, s),
            "cuda_semantic_attention: q labels"))
      return st;
  if (args->k_labels)
    if (vsart_status_t st = check(
            cudaMemcpyAsync(args->k_labels, w.klab, size_t(B * Hkv * S) * 4,
                            cudaMemcpyDeviceToDevice, s),
            "cuda_semantic_attention: k labels"))
      return st;

  // Lists: every block slot has num_kv_clusters entries, -1 past its kept
  // clusters.
  const int64_t numSlots = B * H * slots;
  if (vsart_status_t st = check(
          cudaMemsetAsync(w.lists, 0xff, size_t(numSlots * Ckv) * 4, s),
          "cuda_semantic_attention: lists"))
    return st;
  iotaKernel<<<unsigned((numSlots + 1 + 255) / 256), 256, 0, s>>>(
      w.listOff, numSlots + 1, Ckv);
  SelectParams sp = {};
  sp.qc = state.q_centroids, sp.kc = state.k_centroids;
  sp.kcnt = w.kcnt, sp.slotStart = w.slotStart;
  sp.H = int(H), sp.Hkv = int(Hkv), sp.Cq = Cq, sp.Ckv = Ckv, sp.D = int(D);
  sp.slots = slots;
  sp.minKept = int(vsart::semanticMinKept(args->min_kept_fraction, Ckv));
  sp.scale = a.scale, sp.topP = args->top_p, sp.keepAll = args->top_p >= 1.0f;
  sp.lists = w.lists, sp.blockMap = args->block_map;
  const size_t selSmem = selectSmem(int(D), Ckv);
  if (vsart_status_t st =
          check(cudaFuncSetAttribute(selectKernel,
                                     cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     int(selSmem)),
                "semantic select: shared memory"))
    return st;
  selectKernel<<<dim3(Cq, B * H), 128, selSmem, s>>>(sp);
  if (vsart_status_t st = checkLaunch("semantic select"))
    return st;

  vsart_block_sparse_args_t bs =
      vsart::slicesAsOneSequence(a, w.qp, w.kp, w.vp, w.op);
  bs.num_q_blocks = numSlots, bs.q_block_offsets = w.qoff;
  bs.num_kv_blocks = B * Hkv * Ckv, bs.kv_block_offsets = w.kvoff;
  bs.list_offsets = w.listOff, bs.lists = w.lists;
  bs.max_q_block = kBlockRows;
  if (vsart_status_t st = vsart_cuda_block_sparse_attention(&bs, stream))
    return st;

  const Tensor to = tensorOf(a.out, a.out_strides, H);
  const bool vec = D % 8 == 0 && reinterpret_cast<uintptr_t>(a.out) % 16 == 0 &&
                   a.out_strides[0] % 8 == 0 && a.out_strides[1] % 8 == 0 &&
                   a.out_strides[2] % 8 == 0;
  const dim3 grid(unsigned((S + 7) / 8), unsigned(B * H));
  bf16 *out = static_cast<bf16 *>(a.out);
  if (vec)
    copyRowsKernel<8, false><<<grid, 256, 0, s>>>(out, to, w.op, w.qperm,
                                                  int(S), int(D));
  else
    copyRowsKernel<1, false><<<grid, 256, 0, s>>>(out, to, w.op, w.qperm,
                                                  int(S), int(D));
  if (vsart_status_t st = checkLaunch("semantic unpermute"))
    return st;
  return vsart::ok();
}

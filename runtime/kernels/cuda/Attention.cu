// Flash attention (FlashAttention-2 style) for bf16 on sm_80+ tensor cores.
//
// A CTA takes BM = 16 * MT * WARPS queries of one (batch, head); each warp
// owns 16 * MT query rows. Keys and values stream through a ring of STAGES
// shared-memory tiles of BN rows (cp.async), so the loads of later tiles
// overlap the math of the current one, with one barrier per tile. The tile
// math (swizzled shared tiles, ldmatrix + mma.sync m16n8k16, online softmax
// in the log2 domain) lives in FlashCommon.cuh, shared with the block-sparse
// kernel. K/V rows past seq_kv are zero-filled and their scores set to -inf;
// a row whose scores are all -inf yields 0.
#include "../AttentionArgs.h"
#include "Common.h"
#include "FlashCommon.cuh"

#include <cstdint>

namespace {

using namespace vsart::cuda::flash;

/// Issues the cp.async copies of K/V tile t into its stage (no commit).
template <class C>
__device__ void loadKv(bf16 *sK, bf16 *sV, const bf16 *kBase,
                       const bf16 *vBase, int t, const Params &p) {
  const int stage = t % C::STAGES;
  loadTile<C, C::BN>(sK + stage * C::TILE, kBase, p.ks[2], t * C::BN, p.seqKv,
                     p.headDim, p.vec);
  loadTile<C, C::BN>(sV + stage * C::TILE, vBase, p.vs[2], t * C::BN, p.seqKv,
                     p.headDim, p.vec);
}

/// Grid: (query blocks, heads, batch). K/V tiles run through a ring of
/// STAGES shared buffers: tile t + STAGES - 1 is requested right after the
/// barrier of tile t, which also proves every warp is done with its buffer
/// (read for tile t - 1), so one barrier per tile suffices.
template <class C, bool MASK>
__global__ void __launch_bounds__(C::THREADS) flashAttention(const Params p) {
  extern __shared__ __align__(128) unsigned char smem[];
  bf16 *sQ = reinterpret_cast<bf16 *>(smem);
  bf16 *sK = sQ + C::BM * C::D; // stage i at sK + i * TILE
  bf16 *sV = sK + C::STAGES * C::TILE;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int h = blockIdx.y, b = blockIdx.z, g = h / p.group;
  const int q0 = blockIdx.x * C::BM;
  const bf16 *qBase = p.q + b * p.qs[0] + h * p.qs[1];
  const bf16 *kBase = p.k + b * p.ks[0] + g * p.ks[1];
  const bf16 *vBase = p.v + b * p.vs[0] + g * p.vs[1];
  const int nTiles = (p.seqKv + C::BN - 1) / C::BN;

  // One commit group per tile (the first also holds Q), empty past the end.
  loadTile<C, C::BM>(sQ, qBase, p.qs[2], q0, p.seqQ, p.headDim, p.vec);
#pragma unroll
  for (int t = 0; t < C::STAGES - 1; ++t) {
    if (t < nTiles)
      loadKv<C>(sK, sV, kBase, vBase, t, p);
    cpAsyncCommit();
  }
  cpAsyncWait<C::STAGES - 2>();
  __syncthreads();

  uint32_t qf[C::MT][C::QF][4];
  if constexpr (C::QREGS)
    loadQFragments<C>(qf, sQ, warp, lane);
  const bf16 *maskRow[C::MT][2] = {};
#pragma unroll
  for (int mt = 0; mt < C::MT; ++mt)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int row = q0 + warp * C::WROWS + mt * 16 + (lane >> 2) + 8 * r;
      if (MASK && row < p.seqQ)
        maskRow[mt][r] = p.mask + b * p.ms[0] + h * p.ms[1] + row * p.ms[2];
    }
  float o[C::MT][C::D / 8][4] = {};
  float m[C::MT][2], l[C::MT][2];
#pragma unroll
  for (int mt = 0; mt < C::MT; ++mt)
    m[mt][0] = m[mt][1] = -INFINITY, l[mt][0] = l[mt][1] = 0.0f;

  for (int t = 0; t < nTiles; ++t) {
    cpAsyncWait<C::STAGES - 2>(); // this thread's copies of tile t landed
    __syncthreads(); // everyone's did; every warp is done with tile t - 1
    if (t + C::STAGES - 1 < nTiles)
      loadKv<C>(sK, sV, kBase, vBase, t + C::STAGES - 1, p);
    cpAsyncCommit();
    const int stage = t % C::STAGES;
    float s[C::MT][C::BN / 8][4];
    scores<C>(s, qf, sQ, sK + stage * C::TILE, warp, lane);
#pragma unroll
    for (int mt = 0; mt < C::MT; ++mt)
      onlineSoftmax<C, MASK>(s[mt], o[mt], m[mt], l[mt], p.scaleLog2,
                             maskRow[mt], p.ms[3], t * C::BN, p.seqKv, lane);
    accumulate<C>(o, s, sV + stage * C::TILE, lane);
  }
  cpAsyncWait<0>(); // no copy may still target the Q tile (nTiles == 0)
  __syncthreads();
  if (p.lse)
    storeLse<C>(m, l, p.lse + (int64_t(b) * p.heads + h) * p.seqQ, q0, p.seqQ,
                warp, lane);
  stageOutput<C>(o, l, sQ, warp, lane);
  __syncwarp();
  storeOutput<C>(sQ, p.out + b * p.os[0] + h * p.os[1], p.os[2], q0, p.seqQ,
                 p.headDim, p.vec, warp, lane);
}

template <class C, bool MASK>
vsart_status_t launch(const Params &p, int64_t batch, cudaStream_t stream) {
  auto kernel = flashAttention<C, MASK>;
  if (C::SMEM > 48 * 1024)
    if (vsart_status_t st = vsart::cuda::check(
            cudaFuncSetAttribute(kernel,
                                 cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 C::SMEM),
            "cuda_attention: shared memory"))
      return st;
  const dim3 grid(unsigned((p.seqQ + C::BM - 1) / C::BM), unsigned(p.heads),
                  unsigned(batch));
  kernel<<<grid, C::THREADS, C::SMEM, stream>>>(p);
  return vsart::cuda::checkLaunch("cuda_attention");
}

template <class C>
vsart_status_t dispatch(const Params &p, int64_t batch, cudaStream_t stream) {
  return p.mask ? launch<C, true>(p, batch, stream)
                : launch<C, false>(p, batch, stream);
}

} // namespace

// Tile shapes by padded head_dim, measured on an H100 (bf16, b s h d):
// d = 128 (Wan 2.1, 12 heads x 32760 tokens): 256 queries x 64 keys per CTA,
// 8 warps of 32 rows, Q read from shared memory, 3 K/V stages: ~300 TFLOP/s
// (128-query CTAs, 4-warp CTAs, 32-key tiles or Q in registers ran 3-35%
// slower). d = 64 (16 heads x 16384): the same with Q in registers, ~290.
// d = 256 is the generic path (64 x 32 tiles, slight register spills).
using ConfigD64 = Config<64, 64, 8, 2, true, 3>;
using ConfigD128 = Config<128, 64, 8, 2, false, 3>;
using ConfigD256 = Config<256, 32, 4, 1, false, 2>;

/// Our kernel on checked arguments (lse may be NULL).
static vsart_status_t ownAttention(const vsart_attention_args_t &a,
                                   const int64_t ms[4], float *lse,
                                   cudaStream_t s) {
  if (vsart_status_t st = checkLimits("cuda_attention", a))
    return st;
  Params p = makeParams(a, ms);
  p.lse = lse;
  vsart_status_t st;
  if (a.head_dim <= 64)
    st = dispatch<ConfigD64>(p, a.batch, s);
  else if (a.head_dim <= 128)
    st = dispatch<ConfigD128>(p, a.batch, s);
  else
    st = dispatch<ConfigD256>(p, a.batch, s);
  return st ? st : vsart::ok();
}

/// cuDNN where the path allows and it takes the case, else our kernel;
/// with `lse` both also write the rows' log-sum-exp.
static vsart_status_t attentionOnPath(const vsart_attention_args_t &a,
                                      const int64_t ms[4], float *lse,
                                      cudaStream_t s, const char *what) {
  vsart_attention_path_t path;
  if (vsart_status_t st = vsart::cuda::attentionPath(&path))
    return st;
  if (path != VSART_ATTENTION_OWN) {
    bool ran = false;
    std::string why;
    if (vsart_status_t st = vsart::cuda::cudnnAttention(a, s, &ran, &why, lse))
      return st;
    if (ran)
      return vsart::ok();
    if (path == VSART_ATTENTION_CUDNN)
      return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                         std::string(what) +
                             ": the cuDNN path was asked for "
                             "(VSART_ATTENTION=cudnn) but cannot run: " + why);
  }
  return ownAttention(a, ms, lse, s);
}

extern "C" vsart_status_t vsart_cuda_attention(const vsart_attention_args_t *args,
                                               void *stream) {
  int64_t ms[4];
  bool empty = false;
  if (vsart_status_t st = vsart::checkAttentionArgs(
          "cuda_attention", args, ms, &empty, /*fp8Allowed=*/true))
    return st;
  if (empty)
    return vsart::ok();
  if (args->fp8) {
    vsart_status_t st =
        vsart::cuda::fp8Attention(*args, vsart::cuda::toStream(stream));
    return st ? st : vsart::ok();
  }
  return attentionOnPath(*args, ms, nullptr, vsart::cuda::toStream(stream),
                         "cuda_attention");
}

extern "C" vsart_status_t
vsart_cuda_attention_lse(const vsart_attention_args_t *args, float *lse,
                         void *stream) {
  int64_t ms[4];
  bool empty = false;
  if (vsart_status_t st =
          vsart::checkAttentionArgs("cuda_attention_lse", args, ms, &empty))
    return st;
  if (!lse && args->batch * args->num_heads * args->seq_q > 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "cuda_attention_lse: null lse");
  if (empty)
    return vsart::ok();
  return attentionOnPath(*args, ms, lse, vsart::cuda::toStream(stream),
                         "cuda_attention_lse");
}

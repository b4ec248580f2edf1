// Block-sparse flash attention for bf16 on sm_80+ tensor cores: the CUDA
// twin of vsart_cpu_block_sparse_attention (kernels/cpu/Attention.cpp).
//
// Grid: (num_q_blocks * subTiles, heads, batch) with subTiles =
// ceil(max_q_block / BM). CTA x takes query rows [start + sub * BM, + BM) of
// query block qb = x / subTiles (sub = x % subTiles), cut at the block's end;
// a CTA whose rows start at or past the end exits at once. It walks the key
// blocks of its list in list order, each in BN-row tiles whose rows past the
// block's end are zero-filled and score -inf, with one online softmax over
// all of them, so 64-token video tiles holding 37 real tokens and 1560-token
// frame blocks both work. The tile math is the dense kernel's
// (FlashCommon.cuh); K/V tiles run through the same ring of STAGES shared
// buffers with one barrier per tile. The row ranges of the list's key blocks
// are gathered into shared memory kListChunk entries at a time, so issuing
// the next tile needs no dependent global loads. Configurations with Q in
// registers park the Q tile in the last K/V stage, which is first written
// after every warp has read its Q fragments. Query rows past the block's end
// are zero-filled on load and never stored.
//
// On Hopper with 64 < head_dim <= 128 and aligned rows the TMA kernel
// below runs (blockSparseTma: warp-specialised, two consumer warpgroups),
// else the 64-row warpgroup-MMA kernel (blockSparseWgmma; also
// VSART_BLOCK_SPARSE=wg1, or operands a TMA map cannot describe), else the
// mma.sync kernel (blockSparseAttention; sm_80, other head sizes, unaligned
// rows, VSART_BLOCK_SPARSE=mma).
//
// The offsets and lists live on the device, so the host checks only what it
// can see (pointers, counts, sizes, list scope, no mask); list entries
// outside [0, num_kv_blocks) are skipped.
#include "../AttentionArgs.h"
#include "Common.h"
#include "FlashCommon.cuh"
#include "WgmmaCommon.cuh"

#include <cudaTypedefs.h> // PFN_cuTensorMapEncodeTiled

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

using namespace vsart::cuda::flash;
namespace wgmma = vsart::cuda::wgmma;

struct SparseParams {
  Params a; // no mask
  const int64_t *qOffsets, *kvOffsets, *listOffsets;
  const int32_t *lists; // NULL: every list is empty
  int numQBlocks, numKvBlocks, subTiles;
  int scope; // vsart_list_scope_t
};

/// List entries whose key-block row ranges shared memory holds at a time.
constexpr int kListChunk = 256;

/// Shared memory of configuration C: STAGES x (K tile, V tile), the Q tile
/// (unless it lives in registers and borrows the last stage), the gathered
/// row ranges and each stage's number of valid keys.
template <class C> struct Layout {
  static constexpr bool QALIAS = C::QREGS;
  static constexpr int STAGE = 2 * C::TILE; // elements: K tile, then V tile
  static constexpr int KV = C::STAGES * STAGE;
  static constexpr int Q = QALIAS ? 0 : C::BM * C::D;
  static constexpr int LIST = (KV + Q) * 2; // byte offset of the ranges
  static constexpr int SMEM = LIST + kListChunk * 8 + C::STAGES * 4;
  static_assert(!QALIAS || C::BM * C::D <= STAGE, "Q must fit in one stage");
  static_assert(C::BM * C::D <= KV + Q, "the output is staged in K/V/Q");
};

/// Where a CTA is in its list: entry e (of [.., e1)) is key block rows
/// [row, end) still to load; sList holds entries [chunk, chunk + kListChunk).
struct Cursor {
  int64_t e, e1, chunk;
  int row, end;
};

/// Gathers the row ranges of list entries [first, min(first + kListChunk,
/// e1)) into sList (entries out of range: empty). Every thread calls it.
template <class C>
__device__ void gatherRanges(int2 *sList, const SparseParams &p, int64_t first,
                             int64_t e1) {
  __syncthreads(); // nobody still reads the previous chunk
  for (int i = threadIdx.x; i < kListChunk && first + i < e1; i += C::THREADS) {
    const int kb = p.lists[first + i];
    int2 r = make_int2(0, 0);
    if (kb >= 0 && kb < p.numKvBlocks)
      r = make_int2(int(p.kvOffsets[kb]), int(p.kvOffsets[kb + 1]));
    sList[i] = r;
  }
  __syncthreads();
}

/// Moves the cursor to the next tile, key rows [row0, row0 + BN) of which
/// those below rowEnd are real; false past the list's last tile. The cursor
/// is the same in every thread, so the barriers of gatherRanges are too.
template <class C>
__device__ bool nextTile(Cursor &c, int2 *sList, const SparseParams &p,
                         int &row0, int &rowEnd) {
  while (c.row >= c.end) { // skips empty blocks
    if (++c.e >= c.e1)
      return false;
    if (c.e >= c.chunk + kListChunk) {
      c.chunk = c.e;
      gatherRanges<C>(sList, p, c.chunk, c.e1);
    }
    const int2 r = sList[c.e - c.chunk];
    c.row = r.x, c.end = r.y;
  }
  row0 = c.row, rowEnd = c.end;
  c.row += C::BN;
  return true;
}

/// List entries [e0, e1) of query block qb.
__device__ __forceinline__ void listOf(const SparseParams &p, int qb,
                                       int64_t &e0, int64_t &e1) {
  int64_t list = qb;
  if (p.scope != VSART_LISTS_SHARED)
    list += int64_t(blockIdx.y) * p.numQBlocks;
  if (p.scope == VSART_LISTS_PER_BATCH_HEAD)
    list += int64_t(blockIdx.z) * p.a.heads * p.numQBlocks;
  e0 = p.listOffsets[list];
  e1 = p.lists ? p.listOffsets[list + 1] : e0;
}

/// This CTA's query rows [q0, qEnd) (`rows` per sub-tile of its query
/// block) and its list's entries [e0, e1); false when the rows start past
/// the block's end.
__device__ __forceinline__ bool queryTile(const SparseParams &p, int rows,
                                          int &q0, int &qEnd, int64_t &e0,
                                          int64_t &e1) {
  const int qb = int(blockIdx.x) / p.subTiles;
  q0 = int(p.qOffsets[qb]) + int(blockIdx.x) % p.subTiles * rows;
  qEnd = int(p.qOffsets[qb + 1]);
  listOf(p, qb, e0, e1);
  return q0 < qEnd;
}

/// Issues the cp.async copies of the K/V tile at key rows [row0, row0 + BN)
/// (zero at or past rowEnd) into stage `slot` and records its valid keys.
template <class C>
__device__ void loadKv(bf16 *sKv, int *sValid, int slot, const bf16 *kBase,
                       const bf16 *vBase, int row0, int rowEnd,
                       const Params &a) {
  bf16 *sK = sKv + slot * Layout<C>::STAGE;
  loadTile<C, C::BN>(sK, kBase, a.ks[2], row0, rowEnd, a.headDim, a.vec);
  loadTile<C, C::BN>(sK + C::TILE, vBase, a.vs[2], row0, rowEnd, a.headDim,
                     a.vec);
  if (threadIdx.x == 0)
    sValid[slot] = rowEnd - row0; // may exceed BN: no masking
}

/// One CTA per (query sub-tile, head, batch); see the file comment. Tile t
/// is loaded into stage t % STAGES; tile t + STAGES - 1 is requested right
/// after the barrier of tile t, which also proves every warp is done with
/// its stage (read for tile t - 1), as in the dense kernel.
template <class C, int MINB>
__global__ void __launch_bounds__(C::THREADS, MINB)
    blockSparseAttention(const SparseParams p) {
  using L = Layout<C>;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16 *sKv = reinterpret_cast<bf16 *>(smem);
  bf16 *sQ = L::QALIAS ? sKv + (C::STAGES - 1) * L::STAGE : sKv + L::KV;
  int2 *sList = reinterpret_cast<int2 *>(smem + L::LIST);
  int *sValid = reinterpret_cast<int *>(sList + kListChunk);
  const Params &a = p.a;
  int q0, qEnd;
  int64_t e0, e1;
  if (!queryTile(p, C::BM, q0, qEnd, e0, e1))
    return;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int h = blockIdx.y, b = blockIdx.z, g = h / a.group;
  const bf16 *qBase = a.q + b * a.qs[0] + h * a.qs[1];
  const bf16 *kBase = a.k + b * a.ks[0] + g * a.ks[1];
  const bf16 *vBase = a.v + b * a.vs[0] + g * a.vs[1];

  // One commit group per tile (the first also holds Q), empty past the end.
  loadTile<C, C::BM>(sQ, qBase, a.qs[2], q0, qEnd, a.headDim, a.vec);
  Cursor cur = {e0 - 1, e1, e0, 0, 0};
  gatherRanges<C>(sList, p, e0, e1);
  int issued = 0, row0, rowEnd;
#pragma unroll
  for (int t = 0; t < C::STAGES - 1; ++t) {
    if (nextTile<C>(cur, sList, p, row0, rowEnd))
      loadKv<C>(sKv, sValid, issued++ % C::STAGES, kBase, vBase, row0, rowEnd,
                a);
    cpAsyncCommit();
  }
  cpAsyncWait<C::STAGES - 2>();
  __syncthreads();

  uint32_t qf[C::MT][C::QF][4];
  if constexpr (C::QREGS)
    loadQFragments<C>(qf, sQ, warp, lane);
  const bf16 *const noMask[2] = {nullptr, nullptr};
  const int64_t noMaskStride = 0;
  float o[C::MT][C::D / 8][4] = {};
  float m[C::MT][2], l[C::MT][2];
#pragma unroll
  for (int mt = 0; mt < C::MT; ++mt)
    m[mt][0] = m[mt][1] = -INFINITY, l[mt][0] = l[mt][1] = 0.0f;

  for (int t = 0; t < issued; ++t) {
    cpAsyncWait<C::STAGES - 2>(); // this thread's copies of tile t landed
    __syncthreads(); // everyone's did; every warp is done with tile t - 1
    if (nextTile<C>(cur, sList, p, row0, rowEnd))
      loadKv<C>(sKv, sValid, issued++ % C::STAGES, kBase, vBase, row0, rowEnd,
                a);
    cpAsyncCommit();
    const int stage = t % C::STAGES;
    const int valid = sValid[stage];
    const bf16 *sK = sKv + stage * L::STAGE;
    float s[C::MT][C::BN / 8][4];
    scores<C>(s, qf, sQ, sK, warp, lane);
#pragma unroll
    for (int mt = 0; mt < C::MT; ++mt)
      onlineSoftmax<C, false>(s[mt], o[mt], m[mt], l[mt], a.scaleLog2, noMask,
                              noMaskStride, 0, valid, lane);
    accumulate<C>(o, s, sK + C::TILE, lane);
  }
  cpAsyncWait<0>(); // no copy may still target the staging area
  __syncthreads();
  stageOutput<C>(o, l, sKv, warp, lane);
  __syncwarp();
  storeOutput<C>(sKv, a.out + b * a.os[0] + h * a.os[1], a.os[2], q0, qEnd,
                 a.headDim, a.vec, warp, lane);
}

// ---- Hopper: warpgroup MMA -----------------------------------------------
// 64 < head_dim <= 128 on sm_90a, any block sizes (VSA and sliding-tile
// tiles, frames, semantic clusters): one warpgroup per CTA and 64-row query
// tile (a block's sub-tiles as above), the list walked in 64-key tiles, S = Q K^T and O += P V by wgmma
// reading K and V from 128-byte swizzled panel tiles (WgmmaCommon.cuh), Q in
// registers (parked in the last stage first), the online softmax and output
// staging of FlashCommon.cuh; where the TMA kernel cannot run (see the file
// comment). Measured on an H100 at the Wan 1.3B shape (12 heads x
// 128, 32760 tokens, 64-token blocks, 12.5 % kept): 3 CTAs per SM and 2
// stages 2.01-2.06 ms (409 TFLOP/s of computed blocks; mma.sync 3.35), 2
// CTAs 2.23, 3 stages 2.25, and overlapping each tile's softmax with the
// previous tile's P V (FA3's intra-warpgroup pipelining, 2 CTAs) 2.18.
// Every CTA streams its own 64 K/V tiles (random lists share none): 12.6 GB
// from L2 per call; ncu puts L2 at 60 % and the SMs at 57 % of peak.
// 1560-token frames (3 of 21 kept): 2.32 ms, mma.sync's 128-row CTAs 3.76.
template <int STAGES> using WgConfig = Config<128, 64, 4, 1, true, STAGES>;

template <int STAGES> struct WgLayout {
  static constexpr int TILE = 64 * wgmma::kD; // elements of a K or V tile
  static constexpr int STAGE = 2 * TILE;
  static constexpr int KV = STAGES * STAGE;
  static constexpr int LIST = KV * 2; // byte offset of the ranges
  static constexpr int SMEM = 1024 + LIST + kListChunk * 8 + STAGES * 4;
};

template <int MINB, int STAGES>
__global__ void __launch_bounds__(128, MINB)
    blockSparseWgmma(const SparseParams p) {
  using Wg = WgConfig<STAGES>;
  using WL = WgLayout<STAGES>;

#if VSART_WGMMA
  extern __shared__ unsigned char smemRaw[];
  // wgmma's swizzle atoms are 1024-byte aligned.
  unsigned char *smem = smemRaw + ((1024 - smemAddr(smemRaw) % 1024) % 1024);
  bf16 *sKv = reinterpret_cast<bf16 *>(smem);
  bf16 *sQ = sKv + (Wg::STAGES - 1) * WL::STAGE;
  int2 *sList = reinterpret_cast<int2 *>(smem + WL::LIST);
  int *sValid = reinterpret_cast<int *>(sList + kListChunk);
  const Params &a = p.a;
  int q0, qEnd;
  int64_t e0, e1;
  if (!queryTile(p, 64, q0, qEnd, e0, e1))
    return;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int h = blockIdx.y, b = blockIdx.z, g = h / a.group;
  const bf16 *kBase = a.k + b * a.ks[0] + g * a.ks[1];
  const bf16 *vBase = a.v + b * a.vs[0] + g * a.vs[1];
  auto loadKv = [&](int slot, int row0, int rowEnd) {
    bf16 *sK = sKv + slot * WL::STAGE;
    wgmma::loadPanelTile<64>(sK, kBase, a.ks[2], row0, rowEnd, a.headDim);
    wgmma::loadPanelTile<64>(sK + WL::TILE, vBase, a.vs[2], row0, rowEnd,
                             a.headDim);
    if (threadIdx.x == 0)
      sValid[slot] = rowEnd - row0;
  };

  wgmma::loadPanelTile<64>(sQ, a.q + b * a.qs[0] + h * a.qs[1], a.qs[2], q0,
                           qEnd, a.headDim);
  Cursor cur = {e0 - 1, e1, e0, 0, 0};
  gatherRanges<Wg>(sList, p, e0, e1);
  int issued = 0, row0, rowEnd;
#pragma unroll
  for (int t = 0; t < Wg::STAGES - 1; ++t) {
    if (nextTile<Wg>(cur, sList, p, row0, rowEnd))
      loadKv(issued++ % Wg::STAGES, row0, rowEnd);
    cpAsyncCommit();
  }
  cpAsyncWait<Wg::STAGES - 2>();
  __syncthreads();
  uint32_t qf[wgmma::kD / 16][4];
  wgmma::loadQ(qf, sQ, warp, lane);
  const bf16 *const noMask[2] = {nullptr, nullptr};
  const int64_t noMaskStride = 0;
  float o[1][wgmma::kD / 8][4] = {};
  float m[1][2] = {{-INFINITY, -INFINITY}}, l[1][2] = {{0.0f, 0.0f}};
  for (int t = 0; t < issued; ++t) {
    cpAsyncWait<Wg::STAGES - 2>(); // this thread's copies of tile t landed
    wgmma::fenceProxyAsync();       // ... and are visible to wgmma
    __syncthreads(); // everyone's did; every wgmma of tile t - 1 is done
    if (nextTile<Wg>(cur, sList, p, row0, rowEnd))
      loadKv(issued++ % Wg::STAGES, row0, rowEnd);
    cpAsyncCommit();
    const int stage = t % Wg::STAGES;
    const int valid = sValid[stage];
    const bf16 *sK = sKv + stage * WL::STAGE;
    float s[Wg::BN / 8][4];
    wgmma::scores(s, qf, sK);
    onlineSoftmax<Wg, false>(s, o[0], m[0], l[0], a.scaleLog2, noMask,
                             noMaskStride, 0, valid, lane);
    wgmma::accumulate(o[0], s, sK + WL::TILE);
  }
  cpAsyncWait<0>(); // no copy may still target the staging area
  __syncthreads();
  stageOutput<Wg>(o, l, sKv, warp, lane);
  __syncwarp();
  storeOutput<Wg>(sKv, a.out + b * a.os[0] + h * a.os[1], a.os[2], q0, qEnd,
                  a.headDim, a.vec, warp, lane);
#else
  (void)p;
  __trap(); // launched only where the sm_90a code exists (wgmmaUsable)
#endif
}

// ---- Hopper: TMA, producer warps and two consumer warpgroups -------------
// Two consumer warpgroups each do what blockSparseWgmma's CTA does for 64
// query rows, fed by TMA from producer warps through rings of K/V tiles in
// shared memory (a tile's full barrier counts its bytes; the consumer
// warps release it on its empty barrier), so consumers never issue a copy
// or a CTA-wide barrier and the warpgroups drift freely: one's softmax
// overlaps the other's MMAs. A tile is HALVES 64-key halves, each the next
// 64 rows of the list walk, packed in 16-row quarters where blocks are
// smaller (produceTiles); keys past a quarter's valid rows score -inf (the
// rows TMA brings there are real neighbours or zeros). valid holds a
// half's counts a byte per quarter; (-1, -1) ends a ring.
//  - Shared (query blocks above 64 rows: 128-token blocks, frames,
//    semantic clusters): a CTA takes 128 rows of one query block, both
//    warpgroups read one ring of 128-key tiles, so every byte streamed
//    from L2 feeds twice the MMAs of the 64-row kernel.
//  - Dual (blocks of at most 64 rows: VSA's tiles): a CTA takes query
//    blocks 2x and 2x + 1, each warpgroup its own block, list and ring of
//    64-key tiles.
// Producer warp r (of the third warpgroup) loads warpgroup r's Q and fills
// ring r. setmaxnreg moves registers from the producers (40) to the
// consumers (232) within each SM quadrant's register file. Every consumer
// thread arrives on the empty barrier (as fast as one arrival per warp, and
// racecheck sees the ordering). Measured on an H100 at the Wan 1.3B shape
// (12 heads x 128, 32760 tokens, 12.5 % kept): 128-token blocks 1.49-1.51
// ms (550 TFLOP/s of computed blocks; the 64-row kernel 2.09, the
// FlexAttention anchor 2.2), 1560-token frames 1.73 (2.40), 64-token blocks
// (dual) 1.75-1.79 (2.15), VSA's tiles (dual) 2.49 (3.09; 2.60 before the
// quarter packing). Dual mode
// streams each warpgroup's own tiles, so L2 bandwidth bounds it; reading
// the valid counts in lane 0 and shuffling them cost 10 % in shared mode.
struct TmaMaps {
  CUtensorMap q, k, v; // 4-d: (head_dim, seq, heads, batch), 64 x 64 boxes
  CUtensorMap k16, v16; // the same in 64 x 16 boxes (quarters)
};

/// The valid-key counts of a half whose 4 quarters are all whole.
[[maybe_unused]] constexpr int kFullHalf = 0x10101010;

constexpr int kTmaThreads = 384;
constexpr int kTmaStages = 3;    // tiles of 128 keys (shared ring)
constexpr int kHalf = 64 * wgmma::kD; // elements of a 64 x 128 tile

/// Shared memory: the 128-row Q tile, 6 stages of 64-key halves (K then V),
/// barriers (full, empty, per ring and stage; Q per warpgroup) and the
/// stages' valid keys.
struct TmaLayout {
  static constexpr int KV = 2 * kTmaStages * 2 * kHalf; // elements
  static constexpr int BARS = (2 * kHalf + KV) * 2;     // byte offset
  static constexpr int NBARS = 2 * 2 * kTmaStages + 2;
  static constexpr int SMEM = 1024 + BARS + NBARS * 8 + 2 * kTmaStages * 8;
};

/// One ring: STAGES tiles of HALVES halves (K halves, then V halves).
struct Ring {
  bf16 *tiles;
  uint64_t *full, *empty;
  int2 *valid;
};

/// Row range (x, y) of list entry `e` (below e1; else, or out of range:
/// empty).
[[maybe_unused]] __device__ __forceinline__ int2
entryRange(const SparseParams &p, int64_t e, int64_t e1) {
  if (e >= e1)
    return make_int2(0, 0);
  const int kb = p.lists[e];
  if (kb < 0 || kb >= p.numKvBlocks)
    return make_int2(0, 0);
  return make_int2(int(p.kvOffsets[kb]), int(p.kvOffsets[kb + 1]));
}

/// Warpgroup w's query rows [q0, qEnd) and list [e0, e1); rows past the
/// end, or no block (DUAL, odd count): q0 >= qEnd and an empty list.
template <bool DUAL>
__device__ void warpgroupRows(const SparseParams &p, int w, int &q0, int &qEnd,
                              int64_t &e0, int64_t &e1) {
  const int qb = DUAL ? 2 * int(blockIdx.x) + w : int(blockIdx.x) / p.subTiles;
  if (qb >= p.numQBlocks) {
    q0 = qEnd = 0, e0 = e1 = 0;
    return;
  }
  q0 = int(p.qOffsets[qb]);
  if (!DUAL)
    q0 += int(blockIdx.x) % p.subTiles * 128 + 64 * w;
  qEnd = int(p.qOffsets[qb + 1]);
  listOf(p, qb, e0, e1);
  if (q0 >= qEnd) // nothing to compute: the ring ends at once
    e1 = e0;
}

/// Producer warp r: warpgroup r's Q, then (if it has a list) the list's
/// tiles into its ring. Every lane walks the list (32 entries' ranges held
/// one per lane); lane 0 issues. A half whose 64 rows lie in one key block
/// is one box per panel; otherwise it is packed in 16-row quarters, each
/// the next up to 16 rows of the walk, so key blocks of 8-48 tokens (VSA's
/// edge tiles) fill it instead of each taking a whole half.
template <int HALVES>
__device__ void produceTiles(const SparseParams &p, const TmaMaps &maps,
                             bf16 *sQ, uint64_t *qBar, int q0, bool walk,
                             const Ring &ring, int64_t e0, int64_t e1) {
  const int lane = threadIdx.x & 31;
  const int h = blockIdx.y, b = blockIdx.z, g = h / p.a.group;
  if (lane == 0) {
    wgmma::mbarExpect(qBar, kHalf * 2);
    for (int panel = 0; panel < 2; ++panel)
      wgmma::tmaLoad(sQ + panel * 64 * wgmma::kPanel, &maps.q, panel * 64, q0,
                     h, b, qBar);
    wgmma::mbarArrive(qBar);
  }
  if (!walk)
    return;
  int64_t chunk = e0;
  int2 r = entryRange(p, chunk + lane, e1);
  int e = -1, row = 0, end = 0;
  // Moves to the next key row of the walk [row, end); false past its end.
  auto ensure = [&]() {
    while (row >= end) {
      if (chunk + ++e >= e1)
        return false;
      if (e == 32)
        chunk += 32, e = 0, r = entryRange(p, chunk + lane, e1);
      row = __shfl_sync(0xffffffffu, r.x, e);
      end = __shfl_sync(0xffffffffu, r.y, e);
    }
    return true;
  };
  // K and V rows [at, at + 64 or 16) into element offset `off` of a tile's
  // K halves (the V halves follow them), both panels.
  auto copy = [&](bf16 *st, int off, int at, bool whole, uint64_t *bar) {
    if (lane != 0)
      return;
    for (int panel = 0; panel < 2; ++panel) {
      const int o = off + panel * 64 * wgmma::kPanel;
      wgmma::tmaLoad(st + o, whole ? &maps.k : &maps.k16, panel * 64, at, g,
                     b, bar);
      wgmma::tmaLoad(st + HALVES * kHalf + o, whole ? &maps.v : &maps.v16,
                     panel * 64, at, g, b, bar);
    }
  };
  // Fills half `half`; returns its valid keys per quarter, a byte each.
  // Quarters past the walk's end hold rows of block 0..15 with none valid.
  auto fillHalf = [&](bf16 *st, int half, uint64_t *bar) {
    const int off = half * kHalf;
    if (ensure() && end - row >= 64) {
      copy(st, off, row, true, bar);
      row += 64;
      return kFullHalf;
    }
    int counts = 0;
    for (int q = 0; q < 4; ++q) {
      const bool ok = ensure();
      copy(st, off + q * 16 * wgmma::kPanel, ok ? row : 0, false, bar);
      if (ok)
        counts |= min(end - row, 16) << (8 * q), row += 16;
    }
    return counts;
  };
  for (int u = 0;; ++u) {
    const int slot = u % kTmaStages;
    if (u >= kTmaStages) // the consumers released the slot's previous tile
      wgmma::mbarWait(&ring.empty[slot], (u / kTmaStages + 1) & 1);
    if (!ensure()) {
      if (lane == 0) {
        ring.valid[slot] = make_int2(-1, -1);
        wgmma::mbarArrive(&ring.full[slot]);
      }
      return;
    }
    // The byte count first, the counts before the arrival that may
    // complete the phase.
    if (lane == 0)
      wgmma::mbarExpect(&ring.full[slot], HALVES * 2 * kHalf * 2);
    bf16 *st = ring.tiles + slot * HALVES * 2 * kHalf;
    const int lo = fillHalf(st, 0, &ring.full[slot]);
    const int hi = HALVES > 1 ? fillHalf(st, 1, &ring.full[slot]) : 0;
    if (lane == 0) {
      ring.valid[slot] = make_int2(lo, hi);
      wgmma::mbarArrive(&ring.full[slot]);
    }
  }
}

/// One consumer warpgroup: its 64 query rows [q0, qEnd) against every tile
/// of its ring until the end mark. A warpgroup without rows only releases
/// the ring's tiles; rows at or past qEnd are never stored.
template <int HALVES>
__device__ void consumeTiles(const SparseParams &p, bf16 *sQ, uint64_t *qBar,
                             const Ring &ring, int q0, int qEnd) {
  using Tile = Config<128, 64 * HALVES, 4, 1, true, 2>; // softmax, staging
  constexpr int SN = 8 * HALVES;                        // n8 score tiles
  const Params &a = p.a;
  const int warp = (threadIdx.x >> 5) & 3, lane = threadIdx.x & 31;
  const bool active = q0 < qEnd;
  wgmma::mbarWait(qBar, 0);
  uint32_t qf[wgmma::kD / 16][4];
  wgmma::loadQ(qf, sQ, warp, lane);
  const bf16 *const noMask[2] = {nullptr, nullptr};
  const int64_t noMaskStride = 0;
  const int keyEnd = Tile::BN;
  float o[1][wgmma::kD / 8][4] = {};
  float m[1][2] = {{-INFINITY, -INFINITY}}, l[1][2] = {{0.0f, 0.0f}};
  for (int u = 0;; ++u) {
    const int slot = u % kTmaStages;
    wgmma::mbarWait(&ring.full[slot], (u / kTmaStages) & 1);
    const int2 valid = ring.valid[slot];
    if (valid.x < 0)
      break;
    if (active) {
      const bf16 *sK = ring.tiles + slot * HALVES * 2 * kHalf;
      const bf16 *sV = sK + HALVES * kHalf;
      float s[SN][4];
#pragma unroll
      for (int half = 0; half < HALVES; ++half)
        wgmma::issueScores(*reinterpret_cast<float(*)[8][4]>(&s[8 * half]), qf,
                           sK + half * kHalf);
      wgmma::waitGroup<0>();
      wgmma::fenceRegs(s);
#pragma unroll
      for (int half = 0; half < HALVES; ++half)
        if (const int v = half ? valid.y : valid.x; v != kFullHalf)
          wgmma::maskKeys(*reinterpret_cast<float(*)[8][4]>(&s[8 * half]), v,
                          lane);
      onlineSoftmax<Tile, false>(s, o[0], m[0], l[0], a.scaleLog2, noMask,
                                 noMaskStride, 0, keyEnd, lane);
      uint32_t pf[HALVES][4][4];
      uint64_t d[HALVES][4];
#pragma unroll
      for (int half = 0; half < HALVES; ++half) {
        wgmma::packP(pf[half], *reinterpret_cast<float(*)[8][4]>(&s[8 * half]));
        wgmma::vDescriptors(d[half], sV + half * kHalf);
        wgmma::fenceRegs(pf[half]);
        wgmma::fenceRegs(d[half]);
      }
      wgmma::fenceRegs(o[0]);
#pragma unroll
      for (int half = 0; half < HALVES; ++half)
        wgmma::issueAccumulate(o[0], pf[half], d[half]);
      wgmma::waitGroup<0>();
      wgmma::fenceRegs(o[0]);
    }
    wgmma::mbarArrive(&ring.empty[slot]); // every consumer thread
  }
  if (!active)
    return;
  // Q is in registers now; the staging overwrites other warps' Q rows.
  asm volatile("bar.sync %0, 128;\n" ::"r"(1 + int(threadIdx.x >> 7))
               : "memory");
  stageOutput<Tile>(o, l, sQ, warp, lane);
  __syncwarp();
  storeOutput<Tile>(sQ, a.out + blockIdx.z * a.os[0] + blockIdx.y * a.os[1],
                    a.os[2], q0, qEnd, a.headDim, a.vec, warp, lane);
}

template <bool DUAL>
__global__ void __launch_bounds__(kTmaThreads, 1)
    blockSparseTma(const SparseParams p, const __grid_constant__ TmaMaps maps) {
#if VSART_WGMMA
  constexpr int HALVES = DUAL ? 1 : 2;
  extern __shared__ unsigned char smemRaw[];
  unsigned char *smem = smemRaw + ((1024 - smemAddr(smemRaw) % 1024) % 1024);
  bf16 *sQ = reinterpret_cast<bf16 *>(smem);
  bf16 *sKv = sQ + 2 * kHalf;
  uint64_t *bars = reinterpret_cast<uint64_t *>(smem + TmaLayout::BARS);
  int2 *sValid = reinterpret_cast<int2 *>(bars + TmaLayout::NBARS);
  const int wg = threadIdx.x >> 7, warp = threadIdx.x >> 5;
  const int w = wg == 2 ? warp - 8 : wg; // the warpgroup served or served by
  int q0, qEnd;
  int64_t e0, e1;
  warpgroupRows<DUAL>(p, w & 1, q0, qEnd, e0, e1);
  if (!DUAL && blockIdx.x % p.subTiles * 128 >=
                   p.qOffsets[blockIdx.x / p.subTiles + 1] -
                       p.qOffsets[blockIdx.x / p.subTiles])
    return; // the whole CTA is past its query block's end
  // Ring r: stages of both rings (DUAL) or all 6 halves (shared).
  const int r = DUAL ? w & 1 : 0;
  const Ring ring = {sKv + r * kTmaStages * 2 * kHalf,
                     bars + r * 2 * kTmaStages,
                     bars + r * 2 * kTmaStages + kTmaStages,
                     sValid + r * kTmaStages};
  uint64_t *qBar = bars + 4 * kTmaStages + (w & 1);
  if (threadIdx.x < 2 * kTmaStages * 2 + 2) // one thread per barrier
    wgmma::mbarInit(bars + threadIdx.x,
                    threadIdx.x >= 4 * kTmaStages               ? 1
                    : (threadIdx.x / kTmaStages) % 2 == 0 ? 1
                    : DUAL                                      ? 128
                                                                : 256);
  __syncthreads();
  if (wg == 2) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
    if (w < 2)
      produceTiles<HALVES>(p, maps, sQ + w * kHalf, qBar, q0,
                           DUAL || w == 0, ring, e0, e1);
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n" ::: "memory");
    consumeTiles<HALVES>(p, sQ + wg * kHalf, qBar, ring, q0, qEnd);
  }
#else
  (void)p, (void)maps;
  __trap(); // launched only where the sm_90a code exists (wgmmaUsable)
#endif
}

/// cuTensorMapEncodeTiled from the driver, or null.
PFN_cuTensorMapEncodeTiled_v12000 tensorMapEncoder() {
  static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void *f = nullptr;
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000,
                                         cudaEnableDefault,
                                         &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      cudaGetLastError();
      f = nullptr;
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(f);
  }();
  return fn;
}

/// The 4-d map (head_dim, seq, heads, batch) of a bf16 operand with
/// element strides s (batch, head, seq) in 64 x boxRows boxes, 128-byte swizzle,
/// zeros out of bounds; false where TMA cannot describe it.
bool encodeMap(CUtensorMap &map, const bf16 *base, int headDim, int seq,
               int heads, int64_t batch, const int64_t (&s)[3],
               unsigned boxRows = 64) {
  const PFN_cuTensorMapEncodeTiled_v12000 encode = tensorMapEncoder();
  if (!encode)
    return false;
  const cuuint64_t dims[4] = {cuuint64_t(headDim), cuuint64_t(seq),
                              cuuint64_t(heads), cuuint64_t(batch)};
  const cuuint64_t strides[3] = {cuuint64_t(s[2]) * 2, cuuint64_t(s[1]) * 2,
                                 cuuint64_t(s[0]) * 2};
  const cuuint32_t box[4] = {64, boxRows, 1, 1}, unit[4] = {1, 1, 1, 1};
  return encode(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4,
                const_cast<bf16 *>(base), dims, strides, box, unit,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

/// Whether blockSparseWgmma runs here: an sm_90 device, this binary's
/// sm_90a code for it, and VSART_BLOCK_SPARSE not "mma".
bool wgmmaUsable() {
  const char *env = std::getenv("VSART_BLOCK_SPARSE");
  if (env && std::string(env) == "mma")
    return false;
  int device = 0, major = 0;
  cudaFuncAttributes attr = {};
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor,
                             device) != cudaSuccess ||
      cudaFuncGetAttributes(&attr, blockSparseWgmma<3, 2>) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return major == 9 && attr.binaryVersion == 90;
}

/// Whether query blocks above 64 rows take the TMA kernel on Hopper:
/// unless VSART_BLOCK_SPARSE=wg1 (the 64-row kernel for every block).
bool tmaWanted() {
  const char *env = std::getenv("VSART_BLOCK_SPARSE");
  return !env || std::string(env) != "wg1";
}

/// Sets `kernel`'s dynamic shared memory to `smem` bytes and calls
/// run(params, grid) over (query tiles of `tileRows` rows, heads, batch);
/// with `pairs`, a CTA takes two query blocks of at most tileRows rows.
template <class Kernel, class Run>
vsart_status_t launchTiles(Kernel kernel, Run run, int smem, int tileRows,
                           const SparseParams &p, int64_t maxQBlock,
                           int64_t batch, const char *what,
                           bool pairs = false) {
  if (smem > 48 * 1024)
    if (vsart_status_t st = vsart::cuda::check(
            cudaFuncSetAttribute(kernel,
                                 cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 smem),
            "cuda_block_sparse_attention: shared memory"))
      return st;
  SparseParams q = p;
  q.subTiles = int((maxQBlock + tileRows - 1) / tileRows);
  const int64_t ctas = pairs ? (int64_t(p.numQBlocks) + 1) / 2
                             : int64_t(p.numQBlocks) * q.subTiles;
  if (ctas > INT_MAX)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "cuda_block_sparse_attention: more than 2^31 - 1 query "
                       "tiles");
  if (ctas == 0)
    return VSART_OK;
  run(q, dim3(unsigned(ctas), unsigned(p.a.heads), unsigned(batch)));
  return vsart::cuda::checkLaunch(what);
}

template <int MINB, int STAGES>
vsart_status_t launchWgmma(const SparseParams &p, int64_t maxQBlock,
                           int64_t batch, cudaStream_t stream) {
  constexpr int smem = WgLayout<STAGES>::SMEM;
  auto run = [&](const SparseParams &q, dim3 grid) {
    blockSparseWgmma<MINB, STAGES><<<grid, 128, smem, stream>>>(q);
  };
  return launchTiles(blockSparseWgmma<MINB, STAGES>, run, smem, 64, p,
                     maxQBlock, batch, "cuda_block_sparse_attention (wgmma)");
}

/// The TMA kernel (DUAL: query blocks of at most 64 rows); false (nothing
/// launched) where TMA cannot describe the operands.
template <bool DUAL>
bool launchTma(const SparseParams &p, int64_t maxQBlock, int64_t batch,
               cudaStream_t stream, vsart_status_t &st) {
  TmaMaps maps;
  const Params &a = p.a;
  const int kvHeads = a.heads / a.group;
  if (!encodeMap(maps.q, a.q, a.headDim, a.seqQ, a.heads, batch, a.qs) ||
      !encodeMap(maps.k, a.k, a.headDim, a.seqKv, kvHeads, batch, a.ks) ||
      !encodeMap(maps.v, a.v, a.headDim, a.seqKv, kvHeads, batch, a.vs) ||
      !encodeMap(maps.k16, a.k, a.headDim, a.seqKv, kvHeads, batch, a.ks, 16) ||
      !encodeMap(maps.v16, a.v, a.headDim, a.seqKv, kvHeads, batch, a.vs, 16))
    return false;
  constexpr int smem = TmaLayout::SMEM;
  auto run = [&](const SparseParams &q, dim3 grid) {
    blockSparseTma<DUAL><<<grid, kTmaThreads, smem, stream>>>(q, maps);
  };
  st = launchTiles(blockSparseTma<DUAL>, run, smem, DUAL ? 64 : 128, p,
                   maxQBlock, batch, "cuda_block_sparse_attention (tma)", DUAL);
  return true;
}

template <class C, int MINB = 1>
vsart_status_t launch(const SparseParams &p, int64_t maxQBlock, int64_t batch,
                      cudaStream_t stream) {
  constexpr int smem = Layout<C>::SMEM;
  auto run = [&](const SparseParams &q, dim3 grid) {
    blockSparseAttention<C, MINB><<<grid, C::THREADS, smem, stream>>>(q);
  };
  return launchTiles(blockSparseAttention<C, MINB>, run, smem, C::BM, p,
                     maxQBlock, batch, "cuda_block_sparse_attention");
}

/// Checks of the block-sparse arguments the host can see (the offsets and
/// lists are device memory); the messages follow the CPU twin's.
vsart_status_t checkSparseArgs(const vsart_block_sparse_args_t &b) {
  using vsart::fail;
  const std::string n = "cuda_block_sparse_attention: ";
  if (b.attn.mask)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + "masks are not supported");
  if (b.num_q_blocks < 0 || b.num_kv_blocks < 0 ||
      b.num_q_blocks > INT_MAX || b.num_kv_blocks > INT_MAX)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + "block counts must be in [0, 2^31)");
  if (b.num_q_blocks == 0 && b.attn.seq_q > 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + "no query blocks");
  if (b.num_kv_blocks == 0 && b.attn.seq_kv > 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + "no key blocks");
  if (b.num_q_blocks > 0 && !b.q_block_offsets)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + "no query block offsets");
  if (b.num_kv_blocks > 0 && !b.kv_block_offsets)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + "no key block offsets");
  if (b.list_scope != VSART_LISTS_SHARED &&
      b.list_scope != VSART_LISTS_PER_HEAD &&
      b.list_scope != VSART_LISTS_PER_BATCH_HEAD)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + "unknown list scope");
  if (b.num_q_blocks > 0 && !b.list_offsets)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + "no list offsets");
  if (b.max_q_block < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + "negative max_q_block");
  return VSART_OK;
}

// Tile shapes (queries x keys per CTA, warps of 16 * MT rows, stages).
// Query blocks of at most 64 tokens (VSA's 4x4x4 tiles): 64-row CTAs of 4
// warps of 16 rows, Q in registers parked in the last stage, registers
// capped for 3 CTAs per SM (168; d = 128 spills a few bytes). Measured
// on an H200 at the Wan 1.3B shape (12 heads x 128, 32760 tokens, 64-token
// blocks, 12.5 % kept): 3.31 ms; uncapped (2 CTAs per SM) 3.39, 3 stages
// 3.38, Q in shared memory 3.49, 128-row CTAs of 4 warps of 32 rows 6.11
// (half their rows idle). Larger blocks (frames): 128-row CTAs of 4 warps of
// 32 rows. d = 256: 64 x 32 tiles as in the dense kernel.
using SmallD64 = Config<64, 64, 4, 1, true, 3>;
using SmallD128 = Config<128, 64, 4, 1, true, 2>;
using BigD64 = Config<64, 64, 4, 2, true, 3>;
using BigD128 = Config<128, 64, 4, 2, false, 2>;
using AnyD256 = Config<256, 32, 4, 1, false, 2>;

} // namespace

extern "C" vsart_status_t
vsart_cuda_block_sparse_attention(const vsart_block_sparse_args_t *args,
                                  void *stream) {
  int64_t ms[4];
  bool empty = false;
  if (!args)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "cuda_block_sparse_attention: null args");
  const vsart_attention_args_t &a = args->attn;
  if (vsart_status_t st = vsart::checkAttentionArgs(
          "cuda_block_sparse_attention", &a, ms, &empty))
    return st;
  if (vsart_status_t st = checkSparseArgs(*args))
    return st;
  if (vsart_status_t st = checkLimits("cuda_block_sparse_attention", a))
    return st;
  if (empty)
    return vsart::ok();
  SparseParams p = {};
  p.a = makeParams(a, ms);
  p.qOffsets = args->q_block_offsets, p.kvOffsets = args->kv_block_offsets;
  p.listOffsets = args->list_offsets, p.lists = args->lists;
  p.numQBlocks = int(args->num_q_blocks);
  p.numKvBlocks = int(args->num_kv_blocks);
  p.scope = int(args->list_scope);
  const int64_t maxQ = args->max_q_block == 0
                           ? a.seq_q
                           : std::min(args->max_q_block, a.seq_q);
  const bool small = maxQ <= 64;
  cudaStream_t s = vsart::cuda::toStream(stream);
  vsart_status_t st;
  static const bool hopper = wgmmaUsable();
  static const bool tma = tmaWanted();
  if (hopper && a.head_dim > 64 && a.head_dim <= 128 && p.a.vec) {
    if (!tma || !(small ? launchTma<true>(p, maxQ, a.batch, s, st)
                        : launchTma<false>(p, maxQ, a.batch, s, st)))
      st = launchWgmma<3, 2>(p, maxQ, a.batch, s);
  } else if (a.head_dim <= 64)
    st = small ? launch<SmallD64, 3>(p, maxQ, a.batch, s)
               : launch<BigD64>(p, maxQ, a.batch, s);
  else if (a.head_dim <= 128)
    st = small ? launch<SmallD128, 3>(p, maxQ, a.batch, s)
               : launch<BigD128>(p, maxQ, a.batch, s);
  else
    st = launch<AnyD256>(p, maxQ, a.batch, s);
  return st ? st : vsart::ok();
}

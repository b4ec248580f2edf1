// Device pieces of the flash-attention kernels (dense: Attention.cu,
// block-sparse: BlockSparseAttention.cu), bf16 on sm_80+ tensor cores.
//
// A CTA holds BM = 16 * MT * WARPS query rows in shared memory; each warp
// owns 16 * MT of them. Keys and values stream through shared tiles of BN
// rows (cp.async). S = Q K^T and O += P V run as mma.sync m16n8k16 (bf16
// operands, fp32 accumulators) with operands fetched by ldmatrix; every K/V
// fragment feeds MT mma's. Shared tiles are swizzled in 16-byte chunks
// (chunk ^ (row % 8)), so the 8 row addresses of every ldmatrix phase hit
// distinct banks. The softmax is online, in fp32, in the log2 domain (exp2
// of scores times scale * log2(e)); a row whose scores are all -inf keeps
// l = 0 and yields 0. head_dim is zero-padded to the tile's D (64, 128 or
// 256). Rows that are not 16-byte aligned (odd head_dim, strides or
// pointers) load and store element-wise instead of through cp.async /
// 16-byte stores (`vec` false).
//
// The device helpers depend only on the tile configuration and plain
// arguments, never on a kernel's parameter block; the host side holds the
// parameter block both kernels start from and the checks they share.
#ifndef VSART_KERNELS_CUDA_FLASHCOMMON_CUH
#define VSART_KERNELS_CUDA_FLASHCOMMON_CUH

#include "../AttentionArgs.h"

#include <cuda_bf16.h>

#include <climits>
#include <cstdint>
#include <string>

namespace vsart::cuda::flash {

using bf16 = __nv_bfloat16;
constexpr float kLog2e = 1.4426950408889634f;

template <int D_, int BN_, int WARPS_, int MT_, bool QREGS_, int STAGES_>
struct Config {
  static constexpr int D = D_;         // padded head_dim
  static constexpr int BN = BN_;       // keys per tile
  static constexpr int WARPS = WARPS_;
  static constexpr int MT = MT_;       // 16-row query tiles per warp
  static constexpr bool QREGS = QREGS_; // Q fragments live in registers
  static constexpr int STAGES = STAGES_; // K/V tiles in flight (>= 2)
  static constexpr int WROWS = 16 * MT; // query rows per warp
  static constexpr int BM = WROWS * WARPS, THREADS = 32 * WARPS;
  static constexpr int CHUNKS = D / 8; // 16-byte chunks per row
  static constexpr int TILE = BN * D;  // elements of one K or V tile
  static constexpr int SMEM = (BM * D + 2 * STAGES * TILE) * 2; // Q, K, V
  static constexpr int QF = QREGS ? D / 16 : 1;       // Q fragments held
  static_assert(D % 64 == 0 && BN % 16 == 0, "tile shape");
  static_assert(THREADS % CHUNKS == 0 && BN % (THREADS / CHUNKS) == 0 &&
                    BM % (THREADS / CHUNKS) == 0,
                "tile loads must split evenly over the threads");
  static_assert(STAGES >= 2, "at least double buffering");
};

/// Element offset of 16-byte chunk `chunk` of row `row` in a swizzled tile.
template <int D> __device__ __forceinline__ int swz(int row, int chunk) {
  return row * D + ((chunk ^ (row & 7)) << 3);
}

__device__ __forceinline__ uint32_t smemAddr(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/// 16-byte async copy; with `valid` false the destination is zero-filled.
__device__ __forceinline__ void cpAsync16(uint32_t dst, const void *src,
                                          bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst),
               "l"(src), "r"(valid ? 16 : 0)
               : "memory");
}

__device__ __forceinline__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

template <int N> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void ldmatrix4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, "
               "[%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void ldmatrix4T(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 "
               "{%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

/// d += a b for one m16n8k16 tile (bf16 operands, fp32 accumulators).
__device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4],
                                    uint32_t b0, uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// Two floats as bf16x2, `lo` in the low half (the lower column).
__device__ __forceinline__ uint32_t pack(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t *>(&v);
}

__device__ __forceinline__ float exp2Fast(float x) { // exp2(-inf) == 0
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ uint32_t bits(const bf16 *p, int i, int n) {
  return i < n ? __bfloat16_as_ushort(p[i]) : 0u;
}

/// Synchronous fallback for unaligned data: the first n (<= 8, may be <= 0)
/// elements of src, zero-padded, into one 16-byte chunk.
__device__ inline void loadChunk(bf16 *dst, const bf16 *src, int n) {
  uint32_t w[4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
    w[i] = bits(src, 2 * i, n) | bits(src, 2 * i + 1, n) << 16;
  *reinterpret_cast<uint4 *>(dst) = make_uint4(w[0], w[1], w[2], w[3]);
}

/// Rows [row0, row0 + ROWS) of a (seq, head_dim) matrix into a swizzled
/// ROWS x D tile; rows at or past rowEnd and columns past headDim become 0.
/// A thread always copies the same chunk column, every RSTEP-th row. With
/// `vec` the copies are cp.async (the caller commits), else synchronous.
template <class C, int ROWS>
__device__ void loadTile(bf16 *tile, const bf16 *base, int64_t rowStride,
                         int row0, int rowEnd, int headDim, bool vec) {
  constexpr int RSTEP = C::THREADS / C::CHUNKS;
  const int c = threadIdx.x % C::CHUNKS, col = c * 8;
  const int r0 = threadIdx.x / C::CHUNKS;
  const bool colOk = col < headDim;
  const bf16 *src = base + int64_t(row0 + r0) * rowStride + col;
  const int64_t srcStep = RSTEP * rowStride;
#pragma unroll
  for (int it = 0; it < ROWS / RSTEP; ++it, src += srcStep) {
    const int r = r0 + it * RSTEP;
    const bool rowOk = row0 + r < rowEnd;
    bf16 *dst = tile + swz<C::D>(r, c);
    if (vec)
      cpAsync16(smemAddr(dst), rowOk && colOk ? src : base, rowOk && colOk);
    else
      loadChunk(dst, src, rowOk ? headDim - col : 0);
  }
}

/// Address of the A fragment (rows 0-15, k chunk pair kk) of query tile mt
/// of this warp in the Q tile.
template <class C>
__device__ __forceinline__ uint32_t qAddr(const bf16 *sQ, int warp, int mt,
                                          int kk, int lane) {
  return smemAddr(sQ + swz<C::D>(warp * C::WROWS + mt * 16 + (lane & 15),
                                 2 * kk + (lane >> 4)));
}

/// The warp's Q fragments (QREGS configurations) from the Q tile.
template <class C>
__device__ __forceinline__ void loadQFragments(uint32_t (&qf)[C::MT][C::QF][4],
                                               const bf16 *sQ, int warp,
                                               int lane) {
#pragma unroll
  for (int mt = 0; mt < C::MT; ++mt)
#pragma unroll
    for (int kk = 0; kk < C::QF; ++kk)
      ldmatrix4(qf[mt][kk], qAddr<C>(sQ, warp, mt, kk, lane));
}

/// s = Q K^T for this warp's query rows and the BN keys of the tile. Each K
/// fragment feeds MT mma's. Q comes from qf (QREGS) or the Q tile sQ.
template <class C>
__device__ void scores(float (&s)[C::MT][C::BN / 8][4],
                       const uint32_t (&qf)[C::MT][C::QF][4], const bf16 *sQ,
                       const bf16 *sK, int warp, int lane) {
#pragma unroll
  for (int mt = 0; mt < C::MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < C::BN / 8; ++nt)
      s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.0f;
#pragma unroll
  for (int kk = 0; kk < C::D / 16; ++kk) {
    uint32_t a[C::MT][4];
#pragma unroll
    for (int mt = 0; mt < C::MT; ++mt) {
      if constexpr (C::QREGS) {
#pragma unroll
        for (int i = 0; i < 4; ++i)
          a[mt][i] = qf[mt][kk][i];
      } else {
        ldmatrix4(a[mt], qAddr<C>(sQ, warp, mt, kk, lane));
      }
    }
#pragma unroll
    for (int np = 0; np < C::BN / 16; ++np) {
      // Matrices: keys 0-7 | 0-7 | 8-15 | 8-15 x dims 0-7 | 8-15 | 0-7 | 8-15.
      uint32_t b[4];
      const int row = np * 16 + (lane & 7) + ((lane >> 4) << 3);
      ldmatrix4(b, smemAddr(sK + swz<C::D>(row, 2 * kk + ((lane >> 3) & 1))));
#pragma unroll
      for (int mt = 0; mt < C::MT; ++mt) {
        mma(s[mt][2 * np], a[mt], b[0], b[1]);
        mma(s[mt][2 * np + 1], a[mt], b[2], b[3]);
      }
    }
  }
}

/// Max of a thread's two rows' values over its quad (the 4 lanes that share
/// the rows).
__device__ __forceinline__ float quadMax(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}

/// Online softmax over one tile for one 16-row query tile: turns the scores
/// s into p = exp2(x - m), x = s * scaleLog2 (+ mask * log2(e)), updates the
/// running max m and rescales the row sums l; corr is the factor o must be
/// rescaled by for the new max (rescaleRows). The tile's keys are kv0 + 0 ..
/// BN - 1; keys at or past keyEnd score -inf. With MASK, row r's additive
/// mask is maskRow[r][key * maskStride] (maskRow[r] NULL: none). Thread rows
/// are r = 0 (lane / 4) and r = 1 (lane / 4 + 8). (Measured on H100:
/// folding the scale into an FFMA, split max/sum chains or packing P here
/// all ran slower, through extra register spills.) maskStride and keyEnd
/// are references so that kernel parameters passed here stay in the
/// parameter bank: by value, ptxas spilled more in the masked dense kernels.
template <class C, bool MASK>
__device__ __forceinline__ void
softmaxTile(float (&s)[C::BN / 8][4], float (&m)[2], float (&l)[2],
            float (&corr)[2], float scaleLog2, const bf16 *const (&maskRow)[2],
            const int64_t &maskStride, int kv0, const int &keyEnd, int lane) {
  const int key0 = kv0 + (lane & 3) * 2;
  const bool tail = kv0 + C::BN > keyEnd;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float mx = m[r];
#pragma unroll
    for (int nt = 0; nt < C::BN / 8; ++nt)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int key = key0 + nt * 8 + e;
        float x = s[nt][2 * r + e] * scaleLog2;
        if (MASK && maskRow[r] && key < keyEnd)
          x += __bfloat162float(maskRow[r][key * maskStride]) * kLog2e;
        if (tail && key >= keyEnd)
          x = -INFINITY;
        s[nt][2 * r + e] = x;
        mx = fmaxf(mx, x);
      }
    mx = quadMax(mx);
    // No finite score yet: subtract 0 so p = exp2(-inf) = 0, never NaN.
    const float base = mx == -INFINITY ? 0.0f : mx;
    corr[r] = exp2Fast(m[r] - base); // m = -inf: 0
    m[r] = mx;
    float sum = 0.0f;
#pragma unroll
    for (int nt = 0; nt < C::BN / 8; ++nt)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const float pe = exp2Fast(s[nt][2 * r + e] - base);
        s[nt][2 * r + e] = pe;
        sum += pe;
      }
    l[r] = l[r] * corr[r] + sum; // per-thread partial, summed over the quad last
  }
}

/// o's two thread rows times corr (softmaxTile's factors).
template <int DT>
__device__ __forceinline__ void rescaleRows(float (&o)[DT][4],
                                            const float (&corr)[2]) {
#pragma unroll
  for (int r = 0; r < 2; ++r)
#pragma unroll
    for (int dt = 0; dt < DT; ++dt)
      o[dt][2 * r] *= corr[r], o[dt][2 * r + 1] *= corr[r];
}

/// softmaxTile, then o rescaled for the new max.
template <class C, bool MASK>
__device__ void onlineSoftmax(float (&s)[C::BN / 8][4], float (&o)[C::D / 8][4],
                              float (&m)[2], float (&l)[2], float scaleLog2,
                              const bf16 *const (&maskRow)[2],
                              const int64_t &maskStride, int kv0,
                              const int &keyEnd, int lane) {
  float corr[2];
  softmaxTile<C, MASK>(s, m, l, corr, scaleLog2, maskRow, maskStride, kv0,
                       keyEnd, lane);
  rescaleRows(o, corr);
}

/// o += P V: the accumulator layout of two adjacent n8 tiles of s is the A
/// layout of P. Each V fragment feeds MT mma's.
template <class C>
__device__ void accumulate(float (&o)[C::MT][C::D / 8][4],
                           const float (&s)[C::MT][C::BN / 8][4],
                           const bf16 *sV, int lane) {
#pragma unroll
  for (int kk = 0; kk < C::BN / 16; ++kk) {
    uint32_t a[C::MT][4];
#pragma unroll
    for (int mt = 0; mt < C::MT; ++mt) {
      const float(&lo)[4] = s[mt][2 * kk];
      const float(&hi)[4] = s[mt][2 * kk + 1];
      a[mt][0] = pack(lo[0], lo[1]), a[mt][1] = pack(lo[2], lo[3]);
      a[mt][2] = pack(hi[0], hi[1]), a[mt][3] = pack(hi[2], hi[3]);
    }
#pragma unroll
    for (int dp = 0; dp < C::D / 16; ++dp) {
      // Transposed matrices: keys 0-7 | 8-15 | 0-7 | 8-15 x dims 0-7 | 0-7 |
      // 8-15 | 8-15.
      uint32_t b[4];
      ldmatrix4T(b, smemAddr(sV + swz<C::D>(kk * 16 + (lane & 15),
                                            2 * dp + (lane >> 4))));
#pragma unroll
      for (int mt = 0; mt < C::MT; ++mt) {
        mma(o[mt][2 * dp], a[mt], b[0], b[1]);
        mma(o[mt][2 * dp + 1], a[mt], b[2], b[3]);
      }
    }
  }
}

/// The row sum l over the quad of lanes sharing a row (l is per thread).
__device__ __forceinline__ float quadSum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

/// Normalises o by l and stages the warp's rows in its own part of the BM x
/// D tile sOut (only this warp ever reads those rows).
template <class C>
__device__ void stageOutput(float (&o)[C::MT][C::D / 8][4],
                            const float (&l)[C::MT][2], bf16 *sOut, int warp,
                            int lane) {
  const int g = lane >> 2, c2 = (lane & 3) * 2;
#pragma unroll
  for (int mt = 0; mt < C::MT; ++mt)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float sum = quadSum(l[mt][r]);
      const float inv = sum > 0.0f ? 1.0f / sum : 0.0f; // fully masked -> 0
      const int row = warp * C::WROWS + mt * 16 + g + 8 * r;
#pragma unroll
      for (int dt = 0; dt < C::D / 8; ++dt)
        *reinterpret_cast<uint32_t *>(sOut + swz<C::D>(row, dt) + c2) =
            pack(o[mt][dt][2 * r] * inv, o[mt][dt][2 * r + 1] * inv);
    }
}

/// Writes each of the warp's rows' natural log-sum-exp of its scaled logits
/// to lse[row] (m and l in the log2 domain of onlineSoftmax; -inf for a row
/// without a finite logit), rows at or past rowEnd skipped.
template <class C>
__device__ void storeLse(const float (&m)[C::MT][2], const float (&l)[C::MT][2],
                         float *lse, int q0, int rowEnd, int warp, int lane) {
  constexpr float kLn2 = 0.6931471805599453f;
#pragma unroll
  for (int mt = 0; mt < C::MT; ++mt)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float sum = quadSum(l[mt][r]);
      const int row = q0 + warp * C::WROWS + mt * 16 + (lane >> 2) + 8 * r;
      if ((lane & 3) == 0 && row < rowEnd)
        lse[row] = sum > 0.0f ? (m[mt][r] + log2f(sum)) * kLn2 : -INFINITY;
    }
}

/// Writes the warp's staged rows to rows q0 + ... of out (row stride
/// rowStride), 16 bytes (or, unaligned, 2) at a time; rows at or past rowEnd
/// and columns past headDim are not written.
template <class C>
__device__ void storeOutput(const bf16 *sOut, bf16 *out, int64_t rowStride,
                            int q0, int rowEnd, int headDim, bool vec,
                            int warp, int lane) {
#pragma unroll
  for (int it = 0; it < C::WROWS * C::CHUNKS / 32; ++it) {
    const int idx = it * 32 + lane, r = idx / C::CHUNKS, c = idx % C::CHUNKS;
    const int row = q0 + warp * C::WROWS + r, col = c * 8;
    if (row >= rowEnd || col >= headDim)
      continue;
    const bf16 *src = sOut + swz<C::D>(warp * C::WROWS + r, c);
    bf16 *dst = out + int64_t(row) * rowStride + col;
    if (vec) {
      *reinterpret_cast<uint4 *>(dst) = *reinterpret_cast<const uint4 *>(src);
    } else {
      for (int e = 0; e < 8 && col + e < headDim; ++e)
        dst[e] = src[e];
    }
  }
}

// ---- host side ----------------------------------------------------------

/// Kernel parameters of a (dense or block-sparse) attention call.
struct Params {
  const bf16 *q, *k, *v, *mask;
  bf16 *out;
  float *lse; // optional: (batch, heads, seqQ) log-sum-exp (dense kernel)
  int64_t qs[3], ks[3], vs[3], os[3], ms[4];
  int heads, group, seqQ, seqKv, headDim;
  float scaleLog2;
  bool vec; // every row start is 16-byte aligned: cp.async and uint4 stores
};

/// True when every row of every operand starts 16-byte aligned.
inline bool rowsAligned(const vsart_attention_args_t &a) {
  uintptr_t bitsOr = reinterpret_cast<uintptr_t>(a.q) |
                     reinterpret_cast<uintptr_t>(a.k) |
                     reinterpret_cast<uintptr_t>(a.v) |
                     reinterpret_cast<uintptr_t>(a.out);
  bool ok = bitsOr % 16 == 0 && a.head_dim % 8 == 0;
  for (int i = 0; i < 3; ++i)
    ok = ok && a.q_strides[i] % 8 == 0 && a.k_strides[i] % 8 == 0 &&
         a.v_strides[i] % 8 == 0 && a.out_strides[i] % 8 == 0;
  return ok;
}

/// Sizes the kernels take (32-bit rows, grid y/z limits, tiles up to D 256);
/// messages start with `name`.
inline vsart_status_t checkLimits(const char *name,
                                  const vsart_attention_args_t &a) {
  const std::string n(name);
  if (a.head_dim > 256)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": head_dim above 256");
  if (a.seq_q > INT_MAX / 2 || a.seq_kv > INT_MAX / 2)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": sequence too long");
  if (a.num_heads > 65535 || a.batch > 65535)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": more than 65535 heads or batches");
  return VSART_OK;
}

/// Parameters of checked arguments; ms: the mask strides of
/// checkAttentionArgs.
inline Params makeParams(const vsart_attention_args_t &a, const int64_t ms[4]) {
  Params p = {};
  p.q = static_cast<const bf16 *>(a.q);
  p.k = static_cast<const bf16 *>(a.k);
  p.v = static_cast<const bf16 *>(a.v);
  p.mask = static_cast<const bf16 *>(a.mask);
  p.out = static_cast<bf16 *>(a.out);
  for (int i = 0; i < 3; ++i) {
    p.qs[i] = a.q_strides[i], p.ks[i] = a.k_strides[i];
    p.vs[i] = a.v_strides[i], p.os[i] = a.out_strides[i];
  }
  for (int i = 0; i < 4; ++i)
    p.ms[i] = ms[i];
  p.heads = int(a.num_heads);
  p.group = int(a.num_heads / a.num_kv_heads);
  p.seqQ = int(a.seq_q), p.seqKv = int(a.seq_kv), p.headDim = int(a.head_dim);
  p.scaleLog2 = a.scale * kLog2e;
  p.vec = rowsAligned(a);
  return p;
}

} // namespace vsart::cuda::flash

#endif // VSART_KERNELS_CUDA_FLASHCOMMON_CUH

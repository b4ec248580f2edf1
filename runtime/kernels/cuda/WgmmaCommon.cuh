// Hopper (sm_90a) warpgroup MMA pieces for the flash-attention kernels: a
// warpgroup of 4 warps computes S = Q K^T (m64n64k16, Q in registers) and
// O += P V (m64n128k16, P in registers) with K and V read by wgmma straight
// from shared memory, so no ldmatrix feeds the tensor cores.
//
// Shared tiles use the 128-byte swizzle wgmma reads: a ROWS x 128 bf16 tile
// is two panels of 64 columns, each ROWS rows of 128 bytes, 16-byte chunk c
// of row r stored at chunk c ^ (r % 8); panels start 1024-byte aligned.
// Descriptors (PTX ISA, "Matrix Descriptor Format"): K tiles are K-major B
// operands (stride between 8-row groups 1024 B); V tiles are N-major B
// operands (transposed), whose leading byte offset steps between 64-column
// panels and stride byte offset between 8-row groups.
//
// The accumulator layouts of m64nN equal, warp by warp, those of the
// mma.sync m16n8 tiles of FlashCommon.cuh (warp w: rows 16w + lane / 4 and
// + 8), so the online softmax and the output staging are shared.
#ifndef VSART_KERNELS_CUDA_WGMMACOMMON_CUH
#define VSART_KERNELS_CUDA_WGMMACOMMON_CUH

#include "FlashCommon.cuh"

#include <cuda.h> // CUtensorMap (a plain struct; no driver library call)

#include <cstdint>

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 &&                          \
    defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define VSART_WGMMA 1
#else
#define VSART_WGMMA 0
#endif

namespace vsart::cuda::wgmma {

using flash::bf16;

constexpr int kD = 128;     // head_dim of these kernels (zero-padded)
constexpr int kPanel = 64;  // bf16 columns of one 128-byte panel

/// Element offset of 16-byte chunk `chunk` (0..15) of row `row` in a
/// ROWS x 128 panel tile.
template <int ROWS>
__device__ __forceinline__ int pswz(int row, int chunk) {
  return (chunk >> 3) * ROWS * kPanel + row * kPanel +
         (((chunk & 7) ^ (row & 7)) << 3);
}

/// Rows [row0, row0 + ROWS) of a (seq, head_dim <= 128) matrix into a panel
/// tile with cp.async (the caller commits); rows at or past rowEnd and
/// columns past headDim become 0. 128 threads.
template <int ROWS>
__device__ void loadPanelTile(bf16 *tile, const bf16 *base, int64_t rowStride,
                              int row0, int rowEnd, int headDim) {
  constexpr int CHUNKS = kD / 8, RSTEP = 128 / CHUNKS;
  const int c = threadIdx.x % CHUNKS, col = c * 8;
  const int r0 = threadIdx.x / CHUNKS;
  const bool colOk = col < headDim;
  const bf16 *src = base + int64_t(row0 + r0) * rowStride + col;
#pragma unroll
  for (int it = 0; it < ROWS / RSTEP; ++it, src += RSTEP * rowStride) {
    const int r = r0 + it * RSTEP;
    const bool ok = colOk && row0 + r < rowEnd;
    flash::cpAsync16(flash::smemAddr(tile + pswz<ROWS>(r, c)), ok ? src : base,
                     ok);
  }
}

/// This warp's 16 rows of the 64-row Q panel tile as 8 k16 A fragments
/// (the mma.sync m16n8k16 A layout, which wgmma's register A shares).
__device__ __forceinline__ void loadQ(uint32_t (&qf)[kD / 16][4],
                                      const bf16 *sQ, int warp, int lane) {
#pragma unroll
  for (int kk = 0; kk < kD / 16; ++kk)
    flash::ldmatrix4(qf[kk], flash::smemAddr(sQ + pswz<64>(warp * 16 + (lane & 15),
                                                           2 * kk + (lane >> 4))));
}

/// A shared-memory matrix descriptor with the 128-byte swizzle.
__device__ __forceinline__ uint64_t descriptor(const void *smem, uint32_t lbo,
                                               uint32_t sbo) {
  const uint32_t addr = flash::smemAddr(smem);
  return uint64_t((addr & 0x3FFFF) >> 4) | uint64_t((lbo >> 4) & 0x3FFF) << 16 |
         uint64_t((sbo >> 4) & 0x3FFF) << 32 | uint64_t(1) << 62;
}

/// Makes this thread's generic-proxy writes of shared memory (cp.async,
/// ldmatrix staging) visible to wgmma's async proxy.
__device__ __forceinline__ void fenceProxyAsync() {
#if VSART_WGMMA
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

#define VSART_F8(a, i)                                                         \
  "+f"(a[i][0]), "+f"(a[i][1]), "+f"(a[i][2]), "+f"(a[i][3]),                   \
      "+f"(a[i + 1][0]), "+f"(a[i + 1][1]), "+f"(a[i + 1][2]),                  \
      "+f"(a[i + 1][3])

/// Waits until at most N of this warpgroup's wgmma groups are pending.
template <int N> __device__ __forceinline__ void waitGroup() {
#if VSART_WGMMA
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}

/// Pins accumulator registers at this point of the program: wgmma writes
/// them asynchronously, so the compiler must neither read nor move them
/// between the issue and the wait.
template <int R>
__device__ __forceinline__ void fenceRegs(float (&a)[R][4]) {
#pragma unroll
  for (int i = 0; i < R; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
      asm volatile("" : "+f"(a[i][j])::"memory");
}

/// The same for A fragments and descriptors: defining a wgmma's inputs
/// while another wgmma is in flight makes ptxas serialise them, so they are
/// computed, and pinned, before the first issue.
__device__ __forceinline__ void fenceRegs(uint32_t (&a)[4][4]) {
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
      asm volatile("" : "+r"(a[i][j])::"memory");
}
__device__ __forceinline__ void fenceRegs(uint64_t (&d)[4]) {
#pragma unroll
  for (int i = 0; i < 4; ++i)
    asm volatile("" : "+l"(d[i])::"memory");
}

/// Descriptors of the 4 k steps (16 keys each) of the V panel tile sV as
/// an N-major B operand: 64-column panels 8 KB apart, 8-row groups 1 KB.
__device__ __forceinline__ void vDescriptors(uint64_t (&d)[4], const bf16 *sV) {
#pragma unroll
  for (int kk = 0; kk < 4; ++kk)
    d[kk] = descriptor(sV + kk * 16 * kPanel, 64 * 64 * 2, 1024);
}

/// Issues s = Q K^T over the 64 keys of the K panel tile sK (64 x 128):
/// fence, 8 wgmma (k = 16 dims each), commit. s is written asynchronously
/// until waitGroup.
__device__ __forceinline__ void issueScores(float (&s)[8][4],
                                            const uint32_t (&qf)[kD / 16][4],
                                            const bf16 *sK) {
#if VSART_WGMMA
  uint64_t d[8];
#pragma unroll
  for (int kk = 0; kk < 8; ++kk) // dims 16kk..: panel kk / 4, 32 B per step
    d[kk] = descriptor(sK + (kk >> 2) * 64 * kPanel + (kk & 3) * 16, 16, 1024);
#define VSART_S_MMA(K, A, D, Z)                                                \
  "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "                      \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "    \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, "    \
  "%30, %31}, {" A "}, " D ", " Z ", 1, 1, 0;\n"
  // scale-d as an immediate (0: D = A B, 1: D += A B): a predicate set
  // here would be an instruction defining a wgmma input while another
  // warpgroup MMA may be in flight, which makes ptxas serialise them.
  asm volatile(
      "wgmma.fence.sync.aligned;\n"
      VSART_S_MMA(0, "%32, %33, %34, %35", "%64", "0")
      VSART_S_MMA(1, "%36, %37, %38, %39", "%65", "1")
      VSART_S_MMA(2, "%40, %41, %42, %43", "%66", "1")
      VSART_S_MMA(3, "%44, %45, %46, %47", "%67", "1")
      VSART_S_MMA(4, "%48, %49, %50, %51", "%68", "1")
      VSART_S_MMA(5, "%52, %53, %54, %55", "%69", "1")
      VSART_S_MMA(6, "%56, %57, %58, %59", "%70", "1")
      VSART_S_MMA(7, "%60, %61, %62, %63", "%71", "1")
      "wgmma.commit_group.sync.aligned;\n"
      : VSART_F8(s, 0), VSART_F8(s, 2), VSART_F8(s, 4), VSART_F8(s, 6)
      : "r"(qf[0][0]), "r"(qf[0][1]), "r"(qf[0][2]), "r"(qf[0][3]),
        "r"(qf[1][0]), "r"(qf[1][1]), "r"(qf[1][2]), "r"(qf[1][3]),
        "r"(qf[2][0]), "r"(qf[2][1]), "r"(qf[2][2]), "r"(qf[2][3]),
        "r"(qf[3][0]), "r"(qf[3][1]), "r"(qf[3][2]), "r"(qf[3][3]),
        "r"(qf[4][0]), "r"(qf[4][1]), "r"(qf[4][2]), "r"(qf[4][3]),
        "r"(qf[5][0]), "r"(qf[5][1]), "r"(qf[5][2]), "r"(qf[5][3]),
        "r"(qf[6][0]), "r"(qf[6][1]), "r"(qf[6][2]), "r"(qf[6][3]),
        "r"(qf[7][0]), "r"(qf[7][1]), "r"(qf[7][2]), "r"(qf[7][3]),
        "l"(d[0]), "l"(d[1]), "l"(d[2]), "l"(d[3]), "l"(d[4]), "l"(d[5]),
        "l"(d[6]), "l"(d[7])
      : "memory");
#undef VSART_S_MMA
#else
  (void)s, (void)qf, (void)sK;
#endif
}

/// Scores of the 64-key tile s (issueScores) past each 16-key quarter's
/// valid keys become -inf; counts holds quarter q's count (0..16) in byte q.
__device__ __forceinline__ void maskKeys(float (&s)[8][4], int counts,
                                         int lane) {
#pragma unroll
  for (int nt = 0; nt < 8; ++nt) {
    const int valid = (counts >> (8 * (nt >> 1))) & 0xff;
#pragma unroll
    for (int e = 0; e < 2; ++e)
      if ((nt & 1) * 8 + (lane & 3) * 2 + e >= valid)
        s[nt][e] = s[nt][2 + e] = -INFINITY;
  }
}

/// P (bf16) from the softmax numerators in s: the accumulator layout of S
/// is the register A layout of P, 16 keys per k step.
__device__ __forceinline__ void packP(uint32_t (&p)[4][4],
                                      const float (&s)[8][4]) {
#pragma unroll
  for (int kk = 0; kk < 4; ++kk) {
    p[kk][0] = flash::pack(s[2 * kk][0], s[2 * kk][1]);
    p[kk][1] = flash::pack(s[2 * kk][2], s[2 * kk][3]);
    p[kk][2] = flash::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]);
    p[kk][3] = flash::pack(s[2 * kk + 1][2], s[2 * kk + 1][3]);
  }
}

/// Issues o += P V with V given by its descriptors (vDescriptors): fence, 4
/// wgmma (k = 16 keys each), commit. o is written asynchronously until
/// waitGroup.
__device__ __forceinline__ void issueAccumulate(float (&o)[16][4],
                                                const uint32_t (&p)[4][4],
                                                const uint64_t (&d)[4]) {
#if VSART_WGMMA
#define VSART_O_MMA(A, D)                                                      \
  "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "                     \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "    \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, "    \
  "%30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, "    \
  "%44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, "    \
  "%58, %59, %60, %61, %62, %63}, {" A "}, " D ", 1, 1, 1, 1;\n"
  asm volatile("wgmma.fence.sync.aligned;\n"
               VSART_O_MMA("%64, %65, %66, %67", "%80")
               VSART_O_MMA("%68, %69, %70, %71", "%81")
               VSART_O_MMA("%72, %73, %74, %75", "%82")
               VSART_O_MMA("%76, %77, %78, %79", "%83")
               "wgmma.commit_group.sync.aligned;\n"
               : VSART_F8(o, 0), VSART_F8(o, 2), VSART_F8(o, 4), VSART_F8(o, 6),
                 VSART_F8(o, 8), VSART_F8(o, 10), VSART_F8(o, 12),
                 VSART_F8(o, 14)
               : "r"(p[0][0]), "r"(p[0][1]), "r"(p[0][2]), "r"(p[0][3]),
                 "r"(p[1][0]), "r"(p[1][1]), "r"(p[1][2]), "r"(p[1][3]),
                 "r"(p[2][0]), "r"(p[2][1]), "r"(p[2][2]), "r"(p[2][3]),
                 "r"(p[3][0]), "r"(p[3][1]), "r"(p[3][2]), "r"(p[3][3]),
                 "l"(d[0]), "l"(d[1]), "l"(d[2]), "l"(d[3])
               : "memory");
#undef VSART_O_MMA
#else
  (void)o, (void)p, (void)d;
#endif
}

#undef VSART_F8

/// s = Q K^T, waited for.
__device__ __forceinline__ void scores(float (&s)[8][4],
                                       const uint32_t (&qf)[kD / 16][4],
                                       const bf16 *sK) {
  issueScores(s, qf, sK);
  waitGroup<0>();
  fenceRegs(s);
}

/// o += P V with P from the numerators in s, waited for.
__device__ __forceinline__ void accumulate(float (&o)[16][4],
                                           const float (&s)[8][4],
                                           const bf16 *sV) {
  uint32_t p[4][4];
  uint64_t d[4];
  packP(p, s);
  vDescriptors(d, sV);
  fenceRegs(p);
  fenceRegs(d);
  fenceRegs(o);
  issueAccumulate(o, p, d);
  waitGroup<0>();
  fenceRegs(o);
}

// ---- TMA and mbarriers ----------------------------------------------------
// A K/V or Q panel arrives as one TMA box of 64 rows x 64 bf16 columns
// with CU_TENSOR_MAP_SWIZZLE_128B, which writes exactly the pswz<64> layout
// above into a 1024-byte aligned destination, and completes its bytes on an
// mbarrier (expect_tx, then the producer's arrival) the consumers wait on.

__device__ __forceinline__ void mbarInit(uint64_t *bar, int count) {
#if VSART_WGMMA
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(
                   flash::smemAddr(bar)),
               "r"(count)
               : "memory");
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void mbarArrive(uint64_t *bar) {
#if VSART_WGMMA
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(
                   flash::smemAddr(bar))
               : "memory");
#endif
}

/// Adds `bytes` to the transaction count the phase waits for (no arrival).
__device__ __forceinline__ void mbarExpect(uint64_t *bar, uint32_t bytes) {
#if VSART_WGMMA
  asm volatile("mbarrier.expect_tx.shared::cta.b64 [%0], %1;\n" ::"r"(
                   flash::smemAddr(bar)),
               "r"(bytes)
               : "memory");
#endif
}

/// Waits until the phase of parity `parity` of the barrier has completed.
__device__ __forceinline__ void mbarWait(uint64_t *bar, int parity) {
#if VSART_WGMMA
  const uint32_t addr = flash::smemAddr(bar);
  uint32_t done = 0;
  while (!done)
    asm volatile("{\n .reg .pred p;\n"
                 " mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                 " selp.u32 %0, 1, 0, p;\n}\n"
                 : "=r"(done)
                 : "r"(addr), "r"(parity)
                 : "memory");
#endif
}

/// TMA copy of the box at coordinates (c0, c1, c2, c3) of a 4-d tensor map
/// into shared memory; its bytes complete on `bar`.
__device__ __forceinline__ void tmaLoad(void *dst, const CUtensorMap *map,
                                        int c0, int c1, int c2, int c3,
                                        uint64_t *bar) {
#if VSART_WGMMA
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.tile"
               ".mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], "
               "[%6];\n" ::"r"(flash::smemAddr(dst)),
               "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2),
               "r"(c3), "r"(flash::smemAddr(bar))
               : "memory");
#endif
}

} // namespace vsart::cuda::wgmma

#endif // VSART_KERNELS_CUDA_WGMMACOMMON_CUH

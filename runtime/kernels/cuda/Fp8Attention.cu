// FP8 attention (vsart_attention_args_t::fp8) on Hopper, the CUDA twin of
// the CPU kernel's attendFp8: q, k and v are quantized to E4M3 with one
// scale per tensor into call scratch (a pass for the maxima, one for the
// conversion), cuDNN's FP8 flash attention (CudnnAttention.cpp) writes an
// E4M3 output with v's scale (|P V| <= max |v|), and a last kernel converts
// it to bf16 in the caller's layout. The scratch (cudaMallocAsync on the
// stream, freed after the kernels) holds the four E4M3 tensors, rows of
// e4m3RowBytes(head_dim) bytes, and the Fp8Scalar block.
#include "../ScratchCarver.h"
#include "Common.h"
#include "E4m3.cuh"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cstdint>

namespace {

using bf16 = __nv_bfloat16;
using vsart::cuda::Fp8Scalar;
using namespace vsart::cuda::e4m3;

constexpr int kRows = 64; // rows of a (batch, head) slice per CTA
constexpr int kThreads = 256;

/// One bf16 operand (batch, heads, seq, dim; element strides of batch, head
/// and seq, dim contiguous) and its E4M3 copy.
struct Operand {
  const bf16 *x;
  int64_t st[3];
  int64_t heads, seq;
  uint8_t *dst;
};

/// q, k and v with their shared batch, head_dim and E4M3 row bytes.
struct Operands {
  Operand op[3];
  int64_t batch, dim, row;
};

/// This CTA's part: the operand of blockIdx.y (q's (batch, head) slices,
/// then k's, then v's), its index and slice, and the slice's rows [row0,
/// row0 + rows) of chunk blockIdx.x.
struct Chunk {
  const Operand *op;
  int which;
  int64_t slice, row0, rows;
};

__device__ Chunk chunkOf(const Operands &o) {
  Chunk c = {nullptr, 0, int64_t(blockIdx.y), int64_t(blockIdx.x) * kRows, 0};
  while (c.which < 2 && c.slice >= o.batch * o.op[c.which].heads)
    c.slice -= o.batch * o.op[c.which].heads, ++c.which;
  c.op = &o.op[c.which];
  c.rows = max(int64_t(0), min(int64_t(kRows), c.op->seq - c.row0));
  return c;
}

__device__ const bf16 *rowOf(const Operand &op, int64_t slice, int64_t row) {
  return op.x + slice / op.heads * op.st[0] + slice % op.heads * op.st[1] +
         row * op.st[2];
}

/// absMax[operand] = max |x| over its rows (atomic on the float bits: the
/// bits of non-negative floats order like the floats).
__global__ void __launch_bounds__(kThreads)
    tensorAbsMax(const Operands o, unsigned *absMax) {
  __shared__ float warpMaxima[kThreads / 32];
  const Chunk c = chunkOf(o);
  const int64_t vpr = o.dim / 8, n = c.rows * vpr;
  float m = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += kThreads)
    m = fmaxf(m, absMax8(*reinterpret_cast<const uint4 *>(
                     rowOf(*c.op, c.slice, c.row0 + i / vpr) + i % vpr * 8)));
  m = warpMax(m);
  if (threadIdx.x % 32 == 0)
    warpMaxima[threadIdx.x / 32] = m;
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kThreads / 32; ++w)
      m = fmaxf(m, warpMaxima[w]);
    atomicMax(absMax + c.which, __float_as_uint(m));
  }
}

/// The E4M3 rows of each operand (zeros past dim), with its multiplier.
__global__ void __launch_bounds__(kThreads)
    tensorToE4m3(const Operands o, const unsigned *absMax) {
  const Chunk c = chunkOf(o);
  const int64_t vpr = o.row / 8, n = c.rows * vpr;
  float multiplier = 0.0f;
  rowScale(__uint_as_float(absMax[c.which]), &multiplier);
  uint8_t *dst = c.op->dst + (c.slice * c.op->seq + c.row0) * o.row;
  for (int64_t i = threadIdx.x; i < n; i += kThreads) {
    const int64_t r = i / vpr, v = i % vpr;
    uint2 bytes = make_uint2(0, 0);
    if (v * 8 < o.dim)
      bytes = toE4m3x8(*reinterpret_cast<const uint4 *>(
                           rowOf(*c.op, c.slice, c.row0 + r) + v * 8),
                       multiplier);
    *reinterpret_cast<uint2 *>(dst + i * 8) = bytes;
  }
}

/// The Fp8Scalar block from the maxima: descales of q, k and v, P's factors
/// (P <= 1 maps onto 448) and the output's (v's multiplier).
__global__ void fp8Scalars(const unsigned *absMax, float *s) {
  float multiplier = 0.0f;
  for (int i = 0; i < 3; ++i)
    s[int(Fp8Scalar::DescaleQ) + i] =
        rowScale(__uint_as_float(absMax[i]), &multiplier);
  s[int(Fp8Scalar::ScaleO)] = multiplier; // v's
  s[int(Fp8Scalar::ScaleS)] = 448.0f;
  s[int(Fp8Scalar::DescaleS)] = 1.0f / 448.0f;
  s[int(Fp8Scalar::AmaxS)] = s[int(Fp8Scalar::AmaxO)] = 0.0f;
}

/// out = the E4M3 output times v's descale, 8 values a thread; rows r =
/// (b * heads + h) * seq + i of `row` bytes.
__global__ void __launch_bounds__(kThreads)
    e4m3ToBf16(const uint8_t *o8, int64_t rows, int64_t heads, int64_t seq,
               int64_t dim, int64_t row, bf16 *out, int64_t os0, int64_t os1,
               int64_t os2, const float *scalars) {
  const int64_t vpr = dim / 8;
  const int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x;
  if (i >= rows * vpr)
    return;
  const int64_t r = i / vpr, v = i % vpr;
  const float descale = scalars[int(Fp8Scalar::DescaleV)];
  const uint2 bytes = *reinterpret_cast<const uint2 *>(o8 + r * row + v * 8);
  const uint8_t *b = reinterpret_cast<const uint8_t *>(&bytes);
  alignas(16) bf16 values[8];
#pragma unroll
  for (int e = 0; e < 8; ++e) {
    __nv_fp8_e4m3 x;
    x.__x = b[e];
    values[e] = __float2bfloat16(float(x) * descale);
  }
  const int64_t bh = r / seq;
  bf16 *dst = out + bh / heads * os0 + bh % heads * os1 + r % seq * os2 + v * 8;
  *reinterpret_cast<uint4 *>(dst) = *reinterpret_cast<const uint4 *>(values);
}

} // namespace

namespace vsart::cuda {

vsart_status_t fp8Attention(const vsart_attention_args_t &a,
                            cudaStream_t stream) {
  const std::string n = "cuda_attention (FP8): ";
  const int64_t B = a.batch, H = a.num_heads, Hkv = a.num_kv_heads;
  const int64_t D = a.head_dim, R = e4m3RowBytes(D);
  // Checked before any work is queued.
  if (std::string why = fp8AttentionUnsupported(a); !why.empty())
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + why);
  const int64_t slices = B * (H + 2 * Hkv);
  const int64_t ctas = (std::max(a.seq_q, a.seq_kv) + kRows - 1) / kRows;
  if (slices > 65535 || ctas > INT32_MAX)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + "more than 65535 (batch, head) slices");

  uint8_t *q8, *k8, *v8, *o8;
  float *scalars;
  unsigned *absMax;
  auto carve = [&](ScratchCarver &c) {
    c.take(q8, size_t(B * H * a.seq_q * R));
    c.take(k8, size_t(B * Hkv * a.seq_kv * R));
    c.take(v8, size_t(B * Hkv * a.seq_kv * R));
    c.take(o8, size_t(B * H * a.seq_q * R));
    c.take(scalars, size_t(Fp8Scalar::Count));
    c.take(absMax, 3);
  };
  ScratchCarver sizing(nullptr);
  carve(sizing);
  void *base = nullptr;
  CallScratch scratch(false, stream);
  if (vsart_status_t st = scratch.allocate(sizing.bytes(),
                                           "cuda_attention (FP8): scratch",
                                           &base))
    return st;
  ScratchCarver carver(static_cast<char *>(base));
  carve(carver);

  Operands ops = {};
  const void *x[3] = {a.q, a.k, a.v};
  const int64_t *st[3] = {a.q_strides, a.k_strides, a.v_strides};
  uint8_t *dst[3] = {q8, k8, v8};
  for (int i = 0; i < 3; ++i) {
    ops.op[i].x = static_cast<const bf16 *>(x[i]);
    std::copy(st[i], st[i] + 3, ops.op[i].st);
    ops.op[i].heads = i == 0 ? H : Hkv;
    ops.op[i].seq = i == 0 ? a.seq_q : a.seq_kv;
    ops.op[i].dst = dst[i];
  }
  ops.batch = B, ops.dim = D, ops.row = R;
  if (vsart_status_t s = check(cudaMemsetAsync(absMax, 0, 3 * sizeof(unsigned),
                                               stream),
                               "cuda_attention (FP8): cudaMemsetAsync"))
    return s;
  const dim3 grid{unsigned(ctas), unsigned(slices)};
  tensorAbsMax<<<grid, kThreads, 0, stream>>>(ops, absMax);
  tensorToE4m3<<<grid, kThreads, 0, stream>>>(ops, absMax);
  fp8Scalars<<<1, 1, 0, stream>>>(absMax, scalars);
  if (vsart_status_t s = checkLaunch("cuda_attention (FP8): quantization"))
    return s;
  if (vsart_status_t s =
          cudnnAttentionFp8(a, Fp8Operands{q8, k8, v8, o8, scalars}, stream))
    return s;
  const int64_t rows = B * H * a.seq_q, threads = rows * (D / 8);
  e4m3ToBf16<<<unsigned((threads + kThreads - 1) / kThreads), kThreads, 0,
               stream>>>(o8, rows, H, a.seq_q, D, R,
                         static_cast<bf16 *>(a.out), a.out_strides[0],
                         a.out_strides[1], a.out_strides[2], scalars);
  return checkLaunch("cuda_attention (FP8): output");
}

} // namespace vsart::cuda

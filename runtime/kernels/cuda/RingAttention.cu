// Ring attention on device memory: the CUDA backend of the loop in
// src/RingAttention.h (NCCL sendrecv on the stream, our flash kernel with
// log-sum-exp, a merge kernel with one warp per query row).
#include "../../src/RingAttention.h"
#include "Common.h"
#include "vsart_cuda.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace {

using bf16 = __nv_bfloat16;
using vsart::fail;

unsigned blocksFor(int64_t n, int threads) {
  return unsigned(std::min<int64_t>((n + threads - 1) / threads, 65535));
}

/// Rows of `dim` elements between (b, h, s)-strided and contiguous
/// (b, h, s, d) layouts: toContiguous copies strided -> dst, else back.
template <typename Src, typename Dst>
__global__ void copyRows(const Src *src, Dst *dst, int64_t s0, int64_t s1,
                         int64_t s2, int64_t heads, int64_t seq, int64_t dim,
                         int64_t n, bool toContiguous) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t d = e % dim, row = e / dim, s = row % seq;
    const int64_t h = row / seq % heads, b = row / seq / heads;
    const int64_t strided = b * s0 + h * s1 + s * s2 + d;
    if (toContiguous)
      dst[e] = Dst(float(src[strided]));
    else
      dst[strided] = Dst(float(src[e]));
  }
}

/// One warp per row: the log-sum-exp merge of part into acc.
__global__ void mergeRows(const bf16 *part, const float *lsePart, float *acc,
                          float *lseAcc, int64_t rows, int64_t dim,
                          bool first) {
  const int64_t row = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows)
    return;
  const bf16 *p = part + row * dim;
  float *a = acc + row * dim;
  if (first) {
    for (int64_t d = lane; d < dim; d += 32)
      a[d] = __bfloat162float(p[d]);
    if (lane == 0)
      lseAcc[row] = lsePart[row];
    return;
  }
  const float la = lseAcc[row], lp = lsePart[row], m = fmaxf(la, lp);
  if (m == -INFINITY)
    return;
  const float wa = expf(la - m), wp = expf(lp - m), inv = 1.0f / (wa + wp);
  for (int64_t d = lane; d < dim; d += 32)
    a[d] = (a[d] * wa + __bfloat162float(p[d]) * wp) * inv;
  __syncwarp();
  if (lane == 0)
    lseAcc[row] = m + logf(wa + wp);
}

struct CudaRing final : vsart::RingBackend {
  cudaStream_t s;
  bool threads;
  CudaRing(cudaStream_t s, vsart_comm_t comm)
      : s(s), threads(comm && std::string(vsart_comm_backend(comm)) ==
                                  "threads") {}

  vsart_status_t packKv(const vsart_attention_args_t &a, void *kv,
                        size_t kvBytes) override {
    const int64_t n = a.batch * a.num_kv_heads * a.seq_kv * a.head_dim;
    if (n == 0)
      return VSART_OK;
    bf16 *k = static_cast<bf16 *>(kv);
    bf16 *v = reinterpret_cast<bf16 *>(static_cast<char *>(kv) + kvBytes);
    copyRows<<<blocksFor(n, 256), 256, 0, s>>>(
        static_cast<const bf16 *>(a.k), k, a.k_strides[0], a.k_strides[1],
        a.k_strides[2], a.num_kv_heads, a.seq_kv, a.head_dim, n, true);
    copyRows<<<blocksFor(n, 256), 256, 0, s>>>(
        static_cast<const bf16 *>(a.v), v, a.v_strides[0], a.v_strides[1],
        a.v_strides[2], a.num_kv_heads, a.seq_kv, a.head_dim, n, true);
    return vsart::cuda::checkLaunch("ring_attention pack");
  }

  vsart_status_t attend(const vsart_attention_args_t &c,
                        float *lse) override {
    return vsart_cuda_attention_lse(&c, lse, s);
  }

  vsart_status_t merge(const vsart_attention_args_t &a, const void *part,
                       const float *lsePart, float *acc, float *lseAcc,
                       bool first) override {
    const int64_t rows = a.batch * a.num_heads * a.seq_q;
    if (rows == 0)
      return VSART_OK;
    mergeRows<<<blocksFor(rows * 32, 256), 256, 0, s>>>(
        static_cast<const bf16 *>(part), lsePart, acc, lseAcc, rows,
        a.head_dim, first);
    return vsart::cuda::checkLaunch("ring_attention merge");
  }

  vsart_status_t writeOut(const vsart_attention_args_t &a,
                          const float *acc) override {
    const int64_t n = a.batch * a.num_heads * a.seq_q * a.head_dim;
    if (n == 0)
      return VSART_OK;
    copyRows<<<blocksFor(n, 256), 256, 0, s>>>(
        acc, static_cast<bf16 *>(a.out), a.out_strides[0], a.out_strides[1],
        a.out_strides[2], a.num_heads, a.seq_q, a.head_dim, n, false);
    return vsart::cuda::checkLaunch("ring_attention output");
  }

  vsart_status_t maskColumns(const void *src, int64_t rows, int64_t total,
                            int64_t offset, int64_t count,
                            void *dst) override {
    if (rows * count == 0)
      return VSART_OK;
    return vsart::cuda::check(
        cudaMemcpy2DAsync(dst, size_t(count) * sizeof(bf16),
                          static_cast<const bf16 *>(src) + offset,
                          size_t(total) * sizeof(bf16),
                          size_t(count) * sizeof(bf16), size_t(rows),
                          cudaMemcpyDefault, s),
        "ring_attention mask");
  }

  vsart::cuda::SideStream *side = nullptr;
  // Events of the side stream's pool: 0 "this stream's work so far", 1 "the
  // exchange landed".
  vsart_status_t beforeExchange(vsart_comm_t comm, void **stream) override {
    *stream = nullptr;
    if (threads) // the thread backend copies on the host at once
      return comm ? vsart::cuda::check(cudaStreamSynchronize(s),
                                       "ring_attention synchronize")
                  : VSART_OK;
    if (!side)
      if (vsart_status_t st = vsart::cuda::sideStream(2, &side))
        return st;
    // The chunk sent was written, and the one received into last read, by
    // this stream's work so far.
    if (vsart_status_t st = vsart::cuda::check(
            cudaEventRecord(side->events[0], s), "ring_attention record"))
      return st;
    if (vsart_status_t st = vsart::cuda::check(
            cudaStreamWaitEvent(side->stream, side->events[0], 0),
            "ring_attention wait"))
      return st;
    *stream = side->stream;
    return VSART_OK;
  }
  vsart_status_t afterExchange() override {
    if (!side)
      return VSART_OK;
    return vsart::cuda::check(cudaEventRecord(side->events[1], side->stream),
                              "ring_attention record");
  }
  vsart_status_t waitExchange() override {
    if (!side)
      return VSART_OK;
    return vsart::cuda::check(cudaStreamWaitEvent(s, side->events[1], 0),
                              "ring_attention wait");
  }
};

} // namespace

extern "C" vsart_status_t
vsart_cuda_ring_attention(vsart_comm_t comm, int32_t group_size,
                          const vsart_attention_args_t *args,
                          const vsart_attention_args_t *local,
                          int64_t valid_keys, void *scratch,
                          size_t scratch_bytes, void *stream) {
  const char *what = "cuda_ring_attention";
  bool nothing = false;
  if (vsart_status_t st =
          vsart::checkRingArgs(comm, group_size, args, local, what, &nothing))
    return st;
  if (nothing)
    return vsart::ok();
  cudaStream_t s = vsart::cuda::toStream(stream);
  const vsart::RingLayout layout = vsart::ringLayout(*args, sizeof(bf16));
  CudaRing backend(s, comm);
  vsart::cuda::CallScratch owned(backend.threads, s);
  if (!scratch) {
    if (vsart_status_t st =
            owned.allocate(layout.total, "ring_attention scratch", &scratch))
      return st;
  } else if (scratch_bytes < layout.total) {
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": scratch of " +
                    std::to_string(scratch_bytes) + " bytes, needs " +
                    std::to_string(layout.total));
  }
  vsart_status_t st = vsart::runRing(comm, group_size, *args, local,
                                     valid_keys, layout,
                                     static_cast<unsigned char *>(scratch),
                                     backend);
  return st ? st : vsart::ok();
}

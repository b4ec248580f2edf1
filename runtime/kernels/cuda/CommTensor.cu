// Tensor collectives on device memory: pack kernel -> NCCL byte collective
// -> unpack kernel (plans in src/CommTensor.h, host twins in
// src/CommTensor.cpp).
#include "../../src/CommTensor.h"
#include "Common.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>

namespace {

using vsart::fail;
using vsart::cuda::toStream;

// dst[b][a] = src[a][b] over blocks of `inner` units of T.
template <typename T>
__global__ void swap01Kernel(const T *__restrict__ src, T *__restrict__ dst,
                             int64_t a, int64_t b, int64_t inner) {
  const int64_t n = a * b * inner;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < n;
       k += int64_t(gridDim.x) * blockDim.x) {
    int64_t e = k % inner, blk = k / inner;
    int64_t i = blk / b, j = blk % b;
    dst[(j * a + i) * inner + e] = src[k];
  }
}

template <typename T>
void launchSwap(const void *src, void *dst, int64_t a, int64_t b,
                int64_t inner, cudaStream_t stream) {
  const int64_t n = a * b * inner;
  const int threads = 256;
  const int64_t blocks = std::min<int64_t>((n + threads - 1) / threads, 65535);
  swap01Kernel<T><<<unsigned(blocks), threads, 0, stream>>>(
      static_cast<const T *>(src), static_cast<T *>(dst), a, b, inner);
}

// The widest unit (16, 8, 4, 2, 1 bytes) dividing the block size and both
// addresses.
vsart_status_t swap01(const void *src, void *dst, int64_t a, int64_t b,
                      size_t innerBytes, cudaStream_t stream) {
  if (a * b == 0 || innerBytes == 0)
    return VSART_OK;
  const uintptr_t mix = uintptr_t(src) | uintptr_t(dst) | uintptr_t(innerBytes);
  if (mix % 16 == 0)
    launchSwap<uint4>(src, dst, a, b, int64_t(innerBytes / 16), stream);
  else if (mix % 8 == 0)
    launchSwap<uint2>(src, dst, a, b, int64_t(innerBytes / 8), stream);
  else if (mix % 4 == 0)
    launchSwap<uint32_t>(src, dst, a, b, int64_t(innerBytes / 4), stream);
  else if (mix % 2 == 0)
    launchSwap<uint16_t>(src, dst, a, b, int64_t(innerBytes / 2), stream);
  else
    launchSwap<uint8_t>(src, dst, a, b, int64_t(innerBytes), stream);
  return vsart::cuda::checkLaunch("all_to_all pack/unpack");
}

/// `count` tensors through one collective: pack each, move (the send and
/// receive arrays), unpack each; tensor t uses scratch t * scratchBytes().
template <typename Move>
vsart_status_t runPlan(const vsart::CollectivePlan &p, vsart_comm_t comm,
                       int32_t count, const void *const *in, void *const *out,
                       void *scratch, bool pack, cudaStream_t stream,
                       Move move) {
  const bool nccl = std::strcmp(vsart_comm_backend(comm), "nccl") == 0;
  void *owned = nullptr;
  const size_t all = p.scratchBytes() * size_t(count);
  if (!scratch && all) {
    // The thread backend reads and writes scratch on the host: managed.
    if (vsart_status_t st = vsart::cuda::check(
            nccl ? cudaMallocAsync(&owned, all, stream)
                 : cudaMallocManaged(&owned, all),
            "collective scratch", VSART_ERROR_OUT_OF_MEMORY))
      return st;
    scratch = owned;
  }
  const void *sends[VSART_COMM_MAX_BUFFERS];
  void *recvs[VSART_COMM_MAX_BUFFERS];
  vsart_status_t st = VSART_OK;
  for (int32_t t = 0; t < count && !st; ++t) {
    char *s = static_cast<char *>(scratch) + size_t(t) * p.scratchBytes();
    sends[t] = in[t];
    if (pack && p.sendScratch) {
      st = swap01(in[t], s, p.packOuter, p.group, p.packInner, stream);
      sends[t] = s;
    }
    recvs[t] = p.recvScratch ? s + p.sendScratch : out[t];
  }
  // The thread backend copies on the host right away: wait for the pack
  // (its buffers must then be host-accessible, e.g. managed memory; tests).
  if (!st && !nccl)
    st = vsart::cuda::check(cudaStreamSynchronize(stream),
                            "collective: synchronize for the thread backend");
  if (!st)
    st = move(sends, recvs);
  for (int32_t t = 0; t < count && !st && p.recvScratch; ++t)
    st = swap01(recvs[t], out[t], p.group, p.unpackOuter, p.unpackInner,
                stream);
  if (owned && nccl)
    cudaFreeAsync(owned, stream);
  else if (owned) {
    cudaStreamSynchronize(stream); // the unpack reads it
    cudaFree(owned);
  }
  return st;
}

vsart_status_t copy(const void *in, void *out, size_t bytes,
                    cudaStream_t stream) {
  if (!bytes)
    return VSART_OK;
  return vsart::cuda::check(
      cudaMemcpyAsync(out, in, bytes, cudaMemcpyDeviceToDevice, stream),
      "collective copy");
}

} // namespace

extern "C" vsart_status_t
vsart_cuda_all_to_all(vsart_comm_t comm, int32_t group_size, const void *in,
                      void *out, int32_t rank, const int64_t *dims,
                      int32_t scatter_axis, int32_t gather_axis,
                      size_t elem_bytes, void *scratch, void *stream) {
  return vsart_cuda_all_to_all_n(comm, group_size, 1, &in, &out, rank, dims,
                                 scatter_axis, gather_axis, elem_bytes,
                                 scratch, stream);
}

extern "C" vsart_status_t
vsart_cuda_all_to_all_n(vsart_comm_t comm, int32_t group_size, int32_t count,
                        const void *const *in, void *const *out, int32_t rank,
                        const int64_t *dims, int32_t scatter_axis,
                        int32_t gather_axis, size_t elem_bytes, void *scratch,
                        void *stream) {
  vsart::CollectivePlan p;
  if (vsart_status_t st =
          vsart::planAllToAll(rank, dims, scatter_axis, gather_axis,
                              group_size, elem_bytes, "all_to_all", &p))
    return st;
  if (vsart_status_t st = vsart_comm_check_group(comm, group_size, "all_to_all"))
    return st;
  if (count < 1 || count > VSART_COMM_MAX_BUFFERS || !in || !out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "all_to_all: bad tensor count");
  for (int32_t t = 0; t < count; ++t)
    if (p.totalBytes && (!in[t] || !out[t]))
      return fail(VSART_ERROR_INVALID_ARGUMENT, "all_to_all: null buffer");
  if (group_size == 1) {
    for (int32_t t = 0; t < count; ++t)
      if (vsart_status_t st = copy(in[t], out[t], p.totalBytes, toStream(stream)))
        return st;
    return VSART_OK;
  }
  return runPlan(p, comm, count, in, out, scratch, true, toStream(stream),
                 [&](const void *const *send, void *const *recv) {
                   size_t chunks[VSART_COMM_MAX_BUFFERS];
                   std::fill(chunks, chunks + count, p.chunkBytes);
                   return vsart_comm_all_to_all_n(comm, count, send, recv,
                                                  chunks, stream);
                 });
}

extern "C" vsart_status_t
vsart_cuda_all_gather(vsart_comm_t comm, int32_t group_size, const void *in,
                      void *out, int32_t rank, const int64_t *dims,
                      int32_t axis, size_t elem_bytes, void *scratch,
                      void *stream) {
  vsart::CollectivePlan p;
  if (vsart_status_t st = vsart::planAllGather(rank, dims, axis, group_size,
                                               elem_bytes, "all_gather", &p))
    return st;
  if (vsart_status_t st = vsart_comm_check_group(comm, group_size, "all_gather"))
    return st;
  if (p.totalBytes && (!in || !out))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "all_gather: null buffer");
  if (group_size == 1)
    return copy(in, out, p.totalBytes, toStream(stream));
  return runPlan(p, comm, 1, &in, &out, scratch, false, toStream(stream),
                 [&](const void *const *send, void *const *recv) {
                   return vsart_comm_all_gather(comm, send[0], recv[0],
                                                p.chunkBytes, stream);
                 });
}

extern "C" vsart_status_t
vsart_cuda_shard_copy(vsart_comm_t comm, int32_t group_size, const void *in,
                      void *out, int32_t rank, const int64_t *dims,
                      int32_t axis, size_t elem_bytes, void *stream) {
  vsart::ShardPlan p;
  int32_t me = 0;
  if (vsart_status_t st = vsart::planShard(comm, group_size, rank, dims, axis,
                                           elem_bytes, &p, &me))
    return st;
  if (p.rows == 0 || p.chunk == 0)
    return VSART_OK;
  if (!in || !out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "shard: null buffer");
  return vsart::cuda::check(
      cudaMemcpy2DAsync(out, p.chunk,
                        static_cast<const char *>(in) + size_t(me) * p.chunk,
                        p.stride, p.chunk, size_t(p.rows),
                        cudaMemcpyDeviceToDevice, toStream(stream)),
      "shard copy");
}

// Plans of the tensor collectives (vsart_cpu_all_to_all and friends, and
// their CUDA twins in kernels/cuda/CommTensor.cu): which strided copies
// surround the byte collective and how much scratch they need.
#ifndef VSART_SRC_COMMTENSOR_H
#define VSART_SRC_COMMTENSOR_H

#include "vsart_comm.h"

#include <cstddef>
#include <cstdint>

namespace vsart {

/// A tensor collective as byte moves. A "swap" copies a (A, B, inner)
/// array of inner-byte blocks to (B, A, inner): dst[b][a] = src[a][b].
///  all_to_all: pack = swap(in -> send, A = packOuter, B = G, packInner),
///              vsart_comm_all_to_all(send, recv, chunkBytes),
///              unpack = swap(recv -> out, A = G, B = unpackOuter,
///              unpackInner).
///  all_gather: vsart_comm_all_gather(in, recv, chunkBytes), unpack as above.
/// packOuter == 1 means send is `in`; unpackOuter == 1 means recv is `out`.
struct CollectivePlan {
  int64_t group = 1;
  int64_t packOuter = 1, unpackOuter = 1;
  size_t packInner = 0, unpackInner = 0; // bytes
  size_t chunkBytes = 0;                 // per rank
  size_t totalBytes = 0;                 // of the send (all_gather: recv)
  size_t sendScratch = 0, recvScratch = 0; // bytes at scratch, after send
  size_t scratchBytes() const { return sendScratch + recvScratch; }
};

/// Validates the arguments (shape, axes, element size, divisibility) and
/// fills *plan; does not look at the communicator. `what` prefixes errors.
vsart_status_t planAllToAll(int32_t rank, const int64_t *dims,
                            int32_t scatterAxis, int32_t gatherAxis,
                            int32_t group, size_t elemBytes, const char *what,
                            CollectivePlan *plan);
vsart_status_t planAllGather(int32_t rank, const int64_t *dims, int32_t axis,
                             int32_t group, size_t elemBytes, const char *what,
                             CollectivePlan *plan);

/// dit.shard as a strided copy: `rows` rows of `stride` bytes; this rank
/// copies bytes [rank·chunk, (rank+1)·chunk) of each.
struct ShardPlan {
  int64_t rows = 0;
  size_t chunk = 0, stride = 0;
};

/// Validates the arguments (shape, axis, divisibility) and the
/// communicator (vsart_comm_check_group); fills *plan and *me (this rank, 0
/// without a communicator).
vsart_status_t planShard(vsart_comm_t comm, int32_t group, int32_t rank,
                         const int64_t *dims, int32_t axis, size_t elemBytes,
                         ShardPlan *plan, int32_t *me);

} // namespace vsart

#endif // VSART_SRC_COMMTENSOR_H

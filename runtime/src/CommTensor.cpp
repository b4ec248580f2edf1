// Tensor collectives on host memory: pack -> byte collective -> unpack (see
// vsart_comm.h and CommTensor.h).
#include "CommTensor.h"
#include "Internal.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {

using vsart::fail;

vsart_status_t checkShape(int32_t rank, const int64_t *dims, size_t elemBytes,
                          const std::string &what, size_t *total) {
  if (rank < 1 || rank > VSART_MAX_RANK || !dims)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                what + ": rank " + std::to_string(rank) + " not in [1, 8]");
  if (elemBytes == 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, what + ": element size 0");
  uint64_t n = elemBytes;
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0 || (dims[i] && n > (uint64_t(1) << 60) / uint64_t(dims[i])))
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  what + ": bad dim " + std::to_string(dims[i]));
    n *= uint64_t(dims[i]);
  }
  *total = size_t(n);
  return VSART_OK;
}

vsart_status_t checkAxis(int32_t axis, int32_t rank, const std::string &what) {
  if (axis < 0 || axis >= rank)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                what + ": axis " + std::to_string(axis) +
                    " out of range for rank " + std::to_string(rank));
  return VSART_OK;
}

int64_t product(const int64_t *dims, int32_t begin, int32_t end) {
  int64_t p = 1;
  for (int32_t i = begin; i < end; ++i)
    p *= dims[i];
  return p;
}

// dst[b][a] = src[a][b], blocks of `inner` bytes.
void swap01(const char *src, char *dst, int64_t a, int64_t b, size_t inner) {
  vsart::parallelFor(a * b, std::max<int64_t>(1, int64_t(65536 / (inner + 1))),
                     [&](int64_t begin, int64_t end) {
                       for (int64_t k = begin; k < end; ++k) {
                         int64_t i = k / b, j = k % b;
                         std::memcpy(dst + size_t(j * a + i) * inner,
                                     src + size_t(k) * inner, inner);
                       }
                     });
}

/// The shape, `axis` and a group size that divides dims[axis].
vsart_status_t checkSplit(int32_t rank, const int64_t *dims, int32_t axis,
                          int32_t group, size_t elemBytes, const std::string &w,
                          size_t *total) {
  if (vsart_status_t st = checkShape(rank, dims, elemBytes, w, total))
    return st;
  if (vsart_status_t st = checkAxis(axis, rank, w))
    return st;
  if (group < 1)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                w + ": group size " + std::to_string(group));
  if (dims[axis] % group)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                w + ": dim " + std::to_string(axis) + " (" +
                    std::to_string(dims[axis]) +
                    ") is not divisible by the group size " +
                    std::to_string(group));
  return vsart::ok();
}

} // namespace

vsart_status_t vsart::planAllToAll(int32_t rank, const int64_t *dims,
                                   int32_t scatterAxis, int32_t gatherAxis,
                                   int32_t group, size_t elemBytes,
                                   const char *what, CollectivePlan *plan) {
  const std::string w = what;
  size_t total = 0;
  if (vsart_status_t st = checkSplit(rank, dims, scatterAxis, group,
                                     elemBytes, w, &total))
    return st;
  if (vsart_status_t st = checkAxis(gatherAxis, rank, w))
    return st;
  // The chunk every rank sends and receives: dims with the scatter axis
  // divided.
  int64_t chunk[VSART_MAX_RANK];
  std::memcpy(chunk, dims, sizeof(int64_t) * size_t(rank));
  chunk[scatterAxis] /= group;
  *plan = CollectivePlan();
  plan->group = group;
  plan->totalBytes = total;
  plan->chunkBytes = total / size_t(group);
  plan->packOuter = product(dims, 0, scatterAxis);
  plan->packInner = size_t(product(chunk, scatterAxis, rank)) * elemBytes;
  plan->unpackOuter = product(chunk, 0, gatherAxis);
  plan->unpackInner = size_t(product(chunk, gatherAxis, rank)) * elemBytes;
  if (group > 1 && plan->packOuter > 1)
    plan->sendScratch = total;
  if (group > 1 && plan->unpackOuter > 1)
    plan->recvScratch = total;
  return VSART_OK;
}

vsart_status_t vsart::planAllGather(int32_t rank, const int64_t *dims,
                                    int32_t axis, int32_t group,
                                    size_t elemBytes, const char *what,
                                    CollectivePlan *plan) {
  const std::string w = what;
  size_t total = 0;
  if (vsart_status_t st = checkShape(rank, dims, elemBytes, w, &total))
    return st;
  if (vsart_status_t st = checkAxis(axis, rank, w))
    return st;
  if (group < 1)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                w + ": group size " + std::to_string(group));
  *plan = CollectivePlan();
  plan->group = group;
  plan->chunkBytes = total;
  plan->totalBytes = total * size_t(group);
  plan->unpackOuter = product(dims, 0, axis);
  plan->unpackInner = size_t(product(dims, axis, rank)) * elemBytes;
  if (group > 1 && plan->unpackOuter > 1)
    plan->recvScratch = plan->totalBytes;
  return VSART_OK;
}

extern "C" vsart_status_t vsart_comm_check_group(vsart_comm_t comm,
                                                 int32_t group_size,
                                                 const char *what) {
  const std::string w = what ? what : "collective";
  if (!comm) {
    if (group_size == 1)
      return VSART_OK;
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                w + ": model needs " + std::to_string(group_size) +
                    " ranks; run with --ranks " + std::to_string(group_size) +
                    " / give a communicator (vsart_session_set_comm)");
  }
  if (vsart_comm_size(comm) != group_size)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                w + ": the model's group size is " +
                    std::to_string(group_size) + " but the communicator has " +
                    std::to_string(vsart_comm_size(comm)) + " ranks");
  return VSART_OK;
}

extern "C" size_t vsart_all_to_all_scratch_bytes(int32_t rank,
                                                 const int64_t *dims,
                                                 int32_t scatter_axis,
                                                 int32_t gather_axis,
                                                 int32_t group_size,
                                                 size_t elem_bytes) {
  vsart::CollectivePlan p;
  if (vsart::planAllToAll(rank, dims, scatter_axis, gather_axis, group_size,
                          elem_bytes, "all_to_all", &p))
    return 0;
  return p.scratchBytes();
}

extern "C" size_t vsart_all_gather_scratch_bytes(int32_t rank,
                                                 const int64_t *dims,
                                                 int32_t axis,
                                                 int32_t group_size,
                                                 size_t elem_bytes) {
  vsart::CollectivePlan p;
  if (vsart::planAllGather(rank, dims, axis, group_size, elem_bytes,
                           "all_gather", &p))
    return 0;
  return p.scratchBytes();
}

namespace {

// Runs `p` on `count` host tensors: pack each, move (one collective over
// the send and receive arrays), unpack each. Tensor t uses scratch
// t * p.scratchBytes().
template <typename Move>
vsart_status_t runPlan(const vsart::CollectivePlan &p, int32_t count,
                       const void *const *in, void *const *out, void *scratch,
                       bool pack, Move move) {
  std::vector<char> owned;
  if (!scratch && p.scratchBytes()) {
    owned.resize(p.scratchBytes() * size_t(count));
    scratch = owned.data();
  }
  const void *sends[VSART_COMM_MAX_BUFFERS];
  void *recvs[VSART_COMM_MAX_BUFFERS];
  for (int32_t t = 0; t < count; ++t) {
    char *s = static_cast<char *>(scratch) + size_t(t) * p.scratchBytes();
    sends[t] = in[t];
    if (pack && p.sendScratch) {
      swap01(static_cast<const char *>(in[t]), s, p.packOuter, p.group,
             p.packInner);
      sends[t] = s;
    }
    recvs[t] = p.recvScratch ? s + p.sendScratch : out[t];
  }
  if (vsart_status_t st = move(sends, recvs))
    return st;
  for (int32_t t = 0; t < count && p.recvScratch; ++t)
    swap01(static_cast<const char *>(recvs[t]), static_cast<char *>(out[t]),
           p.group, p.unpackOuter, p.unpackInner);
  return VSART_OK;
}

/// The checks every tensor collective makes, a plain copy for a group of
/// one, else runPlan.
template <class Move>
vsart_status_t runCollective(const vsart::CollectivePlan &p, vsart_comm_t comm,
                             int32_t group, const char *name, int32_t count,
                             const void *const *in, void *const *out,
                             void *scratch, bool pack, Move move) {
  if (vsart_status_t st = vsart_comm_check_group(comm, group, name))
    return st;
  if (count < 1 || count > VSART_COMM_MAX_BUFFERS || !in || !out)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(name) + ": bad tensor count");
  for (int32_t t = 0; t < count; ++t)
    if (p.totalBytes && (!in[t] || !out[t]))
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  std::string(name) + ": null buffer");
  if (group == 1) {
    for (int32_t t = 0; t < count && p.totalBytes; ++t)
      std::memmove(out[t], in[t], p.totalBytes);
    return VSART_OK;
  }
  return runPlan(p, count, in, out, scratch, pack, move);
}

} // namespace

extern "C" vsart_status_t
vsart_cpu_all_to_all(vsart_comm_t comm, int32_t group_size, const void *in,
                     void *out, int32_t rank, const int64_t *dims,
                     int32_t scatter_axis, int32_t gather_axis,
                     size_t elem_bytes, void *scratch) {
  return vsart_cpu_all_to_all_n(comm, group_size, 1, &in, &out, rank, dims,
                                scatter_axis, gather_axis, elem_bytes,
                                scratch);
}

extern "C" vsart_status_t
vsart_cpu_all_to_all_n(vsart_comm_t comm, int32_t group_size, int32_t count,
                       const void *const *in, void *const *out, int32_t rank,
                       const int64_t *dims, int32_t scatter_axis,
                       int32_t gather_axis, size_t elem_bytes, void *scratch) {
  vsart::CollectivePlan p;
  if (vsart_status_t st =
          vsart::planAllToAll(rank, dims, scatter_axis, gather_axis,
                              group_size, elem_bytes, "all_to_all", &p))
    return st;
  return runCollective(
      p, comm, group_size, "all_to_all", count, in, out, scratch,
      /*pack=*/true, [&](const void *const *send, void *const *recv) {
        size_t chunks[VSART_COMM_MAX_BUFFERS];
        std::fill(chunks, chunks + count, p.chunkBytes);
        return vsart_comm_all_to_all_n(comm, count, send, recv, chunks,
                                       nullptr);
      });
}

extern "C" vsart_status_t
vsart_cpu_all_gather(vsart_comm_t comm, int32_t group_size, const void *in,
                     void *out, int32_t rank, const int64_t *dims,
                     int32_t axis, size_t elem_bytes, void *scratch) {
  vsart::CollectivePlan p;
  if (vsart_status_t st = vsart::planAllGather(rank, dims, axis, group_size,
                                               elem_bytes, "all_gather", &p))
    return st;
  return runCollective(p, comm, group_size, "all_gather", 1, &in, &out,
                       scratch, /*pack=*/false,
                       [&](const void *const *send, void *const *recv) {
                         return vsart_comm_all_gather(comm, send[0], recv[0],
                                                      p.chunkBytes, nullptr);
                       });
}

vsart_status_t vsart::planShard(vsart_comm_t comm, int32_t group, int32_t rank,
                                const int64_t *dims, int32_t axis,
                                size_t elemBytes, ShardPlan *plan,
                                int32_t *me) {
  const std::string w = "shard";
  size_t total = 0;
  if (vsart_status_t st =
          checkSplit(rank, dims, axis, group, elemBytes, w, &total))
    return st;
  if (vsart_status_t st = vsart_comm_check_group(comm, group, "shard"))
    return st;
  *me = comm ? vsart_comm_rank(comm) : 0;
  plan->rows = product(dims, 0, axis);
  plan->stride = size_t(product(dims, axis, rank)) * elemBytes;
  plan->chunk = plan->stride / size_t(group);
  return VSART_OK;
}

extern "C" vsart_status_t vsart_cpu_shard_copy(vsart_comm_t comm,
                                               int32_t group_size,
                                               const void *in, void *out,
                                               int32_t rank,
                                               const int64_t *dims,
                                               int32_t axis,
                                               size_t elem_bytes) {
  vsart::ShardPlan p;
  int32_t me = 0;
  if (vsart_status_t st = vsart::planShard(comm, group_size, rank, dims, axis,
                                           elem_bytes, &p, &me))
    return st;
  if (p.rows && p.chunk && (!in || !out))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "shard: null buffer");
  const char *src = static_cast<const char *>(in) + size_t(me) * p.chunk;
  char *dst = static_cast<char *>(out);
  for (int64_t i = 0; i < p.rows; ++i)
    std::memcpy(dst + size_t(i) * p.chunk, src + size_t(i) * p.stride,
                p.chunk);
  return VSART_OK;
}

// Ring attention (context parallelism): the loop both targets share. Each
// of the G ranks of a ring group holds a chunk of the sequence (its queries
// and its keys/values). Its K/V chunk travels around the ring (rank r sends
// to r + 1 and receives from r - 1), G - 1 sendrecv steps, and every step's
// partial attention of the local queries over the visiting chunk is merged
// into a running result by log-sum-exp:
//   lse = log(e^lse_acc + e^lse_p),
//   acc = acc * e^(lse_acc - lse) + part * e^(lse_p - lse).
// The result equals attention over the whole sequence up to rounding.
#ifndef VSART_SRC_RINGATTENTION_H
#define VSART_SRC_RINGATTENTION_H

#include "../kernels/AttentionArgs.h"
#include "Internal.h"
#include "vsart_comm.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vsart {

/// Where each buffer of a ring attention lives in its scratch: two K/V
/// buffers (K then V, contiguous (batch, kv heads, seq_kv, head_dim) of
/// `elem` bytes), the partial output (contiguous (batch, heads, seq_q,
/// head_dim), `elem` bytes), the partial and running lse (fp32, batch x
/// heads x seq_q), the running output (fp32, like the partial one) and,
/// with a key mask, the visiting chunk's mask (mask_dims[0] x seq_kv).
struct RingLayout {
  size_t kvBytes = 0; // one K or V chunk
  size_t kv[2] = {0, 0}, part = 0, lsePart = 0, lseAcc = 0, acc = 0;
  size_t mask = 0;
  size_t total = 0;
  int64_t rows = 0; // batch * heads * seq_q
};

inline RingLayout ringLayout(const vsart_attention_args_t &a, size_t elem) {
  auto up = [](size_t x) { return (x + 255) / 256 * 256; };
  RingLayout l;
  l.kvBytes = size_t(a.batch * a.num_kv_heads * a.seq_kv * a.head_dim) * elem;
  l.rows = a.batch * a.num_heads * a.seq_q;
  const size_t outElems = size_t(l.rows * a.head_dim);
  size_t at = 0;
  for (size_t &region : l.kv) {
    region = at;
    at += 2 * up(l.kvBytes);
  }
  l.part = at, at += up(outElems * elem);
  l.lsePart = at, at += up(size_t(l.rows) * 4);
  l.lseAcc = at, at += up(size_t(l.rows) * 4);
  l.acc = at, at += up(outElems * 4);
  if (a.mask)
    l.mask = at, at += up(size_t(a.mask_dims[0] * a.seq_kv) * elem);
  l.total = at;
  return l;
}

/// The target's steps (CPU: host loops; CUDA: kernels on a stream).
struct RingBackend {
  virtual ~RingBackend() = default;
  /// Contiguous copies of args.k and args.v into kv and kv + kvBytes.
  virtual vsart_status_t packKv(const vsart_attention_args_t &a, void *kv,
                                size_t kvBytes) = 0;
  /// Attention `c` (its out: the contiguous partial output) with its lse.
  virtual vsart_status_t attend(const vsart_attention_args_t &c,
                                float *lse) = 0;
  /// first: acc = part, lseAcc = lsePart; else the log-sum-exp merge.
  virtual vsart_status_t merge(const vsart_attention_args_t &a,
                               const void *part, const float *lsePart,
                               float *acc, float *lseAcc, bool first) = 0;
  /// args.out (strided) = acc.
  virtual vsart_status_t writeOut(const vsart_attention_args_t &a,
                                  const float *acc) = 0;
  /// dst (rows x count, contiguous) = columns [offset, offset + count) of
  /// the key mask src (rows x total).
  virtual vsart_status_t maskColumns(const void *src, int64_t rows,
                                     int64_t total, int64_t offset,
                                     int64_t count, void *dst) = 0;
  /// Before each sendrecv: the stream to queue it on (CUDA with NCCL: a
  /// side stream that first waits for this stream's work, so the exchange
  /// overlaps the attention of the chunk held; with a host-side
  /// communicator: NULL, once the stream's writes have landed).
  virtual vsart_status_t beforeExchange(vsart_comm_t, void **stream) = 0;
  /// After it: the next step's attention waits for the exchange (see
  /// waitExchange).
  virtual vsart_status_t afterExchange() { return VSART_OK; }
  /// Before attending a chunk received by the last exchange.
  virtual vsart_status_t waitExchange() { return VSART_OK; }
};

/// Contiguous (b, h, s, d) element strides for `heads` heads of `seq` rows.
inline void contiguousStrides(int64_t heads, int64_t seq, int64_t dim,
                              int64_t strides[3]) {
  strides[0] = heads * seq * dim, strides[1] = seq * dim, strides[2] = dim;
}

/// `a` reading the contiguous K/V chunk at kv (K, then V kvBytes later)
/// and writing the contiguous partial output `part`: what each step attends.
inline vsart_attention_args_t chunkArgs(const vsart_attention_args_t &a,
                                        const void *kv, size_t kvBytes,
                                        void *part) {
  vsart_attention_args_t c = a;
  c.k = kv;
  c.v = static_cast<const char *>(kv) + kvBytes;
  c.out = part;
  contiguousStrides(a.num_kv_heads, a.seq_kv, a.head_dim, c.k_strides);
  contiguousStrides(a.num_kv_heads, a.seq_kv, a.head_dim, c.v_strides);
  contiguousStrides(a.num_heads, a.seq_q, a.head_dim, c.out_strides);
  return c;
}

/// `a`'s queries against the keys every rank holds whole (`local`: its k,
/// v, seq_kv and strides), writing the contiguous partial output `part`.
inline vsart_attention_args_t localArgs(const vsart_attention_args_t &a,
                                        const vsart_attention_args_t &local,
                                        void *part) {
  vsart_attention_args_t c = a;
  c.k = local.k, c.v = local.v, c.seq_kv = local.seq_kv, c.out = part;
  c.mask = local.mask;
  for (int i = 0; i < 4; ++i)
    c.mask_dims[i] = local.mask_dims[i];
  for (int i = 0; i < 3; ++i)
    c.k_strides[i] = local.k_strides[i], c.v_strides[i] = local.v_strides[i];
  contiguousStrides(a.num_heads, a.seq_q, a.head_dim, c.out_strides);
  return c;
}

/// Real keys in the chunk of ring rank `src` when only the first
/// `validKeys` of the sequence are real (<= 0: all; padding sits at the
/// sequence's end, so in the last chunks' tails).
inline int64_t validInChunk(int64_t validKeys, int32_t src, int64_t chunk) {
  if (validKeys <= 0)
    return chunk;
  return std::max<int64_t>(0, std::min(chunk, validKeys - src * chunk));
}

/// The ring loop over `comm` (group_size ranks), scratch laid out by
/// ringLayout; `local` (may be NULL): keys attended once, before the ring;
/// `validKeys`: see validInChunk.
inline vsart_status_t runRing(vsart_comm_t comm, int32_t group,
                              const vsart_attention_args_t &a,
                              const vsart_attention_args_t *local,
                              int64_t validKeys, const RingLayout &l,
                              unsigned char *scratch, RingBackend &be) {
  const int32_t me = comm ? vsart_comm_rank(comm) : 0;
  const int32_t next = (me + 1) % group, prev = (me + group - 1) % group;
  vsart_status_t st = be.packKv(a, scratch + l.kv[0], l.kvBytes);
  float *lsePart = reinterpret_cast<float *>(scratch + l.lsePart);
  float *lseAcc = reinterpret_cast<float *>(scratch + l.lseAcc);
  float *acc = reinterpret_cast<float *>(scratch + l.acc);
  if (local && !st) {
    st = be.attend(localArgs(a, *local, scratch + l.part), lsePart);
    if (!st)
      st = be.merge(a, scratch + l.part, lsePart, acc, lseAcc, true);
  }
  for (int32_t step = 0; step < group && !st; ++step) {
    unsigned char *cur = scratch + l.kv[step % 2];
    unsigned char *nxt = scratch + l.kv[(step + 1) % 2];
    if (step > 0 && !st) // cur arrived by the last exchange
      st = be.waitExchange();
    // The next chunk is in flight (NCCL, side stream) while this one is
    // attended to.
    void *exchangeStream = nullptr;
    if (step + 1 < group && !st &&
        !(st = be.beforeExchange(comm, &exchangeStream)))
      st = vsart_comm_sendrecv(comm, cur, 2 * l.kvBytes, next, nxt,
                               2 * l.kvBytes, prev, exchangeStream);
    if (step + 1 < group && !st)
      st = be.afterExchange();
    // The chunk held now came from rank me - step.
    const int32_t src = (me - step % group + group) % group;
    vsart_attention_args_t c = chunkArgs(a, cur, l.kvBytes, scratch + l.part);
    c.seq_kv = validInChunk(validKeys, src, a.seq_kv);
    if (a.mask && !st) { // this chunk's columns of the key mask
      c.mask = scratch + l.mask;
      c.mask_dims[3] = c.seq_kv;
      st = be.maskColumns(a.mask, a.mask_dims[0], a.mask_dims[3],
                          src * a.seq_kv, c.seq_kv, scratch + l.mask);
    }
    if (!st)
      st = be.attend(c, lsePart);
    if (!st)
      st = be.merge(a, scratch + l.part, lsePart, acc, lseAcc,
                    step == 0 && !local);
  }
  if (!st)
    st = be.writeOut(a, acc);
  return st;
}

/// A key mask of the ring: (1 or batch, 1, 1, total keys).
inline bool isRingKeyMask(const vsart_attention_args_t &a, int64_t total) {
  return (a.mask_dims[0] == 1 || a.mask_dims[0] == a.batch) &&
         a.mask_dims[1] == 1 && a.mask_dims[2] == 1 &&
         a.mask_dims[3] == total;
}

/// Checks shared by both targets: the attention arguments, a key mask
/// over the group's keys at most, one group of the right size. *nothing:
/// no rank has work (a group of one without output), the call may return.
inline vsart_status_t checkRingArgs(vsart_comm_t comm, int32_t group,
                                    const vsart_attention_args_t *a,
                                    const vsart_attention_args_t *local,
                                    const char *what, bool *nothing) {
  if (!a)
    return fail(VSART_ERROR_INVALID_ARGUMENT, std::string(what) + ": null args");
  if (a->mask && !isRingKeyMask(*a, group * a->seq_kv))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": the mask must be a key mask (1 or "
                                    "batch, 1, 1, group size x seq_kv)");
  if (vsart_status_t st = vsart_comm_check_group(comm, group, what))
    return st;
  int64_t ms[4];
  bool empty = false;
  vsart_attention_args_t unmasked = *a; // the mask spans the whole ring
  unmasked.mask = nullptr;
  if (vsart_status_t st = checkAttentionArgs(what, &unmasked, ms, &empty))
    return st;
  if (local) {
    vsart_attention_args_t c = localArgs(*a, *local, a->out);
    if (c.mask && !isRingKeyMask(c, c.seq_kv))
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  std::string(what) + ": the local mask must be a key mask "
                                      "(1 or batch, 1, 1, local seq_kv)");
    bool none = false;
    if (vsart_status_t st = checkAttentionArgs(what, &c, ms, &none))
      return st;
  }
  *nothing = empty && group == 1;
  return VSART_OK;
}

} // namespace vsart

#endif // VSART_SRC_RINGATTENTION_H

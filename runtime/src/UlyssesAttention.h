// Ulysses attention (context parallelism): the loop both targets share.
// Each of the G ranks of a group holds all H heads of its chunk of the
// sequence (S_l rows) and computes attention over the whole sequence
// (S = G·S_l) for its H/G heads. The heads are taken C chunks at a time:
//   in(c):  rows of every head of chunk c go straight into place: head h of
//           rank p's share arrives at rows [src·S_l, (src+1)·S_l) of local
//           head h of p (one point-to-point transfer per head and peer, so
//           neither side packs or unpacks);
//   attend(c) over the whole sequence for the chunk's heads;
//   out(c): each row block goes back to the rank that owns those rows, into
//           its head's place in the output.
// in(c + 1) and out(c - 1) are queued while attend(c) runs: on CUDA they run
// on a second stream, so the collectives hide behind the attention.
#ifndef VSART_SRC_ULYSSESATTENTION_H
#define VSART_SRC_ULYSSESATTENTION_H

#include "../kernels/AttentionArgs.h"
#include "Internal.h"
#include "vsart_comm.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace vsart {

/// Sizes of one Ulysses attention and where its buffers live in scratch:
/// the received q, k, v and the attention output, each contiguous
/// (batch, local heads, seq, head_dim).
struct UlyssesLayout {
  int64_t batch = 0, heads = 0, localHeads = 0, chunkHeads = 0;
  int64_t seqLocal = 0, seq = 0, dim = 0, chunks = 1;
  size_t elem = 0, rowBytes = 0; // one head's S_l rows
  size_t q = 0, k = 0, v = 0, out = 0, total = 0;
};

inline UlyssesLayout ulyssesLayout(const vsart_attention_args_t &a,
                                   int32_t group, int64_t chunks,
                                   size_t elem) {
  auto up = [](size_t x) { return (x + 255) / 256 * 256; };
  UlyssesLayout l;
  l.batch = a.batch, l.heads = a.num_heads, l.dim = a.head_dim;
  l.localHeads = a.num_heads / group, l.chunks = chunks;
  l.chunkHeads = chunks > 0 ? l.localHeads / chunks : 0;
  l.seqLocal = a.seq_q, l.seq = a.seq_q * group, l.elem = elem;
  l.rowBytes = size_t(l.seqLocal * l.dim) * elem;
  const size_t one = up(size_t(l.batch * l.localHeads * l.seq * l.dim) * elem);
  l.q = 0, l.k = one, l.v = 2 * one, l.out = 3 * one, l.total = 4 * one;
  return l;
}

/// Whether `s` are the contiguous (b, h, s) strides of (heads, seq, dim).
inline bool isContiguousBhsd(const int64_t s[3], int64_t heads, int64_t seq,
                             int64_t dim) {
  return s[2] == dim && s[1] == seq * dim && s[0] == heads * seq * dim;
}

/// The chunk count: VSART_ULYSSES_CHUNKS when set (tuning without
/// recompiling), else `compiled`; it must divide the local heads.
inline vsart_status_t ulyssesChunks(int64_t compiled, int64_t localHeads,
                                    const char *what, int64_t *out) {
  int64_t c = compiled;
  if (const char *env = std::getenv("VSART_ULYSSES_CHUNKS"); env && *env)
    c = std::atoll(env);
  if (c < 1 || localHeads % c != 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": " + std::to_string(c) +
                    " head chunks (VSART_ULYSSES_CHUNKS or compiled) do not "
                    "divide the " + std::to_string(localHeads) +
                    " heads of each rank");
  *out = c;
  return VSART_OK;
}

/// The checks both targets make. *nothing: no rank has work.
inline vsart_status_t checkUlyssesArgs(vsart_comm_t comm, int32_t group,
                                       const vsart_attention_args_t *a,
                                       const char *what, bool *nothing) {
  if (!a)
    return fail(VSART_ERROR_INVALID_ARGUMENT, std::string(what) + ": null args");
  if (vsart_status_t st = vsart_comm_check_group(comm, group, what))
    return st;
  int64_t ms[4];
  bool empty = false;
  if (vsart_status_t st = checkAttentionArgs(what, a, ms, &empty))
    return st;
  const std::string n(what);
  if (a->mask || a->num_kv_heads != a->num_heads || a->seq_kv != a->seq_q)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": takes self-attention without a mask or grouped heads");
  if (a->num_heads % group != 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": " + std::to_string(a->num_heads) +
                    " heads do not divide over " + std::to_string(group) +
                    " ranks");
  const int64_t H = a->num_heads, S = a->seq_q, D = a->head_dim;
  if (!isContiguousBhsd(a->q_strides, H, S, D) ||
      !isContiguousBhsd(a->k_strides, H, S, D) ||
      !isContiguousBhsd(a->v_strides, H, S, D) ||
      !isContiguousBhsd(a->out_strides, H, S, D))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": q, k, v and out must be contiguous (batch, heads, "
                    "seq, head_dim)");
  *nothing = empty;
  return VSART_OK;
}

/// The target's steps. CPU: host calls in order; CUDA: the attention on
/// the caller's stream, the exchanges on a second one, ordered by events.
struct UlyssesBackend {
  virtual ~UlyssesBackend() = default;
  /// The inputs are ready (CUDA: the exchange stream waits for the caller's).
  virtual vsart_status_t begin() = 0;
  /// Runs `t` over comm (NULL: a group of one; every transfer is a copy to
  /// this rank) and marks exchange `slot` done when it has landed.
  virtual vsart_status_t exchange(vsart_comm_t comm,
                                  const std::vector<vsart_comm_transfer_t> &t,
                                  int32_t slot) = 0;
  /// The attention waits for exchange `slot`.
  virtual vsart_status_t waitExchange(int32_t slot) = 0;
  /// Attention `c`; later exchanges wait for it.
  virtual vsart_status_t attend(const vsart_attention_args_t &c) = 0;
  /// The caller's stream waits for every exchange.
  virtual vsart_status_t end() = 0;
};

/// Appends the transfers of one tensor for head chunk `c`. Inward (rows
/// to heads): this rank sends its rows of head p·H_l + c·H_c + j to rank p
/// and receives p's rows of its own local head c·H_c + j into rows
/// [p·S_l, (p+1)·S_l) of that head; outward the reverse, from the attention
/// output back to the rows' owners.
inline void appendTransfers(const UlyssesLayout &l, int32_t group, int64_t c, bool inward, const char *rowsSide,
                            char *headsSide, std::vector<vsart_comm_transfer_t> &t) {
  const size_t e = l.elem;
  const int64_t D = l.dim;
  for (int64_t b = 0; b < l.batch; ++b)
    for (int32_t p = 0; p < group; ++p)
      for (int64_t j = 0; j < l.chunkHeads; ++j) {
        const int64_t local = c * l.chunkHeads + j;
        // This rank's rows of global head p·H_l + local (to / from p) ...
        const size_t rowsTo = size_t((b * l.heads + p * l.localHeads + local) *
                                     l.seqLocal * D) * e;
        // ... and p's rows of this rank's local head (from / to p).
        const size_t headsAt =
            size_t(((b * l.localHeads + local) * l.seq + p * l.seqLocal) * D) * e;
        vsart_comm_transfer_t send{}, recv{};
        send.peer = recv.peer = p;
        send.bytes = recv.bytes = l.rowBytes;
        recv.recv = 1;
        if (inward) {
          send.buf = const_cast<char *>(rowsSide) + rowsTo;
          recv.buf = headsSide + headsAt;
        } else {
          send.buf = headsSide + headsAt;
          recv.buf = const_cast<char *>(rowsSide) + rowsTo;
        }
        t.push_back(send);
        t.push_back(recv);
      }
}

/// Without a communicator (a group of one) every transfer is a copy to
/// this rank: appendTransfers puts each receive right after its send.
template <class Copy>
vsart_status_t copyPairs(const std::vector<vsart_comm_transfer_t> &t,
                         Copy copy) {
  for (size_t i = 0; i + 1 < t.size(); i += 2)
    if (vsart_status_t st = copy(t[i + 1].buf, t[i].buf, t[i].bytes))
      return st;
  return VSART_OK;
}

/// Scratch of `bytes` (0: allocate), checked against the layout.
inline vsart_status_t checkUlyssesScratch(const UlyssesLayout &l,
                                          const void *scratch, size_t bytes,
                                          const char *what) {
  if (scratch && bytes < l.total)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": scratch of " + std::to_string(bytes) +
                    " bytes, needs " + std::to_string(l.total));
  return VSART_OK;
}

/// What both targets do before the loop: check the arguments, settle the
/// chunk count, lay out the scratch (elements of `elem` bytes) and check a
/// caller's scratch against it. *nothing: no rank has work.
inline vsart_status_t prepareUlysses(vsart_comm_t comm, int32_t group,
                                     const vsart_attention_args_t *a,
                                     int64_t chunks, size_t elem,
                                     const void *scratch, size_t bytes,
                                     const char *what, UlyssesLayout *layout,
                                     bool *nothing) {
  if (vsart_status_t st = checkUlyssesArgs(comm, group, a, what, nothing))
    return st;
  int64_t c = 0;
  if (vsart_status_t st = ulyssesChunks(chunks, a->num_heads / group, what, &c))
    return st;
  *layout = ulyssesLayout(*a, group, c, elem);
  return *nothing ? VSART_OK : checkUlyssesScratch(*layout, scratch, bytes, what);
}

/// Attention args of head chunk `c` over the received q, k, v in scratch.
inline vsart_attention_args_t chunkAttention(const vsart_attention_args_t &a,
                                             const UlyssesLayout &l,
                                             unsigned char *scratch, int64_t c) {
  const size_t at = size_t(c * l.chunkHeads * l.seq * l.dim) * l.elem;
  vsart_attention_args_t r = a;
  r.q = scratch + l.q + at, r.k = scratch + l.k + at, r.v = scratch + l.v + at;
  r.out = scratch + l.out + at;
  r.num_heads = r.num_kv_heads = l.chunkHeads;
  r.seq_q = r.seq_kv = l.seq;
  const int64_t s[3] = {l.localHeads * l.seq * l.dim, l.seq * l.dim, l.dim};
  for (int i = 0; i < 3; ++i)
    r.q_strides[i] = r.k_strides[i] = r.v_strides[i] = r.out_strides[i] = s[i];
  return r;
}

/// The pipelined loop: in(0); for each chunk c: in(c + 1), attend(c),
/// out(c). Exchange slots: in(c) is c, out(c) is chunks + c.
inline vsart_status_t runUlysses(vsart_comm_t comm, int32_t group,
                                 const vsart_attention_args_t &a,
                                 const UlyssesLayout &l, unsigned char *scratch,
                                 UlyssesBackend &be) {
  auto inward = [&](int64_t c) {
    std::vector<vsart_comm_transfer_t> t;
    for (auto [src, dst] : {std::pair(a.q, l.q), std::pair(a.k, l.k),
                            std::pair(a.v, l.v)})
      appendTransfers(l, group, c, true, static_cast<const char *>(src),
                      reinterpret_cast<char *>(scratch + dst), t);
    return be.exchange(comm, t, int32_t(c));
  };
  vsart_status_t st = be.begin();
  if (!st)
    st = inward(0);
  for (int64_t c = 0; c < l.chunks && !st; ++c) {
    if (c + 1 < l.chunks)
      st = inward(c + 1);
    if (!st)
      st = be.waitExchange(int32_t(c));
    if (!st)
      st = be.attend(chunkAttention(a, l, scratch, c));
    if (!st) {
      std::vector<vsart_comm_transfer_t> t;
      appendTransfers(l, group, c, false, static_cast<const char *>(a.out),
                      reinterpret_cast<char *>(scratch + l.out), t);
      st = be.exchange(comm, t, int32_t(l.chunks + c));
    }
  }
  if (vsart_status_t done = be.end(); !st)
    st = done;
  return st;
}

} // namespace vsart

#endif // VSART_SRC_ULYSSESATTENTION_H

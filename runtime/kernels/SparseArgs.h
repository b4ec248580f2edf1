// Argument checks and set-up shared by the CPU and CUDA sparse-attention
// kernels (VSA selection and its tile means, semantic attention); defined
// in kernels/cpu/.
#ifndef VSART_KERNELS_SPARSEARGS_H
#define VSART_KERNELS_SPARSEARGS_H

#include "vsart.h"

#include <cstdint>
#include <initializer_list>

namespace vsart {

/// vsart_vsa_select_args_t; with `hostOffsets` tile_offsets is read too.
vsart_status_t checkVsaSelectArgs(const char *name,
                                  const vsart_vsa_select_args_t *args,
                                  bool hostOffsets);
/// VSA tiles of a sequence of `seq` rows: 1 <= tiles <= seq and offsets not
/// null; with `hostOffsets` also read: from 0 to seq, no tile empty.
vsart_status_t checkTiles(const char *name, int64_t tiles,
                          const int64_t *offsets, int64_t seq,
                          bool hostOffsets);
/// Floats per pooled tile row (vsart_*_norm_rope's `pooled`, the pooled_q
/// and pooled_k of vsart_*_vsa_select): head_dim rounded up to 4.
inline int64_t pooledDim(int64_t headDim) { return (headDim + 3) / 4 * 4; }
/// (batch, head, seq) element strides of vsart_*_norm_rope's output.
inline void normRopeOutStrides(const vsart_norm_rope_args_t &a,
                               int64_t st[3]) {
  const int64_t S = a.seq, H = a.heads, D = a.head_dim;
  st[0] = S * H * D;
  st[1] = a.heads_major ? S * D : D;
  st[2] = a.heads_major ? D : H * D;
}
/// vsart_semantic_args_t; without `pointers` only sizes and parameters.
vsart_status_t checkSemanticArgs(const char *name,
                                 const vsart_semantic_args_t *args,
                                 bool pointers);
/// Key clusters semantic attention keeps at least.
int64_t semanticMinKept(float fraction, int64_t numKv);

/// Block-sparse attention over cluster-permuted copies laid end to end as
/// one sequence (batch 1, one head): the B*H query slices and the B*Hkv
/// key/value slices of `a`'s shape, each S x D and contiguous, so one call
/// covers per-(batch, head) cluster sizes. Blocks and lists are the
/// caller's to fill.
inline vsart_block_sparse_args_t
slicesAsOneSequence(const vsart_attention_args_t &a, const void *q,
                    const void *k, const void *v, void *out) {
  const int64_t BH = a.batch * a.num_heads, BHkv = a.batch * a.num_kv_heads;
  const int64_t S = a.seq_q, D = a.head_dim;
  vsart_block_sparse_args_t bs = {};
  vsart_attention_args_t &ba = bs.attn;
  ba.q = q, ba.k = k, ba.v = v, ba.out = out;
  ba.batch = 1, ba.num_heads = 1, ba.num_kv_heads = 1;
  ba.seq_q = BH * S, ba.seq_kv = BHkv * S, ba.head_dim = D;
  for (int64_t *st : {ba.q_strides, ba.out_strides})
    st[0] = st[1] = BH * S * D, st[2] = D;
  for (int64_t *st : {ba.k_strides, ba.v_strides})
    st[0] = st[1] = BHkv * S * D, st[2] = D;
  ba.scale = a.scale;
  bs.list_scope = VSART_LISTS_SHARED;
  return bs;
}

} // namespace vsart

#endif // VSART_KERNELS_SPARSEARGS_H

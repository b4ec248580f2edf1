// Memory-efficient dense attention (flash-attention style, fp32).
//
// One task per (batch, head, block of BQ queries). Keys are visited in
// blocks of BK with an online softmax (running max m, running sum l, and an
// unnormalised accumulator), so memory per task is O(BQ * (BK + D)), never
// seq_q x seq_kv. Block sizes are constants, so every output row sees the
// same sequence of operations for any thread count. A row whose keys are all
// -inf keeps m = -inf, l = 0 and yields 0. Tensors are addressed through
// (batch, head, seq) strides, so (batch, seq, heads, dim) layouts need no
// transpose; vsart_cpu_attention passes contiguous (b, h, s, d) strides.
#include "../../src/Internal.h"
#include "../AttentionArgs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {
constexpr int64_t BQ = 32, BK = 64;

/// The attention of vsart_cpu_attention_strided, arguments already checked.
void attend(const vsart_attention_args_t &a, const int64_t mstride[4]) {
  const float *q = static_cast<const float *>(a.q);
  const float *k = static_cast<const float *>(a.k);
  const float *v = static_cast<const float *>(a.v);
  const float *mask = static_cast<const float *>(a.mask);
  float *out = static_cast<float *>(a.out);
  const int64_t D = a.head_dim, H = a.num_heads, group = H / a.num_kv_heads;
  const int64_t seqQ = a.seq_q, seqKv = a.seq_kv, qBlocks = (seqQ + BQ - 1) / BQ;
  const int64_t qs = a.q_strides[2], ks = a.k_strides[2], vs = a.v_strides[2];
  const int64_t os = a.out_strides[2];
  const float scale = a.scale;
  const float negInf = -std::numeric_limits<float>::infinity();
  vsart::parallelFor(a.batch * H * qBlocks, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> kt(D * BK), s(BQ * BK), acc(BQ * D), mrow(BQ), lrow(BQ);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t qb = t % qBlocks, h = (t / qBlocks) % H,
                    bi = t / qBlocks / H, g = h / group;
      const int64_t i0 = qb * BQ, nq = std::min(BQ, seqQ - i0);
      const float *qh = q + bi * a.q_strides[0] + h * a.q_strides[1] + i0 * qs;
      const float *kh = k + bi * a.k_strides[0] + g * a.k_strides[1];
      const float *vh = v + bi * a.v_strides[0] + g * a.v_strides[1];
      const float *mh = mask ? mask + bi * mstride[0] + h * mstride[1] : nullptr;
      std::fill(acc.begin(), acc.end(), 0.0f);
      std::fill(mrow.begin(), mrow.end(), negInf);
      std::fill(lrow.begin(), lrow.end(), 0.0f);
      for (int64_t j0 = 0; j0 < seqKv; j0 += BK) {
        const int64_t nk = std::min(BK, seqKv - j0);
        for (int64_t j = 0; j < nk; ++j) // K block transposed: D x nk
          for (int64_t d = 0; d < D; ++d)
            kt[d * BK + j] = kh[(j0 + j) * ks + d];
        for (int64_t i = 0; i < nq; ++i) {
          float *srow = &s[i * BK];
          std::fill(srow, srow + nk, 0.0f);
          const float *qi = qh + i * qs;
          for (int64_t d = 0; d < D; ++d) {
            const float qv = qi[d];
            const float *kd = &kt[d * BK];
            for (int64_t j = 0; j < nk; ++j)
              srow[j] += qv * kd[j];
          }
          float bmax = negInf;
          const float *mi = mh ? mh + (i0 + i) * mstride[2] : nullptr;
          for (int64_t j = 0; j < nk; ++j) {
            srow[j] *= scale;
            if (mi)
              srow[j] += mi[(j0 + j) * mstride[3]];
            bmax = std::max(bmax, srow[j]);
          }
          const float mnew = std::max(mrow[i], bmax);
          if (mnew == negInf) // every key so far masked: nothing to add
            continue;
          const float corr = std::exp(mrow[i] - mnew); // exp(-inf) == 0
          float sum = 0.0f;
          for (int64_t j = 0; j < nk; ++j) {
            srow[j] = std::exp(srow[j] - mnew);
            sum += srow[j];
          }
          lrow[i] = lrow[i] * corr + sum;
          mrow[i] = mnew;
          float *ai = &acc[i * D];
          for (int64_t d = 0; d < D; ++d)
            ai[d] *= corr;
          for (int64_t j = 0; j < nk; ++j) {
            const float p = srow[j];
            const float *vj = vh + (j0 + j) * vs;
            for (int64_t d = 0; d < D; ++d)
              ai[d] += p * vj[d];
          }
        }
      }
      float *oh = out + bi * a.out_strides[0] + h * a.out_strides[1] + i0 * os;
      for (int64_t i = 0; i < nq; ++i) {
        const float inv = lrow[i] > 0.0f ? 1.0f / lrow[i] : 0.0f;
        for (int64_t d = 0; d < D; ++d)
          oh[i * os + d] = acc[i * D + d] * inv;
      }
    }
  });
}
} // namespace

extern "C" vsart_status_t
vsart_cpu_attention_strided(const vsart_attention_args_t *args) {
  int64_t mstride[4];
  bool empty = false;
  if (vsart_status_t st =
          vsart::checkAttentionArgs("attention", args, mstride, &empty))
    return st;
  if (!empty)
    attend(*args, mstride);
  return vsart::ok();
}

extern "C" vsart_status_t
vsart_cpu_attention(const float *q, const float *k, const float *v, float *out,
                    int64_t batch, int64_t num_heads, int64_t num_kv_heads,
                    int64_t seq_q, int64_t seq_kv, int64_t head_dim,
                    float scale, const float *mask, const int64_t *mask_dims) {
  if (mask && !mask_dims)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "attention: mask without dims");
  vsart_attention_args_t a = {};
  a.q = q, a.k = k, a.v = v, a.out = out;
  a.batch = batch, a.num_heads = num_heads, a.num_kv_heads = num_kv_heads;
  a.seq_q = seq_q, a.seq_kv = seq_kv, a.head_dim = head_dim;
  // Contiguous (batch, heads, seq, head_dim).
  const int64_t qStrides[3] = {num_heads * seq_q * head_dim, seq_q * head_dim,
                               head_dim};
  const int64_t kvStrides[3] = {num_kv_heads * seq_kv * head_dim,
                                seq_kv * head_dim, head_dim};
  for (int i = 0; i < 3; ++i) {
    a.q_strides[i] = a.out_strides[i] = qStrides[i];
    a.k_strides[i] = a.v_strides[i] = kvStrides[i];
  }
  a.scale = scale;
  a.mask = mask;
  for (int i = 0; i < 4 && mask; ++i)
    a.mask_dims[i] = mask_dims[i];
  return vsart_cpu_attention_strided(&a);
}

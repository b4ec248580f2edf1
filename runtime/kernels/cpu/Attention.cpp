// Memory-efficient dense attention (flash-attention style, fp32).
//
// One task per (batch, head, block of BQ queries). Keys are visited in
// blocks of BK with an online softmax (running max m, running sum l, and an
// unnormalised accumulator), so memory per task is O(BQ * (BK + D)), never
// seq_q x seq_kv. Block sizes are constants, so every output row sees the
// same sequence of operations for any thread count. A row whose keys are all
// -inf keeps m = -inf, l = 0 and yields 0.
#include "../../src/Internal.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {
constexpr int64_t BQ = 32, BK = 64;
}

extern "C" vsart_status_t
vsart_cpu_attention(const float *q, const float *k, const float *v, float *out,
                    int64_t batch, int64_t num_heads, int64_t num_kv_heads,
                    int64_t seq_q, int64_t seq_kv, int64_t head_dim,
                    float scale, const float *mask, const int64_t *mask_dims) {
  using vsart::fail;
  if (batch < 0 || num_heads < 0 || seq_q < 0 || seq_kv < 0 || head_dim < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "attention: negative size");
  if (num_kv_heads <= 0 || num_heads % num_kv_heads != 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "attention: num_heads must be a multiple of num_kv_heads");
  const int64_t full[4] = {batch, num_heads, seq_q, seq_kv};
  int64_t mstride[4] = {0, 0, 0, 0};
  if (mask) {
    if (!mask_dims)
      return fail(VSART_ERROR_INVALID_ARGUMENT, "attention: mask without dims");
    int64_t s = 1;
    for (int d = 3; d >= 0; --d) {
      if (mask_dims[d] != 1 && mask_dims[d] != full[d])
        return fail(VSART_ERROR_INVALID_ARGUMENT,
                    "attention: mask dim " + std::to_string(d) +
                        " is neither 1 nor the full size");
      mstride[d] = mask_dims[d] == 1 ? 0 : s;
      s *= mask_dims[d];
    }
  }
  if (batch * num_heads * seq_q * head_dim == 0)
    return vsart::ok();
  if (!q || !out || (seq_kv > 0 && (!k || !v)))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "attention: null pointer");

  const int64_t D = head_dim, group = num_heads / num_kv_heads;
  const int64_t qBlocks = (seq_q + BQ - 1) / BQ;
  const float negInf = -std::numeric_limits<float>::infinity();
  vsart::parallelFor(batch * num_heads * qBlocks, 1, [&](int64_t t0,
                                                          int64_t t1) {
    std::vector<float> kt(D * BK), s(BQ * BK), acc(BQ * D), mrow(BQ), lrow(BQ);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t qb = t % qBlocks, h = (t / qBlocks) % num_heads,
                    bi = t / qBlocks / num_heads, g = h / group;
      const int64_t i0 = qb * BQ, nq = std::min(BQ, seq_q - i0);
      const float *qh = q + ((bi * num_heads + h) * seq_q + i0) * D;
      const float *kh = k + (bi * num_kv_heads + g) * seq_kv * D;
      const float *vh = v + (bi * num_kv_heads + g) * seq_kv * D;
      const float *mh = mask ? mask + bi * mstride[0] + h * mstride[1] : nullptr;
      std::fill(acc.begin(), acc.end(), 0.0f);
      std::fill(mrow.begin(), mrow.end(), negInf);
      std::fill(lrow.begin(), lrow.end(), 0.0f);
      for (int64_t j0 = 0; j0 < seq_kv; j0 += BK) {
        const int64_t nk = std::min(BK, seq_kv - j0);
        for (int64_t j = 0; j < nk; ++j) // K block transposed: D x nk
          for (int64_t d = 0; d < D; ++d)
            kt[d * BK + j] = kh[(j0 + j) * D + d];
        for (int64_t i = 0; i < nq; ++i) {
          float *srow = &s[i * BK];
          std::fill(srow, srow + nk, 0.0f);
          const float *qi = qh + i * D;
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
            const float *vj = vh + (j0 + j) * D;
            for (int64_t d = 0; d < D; ++d)
              ai[d] += p * vj[d];
          }
        }
      }
      float *oh = out + ((bi * num_heads + h) * seq_q + i0) * D;
      for (int64_t i = 0; i < nq; ++i) {
        const float inv = lrow[i] > 0.0f ? 1.0f / lrow[i] : 0.0f;
        for (int64_t d = 0; d < D; ++d)
          oh[i * D + d] = acc[i * D + d] * inv;
      }
    }
  });
  return vsart::ok();
}

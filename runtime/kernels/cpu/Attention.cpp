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
#include "../../src/DTypes.h"
#include "../../src/Internal.h"
#include "../AttentionArgs.h"

#include <string>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {
constexpr int64_t BQ = 32, BK = 64;

/// Key rows [begin, end) a query block attends to.
struct KeyRange {
  int64_t begin, end;
};

/// Scratch of one task.
struct Scratch {
  std::vector<float> kt, s, acc, mrow, lrow;
  explicit Scratch(int64_t D)
      : kt(D * BK), s(BQ * BK), acc(BQ * D), mrow(BQ), lrow(BQ) {}
};

/// Online-softmax attention of query rows [i0, i0 + nq) (nq <= BQ) of
/// (batch bi, head h) over the key rows in `ranges`, visited in order in
/// chunks of BK, written to out; lse (may be NULL) gets each row's log-sum-
/// exp of its scaled logits.
void attendRows(const vsart_attention_args_t &a, const int64_t mstride[4],
                int64_t bi, int64_t h, int64_t i0, int64_t nq,
                const KeyRange *ranges, size_t numRanges, Scratch &w,
                float *lse = nullptr) {
  const float *q = static_cast<const float *>(a.q);
  const float *k = static_cast<const float *>(a.k);
  const float *v = static_cast<const float *>(a.v);
  const float *mask = static_cast<const float *>(a.mask);
  float *out = static_cast<float *>(a.out);
  const int64_t D = a.head_dim, g = h / (a.num_heads / a.num_kv_heads);
  const int64_t qs = a.q_strides[2], ks = a.k_strides[2], vs = a.v_strides[2];
  const int64_t os = a.out_strides[2];
  const float negInf = -std::numeric_limits<float>::infinity();
  const float *qh = q + bi * a.q_strides[0] + h * a.q_strides[1] + i0 * qs;
  const float *kh = k + bi * a.k_strides[0] + g * a.k_strides[1];
  const float *vh = v + bi * a.v_strides[0] + g * a.v_strides[1];
  const float *mh = mask ? mask + bi * mstride[0] + h * mstride[1] : nullptr;
  std::fill(w.acc.begin(), w.acc.end(), 0.0f);
  std::fill(w.mrow.begin(), w.mrow.end(), negInf);
  std::fill(w.lrow.begin(), w.lrow.end(), 0.0f);
  for (size_t ri = 0; ri < numRanges; ++ri) {
    const KeyRange &r = ranges[ri];
    for (int64_t j0 = r.begin; j0 < r.end; j0 += BK) {
      const int64_t nk = std::min(BK, r.end - j0);
      for (int64_t j = 0; j < nk; ++j) // K block transposed: D x nk
        for (int64_t d = 0; d < D; ++d)
          w.kt[d * BK + j] = kh[(j0 + j) * ks + d];
      for (int64_t i = 0; i < nq; ++i) {
        float *srow = &w.s[i * BK];
        std::fill(srow, srow + nk, 0.0f);
        const float *qi = qh + i * qs;
        for (int64_t d = 0; d < D; ++d) {
          const float qv = qi[d];
          const float *kd = &w.kt[d * BK];
          for (int64_t j = 0; j < nk; ++j)
            srow[j] += qv * kd[j];
        }
        float bmax = negInf;
        const float *mi = mh ? mh + (i0 + i) * mstride[2] : nullptr;
        for (int64_t j = 0; j < nk; ++j) {
          srow[j] *= a.scale;
          if (mi)
            srow[j] += mi[(j0 + j) * mstride[3]];
          bmax = std::max(bmax, srow[j]);
        }
        const float mnew = std::max(w.mrow[i], bmax);
        if (mnew == negInf) // every key so far masked: nothing to add
          continue;
        const float corr = std::exp(w.mrow[i] - mnew); // exp(-inf) == 0
        float sum = 0.0f;
        for (int64_t j = 0; j < nk; ++j) {
          srow[j] = std::exp(srow[j] - mnew);
          sum += srow[j];
        }
        w.lrow[i] = w.lrow[i] * corr + sum;
        w.mrow[i] = mnew;
        float *ai = &w.acc[i * D];
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
  }
  float *oh = out + bi * a.out_strides[0] + h * a.out_strides[1] + i0 * os;
  for (int64_t i = 0; i < nq; ++i) {
    const float inv = w.lrow[i] > 0.0f ? 1.0f / w.lrow[i] : 0.0f;
    for (int64_t d = 0; d < D; ++d)
      oh[i * os + d] = w.acc[i * D + d] * inv;
  }
  if (lse) {
    float *row = lse + (bi * a.num_heads + h) * a.seq_q + i0;
    for (int64_t i = 0; i < nq; ++i)
      row[i] = w.lrow[i] > 0.0f ? w.mrow[i] + std::log(w.lrow[i]) : negInf;
  }
}

/// Dense attention: one task per (batch, head, block of BQ queries), every
/// key in one range.
void attend(const vsart_attention_args_t &a, const int64_t mstride[4],
            float *lse = nullptr) {
  const int64_t H = a.num_heads, qBlocks = (a.seq_q + BQ - 1) / BQ;
  const KeyRange all[1] = {{0, a.seq_kv}};
  vsart::parallelFor(a.batch * H * qBlocks, 1, [&](int64_t t0, int64_t t1) {
    Scratch w(a.head_dim);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t qb = t % qBlocks, h = (t / qBlocks) % H, bi = t / qBlocks / H;
      const int64_t i0 = qb * BQ;
      attendRows(a, mstride, bi, h, i0, std::min(BQ, a.seq_q - i0), all, 1, w,
                 lse);
    }
  });
}

/// Checks offsets (0 .. total, non-decreasing) of `n` blocks.
vsart_status_t checkOffsets(const char *what, const int64_t *offsets, int64_t n,
                            int64_t total) {
  using vsart::fail;
  if (n < 0 || (n > 0 && !offsets))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string("block-sparse attention: bad ") + what);
  if (!offsets)
    return total == 0 ? VSART_OK
                      : fail(VSART_ERROR_INVALID_ARGUMENT,
                             std::string("block-sparse attention: no ") + what);
  if (offsets[0] != 0 || offsets[n] != total)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string("block-sparse attention: ") + what +
                    " must run from 0 to " + std::to_string(total));
  for (int64_t i = 0; i < n; ++i)
    if (offsets[i + 1] < offsets[i])
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  std::string("block-sparse attention: ") + what +
                      " decrease at block " + std::to_string(i));
  return VSART_OK;
}

int64_t numLists(const vsart_block_sparse_args_t &b) {
  const int64_t per = b.num_q_blocks;
  switch (b.list_scope) {
  case VSART_LISTS_SHARED:
    return per;
  case VSART_LISTS_PER_HEAD:
    return per * b.attn.num_heads;
  case VSART_LISTS_PER_BATCH_HEAD:
    return per * b.attn.num_heads * b.attn.batch;
  }
  return -1;
}

vsart_status_t checkBlockSparse(const vsart_block_sparse_args_t &b) {
  using vsart::fail;
  if (b.attn.mask)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "block-sparse attention: masks are not supported");
  if (vsart_status_t st = checkOffsets("query block offsets", b.q_block_offsets,
                                       b.num_q_blocks, b.attn.seq_q))
    return st;
  if (vsart_status_t st = checkOffsets("key block offsets", b.kv_block_offsets,
                                       b.num_kv_blocks, b.attn.seq_kv))
    return st;
  const int64_t lists = numLists(b);
  if (lists < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "block-sparse attention: unknown list scope");
  if (lists > 0 && !b.list_offsets)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "block-sparse attention: no list offsets");
  // Offsets are positions in `lists`: several offset tables (rotating
  // keyframes) may share one list array, so they need not start at 0.
  if (lists > 0 && (b.list_offsets[0] < 0 ||
                    (b.list_offsets[lists] > b.list_offsets[0] && !b.lists)))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "block-sparse attention: list offsets must be >= 0 (and "
                "lists given when a list is not empty)");
  for (int64_t l = 0; l < lists; ++l) {
    if (b.list_offsets[l + 1] < b.list_offsets[l])
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  "block-sparse attention: list offsets decrease at list " +
                      std::to_string(l));
    for (int64_t e = b.list_offsets[l]; e < b.list_offsets[l + 1]; ++e)
      if (b.lists[e] < 0 || b.lists[e] >= b.num_kv_blocks)
        return fail(VSART_ERROR_INVALID_ARGUMENT,
                    "block-sparse attention: key block " +
                        std::to_string(b.lists[e]) + " out of range in list " +
                        std::to_string(l));
  }
  return VSART_OK;
}

/// One task per (batch, head, query block, chunk of BQ rows of it); the
/// chunk attends to the key rows of its list's blocks, in list order.
void attendBlockSparse(const vsart_block_sparse_args_t &b,
                       const int64_t mstride[4]) {
  const vsart_attention_args_t &a = b.attn;
  std::vector<int64_t> taskBlock, taskRow; // per (query block, chunk)
  for (int64_t qb = 0; qb < b.num_q_blocks; ++qb)
    for (int64_t i = b.q_block_offsets[qb]; i < b.q_block_offsets[qb + 1];
         i += BQ) {
      taskBlock.push_back(qb);
      taskRow.push_back(i);
    }
  const int64_t perHead = int64_t(taskBlock.size()), H = a.num_heads;
  vsart::parallelFor(a.batch * H * perHead, 1, [&](int64_t t0, int64_t t1) {
    Scratch w(a.head_dim);
    std::vector<KeyRange> ranges;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t c = t % perHead, h = (t / perHead) % H, bi = t / perHead / H;
      const int64_t qb = taskBlock[c], i0 = taskRow[c];
      const int64_t nq = std::min(BQ, b.q_block_offsets[qb + 1] - i0);
      int64_t list = qb;
      if (b.list_scope == VSART_LISTS_PER_HEAD)
        list += h * b.num_q_blocks;
      else if (b.list_scope == VSART_LISTS_PER_BATCH_HEAD)
        list += (bi * H + h) * b.num_q_blocks;
      ranges.clear();
      for (int64_t e = b.list_offsets[list]; e < b.list_offsets[list + 1]; ++e)
        ranges.push_back({b.kv_block_offsets[b.lists[e]],
                          b.kv_block_offsets[b.lists[e] + 1]});
      attendRows(a, mstride, bi, h, i0, nq, ranges.data(), ranges.size(), w);
    }
  });
}

/// x rounded to E4M3 after multiplying by `multiplier`, back in x's units.
float e4m3Round(float x, float multiplier, float scale) {
  return vsart::e4m3ToFloat(vsart::floatToE4m3(x * multiplier)) * scale;
}

/// E4M3 with one scale for the whole (batch, heads, seq, dim) tensor x
/// (element strides `st`), dequantized into a contiguous copy; *scale and
/// *multiplier as e4m3RowScale gives them.
std::vector<float> e4m3Tensor(const float *x, const int64_t st[3],
                              int64_t batch, int64_t heads, int64_t seq,
                              int64_t dim, float *scale, float *multiplier) {
  auto at = [&](int64_t r, int64_t d) { // row r = (b * heads + h) * seq + s
    return x[r / (heads * seq) * st[0] + r / seq % heads * st[1] +
             r % seq * st[2] + d];
  };
  const int64_t rows = batch * heads * seq;
  float absMax = 0.0f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t d = 0; d < dim; ++d)
      absMax = std::max(absMax, std::fabs(at(r, d)));
  vsart::e4m3RowScale(absMax, scale, multiplier);
  std::vector<float> out(size_t(rows * dim));
  vsart::parallelFor(rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t d = 0; d < dim; ++d)
        out[size_t(r * dim + d)] = e4m3Round(at(r, d), *multiplier, *scale);
  });
  return out;
}

/// FP8 attention (vsart_attention_args_t::fp8): per-tensor E4M3 q, k and v;
/// fp32 scores and softmax; the softmax numerators exp(s - max) rounded to
/// E4M3 as x * 448; the output rounded to E4M3 with v's scale. One task per
/// query row.
void attendFp8(const vsart_attention_args_t &a) {
  const int64_t B = a.batch, H = a.num_heads, Hkv = a.num_kv_heads;
  const int64_t Sq = a.seq_q, Skv = a.seq_kv, D = a.head_dim;
  float qScale, kScale, vScale, qMul, kMul, vMul;
  const std::vector<float> q = e4m3Tensor(static_cast<const float *>(a.q),
                                          a.q_strides, B, H, Sq, D, &qScale,
                                          &qMul);
  const std::vector<float> k = e4m3Tensor(static_cast<const float *>(a.k),
                                          a.k_strides, B, Hkv, Skv, D, &kScale,
                                          &kMul);
  const std::vector<float> v = e4m3Tensor(static_cast<const float *>(a.v),
                                          a.v_strides, B, Hkv, Skv, D, &vScale,
                                          &vMul);
  auto *out = static_cast<float *>(a.out);
  vsart::parallelFor(B * H * Sq, 16, [&](int64_t r0, int64_t r1) {
    std::vector<float> s(static_cast<size_t>(Skv)), o(static_cast<size_t>(D));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t bi = r / (H * Sq), h = r / Sq % H, i = r % Sq;
      const int64_t kv = (bi * Hkv + h / (H / Hkv)) * Skv;
      const float *qi = &q[size_t(r * D)];
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < Skv; ++j) {
        const float *kj = &k[size_t((kv + j) * D)];
        float dot = 0.0f;
        for (int64_t d = 0; d < D; ++d)
          dot += qi[d] * kj[d];
        s[size_t(j)] = dot * a.scale;
        m = std::max(m, s[size_t(j)]);
      }
      // Flash-style, as the kernel: the numerators exp(s - max) <= 1 are
      // rounded, the sum of the exact ones divides at the end.
      float z = 0.0f;
      for (float &x : s)
        z += (x = std::exp(x - m));
      std::fill(o.begin(), o.end(), 0.0f);
      for (int64_t j = 0; j < Skv; ++j) {
        const float p = e4m3Round(s[size_t(j)], 448.0f, 1.0f / 448.0f);
        const float *vj = &v[size_t((kv + j) * D)];
        for (int64_t d = 0; d < D; ++d)
          o[size_t(d)] += p * vj[d];
      }
      float *dst = out + bi * a.out_strides[0] + h * a.out_strides[1] +
                   i * a.out_strides[2];
      for (int64_t d = 0; d < D; ++d)
        dst[d] = e4m3Round(o[size_t(d)] / z, vMul, vScale);
    }
  });
}

} // namespace

extern "C" vsart_status_t
vsart_cpu_block_sparse_attention(const vsart_block_sparse_args_t *args) {
  int64_t mstride[4];
  bool empty = false;
  if (!args)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "block-sparse attention: null args");
  if (vsart_status_t st = vsart::checkAttentionArgs(
          "block-sparse attention", &args->attn, mstride, &empty))
    return st;
  if (vsart_status_t st = checkBlockSparse(*args))
    return st;
  if (!empty)
    attendBlockSparse(*args, mstride);
  return vsart::ok();
}

extern "C" vsart_status_t
vsart_cpu_attention_strided(const vsart_attention_args_t *args) {
  int64_t mstride[4];
  bool empty = false;
  if (vsart_status_t st = vsart::checkAttentionArgs("attention", args, mstride,
                                                    &empty, /*fp8Allowed=*/true))
    return st;
  if (!empty && args->fp8)
    attendFp8(*args);
  else if (!empty)
    attend(*args, mstride);
  return vsart::ok();
}

extern "C" vsart_status_t
vsart_cpu_attention_lse(const vsart_attention_args_t *args, float *lse) {
  int64_t mstride[4];
  bool empty = false;
  if (vsart_status_t st =
          vsart::checkAttentionArgs("attention_lse", args, mstride, &empty))
    return st;
  if (!lse && args->batch * args->num_heads * args->seq_q > 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "attention_lse: null lse");
  if (!empty)
    attend(*args, mstride, lse);
  else if (lse) // no keys: every row is empty
    std::fill(lse, lse + args->batch * args->num_heads * args->seq_q,
              -std::numeric_limits<float>::infinity());
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

// Semantic-aware permutation attention (Sparse VideoGen2) on the CPU (fp32):
// k-means on q and k per (batch, head), cluster scores and top-p selection,
// permutation by cluster, block-sparse attention over the clusters
// (vsart_cpu_block_sparse_attention) and the inverse permutation.
//
// Every (batch, head) slice is independent and every value is computed by
// one task in a fixed order, so results are bit-identical for any thread
// count (and a batch of 2 equals two calls of batch 1):
//   k-means   assignment: one task per (slice, chunk of tokens); update: one
//             task per slice, sums in token order (double), then the mean.
//   select    one task per (batch, head, query cluster).
//   permute   one task per slice: a stable counting sort by cluster.
//   attend    the permuted slices are laid out one after another as a single
//             sequence of batch * heads * seq rows (batch 1, one head), so a
//             query block is one cluster of one slice and its SHARED list
//             names key blocks of its own (batch, kv head) slice only.
// Follows svg/kmeans_utils.py of svg-project/Sparse-VideoGen
// (batch_kmeans_Euclid, identify_dynamic_map) except: deterministic seeds
// (evenly spaced tokens instead of torch.randint), a fixed number of
// iterations (no tol early stop), fp32 centroids (SVG2 keeps them in the
// input dtype) and min_kept_fraction rounded up (SVG2: int(), down).
#include "../../src/Internal.h"
#include "../AttentionArgs.h"
#include "../SparseArgs.h"
#include "../ScratchCarver.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

namespace vsart {

/// Checks of vsart_semantic_args_t shared with vsart_cuda_semantic_attention
/// (kernels/cuda/SemanticAttention.cu). Without `pointers`, only sizes and
/// parameters are checked (scratch-size queries).
vsart_status_t checkSemanticArgs(const char *name,
                                 const vsart_semantic_args_t *args,
                                 bool pointers) {
  const std::string n(name);
  if (!args)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null args");
  const vsart_attention_args_t &a = args->attn;
  if (a.mask)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": masks are not supported");
  if (a.batch < 0 || a.num_heads < 0 || a.seq_q < 0 || a.head_dim < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": negative size");
  if (a.num_kv_heads <= 0 || a.num_heads % a.num_kv_heads != 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": num_heads must be a multiple of num_kv_heads");
  if (a.seq_q != a.seq_kv)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": seq_q (" + std::to_string(a.seq_q) +
                    ") must equal seq_kv (" + std::to_string(a.seq_kv) + ")");
  const int64_t S = a.seq_q;
  for (int64_t c : {args->num_q_clusters, args->num_kv_clusters})
    if (c < 1 || (S > 0 && c > S))
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  n + ": cluster counts (" +
                      std::to_string(args->num_q_clusters) + ", " +
                      std::to_string(args->num_kv_clusters) +
                      ") must be in [1, seq] (" + std::to_string(S) + ")");
  if (args->iterations_first < 1 || args->iterations_warm < 1)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": iterations_first and iterations_warm must be >= 1");
  if (!(args->top_p > 0.0f && args->top_p <= 1.0f))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": top_p (" + std::to_string(args->top_p) +
                    ") must be in (0, 1]");
  if (!(args->min_kept_fraction >= 0.0f && args->min_kept_fraction <= 1.0f))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": min_kept_fraction must be in [0, 1]");
  if (!pointers)
    return VSART_OK;
  const bool empty = a.batch * a.num_heads * S * a.head_dim == 0;
  if (!empty && (!a.q || !a.k || !a.v || !a.out))
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null pointer");
  if (!empty && (!args->state || !args->state->q_centroids ||
                 !args->state->k_centroids))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": null state or centroids");
  return VSART_OK;
}

/// Key clusters kept per query cluster at least: max(1, ceil(fraction * n)).
int64_t semanticMinKept(float fraction, int64_t numKv) {
  // 1e-4 absorbs the rounding of fraction (0.1f * 20 -> 2, not 3).
  const int64_t k = int64_t(std::ceil(double(fraction) * double(numKv) - 1e-4));
  return std::min(numKv, std::max<int64_t>(1, k));
}

} // namespace vsart

namespace {

/// The scratch of the CPU kernel, carved in order.
struct Scratch {
  float *qp, *kp, *vp, *op;       // permuted q, k, v, out
  int32_t *qlab, *klab;           // cluster of each token
  int32_t *qperm, *kperm;         // original token at each permuted row
  int64_t *qcnt, *kcnt;           // cluster sizes
  int64_t *qoff, *kvoff;          // block offsets (rows of the one sequence)
  int64_t *listOff;               // CSR over query blocks
  int32_t *lists;                 // kept key blocks
  size_t bytes;

  Scratch(const vsart_semantic_args_t &s, char *base) {
    const vsart_attention_args_t &a = s.attn;
    const size_t BH = size_t(a.batch * a.num_heads),
                 BHkv = size_t(a.batch * a.num_kv_heads);
    const size_t S = size_t(a.seq_q), D = size_t(a.head_dim);
    const size_t Cq = size_t(s.num_q_clusters),
                 Ckv = size_t(s.num_kv_clusters);
    vsart::ScratchCarver carver(base);
    auto take = [&](auto *&p, size_t count) { carver.take(p, count); };
    take(qp, BH * S * D), take(kp, BHkv * S * D), take(vp, BHkv * S * D);
    take(op, BH * S * D);
    take(qlab, BH * S), take(klab, BHkv * S);
    take(qperm, BH * S), take(kperm, BHkv * S);
    take(qcnt, BH * Cq), take(kcnt, BHkv * Ckv);
    take(qoff, BH * Cq + 1), take(kvoff, BHkv * Ckv + 1);
    take(listOff, BH * Cq + 1), take(lists, BH * Cq * Ckv);
    bytes = carver.bytes();
  }
};

/// One tensor to cluster: x (batch, heads, seq, d) with strides, its
/// centroids and the outputs.
struct Points {
  const float *x;
  const int64_t *strides;
  int64_t heads, clusters;
  float *centroids; // (batch * heads, clusters, d)
  int32_t *labels;  // (batch * heads, seq)
  int64_t *counts;  // (batch * heads, clusters)
};

const float *rowOf(const Points &p, int64_t bh, int64_t s) {
  const int64_t b = bh / p.heads, h = bh % p.heads;
  return p.x + b * p.strides[0] + h * p.strides[1] + s * p.strides[2];
}

/// k-means over every slice of p: seeds when `seed`, then `iters`
/// iterations; the labels and counts of the last assignment remain.
void kmeans(const Points &p, int64_t slices, int64_t S, int64_t D, bool seed,
            int64_t iters) {
  const int64_t C = p.clusters;
  if (seed)
    vsart::parallelFor(slices, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t bh = t0; bh < t1; ++bh)
        for (int64_t c = 0; c < C; ++c)
          std::memcpy(p.centroids + (bh * C + c) * D, rowOf(p, bh, c * S / C),
                      size_t(D) * sizeof(float));
    });
  constexpr int64_t kChunk = 256;
  const int64_t chunks = (S + kChunk - 1) / kChunk;
  std::vector<float> norms(size_t(slices * C));
  for (int64_t it = 0; it < iters; ++it) {
    for (int64_t bh = 0; bh < slices; ++bh)
      for (int64_t c = 0; c < C; ++c) {
        const float *cc = p.centroids + (bh * C + c) * D;
        float nn = 0.0f;
        for (int64_t d = 0; d < D; ++d)
          nn += cc[d] * cc[d];
        norms[size_t(bh * C + c)] = nn;
      }
    // Assignment: nearest centroid by |c|^2 - 2 x.c, lower index on ties.
    vsart::parallelFor(slices * chunks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t bh = t / chunks, s0 = t % chunks * kChunk;
        const int64_t s1 = std::min(S, s0 + kChunk);
        for (int64_t s = s0; s < s1; ++s) {
          const float *x = rowOf(p, bh, s);
          float best = INFINITY;
          int32_t bestC = 0;
          for (int64_t c = 0; c < C; ++c) {
            const float *cc = p.centroids + (bh * C + c) * D;
            float dot = 0.0f;
            for (int64_t d = 0; d < D; ++d)
              dot += x[d] * cc[d];
            const float dist = norms[size_t(bh * C + c)] - 2.0f * dot;
            if (dist < best)
              best = dist, bestC = int32_t(c);
          }
          p.labels[bh * S + s] = bestC;
        }
      }
    });
    // Update: means in token order; empty clusters keep their centroid.
    vsart::parallelFor(slices, 1, [&](int64_t t0, int64_t t1) {
      std::vector<double> sums(static_cast<size_t>(C * D));
      for (int64_t bh = t0; bh < t1; ++bh) {
        std::fill(sums.begin(), sums.end(), 0.0);
        int64_t *cnt = p.counts + bh * C;
        std::fill(cnt, cnt + C, 0);
        for (int64_t s = 0; s < S; ++s) {
          const int32_t c = p.labels[bh * S + s];
          const float *x = rowOf(p, bh, s);
          double *sum = sums.data() + c * D;
          for (int64_t d = 0; d < D; ++d)
            sum[d] += x[d];
          ++cnt[c];
        }
        for (int64_t c = 0; c < C; ++c) {
          if (cnt[c] == 0)
            continue;
          float *cc = p.centroids + (bh * C + c) * D;
          for (int64_t d = 0; d < D; ++d)
            cc[d] = float(sums[size_t(c * D + d)] / double(cnt[c]));
        }
      }
    });
  }
}

/// Stable counting sort of every slice by label: perm[bh * S + row] = token,
/// the rows copied into xp, and offsets[bh * C + c] = bh * S + first row of
/// cluster c (offsets[slices * C] = slices * S).
void permute(const Points &p, int64_t slices, int64_t S, int64_t D,
             int32_t *perm, float *xp, const float *v, const int64_t *vStrides,
             float *vp, int64_t *offsets) {
  const int64_t C = p.clusters;
  vsart::parallelFor(slices, 1, [&](int64_t t0, int64_t t1) {
    std::vector<int64_t> next(static_cast<size_t>(C));
    for (int64_t bh = t0; bh < t1; ++bh) {
      int64_t at = 0;
      for (int64_t c = 0; c < C; ++c) {
        next[size_t(c)] = at;
        offsets[bh * C + c] = bh * S + at;
        at += p.counts[bh * C + c];
      }
      const int64_t b = bh / p.heads, h = bh % p.heads;
      for (int64_t s = 0; s < S; ++s) {
        const int64_t row = next[size_t(p.labels[bh * S + s])]++;
        perm[bh * S + row] = int32_t(s);
        std::memcpy(xp + (bh * S + row) * D, rowOf(p, bh, s),
                    size_t(D) * sizeof(float));
        if (v)
          std::memcpy(vp + (bh * S + row) * D,
                      v + b * vStrides[0] + h * vStrides[1] + s * vStrides[2],
                      size_t(D) * sizeof(float));
      }
    }
  });
  offsets[slices * C] = slices * S;
}

/// Descending probability, then lower index (NaN last).
bool ranksBefore(const float *pr, int32_t i, int32_t j) {
  const bool ni = std::isnan(pr[i]), nj = std::isnan(pr[j]);
  if (ni != nj)
    return nj;
  if (!ni && pr[i] != pr[j])
    return pr[i] > pr[j];
  return i < j;
}

/// Key clusters kept by every query cluster: lists[l * Ckv ..) ascending,
/// listOff[l] = how many, with l = (b * H + h) * Cq + i.
void selectClusters(const vsart_semantic_args_t &s, const Scratch &w) {
  const vsart_attention_args_t &a = s.attn;
  const int64_t H = a.num_heads, Hkv = a.num_kv_heads, group = H / Hkv;
  const int64_t Cq = s.num_q_clusters, Ckv = s.num_kv_clusters,
                D = a.head_dim;
  const int64_t minKept = vsart::semanticMinKept(s.min_kept_fraction, Ckv);
  const bool keepAll = s.top_p >= 1.0f;
  vsart::parallelFor(a.batch * H * Cq, 4, [&](int64_t t0, int64_t t1) {
    std::vector<float> pr(static_cast<size_t>(Ckv));
    std::vector<int32_t> order(static_cast<size_t>(Ckv));
    std::vector<uint8_t> kept(static_cast<size_t>(Ckv));
    for (int64_t l = t0; l < t1; ++l) {
      const int64_t h = (l / Cq) % H, b = l / Cq / H;
      const int64_t bg = b * Hkv + h / group;
      const float *qc = s.state->q_centroids + l * D;
      const float *kc = s.state->k_centroids + bg * Ckv * D;
      const int64_t *n = w.kcnt + bg * Ckv;
      float m = -INFINITY;
      for (int64_t j = 0; j < Ckv; ++j) {
        float dot = 0.0f;
        for (int64_t d = 0; d < D; ++d)
          dot += qc[d] * kc[j * D + d];
        pr[size_t(j)] = a.scale * dot;
        m = std::max(m, pr[size_t(j)]);
      }
      float sum = 0.0f;
      for (int64_t j = 0; j < Ckv; ++j) {
        pr[size_t(j)] = float(n[j]) * std::exp(pr[size_t(j)] - m);
        sum += pr[size_t(j)];
      }
      for (float &x : pr)
        x = sum > 0.0f ? x / sum : 0.0f;
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int32_t x, int32_t y) {
        return ranksBefore(pr.data(), x, y);
      });
      std::fill(kept.begin(), kept.end(), uint8_t(0));
      float before = 0.0f; // cumulative p of the clusters ranked higher
      for (int64_t r = 0; r < Ckv; ++r) {
        const int32_t j = order[size_t(r)];
        if (keepAll || r < minKept || before <= s.top_p)
          kept[size_t(j)] = 1;
        before += pr[size_t(j)];
      }
      int64_t count = 0;
      for (int64_t j = 0; j < Ckv; ++j)
        if (kept[size_t(j)])
          w.lists[l * Ckv + count++] = int32_t(bg * Ckv + j);
      w.listOff[l] = count;
      if (s.block_map)
        std::copy(kept.begin(), kept.end(), s.block_map + l * Ckv);
    }
  });
  // Compact the lists to CSR (entries only move down).
  const int64_t L = a.batch * H * Cq;
  int64_t at = 0;
  for (int64_t l = 0; l < L; ++l) {
    const int64_t count = w.listOff[l];
    std::memmove(w.lists + at, w.lists + l * Ckv, size_t(count) * 4);
    w.listOff[l] = at;
    at += count;
  }
  w.listOff[L] = at;
}

} // namespace

extern "C" vsart_status_t
vsart_cpu_semantic_scratch_bytes(const vsart_semantic_args_t *args,
                                 size_t *bytes) {
  if (vsart_status_t st =
          vsart::checkSemanticArgs("semantic_scratch_bytes", args, false))
    return st;
  if (!bytes)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "semantic_scratch_bytes: null result");
  *bytes = Scratch(*args, nullptr).bytes;
  return vsart::ok();
}

extern "C" vsart_status_t
vsart_cpu_semantic_attention(const vsart_semantic_args_t *args) {
  using vsart::fail;
  if (vsart_status_t st =
          vsart::checkSemanticArgs("semantic_attention", args, true))
    return st;
  const vsart_attention_args_t &a = args->attn;
  const int64_t B = a.batch, H = a.num_heads, Hkv = a.num_kv_heads;
  const int64_t S = a.seq_q, D = a.head_dim;
  if (B * H * S * D == 0)
    return vsart::ok();
  const size_t need = Scratch(*args, nullptr).bytes;
  if (!args->scratch || args->scratch_bytes < need)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "semantic_attention: scratch of " +
                    std::to_string(args->scratch_bytes) + " bytes, " +
                    std::to_string(need) + " needed");
  const Scratch w(*args, static_cast<char *>(args->scratch));
  vsart_semantic_state_t &state = *args->state;
  const bool seed = state.initialized == 0;
  const int64_t iters = seed ? args->iterations_first : args->iterations_warm;

  const Points qp = {static_cast<const float *>(a.q), a.q_strides, H,
                     args->num_q_clusters, state.q_centroids, w.qlab, w.qcnt};
  const Points kp = {static_cast<const float *>(a.k), a.k_strides, Hkv,
                     args->num_kv_clusters, state.k_centroids, w.klab, w.kcnt};
  kmeans(qp, B * H, S, D, seed, iters);
  kmeans(kp, B * Hkv, S, D, seed, iters);
  state.initialized = 1;
  if (args->q_labels)
    std::copy(w.qlab, w.qlab + B * H * S, args->q_labels);
  if (args->k_labels)
    std::copy(w.klab, w.klab + B * Hkv * S, args->k_labels);

  selectClusters(*args, w);
  permute(qp, B * H, S, D, w.qperm, w.qp, nullptr, nullptr, nullptr, w.qoff);
  permute(kp, B * Hkv, S, D, w.kperm, w.kp, static_cast<const float *>(a.v),
          a.v_strides, w.vp, w.kvoff);

  // The permuted slices as one sequence: batch 1, one head.
  vsart_block_sparse_args_t bs =
      vsart::slicesAsOneSequence(a, w.qp, w.kp, w.vp, w.op);
  bs.num_q_blocks = B * H * args->num_q_clusters, bs.q_block_offsets = w.qoff;
  bs.num_kv_blocks = B * Hkv * args->num_kv_clusters;
  bs.kv_block_offsets = w.kvoff;
  bs.list_offsets = w.listOff, bs.lists = w.lists;
  if (vsart_status_t st = vsart_cpu_block_sparse_attention(&bs))
    return st;

  // Inverse permutation into the caller's layout.
  float *out = static_cast<float *>(a.out);
  vsart::parallelFor(B * H, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t bh = t0; bh < t1; ++bh) {
      float *base = out + bh / H * a.out_strides[0] + bh % H * a.out_strides[1];
      for (int64_t row = 0; row < S; ++row)
        std::memcpy(base + int64_t(w.qperm[bh * S + row]) * a.out_strides[2],
                    w.op + (bh * S + row) * D, size_t(D) * sizeof(float));
    }
  });
  return vsart::ok();
}

// Video Sparse Attention (VSA) coarse stage on the CPU (fp32): tile pooling,
// pooled scores, per-query-tile top-k key tiles and the coarse output.
//
// Two parallel passes, each output computed by one task in a fixed order so
// the results are bit-identical for any thread count:
//   1. pool: one task per (batch, head) of q and per (batch, kv head) of k
//      and v; mean of each tile's rows (fp32 sum in row order / count) into
//      (batch, heads, num_tiles, head_dim) scratch.
//   2. select: one task per (batch, head, query tile): the score row against
//      every key tile, the top_k (score descending, lower tile index first
//      on equal scores, NaN last) sorted ascending into its list, then the
//      softmax-weighted sum of pooled v broadcast to the tile's rows.
// FastVideo (fastvideo-kernel/python/fastvideo_kernel/ops.py) rounds the
// pooled vectors and scores to bf16 before selecting; we keep them in fp32.
#include "../../src/Internal.h"
#include "../AttentionArgs.h"
#include "../SparseArgs.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

namespace vsart {

/// Checks of vsart_vsa_select_args_t shared with vsart_cuda_vsa_select
/// (kernels/cuda/VsaSelect.cu). With `hostOffsets`, tile_offsets is read
/// (from 0 to seq, every tile non-empty); device offsets are not.
vsart_status_t checkVsaSelectArgs(const char *name,
                                  const vsart_vsa_select_args_t *args,
                                  bool hostOffsets) {
  const std::string n(name);
  if (!args)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null args");
  const vsart_attention_args_t &a = args->attn;
  if (a.mask)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": masks are not supported");
  // The coarse output is optional: check the rest as attention arguments.
  vsart_attention_args_t withOut = a;
  if (!withOut.out)
    withOut.out = const_cast<void *>(a.q);
  int64_t maskStrides[4];
  bool empty = false;
  if (vsart_status_t st =
          checkAttentionArgs(name, &withOut, maskStrides, &empty))
    return st;
  if (a.seq_q != a.seq_kv)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": seq_q (" + std::to_string(a.seq_q) +
                    ") must equal seq_kv (" + std::to_string(a.seq_kv) + ")");
  if (args->num_tiles < 1 || args->num_tiles > a.seq_q)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": num_tiles (" + std::to_string(args->num_tiles) +
                    ") must be in [1, seq] (" + std::to_string(a.seq_q) + ")");
  if (args->top_k < 1 || args->top_k > args->num_tiles)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": top_k (" + std::to_string(args->top_k) +
                    ") must be in [1, num_tiles] (" +
                    std::to_string(args->num_tiles) + ")");
  if (!a.q || !a.k || !a.v || !args->tile_offsets || !args->list_offsets ||
      !args->lists)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null pointer");
  if (!hostOffsets)
    return VSART_OK;
  const int64_t *off = args->tile_offsets;
  if (off[0] != 0 || off[args->num_tiles] != a.seq_q)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": tile offsets must run from 0 to seq (" +
                    std::to_string(a.seq_q) + ")");
  for (int64_t t = 0; t < args->num_tiles; ++t)
    if (off[t + 1] <= off[t])
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  n + ": tile " + std::to_string(t) +
                      " is empty or its offsets decrease");
  return VSART_OK;
}

} // namespace vsart

namespace {

/// Pooled tiles of one tensor: (batch, heads, num_tiles, head_dim).
struct Pooled {
  std::vector<float> data;
  int64_t heads = 0, tiles = 0, dim = 0;
  const float *at(int64_t b, int64_t h, int64_t t) const {
    return data.data() + ((b * heads + h) * tiles + t) * dim;
  }
};

/// Mean of every tile's rows of x (strided like the attention args) for each
/// (batch, head), one task per (batch, head).
void poolTiles(const float *x, const int64_t strides[3], int64_t batch,
               int64_t heads, const vsart_vsa_select_args_t &s, Pooled &p) {
  const int64_t T = s.num_tiles, D = s.attn.head_dim;
  p.heads = heads, p.tiles = T, p.dim = D;
  p.data.assign(size_t(batch * heads * T * D), 0.0f);
  vsart::parallelFor(batch * heads, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t bh = t0; bh < t1; ++bh) {
      const int64_t b = bh / heads, h = bh % heads;
      const float *base = x + b * strides[0] + h * strides[1];
      for (int64_t t = 0; t < T; ++t) {
        float *dst = p.data.data() + (bh * T + t) * D;
        const int64_t r0 = s.tile_offsets[t], r1 = s.tile_offsets[t + 1];
        for (int64_t r = r0; r < r1; ++r) {
          const float *row = base + r * strides[2];
          for (int64_t d = 0; d < D; ++d)
            dst[d] += row[d];
        }
        const float count = float(r1 - r0);
        for (int64_t d = 0; d < D; ++d)
          dst[d] /= count;
      }
    }
  });
}

/// Score order of the selection: higher first, NaN last, then lower index.
bool ranksBefore(const float *s, int32_t i, int32_t j) {
  const bool ni = std::isnan(s[i]), nj = std::isnan(s[j]);
  if (ni != nj)
    return nj;
  if (!ni && s[i] != s[j])
    return s[i] > s[j];
  return i < j;
}

void selectTiles(const vsart_vsa_select_args_t &s, const Pooled &pq,
                 const Pooled &pk, const Pooled &pv) {
  const vsart_attention_args_t &a = s.attn;
  const int64_t T = s.num_tiles, D = a.head_dim, H = a.num_heads;
  const int64_t group = H / a.num_kv_heads, K = s.top_k;
  float *out = static_cast<float *>(a.out);
  vsart::parallelFor(a.batch * H * T, 4, [&](int64_t t0, int64_t t1) {
    std::vector<float> score(static_cast<size_t>(T)),
        coarse(static_cast<size_t>(D));
    std::vector<int32_t> order(static_cast<size_t>(T));
    for (int64_t l = t0; l < t1; ++l) {
      const int64_t i = l % T, h = (l / T) % H, b = l / T / H, g = h / group;
      const float *qi = pq.at(b, h, i);
      for (int64_t j = 0; j < T; ++j) {
        const float *kj = pk.at(b, g, j);
        float dot = 0.0f;
        for (int64_t d = 0; d < D; ++d)
          dot += qi[d] * kj[d];
        score[size_t(j)] = a.scale * dot;
      }
      // Top-k under a strict total order, then ascending tile order.
      std::iota(order.begin(), order.end(), 0);
      auto before = [&](int32_t x, int32_t y) {
        return ranksBefore(score.data(), x, y);
      };
      if (K < T)
        std::nth_element(order.begin(), order.begin() + (K - 1), order.end(),
                         before);
      std::sort(order.begin(), order.begin() + K);
      std::copy(order.begin(), order.begin() + K, s.lists + l * K);
      s.list_offsets[l] = l * K;
      if (!out)
        continue;
      float m = -INFINITY;
      for (float x : score)
        m = std::max(m, x);
      std::fill(coarse.begin(), coarse.end(), 0.0f);
      float sum = 0.0f;
      for (int64_t j = 0; j < T; ++j) {
        const float p = m == -INFINITY ? 0.0f : std::exp(score[size_t(j)] - m);
        sum += p;
        const float *vj = pv.at(b, g, j);
        for (int64_t d = 0; d < D; ++d)
          coarse[size_t(d)] += p * vj[d];
      }
      const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
      for (float &x : coarse)
        x *= inv;
      float *oh = out + b * a.out_strides[0] + h * a.out_strides[1];
      for (int64_t r = s.tile_offsets[i]; r < s.tile_offsets[i + 1]; ++r)
        std::copy(coarse.begin(), coarse.end(), oh + r * a.out_strides[2]);
    }
  });
}

} // namespace

extern "C" vsart_status_t
vsart_cpu_vsa_select(const vsart_vsa_select_args_t *args) {
  if (vsart_status_t st = vsart::checkVsaSelectArgs("vsa_select", args, true))
    return st;
  const vsart_attention_args_t &a = args->attn;
  const int64_t lists = a.batch * a.num_heads * args->num_tiles;
  args->list_offsets[lists] = lists * args->top_k;
  if (lists == 0)
    return vsart::ok();
  Pooled pq, pk, pv;
  poolTiles(static_cast<const float *>(a.q), a.q_strides, a.batch, a.num_heads,
            *args, pq);
  poolTiles(static_cast<const float *>(a.k), a.k_strides, a.batch,
            a.num_kv_heads, *args, pk);
  poolTiles(static_cast<const float *>(a.v), a.v_strides, a.batch,
            a.num_kv_heads, *args, pv);
  selectTiles(*args, pq, pk, pv);
  return vsart::ok();
}

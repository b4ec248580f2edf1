// Video Sparse Attention (VSA) coarse stage on the CPU (fp32): tile pooling,
// pooled scores, per-query-tile top-k key tiles and the coarse output.
//
// Two parallel passes, each output computed by one task in a fixed order so
// the results are bit-identical for any thread count:
//   1. pool: one task per (batch, head) of q and per (batch, kv head) of k
//      and v; mean of each tile's rows (fp32 sum in row order / count) into
//      (batch, heads, num_tiles, head_dim rounded up to 4) scratch
//      (vsart::cpu::poolTiles, which vsart_cpu_norm_rope's `pooled` shares:
//      given pooled_q and pooled_k, q and k are not pooled again; v only
//      for the coarse output).
//   2. select: one task per (batch, head, query tile): the score row against
//      every key tile, the top_k (score descending, lower tile index first
//      on equal scores, NaN last) sorted ascending into its list, then the
//      softmax-weighted sum of pooled v broadcast to the tile's rows.
// FastVideo (fastvideo-kernel/python/fastvideo_kernel/ops.py) rounds the
// pooled vectors and scores to bf16 before selecting; we keep them in fp32.
#include "../../src/Internal.h"
#include "../AttentionArgs.h"
#include "../SparseArgs.h"
#include "VsaPool.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

namespace vsart {

vsart_status_t checkTiles(const char *name, int64_t tiles,
                          const int64_t *offsets, int64_t seq,
                          bool hostOffsets) {
  const std::string n(name);
  if (tiles < 1 || tiles > seq)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": num_tiles (" + std::to_string(tiles) +
                    ") must be in [1, seq] (" + std::to_string(seq) + ")");
  if (!offsets)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null tile_offsets");
  if (!hostOffsets)
    return VSART_OK;
  if (offsets[0] != 0 || offsets[tiles] != seq)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": tile offsets must run from 0 to seq (" +
                    std::to_string(seq) + ")");
  for (int64_t t = 0; t < tiles; ++t)
    if (offsets[t + 1] <= offsets[t])
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  n + ": tile " + std::to_string(t) +
                      " is empty or its offsets decrease");
  return VSART_OK;
}

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
  if (!args->pooled_q != !args->pooled_k)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": pooled_q and pooled_k go together");
  // The rest as attention arguments over what the call reads: the pooled q
  // and k when given (attn.q and attn.k may be null then); no output needed.
  vsart_attention_args_t read = a;
  if (args->pooled_q)
    read.q = args->pooled_q, read.k = args->pooled_k;
  if (!read.out)
    read.out = const_cast<void *>(read.q);
  int64_t maskStrides[4];
  bool empty = false;
  if (vsart_status_t st = checkAttentionArgs(name, &read, maskStrides, &empty))
    return st;
  if (a.seq_q != a.seq_kv)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": seq_q (" + std::to_string(a.seq_q) +
                    ") must equal seq_kv (" + std::to_string(a.seq_kv) + ")");
  if (vsart_status_t st = checkTiles(name, args->num_tiles,
                                     args->tile_offsets, a.seq_q, hostOffsets))
    return st;
  if (args->top_k < 1 || args->top_k > args->num_tiles)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": top_k (" + std::to_string(args->top_k) +
                    ") must be in [1, num_tiles] (" +
                    std::to_string(args->num_tiles) + ")");
  if (!read.q || !read.k || !a.v || !args->list_offsets || !args->lists)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null pointer");
  return VSART_OK;
}

void cpu::poolTiles(const float *x, const int64_t strides[3], int64_t batch,
                    int64_t heads, int64_t headDim, const int64_t *offsets,
                    int64_t tiles, float *pooled) {
  const int64_t D = headDim, Dp = pooledDim(headDim);
  parallelFor(batch * heads, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t bh = t0; bh < t1; ++bh) {
      const int64_t b = bh / heads, h = bh % heads;
      const float *base = x + b * strides[0] + h * strides[1];
      for (int64_t t = 0; t < tiles; ++t) {
        float *dst = pooled + (bh * tiles + t) * Dp;
        std::fill(dst, dst + Dp, 0.0f);
        const int64_t r0 = offsets[t], r1 = offsets[t + 1];
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

} // namespace vsart

namespace {

/// Pooled tiles of one tensor, (batch, heads, num_tiles, stride) floats:
/// pooled here (into `own`) or the caller's.
struct Pooled {
  std::vector<float> own;
  const float *data = nullptr;
  int64_t heads = 0, tiles = 0, stride = 0;
  const float *at(int64_t b, int64_t h, int64_t t) const {
    return data + ((b * heads + h) * tiles + t) * stride;
  }
};

/// p = `given` when not null, else the tile means of x (strided like the
/// attention args, `heads` heads).
void poolOrTake(const vsart_vsa_select_args_t &s, const void *x,
                const int64_t strides[3], int64_t heads, const float *given,
                Pooled &p) {
  const vsart_attention_args_t &a = s.attn;
  p.heads = heads, p.tiles = s.num_tiles;
  p.stride = vsart::pooledDim(a.head_dim);
  if (!given) {
    p.own.resize(size_t(a.batch * heads * p.tiles * p.stride));
    vsart::cpu::poolTiles(static_cast<const float *>(x), strides, a.batch,
                          heads, a.head_dim, s.tile_offsets, s.num_tiles,
                          p.own.data());
    given = p.own.data();
  }
  p.data = given;
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
  poolOrTake(*args, a.q, a.q_strides, a.num_heads, args->pooled_q, pq);
  poolOrTake(*args, a.k, a.k_strides, a.num_kv_heads, args->pooled_k, pk);
  if (a.out) // only the coarse output reads pooled v
    poolOrTake(*args, a.v, a.v_strides, a.num_kv_heads, nullptr, pv);
  selectTiles(*args, pq, pk, pv);
  return vsart::ok();
}

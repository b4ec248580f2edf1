// vsart_cpu_vsa_select (the VSA coarse stage) against a naive reference, and
// its lists fed to vsart_cpu_block_sparse_attention.
#include "TestUtil.h"
#include "vsart.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace {

using vsart_test::randomVec;

enum Layout { BHSD, BSHD };

/// Strides of a (b, heads, seq, d) tensor stored in `layout`.
void stridesOf(Layout layout, int64_t heads, int64_t S, int64_t D,
               int64_t st[3]) {
  if (layout == BHSD)
    st[0] = heads * S * D, st[1] = S * D, st[2] = D;
  else
    st[0] = S * heads * D, st[1] = D, st[2] = heads * D;
}

/// Uneven tiles: padded tiles hold fewer tokens, down to one.
const std::vector<int64_t> kTiles = {0, 64, 128, 165, 166};

/// q, k, v of one problem; values are indexed logically (b, head, s, d) and
/// stored in `layout`.
struct Problem {
  int64_t B = 2, H = 4, Hkv = 2, D = 16;
  std::vector<int64_t> tiles = kTiles;
  Layout layout = BHSD;
  std::vector<float> q, k, v;
  int64_t S() const { return tiles.back(); }
  int64_t T() const { return int64_t(tiles.size()) - 1; }

  void fill(uint32_t seed) {
    q = randomVec(size_t(B * H * S() * D), seed);
    k = randomVec(size_t(B * Hkv * S() * D), seed + 1);
    v = randomVec(size_t(B * Hkv * S() * D), seed + 2);
  }
  size_t index(int64_t heads, int64_t b, int64_t h, int64_t s,
               int64_t d) const {
    int64_t st[3];
    stridesOf(layout, heads, S(), D, st);
    return size_t(b * st[0] + h * st[1] + s * st[2] + d);
  }
  vsart_attention_args_t attn(void *out) const {
    vsart_attention_args_t a = {};
    a.q = q.data(), a.k = k.data(), a.v = v.data(), a.out = out;
    a.batch = B, a.num_heads = H, a.num_kv_heads = Hkv;
    a.seq_q = a.seq_kv = S(), a.head_dim = D;
    stridesOf(layout, H, S(), D, a.q_strides);
    stridesOf(layout, H, S(), D, a.out_strides);
    stridesOf(layout, Hkv, S(), D, a.k_strides);
    stridesOf(layout, Hkv, S(), D, a.v_strides);
    a.scale = 1.0f / std::sqrt(float(D));
    return a;
  }
};

/// Outputs of one vsa_select call.
struct Result {
  std::vector<int64_t> listOffsets;
  std::vector<int32_t> lists;
  std::vector<float> out; // empty when no coarse output was asked for
};

vsart_vsa_select_args_t selectArgs(const Problem &p, int64_t topK, Result &r,
                                   bool withOut = true) {
  const int64_t L = p.B * p.H * p.T();
  r.listOffsets.assign(size_t(L + 1), -1);
  r.lists.assign(size_t(L * topK), -1);
  r.out.assign(withOut ? p.q.size() : 0, NAN); // unwritten rows show
  vsart_vsa_select_args_t s = {};
  s.attn = p.attn(withOut ? r.out.data() : nullptr);
  s.num_tiles = p.T(), s.tile_offsets = p.tiles.data(), s.top_k = topK;
  s.list_offsets = r.listOffsets.data(), s.lists = r.lists.data();
  return s;
}

Result run(const Problem &p, int64_t topK, bool withOut = true) {
  Result r;
  auto s = selectArgs(p, topK, r, withOut);
  EXPECT_EQ(vsart_cpu_vsa_select(&s), VSART_OK) << vsart_last_error();
  return r;
}

/// The spec written out naively: pool, score, stable sort, softmax.
Result reference(const Problem &p, int64_t topK) {
  const int64_t T = p.T(), D = p.D;
  const float scale = 1.0f / std::sqrt(float(D));
  auto pool = [&](const std::vector<float> &x, int64_t heads, int64_t b,
                  int64_t h) {
    std::vector<float> m(size_t(T * D), 0.0f);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t s = p.tiles[t]; s < p.tiles[t + 1]; ++s)
        for (int64_t d = 0; d < D; ++d)
          m[size_t(t * D + d)] += x[p.index(heads, b, h, s, d)];
      for (int64_t d = 0; d < D; ++d)
        m[size_t(t * D + d)] /= float(p.tiles[t + 1] - p.tiles[t]);
    }
    return m;
  };
  Result r;
  r.out.assign(p.q.size(), NAN);
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t h = 0; h < p.H; ++h) {
      const int64_t g = h / (p.H / p.Hkv);
      const auto pq = pool(p.q, p.H, b, h), pk = pool(p.k, p.Hkv, b, g),
                 pv = pool(p.v, p.Hkv, b, g);
      for (int64_t i = 0; i < T; ++i) {
        std::vector<float> s(static_cast<size_t>(T));
        for (int64_t j = 0; j < T; ++j) {
          float dot = 0.0f;
          for (int64_t d = 0; d < D; ++d)
            dot += pq[size_t(i * D + d)] * pk[size_t(j * D + d)];
          s[size_t(j)] = scale * dot;
        }
        std::vector<int32_t> idx(static_cast<size_t>(T));
        std::iota(idx.begin(), idx.end(), 0);
        std::stable_sort(idx.begin(), idx.end(),
                         [&](int32_t x, int32_t y) { return s[x] > s[y]; });
        idx.resize(size_t(topK));
        std::sort(idx.begin(), idx.end());
        r.listOffsets.push_back(int64_t(r.lists.size()));
        r.lists.insert(r.lists.end(), idx.begin(), idx.end());
        const float m = *std::max_element(s.begin(), s.end());
        double sum = 0;
        std::vector<double> o(size_t(D), 0.0);
        for (int64_t j = 0; j < T; ++j) {
          const double e = std::exp(double(s[size_t(j)]) - m);
          sum += e;
          for (int64_t d = 0; d < D; ++d)
            o[size_t(d)] += e * pv[size_t(j * D + d)];
        }
        for (int64_t row = p.tiles[i]; row < p.tiles[i + 1]; ++row)
          for (int64_t d = 0; d < D; ++d)
            r.out[p.index(p.H, b, h, row, d)] = float(o[size_t(d)] / sum);
      }
    }
  r.listOffsets.push_back(int64_t(r.lists.size()));
  return r;
}

void expectClose(const std::vector<float> &got, const std::vector<float> &ref) {
  ASSERT_EQ(got.size(), ref.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], ref[i], 1e-5f) << "at " << i;
}

class VsaSelectLayout : public testing::TestWithParam<Layout> {};

TEST_P(VsaSelectLayout, MatchesNaiveReference) {
  Problem p;
  p.layout = GetParam();
  p.fill(1);
  for (int64_t topK : {int64_t(1), int64_t(2), p.T()}) {
    SCOPED_TRACE("top_k " + std::to_string(topK));
    const Result got = run(p, topK), ref = reference(p, topK);
    EXPECT_EQ(got.listOffsets, ref.listOffsets);
    EXPECT_EQ(got.lists, ref.lists);
    expectClose(got.out, ref.out);
  }
}

INSTANTIATE_TEST_SUITE_P(, VsaSelectLayout, testing::Values(BHSD, BSHD),
                         [](const testing::TestParamInfo<Layout> &info) {
                           return std::string(info.param == BHSD ? "bhsd"
                                                                 : "bshd");
                         });

TEST(VsaSelect, LayoutsGiveTheSameBits) {
  Problem a, b;
  a.fill(2);
  b.layout = BSHD;
  b.q.resize(a.q.size()), b.k.resize(a.k.size()), b.v.resize(a.v.size());
  for (int64_t bi = 0; bi < a.B; ++bi)
    for (int64_t s = 0; s < a.S(); ++s)
      for (int64_t d = 0; d < a.D; ++d) {
        for (int64_t h = 0; h < a.H; ++h)
          b.q[b.index(a.H, bi, h, s, d)] = a.q[a.index(a.H, bi, h, s, d)];
        for (int64_t h = 0; h < a.Hkv; ++h) {
          b.k[b.index(a.Hkv, bi, h, s, d)] = a.k[a.index(a.Hkv, bi, h, s, d)];
          b.v[b.index(a.Hkv, bi, h, s, d)] = a.v[a.index(a.Hkv, bi, h, s, d)];
        }
      }
  const Result ra = run(a, 2), rb = run(b, 2);
  EXPECT_EQ(ra.lists, rb.lists);
  for (int64_t bi = 0; bi < a.B; ++bi)
    for (int64_t h = 0; h < a.H; ++h)
      for (int64_t s = 0; s < a.S(); ++s)
        for (int64_t d = 0; d < a.D; ++d)
          ASSERT_EQ(ra.out[a.index(a.H, bi, h, s, d)],
                    rb.out[b.index(a.H, bi, h, s, d)]);
}

TEST(VsaSelect, TopKOfAllTilesListsEveryTile) {
  Problem p;
  p.fill(3);
  const Result r = run(p, p.T());
  for (int64_t l = 0; l < p.B * p.H * p.T(); ++l) {
    EXPECT_EQ(r.listOffsets[size_t(l)], l * p.T());
    for (int64_t e = 0; e < p.T(); ++e)
      EXPECT_EQ(r.lists[size_t(l * p.T() + e)], e);
  }
  EXPECT_EQ(r.listOffsets.back(), p.B * p.H * p.T() * p.T());
}

TEST(VsaSelect, TopOneIsTheArgmax) {
  // Each query tile of head h points at key tile (i + 1 + h) % T: pooled q of
  // tile i is e_i, pooled k of tile j is e_{j - 1 - h} (mod T), scaled.
  Problem p;
  p.B = 1, p.H = 2, p.Hkv = 2, p.D = 4;
  p.fill(4);
  const int64_t T = p.T();
  for (int64_t h = 0; h < p.H; ++h)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t s = p.tiles[t]; s < p.tiles[t + 1]; ++s)
        for (int64_t d = 0; d < p.D; ++d) {
          p.q[p.index(p.H, 0, h, s, d)] = d == t ? 1.0f : 0.0f;
          p.k[p.index(p.Hkv, 0, h, s, d)] =
              d == (t - 1 - h + 2 * T) % T ? 2.0f : 0.0f;
        }
  const Result r = run(p, 1);
  for (int64_t h = 0; h < p.H; ++h)
    for (int64_t i = 0; i < T; ++i)
      EXPECT_EQ(r.lists[size_t(h * T + i)], (i + 1 + h) % T)
          << "head " << h << " tile " << i;
}

TEST(VsaSelect, TiesGoToTheLowerTile) {
  Problem p;
  p.B = 1, p.H = 1, p.Hkv = 1, p.D = 2;
  p.tiles = {0, 3, 5, 6, 9, 10, 12};
  p.fill(5);
  // Every query row is (1, 0); key tiles 1, 3 and 4 score 2, the rest 1.
  const int64_t T = p.T();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t s = p.tiles[t]; s < p.tiles[t + 1]; ++s) {
      p.q[size_t(s * 2)] = 1.0f, p.q[size_t(s * 2 + 1)] = 0.0f;
      p.k[size_t(s * 2)] = (t == 1 || t == 3 || t == 4) ? 2.0f : 1.0f;
      p.k[size_t(s * 2 + 1)] = 0.0f;
    }
  const std::vector<std::vector<int32_t>> want = {
      {1}, {1, 3}, {1, 3, 4}, {0, 1, 3, 4}, {0, 1, 2, 3, 4}};
  for (int64_t k = 1; k <= 5; ++k) {
    const Result r = run(p, k);
    for (int64_t i = 0; i < T; ++i)
      EXPECT_EQ(std::vector<int32_t>(r.lists.begin() + i * k,
                                     r.lists.begin() + (i + 1) * k),
                want[size_t(k - 1)])
          << "top_k " << k << " tile " << i;
  }
}

TEST(VsaSelect, CoarseOutputIsOptionalAndCoversEveryRow) {
  Problem p;
  p.fill(6);
  const Result with = run(p, 2), without = run(p, 2, false);
  EXPECT_EQ(with.lists, without.lists);
  EXPECT_EQ(with.listOffsets, without.listOffsets);
  for (float x : with.out)
    ASSERT_FALSE(std::isnan(x));
  // Rows of one tile share the coarse row.
  for (int64_t t = 0; t < p.T(); ++t)
    for (int64_t s = p.tiles[t]; s < p.tiles[t + 1]; ++s)
      for (int64_t d = 0; d < p.D; ++d)
        ASSERT_EQ(with.out[p.index(p.H, 1, 3, s, d)],
                  with.out[p.index(p.H, 1, 3, p.tiles[t], d)]);
}

TEST(VsaSelect, BitIdenticalAcrossThreadCounts) {
  Problem p;
  p.tiles = {0};
  for (int t = 0; t < 40; ++t)
    p.tiles.push_back(p.tiles.back() + 1 + (t * 7) % 9);
  p.fill(7);
  vsart_set_num_threads(1);
  const Result one = run(p, 5);
  vsart_set_num_threads(3);
  const Result three = run(p, 5);
  vsart_set_num_threads(8);
  const Result eight = run(p, 5);
  vsart_set_num_threads(0);
  EXPECT_EQ(one.lists, three.lists);
  EXPECT_EQ(one.lists, eight.lists);
  EXPECT_EQ(0, std::memcmp(one.out.data(), three.out.data(),
                           one.out.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(one.out.data(), eight.out.data(),
                           one.out.size() * sizeof(float)));
}

TEST(VsaSelect, AllTilesFeedBlockSparseAsDenseAttention) {
  Problem p;
  p.layout = BSHD;
  p.fill(8);
  Result sel = run(p, p.T(), false);
  std::vector<float> dense(p.q.size()), sparse(p.q.size(), NAN);
  auto a = p.attn(dense.data());
  ASSERT_EQ(vsart_cpu_attention_strided(&a), VSART_OK);
  vsart_block_sparse_args_t b = {};
  b.attn = p.attn(sparse.data());
  b.num_q_blocks = b.num_kv_blocks = p.T();
  b.q_block_offsets = b.kv_block_offsets = p.tiles.data();
  b.list_scope = VSART_LISTS_PER_BATCH_HEAD;
  b.list_offsets = sel.listOffsets.data(), b.lists = sel.lists.data();
  ASSERT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_OK)
      << vsart_last_error();
  expectClose(sparse, dense);
}

TEST(VsaSelect, SelectedTilesFeedBlockSparseAsMaskedAttention) {
  // top_k < num_tiles: block-sparse attention over the lists equals dense
  // attention with -inf on the key tiles not selected.
  Problem p;
  p.H = p.Hkv = 2; // the dense mask is per head; no GQA needed here
  p.fill(9);
  const int64_t topK = 2, S = p.S(), T = p.T();
  Result sel = run(p, topK, false);
  std::vector<float> mask(size_t(p.B * p.H * S * S),
                          -std::numeric_limits<float>::infinity());
  for (int64_t bh = 0; bh < p.B * p.H; ++bh)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t e = 0; e < topK; ++e) {
        const int32_t j = sel.lists[size_t((bh * T + i) * topK + e)];
        for (int64_t r = p.tiles[i]; r < p.tiles[i + 1]; ++r)
          for (int64_t c = p.tiles[j]; c < p.tiles[j + 1]; ++c)
            mask[size_t((bh * S + r) * S + c)] = 0.0f;
      }
  std::vector<float> dense(p.q.size()), sparse(p.q.size(), NAN);
  auto a = p.attn(dense.data());
  a.mask = mask.data();
  a.mask_dims[0] = p.B, a.mask_dims[1] = p.H, a.mask_dims[2] = S,
  a.mask_dims[3] = S;
  ASSERT_EQ(vsart_cpu_attention_strided(&a), VSART_OK);
  vsart_block_sparse_args_t b = {};
  b.attn = p.attn(sparse.data());
  b.num_q_blocks = b.num_kv_blocks = T;
  b.q_block_offsets = b.kv_block_offsets = p.tiles.data();
  b.list_scope = VSART_LISTS_PER_BATCH_HEAD;
  b.list_offsets = sel.listOffsets.data(), b.lists = sel.lists.data();
  ASSERT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_OK)
      << vsart_last_error();
  expectClose(sparse, dense);
}

TEST(VsaSelect, BadArgumentsAreErrors) {
  Problem p;
  p.fill(10);
  Result r;
  auto expectError = [&](vsart_vsa_select_args_t s, const char *what) {
    EXPECT_EQ(vsart_cpu_vsa_select(&s), VSART_ERROR_INVALID_ARGUMENT) << what;
    EXPECT_NE(std::string(vsart_last_error()).find("vsa_select"),
              std::string::npos)
        << what << ": " << vsart_last_error();
  };
  const auto ok = selectArgs(p, 2, r);
  auto s = ok;
  ASSERT_EQ(vsart_cpu_vsa_select(&s), VSART_OK);
  EXPECT_EQ(vsart_cpu_vsa_select(nullptr), VSART_ERROR_INVALID_ARGUMENT);

  s = ok, s.attn.q = nullptr;
  expectError(s, "null q");
  s = ok, s.attn.k = nullptr;
  expectError(s, "null k");
  s = ok, s.attn.v = nullptr;
  expectError(s, "null v");
  s = ok, s.tile_offsets = nullptr;
  expectError(s, "null tile offsets");
  s = ok, s.list_offsets = nullptr;
  expectError(s, "null list offsets");
  s = ok, s.lists = nullptr;
  expectError(s, "null lists");
  s = ok, s.num_tiles = 0;
  expectError(s, "no tiles");
  s = ok, s.top_k = 0;
  expectError(s, "top_k 0");
  s = ok, s.top_k = p.T() + 1;
  expectError(s, "top_k above num_tiles");
  s = ok, s.attn.seq_kv = p.S() - 1;
  expectError(s, "seq_q != seq_kv");
  s = ok, s.attn.num_kv_heads = 3;
  expectError(s, "bad head grouping");
  const float mask = 0.0f;
  s = ok, s.attn.mask = &mask;
  s.attn.mask_dims[0] = s.attn.mask_dims[1] = s.attn.mask_dims[2] =
      s.attn.mask_dims[3] = 1;
  expectError(s, "mask");
  const std::vector<int64_t> notFromZero = {1, 64, 128, 165, 166},
                             short_ = {0, 64, 128, 165, 165},
                             emptyTile = {0, 64, 64, 165, 166},
                             decreasing = {0, 64, 50, 165, 166};
  for (const auto *off : {&notFromZero, &short_, &emptyTile, &decreasing}) {
    s = ok, s.tile_offsets = off->data();
    expectError(s, "bad tile offsets");
  }
}

// ---- tile means from vsart_cpu_norm_rope (`pooled`) ----------------------

/// Inputs of one vsart_cpu_norm_rope call: x (B, S, H * D) and its
/// parameters, random; S from the tile offsets.
struct RopeInput {
  int64_t B = 2, H = 3, D = 6;
  std::vector<int64_t> tiles;
  bool layer = true;
  int headsMajor = 0;
  std::vector<float> x, scale, bias, cosT, sinT;
  int64_t S() const { return tiles.back(); }
  int64_t T() const { return int64_t(tiles.size()) - 1; }

  void fill(uint32_t seed) {
    x = randomVec(size_t(B * S() * H * D), seed, -3, 3);
    scale = randomVec(size_t(H * D), seed + 1);
    bias = randomVec(size_t(H * D), seed + 2);
    cosT = randomVec(size_t(S() * D / 2), seed + 3);
    sinT = randomVec(size_t(S() * D / 2), seed + 4);
  }
  /// The call writing `out`, and the tile means to `pooled` when not null.
  vsart_norm_rope_args_t args(std::vector<float> &out, float *pooled) const {
    out.assign(x.size(), NAN);
    vsart_norm_rope_args_t a = {};
    a.x = x.data(), a.out = out.data();
    a.batch = B, a.seq = S(), a.heads = H, a.head_dim = D;
    a.centered = layer ? 1 : 0;
    a.scale = scale.data(), a.bias = layer ? bias.data() : nullptr;
    a.eps = 1e-6f;
    a.cos = cosT.data(), a.sin = sinT.data();
    a.heads_major = headsMajor;
    if (pooled)
      a.tile_offsets = tiles.data(), a.num_tiles = T(), a.pooled = pooled;
    return a;
  }
  /// Element (b, h, s, d) of the output.
  size_t at(int64_t b, int64_t h, int64_t s, int64_t d) const {
    return size_t(headsMajor ? ((b * H + h) * S() + s) * D + d
                             : ((b * S() + s) * H + h) * D + d);
  }
  int64_t Dp() const { return (D + 3) / 4 * 4; }
};

/// Uneven tiles: 16, 8, 32, 64 and 5 rows.
const std::vector<int64_t> kRopeTiles = {0, 16, 24, 56, 120, 125};

// pooled[b][h][t] is the mean of the tile's rows of head h of the output,
// summed in row order in fp32 (exactly), padding 0; the rows are those of
// the call without pooled.
TEST(VsaPooling, NormRopePooledIsTheMeanOfItsRows) {
  for (int64_t D : {6, 16})
    for (bool layer : {true, false})
      for (int headsMajor : {0, 1}) {
        SCOPED_TRACE("head_dim " + std::to_string(D) +
                     (layer ? " layer" : " rms") + " heads_major " +
                     std::to_string(headsMajor));
        RopeInput in;
        in.D = D, in.tiles = kRopeTiles, in.layer = layer;
        in.headsMajor = headsMajor;
        in.fill(20);
        std::vector<float> plain, out;
        std::vector<float> pooled(size_t(in.B * in.H * in.T() * in.Dp()), NAN);
        auto a = in.args(plain, nullptr);
        ASSERT_EQ(vsart_cpu_norm_rope(&a), VSART_OK) << vsart_last_error();
        a = in.args(out, pooled.data());
        ASSERT_EQ(vsart_cpu_norm_rope(&a), VSART_OK) << vsart_last_error();
        EXPECT_EQ(0, std::memcmp(out.data(), plain.data(),
                                 out.size() * sizeof(float)));
        for (int64_t b = 0; b < in.B; ++b)
          for (int64_t h = 0; h < in.H; ++h)
            for (int64_t t = 0; t < in.T(); ++t)
              for (int64_t d = 0; d < in.Dp(); ++d) {
                float want = 0.0f;
                if (d < D) {
                  for (int64_t s = in.tiles[t]; s < in.tiles[t + 1]; ++s)
                    want += out[in.at(b, h, s, d)];
                  want /= float(in.tiles[t + 1] - in.tiles[t]);
                }
                ASSERT_EQ(pooled[size_t(((b * in.H + h) * in.T() + t) *
                                            in.Dp() + d)],
                          want)
                    << "batch " << b << " head " << h << " tile " << t
                    << " d " << d;
              }
      }
}

/// Outputs of vsa_select over q, k (the rows of two norm_rope calls) and v,
/// pooling q and k itself or given the norm's tile means.
Result selectOverNormRope(bool headsMajor, bool withOut, bool given) {
  Problem p;
  p.D = 6, p.tiles = kRopeTiles, p.layout = headsMajor ? BHSD : BSHD;
  p.fill(30); // v; q and k below
  RopeInput q, k;
  for (RopeInput *in : {&q, &k}) {
    in->B = p.B, in->D = p.D, in->tiles = p.tiles;
    in->headsMajor = headsMajor;
  }
  q.H = p.H, k.H = p.Hkv, k.layer = false;
  q.fill(31), k.fill(36);
  std::vector<float> pq(size_t(p.B * p.H * p.T() * q.Dp())),
      pk(size_t(p.B * p.Hkv * p.T() * k.Dp()));
  auto a = q.args(p.q, pq.data());
  EXPECT_EQ(vsart_cpu_norm_rope(&a), VSART_OK) << vsart_last_error();
  a = k.args(p.k, pk.data());
  EXPECT_EQ(vsart_cpu_norm_rope(&a), VSART_OK) << vsart_last_error();
  const std::vector<float> pqBefore = pq, pkBefore = pk;
  Result r;
  auto s = selectArgs(p, 3, r, withOut);
  if (given) {
    s.pooled_q = pq.data(), s.pooled_k = pk.data();
    s.attn.q = s.attn.k = nullptr;
  }
  EXPECT_EQ(vsart_cpu_vsa_select(&s), VSART_OK) << vsart_last_error();
  EXPECT_EQ(pq, pqBefore);
  EXPECT_EQ(pk, pkBefore);
  return r;
}

// Given norm_rope's tile means the selection reads the bits it would have
// pooled: the same lists and coarse output, both layouts, with GQA.
TEST(VsaPooling, SelectGivenNormRopeMeansEqualsPoolingItself) {
  for (bool headsMajor : {false, true})
    for (bool withOut : {true, false}) {
      SCOPED_TRACE(std::string(headsMajor ? "bhsd" : "bshd") +
                   (withOut ? " with out" : " lists only"));
      const Result self = selectOverNormRope(headsMajor, withOut, false),
                   given = selectOverNormRope(headsMajor, withOut, true);
      EXPECT_EQ(given.listOffsets, self.listOffsets);
      EXPECT_EQ(given.lists, self.lists);
      ASSERT_EQ(given.out.size(), self.out.size());
      EXPECT_EQ(0, std::memcmp(given.out.data(), self.out.data(),
                               given.out.size() * sizeof(float)));
      for (float x : given.out)
        ASSERT_FALSE(std::isnan(x));
    }
}

TEST(VsaPooling, BadPoolingArgumentsAreErrors) {
  RopeInput in;
  in.tiles = kRopeTiles;
  in.fill(40);
  std::vector<float> out, pooled(size_t(in.B * in.H * in.T() * in.Dp()));
  const auto ok = in.args(out, pooled.data());
  auto a = ok;
  ASSERT_EQ(vsart_cpu_norm_rope(&a), VSART_OK) << vsart_last_error();
  auto expectRopeError = [](vsart_norm_rope_args_t a, const char *what) {
    vsart_test::expectRejected(vsart_cpu_norm_rope(&a), "norm_rope", what);
  };
  a = ok, a.tile_offsets = nullptr;
  expectRopeError(a, "pooled without tile offsets");
  a = ok, a.num_tiles = 0;
  expectRopeError(a, "no tiles");
  a = ok, a.num_tiles = -1;
  expectRopeError(a, "negative num_tiles");
  a = ok, a.num_tiles = in.S() + 1;
  expectRopeError(a, "more tiles than rows");
  const std::vector<int64_t> notFromZero = {1, 16, 24, 56, 120, 125},
                             short_ = {0, 16, 24, 56, 120, 124},
                             emptyTile = {0, 16, 16, 56, 120, 125},
                             decreasing = {0, 16, 10, 56, 120, 125};
  for (const auto *off : {&notFromZero, &short_, &emptyTile, &decreasing}) {
    a = ok, a.tile_offsets = off->data();
    expectRopeError(a, "bad tile offsets");
  }
  a = ok, a.num_tiles = 2; // offsets[2] = 24 is not seq
  expectRopeError(a, "tiles not covering the sequence");

  // vsa_select: pooled_q and pooled_k go together; v is still needed.
  Problem p;
  p.fill(41);
  Result r;
  const std::vector<float> pq(size_t(p.B * p.H * p.T() * 16)),
      pk(size_t(p.B * p.Hkv * p.T() * 16));
  auto s = selectArgs(p, 2, r);
  s.pooled_q = pq.data(), s.pooled_k = pk.data();
  s.attn.q = s.attn.k = nullptr;
  ASSERT_EQ(vsart_cpu_vsa_select(&s), VSART_OK) << vsart_last_error();
  auto expectSelectError = [](vsart_vsa_select_args_t s, const char *what) {
    vsart_test::expectRejected(vsart_cpu_vsa_select(&s), "vsa_select", what);
  };
  auto bad = s;
  bad.pooled_k = nullptr;
  expectSelectError(bad, "pooled_q alone");
  bad = s, bad.pooled_q = nullptr;
  expectSelectError(bad, "pooled_k alone");
  bad = s, bad.attn.v = nullptr;
  expectSelectError(bad, "null v with pooled q and k");
}

} // namespace

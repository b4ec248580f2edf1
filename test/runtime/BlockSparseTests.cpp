// vsart_cpu_block_sparse_attention against dense attention and a naive
// gather-then-attend reference.
#include "TestUtil.h"
#include "vsart.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace {

using vsart_test::randomVec;

struct Problem {
  int64_t B = 2, H = 3, S = 70, D = 16;
  std::vector<float> q, k, v;
  Problem() {
    q = randomVec(size_t(B * H * S * D), 1);
    k = randomVec(size_t(B * H * S * D), 2);
    v = randomVec(size_t(B * H * S * D), 3);
  }
  vsart_attention_args_t args(float *out) const {
    vsart_attention_args_t a = {};
    a.q = q.data(), a.k = k.data(), a.v = v.data(), a.out = out;
    a.batch = B, a.num_heads = H, a.num_kv_heads = H;
    a.seq_q = S, a.seq_kv = S, a.head_dim = D;
    const int64_t st[3] = {H * S * D, S * D, D}; // (b, h, s, d)
    for (int i = 0; i < 3; ++i)
      a.q_strides[i] = a.k_strides[i] = a.v_strides[i] = a.out_strides[i] = st[i];
    a.scale = 1.0f / std::sqrt(float(D));
    return a;
  }
};

// Irregular blocks: padded tiles hold fewer tokens than the tile size.
const std::vector<int64_t> kQ = {0, 5, 37, 64, 70}, kKv = {0, 13, 64, 64, 70};

float maxRelDiff(const std::vector<float> &a, const std::vector<float> &b) {
  float m = 0, r = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    m = std::max(m, std::fabs(a[i] - b[i]));
    r = std::max(r, std::fabs(b[i]));
  }
  return m / std::max(r, 1e-30f);
}

vsart_block_sparse_args_t sparseArgs(const vsart_attention_args_t &a,
                                     const std::vector<int64_t> &offsets,
                                     const std::vector<int32_t> &lists,
                                     vsart_list_scope_t scope) {
  vsart_block_sparse_args_t b = {};
  b.attn = a;
  b.num_q_blocks = int64_t(kQ.size()) - 1, b.q_block_offsets = kQ.data();
  b.num_kv_blocks = int64_t(kKv.size()) - 1, b.kv_block_offsets = kKv.data();
  b.list_scope = scope, b.list_offsets = offsets.data(), b.lists = lists.data();
  return b;
}

TEST(BlockSparse, AllBlocksEqualDense) {
  Problem p;
  std::vector<float> dense(p.q.size()), sparse(p.q.size(), -7.0f);
  auto a = p.args(dense.data());
  ASSERT_EQ(vsart_cpu_attention_strided(&a), VSART_OK);
  // Every (batch, head, query block) lists all key blocks, in a shuffled order.
  const int64_t nq = int64_t(kQ.size()) - 1, nkv = int64_t(kKv.size()) - 1;
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> lists;
  std::mt19937 rng(5);
  for (int64_t l = 0; l < p.B * p.H * nq; ++l) {
    std::vector<int32_t> all(static_cast<size_t>(nkv));
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng);
    lists.insert(lists.end(), all.begin(), all.end());
    offsets.push_back(int64_t(lists.size()));
  }
  auto b = sparseArgs(p.args(sparse.data()), offsets, lists,
                      VSART_LISTS_PER_BATCH_HEAD);
  ASSERT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_OK) << vsart_last_error();
  EXPECT_LT(maxRelDiff(sparse, dense), 1e-5f);
}

TEST(BlockSparse, SubsetEqualsAttentionOverGatheredKeys) {
  Problem p;
  std::vector<float> sparse(p.q.size());
  // Shared lists: query block i attends to key blocks {i % nkv, last}.
  const int64_t nq = int64_t(kQ.size()) - 1, nkv = int64_t(kKv.size()) - 1;
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> lists;
  for (int64_t i = 0; i < nq; ++i) {
    lists.push_back(int32_t(i % nkv));
    if (i % nkv != nkv - 1)
      lists.push_back(int32_t(nkv - 1));
    offsets.push_back(int64_t(lists.size()));
  }
  auto b = sparseArgs(p.args(sparse.data()), offsets, lists, VSART_LISTS_SHARED);
  ASSERT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_OK) << vsart_last_error();
  // Naive reference: softmax over the listed keys only.
  float worst = 0;
  for (int64_t bi = 0; bi < p.B; ++bi)
    for (int64_t h = 0; h < p.H; ++h)
      for (int64_t qb = 0; qb < nq; ++qb) {
        std::vector<int64_t> keys;
        for (int64_t e = offsets[qb]; e < offsets[qb + 1]; ++e)
          for (int64_t j = kKv[lists[e]]; j < kKv[lists[e] + 1]; ++j)
            keys.push_back(j);
        for (int64_t i = kQ[qb]; i < kQ[qb + 1]; ++i) {
          const float *qi = &p.q[((bi * p.H + h) * p.S + i) * p.D];
          std::vector<double> s;
          double mx = -1e300, sum = 0;
          for (int64_t j : keys) {
            const float *kj = &p.k[((bi * p.H + h) * p.S + j) * p.D];
            double dot = 0;
            for (int64_t d = 0; d < p.D; ++d)
              dot += double(qi[d]) * kj[d];
            s.push_back(dot / std::sqrt(double(p.D)));
            mx = std::max(mx, s.back());
          }
          for (double &x : s)
            sum += (x = std::exp(x - mx));
          for (int64_t d = 0; d < p.D; ++d) {
            double o = 0;
            for (size_t j = 0; j < keys.size(); ++j)
              o += s[j] / sum * p.v[((bi * p.H + h) * p.S + keys[j]) * p.D + d];
            const float got = sparse[((bi * p.H + h) * p.S + i) * p.D + d];
            worst = std::max(worst, float(std::fabs(o - got)));
          }
        }
      }
  EXPECT_LT(worst, 1e-5f);
}

TEST(BlockSparse, EmptyListAndEmptyBlockYieldZero) {
  Problem p;
  std::vector<float> out(p.q.size(), 3.0f);
  const int64_t nq = int64_t(kQ.size()) - 1;
  // Query block 0 lists nothing; the rest list only the empty key block 2.
  std::vector<int64_t> offsets{0, 0};
  std::vector<int32_t> lists;
  for (int64_t i = 1; i < nq; ++i) {
    lists.push_back(2);
    offsets.push_back(int64_t(lists.size()));
  }
  auto b = sparseArgs(p.args(out.data()), offsets, lists, VSART_LISTS_SHARED);
  ASSERT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_OK) << vsart_last_error();
  for (float x : out)
    ASSERT_EQ(x, 0.0f);
}

TEST(BlockSparse, BitIdenticalAcrossThreadCounts) {
  Problem p;
  const int64_t nq = int64_t(kQ.size()) - 1;
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> lists;
  for (int64_t l = 0; l < p.H * nq; ++l) {
    lists.push_back(int32_t(l % 4));
    lists.push_back(int32_t((l + 1) % 4));
    offsets.push_back(int64_t(lists.size()));
  }
  std::vector<float> one(p.q.size()), many(p.q.size());
  vsart_set_num_threads(1);
  auto b1 = sparseArgs(p.args(one.data()), offsets, lists, VSART_LISTS_PER_HEAD);
  ASSERT_EQ(vsart_cpu_block_sparse_attention(&b1), VSART_OK);
  vsart_set_num_threads(4);
  auto b4 = sparseArgs(p.args(many.data()), offsets, lists, VSART_LISTS_PER_HEAD);
  ASSERT_EQ(vsart_cpu_block_sparse_attention(&b4), VSART_OK);
  vsart_set_num_threads(0);
  EXPECT_EQ(one, many);
}

TEST(BlockSparse, BadArgumentsAreErrors) {
  Problem p;
  std::vector<float> out(p.q.size());
  std::vector<int64_t> offsets{0, 1, 2, 3, 4};
  std::vector<int32_t> lists{0, 1, 2, 3};
  auto ok = sparseArgs(p.args(out.data()), offsets, lists, VSART_LISTS_SHARED);
  ASSERT_EQ(vsart_cpu_block_sparse_attention(&ok), VSART_OK);

  std::vector<int32_t> outOfRange{0, 1, 9, 3};
  auto b = sparseArgs(p.args(out.data()), offsets, outOfRange, VSART_LISTS_SHARED);
  EXPECT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("out of range"), std::string::npos);

  std::vector<int64_t> badQ{0, 40, 30, 64, 70};
  b = sparseArgs(p.args(out.data()), offsets, lists, VSART_LISTS_SHARED);
  b.q_block_offsets = badQ.data();
  EXPECT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_ERROR_INVALID_ARGUMENT);

  std::vector<int64_t> shortKv{0, 13, 64, 64, 69};
  b = sparseArgs(p.args(out.data()), offsets, lists, VSART_LISTS_SHARED);
  b.kv_block_offsets = shortKv.data();
  EXPECT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_ERROR_INVALID_ARGUMENT);

  std::vector<int64_t> decreasing{0, 2, 1, 3, 4};
  b = sparseArgs(p.args(out.data()), decreasing, lists, VSART_LISTS_SHARED);
  EXPECT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_ERROR_INVALID_ARGUMENT);

  b = sparseArgs(p.args(out.data()), offsets, lists, vsart_list_scope_t(7));
  EXPECT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_ERROR_INVALID_ARGUMENT);

  const float mask = 0.0f;
  b = sparseArgs(p.args(out.data()), offsets, lists, VSART_LISTS_SHARED);
  b.attn.mask = &mask;
  b.attn.mask_dims[0] = b.attn.mask_dims[1] = b.attn.mask_dims[2] = b.attn.mask_dims[3] = 1;
  EXPECT_EQ(vsart_cpu_block_sparse_attention(&b), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cpu_block_sparse_attention(nullptr), VSART_ERROR_INVALID_ARGUMENT);
}

} // namespace

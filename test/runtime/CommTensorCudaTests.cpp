// vsart_cuda_all_to_all / vsart_cuda_all_gather / vsart_cuda_shard_copy:
// the pack and unpack kernels (and the shard's 2-d copy) against the host
// versions (vsart_cpu_*), with thread ranks over
// managed memory (the thread backend copies on the host; NCCL runs are in
// vsart-comm-nccl-tests' environment, which needs 2 GPUs). Skips without a
// GPU.
#include "vsart_comm.h"
#include "vsart_cuda.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "ThreadRanks.h"

#include <cmath>

#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace {

using vsart_test::runRanks;

struct Managed {
  void *ptr = nullptr;
  explicit Managed(size_t bytes) {
    EXPECT_EQ(cudaMallocManaged(&ptr, bytes ? bytes : 1), cudaSuccess);
  }
  ~Managed() { cudaFree(ptr); }
};

/// x rounded to bf16 into managed memory p.
void putBf16(const std::vector<float> &x, void *p) {
  for (size_t i = 0; i < x.size(); ++i)
    static_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16(x[i]);
}

/// max |got - want| / max |want| of bf16 results in managed memory (every
/// value finite).
double bf16ErrorRatio(const void *got, const std::vector<float> &want) {
  double maxErr = 0, maxRef = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const float g = __bfloat162float(static_cast<const __nv_bfloat16 *>(got)[i]);
    EXPECT_TRUE(std::isfinite(g)) << i;
    maxErr = std::max(maxErr, double(std::fabs(g - want[i])));
    maxRef = std::max(maxRef, double(std::fabs(want[i])));
  }
  return maxRef > 0 ? maxErr / maxRef : maxErr;
}

/// Every rank: the CUDA call on managed copies of its input equals the CPU
/// call (element size elem, dims (B, S, H, D) per rank).
void compare(int n, size_t elem, bool gather, int a, int b) {
  const int64_t dims[] = {2, 3 * n, 2 * n, 2 * n};
  const size_t bytes = size_t(2 * 3 * n * 2 * n * 2 * n) * elem;
  const size_t outBytes = gather ? bytes * size_t(n) : bytes;
  runRanks(n, [&](vsart_comm_t c, int r) {
    std::vector<uint8_t> in(bytes), want(outBytes);
    for (size_t i = 0; i < bytes; ++i)
      in[i] = uint8_t(i * 7 + size_t(r) * 31 + 1);
    ASSERT_EQ(gather ? vsart_cpu_all_gather(c, n, in.data(), want.data(), 4,
                                            dims, a, elem, nullptr)
                     : vsart_cpu_all_to_all(c, n, in.data(), want.data(), 4,
                                            dims, a, b, elem, nullptr),
              VSART_OK)
        << vsart_last_error();
    Managed din(bytes), dout(outBytes);
    std::memcpy(din.ptr, in.data(), bytes);
    ASSERT_EQ(gather ? vsart_cuda_all_gather(c, n, din.ptr, dout.ptr, 4, dims,
                                             a, elem, nullptr, nullptr)
                     : vsart_cuda_all_to_all(c, n, din.ptr, dout.ptr, 4, dims,
                                             a, b, elem, nullptr, nullptr),
              VSART_OK)
        << vsart_last_error();
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_EQ(std::memcmp(dout.ptr, want.data(), outBytes), 0)
        << (gather ? "all_gather" : "all_to_all") << " rank " << r << " of "
        << n << ", elem " << elem << ", axes " << a << " " << b;
  });
}

TEST(CommTensorCuda, UlyssesMatchesCpu) {
  if (!vsart_cuda_available())
    GTEST_SKIP() << "no usable CUDA device";
  for (int n : {2, 4})
    for (size_t elem : {size_t(2), size_t(4), size_t(1)}) {
      compare(n, elem, false, 2, 1); // (B, S/N, H, D) -> (B, S, H/N, D)
      compare(n, elem, false, 1, 2); // and back
      compare(n, elem, false, 3, 0);
      compare(n, elem, true, 1, 0); // all_gather of the sequence
      compare(n, elem, true, 3, 0);
    }
}

/// q, k, v through one collective (vsart_cuda_all_to_all_n) equal the CPU
/// version, whose equality with separate all_to_alls vsart-tests checks.
TEST(CommTensorCuda, PackedAllToAllMatchesCpu) {
  if (!vsart_cuda_available())
    GTEST_SKIP() << "no usable CUDA device";
  for (int n : {2, 4}) {
    const int64_t dims[] = {2, 3 * n, 2 * n, 8};
    const size_t bytes = size_t(2 * 3 * n * 2 * n * 8) * 2;
    runRanks(n, [&](vsart_comm_t c, int r) {
      std::vector<std::vector<uint8_t>> in(3, std::vector<uint8_t>(bytes)),
          want(3, std::vector<uint8_t>(bytes));
      std::vector<std::unique_ptr<Managed>> din, dout;
      const void *hin[3], *din_[3];
      void *hout[3], *dout_[3];
      for (int t = 0; t < 3; ++t) {
        for (size_t i = 0; i < bytes; ++i)
          in[size_t(t)][i] = uint8_t(i * 7 + size_t(r) * 31 + size_t(t) * 3);
        din.push_back(std::make_unique<Managed>(bytes));
        dout.push_back(std::make_unique<Managed>(bytes));
        std::memcpy(din.back()->ptr, in[size_t(t)].data(), bytes);
        hin[t] = in[size_t(t)].data(), hout[t] = want[size_t(t)].data();
        din_[t] = din.back()->ptr, dout_[t] = dout.back()->ptr;
      }
      ASSERT_EQ(vsart_cpu_all_to_all_n(c, n, 3, hin, hout, 4, dims, 1, 2, 2,
                                       nullptr),
                VSART_OK)
          << vsart_last_error();
      ASSERT_EQ(vsart_cuda_all_to_all_n(c, n, 3, din_, dout_, 4, dims, 1, 2, 2,
                                        nullptr, nullptr),
                VSART_OK)
          << vsart_last_error();
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      for (int t = 0; t < 3; ++t)
        EXPECT_EQ(std::memcmp(dout[size_t(t)]->ptr, want[size_t(t)].data(),
                              bytes),
                  0)
            << "tensor " << t << " rank " << r << " of " << n;
    });
  }
}

TEST(CommTensorCuda, ShardMatchesCpu) {
  if (!vsart_cuda_available())
    GTEST_SKIP() << "no usable CUDA device";
  for (int n : {2, 3})
    for (int axis : {0, 1, 2}) {
      const int64_t dims[] = {6, 12, 6};
      const size_t bytes = 6 * 12 * 6 * 2, outBytes = bytes / size_t(n);
      runRanks(n, [&](vsart_comm_t c, int r) {
        std::vector<uint8_t> in(bytes), want(outBytes);
        for (size_t i = 0; i < bytes; ++i)
          in[i] = uint8_t(i * 13 + 5);
        ASSERT_EQ(vsart_cpu_shard_copy(c, n, in.data(), want.data(), 3, dims,
                                       axis, 2),
                  VSART_OK)
            << vsart_last_error();
        Managed din(bytes), dout(outBytes);
        std::memcpy(din.ptr, in.data(), bytes);
        ASSERT_EQ(vsart_cuda_shard_copy(c, n, din.ptr, dout.ptr, 3, dims, axis,
                                        2, nullptr),
                  VSART_OK)
            << vsart_last_error();
        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        EXPECT_EQ(std::memcmp(dout.ptr, want.data(), outBytes), 0)
            << "shard rank " << r << " of " << n << ", axis " << axis;
      });
    }
}

TEST(CommTensorCuda, SingleRankCopies) {
  if (!vsart_cuda_available())
    GTEST_SKIP() << "no usable CUDA device";
  const int64_t dims[] = {4, 6};
  Managed in(96), out(96);
  for (int i = 0; i < 24; ++i)
    static_cast<float *>(in.ptr)[i] = float(i);
  ASSERT_EQ(vsart_cuda_all_to_all(nullptr, 1, in.ptr, out.ptr, 2, dims, 1, 0,
                                  4, nullptr, nullptr),
            VSART_OK);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(std::memcmp(in.ptr, out.ptr, 96), 0);
  EXPECT_EQ(vsart_cuda_all_gather(nullptr, 2, in.ptr, out.ptr, 2, dims, 1, 4,
                                  nullptr, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(),
               "all_gather: model needs 2 ranks; run with --ranks 2 / give a "
               "communicator (vsart_session_set_comm)");
}

/// Ring attention over 2 and 3 thread ranks (managed bf16 buffers, (B, S,
/// H, D) layout, grouped-query heads) equals the CPU ring on the same
/// bf16-rounded values.
TEST(CommTensorCuda, RingAttentionMatchesCpu) {
  if (!vsart_cuda_available())
    GTEST_SKIP() << "no usable CUDA device";
  const int64_t B = 1, H = 4, Hkv = 2, s = 37, D = 64, T = 5;
  for (int n : {2, 3})
    for (int variant : {0, 1, 2}) // 1: T text keys on every rank; 2: masks too
    runRanks(n, [&](vsart_comm_t c, int r) {
      const int64_t qElems = B * s * H * D, kvElems = B * s * Hkv * D;
      std::vector<float> q(static_cast<size_t>(qElems)),
          k(static_cast<size_t>(kvElems)), v(static_cast<size_t>(kvElems)),
          want(static_cast<size_t>(qElems));
      auto fill = [&](std::vector<float> &x, int salt) {
        for (size_t i = 0; i < x.size(); ++i)
          x[i] = __bfloat162float(__float2bfloat16(
              std::sin(float(i * 13 + size_t(r) * 101 + size_t(salt) * 7))));
      };
      fill(q, 1), fill(k, 2), fill(v, 3);
      std::vector<float> kt(size_t(B * Hkv * T * D)), vt(kt.size());
      for (size_t i = 0; i < kt.size(); ++i) { // the same on every rank
        kt[i] = __bfloat162float(__float2bfloat16(std::cos(float(i) * 0.37f)));
        vt[i] = __bfloat162float(__float2bfloat16(std::sin(float(i) * 0.53f)));
      }
      vsart_attention_args_t local = {};
      local.seq_kv = T;
      const int64_t ts[3] = {Hkv * T * D, T * D, D};
      for (int i = 0; i < 3; ++i)
        local.k_strides[i] = local.v_strides[i] = ts[i];
      vsart_attention_args_t a = {};
      a.batch = B, a.num_heads = H, a.num_kv_heads = Hkv;
      a.seq_q = a.seq_kv = s, a.head_dim = D, a.scale = 0.125f;
      const int64_t qs[3] = {s * H * D, D, H * D}, ks[3] = {s * Hkv * D, D, Hkv * D};
      for (int i = 0; i < 3; ++i)
        a.q_strides[i] = a.out_strides[i] = qs[i], a.k_strides[i] = a.v_strides[i] = ks[i];
      vsart_attention_args_t cpu = a;
      cpu.q = q.data(), cpu.k = k.data(), cpu.v = v.data(), cpu.out = want.data();
      const bool withLocal = variant > 0;
      // Key masks: the ring's over all n * s keys, the local one over T.
      std::vector<float> ringMask(static_cast<size_t>(n * s)),
          localMask(static_cast<size_t>(T));
      for (size_t i = 0; i < ringMask.size(); ++i)
        ringMask[i] = i % 5 == 1 ? -INFINITY : 0.0f;
      localMask[1] = -INFINITY;
      if (variant == 2) {
        cpu.mask = ringMask.data();
        cpu.mask_dims[0] = cpu.mask_dims[1] = cpu.mask_dims[2] = 1;
        cpu.mask_dims[3] = n * s;
        local.mask = localMask.data();
        local.mask_dims[0] = local.mask_dims[1] = local.mask_dims[2] = 1;
        local.mask_dims[3] = T;
      }
      local.k = kt.data(), local.v = vt.data();
      ASSERT_EQ(vsart_cpu_ring_attention(c, n, &cpu, withLocal ? &local : nullptr, 0,
                                         nullptr, 0),
                VSART_OK)
          << vsart_last_error();
      Managed dq(size_t(qElems) * 2), dk(size_t(kvElems) * 2),
          dv(size_t(kvElems) * 2), dout(size_t(qElems) * 2);
      const auto put = putBf16;
      Managed dkt(kt.size() * 2), dvt(vt.size() * 2);
      put(q, dq.ptr), put(k, dk.ptr), put(v, dv.ptr);
      put(kt, dkt.ptr), put(vt, dvt.ptr);
      a.q = dq.ptr, a.k = dk.ptr, a.v = dv.ptr, a.out = dout.ptr;
      local.k = dkt.ptr, local.v = dvt.ptr;
      Managed dmask(ringMask.size() * 2), dlmask(localMask.size() * 2);
      if (variant == 2) {
        put(ringMask, dmask.ptr), put(localMask, dlmask.ptr);
        a.mask = dmask.ptr, local.mask = dlmask.ptr;
        for (int i = 0; i < 4; ++i)
          a.mask_dims[i] = cpu.mask_dims[i];
      }
      ASSERT_EQ(vsart_cuda_ring_attention(c, n, &a, withLocal ? &local : nullptr, 0,
                                          nullptr, 0, nullptr),
                VSART_OK)
          << vsart_last_error();
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      EXPECT_LE(bf16ErrorRatio(dout.ptr, want), 2e-2)
          << "rank " << r << " of " << n << ", variant " << variant;
    });
}

/// Ulysses attention over 1 (no communicator) and 2 thread ranks (managed
/// bf16 buffers, 1 and 2 head chunks) equals the CPU one on the same
/// bf16-rounded values.
TEST(CommTensorCuda, UlyssesAttentionMatchesCpu) {
  if (!vsart_cuda_available())
    GTEST_SKIP() << "no usable CUDA device";
  const int64_t B = 2, H = 4, s = 45, D = 64;
  for (int n : {1, 2})
    for (int chunks : {1, 2}) {
      auto body = [&](vsart_comm_t c, int r) {
        const size_t elems = size_t(B * H * s * D);
        std::vector<float> q(elems), k(elems), v(elems), want(elems);
        auto fill = [&](std::vector<float> &x, int salt) {
          for (size_t i = 0; i < x.size(); ++i)
            x[i] = __bfloat162float(__float2bfloat16(
                std::sin(float(i * 7 + size_t(r) * 131 + size_t(salt) * 17))));
        };
        fill(q, 1), fill(k, 2), fill(v, 3);
        vsart_attention_args_t a = {};
        a.batch = B, a.num_heads = a.num_kv_heads = H;
        a.seq_q = a.seq_kv = s, a.head_dim = D, a.scale = 0.125f;
        const int64_t st[3] = {H * s * D, s * D, D};
        for (int i = 0; i < 3; ++i)
          a.q_strides[i] = a.k_strides[i] = a.v_strides[i] = a.out_strides[i] = st[i];
        vsart_attention_args_t cpu = a;
        cpu.q = q.data(), cpu.k = k.data(), cpu.v = v.data(), cpu.out = want.data();
        ASSERT_EQ(vsart_cpu_ulysses_attention(c, n, &cpu, chunks, nullptr, 0), VSART_OK)
            << vsart_last_error();
        Managed dq(elems * 2), dk(elems * 2), dv(elems * 2), dout(elems * 2);
        const auto put = putBf16;
        put(q, dq.ptr), put(k, dk.ptr), put(v, dv.ptr);
        a.q = dq.ptr, a.k = dk.ptr, a.v = dv.ptr, a.out = dout.ptr;
        ASSERT_EQ(vsart_cuda_ulysses_attention(c, n, &a, chunks, nullptr, 0, nullptr),
                  VSART_OK)
            << vsart_last_error();
        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        EXPECT_LE(bf16ErrorRatio(dout.ptr, want), 2e-2)
            << "rank " << r << " of " << n << ", " << chunks << " chunks";
      };
      if (n == 1)
        body(nullptr, 0);
      else
        runRanks(n, body);
    }
}

} // namespace

// CUDA kernels (bf16 storage, fp32 math) against their fp32 CPU twins run on
// the same bf16-rounded inputs. Every test skips when no GPU is usable. Each
// comparison prints a "[ stats ]" line (max abs error, max error relative to
// max |ref|, relative L2 error) so failures can be diagnosed from a log.
// Names are Suite.Test/case, e.g. CudaAttention.MatchesCpu/bshd_d80_own
// (attention cases run on our kernel, _own, and on cuDNN, _cudnn); filter
// examples: --gtest_filter='CudaAttention.*', '*bshd*', '*_cudnn',
// 'CudaGemm.*erf*'.
// CudaPerf.* (the Wan 2.1 shapes, timed) are disabled; run them with
// --gtest_also_run_disabled_tests --gtest_filter='CudaPerf*'.
#include "vsart_cuda.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

const float kNegInf = -std::numeric_limits<float>::infinity();

// ---- bf16 on the host -------------------------------------------------------

uint16_t toBf16(float f) { // round to nearest even
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if (std::isnan(f))
    return 0x7fc0;
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

float fromBf16(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::vector<uint16_t> toBf16(const std::vector<float> &v) {
  std::vector<uint16_t> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(),
                 [](float f) { return toBf16(f); });
  return out;
}

/// The values the GPU sees: each float rounded to bf16.
std::vector<float> roundBf16(std::vector<float> v) {
  for (float &f : v)
    f = fromBf16(toBf16(f));
  return v;
}

// Inputs exactly representable in bf16, so both twins see the same values.
std::vector<float> randomVec(size_t n, uint32_t seed, float lo = -1.0f,
                             float hi = 1.0f) {
  return roundBf16(vsart_test::randomVec(n, seed, lo, hi));
}

// ---- device buffers ---------------------------------------------------------

/// bf16 device memory; freed on destruction.
class DeviceBuffer {
public:
  explicit DeviceBuffer(size_t elems) : elems_(elems) {
    EXPECT_EQ(vsart_cuda_malloc(elems * 2, &ptr_), VSART_OK)
        << vsart_last_error();
  }
  explicit DeviceBuffer(const std::vector<float> &host)
      : DeviceBuffer(host.size()) {
    upload(host);
  }
  ~DeviceBuffer() { vsart_cuda_free(ptr_); }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  uint16_t *data() { return static_cast<uint16_t *>(ptr_); }
  void upload(const std::vector<float> &host) {
    ASSERT_LE(host.size(), elems_);
    const std::vector<uint16_t> h = toBf16(host);
    ASSERT_EQ(vsart_cuda_upload(ptr_, h.data(), h.size() * 2, nullptr), VSART_OK)
        << vsart_last_error();
  }
  /// Fills with bf16 NaN so unwritten outputs show.
  void poison() { upload(std::vector<float>(elems_, NAN)); }
  std::vector<float> download() {
    EXPECT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK) << vsart_last_error();
    std::vector<uint16_t> h(elems_);
    EXPECT_EQ(vsart_cuda_download(h.data(), ptr_, elems_ * 2, nullptr), VSART_OK)
        << vsart_last_error();
    std::vector<float> out(elems_);
    std::transform(h.begin(), h.end(), out.begin(), fromBf16);
    return out;
  }

private:
  void *ptr_ = nullptr;
  size_t elems_;
};

// ---- comparison -------------------------------------------------------------

/// Expects |got - ref| <= atol + rtol |ref| elementwise with atol =
/// atolRel * max |ref| (NaN never passes) and prints the error statistics.
void expectNear(const std::vector<float> &got, const std::vector<float> &ref,
                const std::string &what, double rtol = 1.6e-2,
                double atolRel = 4e-3) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  double maxRef = 0, maxErr = 0, errSq = 0, refSq = 0;
  for (float r : ref)
    if (std::isfinite(r))
      maxRef = std::max(maxRef, double(std::fabs(r)));
  const double atol = atolRel * maxRef + 1e-6;
  size_t bad = 0, worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(double(got[i]) - ref[i]);
    if (!(err <= atol + rtol * std::fabs(ref[i])) &&
        !(got[i] == ref[i])) { // equal infinities pass
      if (++bad <= 5)
        ADD_FAILURE() << what << " [" << i << "]: got " << got[i]
                      << ", expected " << ref[i];
    }
    if (std::isfinite(err)) {
      if (err > maxErr)
        maxErr = err, worst = i;
      errSq += err * err;
      refSq += double(ref[i]) * ref[i];
    }
  }
  const testing::TestInfo *info =
      testing::UnitTest::GetInstance()->current_test_info();
  std::printf("[ stats    ] %s.%s %s: max_abs_err=%.3g (at %zu) max_ref=%.3g "
              "max_err/max_ref=%.3g rel_l2=%.3g bad=%zu/%zu\n",
              info->test_suite_name(), info->name(), what.c_str(), maxErr,
              worst, maxRef, maxRef > 0 ? maxErr / maxRef : maxErr,
              refSq > 0 ? std::sqrt(errSq / refSq) : std::sqrt(errSq), bad,
              got.size());
  std::fflush(stdout);
  EXPECT_EQ(bad, 0u) << what;
}

/// Skips every test when no GPU is usable.
class CudaTest : public testing::Test {
protected:
  void SetUp() override {
    if (!vsart_cuda_available())
      GTEST_SKIP() << "no usable CUDA device";
  }
};

template <class P> class CudaParamTest : public testing::TestWithParam<P> {
protected:
  void SetUp() override {
    if (!vsart_cuda_available())
      GTEST_SKIP() << "no usable CUDA device";
  }
};

// ---- device ops -------------------------------------------------------------

using CudaDevice = CudaTest;

TEST_F(CudaDevice, MemoryRoundTrip) {
  std::printf("[ device   ] %s\n", vsart_cuda_device_name());
  EXPECT_STRNE(vsart_cuda_device_name(), "");
  const vsart_device_ops_t &ops = vsart_cuda_device_ops;
  EXPECT_STREQ(ops.name, "cuda");
  void *p = nullptr;
  ASSERT_EQ(ops.alloc(1000, &p), VSART_OK) << vsart_last_error();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 256, 0u);
  std::vector<uint8_t> src(1000), dst(1000, 0);
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = uint8_t(i * 7 + 1);
  ASSERT_EQ(ops.upload(p, src.data(), src.size(), nullptr), VSART_OK);
  ASSERT_EQ(ops.synchronize(nullptr), VSART_OK);
  ASSERT_EQ(ops.download(dst.data(), p, dst.size(), nullptr), VSART_OK);
  EXPECT_EQ(src, dst);
  ops.free(p);
  ops.free(nullptr);
  void *empty = &p;
  EXPECT_EQ(vsart_cuda_malloc(0, &empty), VSART_OK);
  EXPECT_EQ(empty, nullptr);
}

// ---- gemm -------------------------------------------------------------------

struct GemmCase {
  const char *name;
  int64_t m, n, k;
  int ta, tb;
  float alpha;
  bool bias;
  vsart_epilogue_t epi;
  int64_t pad, batch;
  bool broadcastB; // stride_b == 0
};

void PrintTo(const GemmCase &c, std::ostream *os) { *os << c.name; }

class CudaGemm : public CudaParamTest<GemmCase> {};

TEST_P(CudaGemm, MatchesCpu) {
  const GemmCase &c = GetParam();
  const int64_t lda = (c.ta ? c.m : c.k) + c.pad, ldb = (c.tb ? c.k : c.n) + c.pad;
  const int64_t ldc = c.n + c.pad;
  const int64_t sa = (c.ta ? c.k : c.m) * lda, sbOne = (c.tb ? c.n : c.k) * ldb;
  const int64_t sb = c.broadcastB ? 0 : sbOne, sc = c.m * ldc;
  auto a = randomVec(size_t(sa * c.batch), 1);
  auto b = randomVec(size_t(c.broadcastB ? sbOne : sbOne * c.batch), 2);
  auto bias = randomVec(size_t(c.n), 4);
  std::vector<float> ref(size_t(sc * c.batch), 0.0f);
  for (int64_t i = 0; i < c.batch; ++i)
    ASSERT_EQ(vsart_cpu_gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha,
                             a.data() + i * sa, lda, b.data() + i * sb, ldb,
                             0.0f, ref.data() + i * sc, ldc,
                             c.bias ? bias.data() : nullptr, c.epi),
              VSART_OK);
  DeviceBuffer da(a), db(b), dbias(bias), dc(ref.size());
  dc.poison();
  ASSERT_EQ(vsart_cuda_gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, da.data(), lda,
                            sa, db.data(), ldb, sb, dc.data(), ldc, sc, c.batch,
                            c.bias ? dbias.data() : nullptr, c.epi, nullptr),
            VSART_OK)
      << vsart_last_error();
  std::vector<float> got = dc.download();
  for (int64_t i = 0; i < c.batch; ++i) // padding columns are not outputs
    for (int64_t r = 0; r < c.m; ++r)
      for (int64_t j = c.n; j < ldc; ++j)
        got[size_t(i * sc + r * ldc + j)] = 0.0f;
  expectNear(got, ref, "gemm");
}

const GemmCase kGemmCases[] = {
    {"1x1x1", 1, 1, 1, 0, 0, 1.0f, false, VSART_EPILOGUE_NONE, 0, 1, false},
    {"7x5x3", 7, 5, 3, 0, 0, 1.0f, false, VSART_EPILOGUE_NONE, 0, 1, false},
    {"13x17x19_ta_bias_pad3", 13, 17, 19, 1, 0, 0.5f, true, VSART_EPILOGUE_NONE,
     3, 1, false},
    {"13x17x19_tb_tanh_pad1", 13, 17, 19, 0, 1, 1.0f, false,
     VSART_EPILOGUE_GELU_TANH, 1, 1, false},
    {"13x17x19_ta_tb_bias_erf", 13, 17, 19, 1, 1, -1.5f, true,
     VSART_EPILOGUE_GELU_ERF, 0, 1, false},
    {"70x300x270_bias_tanh", 70, 300, 270, 0, 0, 1.0f, true,
     VSART_EPILOGUE_GELU_TANH, 0, 1, false},
    {"129x257x513_ta_tb_bias_erf_pad5", 129, 257, 513, 1, 1, 0.125f, true,
     VSART_EPILOGUE_GELU_ERF, 5, 1, false},
    {"256x512x384_tb_bias", 256, 512, 384, 0, 1, 1.0f, true,
     VSART_EPILOGUE_NONE, 0, 1, false},
    {"65x33x0_bias_k0", 65, 33, 0, 0, 0, 1.0f, true, VSART_EPILOGUE_GELU_TANH,
     0, 1, false},
    {"64x96x128_batch3_broadcastB_bias_tanh", 64, 96, 128, 0, 0, 1.0f, true,
     VSART_EPILOGUE_GELU_TANH, 0, 3, true},
    {"33x40x24_batch4_ta_erf", 33, 40, 24, 1, 0, 2.0f, false,
     VSART_EPILOGUE_GELU_ERF, 0, 4, false},
    {"48x64x80_batch2_tb_bias_pad8", 48, 64, 80, 0, 1, 1.0f, true,
     VSART_EPILOGUE_NONE, 8, 2, false},
};

INSTANTIATE_TEST_SUITE_P(, CudaGemm, testing::ValuesIn(kGemmCases),
                         [](const testing::TestParamInfo<GemmCase> &info) {
                           return std::string(info.param.name);
                         });

using CudaGemmArgs = CudaTest;

TEST_F(CudaGemmArgs, RejectsBadArguments) {
  EXPECT_EQ(vsart_cuda_gemm(0, 0, 2, 2, 2, 1.0f, nullptr, 1, 0, nullptr, 2, 0,
                            nullptr, 2, 0, 1, nullptr, VSART_EPILOGUE_NONE,
                            nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cuda_gemm(0, 0, 2, 2, 2, 1.0f, nullptr, 2, 0, nullptr, 2, 0,
                            nullptr, 2, 0, 1, nullptr,
                            static_cast<vsart_epilogue_t>(3), nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cuda_gemm(0, 0, 0, 2, 2, 1.0f, nullptr, 2, 0, nullptr, 2, 0,
                            nullptr, 2, 0, 1, nullptr, VSART_EPILOGUE_NONE,
                            nullptr),
            VSART_OK);
}

// ---- attention --------------------------------------------------------------

enum Layout { BHSD, BSHD };

struct AttnCase {
  const char *name;
  int64_t b, h, hkv, sq, skv, d;
  int64_t mask[4]; // mask dims; mask[0] == 0: no mask
  bool maskRows;   // fully mask query rows 0 and 3
  Layout layout;
  int64_t offset; // elements added to every pointer (1: unaligned path)
  float scale = 0; // 0: 1 / sqrt(d)
};

/// Strides of a (b, heads, seq, d) tensor in `layout`.
void stridesOf(Layout layout, int64_t heads, int64_t seq, int64_t d,
               int64_t out[3]) {
  if (layout == BHSD)
    out[0] = heads * seq * d, out[1] = seq * d, out[2] = d;
  else
    out[0] = seq * heads * d, out[1] = d, out[2] = heads * d;
}

std::vector<float> makeMask(const AttnCase &c) {
  const int64_t *md = c.mask;
  auto mask = randomVec(size_t(md[0] * md[1] * md[2] * md[3]), 14, -3, 1);
  std::mt19937 rng(15);
  for (float &m : mask) // sprinkle -inf
    if (rng() % 5 == 0)
      m = kNegInf;
  if (c.maskRows && md[2] > 1)
    for (int64_t r = 0; r < md[0] * md[1]; ++r)
      for (int64_t i : {int64_t(0), int64_t(3)})
        if (i < md[2])
          for (int64_t j = 0; j < md[3]; ++j)
            mask[size_t((r * md[2] + i) * md[3] + j)] = kNegInf;
  return mask;
}

const char *pathName(vsart_attention_path_t path) {
  return path == VSART_ATTENTION_OWN     ? "own"
         : path == VSART_ATTENTION_CUDNN ? "cudnn"
                                         : "auto";
}

void PrintTo(const std::tuple<AttnCase, vsart_attention_path_t> &p,
             std::ostream *os) {
  *os << std::get<0>(p).name << "_" << pathName(std::get<1>(p));
}

/// Selects an attention path for one test; restores AUTO afterwards.
class PathGuard {
public:
  explicit PathGuard(vsart_attention_path_t path) {
    EXPECT_EQ(vsart_cuda_set_attention_path(path), VSART_OK);
  }
  ~PathGuard() { vsart_cuda_set_attention_path(VSART_ATTENTION_AUTO); }
  PathGuard(const PathGuard &) = delete;
  PathGuard &operator=(const PathGuard &) = delete;
};

/// Cases cuDNN's fused attention must run (no mask, head_dim 64 or 128, at
/// least one key, aligned, one kv head per head); others may be refused.
bool cudnnMustRun(const AttnCase &c) {
  return c.mask[0] == 0 && (c.d == 64 || c.d == 128) && c.skv > 0 &&
         c.offset == 0 && c.h == c.hkv;
}

using AttnParam = std::tuple<AttnCase, vsart_attention_path_t>;

class CudaAttention : public CudaParamTest<AttnParam> {};

// Each case runs on our kernel (_own) and on cuDNN's fused attention
// (_cudnn; skipped when cuDNN does not load, or refuses a case it need not
// run).
TEST_P(CudaAttention, MatchesCpu) {
  const AttnCase &c = std::get<0>(GetParam());
  const vsart_attention_path_t path = std::get<1>(GetParam());
  if (path == VSART_ATTENTION_CUDNN && vsart_cuda_cudnn_version() == 0)
    GTEST_SKIP() << "cuDNN 9 does not load";
  PathGuard guard(path);
  const int64_t off = c.offset;
  auto q = randomVec(size_t(c.b * c.h * c.sq * c.d + off), 11, -2, 2);
  auto k = randomVec(size_t(c.b * c.hkv * c.skv * c.d + off), 12, -2, 2);
  auto v = randomVec(size_t(c.b * c.hkv * c.skv * c.d + off), 13);
  std::vector<float> mask = c.mask[0] ? makeMask(c) : std::vector<float>();
  std::vector<float> ref(size_t(c.b * c.h * c.sq * c.d + off), 0.0f);

  vsart_attention_args_t a = {};
  a.batch = c.b, a.num_heads = c.h, a.num_kv_heads = c.hkv;
  a.seq_q = c.sq, a.seq_kv = c.skv, a.head_dim = c.d;
  stridesOf(c.layout, c.h, c.sq, c.d, a.q_strides);
  stridesOf(c.layout, c.hkv, c.skv, c.d, a.k_strides);
  stridesOf(c.layout, c.hkv, c.skv, c.d, a.v_strides);
  stridesOf(c.layout, c.h, c.sq, c.d, a.out_strides);
  a.scale = c.scale != 0 ? c.scale : 1.0f / std::sqrt(float(c.d));
  for (int i = 0; i < 4; ++i)
    a.mask_dims[i] = c.mask[i];

  vsart_attention_args_t cpu = a;
  cpu.q = q.data() + off, cpu.k = k.data() + off, cpu.v = v.data() + off;
  cpu.out = ref.data() + off;
  cpu.mask = c.mask[0] ? mask.data() : nullptr;
  ASSERT_EQ(vsart_cpu_attention_strided(&cpu), VSART_OK) << vsart_last_error();

  DeviceBuffer dq(q), dk(k), dv(v), dout(ref.size());
  DeviceBuffer dmask(std::max<size_t>(mask.size(), 1));
  if (c.mask[0])
    dmask.upload(mask);
  dout.poison();
  a.q = dq.data() + off, a.k = dk.data() + off, a.v = dv.data() + off;
  a.out = dout.data() + off;
  a.mask = c.mask[0] ? dmask.data() : nullptr;
  const vsart_status_t st = vsart_cuda_attention(&a, nullptr);
  if (st != VSART_OK && path == VSART_ATTENTION_CUDNN && !cudnnMustRun(c))
    GTEST_SKIP() << "cuDNN refused: " << vsart_last_error();
  ASSERT_EQ(st, VSART_OK) << vsart_last_error();
  std::vector<float> got = dout.download();
  std::fill(got.begin(), got.begin() + off, 0.0f); // not an output
  expectNear(got, ref, "attention");
  if (!c.maskRows)
    return;
  for (int64_t bi = 0; bi < c.b; ++bi) // fully masked rows are exactly 0
    for (int64_t hi = 0; hi < c.h; ++hi)
      for (int64_t i : {int64_t(0), int64_t(3)})
        for (int64_t d = 0; i < c.sq && d < c.d; ++d) {
          const int64_t at = off + bi * a.out_strides[0] +
                             hi * a.out_strides[1] + i * a.out_strides[2] + d;
          ASSERT_EQ(got[size_t(at)], 0.0f) << "row " << i;
        }
}

const AttnCase kAttnCases[] = {
    {"single_d64", 1, 1, 1, 1, 1, 64, {0, 0, 0, 0}, false, BHSD, 0},
    {"gqa_tails_d64", 1, 4, 2, 37, 70, 64, {0, 0, 0, 0}, false, BHSD, 0},
    {"full_tiles_d128", 2, 2, 2, 128, 128, 128, {0, 0, 0, 0}, false, BHSD, 0},
    {"mask_bcast_bq_d128", 1, 3, 1, 200, 333, 128, {1, 3, 1, 333}, false, BHSD,
     0},
    {"mask_full_rows_d64", 2, 6, 2, 65, 66, 64, {2, 6, 65, 66}, true, BHSD, 0},
    {"mask_bcast_bh_rows_d128", 2, 4, 1, 40, 100, 128, {1, 1, 40, 100}, true,
     BHSD, 0},
    {"mask_bcast_hq_d80", 3, 2, 2, 33, 17, 80, {3, 1, 1, 17}, false, BHSD, 0},
    {"one_key_rows_d64", 1, 2, 1, 9, 1, 64, {1, 2, 9, 1}, true, BHSD, 0},
    {"no_keys_d64", 1, 2, 2, 4, 0, 64, {0, 0, 0, 0}, false, BHSD, 0},
    {"bshd_d80", 1, 2, 2, 150, 300, 80, {0, 0, 0, 0}, false, BSHD, 0},
    {"bshd_gqa_mask_d128", 2, 4, 2, 100, 257, 128, {1, 4, 100, 257}, false,
     BSHD, 0},
    {"bshd_d128_long", 1, 2, 2, 300, 1000, 128, {0, 0, 0, 0}, false, BSHD, 0},
    {"gqa_d256", 1, 2, 1, 77, 190, 256, {0, 0, 0, 0}, false, BHSD, 0},
    {"bshd_d200_mask", 1, 2, 2, 70, 90, 200, {1, 1, 70, 90}, true, BSHD, 0},
    {"odd_d7_unaligned", 1, 2, 2, 50, 60, 7, {0, 0, 0, 0}, false, BHSD, 0},
    {"offset_d64_unaligned", 1, 2, 2, 130, 129, 64, {0, 0, 0, 0}, false, BSHD,
     1},
    {"offset_d128_mask_unaligned", 1, 2, 1, 70, 150, 128, {1, 2, 70, 150},
     true, BHSD, 3},
    {"d32", 2, 2, 2, 45, 77, 32, {0, 0, 0, 0}, false, BSHD, 0},
    {"long_d128", 1, 2, 1, 1000, 1000, 128, {0, 0, 0, 0}, false, BHSD, 0},
    {"long_keys_d64", 1, 1, 1, 64, 4096, 64, {1, 1, 1, 4096}, false, BHSD, 0},
    // A sharp softmax moves the running max often (rescaling path).
    {"sharp_scale_d128", 1, 2, 2, 200, 700, 128, {0, 0, 0, 0}, false, BSHD, 0,
     0.5f},
    {"negative_scale_d64", 1, 2, 1, 90, 200, 64, {0, 0, 0, 0}, false, BHSD, 0,
     -0.3f},
};

INSTANTIATE_TEST_SUITE_P(
    , CudaAttention,
    testing::Combine(testing::ValuesIn(kAttnCases),
                     testing::Values(VSART_ATTENTION_OWN,
                                     VSART_ATTENTION_CUDNN)),
    [](const testing::TestParamInfo<AttnParam> &info) {
      return std::string(std::get<0>(info.param).name) + "_" +
             pathName(std::get<1>(info.param));
    });

using CudaAttentionArgs = CudaTest;

TEST_F(CudaAttentionArgs, RejectsBadArguments) {
  vsart_attention_args_t a = {};
  a.batch = 1, a.num_heads = 3, a.num_kv_heads = 2, a.seq_q = 2, a.seq_kv = 2;
  a.head_dim = 8;
  EXPECT_EQ(vsart_cuda_attention(&a, nullptr), VSART_ERROR_INVALID_ARGUMENT);
  a.num_heads = 2, a.head_dim = 300;
  DeviceBuffer x(size_t(2 * 2 * 300));
  a.q = a.k = a.v = a.out = x.data();
  EXPECT_EQ(vsart_cuda_attention(&a, nullptr), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cuda_attention(nullptr, nullptr), VSART_ERROR_INVALID_ARGUMENT);
}

// ---- norms and softmax --------------------------------------------------------

struct RowCase {
  const char *name;
  int64_t rows, dim;
  int variant; // norms: 0 none, 1 scale, 2 scale + bias; softmax: unused
  bool inPlace;
};

void PrintTo(const RowCase &c, std::ostream *os) { *os << c.name; }

enum class RowKind { LayerNorm, RmsNorm };

void runNorm(RowKind kind, const RowCase &c) {
  auto x = randomVec(size_t(c.rows * c.dim), 21, -3, 5);
  auto scale = randomVec(size_t(c.dim), 22), bias = randomVec(size_t(c.dim), 23);
  const bool useScale = c.variant >= 1, useBias = c.variant >= 2;
  const float eps = 1e-5f;
  std::vector<float> ref(x.size());
  auto cpu = kind == RowKind::LayerNorm ? vsart_cpu_layer_norm : vsart_cpu_rms_norm;
  auto gpu = kind == RowKind::LayerNorm ? vsart_cuda_layer_norm : vsart_cuda_rms_norm;
  ASSERT_EQ(cpu(x.data(), ref.data(), c.rows, c.dim,
                useScale ? scale.data() : nullptr,
                useBias ? bias.data() : nullptr, eps),
            VSART_OK);
  DeviceBuffer dx(x), ds(scale), db(bias), dout(x.size());
  dout.poison();
  DeviceBuffer &dst = c.inPlace ? dx : dout;
  ASSERT_EQ(gpu(dx.data(), dst.data(), c.rows, c.dim,
                useScale ? ds.data() : nullptr, useBias ? db.data() : nullptr,
                eps, nullptr),
            VSART_OK)
      << vsart_last_error();
  expectNear(dst.download(), ref,
             kind == RowKind::LayerNorm ? "layer_norm" : "rms_norm");
}

const RowCase kRowCases[] = {
    {"1x1", 1, 1, 2, false},          {"7x13_scale", 7, 13, 1, false},
    {"33x1025_bias", 33, 1025, 2, false}, {"64x1536_vec", 64, 1536, 2, false},
    {"100x64_vec_plain", 100, 64, 0, false},
    {"50x5120_vec_inplace", 50, 5120, 2, true},
    {"9x31_inplace", 9, 31, 1, true},
};

class CudaLayerNorm : public CudaParamTest<RowCase> {};
class CudaRmsNorm : public CudaParamTest<RowCase> {};
class CudaSoftmax : public CudaParamTest<RowCase> {};

TEST_P(CudaLayerNorm, MatchesCpu) { runNorm(RowKind::LayerNorm, GetParam()); }
TEST_P(CudaRmsNorm, MatchesCpu) { runNorm(RowKind::RmsNorm, GetParam()); }

TEST_P(CudaSoftmax, MatchesCpu) {
  const RowCase &c = GetParam();
  auto x = randomVec(size_t(c.rows * c.dim), 41, -10, 10);
  if (c.rows > 2)
    for (int64_t i = 0; i < c.dim; ++i)
      x[size_t(2 * c.dim + i)] = kNegInf; // fully masked row -> 0
  if (c.rows > 5)
    for (int64_t i = 0; i < c.dim; i += 2)
      x[size_t(5 * c.dim + i)] = kNegInf; // partially masked row
  std::vector<float> ref(x.size());
  ASSERT_EQ(vsart_cpu_softmax(x.data(), ref.data(), c.rows, c.dim), VSART_OK);
  DeviceBuffer dx(x), dout(x.size());
  dout.poison();
  DeviceBuffer &dst = c.inPlace ? dx : dout;
  ASSERT_EQ(vsart_cuda_softmax(dx.data(), dst.data(), c.rows, c.dim, nullptr),
            VSART_OK)
      << vsart_last_error();
  expectNear(dst.download(), ref, "softmax");
}

auto rowName = [](const testing::TestParamInfo<RowCase> &info) {
  return std::string(info.param.name);
};
INSTANTIATE_TEST_SUITE_P(, CudaLayerNorm, testing::ValuesIn(kRowCases),
                         rowName);
INSTANTIATE_TEST_SUITE_P(, CudaRmsNorm, testing::ValuesIn(kRowCases),
                         rowName);
INSTANTIATE_TEST_SUITE_P(, CudaSoftmax, testing::ValuesIn(kRowCases),
                         rowName);

// ---- timings of the Wan 2.1 shapes (disabled by default) -----------------------

using CudaPerf = CudaTest;

/// Median wall time of `reps` synchronised runs of fn, after one warm-up.
template <class F> double medianMs(int reps, F &&fn) {
  fn();
  EXPECT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK);
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    EXPECT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK);
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

/// Times bf16 attention over batch 1, H heads, S tokens, head_dim D in the
/// (b, s, h, d) layout on `path`, then checks three query rows against the
/// CPU.
void timeAttention(int64_t H, int64_t S, int64_t D,
                   vsart_attention_path_t path = VSART_ATTENTION_AUTO) {
  PathGuard guard(path);
  auto q = randomVec(size_t(S * H * D), 11, -2, 2);
  auto k = randomVec(size_t(S * H * D), 12, -2, 2);
  auto v = randomVec(size_t(S * H * D), 13);
  DeviceBuffer dq(q), dk(k), dv(v), dout(q.size());
  dout.poison();
  vsart_attention_args_t a = {};
  a.batch = 1, a.num_heads = H, a.num_kv_heads = H, a.seq_q = S, a.seq_kv = S;
  a.head_dim = D, a.scale = 1.0f / std::sqrt(float(D));
  for (int64_t *s : {a.q_strides, a.k_strides, a.v_strides, a.out_strides})
    stridesOf(BSHD, H, S, D, s);
  a.q = dq.data(), a.k = dk.data(), a.v = dv.data(), a.out = dout.data();
  const double ms = medianMs(5, [&] {
    ASSERT_EQ(vsart_cuda_attention(&a, nullptr), VSART_OK) << vsart_last_error();
  });
  const double flops = 4.0 * S * S * D * H;
  std::printf("[ perf     ] attention 1x%lldx%lldx%lld (bshd, %s): %.3f ms, "
              "%.1f TFLOP/s\n",
              (long long)H, (long long)S, (long long)D, pathName(path), ms,
              flops / ms / 1e9);
  std::vector<float> got = dout.download(), gotRows, refRows;
  for (int64_t row : {int64_t(0), S / 3, S - 1}) {
    std::vector<float> ref(size_t(H * D));
    vsart_attention_args_t cpu = a; // one query row, every head
    cpu.seq_q = 1;
    cpu.q = q.data() + row * H * D, cpu.k = k.data(), cpu.v = v.data();
    cpu.out = ref.data();
    ASSERT_EQ(vsart_cpu_attention_strided(&cpu), VSART_OK);
    refRows.insert(refRows.end(), ref.begin(), ref.end());
    gotRows.insert(gotRows.end(), got.begin() + row * H * D,
                   got.begin() + (row + 1) * H * D);
  }
  expectNear(gotRows, refRows, "attention rows");
}

/// Wan 2.1 self-attention: 12 heads x 128, 32760 tokens.
TEST_F(CudaPerf, DISABLED_WanAttention) { timeAttention(12, 32760, 128); }

TEST_F(CudaPerf, DISABLED_AttentionD64) { timeAttention(16, 16384, 64); }

/// The Wan 2.1 shape on each path: our kernel, then cuDNN's fused attention.
TEST_F(CudaPerf, DISABLED_WanAttentionPaths) {
  timeAttention(12, 32760, 128, VSART_ATTENTION_OWN);
  if (vsart_cuda_cudnn_version() == 0)
    GTEST_SKIP() << "cuDNN 9 does not load";
  std::printf("[ perf     ] cuDNN %d\n", vsart_cuda_cudnn_version());
  timeAttention(12, 32760, 128, VSART_ATTENTION_CUDNN);
  timeAttention(16, 16384, 64, VSART_ATTENTION_OWN);
  timeAttention(16, 16384, 64, VSART_ATTENTION_CUDNN);
}

/// Wan 2.1 1.3B FFN up-projection: 32760 x 8960 x 1536, bias + GELU(tanh).
TEST_F(CudaPerf, DISABLED_WanGemm) {
  const int64_t M = 32760, N = 8960, K = 1536;
  DeviceBuffer a(randomVec(size_t(M * K), 1)), b(randomVec(size_t(K * N), 2));
  DeviceBuffer bias(randomVec(size_t(N), 3)), c(size_t(M * N));
  const double ms = medianMs(5, [&] {
    ASSERT_EQ(vsart_cuda_gemm(0, 0, M, N, K, 1.0f, a.data(), K, 0, b.data(), N,
                              0, c.data(), N, 0, 1, bias.data(),
                              VSART_EPILOGUE_GELU_TANH, nullptr),
              VSART_OK)
        << vsart_last_error();
  });
  std::printf("[ perf     ] gemm %lldx%lldx%lld bias+gelu: %.3f ms, %.1f "
              "TFLOP/s\n",
              (long long)M, (long long)N, (long long)K, ms,
              2.0 * M * N * K / ms / 1e9);
}

} // namespace

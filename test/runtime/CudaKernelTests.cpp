// CUDA kernels (bf16 storage, fp32 math) against their fp32 CPU twins run on
// the same bf16-rounded inputs. Every test skips when no GPU is usable. Each
// comparison prints a "[ stats ]" line (max abs error, max error relative to
// max |ref|, relative L2 error) so failures can be diagnosed from a log.
// Names are Suite.Test/case, e.g. CudaAttention.MatchesCpu/bshd_d80_own
// (attention cases run on our kernel, _own, and on cuDNN, _cudnn); filter
// examples: --gtest_filter='CudaAttention.*', '*bshd*', '*_cudnn',
// 'CudaGemm.*erf*'.
// CudaBlockSparse.* compares vsart_cuda_block_sparse_attention with its CPU
// twin (uneven and big blocks, every list scope, layouts, GQA, empty and
// full lists).
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
#include <iterator>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <utility>
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

// ---- FP8: row quantization and scaled gemm ---------------------------------

/// Raw device bytes; freed on destruction.
class DeviceBytes {
public:
  explicit DeviceBytes(size_t bytes) : bytes_(bytes) {
    EXPECT_EQ(vsart_cuda_malloc(bytes, &ptr_), VSART_OK) << vsart_last_error();
  }
  template <class T> explicit DeviceBytes(const std::vector<T> &host)
      : DeviceBytes(host.size() * sizeof(T)) {
    EXPECT_EQ(vsart_cuda_upload(ptr_, host.data(), bytes_, nullptr), VSART_OK);
  }
  ~DeviceBytes() { vsart_cuda_free(ptr_); }
  DeviceBytes(const DeviceBytes &) = delete;
  DeviceBytes &operator=(const DeviceBytes &) = delete;
  void *data() { return ptr_; }
  template <class T> std::vector<T> download() {
    EXPECT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK) << vsart_last_error();
    std::vector<T> out(bytes_ / sizeof(T));
    EXPECT_EQ(vsart_cuda_download(out.data(), ptr_, bytes_, nullptr), VSART_OK);
    return out;
  }

private:
  void *ptr_ = nullptr;
  size_t bytes_;
};

/// `x` (rows x cols, ld apart) quantized per row by the CPU twin.
std::pair<std::vector<uint8_t>, std::vector<float>>
cpuQuantize(const std::vector<float> &x, int64_t rows, int64_t cols,
            int64_t ld) {
  std::vector<uint8_t> q(size_t(rows * cols));
  std::vector<float> s(static_cast<size_t>(rows));
  EXPECT_EQ(vsart_cpu_quantize_rows(x.data(), rows, cols, ld, q.data(),
                                    s.data()),
            VSART_OK)
      << vsart_last_error();
  return {q, s};
}

/// `w` (n x k) quantized per row by the CPU twin, in F8E4M3_ROWS storage
/// (the bytes, then the scales).
std::vector<uint8_t> f8RowsWeight(const std::vector<float> &w, int64_t n,
                                  int64_t k) {
  const auto [wq, ws] = cpuQuantize(w, n, k, k);
  const size_t at = vsart_f8_rows_scales_offset(n * k);
  std::vector<uint8_t> stored(at + ws.size() * 4);
  std::memcpy(stored.data(), wq.data(), wq.size());
  std::memcpy(stored.data() + at, ws.data(), ws.size() * 4);
  return stored;
}

struct QuantCase {
  const char *name;
  int64_t rows, cols, ld;
  float lo, hi;
};

class CudaQuantize : public CudaParamTest<QuantCase> {};

// Bit-exact: the same bytes and scales as the CPU twin on the same bf16
// values (including a zero row, huge and tiny rows).
TEST_P(CudaQuantize, MatchesCpuBitExact) {
  const QuantCase &c = GetParam();
  std::vector<float> x = randomVec(size_t(c.rows * c.ld), 1, c.lo, c.hi);
  for (int64_t j = 0; j < c.cols; ++j) {
    x[size_t(j)] = 0.0f; // row 0 is zero
    if (c.rows > 2)
      x[size_t(2 * c.ld + j)] *= 1e-30f; // row 2 is tiny (subnormal scale)
  }
  x = roundBf16(x);
  const auto [q, s] = cpuQuantize(x, c.rows, c.cols, c.ld);
  DeviceBuffer dx(x);
  DeviceBytes dq(q.size()), ds(s.size() * 4);
  ASSERT_EQ(vsart_cuda_quantize_rows(dx.data(), c.rows, c.cols, c.ld,
                                     dq.data(),
                                     static_cast<float *>(ds.data()), nullptr),
            VSART_OK)
      << vsart_last_error();
  const std::vector<uint8_t> gq = dq.download<uint8_t>();
  const std::vector<float> gs = ds.download<float>();
  size_t bad = 0;
  for (size_t i = 0; i < q.size(); ++i)
    if (gq[i] != q[i] && ++bad <= 5)
      ADD_FAILURE() << "byte " << i << ": got " << int(gq[i]) << ", expected "
                    << int(q[i]) << " (x = " << x[size_t(i / c.cols * c.ld + i % c.cols)] << ")";
  EXPECT_EQ(bad, 0u);
  for (size_t r = 0; r < s.size(); ++r)
    EXPECT_EQ(gs[r], s[r]) << "scale of row " << r;
}

const QuantCase kQuantCases[] = {
    {"1x8", 1, 8, 8, -1.0f, 1.0f},
    {"9x40_ld48", 9, 40, 48, -3.0f, 3.0f},
    {"33x1536", 33, 1536, 1536, -100.0f, 100.0f},
    {"17x8960_ld8968", 17, 8960, 8968, -0.01f, 0.01f},
    {"5x6144", 5, 6144, 6144, -2.0f, 2.0f}, // the longest in a warp
    {"3x6152_ld6160", 3, 6152, 6160, -2.0f, 2.0f}, // the shortest in a CTA
    {"2x16384", 2, 16384, 16384, -2.0f, 2.0f},     // the longest in a CTA
    {"2x16392", 2, 16392, 16392, -2.0f, 2.0f},     // read twice
};

INSTANTIATE_TEST_SUITE_P(, CudaQuantize, testing::ValuesIn(kQuantCases),
                         [](const testing::TestParamInfo<QuantCase> &info) {
                           return std::string(info.param.name);
                         });

struct ScaledGemmCase {
  const char *name;
  int64_t m, n, k;
  float alpha;
  bool bias;
  vsart_epilogue_t epi;
};

class CudaScaledGemm : public CudaParamTest<ScaledGemmCase> {};

// Against the CPU twin on the same quantized operands: the only differences
// are summation order and the bf16 output.
TEST_P(CudaScaledGemm, MatchesCpu) {
  const ScaledGemmCase &c = GetParam();
  const std::vector<float> a = randomVec(size_t(c.m * c.k), 1, -2.0f, 2.0f);
  const std::vector<float> w = randomVec(size_t(c.n * c.k), 2, -0.05f, 0.05f);
  const std::vector<float> bias = randomVec(size_t(c.n), 3);
  const auto [aq, as] = cpuQuantize(a, c.m, c.k, c.k);
  const std::vector<uint8_t> wStored = f8RowsWeight(w, c.n, c.k);
  std::vector<float> ref(size_t(c.m * c.n));
  ASSERT_EQ(vsart_cpu_scaled_gemm(c.m, c.n, c.k, c.alpha, aq.data(), as.data(),
                                  wStored.data(), ref.data(), c.n,
                                  c.bias ? bias.data() : nullptr, c.epi),
            VSART_OK)
      << vsart_last_error();
  DeviceBytes daq(aq), das(as), dw(wStored);
  DeviceBuffer dbias(bias), dc(ref.size());
  dc.poison();
  ASSERT_EQ(vsart_cuda_scaled_gemm(c.m, c.n, c.k, c.alpha, daq.data(),
                                   static_cast<const float *>(das.data()),
                                   dw.data(), dc.data(), c.n,
                                   c.bias ? dbias.data() : nullptr, c.epi,
                                   nullptr),
            VSART_OK)
      << vsart_last_error();
  expectNear(dc.download(), ref, "scaled_gemm");
}

const ScaledGemmCase kScaledGemmCases[] = {
    {"16x8x16", 16, 8, 16, 1.0f, false, VSART_EPILOGUE_NONE},
    {"5x24x48_bias", 5, 24, 48, 1.0f, true, VSART_EPILOGUE_NONE},
    {"129x256x512_bias_tanh", 129, 256, 512, 1.0f, true,
     VSART_EPILOGUE_GELU_TANH},
    {"300x1536x1536_bias", 300, 1536, 1536, 1.0f, true, VSART_EPILOGUE_NONE},
    {"77x96x4096_alpha_erf", 77, 96, 4096, 0.5f, false,
     VSART_EPILOGUE_GELU_ERF},
    {"64x8960x1536_bias_tanh", 64, 8960, 1536, 1.0f, true,
     VSART_EPILOGUE_GELU_TANH},
};

INSTANTIATE_TEST_SUITE_P(, CudaScaledGemm, testing::ValuesIn(kScaledGemmCases),
                         [](const testing::TestParamInfo<ScaledGemmCase> &info) {
                           return std::string(info.param.name);
                         });

using CudaScaledGemmArgs = CudaTest;

TEST_F(CudaScaledGemmArgs, RejectsBadArguments) {
  DeviceBytes q(64 * 24), w(64 * 24 + 256), s(256), c(64 * 64 * 2);
  auto *sp = static_cast<const float *>(s.data());
  // k not a multiple of 16, ldc not a multiple of 8, no row scales.
  EXPECT_EQ(vsart_cuda_scaled_gemm(4, 8, 24, 1.0f, q.data(), sp, w.data(),
                                   c.data(), 8, nullptr, VSART_EPILOGUE_NONE,
                                   nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cuda_scaled_gemm(4, 6, 16, 1.0f, q.data(), sp, w.data(),
                                   c.data(), 6, nullptr, VSART_EPILOGUE_NONE,
                                   nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cuda_scaled_gemm(4, 8, 16, 1.0f, q.data(), nullptr, w.data(),
                                   c.data(), 8, nullptr, VSART_EPILOGUE_NONE,
                                   nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cuda_quantize_rows(q.data(), 4, 12, 12, c.data(),
                                     static_cast<float *>(s.data()), nullptr),
            VSART_ERROR_INVALID_ARGUMENT); // cols % 8
  EXPECT_EQ(vsart_cuda_scaled_gemm(0, 8, 16, 1.0f, nullptr, nullptr, w.data(),
                                   nullptr, 8, nullptr, VSART_EPILOGUE_NONE,
                                   nullptr),
            VSART_OK);
}

// The residual form: C = residual + gate * (scaled GEMM + bias), cuBLASLt
// adding the residual as its C and the gate folded into the weight's scales
// and the bias.
struct ScaledGemmResidualCase {
  const char *name;
  int64_t m, n, k, pad; // ldc = n + pad
  float alpha;
  bool bias, gate;
};

void PrintTo(const ScaledGemmResidualCase &c, std::ostream *os) {
  *os << c.name;
}

class CudaScaledGemmResidual
    : public CudaParamTest<ScaledGemmResidualCase> {};

/// The first n of every ldc values of m rows.
std::vector<float> leadingColumns(const std::vector<float> &v, int64_t m,
                                  int64_t n, int64_t ldc) {
  std::vector<float> out;
  for (int64_t i = 0; i < m; ++i)
    out.insert(out.end(), v.begin() + i * ldc, v.begin() + i * ldc + n);
  return out;
}

// Against the CPU twin on the same quantized operands (summation order, the
// bf16 output and the bf16 gated bias differ), and against the unfused GPU
// steps: vsart_cuda_scaled_gemm's bf16 output, then residual + gate * it on
// the host (which rounds the GEMM's output once more).
TEST_P(CudaScaledGemmResidual, MatchesCpuAndUnfusedSteps) {
  const ScaledGemmResidualCase &c = GetParam();
  const int64_t ldc = c.n + c.pad;
  const std::vector<float> a = randomVec(size_t(c.m * c.k), 1, -2.0f, 2.0f);
  const std::vector<float> w = randomVec(size_t(c.n * c.k), 2, -0.05f, 0.05f);
  const std::vector<float> bias = randomVec(size_t(c.n), 3);
  const std::vector<float> residual =
      randomVec(size_t(c.m * ldc), 4, -2.0f, 2.0f);
  const std::vector<float> gate = randomVec(size_t(c.n), 5, -1.5f, 1.5f);
  const auto [aq, as] = cpuQuantize(a, c.m, c.k, c.k);
  const std::vector<uint8_t> wStored = f8RowsWeight(w, c.n, c.k);
  std::vector<float> ref(residual.size());
  ASSERT_EQ(vsart_cpu_scaled_gemm_residual(
                c.m, c.n, c.k, c.alpha, aq.data(), as.data(), wStored.data(),
                ref.data(), ldc, c.bias ? bias.data() : nullptr,
                residual.data(), c.gate ? gate.data() : nullptr),
            VSART_OK)
      << vsart_last_error();
  DeviceBytes daq(aq), das(as), dw(wStored);
  DeviceBuffer dbias(bias), dres(residual), dgate(gate), dc(ref.size()),
      dplain(ref.size());
  dc.poison();
  const auto *asp = static_cast<const float *>(das.data());
  ASSERT_EQ(vsart_cuda_scaled_gemm_residual(
                c.m, c.n, c.k, c.alpha, daq.data(), asp, dw.data(), dc.data(),
                ldc, c.bias ? dbias.data() : nullptr, dres.data(),
                c.gate ? dgate.data() : nullptr, nullptr),
            VSART_OK)
      << vsart_last_error();
  const std::vector<float> got = dc.download();
  for (int64_t i = 0; i < c.m; ++i) // padding columns are not written
    for (int64_t j = c.n; j < ldc; ++j)
      EXPECT_TRUE(std::isnan(got[size_t(i * ldc + j)])) << i << "," << j;
  const std::vector<float> gotC = leadingColumns(got, c.m, c.n, ldc);
  const std::vector<float> refC = leadingColumns(ref, c.m, c.n, ldc);
  expectNear(gotC, refC, "scaled_gemm_residual");
  EXPECT_LT(vsart_test::relL2(gotC, refC), 1e-2);

  ASSERT_EQ(vsart_cuda_scaled_gemm(c.m, c.n, c.k, c.alpha, daq.data(), asp,
                                   dw.data(), dplain.data(), ldc,
                                   c.bias ? dbias.data() : nullptr,
                                   VSART_EPILOGUE_NONE, nullptr),
            VSART_OK)
      << vsart_last_error();
  const std::vector<float> plain = dplain.download();
  std::vector<float> unfused(ref.size());
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      const size_t at = size_t(i * ldc + j);
      unfused[at] =
          residual[at] + (c.gate ? gate[size_t(j)] : 1.0f) * plain[at];
    }
  // A few bf16 steps of the largest output: the rounding of the output, of
  // the unfused GEMM's output and of the gated bias.
  expectNear(gotC, leadingColumns(unfused, c.m, c.n, ldc), "vs unfused",
             1.0 / 128, 1.0 / 128);
}

const ScaledGemmResidualCase kScaledGemmResidualCases[] = {
    {"64x1536x1536", 64, 1536, 1536, 0, 1.0f, false, false},
    {"64x1536x1536_bias_gate", 64, 1536, 1536, 0, 1.0f, true, true},
    {"33x256x512_gate", 33, 256, 512, 0, 1.0f, false, true},
    {"33x256x512_bias_pad8", 33, 256, 512, 8, 0.5f, true, false},
    {"5x24x48_bias_gate_pad16_alpha", 5, 24, 48, 16, 0.75f, true, true},
};

INSTANTIATE_TEST_SUITE_P(
    , CudaScaledGemmResidual, testing::ValuesIn(kScaledGemmResidualCases),
    [](const testing::TestParamInfo<ScaledGemmResidualCase> &info) {
      return std::string(info.param.name);
    });

TEST_F(CudaScaledGemmArgs, ResidualRejectsBadArguments) {
  DeviceBytes q(64 * 32), w(64 * 32 + 256), s(256), c(64 * 64 * 2),
      r(64 * 64 * 2);
  auto *sp = static_cast<const float *>(s.data());
  auto call = [&](int64_t k, void *out, const void *residual, int64_t ldc) {
    return vsart_cuda_scaled_gemm_residual(4, 8, k, 1.0f, q.data(), sp,
                                           w.data(), out, ldc, nullptr,
                                           residual, nullptr, nullptr);
  };
  EXPECT_EQ(call(16, c.data(), c.data(), 8), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("c == residual"),
            std::string::npos)
      << vsart_last_error();
  EXPECT_EQ(call(16, c.data(), nullptr, 8), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(call(24, c.data(), r.data(), 8), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(call(16, c.data(), r.data(), 12), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(call(16, nullptr, r.data(), 8), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_cuda_scaled_gemm_residual(0, 8, 16, 1.0f, nullptr, nullptr,
                                            w.data(), nullptr, 8, nullptr,
                                            nullptr, nullptr, nullptr),
            VSART_OK);
}

// ---- the scaled GEMM with an FP8 output (vsart_cuda_scaled_gemm_quantize) --

/// Expects got and ref (E4M3 bytes) at most one rounding step apart:
/// adjacent codes of one sign, or values within atolRel * max |ref| of each
/// other (an accumulation error, which near zero may span several steps);
/// prints how many differ.
void expectWithinOneE4m3Step(const std::vector<uint8_t> &got,
                             const std::vector<uint8_t> &ref,
                             const std::string &what, double atolRel = 0.0) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  float maxRef = 0.0f;
  for (uint8_t r : ref)
    maxRef = std::max(maxRef, std::fabs(vsart_e4m3_to_float(r)));
  const float atol = float(atolRel) * maxRef;
  size_t bad = 0, differ = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == ref[i])
      continue;
    ++differ;
    const int g = got[i] & 0x7f, r = ref[i] & 0x7f;
    const bool adjacent =
        ((got[i] ^ ref[i]) & 0x80) == 0 && std::abs(g - r) <= 1;
    const float diff = std::fabs(vsart_e4m3_to_float(got[i]) -
                                 vsart_e4m3_to_float(ref[i]));
    if (!adjacent && !(diff <= atol) && ++bad <= 5)
      ADD_FAILURE() << what << " byte " << i << ": got " << int(got[i])
                    << " (" << vsart_e4m3_to_float(got[i]) << "), expected "
                    << int(ref[i]) << " (" << vsart_e4m3_to_float(ref[i])
                    << ")";
  }
  std::printf("[ stats    ] %s: %zu of %zu bytes differ, %zu by more than "
              "one step and %g\n",
              what.c_str(), differ, got.size(), bad, double(atol));
  std::fflush(stdout);
  EXPECT_EQ(bad, 0u) << what;
}

class CudaScaledGemmQuantize : public CudaParamTest<ScaledGemmCase> {};

// Against the CPU twin on the same operands (A from the per-tensor norm, W
// in F8E4M3_TENSOR storage, a bf16-exact bias): the same output scale (B
// from the same floats, in double), and bytes at most one E4M3 step apart
// (cuBLASLt's summation order and GELU) or within 1e-3 of the largest
// output: Hopper's fast FP8 accumulation (VSART_FP8_FAST_ACCUM) moves a few
// small outputs by up to 4e-4 of it on an H100 (with it off, every byte is
// within one step).
TEST_P(CudaScaledGemmQuantize, MatchesCpu) {
  const ScaledGemmCase &c = GetParam();
  std::vector<uint8_t> aq;
  std::vector<float> as;
  vsart_test::perTensorRows(c.m, c.k, 1, aq, as);
  const std::vector<float> w = randomVec(size_t(c.n * c.k), 4, -0.05f, 0.05f);
  const std::vector<float> bias = randomVec(size_t(c.n), 5);
  const std::vector<uint8_t> wStored = vsart_test::storeF8Tensor(w, c.n, c.k);
  std::vector<uint8_t> refQ(size_t(c.m * c.n));
  std::vector<float> refS(static_cast<size_t>(c.m));
  ASSERT_EQ(vsart_cpu_scaled_gemm_quantize(
                c.m, c.n, c.k, c.alpha, aq.data(), as.data(), wStored.data(),
                refQ.data(), refS.data(), c.bias ? bias.data() : nullptr,
                c.epi),
            VSART_OK)
      << vsart_last_error();
  DeviceBytes daq(aq), das(as), dw(wStored), dq(refQ.size()),
      ds(refS.size() * 4);
  DeviceBuffer dbias(bias);
  ASSERT_EQ(vsart_cuda_scaled_gemm_quantize(
                c.m, c.n, c.k, c.alpha, daq.data(),
                static_cast<const float *>(das.data()), dw.data(), dq.data(),
                static_cast<float *>(ds.data()),
                c.bias ? dbias.data() : nullptr, c.epi, nullptr),
            VSART_OK)
      << vsart_last_error();
  const std::vector<float> gotS = ds.download<float>();
  for (size_t r = 0; r < refS.size(); ++r)
    EXPECT_FLOAT_EQ(gotS[r], refS[r]) << "scale of row " << r;
  expectWithinOneE4m3Step(dq.download<uint8_t>(), refQ,
                          "scaled_gemm_quantize", 1e-3);
}

const ScaledGemmCase kScaledGemmQuantizeCases[] = {
    {"16x16x16", 16, 16, 16, 1.0f, false, VSART_EPILOGUE_NONE},
    {"5x32x48_bias", 5, 32, 48, 1.0f, true, VSART_EPILOGUE_NONE},
    {"300x256x512_bias_tanh", 300, 256, 512, 1.0f, true,
     VSART_EPILOGUE_GELU_TANH},
    {"129x1536x1536", 129, 1536, 1536, 1.0f, false, VSART_EPILOGUE_NONE},
    {"77x96x4096_alpha_tanh", 77, 96, 4096, 0.5f, false,
     VSART_EPILOGUE_GELU_TANH},
    {"200x8960x1536_bias_tanh_wan_ffn_up", 200, 8960, 1536, 1.0f, true,
     VSART_EPILOGUE_GELU_TANH},
};

INSTANTIATE_TEST_SUITE_P(
    , CudaScaledGemmQuantize, testing::ValuesIn(kScaledGemmQuantizeCases),
    [](const testing::TestParamInfo<ScaledGemmCase> &info) {
      return std::string(info.param.name);
    });

TEST_F(CudaScaledGemmArgs, QuantizeRejectsBadArguments) {
  DeviceBytes q(64 * 32), w(64 * 32 + 512), s(256), out(64 * 64), os(256);
  auto *sp = static_cast<const float *>(s.data());
  auto *osp = static_cast<float *>(os.data());
  auto call = [&](int64_t n, int64_t k, float *scales, vsart_epilogue_t epi) {
    return vsart_cuda_scaled_gemm_quantize(4, n, k, 1.0f, q.data(), sp,
                                           w.data(), out.data(), scales,
                                           nullptr, epi, nullptr);
  };
  const char *name = "cuda_scaled_gemm_quantize: ";
  vsart_test::expectRejected(call(16, 24, osp, VSART_EPILOGUE_NONE), name,
                             "k % 16");
  vsart_test::expectRejected(call(24, 16, osp, VSART_EPILOGUE_NONE), name,
                             "n % 16");
  vsart_test::expectRejected(call(16, 16, nullptr, VSART_EPILOGUE_NONE), name,
                             "null out_scales");
  vsart_test::expectRejected(call(16, 16, osp, VSART_EPILOGUE_GELU_ERF), name,
                             "erf GELU");
  vsart_test::expectRejected(
      vsart_cuda_scaled_gemm_quantize(-1, 16, 16, 1.0f, q.data(), sp,
                                      w.data(), out.data(), osp, nullptr,
                                      VSART_EPILOGUE_NONE, nullptr),
      name, "negative m");
  EXPECT_EQ(vsart_cuda_scaled_gemm_quantize(0, 16, 16, 1.0f, nullptr, nullptr,
                                            nullptr, nullptr, nullptr, nullptr,
                                            VSART_EPILOGUE_NONE, nullptr),
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
  // The log-sum-exp ring attention merges: our kernel's, and cuDNN's
  // softmax statistics where cuDNN took the case.
  if (path != VSART_ATTENTION_AUTO) {
    std::vector<float> lseRef(size_t(c.b * c.h * c.sq));
    ASSERT_EQ(vsart_cpu_attention_lse(&cpu, lseRef.data()), VSART_OK);
    void *dlse = nullptr;
    ASSERT_EQ(vsart_cuda_malloc(lseRef.size() * 4 + 4, &dlse), VSART_OK);
    ASSERT_EQ(vsart_cuda_attention_lse(&a, static_cast<float *>(dlse), nullptr),
              VSART_OK)
        << vsart_last_error();
    std::vector<float> lse(lseRef.size());
    ASSERT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK);
    ASSERT_EQ(vsart_cuda_download(lse.data(), dlse, lse.size() * 4, nullptr),
              VSART_OK);
    vsart_cuda_free(dlse);
    expectNear(lse, lseRef, "lse", 1e-3, 1e-3);
    std::vector<float> again = dout.download();
    std::fill(again.begin(), again.begin() + off, 0.0f);
    expectNear(again, ref, "attention (with lse)");
  }
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

// FP8 attention (cuDNN) against the CPU twin, which rounds q, k, v, the
// softmax numerators and the output alike (see the bound below), and
// within a few percent of exact attention.
struct Fp8AttnCase {
  const char *name;
  int64_t b, h, hkv, sq, skv, d;
  Layout layout;
};

void PrintTo(const Fp8AttnCase &c, std::ostream *os) { *os << c.name; }

class CudaFp8Attention : public CudaParamTest<Fp8AttnCase> {};

TEST_P(CudaFp8Attention, MatchesCpu) {
  const Fp8AttnCase &c = GetParam();
  if (vsart_cuda_cudnn_version() == 0)
    GTEST_SKIP() << "cuDNN 9 does not load";
  auto q = randomVec(size_t(c.b * c.h * c.sq * c.d), 41, -2, 2);
  auto k = randomVec(size_t(c.b * c.hkv * c.skv * c.d), 42, -2, 2);
  auto v = randomVec(size_t(c.b * c.hkv * c.skv * c.d), 43);
  vsart_attention_args_t a = {};
  a.batch = c.b, a.num_heads = c.h, a.num_kv_heads = c.hkv;
  a.seq_q = c.sq, a.seq_kv = c.skv, a.head_dim = c.d;
  a.scale = 1.0f / std::sqrt(float(c.d));
  stridesOf(c.layout, c.h, c.sq, c.d, a.q_strides);
  stridesOf(c.layout, c.hkv, c.skv, c.d, a.k_strides);
  stridesOf(c.layout, c.hkv, c.skv, c.d, a.v_strides);
  stridesOf(c.layout, c.h, c.sq, c.d, a.out_strides);
  a.fp8 = 1;
  std::vector<float> twin(q.size()), exact(q.size());
  vsart_attention_args_t cpu = a;
  cpu.q = q.data(), cpu.k = k.data(), cpu.v = v.data(), cpu.out = twin.data();
  ASSERT_EQ(vsart_cpu_attention_strided(&cpu), VSART_OK) << vsart_last_error();
  cpu.fp8 = 0, cpu.out = exact.data();
  ASSERT_EQ(vsart_cpu_attention_strided(&cpu), VSART_OK) << vsart_last_error();

  DeviceBuffer dq(q), dk(k), dv(v), dout(q.size());
  dout.poison();
  a.q = dq.data(), a.k = dk.data(), a.v = dv.data(), a.out = dout.data();
  ASSERT_EQ(vsart_cuda_attention(&a, nullptr), VSART_OK) << vsart_last_error();
  const std::vector<float> got = dout.download();
  const double vsTwin = vsart_test::relL2(got, twin);
  const double vsExact = vsart_test::relL2(got, exact);
  std::printf("[ stats    ] %s: rel L2 %.3g vs the CPU twin, %.3g vs exact\n",
              c.name, vsTwin, vsExact);
  // cuDNN rounds the numerators against each tile's running max, the twin
  // against the row's final one, so the two differ where the max moved; on
  // an H100 (cuDNN 9.19) 0.9e-2 to 3.2e-2, about half their distance from
  // exact attention.
  EXPECT_LT(vsTwin, 4e-2);
  EXPECT_LT(vsTwin, 0.6 * vsExact);
  EXPECT_LT(vsExact, 8e-2);
  EXPECT_LT(vsart_test::relL2(twin, exact), 8e-2);
}

const Fp8AttnCase kFp8AttnCases[] = {
    {"bshd_d128", 1, 2, 2, 300, 1000, 128, BSHD},
    {"bhsd_gqa_d64_batch2", 2, 4, 2, 130, 257, 64, BHSD},
    {"bshd_d256", 1, 2, 1, 200, 333, 256, BSHD},
    {"bshd_d80_odd_lengths", 1, 3, 3, 77, 515, 80, BSHD},
};

INSTANTIATE_TEST_SUITE_P(, CudaFp8Attention, testing::ValuesIn(kFp8AttnCases),
                         [](const testing::TestParamInfo<Fp8AttnCase> &info) {
                           return std::string(info.param.name);
                         });

using CudaAttentionArgs = CudaTest;

TEST_F(CudaAttentionArgs, RejectsBadFp8Arguments) {
  const int64_t H = 2, S = 64, D = 72; // head_dim not a multiple of 16
  DeviceBuffer x(size_t(H * S * D));
  vsart_attention_args_t a = {};
  a.batch = 1, a.num_heads = a.num_kv_heads = H, a.seq_q = a.seq_kv = S;
  a.head_dim = D, a.scale = 0.125f, a.fp8 = 1;
  for (int64_t *s : {a.q_strides, a.k_strides, a.v_strides, a.out_strides})
    stridesOf(BHSD, H, S, D, s);
  a.q = a.k = a.v = a.out = x.data();
  EXPECT_EQ(vsart_cuda_attention(&a, nullptr), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("multiple of 16"),
            std::string::npos)
      << vsart_last_error();
  a.mask = x.data();
  a.mask_dims[0] = a.mask_dims[1] = a.mask_dims[2] = a.mask_dims[3] = 1;
  EXPECT_EQ(vsart_cuda_attention(&a, nullptr), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("no mask"), std::string::npos)
      << vsart_last_error();
  float lse[H * S];
  a.mask = nullptr, a.head_dim = 64;
  EXPECT_EQ(vsart_cuda_attention_lse(&a, lse, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("only the dense"),
            std::string::npos)
      << vsart_last_error();
}

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

// ---- block-sparse attention -------------------------------------------------

/// A device copy of host integers (block offsets, lists); freed on
/// destruction.
template <class T> class DeviceArray {
public:
  explicit DeviceArray(const std::vector<T> &host) {
    EXPECT_EQ(vsart_cuda_malloc(host.size() * sizeof(T), &ptr_), VSART_OK)
        << vsart_last_error();
    if (!host.empty()) {
      EXPECT_EQ(vsart_cuda_upload(ptr_, host.data(), host.size() * sizeof(T),
                                  nullptr),
                VSART_OK)
          << vsart_last_error();
    }
  }
  ~DeviceArray() { vsart_cuda_free(ptr_); }
  DeviceArray(const DeviceArray &) = delete;
  DeviceArray &operator=(const DeviceArray &) = delete;
  const T *data() const { return static_cast<const T *>(ptr_); }

private:
  void *ptr_ = nullptr;
};

/// Offsets (0, s0, s0 + s1, ...) of blocks of the given sizes.
std::vector<int64_t> offsetsOf(const std::vector<int64_t> &sizes) {
  std::vector<int64_t> off{0};
  for (int64_t s : sizes)
    off.push_back(off.back() + s);
  return off;
}

/// Random: each list holds 1..num_kv_blocks distinct blocks; All: every
/// block (== dense attention); SomeEmpty: every third list is empty. Always
/// in random order.
enum class ListKind { Random, All, SomeEmpty };

struct SparseCase {
  const char *name;
  int64_t b, h, hkv, d;
  std::vector<int64_t> qSizes, kvSizes; // block sizes in tokens
  vsart_list_scope_t scope;
  Layout layout;
  ListKind lists;
  int64_t maxQBlock = -1; // -1: the largest query block; else as is
  int64_t offset = 0;     // elements added to every pointer (1: unaligned)
};

void PrintTo(const SparseCase &c, std::ostream *os) { *os << c.name; }

class CudaBlockSparse : public CudaParamTest<SparseCase> {};

TEST_P(CudaBlockSparse, MatchesCpu) {
  const SparseCase &c = GetParam();
  const std::vector<int64_t> qOff = offsetsOf(c.qSizes),
                             kvOff = offsetsOf(c.kvSizes);
  const int64_t nq = int64_t(c.qSizes.size()), nkv = int64_t(c.kvSizes.size());
  const int64_t sq = qOff.back(), skv = kvOff.back(), off = c.offset;
  const int64_t numLists = nq * (c.scope == VSART_LISTS_SHARED     ? 1
                                 : c.scope == VSART_LISTS_PER_HEAD ? c.h
                                                                   : c.b * c.h);
  std::mt19937 rng(7);
  std::vector<int64_t> listOff{0};
  std::vector<int32_t> lists;
  for (int64_t l = 0; l < numLists; ++l) {
    std::vector<int32_t> all(size_t(nkv), 0);
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng);
    size_t n = all.size();
    if (c.lists == ListKind::Random ||
        (c.lists == ListKind::SomeEmpty && l % 3 != 1))
      n = 1 + rng() % all.size();
    else if (c.lists == ListKind::SomeEmpty)
      n = 0;
    lists.insert(lists.end(), all.begin(), all.begin() + long(n));
    listOff.push_back(int64_t(lists.size()));
  }

  auto q = randomVec(size_t(c.b * c.h * sq * c.d + off), 31, -2, 2);
  auto k = randomVec(size_t(c.b * c.hkv * skv * c.d + off), 32, -2, 2);
  auto v = randomVec(size_t(c.b * c.hkv * skv * c.d + off), 33);
  std::vector<float> ref(q.size(), 0.0f), dense(q.size(), 0.0f);
  vsart_block_sparse_args_t args = {};
  vsart_attention_args_t &a = args.attn;
  a.batch = c.b, a.num_heads = c.h, a.num_kv_heads = c.hkv;
  a.seq_q = sq, a.seq_kv = skv, a.head_dim = c.d;
  stridesOf(c.layout, c.h, sq, c.d, a.q_strides);
  stridesOf(c.layout, c.hkv, skv, c.d, a.k_strides);
  stridesOf(c.layout, c.hkv, skv, c.d, a.v_strides);
  stridesOf(c.layout, c.h, sq, c.d, a.out_strides);
  a.scale = 1.0f / std::sqrt(float(c.d));
  args.num_q_blocks = nq, args.num_kv_blocks = nkv, args.list_scope = c.scope;
  args.max_q_block =
      c.maxQBlock >= 0
          ? c.maxQBlock
          : *std::max_element(c.qSizes.begin(), c.qSizes.end());

  vsart_block_sparse_args_t cpu = args;
  cpu.attn.q = q.data() + off, cpu.attn.k = k.data() + off;
  cpu.attn.v = v.data() + off, cpu.attn.out = ref.data() + off;
  cpu.q_block_offsets = qOff.data(), cpu.kv_block_offsets = kvOff.data();
  cpu.list_offsets = listOff.data(), cpu.lists = lists.data();
  ASSERT_EQ(vsart_cpu_block_sparse_attention(&cpu), VSART_OK)
      << vsart_last_error();

  DeviceBuffer dq(q), dk(k), dv(v), dout(q.size());
  DeviceArray<int64_t> dqOff(qOff), dkvOff(kvOff), dlistOff(listOff);
  DeviceArray<int32_t> dlists(lists);
  dout.poison();
  vsart_block_sparse_args_t gpu = args;
  gpu.attn.q = dq.data() + off, gpu.attn.k = dk.data() + off;
  gpu.attn.v = dv.data() + off, gpu.attn.out = dout.data() + off;
  gpu.q_block_offsets = dqOff.data(), gpu.kv_block_offsets = dkvOff.data();
  gpu.list_offsets = dlistOff.data(), gpu.lists = dlists.data();
  ASSERT_EQ(vsart_cuda_block_sparse_attention(&gpu, nullptr), VSART_OK)
      << vsart_last_error();
  std::vector<float> got = dout.download();
  std::fill(got.begin(), got.begin() + off, 0.0f); // not an output
  expectNear(got, ref, "block_sparse");

  if (c.lists == ListKind::All) { // every block listed: dense attention
    vsart_attention_args_t d = cpu.attn;
    d.out = dense.data() + off;
    ASSERT_EQ(vsart_cpu_attention_strided(&d), VSART_OK) << vsart_last_error();
    expectNear(got, dense, "block_sparse_vs_dense");
  }
  for (int64_t bi = 0; bi < c.b; ++bi) // rows of empty lists are exactly 0
    for (int64_t hi = 0; hi < c.h; ++hi)
      for (int64_t qb = 0; qb < nq; ++qb) {
        const int64_t l = qb + (c.scope == VSART_LISTS_SHARED ? 0
                                : c.scope == VSART_LISTS_PER_HEAD
                                    ? hi * nq
                                    : (bi * c.h + hi) * nq);
        if (listOff[size_t(l + 1)] != listOff[size_t(l)])
          continue;
        for (int64_t i = qOff[size_t(qb)]; i < qOff[size_t(qb + 1)]; ++i)
          for (int64_t dd = 0; dd < c.d; ++dd)
            ASSERT_EQ(got[size_t(off + bi * a.out_strides[0] +
                                 hi * a.out_strides[1] + i * a.out_strides[2] +
                                 dd)],
                      0.0f)
                << "row " << i << " of an empty list";
      }
}

// VSA tiles: 64 tokens, edge tiles of a padded video holding fewer.
const std::vector<int64_t> kTiles = {64, 64, 37, 64, 1, 64, 37, 64};
const std::vector<int64_t> kBig = {300, 300, 300};

/// 600 key blocks of 0-3 tokens: lists longer than one shared-memory chunk.
std::vector<int64_t> manySmallBlocks() {
  std::vector<int64_t> s;
  for (int i = 0; i < 600; ++i)
    s.push_back(int64_t(i * 7 % 4));
  return s;
}

const SparseCase kSparseCases[] = {
    {"tiles_d128_per_head", 1, 2, 2, 128, kTiles, kTiles, VSART_LISTS_PER_HEAD,
     BHSD, ListKind::Random},
    {"tiles_d64_shared_bshd", 2, 2, 2, 64, kTiles, kTiles, VSART_LISTS_SHARED,
     BSHD, ListKind::Random},
    {"tiles_d128_per_batch_head_bshd", 2, 3, 3, 128, kTiles, kTiles,
     VSART_LISTS_PER_BATCH_HEAD, BSHD, ListKind::Random},
    {"gqa_d128", 1, 4, 2, 128, kTiles, kTiles, VSART_LISTS_PER_HEAD, BHSD,
     ListKind::Random},
    {"gqa_d64_bshd", 2, 6, 2, 64, kTiles, kTiles, VSART_LISTS_PER_BATCH_HEAD,
     BSHD, ListKind::Random},
    {"big_blocks_d128_bshd", 1, 2, 2, 128, kBig, kBig, VSART_LISTS_PER_HEAD,
     BSHD, ListKind::Random},
    {"big_blocks_d64_gqa", 2, 2, 1, 64, kBig, kBig, VSART_LISTS_PER_BATCH_HEAD,
     BHSD, ListKind::Random},
    {"frames_d128_bshd", 1, 1, 1, 128, {1560, 1560}, {1560, 1560},
     VSART_LISTS_PER_HEAD, BSHD, ListKind::Random},
    // Query blocks above 64 rows on Hopper: the two-warpgroup kernel.
    {"blocks128_d128_bshd", 1, 3, 3, 128, {128, 128, 128, 120},
     {128, 128, 128, 120}, VSART_LISTS_PER_HEAD, BSHD, ListKind::Random},
    {"blocks128_d128_gqa_batch2", 2, 4, 2, 128, {128, 128, 120},
     {128, 128, 120}, VSART_LISTS_PER_BATCH_HEAD, BHSD, ListKind::Random},
    {"mixed_q_blocks_d128_empty_lists", 1, 3, 3, 128, {200, 64, 1, 130, 0},
     kTiles, VSART_LISTS_PER_HEAD, BSHD, ListKind::SomeEmpty},
    {"all_many_small_key_blocks_big_q_d128", 1, 2, 2, 128, {128, 256, 30},
     manySmallBlocks(), VSART_LISTS_PER_HEAD, BSHD, ListKind::All},
    {"big_blocks_d80_bhsd", 1, 2, 2, 80, kBig, kBig, VSART_LISTS_PER_HEAD,
     BHSD, ListKind::Random},
    // Key blocks of 1-130 tokens: Hopper packs those under 64 in 16-row
    // quarters, for small (paired) and large query blocks.
    {"mixed_kv_blocks_small_q_d128", 1, 3, 3, 128, kTiles,
     {70, 8, 16, 37, 130, 5, 64, 20, 1, 33}, VSART_LISTS_PER_HEAD, BSHD,
     ListKind::Random},
    {"mixed_kv_blocks_big_q_d128_gqa", 2, 4, 2, 128, {128, 200, 77},
     {70, 8, 16, 37, 130, 5, 64, 20, 1, 33}, VSART_LISTS_PER_BATCH_HEAD, BHSD,
     ListKind::All},
    {"all_blocks_d128", 1, 2, 2, 128, kTiles, kTiles, VSART_LISTS_PER_HEAD,
     BHSD, ListKind::All},
    {"all_blocks_d64_bshd_gqa", 2, 4, 2, 64, kTiles, kTiles,
     VSART_LISTS_PER_BATCH_HEAD, BSHD, ListKind::All},
    {"all_big_blocks_d128_gqa", 1, 2, 1, 128, kBig, kBig, VSART_LISTS_SHARED,
     BSHD, ListKind::All},
    {"all_many_small_key_blocks_d64", 1, 2, 2, 64, {64, 64, 30},
     manySmallBlocks(), VSART_LISTS_PER_HEAD, BHSD, ListKind::All},
    {"empty_lists_d128", 1, 3, 3, 128, kTiles, kTiles, VSART_LISTS_PER_HEAD,
     BHSD, ListKind::SomeEmpty},
    {"empty_lists_d64_bshd", 2, 2, 1, 64, kBig, kTiles,
     VSART_LISTS_PER_BATCH_HEAD, BSHD, ListKind::SomeEmpty},
    {"empty_blocks_d64", 1, 2, 2, 64, {64, 0, 37, 0, 64}, {0, 64, 37, 0, 0, 5},
     VSART_LISTS_PER_HEAD, BSHD, ListKind::Random},
    {"cross_d128", 1, 2, 2, 128, {64, 64, 20}, {100, 50, 1, 64, 300},
     VSART_LISTS_SHARED, BSHD, ListKind::Random},
    {"max_q_block_0_d64", 1, 2, 2, 64, kTiles, kTiles, VSART_LISTS_PER_HEAD,
     BHSD, ListKind::Random, 0},
    {"max_q_block_bound_d128", 1, 2, 2, 128, kTiles, kTiles,
     VSART_LISTS_PER_HEAD, BSHD, ListKind::Random, 100},
    {"d80", 1, 2, 2, 80, kTiles, kTiles, VSART_LISTS_PER_HEAD, BSHD,
     ListKind::Random},
    {"d256_gqa", 1, 2, 1, 256, kTiles, kTiles, VSART_LISTS_PER_HEAD, BHSD,
     ListKind::Random},
    {"d7_unaligned", 1, 2, 2, 7, kTiles, kTiles, VSART_LISTS_SHARED, BHSD,
     ListKind::Random},
    {"offset_d128_unaligned", 1, 2, 2, 128, kTiles, kTiles,
     VSART_LISTS_PER_HEAD, BSHD, ListKind::Random, -1, 1},
};

INSTANTIATE_TEST_SUITE_P(, CudaBlockSparse, testing::ValuesIn(kSparseCases),
                         [](const testing::TestParamInfo<SparseCase> &info) {
                           return std::string(info.param.name);
                         });

using CudaBlockSparseArgs = CudaTest;

TEST_F(CudaBlockSparseArgs, RejectsBadArguments) {
  const int64_t H = 2, S = 64, D = 64;
  DeviceBuffer x(size_t(H * S * D));
  DeviceArray<int64_t> offsets(std::vector<int64_t>{0, S}),
      listOff(std::vector<int64_t>{0, 1});
  DeviceArray<int32_t> lists(std::vector<int32_t>{0});
  vsart_block_sparse_args_t ok = {};
  vsart_attention_args_t &a = ok.attn;
  a.q = a.k = a.v = a.out = x.data();
  a.batch = 1, a.num_heads = H, a.num_kv_heads = H, a.seq_q = a.seq_kv = S;
  a.head_dim = D, a.scale = 0.125f;
  for (int64_t *s : {a.q_strides, a.k_strides, a.v_strides, a.out_strides})
    stridesOf(BHSD, H, S, D, s);
  ok.num_q_blocks = ok.num_kv_blocks = 1;
  ok.q_block_offsets = ok.kv_block_offsets = offsets.data();
  ok.list_scope = VSART_LISTS_SHARED;
  ok.list_offsets = listOff.data(), ok.lists = lists.data();
  ASSERT_EQ(vsart_cuda_block_sparse_attention(&ok, nullptr), VSART_OK)
      << vsart_last_error();
  ASSERT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK) << vsart_last_error();

  auto expectBad = [&](vsart_block_sparse_args_t b, const char *what) {
    EXPECT_EQ(vsart_cuda_block_sparse_attention(&b, nullptr),
              VSART_ERROR_INVALID_ARGUMENT)
        << what;
    EXPECT_NE(std::string(vsart_last_error()).find(what), std::string::npos)
        << vsart_last_error();
  };
  vsart_block_sparse_args_t b = ok;
  b.attn.mask = x.data(), b.attn.mask_dims[0] = b.attn.mask_dims[1] = 1;
  b.attn.mask_dims[2] = b.attn.mask_dims[3] = 1;
  expectBad(b, "masks are not supported");
  b = ok, b.num_q_blocks = -1;
  expectBad(b, "block counts");
  b = ok, b.num_q_blocks = 0;
  expectBad(b, "no query blocks");
  b = ok, b.num_kv_blocks = 0;
  expectBad(b, "no key blocks");
  b = ok, b.q_block_offsets = nullptr;
  expectBad(b, "no query block offsets");
  b = ok, b.kv_block_offsets = nullptr;
  expectBad(b, "no key block offsets");
  b = ok, b.list_scope = static_cast<vsart_list_scope_t>(3);
  expectBad(b, "unknown list scope");
  b = ok, b.list_offsets = nullptr;
  expectBad(b, "no list offsets");
  b = ok, b.max_q_block = -1;
  expectBad(b, "negative max_q_block");
  b = ok, b.attn.head_dim = 300;
  expectBad(b, "head_dim above 256");
  b = ok, b.attn.num_kv_heads = 3;
  expectBad(b, "num_heads must be a multiple of num_kv_heads");
  b = ok, b.attn.q = nullptr;
  expectBad(b, "null pointer");
  EXPECT_EQ(vsart_cuda_block_sparse_attention(nullptr, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  b = ok, b.attn.seq_q = 0, b.num_q_blocks = 0; // nothing to compute
  EXPECT_EQ(vsart_cuda_block_sparse_attention(&b, nullptr), VSART_OK)
      << vsart_last_error();
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
    {"5x1544_vec_partial_chunk", 5, 1544, 1, false},
    {"3x6400_vec_beyond_registers", 3, 6400, 2, false},
};

/// The modulated norms: rows in `batch` groups, one shift/scale row each.
void runNormModulate(RowKind kind, const RowCase &c, int64_t batch) {
  const int64_t seq = c.rows / batch;
  auto x = randomVec(size_t(c.rows * c.dim), 81, -3, 5);
  auto scale = randomVec(size_t(c.dim), 82), bias = randomVec(size_t(c.dim), 83);
  auto shift = randomVec(size_t(batch * c.dim), 84),
       mscale = randomVec(size_t(batch * c.dim), 85);
  const float *bp = kind == RowKind::LayerNorm && c.variant >= 2 ? bias.data() : nullptr;
  std::vector<float> ref(x.size());
  auto cpu = kind == RowKind::LayerNorm ? vsart_cpu_layer_norm_modulate
                                        : vsart_cpu_rms_norm_modulate;
  auto gpu = kind == RowKind::LayerNorm ? vsart_cuda_layer_norm_modulate
                                        : vsart_cuda_rms_norm_modulate;
  ASSERT_EQ(cpu(x.data(), ref.data(), batch, seq, c.dim, scale.data(), bp, 1e-5f,
                shift.data(), mscale.data()),
            VSART_OK);
  DeviceBuffer dx(x), ds(scale), db(bias), dsh(shift), dsc(mscale), dout(x.size());
  dout.poison();
  DeviceBuffer &dst = c.inPlace ? dx : dout;
  ASSERT_EQ(gpu(dx.data(), dst.data(), batch, seq, c.dim, ds.data(),
                bp ? db.data() : nullptr, 1e-5f, dsh.data(), dsc.data(), nullptr),
            VSART_OK)
      << vsart_last_error();
  expectNear(dst.download(), ref, "norm_modulate");
}

class CudaLayerNorm : public CudaParamTest<RowCase> {};
class CudaNormModulate : public CudaParamTest<RowCase> {};

/// vsart_cuda_norm_rope against its CPU twin: Wan 1.3B's per-token layout
/// (12 heads x 128), a small one, both output layouts and norms.
using CudaNormRope = CudaTest;

TEST_F(CudaNormRope, MatchesCpu) {
  struct Case { int64_t b, s, h, d; };
  for (Case c : {Case{1, 37, 12, 128}, Case{2, 9, 3, 16}})
    for (int centered : {0, 1})
      for (int headsMajor : {0, 1}) {
        const int64_t dim = c.h * c.d;
        auto x = randomVec(size_t(c.b * c.s * dim), 101, -3, 3);
        auto scale = randomVec(size_t(dim), 102), bias = randomVec(size_t(dim), 103);
        auto cosT = randomVec(size_t(c.s * c.d / 2), 104),
             sinT = randomVec(size_t(c.s * c.d / 2), 105);
        std::vector<float> ref(x.size());
        vsart_norm_rope_args_t a = {};
        a.x = x.data();
        a.out = ref.data();
        a.batch = c.b, a.seq = c.s, a.heads = c.h, a.head_dim = c.d;
        a.centered = centered;
        a.scale = scale.data();
        a.bias = centered ? bias.data() : nullptr;
        a.eps = 1e-6f;
        a.cos = cosT.data();
        a.sin = sinT.data();
        a.heads_major = headsMajor;
        ASSERT_EQ(vsart_cpu_norm_rope(&a), VSART_OK);
        DeviceBuffer dx(x), ds(scale), db(bias), dc(cosT), dsn(sinT), dout(x.size());
        dout.poison();
        a.x = dx.data();
        a.out = dout.data();
        a.scale = ds.data();
        a.bias = centered ? db.data() : nullptr;
        a.cos = dc.data();
        a.sin = dsn.data();
        ASSERT_EQ(vsart_cuda_norm_rope(&a, nullptr), VSART_OK) << vsart_last_error();
        expectNear(dout.download(), ref, "norm_rope");
      }
}

TEST_F(CudaNormRope, RejectsWhatItCannotTake) {
  DeviceBuffer buf(std::vector<float>(64, 1.0f));
  vsart_norm_rope_args_t a = {};
  a.x = buf.data();
  a.out = buf.data();
  a.batch = 1, a.seq = 2, a.heads = 1, a.head_dim = 12; // not a multiple of 8
  a.cos = a.sin = buf.data();
  EXPECT_EQ(vsart_cuda_norm_rope(&a, nullptr), VSART_ERROR_INVALID_ARGUMENT);
  a.head_dim = 8;
  a.x = buf.data() + 1; // 2 bytes past the start: misaligned
  EXPECT_EQ(vsart_cuda_norm_rope(&a, nullptr), VSART_ERROR_INVALID_ARGUMENT);
}

TEST_P(CudaNormModulate, MatchesCpu) {
  const RowCase &c = GetParam();
  for (int64_t batch : {int64_t(1), c.rows % 3 == 0 ? int64_t(3) : int64_t(1)}) {
    runNormModulate(RowKind::LayerNorm, c, batch);
    runNormModulate(RowKind::RmsNorm, c, batch);
  }
}
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
INSTANTIATE_TEST_SUITE_P(, CudaNormModulate, testing::ValuesIn(kRowCases),
                         rowName);

// ---- norms quantizing their rows (vsart_cuda_norm_quantize) ----------------

struct NormQuantCase {
  const char *name;
  int64_t batch, seq, dim;
  bool centered, affine, modulate;
};

/// The arguments of case c over its operands (the CUDA call's device
/// buffers or the CPU twin's host vectors): the affine pair and the
/// modulation pair only where c has them.
vsart_norm_quantize_args_t normQuantizeArgs(const NormQuantCase &c,
                                            const void *x, void *q,
                                            void *scales, const void *scale,
                                            const void *bias,
                                            const void *shift,
                                            const void *modScale, float eps) {
  vsart_norm_quantize_args_t a = {};
  a.x = x;
  a.q = static_cast<uint8_t *>(q);
  a.scales = static_cast<float *>(scales);
  a.batch = c.batch, a.seq = c.seq, a.dim = c.dim;
  a.centered = c.centered;
  a.scale = c.affine ? scale : nullptr;
  a.bias = c.affine ? bias : nullptr;
  a.mod_shift = c.modulate ? shift : nullptr;
  a.mod_scale = c.modulate ? modScale : nullptr;
  a.eps = eps;
  return a;
}

void PrintTo(const NormQuantCase &c, std::ostream *os) { *os << c.name; }

class CudaNormQuantize : public CudaParamTest<NormQuantCase> {};

/// bytes (rows x cols E4M3) times their row's scale.
std::vector<float> dequantize(const std::vector<uint8_t> &q,
                              const std::vector<float> &scales, int64_t cols) {
  std::vector<float> out(q.size());
  for (size_t i = 0; i < q.size(); ++i)
    out[i] = vsart_e4m3_to_float(q[i]) * scales[i / size_t(cols)];
  return out;
}

// Bit-exact against the unfused GPU steps on the same bf16 data: the norm
// (modulated or plain) and then vsart_cuda_quantize_rows. Against the CPU
// twin, which quantizes fp32 values where the GPU quantizes bf16 ones, the
// dequantized values may differ by one E4M3 step (1/16 to 1/8 of a value;
// on the host, bf16-rounding the CPU norm before quantizing it flips about
// 2 % of the bytes, rel L2 1.3e-2) and the scales by the bf16 rounding of
// the row's maximum.
TEST_P(CudaNormQuantize, MatchesUnfusedBitExactAndCpu) {
  const NormQuantCase &c = GetParam();
  const int64_t rows = c.batch * c.seq;
  const float eps = 1e-5f;
  std::vector<float> x = randomVec(size_t(rows * c.dim), 91, -3, 5);
  if (rows > 1)
    std::fill(x.begin() + c.dim, x.begin() + 2 * c.dim, 1.5f); // a flat row
  const auto scale = randomVec(size_t(c.dim), 92),
             bias = randomVec(size_t(c.dim), 93),
             shift = randomVec(size_t(c.batch * c.dim), 94),
             modScale = randomVec(size_t(c.batch * c.dim), 95);
  DeviceBuffer dx(x), ds(scale), db(bias), dsh(shift), dms(modScale),
      dnorm(x.size());
  DeviceBytes dq(x.size()), dscales(size_t(rows) * 4), dqRef(x.size()),
      dscalesRef(size_t(rows) * 4);
  vsart_norm_quantize_args_t a =
      normQuantizeArgs(c, dx.data(), dq.data(), dscales.data(), ds.data(),
                       db.data(), dsh.data(), dms.data(), eps);
  ASSERT_EQ(vsart_cuda_norm_quantize(&a, nullptr), VSART_OK)
      << vsart_last_error();
  if (c.modulate)
    ASSERT_EQ((c.centered ? vsart_cuda_layer_norm_modulate
                          : vsart_cuda_rms_norm_modulate)(
                  dx.data(), dnorm.data(), c.batch, c.seq, c.dim, a.scale,
                  a.bias, eps, a.mod_shift, a.mod_scale, nullptr),
              VSART_OK)
        << vsart_last_error();
  else
    ASSERT_EQ((c.centered ? vsart_cuda_layer_norm : vsart_cuda_rms_norm)(
                  dx.data(), dnorm.data(), rows, c.dim, a.scale, a.bias, eps,
                  nullptr),
              VSART_OK)
        << vsart_last_error();
  ASSERT_EQ(vsart_cuda_quantize_rows(dnorm.data(), rows, c.dim, c.dim,
                                     dqRef.data(),
                                     static_cast<float *>(dscalesRef.data()),
                                     nullptr),
            VSART_OK)
      << vsart_last_error();
  const std::vector<uint8_t> q = dq.download<uint8_t>(),
                             qRef = dqRef.download<uint8_t>();
  const std::vector<float> scales = dscales.download<float>(),
                           scalesRef = dscalesRef.download<float>();
  size_t bad = 0;
  for (size_t i = 0; i < q.size(); ++i)
    if (q[i] != qRef[i] && ++bad <= 5)
      ADD_FAILURE() << "byte " << i << ": got " << int(q[i]) << ", expected "
                    << int(qRef[i]);
  EXPECT_EQ(bad, 0u);
  for (size_t r = 0; r < scales.size(); ++r)
    EXPECT_EQ(scales[r], scalesRef[r]) << "scale of row " << r;

  std::vector<uint8_t> qCpu(x.size());
  std::vector<float> scalesCpu(static_cast<size_t>(rows));
  vsart_norm_quantize_args_t h =
      normQuantizeArgs(c, x.data(), qCpu.data(), scalesCpu.data(),
                       scale.data(), bias.data(), shift.data(),
                       modScale.data(), a.eps);
  h.per_tensor = a.per_tensor;
  ASSERT_EQ(vsart_cpu_norm_quantize(&h), VSART_OK) << vsart_last_error();
  for (size_t r = 0; r < scales.size(); ++r)
    EXPECT_NEAR(scales[r], scalesCpu[r], scalesCpu[r] / 128) << "row " << r;
  const std::vector<float> got = dequantize(q, scales, c.dim),
                           ref = dequantize(qCpu, scalesCpu, c.dim);
  expectNear(got, ref, "dequantized vs cpu", 0.14, 1e-3);
  EXPECT_LT(vsart_test::relL2(got, ref), 4e-2);
}

const NormQuantCase kNormQuantCases[] = {
    {"wan_2x37x1536_layer_affine_mod", 2, 37, 1536, true, true, true},
    {"2x37x1536_rms_mod", 2, 37, 1536, false, false, true},
    {"1x33x5120_rms_affine", 1, 33, 5120, false, true, false},
    {"1x21x5120_layer_plain", 1, 21, 5120, true, false, false},
    {"1x10x1544_layer_affine_partial_chunk", 1, 10, 1544, true, true, false},
    {"1x5x8_layer_affine", 1, 5, 8, true, true, false},
    {"2x3x8_rms_mod", 2, 3, 8, false, false, true},
    {"1x9x6144_layer_mod_widest_in_registers", 1, 9, 6144, true, true, true},
    {"2x7x6152_layer_affine_mod_fallback", 2, 7, 6152, true, true, true},
    {"1x11x6400_rms_affine_fallback", 1, 11, 6400, false, true, false},
};

INSTANTIATE_TEST_SUITE_P(, CudaNormQuantize, testing::ValuesIn(kNormQuantCases),
                         [](const testing::TestParamInfo<NormQuantCase> &info) {
                           return std::string(info.param.name);
                         });

using CudaNormQuantizeArgs = CudaTest;

TEST_F(CudaNormQuantizeArgs, RejectsBadArguments) {
  DeviceBuffer x(std::vector<float>(64, 1.0f)), mod(std::vector<float>(16, 0.0f));
  DeviceBytes q(64), s(16);
  vsart_norm_quantize_args_t a = {};
  a.x = x.data();
  a.q = static_cast<uint8_t *>(q.data());
  a.scales = static_cast<float *>(s.data());
  a.batch = 1, a.seq = 4, a.dim = 16;
  a.centered = 1;
  a.eps = 1e-5f;
  ASSERT_EQ(vsart_cuda_norm_quantize(&a, nullptr), VSART_OK)
      << vsart_last_error();
  EXPECT_EQ(vsart_cuda_norm_quantize(nullptr, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  auto rejects = [](vsart_norm_quantize_args_t bad, const char *why) {
    vsart_test::expectRejected(vsart_cuda_norm_quantize(&bad, nullptr),
                               "cuda_norm_quantize: ", why);
  };
  vsart_test::forSharedNormQuantizeFaults(a, mod.data(), rejects);
  vsart_norm_quantize_args_t bad = a;
  bad.dim = 12;
  rejects(bad, "dim % 8");
  bad = a;
  bad.x = x.data() + 1; // 2 bytes past the start
  rejects(bad, "misaligned x");
  bad = a;
  bad.q = a.q + 4;
  rejects(bad, "misaligned q");
  bad = a;
  bad.batch = 0;
  bad.x = nullptr;
  EXPECT_EQ(vsart_cuda_norm_quantize(&bad, nullptr), VSART_OK);
  EXPECT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK) << vsart_last_error();
}

// With per_tensor, against the CPU twin on the same bf16 data: every row
// has the CPU's scale (B from the same parameters, in double; the sum's
// order differs), the bytes are at most one E4M3 step apart (the GPU
// rounds the bf16 norm, the CPU the fp32 one), and every dequantized row's
// 2-norm is within VSART_FP8_ROW_NORM_SLACK * 448 * scale. The in-register
// path and the fallback (rows over 6144) both.
class CudaNormQuantizeTensor : public CudaParamTest<NormQuantCase> {};

TEST_P(CudaNormQuantizeTensor, MatchesCpu) {
  const NormQuantCase &c = GetParam();
  const int64_t rows = c.batch * c.seq;
  std::vector<float> x = randomVec(size_t(rows * c.dim), 96, -3, 5);
  for (int64_t i = 0; i < c.dim && rows > 2; ++i)
    x[size_t(2 * c.dim + i)] = i == 5 ? 1e3f : 0.0f; // a spike row
  const auto scale = randomVec(size_t(c.dim), 97),
             bias = randomVec(size_t(c.dim), 98),
             shift = randomVec(size_t(c.batch * c.dim), 99),
             modScale = randomVec(size_t(c.batch * c.dim), 100);
  DeviceBuffer dx(x), ds(scale), db(bias), dsh(shift), dms(modScale);
  DeviceBytes dq(x.size()), dscales(size_t(rows) * 4);
  vsart_norm_quantize_args_t a =
      normQuantizeArgs(c, dx.data(), dq.data(), dscales.data(), ds.data(),
                       db.data(), dsh.data(), dms.data(), 1e-5f);
  a.per_tensor = 1;
  ASSERT_EQ(vsart_cuda_norm_quantize(&a, nullptr), VSART_OK)
      << vsart_last_error();
  std::vector<uint8_t> qCpu(x.size());
  std::vector<float> scalesCpu(static_cast<size_t>(rows));
  vsart_norm_quantize_args_t h =
      normQuantizeArgs(c, x.data(), qCpu.data(), scalesCpu.data(),
                       scale.data(), bias.data(), shift.data(),
                       modScale.data(), a.eps);
  h.per_tensor = a.per_tensor;
  ASSERT_EQ(vsart_cpu_norm_quantize(&h), VSART_OK) << vsart_last_error();
  const std::vector<float> scales = dscales.download<float>();
  for (size_t r = 0; r < scales.size(); ++r)
    EXPECT_FLOAT_EQ(scales[r], scalesCpu[0]) << "row " << r;
  const std::vector<uint8_t> q = dq.download<uint8_t>();
  expectWithinOneE4m3Step(q, qCpu, "norm_quantize per tensor");
  const std::vector<float> got = dequantize(q, scales, c.dim);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (int64_t i = 0; i < c.dim; ++i)
      sum += double(got[size_t(r * c.dim + i)]) * got[size_t(r * c.dim + i)];
    EXPECT_LE(std::sqrt(sum),
              double(VSART_FP8_ROW_NORM_SLACK) * 448.0 * scales[size_t(r)])
        << "row " << r;
  }
}

const NormQuantCase kNormQuantTensorCases[] = {
    {"wan_2x37x1536_layer_affine_mod", 2, 37, 1536, true, true, true},
    {"2x37x1536_rms_mod", 2, 37, 1536, false, false, true},
    {"1x33x5120_rms_affine", 1, 33, 5120, false, true, false},
    {"1x21x1536_layer_plain", 1, 21, 1536, true, false, false},
    {"1x5x8_layer_affine", 1, 5, 8, true, true, false},
    {"2x7x6152_layer_affine_mod_fallback", 2, 7, 6152, true, true, true},
    {"1x11x6400_rms_affine_fallback", 1, 11, 6400, false, true, false},
};

INSTANTIATE_TEST_SUITE_P(, CudaNormQuantizeTensor,
                         testing::ValuesIn(kNormQuantTensorCases),
                         [](const testing::TestParamInfo<NormQuantCase> &info) {
                           return std::string(info.param.name);
                         });

// ---- VSA coarse stage (vsart_cuda_vsa_select) ------------------------------

/// Untyped device memory (tile offsets, lists); freed on destruction.
class VsaDeviceBytes {
public:
  explicit VsaDeviceBytes(size_t bytes) : bytes_(bytes) {
    EXPECT_EQ(vsart_cuda_malloc(std::max<size_t>(bytes, 1), &ptr_), VSART_OK)
        << vsart_last_error();
  }
  template <class T>
  explicit VsaDeviceBytes(const std::vector<T> &host)
      : VsaDeviceBytes(host.size() * sizeof(T)) {
    upload(host);
  }
  ~VsaDeviceBytes() { vsart_cuda_free(ptr_); }
  VsaDeviceBytes(const VsaDeviceBytes &) = delete;
  VsaDeviceBytes &operator=(const VsaDeviceBytes &) = delete;

  template <class T> T *as() { return static_cast<T *>(ptr_); }
  template <class T> void upload(const std::vector<T> &host) {
    ASSERT_LE(host.size() * sizeof(T), bytes_);
    ASSERT_EQ(
        vsart_cuda_upload(ptr_, host.data(), host.size() * sizeof(T), nullptr),
        VSART_OK)
        << vsart_last_error();
  }
  template <class T> std::vector<T> download() {
    EXPECT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK) << vsart_last_error();
    std::vector<T> host(bytes_ / sizeof(T));
    EXPECT_EQ(vsart_cuda_download(host.data(), ptr_, host.size() * sizeof(T),
                                  nullptr),
              VSART_OK)
        << vsart_last_error();
    return host;
  }

private:
  void *ptr_ = nullptr;
  size_t bytes_;
};

/// `n` tiles of `size` tokens, then the `tail` sizes (padded edge tiles).
std::vector<int64_t> vsaTiles(int64_t n, int64_t size,
                              std::vector<int64_t> tail = {}) {
  std::vector<int64_t> sizes(size_t(n), size);
  sizes.insert(sizes.end(), tail.begin(), tail.end());
  return sizes;
}

/// `n` tiles of 1 + i % m tokens.
std::vector<int64_t> vsaSmallTiles(int64_t n, int64_t m) {
  std::vector<int64_t> sizes;
  for (int64_t i = 0; i < n; ++i)
    sizes.push_back(1 + i % m);
  return sizes;
}

/// Tile sizes of a t x h x w token grid cut into 4 x 4 x 4 tiles, tiles in
/// (t, h, w) order (FastVideo's construct_variable_block_sizes).
std::vector<int64_t> vsaGridTiles(int64_t t, int64_t h, int64_t w) {
  auto edges = [](int64_t n) {
    std::vector<int64_t> s(size_t((n + 3) / 4), 4);
    if (n % 4)
      s.back() = n % 4;
    return s;
  };
  std::vector<int64_t> sizes;
  for (int64_t a : edges(t))
    for (int64_t b : edges(h))
      for (int64_t c : edges(w))
        sizes.push_back(a * b * c);
  return sizes;
}

std::vector<int64_t> vsaOffsets(const std::vector<int64_t> &sizes) {
  std::vector<int64_t> off{0};
  for (int64_t s : sizes)
    off.push_back(off.back() + s);
  return off;
}

/// Pooled (double) tiles of head h of batch b of x: num_tiles x d.
std::vector<double> vsaPool(const float *x, const int64_t st[3], int64_t b,
                            int64_t h, const std::vector<int64_t> &off,
                            int64_t d) {
  const size_t T = off.size() - 1;
  std::vector<double> pooled(T * size_t(d), 0.0);
  for (size_t t = 0; t < T; ++t) {
    for (int64_t s = off[t]; s < off[t + 1]; ++s)
      for (int64_t e = 0; e < d; ++e)
        pooled[t * size_t(d) + size_t(e)] +=
            x[b * st[0] + h * st[1] + s * st[2] + e];
    for (int64_t e = 0; e < d; ++e)
      pooled[t * size_t(d) + size_t(e)] /= double(off[t + 1] - off[t]);
  }
  return pooled;
}

/// The pooled (double) q of head h and k of its kv head, batch entry b.
std::pair<std::vector<double>, std::vector<double>>
vsaPooledQk(const vsart_attention_args_t &a, const std::vector<int64_t> &off,
            int64_t b, int64_t h) {
  const int64_t kv = h / (a.num_heads / a.num_kv_heads);
  return {vsaPool(static_cast<const float *>(a.q), a.q_strides, b, h, off,
                  a.head_dim),
          vsaPool(static_cast<const float *>(a.k), a.k_strides, b, kv, off,
                  a.head_dim)};
}

/// Query tile i's exact (double) scores against every key tile, and how far
/// the selection's may be from them: the CUDA scores are TF32 products
/// (inputs rounded to 10 mantissa bits, relative error up to 2^-10 a
/// product), so 2^-8 of the row's largest sum of |q_e k_e| covers two scores
/// compared across two computations; 1e-5 of the largest |score| covers
/// fp32 accumulation.
struct VsaExactRow {
  std::vector<double> scores;
  double tolerance;
};

VsaExactRow vsaExactRow(const std::vector<double> &pq,
                        const std::vector<double> &pk, int64_t i, int64_t T,
                        int64_t D, double scale) {
  VsaExactRow row{std::vector<double>(static_cast<size_t>(T)), 0.0};
  double maxAbsSum = 0, maxAbs = 0;
  for (int64_t j = 0; j < T; ++j) {
    double absSum = 0, dot = 0;
    for (int64_t e = 0; e < D; ++e) {
      const double p = pq[size_t(i * D + e)] * pk[size_t(j * D + e)];
      absSum += std::fabs(p);
      dot += p;
    }
    row.scores[size_t(j)] = dot * scale;
    maxAbsSum = std::max(maxAbsSum, absSum);
    maxAbs = std::max(maxAbs, std::fabs(dot));
  }
  row.tolerance =
      std::fabs(scale) * (std::ldexp(maxAbsSum, -8) + 1e-5 * maxAbs) + 1e-9;
  return row;
}

/// Expects `got` (CSR lists of `args`) to be a top-k of the exact (double)
/// scores: each list ascending and distinct, every listed tile scoring at
/// least, every other at most, the k-th best score up to a tolerance far
/// below any real gap but above TF32 rounding (vsaExactRow). Lists that
/// differ from the CPU's (`cpu`) are counted and printed: near-ties may
/// legitimately differ.
void expectVsaSelection(const vsart_vsa_select_args_t &args,
                        const std::vector<int32_t> &got,
                        const std::vector<int32_t> &cpu) {
  const vsart_attention_args_t &a = args.attn;
  const int64_t T = args.num_tiles, K = args.top_k, D = a.head_dim;
  const std::vector<int64_t> off(args.tile_offsets, args.tile_offsets + T + 1);
  size_t differ = 0, bad = 0;
  for (int64_t b = 0; b < a.batch; ++b)
    for (int64_t h = 0; h < a.num_heads; ++h) {
      const auto [pq, pk] = vsaPooledQk(a, off, b, h);
      for (int64_t i = 0; i < T; ++i) {
        const VsaExactRow row = vsaExactRow(pq, pk, i, T, D, a.scale);
        const std::vector<double> &s = row.scores;
        std::vector<double> sorted = s;
        std::nth_element(sorted.begin(), sorted.begin() + (K - 1), sorted.end(),
                         [](double x, double y) { return x > y; });
        const double kth = sorted[size_t(K - 1)], tol = row.tolerance;
        const size_t l = size_t((b * a.num_heads + h) * T + i);
        const int32_t *list = got.data() + l * size_t(K);
        std::vector<bool> chosen(static_cast<size_t>(T), false);
        bool ok = true;
        for (int64_t e = 0; e < K; ++e) {
          const int32_t j = list[e];
          if (j < 0 || j >= T || (e > 0 && j <= list[e - 1])) {
            ok = false;
            break;
          }
          chosen[size_t(j)] = true;
        }
        for (int64_t j = 0; j < T && ok; ++j)
          ok = chosen[size_t(j)] ? s[size_t(j)] >= kth - tol
                                 : s[size_t(j)] <= kth + tol;
        if (!ok && ++bad <= 5)
          ADD_FAILURE() << "list " << l << " (batch " << b << " head " << h
                        << " tile " << i << ") is not a top-" << K;
        differ += !std::equal(list, list + K, cpu.data() + l * size_t(K));
      }
    }
  std::printf("[ stats    ] vsa_select: %zu of %lld lists differ from the "
              "CPU's (near-ties), %zu invalid\n",
              differ, (long long)(a.batch * a.num_heads * T), bad);
  std::fflush(stdout);
  EXPECT_EQ(bad, 0u);
}

struct VsaCase {
  const char *name;
  int64_t b, h, hkv, d;
  std::vector<int64_t> tiles; // tile sizes
  int64_t topK;
  Layout layout;
  bool withOut;
};

void PrintTo(const VsaCase &c, std::ostream *os) { *os << c.name; }

const VsaCase kVsaCases[] = {
    {"bhsd_gqa_d64", 2, 4, 2, 64, vsaTiles(18, 64, {37, 1}), 5, BHSD, true},
    {"bshd_d128", 1, 3, 3, 128, vsaTiles(40, 64, {20, 64, 3}), 7, BSHD, true},
    {"all_tiles_no_out_d20", 2, 4, 1, 20, vsaTiles(9, 5, {3, 1}), 11, BHSD,
     false},
    {"top1_d72", 1, 2, 2, 72, vsaTiles(30, 16, {7}), 1, BSHD, true},
    {"700_tiles_d32", 1, 2, 1, 32, vsaSmallTiles(700, 3), 100, BSHD, true},
    {"d256", 1, 2, 2, 256, vsaTiles(12, 64, {5}), 3, BHSD, true},
    {"d18_padded_vec2", 1, 2, 2, 18, vsaTiles(10, 8, {3}), 4, BSHD, true},
    {"d9_vec1", 1, 2, 1, 9, vsaTiles(7, 5, {2}), 2, BHSD, true},
    // Past ~3,600 tiles at this head_dim the kernel runs 8 query tiles a CTA.
    {"4000_tiles_d8", 1, 1, 1, 8, vsaSmallTiles(4000, 2), 500, BSHD, true},
};

class CudaVsaSelect : public CudaParamTest<VsaCase> {};

TEST_P(CudaVsaSelect, MatchesCpu) {
  const VsaCase &c = GetParam();
  const std::vector<int64_t> off = vsaOffsets(c.tiles);
  const int64_t T = int64_t(c.tiles.size()), S = off.back(), D = c.d;
  const int64_t L = c.b * c.h * T;
  auto q = randomVec(size_t(c.b * c.h * S * D), 61);
  auto k = randomVec(size_t(c.b * c.hkv * S * D), 62);
  auto v = randomVec(size_t(c.b * c.hkv * S * D), 63);

  std::vector<float> cpuOut(q.size(), NAN);
  std::vector<int64_t> cpuListOffsets(size_t(L + 1), -1);
  std::vector<int32_t> cpuLists(size_t(L * c.topK), -1);
  vsart_vsa_select_args_t s = {};
  vsart_attention_args_t &a = s.attn;
  a.q = q.data(), a.k = k.data(), a.v = v.data();
  a.out = c.withOut ? cpuOut.data() : nullptr;
  a.batch = c.b, a.num_heads = c.h, a.num_kv_heads = c.hkv;
  a.seq_q = a.seq_kv = S, a.head_dim = D, a.scale = 1.0f / std::sqrt(float(D));
  stridesOf(c.layout, c.h, S, D, a.q_strides);
  stridesOf(c.layout, c.h, S, D, a.out_strides);
  stridesOf(c.layout, c.hkv, S, D, a.k_strides);
  stridesOf(c.layout, c.hkv, S, D, a.v_strides);
  s.num_tiles = T, s.tile_offsets = off.data(), s.top_k = c.topK;
  s.list_offsets = cpuListOffsets.data(), s.lists = cpuLists.data();
  ASSERT_EQ(vsart_cpu_vsa_select(&s), VSART_OK) << vsart_last_error();

  DeviceBuffer dq(q), dk(k), dv(v), dout(q.size());
  dout.poison();
  VsaDeviceBytes dOff(off),
      dListOffsets(std::vector<int64_t>(size_t(L + 1), -1)),
      dLists(std::vector<int32_t>(size_t(L * c.topK), -1));
  vsart_vsa_select_args_t g = s;
  g.attn.q = dq.data(), g.attn.k = dk.data(), g.attn.v = dv.data();
  g.attn.out = c.withOut ? dout.data() : nullptr;
  g.tile_offsets = dOff.as<int64_t>();
  g.list_offsets = dListOffsets.as<int64_t>(), g.lists = dLists.as<int32_t>();
  ASSERT_EQ(vsart_cuda_vsa_select(&g, nullptr), VSART_OK) << vsart_last_error();

  EXPECT_EQ(dListOffsets.download<int64_t>(), cpuListOffsets);
  expectVsaSelection(s, dLists.download<int32_t>(), cpuLists);
  const std::vector<float> got = dout.download();
  if (c.withOut)
    expectNear(got, cpuOut, "coarse out");
  else // nothing written
    for (float x : got)
      ASSERT_TRUE(std::isnan(x));
}

INSTANTIATE_TEST_SUITE_P(, CudaVsaSelect, testing::ValuesIn(kVsaCases),
                         [](const testing::TestParamInfo<VsaCase> &info) {
                           return std::string(info.param.name);
                         });

using CudaVsaSelectArgs = CudaTest;

TEST_F(CudaVsaSelectArgs, RejectsBadArgumentsAndHandlesEmptyBatches) {
  const std::vector<int64_t> off = {0, 4, 8};
  DeviceBuffer x(size_t(8 * 8)), out(size_t(8 * 8));
  VsaDeviceBytes dOff(off), dListOffsets(size_t(3 * 8)), dLists(size_t(16));
  vsart_vsa_select_args_t ok = {};
  vsart_attention_args_t &a = ok.attn;
  a.q = a.k = a.v = x.data(), a.out = out.data();
  a.batch = a.num_heads = a.num_kv_heads = 1;
  a.seq_q = a.seq_kv = 8, a.head_dim = 8, a.scale = 1.0f;
  for (int64_t *st : {a.q_strides, a.k_strides, a.v_strides, a.out_strides})
    st[0] = st[1] = 64, st[2] = 8;
  ok.num_tiles = 2, ok.tile_offsets = dOff.as<int64_t>(), ok.top_k = 1;
  ok.list_offsets = dListOffsets.as<int64_t>(), ok.lists = dLists.as<int32_t>();
  ASSERT_EQ(vsart_cuda_vsa_select(&ok, nullptr), VSART_OK)
      << vsart_last_error();

  auto expectError = [](vsart_vsa_select_args_t s, const char *what) {
    EXPECT_EQ(vsart_cuda_vsa_select(&s, nullptr), VSART_ERROR_INVALID_ARGUMENT)
        << what;
    EXPECT_NE(std::string(vsart_last_error()).find("cuda_vsa_select"),
              std::string::npos)
        << what << ": " << vsart_last_error();
  };
  EXPECT_EQ(vsart_cuda_vsa_select(nullptr, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  vsart_vsa_select_args_t s = ok;
  s.top_k = 0;
  expectError(s, "top_k 0");
  s = ok, s.top_k = 3;
  expectError(s, "top_k above num_tiles");
  s = ok, s.num_tiles = 0;
  expectError(s, "no tiles");
  s = ok, s.lists = nullptr;
  expectError(s, "null lists");
  s = ok, s.attn.seq_kv = 7;
  expectError(s, "seq_q != seq_kv");
  s = ok, s.attn.head_dim = 264;
  for (int64_t *st : {s.attn.q_strides, s.attn.k_strides, s.attn.v_strides,
                      s.attn.out_strides})
    st[2] = 264;
  expectError(s, "head_dim above 256");
  s = ok, s.attn.mask = x.data();
  s.attn.mask_dims[0] = s.attn.mask_dims[1] = s.attn.mask_dims[2] =
      s.attn.mask_dims[3] = 1;
  expectError(s, "mask");

  // No (batch, head): only list_offsets[0] = 0 is written.
  dListOffsets.upload(std::vector<int64_t>{-1, -1, -1});
  s = ok, s.attn.batch = 0;
  ASSERT_EQ(vsart_cuda_vsa_select(&s, nullptr), VSART_OK) << vsart_last_error();
  EXPECT_EQ(dListOffsets.download<int64_t>(),
            (std::vector<int64_t>{0, -1, -1}));
}

// ---- VSA tile means from vsart_cuda_norm_rope (`pooled`) -----------------

/// Random bf16 inputs of a norm_rope call on the device: x (b, s, h * d),
/// scale, bias, cos and sin.
struct RopeDevice {
  int64_t b, s, h, d;
  DeviceBuffer x, scale, bias, cosT, sinT;
  RopeDevice(int64_t b, int64_t s, int64_t h, int64_t d, uint32_t seed)
      : b(b), s(s), h(h), d(d),
        x(randomVec(size_t(b * s * h * d), seed, -3, 3)),
        scale(randomVec(size_t(h * d), seed + 1)),
        bias(randomVec(size_t(h * d), seed + 2)),
        cosT(randomVec(size_t(s * d / 2), seed + 3)),
        sinT(randomVec(size_t(s * d / 2), seed + 4)) {}
  vsart_norm_rope_args_t args(void *out, int centered, int headsMajor) {
    vsart_norm_rope_args_t a = {};
    a.x = x.data(), a.out = out;
    a.batch = b, a.seq = s, a.heads = h, a.head_dim = d;
    a.centered = centered;
    a.scale = scale.data(), a.bias = centered ? bias.data() : nullptr;
    a.eps = 1e-6f;
    a.cos = cosT.data(), a.sin = sinT.data();
    a.heads_major = headsMajor;
    return a;
  }
  size_t elems() const { return size_t(b * s * h * d); }
};

/// norm_rope of `in` into out with its tile means into pooled (device,
/// `off` the host copy of dOff), checked: the rows bit-identical to the
/// call without pooled, and each pooled value within 1e-5 of the mean
/// |value| summed of the host's (double) mean of those rows (fp32 sums in
/// another order). Returns the rows.
std::vector<float> expectPooledNormRope(RopeDevice &in,
                                        const std::vector<int64_t> &off,
                                        VsaDeviceBytes &dOff, int centered,
                                        int headsMajor, DeviceBuffer &out,
                                        VsaDeviceBytes &pooled) {
  DeviceBuffer plain(in.elems());
  plain.poison(), out.poison();
  auto a = in.args(plain.data(), centered, headsMajor);
  EXPECT_EQ(vsart_cuda_norm_rope(&a, nullptr), VSART_OK) << vsart_last_error();
  const int64_t T = int64_t(off.size()) - 1;
  pooled.upload(std::vector<float>(size_t(in.b * in.h * T * in.d), NAN));
  a = in.args(out.data(), centered, headsMajor);
  a.tile_offsets = dOff.as<int64_t>(), a.num_tiles = T;
  a.pooled = pooled.as<float>();
  EXPECT_EQ(vsart_cuda_norm_rope(&a, nullptr), VSART_OK) << vsart_last_error();
  const std::vector<float> rows = out.download(), want = plain.download();
  EXPECT_EQ(0, std::memcmp(rows.data(), want.data(), rows.size() * 4))
      << "rows differ from norm_rope without pooled";
  const std::vector<float> got = pooled.download<float>();
  int64_t st[3];
  stridesOf(headsMajor ? BHSD : BSHD, in.h, in.s, in.d, st);
  size_t bad = 0;
  double worst = 0;
  for (int64_t b = 0; b < in.b; ++b)
    for (int64_t h = 0; h < in.h; ++h)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t e = 0; e < in.d; ++e) {
          double sum = 0, abs = 0;
          for (int64_t r = off[size_t(t)]; r < off[size_t(t) + 1]; ++r) {
            const double v =
                rows[size_t(b * st[0] + h * st[1] + r * st[2] + e)];
            sum += v, abs += std::fabs(v);
          }
          const double n = double(off[size_t(t) + 1] - off[size_t(t)]);
          const float g = got[size_t(((b * in.h + h) * T + t) * in.d + e)];
          const double err = std::fabs(g - sum / n) / (abs / n);
          worst = std::max(worst, err);
          if (!(std::fabs(g - sum / n) <= 1e-5 * abs / n) && ++bad <= 5)
            ADD_FAILURE() << "pooled (batch " << b << " head " << h
                          << " tile " << t << " d " << e << "): got " << g
                          << ", expected " << sum / n;
        }
  std::printf("[ stats    ] pooled: max |err| / mean |value| = %.3g, bad "
              "%zu\n",
              worst, bad);
  std::fflush(stdout);
  EXPECT_EQ(bad, 0u);
  return rows;
}

struct RopePoolCase {
  const char *name;
  int64_t b, h, d;
  std::vector<int64_t> tiles; // tile sizes
};

void PrintTo(const RopePoolCase &c, std::ostream *os) { *os << c.name; }

std::vector<int64_t> concat(std::vector<int64_t> a,
                            const std::vector<int64_t> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Which kernel writes the means: the fused one (a CTA per tile) for rows of
// up to 3072 values and tiles of up to 128 rows on average; else the row
// kernel, then the pool kernel.
const RopePoolCase kRopePoolCases[] = {
    // Wan 1.3B's heads, a 5 x 18 x 26 latent in 4 x 4 x 4 tiles (ragged
    // edges: 64 down to 8 rows).
    {"wan_grid_tiles", 1, 12, 128, vsaGridTiles(5, 18, 26)},
    {"batch2_uneven_d16", 2, 3, 16, {16, 8, 32, 64, 5}},
    // 320 values a row: the second register chunk is partly empty.
    {"batch3_d64_partial_chunk", 3, 5, 64, vsaTiles(10, 64, {20, 7})},
    // A frame-sized tile among small ones: still the fused kernel.
    {"frame_among_small_tiles", 1, 12, 128, concat({1560}, vsaTiles(60, 8))},
    // Frame-sized tiles: pooled after the row kernel.
    {"frames", 1, 12, 128, vsaTiles(3, 1560)},
    // 4096 values a row: pooled after the row kernel.
    {"wide_rows_4096", 2, 32, 128, vsaTiles(8, 64, {13})},
};

class CudaNormRopePool : public CudaParamTest<RopePoolCase> {};

TEST_P(CudaNormRopePool, RowsAsUnfusedAndPooledTheirMeans) {
  const RopePoolCase &c = GetParam();
  const std::vector<int64_t> off = vsaOffsets(c.tiles);
  const int64_t S = off.back(), T = int64_t(c.tiles.size());
  RopeDevice in(c.b, S, c.h, c.d, 120);
  VsaDeviceBytes dOff(off), pooled(size_t(c.b * c.h * T * c.d) * 4);
  DeviceBuffer out(in.elems());
  for (int centered : {0, 1})
    for (int headsMajor : {0, 1}) {
      SCOPED_TRACE(std::string(centered ? "layer" : "rms") + " heads_major " +
                   std::to_string(headsMajor));
      expectPooledNormRope(in, off, dOff, centered, headsMajor, out, pooled);
    }
}

INSTANTIATE_TEST_SUITE_P(, CudaNormRopePool, testing::ValuesIn(kRopePoolCases),
                         [](const testing::TestParamInfo<RopePoolCase> &info) {
                           return std::string(info.param.name);
                         });

/// Expects `got` to hold `want`'s lists (top_k each, CSR as args gives
/// them) but for near-ties: in a list that differs, each tile only one of
/// them lists scores within vsaExactRow's tolerance of each tile only the
/// other lists (exact scores from args' host q and k).
void expectSameVsaLists(const vsart_vsa_select_args_t &args,
                        const std::vector<int32_t> &got,
                        const std::vector<int32_t> &want) {
  const vsart_attention_args_t &a = args.attn;
  const int64_t T = args.num_tiles, K = args.top_k, D = a.head_dim;
  const std::vector<int64_t> off(args.tile_offsets, args.tile_offsets + T + 1);
  size_t differ = 0, bad = 0;
  for (int64_t b = 0; b < a.batch; ++b)
    for (int64_t h = 0; h < a.num_heads; ++h) {
      std::vector<double> pq, pk; // pooled when a list differs
      for (int64_t i = 0; i < T; ++i) {
        const size_t l = size_t((b * a.num_heads + h) * T + i) * size_t(K);
        const std::vector<int32_t> g(got.begin() + l, got.begin() + l + K),
            w(want.begin() + l, want.begin() + l + K);
        if (g == w)
          continue;
        ++differ;
        if (pq.empty())
          std::tie(pq, pk) = vsaPooledQk(a, off, b, h);
        const VsaExactRow row = vsaExactRow(pq, pk, i, T, D, a.scale);
        auto score = [&](int32_t j) { return row.scores[size_t(j)]; };
        const double tol = row.tolerance;
        std::vector<int32_t> onlyG, onlyW;
        std::set_difference(g.begin(), g.end(), w.begin(), w.end(),
                            std::back_inserter(onlyG));
        std::set_difference(w.begin(), w.end(), g.begin(), g.end(),
                            std::back_inserter(onlyW));
        for (int32_t x : onlyG)
          for (int32_t y : onlyW)
            if (!(std::fabs(score(x) - score(y)) <= tol) &&
                ++bad <= 5)
              ADD_FAILURE() << "list " << l / size_t(K) << ": tile " << x
                            << " (score " << score(x) << ") in place of "
                            << y << " (score " << score(y) << ")";
      }
    }
  std::printf("[ stats    ] vsa_select: %zu of %lld lists differ (near-ties), "
              "%zu not near-ties\n",
              differ, (long long)(a.batch * a.num_heads * T), bad);
  std::fflush(stdout);
  EXPECT_EQ(bad, 0u);
}

using CudaVsaPooling = CudaTest;

// q and k written by the fused norm_rope with their tile means: the
// selection given those means lists what it lists pooling q and k itself
// (up to near-ties), with the same coarse output, and leaves them as they
// were; both layouts, GQA, with and without the coarse output.
TEST_F(CudaVsaPooling, SelectGivenNormRopeMeansMatchesPoolingItself) {
  const int64_t B = 2, H = 4, Hkv = 2, D = 128, K = 9;
  const std::vector<int64_t> off = vsaOffsets(vsaGridTiles(5, 18, 26));
  const int64_t S = off.back(), T = int64_t(off.size()) - 1, L = B * H * T;
  RopeDevice qIn(B, S, H, D, 130), kIn(B, S, Hkv, D, 140);
  DeviceBuffer dq(qIn.elems()), dk(kIn.elems()),
      dv(randomVec(kIn.elems(), 150)), outSelf(qIn.elems()),
      outGiven(qIn.elems());
  VsaDeviceBytes dOff(off), pq(size_t(B * H * T * D) * 4),
      pk(size_t(B * Hkv * T * D) * 4);
  for (int headsMajor : {0, 1}) {
    const Layout layout = headsMajor ? BHSD : BSHD;
    std::vector<float> q = expectPooledNormRope(qIn, off, dOff, 0, headsMajor,
                                                dq, pq);
    std::vector<float> k = expectPooledNormRope(kIn, off, dOff, 0, headsMajor,
                                                dk, pk);
    const std::vector<float> pqBefore = pq.download<float>();
    for (bool withOut : {true, false}) {
      SCOPED_TRACE(std::string(headsMajor ? "bhsd" : "bshd") +
                   (withOut ? " with out" : " lists only"));
      VsaDeviceBytes offSelf(size_t(L + 1) * 8), listsSelf(size_t(L * K) * 4),
          offGiven(size_t(L + 1) * 8), listsGiven(size_t(L * K) * 4);
      vsart_vsa_select_args_t s = {};
      vsart_attention_args_t &a = s.attn;
      a.q = dq.data(), a.k = dk.data(), a.v = dv.data();
      a.out = withOut ? outSelf.data() : nullptr;
      a.batch = B, a.num_heads = H, a.num_kv_heads = Hkv;
      a.seq_q = a.seq_kv = S, a.head_dim = D;
      a.scale = 1.0f / std::sqrt(float(D));
      stridesOf(layout, H, S, D, a.q_strides);
      stridesOf(layout, H, S, D, a.out_strides);
      stridesOf(layout, Hkv, S, D, a.k_strides);
      stridesOf(layout, Hkv, S, D, a.v_strides);
      s.num_tiles = T, s.tile_offsets = dOff.as<int64_t>(), s.top_k = K;
      s.list_offsets = offSelf.as<int64_t>(), s.lists = listsSelf.as<int32_t>();
      outSelf.poison(), outGiven.poison();
      ASSERT_EQ(vsart_cuda_vsa_select(&s, nullptr), VSART_OK)
          << vsart_last_error();
      vsart_vsa_select_args_t g = s;
      g.attn.q = g.attn.k = nullptr;
      g.attn.out = withOut ? outGiven.data() : nullptr;
      g.pooled_q = pq.as<float>(), g.pooled_k = pk.as<float>();
      g.list_offsets = offGiven.as<int64_t>();
      g.lists = listsGiven.as<int32_t>();
      ASSERT_EQ(vsart_cuda_vsa_select(&g, nullptr), VSART_OK)
          << vsart_last_error();

      EXPECT_EQ(offGiven.download<int64_t>(), offSelf.download<int64_t>());
      vsart_vsa_select_args_t host = s; // the rows on the host, for scores
      host.attn.q = q.data(), host.attn.k = k.data();
      host.tile_offsets = off.data();
      expectSameVsaLists(host, listsGiven.download<int32_t>(),
                         listsSelf.download<int32_t>());
      const std::vector<float> given = outGiven.download();
      if (withOut)
        expectNear(given, outSelf.download(), "coarse out");
      else
        for (float x : given)
          ASSERT_TRUE(std::isnan(x));
      const std::vector<float> pqAfter = pq.download<float>();
      EXPECT_EQ(0, std::memcmp(pqAfter.data(), pqBefore.data(),
                               pqAfter.size() * 4))
          << "pooled_q changed";
    }
  }
}

TEST_F(CudaVsaPooling, RejectsBadPoolingArguments) {
  const std::vector<int64_t> off = {0, 4, 8};
  RopeDevice in(1, 8, 1, 8, 160);
  DeviceBuffer out(in.elems()), wide(size_t(8 * 512));
  VsaDeviceBytes dOff(off), pooled(size_t(2 * 512) * 4);
  vsart_norm_rope_args_t ok = in.args(out.data(), 0, 0);
  ok.tile_offsets = dOff.as<int64_t>(), ok.num_tiles = 2;
  ok.pooled = pooled.as<float>();
  vsart_norm_rope_args_t a = ok;
  ASSERT_EQ(vsart_cuda_norm_rope(&a, nullptr), VSART_OK) << vsart_last_error();
  auto expectRopeError = [](vsart_norm_rope_args_t a, const char *what) {
    vsart_test::expectRejected(vsart_cuda_norm_rope(&a, nullptr),
                               "cuda_norm_rope", what);
  };
  a = ok, a.tile_offsets = nullptr;
  expectRopeError(a, "pooled without tile offsets");
  a = ok, a.num_tiles = 0;
  expectRopeError(a, "no tiles");
  a = ok, a.num_tiles = 9;
  expectRopeError(a, "more tiles than rows");
  a = ok, a.batch = 65536;
  expectRopeError(a, "65536 batches");
  a = ok, a.head_dim = 512, a.x = a.out = wide.data(); // 512 x 2: cos, sin
  a.cos = a.sin = wide.data();
  expectRopeError(a, "head_dim above 256");

  // vsa_select: pooled_q and pooled_k go together.
  VsaDeviceBytes dListOffsets(size_t(3 * 8)), dLists(size_t(16));
  vsart_vsa_select_args_t s = {};
  s.attn.v = out.data();
  s.attn.batch = s.attn.num_heads = s.attn.num_kv_heads = 1;
  s.attn.seq_q = s.attn.seq_kv = 8, s.attn.head_dim = 8, s.attn.scale = 1.0f;
  for (int64_t *st : {s.attn.q_strides, s.attn.k_strides, s.attn.v_strides,
                      s.attn.out_strides})
    st[0] = st[1] = 64, st[2] = 8;
  s.num_tiles = 2, s.tile_offsets = dOff.as<int64_t>(), s.top_k = 1;
  s.list_offsets = dListOffsets.as<int64_t>(), s.lists = dLists.as<int32_t>();
  s.pooled_q = s.pooled_k = pooled.as<float>();
  ASSERT_EQ(vsart_cuda_vsa_select(&s, nullptr), VSART_OK) << vsart_last_error();
  for (int which : {0, 1}) {
    vsart_vsa_select_args_t bad = s;
    (which ? bad.pooled_q : bad.pooled_k) = nullptr;
    vsart_test::expectRejected(vsart_cuda_vsa_select(&bad, nullptr),
                               "cuda_vsa_select", "one of pooled_q, pooled_k");
  }
  EXPECT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK) << vsart_last_error();
}

// Timings of the VSA coarse stage at the Wan 2.1 shapes (disabled; with the
// CudaPerf timings below).
using CudaPerf = CudaTest;
template <class F> double medianMs(int reps, F &&fn);

/// Times vsart_cuda_vsa_select (coarse output on) over batch B, H heads x
/// 128 and the tokens of a t x h x w latent cut into 4 x 4 x 4 tiles
/// ((b, s, h, d) layout, random bf16 inputs), then checks the lists of
/// (batch 0, head 0) against the CPU.
void timeVsaSelect(const char *what, int64_t B, int64_t H, int64_t t, int64_t h,
                   int64_t w, int64_t topK) {
  const int64_t D = 128;
  const std::vector<int64_t> off = vsaOffsets(vsaGridTiles(t, h, w));
  const int64_t T = int64_t(off.size()) - 1, S = off.back(), L = B * H * T;
  const size_t n = size_t(B * S * H * D);
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto fill = [&](std::vector<uint16_t> &x) { // fast uniform [-1, 1)
    x.resize(n);
    for (uint16_t &e : x) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      e = toBf16(float(int32_t(state >> 32)) * (1.0f / 2147483648.0f));
    }
  };
  std::vector<uint16_t> hq, hk, hv;
  fill(hq), fill(hk), fill(hv);
  VsaDeviceBytes dq(hq), dk(hk), dv(hv), dout(n * 2), dOff(off),
      dListOffsets(size_t(L + 1) * 8), dLists(size_t(L * topK) * 4);
  vsart_vsa_select_args_t s = {};
  vsart_attention_args_t &a = s.attn;
  a.q = dq.as<void>(), a.k = dk.as<void>(), a.v = dv.as<void>();
  a.out = dout.as<void>();
  a.batch = B, a.num_heads = a.num_kv_heads = H, a.seq_q = a.seq_kv = S;
  a.head_dim = D, a.scale = 1.0f / std::sqrt(float(D));
  for (int64_t *st : {a.q_strides, a.k_strides, a.v_strides, a.out_strides})
    stridesOf(BSHD, H, S, D, st);
  s.num_tiles = T, s.tile_offsets = dOff.as<int64_t>(), s.top_k = topK;
  s.list_offsets = dListOffsets.as<int64_t>(), s.lists = dLists.as<int32_t>();
  const double ms = medianMs(10, [&] {
    ASSERT_EQ(vsart_cuda_vsa_select(&s, nullptr), VSART_OK)
        << vsart_last_error();
  });
  a.out = nullptr; // lists only
  const double listsMs = medianMs(10, [&] {
    ASSERT_EQ(vsart_cuda_vsa_select(&s, nullptr), VSART_OK)
        << vsart_last_error();
  });
  std::printf("[ perf     ] vsa_select %s: batch %lld, %lld heads x %lld, "
              "%lld tokens, %lld tiles, top_k %lld: %.3f ms (%.3f ms "
              "without the coarse output)\n",
              what, (long long)B, (long long)H, (long long)D, (long long)S,
              (long long)T, (long long)topK, ms, listsMs);

  // Head 0 of batch 0 on the CPU, as contiguous (s, d) fp32.
  std::vector<float> q0(size_t(S * D)), k0(q0.size()), v0(q0.size());
  for (int64_t r = 0; r < S; ++r)
    for (int64_t e = 0; e < D; ++e) {
      const size_t src = size_t(r * H * D + e), dst = size_t(r * D + e);
      q0[dst] = fromBf16(hq[src]), k0[dst] = fromBf16(hk[src]);
      v0[dst] = fromBf16(hv[src]);
    }
  std::vector<int64_t> cpuListOffsets(size_t(T + 1));
  std::vector<int32_t> cpuLists(size_t(T * topK));
  vsart_vsa_select_args_t c = s;
  c.attn.q = q0.data(), c.attn.k = k0.data(), c.attn.v = v0.data();
  c.attn.out = nullptr;
  c.attn.batch = c.attn.num_heads = c.attn.num_kv_heads = 1;
  for (int64_t *st : {c.attn.q_strides, c.attn.k_strides, c.attn.v_strides})
    st[0] = st[1] = S * D, st[2] = D;
  c.tile_offsets = off.data();
  c.list_offsets = cpuListOffsets.data(), c.lists = cpuLists.data();
  ASSERT_EQ(vsart_cpu_vsa_select(&c), VSART_OK) << vsart_last_error();
  std::vector<int32_t> got = dLists.download<int32_t>();
  got.resize(cpuLists.size()); // (batch 0, head 0) comes first
  expectVsaSelection(c, got, cpuLists);
}

/// Wan 2.1 1.3B, 480p: 21 x 30 x 52 latent tokens, 624 tiles, 12.5 % kept;
/// batch 1, then 2 (classifier-free guidance).
TEST_F(CudaPerf, DISABLED_WanVsaSelect) {
  timeVsaSelect("Wan 1.3B 480p", 1, 12, 21, 30, 52, 78);
  timeVsaSelect("Wan 1.3B 480p CFG", 2, 12, 21, 30, 52, 78);
}

/// Wan 2.1 14B, 720p: 21 x 45 x 80 latent tokens, 1440 tiles, 12.5 % kept.
TEST_F(CudaPerf, DISABLED_Wan14BVsaSelect) {
  timeVsaSelect("Wan 14B 720p", 1, 40, 21, 45, 80, 180);
}

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

/// Random self-attention operands of batch 1, H heads, S tokens, head_dim D
/// in the (b, s, h, d) layout (q and k in [-2, 2]), on the host and the
/// device, with arguments over the device copies.
struct PerfAttention {
  int64_t H, S, D;
  std::vector<float> q, k, v;
  DeviceBuffer dq, dk, dv, dout;
  vsart_attention_args_t a = {};
  PerfAttention(int64_t H, int64_t S, int64_t D)
      : H(H), S(S), D(D), q(randomVec(size_t(S * H * D), 11, -2, 2)),
        k(randomVec(size_t(S * H * D), 12, -2, 2)),
        v(randomVec(size_t(S * H * D), 13)), dq(q), dk(k), dv(v),
        dout(q.size()) {
    a.batch = 1, a.num_heads = H, a.num_kv_heads = H, a.seq_q = S;
    a.seq_kv = S, a.head_dim = D, a.scale = 1.0f / std::sqrt(float(D));
    for (int64_t *s : {a.q_strides, a.k_strides, a.v_strides, a.out_strides})
      stridesOf(BSHD, H, S, D, s);
    a.q = dq.data(), a.k = dk.data(), a.v = dv.data(), a.out = dout.data();
  }
  double flops() const { return 4.0 * S * S * D * H; }
  /// Query rows 0, S / 3 and S - 1 of every head: the device output's in
  /// gotRows, exact CPU attention's in refRows.
  void rows(std::vector<float> &gotRows, std::vector<float> &refRows) {
    const std::vector<float> got = dout.download();
    for (int64_t row : {int64_t(0), S / 3, S - 1}) {
      std::vector<float> ref(size_t(H * D));
      vsart_attention_args_t cpu = a; // one query row, every head
      cpu.fp8 = 0, cpu.seq_q = 1;
      cpu.q = q.data() + row * H * D, cpu.k = k.data(), cpu.v = v.data();
      cpu.out = ref.data();
      ASSERT_EQ(vsart_cpu_attention_strided(&cpu), VSART_OK);
      refRows.insert(refRows.end(), ref.begin(), ref.end());
      gotRows.insert(gotRows.end(), got.begin() + row * H * D,
                     got.begin() + (row + 1) * H * D);
    }
  }
};

/// Times bf16 attention over PerfAttention's operands on `path`, then
/// checks three query rows against the CPU.
void timeAttention(int64_t H, int64_t S, int64_t D,
                   vsart_attention_path_t path = VSART_ATTENTION_AUTO) {
  PathGuard guard(path);
  PerfAttention p(H, S, D);
  p.dout.poison();
  const double ms = medianMs(5, [&] {
    ASSERT_EQ(vsart_cuda_attention(&p.a, nullptr), VSART_OK)
        << vsart_last_error();
  });
  std::printf("[ perf     ] attention 1x%lldx%lldx%lld (bshd, %s): %.3f ms, "
              "%.1f TFLOP/s\n",
              (long long)H, (long long)S, (long long)D, pathName(path), ms,
              p.flops() / ms / 1e9);
  std::vector<float> gotRows, refRows;
  p.rows(gotRows, refRows);
  expectNear(gotRows, refRows, "attention rows");
}

/// Wan 2.1 self-attention: 12 heads x 128, 32760 tokens.
TEST_F(CudaPerf, DISABLED_WanAttention) { timeAttention(12, 32760, 128); }

/// FP8 attention (cuDNN) at Wan 1.3B's and 14B's self-attention shapes,
/// against bf16 cuDNN in the same process; error of three rows of every
/// head against the exact attention.
void timeFp8Attention(int64_t H, int64_t S, int64_t D) {
  if (vsart_cuda_cudnn_version() == 0)
    GTEST_SKIP() << "cuDNN 9 does not load";
  PerfAttention p(H, S, D);
  PathGuard guard(VSART_ATTENTION_CUDNN);
  for (int fp8 : {0, 1}) {
    p.a.fp8 = fp8;
    const double ms = medianMs(5, [&] {
      ASSERT_EQ(vsart_cuda_attention(&p.a, nullptr), VSART_OK)
          << vsart_last_error();
    });
    std::printf("[ perf     ] attention 1x%lldx%lldx%lld (bshd, cuDNN %s): "
                "%.3f ms, %.1f TFLOP/s\n",
                (long long)H, (long long)S, (long long)D,
                fp8 ? "FP8, with quantization" : "bf16", ms,
                p.flops() / ms / 1e9);
  }
  std::vector<float> gotRows, refRows;
  p.rows(gotRows, refRows);
  const double err = vsart_test::relL2(gotRows, refRows);
  std::printf("[ perf     ] FP8 attention: rel L2 %.3g against exact rows\n",
              err);
  EXPECT_LT(err, 8e-2);
}

TEST_F(CudaPerf, DISABLED_WanFp8Attention) { timeFp8Attention(12, 32760, 128); }
TEST_F(CudaPerf, DISABLED_Wan14BFp8Attention) {
  timeFp8Attention(40, 75600, 128);
}

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

/// Key-block lists for block-sparse timing: per (head, query block), `keep`
/// distinct random key blocks in ascending order (PER_HEAD lists, as VSA's
/// selection writes them).
void randomLists(int64_t heads, int64_t blocks, int64_t keep, uint32_t seed,
                 std::vector<int64_t> &listOff, std::vector<int32_t> &lists) {
  std::mt19937 rng(seed);
  std::vector<int32_t> all(size_t(blocks), 0);
  std::iota(all.begin(), all.end(), 0);
  listOff.assign(1, 0);
  lists.clear();
  for (int64_t l = 0; l < heads * blocks; ++l) {
    std::shuffle(all.begin(), all.end(), rng);
    std::sort(all.begin(), all.begin() + keep);
    lists.insert(lists.end(), all.begin(), all.begin() + keep);
    listOff.push_back(int64_t(lists.size()));
  }
}

/// Times block-sparse attention over batch 1, H heads, S tokens, head_dim D
/// (b s h d) for each block structure (name, block sizes), keeping
/// (blocks + 4) / 8 (~12.5 %) random key blocks per (head, query block)
/// (PER_HEAD lists), against our dense kernel (and cuDNN's) on the same
/// tensors. TFLOP/s count the real tokens of the computed block pairs; the
/// ratio is block-sparse over our dense kernel's TFLOP/s. Three query blocks
/// of three heads are checked against the CPU.
void timeBlockSparse(
    int64_t H, int64_t S, int64_t D,
    const std::vector<std::pair<const char *, std::vector<int64_t>>> &structs) {
  PerfAttention p(H, S, D);
  const std::vector<float> &q = p.q, &k = p.k, &v = p.v;
  DeviceBuffer &dout = p.dout;
  const vsart_attention_args_t &a = p.a;
  const double denseFlops = p.flops();
  double ownTflops = 0;
  for (vsart_attention_path_t path :
       {VSART_ATTENTION_OWN, VSART_ATTENTION_CUDNN}) {
    if (path == VSART_ATTENTION_CUDNN && vsart_cuda_cudnn_version() == 0)
      continue;
    PathGuard guard(path);
    const double ms = medianMs(5, [&] {
      ASSERT_EQ(vsart_cuda_attention(&a, nullptr), VSART_OK)
          << vsart_last_error();
    });
    if (path == VSART_ATTENTION_OWN)
      ownTflops = denseFlops / ms / 1e9;
    std::printf("[ perf     ] dense attention 1x%lldx%lldx%lld (bshd, %s): "
                "%.3f ms, %.1f TFLOP/s\n",
                (long long)H, (long long)S, (long long)D, pathName(path), ms,
                denseFlops / ms / 1e9);
  }

  for (const auto &[name, sizes] : structs) {
    const int64_t nb = int64_t(sizes.size()), keep = (nb + 4) / 8;
    const std::vector<int64_t> off = offsetsOf(sizes);
    ASSERT_EQ(off.back(), S) << name;
    std::vector<int64_t> listOff;
    std::vector<int32_t> lists;
    randomLists(H, nb, keep, 5, listOff, lists);
    double flops = 0;
    for (int64_t l = 0; l < H * nb; ++l) {
      int64_t keys = 0;
      for (int64_t e = listOff[size_t(l)]; e < listOff[size_t(l + 1)]; ++e)
        keys += sizes[size_t(lists[size_t(e)])];
      flops += 4.0 * D * double(sizes[size_t(l % nb)]) * double(keys);
    }
    DeviceArray<int64_t> doff(off), dlistOff(listOff);
    DeviceArray<int32_t> dlists(lists);
    vsart_block_sparse_args_t b = {};
    b.attn = a;
    b.num_q_blocks = b.num_kv_blocks = nb;
    b.q_block_offsets = b.kv_block_offsets = doff.data();
    b.list_scope = VSART_LISTS_PER_HEAD;
    b.list_offsets = dlistOff.data(), b.lists = dlists.data();
    b.max_q_block = *std::max_element(sizes.begin(), sizes.end());
    dout.poison();
    const double ms = medianMs(20, [&] {
      ASSERT_EQ(vsart_cuda_block_sparse_attention(&b, nullptr), VSART_OK)
          << vsart_last_error();
    });
    const double tflops = flops / ms / 1e9;
    std::printf("[ perf     ] block-sparse 1x%lldx%lldx%lld (bshd, %s, "
                "%lld/%lld key blocks per query block): %.3f ms, %.1f TFLOP/s "
                "of computed blocks (%.1f%% of dense FLOPs), %.2fx our dense "
                "kernel's TFLOP/s\n",
                (long long)H, (long long)S, (long long)D, name,
                (long long)keep, (long long)nb, ms, tflops,
                100.0 * flops / denseFlops,
                ownTflops > 0 ? tflops / ownTflops : 0.0);
    std::fflush(stdout);

    std::vector<float> got = dout.download(), gotRows, refRows;
    for (int64_t qb : {int64_t(0), nb / 2, nb - 1})
      for (int64_t h : {int64_t(0), H / 2, H - 1}) {
        const int64_t rows = sizes[size_t(qb)], l = h * nb + qb;
        std::vector<float> ref(size_t(rows * D));
        const std::vector<int64_t> one = {0, rows}, oneList = {0, keep};
        vsart_block_sparse_args_t cpu = b; // one query block of one head
        cpu.attn.num_heads = cpu.attn.num_kv_heads = 1, cpu.attn.seq_q = rows;
        cpu.attn.q = q.data() + (off[size_t(qb)] * H + h) * D;
        cpu.attn.k = k.data() + h * D, cpu.attn.v = v.data() + h * D;
        cpu.attn.out = ref.data();
        for (int i = 0; i < 3; ++i)
          cpu.attn.out_strides[i] = D;
        cpu.num_q_blocks = 1, cpu.q_block_offsets = one.data();
        cpu.kv_block_offsets = off.data();
        cpu.list_scope = VSART_LISTS_SHARED, cpu.list_offsets = oneList.data();
        cpu.lists = lists.data() + listOff[size_t(l)];
        ASSERT_EQ(vsart_cpu_block_sparse_attention(&cpu), VSART_OK)
            << vsart_last_error();
        refRows.insert(refRows.end(), ref.begin(), ref.end());
        for (int64_t i = 0; i < rows; ++i) {
          const auto row = got.begin() + ((off[size_t(qb)] + i) * H + h) * D;
          gotRows.insert(gotRows.end(), row, row + D);
        }
      }
    expectNear(gotRows, refRows, std::string("block_sparse rows, ") + name);
  }
}

/// Blocks of `size` tokens covering `seq` tokens, the last holding the rest.
std::vector<int64_t> uniformBlocks(int64_t seq, int64_t size) {
  std::vector<int64_t> s(size_t((seq + size - 1) / size), size);
  s.back() = seq - size * int64_t(s.size() - 1);
  return s;
}

/// Wan 2.1 1.3B 480p self-attention (12 heads x 128, 32760 tokens = 21 x 30
/// x 52 latent positions) in four block structures: 64-token blocks (512,
/// the last holding 56), 128-token blocks (256, the last holding 120: the
/// block size of the FlexAttention anchor), VSA's 4x4x4 tiles in tile order
/// (624, edge tiles of 8-48 tokens) and frames (21 of 1560 tokens).
TEST_F(CudaPerf, DISABLED_WanBlockSparse) {
  std::vector<int64_t> tiles;
  for (int64_t t = 0; t < 21; t += 4)
    for (int64_t y = 0; y < 30; y += 4)
      for (int64_t x = 0; x < 52; x += 4)
        tiles.push_back(std::min<int64_t>(4, 21 - t) *
                        std::min<int64_t>(4, 30 - y) *
                        std::min<int64_t>(4, 52 - x));
  timeBlockSparse(12, 32760, 128,
                  {{"64-token blocks", uniformBlocks(32760, 64)},
                   {"128-token blocks", uniformBlocks(32760, 128)},
                   {"VSA 4x4x4 tiles", tiles},
                   {"1560-token frames", uniformBlocks(32760, 1560)}});
}

/// head_dim 64 (16 heads x 16384 tokens, the dense AttentionD64 shape) in
/// 64-token blocks.
TEST_F(CudaPerf, DISABLED_BlockSparseD64) {
  timeBlockSparse(16, 16384, 64,
                  {{"64-token blocks", uniformBlocks(16384, 64)}});
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

// FP8 against bf16 at Wan 2.1 1.3B's GEMM shapes (32760 tokens), the same
// process: cuBLASLt bf16, cuBLASLt FP8 with outer-vector scales, and the
// row quantization of the FP8 GEMM's input.
TEST_F(CudaPerf, DISABLED_WanScaledGemm) {
  const int64_t M = 32760;
  const int64_t shapes[][2] = {{1536, 1536}, {8960, 1536}, {1536, 8960}};
  for (const auto &nk : shapes) {
    const int64_t N = nk[0], K = nk[1];
    DeviceBuffer a(randomVec(size_t(M * K), 1)), b(randomVec(size_t(K * N), 2));
    DeviceBuffer bias(randomVec(size_t(N), 3)), c(size_t(M * N));
    DeviceBytes q(size_t(M * K)), s(size_t(M) * 4);
    const auto [wq, ws] = cpuQuantize(randomVec(size_t(N * K), 4), N, K, K);
    std::vector<uint8_t> stored(vsart_f8_rows_scales_offset(N * K) + ws.size() * 4);
    std::memcpy(stored.data(), wq.data(), wq.size());
    std::memcpy(stored.data() + vsart_f8_rows_scales_offset(N * K), ws.data(),
                ws.size() * 4);
    DeviceBytes w(stored);
    const double bf16Ms = medianMs(5, [&] {
      ASSERT_EQ(vsart_cuda_gemm(0, 1, M, N, K, 1.0f, a.data(), K, 0, b.data(),
                                K, 0, c.data(), N, 0, 1, bias.data(),
                                VSART_EPILOGUE_NONE, nullptr),
                VSART_OK)
          << vsart_last_error();
    });
    const double quantMs = medianMs(5, [&] {
      ASSERT_EQ(vsart_cuda_quantize_rows(a.data(), M, K, K, q.data(),
                                         static_cast<float *>(s.data()),
                                         nullptr),
                VSART_OK)
          << vsart_last_error();
    });
    const double fp8Ms = medianMs(5, [&] {
      ASSERT_EQ(vsart_cuda_scaled_gemm(M, N, K, 1.0f, q.data(),
                                       static_cast<const float *>(s.data()),
                                       w.data(), c.data(), N, bias.data(),
                                       VSART_EPILOGUE_NONE, nullptr),
                VSART_OK)
          << vsart_last_error();
    });
    const double flop = 2.0 * M * N * K;
    std::printf("[ perf     ] gemm %lldx%lldx%lld bias: bf16 %.3f ms (%.0f "
                "TFLOP/s), fp8 %.3f ms (%.0f TFLOP/s), quantize %.3f ms, "
                "fp8+quantize / bf16 = %.3f\n",
                (long long)M, (long long)N, (long long)K, bf16Ms,
                flop / bf16Ms / 1e9, fp8Ms, flop / fp8Ms / 1e9, quantMs,
                (fp8Ms + quantMs) / bf16Ms);
  }
}

/// Wan 2.1 1.3B's FFN-up input (CFG batch 2 x 16380 tokens, dim 1536): the
/// modulated layer norm quantized with a scale per row and with one scale
/// per tensor, in turns, 20 calls a timing.
TEST_F(CudaPerf, DISABLED_WanNormQuantize) {
  const int64_t B = 2, S = 16380, D = 1536;
  DeviceBuffer x(randomVec(size_t(B * S * D), 1, -3, 5)),
      scale(randomVec(size_t(D), 2)), bias(randomVec(size_t(D), 3)),
      shift(randomVec(size_t(B * D), 4)), modScale(randomVec(size_t(B * D), 5));
  DeviceBytes q(size_t(B * S * D)), s(size_t(B * S) * 4);
  vsart_norm_quantize_args_t a = {};
  a.x = x.data();
  a.q = static_cast<uint8_t *>(q.data());
  a.scales = static_cast<float *>(s.data());
  a.batch = B, a.seq = S, a.dim = D;
  a.centered = 1;
  a.scale = scale.data(), a.bias = bias.data();
  a.mod_shift = shift.data(), a.mod_scale = modScale.data();
  a.eps = 1e-6f;
  for (int perTensor : {0, 1, 0, 1, 0, 1}) {
    a.per_tensor = perTensor;
    const double ms = medianMs(5, [&] {
      for (int i = 0; i < 20; ++i)
        ASSERT_EQ(vsart_cuda_norm_quantize(&a, nullptr), VSART_OK)
            << vsart_last_error();
    });
    std::printf("[ perf     ] norm_quantize %lldx%lldx%lld %s: %.1f us\n",
                (long long)B, (long long)S, (long long)D,
                perTensor ? "per tensor" : "per row", ms * 1000.0 / 20);
  }
}

/// Wan 2.1 1.3B's FFN-up (32760 x 8960 x 1536, bias + GELU): the bf16
/// output of vsart_cuda_scaled_gemm then its row quantization (what
/// FFN-down's input costs today) against vsart_cuda_scaled_gemm_quantize,
/// in turns (the clocks fall as the GPU warms up).
TEST_F(CudaPerf, DISABLED_WanFfnUpFp8Output) {
  const int64_t M = 32760, N = 8960, K = 1536;
  std::vector<uint8_t> hostA(size_t(M * K));
  uint32_t state = 1;
  for (uint8_t &b : hostA) { // finite E4M3 values of both signs
    state = state * 1664525u + 1013904223u;
    b = uint8_t((state >> 24) & 0xf7);
  }
  DeviceBytes a(hostA), as(std::vector<float>(size_t(M), 0.01f));
  const std::vector<float> w = randomVec(size_t(N * K), 4, -0.05f, 0.05f);
  DeviceBytes wRows(f8RowsWeight(w, N, K)),
      wTensor(vsart_test::storeF8Tensor(w, N, K));
  DeviceBuffer bias(randomVec(size_t(N), 3)), c(size_t(M * N));
  DeviceBytes q(size_t(M * N)), s(size_t(M) * 4);
  const auto *asp = static_cast<const float *>(as.data());
  auto *sp = static_cast<float *>(s.data());
  auto time = [](auto &&call) { // ms per call, 10 calls a timing
    return medianMs(5, [&] {
             for (int i = 0; i < 10; ++i)
               ASSERT_EQ(call(), VSART_OK) << vsart_last_error();
           }) /
           10;
  };
  for (int turn = 0; turn < 3; ++turn) {
    const double bf16Ms = time([&] {
      return vsart_cuda_scaled_gemm(M, N, K, 1.0f, a.data(), asp, wRows.data(),
                                    c.data(), N, bias.data(),
                                    VSART_EPILOGUE_GELU_TANH, nullptr);
    });
    const double quantMs = time([&] {
      return vsart_cuda_quantize_rows(c.data(), M, N, N, q.data(), sp,
                                      nullptr);
    });
    const double fp8Ms = time([&] {
      return vsart_cuda_scaled_gemm_quantize(
          M, N, K, 1.0f, a.data(), asp, wTensor.data(), q.data(), sp,
          bias.data(), VSART_EPILOGUE_GELU_TANH, nullptr);
    });
    std::printf("[ perf     ] ffn-up %lldx%lldx%lld bias+gelu: bf16 out %.3f "
                "ms + quantize_rows %.3f ms, fp8 out %.3f ms\n",
                (long long)M, (long long)N, (long long)K, bf16Ms, quantMs,
                fp8Ms);
  }
}

// ---- semantic-aware permutation attention (Sparse VideoGen2) ---------------

/// q, k, v of the semantic tests in the (b, s, h, d) layout, bf16-exact.
/// Well-separated clusters: per (batch, head), as many centres as clusters;
/// token c * seq / clusters (k-means' seed c) sits at centre c, the others
/// at random centres (noise 0.1); v uniform. (Blobs split between several
/// clusters are ill-conditioned: rounding alone, e.g. FMA contraction in
/// the CPU twin, moves their boundaries and the kept lists.)
struct SemanticProblem {
  int64_t B, H, Hkv, S, D, Cq, Ckv;
  std::vector<float> q, k, v;

  void fill(uint32_t seed) {
    auto around = [&](int64_t heads, int64_t centres, uint32_t s) {
      std::mt19937 rng(s);
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      std::vector<float> x(size_t(B * S * heads * D));
      std::vector<int64_t> which(static_cast<size_t>(S));
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < heads; ++h) {
          std::vector<float> c(size_t(centres * D));
          for (float &e : c)
            e = 2.0f * u(rng);
          for (int64_t &w : which)
            w = int64_t(rng() % uint32_t(centres));
          for (int64_t i = 0; i < centres; ++i)
            which[size_t(i * S / centres)] = i;
          for (int64_t t = 0; t < S; ++t)
            for (int64_t d = 0; d < D; ++d)
              x[size_t(((b * S + t) * heads + h) * D + d)] =
                  c[size_t(which[size_t(t)] * D + d)] + 0.1f * u(rng);
        }
      return roundBf16(x);
    };
    q = around(H, Cq, seed), k = around(Hkv, Ckv, seed + 1);
    v = randomVec(size_t(B * S * Hkv * D), seed + 2);
  }
  vsart_semantic_args_t args(float topP) const {
    vsart_semantic_args_t s = {};
    vsart_attention_args_t &a = s.attn;
    a.batch = B, a.num_heads = H, a.num_kv_heads = Hkv;
    a.seq_q = a.seq_kv = S, a.head_dim = D;
    a.scale = 1.0f / std::sqrt(float(D));
    stridesOf(BSHD, H, S, D, a.q_strides);
    stridesOf(BSHD, H, S, D, a.out_strides);
    stridesOf(BSHD, Hkv, S, D, a.k_strides);
    stridesOf(BSHD, Hkv, S, D, a.v_strides);
    s.num_q_clusters = Cq, s.num_kv_clusters = Ckv;
    s.iterations_first = 10, s.iterations_warm = 2;
    s.top_p = topP, s.min_kept_fraction = 0.1f;
    return s;
  }
};

struct SemanticCase {
  const char *name;
  int64_t B, H, Hkv, S, D, Cq, Ckv;
  float topP;
};

class CudaSemantic : public CudaParamTest<SemanticCase> {};

/// Both twins on the same bf16 inputs, a first and a warm call: the outputs
/// agree within bf16 tolerance and (well-separated clusters) nearly all
/// labels match.
TEST_P(CudaSemantic, MatchesCpu) {
  const SemanticCase &c = GetParam();
  SemanticProblem p = {c.B, c.H, c.Hkv, c.S, c.D, c.Cq, c.Ckv, {}, {}, {}};
  p.fill(31);
  // CPU.
  std::vector<float> qc(size_t(c.B * c.H * c.Cq * c.D)),
      kc(size_t(c.B * c.Hkv * c.Ckv * c.D)), out(p.q.size());
  std::vector<int32_t> ql(size_t(c.B * c.H * c.S)), kl(size_t(c.B * c.Hkv * c.S));
  vsart_semantic_state_t cs = {qc.data(), kc.data(), 0};
  vsart_semantic_args_t ca = p.args(c.topP);
  ca.attn.q = p.q.data(), ca.attn.k = p.k.data(), ca.attn.v = p.v.data();
  ca.attn.out = out.data(), ca.state = &cs;
  ca.q_labels = ql.data(), ca.k_labels = kl.data();
  size_t cpuBytes = 0;
  ASSERT_EQ(vsart_cpu_semantic_scratch_bytes(&ca, &cpuBytes), VSART_OK);
  std::vector<double> cpuScratch(cpuBytes / 8 + 8);
  ca.scratch = cpuScratch.data(), ca.scratch_bytes = cpuBytes;
  // GPU.
  DeviceBuffer dq(p.q), dk(p.k), dv(p.v), dout(p.q.size());
  VsaDeviceBytes dqc(qc.size() * 4), dkc(kc.size() * 4), dql(ql.size() * 4),
      dkl(kl.size() * 4);
  vsart_semantic_state_t gs = {dqc.as<float>(), dkc.as<float>(), 0};
  vsart_semantic_args_t ga = p.args(c.topP);
  ga.attn.q = dq.data(), ga.attn.k = dk.data(), ga.attn.v = dv.data();
  ga.attn.out = dout.data(), ga.state = &gs;
  ga.q_labels = dql.as<int32_t>(), ga.k_labels = dkl.as<int32_t>();
  size_t gpuBytes = 0;
  ASSERT_EQ(vsart_cuda_semantic_scratch_bytes(&ga, &gpuBytes), VSART_OK);
  VsaDeviceBytes scratch(gpuBytes);
  ga.scratch = scratch.as<void>(), ga.scratch_bytes = gpuBytes;
  for (const char *call : {"first", "warm"}) {
    dout.poison();
    ASSERT_EQ(vsart_cpu_semantic_attention(&ca), VSART_OK) << vsart_last_error();
    ASSERT_EQ(vsart_cuda_semantic_attention(&ga, nullptr), VSART_OK)
        << vsart_last_error();
    EXPECT_EQ(gs.initialized, 1);
    for (auto [gotDev, want, what] :
         {std::make_tuple(&dql, &ql, "q"), std::make_tuple(&dkl, &kl, "k")}) {
      const std::vector<int32_t> got = gotDev->download<int32_t>();
      size_t same = 0;
      for (size_t i = 0; i < got.size(); ++i)
        same += got[i] == (*want)[i];
      EXPECT_GE(double(same), 0.99 * double(got.size()))
          << what << " labels, " << call << " call";
    }
    expectNear(dout.download(), out, std::string("out, ") + call + " call");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CudaSemantic,
    testing::Values(
        SemanticCase{"D128", 1, 2, 2, 700, 128, 12, 10, 0.9f},
        SemanticCase{"D64Gqa", 2, 4, 2, 523, 64, 9, 14, 0.9f},
        SemanticCase{"Dense", 2, 2, 1, 300, 64, 8, 8, 1.0f},
        SemanticCase{"BigClusters", 1, 2, 2, 1500, 128, 3, 4, 0.5f},
        SemanticCase{"D40", 1, 2, 2, 200, 40, 5, 6, 0.9f}),
    [](const testing::TestParamInfo<SemanticCase> &info) {
      return std::string(info.param.name);
    });

using CudaSemanticArgs = CudaTest;

TEST_F(CudaSemanticArgs, RejectsBadArguments) {
  SemanticProblem p = {1, 2, 2, 128, 64, 4, 4, {}, {}, {}};
  p.fill(5);
  DeviceBuffer dq(p.q), dk(p.k), dv(p.v), dout(p.q.size());
  VsaDeviceBytes dqc(size_t(2 * 4 * 64) * 4), dkc(size_t(2 * 4 * 64) * 4);
  vsart_semantic_state_t gs = {dqc.as<float>(), dkc.as<float>(), 0};
  vsart_semantic_args_t ga = p.args(0.9f);
  ga.attn.q = dq.data(), ga.attn.k = dk.data(), ga.attn.v = dv.data();
  ga.attn.out = dout.data(), ga.state = &gs;
  size_t bytes = 0;
  ASSERT_EQ(vsart_cuda_semantic_scratch_bytes(&ga, &bytes), VSART_OK);
  VsaDeviceBytes scratch(bytes);
  ga.scratch = scratch.as<void>(), ga.scratch_bytes = bytes - 1;
  EXPECT_EQ(vsart_cuda_semantic_attention(&ga, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("scratch"), std::string::npos);
  ga.scratch_bytes = bytes;
  vsart_semantic_args_t bad = ga;
  bad.top_p = 0.0f;
  EXPECT_EQ(vsart_cuda_semantic_attention(&bad, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  bad = ga;
  bad.attn.head_dim = 264;
  EXPECT_EQ(vsart_cuda_semantic_attention(&bad, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gs.initialized, 0);
  ASSERT_EQ(vsart_cuda_semantic_attention(&ga, nullptr), VSART_OK)
      << vsart_last_error();
  EXPECT_EQ(vsart_cuda_synchronize(nullptr), VSART_OK) << vsart_last_error();
  EXPECT_EQ(gs.initialized, 1);
}

/// Wan 2.1 1.3B at 480p: 1 x 12 heads x 32760 tokens x 128, 100 query and
/// 100 key clusters, 50 iterations on the first call, then 2; top_p 0.9.
/// Prints the first call, a warm call, dense attention and the kept density.
TEST_F(CudaPerf, DISABLED_WanSemantic) {
  const int64_t H = 12, S = 32760, D = 128, C = 100;
  const size_t n = size_t(S * H * D);
  uint64_t state = 0x9e3779b97f4a7c15ull;
  std::vector<uint16_t> hq(n), hk(n), hv(n);
  for (auto *x : {&hq, &hk, &hv})
    for (uint16_t &e : *x) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      e = toBf16(float(int32_t(state >> 32)) * (2.0f / 2147483648.0f));
    }
  VsaDeviceBytes dq(hq), dk(hk), dv(hv), dout(n * 2),
      dqc(size_t(H * C * D) * 4), dkc(size_t(H * C * D) * 4),
      dmap(size_t(H * C * C));
  SemanticProblem p = {1, H, H, S, D, C, C, {}, {}, {}};
  vsart_semantic_state_t gs = {dqc.as<float>(), dkc.as<float>(), 0};
  vsart_semantic_args_t ga = p.args(0.9f);
  ga.iterations_first = 50, ga.iterations_warm = 2;
  ga.attn.q = dq.as<void>(), ga.attn.k = dk.as<void>();
  ga.attn.v = dv.as<void>(), ga.attn.out = dout.as<void>();
  ga.state = &gs, ga.block_map = dmap.as<uint8_t>();
  size_t bytes = 0;
  ASSERT_EQ(vsart_cuda_semantic_scratch_bytes(&ga, &bytes), VSART_OK);
  VsaDeviceBytes scratch(bytes);
  ga.scratch = scratch.as<void>(), ga.scratch_bytes = bytes;
  const double firstMs = medianMs(3, [&] {
    gs.initialized = 0;
    ASSERT_EQ(vsart_cuda_semantic_attention(&ga, nullptr), VSART_OK)
        << vsart_last_error();
  });
  const double warmMs = medianMs(10, [&] {
    ASSERT_EQ(vsart_cuda_semantic_attention(&ga, nullptr), VSART_OK)
        << vsart_last_error();
  });
  const std::vector<uint8_t> map = dmap.download<uint8_t>();
  double kept = 0;
  for (uint8_t m : map)
    kept += m;
  vsart_attention_args_t dense = ga.attn;
  const double denseMs = medianMs(5, [&] {
    ASSERT_EQ(vsart_cuda_attention(&dense, nullptr), VSART_OK)
        << vsart_last_error();
  });
  std::printf("[ perf     ] semantic Wan 1.3B: 12 x 32760 x 128, 100/100 "
              "clusters, top_p 0.9: first call (50 iterations) %.3f ms, warm "
              "call (2 iterations) %.3f ms, dense attention %.3f ms, %.1f %% "
              "of cluster pairs kept, scratch %.1f MiB\n",
              firstMs, warmMs, denseMs, 100.0 * kept / double(map.size()),
              double(bytes) / 1048576.0);
}

} // namespace

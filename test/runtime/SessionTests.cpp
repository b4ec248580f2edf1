// Sessions, weight binding (.vsab, safetensors, host data, random), bf16/f16
// conversion, .npy I/O and vsart_exe_main, on small hand-written models.
#include "DTypes.h"
#include "Npy.h"
#include "Safetensors.h"
#include "VsabWriter.h"
#include "vsart_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace {

// ---- helpers
// -----------------------------------------------------------------

std::string tmp(const std::string &name) {
  return testing::TempDir() + "vsart-session-" + std::to_string(getpid()) +
         "-" + name;
}

void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(bytes.data()),
          std::streamsize(bytes.size()));
}

std::vector<uint8_t> bytesOf(const std::string &s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

template <typename T> std::vector<uint8_t> bytesOf(const std::vector<T> &v) {
  const auto *p = reinterpret_cast<const uint8_t *>(v.data());
  return std::vector<uint8_t>(p, p + v.size() * sizeof(T));
}

std::string lastError() { return vsart_last_error(); }

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

struct ThreadGuard {
  ~ThreadGuard() { vsart_set_num_threads(0); }
};

// ---- the test models
// ------------------------------------------------------------- "affine":
// y[2,4] = x[2,3] @ proj.weight[3,4] + proj.bias[4], in f32.

const vsart_tensor_desc_t kAffineInputs[] = {
    {"x", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {2, 3}}};
const vsart_tensor_desc_t kAffineOutputs[] = {
    {"y", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {2, 4}}};
const vsart_tensor_desc_t kAffineWeights[] = {
    {"proj.weight", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {3, 4}},
    {"proj.bias", VSART_DTYPE_F32, VSART_DTYPE_F32, 1, {4}}};

vsart_status_t affineForward(void *const *in, void *const *out,
                             const void *const *w, void *arena, void *stream,
                             const vsart_run_context_t *) {
  if (!arena || stream)
    return VSART_ERROR_INVALID_ARGUMENT;
  return vsart_cpu_gemm(0, 0, 2, 4, 3, 1.0f, static_cast<const float *>(in[0]),
                        3, static_cast<const float *>(w[0]), 4, 0.0f,
                        static_cast<float *>(out[0]), 4,
                        static_cast<const float *>(w[1]), VSART_EPILOGUE_NONE);
}

vsart_model_t affineModel() {
  return {VSART_MODEL_ABI_VERSION,
          "affine",
          VSART_TARGET_CPU,
          &vsart_cpu_device_ops,
          1,
          kAffineInputs,
          1,
          kAffineOutputs,
          2,
          kAffineWeights,
          64,
          affineForward};
}

// "affine_bf16": the same computation with every tensor stored as bf16 (as on
// CUDA); the forward widens to f32 in the arena.
const vsart_tensor_desc_t kBf16Inputs[] = {
    {"x", VSART_DTYPE_F32, VSART_DTYPE_BF16, 2, {2, 3}}};
const vsart_tensor_desc_t kBf16Outputs[] = {
    {"y", VSART_DTYPE_F32, VSART_DTYPE_BF16, 2, {2, 4}}};
const vsart_tensor_desc_t kBf16Weights[] = {
    {"proj.weight", VSART_DTYPE_F32, VSART_DTYPE_BF16, 2, {3, 4}},
    {"proj.bias", VSART_DTYPE_F32, VSART_DTYPE_BF16, 1, {4}}};

void widen(const void *src, float *dst, size_t n) {
  for (size_t i = 0; i < n; ++i)
    dst[i] = vsart::loadFloat(VSART_DTYPE_BF16, src, i);
}

vsart_status_t bf16Forward(void *const *in, void *const *out,
                           const void *const *w, void *arena, void *,
                           const vsart_run_context_t *) {
  float *x = static_cast<float *>(arena), *wt = x + 6, *b = wt + 12, *y = b + 4;
  widen(in[0], x, 6);
  widen(w[0], wt, 12);
  widen(w[1], b, 4);
  vsart_status_t st = vsart_cpu_gemm(0, 0, 2, 4, 3, 1.0f, x, 3, wt, 4, 0.0f, y,
                                     4, b, VSART_EPILOGUE_NONE);
  for (size_t i = 0; i < 8; ++i)
    vsart::storeFloat(VSART_DTYPE_BF16, out[0], i, y[i]);
  return st;
}

vsart_model_t bf16Model() {
  return {VSART_MODEL_ABI_VERSION,
          "affine_bf16",
          VSART_TARGET_CPU,
          &vsart_cpu_device_ops,
          1,
          kBf16Inputs,
          1,
          kBf16Outputs,
          2,
          kBf16Weights,
          30 * 4,
          bf16Forward};
}

// "probe": copies its weights to its outputs so tests can read them back.
const vsart_tensor_desc_t kProbeWeights[] = {
    {"w", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {3, 16}},
    {"norm.weight", VSART_DTYPE_F32, VSART_DTYPE_F32, 1, {64}},
    {"table", VSART_DTYPE_I64, VSART_DTYPE_I64, 1, {4}}};
const vsart_tensor_desc_t kProbeOutputs[] = {
    {"w", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {3, 16}},
    {"norm", VSART_DTYPE_F32, VSART_DTYPE_F32, 1, {64}},
    {"table", VSART_DTYPE_I64, VSART_DTYPE_I64, 1, {4}}};

// The context of the last probe forward.
vsart_run_context_t lastContext;

vsart_status_t probeForward(void *const *, void *const *out,
                            const void *const *w, void *, void *,
                            const vsart_run_context_t *ctx) {
  lastContext = *ctx;
  std::memcpy(out[0], w[0], 48 * 4);
  std::memcpy(out[1], w[1], 64 * 4);
  std::memcpy(out[2], w[2], 4 * 8);
  return VSART_OK;
}

vsart_model_t probeModel() {
  return {VSART_MODEL_ABI_VERSION,
          "probe",
          VSART_TARGET_CPU,
          &vsart_cpu_device_ops,
          0,
          nullptr,
          3,
          kProbeOutputs,
          3,
          kProbeWeights,
          0,
          probeForward};
}

// "stateful": persistent state of 8 floats; each forward writes the state
// and ctx->state_calls to its output, then adds 1 to every state element.
const vsart_tensor_desc_t kStateOutputs[] = {
    {"seen", VSART_DTYPE_F32, VSART_DTYPE_F32, 1, {9}}};

vsart_status_t stateForward(void *const *, void *const *out,
                            const void *const *, void *, void *,
                            const vsart_run_context_t *ctx) {
  if (!ctx || !ctx->state)
    return VSART_ERROR_INVALID_ARGUMENT;
  float *state = static_cast<float *>(ctx->state);
  float *seen = static_cast<float *>(out[0]);
  std::memcpy(seen, state, 8 * sizeof(float));
  seen[8] = float(ctx->state_calls);
  for (int i = 0; i < 8; ++i)
    state[i] += 1.0f;
  return VSART_OK;
}

vsart_model_t stateModel() {
  vsart_model_t m = probeModel();
  m.name = "stateful";
  m.num_outputs = 1;
  m.outputs = kStateOutputs;
  m.num_weights = 0;
  m.weights = nullptr;
  m.forward = stateForward;
  m.state_bytes = 8 * sizeof(float);
  return m;
}

// Reference weights and input of the affine model.
struct AffineData {
  std::vector<float> x = {0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.75f};
  std::vector<float> w = std::vector<float>(12);
  std::vector<float> b = {0.1f, -0.2f, 0.3f, -0.4f};
  AffineData() {
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = float(i) * 0.125f - 0.6f;
  }
  std::vector<double> expected() const {
    std::vector<double> y(8);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 4; ++j) {
        double acc = b[size_t(j)];
        for (int k = 0; k < 3; ++k)
          acc += double(x[size_t(i * 3 + k)]) * w[size_t(k * 4 + j)];
        y[size_t(i * 4 + j)] = acc;
      }
    return y;
  }
  std::string writeVsab(const std::string &name) const {
    vsart::VsabWriter writer;
    std::string err;
    EXPECT_TRUE(writer.addTensor("proj.weight", VSART_DTYPE_F32, {3, 4},
                                 w.data(), 48, &err));
    EXPECT_TRUE(writer.addTensor("proj.bias", VSART_DTYPE_F32, {4}, b.data(),
                                 16, &err));
    const std::string path = tmp(name);
    EXPECT_TRUE(writer.writeFile(path, &err)) << err;
    return path;
  }
};

void expectNear(const std::vector<float> &got, const std::vector<double> &ref,
                double tol) {
  ASSERT_EQ(got.size(), ref.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], ref[i], tol) << "element " << i;
}

// Runs one forward of `s` on `x` and returns y.
std::vector<float> runAffine(vsart_session_t s, const std::vector<float> &x) {
  std::vector<float> y(8, NAN);
  EXPECT_EQ(vsart_session_set_input(s, 0, x.data()), VSART_OK) << lastError();
  EXPECT_EQ(vsart_session_forward(s), VSART_OK) << lastError();
  EXPECT_EQ(vsart_session_get_output(s, 0, y.data()), VSART_OK) << lastError();
  return y;
}

// ---- conversions
// ----------------------------------------------------------------

TEST(Session, Bf16RoundsToNearestEven) {
  using vsart::bitsToFloat;
  using vsart::floatToBf16;
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBf16(bitsToFloat(0x3f808000u)), 0x3f80); // tie, even stays
  EXPECT_EQ(floatToBf16(bitsToFloat(0x3f818000u)),
            0x3f82); // tie, odd rounds up
  EXPECT_EQ(floatToBf16(bitsToFloat(0x3f808001u)), 0x3f81); // above the tie
  EXPECT_EQ(floatToBf16(bitsToFloat(0x3f807fffu)), 0x3f80); // below the tie
  EXPECT_EQ(floatToBf16(-0.0f), 0x8000);
  EXPECT_EQ(floatToBf16(INFINITY), 0x7f80);
  EXPECT_EQ(floatToBf16(bitsToFloat(0x7f7fffffu)), 0x7f80); // FLT_MAX -> Inf
  // NaNs stay NaN, even a signalling one whose payload is only in low bits.
  for (uint32_t nan : {0x7fc00000u, 0x7f800001u, 0xff800001u, 0x7fffffffu}) {
    uint16_t h = floatToBf16(bitsToFloat(nan));
    EXPECT_TRUE(std::isnan(vsart::bf16ToFloat(h))) << std::hex << nan;
    EXPECT_EQ(h & 0x8000, (nan >> 16) & 0x8000);
  }
  // Every non-NaN bf16 survives bf16 -> f32 -> bf16.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = vsart::bf16ToFloat(uint16_t(h));
    if (!std::isnan(f)) {
      ASSERT_EQ(floatToBf16(f), h);
    }
  }
}

TEST(Session, HalfConversion) {
  using vsart::floatToHalf;
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // tie to even: Inf
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0x0000); // tie to even: 0
  EXPECT_EQ(floatToHalf(std::ldexp(3.0f, -25)), 0x0002);
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // tie
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(3.0f, -11)), 0x3c02); // tie, odd
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_TRUE(std::isnan(vsart::halfToFloat(floatToHalf(NAN))));
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = vsart::halfToFloat(uint16_t(h));
    if (!std::isnan(f)) {
      ASSERT_EQ(floatToHalf(f), h) << std::hex << h;
    }
  }
}

// ---- the CPU device and session creation
// -------------------------------------------

TEST(Session, CpuDeviceOps) {
  const vsart_device_ops_t &d = vsart_cpu_device_ops;
  EXPECT_STREQ(d.name, "cpu");
  for (size_t bytes : {size_t(0), size_t(1), size_t(300), size_t(1) << 20}) {
    void *p = nullptr;
    ASSERT_EQ(d.alloc(bytes, &p), VSART_OK);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 256, 0u);
    d.free(p);
  }
  void *p = nullptr;
  EXPECT_EQ(d.alloc(SIZE_MAX, &p), VSART_ERROR_OUT_OF_MEMORY);
  ASSERT_EQ(d.alloc(16, &p), VSART_OK);
  const char src[16] = "uploaded bytes!";
  char back[16] = {};
  EXPECT_EQ(d.upload(p, src, 16, nullptr), VSART_OK);
  EXPECT_EQ(d.download(back, p, 16, nullptr), VSART_OK);
  EXPECT_EQ(d.synchronize(nullptr), VSART_OK);
  EXPECT_STREQ(back, src);
  d.free(p);
}

TEST(Session, CreateRejectsBadModels) {
  vsart_session_t s = nullptr;
  EXPECT_EQ(vsart_session_create(nullptr, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  vsart_model_t m = affineModel();
  m.abi_version = 99;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_UNSUPPORTED_VERSION);
  EXPECT_TRUE(contains(lastError(), "99"));
  m = affineModel();
  m.device = nullptr;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  m = affineModel();
  m.forward = nullptr;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  m = affineModel();
  m.num_weights = -1;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);

  vsart_tensor_desc_t weights[2] = {kAffineWeights[0], kAffineWeights[1]};
  m = affineModel();
  m.weights = weights;
  weights[1].name = "proj.weight";
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(lastError(), "duplicate"));
  weights[1] = kAffineWeights[1];
  weights[1].dims[0] = -4;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  weights[1] = kAffineWeights[1];
  weights[1].dtype = VSART_DTYPE_I64; // an index table cannot live in f32
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  weights[1] = kAffineWeights[1];
  weights[1].rank = 9;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  weights[1] = kAffineWeights[1];
  weights[1].name = nullptr;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(s, nullptr);
  vsart_session_destroy(nullptr);
}

// ---- binding from .vsab
// ---------------------------------------------------------------

TEST(Session, BindsFromVsabAndRuns) {
  AffineData data;
  const std::string path = data.writeVsab("affine.vsab");
  vsart_model_t m = affineModel();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, path.c_str(), &s), VSART_OK)
      << lastError();
  EXPECT_EQ(vsart_session_num_unbound(s), 0);
  expectNear(runAffine(s, data.x), data.expected(), 1e-5);
  // arena 64 -> 256, inputs 24 -> 256, outputs 32 -> 256, weights 48+16 -> 512.
  EXPECT_EQ(vsart_session_device_bytes(s), 256u + 256u + 256u + 512u);
  // A second forward on new inputs.
  data.x[0] = -3.0f;
  expectNear(runAffine(s, data.x), data.expected(), 1e-5);
  vsart_session_destroy(s);
  std::remove(path.c_str());
}

// Writes a .vsab holding `tensors` (name, dtype, shape; zero data).
std::string
vsabWith(const std::vector<std::tuple<std::string, vsart_dtype_t,
                                      std::vector<int64_t>>> &tensors) {
  vsart::VsabWriter writer;
  for (const auto &[name, dtype, shape] : tensors) {
    size_t bytes = vsart_dtype_size(dtype);
    for (int64_t d : shape)
      bytes *= size_t(d);
    std::vector<uint8_t> zeros(bytes);
    EXPECT_TRUE(writer.addTensor(name, dtype, shape, zeros.data(), bytes));
  }
  const std::string path = tmp("mismatch.vsab");
  EXPECT_TRUE(writer.writeFile(path));
  return path;
}

TEST(Session, VsabMismatchesAreErrors) {
  vsart_model_t m = affineModel();
  vsart_session_t s = nullptr;
  std::string path = vsabWith({{"proj.weight", VSART_DTYPE_F32, {4, 3}}});
  EXPECT_EQ(vsart_session_create(&m, path.c_str(), &s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(lastError(), "'proj.weight'")) << lastError();
  EXPECT_TRUE(contains(lastError(), "[4, 3]")) << lastError();
  EXPECT_TRUE(contains(lastError(), "[3, 4]")) << lastError();

  path = vsabWith({{"proj.weight", VSART_DTYPE_BF16, {3, 4}}});
  EXPECT_EQ(vsart_session_create(&m, path.c_str(), &s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(lastError(), "bf16 [3, 4]")) << lastError();

  path = vsabWith({{"proj.bias", VSART_DTYPE_F32, {4}},
                   {"blocks.9.extra", VSART_DTYPE_F32, {2}}});
  EXPECT_EQ(vsart_session_create(&m, path.c_str(), &s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(lastError(), "'blocks.9.extra'")) << lastError();
  EXPECT_EQ(s, nullptr);

  EXPECT_EQ(vsart_session_create(&m, "/nonexistent/model.vsab", &s),
            VSART_ERROR_IO);
  std::remove(path.c_str());
}

// A .vsab may hold a subset of the weights; the rest stay unbound.
TEST(Session, UnboundWeightIsNamed) {
  std::string path = vsabWith({{"proj.weight", VSART_DTYPE_F32, {3, 4}}});
  vsart_model_t m = affineModel();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, path.c_str(), &s), VSART_OK)
      << lastError();
  EXPECT_EQ(vsart_session_num_unbound(s), 1);
  EXPECT_TRUE(contains(lastError(), "proj.bias")) << lastError();
  AffineData data;
  ASSERT_EQ(vsart_session_set_input(s, 0, data.x.data()), VSART_OK);
  EXPECT_EQ(vsart_session_forward(s), VSART_ERROR_NOT_FOUND);
  EXPECT_TRUE(contains(lastError(), "proj.bias")) << lastError();
  EXPECT_FALSE(contains(lastError(), "proj.weight")) << lastError();
  vsart_session_destroy(s);
  std::remove(path.c_str());
}

TEST(Session, ForwardNeedsEveryInput) {
  AffineData data;
  vsart_model_t m = affineModel();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK);
  int64_t dw[2] = {3, 4}, db[1] = {4};
  ASSERT_EQ(vsart_session_bind_weight(s, "proj.weight", VSART_DTYPE_F32, 2, dw,
                                      data.w.data()),
            VSART_OK);
  ASSERT_EQ(vsart_session_bind_weight(s, "proj.bias", VSART_DTYPE_F32, 1, db,
                                      data.b.data()),
            VSART_OK);
  EXPECT_EQ(vsart_session_forward(s), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(lastError(), "'x'")) << lastError();
  EXPECT_EQ(vsart_session_set_input(s, 1, data.x.data()),
            VSART_ERROR_INVALID_ARGUMENT);
  float y[8];
  EXPECT_EQ(vsart_session_get_output(s, -1, y), VSART_ERROR_INVALID_ARGUMENT);
  expectNear(runAffine(s, data.x), data.expected(), 1e-5);
  vsart_session_destroy(s);
}

// ---- binding host data and bf16 storage
// ------------------------------------------------

TEST(Session, BindWeightChecksNameShapeDtype) {
  vsart_model_t m = affineModel();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK);
  std::vector<float> w(12);
  int64_t good[2] = {3, 4}, bad[2] = {4, 3};
  EXPECT_EQ(
      vsart_session_bind_weight(s, "nope", VSART_DTYPE_F32, 2, good, w.data()),
      VSART_ERROR_NOT_FOUND);
  EXPECT_EQ(vsart_session_bind_weight(s, "proj.weight", VSART_DTYPE_F32, 2, bad,
                                      w.data()),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(lastError(), "[4, 3]") &&
              contains(lastError(), "[3, 4]"))
      << lastError();
  EXPECT_EQ(vsart_session_bind_weight(s, "proj.weight", VSART_DTYPE_I64, 2,
                                      good, w.data()),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_session_bind_weight(s, "proj.weight", VSART_DTYPE_F32, 2,
                                      good, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_session_num_unbound(s), 2);
  vsart_session_destroy(s);
}

// Weights bound from f32, bf16 and f16 host data into bf16 storage; inputs
// and outputs converted on the way in and out.
TEST(Session, Bf16StorageConvertsOnBindInputAndOutput) {
  AffineData data;
  vsart_model_t m = bf16Model();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK) << lastError();
  int64_t dw[2] = {3, 4}, db[1] = {4};
  std::vector<uint16_t> wHalf(12), bBf16(4);
  for (size_t i = 0; i < 12; ++i)
    wHalf[i] = vsart::floatToHalf(data.w[i]);
  for (size_t i = 0; i < 4; ++i)
    bBf16[i] = vsart::floatToBf16(data.b[i]);
  ASSERT_EQ(vsart_session_bind_weight(s, "proj.weight", VSART_DTYPE_F16, 2, dw,
                                      wHalf.data()),
            VSART_OK)
      << lastError();
  ASSERT_EQ(vsart_session_bind_weight(s, "proj.bias", VSART_DTYPE_BF16, 1, db,
                                      bBf16.data()),
            VSART_OK)
      << lastError();
  // bf16 keeps 8 significant bits: |error| <= ~2^-8 relative per operand.
  expectNear(runAffine(s, data.x), data.expected(), 0.05);
  ASSERT_EQ(vsart_session_bind_weight(s, "proj.weight", VSART_DTYPE_F32, 2, dw,
                                      data.w.data()),
            VSART_OK);
  expectNear(runAffine(s, data.x), data.expected(), 0.05);
  EXPECT_EQ(vsart_session_device_bytes(s), 256u * 5);
  vsart_session_destroy(s);
}

// ---- random weights
// --------------------------------------------------------------------

std::vector<float> probeFloats(vsart_session_t s, int32_t output, size_t n) {
  std::vector<float> v(n, NAN);
  EXPECT_EQ(vsart_session_get_output(s, output, v.data()), VSART_OK);
  return v;
}

TEST(Session, RandomWeightsAreSeededAndScaledAndSkipIntegers) {
  vsart_model_t m = probeModel();
  vsart_session_t a = nullptr, b = nullptr, c = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &a), VSART_OK);
  ASSERT_EQ(vsart_session_create(&m, nullptr, &b), VSART_OK);
  ASSERT_EQ(vsart_session_create(&m, nullptr, &c), VSART_OK);
  ASSERT_EQ(vsart_session_randomize_weights(a, 7), VSART_OK);
  ASSERT_EQ(vsart_session_randomize_weights(b, 7), VSART_OK);
  ASSERT_EQ(vsart_session_randomize_weights(c, 8), VSART_OK);
  // The integer table stays unbound, and forward says so.
  EXPECT_EQ(vsart_session_num_unbound(a), 1);
  EXPECT_TRUE(contains(lastError(), "table"));
  EXPECT_EQ(vsart_session_forward(a), VSART_ERROR_NOT_FOUND);
  EXPECT_TRUE(contains(lastError(), "table")) << lastError();
  const std::vector<int64_t> table = {3, 1, 0, 2};
  const int64_t dims[1] = {4};
  for (vsart_session_t s : {a, b, c}) {
    ASSERT_EQ(vsart_session_bind_weight(s, "table", VSART_DTYPE_I64, 1, dims,
                                        table.data()),
              VSART_OK);
    ASSERT_EQ(vsart_session_forward(s), VSART_OK) << lastError();
  }
  const std::vector<float> wa = probeFloats(a, 0, 48),
                           wb = probeFloats(b, 0, 48),
                           wc = probeFloats(c, 0, 48);
  const std::vector<float> na = probeFloats(a, 1, 64);
  EXPECT_EQ(wa, wb);
  EXPECT_NE(wa, wc);
  float maxW = 0, maxN = 0;
  for (float v : wa)
    maxW = std::max(maxW, std::fabs(v));
  for (float v : na)
    maxN = std::max(maxN, std::fabs(v));
  EXPECT_LE(maxW, 0.25f); // 1 / sqrt(fan_in = 16)
  EXPECT_GT(maxW, 0.1f);
  EXPECT_LE(maxN, 0.5f); // rank 1: uniform in [-0.5, 0.5]
  EXPECT_GT(maxN, 0.3f);
  std::vector<int64_t> t(4);
  ASSERT_EQ(vsart_session_get_output(a, 2, t.data()), VSART_OK);
  EXPECT_EQ(t, table);
  // Already bound weights are kept.
  std::vector<float> ones(48, 1.0f);
  const int64_t wd[2] = {3, 16};
  ASSERT_EQ(
      vsart_session_bind_weight(c, "w", VSART_DTYPE_F32, 2, wd, ones.data()),
      VSART_OK);
  ASSERT_EQ(vsart_session_randomize_weights(c, 1), VSART_OK);
  ASSERT_EQ(vsart_session_forward(c), VSART_OK);
  EXPECT_EQ(probeFloats(c, 0, 48), ones);
  for (vsart_session_t s : {a, b, c})
    vsart_session_destroy(s);
}

// ---- safetensors
// ---------------------------------------------------------------------

struct StTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

// A safetensors image; `pad` extra header spaces shift (mis)align the data.
std::vector<uint8_t> safetensors(const std::vector<StTensor> &tensors,
                                 size_t pad = 0) {
  std::string json = "{\"__metadata__\": {\"format\": \"pt\"}";
  std::vector<uint8_t> data;
  for (const StTensor &t : tensors) {
    json +=
        ", \"" + t.name + "\": {\"dtype\": \"" + t.dtype + "\", \"shape\": [";
    for (size_t i = 0; i < t.shape.size(); ++i)
      json += (i ? ", " : "") + std::to_string(t.shape[i]);
    json += "], \"data_offsets\": [" + std::to_string(data.size()) + ", " +
            std::to_string(data.size() + t.data.size()) + "]}";
    data.insert(data.end(), t.data.begin(), t.data.end());
  }
  json += "}" + std::string(pad, ' ');
  std::vector<uint8_t> file(8);
  for (int i = 0; i < 8; ++i)
    file[size_t(i)] = uint8_t(uint64_t(json.size()) >> (8 * i));
  file.insert(file.end(), json.begin(), json.end());
  file.insert(file.end(), data.begin(), data.end());
  return file;
}

std::vector<uint8_t> rawSafetensors(const std::string &json,
                                    const std::vector<uint8_t> &data) {
  std::vector<uint8_t> file(8);
  for (int i = 0; i < 8; ++i)
    file[size_t(i)] = uint8_t(uint64_t(json.size()) >> (8 * i));
  file.insert(file.end(), json.begin(), json.end());
  file.insert(file.end(), data.begin(), data.end());
  return file;
}

// Loads `bytes` as a safetensors file into a fresh affine session.
vsart_status_t loadSafetensors(const std::vector<uint8_t> &bytes,
                               std::vector<float> *y = nullptr) {
  const std::string path = tmp("weights.safetensors");
  writeBytes(path, bytes);
  vsart_model_t m = affineModel();
  vsart_session_t s = nullptr;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK);
  vsart_status_t st = vsart_session_load_safetensors(s, path.c_str());
  if (st != VSART_OK) {
    EXPECT_STRNE(vsart_last_error(), "");
  }
  if (st == VSART_OK && y && vsart_session_num_unbound(s) == 0)
    *y = runAffine(s, AffineData().x);
  vsart_session_destroy(s);
  std::remove(path.c_str());
  return st;
}

std::vector<StTensor> affineTensors() {
  AffineData data;
  std::vector<uint16_t> bias(4);
  for (size_t i = 0; i < 4; ++i)
    bias[i] = vsart::floatToBf16(data.b[i]);
  std::vector<double> unused = {1.0, 2.0};
  return {{"proj.weight", "F32", {3, 4}, bytesOf(data.w)},
          {"text_encoder.unused", "F64", {2}, bytesOf(unused)},
          {"proj.bias", "BF16", {4}, bytesOf(bias)}};
}

TEST(Safetensors, RoundTripBindsByNameAndIgnoresOthers) {
  for (size_t pad : {0, 1, 3}) { // pad 1 and 3 misalign the data region
    SCOPED_TRACE(pad);
    std::vector<float> y;
    ASSERT_EQ(loadSafetensors(safetensors(affineTensors(), pad), &y), VSART_OK)
        << lastError();
    expectNear(y, AffineData().expected(), 0.01); // bias went through bf16
  }
}

TEST(Safetensors, ParsesHeadersStrictly) {
  std::vector<vsart::SafetensorsEntry> e;
  const std::string ok =
      R"({"a\u00e9\ud83d\ude00": {"dtype": "I64", "shape": [], )"
      R"("data_offsets": [0, 8]}, "__metadata__": {"k": "v"}})";
  ASSERT_EQ(vsart::parseSafetensorsHeader(ok.data(), ok.size(), 8, "t", &e),
            VSART_OK)
      << lastError();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].name, "a\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(e[0].vsartDtype, VSART_DTYPE_I64);
  EXPECT_TRUE(e[0].shape.empty());
  const std::string entry =
      R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";
  ASSERT_EQ(
      vsart::parseSafetensorsHeader(entry.data(), entry.size(), 8, "t", &e),
      VSART_OK);
  // A dtype this reader does not know is fine while its offsets are sane.
  const std::string future =
      R"({"t": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}})";
  EXPECT_EQ(
      vsart::parseSafetensorsHeader(future.data(), future.size(), 8, "t", &e),
      VSART_OK);
  EXPECT_FALSE(e[0].known);
}

TEST(Safetensors, CorruptFilesAreCleanErrors) {
  const std::vector<uint8_t> valid = safetensors(affineTensors());
  const std::vector<uint8_t> data(64, 0);
  const std::string tail = R"(, "data_offsets": [0, 8]}})";
  const std::vector<std::vector<uint8_t>> bad = {
      {},
      {1, 2, 3},
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'},
      {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'}, // header longer than the file
      rawSafetensors("", data),
      rawSafetensors("{", data),
      rawSafetensors("[1, 2]", data),
      rawSafetensors("{} x", data),
      rawSafetensors(R"({"a": 1,})", data),
      rawSafetensors(
          R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
          R"( "a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
          data),
      rawSafetensors(R"({"a": {"shape": [2], "data_offsets": [0, 8]}})", data),
      rawSafetensors(R"({"a": {"dtype": "F32", "shape": [-2])" + tail, data),
      rawSafetensors(R"({"a": {"dtype": "F32", "shape": [1.5])" + tail, data),
      rawSafetensors(
          R"({"a": {"dtype": "F32", "shape": [1, 1, 1, 1, 1, 1, 1, 1, 2])" +
              tail,
          data),
      rawSafetensors(
          R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})",
          data),
      rawSafetensors(
          R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [60, 68]}})",
          data),
      rawSafetensors(
          R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 18446744073709551615]}})",
          data),
      rawSafetensors(R"({"a": {"dtype": "F32", "shape": [3])" + tail, data),
      rawSafetensors(
          R"({"a": {"dtype": "F32", "shape": [4611686018427387904, 4])" + tail,
          data),
      rawSafetensors(
          R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})",
          data),
      rawSafetensors(R"({"a\q": 1})", data),
      rawSafetensors("{\"a\x01\": 1}", data),
      rawSafetensors(R"({"\ud800": 1})", data),
      rawSafetensors(R"({"a": tru})", data),
      rawSafetensors(R"({"a": 01})", data),
      rawSafetensors(R"({"": {"dtype": "F32", "shape": [2])" + tail, data),
      rawSafetensors(R"({"a\u0000b": {"dtype": "F32", "shape": [2])" + tail,
                     data),
      rawSafetensors("{\"__metadata__\": " + std::string(100000, '[') + "}",
                     data),
      // A weight the model uses in a dtype it cannot take.
      rawSafetensors(
          R"({"proj.bias": {"dtype": "I64", "shape": [4], "data_offsets": [0, 32]}})",
          data),
      rawSafetensors(
          R"({"proj.bias": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}})",
          data),
      rawSafetensors(
          R"({"proj.bias": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}})",
          data),
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_NE(loadSafetensors(bad[i]), VSART_OK);
  }
  EXPECT_EQ(vsart_session_load_safetensors(nullptr, "x"),
            VSART_ERROR_INVALID_ARGUMENT);
  // Every truncation and every byte of the header overwritten: never a
  // crash; what is accepted has been bound through validated offsets.
  size_t headerEnd = 8 + size_t(valid[0]) + (size_t(valid[1]) << 8);
  for (size_t len = 0; len < valid.size(); ++len)
    EXPECT_NE(loadSafetensors({valid.begin(), valid.begin() + long(len)}),
              VSART_OK)
        << len;
  for (size_t i = 0; i < headerEnd; ++i)
    for (uint8_t v : {uint8_t(0), uint8_t('9'), uint8_t('"'), uint8_t(0xff)}) {
      std::vector<uint8_t> mutated = valid;
      mutated[i] = v;
      loadSafetensors(mutated);
    }
}

// ---- .npy
// ------------------------------------------------------------------------------

TEST(Npy, WriteReadRoundTrip) {
  const std::string path = tmp("a.npy");
  const std::vector<float> f = {1.5f, -2.0f, 3.25f, 0.0f, 5.0f, -6.5f};
  ASSERT_EQ(vsart::npy::write(path, VSART_DTYPE_F32, {2, 1, 3}, f.data()),
            VSART_OK);
  vsart::npy::Array a;
  ASSERT_EQ(vsart::npy::read(path, &a), VSART_OK) << lastError();
  EXPECT_EQ(a.descr, "<f4");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ(a.data, bytesOf(f));
  std::ifstream raw(path, std::ios::binary | std::ios::ate);
  EXPECT_EQ(size_t(raw.tellg()) - f.size() * 4, 128u); // 64-aligned header

  const std::vector<int64_t> ids = {7, -3, 1000000000000};
  ASSERT_EQ(vsart::npy::write(path, VSART_DTYPE_I64, {3}, ids.data()),
            VSART_OK);
  ASSERT_EQ(vsart::npy::read(path, &a), VSART_OK);
  EXPECT_EQ(a.descr, "<i8");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(a.data, bytesOf(ids));

  const std::vector<uint8_t> mask = {1, 0, 5};
  ASSERT_EQ(vsart::npy::write(path, VSART_DTYPE_BOOL, {3}, mask.data()),
            VSART_OK);
  ASSERT_EQ(vsart::npy::read(path, &a), VSART_OK);
  EXPECT_EQ(a.descr, "|b1");
  EXPECT_EQ(a.data, (std::vector<uint8_t>{1, 0, 1}));

  const float scalar = 4.0f;
  ASSERT_EQ(vsart::npy::write(path, VSART_DTYPE_F32, {}, &scalar), VSART_OK);
  ASSERT_EQ(vsart::npy::read(path, &a), VSART_OK);
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.numElements(), 1);

  // bf16 and i32 are widened to <f4 and <i8.
  const std::vector<uint16_t> h = {vsart::floatToBf16(1.5f),
                                   vsart::floatToBf16(-3.0f)};
  ASSERT_EQ(vsart::npy::write(path, VSART_DTYPE_BF16, {2}, h.data()), VSART_OK);
  ASSERT_EQ(vsart::npy::read(path, &a), VSART_OK);
  EXPECT_EQ(a.data, bytesOf(std::vector<float>{1.5f, -3.0f}));
  std::remove(path.c_str());
}

// A .npy image with the given version, header dict and payload.
std::vector<uint8_t> npyImage(int major, const std::string &dict,
                              const std::vector<uint8_t> &payload) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  const size_t len = dict.size();
  out.push_back(uint8_t(len));
  out.push_back(uint8_t(len >> 8));
  if (major > 1) {
    out.push_back(uint8_t(len >> 16));
    out.push_back(uint8_t(len >> 24));
  }
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

vsart_status_t parseNpy(const std::vector<uint8_t> &bytes,
                        vsart::npy::Array *a) {
  return vsart::npy::parse(bytes.data(), bytes.size(), "test.npy", a);
}

TEST(Npy, ReadsVersionsAndConverts) {
  vsart::npy::Array a;
  const std::vector<double> d = {1.25, -2.5, 1e300};
  for (int major : {1, 2, 3}) {
    SCOPED_TRACE(major);
    ASSERT_EQ(parseNpy(npyImage(major,
                                "{'descr': '<f8', 'fortran_order': False, "
                                "'shape': (3,), }          \n",
                                bytesOf(d)),
                       &a),
              VSART_OK)
        << lastError();
    std::vector<float> f(3);
    ASSERT_EQ(vsart::npy::convert(a, VSART_DTYPE_F32, f.data(), "x"), VSART_OK);
    EXPECT_EQ(f[0], 1.25f);
    EXPECT_EQ(f[1], -2.5f);
    EXPECT_TRUE(std::isinf(f[2]));
  }
  const std::vector<int32_t> i32 = {5, -6};
  ASSERT_EQ(parseNpy(npyImage(1,
                              "{\"descr\": \"<i4\", \"shape\": (1, 2), "
                              "\"fortran_order\": False}",
                              bytesOf(i32)),
                     &a),
            VSART_OK)
      << lastError();
  std::vector<int64_t> i64(2);
  ASSERT_EQ(vsart::npy::convert(a, VSART_DTYPE_I64, i64.data(), "x"), VSART_OK);
  EXPECT_EQ(i64, (std::vector<int64_t>{5, -6}));
  EXPECT_EQ(vsart::npy::convert(a, VSART_DTYPE_F32, i64.data(), "x"),
            VSART_ERROR_INVALID_ARGUMENT);
  const std::vector<uint16_t> half = {0x3c00, 0xc000};
  ASSERT_EQ(parseNpy(npyImage(1,
                              "{'descr': '<f2', 'fortran_order': False, "
                              "'shape': (2,)}",
                              bytesOf(half)),
                     &a),
            VSART_OK);
  std::vector<float> f(2);
  ASSERT_EQ(vsart::npy::convert(a, VSART_DTYPE_F32, f.data(), "x"), VSART_OK);
  EXPECT_EQ(f, (std::vector<float>{1.0f, -2.0f}));
  // i8 -> i32 is range checked.
  const std::vector<int64_t> big = {int64_t(1) << 40};
  ASSERT_EQ(parseNpy(npyImage(1,
                              "{'descr': '<i8', 'fortran_order': False, "
                              "'shape': (1,)}",
                              bytesOf(big)),
                     &a),
            VSART_OK);
  int32_t narrow = 0;
  EXPECT_EQ(vsart::npy::convert(a, VSART_DTYPE_I32, &narrow, "x"),
            VSART_ERROR_INVALID_ARGUMENT);
}

TEST(Npy, CorruptFilesAreCleanErrors) {
  const std::vector<uint8_t> four(4 * 6, 0);
  const std::string good =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  vsart::npy::Array a;
  ASSERT_EQ(parseNpy(npyImage(1, good, four), &a), VSART_OK);
  auto withDict = [&](const std::string &dict) {
    return npyImage(1, dict, four);
  };
  const std::vector<std::vector<uint8_t>> bad = {
      {},
      bytesOf("\x93NUMPZ\x01\x00\x00\x00"),
      npyImage(4, good, four),
      withDict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"),
      withDict("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }"),
      withDict("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }"),
      withDict(
          "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }"),
      withDict("{'descr': '<f4', 'shape': (2, 3), }"),
      withDict(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}"),
      withDict("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }"),
      withDict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }"),
      withDict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"),
      withDict("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }"),
      withDict("{'descr': '<f4', 'fortran_order': False, 'shape': "
               "(99999999999999999999, 3), }"),
      withDict("{'descr': '<f4', 'fortran_order': False, 'shape': "
               "(4294967296, 4294967296, 4294967296), }"),
      withDict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x"),
      withDict("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3), }"),
      withDict("['descr']"),
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_NE(parseNpy(bad[i], &a), VSART_OK);
    EXPECT_STRNE(vsart_last_error(), "");
  }
  parseNpy(bad[3], &a);
  EXPECT_TRUE(contains(lastError(), "fortran")) << lastError();
  std::vector<uint8_t> valid = npyImage(1, good, four);
  valid[8] = 0xff; // header length past the end
  EXPECT_NE(parseNpy(valid, &a), VSART_OK);
  valid = npyImage(1, good, four);
  for (size_t len = 0; len < valid.size(); ++len)
    EXPECT_NE(parseNpy({valid.begin(), valid.begin() + long(len)}, &a),
              VSART_OK);
  EXPECT_EQ(vsart::npy::read("/nonexistent/a.npy", &a), VSART_ERROR_IO);
}

// ---- vsart_exe_main
// -------------------------------------------------------------------

struct ExeResult {
  int rc;
  std::string out, err;
};

ExeResult runExe(const std::vector<std::string> &args,
                 const vsart_model_t *model) {
  std::vector<std::string> copy = args;
  std::vector<char *> argv;
  for (std::string &a : copy)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int rc = vsart_exe_main(int(copy.size()), argv.data(), model);
  std::fflush(stdout);
  std::fflush(stderr);
  ExeResult r{rc, testing::internal::GetCapturedStdout(),
              testing::internal::GetCapturedStderr()};
  return r;
}

// Expects exit code 1 and exactly one "error: ..." line containing `needle`.
void expectExeError(const std::vector<std::string> &args,
                    const std::string &needle,
                    const vsart_model_t *model = nullptr) {
  vsart_model_t m = affineModel();
  ExeResult r = runExe(args, model ? model : &m);
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(contains(r.err, needle))
      << "want '" << needle << "' in " << r.err;
}

TEST(ExeMain, ArgumentErrors) {
  ThreadGuard guard;
  const std::string prog = tmp("no-such-model");
  const std::string wrongShape = tmp("wrong-shape.npy");
  std::vector<float> v(4);
  ASSERT_EQ(vsart::npy::write(wrongShape, VSART_DTYPE_F32, {2, 2}, v.data()),
            VSART_OK);
  expectExeError({prog}, "input 'x'");
  expectExeError({prog, "--bogus"}, "unknown option '--bogus'");
  expectExeError({prog, "stray"}, "unexpected argument 'stray'");
  expectExeError({prog, "--repeat"}, "--repeat needs a value");
  expectExeError({prog, "--repeat", "0"}, "--repeat");
  expectExeError({prog, "--repeat=-3"}, "--repeat");
  expectExeError({prog, "--seed", "12x"}, "--seed");
  expectExeError({prog, "--seed", "99999999999999999999999"}, "--seed");
  expectExeError({prog, "--threads", "0"}, "--threads");
  expectExeError({prog, "--quiet=yes"}, "--quiet takes no value");
  expectExeError({prog, "--input", "nope=a.npy", "--input", "x=b.npy"},
                 "unknown input 'nope'");
  expectExeError({prog, "--input", "x=a.npy", "--input", "x=b.npy"},
                 "given twice");
  expectExeError({prog, "--output", "y="}, "missing file name");
  expectExeError({prog, "--output", "z=out.npy"}, "unknown output 'z'");
  expectExeError({prog, "--input", "/nonexistent/x.npy", "--random-weights"},
                 "/nonexistent/x.npy");
  expectExeError({prog, "--input", "x=" + wrongShape, "--random-weights"},
                 "input 'x'");
  expectExeError({prog, "--input", wrongShape}, "[2, 3]");
  expectExeError({prog, "--random-inputs"}, "proj.weight");
  expectExeError({prog, "--random-inputs", "--vsab", "/nonexistent/m.vsab"},
                 "/nonexistent/m.vsab");
  expectExeError({prog, "--random-inputs", "--weights", wrongShape},
                 wrongShape);
  vsart_model_t m = affineModel();
  m.abi_version = VSART_MODEL_ABI_VERSION + 1;
  expectExeError({prog}, "ABI", &m);
  // Degenerate argv never crashes.
  testing::internal::CaptureStderr();
  EXPECT_EQ(vsart_exe_main(0, nullptr, &m), 1);
  EXPECT_EQ(vsart_exe_main(1, nullptr, nullptr), 1);
  testing::internal::GetCapturedStderr();
  std::remove(wrongShape.c_str());
}

TEST(ExeMain, Help) {
  vsart_model_t m = affineModel();
  ExeResult r = runExe({"affine-exe", "--help"}, &m);
  EXPECT_EQ(r.rc, 0);
  EXPECT_TRUE(contains(r.out, "usage: affine-exe")) << r.out;
  EXPECT_TRUE(contains(r.out, "x  f32 [2, 3]")) << r.out;
  EXPECT_TRUE(contains(r.out, "y  f32 [2, 4]")) << r.out;
  EXPECT_TRUE(contains(r.out, "weights: 2 tensors, 64 bytes")) << r.out;
  EXPECT_TRUE(contains(r.out, "arena: 64 bytes")) << r.out;
  EXPECT_TRUE(r.err.empty());
  vsart_model_t b = bf16Model();
  r = runExe({"b", "-h"}, &b);
  EXPECT_TRUE(contains(r.out, "x  f32 (stored bf16) [2, 3]")) << r.out;
}

std::vector<float> readNpyFloats(const std::string &path,
                                 std::vector<int64_t> *shape) {
  vsart::npy::Array a;
  EXPECT_EQ(vsart::npy::read(path, &a), VSART_OK) << lastError();
  *shape = a.shape;
  std::vector<float> f(size_t(a.numElements()));
  EXPECT_EQ(vsart::npy::convert(a, VSART_DTYPE_F32, f.data(), path), VSART_OK);
  return f;
}

TEST(ExeMain, FullRunWithDefaultVsab) {
  ThreadGuard guard;
  AffineData data;
  // The executable's weights live next to it as PROGRAM.vsab.
  const std::string prog = tmp("affine-exe");
  const std::string vsab = data.writeVsab("affine-exe.vsab");
  const std::string in = tmp("x.npy"), out = tmp("y.npy");
  ASSERT_EQ(vsart::npy::write(in, VSART_DTYPE_F32, {2, 3}, data.x.data()),
            VSART_OK);
  vsart_model_t m = affineModel();
  ExeResult r = runExe(
      {prog, "--input", "x=" + in, "--output", out, "--threads", "2"}, &m);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_TRUE(contains(r.out, "device total")) << r.out;
  std::vector<int64_t> shape;
  std::vector<float> y = readNpyFloats(out, &shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 4}));
  expectNear(y, data.expected(), 1e-5);

  // Without --output: a checksum line; --quiet drops the memory line.
  r = runExe({prog, "--input=" + in, "--quiet"}, &m);
  ASSERT_EQ(r.rc, 0) << r.err;
  double sum = 0;
  for (double v : data.expected())
    sum += v;
  char expect[128];
  std::snprintf(expect, sizeof expect, "y: f32 [2, 4] sum=%.6e", sum);
  EXPECT_TRUE(contains(r.out, expect)) << r.out << " vs " << expect;
  EXPECT_FALSE(contains(r.out, "device total")) << r.out;

  // --no-vsab: now the weights are missing.
  r = runExe({prog, "--input", in, "--no-vsab"}, &m);
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(contains(r.err, "not bound")) << r.err;
  for (const std::string &p : {vsab, in, out})
    std::remove(p.c_str());
}

TEST(ExeMain, SafetensorsRandomInputsAndRepeat) {
  const std::string prog = tmp("affine-exe2");
  const std::string st = tmp("w.safetensors"), out = tmp("y2.npy");
  writeBytes(st, safetensors(affineTensors()));
  vsart_model_t m = affineModel();
  ExeResult r = runExe({prog, "--weights", st, "--random-inputs", "--seed", "5",
                        "--repeat", "3", "--output", "y=" + out},
                       &m);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "median ")) << r.out;
  EXPECT_TRUE(contains(r.out, "(3 runs)")) << r.out;
  std::vector<int64_t> shape;
  const std::vector<float> y1 = readNpyFloats(out, &shape);
  // Same seed, same inputs; another seed, other inputs.
  r = runExe({prog, "--weights", st, "--random-inputs", "--seed", "5",
              "--output", out, "--quiet"},
             &m);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(readNpyFloats(out, &shape), y1);
  r = runExe({prog, "--weights", st, "--random-inputs", "--seed", "6",
              "--output", out, "--quiet"},
             &m);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(readNpyFloats(out, &shape), y1);
  // Random weights on a bf16-storage model.
  vsart_model_t b = bf16Model();
  r = runExe({prog, "--random-weights", "--random-inputs"}, &b);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "y: f32 [2, 4] sum=")) << r.out;
  for (const std::string &p : {st, out})
    std::remove(p.c_str());
}

} // namespace

// ---- attention parameters ---------------------------------------------------

TEST(AttentionParams, ParsesEveryKey) {
  vsart_attention_params_t p = vsart_attention_params_default();
  EXPECT_LT(p.sparsity, 0.0);
  EXPECT_LT(p.top_p, 0.0);
  EXPECT_EQ(vsart_attention_params_set(&p, "sparsity", "0.9"), VSART_OK);
  EXPECT_DOUBLE_EQ(p.sparsity, 0.9);
  EXPECT_EQ(vsart_attention_params_set(&p, "topk", "0.25"), VSART_OK);
  EXPECT_DOUBLE_EQ(p.sparsity, 0.75);
  EXPECT_EQ(vsart_attention_params_set(&p, "top_p", "1"), VSART_OK);
  EXPECT_DOUBLE_EQ(p.top_p, 1.0);
  EXPECT_EQ(vsart_attention_params_set(&p, "dense", "1"), VSART_OK);
  EXPECT_EQ(vsart_attention_params_set(&p, "dense_layers", "3"), VSART_OK);
  EXPECT_EQ(vsart_attention_params_set(&p, "step", "17"), VSART_OK);
  EXPECT_EQ(p.dense, 1);
  EXPECT_EQ(p.dense_layers, 3);
  EXPECT_EQ(p.step, 17);
}

TEST(AttentionParams, RejectsBadValuesNamingThem) {
  vsart_attention_params_t p = vsart_attention_params_default();
  const char *bad[][3] = {{"sparsity", "1", "[0, 1)"},
                          {"sparsity", "-0.1", "[0, 1)"},
                          {"sparsity", "0.5x", "[0, 1)"},
                          {"topk", "0", "(0, 1]"},
                          {"top_p", "1.5", "(0, 1]"},
                          {"dense", "2", "0 or 1"},
                          {"dense_layers", "-1", ">= 0"},
                          {"step", "", ">= 0"}};
  for (auto &c : bad) {
    EXPECT_EQ(vsart_attention_params_set(&p, c[0], c[1]),
              VSART_ERROR_INVALID_ARGUMENT)
        << c[0] << "=" << c[1];
    EXPECT_NE(std::string(vsart_last_error()).find(c[2]), std::string::npos)
        << vsart_last_error();
    EXPECT_NE(std::string(vsart_last_error()).find(c[0]), std::string::npos);
  }
  EXPECT_LT(p.sparsity, 0.0); // unchanged by the failures
  EXPECT_EQ(vsart_attention_params_set(&p, "window", "3"),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("unknown attention parameter 'window'"),
            std::string::npos);
  EXPECT_EQ(vsart_attention_params_set(nullptr, "dense", "1"),
            VSART_ERROR_INVALID_ARGUMENT);
}

TEST(AttentionParams, VsaTopK) {
  EXPECT_EQ(vsart_vsa_top_k(624, 0.875), 78);
  EXPECT_EQ(vsart_vsa_top_k(624, 0.0), 624);
  EXPECT_EQ(vsart_vsa_top_k(10, 0.7), 3); // 0.3 * 10 is 3.0000000000000004
  EXPECT_EQ(vsart_vsa_top_k(10, 0.95), 1);
  EXPECT_EQ(vsart_vsa_top_k(10, 0.999), 1); // at least one tile
  EXPECT_EQ(vsart_vsa_top_k(7, 0.5), 4);
}

TEST(AttentionParams, DenseFallbacks) {
  vsart_run_context_t ctx{vsart_attention_params_default()};
  EXPECT_FALSE(vsart_attention_runs_dense(&ctx, 0));
  ctx.attention.dense_layers = 2;
  EXPECT_TRUE(vsart_attention_runs_dense(&ctx, 1));
  EXPECT_FALSE(vsart_attention_runs_dense(&ctx, 2));
  ctx.attention.dense = 1;
  EXPECT_TRUE(vsart_attention_runs_dense(&ctx, 5));
  EXPECT_FALSE(vsart_attention_runs_dense(nullptr, 0));
}

TEST(AttentionParams, SessionPassesThemToForwards) {
  vsart_model_t m = probeModel();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK) << lastError();
  ASSERT_EQ(vsart_session_randomize_weights(s, 1), VSART_OK);
  const int64_t table[4] = {1, 2, 3, 4}, dims[1] = {4};
  ASSERT_EQ(vsart_session_bind_weight(s, "table", VSART_DTYPE_I64, 1, dims,
                                      table),
            VSART_OK)
      << lastError();
  ASSERT_EQ(vsart_session_forward(s), VSART_OK) << lastError();
  EXPECT_LT(lastContext.attention.sparsity, 0.0);
  EXPECT_EQ(vsart_session_set_attention_param(s, "sparsity", "0.5"), VSART_OK);
  EXPECT_EQ(vsart_session_set_attention_param(s, "dense_layers", "4"),
            VSART_OK);
  EXPECT_EQ(vsart_session_set_attention_param(s, "dense", "yes"),
            VSART_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(vsart_session_forward(s), VSART_OK) << lastError();
  EXPECT_DOUBLE_EQ(lastContext.attention.sparsity, 0.5);
  EXPECT_EQ(lastContext.attention.dense_layers, 4);
  EXPECT_EQ(lastContext.attention.dense, 0);
  EXPECT_EQ(vsart_session_set_attention_param(nullptr, "dense", "1"),
            VSART_ERROR_INVALID_ARGUMENT);
  vsart_session_destroy(s);
}

// ---- persistent state
// ----------------------------------------------------------------

TEST(Session, PersistentStateIsZeroedKeptAndReset) {
  vsart_model_t m = stateModel();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK) << lastError();
  auto run = [&] {
    std::vector<float> seen(9, NAN);
    EXPECT_EQ(vsart_session_forward(s), VSART_OK) << lastError();
    EXPECT_EQ(vsart_session_get_output(s, 0, seen.data()), VSART_OK)
        << lastError();
    return seen;
  };
  // Zero at creation, then kept from forward to forward.
  for (int call = 0; call < 3; ++call)
    EXPECT_EQ(run(), std::vector<float>(9, float(call))) << "call " << call;
  EXPECT_GE(vsart_session_device_bytes(s), m.state_bytes);
  // A new video: zero again, and the count restarts.
  ASSERT_EQ(vsart_session_reset_state(s), VSART_OK) << lastError();
  EXPECT_EQ(run(), std::vector<float>(9, 0.0f));
  EXPECT_EQ(run(), std::vector<float>(9, 1.0f));
  EXPECT_EQ(vsart_session_reset_state(nullptr), VSART_ERROR_INVALID_ARGUMENT);
  vsart_session_destroy(s);

  // A model without state gets none.
  vsart_model_t p = probeModel();
  ASSERT_EQ(vsart_session_create(&p, nullptr, &s), VSART_OK) << lastError();
  ASSERT_EQ(vsart_session_randomize_weights(s, 1), VSART_OK);
  const int64_t table[4] = {1, 2, 3, 4}, dims[1] = {4};
  ASSERT_EQ(vsart_session_bind_weight(s, "table", VSART_DTYPE_I64, 1, dims,
                                      table),
            VSART_OK);
  ASSERT_EQ(vsart_session_forward(s), VSART_OK) << lastError();
  EXPECT_EQ(lastContext.state, nullptr);
  EXPECT_EQ(vsart_session_reset_state(s), VSART_OK) << lastError();
  vsart_session_destroy(s);
}

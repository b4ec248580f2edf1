// bf16 strided-batched gemm through cuBLASLt, row-major like vsart_cpu_gemm,
// an FP8 one with per-row and per-output-channel scales
// (vsart_cuda_scaled_gemm, and its residual form, which cuBLASLt adds as its
// C with beta = 1), an FP8 one with one scale per operand and an E4M3 output
// (vsart_cuda_scaled_gemm_quantize, its D scale computed on the device
// first), and a TF32 one for the runtime's own use (gemmTf32).
//
// cuBLASLt is column-major, and a row-major m x n matrix is the column-major
// n x m transpose. So C^T = op(B)^T op(A)^T runs with our B as cuBLASLt's A
// and our A as its B, m and n swapped; the bias then runs along cuBLASLt's
// rows, as its BIAS epilogues expect. Descriptors, layouts and the algorithm
// the heuristic picked are cached per shape key; one handle and one 32 MiB
// workspace serve each device.
#include "Common.h"
#include "../QuantizeArgs.h"

#include <cublasLt.h>

#include <array>
#include <climits>
#include <cstdlib>
#include <string>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kWorkspaceBytes = size_t(32) << 20;

struct GemmArgs {
  // Of A, B and C: CUDA_R_16BF or CUDA_R_32F; CUDA_R_8F_E4M3 is FP8 A and B
  // with outer-vector scales (aScales per row of A, bScales per column of
  // op(B)) and a bf16 C.
  cudaDataType_t type;
  int ta, tb;
  int64_t m, n, k, lda, ldb, ldc, sa, sb, sc, batch;
  float alpha;
  const void *a, *b, *bias;
  void *c;
  cublasLtEpilogue_t epilogue;
  const float *aScales = nullptr, *bScales = nullptr;
  // When set, cuBLASLt's C (beta = 1), laid out like c: D = AB + residual.
  const void *residual = nullptr;
  // fp32 matrices on TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32).
  bool tf32 = false;
  // FP8 only: one scale per operand (cuBLASLt's scalar mode; aScales and
  // bScales then point at one float each, 16-byte aligned).
  bool scalarScales = false;
  // FP8 only, with scalar scales: c is E4M3, the result times *dScale
  // (device) rounded; cuBLASLt's C (bf16, beta 0) is never read.
  const float *dScale = nullptr;
};

bool isFp8(const GemmArgs &g) { return g.type == CUDA_R_8F_E4M3; }

/// FP8 products accumulate in Hopper's fast mode (no periodic promotion to
/// full fp32): 1.2x faster at Wan's shapes, and the same model error on an
/// H100 (rel L2 vs diffusers 1.625e-2 against 1.627e-2).
/// VSART_FP8_FAST_ACCUM=0 turns it off.
bool fastAccumulation() {
  static const bool fast = [] {
    const char *v = std::getenv("VSART_FP8_FAST_ACCUM");
    return !(v && std::string(v) == "0");
  }();
  return fast;
}

using Key = std::array<int64_t, 22>;
using KeyHash = vsart::cuda::ArrayHash;

/// d: D's own layout when it differs from C's (an E4M3 D), else null.
struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo = {};
  // The heuristic's picks still to be timed on the first call (timedPlan).
  std::vector<cublasLtMatmulAlgo_t> candidates;
};

void destroy(Plan &p) {
  if (p.desc)
    cublasLtMatmulDescDestroy(p.desc);
  for (cublasLtMatrixLayout_t l : {p.a, p.b, p.c, p.d})
    if (l)
      cublasLtMatrixLayoutDestroy(l);
  p = Plan();
}

// cuBLASLt state of one device (vsart::cuda::perDevice).
struct Context {
  std::mutex mutex;
  cublasLtHandle_t handle = nullptr;
  void *workspace = nullptr;
  cudaEvent_t lastUse = nullptr; // recorded after each matmul
  cudaStream_t lastStream = nullptr;
  std::unordered_map<Key, Plan, KeyHash> plans;
  std::string error; // why initialisation failed, "" when it worked
  int major = 0, minor = 0; // the device's compute capability
};

vsart_status_t checkLt(cublasStatus_t st, const char *what) {
  if (st == CUBLAS_STATUS_SUCCESS)
    return VSART_OK;
  return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                     std::string("cuda_gemm: ") + what + ": " +
                         cublasLtGetStatusString(st));
}

Context *createContext() {
  auto *ctx = new Context();
  int device = 0;
  if (cudaGetDevice(&device) == cudaSuccess) {
    cudaDeviceGetAttribute(&ctx->major, cudaDevAttrComputeCapabilityMajor,
                           device);
    cudaDeviceGetAttribute(&ctx->minor, cudaDevAttrComputeCapabilityMinor,
                           device);
  }
  if (cublasLtCreate(&ctx->handle) != CUBLAS_STATUS_SUCCESS)
    ctx->error = "cublasLtCreate failed";
  else if (cudaMalloc(&ctx->workspace, kWorkspaceBytes) != cudaSuccess)
    ctx->error = "cannot allocate the 32 MiB cuBLASLt workspace";
  else if (cudaEventCreateWithFlags(&ctx->lastUse, cudaEventDisableTiming) !=
           cudaSuccess)
    ctx->error = "cudaEventCreate failed";
  cudaGetLastError(); // a failure above is reported through ctx->error
  return ctx;
}

/// The current device's context, created on first use there.
Context &context() { return vsart::cuda::perDevice<Context>(createContext); }

/// Alignment of a matrix of `g`'s element type (alignmentBytes counts bf16).
unsigned align(const GemmArgs &g, const void *p, int64_t ld, int64_t stride) {
  if (isFp8(g)) { // bytes: the lowest set bit of address, ld and stride
    const uint64_t bits = reinterpret_cast<uintptr_t>(p) | uint64_t(ld) |
                          uint64_t(stride) | 16;
    return unsigned(bits & (~bits + 1));
  }
  const int64_t scale = g.type == CUDA_R_32F ? 2 : 1;
  return vsart::cuda::alignmentBytes(p, scale * ld, scale * stride);
}

/// C's alignment: bf16 for FP8 products unless C is E4M3 too.
unsigned alignC(const GemmArgs &g) {
  return isFp8(g) && !g.dScale ? vsart::cuda::alignmentBytes(g.c, g.ldc, g.sc)
                               : align(g, g.c, g.ldc, g.sc);
}

/// The residual's alignment (laid out like C), 0 without one.
unsigned alignResidual(const GemmArgs &g) {
  return g.residual ? vsart::cuda::alignmentBytes(g.residual, g.ldc, g.sc)
                    : 0;
}

Key keyOf(const GemmArgs &g) {
  return {g.ta,  g.tb,  g.m,  g.n,  g.k,  g.lda, g.ldb, g.ldc,
          g.sa,  g.sb,  g.sc, g.batch, static_cast<int64_t>(g.epilogue),
          align(g, g.a, g.lda, g.sa), align(g, g.b, g.ldb, g.sb),
          alignC(g), g.bias ? align(g, g.bias, 0, 0) : 0,
          static_cast<int64_t>(g.type), alignResidual(g), g.tf32,
          g.scalarScales, g.dScale != nullptr};
}

vsart_status_t makeLayout(cublasLtMatrixLayout_t *out, cudaDataType_t type,
                          int64_t rows, int64_t cols, int64_t ld,
                          int64_t stride, int64_t batch) {
  if (vsart_status_t st = checkLt(
          cublasLtMatrixLayoutCreate(out, type, rows, cols, ld), "layout"))
    return st;
  const int32_t count = static_cast<int32_t>(batch);
  if (vsart_status_t st = checkLt(
          cublasLtMatrixLayoutSetAttribute(
              *out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)),
          "batch count"))
    return st;
  return checkLt(cublasLtMatrixLayoutSetAttribute(
                     *out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                     sizeof(stride)),
                 "batch stride");
}

template <class T>
vsart_status_t setDesc(cublasLtMatmulDesc_t desc,
                       cublasLtMatmulDescAttributes_t attr, const T &value) {
  return checkLt(cublasLtMatmulDescSetAttribute(desc, attr, &value, sizeof(T)),
                 "matmul descriptor");
}

/// Descriptor and layouts of `g` in cuBLASLt's column-major terms.
vsart_status_t describe(const GemmArgs &g, Plan &p) {
  if (vsart_status_t st = checkLt(
          cublasLtMatmulDescCreate(&p.desc,
                                   g.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32
                                          : CUBLAS_COMPUTE_32F,
                                   CUDA_R_32F),
          "matmul descriptor"))
    return st;
  const int32_t opA = g.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int32_t opB = g.ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int32_t biasType = CUDA_R_16BF;
  vsart_status_t st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_TRANSA, opA);
  if (!st)
    st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_TRANSB, opB);
  if (!st)
    st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                 static_cast<uint32_t>(g.epilogue));
  if (!st && g.bias)
    st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, biasType);
  if (!st && g.bias) // the heuristic reads the pointer's alignment
    st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, g.bias);
  if (!st && isFp8(g)) { // cuBLASLt's A is our B: its scales run along n
    const int32_t mode = g.scalarScales
                             ? CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F
                             : CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
    st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, mode);
    if (!st)
      st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, mode);
    // The heuristic rejects outer-vector scaling without scale pointers.
    if (!st)
      st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, g.bScales);
    if (!st)
      st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, g.aScales);
    if (!st && g.dScale)
      st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_D_SCALE_POINTER, g.dScale);
    if (!st && fastAccumulation())
      st = setDesc(p.desc, CUBLASLT_MATMUL_DESC_FAST_ACCUM, int8_t(1));
  }
  if (!st)
    st = makeLayout(&p.a, g.type, g.tb ? g.k : g.n, g.tb ? g.n : g.k, g.ldb,
                    g.sb, g.batch);
  if (!st)
    st = makeLayout(&p.b, g.type, g.ta ? g.m : g.k, g.ta ? g.k : g.m, g.lda,
                    g.sa, g.batch);
  if (!st)
    st = makeLayout(&p.c, isFp8(g) ? CUDA_R_16BF : g.type, g.n, g.m, g.ldc,
                    g.sc, g.batch);
  if (!st && g.dScale)
    st = makeLayout(&p.d, CUDA_R_8F_E4M3, g.n, g.m, g.ldc, g.sc, g.batch);
  return st;
}

/// Runs the heuristic once for a new shape and keeps its best algorithm.
vsart_status_t choose(Context &ctx, const GemmArgs &g, Plan &p) {
  cublasLtMatmulPreference_t pref = nullptr;
  vsart_status_t st =
      checkLt(cublasLtMatmulPreferenceCreate(&pref), "preference");
  const uint64_t ws = kWorkspaceBytes;
  // Our C is cuBLASLt's D; its C is the residual when there is one, null
  // (never read) beside an E4M3 D, else D.
  const uint32_t alignA = align(g, g.b, g.ldb, g.sb),
                 alignB = align(g, g.a, g.lda, g.sa), alignD = alignC(g),
                 alignC = g.residual ? alignResidual(g)
                          : g.dScale ? 16u
                                     : alignD;
  const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> aligns[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignA},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignB},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignC},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignD}};
  if (!st)
    st = checkLt(cublasLtMatmulPreferenceSetAttribute(
                     pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                     sizeof(ws)),
                 "preference");
  for (const auto &[attr, value] : aligns)
    if (!st)
      st = checkLt(cublasLtMatmulPreferenceSetAttribute(pref, attr, &value,
                                                        sizeof(value)),
                   "preference");
  // An E4M3 output: the heuristic's first pick for Wan's FFN-up ran 6 %
  // slower than a bf16 output, its best of three faster
  // (bench/results/h100_fp8_gemm_modes_2026-11-24.txt), so the first call
  // times up to four.
  std::array<cublasLtMatmulHeuristicResult_t, 4> results = {};
  const int wanted = g.dScale ? int(results.size()) : 1;
  int found = 0;
  if (!st)
    st = checkLt(cublasLtMatmulAlgoGetHeuristic(ctx.handle, p.desc, p.a, p.b,
                                                p.c, p.d ? p.d : p.c, pref,
                                                wanted, results.data(), &found),
                 "heuristic");
  if (pref)
    cublasLtMatmulPreferenceDestroy(pref);
  if (!st && found == 0)
    st = vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                     "cuda_gemm: cuBLASLt has no algorithm for this shape");
  p.algo = results[0].algo;
  for (int i = 0; found > 1 && i < found; ++i)
    p.candidates.push_back(results[size_t(i)].algo);
  return st;
}

/// The cached plan of `g`, made on first use. Called with ctx.mutex held.
vsart_status_t planFor(Context &ctx, const GemmArgs &g, Plan **out) {
  const Key key = keyOf(g);
  auto it = ctx.plans.find(key);
  if (it == ctx.plans.end()) {
    Plan p;
    vsart_status_t st = describe(g, p);
    if (!st)
      st = choose(ctx, g, p);
    if (st) {
      destroy(p);
      return st;
    }
    it = ctx.plans.emplace(key, p).first;
  }
  *out = &it->second;
  return VSART_OK;
}

/// cublasLtMatmul of g with `algo`. Without a residual C is never read: D
/// itself when they share a layout, else null (cuBLASLt refuses an E4M3
/// D's pointer as a bf16 C).
cublasStatus_t launch(Context &ctx, const GemmArgs &g, const Plan &p,
                      const cublasLtMatmulAlgo_t &algo, cudaStream_t stream) {
  const float beta = g.residual ? 1.0f : 0.0f;
  const void *in = g.residual ? g.residual : p.d ? nullptr : g.c;
  return cublasLtMatmul(ctx.handle, p.desc, &g.alpha, g.b, p.a, g.a, p.b,
                        &beta, in, p.c, g.c, p.d ? p.d : p.c, &algo,
                        ctx.workspace, kWorkspaceBytes, stream);
}

/// Times each of p's candidates on g's own operands (one warm-up, then two
/// runs; a candidate that fails is skipped) and keeps the fastest in
/// p.algo. Once per plan: it waits for the stream.
void keepFastest(Context &ctx, const GemmArgs &g, Plan &p,
                 cudaStream_t stream) {
  cudaEvent_t start = nullptr, stop = nullptr;
  if (cudaEventCreate(&start) == cudaSuccess &&
      cudaEventCreate(&stop) == cudaSuccess) {
    float best = 0.0f;
    for (const cublasLtMatmulAlgo_t &algo : p.candidates) {
      if (launch(ctx, g, p, algo, stream) != CUBLAS_STATUS_SUCCESS)
        continue;
      cudaEventRecord(start, stream);
      launch(ctx, g, p, algo, stream);
      launch(ctx, g, p, algo, stream);
      cudaEventRecord(stop, stream);
      float ms = 0.0f;
      if (cudaEventSynchronize(stop) == cudaSuccess &&
          cudaEventElapsedTime(&ms, start, stop) == cudaSuccess &&
          (best == 0.0f || ms < best)) {
        best = ms;
        p.algo = algo;
      }
    }
  }
  for (cudaEvent_t e : {start, stop})
    if (e)
      cudaEventDestroy(e);
  cudaGetLastError(); // a failed timing leaves the heuristic's first pick
  p.candidates.clear();
}

/// One cublasLtMatmul. The shared workspace is ordered across streams: a
/// stream other than the last user's first waits for that user's matmul.
vsart_status_t matmul(const GemmArgs &g, cudaStream_t stream) {
  Context &ctx = context();
  if (!ctx.error.empty())
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "cuda_gemm: " + ctx.error);
  std::lock_guard<std::mutex> lock(ctx.mutex);
  Plan *p = nullptr;
  if (vsart_status_t st = planFor(ctx, g, &p))
    return st;
  if (g.bias)
    if (vsart_status_t st =
            setDesc(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, g.bias))
      return st;
  if (isFp8(g)) {
    vsart_status_t st =
        setDesc(p->desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, g.bScales);
    if (!st)
      st = setDesc(p->desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, g.aScales);
    if (!st && g.dScale)
      st = setDesc(p->desc, CUBLASLT_MATMUL_DESC_D_SCALE_POINTER, g.dScale);
    if (st)
      return st;
  }
  if (stream != ctx.lastStream)
    if (vsart_status_t st = vsart::cuda::check(
            cudaStreamWaitEvent(stream, ctx.lastUse, 0), "cuda_gemm"))
      return st;
  if (!p->candidates.empty())
    keepFastest(ctx, g, *p, stream);
  if (vsart_status_t st = checkLt(launch(ctx, g, *p, p->algo, stream),
                                  "cublasLtMatmul"))
    return st;
  ctx.lastStream = stream;
  return vsart::cuda::check(cudaEventRecord(ctx.lastUse, stream), "cuda_gemm");
}

cublasLtEpilogue_t ltEpilogue(vsart_epilogue_t epi, bool bias) {
  if (epi == VSART_EPILOGUE_GELU_TANH) // cuBLASLt's GELU is the tanh form
    return bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
  return bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
}

vsart_status_t checkArgs(const GemmArgs &g, vsart_epilogue_t epi) {
  using vsart::fail;
  if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_gemm: negative size");
  if (epi != VSART_EPILOGUE_NONE && epi != VSART_EPILOGUE_GELU_TANH &&
      epi != VSART_EPILOGUE_GELU_ERF)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_gemm: unknown epilogue");
  if (g.m == 0 || g.n == 0 || g.batch == 0)
    return VSART_OK;
  if (g.batch > INT32_MAX)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_gemm: batch too large");
  if (!g.c || g.ldc < g.n || (g.k > 0 && (!g.a || !g.b)))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_gemm: null pointer or bad ldc");
  if (g.k > 0 && (g.lda < (g.ta ? g.m : g.k) || g.ldb < (g.tb ? g.k : g.n)))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_gemm: bad leading dimension");
  return VSART_OK;
}

/// An error naming `name` unless this GPU runs cuBLASLt's FP8 GEMMs (sm_90
/// or newer).
vsart_status_t checkFp8Device(const char *name) {
  if (const Context &ctx = context(); ctx.error.empty() && ctx.major < 9)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       std::string(name) +
                           ": FP8 GEMMs need a Hopper or newer GPU (compute "
                           "capability 9.0), this one is " +
                           std::to_string(ctx.major) + "." +
                           std::to_string(ctx.minor) +
                           ": compile without --fp8-gemms");
  return VSART_OK;
}

} // namespace

extern "C" vsart_status_t
vsart_cuda_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                float alpha, const void *a, int64_t lda, int64_t stride_a,
                const void *b, int64_t ldb, int64_t stride_b, void *c,
                int64_t ldc, int64_t stride_c, int64_t batch, const void *bias,
                vsart_epilogue_t epilogue, void *stream) {
  const GemmArgs g = {CUDA_R_16BF, trans_a != 0, trans_b != 0, m, n, k, lda,
                      ldb, ldc, stride_a, stride_b, stride_c, batch, alpha, a,
                      b, bias, c, ltEpilogue(epilogue, bias != nullptr)};
  if (vsart_status_t st = checkArgs(g, epilogue))
    return st;
  if (m == 0 || n == 0 || batch == 0)
    return vsart::ok();
  cudaStream_t s = vsart::cuda::toStream(stream);
  if (k == 0) // cuBLASLt wants k > 0; C is epilogue(bias) alone
    return vsart::cuda::matrixEpilogue(c, m, n, ldc, stride_c, batch, bias,
                                       epilogue, /*fill=*/true, s);
  if (vsart_status_t st = matmul(g, s))
    return st;
  if (epilogue == VSART_EPILOGUE_GELU_ERF)
    return vsart::cuda::matrixEpilogue(c, m, n, ldc, stride_c, batch, nullptr,
                                       epilogue, /*fill=*/false, s);
  return vsart::ok();
}

/// The FP8 matmul of vsart_cuda_scaled_gemm: A row-quantized (m x k), W an
/// F8E4M3_ROWS weight (n x k) whose scales follow its bytes.
GemmArgs scaledArgs(int64_t m, int64_t n, int64_t k, float alpha,
                    const void *a_q, const float *a_scales, const void *w,
                    void *c, int64_t ldc, const void *bias,
                    vsart_epilogue_t epilogue) {
  GemmArgs g = {CUDA_R_8F_E4M3, 0, 1, m, n, k, k, k, ldc, m * k, 0, m * ldc,
                1, alpha, a_q, w, bias, c,
                ltEpilogue(epilogue, bias != nullptr)};
  g.aScales = a_scales;
  g.bScales = reinterpret_cast<const float *>(
      static_cast<const uint8_t *>(w) + vsart_f8_rows_scales_offset(n * k));
  return g;
}

/// Checks and runs a scaled GEMM (g from scaledArgs, maybe with a
/// residual). cuBLASLt scales whole rows and columns only, so a gate
/// (bf16, n; may be null) multiplies the weight's scales and the bias, in
/// stream-ordered scratch, before the matmul.
vsart_status_t scaledGemm(GemmArgs g, vsart_epilogue_t epilogue,
                          const void *gate, cudaStream_t s) {
  if (vsart_status_t st = checkArgs(g, epilogue))
    return st;
  if (g.m == 0 || g.n == 0)
    return vsart::ok();
  if (g.k <= 0 || g.k % 16 || g.ldc % 8 || !g.aScales)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "cuda_scaled_gemm: needs k a positive multiple of 16, "
                       "ldc % 8 == 0 and row scales");
  if (vsart_status_t st = checkFp8Device("cuda_scaled_gemm"))
    return st;
  vsart::cuda::CallScratch scratch(/*managed=*/false, s);
  if (gate) { // n fp32 scales, then n bf16 biases 16-byte aligned
    const size_t biasAt = (size_t(g.n) * sizeof(float) + 15) & ~size_t(15);
    void *gated = nullptr;
    if (vsart_status_t st =
            scratch.allocate(biasAt + size_t(g.n) * 2,
                             "cuda_scaled_gemm: cudaMallocAsync", &gated))
      return st;
    auto *scales = static_cast<float *>(gated);
    void *bias = g.bias ? static_cast<char *>(gated) + biasAt : nullptr;
    if (vsart_status_t st = vsart::cuda::gateChannels(
            g.bScales, g.bias, gate, g.n, scales, bias, s))
      return st;
    g.bScales = scales;
    g.bias = bias;
  }
  if (vsart_status_t st = matmul(g, s))
    return st;
  if (epilogue == VSART_EPILOGUE_GELU_ERF)
    return vsart::cuda::matrixEpilogue(g.c, g.m, g.n, g.ldc, g.sc, 1, nullptr,
                                       epilogue, /*fill=*/false, s);
  return vsart::ok();
}

extern "C" vsart_status_t
vsart_cuda_scaled_gemm(int64_t m, int64_t n, int64_t k, float alpha,
                       const void *a_q, const float *a_scales, const void *w,
                       void *c, int64_t ldc, const void *bias,
                       vsart_epilogue_t epilogue, void *stream) {
  return scaledGemm(
      scaledArgs(m, n, k, alpha, a_q, a_scales, w, c, ldc, bias, epilogue),
      epilogue, /*gate=*/nullptr, vsart::cuda::toStream(stream));
}

extern "C" vsart_status_t vsart_cuda_scaled_gemm_residual(
    int64_t m, int64_t n, int64_t k, float alpha, const void *a_q,
    const float *a_scales, const void *w, void *c, int64_t ldc,
    const void *bias, const void *residual, const void *gate, void *stream) {
  if (m > 0 && n > 0 && (!residual || residual == c))
    return vsart::fail(
        VSART_ERROR_INVALID_ARGUMENT,
        "cuda_scaled_gemm_residual: null residual or c == residual");
  GemmArgs g = scaledArgs(m, n, k, alpha, a_q, a_scales, w, c, ldc, bias,
                          VSART_EPILOGUE_NONE);
  g.residual = residual;
  return scaledGemm(g, VSART_EPILOGUE_NONE, gate,
                    vsart::cuda::toStream(stream));
}

namespace {

/// The shared checks, then the layouts cuBLASLt's FP8 path needs and the
/// GPU.
vsart_status_t checkGemmQuantize(int64_t m, int64_t n, int64_t k,
                                 const void *a_q, const float *a_scales,
                                 const void *w, const void *out_q,
                                 const float *out_scales,
                                 vsart_epilogue_t epilogue) {
  const char *name = "cuda_scaled_gemm_quantize";
  if (vsart_status_t st = vsart::checkScaledGemmQuantizeArgs(
          name, m, n, k, a_q, a_scales, w, out_q, out_scales, epilogue))
    return st;
  if (m == 0)
    return VSART_OK;
  if (k <= 0 || k % 16 || n % 16)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       std::string(name) + ": needs k a positive multiple of "
                                           "16 and n a multiple of 16");
  return checkFp8Device(name);
}

} // namespace

// The scalars first (fp8OutputScales, into stream-ordered scratch, freed
// after the matmul), then cuBLASLt with scalar scales and an E4M3 D.
extern "C" vsart_status_t vsart_cuda_scaled_gemm_quantize(
    int64_t m, int64_t n, int64_t k, float alpha, const void *a_q,
    const float *a_scales, const void *w, void *out_q, float *out_scales,
    const void *bias, vsart_epilogue_t epilogue, void *stream) {
  if (vsart_status_t st = checkGemmQuantize(m, n, k, a_q, a_scales, w, out_q,
                                            out_scales, epilogue))
    return st;
  if (m == 0)
    return vsart::ok();
  const cudaStream_t s = vsart::cuda::toStream(stream);
  vsart::cuda::CallScratch scratch(/*managed=*/false, s);
  void *scalars = nullptr;
  if (vsart_status_t st =
          scratch.allocate(12 * sizeof(float),
                           "cuda_scaled_gemm_quantize: cudaMallocAsync",
                           &scalars))
    return st;
  GemmArgs g = scaledArgs(m, n, k, alpha, a_q, a_scales, w, out_q, n, bias,
                          epilogue);
  auto *f = static_cast<float *>(scalars);
  if (vsart_status_t st = vsart::cuda::fp8OutputScales(
          m, n, alpha, a_scales, g.bScales, bias, out_scales, f, s))
    return st;
  if (n == 0)
    return vsart::ok();
  g.scalarScales = true;
  g.aScales = f;
  g.bScales = f + 4;
  g.dScale = f + 8;
  return matmul(g, s);
}

namespace vsart::cuda {

vsart_status_t gemmTf32(bool transA, bool transB, int64_t m, int64_t n,
                        int64_t k, float alpha, const float *a, int64_t lda,
                        int64_t strideA, const float *b, int64_t ldb,
                        int64_t strideB, float *c, int64_t ldc, int64_t strideC,
                        int64_t batch, cudaStream_t stream) {
  GemmArgs g = {CUDA_R_32F, transA, transB, m, n, k, lda, ldb, ldc,
                strideA, strideB, strideC, batch, alpha, a, b, nullptr,
                c, CUBLASLT_EPILOGUE_DEFAULT};
  g.tf32 = true;
  if (vsart_status_t st = checkArgs(g, VSART_EPILOGUE_NONE))
    return st;
  if (m == 0 || n == 0 || batch == 0)
    return VSART_OK;
  if (k == 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_gemm: fp32 with k = 0");
  return matmul(g, stream);
}

} // namespace vsart::cuda

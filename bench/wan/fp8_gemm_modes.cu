// Which cuBLASLt FP8 GEMM forms Hopper runs at Wan 1.3B's FFN shapes, and how
// fast: the evidence for the FFN-up FP8-output plan (docs/fp8.md).
//   FFN-up   32760 x 8960 x 1536, GELU + bias epilogue, bf16 or FP8 output
//   FFN-down 32760 x 1536 x 8960, bias epilogue, bf16 output
// Scale modes of the weight (cuBLASLt's A) and the activations (its B): one
// scalar per tensor, outer vectors (per output channel / per token, what
// vsart_cuda_scaled_gemm uses), and 1x128 / 128x128 blocks. The FP8 output
// is checked against the bf16 output times the D scale.
// Build and run on the GPU machine:
//   nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a
//     bench/wan/fp8_gemm_modes.cu -o fp8_gemm_modes -lcublasLt
//   ./fp8_gemm_modes
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace {

using fp8 = __nv_fp8_e4m3;
using bf16 = __nv_bfloat16;

bool ok(int status, const char *what) {
  if (status != 0)
    std::printf("  %s failed: %d\n", what, status);
  return status == 0;
}

__global__ void fillFp8(fp8 *p, size_t n, unsigned seed) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    unsigned h = unsigned(i) * 2654435761u ^ seed;
    h ^= h >> 13, h *= 0x5bd1e995u, h ^= h >> 15;
    p[i] = fp8(((h & 0xffff) / 65535.0f - 0.5f) * 8.0f);
  }
}

__global__ void fillScales(float *p, size_t n, float v) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n)
    p[i] = v * (1.0f + 0.1f * float(i % 7));
}

__global__ void fillBias(bf16 *p, size_t n) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n)
    p[i] = __float2bfloat16(0.01f * float(int(i % 11) - 5));
}

struct Buffers {
  fp8 *x, *w;              // activations (M x K), weight (N x K)
  float *xScales, *wScales; // enough for any mode
  float *dScale;            // the FP8 output's scale
  bf16 *bias, *c;           // bias; C of an FP8-output GEMM (beta 0)
  void *dBf16, *dFp8;
  void *workspace;
  size_t workspaceBytes;
};

struct Case {
  int m, n, k;
  bool fp8Out;
  cublasLtEpilogue_t epilogue;
  int weightMode, actMode; // CUBLASLT_MATMUL_MATRIX_SCALE_*
};

template <class T>
bool set(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t a,
         const T &v) {
  return ok(cublasLtMatmulDescSetAttribute(d, a, &v, sizeof(T)), "attribute");
}

/// Times the heuristic's first three algorithms; true when one ran.
bool run(cublasLtHandle_t h, const Case &c, const Buffers &b) {
  std::printf("M=%d N=%d K=%d %s epilogue=%d weight mode=%d act mode=%d: ",
              c.m, c.n, c.k, c.fp8Out ? "fp8 out" : "bf16 out",
              int(c.epilogue), c.weightMode, c.actMode);
  cublasLtMatmulDesc_t desc = nullptr;
  if (!ok(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
          "descriptor"))
    return false;
  const int32_t opT = CUBLAS_OP_T, opN = CUBLAS_OP_N, bf16Type = CUDA_R_16BF;
  const int8_t fast = 1;
  bool good = set(desc, CUBLASLT_MATMUL_DESC_TRANSA, opT) &&
              set(desc, CUBLASLT_MATMUL_DESC_TRANSB, opN) &&
              set(desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, c.weightMode) &&
              set(desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, c.actMode) &&
              set(desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, b.wScales) &&
              set(desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, b.xScales) &&
              set(desc, CUBLASLT_MATMUL_DESC_FAST_ACCUM, fast) &&
              set(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, uint32_t(c.epilogue));
  if (good && c.epilogue != CUBLASLT_EPILOGUE_DEFAULT)
    good = set(desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, bf16Type) &&
           set(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, b.bias);
  if (good && c.fp8Out)
    good = set(desc, CUBLASLT_MATMUL_DESC_D_SCALE_POINTER, b.dScale);
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr, ld = nullptr;
  good = good &&
         ok(cublasLtMatrixLayoutCreate(&la, CUDA_R_8F_E4M3, c.k, c.n, c.k),
            "layout") &&
         ok(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8F_E4M3, c.k, c.m, c.k),
            "layout") &&
         ok(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, c.n, c.m, c.n),
            "layout") &&
         ok(cublasLtMatrixLayoutCreate(
                &ld, c.fp8Out ? CUDA_R_8F_E4M3 : CUDA_R_16BF, c.n, c.m, c.n),
            "layout");
  cublasLtMatmulPreference_t pref = nullptr;
  cublasLtMatmulHeuristicResult_t found[3] = {};
  int count = 0;
  if (good && ok(cublasLtMatmulPreferenceCreate(&pref), "preference")) {
    cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &b.workspaceBytes,
        sizeof(b.workspaceBytes));
    const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(
        h, desc, la, lb, lc, ld, pref, 3, found, &count);
    if (st != CUBLAS_STATUS_SUCCESS || count == 0) {
      std::printf("not supported (%s)\n", cublasLtGetStatusString(st));
      good = false;
    }
  }
  void *d = c.fp8Out ? b.dFp8 : b.dBf16;
  const void *cIn = c.fp8Out ? static_cast<const void *>(b.c) : d;
  const float alpha = 1.0f, beta = 0.0f;
  cudaEvent_t start, stop;
  cudaEventCreate(&start), cudaEventCreate(&stop);
  float best = 0.0f;
  for (int a = 0; good && a < count; ++a) {
    auto matmul = [&] {
      return cublasLtMatmul(h, desc, &alpha, b.w, la, b.x, lb, &beta, cIn, lc,
                            d, ld, &found[a].algo, b.workspace,
                            b.workspaceBytes, nullptr);
    };
    if (!ok(matmul(), "matmul"))
      break;
    cudaEventRecord(start);
    for (int it = 0; it < 20; ++it)
      matmul();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, start, stop);
    ms /= 20;
    best = best == 0.0f ? ms : std::min(best, ms);
  }
  if (best > 0.0f)
    std::printf("%.1f us (%.0f TFLOP/s), best of %d algorithms\n",
                best * 1000.0f, 2.0 * c.m * c.n * c.k / (best * 1e-3) / 1e12,
                count);
  cudaEventDestroy(start), cudaEventDestroy(stop);
  if (pref)
    cublasLtMatmulPreferenceDestroy(pref);
  for (cublasLtMatrixLayout_t l : {la, lb, lc, ld})
    if (l)
      cublasLtMatrixLayoutDestroy(l);
  cublasLtMatmulDescDestroy(desc);
  return best > 0.0f && cudaDeviceSynchronize() == cudaSuccess;
}

/// Relative L2 of the FP8 output against the bf16 output times the D scale
/// (2), over the first 4096 rows.
void compareOutputs(const Buffers &b, int n) {
  const size_t count = size_t(4096) * n;
  std::vector<bf16> ref(count);
  std::vector<fp8> got(count);
  cudaMemcpy(ref.data(), b.dBf16, count * sizeof(bf16), cudaMemcpyDeviceToHost);
  cudaMemcpy(got.data(), b.dFp8, count, cudaMemcpyDeviceToHost);
  double err = 0, norm = 0;
  size_t nans = 0;
  for (size_t i = 0; i < count; ++i) {
    const double r = 2.0 * double(__bfloat162float(ref[i]));
    const double g = double(float(got[i]));
    if (std::isnan(g)) {
      ++nans;
      continue;
    }
    err += (r - g) * (r - g), norm += r * r;
  }
  std::printf("FP8 output vs bf16 output x D scale: rel L2 %.3e, %zu NaN\n",
              std::sqrt(err / norm), nans);
}

} // namespace

int main() {
  const int M = 32760, HIDDEN = 8960, DIM = 1536;
  cublasLtHandle_t h = nullptr;
  if (!ok(cublasLtCreate(&h), "cublasLtCreate"))
    return 1;
  Buffers b = {};
  b.workspaceBytes = size_t(32) << 20;
  const size_t elems = size_t(M) * HIDDEN;
  const bool allocated =
      cudaMalloc(&b.workspace, b.workspaceBytes) == cudaSuccess &&
      cudaMalloc(&b.x, elems) == cudaSuccess &&
      cudaMalloc(&b.w, size_t(HIDDEN) * HIDDEN) == cudaSuccess &&
      cudaMalloc(&b.xScales, size_t(M) * 80 * sizeof(float)) == cudaSuccess &&
      cudaMalloc(&b.wScales, size_t(HIDDEN) * 80 * sizeof(float)) ==
          cudaSuccess &&
      cudaMalloc(&b.dScale, sizeof(float)) == cudaSuccess &&
      cudaMalloc(&b.bias, HIDDEN * sizeof(bf16)) == cudaSuccess &&
      cudaMalloc(&b.c, elems * sizeof(bf16)) == cudaSuccess &&
      cudaMalloc(&b.dBf16, elems * sizeof(bf16)) == cudaSuccess &&
      cudaMalloc(&b.dFp8, elems) == cudaSuccess;
  if (!allocated) {
    std::printf("out of device memory\n");
    return 1;
  }
  fillFp8<<<1024, 256>>>(b.x, elems, 1);
  fillFp8<<<1024, 256>>>(b.w, size_t(HIDDEN) * HIDDEN, 2);
  fillScales<<<(M * 80 + 255) / 256, 256>>>(b.xScales, size_t(M) * 80, 0.01f);
  fillScales<<<(HIDDEN * 80 + 255) / 256, 256>>>(b.wScales,
                                                 size_t(HIDDEN) * 80, 0.02f);
  fillScales<<<1, 1>>>(b.dScale, 1, 2.0f);
  fillBias<<<(HIDDEN + 255) / 256, 256>>>(b.bias, HIDDEN);
  const int S = CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F,
            O = CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F,
            V = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F,
            B = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
  const auto G = CUBLASLT_EPILOGUE_GELU_BIAS, BIAS = CUBLASLT_EPILOGUE_BIAS;
  const Case cases[] = {
      {M, HIDDEN, DIM, false, G, O, O}, // FFN-up as vsart runs it today
      {M, HIDDEN, DIM, true, G, O, O},  {M, HIDDEN, DIM, true, G, S, O},
      {M, HIDDEN, DIM, true, G, O, S},  {M, HIDDEN, DIM, false, G, S, S},
      {M, HIDDEN, DIM, true, G, S, S},  {M, DIM, HIDDEN, false, BIAS, O, O},
      {M, DIM, HIDDEN, false, BIAS, S, S}, {M, DIM, HIDDEN, false, BIAS, B, V},
      {M, DIM, DIM, false, BIAS, O, O}, {M, DIM, DIM, false, BIAS, S, S}};
  for (const Case &c : cases)
    run(h, c, b);
  // Same inputs, scalar scales: the FP8 output against the bf16 one.
  if (run(h, {M, HIDDEN, DIM, false, G, S, S}, b) &&
      run(h, {M, HIDDEN, DIM, true, G, S, S}, b))
    compareOutputs(b, HIDDEN);
  cublasLtDestroy(h);
  return 0;
}

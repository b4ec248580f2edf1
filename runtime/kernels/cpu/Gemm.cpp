// Blocked fp32 gemm: C = epilogue(alpha * op(A) op(B) + beta * C + bias).
//
// The output is cut into MC x NC tiles, one task per tile. Within a tile the
// k dimension is walked in KC panels; the B panel is packed row-major so the
// innermost loop runs contiguously over n and vectorises. Every C element
// sums its k products in ascending order whatever the thread count.
#include "../../src/Internal.h"
#include "Activation.h"

#include <algorithm>
#include <vector>

namespace {
constexpr int64_t MC = 64, NC = 256, KC = 256;
}

extern "C" vsart_status_t
vsart_cpu_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
               float alpha, const float *a, int64_t lda, const float *b,
               int64_t ldb, float beta, float *c, int64_t ldc,
               const float *bias, vsart_epilogue_t epilogue) {
  using vsart::fail;
  if (m < 0 || n < 0 || k < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "gemm: negative size");
  if (epilogue != VSART_EPILOGUE_NONE && epilogue != VSART_EPILOGUE_GELU_TANH &&
      epilogue != VSART_EPILOGUE_GELU_ERF)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "gemm: unknown epilogue");
  if (m == 0 || n == 0)
    return vsart::ok();
  if (!c || ldc < n || (k > 0 && (!a || !b)))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "gemm: null pointer or bad ldc");
  if (k > 0 && (lda < (trans_a ? m : k) || ldb < (trans_b ? k : n)))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "gemm: bad leading dimension");

  const int64_t tilesM = (m + MC - 1) / MC, tilesN = (n + NC - 1) / NC;
  vsart::parallelFor(tilesM * tilesN, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> acc(MC * NC), panel(KC * NC);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i0 = (t / tilesN) * MC, j0 = (t % tilesN) * NC;
      const int64_t mb = std::min(MC, m - i0), nb = std::min(NC, n - j0);
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t p0 = 0; p0 < k; p0 += KC) {
        const int64_t kb = std::min(KC, k - p0);
        // Pack op(B)[p0:p0+kb, j0:j0+nb] as kb x nb, row-major.
        for (int64_t p = 0; p < kb; ++p) {
          float *dst = &panel[p * NC];
          if (trans_b)
            for (int64_t j = 0; j < nb; ++j)
              dst[j] = b[(j0 + j) * ldb + p0 + p];
          else
            std::copy(b + (p0 + p) * ldb + j0, b + (p0 + p) * ldb + j0 + nb,
                      dst);
        }
        for (int64_t i = 0; i < mb; ++i) {
          float *row = &acc[i * NC];
          for (int64_t p = 0; p < kb; ++p) {
            const float av = trans_a ? a[(p0 + p) * lda + i0 + i]
                                     : a[(i0 + i) * lda + p0 + p];
            const float *bp = &panel[p * NC];
            for (int64_t j = 0; j < nb; ++j)
              row[j] += av * bp[j];
          }
        }
      }
      for (int64_t i = 0; i < mb; ++i) {
        float *crow = c + (i0 + i) * ldc + j0;
        const float *row = &acc[i * NC];
        for (int64_t j = 0; j < nb; ++j) {
          float v = alpha * row[j];
          if (beta != 0.0f)
            v += beta * crow[j];
          if (bias)
            v += bias[j0 + j];
          if (epilogue == VSART_EPILOGUE_GELU_TANH)
            v = vsart::cpu::geluTanh(v);
          else if (epilogue == VSART_EPILOGUE_GELU_ERF)
            v = vsart::cpu::geluErf(v);
          crow[j] = v;
        }
      }
    }
  });
  return vsart::ok();
}

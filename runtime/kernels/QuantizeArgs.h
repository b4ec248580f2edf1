// Checks of vsart_*_scaled_gemm_quantize's arguments shared by the CPU and
// CUDA kernels (the CUDA one adds its layout rules: k and n % 16).
#ifndef VSART_KERNELS_QUANTIZEARGS_H
#define VSART_KERNELS_QUANTIZEARGS_H

#include "../src/Internal.h"

namespace vsart {

/// Sizes, the epilogue and, when there are rows, the pointers they need.
inline vsart_status_t checkScaledGemmQuantizeArgs(
    const char *name, int64_t m, int64_t n, int64_t k, const void *a_q,
    const float *a_scales, const void *w, const void *out_q,
    const float *out_scales, vsart_epilogue_t epilogue) {
  const std::string s(name);
  if (m < 0 || n < 0 || k < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, s + ": negative size");
  if (epilogue != VSART_EPILOGUE_NONE && epilogue != VSART_EPILOGUE_GELU_TANH)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                s + ": the epilogue must be NONE or GELU_TANH");
  if (m > 0 && (!a_scales || !out_scales ||
                (n > 0 && (!w || !out_q || (k > 0 && !a_q)))))
    return fail(VSART_ERROR_INVALID_ARGUMENT, s + ": null pointer");
  return VSART_OK;
}

} // namespace vsart

#endif // VSART_KERNELS_QUANTIZEARGS_H

// Elementwise kernels: adaptive modulation and GELU.
#include "../../src/Internal.h"
#include "Activation.h"

extern "C" vsart_status_t vsart_cpu_modulate(const float *x, const float *shift,
                                             const float *scale, float *out,
                                             int64_t batch, int64_t seq,
                                             int64_t dim) {
  if (batch < 0 || seq < 0 || dim < 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "modulate: negative size");
  if (batch * seq * dim == 0)
    return vsart::ok();
  if (!x || !out)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "modulate: null pointer");
  vsart::parallelFor(batch * seq, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / seq;
      const float *xr = x + r * dim;
      float *yr = out + r * dim;
      const float *sh = shift ? shift + b * dim : nullptr;
      const float *sc = scale ? scale + b * dim : nullptr;
      for (int64_t i = 0; i < dim; ++i) {
        float y = sc ? xr[i] * (1.0f + sc[i]) : xr[i];
        yr[i] = sh ? y + sh[i] : y;
      }
    }
  });
  return vsart::ok();
}

extern "C" vsart_status_t vsart_cpu_gelu(const float *x, float *out, int64_t n,
                                         vsart_epilogue_t kind) {
  if (kind != VSART_EPILOGUE_GELU_TANH && kind != VSART_EPILOGUE_GELU_ERF)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "gelu: unknown kind");
  if (n < 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "gelu: negative size");
  if (n == 0)
    return vsart::ok();
  if (!x || !out)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "gelu: null pointer");
  vsart::parallelFor(n, 4096, [&](int64_t i0, int64_t i1) {
    if (kind == VSART_EPILOGUE_GELU_TANH)
      for (int64_t i = i0; i < i1; ++i)
        out[i] = vsart::cpu::geluTanh(x[i]);
    else
      for (int64_t i = i0; i < i1; ++i)
        out[i] = vsart::cpu::geluErf(x[i]);
  });
  return vsart::ok();
}

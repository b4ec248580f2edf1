// layer_norm and rms_norm over the last dim; one row per work item, a fixed
// sequential reduction per row (thread-count independent).
#include "../../src/Internal.h"

#include <cmath>

namespace {
constexpr int64_t kRowGrain = 16;

vsart_status_t check(const char *name, const float *x, float *out,
                     int64_t rows, int64_t dim) {
  if (rows < 0 || dim < 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       std::string(name) + ": negative size");
  if (rows * dim > 0 && (!x || !out))
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       std::string(name) + ": null pointer");
  return VSART_OK;
}
/// Normalises each row by its root mean square about the row mean
/// (`centered`: layer norm) or about zero (RMS norm), then scales and shifts.
vsart_status_t normalizeRows(const char *name, const float *x, float *out,
                             int64_t rows, int64_t dim, const float *scale,
                             const float *bias, float eps, bool centered) {
  if (vsart_status_t st = check(name, x, out, rows, dim))
    return st;
  if (dim == 0)
    return vsart::ok();
  vsart::parallelFor(rows, kRowGrain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float *xr = x + r * dim;
      float *yr = out + r * dim;
      float mean = 0.0f;
      if (centered) {
        for (int64_t i = 0; i < dim; ++i)
          mean += xr[i];
        mean /= static_cast<float>(dim);
      }
      float var = 0.0f;
      for (int64_t i = 0; i < dim; ++i)
        var += (xr[i] - mean) * (xr[i] - mean);
      var /= static_cast<float>(dim);
      const float inv = 1.0f / std::sqrt(var + eps);
      for (int64_t i = 0; i < dim; ++i) {
        float y = (xr[i] - mean) * inv;
        if (scale)
          y *= scale[i];
        if (bias)
          y += bias[i];
        yr[i] = y;
      }
    }
  });
  return vsart::ok();
}
} // namespace

extern "C" vsart_status_t vsart_cpu_layer_norm(const float *x, float *out,
                                               int64_t rows, int64_t dim,
                                               const float *scale,
                                               const float *bias, float eps) {
  return normalizeRows("layer_norm", x, out, rows, dim, scale, bias, eps,
                       /*centered=*/true);
}

extern "C" vsart_status_t vsart_cpu_rms_norm(const float *x, float *out,
                                             int64_t rows, int64_t dim,
                                             const float *scale,
                                             const float *bias, float eps) {
  return normalizeRows("rms_norm", x, out, rows, dim, scale, bias, eps,
                       /*centered=*/false);
}

// layer_norm and rms_norm over the last dim; one row per work item, a fixed
// sequential reduction per row (thread-count independent).
#include "../../src/Internal.h"

#include <cmath>
#include <vector>

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
/// The AdaLN modulation after a norm: row r of batch entry r / seq.
struct Modulation {
  int64_t seq = 1;
  const float *shift = nullptr, *scale = nullptr; // (batch, dim)
};

/// Normalises each row by its root mean square about the row mean
/// (`centered`: layer norm) or about zero (RMS norm), then scales and shifts,
/// then modulates.
vsart_status_t normalizeRows(const char *name, const float *x, float *out,
                             int64_t rows, int64_t dim, const float *scale,
                             const float *bias, float eps, bool centered,
                             Modulation mod = {}) {
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
      const int64_t m = r / mod.seq * dim;
      for (int64_t i = 0; i < dim; ++i) {
        float y = (xr[i] - mean) * inv;
        if (scale)
          y *= scale[i];
        if (bias)
          y += bias[i];
        if (mod.scale)
          y *= 1.0f + mod.scale[m + i];
        if (mod.shift)
          y += mod.shift[m + i];
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

namespace {
vsart_status_t normModulate(const char *name, const float *x, float *out,
                            int64_t batch, int64_t seq, int64_t dim,
                            const float *scale, const float *bias, float eps,
                            bool centered, const float *shift,
                            const float *modScale) {
  if (batch < 0 || seq < 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       std::string(name) + ": negative size");
  Modulation mod;
  mod.seq = seq > 0 ? seq : 1;
  mod.shift = shift;
  mod.scale = modScale;
  return normalizeRows(name, x, out, batch * seq, dim, scale, bias, eps,
                       centered, mod);
}
} // namespace

extern "C" vsart_status_t vsart_cpu_layer_norm_modulate(
    const float *x, float *out, int64_t batch, int64_t seq, int64_t dim,
    const float *scale, const float *bias, float eps, const float *mod_shift,
    const float *mod_scale) {
  return normModulate("layer_norm_modulate", x, out, batch, seq, dim, scale,
                      bias, eps, /*centered=*/true, mod_shift, mod_scale);
}

extern "C" vsart_status_t vsart_cpu_rms_norm_modulate(
    const float *x, float *out, int64_t batch, int64_t seq, int64_t dim,
    const float *scale, const float *bias, float eps, const float *mod_shift,
    const float *mod_scale) {
  return normModulate("rms_norm_modulate", x, out, batch, seq, dim, scale,
                      bias, eps, /*centered=*/false, mod_shift, mod_scale);
}

extern "C" vsart_status_t vsart_cpu_norm_rope(const vsart_norm_rope_args_t *a) {
  if (!a)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "norm_rope: null args");
  const int64_t dim = a->heads * a->head_dim, half = a->head_dim / 2;
  if (a->batch < 0 || a->seq < 0 || a->heads < 0 || a->head_dim < 0 ||
      a->head_dim % 2 != 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "norm_rope: negative size or odd head_dim");
  const int64_t rows = a->batch * a->seq;
  if (rows * dim == 0)
    return vsart::ok();
  if (!a->x || !a->out || !a->cos || !a->sin)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "norm_rope: null pointer");
  // Normalised rows first (the norm's own code), then the rotation.
  std::vector<float> normed(size_t(rows * dim));
  if (vsart_status_t st = normalizeRows(
          "norm_rope", static_cast<const float *>(a->x), normed.data(), rows,
          dim, static_cast<const float *>(a->scale),
          static_cast<const float *>(a->bias), a->eps, a->centered != 0))
    return st;
  const auto *cosT = static_cast<const float *>(a->cos);
  const auto *sinT = static_cast<const float *>(a->sin);
  auto *out = static_cast<float *>(a->out);
  vsart::parallelFor(rows, kRowGrain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / a->seq, s = r % a->seq;
      for (int64_t h = 0; h < a->heads; ++h) {
        const float *xr = normed.data() + r * dim + h * a->head_dim;
        float *yr = out + (a->heads_major
                               ? ((b * a->heads + h) * a->seq + s) * a->head_dim
                               : r * dim + h * a->head_dim);
        for (int64_t i = 0; i < half; ++i) {
          const float x0 = xr[2 * i], x1 = xr[2 * i + 1];
          const float c = cosT[s * half + i], sn = sinT[s * half + i];
          yr[2 * i] = x0 * c - x1 * sn;
          yr[2 * i + 1] = x0 * sn + x1 * c;
        }
      }
    }
  });
  return vsart::ok();
}

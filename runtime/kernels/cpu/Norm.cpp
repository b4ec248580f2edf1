// layer_norm and rms_norm over the last dim; one row per work item, a fixed
// sequential reduction per row (thread-count independent). norm_rope's
// optional tile means are pooled from its output afterwards by VSA's pooling
// routine (VsaPool.h).
#include "Quantize.h"
#include "VsaPool.h"
#include "../../src/DTypes.h"
#include "../../src/Internal.h"
#include "../NormArgs.h"
#include "../SparseArgs.h"

#include <algorithm>
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

/// The norm's parameters for one call.
struct NormSpec {
  const float *scale, *bias;
  float eps;
  bool centered; // layer norm (about the mean) or RMS norm (about zero)
  Modulation mod;
};

/// Row r (x, dim values) normalised by its root mean square about the row
/// mean or zero, then scaled, shifted and modulated, into y.
void normalizeRow(const NormSpec &n, int64_t r, const float *x, float *y,
                  int64_t dim) {
  float mean = 0.0f;
  if (n.centered) {
    for (int64_t i = 0; i < dim; ++i)
      mean += x[i];
    mean /= static_cast<float>(dim);
  }
  float var = 0.0f;
  for (int64_t i = 0; i < dim; ++i)
    var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<float>(dim);
  const float inv = 1.0f / std::sqrt(var + n.eps);
  const int64_t m = r / n.mod.seq * dim;
  for (int64_t i = 0; i < dim; ++i) {
    float v = (x[i] - mean) * inv;
    if (n.scale)
      v *= n.scale[i];
    if (n.bias)
      v += n.bias[i];
    if (n.mod.scale)
      v *= 1.0f + n.mod.scale[m + i];
    if (n.mod.shift)
      v += n.mod.shift[m + i];
    y[i] = v;
  }
}

/// normalizeRow over every row.
vsart_status_t normalizeRows(const char *name, const float *x, float *out,
                             int64_t rows, int64_t dim, const float *scale,
                             const float *bias, float eps, bool centered,
                             Modulation mod = {}) {
  if (vsart_status_t st = check(name, x, out, rows, dim))
    return st;
  if (dim == 0)
    return vsart::ok();
  const NormSpec n{scale, bias, eps, centered, mod};
  vsart::parallelFor(rows, kRowGrain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      normalizeRow(n, r, x + r * dim, out + r * dim, dim);
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

namespace {
/// B of vsart_norm_quantize_args_t::per_tensor, in double, as a float.
/// Without the modulation every batch entry has the same bound.
float perTensorBound(const vsart_norm_quantize_args_t &a) {
  const auto *scale = static_cast<const float *>(a.scale);
  const auto *bias = static_cast<const float *>(a.bias);
  const auto *shift = static_cast<const float *>(a.mod_shift);
  const auto *modScale = static_cast<const float *>(a.mod_scale);
  const int64_t dim = a.dim, batches = modScale ? a.batch : 1;
  double bound = 0.0;
  for (int64_t b = 0; b < batches; ++b) {
    double maxA = 0.0, sumC = 0.0;
    for (int64_t i = 0; i < dim; ++i) {
      const double mod = modScale ? 1.0 + double(modScale[b * dim + i]) : 1.0;
      const double ai = (scale ? double(scale[i]) : 1.0) * mod;
      const double ci = (bias ? double(bias[i]) * mod : 0.0) +
                        (shift ? double(shift[b * dim + i]) : 0.0);
      maxA = std::max(maxA, std::fabs(ai));
      sumC += ci * ci;
    }
    bound = std::max(bound, maxA * std::sqrt(double(dim)) + std::sqrt(sumC));
  }
  return float(bound);
}
} // namespace

// Each row normalised into a row of scratch by normalizeRow, then quantized
// by quantizeRow: the bits of the norm followed by vsart_cpu_quantize_rows.
// With per_tensor every row is rounded with the one scale of the bound.
extern "C" vsart_status_t
vsart_cpu_norm_quantize(const vsart_norm_quantize_args_t *a) {
  if (vsart_status_t st = vsart::checkNormQuantizeArgs("cpu_norm_quantize", a))
    return st;
  const int64_t rows = a->batch * a->seq, dim = a->dim;
  if (rows == 0)
    return vsart::ok();
  Modulation mod;
  mod.seq = a->seq > 0 ? a->seq : 1;
  mod.shift = static_cast<const float *>(a->mod_shift);
  mod.scale = static_cast<const float *>(a->mod_scale);
  const NormSpec n{static_cast<const float *>(a->scale),
                   static_cast<const float *>(a->bias), a->eps,
                   a->centered != 0, mod};
  float tensorScale = 1.0f, multiplier = 1.0f;
  if (a->per_tensor)
    vsart::e4m3RowScale(perTensorBound(*a), &tensorScale, &multiplier);
  const auto *x = static_cast<const float *>(a->x);
  vsart::parallelFor(rows, kRowGrain, [&](int64_t r0, int64_t r1) {
    std::vector<float> normed(static_cast<size_t>(dim));
    for (int64_t r = r0; r < r1; ++r) {
      normalizeRow(n, r, x + r * dim, normed.data(), dim);
      uint8_t *q = a->q + r * dim;
      if (a->per_tensor) {
        vsart::cpu::quantizeRowWith(normed.data(), dim, multiplier, q);
        a->scales[r] = tensorScale;
      } else {
        vsart::cpu::quantizeRow(normed.data(), dim, q, &a->scales[r]);
      }
    }
  });
  return vsart::ok();
}

extern "C" vsart_status_t vsart_cpu_norm_rope(const vsart_norm_rope_args_t *a) {
  if (!a)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "norm_rope: null args");
  const int64_t dim = a->heads * a->head_dim, half = a->head_dim / 2;
  if (a->batch < 0 || a->seq < 0 || a->heads < 0 || a->head_dim < 0 ||
      a->head_dim % 2 != 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "norm_rope: negative size or odd head_dim");
  if (a->pooled)
    if (vsart_status_t st = vsart::checkTiles("norm_rope", a->num_tiles,
                                              a->tile_offsets, a->seq, true))
      return st;
  const int64_t rows = a->batch * a->seq;
  if (rows * dim == 0)
    return vsart::ok();
  if (!a->x || !a->out || !a->cos || !a->sin)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "norm_rope: null pointer");
  const NormSpec n{static_cast<const float *>(a->scale),
                   static_cast<const float *>(a->bias), a->eps,
                   a->centered != 0, Modulation{}};
  const auto *x = static_cast<const float *>(a->x);
  const auto *cosT = static_cast<const float *>(a->cos);
  const auto *sinT = static_cast<const float *>(a->sin);
  auto *out = static_cast<float *>(a->out);
  vsart::parallelFor(rows, kRowGrain, [&](int64_t r0, int64_t r1) {
    std::vector<float> normed(static_cast<size_t>(dim)); // a row, then rotated
    for (int64_t r = r0; r < r1; ++r) {
      normalizeRow(n, r, x + r * dim, normed.data(), dim);
      const int64_t b = r / a->seq, s = r % a->seq;
      for (int64_t h = 0; h < a->heads; ++h) {
        const float *xr = normed.data() + h * a->head_dim;
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
  if (a->pooled) { // the rows as written, pooled as vsart_cpu_vsa_select does
    int64_t strides[3];
    vsart::normRopeOutStrides(*a, strides);
    vsart::cpu::poolTiles(out, strides, a->batch, a->heads, a->head_dim,
                          a->tile_offsets, a->num_tiles, a->pooled);
  }
  return vsart::ok();
}

// Per-call parameters of sparse attention: parsing, the defaults, VSA's
// top-k rule and the dense fallbacks generated forwards ask about.
#include "Internal.h"
#include "vsart_model.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using vsart::fail;

bool parseDouble(const char *text, double &out) {
  char *end = nullptr;
  errno = 0;
  out = std::strtod(text, &end);
  return end != text && *end == '\0' && errno == 0 && std::isfinite(out);
}

bool parseInt(const char *text, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  out = v;
  return end != text && *end == '\0' && errno == 0;
}

vsart_status_t badValue(const char *key, const char *value, const char *want) {
  return fail(VSART_ERROR_INVALID_ARGUMENT, std::string("attention parameter ") +
                                                key + ": expected " + want +
                                                ", got '" + value + "'");
}

} // namespace

extern "C" vsart_attention_params_t vsart_attention_params_default(void) {
  vsart_attention_params_t p;
  p.sparsity = -1.0;
  p.top_p = -1.0;
  p.dense = 0;
  p.dense_layers = 0;
  p.step = 0;
  return p;
}

extern "C" vsart_status_t
vsart_attention_params_set(vsart_attention_params_t *params, const char *key,
                           const char *value) {
  if (!params || !key || !value)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "attention parameter: null argument");
  double d = 0;
  int64_t i = 0;
  if (!std::strcmp(key, "sparsity")) {
    if (!parseDouble(value, d) || d < 0.0 || d >= 1.0)
      return badValue(key, value, "a number in [0, 1)");
    params->sparsity = d;
  } else if (!std::strcmp(key, "topk")) {
    if (!parseDouble(value, d) || d <= 0.0 || d > 1.0)
      return badValue(key, value, "a fraction of key tiles kept in (0, 1]");
    params->sparsity = 1.0 - d;
  } else if (!std::strcmp(key, "top_p")) {
    if (!parseDouble(value, d) || d <= 0.0 || d > 1.0)
      return badValue(key, value, "a number in (0, 1]");
    params->top_p = d;
  } else if (!std::strcmp(key, "dense")) {
    if (!parseInt(value, i) || (i != 0 && i != 1))
      return badValue(key, value, "0 or 1");
    params->dense = int32_t(i);
  } else if (!std::strcmp(key, "dense_layers")) {
    if (!parseInt(value, i) || i < 0 || i > INT32_MAX)
      return badValue(key, value, "an integer >= 0");
    params->dense_layers = int32_t(i);
  } else if (!std::strcmp(key, "step")) {
    if (!parseInt(value, i) || i < 0)
      return badValue(key, value, "an integer >= 0");
    params->step = i;
  } else {
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string("unknown attention parameter '") + key +
                    "' (sparsity, topk, top_p, dense, dense_layers, step)");
  }
  return vsart::ok();
}

extern "C" int64_t vsart_vsa_top_k(int64_t num_tiles, double sparsity) {
  auto keep = int64_t(std::ceil((1.0 - sparsity) * double(num_tiles) - 1e-9));
  if (keep > num_tiles)
    keep = num_tiles;
  return keep < 1 ? 1 : keep;
}

extern "C" int vsart_attention_runs_dense(const vsart_run_context_t *ctx,
                                          int64_t index) {
  return ctx && (ctx->attention.dense || index < ctx->attention.dense_layers);
}

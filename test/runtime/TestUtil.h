// Helpers shared by the runtime's gtest files.
#ifndef VSART_TEST_TESTUTIL_H
#define VSART_TEST_TESTUTIL_H

#include "vsart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vsart_test {

/// n floats uniform in [lo, hi), reproducible from `seed`.
inline std::vector<float> randomVec(size_t n, uint32_t seed, float lo = -1.0f,
                                    float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

/// |got - ref| / |ref| (L2 norms).
inline double relL2(const std::vector<float> &got,
                    const std::vector<float> &ref) {
  double e = 0, r = 0;
  for (size_t i = 0; i < got.size() && i < ref.size(); ++i) {
    e += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
    r += double(ref[i]) * ref[i];
  }
  return std::sqrt(e / r);
}

/// Expects `st` to be an invalid-argument rejection whose message
/// (vsart_last_error) names `name`; `why` labels the case in failures.
inline void expectRejected(vsart_status_t st, const char *name,
                           const char *why) {
  EXPECT_EQ(st, VSART_ERROR_INVALID_ARGUMENT) << why;
  EXPECT_NE(std::string(vsart_last_error()).find(name), std::string::npos)
      << why << ": " << vsart_last_error();
}

/// Calls rejects(bad, why) for each argument fault the CPU and CUDA
/// norm_quantize both reject, `bad` a copy of the valid `a` with that one
/// fault: a null x, q or scales, a negative dim, or one half of the
/// modulation pair (set to `mod`, a readable buffer of dim values).
template <class Rejects>
void forSharedNormQuantizeFaults(const vsart_norm_quantize_args_t &a,
                                 const void *mod, Rejects &&rejects) {
  auto with = [&](auto fault, const char *why) {
    vsart_norm_quantize_args_t bad = a;
    fault(bad);
    rejects(bad, why);
  };
  using Args = vsart_norm_quantize_args_t;
  with([](Args &b) { b.x = nullptr; }, "null x");
  with([](Args &b) { b.q = nullptr; }, "null q");
  with([](Args &b) { b.scales = nullptr; }, "null scales");
  with([](Args &b) { b.dim = -b.dim; }, "negative dim");
  with([&](Args &b) { b.mod_shift = mod; }, "mod_shift alone");
  with([&](Args &b) { b.mod_scale = mod; }, "mod_scale alone");
}

} // namespace vsart_test

#endif // VSART_TEST_TESTUTIL_H

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

} // namespace vsart_test

#endif // VSART_TEST_TESTUTIL_H

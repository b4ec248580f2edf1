// Helpers shared by the runtime's gtest files.
#ifndef VSART_TEST_TESTUTIL_H
#define VSART_TEST_TESTUTIL_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
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

} // namespace vsart_test

#endif // VSART_TEST_TESTUTIL_H

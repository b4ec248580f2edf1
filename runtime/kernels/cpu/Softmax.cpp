// Softmax over the last dim; an all -inf row yields 0 (the attention rule).
#include "../../src/Internal.h"

#include <algorithm>
#include <cmath>
#include <limits>

extern "C" vsart_status_t vsart_cpu_softmax(const float *x, float *out,
                                            int64_t rows, int64_t dim) {
  if (rows < 0 || dim < 0)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "softmax: negative size");
  if (rows * dim == 0)
    return vsart::ok();
  if (!x || !out)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "softmax: null pointer");
  const float negInf = -std::numeric_limits<float>::infinity();
  vsart::parallelFor(rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float *xr = x + r * dim;
      float *yr = out + r * dim;
      float mx = negInf;
      for (int64_t i = 0; i < dim; ++i)
        mx = std::max(mx, xr[i]);
      if (mx == negInf) {
        std::fill(yr, yr + dim, 0.0f);
        continue;
      }
      float sum = 0.0f;
      for (int64_t i = 0; i < dim; ++i) {
        yr[i] = std::exp(xr[i] - mx);
        sum += yr[i];
      }
      const float inv = 1.0f / sum;
      for (int64_t i = 0; i < dim; ++i)
        yr[i] *= inv;
    }
  });
  return vsart::ok();
}

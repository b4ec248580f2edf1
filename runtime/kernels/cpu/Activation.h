// GELU variants shared by the gemm epilogue and the elementwise kernel.
#ifndef VSART_KERNELS_CPU_ACTIVATION_H
#define VSART_KERNELS_CPU_ACTIVATION_H

#include <cmath>

namespace vsart::cpu {
inline float geluTanh(float x) {
  const float c = 0.7978845608028654f; // sqrt(2/pi)
  return 0.5f * x * (1.0f + std::tanh(c * (x + 0.044715f * x * x * x)));
}
inline float geluErf(float x) {
  return 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f));
}
} // namespace vsart::cpu

#endif // VSART_KERNELS_CPU_ACTIVATION_H

// The FP8 E4M3 row quantizer shared by vsart_cpu_quantize_rows and the norm
// that quantizes its rows as it produces them (vsart_cpu_norm_quantize).
#ifndef VSART_KERNELS_CPU_QUANTIZE_H
#define VSART_KERNELS_CPU_QUANTIZE_H

#include <cstdint>

namespace vsart::cpu {
/// x (cols floats) as E4M3 bytes q and its scale, by the rule of
/// vsart_cpu_quantize_rows.
void quantizeRow(const float *x, int64_t cols, uint8_t *q, float *scale);
} // namespace vsart::cpu

#endif // VSART_KERNELS_CPU_QUANTIZE_H

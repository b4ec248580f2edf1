// The FP8 E4M3 quantizers shared by vsart_cpu_quantize_rows, the norm that
// quantizes its rows as it produces them (vsart_cpu_norm_quantize), the
// scaled GEMM with an FP8 output and the sessions' F8E4M3_TENSOR weights.
#ifndef VSART_KERNELS_CPU_QUANTIZE_H
#define VSART_KERNELS_CPU_QUANTIZE_H

#include <cstdint>

namespace vsart::cpu {
/// x (cols floats) times `multiplier` as E4M3 bytes q: round to nearest
/// even, saturating (the rounding of vsart_cpu_quantize_rows).
void quantizeRowWith(const float *x, int64_t cols, float multiplier,
                     uint8_t *q);
/// x (cols floats) as E4M3 bytes q and its scale, by the rule of
/// vsart_cpu_quantize_rows.
void quantizeRow(const float *x, int64_t cols, uint8_t *q, float *scale);
/// x (rows x cols floats) in F8E4M3_TENSOR storage (`storage` holds
/// vsart_storage_bytes of it): one scale for the whole tensor, repeated for
/// every row, then the largest 2-norm of a dequantized row, rounded up.
void quantizeTensor(const float *x, int64_t rows, int64_t cols,
                    uint8_t *storage);
} // namespace vsart::cpu

#endif // VSART_KERNELS_CPU_QUANTIZE_H

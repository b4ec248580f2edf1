// VSA's tile pooling on the CPU, shared by vsart_cpu_vsa_select and
// vsart_cpu_norm_rope's `pooled` output, so that the selection reads the
// same bits whether it pools q and k itself or is given the norm's means.
#ifndef VSART_KERNELS_CPU_VSAPOOL_H
#define VSART_KERNELS_CPU_VSAPOOL_H

#include <cstdint>

namespace vsart::cpu {
/// pooled (batch, heads, tiles, pooledDim(headDim)) = for each (batch, head)
/// of x ((batch, head, seq) element strides, head_dim contiguous) the mean
/// of each tile's rows (fp32 sum in row order, divided by the row count),
/// zero padding; tile t is rows [offsets[t], offsets[t + 1]) (checked).
/// One task per (batch, head).
void poolTiles(const float *x, const int64_t strides[3], int64_t batch,
               int64_t heads, int64_t headDim, const int64_t *offsets,
               int64_t tiles, float *pooled);
} // namespace vsart::cpu

#endif // VSART_KERNELS_CPU_VSAPOOL_H

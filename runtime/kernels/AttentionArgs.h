// Checks of vsart_attention_args_t shared by the CPU and CUDA attention.
#ifndef VSART_KERNELS_ATTENTIONARGS_H
#define VSART_KERNELS_ATTENTIONARGS_H

#include "../src/Internal.h"

namespace vsart {

/// Validates sizes, head grouping, mask dims and pointers of `a` (FP8 only
/// where `fp8Allowed`, and then without a mask). On success fills the
/// element strides of the contiguous mask over (batch, num_heads, seq_q,
/// seq_kv), 0 along broadcast dims, and sets `empty` when there is no output
/// to write.
inline vsart_status_t checkAttentionArgs(const char *name,
                                         const vsart_attention_args_t *a,
                                         int64_t maskStrides[4], bool *empty,
                                         bool fp8Allowed = false) {
  const std::string n(name);
  if (!a)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null args");
  if (a->fp8 && !fp8Allowed)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": FP8 attention (fp8) is only the dense attention's "
                    "(vsart_cpu_attention_strided, vsart_cuda_attention)");
  if (a->fp8 && a->mask)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": FP8 attention takes no mask");
  if (a->batch < 0 || a->num_heads < 0 || a->seq_q < 0 || a->seq_kv < 0 ||
      a->head_dim < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": negative size");
  if (a->num_kv_heads <= 0 || a->num_heads % a->num_kv_heads != 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": num_heads must be a multiple of num_kv_heads");
  const int64_t full[4] = {a->batch, a->num_heads, a->seq_q, a->seq_kv};
  int64_t s = 1;
  for (int d = 3; d >= 0; --d) {
    maskStrides[d] = 0;
    if (!a->mask)
      continue;
    if (a->mask_dims[d] != 1 && a->mask_dims[d] != full[d])
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  n + ": mask dim " + std::to_string(d) +
                      " is neither 1 nor the full size");
    maskStrides[d] = a->mask_dims[d] == 1 ? 0 : s;
    s *= a->mask_dims[d];
  }
  *empty = a->batch * a->num_heads * a->seq_q * a->head_dim == 0;
  if (!*empty && (!a->q || !a->out || (a->seq_kv > 0 && (!a->k || !a->v))))
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null pointer");
  return VSART_OK;
}

} // namespace vsart

#endif // VSART_KERNELS_ATTENTIONARGS_H

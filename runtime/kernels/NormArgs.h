// Checks of vsart_norm_quantize_args_t shared by the CPU and CUDA kernels
// (the CUDA one adds its layout rules: dim % 8, alignment).
#ifndef VSART_KERNELS_NORMARGS_H
#define VSART_KERNELS_NORMARGS_H

#include "../src/Internal.h"

namespace vsart {

/// Sizes, the modulation pair and, when there are rows, the pointers.
inline vsart_status_t checkNormQuantizeArgs(const char *name,
                                            const vsart_norm_quantize_args_t *a) {
  const std::string n(name);
  if (!a)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null args");
  if (a->batch < 0 || a->seq < 0 || a->dim < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": negative size");
  if (!a->mod_shift != !a->mod_scale)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                n + ": mod_shift and mod_scale go together");
  if (a->batch * a->seq > 0 &&
      (!a->scales || (a->dim > 0 && (!a->x || !a->q))))
    return fail(VSART_ERROR_INVALID_ARGUMENT, n + ": null pointer");
  return VSART_OK;
}

} // namespace vsart

#endif // VSART_KERNELS_NORMARGS_H

/* A C program using a model compiled with `vsac --emit=lib`: it links the
 * library, opens a session on the model's .vsab, feeds zero inputs and prints
 * the sum of output 0 (compared with the executable's checksum). */
#include "vsart_model.h"

#include <stdio.h>
#include <stdlib.h>

const vsart_model_t *vsa_model(void);

static size_t bytesOf(const vsart_tensor_desc_t *d) {
  size_t n = vsart_dtype_size(d->dtype);
  for (int32_t i = 0; i < d->rank; ++i)
    n *= (size_t)d->dims[i];
  return n;
}

int main(int argc, char **argv) {
  const vsart_model_t *model = vsa_model();
  vsart_session_t session;
  if (argc != 2 || vsart_session_create(model, argv[1], &session) != VSART_OK) {
    fprintf(stderr, "error: %s\n", vsart_last_error());
    return 1;
  }
  for (int32_t i = 0; i < model->num_inputs; ++i) {
    void *zeros = calloc(1, bytesOf(&model->inputs[i]) + 1);
    if (vsart_session_set_input(session, i, zeros) != VSART_OK)
      return 1;
    free(zeros);
  }
  const vsart_tensor_desc_t *out = &model->outputs[0];
  float *y = malloc(bytesOf(out) + 1);
  if (vsart_session_forward(session) != VSART_OK ||
      vsart_session_get_output(session, 0, y) != VSART_OK) {
    fprintf(stderr, "error: %s\n", vsart_last_error());
    return 1;
  }
  double sum = 0;
  for (size_t i = 0; i < bytesOf(out) / sizeof(float); ++i)
    sum += y[i];
  printf("%s sum=%.6e\n", out->name, sum);
  free(y);
  vsart_session_destroy(session);
  return 0;
}

// vsart_cuda_exe_main: the executable's main with NCCL communicators
// (--ranks N over local GPUs, or one process per GPU under torchrun/mpirun).
#include "../../src/ExeMain.h"
#include "Common.h"

namespace {

vsart_status_t createLocal(int32_t n, double timeoutS, vsart_comm_t *ranks) {
  return vsart_comm_create_nccl_local(n, timeoutS, ranks);
}

vsart_status_t createFromEnv(double timeoutS, vsart_comm_t *out) {
  return vsart_comm_create_nccl_from_env(timeoutS, out);
}

vsart_status_t selectDevice(int32_t rank) {
  return vsart::cuda::check(cudaSetDevice(rank), "cudaSetDevice (--ranks)");
}

} // namespace

extern "C" int vsart_cuda_exe_main(int argc, char **argv,
                                   const vsart_model_t *model) {
  static const vsart::ExeHooks hooks = {createLocal, createFromEnv,
                                        selectDevice};
  return vsart::exeMain(argc, argv, model, &hooks);
}

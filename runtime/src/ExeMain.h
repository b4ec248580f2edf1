// The executable's main with target hooks: libvsart_cuda passes NCCL
// communicator creation and device selection (vsart_cuda_exe_main), the CPU
// target none (vsart_exe_main: thread ranks).
#ifndef VSART_SRC_EXEMAIN_H
#define VSART_SRC_EXEMAIN_H

#include "vsart_model.h"

namespace vsart {

struct ExeHooks {
  /// --ranks N on a device target: n handles, rank r driving device r.
  vsart_status_t (*createLocal)(int32_t n, double timeoutS,
                                vsart_comm_t *ranks);
  /// One process per device under torchrun / mpirun (also selects the
  /// calling thread's device).
  vsart_status_t (*createFromEnv)(double timeoutS, vsart_comm_t *out);
  /// Makes device `rank` current on the calling thread before its session
  /// allocates (createLocal's ranks).
  vsart_status_t (*selectDevice)(int32_t rank);
};

/// vsart_exe_main; hooks may be null (CPU).
int exeMain(int argc, char **argv, const vsart_model_t *model,
            const ExeHooks *hooks);

} // namespace vsart

#endif // VSART_SRC_EXEMAIN_H

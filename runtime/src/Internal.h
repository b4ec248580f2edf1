// Internal helpers shared by the runtime sources and CPU kernels.
#ifndef VSART_SRC_INTERNAL_H
#define VSART_SRC_INTERNAL_H

#include "vsart.h"

#include <cstdint>
#include <functional>
#include <string>

namespace vsart {

// Records `message` as this thread's last error and returns `status`.
vsart_status_t fail(vsart_status_t status, std::string message);
// Clears the last error and returns VSART_OK.
vsart_status_t ok();

// Calls fn(begin, end) over disjoint chunks covering [0, n), each at least
// `grain` long (except the last), on the runtime thread pool. The caller
// takes part. Nested calls run serially. Kernels must make every output
// independent of the chunking so results do not depend on the thread count.
void parallelFor(int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)> &fn);

} // namespace vsart

#endif // VSART_SRC_INTERNAL_H

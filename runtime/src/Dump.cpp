// Activation dumps for debugging generated programs: with VSART_DUMP_DIR
// set, every op of a forward writes its result to DIR/NNNN_NAME.npy (floats
// as f32), so two targets' runs can be compared op by op
// (scripts/compare_dumps.py).
#include "DTypes.h"
#include "Internal.h"
#include "Npy.h"
#include "vsart_model.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int vsart_dump_enabled(void) {
  static const bool enabled = [] {
    const char *dir = std::getenv("VSART_DUMP_DIR");
    return dir && *dir;
  }();
  return enabled;
}

extern "C" vsart_status_t vsart_dump_tensor(int32_t index, const char *name,
                                            const void *data,
                                            vsart_dtype_t storage, int32_t rank,
                                            const int64_t *dims,
                                            const vsart_device_ops_t *device,
                                            void *stream) {
  if (!vsart_dump_enabled())
    return vsart::ok();
  int64_t n = vsart::numElements(rank, dims);
  size_t bytes = size_t(n) * vsart_dtype_size(storage);
  std::vector<uint8_t> host(bytes);
  if (device->synchronize(stream) != VSART_OK ||
      device->download(host.data(), data, bytes, stream) != VSART_OK)
    return VSART_ERROR_INVALID_ARGUMENT;
  char file[64];
  std::snprintf(file, sizeof file, "/%04d_", index);
  std::string path = std::string(std::getenv("VSART_DUMP_DIR")) + file + name +
                     ".npy";
  return vsart::npy::write(path, storage, std::vector<int64_t>(dims, dims + rank),
                           host.data());
}

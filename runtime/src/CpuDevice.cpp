// The CPU target's device-ops table: host memory, copies are memcpy.
#include "Internal.h"
#include "vsart_model.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr size_t kAlign = 256;

vsart_status_t cpuAlloc(size_t bytes, void **out) {
  if (!out)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "cpu alloc: null out");
  *out = nullptr;
  if (bytes > SIZE_MAX - kAlign)
    return vsart::fail(VSART_ERROR_OUT_OF_MEMORY,
                       "cpu alloc: " + std::to_string(bytes) + " bytes");
  // aligned_alloc wants a multiple of the alignment; 0 bytes still yields a
  // valid, distinct pointer.
  size_t rounded = bytes == 0 ? kAlign : (bytes + kAlign - 1) / kAlign * kAlign;
  void *p = std::aligned_alloc(kAlign, rounded);
  if (!p)
    return vsart::fail(VSART_ERROR_OUT_OF_MEMORY,
                       "cpu alloc: out of memory allocating " +
                           std::to_string(bytes) + " bytes");
  *out = p;
  return VSART_OK;
}

void cpuFree(void *ptr) { std::free(ptr); }

vsart_status_t cpuCopy(void *dst, const void *src, size_t bytes,
                       void * /*stream*/) {
  if (bytes != 0)
    std::memcpy(dst, src, bytes);
  return VSART_OK;
}

vsart_status_t cpuSynchronize(void * /*stream*/) { return VSART_OK; }

} // namespace

extern "C" const vsart_device_ops_t vsart_cpu_device_ops = {
    "cpu", cpuAlloc, cpuFree, cpuCopy, cpuCopy, cpuSynchronize};

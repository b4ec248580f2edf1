// Device queries, memory and copies of the CUDA target (vsart_cuda_device_ops).
#include "Common.h"

#include <string>

namespace vsart::cuda {

vsart_status_t check(cudaError_t err, const char *what, vsart_status_t status) {
  if (err == cudaSuccess)
    return VSART_OK;
  return fail(status, std::string(what) + ": " + cudaGetErrorName(err) + " (" +
                          cudaGetErrorString(err) + ")");
}

vsart_status_t checkLaunch(const char *what) {
  return check(cudaGetLastError(), what);
}

unsigned alignmentBytes(const void *ptr, int64_t ld, int64_t stride) {
  const uint64_t bits = reinterpret_cast<uintptr_t>(ptr) |
                        static_cast<uint64_t>(ld) * 2 |
                        static_cast<uint64_t>(stride) * 2 | 16;
  return static_cast<unsigned>(bits & (~bits + 1)); // lowest set bit
}

} // namespace vsart::cuda

using vsart::cuda::check;
using vsart::cuda::toStream;

extern "C" int vsart_cuda_available(void) {
  static const int available = [] {
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess && n > 0 ? 1 : 0;
  }();
  return available;
}

extern "C" const char *vsart_cuda_device_name(void) {
  static const std::string name = [] {
    cudaDeviceProp prop;
    if (!vsart_cuda_available() ||
        cudaGetDeviceProperties(&prop, 0) != cudaSuccess)
      return std::string();
    return std::string(prop.name);
  }();
  return name.c_str();
}

extern "C" vsart_status_t vsart_cuda_malloc(size_t bytes, void **out) {
  if (!out)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_malloc: null out");
  *out = nullptr;
  if (bytes == 0)
    return vsart::ok();
  // cudaMalloc returns 256-byte aligned memory.
  if (vsart_status_t st = check(cudaMalloc(out, bytes), "cudaMalloc",
                                VSART_ERROR_OUT_OF_MEMORY)) {
    *out = nullptr;
    return st;
  }
  return vsart::ok();
}

extern "C" void vsart_cuda_free(void *ptr) {
  if (ptr)
    cudaFree(ptr);
}

namespace {
/// Copies on `stream`, then waits so the host buffer may be reused at once.
vsart_status_t copy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                    void *stream, const char *what) {
  if (bytes == 0)
    return vsart::ok();
  if (!dst || !src)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       std::string(what) + ": null pointer");
  if (vsart_status_t st =
          check(cudaMemcpyAsync(dst, src, bytes, kind, toStream(stream)), what))
    return st;
  if (vsart_status_t st = check(cudaStreamSynchronize(toStream(stream)), what))
    return st;
  return vsart::ok();
}
} // namespace

extern "C" vsart_status_t vsart_cuda_upload(void *dst, const void *src,
                                            size_t bytes, void *stream) {
  return copy(dst, src, bytes, cudaMemcpyHostToDevice, stream, "cuda_upload");
}

extern "C" vsart_status_t vsart_cuda_download(void *dst, const void *src,
                                              size_t bytes, void *stream) {
  return copy(dst, src, bytes, cudaMemcpyDeviceToHost, stream, "cuda_download");
}

extern "C" vsart_status_t vsart_cuda_synchronize(void *stream) {
  if (vsart_status_t st = check(cudaStreamSynchronize(toStream(stream)),
                                "cuda_synchronize"))
    return st;
  return vsart::ok();
}

extern "C" const vsart_device_ops_t vsart_cuda_device_ops = {
    "cuda",           vsart_cuda_malloc,   vsart_cuda_free,
    vsart_cuda_upload, vsart_cuda_download, vsart_cuda_synchronize,
};

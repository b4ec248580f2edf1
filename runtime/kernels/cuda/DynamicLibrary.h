// Optional libraries the CUDA runtime loads at run time and never links
// (cuDNN, NCCL): dlopen of the first name that loads, and typed dlsym.
#ifndef VSART_CUDA_DYNAMICLIBRARY_H
#define VSART_CUDA_DYNAMICLIBRARY_H

#include <dlfcn.h>

#include <initializer_list>
#include <string>

namespace vsart::cuda {

/// The handle of the first of `names` that loads; otherwise nullptr with
/// `error` = "cannot load WHAT (each dlerror)".
inline void *openLibrary(std::initializer_list<const char *> names,
                         const char *what, std::string &error) {
  std::string tried;
  for (const char *name : names) {
    if (void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))
      return lib;
    const char *why = dlerror();
    tried += std::string(tried.empty() ? "" : "; ") + (why ? why : name);
  }
  error = std::string("cannot load ") + what + " (" + tried + ")";
  return nullptr;
}

/// fn = symbol `name` of `lib`; false when it is missing.
template <class F> bool bindSymbol(void *lib, const char *name, F &fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

} // namespace vsart::cuda

#endif // VSART_CUDA_DYNAMICLIBRARY_H

// .vsab module loading: map the file, always verify the flatbuffer, then
// check every tensor against the weights region.
#include "Internal.h"
#include "vsab_generated.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <new>
#include <string_view>
#include <unordered_map>

struct vsart_module {
  const uint8_t *base = nullptr;
  size_t size = 0;
  const vsa::vsab::Module *root = nullptr;
  const uint8_t *weights = nullptr;
  std::unordered_map<std::string_view, uint32_t> byName;
  ~vsart_module() {
    if (base)
      munmap(const_cast<uint8_t *>(base), size);
  }
};

namespace {
using vsart::fail;

vsart_status_t bad(const std::string &path, const std::string &why) {
  return fail(VSART_ERROR_INVALID_FORMAT, path + ": " + why);
}

vsart_status_t checkModule(vsart_module &m, const std::string &path) {
  if (m.size < 8 ||
      !flatbuffers::BufferHasIdentifier(m.base, vsa::vsab::ModuleIdentifier()))
    return bad(path, "missing \"VSAB\" file identifier");
  // Offsets inside a flatbuffer are 32-bit, so it lies in the first 2 GiB;
  // verify that prefix (weights may make the file much larger).
  const size_t maxFb = FLATBUFFERS_MAX_BUFFER_SIZE - 1;
  {
    flatbuffers::Verifier verifier(m.base, std::min(m.size, maxFb));
    if (!vsa::vsab::VerifyModuleBuffer(verifier))
      return bad(path, "flatbuffer verification failed");
  }
  const vsa::vsab::Module *root = vsa::vsab::GetModule(m.base);
  if (root->format_version() != VSART_VSAB_FORMAT_VERSION)
    return fail(VSART_ERROR_UNSUPPORTED_VERSION,
                path + ": format version " +
                    std::to_string(root->format_version()) + ", expected " +
                    std::to_string(VSART_VSAB_FORMAT_VERSION));
  const uint64_t woff = root->weights_offset(), wsize = root->weights_size();
  if (woff % 64 != 0 || woff > m.size || wsize > m.size - woff)
    return bad(path, "weights region [" + std::to_string(woff) + ", +" +
                         std::to_string(wsize) + ") outside the file of " +
                         std::to_string(m.size) + " bytes or misaligned");
  {
    // The flatbuffer itself must end before the weights region.
    flatbuffers::Verifier verifier(m.base, std::min<size_t>(woff, maxFb));
    if (!vsa::vsab::VerifyModuleBuffer(verifier))
      return bad(path, "flatbuffer overlaps the weights region");
  }
  if (const auto *tensors = root->tensors()) {
    if (tensors->size() > std::numeric_limits<uint32_t>::max() / 2)
      return bad(path, "too many tensors");
    for (uint32_t i = 0; i < tensors->size(); ++i) {
      const vsa::vsab::Tensor *t = tensors->Get(i);
      const std::string name = t->name()->str();
      const std::string what = path + ": tensor '" + name + "': ";
      if (name.empty() || name.find('\0') != std::string::npos)
        return fail(VSART_ERROR_INVALID_FORMAT, what + "empty name or NUL");
      int dt = static_cast<int>(t->dtype());
      if (dt < 0 || dt > static_cast<int>(VSART_DTYPE_BOOL))
        return fail(VSART_ERROR_INVALID_FORMAT, what + "unknown dtype");
      size_t esize = vsart_dtype_size(static_cast<vsart_dtype_t>(dt));
      uint32_t rank = t->shape() ? t->shape()->size() : 0;
      if (rank > VSART_MAX_RANK)
        return fail(VSART_ERROR_INVALID_FORMAT, what + "rank above 8");
      // The verifier only checks the 4-byte length prefix's alignment.
      if (rank > 0 &&
          reinterpret_cast<uintptr_t>(t->shape()->data()) % alignof(int64_t))
        return fail(VSART_ERROR_INVALID_FORMAT, what + "misaligned shape");
      uint64_t elems = 1;
      for (uint32_t d = 0; d < rank; ++d) {
        int64_t dim = t->shape()->Get(d);
        if (dim < 0)
          return fail(VSART_ERROR_INVALID_FORMAT, what + "negative dim");
        if (dim != 0 && elems > (uint64_t(1) << 62) / esize / uint64_t(dim))
          return fail(VSART_ERROR_INVALID_FORMAT, what + "shape too large");
        elems *= uint64_t(dim);
      }
      if (t->size() != elems * esize)
        return fail(VSART_ERROR_INVALID_FORMAT,
                    what + "size " + std::to_string(t->size()) +
                        " != dtype x shape = " + std::to_string(elems * esize));
      if (t->offset() % 64 != 0)
        return fail(VSART_ERROR_INVALID_FORMAT,
                    what + "offset not 64-byte aligned");
      if (t->offset() > wsize || t->size() > wsize - t->offset())
        return fail(VSART_ERROR_INVALID_FORMAT,
                    what + "data [" + std::to_string(t->offset()) + ", +" +
                        std::to_string(t->size()) +
                        ") outside the weights region");
      if (!m.byName.emplace(t->name()->string_view(), i).second)
        return fail(VSART_ERROR_INVALID_FORMAT, what + "duplicate name");
    }
  }
  if (const auto *configs = root->attention_configs())
    for (const auto *c : *configs)
      if (c->params())
        for (const auto *kv : *c->params())
          if (!kv->value())
            return bad(path, "attention parameter '" + kv->key()->str() +
                                 "' has no value");
  if (!root->geometry())
    return bad(path, "missing model geometry");
  m.root = root;
  m.weights = m.base + woff;
  return VSART_OK;
}

void fillView(const vsart_module *m, uint32_t i, vsart_tensor_view_t *out) {
  const vsa::vsab::Tensor *t = m->root->tensors()->Get(i);
  out->name = t->name()->c_str();
  out->dtype = static_cast<vsart_dtype_t>(t->dtype());
  out->rank = t->shape() ? static_cast<int32_t>(t->shape()->size()) : 0;
  for (int32_t d = 0; d < VSART_MAX_RANK; ++d)
    out->dims[d] = d < out->rank ? t->shape()->Get(d) : 1;
  out->data = m->weights + t->offset();
  out->size_bytes = static_cast<size_t>(t->size());
}
} // namespace

extern "C" vsart_status_t vsart_module_open(const char *path,
                                            vsart_module_t *out) {
  if (!path || !out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "module_open: null argument");
  *out = nullptr;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(VSART_ERROR_IO,
                std::string(path) + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(VSART_ERROR_IO, std::string(path) + ": not a regular file");
  }
  auto *m = new (std::nothrow) vsart_module;
  if (!m) {
    ::close(fd);
    return fail(VSART_ERROR_OUT_OF_MEMORY, "module_open: out of memory");
  }
  m->size = static_cast<size_t>(st.st_size);
  if (m->size > 0) {
    void *p = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      delete m;
      return fail(VSART_ERROR_IO,
                  std::string(path) + ": mmap: " + std::strerror(err));
    }
    m->base = static_cast<const uint8_t *>(p);
  }
  ::close(fd);
  if (vsart_status_t status = checkModule(*m, path)) {
    delete m;
    return status;
  }
  *out = m;
  return vsart::ok();
}

extern "C" void vsart_module_close(vsart_module_t m) { delete m; }

extern "C" uint32_t vsart_module_format_version(vsart_module_t m) {
  return m ? m->root->format_version() : 0;
}

extern "C" vsart_status_t vsart_module_geometry(vsart_module_t m,
                                                vsart_geometry_t *out) {
  if (!m || !out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "module_geometry: null argument");
  const vsa::vsab::Geometry *g = m->root->geometry();
  *out = {g->latent_t(), g->latent_h(), g->latent_w(),
          g->patch_t(),  g->patch_h(),  g->patch_w()};
  return vsart::ok();
}

extern "C" int64_t vsart_module_num_tensors(vsart_module_t m) {
  return m && m->root->tensors() ? m->root->tensors()->size() : 0;
}

extern "C" vsart_status_t vsart_module_tensor_at(vsart_module_t m,
                                                 int64_t index,
                                                 vsart_tensor_view_t *out) {
  if (!m || !out || index < 0 || index >= vsart_module_num_tensors(m))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "module_tensor_at: bad argument");
  fillView(m, static_cast<uint32_t>(index), out);
  return vsart::ok();
}

extern "C" vsart_status_t vsart_module_find_tensor(vsart_module_t m,
                                                   const char *name,
                                                   vsart_tensor_view_t *out) {
  if (!m || !name || !out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "module_find_tensor: null arg");
  auto it = m->byName.find(std::string_view(name));
  if (it == m->byName.end())
    return fail(VSART_ERROR_NOT_FOUND,
                std::string("no tensor named '") + name + "'");
  fillView(m, it->second, out);
  return vsart::ok();
}

extern "C" int64_t vsart_module_num_attention_configs(vsart_module_t m) {
  return m && m->root->attention_configs() ? m->root->attention_configs()->size()
                                           : 0;
}

extern "C" vsart_status_t
vsart_module_attention_config(vsart_module_t m, int64_t index,
                              const char **pattern, int64_t *num_params) {
  if (!m || index < 0 || index >= vsart_module_num_attention_configs(m))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "attention_config: bad index");
  const auto *c = m->root->attention_configs()->Get(uint32_t(index));
  if (pattern)
    *pattern = c->pattern()->c_str();
  if (num_params)
    *num_params = c->params() ? c->params()->size() : 0;
  return vsart::ok();
}

extern "C" vsart_status_t
vsart_module_attention_param(vsart_module_t m, int64_t index, int64_t param,
                             const char **key, const char **value) {
  int64_t n = 0;
  if (vsart_status_t st = vsart_module_attention_config(m, index, nullptr, &n))
    return st;
  if (param < 0 || param >= n)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "attention_param: bad index");
  const auto *kv = m->root->attention_configs()
                       ->Get(uint32_t(index))
                       ->params()
                       ->Get(uint32_t(param));
  if (key)
    *key = kv->key()->c_str();
  if (value)
    *value = kv->value()->c_str();
  return vsart::ok();
}

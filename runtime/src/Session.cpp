// Sessions: the device memory of one model (arena, weights, inputs,
// outputs), weight binding from .vsab / safetensors / host data / random
// values, and forwards.
//
// Device ops are called with stream NULL and may be asynchronous: whenever a
// host buffer given to upload/download is about to be reused or released,
// the session calls synchronize(NULL) first.
#include "DTypes.h"
#include "Internal.h"
#include "Safetensors.h"
#include "../kernels/cpu/Quantize.h"
#include "vsart_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using vsart::fail;
constexpr size_t kAlign = 256;

// Tensors of one kind (inputs, outputs or weights) in one device block.
struct Group {
  void *block = nullptr;
  size_t blockBytes = 0;
  std::vector<void *> ptrs;  // device pointer of each tensor
  std::vector<size_t> bytes; // storage bytes of each tensor
  std::vector<char> ready;   // bound (weights) or set (inputs)
};

} // namespace

struct vsart_session {
  const vsart_model_t *model = nullptr;
  const vsart_device_ops_t *dev = nullptr;
  void *arena = nullptr;
  size_t arenaBytes = 0;
  Group inputs, outputs, weights;
  std::unordered_map<std::string, int32_t> weightIndex;
  void *state = nullptr;
  size_t stateBytes = 0;
  // This rank's communicator of each model group (ctx.groups); the split
  // ones are owned.
  std::vector<vsart_comm_t> groupComms;
  std::vector<vsart_comm_t> ownedComms;
  vsart_run_context_t context{vsart_attention_params_default(), nullptr,
                              nullptr, nullptr, 0};

  void releaseGroups() {
    for (vsart_comm_t c : ownedComms)
      vsart_comm_destroy(c);
    ownedComms.clear();
    groupComms.clear();
    context.groups = nullptr;
  }

  ~vsart_session() {
    releaseGroups();
    for (void *p : {arena, state, inputs.block, outputs.block, weights.block})
      if (p)
        dev->free(p);
  }
};

namespace {

// ---- descriptor validation ------------------------------------------------

bool knownDtype(vsart_dtype_t d) { return vsart_dtype_size(d) != 0; }

// `rowScaled`: the table may hold FP8 storage, F8E4M3_ROWS or F8E4M3_TENSOR
// (weights only).
vsart_status_t checkDesc(const vsart_tensor_desc_t &d, const std::string &what,
                         bool rowScaled) {
  if (!d.name || !*d.name)
    return fail(VSART_ERROR_INVALID_ARGUMENT, what + " has no name");
  const std::string id = what + " '" + d.name + "'";
  const bool f8 = vsart::isF8Storage(d.storage);
  if (!knownDtype(d.dtype) || !(knownDtype(d.storage) || f8))
    return fail(VSART_ERROR_INVALID_ARGUMENT, id + ": unknown dtype");
  // FP8 holds float weights of rank >= 1 (its scales are per row).
  if (f8 && (!rowScaled || !vsart::isFloatDtype(d.dtype) || d.rank < 1))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                id + ": storage " + vsart::dtypeName(d.storage) +
                    " is for float weights of rank >= 1");
  if (d.dtype != d.storage && !f8 &&
      !(vsart::isFloatDtype(d.dtype) && vsart::isFloatDtype(d.storage)))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                id + ": storage " + vsart::dtypeName(d.storage) +
                    " cannot hold " + vsart::dtypeName(d.dtype));
  if (d.rank < 0 || d.rank > VSART_MAX_RANK)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                id + ": rank " + std::to_string(d.rank));
  uint64_t bytes = f8 ? 4 : vsart_dtype_size(d.storage);
  for (int32_t i = 0; i < d.rank; ++i) {
    if (d.dims[i] < 0)
      return fail(VSART_ERROR_INVALID_ARGUMENT, id + ": negative dim");
    if (d.dims[i] != 0 && bytes > (uint64_t(1) << 60) / uint64_t(d.dims[i]))
      return fail(VSART_ERROR_INVALID_ARGUMENT, id + ": too large");
    bytes *= uint64_t(d.dims[i]);
  }
  return VSART_OK;
}

vsart_status_t checkDescs(const vsart_tensor_desc_t *descs, int32_t n,
                          const char *what, bool rowScaled = false) {
  if (n < 0 || (n > 0 && !descs))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string("model: bad ") + what + " table");
  std::unordered_map<std::string, int32_t> names;
  for (int32_t i = 0; i < n; ++i) {
    if (vsart_status_t st = checkDesc(descs[i], what, rowScaled))
      return st;
    if (!names.emplace(descs[i].name, i).second)
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  std::string("model: duplicate ") + what + " name '" +
                      descs[i].name + "'");
  }
  return VSART_OK;
}

// Every group tiles the world: size * stride divides num_ranks.
vsart_status_t checkGroups(const vsart_model_t *m) {
  if (m->num_groups < 0 || (m->num_groups > 0 && !m->groups))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "model: bad group table");
  const int64_t world = std::max(m->num_ranks, 1);
  for (int32_t i = 0; i < m->num_groups; ++i) {
    const vsart_comm_group_t &g = m->groups[i];
    if (g.size < 1 || g.stride < 1 || world % (int64_t(g.size) * g.stride))
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  "model: group " + std::to_string(i) + " (size " +
                      std::to_string(g.size) + ", stride " +
                      std::to_string(g.stride) + ") does not tile " +
                      std::to_string(world) + " ranks");
  }
  return VSART_OK;
}

vsart_status_t checkModel(const vsart_model_t *m) {
  if (!m)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "session_create: null model");
  if (m->abi_version != VSART_MODEL_ABI_VERSION)
    return fail(VSART_ERROR_UNSUPPORTED_VERSION,
                "model ABI version " + std::to_string(m->abi_version) +
                    ", this runtime implements " +
                    std::to_string(VSART_MODEL_ABI_VERSION));
  const vsart_device_ops_t *d = m->device;
  if (!d || !d->alloc || !d->free || !d->upload || !d->download ||
      !d->synchronize || !m->forward)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "model: missing device ops or forward function");
  if (m->arena_bytes > (uint64_t(1) << 60))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "model: arena too large");
  if (m->num_ranks < 0 || m->num_ranks > 1024)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "model: num_ranks " + std::to_string(m->num_ranks) +
                    " not in [0, 1024]");
  if (m->state_bytes > (uint64_t(1) << 60))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "model: state too large");
  if (vsart_status_t st = checkGroups(m))
    return st;
  vsart_status_t st = checkDescs(m->inputs, m->num_inputs, "input");
  if (!st)
    st = checkDescs(m->outputs, m->num_outputs, "output");
  if (!st)
    st = checkDescs(m->weights, m->num_weights, "weight", /*rowScaled=*/true);
  return st;
}

// ---- allocation -------------------------------------------------------------

// Device ops are expected to set vsart_last_error(); supply a message when
// one did not.
vsart_status_t devCheck(vsart_status_t st, const char *what) {
  if (st && !*vsart_last_error())
    return fail(st, std::string("device ") + what +
                        " failed: " + vsart_status_message(st));
  return st;
}

size_t storageBytes(const vsart_tensor_desc_t &d) {
  return vsart_storage_bytes(d.storage, d.rank, d.dims);
}

size_t roundUp(size_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

// One block for all tensors of a group, each at a 256-byte aligned offset;
// never a zero-byte request, so every pointer is valid and non-null.
vsart_status_t allocGroup(const vsart_device_ops_t *dev,
                          const vsart_tensor_desc_t *descs, int32_t n,
                          Group *g) {
  size_t total = 0;
  for (int32_t i = 0; i < n; ++i) {
    g->bytes.push_back(storageBytes(descs[i]));
    total += roundUp(g->bytes.back());
    if (total > (size_t(1) << 62)) // each tensor is <= 2^60: no wrap-around
      return fail(VSART_ERROR_OUT_OF_MEMORY, "model: tensors too large");
  }
  g->blockBytes = std::max(total, kAlign);
  if (vsart_status_t st = dev->alloc(g->blockBytes, &g->block)) {
    g->block = nullptr;
    return devCheck(st, "alloc");
  }
  size_t offset = 0;
  for (int32_t i = 0; i < n; ++i) {
    g->ptrs.push_back(static_cast<uint8_t *>(g->block) + offset);
    offset += roundUp(g->bytes[size_t(i)]);
  }
  g->ready.assign(size_t(n), 0);
  return VSART_OK;
}

// Zeroes the persistent state through bounded uploads of zeros.
vsart_status_t zeroState(vsart_session *s) {
  static const std::vector<uint8_t> zeros(size_t(1) << 20, 0);
  for (size_t done = 0; done < s->stateBytes; done += zeros.size()) {
    size_t n = std::min(zeros.size(), s->stateBytes - done);
    if (vsart_status_t st = s->dev->upload(static_cast<uint8_t *>(s->state) +
                                               done,
                                           zeros.data(), n, nullptr))
      return devCheck(st, "upload");
  }
  if (vsart_status_t st = s->dev->synchronize(nullptr))
    return devCheck(st, "synchronize");
  s->context.state = s->state;
  s->context.state_calls = 0;
  return VSART_OK;
}

vsart_status_t allocAll(vsart_session *s) {
  const vsart_model_t *m = s->model;
  s->arenaBytes = std::max<size_t>(size_t(m->arena_bytes), kAlign);
  if (vsart_status_t st = s->dev->alloc(s->arenaBytes, &s->arena)) {
    s->arena = nullptr;
    return devCheck(st, "alloc");
  }
  vsart_status_t st = VSART_OK;
  if (m->state_bytes) {
    s->stateBytes = size_t(m->state_bytes);
    if ((st = s->dev->alloc(s->stateBytes, &s->state))) {
      s->state = nullptr;
      return devCheck(st, "alloc");
    }
    if ((st = zeroState(s)))
      return st;
  }
  st = allocGroup(s->dev, m->inputs, m->num_inputs, &s->inputs);
  if (!st)
    st = allocGroup(s->dev, m->outputs, m->num_outputs, &s->outputs);
  if (!st)
    st = allocGroup(s->dev, m->weights, m->num_weights, &s->weights);
  return st;
}

// ---- host <-> device with conversion
// -----------------------------------------

constexpr size_t kChunkElems = size_t(1) << 20;

// `count` host elements of float dtype `srcType` as floats: src itself when
// it is aligned fp32, else converted into `values`.
const float *hostFloats(const void *src, vsart_dtype_t srcType, size_t count,
                        std::vector<float> &values) {
  if (srcType == VSART_DTYPE_F32 &&
      reinterpret_cast<uintptr_t>(src) % alignof(float) == 0)
    return static_cast<const float *>(src);
  values.resize(count);
  for (size_t i = 0; i < count; ++i)
    values[i] = vsart::loadFloat(srcType, src, i);
  return values.data();
}

// Quantizes host float rows (the weight's last dim) to FP8 `storage`
// (F8E4M3_ROWS or F8E4M3_TENSOR) on the host and uploads it.
vsart_status_t uploadF8(const vsart_device_ops_t *dev, void *dst,
                        vsart_dtype_t storage, const void *src,
                        vsart_dtype_t srcType, size_t count, int64_t cols) {
  const size_t rows = cols > 0 ? count / size_t(cols) : 0;
  const int64_t dims[2] = {int64_t(rows), cols};
  std::vector<uint8_t> staged(vsart_storage_bytes(storage, 2, dims));
  std::vector<float> values;
  const float *x = hostFloats(src, srcType, count, values);
  if (storage == VSART_DTYPE_F8E4M3_TENSOR)
    vsart::cpu::quantizeTensor(x, int64_t(rows), cols, staged.data());
  else if (vsart_status_t st = vsart_cpu_quantize_rows(
               x, int64_t(rows), cols, cols, staged.data(),
               reinterpret_cast<float *>(
                   staged.data() +
                   vsart_f8_rows_scales_offset(int64_t(count)))))
    return st;
  if (vsart_status_t st = dev->upload(dst, staged.data(), staged.size(), nullptr))
    return devCheck(st, "upload");
  return devCheck(dev->synchronize(nullptr), "synchronize");
}

// Copies `count` elements of host dtype `srcType` to device memory of
// `dstType` (equal, or both float types), converting through a bounded
// staging buffer.
vsart_status_t upload(const vsart_device_ops_t *dev, void *dst,
                      vsart_dtype_t dstType, const void *src,
                      vsart_dtype_t srcType, size_t count) {
  const size_t dsize = vsart_dtype_size(dstType);
  if (srcType == dstType) {
    if (vsart_status_t st = dev->upload(dst, src, count * dsize, nullptr))
      return devCheck(st, "upload");
    return devCheck(dev->synchronize(nullptr), "synchronize");
  }
  std::vector<uint8_t> staging(std::min(count, kChunkElems) * dsize);
  for (size_t i = 0; i < count; i += kChunkElems) {
    const size_t n = std::min(kChunkElems, count - i);
    for (size_t j = 0; j < n; ++j)
      vsart::storeFloat(dstType, staging.data(), j,
                        vsart::loadFloat(srcType, src, i + j));
    if (vsart_status_t st = dev->upload(static_cast<uint8_t *>(dst) + i * dsize,
                                        staging.data(), n * dsize, nullptr))
      return devCheck(st, "upload");
    if (vsart_status_t st = dev->synchronize(nullptr))
      return devCheck(st, "synchronize");
  }
  return VSART_OK;
}

// The reverse of upload: device `srcType` to host `dstType`.
vsart_status_t download(const vsart_device_ops_t *dev, void *dst,
                        vsart_dtype_t dstType, const void *src,
                        vsart_dtype_t srcType, size_t count) {
  const size_t ssize = vsart_dtype_size(srcType);
  if (srcType == dstType) {
    if (vsart_status_t st = dev->download(dst, src, count * ssize, nullptr))
      return devCheck(st, "download");
    return devCheck(dev->synchronize(nullptr), "synchronize");
  }
  std::vector<uint8_t> staging(std::min(count, kChunkElems) * ssize);
  for (size_t i = 0; i < count; i += kChunkElems) {
    const size_t n = std::min(kChunkElems, count - i);
    const auto *from = static_cast<const uint8_t *>(src) + i * ssize;
    if (vsart_status_t st =
            dev->download(staging.data(), from, n * ssize, nullptr))
      return devCheck(st, "download");
    if (vsart_status_t st = dev->synchronize(nullptr))
      return devCheck(st, "synchronize");
    for (size_t j = 0; j < n; ++j)
      vsart::storeFloat(dstType, dst, i + j,
                        vsart::loadFloat(srcType, staging.data(), j));
  }
  return VSART_OK;
}

// ---- weight binding
// -----------------------------------------------------------

std::string describe(vsart_dtype_t dtype, int32_t rank, const int64_t *dims) {
  return std::string(vsart::dtypeName(dtype)) + " " +
         vsart::shapeString(rank, dims);
}

bool sameShape(const vsart_tensor_desc_t &d, int32_t rank,
               const int64_t *dims) {
  if (rank != d.rank)
    return false;
  for (int32_t i = 0; i < rank; ++i)
    if (dims[i] != d.dims[i])
      return false;
  return true;
}

// Converts host data (`count` elements of `dtype`, checked) into weight
// `index`'s storage on the device and marks it bound.
vsart_status_t storeWeight(vsart_session *s, int32_t index, const void *data,
                           vsart_dtype_t dtype, size_t count) {
  const vsart_tensor_desc_t &d = s->model->weights[index];
  void *dst = s->weights.ptrs[size_t(index)];
  vsart_status_t st =
      vsart::isF8Storage(d.storage)
          ? uploadF8(s->dev, dst, d.storage, data, dtype, count,
                     d.dims[d.rank - 1])
          : upload(s->dev, dst, d.storage, data, dtype, count);
  if (!st)
    s->weights.ready[size_t(index)] = 1;
  return st;
}

// Binds weight `index` from host data; `where` prefixes messages (a file).
vsart_status_t bindHost(vsart_session *s, int32_t index, vsart_dtype_t dtype,
                        int32_t rank, const int64_t *dims, const void *data,
                        const std::string &where) {
  const vsart_tensor_desc_t &d = s->model->weights[index];
  const std::string id = where + "weight '" + d.name + "'";
  if (rank < 0 || rank > VSART_MAX_RANK || (rank > 0 && !dims))
    return fail(VSART_ERROR_INVALID_ARGUMENT, id + ": bad rank");
  const bool convertible = dtype == d.dtype || (vsart::isFloatDtype(dtype) &&
                                                vsart::isFloatDtype(d.dtype));
  if (!knownDtype(dtype) || !convertible || !sameShape(d, rank, dims))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                id + ": given " + describe(dtype, rank, dims) +
                    ", the model expects " + describe(d.dtype, d.rank, d.dims));
  const size_t count = size_t(vsart::numElements(d.rank, d.dims));
  if (count > 0 && !data)
    return fail(VSART_ERROR_INVALID_ARGUMENT, id + ": null data");
  return storeWeight(s, index, data, dtype, count);
}

int32_t findWeight(const vsart_session *s, const std::string &name) {
  auto it = s->weightIndex.find(name);
  return it == s->weightIndex.end() ? -1 : it->second;
}

vsart_status_t bindTensorView(vsart_session *s, const vsart_tensor_view_t &v,
                              const std::string &path) {
  const int32_t index = findWeight(s, v.name);
  if (index < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                path + ": tensor '" + v.name + "' is not a weight of model '" +
                    (s->model->name ? s->model->name : "") + "'");
  const vsart_tensor_desc_t &d = s->model->weights[index];
  // A .vsab is written for this model: its dtype must be the logical one.
  if (v.dtype != d.dtype || !sameShape(d, v.rank, v.dims))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                path + ": tensor '" + v.name + "' is " +
                    describe(v.dtype, v.rank, v.dims) + ", the model expects " +
                    describe(d.dtype, d.rank, d.dims));
  return bindHost(s, index, v.dtype, v.rank, v.dims, v.data, path + ": ");
}

vsart_status_t bindVsab(vsart_session *s, const char *path) {
  vsart_module_t module = nullptr;
  if (vsart_status_t st = vsart_module_open(path, &module))
    return st;
  vsart_status_t st = VSART_OK;
  const int64_t n = vsart_module_num_tensors(module);
  for (int64_t i = 0; i < n && !st; ++i) {
    vsart_tensor_view_t view;
    st = vsart_module_tensor_at(module, i, &view);
    if (!st)
      st = bindTensorView(s, view, path);
  }
  vsart_module_close(module);
  return st;
}

// Names of the unbound weights ("a, b and 3 more"); the count in *n.
std::string unboundNames(const vsart_session *s, int64_t *n) {
  std::string names;
  int64_t count = 0;
  for (int32_t i = 0; i < s->model->num_weights; ++i) {
    if (s->weights.ready[size_t(i)])
      continue;
    if (++count <= 8)
      names += std::string(count > 1 ? ", " : "") + s->model->weights[i].name;
  }
  if (count > 8)
    names += " and " + std::to_string(count - 8) + " more";
  *n = count;
  return names;
}

// ---- random weights ---------------------------------------------------------

uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; ++s)
    h = (h ^ uint8_t(*s)) * 0x100000001b3ull;
  return h;
}

// Each weight draws from its own stream (seed mixed with its name), so its
// values do not depend on which other weights were bound or their order.
vsart_status_t randomizeWeight(vsart_session *s, int32_t index, uint64_t seed) {
  const vsart_tensor_desc_t &d = s->model->weights[index];
  uint64_t state = seed ^ fnv1a(d.name);
  float bound = 0.5f;
  if (d.rank >= 2) {
    int64_t fanIn = vsart::numElements(d.rank - 1, d.dims + 1);
    bound = 1.0f / std::sqrt(float(std::max<int64_t>(fanIn, 1)));
  }
  // Whole, like a bound tensor: FP8 storage scales whole rows or tensors.
  std::vector<float> values(size_t(vsart::numElements(d.rank, d.dims)));
  for (float &v : values) {
    float u = float(splitmix64(&state) >> 40) * 0x1p-24f; // [0, 1)
    v = (2.0f * u - 1.0f) * bound;
  }
  return storeWeight(s, index, values.data(), VSART_DTYPE_F32, values.size());
}

vsart_status_t checkIndex(vsart_session *s, int32_t index, int32_t n,
                          const char *what) {
  if (!s)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": null session");
  if (index < 0 || index >= n)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string(what) + ": index " + std::to_string(index) +
                    " out of range [0, " + std::to_string(n) + ")");
  return VSART_OK;
}

} // namespace

// ---- C API ------------------------------------------------------------------

extern "C" vsart_status_t vsart_session_create(const vsart_model_t *model,
                                               const char *vsab_path,
                                               vsart_session_t *out) {
  if (!out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "session_create: null out");
  *out = nullptr;
  if (vsart_status_t st = checkModel(model))
    return st;
  auto *s = new (std::nothrow) vsart_session;
  if (!s)
    return fail(VSART_ERROR_OUT_OF_MEMORY, "session_create: out of memory");
  s->model = model;
  s->dev = model->device;
  for (int32_t i = 0; i < model->num_weights; ++i)
    s->weightIndex.emplace(model->weights[i].name, i);
  vsart_status_t st = allocAll(s);
  if (!st && vsab_path)
    st = bindVsab(s, vsab_path);
  if (st) {
    delete s;
    return st;
  }
  *out = s;
  return vsart::ok();
}

extern "C" void vsart_session_destroy(vsart_session_t session) {
  delete session;
}

extern "C" vsart_status_t
vsart_session_bind_weight(vsart_session_t s, const char *name,
                          vsart_dtype_t dtype, int32_t rank,
                          const int64_t *dims, const void *data) {
  if (!s || !name)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "bind_weight: null argument");
  const int32_t index = findWeight(s, name);
  if (index < 0)
    return fail(VSART_ERROR_NOT_FOUND,
                std::string("bind_weight: the model has no weight '") + name +
                    "'");
  if (vsart_status_t st = bindHost(s, index, dtype, rank, dims, data, ""))
    return st;
  return vsart::ok();
}

extern "C" vsart_status_t vsart_session_load_safetensors(vsart_session_t s,
                                                         const char *path) {
  if (!s || !path)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "load_safetensors: null argument");
  vsart::SafetensorsFile file;
  if (vsart_status_t st = file.open(path))
    return st;
  const std::string where = std::string(path) + ": ";
  for (const vsart::SafetensorsEntry &e : file.entries()) {
    const int32_t index = findWeight(s, e.name);
    if (index < 0)
      continue; // checkpoints often hold more than one model uses
    if (!e.known)
      return fail(VSART_ERROR_INVALID_ARGUMENT, where + "weight '" + e.name +
                                                    "' has unsupported dtype " +
                                                    e.dtype);
    if (vsart_status_t st =
            bindHost(s, index, e.vsartDtype, int32_t(e.shape.size()),
                     e.shape.data(), file.data(e), where))
      return st;
  }
  return vsart::ok();
}

extern "C" vsart_status_t vsart_session_randomize_weights(vsart_session_t s,
                                                          uint64_t seed) {
  if (!s)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "randomize_weights: null session");
  for (int32_t i = 0; i < s->model->num_weights; ++i) {
    // Integer weights are index tables: random values would be meaningless
    // (or out of range), so they stay unbound.
    if (s->weights.ready[size_t(i)] ||
        !vsart::isFloatDtype(s->model->weights[i].dtype))
      continue;
    if (vsart_status_t st = randomizeWeight(s, i, seed))
      return st;
  }
  return vsart::ok();
}

extern "C" int64_t vsart_session_num_unbound(vsart_session_t s) {
  if (!s) {
    fail(VSART_ERROR_INVALID_ARGUMENT, "num_unbound: null session");
    return -1;
  }
  int64_t n = 0;
  std::string names = unboundNames(s, &n);
  if (n == 0)
    vsart::ok();
  else
    fail(VSART_ERROR_NOT_FOUND, "unbound weights: " + names);
  return n;
}

extern "C" vsart_status_t vsart_session_set_input(vsart_session_t s,
                                                  int32_t index,
                                                  const void *host_data) {
  const int32_t n = s ? s->model->num_inputs : 0;
  if (vsart_status_t st = checkIndex(s, index, n, "set_input"))
    return st;
  const vsart_tensor_desc_t &d = s->model->inputs[index];
  const size_t count = size_t(vsart::numElements(d.rank, d.dims));
  if (count > 0 && !host_data)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "set_input: null data");
  if (vsart_status_t st = upload(s->dev, s->inputs.ptrs[size_t(index)],
                                 d.storage, host_data, d.dtype, count))
    return st;
  s->inputs.ready[size_t(index)] = 1;
  return vsart::ok();
}

extern "C" vsart_status_t vsart_session_forward(vsart_session_t s) {
  if (!s)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "forward: null session");
  const vsart_model_t *m = s->model;
  int64_t unbound = 0;
  std::string names = unboundNames(s, &unbound);
  if (unbound)
    return fail(VSART_ERROR_NOT_FOUND, "forward: " + std::to_string(unbound) +
                                           " weight(s) not bound: " + names);
  for (int32_t i = 0; i < m->num_inputs; ++i)
    if (!s->inputs.ready[size_t(i)])
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  std::string("forward: input '") + m->inputs[i].name +
                      "' was never set");
  if (m->num_ranks > 1 && !s->context.comm)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string("model '") + (m->name ? m->name : "") +
                    "' needs " + std::to_string(m->num_ranks) +
                    " ranks; run with --ranks " +
                    std::to_string(m->num_ranks) +
                    " / give a communicator (vsart_session_set_comm)");
  if (s->context.comm &&
      vsart_comm_size(s->context.comm) != std::max(m->num_ranks, 1))
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                std::string("forward: model '") + (m->name ? m->name : "") +
                    "' was compiled for " +
                    std::to_string(std::max(m->num_ranks, 1)) +
                    " ranks but the communicator has " +
                    std::to_string(vsart_comm_size(s->context.comm)));
  if (s->context.comm && m->num_groups > 0 && !s->context.groups)
    return fail(VSART_ERROR_COMM, "forward: the communicator's groups were "
                                  "not split (vsart_session_set_comm failed)");
  vsart::ok();
  vsart_status_t st =
      m->forward(s->inputs.ptrs.data(), s->outputs.ptrs.data(),
                 s->weights.ptrs.data(), s->arena, nullptr, &s->context);
  ++s->context.state_calls;
  if (st) {
    if (!*vsart_last_error())
      fail(st, std::string("forward of model '") + (m->name ? m->name : "") +
                   "' failed: " + vsart_status_message(st));
    return st;
  }
  // NCCL: a missing rank must time out here, not hang the device sync.
  if (s->context.comm &&
      (st = vsart_comm_synchronize(s->context.comm, nullptr)))
    return st;
  if ((st = s->dev->synchronize(nullptr)))
    return devCheck(st, "synchronize after forward");
  return vsart::ok();
}

extern "C" vsart_status_t
vsart_session_get_output(vsart_session_t s, int32_t index, void *host_data) {
  const int32_t n = s ? s->model->num_outputs : 0;
  if (vsart_status_t st = checkIndex(s, index, n, "get_output"))
    return st;
  const vsart_tensor_desc_t &d = s->model->outputs[index];
  const size_t count = size_t(vsart::numElements(d.rank, d.dims));
  if (count > 0 && !host_data)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "get_output: null data");
  if (vsart_status_t st =
          download(s->dev, host_data, d.dtype, s->outputs.ptrs[size_t(index)],
                   d.storage, count))
    return st;
  return vsart::ok();
}

extern "C" vsart_status_t vsart_session_set_attention_param(vsart_session_t s,
                                                            const char *key,
                                                            const char *value) {
  if (!s)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "set_attention_param: null session");
  return vsart_attention_params_set(&s->context.attention, key, value);
}

extern "C" vsart_status_t vsart_session_set_comm(vsart_session_t s,
                                                 vsart_comm_t comm) {
  if (!s)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "set_comm: null session");
  s->releaseGroups();
  s->context.comm = comm;
  const vsart_model_t *m = s->model;
  // A communicator of the wrong size is reported by forward.
  if (!comm || m->num_groups == 0 ||
      vsart_comm_size(comm) != std::max(m->num_ranks, 1))
    return vsart::ok();
  const int32_t world = vsart_comm_size(comm), w = vsart_comm_rank(comm);
  for (int32_t i = 0; i < m->num_groups; ++i) {
    const vsart_comm_group_t &g = m->groups[i];
    if (g.size == world && g.stride == 1) {
      s->groupComms.push_back(comm);
      continue;
    }
    int32_t color = w % g.stride + w / (g.stride * g.size) * g.stride;
    vsart_comm_t sub = nullptr;
    if (vsart_status_t st = vsart_comm_split(comm, color, w, &sub)) {
      s->releaseGroups();
      return st;
    }
    s->ownedComms.push_back(sub);
    s->groupComms.push_back(sub);
  }
  s->context.groups = s->groupComms.data();
  return vsart::ok();
}

extern "C" vsart_status_t vsart_session_reset_state(vsart_session_t s) {
  if (!s)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "reset_state: null session");
  if (s->state)
    if (vsart_status_t st = zeroState(s))
      return st;
  s->context.state_calls = 0;
  return vsart::ok();
}

extern "C" uint64_t vsart_session_device_bytes(vsart_session_t s) {
  if (!s)
    return 0;
  return s->arenaBytes + s->stateBytes + s->inputs.blockBytes + s->outputs.blockBytes +
         s->weights.blockBytes;
}

// Owning host tensors.
#include "DTypes.h"
#include "Internal.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

struct vsart_tensor {
  vsart_dtype_t dtype;
  int32_t rank;
  int64_t dims[VSART_MAX_RANK];
  int64_t numElements;
  size_t sizeBytes;
  void *data;
};

extern "C" size_t vsart_dtype_size(vsart_dtype_t dtype) {
  switch (dtype) {
  case VSART_DTYPE_F32:
  case VSART_DTYPE_I32:
    return 4;
  case VSART_DTYPE_F16:
  case VSART_DTYPE_BF16:
    return 2;
  case VSART_DTYPE_I64:
    return 8;
  case VSART_DTYPE_U8:
  case VSART_DTYPE_BOOL:
    return 1;
  case VSART_DTYPE_F8E4M3_ROWS: // storage only
  case VSART_DTYPE_F8E4M3_TENSOR:
    return 0;
  }
  return 0;
}

extern "C" size_t vsart_f8_rows_scales_offset(int64_t count) {
  return (size_t(count) + 15) / 16 * 16;
}

extern "C" size_t vsart_storage_bytes(vsart_dtype_t storage, int32_t rank,
                                      const int64_t *dims) {
  const int64_t count = vsart::numElements(rank, dims);
  if (!vsart::isF8Storage(storage))
    return size_t(count) * vsart_dtype_size(storage);
  const int64_t cols = rank > 0 ? dims[rank - 1] : 1;
  const int64_t rows = cols > 0 ? count / cols : 0;
  // F8E4M3_TENSOR adds the largest row norm after the row scales.
  const int64_t floats = rows + (storage == VSART_DTYPE_F8E4M3_TENSOR);
  return vsart_f8_rows_scales_offset(count) + size_t(floats) * sizeof(float);
}

extern "C" vsart_status_t vsart_tensor_create(vsart_dtype_t dtype, int32_t rank,
                                              const int64_t *dims,
                                              vsart_tensor_t *out) {
  using vsart::fail;
  if (!out)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "tensor_create: null out");
  *out = nullptr;
  size_t elemSize = vsart_dtype_size(dtype);
  if (elemSize == 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT, "tensor_create: unknown dtype");
  if (rank < 0 || rank > VSART_MAX_RANK || (rank > 0 && !dims))
    return fail(VSART_ERROR_INVALID_ARGUMENT, "tensor_create: bad rank");
  int64_t count = 1;
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return fail(VSART_ERROR_INVALID_ARGUMENT, "tensor_create: negative dim");
    if (dims[i] != 0 && count > std::numeric_limits<int64_t>::max() /
                                    static_cast<int64_t>(elemSize) / dims[i])
      return fail(VSART_ERROR_INVALID_ARGUMENT, "tensor_create: too large");
    count *= dims[i];
  }
  size_t bytes = static_cast<size_t>(count) * elemSize;
  size_t alloc = (bytes + 63) / 64 * 64;
  void *data = std::aligned_alloc(64, alloc ? alloc : 64);
  auto *t = new (std::nothrow) vsart_tensor;
  if (!data || !t) {
    std::free(data);
    delete t;
    return fail(VSART_ERROR_OUT_OF_MEMORY, "tensor_create: out of memory");
  }
  std::memset(data, 0, alloc ? alloc : 64);
  t->dtype = dtype;
  t->rank = rank;
  for (int32_t i = 0; i < VSART_MAX_RANK; ++i)
    t->dims[i] = i < rank ? dims[i] : 1;
  t->numElements = count;
  t->sizeBytes = bytes;
  t->data = data;
  *out = t;
  return vsart::ok();
}

extern "C" void vsart_tensor_destroy(vsart_tensor_t t) {
  if (!t)
    return;
  std::free(t->data);
  delete t;
}
extern "C" void *vsart_tensor_data(vsart_tensor_t t) {
  return t ? t->data : nullptr;
}
extern "C" vsart_dtype_t vsart_tensor_dtype(vsart_tensor_t t) {
  return t ? t->dtype : VSART_DTYPE_F32;
}
extern "C" int32_t vsart_tensor_rank(vsart_tensor_t t) {
  return t ? t->rank : -1;
}
extern "C" int64_t vsart_tensor_dim(vsart_tensor_t t, int32_t axis) {
  return t && axis >= 0 && axis < t->rank ? t->dims[axis] : -1;
}
extern "C" const int64_t *vsart_tensor_dims(vsart_tensor_t t) {
  return t ? t->dims : nullptr;
}
extern "C" int64_t vsart_tensor_num_elements(vsart_tensor_t t) {
  return t ? t->numElements : 0;
}
extern "C" size_t vsart_tensor_size_bytes(vsart_tensor_t t) {
  return t ? t->sizeBytes : 0;
}

// .npy files: reading (format versions 1.0, 2.0, 3.0; little-endian
// '<f4', '<f8', '<f2', '<i8', '<i4', '|i1', '|b1', '|u1'; C order) and writing
// (version 1.0, '<f4', '<i8', '|b1', '|u1'). Failures return a status and
// set vsart_last_error() to a message naming the file.
#ifndef VSART_SRC_NPY_H
#define VSART_SRC_NPY_H

#include "vsart.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vsart {
namespace npy {

struct Array {
  std::string descr;   // as written, e.g. "<f4"
  char kind = 0;       // 'f', 'i', 'b' or 'u'
  size_t itemSize = 0; // bytes per element
  std::vector<int64_t> shape;
  std::vector<uint8_t> data; // exactly numElements() * itemSize bytes
  int64_t numElements() const;
};

vsart_status_t read(const std::string &path, Array *out);
// Parses a whole .npy image held in memory; `what` names it in errors.
vsart_status_t parse(const uint8_t *bytes, size_t size, const std::string &what,
                     Array *out);

// Converts the array's elements into `count` elements of `dtype` at `dst`:
// floats to F32/F16/BF16, '<i8'/'<i4' to I64/I32 (range checked), '|b1' to
// BOOL (any nonzero byte is 1), '|u1'/'|b1' to U8. Other pairs fail.
vsart_status_t convert(const Array &array, vsart_dtype_t dtype, void *dst,
                       const std::string &what);

// Writes `data` (dtype elements, C order): F32/F16/BF16 as '<f4', I64/I32 as
// '<i8', BOOL as '|b1', U8 as '|u1'.
vsart_status_t write(const std::string &path, vsart_dtype_t dtype,
                     const std::vector<int64_t> &shape, const void *data);

} // namespace npy
} // namespace vsart

#endif // VSART_SRC_NPY_H

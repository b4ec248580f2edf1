// safetensors checkpoints: [u64 little-endian header length N][N bytes of
// JSON: name -> {"dtype", "shape", "data_offsets": [begin, end]}, plus an
// optional "__metadata__"][data region]. Offsets are relative to the data
// region. The file is mapped read-only and every entry is validated before
// any data is touched; corrupt files are errors, never crashes.
#ifndef VSART_SRC_SAFETENSORS_H
#define VSART_SRC_SAFETENSORS_H

#include "vsart.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vsart {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // as written: "F32", "BF16", "F8_E4M3", ...
  bool known = false; // dtype has a vsart equivalent
  vsart_dtype_t vsartDtype = VSART_DTYPE_F32;
  std::vector<int64_t> shape;  // rank <= VSART_MAX_RANK
  uint64_t begin = 0, end = 0; // byte range inside the data region
};

// Parses and validates the JSON header (`len` bytes at `json`) of a file
// whose data region holds `dataSize` bytes. `what` names the file in errors.
vsart_status_t parseSafetensorsHeader(const char *json, size_t len,
                                      uint64_t dataSize,
                                      const std::string &what,
                                      std::vector<SafetensorsEntry> *out);

class SafetensorsFile {
public:
  SafetensorsFile() = default;
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;
  ~SafetensorsFile();

  vsart_status_t open(const std::string &path);
  const std::vector<SafetensorsEntry> &entries() const { return entries_; }
  const uint8_t *data(const SafetensorsEntry &e) const {
    return data_ + e.begin;
  }

private:
  const uint8_t *base_ = nullptr;
  size_t size_ = 0;
  const uint8_t *data_ = nullptr;
  std::vector<SafetensorsEntry> entries_;
};

} // namespace vsart

#endif // VSART_SRC_SAFETENSORS_H

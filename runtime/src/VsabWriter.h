// VsabWriter: builds .vsab files (used by the compiler and the tests).
// Plain C++17 + flatbuffers; no LLVM/MLIR.
#ifndef VSART_SRC_VSABWRITER_H
#define VSART_SRC_VSABWRITER_H

#include "vsart.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vsart {

class VsabWriter {
public:
  using Params = std::vector<std::pair<std::string, std::string>>;

  void setGeometry(const vsart_geometry_t &geometry) { geometry_ = geometry; }
  // Copies `bytes` bytes of `data`; fails (returns false, sets *error) when
  // the name is a duplicate or bytes != dtype size x product(shape).
  bool addTensor(const std::string &name, vsart_dtype_t dtype,
                 const std::vector<int64_t> &shape, const void *data,
                 size_t bytes, std::string *error = nullptr);
  void addAttentionConfig(const std::string &pattern, const Params &params) {
    configs_.push_back({pattern, params});
  }
  // The whole file: verified-layout flatbuffer, padding, 64-byte aligned
  // weights.
  std::vector<uint8_t> serialize() const;
  bool writeFile(const std::string &path, std::string *error = nullptr) const;

private:
  struct Tensor {
    std::string name;
    vsart_dtype_t dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
  };
  vsart_geometry_t geometry_{};
  std::vector<Tensor> tensors_;
  std::vector<std::pair<std::string, Params>> configs_;
};

} // namespace vsart

#endif // VSART_SRC_VSABWRITER_H

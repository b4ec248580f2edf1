//===- Elements.cpp - raw bytes of dense and resource elements -------------===//

#include "vsa/Support/Elements.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

namespace {

size_t storedWidth(Type element) {
  return element.isInteger(1) ? 1 : (element.getIntOrFloatBitWidth() + 7) / 8;
}

std::optional<std::vector<uint8_t>> denseBytes(DenseElementsAttr value) {
  int64_t n = value.getNumElements();
  if (value.getElementType().isInteger(1)) {
    std::vector<uint8_t> out;
    out.reserve(n);
    for (bool v : value.getValues<bool>())
      out.push_back(v);
    return out;
  }
  ArrayRef<char> raw = value.getRawData();
  size_t width = storedWidth(value.getElementType());
  std::vector<uint8_t> out(n * width);
  if (value.isSplat()) {
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(out.data() + i * width, raw.data(), width);
  } else if (!out.empty()) {
    std::memcpy(out.data(), raw.data(), out.size());
  }
  return out;
}

} // namespace

std::optional<std::vector<uint8_t>> vsa::elementBytes(ElementsAttr value) {
  if (auto dense = dyn_cast<DenseElementsAttr>(value))
    return denseBytes(dense);
  auto resource = dyn_cast<DenseResourceElementsAttr>(value);
  if (!resource)
    return std::nullopt;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  size_t expected = resource.getNumElements() *
                    storedWidth(resource.getType().getElementType());
  if (data.size() != expected)
    return std::nullopt;
  return std::vector<uint8_t>(data.begin(), data.end());
}

ElementsAttr vsa::transposeElements(ElementsAttr value, ArrayRef<int64_t> perm,
                                    RankedTensorType resultType) {
  std::optional<std::vector<uint8_t>> src = elementBytes(value);
  if (!src)
    return {};
  Type element = resultType.getElementType();
  size_t width = storedWidth(element);
  ArrayRef<int64_t> in = cast<ShapedType>(value.getType()).getShape();
  ArrayRef<int64_t> out = resultType.getShape();
  SmallVector<int64_t> inStrides(in.size(), 1), idx(out.size(), 0);
  for (int64_t d = static_cast<int64_t>(in.size()) - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * in[d + 1];
  std::vector<char> dst(src->size());
  int64_t n = resultType.getNumElements();
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t offset = 0;
    for (size_t d = 0; d < out.size(); ++d)
      offset += idx[d] * inStrides[perm[d]];
    std::memcpy(dst.data() + flat * width, src->data() + offset * width, width);
    for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
      if (++idx[d] < out[d])
        break;
      idx[d] = 0;
    }
  }
  if (element.isInteger(1)) {
    SmallVector<bool> bits(dst.begin(), dst.end());
    return DenseElementsAttr::get(resultType, bits);
  }
  if (isa<DenseResourceElementsAttr>(value) && !dst.empty()) {
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(dst.data(), dst.size()), std::max<size_t>(1, width));
    return DenseResourceElementsAttr::get(
        resultType, cast<DenseResourceElementsAttr>(value).getRawHandle()
                        .getKey(),
        std::move(blob));
  }
  return DenseElementsAttr::getFromRawBuffer(
      resultType, ArrayRef<char>(dst.data(), dst.size()));
}

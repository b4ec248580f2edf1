//===- Elements.h - raw bytes of dense and resource elements ----*- C++ -*-===//
#ifndef VSA_SUPPORT_ELEMENTS_H
#define VSA_SUPPORT_ELEMENTS_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace vsa {

/// Row-major bytes of `value` as the runtime stores them: bools one byte
/// each, splats expanded. Works for dense and dense-resource attributes;
/// nullopt for anything else (or a resource without a blob).
std::optional<std::vector<uint8_t>> elementBytes(mlir::ElementsAttr value);

/// `value` transposed by `perm` into `resultType` (same element type), as
/// a resource attribute for large tensors; null if its bytes are unknown.
mlir::ElementsAttr transposeElements(mlir::ElementsAttr value,
                                     llvm::ArrayRef<int64_t> perm,
                                     mlir::RankedTensorType resultType);

} // namespace vsa

#endif // VSA_SUPPORT_ELEMENTS_H

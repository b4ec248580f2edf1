//===- Matchers.h - small IR predicates shared by raising passes -*- C++ -*-===//
#ifndef VSA_SUPPORT_MATCHERS_H
#define VSA_SUPPORT_MATCHERS_H

#include "mlir/IR/Value.h"

#include <optional>

namespace vsa {

/// The static shape of a ranked tensor value.
llvm::ArrayRef<int64_t> shapeOf(mlir::Value v);

/// The value of a splat float `dit.constant`, if `v` is one.
std::optional<double> splatValue(mlir::Value v);

/// Whether `v` is a model weight: a `dit.param` (or, with `allowConstant`, a
/// `dit.constant`), possibly through reshapes and transposes. Function
/// arguments and computed values are activations.
bool isParamDerived(mlir::Value v, bool allowConstant = false);

} // namespace vsa

#endif // VSA_SUPPORT_MATCHERS_H

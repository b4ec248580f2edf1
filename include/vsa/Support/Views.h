//===- Views.h - see through chains of reshapes and transposes --*- C++ -*-===//
#ifndef VSA_SUPPORT_VIEWS_H
#define VSA_SUPPORT_VIEWS_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace vsa {

/// `value` equals `transpose(source, perm)`.
struct PermutedView {
  mlir::Value source;
  llvm::SmallVector<int64_t> perm;
};

/// Walks up from `value` through dit.reshape / dit.transpose ops and returns
/// the farthest ancestor (at worst `value` itself, with the identity) of the
/// same rank of which `value` is a pure axis permutation. Exporters write
/// transposes as reshape→transpose→reshape chains; this sees through them.
std::optional<PermutedView> traceToPermutation(mlir::Value value);

/// Visits the values `root` is computed from, each once, depth first.
/// `visit` appends to `next` the values to continue with (usually some of
/// the defining op's operands) and returns false to end the walk.
void walkBackward(
    mlir::Value root,
    llvm::function_ref<bool(mlir::Value, llvm::SmallVectorImpl<mlir::Value> &)>
        visit);

} // namespace vsa

#endif // VSA_SUPPORT_VIEWS_H

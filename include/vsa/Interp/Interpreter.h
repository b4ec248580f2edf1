//===- Interpreter.h - reference interpreter for dit IR ---------*- C++ -*-===//
//
// Evaluates a dit `func.func` on the CPU, in double precision, rounding every
// op's result to its element type. Slow and simple on purpose: it is the
// oracle that checks import and raising against PyTorch.
//
//===----------------------------------------------------------------------===//
#ifndef VSA_INTERP_INTERPRETER_H
#define VSA_INTERP_INTERPRETER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Types.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace vsa::interp {

/// A dense row-major tensor; every element type is held as double (i1 as
/// 0/1, integers as whole numbers).
struct Tensor {
  llvm::SmallVector<int64_t> shape;
  mlir::Type elementType;
  std::vector<double> data;

  int64_t numElements() const;
};

/// Rounds `v` to a value of `type` (f32 via float, f16/bf16 via APFloat,
/// integers truncate toward zero, i1 is v != 0).
double roundTo(mlir::Type type, double v);

/// Runs `func` on `args` (one per function argument, same shapes). Errors
/// are emitted on the op that failed.
mlir::FailureOr<llvm::SmallVector<Tensor>>
interpret(mlir::func::FuncOp func, llvm::ArrayRef<Tensor> args);

} // namespace vsa::interp

#endif // VSA_INTERP_INTERPRETER_H

//===- Emitter.h - C++/CUDA source for a planned vrt module -----*- C++ -*-===//
#ifndef VSA_TARGET_EMITTER_H
#define VSA_TARGET_EMITTER_H

#include "vsa/Target/KernelCodegen.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>

#include "vsart.h"

namespace vsa::target {

struct EmitOptions {
  TargetKind target = TargetKind::Cpu;
  /// Model name recorded in the descriptor.
  std::string modelName = "model";
  /// Also emit `main` calling vsart_exe_main (else only vsa_model()).
  bool withMain = true;
};

/// Writes one translation unit for the single function of `module` (vrt
/// ops after `vrt-plan-memory`): the generated kernels, the forward
/// function calling runtime kernels on arena offsets, the model descriptor
/// (`extern "C" const vsart_model_t *vsa_model(void)`) and, optionally,
/// main(). Errors name the op that cannot be emitted.
mlir::LogicalResult emitModel(mlir::ModuleOp module, const EmitOptions &options,
                              llvm::raw_ostream &os);

/// The runtime dtype (vsart_dtype_t) holding elements of `type`, if any.
std::optional<vsart_dtype_t> runtimeDtype(mlir::Type type);
/// Its enumerator's name ("VSART_DTYPE_F32").
llvm::StringRef runtimeDtypeName(vsart_dtype_t dtype);

/// The function of `module` that holds the vrt program, or an error.
mlir::FailureOr<mlir::func::FuncOp> getProgram(mlir::ModuleOp module);

} // namespace vsa::target

#endif // VSA_TARGET_EMITTER_H

//===- Driver.h - the compile pipeline behind vsac --------------*- C++ -*-===//
#ifndef VSA_DRIVER_DRIVER_H
#define VSA_DRIVER_DRIVER_H

#include "vsa/Import/OnnxImporter.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace vsa {

/// What `vsac --emit=` can stop at.
enum class EmitKind { Dit, Raised, Summary };

struct DriverOptions {
  ImportOptions import;
  EmitKind emit = EmitKind::Dit;
  /// Run the import clean-up pipeline (fold, canonicalize, CSE).
  bool cleanup = true;
  /// Verify the IR after every pass.
  bool verifyEach = true;
};

/// Parses "NAME=d0,d1,..." into `shapes`; returns an error message or "".
std::string parseShapeBinding(llvm::StringRef text,
                              llvm::StringMap<std::vector<int64_t>> &shapes);

/// Imports `path` and runs the pipeline `options` asks for. Diagnostics go
/// to the context's handler; null on failure.
mlir::OwningOpRef<mlir::ModuleOp> compileModel(llvm::StringRef path,
                                               mlir::MLIRContext &context,
                                               const DriverOptions &options);

/// Writes the result of `compileModel` in the form `options.emit` asks for.
mlir::LogicalResult emitModule(mlir::ModuleOp module,
                               const DriverOptions &options,
                               llvm::raw_ostream &os);

} // namespace vsa

#endif // VSA_DRIVER_DRIVER_H

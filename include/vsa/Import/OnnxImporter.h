//===- OnnxImporter.h - ONNX ModelProto -> dit ------------------*- C++ -*-===//
//
// Imports an ONNX model (binary protobuf, or the ONNX text syntax for
// `.onnxtext` files) into a module holding one `func.func @main` of dit ops
// with static shapes. Every error is reported as one diagnostic naming the
// node, its op type and opset, and the reason.
//
//===----------------------------------------------------------------------===//
#ifndef VSA_IMPORT_ONNXIMPORTER_H
#define VSA_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace vsa {

struct ImportOptions {
  /// Static shapes for graph inputs (`--shape NAME=d0,d1,...`); required for
  /// every input whose ONNX type has a symbolic or unknown dimension.
  llvm::StringMap<std::vector<int64_t>> inputShapes;
  /// Embed weight values in the IR; when false, `dit.param` ops carry only
  /// name, type and provenance (the data is still checked for size).
  bool embedWeights = true;
  /// Folder external data paths are resolved against; empty: the model's.
  std::string externalDataDir;
};

/// Imports the model file at `path`. Diagnostics go to the context's handler.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(llvm::StringRef path, mlir::MLIRContext &context,
               const ImportOptions &options);

/// Imports a model from memory; `displayName` names it in diagnostics,
/// `isText` selects the ONNX text syntax.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBuffer(llvm::StringRef bytes, llvm::StringRef displayName,
                 bool isText, mlir::MLIRContext &context,
                 const ImportOptions &options);

/// Registers the dialects the importer creates.
void registerImportDialects(mlir::DialectRegistry &registry);

} // namespace vsa

#endif // VSA_IMPORT_ONNXIMPORTER_H

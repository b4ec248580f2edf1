//===- Passes.h - vsa passes ------------------------------------*- C++ -*-===//
#ifndef VSA_PASSES_PASSES_H
#define VSA_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace vsa {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Registers every vsa pass and pipeline with the global registry.
void registerPasses();

/// Registers the dialects vsa tools read and write.
void registerDialects(mlir::DialectRegistry &registry);

} // namespace vsa

#endif // VSA_PASSES_PASSES_H

//===- Passes.h - vsa passes ------------------------------------*- C++ -*-===//
#ifndef VSA_PASSES_PASSES_H
#define VSA_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace vsa {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Prints inputs, outputs, weight totals and op counts of a dit module.
void printSummary(mlir::ModuleOp module, llvm::raw_ostream &os);

/// Import clean-up: fold shape arithmetic, drop dead values, deduplicate.
void buildImportCleanupPipeline(mlir::OpPassManager &pm);
/// Clean-up, then raise compound ops (attention with role and geometry).
void buildRaisingPipeline(mlir::OpPassManager &pm);
/// Patch convolutions to linears, then vrt: lowering, kernel fusion, Ulysses
/// attention fusion (`ulyssesChunks` head chunks, 0: automatic; negative:
/// keep the separate collectives) and the memory plan for `target` ("cpu"
/// or "cuda"). With `fp8MinDim` > 0, GEMMs of at least that size in every
/// dim whose activation feeds at least `fp8MinN` columns run in FP8
/// (vrt-quantize-gemms); with `fp8AttentionMinKeys` > 0, dense attentions
/// over at least that many keys (vrt-quantize-attention). With
/// `fp8GemmOutputs` too, FP8 GEMMs behind a norm write FP8 themselves
/// (vrt-quantize-gemm-outputs).
void buildLoweringPipeline(mlir::OpPassManager &pm, llvm::StringRef target,
                           int64_t ulyssesChunks = 0, int64_t fp8MinDim = 0,
                           int64_t fp8MinN = 2048,
                           int64_t fp8AttentionMinKeys = 0,
                           bool fp8GemmOutputs = true);
/// Registers the named pipelines above with vsa-opt.
void registerPipelines();

/// Registers every vsa pass and pipeline with the global registry.
void registerPasses();

/// Registers the dialects vsa tools read and write.
void registerDialects(mlir::DialectRegistry &registry);

} // namespace vsa

#endif // VSA_PASSES_PASSES_H

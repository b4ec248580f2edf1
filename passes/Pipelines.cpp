//===- Pipelines.cpp - named pass pipelines --------------------------------===//
//
// One source of truth: vsac calls these builders, vsa-opt registers them.
//
//===----------------------------------------------------------------------===//

#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void vsa::buildImportCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createSymbolDCEPass());
}

void vsa::buildRaisingPipeline(OpPassManager &pm) {
  buildImportCleanupPipeline(pm);
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createRaiseRmsNormPass());
  // Before attention: RoPE feeds its queries and keys.
  fn.addPass(createRaiseRopePass());
  fn.addPass(createRaiseAttentionPass());
  fn.addPass(createInferVideoGeometryPass());
  // After attention: its q·kᵀ and p·v products must not look like linears.
  fn.addPass(createRaiseLinearPass());
  fn.addPass(createRaiseGeluPass());
  fn.addPass(createRaiseModulationPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void vsa::buildLoweringPipeline(OpPassManager &pm, StringRef target,
                                int64_t ulyssesChunks, int64_t fp8MinDim,
                                int64_t fp8MinN, int64_t fp8AttentionMinKeys,
                                bool fp8GemmOutputs) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createLowerPatchConvPass());
  fn.addPass(createCanonicalizerPass());
  fn.addPass(createLowerToVrtPass());
  fn.addPass(createFuseKernelsPass());
  fn.addPass(createPackAllToAllPass());
  if (ulyssesChunks >= 0) {
    FuseUlyssesAttentionPassOptions fuse;
    fuse.chunks = ulyssesChunks;
    fn.addPass(createFuseUlyssesAttentionPass(fuse));
  }
  fn.addPass(createFuseVsaPoolingPass());
  if (fp8MinDim > 0) {
    QuantizeGemmsPassOptions fp8;
    fp8.minDim = fp8MinDim;
    fp8.minN = fp8MinN;
    fn.addPass(createQuantizeGemmsPass(fp8));
    fn.addPass(createFuseIntoFp8Pass());
    if (fp8GemmOutputs)
      fn.addPass(createQuantizeGemmOutputsPass());
  }
  if (fp8AttentionMinKeys > 0) {
    QuantizeAttentionPassOptions fp8;
    fp8.minKeys = fp8AttentionMinKeys;
    fn.addPass(createQuantizeAttentionPass(fp8));
  }
  PlanMemoryPassOptions plan;
  plan.target = target.str();
  fn.addPass(createPlanMemoryPass(plan));
}

namespace {
struct LoweringPipelineOptions
    : public PassPipelineOptions<LoweringPipelineOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("cpu or cuda (storage sizes)"),
                             llvm::cl::init("cpu")};
  Option<int64_t> ulyssesChunks{
      *this, "ulysses-chunks",
      llvm::cl::desc("head chunks of fused Ulysses attention (0: automatic, "
                     "-1: keep the separate collectives)"),
      llvm::cl::init(0)};
  Option<int64_t> fp8MinDim{
      *this, "fp8-min-dim",
      llvm::cl::desc("run GEMMs whose M, N and K are at least this in FP8 "
                     "(0: none)"),
      llvm::cl::init(0)};
  Option<int64_t> fp8MinN{
      *this, "fp8-min-n",
      llvm::cl::desc("with fp8-min-dim: the fewest output columns an "
                     "activation must feed to be quantized"),
      llvm::cl::init(2048)};
  Option<int64_t> fp8AttentionMinKeys{
      *this, "fp8-attention-min-keys",
      llvm::cl::desc("run dense attentions over at least this many keys in "
                     "FP8 (0: none)"),
      llvm::cl::init(0)};
  Option<bool> fp8GemmOutputs{
      *this, "fp8-gemm-outputs",
      llvm::cl::desc("with fp8-min-dim: FP8 GEMMs behind a norm write FP8 "
                     "outputs (vrt-quantize-gemm-outputs)"),
      llvm::cl::init(true)};
};
} // namespace

void vsa::registerPipelines() {
  PassPipelineRegistration<LoweringPipelineOptions>(
      "vrt-lowering",
      "Lower patch convolutions, lower dit to vrt, fuse kernels, plan memory",
      [](OpPassManager &pm, const LoweringPipelineOptions &options) {
        buildLoweringPipeline(pm, options.target, options.ulyssesChunks,
                              options.fp8MinDim, options.fp8MinN,
                              options.fp8AttentionMinKeys,
                              options.fp8GemmOutputs);
      });
  PassPipelineRegistration<>(
      "dit-import-cleanup",
      "Fold shape arithmetic, drop dead values, deduplicate (after import)",
      buildImportCleanupPipeline);
  PassPipelineRegistration<>(
      "dit-raise",
      "Import clean-up, then raise RMSNorm and attention, infer video geometry, "
      "raise linears, GELU, AdaLN modulation and gated residuals",
      buildRaisingPipeline);
}

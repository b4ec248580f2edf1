//===- QuantizeGemmOutputs.cpp - FP8 GEMMs that write FP8 ------------------===//
//
// A DiT's FFN reads its hidden layer (tokens x 4-6 times the width) three
// times in FP8: FFN-up writes it in bf16, a row quantization reads it and
// writes E4M3, FFN-down reads that. cuBLASLt can write E4M3 itself, but only
// with one scale per operand and an output scale known before the product.
// A per-tensor norm in front gives both: its scale bounds every row's
// 2-norm, and the weight's largest row norm then bounds every output.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace vsa {
#define GEN_PASS_DEF_QUANTIZEGEMMOUTPUTSPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

/// The scaled GEMM `q` quantizes, when the fused form can replace both: no
/// residual, an epilogue cuBLASLt applies before an FP8 output, N a
/// multiple of 16 and no other reader of the GEMM's result.
vrt::ScaledGemmOp quantizedGemm(vrt::QuantizeRowsOp q) {
  auto gemm = q.getInput().getDefiningOp<vrt::ScaledGemmOp>();
  if (!gemm || gemm.getResidual() || !gemm.getResult().hasOneUse() ||
      gemm.getEpilogue() == vrt::Epilogue::gelu_erf ||
      shapeOf(gemm.getWeight())[0] % 16 != 0)
    return nullptr;
  return gemm;
}

/// The norm_quantize feeding `gemm` alone, whose scales can become one
/// bound for every row.
vrt::NormQuantizeOp soleNormInput(vrt::ScaledGemmOp gemm) {
  auto norm = gemm.getLhsScales().getDefiningOp<vrt::NormQuantizeOp>();
  if (!norm || norm.getValues() != gemm.getLhs() ||
      !vrt::onlyFeeds(norm.getValues(), gemm) ||
      !vrt::onlyFeeds(norm.getScales(), gemm))
    return nullptr;
  return norm;
}

/// norm_quantize → scaled_gemm → quantize_rows becomes a per-tensor
/// norm_quantize → scaled_gemm_quantize.
void fuse(vrt::QuantizeRowsOp q) {
  vrt::ScaledGemmOp gemm = quantizedGemm(q);
  vrt::NormQuantizeOp norm = gemm ? soleNormInput(gemm) : nullptr;
  if (!norm)
    return;
  norm.setPerTensor(true);
  OpBuilder b(q);
  auto fused = vrt::ScaledGemmQuantizeOp::create(
      b, gemm.getLoc(), q.getValues().getType(), q.getScales().getType(),
      gemm.getLhs(), gemm.getLhsScales(), gemm.getWeight(), gemm.getBias(),
      gemm.getAlphaAttr(), gemm.getEpilogueAttr(), DenseI64ArrayAttr());
  q.getValues().replaceAllUsesWith(fused.getValues());
  q.getScales().replaceAllUsesWith(fused.getScales());
  q.erase();
  gemm.erase();
}

struct QuantizeGemmOutputsPass
    : vsa::impl::QuantizeGemmOutputsPassBase<QuantizeGemmOutputsPass> {
  void runOnOperation() override {
    SmallVector<vrt::QuantizeRowsOp> quantizations(
        getOperation().getOps<vrt::QuantizeRowsOp>());
    for (vrt::QuantizeRowsOp q : quantizations)
      fuse(q);
  }
};

} // namespace

//===- QuantizeAttention.cpp - long dense attention in FP8 ------------------===//
//
// Marks the dense attentions worth running in FP8 (cuDNN's FP8 flash
// attention on Hopper): long ones, where the quantization passes over q, k
// and v cost little next to the attention itself. A block-sparse attention
// is marked for its dense path (the dense denoising steps of a sparse
// pipeline); its block-sparse kernel stays bf16.
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace vsa {
#define GEN_PASS_DEF_QUANTIZEATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

/// Whether `attn` (for block-sparse attention: its dense path) can and
/// should run in FP8.
bool qualifies(vrt::AttentionOp attn, int64_t minKeys) {
  if (attn.getMask())
    return false;
  auto k = vrt::AttentionOp::bhsdDims(attn.getKey().getType(),
                                      attn.getKvLayout());
  return k[2] >= minKeys && vrt::AttentionOp::fp8HeadDim(k[3]);
}

struct QuantizeAttentionPass
    : vsa::impl::QuantizeAttentionPassBase<QuantizeAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    if (minKeys < 1) {
      getOperation().emitError("vrt-quantize-attention: min-keys must be >= "
                               "1, got ")
          << int64_t(minKeys);
      return signalPassFailure();
    }
    UnitAttr fp8 = UnitAttr::get(&getContext());
    getOperation().walk([&](vrt::AttentionOp attn) {
      if (qualifies(attn, minKeys))
        attn.setFp8Attr(fp8);
    });
  }
};

} // namespace

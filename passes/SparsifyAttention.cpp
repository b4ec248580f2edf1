//===- SparsifyAttention.cpp - sparse patterns for video self-attention ---===//
//
// Marks video self-attention with a `#dit.sparsity` pattern; the lowering
// turns it into block-sparse attention over compile-time key-block lists
// (vsa/Support/SparsePatterns.h). Cross-attention is never touched.
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace vsa {
#define GEN_PASS_DEF_SPARSIFYATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

struct SparsifyAttentionPass
    : vsa::impl::SparsifyAttentionPassBase<SparsifyAttentionPass> {
  using Base::Base;

  /// The keyframe interval for a video of `frames` latent frames, or an
  /// error message naming the option.
  FailureOr<int64_t> interval(int64_t frames, std::string &error) {
    if (keyframeInterval != "auto") {
      int64_t value;
      if (StringRef(keyframeInterval).getAsInteger(10, value) || value < 0) {
        error = "keyframe-interval must be 'auto' or an integer >= 0, got '" +
                keyframeInterval + "'";
        return failure();
      }
      return value;
    }
    // Within the horizon every frame is a keyframe: exactly dense.
    if (frames <= horizon)
      return int64_t(1);
    return (frames + horizon - 1) / horizon;
  }

  LogicalResult checkOptions(Operation *anchor) {
    auto fail = [&](const Twine &message) {
      return anchor->emitError("dit-sparsify-attention: ") << message;
    };
    if (pattern == "vsa" || pattern == "sliding-tile" || pattern == "semantic")
      return fail("pattern '" + pattern +
                  "' is not implemented yet (available: frame-window)");
    if (pattern != "frame-window")
      return fail("unknown pattern '" + pattern +
                  "' (option pattern: frame-window)");
    if (window < 0)
      return fail("option window must be >= 0, got " + Twine(window));
    if (sink < 0)
      return fail("option sink must be >= 0, got " + Twine(sink));
    if (horizon < 1)
      return fail("option horizon must be >= 1, got " + Twine(horizon));
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (failed(checkOptions(func)))
      return signalPassFailure();
    Builder b(func.getContext());
    WalkResult result = func.walk([&](dit::AttentionOp op) {
      if (op.getRole() != dit::AttentionRole::self || !op.getGeometry() ||
          op.getMask() || op.getIsCausal())
        return WalkResult::advance();
      std::string error;
      FailureOr<int64_t> every = interval(op.getGeometry()->getT(), error);
      if (failed(every)) {
        op.emitError("dit-sparsify-attention: ") << error;
        return WalkResult::interrupt();
      }
      auto params = b.getDictionaryAttr(
          {b.getNamedAttr("keyframe_interval", b.getI64IntegerAttr(*every)),
           b.getNamedAttr("sink", b.getI64IntegerAttr(sink)),
           b.getNamedAttr("window", b.getI64IntegerAttr(window))});
      op.setSparsityAttr(
          dit::SparsityAttr::get(b.getContext(), pattern, params));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

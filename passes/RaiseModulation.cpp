//===- RaiseModulation.cpp - AdaLN modulation and gated residuals ----------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/dit/ShapeInference.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

#include <cstring>

namespace vsa {
#define GEN_PASS_DEF_RAISEMODULATIONPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {


/// Whether every element of a float `attr` is 1.0 (dense or a resource blob).
bool allOnes(ElementsAttr attr) {
  auto ft = dyn_cast<FloatType>(attr.getElementType());
  if (!ft)
    return false;
  auto isOne = [](APFloat f) {
    bool lost = false;
    f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    return f.convertToDouble() == 1.0;
  };
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return llvm::all_of(dense.getValues<APFloat>(), isOne);
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob = res ? res.getRawHandle().getBlob() : nullptr;
  if (!blob)
    return false;
  ArrayRef<char> bytes = blob->getData();
  unsigned width = ft.getWidth();
  int64_t n = attr.getNumElements();
  if (width % 8 != 0 || int64_t(bytes.size()) != n * (width / 8))
    return false;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, bytes.data() + i * (width / 8), width / 8);
    if (!isOne(APFloat(ft.getFloatSemantics(), APInt(width, bits))))
      return false;
  }
  return true;
}

/// Whether `v` is a floating-point splat 1.0: a constant, or a param whose
/// value is inline (the dynamo exports store the `1` of `1 + scale` as a
/// `scalar_tensor_default_N` initializer; with external weights its value is
/// unknown and nothing matches).
bool isSplatOne(Value v) {
  if (auto param = v.getDefiningOp<dit::ParamOp>())
    return param.getValue() && allOnes(*param.getValue());
  DenseElementsAttr attr;
  return matchPattern(v, m_Constant(&attr)) && allOnes(attr);
}

/// s for `s + 1` or `1 + s` whose result has the shape of s.
Value plusOneOperand(Value v) {
  auto add = v.getDefiningOp<dit::AddOp>();
  if (!add)
    return {};
  for (auto [s, one] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())})
    if (s.getType() == add.getType() && isSplatOne(one))
      return s;
  return {};
}

/// The scale of `1 + scale`, possibly behind one reshape (CogVideoX and
/// HunyuanVideo unsqueeze (B, C) to (B, 1, C) after adding 1): the scale
/// then gets the same reshape.
Value matchOnePlusScale(Value v, PatternRewriter &rewriter) {
  if (Value s = plusOneOperand(v))
    return s;
  auto reshape = v.getDefiningOp<dit::ReshapeOp>();
  if (!reshape)
    return {};
  Value s = plusOneOperand(reshape.getInput());
  if (!s)
    return {};
  return dit::ReshapeOp::create(rewriter, reshape.getLoc(), reshape.getType(),
                                s);
}

/// add(mul(n, 1 + scale), shift), the adds and the mul in either operand
/// order -> dit.modulate n, shift, scale.
struct RaiseModulate : OpRewritePattern<dit::AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dit::AddOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [m, shift] : {std::pair(op.getLhs(), op.getRhs()),
                            std::pair(op.getRhs(), op.getLhs())}) {
      auto mul = m.getDefiningOp<dit::MulOp>();
      if (!mul || !mul->hasOneUse() || mul.getType() != op.getType() ||
          !dit::broadcastsTo(shapeOf(shift), shapeOf(op)))
        continue;
      for (auto [n, s1] : {std::pair(mul.getLhs(), mul.getRhs()),
                           std::pair(mul.getRhs(), mul.getLhs())}) {
        if (n.getType() != op.getType() ||
            !dit::broadcastsTo(shapeOf(s1), shapeOf(n)))
          continue;
        // Check the `1 +` before creating a reshape for the scale.
        Value inner = s1;
        if (auto r = s1.getDefiningOp<dit::ReshapeOp>())
          inner = r.getInput();
        if (!plusOneOperand(s1) && !plusOneOperand(inner))
          continue;
        Value scale = matchOnePlusScale(s1, rewriter);
        rewriter.replaceOpWithNewOp<dit::ModulateOp>(op, op.getType(), n,
                                                     shift, scale);
        return success();
      }
    }
    return failure();
  }
};

/// Whether `gate` is a per-sample/per-channel gate for `y`: not a constant
/// or weight, fewer elements than y, and (aligned to y's trailing axes) of
/// size 1 on every axis but y's first and last. RoPE's cos/sin products and
/// sequence masks vary along the tokens and do not qualify.
bool isGateFor(Value gate, Value y) {
  if (matchPattern(gate, m_Constant()) || gate.getDefiningOp<dit::ParamOp>())
    return false;
  ArrayRef<int64_t> g = shapeOf(gate), ys = shapeOf(y);
  if (!dit::broadcastsTo(g, ys) ||
      dit::numElements(g) >= dit::numElements(ys))
    return false;
  size_t offset = ys.size() - g.size();
  for (size_t i = 0; i < g.size(); ++i) {
    size_t axis = offset + i;
    if (axis != 0 && axis + 1 != ys.size() && g[i] != 1)
      return false;
  }
  return true;
}

/// add(x, mul(y, gate)), the add and the mul in either operand order ->
/// dit.gated_add x, y, gate.
struct RaiseGatedAdd : OpRewritePattern<dit::AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dit::AddOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [x, m] : {std::pair(op.getLhs(), op.getRhs()),
                        std::pair(op.getRhs(), op.getLhs())}) {
      auto mul = m.getDefiningOp<dit::MulOp>();
      if (!mul || !mul->hasOneUse() || x.getType() != op.getType() ||
          mul.getType() != op.getType())
        continue;
      for (auto [y, gate] : {std::pair(mul.getLhs(), mul.getRhs()),
                             std::pair(mul.getRhs(), mul.getLhs())}) {
        if (y.getType() != op.getType() || !isGateFor(gate, y))
          continue;
        rewriter.replaceOpWithNewOp<dit::GatedAddOp>(op, op.getType(), x, y,
                                                     gate);
        return success();
      }
    }
    return failure();
  }
};

struct RaiseModulationPass
    : vsa::impl::RaiseModulationPassBase<RaiseModulationPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // Modulation first: its shift add must not be taken for a residual.
    patterns.add<RaiseModulate>(&getContext(), /*benefit=*/2);
    patterns.add<RaiseGatedAdd>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

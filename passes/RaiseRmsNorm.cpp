//===- RaiseRmsNorm.cpp - decomposed RMSNorm -> dit.rms_norm ---------------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/dit/ShapeInference.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace vsa {
#define GEN_PASS_DEF_RAISERMSNORMPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {


/// Whether `v` is x² (pow(x, 2) or x * x).
bool isSquareOf(Value v, Value x) {
  if (auto pow = v.getDefiningOp<dit::PowOp>())
    return pow.getLhs() == x && splatValue(pow.getRhs()) == 2.0;
  if (auto mul = v.getDefiningOp<dit::MulOp>())
    return mul.getLhs() == x && mul.getRhs() == x;
  return false;
}

struct Normalized {
  Value input;
  int64_t axis;
  double epsilon;
};

/// Matches sqrt(mean(x², axes from `axis` on, keepdims) + eps) for a given x.
std::optional<Normalized> matchRootMeanSquare(Value root, Value x) {
  auto sqrt = root.getDefiningOp<dit::SqrtOp>();
  if (!sqrt)
    return std::nullopt;
  auto add = sqrt.getInput().getDefiningOp<dit::AddOp>();
  if (!add || add.getType() != add.getLhs().getType())
    return std::nullopt;
  auto eps = splatValue(add.getRhs());
  auto mean = add.getLhs().getDefiningOp<dit::ReduceOp>();
  if (!eps || *eps < 0 || !mean || mean.getKind() != dit::ReduceKind::mean ||
      !mean.getKeepdims() || !isSquareOf(mean.getInput(), x))
    return std::nullopt;
  // The reduced axes must be the trailing ones.
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  SmallVector<int64_t> axes;
  for (int64_t a : mean.getAxes())
    axes.push_back(a < 0 ? a + rank : a);
  llvm::sort(axes);
  if (axes.empty() || axes.back() != rank - 1 ||
      axes.back() - axes.front() + 1 != int64_t(axes.size()))
    return std::nullopt;
  return Normalized{x, axes.front(), *eps};
}

/// r for reciprocal(r) or 1 / r.
Value reciprocalOf(Value v) {
  if (auto recip = v.getDefiningOp<dit::ReciprocalOp>())
    return recip.getInput();
  auto div = v.getDefiningOp<dit::DivOp>();
  if (div && splatValue(div.getLhs()) == 1.0 &&
      div.getType() == div.getRhs().getType())
    return div.getRhs();
  return {};
}

/// x * reciprocal(rms) (either operand order) or x / rms.
std::optional<Normalized> matchNormalized(Value n) {
  if (auto div = n.getDefiningOp<dit::DivOp>())
    return div.getType() == div.getLhs().getType()
               ? matchRootMeanSquare(div.getRhs(), div.getLhs())
               : std::nullopt;
  auto mul = n.getDefiningOp<dit::MulOp>();
  if (!mul)
    return std::nullopt;
  for (auto [x, r] : {std::pair(mul.getLhs(), mul.getRhs()),
                      std::pair(mul.getRhs(), mul.getLhs())}) {
    Value rms = reciprocalOf(r);
    if (rms && x.getType() == mul.getType())
      if (auto m = matchRootMeanSquare(rms, x))
        return m;
  }
  return std::nullopt;
}


/// Whether `w` can be the scale of the normalisation `m`.
bool fitsAsScale(const Normalized &m, Value w) {
  auto in = cast<RankedTensorType>(m.input.getType()).getShape();
  auto ws = cast<RankedTensorType>(w.getType()).getShape();
  return isParamDerived(w, /*allowConstant=*/true) && dit::broadcastsTo(ws, in.drop_front(m.axis));
}

/// mul(normalised, weight) in either operand order -> rms_norm with scale.
struct RaiseScaledRmsNorm : OpRewritePattern<dit::MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dit::MulOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [n, w] : {std::pair(op.getLhs(), op.getRhs()),
                        std::pair(op.getRhs(), op.getLhs())}) {
      auto m = matchNormalized(n);
      if (!m || !n.hasOneUse() || op.getType() != n.getType() ||
          !fitsAsScale(*m, w))
        continue;
      rewriter.replaceOpWithNewOp<dit::RmsNormOp>(
          op, op.getType(), m->input, w, rewriter.getI64IntegerAttr(m->axis),
          rewriter.getF64FloatAttr(m->epsilon));
      return success();
    }
    return failure();
  }
};

/// A normalisation without a weight (the root is the mul or div itself),
/// unless its user is a weight multiply that RaiseScaledRmsNorm takes.
template <typename OpTy>
struct RaiseBareRmsNorm : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto m = matchNormalized(op.getResult());
    if (!m)
      return failure();
    for (Operation *user : op->getUsers())
      if (auto mul = dyn_cast<dit::MulOp>(user))
        if (op->hasOneUse() && (fitsAsScale(*m, mul.getLhs()) ||
                                fitsAsScale(*m, mul.getRhs())))
          return failure();
    rewriter.replaceOpWithNewOp<dit::RmsNormOp>(
        op, op.getType(), m->input, Value(), rewriter.getI64IntegerAttr(m->axis),
        rewriter.getF64FloatAttr(m->epsilon));
    return success();
  }
};

struct RaiseRmsNormPass : vsa::impl::RaiseRmsNormPassBase<RaiseRmsNormPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseScaledRmsNorm, RaiseBareRmsNorm<dit::MulOp>,
                 RaiseBareRmsNorm<dit::DivOp>>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

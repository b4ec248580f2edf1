//===- RaiseLinear.cpp - matmul/gemm (+ bias) with a weight -> dit.linear -===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace vsa {
#define GEN_PASS_DEF_RAISELINEARPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {



/// A (K, N) weight for `x`: 2-D and param-derived.
bool isLinearWeight(Value x, Value w) {
  ArrayRef<int64_t> ws = shapeOf(w);
  return !shapeOf(x).empty() && ws.size() == 2 && isParamDerived(w);
}

/// Whether `b` is a bias of `n` outputs for a result of rank `rank`: a weight
/// of shape (N), (1, N), ... that adds along the last axis only.
bool isLinearBias(Value b, int64_t n, int64_t rank) {
  ArrayRef<int64_t> bs = shapeOf(b);
  if (bs.empty() || int64_t(bs.size()) > rank || bs.back() != n ||
      llvm::any_of(bs.drop_back(), [](int64_t d) { return d != 1; }))
    return false;
  return isParamDerived(b, /*allowConstant=*/true);
}

/// `b` as an (N) vector.
Value asVector(PatternRewriter &rewriter, Location loc, Value b) {
  auto type = cast<RankedTensorType>(b.getType());
  if (type.getRank() == 1)
    return b;
  return dit::ReshapeOp::create(
      rewriter, loc,
      RankedTensorType::get({type.getShape().back()}, type.getElementType()),
      b);
}

/// The (input, weight) of a bias-free linear product: a matmul with a weight
/// on the right, or a dit.linear without bias.
std::optional<std::pair<Value, Value>> linearProduct(Value v) {
  if (auto mm = v.getDefiningOp<dit::MatmulOp>())
    if (isLinearWeight(mm.getLhs(), mm.getRhs()))
      return std::pair(mm.getLhs(), mm.getRhs());
  if (auto lin = v.getDefiningOp<dit::LinearOp>())
    if (!lin.getBias())
      return std::pair(lin.getInput(), lin.getWeight());
  return std::nullopt;
}

/// add(x @ W, b) in either operand order -> linear(x, W, b).
struct RaiseBiasedLinear : OpRewritePattern<dit::AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dit::AddOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [p, b] : {std::pair(op.getLhs(), op.getRhs()),
                        std::pair(op.getRhs(), op.getLhs())}) {
      auto product = linearProduct(p);
      if (!product || !p.hasOneUse() || p.getType() != op.getType())
        continue;
      int64_t n = shapeOf(product->second)[1];
      if (!isLinearBias(b, n, op.getType().getRank()))
        continue;
      Value bias = asVector(rewriter, op.getLoc(), b);
      rewriter.replaceOpWithNewOp<dit::LinearOp>(op, op.getType(), product->first,
                                                 product->second, bias);
      return success();
    }
    return failure();
  }
};

/// matmul(x, W) with a weight W -> linear(x, W). Activation x activation
/// products (attention's q·kᵀ, p·v) stay matmuls.
struct RaiseMatmulLinear : OpRewritePattern<dit::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dit::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!isLinearWeight(op.getLhs(), op.getRhs()))
      return failure();
    rewriter.replaceOpWithNewOp<dit::LinearOp>(op, op.getType(), op.getLhs(),
                                               op.getRhs(), Value());
    return success();
  }
};

/// gemm(a, B, c) with alpha = 1, beta = 1 (or no c), a not transposed and a
/// weight B -> linear(a, B or transpose(B), c). Nothing else is a linear.
struct RaiseGemmLinear : OpRewritePattern<dit::GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dit::GemmOp op,
                                PatternRewriter &rewriter) const override {
    Value w = op.getB();
    if (op.getTransA() || op.getAlpha().convertToDouble() != 1.0 ||
        !isLinearWeight(op.getA(), w))
      return failure();
    Value c = op.getC();
    int64_t n = op.getType().getShape()[1];
    if (c && (op.getBeta().convertToDouble() != 1.0 || !isLinearBias(c, n, 2)))
      return failure();
    if (op.getTransB()) {
      ArrayRef<int64_t> ws = shapeOf(w);
      auto type = RankedTensorType::get({ws[1], ws[0]},
                                        op.getType().getElementType());
      w = dit::TransposeOp::create(rewriter, op.getLoc(), type, w,
                                   ArrayRef<int64_t>{1, 0});
    }
    Value bias = c ? asVector(rewriter, op.getLoc(), c) : Value();
    rewriter.replaceOpWithNewOp<dit::LinearOp>(op, op.getType(), op.getA(), w,
                                               bias);
    return success();
  }
};

struct RaiseLinearPass : vsa::impl::RaiseLinearPassBase<RaiseLinearPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseBiasedLinear, RaiseMatmulLinear, RaiseGemmLinear>(
        &getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

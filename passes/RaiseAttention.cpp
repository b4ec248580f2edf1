//===- RaiseAttention.cpp - softmax(q kᵀ) v chains -> dit.attention --------===//

#include "vsa/Support/Views.h"
#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

#include <set>

namespace vsa {
#define GEN_PASS_DEF_RAISEATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {


/// Strips `x * c` (c a splat constant that does not change x's shape),
/// multiplying `scale` by c.
Value stripScale(Value v, double &scale) {
  auto mul = v.getDefiningOp<dit::MulOp>();
  if (!mul || mul.getType() != mul.getLhs().getType())
    return v;
  if (auto c = splatValue(mul.getRhs())) {
    scale *= *c;
    return mul.getLhs();
  }
  return v;
}

int64_t rankOf(Value v) { return cast<RankedTensorType>(v.getType()).getRank(); }

/// matmul(softmax(matmul(q, kᵀ) [* c] [+ mask]) [nan->0], v) -> attention.
struct RaiseSoftmaxAttention : OpRewritePattern<dit::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(dit::MatmulOp pv,
                                PatternRewriter &rewriter) const override {
    Value probs = pv.getLhs(), v = pv.getRhs();
    if (rankOf(probs) != 4 || rankOf(v) != 4 || !probs.hasOneUse())
      return failure();
    // Fully masked rows give NaN after softmax; the exporter zeroes them.
    Operation *nanGuard = nullptr;
    if (auto where = probs.getDefiningOp<dit::WhereOp>()) {
      auto isnan = where.getCondition().getDefiningOp<dit::IsNanOp>();
      auto zero = splatValue(where.getLhs());
      if (!isnan || isnan.getInput() != where.getRhs() || !zero || *zero != 0 ||
          !isnan->hasOneUse())
        return failure();
      nanGuard = isnan;
      probs = where.getRhs();
    }
    auto softmax = probs.getDefiningOp<dit::SoftmaxOp>();
    if (!softmax || int64_t(softmax.getAxis()) != 3)
      return failure();
    // Probabilities used elsewhere must stay materialised: their only users
    // are the value matmul, or the NaN guard (isnan and where).
    Operation *probsUser = pv.getLhs().getDefiningOp() == softmax
                               ? pv.getOperation()
                               : pv.getLhs().getDefiningOp();
    for (Operation *user : probs.getUsers())
      if (user != probsUser && user != nanGuard)
        return failure();
    if (!softmax.getInput().hasOneUse())
      return failure();
    double scale = 1.0;
    Value scores = softmax.getInput(), mask;
    if (auto add = scores.getDefiningOp<dit::AddOp>()) {
      if (add.getType() != add.getLhs().getType())
        return failure();
      mask = add.getRhs();
      scores = add.getLhs();
    }
    scores = stripScale(scores, scale);
    auto qk = scores.getDefiningOp<dit::MatmulOp>();
    if (!qk || !scores.hasOneUse())
      return failure();
    Value q = stripScale(qk.getLhs(), scale);
    Value kT = stripScale(qk.getRhs(), scale);
    if (rankOf(q) != 4 || rankOf(kT) != 4 || scale <= 0)
      return failure();
    auto view = traceToPermutation(kT);
    if (!view)
      return failure();
    // k = transpose(source, perm ∘ swap(2, 3)); checked before any IR change.
    SmallVector<int64_t> kPerm(view->perm);
    std::swap(kPerm[2], kPerm[3]);
    auto srcType = cast<RankedTensorType>(view->source.getType());
    SmallVector<int64_t> kShape;
    for (int64_t p : kPerm)
      kShape.push_back(srcType.getDimSize(p));
    auto qType = cast<RankedTensorType>(q.getType());
    if (srcType.getElementType() != qType.getElementType() ||
        kShape[3] != qType.getDimSize(3))
      return failure();
    Value k = view->source;
    if (!llvm::equal(kPerm, llvm::seq<int64_t>(0, 4)))
      k = dit::TransposeOp::create(
          rewriter, pv.getLoc(),
          RankedTensorType::get(kShape, srcType.getElementType()), k, kPerm);
    rewriter.replaceOpWithNewOp<dit::AttentionOp>(
        pv, pv.getType(), q, k, v, mask, /*gate=*/Value(),
        rewriter.getF64FloatAttr(scale),
        rewriter.getBoolAttr(false), dit::AttentionRoleAttr(),
        dit::VideoGeometryAttr(), dit::SparsityAttr());
    return success();
  }
};

/// The activations a value is projected from: the inputs of the matmuls and
/// gemms reached going backwards, not past them, nor into weights.
std::set<void *> projectionSources(Value root) {
  std::set<void *> sources;
  walkBackward(root, [&](Value v, SmallVectorImpl<Value> &next) {
    Operation *op = v.getDefiningOp();
    if (!op || isa<dit::AttentionOp>(op))
      sources.insert(v.getAsOpaquePointer());
    else if (auto mm = dyn_cast<dit::MatmulOp>(op))
      sources.insert(mm.getLhs().getAsOpaquePointer());
    else if (auto gemm = dyn_cast<dit::GemmOp>(op))
      sources.insert(gemm.getA().getAsOpaquePointer());
    else if (auto lin = dyn_cast<dit::LinearOp>(op))
      sources.insert(lin.getInput().getAsOpaquePointer());
    else if (!isa<dit::ParamOp, dit::ConstantOp>(op))
      next.append(op->operand_begin(), op->operand_end());
    return true;
  });
  return sources;
}

void assignRole(dit::AttentionOp op) {
  if (op.getRole())
    return;
  bool self = projectionSources(op.getQuery()) == projectionSources(op.getKey());
  op.setRoleAttr(dit::AttentionRoleAttr::get(
      op.getContext(), self ? dit::AttentionRole::self : dit::AttentionRole::cross));
}

struct RaiseAttentionPass
    : vsa::impl::RaiseAttentionPassBase<RaiseAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseSoftmaxAttention>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
    getOperation().walk(assignRole);
  }
};

} // namespace

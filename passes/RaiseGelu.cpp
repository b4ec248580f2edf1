//===- RaiseGelu.cpp - decomposed GELU -> dit.gelu -------------------------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

#include <cmath>

namespace vsa {
#define GEN_PASS_DEF_RAISEGELUPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {


/// Constants are compared with a relative tolerance: exporters write them
/// rounded to the element type.
bool near(double value, double expected) {
  return std::fabs(value - expected) <= 1e-6 * std::fabs(expected);
}

/// A product flattened through mul (either order), division by a constant
/// and pow(·, 3): the product of its constant factors and the others.
/// Intermediate values must have one use (they disappear with the rewrite).
struct Product {
  double scale = 1.0;
  SmallVector<Value, 4> factors;
};

void flatten(Value v, Product &p, bool root = false) {
  if (auto c = splatValue(v)) {
    p.scale *= *c;
    return;
  }
  if (p.factors.size() > 4 || (!root && !v.hasOneUse())) {
    p.factors.push_back(v);
    return;
  }
  if (auto mul = v.getDefiningOp<dit::MulOp>()) {
    flatten(mul.getLhs(), p);
    flatten(mul.getRhs(), p);
    return;
  }
  if (auto div = v.getDefiningOp<dit::DivOp>()) {
    if (auto c = splatValue(div.getRhs()); c && *c != 0) {
      p.scale /= *c;
      flatten(div.getLhs(), p);
      return;
    }
  }
  if (auto pow = v.getDefiningOp<dit::PowOp>()) {
    if (splatValue(pow.getRhs()) == 3.0) {
      p.factors.append(3, pow.getLhs());
      return;
    }
  }
  p.factors.push_back(v);
}

Product productOf(Value v, bool root = false) {
  Product p;
  flatten(v, p, root);
  return p;
}

/// Whether `p` is `scale * x` with the given scale.
bool isScaled(const Product &p, Value x, double scale) {
  return p.factors.size() == 1 && p.factors[0] == x && near(p.scale, scale);
}

/// sqrt(2/pi) * (x + 0.044715 * x^3), the sum in either order.
bool isTanhArgument(Value t, Value x) {
  Product p = productOf(t);
  if (p.factors.size() != 1 || !near(p.scale, std::sqrt(2.0 / M_PI)))
    return false;
  auto add = p.factors[0].getDefiningOp<dit::AddOp>();
  if (!add || !add->hasOneUse())
    return false;
  for (auto [a, cube] : {std::pair(add.getLhs(), add.getRhs()),
                         std::pair(add.getRhs(), add.getLhs())}) {
    Product c = productOf(cube);
    if (a == x && near(c.scale, 0.044715) &&
        c.factors == SmallVector<Value, 4>(3, x))
      return true;
  }
  return false;
}

/// x / sqrt(2), or x * 0.7071...
bool isErfArgument(Value e, Value x) {
  return isScaled(productOf(e), x, 1.0 / std::sqrt(2.0));
}

/// The approximation of a `1 + tanh(...)` / `1 + erf(...)` factor of x.
std::optional<dit::GeluApproximation> onePlus(Value s, Value x) {
  auto add = s.getDefiningOp<dit::AddOp>();
  if (!add || !add->hasOneUse())
    return std::nullopt;
  for (auto [one, f] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())}) {
    if (splatValue(one) != 1.0 || !f.hasOneUse())
      continue;
    if (auto tanh = f.getDefiningOp<dit::TanhOp>())
      if (isTanhArgument(tanh.getInput(), x))
        return dit::GeluApproximation::tanh;
    if (auto erf = f.getDefiningOp<dit::ErfOp>())
      if (isErfArgument(erf.getInput(), x))
        return dit::GeluApproximation::none;
  }
  return std::nullopt;
}

/// 0.5 * x * (1 + tanh|erf(...)), the products in any order and grouping.
struct RaiseGelu : OpRewritePattern<dit::MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dit::MulOp op,
                                PatternRewriter &rewriter) const override {
    Product p = productOf(op.getResult(), /*root=*/true);
    if (p.factors.size() != 2 || !near(p.scale, 0.5))
      return failure();
    for (auto [x, s] : {std::pair(p.factors[0], p.factors[1]),
                        std::pair(p.factors[1], p.factors[0])}) {
      if (x.getType() != op.getType())
        continue;
      if (auto approximate = onePlus(s, x)) {
        rewriter.replaceOpWithNewOp<dit::GeluOp>(op, op.getType(), x,
                                                 *approximate);
        return success();
      }
    }
    return failure();
  }
};

struct RaiseGeluPass : vsa::impl::RaiseGeluPassBase<RaiseGeluPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseGelu>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

//===- RaiseRope.cpp - decomposed interleaved RoPE -> dit.rope -------------===//
//
// Wan's real-valued RoPE as the exporters write it:
//   x1, x2 = lanes 0 and 1 of x (..., D/2, 2)   (or x[..., 0::2], x[..., 1::2])
//   even = x1·cos − x2·sin,  odd = x1·sin + x2·cos
//   out = scatter_nd(scatter_nd(base, I0, evenᵀ), I1, oddᵀ)
// where ᵀ is one transpose Q (identity in TorchScript exports) and the
// constant index tables I0/I1 address exactly the even and odd lanes of the
// last axis of x. The two scatters overwrite all of `base`.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/dit/ShapeInference.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace vsa {
#define GEN_PASS_DEF_RAISEROPEPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {


/// One lane (0: even, 1: odd) of the last axis of a tensor. `paired`: `src`
/// is (..., D/2, 2) and the lane is a unit slice of its last axis, reshaped
/// away; otherwise `src` is (..., D) and the lane a stride-2 slice.
struct Lane {
  Value src;
  bool paired;
  int64_t parity;
  bool sameSource(const Lane &o) const {
    return src == o.src && paired == o.paired;
  }
};

/// Whether `s` keeps every axis whole except the last, where it starts at
/// `offset` with stride `stride`.
std::optional<int64_t> lastAxisOffset(dit::SliceOp s, int64_t stride) {
  ArrayRef<int64_t> in = shapeOf(s.getInput()), out = s.getType().getShape();
  size_t last = in.size() - 1;
  for (size_t d = 0; d < last; ++d)
    if (s.getOffsets()[d] != 0 || s.getStrides()[d] != 1 || in[d] != out[d])
      return std::nullopt;
  if (s.getStrides()[last] != stride)
    return std::nullopt;
  return s.getOffsets()[last];
}

std::optional<Lane> laneOf(Value v) {
  if (auto s = v.getDefiningOp<dit::SliceOp>()) {
    ArrayRef<int64_t> in = shapeOf(s.getInput()), out = s.getType().getShape();
    auto off = lastAxisOffset(s, 2);
    if (!off || *off > 1 || in.empty() || in.back() % 2 != 0 ||
        out.back() != in.back() / 2)
      return std::nullopt;
    return Lane{s.getInput(), false, *off};
  }
  auto r = v.getDefiningOp<dit::ReshapeOp>();
  auto s = r ? r.getInput().getDefiningOp<dit::SliceOp>() : dit::SliceOp();
  if (!s)
    return std::nullopt;
  ArrayRef<int64_t> in = shapeOf(s.getInput()), out = s.getType().getShape();
  auto off = lastAxisOffset(s, 1);
  if (!off || *off > 1 || in.size() < 2 || in.back() != 2 || out.back() != 1 ||
      r.getType().getShape() != out.drop_back())
    return std::nullopt;
  return Lane{s.getInput(), true, *off};
}

/// `m` = a · b in either operand order, used once.
bool isProduct(Value m, Value a, Value b) {
  auto mul = m.getDefiningOp<dit::MulOp>();
  return mul && mul->hasOneUse() &&
         ((mul.getLhs() == a && mul.getRhs() == b) ||
          (mul.getLhs() == b && mul.getRhs() == a));
}

/// `m` = lane · table (either order, used once): the lane and the table.
std::optional<std::pair<Lane, Value>> laneProduct(Value m, Value &laneValue) {
  auto mul = m.getDefiningOp<dit::MulOp>();
  if (!mul || !mul->hasOneUse())
    return std::nullopt;
  for (auto [l, t] : {std::pair(mul.getLhs(), mul.getRhs()),
                      std::pair(mul.getRhs(), mul.getLhs())})
    if (auto lane = laneOf(l); lane && l.getType() == mul.getType()) {
      laneValue = l;
      return std::pair(*lane, t);
    }
  return std::nullopt;
}

struct Rotation {
  Lane lane;   // lane 0 of x
  Value x1, x2, cos, sin;
};

/// even = x1·cos − x2·sin and odd = x1·sin + x2·cos.
std::optional<Rotation> matchRotation(Value even, Value odd) {
  auto sub = even.getDefiningOp<dit::SubOp>();
  auto add = odd.getDefiningOp<dit::AddOp>();
  if (!sub || !add || !sub->hasOneUse() || !add->hasOneUse() ||
      sub.getType() != add.getType())
    return std::nullopt;
  Rotation r;
  auto a = laneProduct(sub.getLhs(), r.x1);
  auto b = laneProduct(sub.getRhs(), r.x2);
  if (!a || !b || a->first.parity != 0 || b->first.parity != 1 ||
      !a->first.sameSource(b->first) || r.x1.getType() != sub.getType())
    return std::nullopt;
  r.lane = a->first;
  r.cos = a->second;
  r.sin = b->second;
  Value p = add.getLhs(), q = add.getRhs();
  if (!(isProduct(p, r.x1, r.sin) && isProduct(q, r.x2, r.cos)) &&
      !(isProduct(q, r.x1, r.sin) && isProduct(p, r.x2, r.cos)))
    return std::nullopt;
  ArrayRef<int64_t> pairs = shapeOf(even);
  if (!dit::broadcastsTo(shapeOf(r.cos), pairs) ||
      !dit::broadcastsTo(shapeOf(r.sin), pairs))
    return std::nullopt;
  return r;
}

/// The updates of `s` with the transpose in front of them peeled off.
std::pair<Value, SmallVector<int64_t>> peelTranspose(dit::ScatterNdOp s) {
  Value u = s.getUpdates();
  if (auto t = u.getDefiningOp<dit::TransposeOp>(); t && t->hasOneUse())
    return {t.getInput(), SmallVector<int64_t>(t.getPerm())};
  SmallVector<int64_t> id(shapeOf(u).size());
  for (size_t i = 0; i < id.size(); ++i)
    id[i] = int64_t(i);
  return {u, id};
}

/// Which lane (0 or 1) of the last axis of x the scatter `s` writes, where
/// its data is x transposed by `perm` and its updates are the pairs
/// transposed by `perm`; nullopt unless the constant index table sends pair
/// i of every row to lane 2i + parity of the same row.
std::optional<int64_t> scatteredLane(dit::ScatterNdOp s, ArrayRef<int64_t> perm,
                                     ArrayRef<int64_t> xShape) {
  DenseElementsAttr table;
  if (s.getReduction() != dit::ScatterReduction::none ||
      !matchPattern(s.getIndices(), m_Constant(&table)))
    return std::nullopt;
  ArrayRef<int64_t> ind = shapeOf(s.getIndices()), data = shapeOf(s.getData());
  int64_t rank = xShape.size(), k = ind.back();
  if (int64_t(ind.size()) != k + 1 || int64_t(data.size()) != rank)
    return std::nullopt;
  int64_t laneAxis = -1;
  for (int64_t a = 0; a < rank; ++a) {
    if (data[a] != xShape[perm[a]])
      return std::nullopt;
    if (perm[a] == rank - 1)
      laneAxis = a;
  }
  if (laneAxis < 0 || laneAxis >= k)
    return std::nullopt;
  for (int64_t a = 0; a < k; ++a)
    if (ind[a] != (a == laneAxis ? data[a] / 2 : data[a]))
      return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &v : table.getValues<APInt>())
    values.push_back(v.getSExtValue());
  std::optional<int64_t> parity;
  SmallVector<int64_t> pos(k, 0);
  for (size_t e = 0; e < values.size(); e += k) {
    for (int64_t a = 0; a < k; ++a) {
      int64_t want = pos[a];
      if (a == laneAxis) {
        if (!parity)
          parity = values[e + a] - 2 * pos[a];
        want = 2 * pos[a] + *parity;
      }
      if (values[e + a] != want)
        return std::nullopt;
    }
    for (int64_t a = k - 1; a >= 0 && ++pos[a] == ind[a]; --a)
      pos[a] = 0;
  }
  if (!parity || (*parity != 0 && *parity != 1))
    return std::nullopt;
  return parity;
}

/// Rooted at the second scatter: scatter(scatter(base, I, a), J, b).
struct RaiseInterleavedRope : OpRewritePattern<dit::ScatterNdOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dit::ScatterNdOp outer,
                                PatternRewriter &rewriter) const override {
    auto inner = outer.getData().getDefiningOp<dit::ScatterNdOp>();
    if (!inner || !inner->hasOneUse())
      return failure();
    auto [first, perm] = peelTranspose(inner);
    auto [second, perm2] = peelTranspose(outer);
    if (perm != perm2 || first.getType() != second.getType())
      return failure();
    SmallVector<int64_t> xShape(shapeOf(first));
    if (xShape.empty())
      return failure();
    xShape.back() *= 2;
    auto p = scatteredLane(inner, perm, xShape);
    auto q = scatteredLane(outer, perm, xShape);
    if (!p || !q || *p == *q)
      return failure();
    auto rot = *p == 0 ? matchRotation(first, second)
                       : matchRotation(second, first);
    if (!rot)
      return failure();

    Location loc = outer.getLoc();
    auto xType = cast<RankedTensorType>(first.getType()).clone(xShape);
    Value x = rot->lane.src;
    if (rot->lane.paired) {
      if (auto r = x.getDefiningOp<dit::ReshapeOp>())
        x = r.getInput();
      if (x.getType() != xType)
        x = dit::ReshapeOp::create(rewriter, loc, xType, x);
    }
    Value rope = dit::RopeOp::create(rewriter, loc, xType, x, rot->cos,
                                     rot->sin, rewriter.getUnitAttr());
    if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
      rope = dit::TransposeOp::create(rewriter, loc, outer.getType(), rope,
                                      rewriter.getDenseI64ArrayAttr(perm));
    rewriter.replaceOp(outer, rope);
    return success();
  }
};

struct RaiseRopePass : vsa::impl::RaiseRopePassBase<RaiseRopePass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseInterleavedRope>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

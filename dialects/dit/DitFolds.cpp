//===- DitFolds.cpp - folders and canonicalizations of dit ops -------------===//
//
// Folding matters for the importer: ONNX graphs compute shapes, scales and
// index tables with chains of small ops (Shape -> Gather -> Concat -> Reshape,
// Shape -> Gather -> Sqrt -> Div). Folding those to constants gives static
// shapes. Large tensors are never folded (kFoldLimit).
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/dit/ShapeInference.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace vsa::dit;

namespace {

constexpr int64_t kFoldLimit = 1 << 20;

/// A constant tensor unpacked for evaluation: floats as doubles (exact for
/// f16/bf16/f32), integers and i1 as int64.
struct ConstTensor {
  RankedTensorType type;
  std::vector<double> f;
  std::vector<int64_t> i;
  bool isFloat() const { return isa<FloatType>(type.getElementType()); }
  int64_t size() const { return isFloat() ? f.size() : i.size(); }
};

std::optional<ConstTensor> unpack(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(dense.getType());
  if (!type || type.getNumElements() > kFoldLimit)
    return std::nullopt;
  ConstTensor c{type, {}, {}};
  Type et = type.getElementType();
  if (isa<FloatType>(et)) {
    for (APFloat v : dense.getValues<APFloat>()) {
      bool lost;
      v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      c.f.push_back(v.convertToDouble());
    }
    return c;
  }
  auto it = dyn_cast<IntegerType>(et);
  if (!it)
    return std::nullopt;
  for (const APInt &v : dense.getValues<APInt>())
    c.i.push_back(it.getWidth() == 1 || it.isUnsigned() ? (int64_t)v.getZExtValue()
                                                        : v.getSExtValue());
  return c;
}

/// Packs values into a DenseElementsAttr of `type`.
Attribute pack(RankedTensorType type, ArrayRef<double> f, ArrayRef<int64_t> i) {
  Type et = type.getElementType();
  if (auto ft = dyn_cast<FloatType>(et)) {
    SmallVector<APFloat> vals;
    for (double d : f) {
      APFloat v(d);
      bool lost;
      v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(v);
    }
    return DenseElementsAttr::get(type, vals);
  }
  auto it = cast<IntegerType>(et);
  SmallVector<APInt> vals;
  for (int64_t v : i)
    vals.push_back(APInt(it.getWidth(), it.getWidth() == 1 ? (v != 0) : v,
                         /*isSigned=*/!it.isUnsigned(), /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, vals);
}

/// For each element of `outShape`, the flat index of the element of
/// `inShape` that numpy broadcasting reads.
std::vector<int64_t> broadcastIndices(ArrayRef<int64_t> inShape,
                                      ArrayRef<int64_t> outShape) {
  size_t rank = outShape.size(), off = rank - inShape.size();
  SmallVector<int64_t> inStride(rank, 0);
  int64_t s = 1;
  for (int64_t d = inShape.size() - 1; d >= 0; --d) {
    inStride[off + d] = inShape[d] == 1 ? 0 : s;
    s *= inShape[d];
  }
  int64_t n = numElements(outShape);
  std::vector<int64_t> idx(n);
  SmallVector<int64_t> counter(rank, 0);
  int64_t cur = 0;
  for (int64_t k = 0; k < n; ++k) {
    idx[k] = cur;
    for (int64_t d = rank - 1; d >= 0; --d) {
      cur += inStride[d];
      if (++counter[d] < outShape[d])
        break;
      cur -= inStride[d] * counter[d];
      counter[d] = 0;
    }
  }
  return idx;
}

/// Evaluates an elementwise op over broadcast constant operands.
template <typename FloatFn, typename IntFn>
Attribute foldElementwise(RankedTensorType resultType,
                          ArrayRef<Attribute> operands, FloatFn ffn, IntFn ifn) {
  if (resultType.getNumElements() > kFoldLimit)
    return {};
  // Splat operands (ConstantOfShape makes large ones from a few bytes) give
  // a splat: evaluate one element, not a million.
  if (resultType.getNumElements() > 1 &&
      llvm::all_of(operands, [](Attribute a) {
        auto dense = dyn_cast_or_null<DenseElementsAttr>(a);
        return dense && dense.isSplat();
      })) {
    SmallVector<Attribute> scalars;
    for (Attribute a : operands) {
      auto dense = cast<DenseElementsAttr>(a);
      scalars.push_back(dense.resizeSplat(
          RankedTensorType::get({}, dense.getElementType())));
    }
    auto scalar = dyn_cast_or_null<DenseElementsAttr>(foldElementwise(
        RankedTensorType::get({}, resultType.getElementType()), scalars, ffn,
        ifn));
    return scalar ? scalar.resizeSplat(resultType) : Attribute();
  }
  SmallVector<ConstTensor> ins;
  for (Attribute a : operands) {
    auto c = unpack(a);
    if (!c)
      return {};
    ins.push_back(std::move(*c));
  }
  SmallVector<std::vector<int64_t>> maps;
  for (ConstTensor &c : ins)
    maps.push_back(broadcastIndices(c.type.getShape(), resultType.getShape()));
  int64_t n = resultType.getNumElements();
  bool floatResult = isa<FloatType>(resultType.getElementType());
  std::vector<double> f;
  std::vector<int64_t> i;
  for (int64_t k = 0; k < n; ++k) {
    if (ins.back().isFloat()) {
      SmallVector<double, 3> args;
      for (auto [c, m] : llvm::zip(ins, maps))
        args.push_back(c.isFloat() ? c.f[m[k]] : double(c.i[m[k]]));
      double r = ffn(args);
      if (floatResult)
        f.push_back(r);
      else
        i.push_back(int64_t(r));
    } else {
      SmallVector<int64_t, 3> args;
      for (auto [c, m] : llvm::zip(ins, maps))
        args.push_back(c.i[m[k]]);
      std::optional<int64_t> r = ifn(args);
      if (!r)
        return {};
      i.push_back(*r);
    }
  }
  return pack(resultType, f, i);
}

template <typename FloatFn, typename IntFn>
Attribute foldBinary(Operation *op, ArrayRef<Attribute> operands, FloatFn ffn,
                     IntFn ifn) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  return foldElementwise(
      type, operands,
      [&](ArrayRef<double> a) { return ffn(a[0], a[1]); },
      [&](ArrayRef<int64_t> a) { return ifn(a[0], a[1]); });
}

/// Whether `attr` is a constant whose every element equals `value`.
bool isSplatOf(Attribute attr, double value) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || !dense.isSplat())
    return false;
  if (isa<FloatType>(dense.getElementType())) {
    APFloat v = dense.getSplatValue<APFloat>();
    bool lost;
    v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    return v.convertToDouble() == value;
  }
  // i1 true and unsigned values read as in unpack(): zero-extended.
  APInt v = dense.getSplatValue<APInt>();
  bool zext =
      v.getBitWidth() == 1 || dense.getElementType().isUnsignedInteger();
  int64_t x = zext ? int64_t(v.getZExtValue()) : v.getSExtValue();
  return x == int64_t(value);
}

/// `x op identity` folds to x when that keeps the type.
OpFoldResult foldIdentityRhs(Operation *op, ArrayRef<Attribute> operands,
                             double identity) {
  Value lhs = op->getOperand(0);
  if (isSplatOf(operands[1], identity) &&
      lhs.getType() == op->getResult(0).getType())
    return lhs;
  return {};
}


} // namespace

/// Two's-complement wrap-around, as the integer ops compute at run time
/// (signed overflow would be undefined behaviour in the folder itself).
static int64_t wrap(uint64_t v) { return static_cast<int64_t>(v); }

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult AddOp::fold(FoldAdaptor a) {
  if (auto r = foldBinary(*this, a.getOperands(),
                          [](double x, double y) { return x + y; },
                          [](int64_t x, int64_t y) -> std::optional<int64_t> {
                            return wrap(uint64_t(x) + uint64_t(y));
                          }))
    return r;
  if (isSplatOf(a.getLhs(), 0) && getRhs().getType() == getType())
    return getRhs();
  return foldIdentityRhs(*this, a.getOperands(), 0);
}

OpFoldResult SubOp::fold(FoldAdaptor a) {
  if (auto r = foldBinary(*this, a.getOperands(),
                          [](double x, double y) { return x - y; },
                          [](int64_t x, int64_t y) -> std::optional<int64_t> {
                            return wrap(uint64_t(x) - uint64_t(y));
                          }))
    return r;
  return foldIdentityRhs(*this, a.getOperands(), 0);
}

OpFoldResult MulOp::fold(FoldAdaptor a) {
  if (auto r = foldBinary(*this, a.getOperands(),
                          [](double x, double y) { return x * y; },
                          [](int64_t x, int64_t y) -> std::optional<int64_t> {
                            return wrap(uint64_t(x) * uint64_t(y));
                          }))
    return r;
  if (isSplatOf(a.getLhs(), 1) && getRhs().getType() == getType())
    return getRhs();
  return foldIdentityRhs(*this, a.getOperands(), 1);
}

OpFoldResult DivOp::fold(FoldAdaptor a) {
  if (auto r = foldBinary(*this, a.getOperands(),
                          [](double x, double y) { return x / y; },
                          [](int64_t x, int64_t y) -> std::optional<int64_t> {
                            if (y == 0)
                              return std::nullopt;
                            // INT64_MIN / -1 traps; it wraps to x.
                            return y == -1 ? int64_t(0 - uint64_t(x)) : x / y;
                          }))
    return r;
  return foldIdentityRhs(*this, a.getOperands(), 1);
}

OpFoldResult PowOp::fold(FoldAdaptor a) {
  if (auto r = foldBinary(
          *this, a.getOperands(),
          [](double x, double y) { return std::pow(x, y); },
          [](int64_t x, int64_t y) -> std::optional<int64_t> {
            if (y < 0)
              return std::nullopt;
            // Square and multiply, wrapping modulo 2^64.
            uint64_t acc = 1, b = x;
            for (uint64_t e = y; e; e >>= 1, b *= b)
              if (e & 1)
                acc *= b;
            return int64_t(acc);
          }))
    return r;
  return foldIdentityRhs(*this, a.getOperands(), 1);
}

OpFoldResult MaxOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(),
                    [](double x, double y) {
                      return std::isnan(x) || std::isnan(y) ? NAN
                                                            : std::max(x, y);
                    },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> {
                      return std::max(x, y);
                    });
}

OpFoldResult MinOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(),
                    [](double x, double y) {
                      return std::isnan(x) || std::isnan(y) ? NAN
                                                            : std::min(x, y);
                    },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> {
                      return std::min(x, y);
                    });
}

OpFoldResult ModOp::fold(FoldAdaptor a) {
  bool cStyle = getFmod();
  return foldBinary(
      *this, a.getOperands(),
      [cStyle](double x, double y) {
        double r = std::fmod(x, y);
        if (!cStyle && r != 0 && ((r < 0) != (y < 0)))
          r += y;
        return r;
      },
      [cStyle](int64_t x, int64_t y) -> std::optional<int64_t> {
        if (y == 0)
          return std::nullopt;
        int64_t r = y == -1 ? 0 : x % y; // INT64_MIN % -1 traps
        if (!cStyle && r != 0 && ((r < 0) != (y < 0)))
          r += y;
        return r;
      });
}

OpFoldResult AndOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double, double) { return 0.0; },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> {
                      return x && y;
                    });
}
OpFoldResult OrOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double, double) { return 0.0; },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> {
                      return x || y;
                    });
}
OpFoldResult XorOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double, double) { return 0.0; },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> {
                      return bool(x) != bool(y);
                    });
}

template <typename T>
static bool comparePredicate(CmpPredicate p, T x, T y) {
  switch (p) {
  case CmpPredicate::eq: return x == y;
  case CmpPredicate::lt: return x < y;
  case CmpPredicate::le: return x <= y;
  case CmpPredicate::gt: return x > y;
  case CmpPredicate::ge: return x >= y;
  }
  return false;
}

OpFoldResult CompareOp::fold(FoldAdaptor a) {
  CmpPredicate p = getPredicate();
  return foldElementwise(
      getType(), {a.getLhs(), a.getRhs()},
      [p](ArrayRef<double> v) { return double(comparePredicate(p, v[0], v[1])); },
      [p](ArrayRef<int64_t> v) -> std::optional<int64_t> {
        return comparePredicate(p, v[0], v[1]);
      });
}

OpFoldResult WhereOp::fold(FoldAdaptor a) {
  if (isSplatOf(a.getCondition(), 1) && getLhs().getType() == getType())
    return getLhs();
  if (isSplatOf(a.getCondition(), 0) && getRhs().getType() == getType())
    return getRhs();
  if (getLhs() == getRhs() && getLhs().getType() == getType())
    return getLhs();
  auto cond = unpack(a.getCondition());
  if (!cond)
    return {};
  // Evaluate as a ternary elementwise op; the condition is an int operand.
  auto lhs = unpack(a.getLhs()), rhs = unpack(a.getRhs());
  if (!lhs || !rhs || getType().getNumElements() > kFoldLimit)
    return {};
  ArrayRef<int64_t> out = getType().getShape();
  auto mc = broadcastIndices(cond->type.getShape(), out);
  auto ml = broadcastIndices(lhs->type.getShape(), out);
  auto mr = broadcastIndices(rhs->type.getShape(), out);
  std::vector<double> f;
  std::vector<int64_t> i;
  for (size_t k = 0; k < mc.size(); ++k) {
    bool c = cond->i[mc[k]] != 0;
    if (lhs->isFloat())
      f.push_back(c ? lhs->f[ml[k]] : rhs->f[mr[k]]);
    else
      i.push_back(c ? lhs->i[ml[k]] : rhs->i[mr[k]]);
  }
  return pack(getType(), f, i);
}

template <typename UnOp, typename Fn>
static OpFoldResult foldUnary(UnOp op, Attribute input, Fn fn) {
  return foldElementwise(
      cast<RankedTensorType>(op.getType()), {input},
      [&](ArrayRef<double> v) { return fn(v[0]); },
      [&](ArrayRef<int64_t> v) -> std::optional<int64_t> {
        return int64_t(fn(double(v[0])));
      });
}

OpFoldResult SqrtOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return std::sqrt(x); });
}
OpFoldResult ReciprocalOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return 1.0 / x; });
}
// neg and abs also take integers: evaluate those exactly, not via double.
OpFoldResult NegOp::fold(FoldAdaptor a) {
  return foldElementwise(
      getType(), {a.getInput()}, [](ArrayRef<double> v) { return -v[0]; },
      [](ArrayRef<int64_t> v) -> std::optional<int64_t> {
        return int64_t(0 - uint64_t(v[0]));
      });
}
OpFoldResult AbsOp::fold(FoldAdaptor a) {
  return foldElementwise(
      getType(), {a.getInput()},
      [](ArrayRef<double> v) { return std::fabs(v[0]); },
      [](ArrayRef<int64_t> v) -> std::optional<int64_t> {
        return v[0] < 0 ? int64_t(0 - uint64_t(v[0])) : v[0];
      });
}
OpFoldResult ExpOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return std::exp(x); });
}
OpFoldResult LogOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return std::log(x); });
}
OpFoldResult SinOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return std::sin(x); });
}
OpFoldResult CosOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return std::cos(x); });
}
OpFoldResult TanhOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return std::tanh(x); });
}
OpFoldResult SigmoidOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(),
                   [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
}
OpFoldResult ErfOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return std::erf(x); });
}
OpFoldResult FloorOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return std::floor(x); });
}
OpFoldResult CeilOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return std::ceil(x); });
}
OpFoldResult ReluOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return x > 0 ? x : 0.0; });
}
OpFoldResult NotOp::fold(FoldAdaptor a) {
  return foldUnary(*this, a.getInput(), [](double x) { return x == 0 ? 1.0 : 0.0; });
}
OpFoldResult IsNanOp::fold(FoldAdaptor a) {
  return foldElementwise(
      getType(), {a.getInput()},
      [](ArrayRef<double> v) { return double(std::isnan(v[0])); },
      [](ArrayRef<int64_t>) -> std::optional<int64_t> { return std::nullopt; });
}

OpFoldResult CastOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  auto in = unpack(a.getInput());
  if (!in)
    return {};
  bool toFloat = isa<FloatType>(getType().getElementType());
  bool toBool = getType().getElementType().isInteger(1);
  std::vector<double> f;
  std::vector<int64_t> i;
  for (int64_t k = 0; k < in->size(); ++k) {
    double v = in->isFloat() ? in->f[k] : double(in->i[k]);
    if (toFloat)
      f.push_back(in->isFloat() ? in->f[k] : double(in->i[k]));
    else if (toBool)
      i.push_back(v != 0);
    else if (in->isFloat()) {
      // Out of int64's range (or NaN) the conversion is undefined.
      if (!(v >= -0x1p63 && v < 0x1p63))
        return {};
      i.push_back(int64_t(v));
    } else {
      i.push_back(in->i[k]);
    }
  }
  return pack(getType(), f, i);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

OpFoldResult ReshapeOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(a.getInput()))
    return dense.reshape(getType());
  return {};
}

namespace {
/// reshape(broadcast(splat)) and reshape(constant splat) are handled by the
/// folder; this pattern sinks a reshape into a splat broadcast.
struct ReshapeOfSplatBroadcast : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto bc = op.getInput().getDefiningOp<BroadcastOp>();
    if (!bc || numElements(bc.getInput().getType().getShape()) != 1)
      return failure();
    auto scalarType = RankedTensorType::get(
        SmallVector<int64_t>(op.getType().getRank(), 1),
        op.getType().getElementType());
    Value scalar = ReshapeOp::create(rewriter, op.getLoc(), scalarType,
                                     bc.getInput());
    rewriter.replaceOpWithNewOp<BroadcastOp>(op, op.getType(), scalar);
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<ReshapeOfSplatBroadcast>(context);
}

/// Applies `perm` to the elements of a constant.
static Attribute transposeConstant(ConstTensor &in, RankedTensorType outType,
                                   ArrayRef<int64_t> perm) {
  ArrayRef<int64_t> inShape = in.type.getShape();
  int64_t rank = inShape.size();
  SmallVector<int64_t> inStride(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    inStride[d] = inStride[d + 1] * inShape[d + 1];
  ArrayRef<int64_t> outShape = outType.getShape();
  int64_t n = in.size();
  std::vector<double> f;
  std::vector<int64_t> i;
  SmallVector<int64_t> counter(rank, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += counter[d] * inStride[perm[d]];
    if (in.isFloat())
      f.push_back(in.f[src]);
    else
      i.push_back(in.i[src]);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++counter[d] < outShape[d])
        break;
      counter[d] = 0;
    }
  }
  return pack(outType, f, i);
}

OpFoldResult TransposeOp::fold(FoldAdaptor a) {
  ArrayRef<int64_t> perm = getPerm();
  bool identity = llvm::all_of(llvm::enumerate(perm), [](auto p) {
    return int64_t(p.index()) == p.value();
  });
  if (identity && getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(a.getInput()))
    if (dense.isSplat())
      return dense.resizeSplat(getType());
  if (auto in = unpack(a.getInput()))
    return transposeConstant(*in, getType(), perm);
  return {};
}

namespace {
/// transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2).
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(), inner.getInput(),
                                             perm);
    return success();
  }
};

/// A transpose that only moves unit axes is a reshape.
struct TransposeOfUnitAxesToReshape : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    SmallVector<int64_t> nonUnit;
    for (int64_t p : op.getPerm())
      if (shape[p] != 1)
        nonUnit.push_back(p);
    if (!llvm::is_sorted(nonUnit))
      return failure();
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getInput());
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ComposeTransposes, TransposeOfUnitAxesToReshape>(context);
}

OpFoldResult SliceOp::fold(FoldAdaptor a) {
  bool full = getInput().getType() == getType() &&
              llvm::all_of(getOffsets(), [](int64_t o) { return o == 0; }) &&
              llvm::all_of(getStrides(), [](int64_t s) { return s == 1; });
  if (full)
    return getInput();
  auto in = unpack(a.getInput());
  if (!in)
    return {};
  ArrayRef<int64_t> inShape = in->type.getShape();
  ArrayRef<int64_t> outShape = getType().getShape();
  int64_t rank = inShape.size();
  SmallVector<int64_t> inStride(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    inStride[d] = inStride[d + 1] * inShape[d + 1];
  std::vector<double> f;
  std::vector<int64_t> i;
  int64_t n = numElements(outShape);
  SmallVector<int64_t> counter(rank, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (getOffsets()[d] + counter[d] * getStrides()[d]) * inStride[d];
    if (in->isFloat())
      f.push_back(in->f[src]);
    else
      i.push_back(in->i[src]);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++counter[d] < outShape[d])
        break;
      counter[d] = 0;
    }
  }
  return pack(getType(), f, i);
}

OpFoldResult ConcatOp::fold(FoldAdaptor a) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  // Each input is within the limit; the result must be too.
  if (getType().getNumElements() > kFoldLimit)
    return {};
  SmallVector<ConstTensor> ins;
  for (Attribute attr : a.getInputs()) {
    auto c = unpack(attr);
    if (!c)
      return {};
    ins.push_back(std::move(*c));
  }
  int64_t rank = getType().getRank();
  int64_t axis = getAxis();
  if (axis < 0)
    axis += rank;
  // outer = product of dims before axis; each input contributes contiguous
  // chunks of (its axis extent x inner) per outer index.
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= getType().getDimSize(d);
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= getType().getDimSize(d);
  std::vector<double> f;
  std::vector<int64_t> i;
  for (int64_t o = 0; o < outer; ++o) {
    for (ConstTensor &c : ins) {
      int64_t chunk = c.type.getDimSize(axis) * inner;
      for (int64_t k = 0; k < chunk; ++k) {
        if (c.isFloat())
          f.push_back(c.f[o * chunk + k]);
        else
          i.push_back(c.i[o * chunk + k]);
      }
    }
  }
  return pack(getType(), f, i);
}

OpFoldResult BroadcastOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  auto dense = dyn_cast_or_null<DenseElementsAttr>(a.getInput());
  if (dense && dense.isSplat())
    return dense.resizeSplat(getType());
  return foldElementwise(
      getType(), {a.getInput()}, [](ArrayRef<double> v) { return v[0]; },
      [](ArrayRef<int64_t> v) -> std::optional<int64_t> { return v[0]; });
}

OpFoldResult GatherOp::fold(FoldAdaptor a) {
  // The result can be far larger than the input and the indices.
  if (getType().getNumElements() > kFoldLimit)
    return {};
  auto in = unpack(a.getInput());
  auto idx = unpack(a.getIndices());
  if (!in || !idx)
    return {};
  ArrayRef<int64_t> shape = in->type.getShape();
  int64_t axis = getAxis();
  if (axis < 0)
    axis += shape.size();
  int64_t outer = 1, inner = 1, extent = shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  std::vector<double> f;
  std::vector<int64_t> i;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j : idx->i) {
      if (j < -extent || j >= extent)
        return {};
      int64_t row = j < 0 ? j + extent : j;
      for (int64_t k = 0; k < inner; ++k) {
        int64_t src = (o * extent + row) * inner + k;
        if (in->isFloat())
          f.push_back(in->f[src]);
        else
          i.push_back(in->i[src]);
      }
    }
  }
  return pack(getType(), f, i);
}

//===- OpConverters.cpp - one converter per ONNX op type -------------------===//
//
// Each converter reads its node's inputs and attributes with the semantics of
// the model's opset, computes static result types with the shared shape rules
// and builds dit ops. Ops that only move shapes around (Shape, Size,
// ConstantOfShape, Range, Squeeze, Unsqueeze, Flatten) become constants or
// reshapes; Split becomes slices; Expand becomes a broadcast.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/IR/Matchers.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace vsa;
using namespace vsa::import;
using dit::Shape;

namespace {

using Results = FailureOr<SmallVector<Value>>;

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}
Type elementOf(Value v) { return cast<RankedTensorType>(v.getType()).getElementType(); }
RankedTensorType tensorType(ArrayRef<int64_t> shape, Type et) {
  return RankedTensorType::get(shape, et);
}

Results one(FailureOr<Value> v) {
  if (failed(v))
    return failure();
  return SmallVector<Value>{*v};
}

/// Gathers inputs 0..n-1, reporting the first missing one.
LogicalResult requireInputs(NodeContext &n, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (failed(n.input(i)))
      return failure();
  return success();
}

/// An attribute that became an input at `sinceOpset` is an error from then
/// on: ignoring it would silently change the result.
LogicalResult rejectMovedAttr(NodeContext &n, StringRef name,
                              int64_t sinceOpset) {
  if (n.opset >= sinceOpset && n.attr(name))
    return n.error() << "'" << name << "' is an input, not an attribute, "
                     << "since opset " << sinceOpset;
  return success();
}

LogicalResult requireFloat(NodeContext &n, Value v, StringRef what) {
  if (!isa<FloatType>(elementOf(v)))
    return n.error() << what << " must be a float tensor, got " << v.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

template <typename OpTy>
FailureOr<Value> buildBinary(NodeContext &n, Value lhs, Value rhs,
                             Type resultElement = {}) {
  if (elementOf(lhs) != elementOf(rhs)) {
    n.error() << "operand element types differ: " << elementOf(lhs) << " vs "
              << elementOf(rhs);
    return failure();
  }
  auto shape = dit::broadcastShapes({shapeOf(lhs), shapeOf(rhs)}, n.errorFn());
  if (failed(shape))
    return failure();
  Type et = resultElement ? resultElement : elementOf(lhs);
  return n.create<OpTy>(tensorType(*shape, et), lhs, rhs);
}

template <typename OpTy>
Results binary(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  return one(buildBinary<OpTy>(n, n.inputs[0], n.inputs[1]));
}

/// Sum/Max/Min over any number of inputs, folded left.
template <typename OpTy>
Results variadic(NodeContext &n) {
  if (failed(requireInputs(n, std::max<size_t>(n.numInputs(), 1))))
    return failure();
  Value acc = n.inputs[0];
  for (size_t i = 1; i < n.numInputs(); ++i) {
    auto next = buildBinary<OpTy>(n, acc, n.inputs[i]);
    if (failed(next))
      return failure();
    acc = *next;
  }
  return SmallVector<Value>{acc};
}

Results convertPow(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  Value base = n.inputs[0], exponent = n.inputs[1];
  if (elementOf(exponent) != elementOf(base)) {
    // ONNX lets the exponent have its own type; compute in the base's.
    auto cast = n.create<dit::CastOp>(
        tensorType(shapeOf(exponent), elementOf(base)), exponent);
    if (failed(cast))
      return failure();
    exponent = *cast;
  }
  return one(buildBinary<dit::PowOp>(n, base, exponent));
}

Results convertMod(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  auto fmod = n.intAttr("fmod", 0);
  if (failed(fmod))
    return failure();
  Value lhs = n.inputs[0], rhs = n.inputs[1];
  if (isa<FloatType>(elementOf(lhs)) && *fmod == 0)
    return n.error() << "Mod of floats needs fmod=1";
  if (elementOf(lhs) != elementOf(rhs))
    return n.error() << "operand element types differ: " << elementOf(lhs)
                     << " vs " << elementOf(rhs);
  auto shape = dit::broadcastShapes({shapeOf(lhs), shapeOf(rhs)}, n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::ModOp>(tensorType(*shape, elementOf(lhs)), lhs, rhs,
                                  *fmod != 0));
}

template <dit::CmpPredicate P>
Results compare(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  Value lhs = n.inputs[0], rhs = n.inputs[1];
  if (elementOf(lhs) != elementOf(rhs))
    return n.error() << "operand element types differ: " << elementOf(lhs)
                     << " vs " << elementOf(rhs);
  auto shape = dit::broadcastShapes({shapeOf(lhs), shapeOf(rhs)}, n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::CompareOp>(
      tensorType(*shape, n.b.getI1Type()),
      dit::CmpPredicateAttr::get(n.b.getContext(), P), lhs, rhs));
}

template <typename OpTy, bool FloatOnly = true>
Results unary(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  Value x = n.inputs[0];
  if (FloatOnly && failed(requireFloat(n, x, "input")))
    return failure();
  return one(n.create<OpTy>(x.getType(), x));
}

Results convertNot(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  if (!elementOf(n.inputs[0]).isInteger(1))
    return n.error() << "input must be a bool tensor";
  return one(n.create<dit::NotOp>(n.inputs[0].getType(), n.inputs[0]));
}

Results convertIsNaN(NodeContext &n) {
  if (failed(requireInputs(n, 1)) || failed(requireFloat(n, n.inputs[0], "input")))
    return failure();
  return one(n.create<dit::IsNanOp>(
      tensorType(shapeOf(n.inputs[0]), n.b.getI1Type()), n.inputs[0]));
}

Results convertGelu(NodeContext &n) {
  if (failed(requireInputs(n, 1)) || failed(requireFloat(n, n.inputs[0], "input")))
    return failure();
  auto approx = n.stringAttr("approximate", "none");
  if (failed(approx))
    return failure();
  auto kind = dit::symbolizeGeluApproximation(*approx);
  if (!kind)
    return n.error() << "approximate must be 'none' or 'tanh', got '" << *approx
                     << "'";
  return one(n.create<dit::GeluOp>(n.inputs[0].getType(), n.inputs[0], *kind));
}

Results convertWhere(NodeContext &n) {
  if (failed(requireInputs(n, 3)))
    return failure();
  Value c = n.inputs[0], x = n.inputs[1], y = n.inputs[2];
  if (!elementOf(c).isInteger(1))
    return n.error() << "condition must be a bool tensor";
  if (elementOf(x) != elementOf(y))
    return n.error() << "branch element types differ: " << elementOf(x)
                     << " vs " << elementOf(y);
  auto shape = dit::broadcastShapes({shapeOf(c), shapeOf(x), shapeOf(y)},
                                    n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::WhereOp>(tensorType(*shape, elementOf(x)), c, x, y));
}

Results convertCast(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  Type to;
  if (n.node.op_type() == "CastLike") {
    if (failed(n.input(1)))
      return failure();
    to = elementOf(n.inputs[1]);
  } else {
    auto t = n.requiredIntAttr("to");
    if (failed(t))
      return failure();
    to = elementTypeFor(*t, n.b.getContext());
    if (!to)
      return n.error() << "cast to " << onnxTypeName(*t) << " is not supported";
  }
  return one(n.create<dit::CastOp>(tensorType(shapeOf(n.inputs[0]), to),
                                   n.inputs[0]));
}

Results convertIdentity(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  return SmallVector<Value>{n.inputs[0]};
}

/// Dropout is the identity at inference; training_mode (opset 12) must not
/// turn it on.
Results convertDropout(NodeContext &n) {
  if (n.hasInput(2)) {
    auto training = n.constInts(2, "training_mode");
    if (failed(training))
      return failure();
    if (llvm::any_of(*training, [](int64_t t) { return t != 0; }))
      return n.error() << "training_mode is true (vsa compiles inference)";
  }
  return convertIdentity(n);
}

Results convertClip(NodeContext &n) {
  if (failed(requireInputs(n, 1)) || failed(rejectMovedAttr(n, "min", 11)) ||
      failed(rejectMovedAttr(n, "max", 11)))
    return failure();
  Value x = n.inputs[0];
  auto bound = [&](size_t input, StringRef attrName) -> FailureOr<Value> {
    if (n.opset >= 11) {
      if (!n.hasInput(input))
        return Value();
      Value v = n.inputs[input];
      if (!shapeOf(v).empty())
        return n.error() << "min/max must be scalars", failure();
      return v;
    }
    if (!n.attr(attrName))
      return Value();
    auto f = n.floatAttr(attrName, 0);
    if (failed(f))
      return failure();
    auto type = tensorType({}, elementOf(x));
    return n.constant(DenseElementsAttr::get(
        type, FloatAttr::get(elementOf(x), *f)));
  };
  auto lo = bound(1, "min");
  auto hi = bound(2, "max");
  if (failed(lo) || failed(hi))
    return failure();
  if (*lo) {
    auto v = buildBinary<dit::MaxOp>(n, x, *lo);
    if (failed(v))
      return failure();
    x = *v;
  }
  if (*hi) {
    auto v = buildBinary<dit::MinOp>(n, x, *hi);
    if (failed(v))
      return failure();
    x = *v;
  }
  return SmallVector<Value>{x};
}

//===----------------------------------------------------------------------===//
// Linear algebra, convolution, normalisation
//===----------------------------------------------------------------------===//

Results convertMatMul(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  Value a = n.inputs[0], b = n.inputs[1];
  if (failed(requireFloat(n, a, "A")) || failed(requireFloat(n, b, "B")))
    return failure();
  if (elementOf(a) != elementOf(b))
    return n.error() << "operand element types differ";
  auto shape = dit::matmulShape(shapeOf(a), shapeOf(b), n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::MatmulOp>(tensorType(*shape, elementOf(a)), a, b));
}

Results convertGemm(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  Value a = n.inputs[0], b = n.inputs[1];
  Value c = n.hasInput(2) ? n.inputs[2] : Value();
  auto alpha = n.floatAttr("alpha", 1.0);
  auto beta = n.floatAttr("beta", 1.0);
  auto ta = n.intAttr("transA", 0);
  auto tb = n.intAttr("transB", 0);
  if (failed(alpha) || failed(beta) || failed(ta) || failed(tb))
    return failure();
  for (Value v : {a, b, c})
    if (v && (!isa<FloatType>(elementOf(v)) || elementOf(v) != elementOf(a)))
      return n.error() << "operands need one float element type";
  std::optional<ArrayRef<int64_t>> cShape;
  if (c)
    cShape = shapeOf(c);
  auto shape = dit::gemmShape(shapeOf(a), shapeOf(b), cShape, *ta, *tb,
                              n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::GemmOp>(tensorType(*shape, elementOf(a)), a, b, c,
                                   n.b.getF64FloatAttr(*alpha),
                                   n.b.getF64FloatAttr(*beta),
                                   n.b.getBoolAttr(*ta), n.b.getBoolAttr(*tb)));
}

/// Resolves auto_pad into explicit pads.
FailureOr<SmallVector<int64_t>> convPads(NodeContext &n, ArrayRef<int64_t> in,
                                         ArrayRef<int64_t> kernel,
                                         ArrayRef<int64_t> strides,
                                         ArrayRef<int64_t> dilations) {
  size_t spatial = kernel.size();
  auto autoPad = n.stringAttr("auto_pad", "NOTSET");
  auto pads = n.intsAttr("pads");
  if (failed(autoPad) || failed(pads))
    return failure();
  if (*autoPad == "NOTSET") {
    SmallVector<int64_t> p = pads->value_or(SmallVector<int64_t>(2 * spatial, 0));
    if (p.size() != 2 * spatial)
      return n.error() << "pads needs " << 2 * spatial << " values", failure();
    return p;
  }
  SmallVector<int64_t> p(2 * spatial, 0);
  if (*autoPad == "VALID")
    return p;
  if (*autoPad != "SAME_UPPER" && *autoPad != "SAME_LOWER")
    return n.error() << "unknown auto_pad '" << *autoPad << "'", failure();
  for (size_t i = 0; i < spatial; ++i) {
    // ceil(in / stride), and the padding it needs, without overflowing on
    // huge strides or dilations.
    int64_t out = in[2 + i] ? 1 + (in[2 + i] - 1) / strides[i] : 0;
    int64_t window, total;
    if (llvm::MulOverflow(dilations[i], kernel[i] - 1, window) ||
        llvm::AddOverflow((out - 1) * strides[i] + 1 - in[2 + i], window, total))
      return n.error() << "auto_pad along spatial axis " << i << " overflows",
             failure();
    total = std::max<int64_t>(0, total);
    int64_t small = total / 2, big = total - small;
    p[i] = *autoPad == "SAME_UPPER" ? small : big;
    p[i + spatial] = *autoPad == "SAME_UPPER" ? big : small;
  }
  return p;
}

Results convertConv(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  Value x = n.inputs[0], w = n.inputs[1];
  Value bias = n.hasInput(2) ? n.inputs[2] : Value();
  if (shapeOf(x).size() < 3 || shapeOf(w).size() != shapeOf(x).size())
    return n.error() << "needs input (N, C, spatial...) and a weight of the "
                        "same rank, got "
                     << x.getType() << " and " << w.getType();
  size_t spatial = shapeOf(x).size() - 2;
  auto strides = n.intsAttr("strides");
  auto dilations = n.intsAttr("dilations");
  auto group = n.intAttr("group", 1);
  auto kernelAttr = n.intsAttr("kernel_shape");
  if (failed(strides) || failed(dilations) || failed(group) || failed(kernelAttr))
    return failure();
  SmallVector<int64_t> kernel(shapeOf(w).drop_front(2));
  if (*kernelAttr && ArrayRef<int64_t>(**kernelAttr) != ArrayRef<int64_t>(kernel))
    return n.error() << "kernel_shape disagrees with the weight's shape";
  SmallVector<int64_t> s = strides->value_or(SmallVector<int64_t>(spatial, 1));
  SmallVector<int64_t> d = dilations->value_or(SmallVector<int64_t>(spatial, 1));
  if (s.size() != spatial || d.size() != spatial)
    return n.error() << "strides and dilations need " << spatial << " values";
  for (size_t i = 0; i < spatial; ++i)
    if (s[i] < 1 || d[i] < 1)
      return n.error() << "strides and dilations must be >= 1";
  auto pads = convPads(n, shapeOf(x), kernel, s, d);
  if (failed(pads))
    return failure();
  auto shape = dit::convShape(shapeOf(x), shapeOf(w), s, *pads, d, *group,
                              n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::ConvOp>(tensorType(*shape, elementOf(x)), x, w, bias,
                                   n.b.getDenseI64ArrayAttr(s),
                                   n.b.getDenseI64ArrayAttr(*pads),
                                   n.b.getDenseI64ArrayAttr(d),
                                   n.b.getI64IntegerAttr(*group)));
}

Results convertSoftmax(NodeContext &n) {
  if (failed(requireInputs(n, 1)) || failed(requireFloat(n, n.inputs[0], "input")))
    return failure();
  int64_t rank = shapeOf(n.inputs[0]).size();
  auto axis = n.intAttr("axis", n.opset >= 13 ? -1 : 1);
  if (failed(axis))
    return failure();
  auto norm = dit::normalizeAxis(*axis, rank, n.errorFn());
  if (failed(norm))
    return failure();
  // Before opset 13 Softmax flattened the axes from `axis` on; that equals
  // the per-axis form only for the last axis.
  if (n.opset < 13 && *norm != rank - 1)
    return n.error() << "softmax over flattened axes " << *norm << ".."
                     << rank - 1 << " is not supported";
  return one(n.create<dit::SoftmaxOp>(n.inputs[0].getType(), n.inputs[0],
                                      n.b.getI64IntegerAttr(*norm)));
}

/// The normalised axis and epsilon of a LayerNormalization or
/// RMSNormalization node (X and scale required, X a float tensor).
FailureOr<std::pair<int64_t, double>> normAttributes(NodeContext &n) {
  if (failed(requireInputs(n, 2)) || failed(requireFloat(n, n.inputs[0], "X")))
    return failure();
  auto axis = n.intAttr("axis", -1);
  auto eps = n.floatAttr("epsilon", 1e-5);
  if (failed(axis) || failed(eps))
    return failure();
  auto norm = dit::normalizeAxis(*axis, shapeOf(n.inputs[0]).size(), n.errorFn());
  if (failed(norm))
    return failure();
  return std::make_pair(*norm, *eps);
}

/// Outputs other than the first (LayerNorm's Mean/InvStdDev) are not
/// computed; a node that names them is fine as long as nothing reads them.
Results convertLayerNorm(NodeContext &n) {
  auto attrs = normAttributes(n);
  if (failed(attrs))
    return failure();
  Value x = n.inputs[0];
  Value bias = n.hasInput(2) ? n.inputs[2] : Value();
  return one(n.create<dit::LayerNormOp>(x.getType(), x, n.inputs[1], bias,
                                        n.b.getI64IntegerAttr(attrs->first),
                                        n.b.getF64FloatAttr(attrs->second)));
}

Results convertRmsNorm(NodeContext &n) {
  auto attrs = normAttributes(n);
  if (failed(attrs))
    return failure();
  Value x = n.inputs[0];
  return one(n.create<dit::RmsNormOp>(x.getType(), x, n.inputs[1],
                                      n.b.getI64IntegerAttr(attrs->first),
                                      n.b.getF64FloatAttr(attrs->second)));
}

Results convertReduce(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  StringRef op = n.node.op_type();
  dit::ReduceKind kind = op == "ReduceSum"    ? dit::ReduceKind::sum
                         : op == "ReduceMean" ? dit::ReduceKind::mean
                         : op == "ReduceMax"  ? dit::ReduceKind::max
                         : op == "ReduceMin"  ? dit::ReduceKind::min
                                              : dit::ReduceKind::prod;
  // Axes moved from an attribute to an input: ReduceSum at 13, the rest at 18.
  int64_t axesInputSince = kind == dit::ReduceKind::sum ? 13 : 18;
  bool axesAsInput = n.opset >= axesInputSince;
  if (failed(rejectMovedAttr(n, "axes", axesInputSince)))
    return failure();
  SmallVector<int64_t> axes;
  if (axesAsInput) {
    if (n.hasInput(1)) {
      auto a = n.constInts(1, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
  } else {
    auto a = n.intsAttr("axes");
    if (failed(a))
      return failure();
    if (*a)
      axes = **a;
  }
  auto keepdims = n.intAttr("keepdims", 1);
  auto noop = n.intAttr("noop_with_empty_axes", 0);
  if (failed(keepdims) || failed(noop))
    return failure();
  Value x = n.inputs[0];
  if (axes.empty() && *noop)
    return SmallVector<Value>{x};
  auto shape = dit::reduceShape(shapeOf(x), axes, *keepdims, n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::ReduceOp>(tensorType(*shape, elementOf(x)), kind, x,
                                     ArrayRef<int64_t>(axes), *keepdims != 0));
}

/// ONNX Attention (opset 23): 4-D (B, H, S, D) inputs, or 3-D (B, S, H*D)
/// with q_num_heads/kv_num_heads, which are split into heads here.
Results convertAttention(NodeContext &n) {
  if (failed(requireInputs(n, 3)))
    return failure();
  for (size_t i = 4; i < n.numInputs(); ++i)
    if (n.hasInput(i))
      return n.error() << "past key/value and sequence-length inputs are not "
                          "supported";
  auto causal = n.intAttr("is_causal", 0);
  auto softcap = n.floatAttr("softcap", 0.0);
  auto qHeads = n.intAttr("q_num_heads", 0);
  auto kvHeads = n.intAttr("kv_num_heads", 0);
  if (failed(causal) || failed(softcap) || failed(qHeads) || failed(kvHeads))
    return failure();
  if (*softcap != 0.0)
    return n.error() << "softcap is not supported";
  for (size_t i = 1; i < n.numOutputs(); ++i)
    if (!n.node.output(i).empty())
      return n.error() << "only output Y is supported (present key/value and "
                          "qk outputs are not)";
  Value q = n.inputs[0], k = n.inputs[1], v = n.inputs[2];
  for (Value x : {q, k, v})
    if (!isa<FloatType>(elementOf(x)) || elementOf(x) != elementOf(q))
      return n.error() << "Q, K and V need one float element type";
  bool threeD = shapeOf(q).size() == 3;
  auto splitHeads = [&](Value x, int64_t heads) -> FailureOr<Value> {
    ArrayRef<int64_t> s = shapeOf(x);
    if (s.size() != 3 || heads < 1 || s[2] % heads != 0)
      return n.error() << "3-D input " << x.getType()
                       << " cannot be split into " << heads << " heads",
             failure();
    auto r = n.create<dit::ReshapeOp>(
        tensorType({s[0], s[1], heads, s[2] / heads}, elementOf(x)), x);
    if (failed(r))
      return failure();
    return n.create<dit::TransposeOp>(
        tensorType({s[0], heads, s[1], s[2] / heads}, elementOf(x)), *r,
        n.b.getDenseI64ArrayAttr({0, 2, 1, 3}));
  };
  if (threeD) {
    // One at a time: one error per node.
    for (auto [x, heads] : {std::pair(&q, *qHeads), std::pair(&k, *kvHeads),
                            std::pair(&v, *kvHeads)}) {
      auto x4 = splitHeads(*x, heads);
      if (failed(x4))
        return failure();
      *x = *x4;
    }
  }
  if (shapeOf(q).size() != 4)
    return n.error() << "Q must be 3-D or 4-D, got " << q.getType();
  double headDim = shapeOf(q)[3];
  auto scale = n.floatAttr("scale", 1.0 / std::sqrt(headDim));
  if (failed(scale))
    return failure();
  Value mask = n.hasInput(3) ? n.inputs[3] : Value();
  std::optional<ArrayRef<int64_t>> maskShape;
  if (mask)
    maskShape = shapeOf(mask);
  auto shape = dit::attentionShape(shapeOf(q), shapeOf(k), shapeOf(v), maskShape,
                                   n.errorFn());
  if (failed(shape))
    return failure();
  auto out = n.create<dit::AttentionOp>(
      tensorType(*shape, elementOf(q)), q, k, v, mask, /*gate=*/Value(),
      n.b.getF64FloatAttr(*scale), n.b.getBoolAttr(*causal),
      dit::AttentionRoleAttr(), dit::VideoGeometryAttr(), dit::SparsityAttr());
  if (failed(out) || !threeD)
    return one(out);
  Shape s = *shape; // (B, H, S, Dv) -> (B, S, H*Dv)
  auto t = n.create<dit::TransposeOp>(
      tensorType({s[0], s[2], s[1], s[3]}, elementOf(q)), *out,
      n.b.getDenseI64ArrayAttr({0, 2, 1, 3}));
  if (failed(t))
    return failure();
  return one(n.create<dit::ReshapeOp>(
      tensorType({s[0], s[2], s[1] * s[3]}, elementOf(q)), *t));
}

//===----------------------------------------------------------------------===//
// Shapes and data movement
//===----------------------------------------------------------------------===//

FailureOr<Value> reshapeTo(NodeContext &n, Value x, ArrayRef<int64_t> shape) {
  if (dit::numElements(shape) != dit::numElements(shapeOf(x))) {
    n.error() << "cannot reshape " << x.getType() << " to ("
              << dit::shapeToString(shape) << ")";
    return failure();
  }
  return n.create<dit::ReshapeOp>(tensorType(shape, elementOf(x)), x);
}

Results convertReshape(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  auto target = n.constInts(1, "shape");
  auto allowZero = n.intAttr("allowzero", 0);
  if (failed(target) || failed(allowZero))
    return failure();
  ArrayRef<int64_t> in = shapeOf(n.inputs[0]);
  Shape out;
  int64_t inferAt = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(*target)) {
    if (d == 0 && !*allowZero) {
      if (i >= in.size())
        return n.error() << "shape entry " << i << " copies a missing input axis";
      d = in[i];
    }
    if (d == -1) {
      if (inferAt >= 0)
        return n.error() << "shape has more than one -1";
      inferAt = i;
      out.push_back(1);
      continue;
    }
    if (d < 0)
      return n.error() << "shape entry " << d << " is invalid";
    out.push_back(d);
    if (llvm::MulOverflow(known, d, known))
      return n.error() << "shape (" << dit::shapeToString(*target)
                       << ") has more elements than int64 can count";
  }
  int64_t total = dit::numElements(in);
  if (inferAt >= 0) {
    if (known == 0 || total % known != 0)
      return n.error() << "cannot infer -1 reshaping " << n.inputs[0].getType()
                       << " to (" << dit::shapeToString(*target) << ")";
    out[inferAt] = total / known;
  }
  return one(reshapeTo(n, n.inputs[0], out));
}

/// Squeeze/Unsqueeze axes: an attribute before opset 13, an input from 13.
FailureOr<std::optional<SmallVector<int64_t>>> axesOperand(NodeContext &n) {
  if (failed(rejectMovedAttr(n, "axes", 13)))
    return failure();
  if (n.opset >= 13) {
    if (!n.hasInput(1))
      return std::optional<SmallVector<int64_t>>();
    auto a = n.constInts(1, "axes");
    if (failed(a))
      return failure();
    return std::optional(*a);
  }
  return n.intsAttr("axes");
}

Results convertSqueeze(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  auto axes = axesOperand(n);
  if (failed(axes))
    return failure();
  ArrayRef<int64_t> in = shapeOf(n.inputs[0]);
  SmallVector<bool> drop(in.size(), false);
  if (!*axes) {
    for (auto [i, d] : llvm::enumerate(in))
      drop[i] = d == 1;
  } else {
    for (int64_t a : **axes) {
      auto ax = dit::normalizeAxis(a, in.size(), n.errorFn());
      if (failed(ax))
        return failure();
      if (in[*ax] != 1)
        return n.error() << "cannot squeeze axis " << a << " of size " << in[*ax];
      drop[*ax] = true;
    }
  }
  Shape out;
  for (auto [i, d] : llvm::enumerate(in))
    if (!drop[i])
      out.push_back(d);
  return one(reshapeTo(n, n.inputs[0], out));
}

Results convertUnsqueeze(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  auto axes = axesOperand(n);
  if (failed(axes))
    return failure();
  if (!*axes)
    return n.error() << "needs axes";
  ArrayRef<int64_t> in = shapeOf(n.inputs[0]);
  int64_t rank = in.size() + (*axes)->size();
  SmallVector<bool> inserted(rank, false);
  for (int64_t a : **axes) {
    auto ax = dit::normalizeAxis(a, rank, n.errorFn());
    if (failed(ax))
      return failure();
    if (inserted[*ax])
      return n.error() << "axis " << a << " appears twice";
    inserted[*ax] = true;
  }
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i)
    out.push_back(inserted[i] ? 1 : in[next++]);
  return one(reshapeTo(n, n.inputs[0], out));
}

Results convertFlatten(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  ArrayRef<int64_t> in = shapeOf(n.inputs[0]);
  auto axis = n.intAttr("axis", 1);
  if (failed(axis))
    return failure();
  int64_t a = *axis < 0 ? *axis + int64_t(in.size()) : *axis;
  if (a < 0 || a > int64_t(in.size()))
    return n.error() << "axis " << *axis << " is out of range";
  Shape out{dit::numElements(in.take_front(a)), dit::numElements(in.drop_front(a))};
  return one(reshapeTo(n, n.inputs[0], out));
}

Results convertTranspose(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  ArrayRef<int64_t> in = shapeOf(n.inputs[0]);
  auto permAttr = n.intsAttr("perm");
  if (failed(permAttr))
    return failure();
  SmallVector<int64_t> perm;
  if (*permAttr)
    perm = **permAttr;
  else
    for (int64_t i = in.size() - 1; i >= 0; --i)
      perm.push_back(i);
  auto shape = dit::transposeShape(in, perm, n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::TransposeOp>(tensorType(*shape, elementOf(n.inputs[0])),
                                        n.inputs[0],
                                        n.b.getDenseI64ArrayAttr(perm)));
}

/// Builds a slice of `x` along the listed axes with ONNX clamping rules.
FailureOr<Value> buildSlice(NodeContext &n, Value x, ArrayRef<int64_t> starts,
                            ArrayRef<int64_t> ends, ArrayRef<int64_t> axes,
                            ArrayRef<int64_t> steps) {
  ArrayRef<int64_t> in = shapeOf(x);
  int64_t rank = in.size();
  SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
  Shape out(in.begin(), in.end());
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    auto ax = dit::normalizeAxis(axes[i], rank, n.errorFn());
    if (failed(ax))
      return failure();
    if (seen[*ax])
      return n.error() << "axis " << axes[i] << " is sliced twice", failure();
    seen[*ax] = true;
    int64_t d = in[*ax], step = steps[i];
    if (step == 0)
      return n.error() << "slice step is zero", failure();
    auto clampIndex = [&](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0)
        v = v < -d ? lo : v + d; // INT64_MIN sentinels stay in range
      return std::clamp(v, lo, hi);
    };
    int64_t s = step > 0 ? clampIndex(starts[i], 0, d) : clampIndex(starts[i], 0, d - 1);
    int64_t e = step > 0 ? clampIndex(ends[i], 0, d) : clampIndex(ends[i], -1, d - 1);
    if (step < 0 && ends[i] < -d)
      e = -1;
    // ceil(|e - s| / |step|), written so that no step can overflow it.
    int64_t count = step > 0 ? (e > s ? 1 + (e - s - 1) / step : 0)
                             : (s > e ? 1 - (s - e - 1) / step : 0);
    out[*ax] = count;
    offsets[*ax] = count ? s : 0;
    strides[*ax] = step;
  }
  return n.create<dit::SliceOp>(tensorType(out, elementOf(x)), x,
                                n.b.getDenseI64ArrayAttr(offsets),
                                n.b.getDenseI64ArrayAttr(strides));
}

Results convertSlice(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (n.opset >= 10) {
    auto s = n.constInts(1, "starts");
    auto e = n.constInts(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    starts = *s, ends = *e;
    if (n.hasInput(3)) {
      auto a = n.constInts(3, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (n.hasInput(4)) {
      auto st = n.constInts(4, "steps");
      if (failed(st))
        return failure();
      steps = *st;
    }
  } else {
    auto s = n.intsAttr("starts");
    auto e = n.intsAttr("ends");
    auto a = n.intsAttr("axes");
    if (failed(s) || failed(e) || failed(a) || !*s || !*e)
      return n.error() << "needs starts and ends";
    starts = **s, ends = **e;
    if (*a)
      axes = **a;
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return n.error() << "starts, ends, axes and steps differ in length";
  return one(buildSlice(n, n.inputs[0], starts, ends, axes, steps));
}

Results convertConcat(NodeContext &n) {
  if (n.numInputs() == 0)
    return n.error() << "needs at least one input";
  if (failed(requireInputs(n, n.numInputs())))
    return failure();
  auto axis = n.requiredIntAttr("axis");
  if (failed(axis))
    return failure();
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value v : n.inputs) {
    if (elementOf(v) != elementOf(n.inputs[0]))
      return n.error() << "inputs differ in element type";
    shapes.push_back(shapeOf(v));
  }
  auto shape = dit::concatShape(shapes, *axis, n.errorFn());
  if (failed(shape))
    return failure();
  int64_t norm = *axis < 0 ? *axis + int64_t(shapes[0].size()) : *axis;
  return one(n.create<dit::ConcatOp>(tensorType(*shape, elementOf(n.inputs[0])),
                                     n.inputs, n.b.getI64IntegerAttr(norm)));
}

Results convertSplit(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  Value x = n.inputs[0];
  ArrayRef<int64_t> in = shapeOf(x);
  auto axisAttr = n.intAttr("axis", 0);
  if (failed(axisAttr))
    return failure();
  auto axis = dit::normalizeAxis(*axisAttr, in.size(), n.errorFn());
  if (failed(axis))
    return failure();
  int64_t outputs = n.numOutputs(), extent = in[*axis];
  if (failed(rejectMovedAttr(n, "split", 13)))
    return failure();
  SmallVector<int64_t> sizes;
  if (n.opset >= 13 && n.hasInput(1)) {
    auto s = n.constInts(1, "split");
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (n.opset < 13) {
    auto s = n.intsAttr("split");
    if (failed(s))
      return failure();
    if (*s)
      sizes = **s;
  }
  if (sizes.empty()) {
    auto numOutputs = n.intAttr("num_outputs", outputs);
    if (failed(numOutputs))
      return failure();
    if (*numOutputs < 1)
      return n.error() << "num_outputs must be >= 1";
    // Only num_outputs (opset 18) allows a smaller last part; the equal
    // split of earlier opsets needs the axis to divide evenly.
    if (!(n.opset >= 18 && n.attr("num_outputs")) && extent % *numOutputs)
      return n.error() << "axis " << *axis << " of size " << extent
                       << " cannot be split into " << *numOutputs
                       << " equal parts";
    // The parts always sum to the extent; check their number before
    // making that many.
    if (*numOutputs != outputs)
      return n.error() << "split sizes sum to " << extent << " over "
                       << *numOutputs << " outputs; axis " << *axis
                       << " has " << extent << " and the node " << outputs
                       << " outputs";
    int64_t chunk = extent ? 1 + (extent - 1) / *numOutputs : 0;
    for (int64_t i = 0, left = extent; i < *numOutputs; ++i, left -= chunk)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, left)));
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      return n.error() << "split sizes must be >= 0";
    if (llvm::AddOverflow(total, s, total))
      return n.error() << "split sizes overflow";
  }
  if (total != extent || int64_t(sizes.size()) != outputs)
    return n.error() << "split sizes sum to " << total << " over "
                     << sizes.size() << " outputs; axis " << *axis << " has "
                     << extent << " and the node " << outputs << " outputs";
  SmallVector<Value> results;
  int64_t offset = 0;
  for (int64_t s : sizes) {
    auto part = buildSlice(n, x, {offset}, {offset + s}, {*axis}, {1});
    if (failed(part))
      return failure();
    results.push_back(*part);
    offset += s;
  }
  return results;
}

Results convertExpand(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  auto target = n.constInts(1, "shape");
  if (failed(target))
    return failure();
  for (int64_t d : *target)
    if (d < 0)
      return n.error() << "shape entry " << d << " is negative";
  auto shape = dit::broadcastShapes({shapeOf(n.inputs[0]), *target}, n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::BroadcastOp>(tensorType(*shape, elementOf(n.inputs[0])),
                                        n.inputs[0]));
}

Results convertTile(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  auto repeats = n.constInts(1, "repeats");
  if (failed(repeats))
    return failure();
  auto shape = dit::tileShape(shapeOf(n.inputs[0]), *repeats, n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::TileOp>(tensorType(*shape, elementOf(n.inputs[0])),
                                   n.inputs[0],
                                   n.b.getDenseI64ArrayAttr(*repeats)));
}

Results convertPad(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  auto mode = n.stringAttr("mode", "constant");
  if (failed(mode))
    return failure();
  if (*mode != "constant")
    return n.error() << "pad mode '" << *mode << "' is not supported";
  ArrayRef<int64_t> in = shapeOf(n.inputs[0]);
  SmallVector<int64_t> pads;
  double value = 0;
  if (n.opset >= 11) {
    auto p = n.constInts(1, "pads");
    if (failed(p))
      return failure();
    pads = *p;
    if (n.hasInput(2)) {
      auto v = n.constFloats(2, "constant_value");
      if (failed(v))
        return failure();
      if (v->size() != 1)
        return n.error() << "constant_value must hold one value";
      value = (*v)[0];
    }
    if (n.hasInput(3)) {
      auto axes = n.constInts(3, "axes");
      if (failed(axes))
        return failure();
      if (pads.size() != 2 * axes->size())
        return n.error() << "pads needs two values per listed axis";
      SmallVector<int64_t> full(2 * in.size(), 0);
      for (auto [i, a] : llvm::enumerate(*axes)) {
        auto ax = dit::normalizeAxis(a, in.size(), n.errorFn());
        if (failed(ax))
          return failure();
        full[*ax] = pads[i];
        full[*ax + in.size()] = pads[i + axes->size()];
      }
      pads = full;
    }
  } else {
    auto p = n.intsAttr("pads");
    auto v = n.floatAttr("value", 0.0);
    if (failed(p) || failed(v) || !*p)
      return n.error() << "needs pads";
    pads = **p, value = *v;
  }
  auto shape = dit::padShape(in, pads, n.errorFn());
  if (failed(shape))
    return failure();
  return one(n.create<dit::PadOp>(tensorType(*shape, elementOf(n.inputs[0])),
                                  n.inputs[0], n.b.getDenseI64ArrayAttr(pads),
                                  n.b.getF64FloatAttr(value)));
}

Results convertGather(NodeContext &n) {
  if (failed(requireInputs(n, 2)))
    return failure();
  Value x = n.inputs[0], idx = n.inputs[1];
  if (!isa<IntegerType>(elementOf(idx)) || elementOf(idx).isInteger(1))
    return n.error() << "indices must be int32 or int64";
  auto axis = n.intAttr("axis", 0);
  if (failed(axis))
    return failure();
  auto shape = dit::gatherShape(shapeOf(x), shapeOf(idx), *axis, n.errorFn());
  if (failed(shape))
    return failure();
  int64_t norm = *axis < 0 ? *axis + int64_t(shapeOf(x).size()) : *axis;
  // Constant indices are checked now; runtime ones wrap negatives as ONNX.
  DenseElementsAttr constIdx;
  if (matchPattern(idx, m_Constant(&constIdx))) {
    int64_t extent = shapeOf(x)[norm];
    for (const APInt &i : constIdx.getValues<APInt>())
      if (i.getSExtValue() < -extent || i.getSExtValue() >= extent)
        return n.error() << "index " << i.getSExtValue()
                         << " is out of range for axis of size " << extent;
  }
  return one(n.create<dit::GatherOp>(tensorType(*shape, elementOf(x)), x, idx,
                                     n.b.getI64IntegerAttr(norm)));
}

FailureOr<dit::ScatterReduction> scatterReduction(NodeContext &n) {
  auto r = n.stringAttr("reduction", "none");
  if (failed(r))
    return failure();
  auto kind = dit::symbolizeScatterReduction(*r);
  if (!kind)
    return n.error() << "unknown reduction '" << *r << "'", failure();
  return *kind;
}

Results convertScatterND(NodeContext &n) {
  if (failed(requireInputs(n, 3)))
    return failure();
  auto red = scatterReduction(n);
  if (failed(red))
    return failure();
  Value data = n.inputs[0], idx = n.inputs[1], upd = n.inputs[2];
  if (!isa<IntegerType>(elementOf(idx)) || elementOf(idx).isInteger(1))
    return n.error() << "indices must be int32 or int64";
  if (failed(dit::checkScatterNd(shapeOf(data), shapeOf(idx), shapeOf(upd),
                                 n.errorFn())))
    return failure();
  return one(n.create<dit::ScatterNdOp>(data.getType(), data, idx, upd, *red));
}

Results convertScatterElements(NodeContext &n) {
  if (failed(requireInputs(n, 3)))
    return failure();
  auto red = scatterReduction(n);
  auto axis = n.intAttr("axis", 0);
  if (failed(red) || failed(axis))
    return failure();
  Value data = n.inputs[0], idx = n.inputs[1], upd = n.inputs[2];
  if (!isa<IntegerType>(elementOf(idx)) || elementOf(idx).isInteger(1))
    return n.error() << "indices must be int32 or int64";
  auto norm = dit::normalizeAxis(*axis, shapeOf(data).size(), n.errorFn());
  if (failed(norm))
    return failure();
  return one(n.create<dit::ScatterElementsOp>(data.getType(), data, idx, upd,
                                              uint64_t(*norm), *red));
}

//===----------------------------------------------------------------------===//
// Ops that compute constants
//===----------------------------------------------------------------------===//

DenseElementsAttr i64Vector(NodeContext &n, ArrayRef<int64_t> values) {
  auto type = tensorType({int64_t(values.size())}, n.b.getI64Type());
  return DenseElementsAttr::get(type, values);
}

Results convertShape(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  ArrayRef<int64_t> in = shapeOf(n.inputs[0]);
  int64_t rank = in.size();
  auto start = n.intAttr("start", 0);
  auto end = n.intAttr("end", rank);
  if (failed(start) || failed(end))
    return failure();
  auto clampAxis = [&](int64_t a) {
    return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank);
  };
  int64_t s = clampAxis(*start), e = std::max(s, clampAxis(*end));
  return SmallVector<Value>{n.constant(i64Vector(n, in.slice(s, e - s)))};
}

Results convertSize(NodeContext &n) {
  if (failed(requireInputs(n, 1)))
    return failure();
  auto type = tensorType({}, n.b.getI64Type());
  return SmallVector<Value>{n.constant(DenseElementsAttr::get(
      type, dit::numElements(shapeOf(n.inputs[0]))))};
}

FailureOr<DenseElementsAttr> tensorAttr(NodeContext &n,
                                        const onnx::AttributeProto &a) {
  if (a.type() != onnx::AttributeProto::TENSOR &&
      !(a.type() == onnx::AttributeProto::UNDEFINED && a.has_t()))
    return n.error() << "attribute '" << a.name() << "' must be a tensor",
           failure();
  const onnx::TensorProto &t = a.t();
  // Without a folder to read from, external data would be looked up in the
  // working directory.
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return n.error() << "tensor attribute '" << a.name()
                     << "' must hold its data inline (external data is only "
                        "supported for initializers)",
           failure();
  auto decoded = decodeTensor(t, TensorSource{}, /*asResource=*/false,
                              n.b.getContext(), n.errorFn());
  if (failed(decoded))
    return failure();
  auto dense = dyn_cast<DenseElementsAttr>(decoded->value);
  if (!dense)
    return n.error() << "tensor attribute must hold its data inline", failure();
  return dense;
}

Results convertConstant(NodeContext &n) {
  MLIRContext *ctx = n.b.getContext();
  for (const auto &a : n.node.attribute()) {
    StringRef name = a.name();
    if (name == "value") {
      auto dense = tensorAttr(n, a);
      if (failed(dense))
        return failure();
      return SmallVector<Value>{n.constant(*dense)};
    }
    if (name == "value_float") {
      auto f = n.floatAttr(name, 0);
      if (failed(f))
        return failure();
      return SmallVector<Value>{n.constant(DenseElementsAttr::get(
          tensorType({}, Float32Type::get(ctx)), float(*f)))};
    }
    if (name == "value_floats") {
      if (a.type() != onnx::AttributeProto::FLOATS &&
          !(a.type() == onnx::AttributeProto::UNDEFINED && a.floats_size()))
        return n.error() << "attribute 'value_floats' must be a list of floats";
      return SmallVector<Value>{n.constant(DenseElementsAttr::get(
          tensorType({a.floats_size()}, Float32Type::get(ctx)),
          ArrayRef<float>(a.floats().data(), a.floats_size())))};
    }
    if (name == "value_int") {
      auto i = n.intAttr(name, 0);
      if (failed(i))
        return failure();
      return SmallVector<Value>{n.constant(DenseElementsAttr::get(
          tensorType({}, IntegerType::get(ctx, 64)), *i))};
    }
    if (name == "value_ints") {
      auto ints = n.intsAttr(name);
      if (failed(ints))
        return failure();
      return SmallVector<Value>{n.constant(i64Vector(n, **ints))};
    }
  }
  return n.error() << "needs a value, value_float(s) or value_int(s) "
                      "attribute (sparse and string constants are not "
                      "supported)";
}

Results convertConstantOfShape(NodeContext &n) {
  auto shape = n.constInts(0, "shape");
  if (failed(shape))
    return failure();
  for (int64_t d : *shape)
    if (d < 0)
      return n.error() << "shape entry " << d << " is negative";
  if (dit::numElements(*shape) < 0)
    return n.error() << "shape (" << dit::shapeToString(*shape)
                     << ") has more elements than int64 can count";
  Attribute element = FloatAttr::get(Float32Type::get(n.b.getContext()), 0.0);
  if (const auto *a = n.attr("value")) {
    auto dense = tensorAttr(n, *a);
    if (failed(dense))
      return failure();
    if (dense->getNumElements() != 1)
      return n.error() << "value must hold one element";
    element = *dense->value_begin<Attribute>();
  }
  auto type = tensorType(*shape, cast<TypedAttr>(element).getType());
  return SmallVector<Value>{n.constant(DenseElementsAttr::get(type, element))};
}

Results convertRange(NodeContext &n) {
  auto start = n.constFloats(0, "start");
  auto limit = n.constFloats(1, "limit");
  auto delta = n.constFloats(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  if (start->size() != 1 || limit->size() != 1 || delta->size() != 1)
    return n.error() << "start, limit and delta must be scalars";
  double s = (*start)[0], l = (*limit)[0], d = (*delta)[0];
  if (d == 0)
    return n.error() << "delta is zero";
  Type et = elementOf(n.inputs[0]);
  // Integer ranges are computed exactly (a double holds 53 bits) and wrap
  // as at run time; the span and step are taken unsigned, so nothing
  // overflows.
  FailureOr<SmallVector<int64_t>> startInts = SmallVector<int64_t>{0};
  FailureOr<SmallVector<int64_t>> deltaInts = SmallVector<int64_t>{0};
  double steps;
  if (!isa<FloatType>(et)) {
    startInts = n.constInts(0, "start");
    auto limitInts = n.constInts(1, "limit");
    deltaInts = n.constInts(2, "delta");
    if (failed(startInts) || failed(limitInts) || failed(deltaInts))
      return failure();
    int64_t a = (*startInts)[0], b = (*limitInts)[0], c = (*deltaInts)[0];
    uint64_t span = c > 0 ? (b > a ? uint64_t(b) - uint64_t(a) : 0)
                          : (a > b ? uint64_t(a) - uint64_t(b) : 0);
    uint64_t stride = c > 0 ? uint64_t(c) : 0 - uint64_t(c);
    steps = span ? double(1 + (span - 1) / stride) : 0;
  } else {
    steps = std::max(0.0, std::ceil((l - s) / d));
  }
  // Checked as a double: converting a huge count would be undefined.
  if (!(steps <= (1 << 24)))
    return n.error() << "range of " << steps << " elements is too long";
  int64_t count = int64_t(steps);
  auto type = tensorType({count}, et);
  if (isa<FloatType>(et)) {
    SmallVector<APFloat> vals;
    for (int64_t i = 0; i < count; ++i) {
      APFloat v(s + i * d);
      bool lost;
      v.convert(cast<FloatType>(et).getFloatSemantics(),
                APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(v);
    }
    return SmallVector<Value>{n.constant(DenseElementsAttr::get(type, vals))};
  }
  SmallVector<APInt> vals;
  for (int64_t i = 0; i < count; ++i)
    vals.push_back(APInt(et.getIntOrFloatBitWidth(),
                         uint64_t((*startInts)[0]) +
                             uint64_t(i) * uint64_t((*deltaInts)[0]),
                         /*isSigned=*/false, /*implicitTrunc=*/true));
  return SmallVector<Value>{n.constant(DenseElementsAttr::get(type, vals))};
}

const llvm::StringMap<Converter> &converters() {
  static const llvm::StringMap<Converter> table = {
      {"Add", binary<dit::AddOp>},
      {"Sub", binary<dit::SubOp>},
      {"Mul", binary<dit::MulOp>},
      {"Div", binary<dit::DivOp>},
      {"Pow", convertPow},
      {"Mod", convertMod},
      {"Max", variadic<dit::MaxOp>},
      {"Min", variadic<dit::MinOp>},
      {"Sum", variadic<dit::AddOp>},
      {"And", binary<dit::AndOp>},
      {"Or", binary<dit::OrOp>},
      {"Xor", binary<dit::XorOp>},
      {"Equal", compare<dit::CmpPredicate::eq>},
      {"Less", compare<dit::CmpPredicate::lt>},
      {"LessOrEqual", compare<dit::CmpPredicate::le>},
      {"Greater", compare<dit::CmpPredicate::gt>},
      {"GreaterOrEqual", compare<dit::CmpPredicate::ge>},
      {"Not", convertNot},
      {"IsNaN", convertIsNaN},
      {"Sqrt", unary<dit::SqrtOp>},
      {"Reciprocal", unary<dit::ReciprocalOp>},
      {"Neg", unary<dit::NegOp, false>},
      {"Abs", unary<dit::AbsOp, false>},
      {"Exp", unary<dit::ExpOp>},
      {"Log", unary<dit::LogOp>},
      {"Sin", unary<dit::SinOp>},
      {"Cos", unary<dit::CosOp>},
      {"Tanh", unary<dit::TanhOp>},
      {"Sigmoid", unary<dit::SigmoidOp>},
      {"Erf", unary<dit::ErfOp>},
      {"Floor", unary<dit::FloorOp>},
      {"Ceil", unary<dit::CeilOp>},
      {"Relu", unary<dit::ReluOp>},
      {"Gelu", convertGelu},
      {"Where", convertWhere},
      {"Cast", convertCast},
      {"CastLike", convertCast},
      {"Identity", convertIdentity},
      {"Dropout", convertDropout},
      {"Clip", convertClip},
      {"MatMul", convertMatMul},
      {"Gemm", convertGemm},
      {"Conv", convertConv},
      {"Softmax", convertSoftmax},
      {"LayerNormalization", convertLayerNorm},
      {"RMSNormalization", convertRmsNorm},
      {"ReduceMean", convertReduce},
      {"ReduceSum", convertReduce},
      {"ReduceMax", convertReduce},
      {"ReduceMin", convertReduce},
      {"ReduceProd", convertReduce},
      {"Attention", convertAttention},
      {"Reshape", convertReshape},
      {"Squeeze", convertSqueeze},
      {"Unsqueeze", convertUnsqueeze},
      {"Flatten", convertFlatten},
      {"Transpose", convertTranspose},
      {"Slice", convertSlice},
      {"Concat", convertConcat},
      {"Split", convertSplit},
      {"Expand", convertExpand},
      {"Tile", convertTile},
      {"Pad", convertPad},
      {"Gather", convertGather},
      {"ScatterND", convertScatterND},
      {"ScatterElements", convertScatterElements},
      {"Shape", convertShape},
      {"Size", convertSize},
      {"Constant", convertConstant},
      {"ConstantOfShape", convertConstantOfShape},
      {"Range", convertRange},
  };
  return table;
}

} // namespace

const Converter *vsa::import::findConverter(StringRef opType) {
  auto it = converters().find(opType);
  return it == converters().end() ? nullptr : &it->second;
}

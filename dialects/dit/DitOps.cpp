//===- DitOps.cpp - dit op verifiers ---------------------------------------===//
//
// Every verifier recomputes the result shape with ShapeInference.h and
// compares it with the declared result type.
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/dit/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace vsa::dit;

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}
static std::optional<ArrayRef<int64_t>> optionalShape(Value v) {
  if (!v)
    return std::nullopt;
  return shapeOf(v);
}

/// Compares an inferred shape with the op's single result.
static LogicalResult checkResultShape(Operation *op, FailureOr<Shape> expected) {
  if (failed(expected))
    return failure();
  ArrayRef<int64_t> actual = shapeOf(op->getResult(0));
  if (actual != ArrayRef<int64_t>(*expected))
    return op->emitOpError("result shape (")
           << shapeToString(actual) << ") should be ("
           << shapeToString(*expected) << ")";
  return success();
}

#define EMIT_ERR [&]() { return this->emitOpError(); }

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType())
    return emitOpError("value type ")
           << getValue().getType() << " differs from result type " << getType();
  return success();
}

// `dit.constant {attrs} <typed elements attr>`: the type comes from the value.
ParseResult ConstantOp::parse(OpAsmParser &parser, OperationState &result) {
  ElementsAttr value;
  if (parser.parseOptionalAttrDict(result.attributes) ||
      parser.parseAttribute(value))
    return failure();
  result.getOrAddProperties<Properties>().value = value;
  result.addTypes(value.getType());
  return success();
}

void ConstantOp::print(OpAsmPrinter &p) {
  p.printOptionalAttrDict((*this)->getAttrs(), /*elidedAttrs=*/{"value"});
  p << ' ';
  p.printAttribute(getValue());
}

// `dit.param "name" {attrs} : type (= value)?`: the value is parsed with the
// result type, so it is printed without its own.
ParseResult ParamOp::parse(OpAsmParser &parser, OperationState &result) {
  std::string name;
  Type type;
  if (parser.parseString(&name) ||
      parser.parseOptionalAttrDict(result.attributes) ||
      parser.parseColonType(type))
    return failure();
  Properties &props = result.getOrAddProperties<Properties>();
  props.name = parser.getBuilder().getStringAttr(name);
  if (succeeded(parser.parseOptionalEqual())) {
    Attribute value;
    SMLoc valueLoc = parser.getCurrentLocation();
    if (parser.parseAttribute(value, type))
      return failure();
    auto elements = dyn_cast<ElementsAttr>(value);
    if (!elements)
      return parser.emitError(valueLoc,
                              "param value must be an elements attribute");
    props.value = elements;
  }
  result.addTypes(type);
  return success();
}

void ParamOp::print(OpAsmPrinter &p) {
  p << ' ';
  p.printAttribute(getNameAttr());
  p.printOptionalAttrDict((*this)->getAttrs(), /*elidedAttrs=*/{"name", "value"});
  p << " : " << getType();
  if (auto value = getValueAttr()) {
    p << " = ";
    p.printAttributeWithoutType(value);
  }
}

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty parameter name");
  if (auto value = getValueAttr(); value && value.getType() != getType())
    return emitOpError("value type ")
           << value.getType() << " differs from result type " << getType();
  if (auto perm = getPerm()) {
    auto ok = transposeShape(getType().getShape(), *perm, EMIT_ERR);
    if (failed(ok))
      return failure();
  }
  return success();
}

template <typename BinOp>
static LogicalResult verifyBroadcasting(BinOp op) {
  auto emit = [&]() { return op.emitOpError(); };
  return checkResultShape(op, broadcastShapes({shapeOf(op.getLhs()),
                                               shapeOf(op.getRhs())},
                                              emit));
}

template <typename BinOp>
static LogicalResult verifyArithmetic(BinOp op) {
  if (getElementTypeOrSelf(op.getResult()) != getElementTypeOrSelf(op.getLhs()))
    return op.emitOpError("result element type must match the operands'");
  return verifyBroadcasting(op);
}

LogicalResult AddOp::verify() { return verifyArithmetic(*this); }
LogicalResult SubOp::verify() { return verifyArithmetic(*this); }
LogicalResult MulOp::verify() { return verifyArithmetic(*this); }
LogicalResult DivOp::verify() { return verifyArithmetic(*this); }
LogicalResult PowOp::verify() { return verifyArithmetic(*this); }
LogicalResult MaxOp::verify() { return verifyArithmetic(*this); }
LogicalResult MinOp::verify() { return verifyArithmetic(*this); }
LogicalResult ModOp::verify() { return verifyArithmetic(*this); }
LogicalResult AndOp::verify() { return verifyArithmetic(*this); }
LogicalResult OrOp::verify() { return verifyArithmetic(*this); }
LogicalResult XorOp::verify() { return verifyArithmetic(*this); }
LogicalResult CompareOp::verify() { return verifyBroadcasting(*this); }

LogicalResult WhereOp::verify() {
  if (getLhs().getType().getElementType() !=
          getRhs().getType().getElementType() ||
      getResult().getType().getElementType() !=
          getLhs().getType().getElementType())
    return emitOpError("both branches and the result need one element type");
  return checkResultShape(
      *this, broadcastShapes({shapeOf(getCondition()), shapeOf(getLhs()),
                              shapeOf(getRhs())},
                             EMIT_ERR));
}

LogicalResult MatmulOp::verify() {
  return checkResultShape(
      *this, matmulShape(shapeOf(getLhs()), shapeOf(getRhs()), EMIT_ERR));
}

LogicalResult GemmOp::verify() {
  return checkResultShape(*this,
                          gemmShape(shapeOf(getA()), shapeOf(getB()),
                                    optionalShape(getC()), getTransA(),
                                    getTransB(), EMIT_ERR));
}

LogicalResult LinearOp::verify() {
  return checkResultShape(*this, linearShape(shapeOf(getInput()),
                                             shapeOf(getWeight()),
                                             optionalShape(getBias()), EMIT_ERR));
}

LogicalResult ConvOp::verify() {
  // The shape check first: it ensures the weight has an output-channel axis.
  if (failed(checkResultShape(*this, convShape(shapeOf(getInput()),
                                               shapeOf(getWeight()),
                                               getStrides(), getPads(),
                                               getDilations(), getGroup(),
                                               EMIT_ERR))))
    return failure();
  if (getBias()) {
    ArrayRef<int64_t> b = shapeOf(getBias());
    if (b.size() != 1 || b[0] != shapeOf(getWeight())[0])
      return emitOpError("bias must be a vector of the output channels");
  }
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return normalizeAxis(getAxis(), getType().getRank(), EMIT_ERR);
}

LogicalResult LayerNormOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput());
  if (getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError("epsilon must be >= 0");
  if (failed(normalizeAxis(getAxis(), in.size(), EMIT_ERR)))
    return failure();
  if (getScale() &&
      failed(checkNormParam(in, getAxis(), shapeOf(getScale()), "scale", EMIT_ERR)))
    return failure();
  if (getBias() &&
      failed(checkNormParam(in, getAxis(), shapeOf(getBias()), "bias", EMIT_ERR)))
    return failure();
  return success();
}

LogicalResult RmsNormOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput());
  if (getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError("epsilon must be >= 0");
  if (failed(normalizeAxis(getAxis(), in.size(), EMIT_ERR)))
    return failure();
  if (getScale() &&
      failed(checkNormParam(in, getAxis(), shapeOf(getScale()), "scale", EMIT_ERR)))
    return failure();
  return success();
}

/// Checks that `what` broadcasts to `target`'s shape.
static LogicalResult checkBroadcastsTo(Operation *op, StringRef what, Value v,
                                       Value target) {
  if (broadcastsTo(shapeOf(v), shapeOf(target)))
    return success();
  return op->emitOpError() << what << " (" << shapeToString(shapeOf(v))
                           << ") does not broadcast to ("
                           << shapeToString(shapeOf(target)) << ")";
}

LogicalResult ModulateOp::verify() {
  if (failed(checkBroadcastsTo(*this, "shift", getShift(), getInput())))
    return failure();
  return checkBroadcastsTo(*this, "scale", getScale(), getInput());
}

LogicalResult GatedAddOp::verify() {
  return checkBroadcastsTo(*this, "gate", getGate(), getRhs());
}

LogicalResult ReduceOp::verify() {
  return checkResultShape(*this, reduceShape(shapeOf(getInput()), getAxes(),
                                             getKeepdims(), EMIT_ERR));
}

LogicalResult AttentionOp::verify() {
  Type qt = getElementTypeOrSelf(getQuery());
  if (getElementTypeOrSelf(getKey()) != qt ||
      getElementTypeOrSelf(getValue()) != qt ||
      getElementTypeOrSelf(getResult()) != qt)
    return emitOpError("query, key, value and result need one element type");
  if (getScale().convertToDouble() <= 0)
    return emitOpError("scale must be > 0");
  if (getMask()) {
    Type et = getElementTypeOrSelf(getMask());
    if (!et.isInteger(1) && et != qt)
      return emitOpError("mask must be i1 or of the queries' element type");
  }
  if (getRole() == AttentionRole::cross && getIsCausal())
    return emitOpError("cross-attention cannot be causal");
  // The shape check first: it ensures the queries have a sequence axis.
  if (failed(checkResultShape(*this, attentionShape(shapeOf(getQuery()),
                                                    shapeOf(getKey()),
                                                    shapeOf(getValue()),
                                                    optionalShape(getMask()),
                                                    EMIT_ERR))))
    return failure();
  if (getSparsity() && (!getGeometry() || getRole() != AttentionRole::self ||
                        getMask() || getIsCausal()))
    return emitOpError("sparsity applies to self-attention with a video "
                       "geometry and no mask");
  if (Value gate = getGate()) {
    if (!getSparsity() || getSparsity()->getPattern() != "vsa")
      return emitOpError("gate needs the vsa sparsity");
    if (gate.getType() != getResult().getType())
      return emitOpError("gate must have the result's type ")
             << getResult().getType() << ", got " << gate.getType();
  }
  if (getSparsity() && shapeOf(getKey())[2] != shapeOf(getQuery())[2])
    return emitOpError("sparsity needs as many keys as queries");
  if (getSparsity() && getSparsity()->getPattern() == "semantic")
    for (StringRef key : {"q_clusters", "kv_clusters"})
      if (getSparsity()->getInt(key) > shapeOf(getQuery())[2])
        return emitOpError("semantic '")
               << key << "' (" << getSparsity()->getInt(key)
               << ") exceeds the " << shapeOf(getQuery())[2] << " tokens";
  if (getTileOrdered() &&
      (!getSparsity() || (getSparsity()->getPattern() != "sliding-tile" &&
                          getSparsity()->getPattern() != "vsa")))
    return emitOpError("tile_ordered needs a tile sparsity (sliding-tile or "
                       "vsa)");
  if (getGeometry() && getGeometry()->getNumTokens() != shapeOf(getQuery())[2])
    return emitOpError("geometry covers ")
           << getGeometry()->getNumTokens() << " tokens but the queries have "
           << shapeOf(getQuery())[2];
  return success();
}

LogicalResult RopeOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput());
  if (in.empty() || in.back() % 2 != 0)
    return emitOpError("input must have an even last axis, got (")
           << shapeToString(in) << ")";
  SmallVector<int64_t> pairs(in);
  pairs.back() /= 2;
  for (auto [what, table] : {std::pair("cos", getCos()), std::pair("sin", getSin())})
    if (!broadcastsTo(shapeOf(table), pairs))
      return emitOpError() << what << " (" << shapeToString(shapeOf(table))
                           << ") does not broadcast to the pairs ("
                           << shapeToString(pairs) << ")";
  return success();
}

LogicalResult ReshapeOp::verify() {
  int64_t in = numElements(shapeOf(getInput()));
  int64_t out = numElements(shapeOf(getResult()));
  if (in != out)
    return emitOpError("reshape from (")
           << shapeToString(shapeOf(getInput())) << ") to ("
           << shapeToString(shapeOf(getResult()))
           << ") changes the number of elements";
  return success();
}

LogicalResult TransposeOp::verify() {
  return checkResultShape(*this,
                          transposeShape(shapeOf(getInput()), getPerm(), EMIT_ERR));
}

LogicalResult SliceOp::verify() {
  return checkSlice(shapeOf(getInput()), getOffsets(), getStrides(),
                    shapeOf(getResult()), EMIT_ERR);
}

LogicalResult ConcatOp::verify() {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value v : getInputs())
    shapes.push_back(shapeOf(v));
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  if (getElementTypeOrSelf(getResult()) != getElementTypeOrSelf(getInputs()[0]))
    return emitOpError("result element type must match the inputs'");
  return checkResultShape(*this, concatShape(shapes, getAxis(), EMIT_ERR));
}

LogicalResult BroadcastOp::verify() {
  if (!broadcastsTo(shapeOf(getInput()), shapeOf(getResult())))
    return emitOpError("cannot broadcast (")
           << shapeToString(shapeOf(getInput())) << ") to ("
           << shapeToString(shapeOf(getResult())) << ")";
  return success();
}

LogicalResult TileOp::verify() {
  return checkResultShape(*this,
                          tileShape(shapeOf(getInput()), getRepeats(), EMIT_ERR));
}

LogicalResult PadOp::verify() {
  return checkResultShape(*this,
                          padShape(shapeOf(getInput()), getPads(), EMIT_ERR));
}

LogicalResult GatherOp::verify() {
  if (getElementTypeOrSelf(getResult()) != getElementTypeOrSelf(getInput()))
    return emitOpError("result element type must match the input's");
  return checkResultShape(*this, gatherShape(shapeOf(getInput()),
                                             shapeOf(getIndices()), getAxis(),
                                             EMIT_ERR));
}

LogicalResult ScatterNdOp::verify() {
  if (getType() != getData().getType() ||
      getElementTypeOrSelf(getUpdates()) != getElementTypeOrSelf(getData()))
    return emitOpError("data, updates and result need one element type and "
                       "the result the data's shape");
  return checkScatterNd(shapeOf(getData()), shapeOf(getIndices()),
                        shapeOf(getUpdates()), EMIT_ERR);
}

LogicalResult ScatterElementsOp::verify() {
  if (getType() != getData().getType() ||
      getElementTypeOrSelf(getUpdates()) != getElementTypeOrSelf(getData()))
    return emitOpError("data, updates and result need one element type and "
                       "the result the data's shape");
  if (shapeOf(getIndices()) != shapeOf(getUpdates()))
    return emitOpError("indices and updates must have one shape");
  if (shapeOf(getIndices()).size() != shapeOf(getData()).size())
    return emitOpError("indices must have the data's rank");
  return normalizeAxis(getAxis(), getType().getRank(), EMIT_ERR);
}

#define GET_OP_CLASSES
#include "dialects/dit/DitOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Context parallelism
//===----------------------------------------------------------------------===//

/// The result shape of a collective: `divided` / degree, `multiplied` ×
/// degree (either may be -1: none).
static LogicalResult checkCollective(Operation *op, int64_t degree,
                                     int64_t divided, int64_t multiplied) {
  ArrayRef<int64_t> in = shapeOf(op->getOperand(0));
  int64_t rank = in.size();
  if (degree < 1)
    return op->emitOpError("degree must be >= 1, got ") << degree;
  if (auto stride = op->getAttrOfType<IntegerAttr>("stride");
      stride && stride.getInt() < 1)
    return op->emitOpError("stride must be >= 1, got ") << stride.getInt();
  for (int64_t axis : {divided, multiplied})
    if (axis != -1 && (axis < 0 || axis >= rank))
      return op->emitOpError("axis ")
             << axis << " out of range for rank " << rank;
  SmallVector<int64_t> expected(in);
  if (divided != -1) {
    if (in[divided] % degree)
      return op->emitOpError("dim ")
             << divided << " (" << in[divided]
             << ") is not divisible by the degree " << degree;
    expected[divided] /= degree;
  }
  if (multiplied != -1)
    expected[multiplied] *= degree;
  return checkResultShape(op, FailureOr<Shape>(Shape(expected.begin(), expected.end())));
}

LogicalResult ShardOp::verify() {
  return checkCollective(*this, getDegree(), getAxis(), -1);
}

LogicalResult AllToAllOp::verify() {
  return checkCollective(*this, getDegree(), getScatterAxis(),
                         getGatherAxis());
}

LogicalResult AllGatherOp::verify() {
  return checkCollective(*this, getDegree(), -1, getAxis());
}

LogicalResult RingAttentionOp::verify() {
  if (getDegree() < 1)
    return emitOpError("degree must be >= 1, got ") << getDegree();
  if (getStride() < 1)
    return emitOpError("stride must be >= 1, got ") << getStride();
  ArrayRef<int64_t> q = shapeOf(getQuery()), k = shapeOf(getKey()),
                    v = shapeOf(getValue());
  if (q.size() != 4 || k.size() != 4 || v.size() != 4)
    return emitOpError("expects rank-4 (batch, heads, seq, dim) operands");
  // Queries may hold more tokens than the chunk of keys (joint text).
  if (k != v || q[0] != k[0] || q[3] != k[3])
    return emitOpError("query, key and value must share batch and head dim "
                       "(and key/value their shape)");
  if (k[1] < 1 || q[1] % k[1])
    return emitOpError("query heads (")
           << q[1] << ") must be a multiple of key/value heads (" << k[1]
           << ")";
  if (getType() != getQuery().getType())
    return emitOpError("result must have the query's type");
  if (bool(getLocalKey()) != bool(getLocalValue()) ||
      (getLocalMask() && !getLocalKey()))
    return emitOpError("takes local keys and values together (and a local "
                       "mask only with them)");
  auto keyMask = [&](Value m, int64_t keys) {
    ArrayRef<int64_t> s = shapeOf(m);
    return s.size() == 4 && (s[0] == 1 || s[0] == q[0]) && s[1] == 1 &&
           s[2] == 1 && s[3] == keys;
  };
  if (getMask() && !keyMask(getMask(), getDegree() * k[2]))
    return emitOpError("mask must be a key mask (B or 1, 1, 1, ")
           << getDegree() * k[2] << ") over every rank's keys";
  if (getLocalMask() && !keyMask(getLocalMask(), shapeOf(getLocalKey())[2]))
    return emitOpError("local_mask must be a key mask over the local keys");
  if (Value lk = getLocalKey()) {
    ArrayRef<int64_t> l = shapeOf(lk);
    if (l.size() != 4 || shapeOf(getLocalValue()) != l || l[0] != k[0] ||
        l[1] != k[1] || l[3] != k[3])
      return emitOpError("local keys and values must be (batch, kv heads, "
                         "tokens, dim) like the keys");
  }
  return success();
}

//===- NodeContext.cpp - what a converter sees of one ONNX node ------------===//

#include "ImporterImpl.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace vsa;
using namespace vsa::import;

InFlightDiagnostic NodeContext::error() const {
  return emitError(loc) << where << ": ";
}

FailureOr<Value> NodeContext::input(size_t i) const {
  if (hasInput(i))
    return inputs[i];
  error() << "needs input #" << i << ", which is missing";
  return failure();
}

const onnx::AttributeProto *NodeContext::attr(StringRef name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

using AP = onnx::AttributeProto;

/// Whether `a` is of kind `type`; UNDEFINED (old writers) is judged by the
/// fields that are set.
static bool hasKind(const AP &a, AP::AttributeType type, bool present) {
  return a.type() == type || (a.type() == AP::UNDEFINED && present);
}

FailureOr<int64_t> NodeContext::intAttr(StringRef name, int64_t dflt) const {
  const AP *a = attr(name);
  if (!a)
    return dflt;
  if (!hasKind(*a, AP::INT, a->has_i())) {
    error() << "attribute '" << name << "' must be an integer";
    return failure();
  }
  return a->i();
}

FailureOr<int64_t> NodeContext::requiredIntAttr(StringRef name) const {
  if (!attr(name)) {
    error() << "needs attribute '" << name << "'";
    return failure();
  }
  return intAttr(name, 0);
}

FailureOr<double> NodeContext::floatAttr(StringRef name, double dflt) const {
  const AP *a = attr(name);
  if (!a)
    return dflt;
  if (!hasKind(*a, AP::FLOAT, a->has_f())) {
    error() << "attribute '" << name << "' must be a float";
    return failure();
  }
  return a->f();
}

FailureOr<std::string> NodeContext::stringAttr(StringRef name,
                                               StringRef dflt) const {
  const AP *a = attr(name);
  if (!a)
    return dflt.str();
  if (!hasKind(*a, AP::STRING, a->has_s())) {
    error() << "attribute '" << name << "' must be a string";
    return failure();
  }
  return a->s();
}

FailureOr<std::optional<SmallVector<int64_t>>>
NodeContext::intsAttr(StringRef name) const {
  const AP *a = attr(name);
  if (!a)
    return std::optional<SmallVector<int64_t>>();
  if (!hasKind(*a, AP::INTS, a->ints_size() > 0)) {
    error() << "attribute '" << name << "' must be a list of integers";
    return failure();
  }
  return std::optional(SmallVector<int64_t>(a->ints().begin(), a->ints().end()));
}

FailureOr<SmallVector<int64_t>> NodeContext::constInts(size_t i,
                                                       StringRef what) const {
  auto v = input(i);
  if (failed(v))
    return failure();
  DenseElementsAttr attr;
  if (!matchPattern(*v, m_Constant(&attr)) ||
      !isa<IntegerType>(attr.getElementType())) {
    error() << "input #" << i << " (" << what
            << ") must be a compile-time integer constant";
    return failure();
  }
  SmallVector<int64_t> out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(x.getSExtValue());
  return out;
}

FailureOr<SmallVector<double>> NodeContext::constFloats(size_t i,
                                                        StringRef what) const {
  auto v = input(i);
  if (failed(v))
    return failure();
  DenseElementsAttr attr;
  if (!matchPattern(*v, m_Constant(&attr))) {
    error() << "input #" << i << " (" << what
            << ") must be a compile-time constant";
    return failure();
  }
  SmallVector<double> out;
  if (isa<FloatType>(attr.getElementType())) {
    for (APFloat x : attr.getValues<APFloat>()) {
      bool lost;
      x.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      out.push_back(x.convertToDouble());
    }
  } else {
    for (const APInt &x : attr.getValues<APInt>())
      out.push_back(double(x.getSExtValue()));
  }
  return out;
}

FailureOr<Value> NodeContext::finish(Operation *op) {
  // The shape rules check each axis; the element count must fit as well
  // (verifiers and folders compute it).
  for (Type t : op->getResultTypes()) {
    auto shaped = dyn_cast<ShapedType>(t);
    if (shaped && dit::numElements(shaped.getShape()) < 0) {
      op->erase();
      error() << "result " << t << " has more elements than int64 can count";
      return failure();
    }
  }
  // Verify now, so that a bad node is reported against the ONNX node.
  std::string message;
  bool valid;
  {
    ScopedDiagnosticHandler capture(op->getContext(), [&](Diagnostic &d) {
      if (message.empty())
        message = d.str();
      return success();
    });
    valid = succeeded(mlir::verify(op));
  }
  if (!valid) {
    op->erase();
    error() << (message.empty() ? "produces invalid IR" : message);
    return failure();
  }
  SmallVector<OpFoldResult> folded;
  if (op->getNumResults() != 1 || failed(op->fold(folded)) || folded.empty())
    return op->getResult(0);
  if (auto v = dyn_cast<Value>(folded[0])) {
    if (v != op->getResult(0))
      op->erase();
    return v;
  }
  Type type = op->getResult(0).getType();
  Operation *c = op->getDialect()->materializeConstant(
      b, cast<Attribute>(folded[0]), type, loc);
  if (!c)
    return op->getResult(0);
  op->erase();
  return c->getResult(0);
}

Value NodeContext::constant(DenseElementsAttr value) {
  return dit::ConstantOp::create(b, loc, value).getResult();
}

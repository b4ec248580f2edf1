//===- Matchers.cpp - small IR predicates shared by raising passes ---------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;

ArrayRef<int64_t> vsa::shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

std::optional<double> vsa::splatValue(Value v) {
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat() ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  APFloat value = attr.getSplatValue<APFloat>();
  bool lost;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return value.convertToDouble();
}

bool vsa::isParamDerived(Value v, bool allowConstant) {
  while (Operation *op = v.getDefiningOp()) {
    if (isa<dit::ParamOp>(op) || (allowConstant && isa<dit::ConstantOp>(op)))
      return true;
    if (!isa<dit::ReshapeOp, dit::TransposeOp>(op))
      return false;
    v = op->getOperand(0);
  }
  return false; // a function argument: an activation
}

//===- DitDialect.cpp - dit dialect registration ---------------------------===//

#include "vsa/dialects/dit/DitDialect.h"
#include "vsa/dialects/dit/DitOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace vsa::dit;

#include "dialects/dit/DitDialect.cpp.inc"
#include "dialects/dit/DitEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/dit/DitAttrs.cpp.inc"

void DitDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/dit/DitOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/dit/DitAttrs.cpp.inc"
      >();
}

Operation *DitDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}

LogicalResult
VideoGeometryAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          int64_t t, int64_t h, int64_t w, int64_t prefix,
                          int64_t suffix) {
  if (t < 1 || h < 1 || w < 1)
    return emitError() << "video geometry needs t, h, w >= 1, got " << t
                       << "x" << h << "x" << w;
  if (prefix < 0 || suffix < 0)
    return emitError() << "video geometry prefix/suffix must be >= 0";
  return success();
}

LogicalResult
SparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     StringRef pattern, DictionaryAttr params) {
  SmallVector<StringRef, 6> keys;
  if (pattern == "frame-window")
    keys = {"window", "sink", "keyframe_interval"};
  else if (pattern == "sliding-tile")
    keys = {"tile_t", "tile_h", "tile_w", "window_t", "window_h", "window_w"};
  else if (pattern == "vsa")
    keys = {"tile_t", "tile_h", "tile_w"};
  else if (pattern == "semantic")
    keys = {"q_clusters", "kv_clusters", "iterations", "warm_iterations"};
  else
    return emitError() << "unknown sparsity pattern '" << pattern << "'";
  if (pattern == "semantic") {
    // Fractions: top_p in (0, 1], min_kept in [0, 1] (the kernel's ranges).
    for (StringRef key : {"top_p", "min_kept"}) {
      auto value = params ? params.getAs<FloatAttr>(key) : FloatAttr();
      if (!value)
        return emitError() << "semantic sparsity needs a float '" << key
                           << "'";
      double f = value.getValueAsDouble();
      if (key == "top_p" ? !(f > 0.0 && f <= 1.0) : !(f >= 0.0 && f <= 1.0))
        return emitError() << "semantic '" << key << "' must be in "
                           << (key == "top_p" ? "(0, 1]" : "[0, 1]")
                           << ", got " << f;
    }
  }
  if (pattern == "frame-window") {
    // Optional: keyframe_offset >= 0, rotate 0 or 1.
    for (StringRef key : {"keyframe_offset", "rotate"}) {
      Attribute attr = params.get(key);
      if (!attr)
        continue;
      auto value = dyn_cast<IntegerAttr>(attr);
      if (!value || value.getInt() < 0 ||
          (key == "rotate" && value.getInt() > 1))
        return emitError() << "frame-window '" << key << "' must be "
                           << (key == "rotate" ? "0 or 1" : "an integer >= 0");
    }
  }
  if (pattern == "vsa") {
    auto value = params ? params.getAs<FloatAttr>("sparsity") : FloatAttr();
    if (!value)
      return emitError() << "vsa sparsity needs a float 'sparsity'";
    double s = value.getValueAsDouble();
    if (!(s >= 0.0 && s < 1.0))
      return emitError() << "vsa 'sparsity' must be in [0, 1), got " << s;
  }
  for (StringRef key : keys) {
    auto value = params ? params.getAs<IntegerAttr>(key) : IntegerAttr();
    if (!value)
      return emitError() << pattern << " sparsity needs an integer '" << key
                         << "'";
    int64_t least = key.starts_with("tile") || pattern == "semantic" ? 1 : 0;
    if (value.getInt() < least)
      return emitError() << pattern << " '" << key << "' must be >= " << least
                         << ", got " << value.getInt();
    if (key.starts_with("window_") && value.getInt() % 2 == 0)
      return emitError() << "sliding-tile '" << key
                         << "' must be odd (centred on the query tile), got "
                         << value.getInt();
  }
  return success();
}

int64_t SparsityAttr::getInt(StringRef key) const {
  return getParams().getAs<IntegerAttr>(key).getInt();
}

double SparsityAttr::getFloat(StringRef key) const {
  return getParams().getAs<FloatAttr>(key).getValueAsDouble();
}

//===- VrtDialect.cpp - vrt dialect registration ---------------------------===//

#include "vsa/dialects/vrt/VrtDialect.h"
#include "vsa/dialects/dit/DitDialect.h"
#include "vsa/dialects/vrt/VrtOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace vsa::vrt;

#include "dialects/vrt/VrtDialect.cpp.inc"
#include "dialects/vrt/VrtEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/vrt/VrtAttrs.cpp.inc"

void VrtDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/vrt/VrtOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/vrt/VrtAttrs.cpp.inc"
      >();
}

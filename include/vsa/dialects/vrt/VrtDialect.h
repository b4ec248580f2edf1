//===- VrtDialect.h - the vrt dialect ---------------------------*- C++ -*-===//
#ifndef VSA_DIALECTS_VRT_VRTDIALECT_H
#define VSA_DIALECTS_VRT_VRTDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"

#include "dialects/vrt/VrtDialect.h.inc"
#include "dialects/vrt/VrtEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/vrt/VrtAttrs.h.inc"

#endif // VSA_DIALECTS_VRT_VRTDIALECT_H

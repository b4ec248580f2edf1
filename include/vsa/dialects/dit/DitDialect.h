//===- DitDialect.h - the dit dialect ---------------------------*- C++ -*-===//
#ifndef VSA_DIALECTS_DIT_DITDIALECT_H
#define VSA_DIALECTS_DIT_DITDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"

#include "dialects/dit/DitDialect.h.inc"
#include "dialects/dit/DitEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/dit/DitAttrs.h.inc"

#endif // VSA_DIALECTS_DIT_DITDIALECT_H

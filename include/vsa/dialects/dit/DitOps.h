//===- DitOps.h - dit ops ---------------------------------------*- C++ -*-===//
#ifndef VSA_DIALECTS_DIT_DITOPS_H
#define VSA_DIALECTS_DIT_DITOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "vsa/dialects/dit/DitDialect.h"

#define GET_OP_CLASSES
#include "dialects/dit/DitOps.h.inc"

#endif // VSA_DIALECTS_DIT_DITOPS_H

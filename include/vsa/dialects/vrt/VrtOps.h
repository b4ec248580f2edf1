//===- VrtOps.h - vrt ops ---------------------------------------*- C++ -*-===//
#ifndef VSA_DIALECTS_VRT_VRTOPS_H
#define VSA_DIALECTS_VRT_VRTOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "vsa/dialects/vrt/VrtDialect.h"

#include <array>

#define GET_OP_CLASSES
#include "dialects/vrt/VrtOps.h.inc"

namespace vsa::vrt {

/// Alignment of every arena offset (bytes).
constexpr int64_t kArenaAlignment = 256;

/// dit ops a generated kernel computes element by element (index math).
bool isElementwiseKernelOp(mlir::Operation *op);
/// dit ops that may only produce a generated kernel's result: reductions
/// and scatters need a loop or a second pass of their own.
bool isKernelRootOp(mlir::Operation *op);

/// The buffer `v` is a view of (through any chain of vrt.view), or `v`.
mlir::Value viewSource(mlir::Value v);
/// Whether every use of `v` is `user` or a vrt.view whose uses are.
bool onlyFeeds(mlir::Value v, mlir::Operation *user);

/// Whether the buffer of `v` keeps its element type on every target (FP8
/// values and fp32 scales of vrt.quantize_rows, vrt.norm_quantize and
/// vrt.scaled_gemm_quantize, and
/// vrt.norm_rope's fp32 tile means) instead of the target's float storage
/// (bf16 on CUDA).
bool keepsElementType(mlir::Value v);

/// Name of the function attribute holding the arena size in bytes.
inline constexpr llvm::StringLiteral kArenaBytesAttr = "vrt.arena_bytes";
/// Name of the function attribute holding the world size of the program's
/// collectives (absent: the group size they share).
inline constexpr llvm::StringLiteral kNumRanksAttr = "vrt.num_ranks";
/// Name of the function attribute holding the bytes of persistent state
/// (vsart_model_t::state_bytes).
inline constexpr llvm::StringLiteral kStateBytesAttr = "vrt.state_bytes";

} // namespace vsa::vrt

#endif // VSA_DIALECTS_VRT_VRTOPS_H

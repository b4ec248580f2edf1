//===- KernelCodegen.h - C++/CUDA source for vrt.kernel bodies --*- C++ -*-===//
//
// A generated kernel computes each element of its result by index
// arithmetic through the fused dit ops of its body (reshape, transpose,
// slice, concat, broadcast, gather, pad, tile, RoPE, modulation,
// element-wise math), reading only the kernel's inputs. Reductions and
// scatters may be the body's result.
//
//===----------------------------------------------------------------------===//
#ifndef VSA_TARGET_KERNELCODEGEN_H
#define VSA_TARGET_KERNELCODEGEN_H

#include "vsa/dialects/vrt/VrtOps.h"

#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace vsa::target {

enum class TargetKind { Cpu, Cuda };

/// How a tensor's elements are laid out in memory (row-major always).
/// F8E4M3: E4M3 bytes (vrt.quantize_rows values; a weight stored so also
/// carries one fp32 scale per row after its bytes, VSART_DTYPE_F8E4M3_ROWS).
enum class Storage { F32, F64, BF16, F16, I64, I32, I8, U8, Bool, F8E4M3 };

/// The C++ type of one stored element ("float", "__nv_bfloat16",
/// "int64_t", "uint8_t" for bool, ...).
llvm::StringRef storageCType(Storage storage);
/// Bytes of one element stored as `storage`.
int64_t storageBytes(Storage storage);

/// Emits, for kernel `op`, a function
///   static vsart_status_t <sym_name>(const void *const *inputs,
///                                    void *output, void *stream);
/// (plus, for CUDA, the __global__ kernel(s) it launches on `stream`, a
/// cudaStream_t). inputs[i] points to operand i stored as inputStorage[i];
/// the result is written to `output` as outputStorage. Arithmetic is fp32
/// for f32/bf16/f16 storage (f64 for f64), int64 for integers. The emitted
/// code includes nothing: the translation unit's prologue provides
/// <cmath>, <cstdint>, vsart.h (and cuda_bf16.h for CUDA).
mlir::LogicalResult emitKernel(vrt::KernelOp op, TargetKind target,
                               llvm::ArrayRef<Storage> inputStorage,
                               Storage outputStorage, llvm::raw_ostream &os);

} // namespace vsa::target

#endif // VSA_TARGET_KERNELCODEGEN_H

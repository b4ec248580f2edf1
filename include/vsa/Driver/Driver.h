//===- Driver.h - the compile pipeline behind vsac --------------*- C++ -*-===//
#ifndef VSA_DRIVER_DRIVER_H
#define VSA_DRIVER_DRIVER_H

#include "vsa/Import/OnnxImporter.h"
#include "vsa/Target/KernelCodegen.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace vsa {

/// What `vsac --emit=` can stop at.
enum class EmitKind {
  Dit,         // imported dit IR
  Raised,      // after raising
  Transformed, // after every dit rewrite (sparse/parallel passes join here)
  Summary,     // a summary of the raised IR
  Vrt,         // lowered, fused and memory-planned vrt IR
  Cpp,         // C++ source for the CPU runtime
  Cu,          // CUDA source for the GPU runtime
  Exe,         // an executable plus its .vsab
  Lib,         // a shared library (vsa_model() behind the C API) plus .vsab
};

struct DriverOptions {
  ImportOptions import;
  EmitKind emit = EmitKind::Dit;
  /// Run the import clean-up pipeline (fold, canonicalize, CSE).
  bool cleanup = true;
  /// Verify the IR after every pass.
  bool verifyEach = true;
  /// Code generation target (storage types, memory plan, emitted calls).
  target::TargetKind target = target::TargetKind::Cpu;
  /// Keep the generated source next to the executable (EXE.cpp / EXE.cu).
  bool keepSource = false;
  /// `--sparse=PATTERN[:key=value,...]`, as dit-sparsify-attention options
  /// ("pattern=frame-window window=2"); empty: dense.
  std::string sparse;
  /// `--cp=ulysses:N`, as dit-context-parallel options ("ulysses=2");
  /// empty: one rank.
  std::string contextParallel;
  /// Head chunks of each fused Ulysses attention (vrt-fuse-ulysses-attention;
  /// 0: automatic, -1: keep all-to-all, attention, all-to-all separate).
  int64_t ulyssesChunks = 0;
  /// Smallest M, N and K of a GEMM run in FP8 (vrt-quantize-gemms); 0: every
  /// GEMM keeps the target's precision.
  int64_t fp8MinDim = 0;
  /// Fewest output columns an activation must feed to be quantized.
  int64_t fp8MinN = 2048;
  /// With fp8MinDim: FP8 GEMMs behind a norm whose output is quantized
  /// again (FFN-up) write E4M3 themselves (vrt-quantize-gemm-outputs).
  bool fp8GemmOutputs = true;
  /// Fewest keys of a dense attention run in FP8 (vrt-quantize-attention);
  /// 0: every attention keeps the target's precision.
  int64_t fp8AttentionMinKeys = 0;
};

/// Turns `ulysses:N` into dit-context-parallel options in `out`; returns an
/// error message naming the bad part or "".
std::string parseContextParallelOption(llvm::StringRef text, std::string &out);

/// Turns `PATTERN[:key=value,...]` into dit-sparsify-attention options in
/// `out`; returns an error message naming the bad key or "".
std::string parseSparseOption(llvm::StringRef text, std::string &out);

/// Parses "NAME=d0,d1,..." into `shapes`; returns an error message or "".
std::string parseShapeBinding(llvm::StringRef text,
                              llvm::StringMap<std::vector<int64_t>> &shapes);

/// Imports `path` and runs the pipeline `options` asks for. Diagnostics go
/// to the context's handler; null on failure.
mlir::OwningOpRef<mlir::ModuleOp> compileModel(llvm::StringRef path,
                                               mlir::MLIRContext &context,
                                               const DriverOptions &options);

/// Whether `kind` needs the vrt lowering pipeline.
bool needsLowering(EmitKind kind);

/// Builds `path` (and `path`.vsab) from a planned vrt module: writes the
/// source, the weights the IR holds, and runs the host compiler (c++ or
/// nvcc; VSA_CXX / VSA_NVCC override them) against the runtime.
mlir::LogicalResult buildBinary(mlir::ModuleOp module,
                                const DriverOptions &options,
                                llvm::StringRef path);

/// Writes every vrt.weight holding a value (and the video geometry) to a
/// .vsab file.
mlir::LogicalResult writeVsab(mlir::ModuleOp module, llvm::StringRef path);

/// Writes the result of `compileModel` in the form `options.emit` asks for.
mlir::LogicalResult emitModule(mlir::ModuleOp module,
                               const DriverOptions &options,
                               llvm::raw_ostream &os);

} // namespace vsa

#endif // VSA_DRIVER_DRIVER_H

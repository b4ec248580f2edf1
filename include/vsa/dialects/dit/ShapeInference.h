//===- ShapeInference.h - static shape rules of dit ops ---------*- C++ -*-===//
//
// One place for the shape rules: op verifiers use them to check result
// types, the ONNX importer uses them to compute result types (and reports
// failures against the ONNX node).
//
//===----------------------------------------------------------------------===//
#ifndef VSA_DIALECTS_DIT_SHAPEINFERENCE_H
#define VSA_DIALECTS_DIT_SHAPEINFERENCE_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

namespace vsa::dit {

using Shape = llvm::SmallVector<int64_t, 6>;
using EmitErrorFn = llvm::function_ref<mlir::InFlightDiagnostic()>;

/// Number of elements; -1 when it overflows int64.
int64_t numElements(llvm::ArrayRef<int64_t> shape);

/// Maps a possibly negative axis into [0, rank).
mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                       EmitErrorFn emitError);

/// Numpy broadcasting of any number of shapes.
mlir::FailureOr<Shape> broadcastShapes(llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes,
                                       EmitErrorFn emitError);
/// Whether `from` broadcasts to exactly `to`.
bool broadcastsTo(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to);

mlir::FailureOr<Shape> matmulShape(llvm::ArrayRef<int64_t> lhs,
                                   llvm::ArrayRef<int64_t> rhs,
                                   EmitErrorFn emitError);
mlir::FailureOr<Shape> gemmShape(llvm::ArrayRef<int64_t> a,
                                 llvm::ArrayRef<int64_t> b,
                                 std::optional<llvm::ArrayRef<int64_t>> c,
                                 bool transA, bool transB,
                                 EmitErrorFn emitError);
/// x (..., K) @ weight (K, N) + bias (N) -> (..., N).
mlir::FailureOr<Shape> linearShape(llvm::ArrayRef<int64_t> input,
                                   llvm::ArrayRef<int64_t> weight,
                                   std::optional<llvm::ArrayRef<int64_t>> bias,
                                   EmitErrorFn emitError);
mlir::FailureOr<Shape> convShape(llvm::ArrayRef<int64_t> input,
                                 llvm::ArrayRef<int64_t> weight,
                                 llvm::ArrayRef<int64_t> strides,
                                 llvm::ArrayRef<int64_t> pads,
                                 llvm::ArrayRef<int64_t> dilations,
                                 int64_t group, EmitErrorFn emitError);
/// `axes` may be negative; empty means every axis.
mlir::FailureOr<Shape> reduceShape(llvm::ArrayRef<int64_t> input,
                                   llvm::ArrayRef<int64_t> axes, bool keepdims,
                                   EmitErrorFn emitError);
mlir::FailureOr<Shape> transposeShape(llvm::ArrayRef<int64_t> input,
                                      llvm::ArrayRef<int64_t> perm,
                                      EmitErrorFn emitError);
mlir::FailureOr<Shape> concatShape(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs,
                                   int64_t axis, EmitErrorFn emitError);
mlir::FailureOr<Shape> gatherShape(llvm::ArrayRef<int64_t> input,
                                   llvm::ArrayRef<int64_t> indices,
                                   int64_t axis, EmitErrorFn emitError);
mlir::FailureOr<Shape> tileShape(llvm::ArrayRef<int64_t> input,
                                 llvm::ArrayRef<int64_t> repeats,
                                 EmitErrorFn emitError);
mlir::FailureOr<Shape> padShape(llvm::ArrayRef<int64_t> input,
                                llvm::ArrayRef<int64_t> pads,
                                EmitErrorFn emitError);
/// Checks a strided slice against its input and result shapes.
mlir::LogicalResult checkSlice(llvm::ArrayRef<int64_t> input,
                               llvm::ArrayRef<int64_t> offsets,
                               llvm::ArrayRef<int64_t> strides,
                               llvm::ArrayRef<int64_t> result,
                               EmitErrorFn emitError);
mlir::FailureOr<Shape> attentionShape(llvm::ArrayRef<int64_t> q,
                                      llvm::ArrayRef<int64_t> k,
                                      llvm::ArrayRef<int64_t> v,
                                      std::optional<llvm::ArrayRef<int64_t>> mask,
                                      EmitErrorFn emitError);
mlir::LogicalResult checkScatterNd(llvm::ArrayRef<int64_t> data,
                                   llvm::ArrayRef<int64_t> indices,
                                   llvm::ArrayRef<int64_t> updates,
                                   EmitErrorFn emitError);
/// Checks that axes from `axis` on of `input` match `param` (norm scales).
mlir::LogicalResult checkNormParam(llvm::ArrayRef<int64_t> input, int64_t axis,
                                   llvm::ArrayRef<int64_t> param,
                                   llvm::StringRef what, EmitErrorFn emitError);

/// "2x3x4" for diagnostics.
std::string shapeToString(llvm::ArrayRef<int64_t> shape);

} // namespace vsa::dit

#endif // VSA_DIALECTS_DIT_SHAPEINFERENCE_H

//===- ImporterImpl.h - internals shared by the ONNX importer ---*- C++ -*-===//
#ifndef VSA_LIB_IMPORT_IMPORTERIMPL_H
#define VSA_LIB_IMPORT_IMPORTERIMPL_H

#include "vsa/Import/OnnxImporter.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/dit/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <string>
#include <unordered_map>

namespace vsa::import {

using mlir::FailureOr;
using mlir::LogicalResult;
using mlir::RankedTensorType;
using mlir::Value;

/// Maps an ONNX TensorProto data type to an MLIR element type, or null.
mlir::Type elementTypeFor(int32_t onnxType, mlir::MLIRContext *ctx);
/// "FLOAT", "INT64", ... for diagnostics.
std::string onnxTypeName(int32_t onnxType);

/// Where tensor data may be read from and how errors are prefixed.
struct TensorSource {
  std::string baseDir;     // folder external data must stay inside
  bool loadValues = true;  // false: check sizes only
};

/// A decoded initializer or Constant value.
struct DecodedTensor {
  RankedTensorType type;
  mlir::ElementsAttr value; // null when !loadValues
};

/// Decodes `tensor` (raw_data, typed fields or external data). `emitError`
/// prefixes the diagnostic with the owner (initializer or node).
FailureOr<DecodedTensor> decodeTensor(const onnx::TensorProto &tensor,
                                      const TensorSource &source,
                                      bool asResource,
                                      mlir::MLIRContext *ctx,
                                      dit::EmitErrorFn emitError);

/// Reads node metadata_props (field 9, unknown to libonnx 1.12's classes).
llvm::StringMap<std::string> nodeMetadata(const onnx::NodeProto &node);

/// The diffusers parameter a transposed MatMul weight came from, recovered
/// from the consuming node's metadata or (TorchScript exports) its name.
std::optional<std::string> linearWeightName(const onnx::NodeProto &matmul);

/// Whether an initializer name is one the exporter made up (`val_12`,
/// `onnx::MatMul_7`) rather than a parameter name.
bool isGeneratedName(llvm::StringRef name);
/// Whether an initializer holds a constant the exporter computed (a generated
/// name or an FX node's name such as `unsqueeze_1`), not a model parameter:
/// its value is always imported, since no checkpoint holds it.
bool isExporterConstantName(llvm::StringRef name);

/// What a converter sees of one node.
struct NodeContext {
  std::string where; // "model.onnx: node 'n' (MatMul, opset 20)"
  const onnx::NodeProto &node;
  int64_t opset;
  mlir::OpBuilder &b;
  mlir::Location loc;
  llvm::SmallVector<Value> inputs; // null for omitted optional inputs

  /// Error diagnostic prefixed with the node, op type and opset.
  mlir::InFlightDiagnostic error() const;
  /// `error` as a callback for the shape rules. It refers to this context
  /// (a function_ref to a lambda made here would dangle once we return).
  dit::EmitErrorFn errorFn() const { return *this; }
  mlir::InFlightDiagnostic operator()() const { return error(); }

  size_t numInputs() const { return inputs.size(); }
  bool hasInput(size_t i) const { return i < inputs.size() && inputs[i]; }
  /// The input, or an error naming it when it is missing.
  FailureOr<Value> input(size_t i) const;
  RankedTensorType typeOf(Value v) const {
    return mlir::cast<RankedTensorType>(v.getType());
  }
  size_t numOutputs() const { return node.output_size(); }

  // Attributes. A present attribute of the wrong kind is an error.
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  FailureOr<int64_t> intAttr(llvm::StringRef name, int64_t dflt) const;
  FailureOr<int64_t> requiredIntAttr(llvm::StringRef name) const;
  FailureOr<double> floatAttr(llvm::StringRef name, double dflt) const;
  FailureOr<std::string> stringAttr(llvm::StringRef name,
                                    llvm::StringRef dflt) const;
  /// `std::nullopt` when absent.
  FailureOr<std::optional<llvm::SmallVector<int64_t>>>
  intsAttr(llvm::StringRef name) const;

  /// The integer values of a compile-time constant input.
  FailureOr<llvm::SmallVector<int64_t>> constInts(size_t i,
                                                  llvm::StringRef what) const;
  /// The float values of a compile-time constant input.
  FailureOr<llvm::SmallVector<double>> constFloats(size_t i,
                                                   llvm::StringRef what) const;

  /// Creates an op, verifies it (reporting failures against this node) and
  /// folds it; returns its results.
  template <typename OpTy, typename... Args>
  FailureOr<Value> create(Args &&...args) {
    auto op = OpTy::create(b, loc, std::forward<Args>(args)...);
    return finish(op.getOperation());
  }
  FailureOr<Value> finish(mlir::Operation *op);
  /// A dit.constant of a DenseElementsAttr.
  Value constant(mlir::DenseElementsAttr value);
};

using Converter = std::function<FailureOr<llvm::SmallVector<Value>>(NodeContext &)>;

/// The converter for `opType`, or null when the op is unsupported.
const Converter *findConverter(llvm::StringRef opType);

} // namespace vsa::import

#endif // VSA_LIB_IMPORT_IMPORTERIMPL_H

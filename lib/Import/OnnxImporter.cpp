//===- OnnxImporter.cpp - ONNX ModelProto -> dit ---------------------------===//
//
// Checks the graph (opsets, names, dangling inputs, cycles), binds static
// input shapes, materialises initializers with their provenance, and converts
// the nodes in topological order. Anything it cannot handle is reported as
// one error naming the node, its op and opset, and the reason.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <onnx/defs/parser.h>

#include <google/protobuf/io/coded_stream.h>

#include <deque>
#include <unordered_set>

using namespace mlir;
using namespace vsa;
using namespace vsa::import;

namespace {

constexpr int64_t kMinOpset = 11, kMaxOpset = 24;
/// Float initializers with generated names up to this size are constants
/// (foldable literals), larger ones weights.
constexpr int64_t kInlineConstantLimit = 1024;

class Importer {
public:
  Importer(MLIRContext &ctx, const ImportOptions &options, StringRef displayName)
      : ctx(ctx), options(options), displayName(displayName.str()),
        builder(&ctx) {
    source.baseDir = options.externalDataDir;
    source.loadValues = options.embedWeights;
  }

  OwningOpRef<ModuleOp> run(const onnx::ModelProto &model);

private:
  InFlightDiagnostic modelError() {
    return emitError(UnknownLoc::get(&ctx)) << displayName << ": ";
  }
  std::string nodeWhere(const onnx::NodeProto &node, size_t index) const;

  LogicalResult readOpset(const onnx::ModelProto &model);
  LogicalResult indexGraph(const onnx::GraphProto &graph);
  FailureOr<RankedTensorType> inputType(const onnx::ValueInfoProto &input);
  FailureOr<std::vector<size_t>> topologicalOrder(const onnx::GraphProto &graph);
  void recordProvenance(const onnx::GraphProto &graph);
  FailureOr<Value> lookup(const std::string &name, const std::string &where);
  FailureOr<Value> materializeInitializer(const onnx::TensorProto &tensor);
  LogicalResult convertNode(const onnx::NodeProto &node, size_t index);
  LogicalResult buildOutputs(const onnx::GraphProto &graph, func::FuncOp func);

  MLIRContext &ctx;
  const ImportOptions &options;
  std::string displayName;
  OpBuilder builder;
  TensorSource source;
  int64_t opset = 0;

  std::unordered_map<std::string, Value> values;
  std::unordered_map<std::string, const onnx::TensorProto *> initializers;
  /// Outputs vsa does not compute (LayerNorm's Mean, Dropout's mask), with
  /// the node that names them.
  std::unordered_map<std::string, std::string> uncomputed;
  /// Initializer -> (parameter name) for transposed Linear weights.
  std::unordered_map<std::string, std::string> provenance;
};

std::string Importer::nodeWhere(const onnx::NodeProto &node, size_t index) const {
  std::string name = node.name().empty() ? "#" + std::to_string(index)
                                         : "'" + node.name() + "'";
  return displayName + ": node " + name + " (" + node.op_type() + ", opset " +
         std::to_string(opset) + ")";
}

LogicalResult Importer::readOpset(const onnx::ModelProto &model) {
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset == 0)
    return modelError() << "the model imports no ai.onnx opset";
  if (opset < kMinOpset || opset > kMaxOpset)
    return modelError() << "opset " << opset << " is not supported (vsa reads "
                        << kMinOpset << " to " << kMaxOpset << ")";
  return success();
}

/// Names every value once and checks nodes' op types and domains.
LogicalResult Importer::indexGraph(const onnx::GraphProto &graph) {
  for (const auto &t : graph.initializer()) {
    if (t.name().empty())
      return modelError() << "an initializer has no name";
    if (!initializers.emplace(t.name(), &t).second)
      return modelError() << "initializer '" << t.name() << "' is defined twice";
  }
  if (graph.sparse_initializer_size())
    return modelError() << "sparse initializers are not supported";
  std::unordered_set<std::string> produced;
  for (const auto &in : graph.input())
    if (!produced.insert(in.name()).second)
      return modelError() << "input '" << in.name() << "' is listed twice";
  for (const auto &[name, t] : initializers)
    produced.insert(name);
  for (auto [i, node] : llvm::enumerate(graph.node())) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      return emitError(UnknownLoc::get(&ctx))
             << nodeWhere(node, i) << ": domain '" << node.domain()
             << "' is not supported";
    for (const auto &out : node.output()) {
      if (out.empty())
        continue;
      if (!produced.insert(out).second)
        return emitError(UnknownLoc::get(&ctx))
               << nodeWhere(node, i) << ": output '" << out
               << "' is already defined elsewhere in the graph";
    }
  }
  for (auto [i, node] : llvm::enumerate(graph.node()))
    for (const auto &in : node.input())
      if (!in.empty() && !produced.count(in))
        return emitError(UnknownLoc::get(&ctx))
               << nodeWhere(node, i) << ": input '" << in
               << "' is not a graph input, an initializer, or any node's "
                  "output (missing initializer or dangling edge)";
  return success();
}

FailureOr<std::vector<size_t>>
Importer::topologicalOrder(const onnx::GraphProto &graph) {
  std::unordered_map<std::string, size_t> producer;
  for (auto [i, node] : llvm::enumerate(graph.node()))
    for (const auto &out : node.output())
      if (!out.empty())
        producer[out] = i;
  size_t n = graph.node_size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<size_t>> users(n);
  for (auto [i, node] : llvm::enumerate(graph.node())) {
    for (const auto &in : node.input()) {
      auto it = producer.find(in);
      if (in.empty() || it == producer.end())
        continue;
      ++pending[i];
      users[it->second].push_back(i);
    }
  }
  std::deque<size_t> ready;
  for (size_t i = 0; i < n; ++i)
    if (!pending[i])
      ready.push_back(i);
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (size_t u : users[i])
      if (--pending[u] == 0)
        ready.push_back(u);
  }
  if (order.size() != n) {
    // Every node left waits on a producer that is also left: walking up
    // from one of them reaches a node twice, and that node is on a cycle
    // (the first node left may merely be downstream of one).
    size_t i = 0;
    while (!pending[i])
      ++i;
    std::vector<bool> seen(n, false);
    while (!seen[i]) {
      seen[i] = true;
      for (const auto &in : graph.node(i).input()) {
        auto it = producer.find(in);
        if (!in.empty() && it != producer.end() && pending[it->second]) {
          i = it->second;
          break;
        }
      }
    }
    return emitError(UnknownLoc::get(&ctx))
           << nodeWhere(graph.node(i), i)
           << ": the graph has a cycle through this node",
           failure();
  }
  return order;
}

FailureOr<RankedTensorType> Importer::inputType(const onnx::ValueInfoProto &in) {
  const std::string &name = in.name();
  if (!in.type().has_tensor_type())
    return modelError() << "input '" << name << "' is not a tensor", failure();
  const auto &tt = in.type().tensor_type();
  Type et = elementTypeFor(tt.elem_type(), &ctx);
  if (!et)
    return modelError() << "input '" << name << "' has unsupported element type "
                        << onnxTypeName(tt.elem_type()),
           failure();
  auto bound = options.inputShapes.find(name);
  if (bound != options.inputShapes.end()) {
    const std::vector<int64_t> &dims = bound->second;
    if (tt.has_shape() && tt.shape().dim_size() != int64_t(dims.size()))
      return modelError() << "--shape " << name << " gives " << dims.size()
                          << " dimensions; the input has rank "
                          << tt.shape().dim_size(),
             failure();
    for (auto [i, d] : llvm::enumerate(dims)) {
      if (d < 0)
        return modelError() << "--shape " << name << ": dimension " << i
                            << " is negative", failure();
      if (tt.has_shape() && tt.shape().dim(i).has_dim_value() &&
          tt.shape().dim(i).dim_value() != d)
        return modelError() << "--shape " << name << ": dimension " << i
                            << " is " << d << " but the model fixes it to "
                            << tt.shape().dim(i).dim_value(),
               failure();
    }
    return RankedTensorType::get(dims, et);
  }
  if (!tt.has_shape())
    return modelError() << "input '" << name << "' has no shape; bind it with "
                        << "--shape " << name << "=d0,d1,...",
           failure();
  SmallVector<int64_t> dims;
  for (auto [i, d] : llvm::enumerate(tt.shape().dim())) {
    if (!d.has_dim_value() || d.dim_value() < 0) {
      std::string sym = d.has_dim_param() ? "'" + d.dim_param() + "'" : "unknown";
      return modelError() << "input '" << name << "' has dynamic dimension "
                          << sym << " (axis " << i << "); bind it with --shape "
                          << name << "=d0,d1,...",
             failure();
    }
    dims.push_back(d.dim_value());
  }
  return RankedTensorType::get(dims, et);
}

void Importer::recordProvenance(const onnx::GraphProto &graph) {
  for (const auto &node : graph.node()) {
    if (node.op_type() != "MatMul" || node.input_size() < 2)
      continue;
    const std::string &w = node.input(1);
    auto it = initializers.find(w);
    if (it == initializers.end() || it->second->dims_size() != 2 ||
        !isGeneratedName(w) || provenance.count(w))
      continue;
    if (auto name = linearWeightName(node))
      provenance[w] = *name;
  }
}

FailureOr<Value> Importer::materializeInitializer(const onnx::TensorProto &t) {
  Location loc = NameLoc::get(StringAttr::get(&ctx, t.name()));
  auto where = [&]() {
    return emitError(loc) << displayName << ": initializer '" << t.name()
                          << "': ";
  };
  bool isFloat = elementTypeFor(t.data_type(), &ctx) &&
                 isa<FloatType>(elementTypeFor(t.data_type(), &ctx));
  // -1 for negative or overflowing dims (decodeTensor reports those).
  int64_t numel =
      dit::numElements(ArrayRef<int64_t>(t.dims().data(), t.dims_size()));
  auto prov = provenance.find(t.name());
  bool weight = isFloat && (prov != provenance.end() || !isGeneratedName(t.name()) ||
                            numel > kInlineConstantLimit);
  TensorSource src = source;
  bool exporterConstant =
      prov == provenance.end() && isExporterConstantName(t.name());
  src.loadValues = !weight || options.embedWeights || exporterConstant;
  auto decoded = decodeTensor(t, src, /*asResource=*/weight, &ctx, where);
  if (failed(decoded))
    return failure();
  if (!weight)
    return dit::ConstantOp::create(builder, loc, decoded->value).getResult();
  StringRef name = prov != provenance.end() ? StringRef(prov->second) : t.name();
  auto param = dit::ParamOp::create(
      builder, loc, decoded->type, builder.getStringAttr(name),
      prov != provenance.end() ? builder.getStringAttr(t.name()) : StringAttr(),
      prov != provenance.end() ? builder.getDenseI64ArrayAttr({1, 0})
                               : DenseI64ArrayAttr(),
      options.embedWeights || exporterConstant ? decoded->value
                                               : ElementsAttr());
  return param.getResult();
}

FailureOr<Value> Importer::lookup(const std::string &name,
                                  const std::string &where) {
  if (auto it = values.find(name); it != values.end())
    return it->second;
  if (auto it = uncomputed.find(name); it != uncomputed.end())
    return emitError(UnknownLoc::get(&ctx))
           << where << ": input '" << name << "' is an extra output of "
           << it->second << ", which vsa does not compute", failure();
  auto it = initializers.find(name);
  if (it == initializers.end())
    return emitError(UnknownLoc::get(&ctx))
           << where << ": input '" << name << "' is not defined", failure();
  auto v = materializeInitializer(*it->second);
  if (failed(v))
    return failure();
  values[name] = *v;
  return v;
}

LogicalResult Importer::convertNode(const onnx::NodeProto &node, size_t index) {
  std::string where = nodeWhere(node, index);
  if (node.op_type().empty())
    return emitError(UnknownLoc::get(&ctx)) << where << ": node has no op type";
  std::string locName = node.name().empty() ? node.op_type() + "_" + std::to_string(index)
                                            : node.name();
  Location loc = NameLoc::get(StringAttr::get(&ctx, locName));
  NodeContext n{where, node, opset, builder, loc, {}};
  for (const auto &in : node.input()) {
    if (in.empty()) {
      n.inputs.push_back(Value());
      continue;
    }
    auto v = lookup(in, where);
    if (failed(v))
      return failure();
    n.inputs.push_back(*v);
  }
  const Converter *convert = findConverter(node.op_type());
  if (!convert)
    return n.error() << "op type '" << node.op_type() << "' is not supported";
  auto results = (*convert)(n);
  if (failed(results))
    return failure();
  for (auto [i, out] : llvm::enumerate(node.output())) {
    if (out.empty())
      continue;
    if (i < results->size())
      values[out] = (*results)[i];
    else
      uncomputed[out] = where;
  }
  return success();
}

LogicalResult Importer::buildOutputs(const onnx::GraphProto &graph,
                                     func::FuncOp func) {
  SmallVector<Value> results;
  SmallVector<Type> types;
  for (const auto &out : graph.output()) {
    auto v = lookup(out.name(), displayName + ": graph output");
    if (failed(v))
      return failure();
    auto type = cast<RankedTensorType>(v->getType());
    const auto &tt = out.type().tensor_type();
    Type declared = elementTypeFor(tt.elem_type(), &ctx);
    if (out.type().has_tensor_type() && declared && declared != type.getElementType())
      return modelError() << "output '" << out.name() << "' is declared "
                          << declared << " but computes " << type.getElementType();
    if (tt.has_shape() && tt.shape().dim_size() == type.getRank()) {
      for (auto [i, d] : llvm::enumerate(tt.shape().dim()))
        if (d.has_dim_value() && d.dim_value() != type.getDimSize(i))
          return modelError() << "output '" << out.name() << "' is declared ("
                              << d.dim_value() << " at axis " << i
                              << ") but computes " << type;
    }
    results.push_back(*v);
    types.push_back(type);
  }
  func::ReturnOp::create(builder, func.getLoc(), results);
  func.setFunctionType(
      FunctionType::get(&ctx, func.getFunctionType().getInputs(), types));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "dit.name", builder.getStringAttr(out.name()));
  return success();
}

OwningOpRef<ModuleOp> Importer::run(const onnx::ModelProto &model) {
  if (!model.has_graph())
    return modelError() << "the model has no graph", nullptr;
  if (model.functions_size())
    return modelError() << "model-local functions are not supported", nullptr;
  if (failed(readOpset(model)))
    return nullptr;
  const onnx::GraphProto &graph = model.graph();
  if (failed(indexGraph(graph)))
    return nullptr;
  auto order = topologicalOrder(graph);
  if (failed(order))
    return nullptr;
  recordProvenance(graph);

  Location fileLoc = FileLineColLoc::get(&ctx, displayName, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  module.get()->setAttr("dit.opset", builder.getI64IntegerAttr(opset));
  std::string producer = model.producer_name();
  if (!model.producer_version().empty())
    producer += " " + model.producer_version();
  module.get()->setAttr("dit.producer", builder.getStringAttr(producer));

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &in : graph.input()) {
    if (initializers.count(in.name()))
      continue; // IR < 4 lists initializers among the inputs
    auto type = inputType(in);
    if (failed(type))
      return nullptr;
    if (dit::numElements(type->getShape()) < 0)
      return modelError() << "input '" << in.name() << "' (" << *type
                          << ") has more elements than int64 can count",
             nullptr;
    argTypes.push_back(*type);
    argNames.push_back(in.name());
  }
  for (const auto &[name, dims] : options.inputShapes)
    if (!llvm::is_contained(argNames, name.str()))
      return modelError() << "--shape names '" << name.str()
                          << "', which is not an input of the model",
             nullptr;

  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, "main",
                                   builder.getFunctionType(argTypes, {}));
  Block *body = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    values[name] = body->getArgument(i);
    func.setArgAttr(i, "dit.name", builder.getStringAttr(name));
  }
  builder.setInsertionPointToEnd(body);
  for (size_t i : *order)
    if (failed(convertNode(graph.node(i), i)))
      return nullptr;
  if (failed(buildOutputs(graph, func)))
    return nullptr;
  if (failed(mlir::verify(*module)))
    return modelError() << "internal error: the imported IR does not verify",
           nullptr;
  return module;
}

/// Parses binary protobuf without the default 64 MiB limit; models over
/// 2 GiB keep their weights in external files.
bool parseBinary(StringRef bytes, onnx::ModelProto &model) {
  if (bytes.size() > size_t(INT32_MAX))
    return false;
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()), int(bytes.size()));
  stream.SetTotalBytesLimit(INT32_MAX);
  return model.ParseFromCodedStream(&stream) && stream.ConsumedEntireMessage();
}

} // namespace

OwningOpRef<ModuleOp> vsa::importOnnxBuffer(StringRef bytes, StringRef displayName,
                                            bool isText, MLIRContext &context,
                                            const ImportOptions &options) {
  context.loadDialect<dit::DitDialect, func::FuncDialect>();
  auto error = [&]() {
    return emitError(UnknownLoc::get(&context)) << displayName << ": ";
  };
  if (bytes.empty())
    return error() << "the file is empty", nullptr;
  onnx::ModelProto model;
  if (isText) {
    std::string text = bytes.str();
    onnx::Common::Status status;
    try {
      status = onnx::OnnxParser::Parse(model, text.c_str());
    } catch (const std::exception &e) {
      // libonnx converts numbers with std::stoi/stof, which throw.
      return error() << "cannot parse ONNX text: " << e.what(), nullptr;
    }
    if (!status.IsOK()) {
      // libonnx's message spans lines (position, context, reason).
      SmallVector<StringRef> lines;
      StringRef(status.ErrorMessage()).split(lines, '\n', -1, false);
      std::string message;
      for (StringRef line : lines)
        message += (message.empty() ? "" : "; ") + line.trim().str();
      return error() << "cannot parse ONNX text: " << message, nullptr;
    }
  } else if (!parseBinary(bytes, model)) {
    return error() << "cannot parse the ONNX protobuf (the file is truncated, "
                      "corrupt, or not an ONNX model)",
           nullptr;
  }
  return Importer(context, options, displayName).run(model);
}

OwningOpRef<ModuleOp> vsa::importOnnxFile(StringRef path, MLIRContext &context,
                                          const ImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(UnknownLoc::get(&context))
               << path << ": cannot open: " << buffer.getError().message(),
           nullptr;
  ImportOptions opts = options;
  if (opts.externalDataDir.empty()) {
    StringRef dir = llvm::sys::path::parent_path(path);
    opts.externalDataDir = dir.empty() ? "." : dir.str();
  }
  bool isText = path.ends_with(".onnxtext") || path.ends_with(".onnxtxt");
  return importOnnxBuffer((*buffer)->getBuffer(), path, isText, context, opts);
}

void vsa::registerImportDialects(DialectRegistry &registry) {
  registry.insert<dit::DitDialect, func::FuncDialect>();
}

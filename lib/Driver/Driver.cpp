//===- Driver.cpp - the compile pipeline behind vsac -----------------------===//

#include "vsa/Driver/Driver.h"
#include "vsa/Target/Emitter.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace vsa;

std::string vsa::parseShapeBinding(StringRef text,
                                   llvm::StringMap<std::vector<int64_t>> &shapes) {
  auto [name, dims] = text.split('=');
  if (name.empty() || !text.contains('='))
    return "--shape expects NAME=d0,d1,..., got '" + text.str() + "'";
  std::vector<int64_t> out;
  if (!dims.empty()) {
    SmallVector<StringRef> parts;
    dims.split(parts, ',');
    for (StringRef p : parts) {
      int64_t d;
      if (p.trim().getAsInteger(10, d) || d < 0)
        return "--shape " + name.str() + ": '" + p.str() +
               "' is not a dimension (a non-negative integer)";
      out.push_back(d);
    }
  }
  if (shapes.count(name))
    return "--shape " + name.str() + " is given twice";
  shapes[name] = std::move(out);
  return "";
}

std::string vsa::parseSparseOption(StringRef text, std::string &out) {
  auto [pattern, rest] = text.split(':');
  if (pattern.empty())
    return "--sparse expects PATTERN[:key=value,...], got '" + text.str() + "'";
  out = "pattern=" + pattern.str();
  SmallVector<StringRef> pairs;
  if (!rest.empty())
    rest.split(pairs, ',');
  for (StringRef pair : pairs) {
    auto [key, value] = pair.split('=');
    key = key.trim();
    value = value.trim();
    static const char *const known[] = {
        "window",     "sink",        "keyframe-interval", "keyframe-offset",
        "rotate",     "horizon",     "tile",              "sparsity",
        "gate",       "q-clusters",  "kv-clusters",       "iterations",
        "warm-iterations", "top-p",  "min-kept"};
    if (!llvm::is_contained(known, key))
      return "--sparse: unknown key '" + key.str() +
             "' (window, sink, keyframe-interval, keyframe-offset, rotate, "
             "horizon, tile, sparsity, gate, q-clusters, kv-clusters, "
             "iterations, warm-iterations, top-p, min-kept)";
    if (value.empty() || !llvm::all_of(value, [](char c) {
          return llvm::isAlnum(c) || c == '-' || c == '.';
        }))
      return "--sparse: key '" + key.str() + "' needs a value, got '" +
             value.str() + "'";
    out += " " + key.str() + "=" + value.str();
  }
  return "";
}

std::string vsa::parseContextParallelOption(StringRef text, std::string &out) {
  const std::string usage =
      "--cp expects ulysses:N[,ring:M][,cfg:C] (C x N x M ranks; any may be "
      "left out), "
      "got '" + text.str() + "'";
  llvm::StringMap<int64_t> degrees;
  SmallVector<StringRef> parts;
  text.split(parts, ',');
  for (StringRef part : parts) {
    auto [kind, degree] = part.split(':');
    kind = kind.trim();
    if (kind != "ulysses" && kind != "ring" && kind != "cfg")
      return usage;
    if (degrees.count(kind))
      return "--cp: '" + kind.str() + "' given twice in '" + text.str() + "'";
    int64_t n;
    if (degree.trim().getAsInteger(10, n) || n < 1)
      return "--cp=" + kind.str() + ":N needs a number of ranks N >= 1, got '" +
             degree.str() + "'";
    degrees[kind] = n;
  }
  auto degreeOf = [&](StringRef kind) {
    return std::to_string(degrees.count(kind) ? degrees.lookup(kind) : 1);
  };
  out = "ulysses=" + degreeOf("ulysses") + " ring=" + degreeOf("ring") +
        " cfg=" + degreeOf("cfg");
  return "";
}

bool vsa::needsLowering(EmitKind kind) {
  return kind == EmitKind::Vrt || kind == EmitKind::Cpp ||
         kind == EmitKind::Cu || kind == EmitKind::Exe || kind == EmitKind::Lib;
}

namespace {

/// Records the latent grid and patch size (from the patch convolution and
/// the self-attention geometry) as module attribute `vsa.geometry`:
/// [latent_t, latent_h, latent_w, patch_t, patch_h, patch_w].
void recordGeometry(ModuleOp module) {
  dit::VideoGeometryAttr video;
  module.walk([&](dit::AttentionOp op) {
    if (!video && op.getGeometry())
      video = *op.getGeometry();
  });
  if (!video)
    return;
  SmallVector<int64_t, 3> patch{1, 1, 1};
  module.walk([&](dit::ConvOp conv) {
    ArrayRef<int64_t> k = conv.getWeight().getType().getShape().drop_front(2);
    for (size_t i = 0; i < k.size() && i < 3; ++i)
      patch[3 - k.size() + i] = k[i];
    return WalkResult::interrupt();
  });
  Builder b(module.getContext());
  module->setAttr("vsa.geometry",
                  b.getDenseI64ArrayAttr(
                      {video.getT() * patch[0], video.getH() * patch[1],
                       video.getW() * patch[2], patch[0], patch[1], patch[2]}));
}

} // namespace

OwningOpRef<ModuleOp> vsa::compileModel(StringRef path, MLIRContext &context,
                                        const DriverOptions &options) {
  OwningOpRef<ModuleOp> module = importOnnxFile(path, context, options.import);
  if (!module)
    return nullptr;
  PassManager pm(&context);
  pm.enableVerifier(options.verifyEach);
  bool lower = needsLowering(options.emit);
  if (options.emit == EmitKind::Raised || options.emit == EmitKind::Summary ||
      options.emit == EmitKind::Transformed || lower)
    buildRaisingPipeline(pm);
  else if (options.cleanup)
    buildImportCleanupPipeline(pm);
  if (failed(pm.run(*module)))
    return nullptr;
  bool rewrite = lower || options.emit == EmitKind::Transformed;
  if (rewrite &&
      (!options.sparse.empty() || !options.contextParallel.empty())) {
    PassManager rewrites(&context);
    rewrites.enableVerifier(options.verifyEach);
    OpPassManager &fn = rewrites.nest<func::FuncOp>();
    if (!options.sparse.empty()) {
      std::unique_ptr<Pass> pass = createSparsifyAttentionPass();
      if (failed(pass->initializeOptions(options.sparse, [&](const Twine &msg) {
            return emitError(UnknownLoc::get(&context)) << "--sparse: " << msg;
          })))
        return nullptr;
      fn.addPass(std::move(pass));
      fn.addPass(createHoistTileOrderPass());
    }
    if (!options.contextParallel.empty()) {
      std::unique_ptr<Pass> pass = createContextParallelPass();
      if (failed(pass->initializeOptions(
              options.contextParallel, [&](const Twine &msg) {
                return emitError(UnknownLoc::get(&context)) << "--cp: " << msg;
              })))
        return nullptr;
      fn.addPass(std::move(pass));
    }
    if (failed(rewrites.run(*module)))
      return nullptr;
  }
  if (!lower)
    return module;
  recordGeometry(*module);
  PassManager lowering(&context);
  lowering.enableVerifier(options.verifyEach);
  buildLoweringPipeline(lowering,
                        options.target == target::TargetKind::Cuda ? "cuda"
                                                                   : "cpu",
                        options.ulyssesChunks, options.fp8MinDim,
                        options.fp8MinN, options.fp8AttentionMinKeys,
                        options.fp8GemmOutputs);
  if (failed(lowering.run(*module)))
    return nullptr;
  return module;
}

LogicalResult vsa::emitModule(ModuleOp module, const DriverOptions &options,
                              llvm::raw_ostream &os) {
  switch (options.emit) {
  case EmitKind::Dit:
  case EmitKind::Raised:
  case EmitKind::Transformed:
    module.print(os, OpPrintingFlags().enableDebugInfo(false));
    os << "\n";
    return success();
  case EmitKind::Vrt:
    module.print(os, OpPrintingFlags().enableDebugInfo(false)
                         .elideLargeElementsAttrs(16));
    os << "\n";
    return success();
  case EmitKind::Summary:
    printSummary(module, os);
    return success();
  case EmitKind::Cpp:
  case EmitKind::Cu: {
    target::EmitOptions emit;
    emit.target = options.emit == EmitKind::Cu ? target::TargetKind::Cuda
                                               : target::TargetKind::Cpu;
    return target::emitModel(module, emit, os);
  }
  case EmitKind::Exe:
  case EmitKind::Lib:
    return module.emitError("executables are written by buildBinary");
  }
  return failure();
}

//===- Driver.cpp - the compile pipeline behind vsac -----------------------===//

#include "vsa/Driver/Driver.h"
#include "vsa/passes/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"

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

OwningOpRef<ModuleOp> vsa::compileModel(StringRef path, MLIRContext &context,
                                        const DriverOptions &options) {
  OwningOpRef<ModuleOp> module = importOnnxFile(path, context, options.import);
  if (!module)
    return nullptr;
  PassManager pm(&context);
  pm.enableVerifier(options.verifyEach);
  if (options.emit == EmitKind::Raised || options.emit == EmitKind::Summary)
    buildRaisingPipeline(pm);
  else if (options.cleanup)
    buildImportCleanupPipeline(pm);
  if (failed(pm.run(*module)))
    return nullptr;
  return module;
}

LogicalResult vsa::emitModule(ModuleOp module, const DriverOptions &options,
                              llvm::raw_ostream &os) {
  switch (options.emit) {
  case EmitKind::Dit:
  case EmitKind::Raised:
    module.print(os, OpPrintingFlags().enableDebugInfo(false));
    os << "\n";
    return success();
  case EmitKind::Summary:
    printSummary(module, os);
    return success();
  }
  return failure();
}

//===- Registration.cpp - register vsa passes and dialects -----------------===//

#include "vsa/passes/Passes.h"
#include "vsa/dialects/dit/DitDialect.h"
#include "vsa/dialects/vrt/VrtDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace vsa {
namespace {
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"
} // namespace

void registerPasses() {
  registerVsaPasses();
  registerPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
}

void registerDialects(mlir::DialectRegistry &registry) {
  registry.insert<dit::DitDialect, vrt::VrtDialect, mlir::func::FuncDialect>();
}

} // namespace vsa

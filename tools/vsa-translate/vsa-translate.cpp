//===- vsa-translate.cpp - vrt modules to C++ / CUDA source -----------------===//
//
// vsa-translate --vrt-to-cpp planned.mlir   C++ for the CPU runtime
// vsa-translate --vrt-to-cu  planned.mlir   CUDA C++ for the GPU runtime
//
//===----------------------------------------------------------------------===//

#include "vsa/Target/Emitter.h"
#include "vsa/passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"

using namespace mlir;

static void registerTranslation(StringRef name, StringRef description,
                                vsa::target::TargetKind target) {
  TranslateFromMLIRRegistration(
      name, description,
      [target](Operation *op, llvm::raw_ostream &os) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError("expected a builtin.module");
        vsa::target::EmitOptions options;
        options.target = target;
        return vsa::target::emitModel(module, options, os);
      },
      [](DialectRegistry &registry) { vsa::registerDialects(registry); });
}

int main(int argc, char **argv) {
  registerTranslation("vrt-to-cpp", "Emit C++ for the CPU runtime",
                      vsa::target::TargetKind::Cpu);
  registerTranslation("vrt-to-cu", "Emit CUDA C++ for the GPU runtime",
                      vsa::target::TargetKind::Cuda);
  return failed(mlirTranslateMain(argc, argv, "vsa translation tool"));
}

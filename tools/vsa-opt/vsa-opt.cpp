//===- vsa-opt.cpp - mlir-opt for vsa's dialects and passes ----------------===//

#include "vsa/passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  vsa::registerDialects(registry);
  vsa::registerPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "vsa optimizer driver\n", registry));
}

//===- vsac.cpp - the vsa compiler driver ----------------------------------===//
//
// vsac MODEL.onnx --emit=dit -o OUT.mlir
//
//===----------------------------------------------------------------------===//

#include "vsa/Driver/Driver.h"
#include "vsa/passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory vsacCategory("vsac options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx | model.onnxtext>"),
                                      cl::cat(vsacCategory));
static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(vsacCategory));
static cl::opt<vsa::EmitKind> emitKind(
    "emit", cl::desc("What to produce"), cl::init(vsa::EmitKind::Dit),
    cl::values(clEnumValN(vsa::EmitKind::Dit, "dit",
                          "the imported dit IR (parsable by vsa-opt)"),
               clEnumValN(vsa::EmitKind::Raised, "raised",
                          "dit IR after raising (dit.attention with role and "
                          "#dit.video geometry)"),
               clEnumValN(vsa::EmitKind::Summary, "summary",
                          "a summary of the raised IR: inputs, outputs, weights, attention roles and geometry, op counts")),
    cl::cat(vsacCategory));
static cl::list<std::string> shapes(
    "shape",
    cl::desc("Static shape of a graph input with dynamic dimensions: "
             "NAME=d0,d1,... (repeatable)"),
    cl::value_desc("NAME=d0,d1,..."), cl::cat(vsacCategory));
static cl::opt<bool> externalWeights(
    "external-weights",
    cl::desc("Leave weight values out of the IR: dit.param ops keep name, "
             "type and provenance (data sizes are still checked)"),
    cl::init(false), cl::cat(vsacCategory));
static cl::opt<std::string> externalDataDir(
    "external-data-dir",
    cl::desc("Folder ONNX external data files are read from (default: the "
             "model's folder; paths may not leave it)"),
    cl::value_desc("dir"), cl::init(""), cl::cat(vsacCategory));
static cl::opt<bool> noCleanup(
    "no-cleanup",
    cl::desc("Print the importer's output as is, without folding, "
             "canonicalization and CSE"),
    cl::init(false), cl::cat(vsacCategory));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(vsacCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "vsac: compile an ONNX video diffusion transformer.\n\n"
      "  vsac MODEL.onnx --emit=dit -o OUT.mlir   import to dit IR\n"
      "  vsac MODEL.onnx --emit=raised            dit IR after raising\n"
      "  vsac MODEL.onnx --emit=summary           print a summary\n\n"
      "Errors name the ONNX node, its op type and opset, and the reason.\n");

  vsa::DriverOptions options;
  options.emit = emitKind;
  options.cleanup = !noCleanup;
  options.import.embedWeights = !externalWeights;
  options.import.externalDataDir = externalDataDir;
  for (const std::string &s : shapes) {
    std::string err = vsa::parseShapeBinding(s, options.import.inputShapes);
    if (!err.empty()) {
      llvm::errs() << "vsac: error: " << err << "\n";
      return 1;
    }
  }

  DialectRegistry registry;
  vsa::registerDialects(registry);
  MLIRContext context(registry);
  // One line per diagnostic: the importer's messages name file and node.
  ScopedDiagnosticHandler handler(&context, [](Diagnostic &d) {
    llvm::errs() << "vsac: "
                 << (d.getSeverity() == DiagnosticSeverity::Error ? "error"
                     : d.getSeverity() == DiagnosticSeverity::Warning ? "warning"
                                                                       : "note")
                 << ": " << d.str();
    if (!isa<UnknownLoc>(d.getLocation()))
      llvm::errs() << " [at " << d.getLocation() << "]";
    llvm::errs() << "\n";
    return success();
  });

  OwningOpRef<ModuleOp> module =
      vsa::compileModel(inputFile, context, options);
  if (!module)
    return 1;
  std::string err;
  auto out = openOutputFile(outputFile, &err);
  if (!out) {
    llvm::errs() << "vsac: error: " << err << "\n";
    return 1;
  }
  if (failed(vsa::emitModule(*module, options, out->os())))
    return 1;
  out->keep();
  return 0;
}

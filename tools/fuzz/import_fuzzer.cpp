//===- import_fuzzer.cpp - libFuzzer target for the ONNX importer ---------===//
//
// Feeds each input to vsa::importOnnxBuffer: as ONNX text when it starts
// with '<' (every text model opens with its `<ir_version: ...>` header, and
// no binary ModelProto can start with 0x3C, an END_GROUP tag), otherwise as
// binary protobuf. A successful import then runs the import clean-up
// (canonicalize + CSE) so the dit folders are fuzzed too, and checks that
// the result prints and parses back.
//
// Every input gets a fresh MLIRContext (threading off, errors swallowed), so
// a crash reproduces from its input alone and the uniqued attributes of
// earlier inputs neither pile up nor hide leaks. Invalid IR after the
// clean-up, or the importer's "internal error" diagnostic, aborts: both are
// bugs, not bad input. External data resolves against an empty folder, so
// no file outside it is ever read.
//
//===----------------------------------------------------------------------===//

#include "vsa/Import/OnnxImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

namespace {

constexpr llvm::StringLiteral kDisplayName = "fuzz.onnx";

struct FuzzEnv {
  mlir::DialectRegistry registry;
  vsa::ImportOptions options;

  FuzzEnv() {
    vsa::registerImportDialects(registry);
    // A relative prefix: LLVM makes the folder in the system temp folder.
    llvm::SmallString<128> dir;
    if (llvm::sys::fs::createUniqueDirectory("vsa-fuzz-extdata", dir)) {
      llvm::errs() << "import_fuzzer: cannot create a temporary folder\n";
      std::abort();
    }
    options.externalDataDir = std::string(dir);
  }
  ~FuzzEnv() { llvm::sys::fs::remove(options.externalDataDir); }
};

FuzzEnv &env() {
  static FuzzEnv e;
  return e;
}

[[noreturn]] void bug(llvm::StringRef what, llvm::StringRef detail) {
  llvm::errs() << "import_fuzzer: " << what << "\n" << detail << "\n";
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzEnv &e = env();
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  bool isText = bytes.starts_with("<");

  mlir::MLIRContext context(e.registry, mlir::MLIRContext::Threading::DISABLED);
  // Swallows every diagnostic; keeps the first error to explain an abort.
  std::string firstError;
  bool internalError = false;
  mlir::ScopedDiagnosticHandler swallow(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() != mlir::DiagnosticSeverity::Error)
      return mlir::success();
    std::string message = d.str();
    // The importer's own message; "internal error" elsewhere in a message
    // may just quote the input.
    internalError |= llvm::StringRef(message).starts_with(
        (kDisplayName + ": internal error").str());
    if (firstError.empty())
      firstError = std::move(message);
    return mlir::success();
  });

  mlir::OwningOpRef<mlir::ModuleOp> module = vsa::importOnnxBuffer(
      bytes, kDisplayName, isText, context, e.options);
  if (!module) {
    if (internalError)
      bug("the importer built invalid IR", firstError);
    return 0;
  }

  mlir::PassManager pm(&context);
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  if (mlir::failed(pm.run(*module)))
    bug("canonicalize + CSE failed or produced invalid IR", firstError);

  // What vsac prints, vsa-opt must parse back (in a context of its own, as
  // the resource blob names are taken in this one).
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  mlir::MLIRContext reader(e.registry, mlir::MLIRContext::Threading::DISABLED);
  std::string parseError;
  mlir::ScopedDiagnosticHandler capture(&reader, [&](mlir::Diagnostic &d) {
    if (parseError.empty())
      parseError = d.str();
    return mlir::success();
  });
  if (!mlir::parseSourceString<mlir::ModuleOp>(text,
                                               mlir::ParserConfig(&reader)))
    bug("the printed IR does not parse back", parseError + "\n" + text);
  return 0;
}

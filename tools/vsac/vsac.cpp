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
               clEnumValN(vsa::EmitKind::Transformed, "transformed",
                          "dit IR after every rewrite (raising; sparse "
                          "attention and context parallelism when asked)"),
               clEnumValN(vsa::EmitKind::Summary, "summary",
                          "a summary of the raised IR: inputs, outputs, weights, attention roles and geometry, op counts"),
               clEnumValN(vsa::EmitKind::Vrt, "vrt",
                          "vrt IR: runtime calls and fused kernels with the "
                          "arena plan (vrt.arena_bytes = peak activation bytes)"),
               clEnumValN(vsa::EmitKind::Cpp, "cpp",
                          "C++ source for the CPU runtime"),
               clEnumValN(vsa::EmitKind::Cu, "cu",
                          "CUDA source for the GPU runtime"),
               clEnumValN(vsa::EmitKind::Exe, "exe",
                          "an executable (-o EXE) and EXE.vsab (the default "
                          "with --target)"),
               clEnumValN(vsa::EmitKind::Lib, "lib",
                          "a shared library exporting vsa_model() for the C "
                          "API (-o LIB.so) and LIB.so.vsab")),
    cl::cat(vsacCategory));
static cl::opt<vsa::target::TargetKind> targetKind(
    "target", cl::desc("Code generation target"),
    cl::init(vsa::target::TargetKind::Cpu),
    cl::values(clEnumValN(vsa::target::TargetKind::Cpu, "cpu",
                          "multithreaded fp32 C++"),
               clEnumValN(vsa::target::TargetKind::Cuda, "cuda",
                          "CUDA for sm_90a and sm_80 (bf16 storage, fp32 "
                          "accumulation)")),
    cl::cat(vsacCategory));
static cl::opt<bool> keepSource(
    "keep-source",
    cl::desc("Keep the generated source next to the output (EXE.cpp/EXE.cu)"),
    cl::init(false), cl::cat(vsacCategory));
static cl::opt<std::string> sparse(
    "sparse",
    cl::desc("Make video self-attention sparse: PATTERN[:key=value,...], e.g. "
             "frame-window:window=1,keyframe-interval=auto,horizon=21, "
             "sliding-tile:tile=4x4x4,window=3x3x3, vsa:tile=4x4x4,sparsity=0.875, "
             "semantic:q-clusters=100,kv-clusters=100,top-p=0.9"),
    cl::value_desc("pattern"), cl::init(""), cl::cat(vsacCategory));
static cl::opt<std::string> contextParallel(
    "cp",
    cl::desc("Split the video tokens over ranks (context parallelism): "
             "ulysses:N (all-to-all), ring:M (ring attention), cfg:C (the "
             "batch over C groups) or a combination, ulysses:N,ring:M,cfg:C "
             "(run the executable with --ranks C*N*M)"),
    cl::value_desc("ulysses:N[,ring:M][,cfg:C]"), cl::init(""), cl::cat(vsacCategory));
static cl::opt<int64_t> ulyssesChunks(
    "ulysses-chunks",
    cl::desc("With --cp=ulysses: each rank's heads attend this many at a time "
             "while the next chunk's rows and the last chunk's output move "
             "(0: automatic; -1: separate all-to-all, attention, all-to-all; "
             "VSART_ULYSSES_CHUNKS overrides it at run time)"),
    cl::init(0), cl::cat(vsacCategory));
static cl::opt<bool> fp8Gemms(
    "fp8-gemms",
    cl::desc("Run the linear layers' GEMMs in FP8 E4M3: per-token activation "
             "scales, weights stored in FP8 with per-output-channel scales, "
             "fp32 accumulation (CUDA: Hopper)"),
    cl::init(false), cl::cat(vsacCategory));
static cl::opt<int64_t> fp8MinDim(
    "fp8-min-dim",
    cl::desc("With --fp8-gemms: the smallest M, N and K a GEMM needs to run "
             "in FP8 (smaller ones, e.g. the time embedding, stay as they "
             "are)"),
    cl::init(256), cl::cat(vsacCategory));
static cl::opt<int64_t> fp8MinN(
    "fp8-min-n",
    cl::desc("With --fp8-gemms: quantize an activation only when the GEMMs "
             "reading it have at least this many output columns in all "
             "(each quantized activation adds FP8 error; 1536 takes every "
             "linear of Wan: faster, less exact)"),
    cl::init(2048), cl::cat(vsacCategory));
static cl::opt<bool> fp8GemmOutputs(
    "fp8-gemm-outputs",
    cl::desc("With --fp8-gemms: a GEMM between a norm and a GEMM (a DiT's "
             "FFN-up) writes its output in FP8 itself, with scales fixed "
             "before it from bounds (per-tensor input and weight scales); "
             "=false quantizes its bf16 output per row instead"),
    cl::init(true), cl::cat(vsacCategory));
static cl::opt<bool> fp8Attention(
    "fp8-attention",
    cl::desc("Run long dense attentions (self-attention over video tokens) in "
             "FP8 E4M3: per-tensor q, k and v scales, cuDNN's FP8 flash "
             "attention (CUDA: Hopper, cuDNN 9.1+); block-sparse and short "
             "attentions stay as they are"),
    cl::init(false), cl::cat(vsacCategory));
static cl::opt<int64_t> fp8AttentionMinKeys(
    "fp8-attention-min-keys",
    cl::desc("With --fp8-attention: the fewest keys an attention needs to run "
             "in FP8"),
    cl::init(4096), cl::cat(vsacCategory));
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
      "  vsac MODEL.onnx --emit=summary           print a summary\n"
      "  vsac MODEL.onnx --target=cpu -o EXE      build EXE and EXE.vsab\n"
      "  vsac MODEL.onnx --target=cuda -o EXE     the same for the GPU\n"
      "  vsac MODEL.onnx --emit=vrt|cpp|cu        inspect lowering/codegen\n\n"
      "Errors name the ONNX node, its op type and opset, and the reason.\n");

  vsa::DriverOptions options;
  options.emit = emitKind;
  if (emitKind.getNumOccurrences() == 0 && targetKind.getNumOccurrences() > 0)
    options.emit = vsa::EmitKind::Exe;
  options.target = emitKind == vsa::EmitKind::Cu ? vsa::target::TargetKind::Cuda
                                                 : targetKind.getValue();
  options.keepSource = keepSource;
  if (!sparse.empty()) {
    std::string err = vsa::parseSparseOption(sparse, options.sparse);
    if (!err.empty()) {
      llvm::errs() << "vsac: error: " << err << "\n";
      return 1;
    }
  }
  if (contextParallel.getNumOccurrences()) {
    std::string err = vsa::parseContextParallelOption(contextParallel,
                                                      options.contextParallel);
    if (!err.empty()) {
      llvm::errs() << "vsac: error: " << err << "\n";
      return 1;
    }
  }
  if (ulyssesChunks < -1) {
    llvm::errs() << "vsac: error: --ulysses-chunks must be >= -1, got "
                 << ulyssesChunks << "\n";
    return 1;
  }
  options.ulyssesChunks = ulyssesChunks;
  if (fp8MinDim < 1 || fp8MinN < 1) {
    llvm::errs() << "vsac: error: --fp8-min-dim and --fp8-min-n must be >= 1, "
                    "got "
                 << fp8MinDim << " and " << fp8MinN << "\n";
    return 1;
  }
  options.fp8MinDim = fp8Gemms ? int64_t(fp8MinDim) : 0;
  options.fp8MinN = fp8MinN;
  options.fp8GemmOutputs = fp8GemmOutputs;
  if (fp8AttentionMinKeys < 1) {
    llvm::errs() << "vsac: error: --fp8-attention-min-keys must be >= 1, got "
                 << fp8AttentionMinKeys << "\n";
    return 1;
  }
  options.fp8AttentionMinKeys =
      fp8Attention ? int64_t(fp8AttentionMinKeys) : 0;
  bool binary =
      options.emit == vsa::EmitKind::Exe || options.emit == vsa::EmitKind::Lib;
  if (binary && outputFile == "-") {
    llvm::errs() << "vsac: error: an executable or library needs -o PATH\n";
    return 1;
  }
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
  if (binary)
    return failed(vsa::buildBinary(*module, options, outputFile)) ? 1 : 0;
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

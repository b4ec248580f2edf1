//===- Build.cpp - executables and .vsab files from a vrt module -----------===//
//
// vsac writes the generated source to a temporary folder and runs the host
// compiler on it against the runtime it was built with (paths fixed at
// configure time; VSA_CXX, VSA_NVCC and VSA_RUNTIME_DIR override them).
// Weights the IR holds go to EXE.vsab, which the executable maps at start.
//
//===----------------------------------------------------------------------===//

#include "vsa/Driver/Driver.h"
#include "vsa/Target/Emitter.h"
#include "vsa/Support/Elements.h"
#include "vsa/dialects/vrt/VrtOps.h"

#include "VsabWriter.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace vsa;

namespace {

std::string envOr(const char *name, StringRef fallback) {
  if (const char *v = std::getenv(name); v && *v)
    return v;
  return fallback.str();
}

std::string runtimeInclude() {
  if (const char *dir = std::getenv("VSA_RUNTIME_DIR"); dir && *dir)
    return (Twine(dir) + "/include").str();
  return VSA_RUNTIME_INCLUDE_DIR;
}

std::string runtimeLib(StringRef configured, StringRef file) {
  if (const char *dir = std::getenv("VSA_RUNTIME_DIR"); dir && *dir)
    return (Twine(dir) + "/lib/" + file).str();
  return configured.str();
}

LogicalResult run(Location loc, ArrayRef<std::string> args) {
  auto program = llvm::sys::findProgramByName(args[0]);
  if (!program)
    return emitError(loc) << "cannot find the compiler '" << args[0]
                          << "' (set VSA_CXX / VSA_NVCC)";
  SmallVector<StringRef> refs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*program, refs, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0) {
    std::string line;
    for (const std::string &a : args)
      line += a + " ";
    return emitError(loc) << "host compiler failed (exit " << rc << ") "
                          << message << ": " << line;
  }
  return success();
}

std::vector<std::string> compileCommand(const DriverOptions &options,
                                        StringRef source, StringRef output) {
  bool cuda = options.target == target::TargetKind::Cuda;
  bool shared = options.emit == EmitKind::Lib;
  std::vector<std::string> args;
  if (cuda) {
    args = {envOr("VSA_NVCC", VSA_NVCC), "-O2", "-std=c++17",
            "-gencode=arch=compute_90a,code=sm_90a",
            "-gencode=arch=compute_80,code=sm_80", "-I" + runtimeInclude()};
    if (shared)
      args.insert(args.end(), {"-shared", "-Xcompiler=-fPIC", "-DVSA_NO_MAIN"});
    args.insert(args.end(), {source.str(), "-o", output.str()});
    // A library carries the whole runtime: callers use its C API directly.
    if (shared)
      args.push_back("-Xlinker=--whole-archive");
    args.insert(args.end(),
                {runtimeLib(VSA_RUNTIME_CUDA_LIB, "libvsart_cuda.a"),
                 runtimeLib(VSA_RUNTIME_LIB, "libvsart.a")});
    if (shared)
      args.push_back("-Xlinker=--no-whole-archive");
    args.insert(args.end(), {"-lcublasLt", "-ldl", "-lpthread"}); // -ldl: cuDNN is dlopen'ed
    return args;
  }
  args = {envOr("VSA_CXX", "c++"), "-O2", "-std=c++17", "-I" + runtimeInclude()};
  if (shared)
    args.insert(args.end(), {"-shared", "-fPIC", "-DVSA_NO_MAIN"});
  args.insert(args.end(), {source.str(), "-o", output.str()});
  if (shared)
    args.push_back("-Wl,--whole-archive");
  args.push_back(runtimeLib(VSA_RUNTIME_LIB, "libvsart.a"));
  if (shared)
    args.push_back("-Wl,--no-whole-archive");
  args.push_back("-lpthread");
  return args;
}

} // namespace

LogicalResult vsa::writeVsab(ModuleOp module, StringRef path) {
  vsart::VsabWriter writer;
  if (auto g = module->getAttrOfType<DenseI64ArrayAttr>("vsa.geometry");
      g && g.size() == 6)
    writer.setGeometry({int32_t(g[0]), int32_t(g[1]), int32_t(g[2]),
                        int32_t(g[3]), int32_t(g[4]), int32_t(g[5])});
  WalkResult walk = module.walk([&](vrt::WeightOp w) {
    ElementsAttr value = w.getValueAttr();
    if (!value)
      return WalkResult::advance();
    auto type = cast<RankedTensorType>(value.getType());
    auto dtype = target::runtimeDtype(type.getElementType());
    if (!dtype) {
      w.emitOpError("has an element type .vsab cannot hold");
      return WalkResult::interrupt();
    }
    std::optional<std::vector<uint8_t>> bytes = elementBytes(value);
    if (!bytes) {
      w.emitOpError("holds a value whose bytes cannot be read");
      return WalkResult::interrupt();
    }
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    std::string error;
    if (!writer.addTensor(w.getName().str(), *dtype, shape, bytes->data(),
                          bytes->size(), &error)) {
      w.emitOpError(error);
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  std::string error;
  if (!writer.writeFile(path.str(), &error))
    return module.emitError("cannot write ") << path << ": " << error;
  return success();
}

LogicalResult vsa::buildBinary(ModuleOp module, const DriverOptions &options,
                               StringRef path) {
  bool cuda = options.target == target::TargetKind::Cuda;
  if (cuda && StringRef(VSA_RUNTIME_CUDA_LIB).empty() &&
      !std::getenv("VSA_RUNTIME_DIR"))
    return module.emitError("this vsac was built without the CUDA runtime "
                            "(CMake found no CUDA toolkit)");
  std::string source = (path + (cuda ? ".cu" : ".cpp")).str();
  if (!options.keepSource) {
    SmallString<128> tmp;
    if (llvm::sys::fs::createTemporaryFile("vsa-model", cuda ? "cu" : "cpp",
                                           tmp))
      return module.emitError("cannot create a temporary source file");
    source = tmp.str().str();
  }
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(source, ec);
    if (ec)
      return module.emitError("cannot write ") << source << ": "
                                               << ec.message();
    target::EmitOptions emit;
    emit.target = options.target;
    emit.modelName = llvm::sys::path::stem(path).str();
    emit.withMain = options.emit == EmitKind::Exe;
    if (failed(target::emitModel(module, emit, os)))
      return failure();
  }
  LogicalResult built =
      run(module.getLoc(), compileCommand(options, source, path));
  if (!options.keepSource)
    llvm::sys::fs::remove(source);
  if (failed(built))
    return failure();
  return writeVsab(module, (path + ".vsab").str());
}

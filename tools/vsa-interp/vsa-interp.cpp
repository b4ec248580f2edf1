//===- vsa-interp.cpp - run a dit module on the CPU and compare -----------===//
//
//   vsa-interp IN.mlir --input NAME=FILE.npy ... [--expected NAME=FILE.npy]
//              [--output NAME=FILE.npy] [--rtol R]
//
// Runs @main with the reference interpreter. For each expected output prints
// `NAME: max|err| = E, max|ref| = M, ratio = E/M` and fails when E > rtol*M.
//
//===----------------------------------------------------------------------===//

#include "vsa/Interp/Interpreter.h"
#include "vsa/passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using vsa::interp::Tensor;

namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::Required);
static cl::list<std::string> inputs("input", cl::desc("NAME=FILE.npy argument"));
static cl::list<std::string> expected("expected",
                                      cl::desc("NAME=FILE.npy reference output"));
static cl::list<std::string> outputs("output",
                                     cl::desc("NAME=FILE.npy: write a result"));
static cl::opt<double> rtol("rtol", cl::init(1e-4),
                            cl::desc("fail when max|err| > rtol * max|ref|"));

namespace {

struct Npy {
  Tensor tensor;
  std::string descr;
};

int error(const llvm::Twine &msg) {
  llvm::errs() << "vsa-interp: " << msg << "\n";
  return 1;
}

/// Reads a .npy v1/v2 file: little-endian f4, f8, i8, i4 or b1, C order.
llvm::Expected<Tensor> readNpy(StringRef path, MLIRContext &ctx) {
  auto fail = [&](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + msg);
  };
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail(buf.getError().message());
  StringRef bytes = (*buf)->getBuffer();
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return fail("not a .npy file");
  unsigned major = uint8_t(bytes[6]);
  size_t headerLen, start;
  if (major == 1) {
    headerLen = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    start = 12;
  } else {
    return fail("unsupported .npy version " + llvm::Twine(major));
  }
  if (headerLen > bytes.size() - start)
    return fail("truncated header");
  StringRef header = bytes.substr(start, headerLen);
  StringRef data = bytes.substr(start + headerLen);

  auto field = [&](StringRef key) -> std::optional<StringRef> {
    size_t at = header.find(("'" + key + "'").str());
    if (at == StringRef::npos)
      return std::nullopt;
    StringRef rest = header.substr(at + key.size() + 2).ltrim();
    if (!rest.consume_front(":"))
      return std::nullopt;
    return rest.ltrim();
  };
  auto descrField = field("descr"), fortranField = field("fortran_order"),
       shapeField = field("shape");
  if (!descrField || !fortranField || !shapeField)
    return fail("header lacks descr, fortran_order or shape");
  if (!fortranField->starts_with("False"))
    return fail("Fortran-order arrays are not supported");
  StringRef descr = *descrField;
  if (descr.size() < 2 || (descr[0] != '\'' && descr[0] != '"'))
    return fail("bad descr");
  descr = descr.drop_front().take_until([](char c) { return c == '\'' || c == '"'; });

  Tensor t;
  Builder b(&ctx);
  size_t width;
  if (descr == "<f4") {
    t.elementType = b.getF32Type(), width = 4;
  } else if (descr == "<f8") {
    t.elementType = b.getF64Type(), width = 8;
  } else if (descr == "<i8") {
    t.elementType = b.getI64Type(), width = 8;
  } else if (descr == "<i4") {
    t.elementType = b.getI32Type(), width = 4;
  } else if (descr == "|b1" || descr == "<b1") {
    t.elementType = b.getI1Type(), width = 1;
  } else {
    return fail("unsupported dtype '" + descr + "'");
  }

  StringRef shape = *shapeField;
  if (!shape.consume_front("("))
    return fail("bad shape");
  size_t close = shape.find(')');
  if (close == StringRef::npos)
    return fail("bad shape");
  shape = shape.take_front(close);
  uint64_t numel = 1;
  while (!(shape = shape.trim()).empty()) {
    auto [dim, rest] = shape.split(',');
    uint64_t d;
    if (dim.trim().getAsInteger(10, d) || d > (uint64_t(1) << 40))
      return fail("bad shape dimension '" + dim.trim() + "'");
    if (d != 0 && numel > (uint64_t(1) << 40) / d)
      return fail("array too large");
    numel *= d;
    t.shape.push_back(int64_t(d));
    shape = rest;
  }
  if (data.size() != numel * width)
    return fail("holds " + llvm::Twine(data.size()) + " data bytes, shape and dtype need " +
                llvm::Twine(numel * width));
  t.data.resize(numel);
  const char *p = data.data();
  for (uint64_t i = 0; i < numel; ++i, p += width) {
    if (width == 1) {
      t.data[i] = *p != 0;
    } else if (descr[1] == 'f' && width == 4) {
      float f;
      std::memcpy(&f, p, 4);
      t.data[i] = f;
    } else if (descr[1] == 'f') {
      std::memcpy(&t.data[i], p, 8);
    } else if (width == 4) {
      int32_t v;
      std::memcpy(&v, p, 4);
      t.data[i] = v;
    } else {
      int64_t v;
      std::memcpy(&v, p, 8);
      t.data[i] = double(v);
    }
  }
  return t;
}

/// Writes a .npy v1 file; f16/bf16 results are written as f4.
LogicalResult writeNpy(StringRef path, const Tensor &t) {
  Type et = t.elementType;
  std::string descr;
  size_t width;
  if (et.isF64())
    descr = "<f8", width = 8;
  else if (isa<FloatType>(et))
    descr = "<f4", width = 4;
  else if (et.isInteger(1))
    descr = "|b1", width = 1;
  else if (et.isInteger(32))
    descr = "<i4", width = 4;
  else if (et.isInteger())
    descr = "<i8", width = 8;
  else
    return failure();
  std::string shape = "(";
  for (int64_t d : t.shape)
    shape += std::to_string(d) + (t.shape.size() == 1 ? "," : ", ");
  if (t.shape.size() > 1)
    shape.resize(shape.size() - 2);
  shape += ")";
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return failure();
  os << "\x93NUMPY" << char(1) << char(0) << char(header.size() & 0xff)
     << char(header.size() >> 8) << header;
  for (double v : t.data) {
    char buf[8];
    if (width == 1) {
      buf[0] = v != 0;
    } else if (descr == "<f4") {
      float f = float(v);
      std::memcpy(buf, &f, 4);
    } else if (descr == "<f8") {
      std::memcpy(buf, &v, 8);
    } else if (width == 4) {
      int32_t i = int32_t(v);
      std::memcpy(buf, &i, 4);
    } else {
      int64_t i = int64_t(v);
      std::memcpy(buf, &i, 8);
    }
    os.write(buf, width);
  }
  return success(!os.has_error());
}

/// Splits NAME=FILE; empty name on error.
std::pair<StringRef, StringRef> splitSpec(StringRef spec) {
  auto [name, file] = spec.split('=');
  if (name.empty() || file.empty() || name.size() == spec.size())
    return {};
  return {name, file};
}

std::string nameOf(DictionaryAttr attrs, unsigned i) {
  if (attrs)
    if (auto n = attrs.getAs<StringAttr>("dit.name"))
      return n.str();
  return "#" + std::to_string(i);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "vsa reference interpreter\n");

  DialectRegistry registry;
  vsa::registerDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &ctx);
  auto buf = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!buf)
    return error(inputFile + ": " + buf.getError().message());
  sourceMgr.AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &ctx);
  if (!module)
    return 1;
  auto func = module->lookupSymbol<func::FuncOp>("main");
  if (!func)
    return error("no func.func @main");

  llvm::StringMap<Tensor> given;
  for (const std::string &spec : inputs) {
    auto [name, file] = splitSpec(spec);
    if (name.empty())
      return error("bad --input '" + spec + "' (want NAME=FILE.npy)");
    auto t = readNpy(file, ctx);
    if (!t)
      return error(llvm::toString(t.takeError()));
    given[name] = std::move(*t);
  }
  SmallVector<Tensor> args;
  auto argTypes = func.getArgumentTypes();
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    std::string name = nameOf(func.getArgAttrDict(i), i);
    auto it = given.find(name);
    if (it == given.end())
      return error("no --input for argument '" + name + "'");
    auto type = cast<RankedTensorType>(argTypes[i]);
    Tensor t = it->second;
    if (ArrayRef<int64_t>(t.shape) != type.getShape())
      return error("input '" + name + "' has the wrong shape");
    t.elementType = type.getElementType();
    for (double &v : t.data)
      v = vsa::interp::roundTo(t.elementType, v);
    args.push_back(std::move(t));
  }

  auto results = vsa::interp::interpret(func, args);
  if (failed(results))
    return 1;
  llvm::StringMap<unsigned> resultIndex;
  for (unsigned i = 0; i < results->size(); ++i)
    resultIndex[nameOf(func.getResultAttrDict(i), i)] = i;

  for (const std::string &spec : outputs) {
    auto [name, file] = splitSpec(spec);
    if (name.empty())
      return error("bad --output '" + spec + "' (want NAME=FILE.npy)");
    auto it = resultIndex.find(name);
    if (it == resultIndex.end())
      return error("no result named '" + name + "'");
    if (failed(writeNpy(file, (*results)[it->second])))
      return error("cannot write '" + file + "'");
  }

  int status = 0;
  for (const std::string &spec : expected) {
    auto [name, file] = splitSpec(spec);
    if (name.empty())
      return error("bad --expected '" + spec + "' (want NAME=FILE.npy)");
    auto it = resultIndex.find(name);
    if (it == resultIndex.end())
      return error("no result named '" + name + "'");
    auto ref = readNpy(file, ctx);
    if (!ref)
      return error(llvm::toString(ref.takeError()));
    const Tensor &got = (*results)[it->second];
    if (got.shape != ref->shape) {
      llvm::outs() << name << ": shape mismatch\n";
      status = 1;
      continue;
    }
    double err = 0, mag = 0;
    bool nan = false;
    for (size_t i = 0; i < got.data.size(); ++i) {
      double e = std::fabs(got.data[i] - ref->data[i]);
      nan |= std::isnan(e);
      err = std::max(err, e);
      mag = std::max(mag, std::fabs(ref->data[i]));
    }
    double ratio = mag > 0 ? err / mag : (err > 0 ? INFINITY : 0.0);
    llvm::outs() << name << ": max|err| = " << llvm::format("%.3e", err)
                 << ", max|ref| = " << llvm::format("%.3e", mag)
                 << ", ratio = " << llvm::format("%.3e", ratio) << "\n";
    if (nan || err > rtol * mag) {
      llvm::outs() << name << ": FAILED (rtol " << rtol.getValue() << ")\n";
      status = 1;
    }
  }
  return status;
}

//===- PrintSummary.cpp - print a summary of a dit module ------------------===//

#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/dit/ShapeInference.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace vsa {
#define GEN_PASS_DEF_PRINTSUMMARYPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

std::string typeString(Type t) {
  auto rt = cast<RankedTensorType>(t);
  std::string s;
  llvm::raw_string_ostream os(s);
  os << dit::shapeToString(rt.getShape()) << " " << rt.getElementType();
  return s;
}

int64_t byteSize(RankedTensorType t) {
  int64_t bits = t.getElementType().getIntOrFloatBitWidth();
  return t.getNumElements() * std::max<int64_t>(bits / 8, 1);
}

void printArgList(llvm::raw_ostream &os, StringRef what, func::FuncOp f,
                  bool results) {
  unsigned n = results ? f.getNumResults() : f.getNumArguments();
  os << what << " (" << n << "):\n";
  for (unsigned i = 0; i < n; ++i) {
    DictionaryAttr attrs = results ? f.getResultAttrDict(i) : f.getArgAttrDict(i);
    StringAttr name = attrs ? attrs.getAs<StringAttr>("dit.name") : StringAttr();
    Type t = results ? f.getResultTypes()[i] : f.getArgumentTypes()[i];
    os << "  " << (name ? name.getValue() : StringRef("?")) << ": "
       << typeString(t) << "\n";
  }
}

/// "attention: 2 self, 2 cross; video 3x4x4 (+0 before, 0 after)".
void printAttention(llvm::raw_ostream &os, func::FuncOp f) {
  int64_t self = 0, cross = 0, unknown = 0;
  llvm::MapVector<Attribute, int64_t> geometries;
  f.walk([&](dit::AttentionOp op) {
    if (!op.getRole())
      ++unknown;
    else if (*op.getRole() == dit::AttentionRole::self)
      ++self;
    else
      ++cross;
    if (auto g = op.getGeometryAttr())
      ++geometries[g];
  });
  if (self + cross + unknown == 0)
    return;
  os << "attention: " << self << " self, " << cross << " cross";
  if (unknown)
    os << ", " << unknown << " without role";
  os << "\n";
  for (auto &[attr, n] : geometries) {
    auto g = cast<dit::VideoGeometryAttr>(attr);
    os << "  " << n << " over video " << g.getT() << "x" << g.getH() << "x"
       << g.getW() << " tokens (+" << g.getPrefix() << " before, "
       << g.getSuffix() << " after)\n";
  }
}

void summarizeBody(llvm::raw_ostream &os, func::FuncOp f) {
  int64_t params = 0, paramElems = 0, paramBytes = 0, transposed = 0,
          external = 0;
  llvm::MapVector<StringRef, int64_t> counts;
  f.walk([&](Operation *op) {
    if (op == f.getOperation() || isa<func::ReturnOp>(op))
      return;
    ++counts[op->getName().getStringRef()];
    auto p = dyn_cast<dit::ParamOp>(op);
    if (!p)
      return;
    ++params;
    paramElems += p.getType().getNumElements();
    paramBytes += byteSize(p.getType());
    transposed += p.getPerm().has_value();
    external += !p.getValueAttr();
  });
  os << "weights: " << params << " tensors, " << paramElems << " parameters, "
     << llvm::format("%.2f", double(paramBytes) / (1 << 20)) << " MiB";
  os << " (" << transposed << " stored transposed, " << external
     << " external)\n";
  printAttention(os, f);
  os << "ops:\n";
  SmallVector<std::pair<StringRef, int64_t>> sorted(counts.begin(),
                                                    counts.end());
  llvm::sort(sorted, [](auto &a, auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (auto &[name, n] : sorted)
    os << "  " << llvm::format("%-22s", name.str().c_str()) << n << "\n";
}

struct PrintSummaryPass : vsa::impl::PrintSummaryPassBase<PrintSummaryPass> {
  using Base::Base;

  void runOnOperation() override {
    if (to != "stdout" && to != "stderr") {
      getOperation().emitError("dit-print-summary: option 'to' must be stdout "
                               "or stderr, got '")
          << to << "'";
      return signalPassFailure();
    }
    printSummary(getOperation(), to == "stderr" ? llvm::errs() : llvm::outs());
    markAllAnalysesPreserved();
  }
};

} // namespace

void vsa::printSummary(ModuleOp module, llvm::raw_ostream &os) {
  if (auto producer = module->getAttrOfType<StringAttr>("dit.producer"))
    os << "model: " << producer.getValue() << "\n";
  for (auto f : module.getOps<func::FuncOp>()) {
    os << "function @" << f.getSymName() << "\n";
    printArgList(os, "inputs", f, /*results=*/false);
    printArgList(os, "outputs", f, /*results=*/true);
    summarizeBody(os, f);
  }
}

//===- QuantizeGemms.cpp - linear layers in FP8 -----------------------------===//
//
// Large activation-by-weight GEMMs become a per-row FP8 quantization of the
// activations and an FP8 GEMM against the weight, which the session stores
// as E4M3 with per-output-channel scales. Activations shared by several
// GEMMs (q, k, v) are quantized once, and only activations feeding enough
// output columns are: the quantization reads the activation once more.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallVectorExtras.h"

namespace vsa {
#define GEN_PASS_DEF_QUANTIZEGEMMSPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

/// Whether `gemm` can run as a scaled FP8 GEMM: activations times a (N, K)
/// weight, every size at least `minDim`, K and N fitting FP8 layouts.
bool qualifies(vrt::GemmOp gemm, int64_t minDim) {
  if (gemm.getTransA() || !gemm.getTransB() ||
      !gemm.getRhs().getDefiningOp<vrt::WeightOp>())
    return false;
  auto lhs = cast<RankedTensorType>(gemm.getLhs().getType());
  auto rhs = cast<RankedTensorType>(gemm.getRhs().getType());
  if (rhs.getRank() != 2 || lhs.getRank() < 2)
    return false;
  int64_t n = rhs.getDimSize(0), k = rhs.getDimSize(1);
  int64_t m = lhs.getNumElements() / std::max<int64_t>(k, 1);
  return m >= minDim && n >= minDim && k >= minDim && k % 16 == 0 &&
         n % 8 == 0;
}

/// Drops the candidates of each weight that has a use outside them (the
/// session stores a weight once; biases are not FP8). Returns whether any
/// was dropped.
bool dropPartlyQuantizedWeights(func::FuncOp func,
                                DenseSet<Operation *> &candidates) {
  bool changed = false;
  for (auto w : func.getOps<vrt::WeightOp>()) {
    Value v = w.getResult();
    auto isCandidateRhs = [&](OpOperand &use) {
      return use.getOperandNumber() == 1 && candidates.contains(use.getOwner());
    };
    if (!llvm::any_of(v.getUses(), isCandidateRhs) ||
        llvm::all_of(v.getUses(), isCandidateRhs))
      continue;
    for (Operation *user : v.getUsers())
      changed |= candidates.erase(user);
  }
  return changed;
}

/// Drops the candidates whose activation feeds fewer than `minN` output
/// columns in total: its quantization would cost more than FP8 saves.
bool dropUnprofitableActivations(DenseSet<Operation *> &candidates,
                                 ArrayRef<vrt::GemmOp> gemms, int64_t minN) {
  llvm::MapVector<Value, int64_t> columns;
  for (vrt::GemmOp g : gemms)
    if (candidates.contains(g))
      columns[g.getLhs()] += shapeOf(g.getRhs())[0];
  bool changed = false;
  for (vrt::GemmOp g : gemms)
    if (candidates.contains(g) && columns.lookup(g.getLhs()) < minN)
      changed |= candidates.erase(g);
  return changed;
}

/// The GEMMs to run in FP8: qualifying ones, minus those of weights read
/// elsewhere and of activations too narrow to pay for their quantization,
/// until both rules hold.
SmallVector<vrt::GemmOp> chooseGemms(func::FuncOp func, int64_t minDim,
                                     int64_t minN) {
  SmallVector<vrt::GemmOp> gemms;
  func.walk([&](vrt::GemmOp g) { gemms.push_back(g); });
  DenseSet<Operation *> candidates;
  for (vrt::GemmOp g : gemms)
    if (qualifies(g, minDim))
      candidates.insert(g);
  bool changed = true;
  while (changed) {
    changed = dropPartlyQuantizedWeights(func, candidates);
    changed |= dropUnprofitableActivations(candidates, gemms, minN);
  }
  return llvm::filter_to_vector(
      gemms, [&](vrt::GemmOp g) { return candidates.contains(g); });
}

/// `vrt.quantize_rows` of `lhs`, placed before `at`.
vrt::QuantizeRowsOp quantize(Value lhs, Operation *at) {
  OpBuilder b(at);
  auto type = cast<RankedTensorType>(lhs.getType());
  auto values = RankedTensorType::get(type.getShape(), Float8E4M3FNType::get(b.getContext()));
  auto scales = RankedTensorType::get(type.getShape().drop_back(), b.getF32Type());
  return vrt::QuantizeRowsOp::create(b, lhs.getLoc(), values, scales, lhs,
                                     DenseI64ArrayAttr());
}

void rewrite(vrt::GemmOp gemm, vrt::QuantizeRowsOp q) {
  OpBuilder b(gemm);
  auto scaled = vrt::ScaledGemmOp::create(
      b, gemm.getLoc(), gemm.getResult().getType(), q.getValues(),
      q.getScales(), gemm.getRhs(), gemm.getBias(), /*residual=*/Value(),
      /*gate=*/Value(), b.getI64IntegerAttr(0), gemm.getAlphaAttr(),
      gemm.getEpilogueAttr(), IntegerAttr());
  gemm.getResult().replaceAllUsesWith(scaled.getResult());
  gemm.erase();
}

struct QuantizeGemmsPass
    : vsa::impl::QuantizeGemmsPassBase<QuantizeGemmsPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (minDim < 1 || minN < 1) {
      func.emitError("vrt-quantize-gemms: min-dim and min-n must be >= 1, "
                     "got ")
          << static_cast<int64_t>(minDim) << " and "
          << static_cast<int64_t>(minN);
      return signalPassFailure();
    }
    llvm::MapVector<Value, vrt::QuantizeRowsOp> quantized; // by lhs
    for (vrt::GemmOp g : chooseGemms(func, minDim, minN)) { // program order
      auto [it, inserted] = quantized.try_emplace(g.getLhs());
      if (inserted)
        it->second = quantize(g.getLhs(), g);
      rewrite(g, it->second);
    }
  }
};

} // namespace

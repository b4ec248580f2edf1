//===- FuseIntoFp8.cpp - memory-bound neighbours of FP8 GEMMs --------------===//
//
// After vrt-quantize-gemms a DiT block reads and writes its (tokens,
// channels) activations more often than it needs to: a norm writes bf16
// rows that a row quantization reads back, and a residual kernel reads a
// GEMM's output that the GEMM could have added itself. Both become part of
// the op next to them.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/dit/ShapeInference.h"
#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace vsa {
#define GEN_PASS_DEF_FUSEINTOFP8PASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

/// Erases `op` and then the views and the op it read through, as far as
/// they have no other uses.
void eraseWithDeadSources(Operation *op) {
  SmallVector<Value> sources(op->getOperands());
  op->erase();
  for (Value v : sources) {
    Operation *def = v.getDefiningOp();
    while (def && def->use_empty() &&
           isa<vrt::ViewOp, vrt::NormOp, vrt::ScaledGemmOp>(def)) {
      auto view = dyn_cast<vrt::ViewOp>(def);
      Value next = view ? view.getInput() : Value();
      def->erase();
      def = next ? next.getDefiningOp() : nullptr;
    }
  }
}

/// norm → quantize_rows (nothing else reading the norm) becomes one
/// vrt.norm_quantize over the norm's rows.
void fuseNormQuantize(vrt::QuantizeRowsOp q) {
  auto norm = vrt::viewSource(q.getInput()).getDefiningOp<vrt::NormOp>();
  if (!norm || !vrt::onlyFeeds(norm.getResult(), q))
    return;
  ArrayRef<int64_t> rows = shapeOf(norm.getResult());
  if (rows.back() != shapeOf(q.getInput()).back())
    return; // a view that cuts rows differently
  // The results keep the quantization's shapes (FP8 tensors have no views).
  OpBuilder b(q);
  auto fused = vrt::NormQuantizeOp::create(
      b, norm.getLoc(), q.getValues().getType(), q.getScales().getType(),
      norm.getKindAttr(), norm.getInput(), norm.getScale(), norm.getBias(),
      norm.getModShift(), norm.getModScale(), norm.getEpsilonAttr(),
      DenseI64ArrayAttr(), UnitAttr());
  q.getValues().replaceAllUsesWith(fused.getValues());
  q.getScales().replaceAllUsesWith(fused.getScales());
  eraseWithDeadSources(q);
}

/// A residual kernel's parts: result = residual + gemm · gate.
struct Residual {
  unsigned residual, gemm; // kernel input numbers
  bool commutes = false;   // a plain add: either input may be the GEMM
  std::optional<unsigned> gate;
  int64_t gateOffset = 0; // elements into the gate input
};

/// The element offset of `slice`'s first element when it is one
/// contiguous run of `n` values (unit strides, every dim but the last 1,
/// starting at a row boundary); nullopt otherwise.
std::optional<int64_t> contiguousRow(dit::SliceOp slice, int64_t n) {
  ArrayRef<int64_t> in = shapeOf(slice.getInput()), out = shapeOf(slice);
  ArrayRef<int64_t> offsets = slice.getOffsets(), strides = slice.getStrides();
  if (out.empty() || out.back() != n || offsets.back() != 0 ||
      llvm::any_of(strides, [](int64_t s) { return s != 1; }) ||
      dit::numElements(out) != n)
    return std::nullopt;
  int64_t offset = 0;
  for (size_t i = 0; i < in.size(); ++i)
    offset = offset * in[i] + offsets[i];
  return offset;
}

/// The gate of a gated add: a kernel input of N values shared by every
/// row, or a contiguous row of one.
bool matchGate(Value gate, int64_t n, Residual &r) {
  if (auto arg = dyn_cast<BlockArgument>(gate)) {
    if (dit::numElements(shapeOf(arg)) != n)
      return false;
    r.gate = arg.getArgNumber();
    return true;
  }
  auto slice = gate.getDefiningOp<dit::SliceOp>();
  if (!slice || !isa<BlockArgument>(slice.getInput()))
    return false;
  std::optional<int64_t> offset = contiguousRow(slice, n);
  if (!offset)
    return false;
  r.gate = cast<BlockArgument>(slice.getInput()).getArgNumber();
  r.gateOffset = *offset;
  return true;
}

/// `kernel`'s body as a residual connection: `add(a, b)` or
/// `gated_add(residual, gemm, gate)` of its inputs, nothing else.
std::optional<Residual> matchResidual(vrt::KernelOp kernel) {
  Block &body = kernel.getBody().front();
  Operation *root = kernel.getYielded().getDefiningOp();
  auto argNumber = [](Value v) -> std::optional<unsigned> {
    if (auto arg = dyn_cast<BlockArgument>(v))
      return arg.getArgNumber();
    return std::nullopt;
  };
  Residual r;
  if (auto add = dyn_cast_or_null<dit::AddOp>(root)) {
    auto a = argNumber(add.getLhs()), b = argNumber(add.getRhs());
    if (!a || !b || body.getOperations().size() != 2) // add, yield
      return std::nullopt;
    r.residual = *a, r.gemm = *b, r.commutes = true;
    return r;
  }
  auto gated = dyn_cast_or_null<dit::GatedAddOp>(root);
  if (!gated || body.getOperations().size() > 3) // [slice,] gated_add, yield
    return std::nullopt;
  auto a = argNumber(gated.getLhs()), b = argNumber(gated.getRhs());
  if (!a || !b || !matchGate(gated.getGate(), shapeOf(kernel).back(), r))
    return std::nullopt;
  r.residual = *a, r.gemm = *b;
  return r;
}

/// The scaled GEMM producing `v` when the kernel `user` is its only reader
/// and it can take a residual of its own type.
vrt::ScaledGemmOp fusableGemm(Value v, vrt::KernelOp user) {
  auto gemm = v.getDefiningOp<vrt::ScaledGemmOp>();
  if (!gemm || !v.hasOneUse() || gemm.getResidual() ||
      gemm.getEpilogue() != vrt::Epilogue::none ||
      gemm.getType() != user.getType())
    return nullptr;
  return gemm;
}

/// residual + gemm · gate in a generated kernel becomes the GEMM's
/// residual and gate.
void fuseResidual(vrt::KernelOp kernel) {
  std::optional<Residual> r = matchResidual(kernel);
  if (!r)
    return;
  OperandRange inputs = kernel.getInputs();
  vrt::ScaledGemmOp gemm = fusableGemm(inputs[r->gemm], kernel);
  if (!gemm && r->commutes) {
    std::swap(r->residual, r->gemm);
    gemm = fusableGemm(inputs[r->gemm], kernel);
  }
  Value residual = inputs[r->residual];
  Value gate = r->gate ? inputs[*r->gate] : Value();
  // Model inputs keep their own precision; the GEMM reads bf16 on CUDA.
  auto isInput = [](Value v) {
    return v && isa<BlockArgument>(vrt::viewSource(v));
  };
  if (!gemm || residual.getType() != gemm.getType() ||
      residual == inputs[r->gemm] || isInput(residual) || isInput(gate))
    return;
  OpBuilder b(kernel);
  auto fused = vrt::ScaledGemmOp::create(
      b, gemm.getLoc(), gemm.getType(), gemm.getLhs(), gemm.getLhsScales(),
      gemm.getWeight(), gemm.getBias(), residual, gate,
      b.getI64IntegerAttr(r->gateOffset), gemm.getAlphaAttr(),
      gemm.getEpilogueAttr(), IntegerAttr());
  kernel.getResult().replaceAllUsesWith(fused.getResult());
  eraseWithDeadSources(kernel);
}

struct FuseIntoFp8Pass : vsa::impl::FuseIntoFp8PassBase<FuseIntoFp8Pass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<vrt::QuantizeRowsOp> quantizations(
        func.getOps<vrt::QuantizeRowsOp>());
    for (vrt::QuantizeRowsOp q : quantizations)
      fuseNormQuantize(q);
    SmallVector<vrt::KernelOp> kernels(func.getOps<vrt::KernelOp>());
    for (vrt::KernelOp k : kernels)
      fuseResidual(k);
  }
};

} // namespace

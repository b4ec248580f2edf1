//===- FuseKernels.cpp - merge generated kernels, views and epilogues ------===//
//
// After lowering every element-wise or data-movement op is a kernel of its
// own. A kernel whose only use is another kernel is inlined into it (its
// body computes each element on demand, so the intermediate never reaches
// memory); kernels that read nothing (splat constants) are inlined into
// every kernel using them. Then transposes around attention become layouts,
// GELU after a GEMM becomes its epilogue and kernels that only reshape
// become views.
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/STLExtras.h"

#include <optional>
#include <type_traits>

namespace vsa {
#define GEN_PASS_DEF_FUSEKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

constexpr int64_t kHeadsToSeq[] = {0, 2, 1, 3};

/// Kernel input `index` of `k` standing for `v`: an existing one or a new one.
BlockArgument inputFor(vrt::KernelOp k, Value v) {
  Block &body = k.getBody().front();
  for (auto [i, in] : llvm::enumerate(k.getInputs()))
    if (in == v)
      return body.getArgument(i);
  k.getInputsMutable().append(v);
  return body.addArgument(v.getType(), v.getLoc());
}

void dropInput(vrt::KernelOp k, unsigned index) {
  k.getInputsMutable().erase(index);
  k.getBody().front().eraseArgument(index);
}

/// Replaces input `index` of `consumer` by the body of `producer`.
void inlineKernel(vrt::KernelOp consumer, unsigned index,
                  vrt::KernelOp producer) {
  Block &body = consumer.getBody().front();
  IRMapping m;
  for (auto [arg, in] :
       llvm::zip(producer.getBody().front().getArguments(),
                 producer.getInputs()))
    m.map(arg, inputFor(consumer, in));
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  for (Operation &op : producer.getBody().front().without_terminator())
    b.clone(op, m);
  body.getArgument(index).replaceAllUsesWith(
      m.lookupOrDefault(producer.getYielded()));
  dropInput(consumer, index);
  if (producer->use_empty())
    producer->erase();
}

/// Replaces input `index` of `consumer`, a view, by a reshape in the body.
void inlineView(vrt::KernelOp consumer, unsigned index, vrt::ViewOp view) {
  Block &body = consumer.getBody().front();
  BlockArgument source = inputFor(consumer, view.getInput());
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  Value reshaped = dit::ReshapeOp::create(b, view.getLoc(), view.getType(),
                                          source);
  body.getArgument(index).replaceAllUsesWith(reshaped);
  dropInput(consumer, index);
  if (view->use_empty())
    view->erase();
}

bool canInline(vrt::KernelOp producer) {
  Operation *root = producer.getYielded().getDefiningOp();
  if (root && vrt::isKernelRootOp(root))
    return false;
  return producer->hasOneUse() || producer.getInputs().empty();
}

/// One inlining step into `consumer`; false when none applies.
bool fuseOnce(vrt::KernelOp consumer) {
  for (auto [i, in] : llvm::enumerate(consumer.getInputs())) {
    if (auto producer = in.getDefiningOp<vrt::KernelOp>();
        producer && canInline(producer)) {
      inlineKernel(consumer, i, producer);
      return true;
    }
    if (auto view = in.getDefiningOp<vrt::ViewOp>(); view && view->hasOneUse()) {
      inlineView(consumer, i, view);
      return true;
    }
  }
  return false;
}

void fuseProducers(func::FuncOp func) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<vrt::KernelOp> kernels(func.getOps<vrt::KernelOp>());
    for (vrt::KernelOp k : kernels)
      while (fuseOnce(k))
        changed = true;
  }
}

/// The transpose(x, 0 2 1 3) that kernel `k` ends in, if any.
dit::TransposeOp finalHeadsTranspose(vrt::KernelOp k) {
  auto t = k ? k.getYielded().getDefiningOp<dit::TransposeOp>()
             : dit::TransposeOp();
  return t && t.getPerm() == ArrayRef<int64_t>(kHeadsToSeq) ? t
                                                           : dit::TransposeOp();
}

/// A vrt.norm_rope writing (B, H, S, D) that could write (B, S, H, D).
vrt::NormRopeOp headsMajorNormRope(Value v) {
  auto n = v.getDefiningOp<vrt::NormRopeOp>();
  return n && n.getHeadsMajor() ? n : vrt::NormRopeOp();
}

/// The VSA selection reading `use` as its key or value in the layout of
/// `attn`'s keys: attn's key and (if any) value, kv layout bhsd.
vrt::VsaSelectOp kvSelectOf(OpOperand &use, vrt::AttentionOp attn) {
  auto select = dyn_cast<vrt::VsaSelectOp>(use.getOwner());
  if (!select || use.getOperandNumber() == 0 ||
      select.getKvLayout() != vrt::Layout::bhsd ||
      select.getKey() != attn.getKey() ||
      (select.getValue() && select.getValue() != attn.getValue()))
    return vrt::VsaSelectOp();
  return select;
}

/// Whether `operand` comes from a kernel that ends in that transpose or
/// from a heads-major vrt.norm_rope, and is read only by `attn` (and by
/// VSA selections reading it alongside, kvSelectOf).
template <typename AttentionLike>
bool isFinalTransposeAbsorbable(Value operand, AttentionLike attn) {
  for (OpOperand &use : operand.getUses()) {
    if (use.getOwner() == attn.getOperation())
      continue;
    if constexpr (std::is_same_v<AttentionLike, vrt::AttentionOp>)
      if (kvSelectOf(use, attn))
        continue;
    return false;
  }
  auto k = operand.getDefiningOp<vrt::KernelOp>();
  return finalHeadsTranspose(k) || headsMajorNormRope(operand);
}

/// Makes the producer of `v` write (B, S, H, D): a kernel ending in
/// transpose(x, 0 2 1 3) yields x, a vrt.norm_rope drops heads_major.
void dropFinalTranspose(Value v) {
  if (vrt::NormRopeOp n = headsMajorNormRope(v)) {
    ArrayRef<int64_t> s = cast<RankedTensorType>(v.getType()).getShape();
    n.setHeadsMajor(false);
    v.setType(RankedTensorType::get({s[0], s[2], s[1], s[3]},
                                    cast<RankedTensorType>(v.getType())
                                        .getElementType()));
    return;
  }
  auto k = v.getDefiningOp<vrt::KernelOp>();
  dit::TransposeOp t = finalHeadsTranspose(k);
  k.getBody().front().getTerminator()->setOperand(0, t.getInput());
  k.getResult().setType(t.getInput().getType());
  if (t->use_empty())
    t->erase();
}

/// The attention result's only use is a kernel that first transposes it.
/// (Dense/block-sparse and semantic attention: the same layout attributes.)
template <typename AttentionLike>
bool absorbOutputTranspose(AttentionLike attn) {
  if (!attn->hasOneUse())
    return false;
  OpOperand &use = *attn->getUses().begin();
  auto k = dyn_cast<vrt::KernelOp>(use.getOwner());
  if (!k)
    return false;
  BlockArgument arg = k.getBody().front().getArgument(use.getOperandNumber());
  if (!arg.hasOneUse())
    return false;
  auto t = dyn_cast<dit::TransposeOp>(*arg.getUsers().begin());
  if (!t || t.getPerm() != ArrayRef<int64_t>(kHeadsToSeq))
    return false;
  arg.setType(t.getType());
  attn.getResult().setType(t.getType());
  t.replaceAllUsesWith(arg);
  t->erase();
  attn.setOutLayout(vrt::Layout::bshd);
  return true;
}

/// A kernel ending in transpose(x, 0 2 1 3) that is only ever the query of
/// attentions still reading it as bhsd (one, or several sharing it, as
/// Wan I2V's text and image cross-attention): it now yields x and each of
/// them reads it as bshd.
bool absorbQueryTranspose(Value query) {
  auto k = query.getDefiningOp<vrt::KernelOp>();
  if (!finalHeadsTranspose(k) && !headsMajorNormRope(query))
    return false;
  auto qLayoutOf = [](Operation *user) -> std::optional<vrt::Layout> {
    if (auto dense = dyn_cast<vrt::AttentionOp>(user))
      return dense.getQLayout();
    if (auto semantic = dyn_cast<vrt::SemanticAttentionOp>(user))
      return semantic.getQLayout();
    if (auto select = dyn_cast<vrt::VsaSelectOp>(user))
      return select.getQLayout();
    return std::nullopt;
  };
  for (OpOperand &use : query.getUses())
    if (use.getOperandNumber() != 0 ||
        qLayoutOf(use.getOwner()) != vrt::Layout::bhsd)
      return false;
  dropFinalTranspose(query);
  for (Operation *user : query.getUsers()) {
    if (auto dense = dyn_cast<vrt::AttentionOp>(user))
      dense.setQLayout(vrt::Layout::bshd);
    else if (auto semantic = dyn_cast<vrt::SemanticAttentionOp>(user))
      semantic.setQLayout(vrt::Layout::bshd);
    else
      cast<vrt::VsaSelectOp>(user).setQLayout(vrt::Layout::bshd);
  }
  return true;
}

template <typename AttentionLike> void absorbLayouts(AttentionLike attn) {
  if (attn.getQLayout() == vrt::Layout::bhsd)
    absorbQueryTranspose(attn.getQuery());
  if (attn.getKvLayout() == vrt::Layout::bhsd &&
      attn.getKey() != attn.getValue() &&
      isFinalTransposeAbsorbable(attn.getKey(), attn) &&
      isFinalTransposeAbsorbable(attn.getValue(), attn)) {
    if constexpr (std::is_same_v<AttentionLike, vrt::AttentionOp>)
      for (Value kv : {attn.getKey(), attn.getValue()})
        for (OpOperand &use : kv.getUses())
          if (vrt::VsaSelectOp select = kvSelectOf(use, attn))
            select.setKvLayout(vrt::Layout::bshd);
    dropFinalTranspose(attn.getKey());
    dropFinalTranspose(attn.getValue());
    attn.setKvLayout(vrt::Layout::bshd);
  }
  if (attn.getOutLayout() == vrt::Layout::bhsd)
    absorbOutputTranspose(attn);
}

void absorbAttentionLayouts(func::FuncOp func) {
  func.walk([](Operation *op) {
    if (auto attn = dyn_cast<vrt::AttentionOp>(op))
      absorbLayouts(attn);
    else if (auto semantic = dyn_cast<vrt::SemanticAttentionOp>(op))
      absorbLayouts(semantic);
  });
}

/// gemm → kernel{gelu(x)} becomes the GEMM's epilogue.
void fuseGeluEpilogues(func::FuncOp func) {
  for (vrt::KernelOp k : llvm::make_early_inc_range(func.getOps<vrt::KernelOp>())) {
    auto gelu = k.getYielded().getDefiningOp<dit::GeluOp>();
    if (!gelu || k.getInputs().size() != 1 ||
        gelu.getInput() != k.getBody().front().getArgument(0) ||
        &k.getBody().front().front() != gelu.getOperation())
      continue;
    auto gemm = k.getInputs()[0].getDefiningOp<vrt::GemmOp>();
    if (!gemm || !gemm->hasOneUse() || gemm.getEpilogue() != vrt::Epilogue::none)
      continue;
    gemm.setEpilogue(gelu.getApproximate() == dit::GeluApproximation::tanh
                         ? vrt::Epilogue::gelu_tanh
                         : vrt::Epilogue::gelu_erf);
    k.replaceAllUsesWith(gemm.getResult());
    k->erase();
  }
}

/// A kernel that only reshapes an activation is a view of it.
void replaceCopiesByViews(func::FuncOp func) {
  for (vrt::KernelOp k : llvm::make_early_inc_range(func.getOps<vrt::KernelOp>())) {
    if (k.getInputs().size() != 1)
      continue;
    Value v = k.getYielded();
    while (auto r = v.getDefiningOp<dit::ReshapeOp>())
      v = r.getInput();
    if (v != k.getBody().front().getArgument(0))
      continue;
    // Copies of inputs and weights (seen through views) stay: they are not
    // in the arena, and outputs and library operands must be.
    Value root = vrt::viewSource(k.getInputs()[0]);
    if (isa<BlockArgument>(root) || root.getDefiningOp<vrt::WeightOp>())
      continue;
    OpBuilder b(k);
    Value view = k.getInputs()[0];
    if (view.getType() != k.getType())
      view = vrt::ViewOp::create(b, k.getLoc(), k.getType(), view);
    k.replaceAllUsesWith(view);
    k->erase();
  }
}

/// Kernels' names follow program order once fusion has settled.
void renameKernels(func::FuncOp func) {
  unsigned n = 0;
  for (vrt::KernelOp k : func.getOps<vrt::KernelOp>())
    k.setSymName(("k" + Twine(n++)).str());
}

struct FuseKernelsPass : vsa::impl::FuseKernelsPassBase<FuseKernelsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    fuseProducers(func);
    absorbAttentionLayouts(func);
    fuseGeluEpilogues(func);
    replaceCopiesByViews(func);
    fuseProducers(func);
    renameKernels(func);
  }
};

} // namespace

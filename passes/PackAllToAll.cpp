//===- PackAllToAll.cpp - one collective for q, k and v ---------------------===//
//
// Ulysses puts three all-to-alls (q, k, v) right before each self-attention.
// Adjacent ones with one input type, axes and group move in one packed
// vrt.all_to_all (one NCCL group of sends and receives at run time).
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace vsa {
#define GEN_PASS_DEF_PACKALLTOALLPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

constexpr size_t kMaxPacked = 8; // VSART_COMM_MAX_BUFFERS

/// Whether `b` can move in one collective with `a`.
bool packable(vrt::AllToAllOp a, vrt::AllToAllOp b) {
  return a.getInputs().size() == 1 && b.getInputs().size() == 1 &&
         !a.getOffset() && !b.getOffset() &&
         a.getInputs()[0].getType() == b.getInputs()[0].getType() &&
         a.getScatterAxis() == b.getScatterAxis() &&
         a.getGatherAxis() == b.getGatherAxis() &&
         a.getGroupSize() == b.getGroupSize() &&
         a.getGroupStride() == b.getGroupStride() &&
         b.getInputs()[0].getDefiningOp() != a;
}

/// Replaces `run` (adjacent, packable) by one packed all-to-all.
void pack(ArrayRef<vrt::AllToAllOp> run) {
  vrt::AllToAllOp first = run.front();
  OpBuilder b(first);
  SmallVector<Value> inputs;
  SmallVector<Type> types;
  for (vrt::AllToAllOp op : run) {
    inputs.push_back(op.getInputs()[0]);
    types.push_back(op.getResults()[0].getType());
  }
  auto packed = vrt::AllToAllOp::create(
      b, first.getLoc(), types, inputs, first.getScatterAxis(),
      first.getGatherAxis(), first.getGroupSize(), first.getGroupStride(),
      IntegerAttr(), DenseI64ArrayAttr());
  for (auto [i, one] : llvm::enumerate(run)) {
    vrt::AllToAllOp op = one;
    op.getResults()[0].replaceAllUsesWith(packed.getResults()[i]);
    op.erase();
  }
}

struct PackAllToAllPass : vsa::impl::PackAllToAllPassBase<PackAllToAllPass> {
  void runOnOperation() override {
    SmallVector<SmallVector<vrt::AllToAllOp>> runs;
    for (Block &block : getOperation().getBody()) {
      SmallVector<vrt::AllToAllOp> run;
      for (Operation &op : block) {
        auto a2a = dyn_cast<vrt::AllToAllOp>(op);
        if (a2a && !run.empty() && run.size() < kMaxPacked &&
            packable(run.front(), a2a)) {
          run.push_back(a2a);
          continue;
        }
        if (run.size() > 1)
          runs.push_back(run);
        run.clear();
        if (a2a && a2a.getInputs().size() == 1 && !a2a.getOffset())
          run.push_back(a2a);
      }
      if (run.size() > 1)
        runs.push_back(run);
    }
    for (ArrayRef<vrt::AllToAllOp> run : runs)
      pack(run);
  }
};

} // namespace

//===- InferVideoGeometry.cpp - #dit.video from the patch embedding --------===//

#include "vsa/Support/Views.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace vsa {
#define GEN_PASS_DEF_INFERVIDEOGEOMETRYPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

/// A patchify convolution: kernel == stride on every spatial axis, no
/// padding, fed (through views) by a function argument.
bool isPatchEmbedding(dit::ConvOp conv) {
  auto w = cast<RankedTensorType>(conv.getWeight().getType()).getShape();
  for (auto [i, s] : llvm::enumerate(conv.getStrides()))
    if (s != w[2 + i])
      return false;
  if (llvm::any_of(conv.getPads(), [](int64_t p) { return p != 0; }))
    return false;
  Value in = conv.getInput();
  while (Operation *op = in.getDefiningOp()) {
    if (!isa<dit::ReshapeOp, dit::TransposeOp, dit::CastOp>(op))
      return false;
    in = op->getOperand(0);
  }
  return isa<BlockArgument>(in);
}

struct Grid {
  int64_t t, h, w;
  int64_t convBatch; // leading extent of the conv output
  bool frameInBatch; // 2-D conv: frames folded into the batch
  Operation *conv;
};

std::optional<Grid> findGrid(func::FuncOp f) {
  std::optional<Grid> grid;
  f.walk([&](dit::ConvOp conv) {
    if (grid || !isPatchEmbedding(conv))
      return;
    auto out = conv.getType().getShape();
    if (out.size() == 5)
      grid = Grid{out[2], out[3], out[4], out[0], false, conv};
    else if (out.size() == 4)
      grid = Grid{1, out[2], out[3], out[0], true, conv};
  });
  return grid;
}

/// Values computed from `root` (forward slice, in one block).
llvm::DenseSet<Value> forwardSlice(Operation *root) {
  llvm::DenseSet<Value> out;
  SmallVector<Value> work(root->getResults());
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!out.insert(v).second)
      continue;
    for (Operation *user : v.getUsers())
      for (Value r : user->getResults())
        work.push_back(r);
  }
  return out;
}

/// Looks back from the queries for a concat that joins video tokens (from
/// the patch embedding) with others along an axis of `seq` tokens; returns
/// the number of tokens before the video ones.
std::optional<int64_t> videoOffset(Value q, int64_t seq, int64_t video,
                                   const llvm::DenseSet<Value> &fromVideo) {
  std::optional<int64_t> found;
  walkBackward(q, [&](Value v, SmallVectorImpl<Value> &next) {
    Operation *op = v.getDefiningOp();
    if (!op || isa<dit::ParamOp, dit::ConstantOp, dit::AttentionOp>(op))
      return true;
    // Through a projection, follow the activations only.
    if (auto mm = dyn_cast<dit::MatmulOp>(op)) {
      next.push_back(mm.getLhs());
      return true;
    }
    if (auto lin = dyn_cast<dit::LinearOp>(op)) {
      next.push_back(lin.getInput());
      return true;
    }
    if (auto cat = dyn_cast<dit::ConcatOp>(op)) {
      int64_t axis = cat.getAxis();
      int64_t offset = 0;
      for (Value in : cat.getInputs()) {
        int64_t n = cast<RankedTensorType>(in.getType()).getDimSize(axis);
        if (cat.getType().getDimSize(axis) == seq && n == video &&
            fromVideo.contains(in)) {
          found = offset;
          return false;
        }
        offset += n;
      }
    }
    next.append(op->operand_begin(), op->operand_end());
    return true;
  });
  return found;
}

struct InferVideoGeometryPass
    : vsa::impl::InferVideoGeometryPassBase<InferVideoGeometryPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp f = getOperation();
    auto grid = findGrid(f);
    if (!grid)
      return;
    llvm::DenseSet<Value> fromVideo = forwardSlice(grid->conv);
    f.walk([&](dit::AttentionOp op) {
      auto q = cast<RankedTensorType>(op.getQuery().getType()).getShape();
      int64_t t = grid->t;
      if (grid->frameInBatch) {
        if (q[0] < 1 || grid->convBatch % q[0])
          return;
        t = grid->convBatch / q[0];
      }
      int64_t video = t * grid->h * grid->w, seq = q[2];
      int64_t prefix = 0;
      if (seq < video)
        return;
      if (seq > video) {
        auto offset = videoOffset(op.getQuery(), seq, video, fromVideo);
        if (!offset)
          return;
        prefix = *offset;
      }
      op.setGeometryAttr(dit::VideoGeometryAttr::get(
          op.getContext(), t, grid->h, grid->w, prefix, seq - video - prefix));
    });
  }
};

} // namespace

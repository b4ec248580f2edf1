//===- FuseUlyssesAttention.cpp - one pipelined call per Ulysses attention ===//
//
// Ulysses leaves, around each self-attention, q/k/v all-to-alls (sequence
// shards -> head shards), the attention and the output's all-to-all back.
// Where the attention is plain (dense, no mask, no grouped heads, bhsd) the
// three become one vrt.ulysses_attention: the runtime moves every head's
// rows straight into place (no pack or unpack copy) and pipelines the
// exchanges of one head chunk with the attention of the next.
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace vsa {
#define GEN_PASS_DEF_FUSEULYSSESATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

/// A rows -> heads all-to-all of (B, H, S_l, D): scatter heads, gather seq.
bool isRowsToHeads(vrt::AllToAllOp op) {
  return op && op.getScatterAxis() == 1 && op.getGatherAxis() == 2 &&
         !op.getOffset() && !op.getOffsets() &&
         llvm::all_of(op.getInputs(), [](Value v) {
           return cast<RankedTensorType>(v.getType()).getRank() == 4;
         });
}

/// The all-to-all defining v when v is its only use's operand and that
/// all-to-all moves rows to heads.
vrt::AllToAllOp rowsToHeadsOf(Value v) {
  auto op = v.getDefiningOp<vrt::AllToAllOp>();
  return isRowsToHeads(op) && v.hasOneUse() ? op : vrt::AllToAllOp();
}

bool isPlainAttention(vrt::AttentionOp a) {
  auto bhsd = vrt::Layout::bhsd;
  return !a.getMask() && !a.getBlockOffsets() && a.getRotations() == 1 &&
         a.getQLayout() == bhsd && a.getKvLayout() == bhsd &&
         a.getOutLayout() == bhsd &&
         a.getQuery().getType() == a.getKey().getType() &&
         a.getKey().getType() == a.getValue().getType();
}

/// Chunks of one rank's heads: `requested`, or (0) the most, up to 4,
/// that leave each chunk at least 2 heads (enough to fill the GPU).
int64_t chunkCount(int64_t localHeads, int64_t requested) {
  if (requested > 0)
    return requested;
  for (int64_t c = 4; c > 1; --c)
    if (localHeads % c == 0 && localHeads / c >= 2)
      return c;
  return 1;
}

struct Match {
  SmallVector<vrt::AllToAllOp, 3> inputs; // one packed or three
  vrt::AttentionOp attention;
  vrt::AllToAllOp output;
};

/// The all-to-alls and attention of one Ulysses self-attention ending at
/// `out`, if they can become one vrt.ulysses_attention.
std::optional<Match> matchAt(vrt::AllToAllOp out) {
  if (out.getInputs().size() != 1 || out.getScatterAxis() != 2 ||
      out.getGatherAxis() != 1 || out.getOffset() || out.getOffsets())
    return std::nullopt;
  Match m;
  m.output = out;
  m.attention = out.getInputs()[0].getDefiningOp<vrt::AttentionOp>();
  if (!m.attention || !m.attention.getResult().hasOneUse() ||
      !isPlainAttention(m.attention))
    return std::nullopt;
  for (Value v : {m.attention.getQuery(), m.attention.getKey(),
                  m.attention.getValue()}) {
    vrt::AllToAllOp in = rowsToHeadsOf(v);
    if (!in || in.getGroupSize() != out.getGroupSize() ||
        in.getGroupStride() != out.getGroupStride())
      return std::nullopt;
    if (!llvm::is_contained(m.inputs, in))
      m.inputs.push_back(in);
  }
  // Every result of the input collectives feeds this attention (a packed
  // one holding something else stays as it is).
  for (vrt::AllToAllOp in : m.inputs)
    for (Value r : in.getResults())
      if (!llvm::all_of(r.getUsers(), [&](Operation *u) {
            return u == m.attention.getOperation();
          }))
        return std::nullopt;
  return m;
}

/// The input of the all-to-all result `v` (q, k or v before the collective).
Value sourceOf(Value v) {
  auto r = cast<OpResult>(v);
  return cast<vrt::AllToAllOp>(r.getOwner()).getInputs()[r.getResultNumber()];
}

LogicalResult fuse(Match m, int64_t requested) {
  vrt::AttentionOp a = m.attention;
  Value q = sourceOf(a.getQuery()), k = sourceOf(a.getKey()),
        v = sourceOf(a.getValue());
  auto type = cast<RankedTensorType>(q.getType());
  const int64_t group = m.output.getGroupSize();
  const int64_t localHeads = type.getDimSize(1) / group;
  const int64_t chunks = chunkCount(localHeads, requested);
  if (localHeads % chunks != 0)
    return a.emitOpError("vrt-fuse-ulysses-attention: chunks=")
           << chunks << " does not divide the " << localHeads
           << " heads of each rank";
  OpBuilder b(a);
  const int64_t elems = type.getNumElements();
  auto scratch = RankedTensorType::get(
      {4 * ((elems * 4 + 255) / 256 * 256)}, b.getI8Type());
  auto fused = vrt::UlyssesAttentionOp::create(
      b, a.getLoc(), TypeRange{m.output.getResults()[0].getType(), scratch},
      q, k, v, a.getScaleAttr(), b.getI64IntegerAttr(group),
      b.getI64IntegerAttr(m.output.getGroupStride()),
      b.getI64IntegerAttr(chunks), DenseI64ArrayAttr());
  m.output.getResults()[0].replaceAllUsesWith(fused.getResult());
  m.output.erase();
  a.erase();
  for (vrt::AllToAllOp in : m.inputs)
    in.erase();
  return success();
}

struct FuseUlyssesAttentionPass
    : vsa::impl::FuseUlyssesAttentionPassBase<FuseUlyssesAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    if (chunks < 0) {
      getOperation().emitError("vrt-fuse-ulysses-attention: chunks must be "
                               ">= 0 (0: automatic), got ")
          << int64_t(chunks);
      return signalPassFailure();
    }
    SmallVector<Match> matches;
    getOperation().walk([&](vrt::AllToAllOp out) {
      if (auto m = matchAt(out))
        matches.push_back(*m);
    });
    for (Match &m : matches)
      if (failed(fuse(m, int64_t(chunks))))
        return signalPassFailure();
  }
};

} // namespace

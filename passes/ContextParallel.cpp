//===- ContextParallel.cpp - Ulysses sequence parallelism ------------------===//
//
// Splits the video token sequence over `ulysses` ranks. The token stream
// (vsa/Support/TokenStream.h, grown from every video self-attention's q, k,
// v and result) is sharded where it starts (`dit.shard` after the patch
// embedding and after each token-indexed side input, so the RoPE tables
// become this rank's slice) and gathered where it ends (`dit.all_gather`
// before the un-patchify); every value in between keeps 1/N of the tokens.
// Token-wise ops need no change beyond their types. Around each
// self-attention, an all-to-all turns sequence shards into head shards for
// q, k and v, (B, H, S/N, D) -> (B, H/N, S, D), and the result back, so
// attention sees every key. Cross-attentions keep their local queries
// against the whole, unsplit context: no collective. What only the
// timestep feeds (modulation) is not in the stream and stays replicated.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/TokenStream.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <numeric>

namespace vsa {
#define GEN_PASS_DEF_CONTEXTPARALLELPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}

/// `v`'s type with dim `axis` multiplied by `num` / `den`.
RankedTensorType scaled(Value v, int64_t axis, int64_t num, int64_t den) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = shape[axis] * num / den;
  return type.clone(shape);
}

/// (B, H, S/n, D) -> (B, H/n, S, D): what a Ulysses all-to-all makes.
RankedTensorType headShards(Value v, int64_t n) {
  auto type = cast<RankedTensorType>(v.getType());
  ArrayRef<int64_t> s = type.getShape();
  return type.clone(SmallVector<int64_t>{s[0], s[1] / n, s[2] * n, s[3]});
}

/// The largest degree <= n that divides every size.
int64_t largestDegree(ArrayRef<int64_t> sizes, int64_t n) {
  for (int64_t d = n; d > 1; --d)
    if (llvm::all_of(sizes, [&](int64_t s) { return s % d == 0; }))
      return d;
  return 1;
}

/// Fails, naming the reason, when self-attention `a` cannot be split over
/// `n` ranks.
LogicalResult checkSelfAttention(dit::AttentionOp a, dit::VideoGeometryAttr g,
                                 int64_t n) {
  dit::VideoGeometryAttr own = *a.getGeometry();
  if (own.getPrefix() || own.getSuffix())
    return a.emitOpError("context parallelism: joint text+video attention (")
           << own.getPrefix() << " prefix and " << own.getSuffix()
           << " suffix tokens) is not supported yet";
  if (own != g)
    return a.emitOpError("context parallelism: video geometry ")
           << own << " differs from the first self-attention's " << g;
  // Sparse patterns are fine: after the all-to-all each rank holds whole
  // sequences for its heads, so block lists stay valid.
  if (a.getMask() || a.getIsCausal())
    return a.emitOpError("context parallelism: only unmasked, non-causal "
                         "self-attention is supported yet");
  int64_t tokens = shapeOf(a.getQuery())[2], heads = shapeOf(a.getQuery())[1],
          kvHeads = shapeOf(a.getKey())[1];
  if (tokens % n == 0 && heads % n == 0 && kvHeads % n == 0)
    return success();
  int64_t d = largestDegree({tokens, heads, kvHeads}, n);
  return a.emitOpError("context parallelism: ulysses=")
         << n << " does not divide " << tokens << " tokens, " << heads
         << " query heads and " << kvHeads
         << " key/value heads; the largest degree that does is " << d
         << " (ulysses=" << d << ")";
}

struct ContextParallelPass
    : vsa::impl::ContextParallelPassBase<ContextParallelPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || ulysses == 1)
      return;
    if (ulysses < 1) {
      func.emitOpError("context parallelism: ulysses must be >= 1, got ")
          << static_cast<int64_t>(ulysses);
      return signalPassFailure();
    }
    if (failed(run(func, static_cast<int64_t>(ulysses))))
      signalPassFailure();
  }

  LogicalResult run(func::FuncOp func, int64_t n);
};

LogicalResult ContextParallelPass::run(func::FuncOp func, int64_t n) {
  SmallVector<dit::AttentionOp> selves;
  func.walk([&](dit::AttentionOp a) {
    if (a.getRole() == dit::AttentionRole::self && a.getGeometry())
      selves.push_back(a);
  });
  if (selves.empty())
    return func.emitOpError("context parallelism: no self-attention with a "
                            "video geometry, nothing to split");
  dit::VideoGeometryAttr g = *selves.front().getGeometry();
  SmallVector<TokenLink> seeds;
  SmallVector<Operation *> attentions;
  for (dit::AttentionOp a : selves) {
    if (failed(checkSelfAttention(a, g, n)))
      return failure();
    attentions.push_back(a);
    for (Value v : {a.getQuery(), a.getKey(), a.getValue(), a.getResult()})
      seeds.push_back({v, 2, kFullSequence});
  }
  FailureOr<TokenStream> grown = growTokenStream(
      seeds, attentions, g.getNumVideoTokens(), g.getPrefix(), g.getSuffix());
  if (failed(grown))
    return selves.front().emitOpError(
        "context parallelism: the tokens do not flow through token-wise ops "
        "alone from the patch embedding to the un-patchify");
  TokenStream &stream = *grown;
  // Any other attention may shard its queries, never its keys: those must
  // stay whole (cross-attention context) or go through an all-to-all.
  llvm::SmallPtrSet<Operation *, 8> seeded(attentions.begin(),
                                           attentions.end());
  for (Operation *op : stream.inside)
    if (auto a = dyn_cast<dit::AttentionOp>(op);
        a && !seeded.contains(a) && stream.values.contains(a.getKey()))
      return a.emitOpError("context parallelism: this attention's keys carry "
                           "the video tokens but it is not a video "
                           "self-attention");

  OpBuilder b(func.getContext());
  // Shard at the entries: every use but the exits reads this rank's chunk.
  for (Value v : stream.entries) {
    int64_t axis = stream.values.lookup(v).first;
    if (Operation *def = v.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(&func.getBody().front());
    auto shard = dit::ShardOp::create(b, v.getLoc(), scaled(v, axis, 1, n), v,
                                      axis, n);
    v.replaceUsesWithIf(shard.getResult(), [&](OpOperand &use) {
      return use.getOwner() != shard && !stream.exits.contains(&use);
    });
  }
  // Every other stream value holds 1/n of the tokens.
  for (auto &[v, at] : stream.values)
    if (!stream.entries.contains(v))
      v.setType(scaled(v, at.first, 1, n));
  // Gather at the exits.
  llvm::DenseMap<Value, Value> gathered;
  for (OpOperand *use : stream.exits) {
    Value v = use->get();
    if (stream.entries.contains(v))
      continue; // never sharded
    Value &full = gathered[v];
    if (!full) {
      int64_t axis = stream.values.lookup(v).first;
      if (Operation *def = v.getDefiningOp())
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(&func.getBody().front());
      full = dit::AllGatherOp::create(b, v.getLoc(), scaled(v, axis, n, 1), v,
                                      axis, n);
    }
    use->set(full);
  }
  // Ulysses around each self-attention: sequence shards <-> head shards.
  for (dit::AttentionOp a : selves) {
    b.setInsertionPoint(a);
    for (OpOperand &operand : a->getOpOperands().take_front(3)) {
      Value v = operand.get();
      operand.set(
          dit::AllToAllOp::create(b, a.getLoc(), headShards(v, n), v, 1, 2, n));
    }
    Value result = a.getResult();
    auto sharded = cast<RankedTensorType>(result.getType());
    result.setType(headShards(result, n));
    b.setInsertionPointAfter(a);
    auto back = dit::AllToAllOp::create(b, a.getLoc(), sharded, result, 2, 1, n);
    result.replaceAllUsesExcept(back.getResult(), back);
  }
  // A cross-attention's queries are now this rank's tokens: its geometry
  // (the whole video) no longer describes them.
  for (Operation *op : stream.inside)
    if (auto a = dyn_cast<dit::AttentionOp>(op); a && !seeded.contains(a))
      a.removeGeometryAttr();
  return success();
}

} // namespace

//===- ContextParallel.cpp - Ulysses and ring sequence parallelism ---------===//
//
// Splits the video token sequence over ulysses x ring ranks. The token stream
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
// With ring > 1 the all-to-all runs within groups of `ulysses` consecutive
// ranks, (B, H, S/(NM), D) -> (B, H/N, S/M, D), and the attention becomes
// a dit.ring_attention over the `ring` ranks holding the same heads (stride
// N): each holds one contiguous 1/M of the sequence. With cfg = C > 1 the
// batch (classifier-free guidance's conditional and unconditional entries)
// is split first over C groups of N x M ranks: the batch stream (every value
// carrying the batch axis, vsa/Support/TokenStream.h) is sharded at the
// inputs and gathered at the outputs, at stride N x M.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/TokenStream.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/APFloat.h"

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
/// `n` Ulysses x `m` ring ranks.
LogicalResult checkSelfAttention(dit::AttentionOp a, dit::VideoGeometryAttr g,
                                 int64_t n, int64_t m) {
  dit::VideoGeometryAttr own = *a.getGeometry();
  if (own != g)
    return a.emitOpError("context parallelism: video geometry ")
           << own << " differs from the first self-attention's " << g;
  // Sparse patterns are fine: after the all-to-all each rank holds whole
  // sequences for its heads, so block lists stay valid.
  int64_t tokens = shapeOf(a.getQuery())[2], heads = shapeOf(a.getQuery())[1],
          kvHeads = shapeOf(a.getKey())[1];
  // A key mask (broadcast over queries and heads) stays valid: Ulysses
  // attends over the whole sequence in its order, the ring takes each
  // chunk's columns.
  if (Value mask = a.getMask()) {
    ArrayRef<int64_t> ms = shapeOf(mask);
    bool keyMask = ms.size() == 4 && ms[1] == 1 && ms[2] == 1;
    int64_t split = own.getPrefix() || own.getSuffix()
                        ? own.getNumVideoTokens()
                        : tokens;
    if (!keyMask || split % (n * m) || heads % n || kvHeads % n)
      return a.emitOpError("context parallelism: a masked self-attention "
                           "needs a key mask (B, 1, 1, S) and no padding");
  }
  if (a.getIsCausal())
    return a.emitOpError("context parallelism: causal self-attention is not "
                         "supported");
  if (a.getGate() && (own.getPrefix() || own.getSuffix()))
    return a.emitOpError("context parallelism: VSA's gated coarse output "
                         "(gate=1) with joint text+video attention is not "
                         "supported");
  if (m > 1 && a.getSparsity())
    return a.emitOpError("context parallelism: ring attention over a sparse "
                         "pattern ('")
           << a.getSparsity()->getPattern()
           << "') is not supported; use ulysses alone with --sparse";
  if (own.getPrefix() || own.getSuffix()) {
    // Text stays whole on every rank; only the video is split.
    int64_t video = own.getNumVideoTokens();
    if (video % (n * m) == 0 && heads % n == 0 && kvHeads % n == 0)
      return success();
    if (m > 1 && video % (n * m))
      return a.emitOpError("context parallelism: joint text+video attention: "
                           "ulysses=")
             << n << " x ring=" << m << " does not divide " << video
             << " video tokens (no padding with text); the largest ring "
                "degree that does is "
             << largestDegree({video / std::gcd(video, n)}, m);
    int64_t d = largestDegree({video, heads, kvHeads}, n);
    return a.emitOpError("context parallelism: joint text+video attention: "
                         "ulysses=")
           << n << " does not divide " << video << " video tokens, " << heads
           << " query heads and " << kvHeads
           << " key/value heads (no padding with text); the largest degree "
              "that does is "
           << d << " (ulysses=" << d << ")";
  }
  if (tokens % (n * m) == 0 && heads % n == 0 && kvHeads % n == 0)
    return success();
  // Otherwise the tokens are padded (padded keys masked, or ignored by the
  // ring) and the heads too (zero heads) - but block lists and grouped
  // heads index the real ones.
  bool gqa = heads % n && heads != kvHeads;
  if (!a.getSparsity() && !gqa)
    return success();
  int64_t d = largestDegree({tokens, heads, kvHeads}, n);
  return a.emitOpError("context parallelism: ulysses=")
         << n << " does not divide " << tokens << " tokens, " << heads
         << " query heads and " << kvHeads << " key/value heads, and "
         << (gqa ? "grouped-query heads" : "a sparse pattern")
         << " cannot be padded; the largest degree that does is " << d
         << " (ulysses=" << d << ")";
}

/// Additive mask (1, 1, 1, padded) hiding the keys past `tokens`.
Value paddedKeyMask(OpBuilder &b, dit::AttentionOp a, int64_t tokens,
                    int64_t padded) {
  Type element = a.getQuery().getType().getElementType();
  auto type = RankedTensorType::get({1, 1, 1, padded}, element);
  SmallVector<APFloat> values;
  const llvm::fltSemantics &semantics =
      cast<FloatType>(element).getFloatSemantics();
  for (int64_t j = 0; j < padded; ++j)
    values.push_back(j < tokens ? APFloat::getZero(semantics)
                                : APFloat::getInf(semantics, /*Negative=*/true));
  return dit::ConstantOp::create(b, a.getLoc(),
                                 DenseElementsAttr::get(type, values));
}

/// `v`'s type with dim `axis` set to `size`.
RankedTensorType withDim(Value v, int64_t axis, int64_t size) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = size;
  return type.clone(shape);
}

/// Zero padding of `v` along `axis` up to `size`.
Value padAxis(OpBuilder &b, Location loc, Value v, int64_t axis, int64_t size) {
  int64_t rank = shapeOf(v).size();
  SmallVector<int64_t> pads(2 * rank, 0);
  pads[rank + axis] = size - shapeOf(v)[axis];
  return dit::PadOp::create(b, loc, withDim(v, axis, size), v,
                            b.getDenseI64ArrayAttr(pads), b.getF64FloatAttr(0));
}

/// The first `size` elements of `v` along `axis`.
Value sliceAxis(OpBuilder &b, Location loc, Value v, int64_t axis,
                int64_t size) {
  int64_t rank = shapeOf(v).size();
  return dit::SliceOp::create(b, loc, withDim(v, axis, size), v,
                              b.getDenseI64ArrayAttr(SmallVector<int64_t>(rank, 0)),
                              b.getDenseI64ArrayAttr(SmallVector<int64_t>(rank, 1)));
}

/// Cuts `stream` into `degree` chunks along its axis over the group of
/// ranks at `stride`: a dit.shard after each entry, 1/degree of the axis in
/// every value inside, a dit.all_gather before each exit. With `padded`
/// (a multiple of degree) larger than the axis' `real` size, entries are
/// zero-padded to it first and the exits sliced back. With `prefix` and
/// `suffix` text tokens (joint attention), full-sequence values keep their
/// text whole and split only the video (also where they enter or leave).
LogicalResult splitStream(func::FuncOp func, TokenStream &stream,
                          int64_t degree, int64_t stride, int64_t real = 0,
                          int64_t padded = 0, int64_t prefix = 0,
                          int64_t suffix = 0) {
  OpBuilder b(func.getContext());
  const int64_t text = prefix + suffix;
  auto withText = [&](Value v) {
    return text && stream.values.lookup(v).second == kFullSequence;
  };
  // Applies `collective` to the video part of a full-sequence value only.
  auto videoPart = [&](Value v, int64_t axis,
                       function_ref<Value(Value)> collective) -> Value {
    if (!withText(v))
      return collective(v);
    int64_t video = shapeOf(v)[axis] - text;
    SmallVector<Value> pieces;
    int64_t at = 0;
    for (auto [size, isVideo] : {std::pair(prefix, false),
                                 std::pair(video, true), std::pair(suffix, false)}) {
      if (size) {
        SmallVector<int64_t> offsets(shapeOf(v).size(), 0),
            strides(shapeOf(v).size(), 1);
        offsets[axis] = at;
        Value piece = dit::SliceOp::create(b, v.getLoc(), withDim(v, axis, size),
                                           v, b.getDenseI64ArrayAttr(offsets),
                                           b.getDenseI64ArrayAttr(strides));
        pieces.push_back(isVideo ? collective(piece) : piece);
      }
      at += size;
    }
    SmallVector<int64_t> shape(shapeOf(v));
    shape[axis] = 0;
    for (Value p : pieces)
      shape[axis] += shapeOf(p)[axis];
    return dit::ConcatOp::create(
        b, v.getLoc(), cast<RankedTensorType>(v.getType()).clone(shape), pieces,
        b.getI64IntegerAttr(axis));
  };
  // Shard at the entries: every use but the exits reads this rank's chunk.
  for (Value v : stream.entries) {
    int64_t axis = stream.values.lookup(v).first;
    if (Operation *def = v.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(&func.getBody().front());
    // The ops made here (between v's definition and `anchor`) read v.
    Block::iterator anchor = b.getInsertionPoint();
    Value full = v;
    if (padded > real)
      full = padAxis(b, v.getLoc(), v, axis, padded);
    Value mine = videoPart(full, axis, [&](Value x) {
      return dit::ShardOp::create(b, v.getLoc(), scaled(x, axis, 1, degree),
                                  x, axis, degree, stride)
          .getResult();
    });
    llvm::SmallPtrSet<Operation *, 8> made;
    Block::iterator it = v.getDefiningOp()
                             ? std::next(Block::iterator(v.getDefiningOp()))
                             : func.getBody().front().begin();
    for (; it != anchor; ++it)
      made.insert(&*it);
    v.replaceUsesWithIf(mine, [&](OpOperand &use) {
      return !made.contains(use.getOwner()) && !stream.exits.contains(&use);
    });
  }
  // Every other stream value holds 1/degree of the axis.
  for (auto &[v, at] : stream.values) {
    if (stream.entries.contains(v))
      continue;
    int64_t size = shapeOf(v)[at.first];
    v.setType(withText(v)       ? withDim(v, at.first,
                                          text + (size - text) / degree)
              : padded > real ? withDim(v, at.first, padded / degree)
                              : scaled(v, at.first, 1, degree));
  }
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
      full = videoPart(v, axis, [&](Value x) {
        return dit::AllGatherOp::create(b, v.getLoc(),
                                        scaled(x, axis, degree, 1), x, axis,
                                        degree, stride)
            .getResult();
      });
      if (padded > real)
        full = sliceAxis(b, v.getLoc(), full, axis, real);
    }
    use->set(full);
  }
  return success();
}

/// Classifier-free-guidance parallelism: the batch (conditional and
/// unconditional entries) split over `cfg` groups of `stride` ranks.
LogicalResult splitBatch(func::FuncOp func, int64_t cfg, int64_t stride) {
  SmallVector<Operation *> attentions;
  func.walk([&](dit::AttentionOp a) { attentions.push_back(a); });
  if (attentions.empty())
    return func.emitOpError("context parallelism: cfg needs an attention to "
                            "find the batch");
  int64_t batch = shapeOf(attentions.front()->getOperand(0))[0];
  if (batch % cfg)
    return attentions.front()->emitOpError("context parallelism: cfg=")
           << cfg << " does not divide the batch of " << batch
           << " (classifier-free guidance runs the conditional and "
              "unconditional inputs as one batch of 2)";
  FailureOr<TokenStream> grown = growBatchStream(attentions, batch);
  if (failed(grown))
    return attentions.front()->emitOpError(
        "context parallelism: cfg: the batch does not flow through ops that "
        "treat batch entries alike from the inputs to the outputs");
  return splitStream(func, *grown, cfg, stride);
}

/// Slices of the suffix text of a full-sequence value: the video before it
/// now holds 1/n of its tokens.
void moveSuffixSlices(TokenStream &stream, dit::VideoGeometryAttr g,
                      int64_t n) {
  const int64_t video = g.getNumVideoTokens();
  for (Operation *op : stream.inside) {
    auto slice = dyn_cast<dit::SliceOp>(op);
    if (!slice || !stream.values.contains(slice.getInput()))
      continue;
    auto [axis, kind] = stream.values.lookup(slice.getInput());
    SmallVector<int64_t> offsets(slice.getOffsets());
    if (kind != kFullSequence || offsets[axis] < g.getPrefix() + video)
      continue;
    offsets[axis] -= video - video / n;
    slice.setOffsets(offsets);
  }
}

/// Around joint text+video self-attention `a` (q, k, v: prefix text, this
/// rank's video, suffix text) over `n` Ulysses x `m` ring ranks: the video
/// goes through the all-to-all, the text (whole on every rank) keeps this
/// rank's heads; with a ring, the video keys and values go around it and
/// the text ones join as local keys. Of the result the video comes back
/// through the all-to-all and the text is gathered over the heads.
/// `sharded`: the result's type before.
void jointAttention(OpBuilder &b, dit::AttentionOp a, dit::VideoGeometryAttr g,
                    int64_t n, int64_t m, RankedTensorType sharded) {
  const int64_t prefix = g.getPrefix(), suffix = g.getSuffix(),
                video = g.getNumVideoTokens(), mine = video / (n * m),
                chunk = video / m;
  Location loc = a.getLoc();
  // [prefix, video, suffix] parts of v along the tokens (axis 2).
  // [prefix, video, suffix] parts of v along `axis` (the tokens: 2).
  auto parts = [&](Value v, int64_t mid, int64_t axis = 2) {
    SmallVector<std::pair<Value, bool>> out; // (part, is video)
    int64_t at = 0;
    for (auto [size, isVideo] : {std::pair(prefix, false),
                                 std::pair(mid, true), std::pair(suffix, false)}) {
      if (size) {
        SmallVector<int64_t> offsets(4, 0), strides(4, 1);
        offsets[axis] = at;
        out.push_back({dit::SliceOp::create(b, loc, withDim(v, axis, size), v,
                                            b.getDenseI64ArrayAttr(offsets),
                                            b.getDenseI64ArrayAttr(strides)),
                       isVideo});
      }
      at += size;
    }
    return out;
  };
  auto concatAxis = [&](ArrayRef<Value> values, int64_t axis) -> Value {
    if (values.size() == 1)
      return values.front();
    SmallVector<int64_t> shape(shapeOf(values.front()));
    shape[axis] = 0;
    for (Value v : values)
      shape[axis] += shapeOf(v)[axis];
    auto type = cast<RankedTensorType>(values.front().getType()).clone(shape);
    return dit::ConcatOp::create(b, loc, type, values,
                                 b.getI64IntegerAttr(axis));
  };
  auto concat = [&](ArrayRef<Value> values) { return concatAxis(values, 2); };
  // A key mask (B or 1, 1, 1, tokens): its columns, whole on every rank.
  auto maskParts = [&](Value m) { return parts(m, video, 3); };
  // This rank's heads: the video's through the all-to-all, the text's by
  // taking the same chunk of them.
  auto toHeads = [&](Value part, bool isVideo) -> Value {
    if (n == 1)
      return part;
    if (isVideo)
      return dit::AllToAllOp::create(b, loc, headShards(part, n), part, 1, 2, n,
                                     1);
    return dit::ShardOp::create(b, loc, scaled(part, 1, 1, n), part, 1, n, 1);
  };
  b.setInsertionPoint(a);
  SmallVector<Value> text[3], videoPart(3);
  for (auto [i, operand] : llvm::enumerate(a->getOpOperands().take_front(3))) {
    if (i == 0 && n == 1)
      continue; // without Ulysses the queries stay as they are
    SmallVector<Value> pieces;
    for (auto [part, isVideo] : parts(operand.get(), mine)) {
      pieces.push_back(toHeads(part, isVideo));
      (isVideo ? videoPart[i] : text[i].emplace_back()) = pieces.back();
    }
    if (m == 1 || i == 0) // q always whole; k, v whole without a ring
      operand.set(concat(pieces));
  }
  Value result = a.getResult();
  ArrayRef<int64_t> r = sharded.getShape();
  auto attendedType = sharded.clone(
      SmallVector<int64_t>{r[0], r[1] / n, prefix + chunk + suffix, r[3]});
  result.setType(attendedType);
  Value attended = result;
  if (m > 1) {
    // A key mask over [prefix, video, suffix]: the video's columns go with
    // the ring, the text's with the local keys.
    Value mask, localMask;
    if (Value m = a.getMask()) {
      SmallVector<Value> textCols;
      for (auto [part, isVideo] : maskParts(m))
        (isVideo ? mask : textCols.emplace_back()) = part;
      localMask = concatAxis(textCols, 3);
    }
    attended = dit::RingAttentionOp::create(
        b, loc, attendedType, a.getQuery(), videoPart[1], videoPart[2], mask,
        concat(text[1]), concat(text[2]), localMask, a.getScaleAttr(),
        b.getI64IntegerAttr(m), b.getI64IntegerAttr(n), IntegerAttr());
    result.replaceAllUsesWith(attended);
    a.erase();
  }
  if (n == 1)
    return;
  b.setInsertionPointAfter(attended.getDefiningOp());
  SmallVector<Value> pieces;
  SmallVector<Operation *> made;
  for (auto [part, isVideo] : parts(attended, chunk)) {
    made.push_back(part.getDefiningOp());
    pieces.push_back(
        isVideo ? dit::AllToAllOp::create(
                      b, loc, sharded.clone(SmallVector<int64_t>{r[0], r[1], mine, r[3]}),
                      part, 2, 1, n, 1)
                      .getResult()
                : dit::AllGatherOp::create(b, loc, scaled(part, 1, n, 1), part,
                                           1, n, 1)
                      .getResult());
  }
  Value back = concat(pieces);
  attended.replaceUsesWithIf(back, [&](OpOperand &use) {
    return !llvm::is_contained(made, use.getOwner());
  });
}

struct ContextParallelPass
    : vsa::impl::ContextParallelPassBase<ContextParallelPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || (ulysses == 1 && ring == 1 && cfg == 1))
      return;
    for (auto [name, value] : {std::pair("ulysses", int64_t(ulysses)),
                               std::pair("ring", int64_t(ring)),
                               std::pair("cfg", int64_t(cfg))})
      if (value < 1) {
        func.emitOpError("context parallelism: ")
            << name << " must be >= 1, got " << value;
        return signalPassFailure();
      }
    const int64_t n = ulysses, m = ring, c = cfg;
    // World rank w = cfg group (w / (n m)), ring rank, ulysses rank (w % n).
    func->setAttr("dit.num_ranks",
                  OpBuilder(func.getContext()).getI64IntegerAttr(n * m * c));
    if (c > 1 && failed(splitBatch(func, c, n * m)))
      return signalPassFailure();
    if (n * m > 1 && failed(run(func, n, m)))
      signalPassFailure();
  }

  LogicalResult run(func::FuncOp func, int64_t n, int64_t m);
};

LogicalResult ContextParallelPass::run(func::FuncOp func, int64_t n,
                                       int64_t m) {
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
    if (failed(checkSelfAttention(a, g, n, m)))
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
  // Ulysses groups are consecutive ranks, so rank u of the group holding
  // ring chunk r holds token chunk r * n + u: the all-to-all gathers chunk r.
  const int64_t world = n * m;
  const int64_t tokens = g.getNumTokens();
  const int64_t text = g.getPrefix() + g.getSuffix();
  const int64_t padded =
      text ? tokens : llvm::divideCeil(tokens, world) * world;
  if (failed(splitStream(func, stream, world, 1, tokens, padded,
                         g.getPrefix(), g.getSuffix())))
    return failure();
  if (g.getSuffix())
    moveSuffixSlices(stream, g, world);
  // Ulysses around each self-attention: sequence shards <-> head shards;
  // then the ring over what the ring ranks hold.
  for (dit::AttentionOp a : selves) {
    Value result = a.getResult();
    auto sharded = cast<RankedTensorType>(result.getType());
    if (text) {
      jointAttention(b, a, g, n, m, sharded);
      continue;
    }
    int64_t heads = sharded.getShape()[1];
    int64_t paddedHeads = llvm::divideCeil(heads, n) * n;
    if (n > 1) {
      b.setInsertionPoint(a);
      auto toHeadShards = [&](Value v) -> Value {
        // Zero heads attend uniformly to zero values: finite, sliced away.
        if (paddedHeads > heads)
          v = padAxis(b, a.getLoc(), v, 1, paddedHeads);
        return dit::AllToAllOp::create(b, a.getLoc(), headShards(v, n), v, 1,
                                       2, n, 1);
      };
      for (OpOperand &operand : a->getOpOperands().take_front(3))
        operand.set(toHeadShards(operand.get()));
      // VSA's gate is shaped like the queries.
      if (Value gate = a.getGate())
        a.getGateMutable().assign(toHeadShards(gate));
      ArrayRef<int64_t> r = sharded.getShape();
      result.setType(sharded.clone(
          SmallVector<int64_t>{r[0], paddedHeads / n, r[2] * n, r[3]}));
    }
    if (padded > tokens && m == 1) {
      // The padded keys (the last ones of the gathered sequence) are masked.
      a.getMaskMutable().assign(paddedKeyMask(b, a, tokens, padded));
      a.removeGeometryAttr();
    }
    Value attended = result;
    if (m > 1) {
      b.setInsertionPoint(a);
      // Padded keys sit at the end of the sequence: the ring ignores them.
      attended = dit::RingAttentionOp::create(
          b, a.getLoc(), result.getType(), a.getQuery(), a.getKey(),
          a.getValue(), a.getMask(), Value(), Value(), Value(),
          a.getScaleAttr(),
          b.getI64IntegerAttr(m), b.getI64IntegerAttr(n),
          padded > tokens ? b.getI64IntegerAttr(tokens) : IntegerAttr());
      result.replaceAllUsesWith(attended);
      a.erase();
    }
    if (n > 1) {
      b.setInsertionPointAfter(attended.getDefiningOp());
      ArrayRef<int64_t> r = sharded.getShape();
      Value back = dit::AllToAllOp::create(
          b, attended.getLoc(),
          sharded.clone(SmallVector<int64_t>{r[0], paddedHeads, r[2], r[3]}),
          attended, 2, 1, n, 1);
      Operation *backOp = back.getDefiningOp();
      if (paddedHeads > heads)
        back = sliceAxis(b, attended.getLoc(), back, 1, heads);
      attended.replaceAllUsesExcept(back, backOp);
    }
  }
  // A cross-attention's queries are now this rank's tokens: its geometry
  // (the whole video) no longer describes them.
  for (Operation *op : stream.inside)
    if (!seeded.contains(op))
      if (auto a = dyn_cast<dit::AttentionOp>(op))
        a.removeGeometryAttr();
  return success();
}

} // namespace

//===- HoistTileOrder.cpp - one tile-order permutation per forward --------===//
//
// Tile patterns (sliding-tile, vsa) run attention over the tokens in tile
// order. Instead of gathering q, k, v into that order and the result back
// around every attention, permute the token stream once where it starts
// (after the patch embedding) and once back where it ends (before the
// un-patchify). Between the two, every op must be token-wise: it treats each
// token alike, so it commutes with a permutation of the token axis. Side
// inputs indexed by token (RoPE tables) are permuted where they are made.
// Text joined to the video along the tokens (CogVideoX) keeps its place in
// tile order, so the video alone carries the order's video part.
//
// The analysis (vsa/Support/TokenStream.h) grows a set of (value, token
// axis) pairs from the sparse attentions through token-wise ops, forwards
// and backwards. A value whose producer is not token-wise is an entry
// (permuted after it); a use by an op that is not token-wise is an exit
// (un-permuted before it). The rewrite is
// only done when no exit feeds an entry or the stream again (a boundary in
// the middle of the network would cost a permutation per layer): then the
// IR is left unchanged and the lowering keeps its per-attention gathers.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/SparsePatterns.h"
#include "vsa/Support/TokenStream.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <array>
#include <optional>

namespace vsa {
#define GEN_PASS_DEF_HOISTTILEORDERPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

/// The tile-pattern attentions of a function and their common order.
struct TileAttentions {
  SmallVector<dit::AttentionOp> ops;
  std::vector<int64_t> order;
  int64_t listIndex = -1; // N of the vsa.sparse.N constants
};

/// The attentions whose pattern runs in tile order, when they all share one
/// order and none is hoisted yet.
std::optional<TileAttentions> collectTileAttentions(func::FuncOp func) {
  TileAttentions out;
  bool applies = true;
  // vrt-lower numbers block lists per (pattern, geometry) in op order.
  SmallVector<std::pair<Attribute, Attribute>> numbering;
  func.walk([&](dit::AttentionOp a) {
    if (!a.getSparsity())
      return;
    std::pair<Attribute, Attribute> key{a.getSparsityAttr(),
                                        a.getGeometryAttr()};
    auto *it = llvm::find(numbering, key);
    int64_t index = it - numbering.begin();
    if (it == numbering.end())
      numbering.push_back(key);
    applies &= !a.getTileOrdered(); // already hoisted
    BlockLists lists = computeBlockLists(*a.getSparsity(), *a.getGeometry());
    if (lists.order.empty())
      return;
    if (out.ops.empty()) {
      out.order = lists.order;
      out.listIndex = index;
    }
    applies &= lists.order == out.order; // else mixed orders
    out.ops.push_back(a);
  });
  if (out.ops.empty() || !applies)
    return std::nullopt;
  return out;
}

/// The order of the full sequence and of the video tokens alone; none when
/// the order moves a non-video token (it keeps the text in place).
std::optional<std::array<std::vector<int64_t>, 2>>
sequenceOrders(ArrayRef<int64_t> order, dit::VideoGeometryAttr g) {
  int64_t tokens = int64_t(order.size()), prefix = g.getPrefix(),
          video = g.getNumVideoTokens();
  if (tokens < 2 || tokens != g.getNumTokens())
    return std::nullopt;
  std::array<std::vector<int64_t>, 2> orders;
  orders[kFullSequence] = order.vec();
  for (int64_t p = 0; p < tokens; ++p) {
    bool isVideo = p >= prefix && p < prefix + video;
    if (!isVideo && order[p] != p)
      return std::nullopt;
    if (isVideo)
      orders[kVideoSequence].push_back(order[p] - prefix);
  }
  return orders;
}

/// Gathers the stream into tile order at its entries and back at its
/// exits, with the order constants of the sequences they use.
class StreamRewriter {
public:
  StreamRewriter(func::FuncOp func, const TokenStream &stream)
      : func(func), stream(stream), b(func.getContext()) {}

  void rewrite(const std::array<std::vector<int64_t>, 2> &orders,
               int64_t listIndex) {
    makeConstants(orders, listIndex);
    for (Value v : stream.entries) {
      dit::GatherOp g = gatherAfter(v, /*inverse=*/false);
      v.replaceUsesWithIf(g.getResult(), [&](OpOperand &use) {
        return use.getOwner() != g && !stream.exits.contains(&use);
      });
    }
    llvm::DenseMap<Value, Value> restored;
    for (OpOperand *use : stream.exits) {
      Value v = use->get();
      if (stream.entries.contains(v))
        continue; // never permuted
      Value &back = restored[v];
      if (!back)
        back = gatherAfter(v, /*inverse=*/true).getResult();
      use->set(back);
    }
  }

private:
  /// Order and inverse constants of each sequence a boundary uses.
  void makeConstants(const std::array<std::vector<int64_t>, 2> &orders,
                     int64_t listIndex) {
    bool used[2] = {false, false};
    for (Value v : stream.entries)
      used[stream.values.lookup(v).second] = true;
    for (OpOperand *use : stream.exits)
      used[stream.values.lookup(use->get()).second] = true;
    b.setInsertionPointToStart(&func.getBody().front());
    std::string prefix = "vsa.sparse." + std::to_string(listIndex) + ".";
    for (int kind : {kFullSequence, kVideoSequence}) {
      if (!used[kind])
        continue;
      ArrayRef<int64_t> values = orders[kind];
      std::vector<int64_t> inverse(values.size());
      for (size_t p = 0; p < values.size(); ++p)
        inverse[values[p]] = int64_t(p);
      std::string name = prefix + (kind == kVideoSequence ? "video_" : "");
      forward[kind] = constant(values, name + "order");
      backward[kind] = constant(inverse, name + "inverse_order");
    }
    afterConstants = b.getInsertionPoint();
  }

  /// An i64 constant the lowering stores as weight `name`.
  Value constant(ArrayRef<int64_t> data, const std::string &name) {
    auto type = RankedTensorType::get({int64_t(data.size())}, b.getI64Type());
    auto c = dit::ConstantOp::create(b, func.getLoc(),
                                     DenseElementsAttr::get(type, data));
    c->setAttr("vsa.weight_name", b.getStringAttr(name));
    return c;
  }

  dit::GatherOp gatherAfter(Value v, bool inverse) {
    auto [axis, kind] = stream.values.lookup(v);
    if (Operation *def = v.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPoint(&func.getBody().front(), afterConstants);
    return dit::GatherOp::create(b, v.getLoc(), v.getType(), v,
                                 inverse ? backward[kind] : forward[kind],
                                 b.getI64IntegerAttr(axis));
  }

  func::FuncOp func;
  const TokenStream &stream;
  OpBuilder b;
  Value forward[2], backward[2];
  Block::iterator afterConstants;
};

struct HoistTileOrderPass
    : vsa::impl::HoistTileOrderPassBase<HoistTileOrderPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    std::optional<TileAttentions> tiles = collectTileAttentions(func);
    if (!tiles)
      return;
    dit::VideoGeometryAttr g = *tiles->ops.front().getGeometry();
    auto orders = sequenceOrders(tiles->order, g);
    if (!orders)
      return;
    SmallVector<TokenLink> seeds;
    SmallVector<Operation *> attentions;
    for (dit::AttentionOp a : tiles->ops) {
      attentions.push_back(a);
      for (Value v : {a.getQuery(), a.getKey(), a.getValue(), a.getResult()})
        seeds.push_back({v, 2, kFullSequence});
    }
    FailureOr<TokenStream> stream = growTokenStream(
        seeds, attentions, g.getNumVideoTokens(), g.getPrefix(), g.getSuffix());
    if (failed(stream))
      return; // not provably token-wise: the lowering keeps its gathers
    StreamRewriter(func, *stream).rewrite(*orders, tiles->listIndex);
    for (dit::AttentionOp a : tiles->ops)
      a.setTileOrdered(true);
  }
};

} // namespace

//===- SparsifyAttention.cpp - sparse patterns for video self-attention ---===//
//
// Marks video self-attention with a `#dit.sparsity` pattern; the lowering
// turns it into block-sparse attention over compile-time key-block lists
// (vsa/Support/SparsePatterns.h), lists chosen at run time (vsa), or
// semantic attention (k-means clusters chosen at run time). Cross-attention
// is never touched.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "vsart.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/Format.h"

#include <array>

namespace vsa {
#define GEN_PASS_DEF_SPARSIFYATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

// The semantic options' defaults in Passes.td are the runtime's.
static_assert(VSART_SEMANTIC_DEFAULT_Q_CLUSTERS == 100 &&
                  VSART_SEMANTIC_DEFAULT_KV_CLUSTERS == 100 &&
                  VSART_SEMANTIC_DEFAULT_ITERATIONS_FIRST == 50 &&
                  VSART_SEMANTIC_DEFAULT_ITERATIONS_WARM == 2 &&
                  VSART_SEMANTIC_DEFAULT_TOP_P == 0.9f &&
                  VSART_SEMANTIC_DEFAULT_MIN_KEPT_FRACTION == 0.1f,
              "update the semantic defaults in passes/Passes.td");

namespace {

/// "%g" of `value` (formatv would print two decimals).
std::string printed(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

struct SparsifyAttentionPass
    : vsa::impl::SparsifyAttentionPassBase<SparsifyAttentionPass> {
  using Base::Base;
  int64_t frameWindow = 1;
  std::array<int64_t, 3> tileSize = {}, tileWindow = {};

  /// The keyframe interval for a video of `frames` latent frames, or an
  /// error message naming the option.
  FailureOr<int64_t> interval(int64_t frames, std::string &error) {
    if (keyframeInterval != "auto") {
      int64_t value;
      if (StringRef(keyframeInterval).getAsInteger(10, value) || value < 0) {
        error = "keyframe-interval must be 'auto' or an integer >= 0, got '" +
                keyframeInterval + "'";
        return failure();
      }
      return value;
    }
    // Within the horizon every frame is a keyframe: exactly dense.
    if (frames <= horizon)
      return int64_t(1);
    return (frames + horizon - 1) / horizon;
  }

  /// Parses "TxHxW" (three integers >= `least`) of option `name`.
  static FailureOr<std::array<int64_t, 3>> parseTriple(StringRef text,
                                                       StringRef name,
                                                       int64_t least,
                                                       std::string &error) {
    SmallVector<StringRef, 3> parts;
    text.split(parts, 'x');
    std::array<int64_t, 3> out;
    bool ok = parts.size() == 3;
    for (size_t i = 0; ok && i < 3; ++i)
      ok = !parts[i].getAsInteger(10, out[i]) && out[i] >= least;
    if (!ok) {
      error = ("option " + name + " must be TxHxW with integers >= " +
               Twine(least) + ", got '" + text + "'")
                  .str();
      return failure();
    }
    return out;
  }

  LogicalResult checkOptions(Operation *anchor) {
    auto fail = [&](const Twine &message) {
      return anchor->emitError("dit-sparsify-attention: ") << message;
    };
    if (pattern == "semantic")
      return checkSemantic(fail);
    if (pattern == "sliding-tile")
      return checkSlidingTile(fail);
    if (pattern == "vsa")
      return checkVsa(fail, anchor);
    if (pattern != "frame-window")
      return fail("unknown pattern '" + pattern +
                  "' (option pattern: frame-window, sliding-tile, vsa, "
                  "semantic)");
    int64_t frames = 1;
    if (!window.empty() &&
        (StringRef(window).getAsInteger(10, frames) || frames < 0))
      return fail("option window must be an integer >= 0, got '" + window +
                  "'");
    frameWindow = frames;
    if (sink < 0)
      return fail("option sink must be >= 0, got " + Twine(sink));
    if (horizon < 1)
      return fail("option horizon must be >= 1, got " + Twine(horizon));
    if (keyframeOffset < 0)
      return fail("option keyframe-offset must be >= 0, got " +
                  Twine(keyframeOffset));
    return success();
  }

  template <typename Fail> LogicalResult checkSlidingTile(Fail fail) {
    std::string error;
    auto tiles = parseTriple(tile, "tile", 1, error);
    if (failed(tiles))
      return fail(error);
    std::string windowText = window.empty() ? std::string("3x3x3") : window;
    auto win = parseTriple(windowText, "window", 1,
                           error);
    if (failed(win))
      return fail(error);
    for (int64_t w : *win)
      if (w % 2 == 0)
        return fail("option window must have odd sizes (centred on the "
                    "query tile), got '" + window + "'");
    tileSize = *tiles;
    tileWindow = *win;
    return success();
  }

  template <typename Fail>
  LogicalResult checkVsa(Fail fail, Operation *anchor) {
    std::string error;
    auto tiles = parseTriple(tile, "tile", 1, error);
    if (failed(tiles))
      return fail(error);
    tileSize = *tiles;
    if (!(sparsity >= 0.0 && sparsity < 1.0))
      return fail("option sparsity must be in [0, 1), got " +
                  printed(sparsity));
    (void)anchor;
    return success();
  }

  /// The Linear the queries of `op` are projected by: back through the
  /// reshapes, transposes, RoPE, norms and casts between them.
  static dit::LinearOp queryProjection(dit::AttentionOp op) {
    Value v = op.getQuery();
    for (int depth = 0; depth < 16; ++depth) {
      Operation *def = v.getDefiningOp();
      if (auto linear = dyn_cast_or_null<dit::LinearOp>(def))
        return linear;
      if (!isa_and_nonnull<dit::ReshapeOp, dit::TransposeOp, dit::RopeOp,
                           dit::RmsNormOp, dit::LayerNormOp, dit::CastOp>(def))
        return {};
      v = def->getOperand(0);
    }
    return {};
  }

  /// FastVideo's name for the gate of the block whose query weight is
  /// `queryWeight` (`blocks.N.attn1.to_q.weight` -> `blocks.N.
  /// to_gate_compress`), or "" when it is not a diffusers name.
  static std::string gatePrefix(StringRef queryWeight) {
    StringRef block = queryWeight;
    if (!block.consume_back("to_q.weight"))
      return "";
    block.consume_back("attn1.");
    return (block + "to_gate_compress").str();
  }

  /// The function's parameters by name (filled on the first gate).
  llvm::StringMap<Value> params;

  /// The model's parameter `name`, else an external one (bound at run time)
  /// of `type` with the checkpoint's layout transposed by `perm`.
  Value gateParam(OpBuilder &b, func::FuncOp func, StringRef name,
                  RankedTensorType type, DenseI64ArrayAttr perm) {
    if (params.empty())
      func.walk([&](dit::ParamOp p) { params[p.getName()] = p.getResult(); });
    Value &param = params[name];
    if (!param) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&func.getBody().front());
      param = dit::ParamOp::create(b, func.getLoc(), type, name, StringAttr(),
                                   perm, ElementsAttr());
    }
    return param;
  }

  /// Sets `op`'s gate: to_gate_compress of the query projection's input,
  /// in the result's (B, H, S, D) layout. Fails with `error` set.
  LogicalResult addGate(func::FuncOp func, dit::AttentionOp op,
                        std::string &error) {
    dit::LinearOp proj = queryProjection(op);
    auto weight = proj ? proj.getWeight().getDefiningOp<dit::ParamOp>()
                       : dit::ParamOp();
    if (!weight) {
      error = "option gate: the queries do not come from a Linear with a "
              "named weight, so the gate (to_gate_compress) has no input";
      return failure();
    }
    std::string prefix = gatePrefix(weight.getName());
    if (prefix.empty()) {
      error = ("option gate: the query weight '" + weight.getName() +
               "' is not a diffusers '...to_q.weight', so the gate's "
               "parameters have no name")
                  .str();
      return failure();
    }
    Value x = proj.getInput();
    auto xType = cast<RankedTensorType>(x.getType());
    ArrayRef<int64_t> out = shapeOf(op.getResult());
    if (xType.getRank() != 3 || xType.getDimSize(0) != out[0] ||
        xType.getDimSize(1) != out[2]) {
      error = "option gate: the query projection's input is not (batch, "
              "tokens, channels)";
      return failure();
    }
    Type element = xType.getElementType();
    int64_t in = xType.getDimSize(2), channels = out[1] * out[3];
    OpBuilder b(op);
    Value w = gateParam(b, func, prefix + ".weight",
                        RankedTensorType::get({in, channels}, element),
                        b.getDenseI64ArrayAttr({1, 0}));
    Value bias = gateParam(b, func, prefix + ".bias",
                           RankedTensorType::get({channels}, element),
                           DenseI64ArrayAttr());
    if (shapeOf(w) != ArrayRef<int64_t>{in, channels} ||
        shapeOf(bias) != ArrayRef<int64_t>{channels}) {
      error = ("option gate: the model's " + prefix +
               " parameters do not fit a Linear(" + Twine(in) + ", " +
               Twine(channels) + ")")
                  .str();
      return failure();
    }
    Location loc = op.getLoc();
    auto bsc = RankedTensorType::get({out[0], out[2], channels}, element);
    auto bshd = RankedTensorType::get({out[0], out[2], out[1], out[3]}, element);
    Value g = dit::LinearOp::create(b, loc, bsc, x, w, bias);
    g = dit::ReshapeOp::create(b, loc, bshd, g);
    g = dit::TransposeOp::create(b, loc, op.getResult().getType(), g,
                                 b.getDenseI64ArrayAttr({0, 2, 1, 3}));
    op.getGateMutable().assign(g);
    return success();
  }

  template <typename Fail> LogicalResult checkSemantic(Fail fail) {
    for (auto [name, value] :
         {std::pair("q-clusters", int64_t(qClusters)),
          std::pair("kv-clusters", int64_t(kvClusters)),
          std::pair("iterations", int64_t(iterations)),
          std::pair("warm-iterations", int64_t(warmIterations))})
      if (value < 1)
        return fail("option " + Twine(name) + " must be >= 1, got " +
                    Twine(value));
    if (!(topP > 0.0 && topP <= 1.0))
      return fail("option top-p must be in (0, 1], got " + printed(topP));
    if (!(minKept >= 0.0 && minKept <= 1.0))
      return fail("option min-kept must be in [0, 1], got " + printed(minKept));
    return success();
  }

  /// The semantic parameters for an attention over `tokens` tokens: cluster
  /// counts above the token count are clamped to it (the kernel needs at
  /// most one cluster per token).
  DictionaryAttr semanticParams(Builder &b, int64_t tokens) {
    return b.getDictionaryAttr(
        {b.getNamedAttr("iterations", b.getI64IntegerAttr(iterations)),
         b.getNamedAttr("kv_clusters",
                        b.getI64IntegerAttr(std::min<int64_t>(kvClusters,
                                                              tokens))),
         b.getNamedAttr("min_kept", b.getF64FloatAttr(minKept)),
         b.getNamedAttr("q_clusters",
                        b.getI64IntegerAttr(std::min<int64_t>(qClusters,
                                                              tokens))),
         b.getNamedAttr("top_p", b.getF64FloatAttr(topP)),
         b.getNamedAttr("warm_iterations",
                        b.getI64IntegerAttr(warmIterations))});
  }

  /// The frame-window parameters; the optional ones only when set.
  DictionaryAttr frameWindowParams(Builder &b, int64_t every) {
    SmallVector<NamedAttribute> params = {
        b.getNamedAttr("keyframe_interval", b.getI64IntegerAttr(every)),
        b.getNamedAttr("sink", b.getI64IntegerAttr(sink)),
        b.getNamedAttr("window", b.getI64IntegerAttr(frameWindow))};
    if (keyframeOffset)
      params.push_back(b.getNamedAttr("keyframe_offset",
                                      b.getI64IntegerAttr(keyframeOffset)));
    if (rotate)
      params.push_back(b.getNamedAttr("rotate", b.getI64IntegerAttr(1)));
    return b.getDictionaryAttr(params);
  }

  /// The tile parameters of vsa (the run-time choice needs no window).
  DictionaryAttr vsaParams(Builder &b) {
    return b.getDictionaryAttr(
        {b.getNamedAttr("sparsity", b.getF64FloatAttr(sparsity)),
         b.getNamedAttr("tile_h", b.getI64IntegerAttr(tileSize[1])),
         b.getNamedAttr("tile_t", b.getI64IntegerAttr(tileSize[0])),
         b.getNamedAttr("tile_w", b.getI64IntegerAttr(tileSize[2]))});
  }

  /// The sliding-tile parameters for one attention, or an error when the
  /// tile is larger than the grid.
  /// Fails, naming the axis, when the tile is larger than the grid.
  LogicalResult checkTileFits(dit::VideoGeometryAttr g, std::string &error) {
    const int64_t dims[3] = {g.getT(), g.getH(), g.getW()};
    static const char *const axes[3] = {"t", "h", "w"};
    for (int i = 0; i < 3; ++i)
      if (tileSize[i] > dims[i]) {
        error = ("option tile: " + Twine(tileSize[i]) + " along " + axes[i] +
                 " is larger than the grid (" + Twine(dims[i]) + ")")
                    .str();
        return failure();
      }
    return success();
  }

  FailureOr<DictionaryAttr> slidingTileParams(Builder &b,
                                              dit::VideoGeometryAttr g,
                                              std::string &error) {
    if (failed(checkTileFits(g, error)))
      return failure();
    static const char *const axes[3] = {"t", "h", "w"};
    SmallVector<NamedAttribute> params;
    for (int i = 0; i < 3; ++i) {
      params.push_back(b.getNamedAttr(std::string("tile_") + axes[i],
                                      b.getI64IntegerAttr(tileSize[i])));
      params.push_back(b.getNamedAttr(std::string("window_") + axes[i],
                                      b.getI64IntegerAttr(tileWindow[i])));
    }
    return b.getDictionaryAttr(params);
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    params.clear();
    if (failed(checkOptions(func)))
      return signalPassFailure();
    Builder b(func.getContext());
    WalkResult result = func.walk([&](dit::AttentionOp op) {
      if (op.getRole() != dit::AttentionRole::self || !op.getGeometry() ||
          op.getMask() || op.getIsCausal())
        return WalkResult::advance();
      std::string error;
      DictionaryAttr params;
      if (pattern == "semantic") {
        params = semanticParams(b, op.getQuery().getType().getShape()[2]);
      } else if (pattern == "vsa") {
        if (succeeded(checkTileFits(*op.getGeometry(), error)))
          params = vsaParams(b);
      } else if (pattern == "sliding-tile") {
        auto tiles = slidingTileParams(b, *op.getGeometry(), error);
        if (succeeded(tiles))
          params = *tiles;
      } else {
        FailureOr<int64_t> every = interval(op.getGeometry()->getT(), error);
        if (succeeded(every))
          params = frameWindowParams(b, *every);
      }
      if (!params) {
        op.emitError("dit-sparsify-attention: ") << error;
        return WalkResult::interrupt();
      }
      op.setSparsityAttr(
          dit::SparsityAttr::get(b.getContext(), pattern, params));
      if (pattern == "vsa" && gate && failed(addGate(func, op, error))) {
        op.emitError("dit-sparsify-attention: ") << error;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

//===- LowerToVrt.cpp - dit ops to vrt calls, views and kernels ------------===//
//
// One walk over the function: each dit op becomes its vrt counterpart right
// before it, then the dit ops are erased. Library calls (GEMM, attention,
// norms, softmax) take buffers; everything else becomes a one-op
// `vrt.kernel` that `vrt-fuse-kernels` merges with its neighbours.
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/dit/DitOps.h"
#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/ShapeInference.h"
#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/Support/Elements.h"
#include "vsa/Support/SparsePatterns.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

#include <optional>

#include <limits>

namespace vsa {
#define GEN_PASS_DEF_LOWERTOVRTPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

using BodyFn = llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

RankedTensorType withShape(Value v, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(
      shape, cast<RankedTensorType>(v.getType()).getElementType());
}

class Lowering {
public:
  explicit Lowering(func::FuncOp func) : func(func), b(func.getContext()) {}
  LogicalResult run();

private:
  LogicalResult lowerOp(Operation *op);
  LogicalResult lowerParam(dit::ParamOp op);
  void lowerConstant(dit::ConstantOp op);
  void lowerLinear(dit::LinearOp op);
  LogicalResult lowerMatmul(dit::MatmulOp op);
  void lowerGemm(dit::GemmOp op);
  LogicalResult lowerAttention(dit::AttentionOp op);
  /// VSA's gated output: fine + coarse * gate, one generated kernel.
  Value addGatedCoarse(Location loc, Value fine, Value coarse, Value gate);
  /// A norm over `axis` (to the end) of `input`, then `mod` (a modulation
  /// with one shift/scale row per group) when given.
  Value norm(Location loc, vrt::NormKind kind, Value input, Value scale,
             Value bias, int64_t axis, double eps,
             dit::ModulateOp mod = {}, int64_t groups = 0);
  /// Lowers the norm `op` (layer or RMS).
  Value norm(Operation *op, dit::ModulateOp mod = {}, int64_t groups = 0);
  /// `m` inside the norm it follows (one vrt.norm, no kernel), when that
  /// norm feeds only `m` and the shift and scale hold one row per batch
  /// entry (or one row).
  LogicalResult fuseNormModulate(dit::ModulateOp m);
  /// `r` (interleaved RoPE on a norm's output split into heads) and the
  /// transpose to (B, H, S, D) after it as one vrt.norm_rope.
  LogicalResult fuseNormRope(dit::RopeOp r);
  LogicalResult lowerReturn(func::ReturnOp op);
  /// The constants of a sparse pattern over a geometry, shared by every
  /// attention using them; `order`/`inverse` are null without permutation.
  struct SparseWeights {
    Value offsets, listOffsets, lists, order, inverse;
    std::string prefix; // the weights' names: vsa.sparse.N.
  };
  SparseWeights blockListWeights(Location loc, dit::SparsityAttr sparsity,
                                 dit::VideoGeometryAttr geometry,
                                 bool withOrder);

  /// The vrt value standing for dit value `v`.
  Value lookup(Value v);
  /// A weight in the layout its checkpoint stores it (deduplicated by name).
  Value weight(dit::ParamOp param);
  Value kernel(Location loc, ValueRange inputs, Type resultType, BodyFn body);
  Value cloneAsKernel(Operation *op);
  Value view(Location loc, Value v, ArrayRef<int64_t> shape);
  Value broadcastTo(Location loc, Value v, ArrayRef<int64_t> shape);
  /// `v` as a library-call operand: model inputs are copied once because
  /// their storage type may differ from activations'.
  Value libraryOperand(Value v);
  /// libraryOperand of an optional operand's mapping (null stays null).
  Value optionalOperand(Value v) {
    return v ? libraryOperand(lookup(v)) : Value();
  }

  func::FuncOp func;
  OpBuilder b;
  IRMapping map;
  llvm::StringMap<Value> weights;
  DenseMap<Value, Value> inputCopies;
  unsigned numKernels = 0, numConstants = 0, numBlockLists = 0;
  DenseMap<std::pair<Attribute, Attribute>, SparseWeights> blockWeights;
};

Value Lowering::lookup(Value v) {
  if (isa<BlockArgument>(v))
    return v;
  if (Value mapped = map.lookupOrNull(v))
    return mapped;
  // A transposed parameter is materialised on its first non-GEMM use.
  auto param = v.getDefiningOp<dit::ParamOp>();
  assert(param && param.getPerm() && "value used before it was lowered");
  ArrayRef<int64_t> perm = *param.getPerm();
  Value source = weight(param);
  Value t = kernel(param.getLoc(), source, v.getType(),
                   [&](OpBuilder &ib, Location loc, ValueRange args) {
                     return dit::TransposeOp::create(
                         ib, loc, v.getType(), args[0],
                         ib.getDenseI64ArrayAttr(perm));
                   });
  map.map(v, t);
  return t;
}

Value Lowering::weight(dit::ParamOp param) {
  auto it = weights.find(param.getName());
  if (it != weights.end())
    return it->second;
  auto type = cast<RankedTensorType>(param.getType());
  ElementsAttr value = param.getValueAttr();
  if (auto perm = param.getPerm()) {
    // The checkpoint holds the tensor before `perm`: invert it.
    SmallVector<int64_t> inverse(perm->size()), shape(perm->size());
    for (auto [i, p] : llvm::enumerate(*perm)) {
      inverse[p] = i;
      shape[p] = type.getShape()[i];
    }
    type = RankedTensorType::get(shape, type.getElementType());
    if (value)
      value = transposeElements(value, inverse, type);
  }
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&func.getBody().front());
  Value w = vrt::WeightOp::create(b, param.getLoc(), type, param.getName(),
                                  value);
  weights[param.getName()] = w;
  return w;
}

Value Lowering::kernel(Location loc, ValueRange inputs, Type resultType,
                       BodyFn body) {
  auto k = vrt::KernelOp::create(b, loc, resultType,
                                 b.getStringAttr("k" + Twine(numKernels++)),
                                 inputs, IntegerAttr());
  Block *block = new Block();
  k.getBody().push_back(block);
  for (Value in : inputs)
    block->addArgument(in.getType(), loc);
  OpBuilder ib = OpBuilder::atBlockEnd(block);
  vrt::YieldOp::create(ib, loc, body(ib, loc, block->getArguments()));
  return k.getResult();
}

Value Lowering::cloneAsKernel(Operation *op) {
  SmallVector<Value> inputs =
      llvm::map_to_vector(op->getOperands(), [&](Value v) { return lookup(v); });
  return kernel(op->getLoc(), inputs, op->getResult(0).getType(),
                [&](OpBuilder &ib, Location, ValueRange args) {
                  IRMapping m;
                  m.map(op->getOperands(), args);
                  return ib.clone(*op, m)->getResult(0);
                });
}

Value Lowering::view(Location loc, Value v, ArrayRef<int64_t> shape) {
  if (shapeOf(v) == shape)
    return v;
  return vrt::ViewOp::create(b, loc, withShape(v, shape), v);
}

Value Lowering::broadcastTo(Location loc, Value v, ArrayRef<int64_t> shape) {
  if (shapeOf(v) == shape)
    return v;
  return kernel(loc, v, withShape(v, shape),
                [&](OpBuilder &ib, Location l, ValueRange args) {
                  return dit::BroadcastOp::create(ib, l, withShape(v, shape),
                                                  args[0]);
                });
}

Value Lowering::libraryOperand(Value v) {
  if (auto viewOp = v.getDefiningOp<vrt::ViewOp>()) {
    Value in = libraryOperand(viewOp.getInput());
    return in == viewOp.getInput() ? v : view(v.getLoc(), in, shapeOf(v));
  }
  if (!isa<BlockArgument>(v))
    return v;
  Value &copy = inputCopies[v];
  if (!copy) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&func.getBody().front());
    copy = kernel(v.getLoc(), v, v.getType(),
                  [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  }
  return copy;
}

LogicalResult Lowering::lowerParam(dit::ParamOp op) {
  // Transposed parameters wait for their use: GEMMs read them as stored.
  if (!op.getPerm())
    map.map(op.getResult(), weight(op));
  return success();
}

void Lowering::lowerConstant(dit::ConstantOp op) {
  auto value = cast<ElementsAttr>(op.getValue());
  if (auto dense = dyn_cast<DenseElementsAttr>(value); dense && dense.isSplat()) {
    map.map(op.getResult(), cloneAsKernel(op));
    return;
  }
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&func.getBody().front());
  // dit-hoist-tile-order names its permutations (vsa.sparse.N.order).
  auto named = op->getAttrOfType<StringAttr>("vsa.weight_name");
  map.map(op.getResult(),
          vrt::WeightOp::create(
              b, op.getLoc(), op.getType(),
              named ? named.str() : "const." + std::to_string(numConstants++),
              value));
}

void Lowering::lowerLinear(dit::LinearOp op) {
  Value w = op.getWeight(), rhs;
  bool transB = false;
  auto param = w.getDefiningOp<dit::ParamOp>();
  auto t = w.getDefiningOp<dit::TransposeOp>();
  if (t && t.getPerm() == ArrayRef<int64_t>{1, 0}) {
    rhs = lookup(t.getInput());
    transB = true;
  } else if (param && param.getPerm() &&
             *param.getPerm() == ArrayRef<int64_t>{1, 0}) {
    rhs = weight(param);
    transB = true;
  } else {
    rhs = lookup(w);
  }
  Value bias = op.getBias() ? libraryOperand(lookup(op.getBias())) : Value();
  Value y = vrt::GemmOp::create(
      b, op.getLoc(), op.getType(), libraryOperand(lookup(op.getInput())),
      libraryOperand(rhs), bias, b.getBoolAttr(false), b.getBoolAttr(transB),
      b.getF64FloatAttr(1.0),
      vrt::EpilogueAttr::get(b.getContext(), vrt::Epilogue::none),
      IntegerAttr());
  map.map(op.getResult(), y);
}

LogicalResult Lowering::lowerMatmul(dit::MatmulOp op) {
  ArrayRef<int64_t> a = shapeOf(op.getLhs()), c = shapeOf(op.getResult());
  if (a.size() < 2 || shapeOf(op.getRhs()).size() < 2)
    return op.emitOpError("with a vector operand is not supported by vrt");
  ArrayRef<int64_t> batch = c.drop_back(2);
  Value lhs = lookup(op.getLhs()), rhs = lookup(op.getRhs());
  auto withBatch = [&](Value v) {
    SmallVector<int64_t> shape(batch);
    shape.append(shapeOf(v).take_back(2).begin(), shapeOf(v).take_back(2).end());
    return broadcastTo(op.getLoc(), v, shape);
  };
  lhs = withBatch(lhs);
  if (shapeOf(rhs).size() > 2)
    rhs = withBatch(rhs);
  map.map(op.getResult(),
          vrt::GemmOp::create(
              b, op.getLoc(), op.getType(), libraryOperand(lhs),
              libraryOperand(rhs), Value(), b.getBoolAttr(false),
              b.getBoolAttr(false), b.getF64FloatAttr(1.0),
              vrt::EpilogueAttr::get(b.getContext(), vrt::Epilogue::none),
              IntegerAttr()));
  return success();
}

void Lowering::lowerGemm(dit::GemmOp op) {
  Value c = op.getC() ? lookup(op.getC()) : Value();
  double beta = op.getBeta().convertToDouble();
  int64_t n = shapeOf(op.getResult())[1];
  bool cIsBias = c && beta == 1.0 && shapeOf(c) == ArrayRef<int64_t>{n};
  Value y = vrt::GemmOp::create(
      b, op.getLoc(), op.getType(), libraryOperand(lookup(op.getA())),
      libraryOperand(lookup(op.getB())),
      cIsBias ? libraryOperand(c) : Value(), b.getBoolAttr(op.getTransA()),
      b.getBoolAttr(op.getTransB()), op.getAlphaAttr(),
      vrt::EpilogueAttr::get(b.getContext(), vrt::Epilogue::none),
      IntegerAttr());
  if (c && !cIsBias && beta != 0.0)
    y = kernel(op.getLoc(), ValueRange{y, c}, op.getType(),
               [&](OpBuilder &ib, Location loc, ValueRange args) {
                 Type elementType = op.getType().getElementType();
                 auto scalar = RankedTensorType::get({}, elementType);
                 Value betaC = dit::MulOp::create(
                     ib, loc, args[1].getType(), args[1],
                     dit::ConstantOp::create(
                         ib, loc,
                         DenseElementsAttr::get(
                             scalar,
                             ib.getFloatAttr(elementType, beta).getValue())));
                 return dit::AddOp::create(ib, loc, op.getType(), args[0],
                                           betaC);
               });
  map.map(op.getResult(), y);
}

LogicalResult Lowering::lowerAttention(dit::AttentionOp op) {
  if (op.getIsCausal())
    return op.emitOpError("with is_causal is not supported by vrt");
  Value mask;
  if (Value m = op.getMask()) {
    SmallVector<int64_t> shape(4 - shapeOf(m).size(), 1);
    shape.append(shapeOf(m).begin(), shapeOf(m).end());
    Type floatType = op.getQuery().getType().getElementType();
    mask = view(op.getLoc(), lookup(m), shape);
    if (cast<RankedTensorType>(m.getType()).getElementType().isInteger(1))
      mask = kernel(op.getLoc(), mask, RankedTensorType::get(shape, floatType),
                    [&](OpBuilder &ib, Location loc, ValueRange args) {
                      auto scalar = RankedTensorType::get({}, floatType);
                      auto splat = [&](double v) {
                        return dit::ConstantOp::create(
                            ib, loc, DenseElementsAttr::get(
                                         scalar, ib.getFloatAttr(floatType, v)
                                                     .getValue()));
                      };
                      return dit::WhereOp::create(
                          ib, loc, RankedTensorType::get(shape, floatType),
                          args[0], splat(0.0),
                          splat(-std::numeric_limits<double>::infinity()));
                    });
    mask = libraryOperand(mask);
  }
  auto bhsd = vrt::LayoutAttr::get(b.getContext(), vrt::Layout::bhsd);
  if (auto sparsity = op.getSparsityAttr();
      sparsity && sparsity.getPattern() == "semantic") {
    // Clusters are chosen per call from q and k: no constants, no order.
    Value q = libraryOperand(lookup(op.getQuery()));
    Value k = libraryOperand(lookup(op.getKey()));
    Value v = libraryOperand(lookup(op.getValue()));
    auto dims = shapeOf(q), kvDims = shapeOf(k);
    int64_t qClusters = sparsity.getInt("q_clusters"),
            kvClusters = sparsity.getInt("kv_clusters");
    // The target is chosen later: room for either kernel (vrt-plan-memory
    // trims it to its target's).
    int64_t scratch = std::max(
        vrt::SemanticAttentionOp::scratchBytes(false, dims[0], dims[1],
                                               kvDims[1], dims[2], dims[3],
                                               qClusters, kvClusters),
        vrt::SemanticAttentionOp::scratchBytes(true, dims[0], dims[1],
                                               kvDims[1], dims[2], dims[3],
                                               qClusters, kvClusters));
    auto semantic = vrt::SemanticAttentionOp::create(
        b, op.getLoc(), op.getType(),
        RankedTensorType::get({scratch}, b.getIntegerType(8)), q, k, v,
        op.getScaleAttr(), b.getI64IntegerAttr(qClusters),
        b.getI64IntegerAttr(kvClusters),
        b.getI64IntegerAttr(sparsity.getInt("iterations")),
        b.getI64IntegerAttr(sparsity.getInt("warm_iterations")),
        b.getF64FloatAttr(sparsity.getFloat("top_p")),
        b.getF64FloatAttr(sparsity.getFloat("min_kept")), bhsd, bhsd, bhsd,
        DenseI64ArrayAttr(), IntegerAttr());
    map.map(op.getResult(), semantic.getResult());
    return success();
  }
  SparseWeights blocks;
  if (auto sparsity = op.getSparsityAttr())
    blocks = blockListWeights(op.getLoc(), sparsity, *op.getGeometry(),
                              !op.getTileOrdered());
  if (op.getTileOrdered()) // dit-hoist-tile-order permuted the whole stream
    blocks.order = blocks.inverse = Value();
  // Tile patterns run in tile order: gather the sequence axis before and
  // scatter it back after (the inverse permutation, again a gather).
  auto permuted = [&](Value v, Value order) {
    if (!order)
      return v;
    return kernel(op.getLoc(), ValueRange{v, order}, v.getType(),
                  [&](OpBuilder &ib, Location loc, ValueRange args) {
                    return dit::GatherOp::create(ib, loc, v.getType(), args[0],
                                                 args[1],
                                                 ib.getI64IntegerAttr(2));
                  });
  };
  Value q = libraryOperand(permuted(lookup(op.getQuery()), blocks.order));
  Value k = libraryOperand(permuted(lookup(op.getKey()), blocks.order));
  Value v = libraryOperand(permuted(lookup(op.getValue()), blocks.order));
  Value listOffsets = blocks.listOffsets, lists = blocks.lists, coarse;
  if (blocks.offsets && !lists) {
    // VSA: the lists are chosen at run time from the pooled q and k; with
    // a gate the same call returns the coarse output.
    ArrayRef<int64_t> qs = shapeOf(q);
    int64_t n = shapeOf(blocks.offsets)[0] - 1, numLists = qs[0] * qs[1] * n;
    Type coarseType = op.getGate() ? op.getType() : Type();
    auto select = vrt::VsaSelectOp::create(
        b, op.getLoc(), RankedTensorType::get({numLists + 1}, b.getI64Type()),
        RankedTensorType::get({numLists * n}, b.getI32Type()), coarseType, q,
        k, op.getGate() ? v : Value(), /*pooled_q=*/Value(),
        /*pooled_k=*/Value(), blocks.offsets, op.getScaleAttr(),
        b.getF64FloatAttr(op.getSparsityAttr().getFloat("sparsity")), bhsd,
        bhsd, DenseI64ArrayAttr());
    listOffsets = select.getListOffsets();
    lists = select.getLists();
    coarse = select.getCoarse();
  }
  int64_t rotations =
      op.getSparsityAttr() ? numRotations(op.getSparsityAttr()) : 1;
  Value out = vrt::AttentionOp::create(
      b, op.getLoc(), op.getType(), q, k, v, mask, blocks.offsets, listOffsets,
      lists, op.getScaleAttr(), bhsd, bhsd, bhsd,
      rotations > 1 ? b.getI64IntegerAttr(rotations) : IntegerAttr(),
      IntegerAttr());
  if (coarse)
    out = addGatedCoarse(op.getLoc(), out, coarse,
                         permuted(lookup(op.getGate()), blocks.order));
  map.map(op.getResult(), permuted(out, blocks.inverse));
  return success();
}

Value Lowering::addGatedCoarse(Location loc, Value fine, Value coarse,
                               Value gate) {
  Type type = fine.getType();
  return kernel(loc, ValueRange{fine, coarse, gate}, type,
                [&](OpBuilder &ib, Location l, ValueRange args) {
                  Value gated =
                      dit::MulOp::create(ib, l, type, args[1], args[2]);
                  return dit::AddOp::create(ib, l, type, args[0], gated);
                });
}

Lowering::SparseWeights
Lowering::blockListWeights(Location loc, dit::SparsityAttr sparsity,
                           dit::VideoGeometryAttr geometry, bool withOrder) {
  SparseWeights &cached = blockWeights[{sparsity, geometry}];
  if (cached.offsets && (!withOrder || cached.order))
    return cached;
  BlockLists lists = computeBlockLists(sparsity, geometry);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&func.getBody().front());
  if (!cached.offsets)
    cached.prefix = "vsa.sparse." + std::to_string(numBlockLists++) + ".";
  auto constant = [&](StringRef name, auto values, Type element) -> Value {
    auto type = RankedTensorType::get({int64_t(values.size())}, element);
    return vrt::WeightOp::create(
        b, loc, type, cached.prefix + name.str(),
        DenseElementsAttr::get(type, ArrayRef(values)));
  };
  if (!cached.offsets) {
    cached.offsets = constant("offsets", lists.blockOffsets, b.getI64Type());
    if (!lists.listOffsets.empty()) { // else chosen at run time (vsa)
      // Rotating keyframes: one offset table per step modulo the rotations,
      // all pointing into one list array.
      std::vector<int64_t> offsets;
      std::vector<int32_t> all;
      for (int64_t r = 0, n = numRotations(sparsity); r < n; ++r) {
        BlockLists step = r ? computeBlockLists(sparsity, geometry, r) : lists;
        for (int64_t o : step.listOffsets)
          offsets.push_back(int64_t(all.size()) + o);
        all.insert(all.end(), step.lists.begin(), step.lists.end());
      }
      cached.listOffsets = constant("list_offsets", offsets, b.getI64Type());
      cached.lists = constant("lists", all, b.getI32Type());
    }
  }
  // A tile-ordered attention (dit-hoist-tile-order) needs no permutation.
  if (withOrder && !lists.order.empty()) {
    std::vector<int64_t> inverse(lists.order.size());
    for (size_t p = 0; p < lists.order.size(); ++p)
      inverse[lists.order[p]] = int64_t(p);
    cached.order = constant("order", lists.order, b.getI64Type());
    cached.inverse = constant("inverse_order", inverse, b.getI64Type());
  }
  return cached;
}

Value Lowering::norm(Location loc, vrt::NormKind kind, Value input,
                     Value scale, Value bias, int64_t axis, double eps,
                     dit::ModulateOp mod, int64_t groups) {
  ArrayRef<int64_t> shape = shapeOf(input);
  if (axis < 0)
    axis += shape.size();
  int64_t rows = dit::numElements(shape.take_front(axis));
  int64_t dim = dit::numElements(shape.drop_front(axis));
  auto param = [&](Value p) -> Value {
    if (!p)
      return Value();
    Value v = lookup(p);
    if (dit::numElements(shapeOf(v)) != dim)
      v = broadcastTo(loc, v, shape.drop_front(axis));
    return libraryOperand(view(loc, v, {dim}));
  };
  auto modRows = [&](Value v) -> Value {
    return v ? libraryOperand(view(loc, lookup(v), {groups, dim})) : Value();
  };
  // One statement each: the views' order in the IR is fixed.
  Value x = view(loc, libraryOperand(lookup(input)), {rows, dim});
  Value s = param(scale);
  Value bb = param(bias);
  Value shift = modRows(mod ? mod.getShift() : Value());
  Value modScale = modRows(mod ? mod.getScale() : Value());
  Value y = vrt::NormOp::create(
      b, loc, withShape(input, {rows, dim}),
      vrt::NormKindAttr::get(b.getContext(), kind), x, s, bb, shift, modScale,
      b.getF64FloatAttr(eps), IntegerAttr());
  return view(loc, y, shape);
}

namespace {
/// A dit.layer_norm or dit.rms_norm, read alike (the axis normalised).
struct NormParts {
  vrt::NormKind kind;
  Value input, scale, bias;
  int64_t axis;
  double eps;
};

std::optional<NormParts> normParts(Operation *op) {
  NormParts n;
  if (auto l = dyn_cast_or_null<dit::LayerNormOp>(op))
    n = {vrt::NormKind::layer, l.getInput(), l.getScale(), l.getBias(),
         int64_t(l.getAxis()), l.getEpsilon().convertToDouble()};
  else if (auto r = dyn_cast_or_null<dit::RmsNormOp>(op))
    n = {vrt::NormKind::rms, r.getInput(), r.getScale(), Value(),
         int64_t(r.getAxis()),
         r.getEpsilon().convertToDouble()};
  else
    return std::nullopt;
  if (n.axis < 0)
    n.axis += int64_t(shapeOf(n.input).size());
  return n;
}
} // namespace

Value Lowering::norm(Operation *op, dit::ModulateOp mod, int64_t groups) {
  NormParts n = *normParts(op);
  return norm(op->getLoc(), n.kind, n.input, n.scale, n.bias, n.axis, n.eps,
              mod, groups);
}

/// Rows of a modulation operand `v` that broadcasts to `shape` (B, ..., C):
/// B or 1 when it varies along the first axis and the channels only, else
/// 0 (per token: not a norm epilogue).
static int64_t modulationRows(Value v, ArrayRef<int64_t> shape) {
  ArrayRef<int64_t> s = shapeOf(v);
  size_t rank = shape.size();
  if (s.size() > rank || rank < 2)
    return 0;
  SmallVector<int64_t> full(rank - s.size(), 1);
  full.append(s.begin(), s.end());
  if (full.back() != shape.back())
    return 0;
  for (size_t d = 1; d + 1 < rank; ++d)
    if (full[d] != 1)
      return 0;
  if (full[0] == 1)
    return 1;
  return rank > 2 && full[0] == shape[0] ? shape[0] : 0;
}

LogicalResult Lowering::fuseNormModulate(dit::ModulateOp m) {
  Operation *def = m.getInput().getDefiningOp();
  std::optional<NormParts> n = normParts(def);
  if (!n || !def->hasOneUse())
    return failure();
  ArrayRef<int64_t> shape = shapeOf(m.getInput());
  int64_t groups = modulationRows(m.getShift(), shape);
  if (n->axis + 1 != int64_t(shape.size()) || groups == 0 ||
      modulationRows(m.getScale(), shape) != groups)
    return failure();
  // The norm's own vrt.norm (lowered before) is left unused and erased.
  map.map(m.getResult(), norm(def, m, groups));
  return success();
}

/// Whether a RoPE table, broadcast to the pairs (B, S, H, D/2), varies only
/// along the tokens and the pairs (so it is viewed as (S, D/2)).
static bool isTokenTable(Value table, ArrayRef<int64_t> pairs) {
  ArrayRef<int64_t> t = shapeOf(table);
  if (t.size() > pairs.size())
    return false;
  SmallVector<int64_t> full(pairs.size() - t.size(), 1);
  full.append(t.begin(), t.end());
  return full[0] == 1 && full[1] == pairs[1] && full[2] == 1 &&
         full[3] == pairs[3];
}

LogicalResult Lowering::fuseNormRope(dit::RopeOp r) {
  auto reshape = r.getInput().getDefiningOp<dit::ReshapeOp>();
  Operation *normOp = reshape ? reshape.getInput().getDefiningOp() : nullptr;
  std::optional<NormParts> n = normParts(normOp);
  if (!r.getInterleaved() || !reshape || !reshape->hasOneUse() || !n ||
      !normOp->hasOneUse())
    return failure();
  ArrayRef<int64_t> xs = shapeOf(n->input), heads = shapeOf(r.getInput());
  // (B, S, C) -> (B, S, H, D), the norm over C; sizes the CUDA kernel takes.
  if (xs.size() != 3 || n->axis != 2 || heads.size() != 4 ||
      heads[0] != xs[0] || heads[1] != xs[1] || heads[2] * heads[3] != xs[2] ||
      heads[3] % 8 != 0 || xs[2] > 6144)
    return failure();
  SmallVector<int64_t> pairs = {heads[0], heads[1], heads[2], heads[3] / 2};
  if (!isTokenTable(r.getCos(), pairs) || !isTokenTable(r.getSin(), pairs))
    return failure();
  auto transpose = r->hasOneUse()
                       ? dyn_cast<dit::TransposeOp>(*r->getUsers().begin())
                       : dit::TransposeOp();
  bool headsMajor =
      transpose && transpose.getPerm() == ArrayRef<int64_t>{0, 2, 1, 3};
  Value out = headsMajor ? transpose.getResult() : r.getResult();
  Location loc = r.getLoc();
  auto param = [&](Value p) {
    return p ? libraryOperand(view(loc, lookup(p), {xs[2]})) : Value();
  };
  auto table = [&](Value t) {
    return libraryOperand(view(loc, lookup(t), {xs[1], heads[3] / 2}));
  };
  for (Value p : {n->scale, n->bias})
    if (p && dit::numElements(shapeOf(p)) != xs[2])
      return failure();
  // One statement each: the views' order in the IR is fixed.
  Value input = libraryOperand(lookup(n->input));
  Value s = param(n->scale);
  Value bb = param(n->bias);
  Value cosT = table(r.getCos());
  Value sinT = table(r.getSin());
  Value y = vrt::NormRopeOp::create(
                b, loc, cast<RankedTensorType>(out.getType()),
                /*pooled=*/Type(),
                vrt::NormKindAttr::get(b.getContext(), n->kind), input, s,
                bb, cosT, sinT, /*tiles=*/Value(), b.getF64FloatAttr(n->eps),
                headsMajor ? b.getUnitAttr() : UnitAttr(), IntegerAttr(),
                DenseI64ArrayAttr())
                .getResult();
  // The norm's own vrt.norm (lowered before) is left unused and erased; the
  // transpose, lowered next, finds its result mapped.
  map.map(out, y);
  return success();
}

LogicalResult Lowering::lowerReturn(func::ReturnOp op) {
  for (OpOperand &operand : op->getOpOperands()) {
    Value v = lookup(operand.get()), root = vrt::viewSource(v);
    // Outputs are copied out of the arena; inputs and weights are not in it.
    if (isa<BlockArgument>(root) || root.getDefiningOp<vrt::WeightOp>())
      v = kernel(op.getLoc(), v, v.getType(),
                 [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    operand.set(v);
  }
  return success();
}

LogicalResult Lowering::lowerOp(Operation *op) {
  b.setInsertionPoint(op);
  // Already lowered inside a fusion (the transpose after a fused RoPE).
  if (op->getNumResults() == 1 && map.contains(op->getResult(0)))
    return success();
  if (auto m = dyn_cast<dit::ModulateOp>(op); m && succeeded(fuseNormModulate(m)))
    return success();
  if (auto r = dyn_cast<dit::RopeOp>(op); r && succeeded(fuseNormRope(r)))
    return success();
  if (vrt::isElementwiseKernelOp(op) && !isa<dit::ConstantOp>(op))
    if (!isa<dit::ReshapeOp>(op)) {
      map.map(op->getResult(0), cloneAsKernel(op));
      return success();
    }
  if (vrt::isKernelRootOp(op)) {
    map.map(op->getResult(0), cloneAsKernel(op));
    return success();
  }
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](dit::ParamOp p) { return lowerParam(p); })
      .Case([&](dit::ConstantOp c) {
        lowerConstant(c);
        return success();
      })
      .Case([&](dit::ReshapeOp r) {
        map.map(r.getResult(),
                view(r.getLoc(), lookup(r.getInput()), shapeOf(r.getResult())));
        return success();
      })
      .Case([&](dit::LinearOp l) {
        lowerLinear(l);
        return success();
      })
      .Case([&](dit::MatmulOp m) { return lowerMatmul(m); })
      .Case([&](dit::GemmOp g) {
        lowerGemm(g);
        return success();
      })
      .Case([&](dit::AttentionOp a) { return lowerAttention(a); })
      .Case<dit::LayerNormOp, dit::RmsNormOp>([&](Operation *n) {
        map.map(n->getResult(0), norm(n));
        return success();
      })
      .Case([&](dit::SoftmaxOp s) -> LogicalResult {
        int64_t rank = shapeOf(s.getInput()).size();
        int64_t axis = s.getAxis();
        if (axis != rank - 1 && axis != -1)
          return s.emitOpError("over axis ")
                 << axis << " (not the last) is not supported by vrt";
        map.map(s.getResult(),
                vrt::SoftmaxOp::create(b, s.getLoc(), s.getType(),
                                       libraryOperand(lookup(s.getInput())),
                                       IntegerAttr()));
        return success();
      })
      .Case([&](dit::ConvOp c) {
        return c.emitOpError("is not a patch embedding (stride = kernel, no "
                             "padding, dilation or groups); vrt lowers only "
                             "those");
      })
      .Case([&](dit::ShardOp s) {
        map.map(s.getResult(),
                vrt::ShardOp::create(b, s.getLoc(), s.getType(),
                                     libraryOperand(lookup(s.getInput())),
                                     s.getAxis(), s.getDegree(), s.getStride(),
                                     IntegerAttr()));
        return success();
      })
      .Case([&](dit::AllToAllOp a) {
        map.map(a.getResult(),
                vrt::AllToAllOp::create(
                    b, a.getLoc(), a.getType(),
                    libraryOperand(lookup(a.getInput())), a.getScatterAxis(),
                    a.getGatherAxis(), a.getDegree(), a.getStride(),
                    IntegerAttr(), DenseI64ArrayAttr())
                    .getResult(0));
        return success();
      })
      .Case([&](dit::RingAttentionOp r) {
        Value q = libraryOperand(lookup(r.getQuery()));
        auto ring = vrt::RingAttentionOp::create(
            b, r.getLoc(), r.getType(),
            RankedTensorType::get({0}, b.getIntegerType(8)), q,
            libraryOperand(lookup(r.getKey())),
            libraryOperand(lookup(r.getValue())), optionalOperand(r.getMask()),
            optionalOperand(r.getLocalKey()), optionalOperand(r.getLocalValue()),
            optionalOperand(r.getLocalMask()),
            r.getScaleAttr(), r.getDegreeAttr(), r.getStrideAttr(),
            r.getValidKeysAttr(), nullptr, nullptr, nullptr, nullptr);
        // Sized for fp32 (the larger); vrt-plan-memory trims it.
        ring.getScratch().setType(
            RankedTensorType::get({ring.scratchBytes(4)}, b.getIntegerType(8)));
        map.map(r.getResult(), ring.getResult());
        return success();
      })
      .Case([&](dit::AllGatherOp g) {
        map.map(g.getResult(),
                vrt::AllGatherOp::create(b, g.getLoc(), g.getType(),
                                         libraryOperand(lookup(g.getInput())),
                                         g.getAxis(), g.getDegree(),
                                         g.getStride(), IntegerAttr()));
        return success();
      })
      .Case([&](func::ReturnOp r) { return lowerReturn(r); })
      .Default([&](Operation *other) {
        return other->emitOpError("has no lowering to vrt");
      });
}

/// Erases vrt ops whose results are unused (e.g. a transpose a GEMM
/// absorbed), last first so chains go too.
void eraseDeadVrtOps(func::FuncOp func) {
  SmallVector<Operation *> ops;
  for (Operation &op : func.getBody().front())
    if (isa<vrt::VrtDialect>(op.getDialect()))
      ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops))
    if (op->use_empty())
      op->erase();
}

LogicalResult Lowering::run() {
  SmallVector<Operation *> ditOps;
  for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
    if (failed(lowerOp(&op)))
      return failure();
    if (!isa<func::ReturnOp>(op))
      ditOps.push_back(&op);
  }
  for (Operation *op : llvm::reverse(ditOps)) {
    op->dropAllUses();
    op->erase();
  }
  eraseDeadVrtOps(func);
  return success();
}

struct LowerToVrtPass : vsa::impl::LowerToVrtPassBase<LowerToVrtPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (!func.getBody().hasOneBlock()) {
      func.emitOpError("has more than one block; vrt-lower needs one");
      return signalPassFailure();
    }
    if (failed(Lowering(getOperation()).run()))
      return signalPassFailure();
    // The world size context parallelism chose (dit-context-parallel).
    if (Attribute ranks = func->removeAttr("dit.num_ranks"))
      func->setAttr(vrt::kNumRanksAttr, ranks);
  }
};

} // namespace

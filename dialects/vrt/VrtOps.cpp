//===- VrtOps.cpp - vrt op verifiers ---------------------------------------===//

#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/dit/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace vsa;
using namespace vsa::vrt;

#define GET_OP_CLASSES
#include "dialects/vrt/VrtOps.cpp.inc"

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s;
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "x" : "") + std::to_string(d);
  return s.empty() ? "scalar" : s;
}

/// Offsets are arena bytes: non-negative and aligned.
LogicalResult verifyOffset(Operation *op, std::optional<uint64_t> offset) {
  if (!offset)
    return success();
  int64_t value = static_cast<int64_t>(*offset);
  if (value < 0 || value % kArenaAlignment != 0)
    return op->emitOpError() << "offset " << value
                             << " must be a non-negative multiple of "
                             << kArenaAlignment;
  return success();
}

/// `offsets` (when set) places each of op's results in the arena.
LogicalResult verifyOffsets(Operation *op,
                            std::optional<ArrayRef<int64_t>> offsets) {
  if (!offsets)
    return success();
  if (offsets->size() != op->getNumResults())
    return op->emitOpError("offsets must give each of the ")
           << op->getNumResults() << " results' arena offsets";
  for (int64_t offset : *offsets)
    if (failed(verifyOffset(op, uint64_t(offset))))
      return failure();
  return success();
}

/// A 1-D byte `scratch` of at least `least` bytes, and the results' arena
/// offsets.
LogicalResult verifyScratchAndOffsets(Operation *op, Value scratch,
                                      int64_t least,
                                      std::optional<ArrayRef<int64_t>> offsets) {
  ArrayRef<int64_t> shape = shapeOf(scratch);
  if (shape.size() != 1 || shape[0] < least)
    return op->emitOpError("scratch must be 1-D with at least ")
           << least << " bytes, got " << shapeString(shape);
  return verifyOffsets(op, offsets);
}

} // namespace

bool vsa::vrt::isElementwiseKernelOp(Operation *op) {
  return isa<dit::ConstantOp, dit::AddOp, dit::SubOp, dit::MulOp, dit::DivOp,
             dit::PowOp, dit::MaxOp, dit::MinOp, dit::ModOp, dit::AndOp,
             dit::OrOp, dit::XorOp, dit::CompareOp, dit::WhereOp, dit::SqrtOp,
             dit::ReciprocalOp, dit::NegOp, dit::AbsOp, dit::ExpOp, dit::LogOp,
             dit::SinOp, dit::CosOp, dit::TanhOp, dit::SigmoidOp, dit::ErfOp,
             dit::FloorOp, dit::CeilOp, dit::ReluOp, dit::NotOp, dit::GeluOp,
             dit::IsNanOp, dit::CastOp, dit::ReshapeOp, dit::TransposeOp,
             dit::SliceOp, dit::ConcatOp, dit::BroadcastOp, dit::TileOp,
             dit::PadOp, dit::GatherOp, dit::RopeOp, dit::ModulateOp,
             dit::GatedAddOp>(op);
}

Value vsa::vrt::viewSource(Value v) {
  while (auto view = v.getDefiningOp<ViewOp>())
    v = view.getInput();
  return v;
}

bool vsa::vrt::onlyFeeds(Value v, Operation *user) {
  return llvm::all_of(v.getUses(), [&](OpOperand &use) {
    if (use.getOwner() == user)
      return true;
    auto view = dyn_cast<ViewOp>(use.getOwner());
    return view && onlyFeeds(view.getResult(), user);
  });
}

bool vsa::vrt::keepsElementType(Value v) {
  v = viewSource(v);
  if (isa_and_nonnull<QuantizeRowsOp, NormQuantizeOp, ScaledGemmQuantizeOp>(
          v.getDefiningOp()))
    return true;
  auto normRope = v.getDefiningOp<NormRopeOp>(); // its fp32 tile means
  return normRope && v == normRope.getPooled();
}

bool vsa::vrt::isKernelRootOp(Operation *op) {
  return isa<dit::ReduceOp, dit::ScatterNdOp, dit::ScatterElementsOp>(op);
}

//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  if (auto value = getValueAttr())
    if (value.getType() != getType())
      return emitOpError("value type ")
             << value.getType() << " differs from result type " << getType();
  return success();
}

LogicalResult GemmOp::verify() {
  ArrayRef<int64_t> a = shapeOf(getLhs()), b = shapeOf(getRhs());
  if (a.size() < 2 || b.size() < 2)
    return emitOpError("operands need rank >= 2");
  int64_t m = getTransA() ? a[a.size() - 1] : a[a.size() - 2];
  int64_t ka = getTransA() ? a[a.size() - 2] : a[a.size() - 1];
  int64_t kb = getTransB() ? b[b.size() - 1] : b[b.size() - 2];
  int64_t n = getTransB() ? b[b.size() - 2] : b[b.size() - 1];
  if (ka != kb)
    return emitOpError("contraction sizes differ: ") << ka << " vs " << kb;
  ArrayRef<int64_t> batch = a.drop_back(2);
  if (b.size() > 2 && b.drop_back(2) != batch)
    return emitOpError("rhs batch dims ")
           << shapeString(b.drop_back(2)) << " differ from lhs batch dims "
           << shapeString(batch);
  if (Value bias = getBias())
    if (shapeOf(bias) != ArrayRef<int64_t>{n})
      return emitOpError("bias must have shape ") << n;
  SmallVector<int64_t> expected(batch);
  expected.append({m, n});
  if (shapeOf(getResult()) != ArrayRef<int64_t>(expected))
    return emitOpError("result shape must be ") << shapeString(expected);
  return verifyOffset(*this, getOffset());
}

LogicalResult QuantizeRowsOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput());
  if (in.empty())
    return emitOpError("input needs rank >= 1");
  if (shapeOf(getValues()) != in)
    return emitOpError("values must have the input's shape ")
           << shapeString(in);
  if (shapeOf(getScales()) != in.drop_back())
    return emitOpError("scales must have shape ")
           << shapeString(in.drop_back()) << " (one per row)";
  return verifyOffsets(*this, getOffsets());
}

/// The operand rules of the FP8 GEMMs: lhs (..., M, K) with a scale per
/// row, a (N, K) vrt.weight with N a multiple of `nMultiple`, bias (N).
/// Returns the output shape (..., M, N).
template <class Op>
FailureOr<SmallVector<int64_t>> verifyFp8GemmOperands(Op op,
                                                      int64_t nMultiple) {
  ArrayRef<int64_t> a = shapeOf(op.getLhs()), w = shapeOf(op.getWeight());
  if (a.size() < 2)
    return op.emitOpError("lhs needs rank >= 2");
  if (shapeOf(op.getLhsScales()) != a.drop_back())
    return op.emitOpError("lhs_scales must have shape ")
           << shapeString(a.drop_back()) << " (one per row of lhs)";
  if (!op.getWeight().template getDefiningOp<WeightOp>())
    return op.emitOpError(
        "weight must be a vrt.weight (it is stored as FP8)");
  if (w.size() != 2)
    return op.emitOpError("weight must be (N, K), got ") << shapeString(w);
  int64_t m = a[a.size() - 2], k = a.back(), n = w[0];
  if (w[1] != k)
    return op.emitOpError("contraction sizes differ: ") << k << " vs " << w[1];
  if (k % 16 || n % nMultiple)
    return op.emitOpError("needs K % 16 == 0 and N % ")
           << nMultiple << " == 0 (FP8 layouts), got K = " << k
           << ", N = " << n;
  if (Value bias = op.getBias())
    if (shapeOf(bias) != ArrayRef<int64_t>{n})
      return op.emitOpError("bias must have shape ") << n;
  SmallVector<int64_t> out(a.drop_back(2));
  out.append({m, n});
  return out;
}

LogicalResult ScaledGemmOp::verify() {
  FailureOr<SmallVector<int64_t>> out = verifyFp8GemmOperands(*this, 8);
  if (failed(out))
    return failure();
  if (shapeOf(getResult()) != ArrayRef<int64_t>(*out))
    return emitOpError("result shape must be ") << shapeString(*out);
  if (failed(verifyResidual(out->back())))
    return failure();
  return verifyOffset(*this, getOffset());
}

/// Whether `scales` are one scale for every row of `values` that bounds
/// each row's 2-norm: both results of one per-tensor norm_quantize.
static bool isRowNormBound(Value values, Value scales) {
  auto norm = scales.getDefiningOp<NormQuantizeOp>();
  return norm && norm.getPerTensor() && norm.getValues() == values;
}

LogicalResult ScaledGemmQuantizeOp::verify() {
  FailureOr<SmallVector<int64_t>> out = verifyFp8GemmOperands(*this, 16);
  if (failed(out))
    return failure();
  if (shapeOf(getValues()) != ArrayRef<int64_t>(*out))
    return emitOpError("values must have shape ") << shapeString(*out);
  if (shapeOf(getScales()) != ArrayRef<int64_t>(*out).drop_back())
    return emitOpError("scales must have shape ")
           << shapeString(ArrayRef<int64_t>(*out).drop_back())
           << " (one per row)";
  if (getEpilogue() == Epilogue::gelu_erf)
    return emitOpError("has no gelu_erf epilogue (cuBLASLt's FP8 output "
                       "takes its GELU in the tanh form only)");
  if (!isRowNormBound(getLhs(), getLhsScales()))
    return emitOpError("lhs and lhs_scales must be the values and scales of "
                       "one per_tensor vrt.norm_quantize (one scale that "
                       "bounds every row's 2-norm)");
  return verifyOffsets(*this, getOffsets());
}

LogicalResult ScaledGemmOp::verifyResidual(int64_t n) {
  Value residual = getResidual(), gate = getGate();
  if (!residual) {
    if (gate)
      return emitOpError("a gate needs a residual");
    return success();
  }
  if (residual.getType() != getType())
    return emitOpError("residual must have the result's type ") << getType();
  if (getEpilogue() != Epilogue::none)
    return emitOpError("takes no epilogue with a residual");
  if (!gate)
    return success();
  ArrayRef<int64_t> g = shapeOf(gate);
  int64_t offset = getGateOffset(), size = dit::numElements(g);
  if (g.empty() || g.back() != n)
    return emitOpError("gate's last dim must be N = ") << n;
  if (offset < 0 || offset % n != 0 || offset + n > size)
    return emitOpError("gate_offset ")
           << offset << " must be a multiple of N = " << n
           << " with N values after it in the gate's " << size;
  return success();
}

std::array<int64_t, 4> AttentionOp::bhsdDims(Type type, Layout layout) {
  ArrayRef<int64_t> s = cast<RankedTensorType>(type).getShape();
  if (layout == Layout::bshd)
    return {s[0], s[2], s[1], s[3]};
  return {s[0], s[1], s[2], s[3]};
}

LogicalResult AttentionOp::verifyBlocks(ArrayRef<int64_t> q,
                                        ArrayRef<int64_t> k) {
  Value blocks = getBlockOffsets(), offsets = getListOffsets(),
        lists = getLists();
  if (!blocks && !offsets && !lists)
    return success();
  if (!blocks || !offsets || !lists)
    return emitOpError("block-sparse attention needs block_offsets, "
                       "list_offsets and lists together");
  if (getMask())
    return emitOpError("block-sparse attention takes no mask");
  if (q[2] != k[2])
    return emitOpError("block-sparse attention needs as many keys as queries");
  for (Value v : {blocks, offsets, lists})
    if (shapeOf(v).size() != 1)
      return emitOpError("block operands must be 1-D");
  int64_t numBlocks = shapeOf(blocks)[0] - 1;
  int64_t rotations = getRotations();
  if (rotations < 1 || shapeOf(offsets)[0] % rotations != 0)
    return emitOpError("list_offsets must hold ")
           << rotations << " equal offset tables (rotations)";
  int64_t numLists = shapeOf(offsets)[0] / rotations - 1;
  if (numBlocks < 0 || (numLists != numBlocks && numLists != q[1] * numBlocks &&
                        numLists != q[0] * q[1] * numBlocks))
    return emitOpError("list_offsets must have one entry per block (shared "
                       "lists), per head and block, or per batch entry, head "
                       "and block, plus one (")
           << numBlocks + 1 << ", " << q[1] * numBlocks + 1 << " or "
           << q[0] * q[1] * numBlocks + 1 << "), got " << numLists + 1;
  return success();
}

LogicalResult VsaSelectOp::verify() {
  if (shapeOf(getQuery()).size() != 4 || shapeOf(getKey()).size() != 4)
    return emitOpError("query and key must have rank 4");
  auto q = AttentionOp::bhsdDims(getQuery().getType(), getQLayout());
  auto k = AttentionOp::bhsdDims(getKey().getType(), getKvLayout());
  if (q[0] != k[0] || q[2] != k[2] || q[3] != k[3])
    return emitOpError("query and key must agree in batch, length and head "
                       "dim");
  if (k[1] < 1 || q[1] % k[1] != 0)
    return emitOpError("query heads ")
           << q[1] << " must be a multiple of key heads " << k[1];
  ArrayRef<int64_t> tiles = shapeOf(getTileOffsets());
  if (tiles.size() != 1 || tiles[0] < 2)
    return emitOpError("tile_offsets must be 1-D with at least 2 entries");
  int64_t n = tiles[0] - 1, lists = q[0] * q[1] * n;
  if (shapeOf(getListOffsets()) != ArrayRef<int64_t>{lists + 1} ||
      shapeOf(getLists()) != ArrayRef<int64_t>{lists * n})
    return emitOpError("results must be list_offsets (")
           << lists + 1 << ") and lists (" << lists * n << ")";
  double sparsity = getSparsity().convertToDouble();
  if (!(sparsity >= 0.0 && sparsity < 1.0))
    return emitOpError("sparsity must be in [0, 1), got ") << sparsity;
  if (bool(getValue()) != bool(getCoarse()))
    return emitOpError("value and the coarse result come together");
  if (Value v = getValue()) {
    if (shapeOf(v).size() != 4)
      return emitOpError("value must have rank 4");
    auto vd = AttentionOp::bhsdDims(v.getType(), getKvLayout());
    if (vd[0] != k[0] || vd[1] != k[1] || vd[2] != k[2])
      return emitOpError("value must agree with the key in batch, heads and "
                         "length");
    SmallVector<int64_t> coarse = {q[0], q[1], q[2], vd[3]};
    if (shapeOf(getCoarse()) != ArrayRef<int64_t>(coarse))
      return emitOpError("coarse result must be (")
             << dit::shapeToString(coarse) << ") (bhsd), got ("
             << dit::shapeToString(shapeOf(getCoarse())) << ")";
  }
  if (bool(getPooledQ()) != bool(getPooledK()))
    return emitOpError("pooled needs q's and k's tile means together");
  if (Value pq = getPooledQ()) {
    auto expect = [&](std::array<int64_t, 4> t) {
      return NormRopeOp::pooledShape(t[0], t[1], n, t[3]);
    };
    if (shapeOf(pq) != ArrayRef<int64_t>(expect(q)) ||
        shapeOf(getPooledK()) != ArrayRef<int64_t>(expect(k)))
      return emitOpError("pooled q and k must be (")
             << shapeString(expect(q)) << ") and (" << shapeString(expect(k))
             << ")";
  }
  if (failed(verifyOffsets(*this, getOffsets())))
    return failure();
  return success();
}

namespace {
/// Bytes of `count` elements of `size` bytes rounded up to 256, as the
/// runtime's ScratchCarver takes them.
int64_t carved(int64_t count, int64_t size) {
  return (count * size + 255) / 256 * 256;
}
} // namespace

int64_t SemanticAttentionOp::scratchBytes(bool cuda, int64_t batch,
                                          int64_t heads, int64_t kvHeads,
                                          int64_t seq, int64_t headDim,
                                          int64_t qClusters,
                                          int64_t kvClusters) {
  const int64_t bh = batch * heads, bhkv = batch * kvHeads, s = seq,
                d = headDim, cq = qClusters, ckv = kvClusters;
  // Permuted q, k, v, out; labels and permutations of q and k.
  int64_t elem = cuda ? 2 : 4;
  int64_t bytes = 2 * carved(bh * s * d, elem) + 2 * carved(bhkv * s * d, elem) +
                  2 * carved(bh * s, 4) + 2 * carved(bhkv * s, 4);
  if (!cuda) // cluster sizes, block offsets (q, kv), list offsets, lists
    return bytes + carved(bh * cq, 8) + carved(bhkv * ckv, 8) +
           carved(bh * cq + 1, 8) + carved(bhkv * ckv + 1, 8) +
           carved(bh * cq + 1, 8) + carved(bh * cq * ckv, 4);
  // CUDA: query clusters cut into blocks of <= 64 rows (slots), k-means sums
  // over chunks of 256 tokens.
  const int64_t slots = (s + 63) / 64 + cq, chunks = (s + 255) / 256;
  return bytes + carved(bh * cq * d, 4) + carved(bhkv * ckv * d, 4) +
         carved(bh * cq, 4) + carved(bhkv * ckv, 4) + carved(bh * cq, 4) +
         carved(bhkv * ckv, 4) +
         carved(std::max(bh * cq, bhkv * ckv) * chunks, 4) +
         carved(bh * (cq + 1), 4) + carved(bh * slots + 1, 8) +
         carved(bhkv * ckv + 1, 8) + carved(bh * slots + 1, 8) +
         carved(bh * slots * ckv, 4);
}

int64_t SemanticAttentionOp::scratchBytes(bool cuda) {
  auto q = AttentionOp::bhsdDims(getQuery().getType(), getQLayout());
  auto k = AttentionOp::bhsdDims(getKey().getType(), getKvLayout());
  return scratchBytes(cuda, q[0], q[1], k[1], q[2], q[3], getQClusters(),
                      getKvClusters());
}

int64_t SemanticAttentionOp::kCentroidsOffset() {
  auto q = AttentionOp::bhsdDims(getQuery().getType(), getQLayout());
  return carved(q[0] * q[1] * int64_t(getQClusters()) * q[3], 4);
}

int64_t SemanticAttentionOp::stateBytes() {
  auto k = AttentionOp::bhsdDims(getKey().getType(), getKvLayout());
  return kCentroidsOffset() +
         carved(k[0] * k[1] * int64_t(getKvClusters()) * k[3], 4);
}

/// q, k, v and the result of a self-attention-like op read through its
/// layouts: rank 4, k and v alike with q's batch, `seq` and head dim,
/// grouped heads, the result shaped like q.
template <class Op>
static LogicalResult verifySelfAttentionOperands(Op op, StringRef seq,
                                                 bool sameSeq = true) {
  for (Value v : {op.getQuery(), op.getKey(), op.getValue(), op.getResult()})
    if (shapeOf(v).size() != 4)
      return op.emitOpError("operands and result must have rank 4");
  auto q = AttentionOp::bhsdDims(op.getQuery().getType(), op.getQLayout());
  auto k = AttentionOp::bhsdDims(op.getKey().getType(), op.getKvLayout());
  auto v = AttentionOp::bhsdDims(op.getValue().getType(), op.getKvLayout());
  auto o = AttentionOp::bhsdDims(op.getResult().getType(), op.getOutLayout());
  if (k != v || k[0] != q[0] || (sameSeq && k[2] != q[2]) || k[3] != q[3])
    return op.emitOpError("key and value must be (batch, kv heads, seq, dim) "
                          "with the query's batch, ")
           << seq << " and head dim";
  if (k[1] < 1 || q[1] % k[1] != 0)
    return op.emitOpError("query heads ")
           << q[1] << " must be a multiple of key/value heads " << k[1];
  if (o != q)
    return op.emitOpError(
        "result must be (batch, heads, seq, dim) of the query");
  return success();
}

int64_t RingAttentionOp::scratchBytes(int64_t elemBytes) {
  auto q = AttentionOp::bhsdDims(getQuery().getType(), getQLayout());
  auto k = AttentionOp::bhsdDims(getKey().getType(), getKvLayout());
  auto up = [](int64_t x) { return (x + 255) / 256 * 256; };
  // The layout of runtime/src/RingAttention.h: two (K, V) chunks, the
  // partial output, two lse rows, the fp32 running output, the chunk's mask.
  int64_t kv = k[0] * k[1] * k[2] * k[3] * elemBytes;
  int64_t rows = q[0] * q[1] * q[2], out = rows * q[3];
  int64_t mask = getMask() ? up(shapeOf(getMask())[0] * k[2] * elemBytes) : 0;
  return 2 * 2 * up(kv) + up(out * elemBytes) + 2 * up(rows * 4) +
         up(out * 4) + mask;
}

LogicalResult RingAttentionOp::verify() {
  // Queries may hold more tokens than the chunk of keys (joint text).
  if (failed(verifySelfAttentionOperands(*this, "sequence chunk",
                                         /*sameSeq=*/false)))
    return failure();
  if (int64_t(getGroupSize()) < 1 || int64_t(getGroupStride()) < 1)
    return emitOpError("group_size and group_stride must be >= 1");
  if (bool(getLocalKey()) != bool(getLocalValue()) ||
      (getLocalMask() && !getLocalKey()))
    return emitOpError("takes local keys and values together (and a local "
                       "mask only with them)");
  auto q = AttentionOp::bhsdDims(getQuery().getType(), getQLayout());
  auto kk = AttentionOp::bhsdDims(getKey().getType(), getKvLayout());
  auto keyMask = [&](Value m, int64_t keys) {
    ArrayRef<int64_t> s = shapeOf(m);
    return s.size() == 4 && (s[0] == 1 || s[0] == q[0]) && s[1] == 1 &&
           s[2] == 1 && s[3] == keys;
  };
  if (getMask() && !keyMask(getMask(), int64_t(getGroupSize()) * kk[2]))
    return emitOpError("mask must be a key mask over every rank's keys");
  if (getLocalMask() && !keyMask(getLocalMask(), shapeOf(getLocalKey())[2]))
    return emitOpError("local_mask must be a key mask over the local keys");
  if (Value lk = getLocalKey()) {
    auto k = AttentionOp::bhsdDims(getKey().getType(), getKvLayout());
    ArrayRef<int64_t> l = shapeOf(lk);
    if (l.size() != 4 || shapeOf(getLocalValue()) != l || l[0] != k[0] ||
        l[1] != k[1] || l[3] != k[3])
      return emitOpError("local keys and values must be bhsd (batch, kv "
                         "heads, tokens, dim) like the keys");
  }
  return verifyScratchAndOffsets(*this, getScratch(), scratchBytes(2),
                                 getOffsets());
}

int64_t UlyssesAttentionOp::scratchBytes(int64_t elemBytes) {
  ArrayRef<int64_t> q = shapeOf(getQuery());
  auto up = [](int64_t x) { return (x + 255) / 256 * 256; };
  // runtime/src/UlyssesAttention.h: q, k, v and output of this rank's
  // heads over the whole sequence (the same element count as q).
  return 4 * up(q[0] * q[1] * q[2] * q[3] * elemBytes);
}

LogicalResult UlyssesAttentionOp::verify() {
  ArrayRef<int64_t> q = shapeOf(getQuery());
  if (q.size() != 4 || shapeOf(getKey()) != q || shapeOf(getValue()) != q ||
      shapeOf(getResult()) != q)
    return emitOpError("query, key, value and result must be one "
                       "(batch, heads, seq chunk, dim) shape, got ")
           << shapeString(q);
  const int64_t group = getGroupSize(), chunks = getChunks();
  if (group < 1 || int64_t(getGroupStride()) < 1)
    return emitOpError("group_size and group_stride must be >= 1");
  if (q[1] % group != 0)
    return emitOpError("heads (") << q[1] << ") must divide over the "
                                  << group << " ranks of the group";
  if (chunks < 1 || (q[1] / group) % chunks != 0)
    return emitOpError("chunks (")
           << chunks << ") must divide the " << q[1] / group
           << " heads of each rank";
  return verifyScratchAndOffsets(*this, getScratch(), scratchBytes(2),
                                 getOffsets());
}

LogicalResult SemanticAttentionOp::verify() {
  if (failed(verifySelfAttentionOperands(*this, "seq")))
    return failure();
  auto q = AttentionOp::bhsdDims(getQuery().getType(), getQLayout());
  for (auto [name, clusters] :
       {std::pair("q_clusters", int64_t(getQClusters())),
        std::pair("kv_clusters", int64_t(getKvClusters()))})
    if (clusters < 1 || clusters > q[2])
      return emitOpError() << name << " (" << clusters << ") must be in [1, "
                           << q[2] << "] (the tokens)";
  if (int64_t(getIterations()) < 1 || int64_t(getWarmIterations()) < 1)
    return emitOpError("iterations and warm_iterations must be >= 1");
  double topP = getTopP().convertToDouble(),
         minKept = getMinKept().convertToDouble();
  if (!(topP > 0.0 && topP <= 1.0))
    return emitOpError("top_p must be in (0, 1], got ") << topP;
  if (!(minKept >= 0.0 && minKept <= 1.0))
    return emitOpError("min_kept must be in [0, 1], got ") << minKept;
  if (failed(verifyScratchAndOffsets(
          *this, getScratch(),
          std::min(scratchBytes(false), scratchBytes(true)), getOffsets())))
    return failure();
  if (auto state = getStateOffset())
    if (int64_t(*state) < 0 || int64_t(*state) % kArenaAlignment != 0)
      return emitOpError("state_offset ")
             << int64_t(*state) << " must be a non-negative multiple of "
             << kArenaAlignment;
  return success();
}

LogicalResult AttentionOp::verify() {
  for (Value v : {getQuery(), getKey(), getValue(), getResult()})
    if (shapeOf(v).size() != 4)
      return emitOpError("operands and result must have rank 4");
  std::array<int64_t, 4> q = bhsdDims(getQuery().getType(), getQLayout());
  std::array<int64_t, 4> k = bhsdDims(getKey().getType(), getKvLayout());
  auto v = bhsdDims(getValue().getType(), getKvLayout());
  auto o = bhsdDims(getResult().getType(), getOutLayout());
  if (k[0] != q[0] || v[0] != q[0] || o[0] != q[0])
    return emitOpError("batch sizes differ");
  if (k != std::array<int64_t, 4>{v[0], v[1], v[2], k[3]} || k[3] != q[3])
    return emitOpError("key/value heads, lengths or head dims don't match");
  if (k[1] < 1 || q[1] % k[1] != 0)
    return emitOpError("query heads ")
           << q[1] << " must be a multiple of key/value heads " << k[1];
  if (o != std::array<int64_t, 4>{q[0], q[1], q[2], v[3]})
    return emitOpError("result must be (batch, heads, seq_q, value dim)");
  if (Value mask = getMask()) {
    ArrayRef<int64_t> m = shapeOf(mask);
    const int64_t full[4] = {q[0], q[1], q[2], k[2]};
    if (m.size() != 4 ||
        llvm::any_of(llvm::seq(0, 4),
                     [&](int i) { return m[i] != 1 && m[i] != full[i]; }))
      return emitOpError("mask ") << shapeString(m)
                                  << " must be rank 4 and broadcast to "
                                  << shapeString(full);
    if (getElementTypeOrSelf(mask) != getElementTypeOrSelf(getQuery()))
      return emitOpError("mask must be additive, of the query element type");
  }
  if (failed(verifyBlocks(q, k)))
    return failure();
  if (getFp8() && getMask())
    return emitOpError("fp8 attention takes no mask");
  if (getFp8() && !fp8HeadDim(k[3]))
    return emitOpError("fp8 attention needs a head dim that is a multiple of "
                       "16 up to 256, got ")
           << k[3];
  return verifyOffset(*this, getOffset());
}

/// The operand rules vrt.norm and vrt.norm_quantize share.
template <class Op> LogicalResult verifyNormOperands(Op op) {
  ArrayRef<int64_t> x = shapeOf(op.getInput());
  if (x.empty())
    return op.emitOpError("input must have rank >= 1");
  for (Value p : {op.getScale(), op.getBias()})
    if (p && shapeOf(p) != ArrayRef<int64_t>{x.back()})
      return op.emitOpError("scale and bias must have shape ") << x.back();
  if (op.getKind() == NormKind::rms && op.getBias())
    return op.emitOpError("rms norm takes no bias");
  if (bool(op.getModShift()) != bool(op.getModScale()))
    return op.emitOpError("modulate needs both shift and scale");
  if (Value shift = op.getModShift()) {
    ArrayRef<int64_t> m = shapeOf(shift);
    int64_t rows = x.size() == 2 ? x[0] : -1;
    if (rows < 0 || m.size() != 2 || m[1] != x.back() || m[0] < 1 ||
        rows % m[0] != 0 || shapeOf(op.getModScale()) != m)
      return op.emitOpError("modulate needs a (rows, dim) input and shift "
                            "and scale of one shape (G, dim), G dividing the "
                            "rows");
  }
  if (!(op.getEpsilon().convertToDouble() >= 0))
    return op.emitOpError("epsilon must be >= 0");
  return success();
}

LogicalResult NormOp::verify() {
  if (failed(verifyNormOperands(*this)))
    return failure();
  if (getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  return verifyOffset(*this, getOffset());
}

LogicalResult NormQuantizeOp::verify() {
  if (failed(verifyNormOperands(*this)))
    return failure();
  // The results may be shaped like the quantization they replace: the same
  // rows of the same length.
  ArrayRef<int64_t> x = shapeOf(getInput()), v = shapeOf(getValues());
  int64_t rows = dit::numElements(x.drop_back());
  if (v.empty() || v.back() != x.back() ||
      dit::numElements(v) != dit::numElements(x))
    return emitOpError("values must hold the input's rows of ")
           << x.back() << " values";
  if (dit::numElements(shapeOf(getScales())) != rows)
    return emitOpError("scales must hold one value per row (")
           << rows << ")";
  return verifyOffsets(*this, getOffsets());
}

LogicalResult NormRopeOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), c = shapeOf(getCos());
  if (x.size() != 3 || c.size() != 2 || shapeOf(getSin()) != c ||
      c[0] != x[1] || c[1] < 1 || x[2] % (2 * c[1]) != 0)
    return emitOpError("needs input (B, S, H*D) and cos, sin (S, D/2) with "
                       "D dividing the channels");
  for (Value p : {getScale(), getBias()})
    if (p && shapeOf(p) != ArrayRef<int64_t>{x[2]})
      return emitOpError("scale and bias must have shape ") << x[2];
  if (getKind() == NormKind::rms && getBias())
    return emitOpError("rms norm takes no bias");
  const int64_t d = 2 * c[1], h = x[2] / d;
  SmallVector<int64_t> out = getHeadsMajor()
                                 ? SmallVector<int64_t>{x[0], h, x[1], d}
                                 : SmallVector<int64_t>{x[0], x[1], h, d};
  if (shapeOf(getResult()) != ArrayRef<int64_t>(out))
    return emitOpError("result must be (")
           << shapeString(out) << "), got (" << shapeString(shapeOf(getResult()))
           << ")";
  if (!(getEpsilon().convertToDouble() >= 0))
    return emitOpError("epsilon must be >= 0");
  if (failed(verifyPooled()))
    return failure();
  if (getPooled() ? bool(getOffset()) : bool(getOffsets()))
    return emitOpError(getPooled() ? "with pooled, places its results with "
                                     "offsets"
                                   : "places its one result with offset");
  if (failed(verifyOffsets(*this, getOffsets())))
    return failure();
  return verifyOffset(*this, getOffset());
}

SmallVector<int64_t> NormRopeOp::pooledShape(int64_t batch, int64_t heads,
                                             int64_t tiles, int64_t dim) {
  return {batch, heads, tiles, (dim + 3) / 4 * 4};
}

LogicalResult NormRopeOp::verifyPooled() {
  if (bool(getTiles()) != bool(getPooled()))
    return emitOpError("pool tiles and the pooled result come together");
  if (!getTiles())
    return success();
  ArrayRef<int64_t> tiles = shapeOf(getTiles());
  if (tiles.size() != 1 || tiles[0] < 2)
    return emitOpError("pool tiles must be 1-D with at least 2 entries");
  ArrayRef<int64_t> x = shapeOf(getInput());
  int64_t d = 2 * shapeOf(getCos())[1];
  SmallVector<int64_t> pooled = pooledShape(x[0], x[2] / d, tiles[0] - 1, d);
  if (shapeOf(getPooled()) != ArrayRef<int64_t>(pooled))
    return emitOpError("pooled must be (")
           << shapeString(pooled) << ") (batch, heads, tiles, head dim "
           << "rounded up to 4)";
  return success();
}

LogicalResult SoftmaxOp::verify() {
  if (getType() != getInput().getType())
    return emitOpError("result type must equal the input type");
  if (shapeOf(getInput()).empty())
    return emitOpError("input must have rank >= 1");
  return verifyOffset(*this, getOffset());
}

Value KernelOp::getYielded() {
  return cast<YieldOp>(getBody().front().getTerminator()).getValue();
}

LogicalResult KernelOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body has ") << body.getNumArguments()
                                    << " arguments for " << getInputs().size()
                                    << " inputs";
  for (auto [arg, input] : llvm::zip(body.getArguments(), getInputs()))
    if (arg.getType() != input.getType())
      return emitOpError("body argument type ")
             << arg.getType() << " differs from input type "
             << input.getType();
  // Checked before the region's own verification: the block may be empty or
  // end in a non-terminator, so don't ask it for its terminator.
  auto yield = body.empty() ? YieldOp() : dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError("body must end in vrt.yield");
  if (yield.getValue().getType() != getType())
    return emitOpError("yields ") << yield.getValue().getType()
                                  << " but the result is " << getType();
  for (Operation &op : body.without_terminator()) {
    if (isElementwiseKernelOp(&op))
      continue;
    if (isKernelRootOp(&op) && op.getResult(0) == yield.getValue())
      continue;
    return op.emitOpError("cannot be part of a generated kernel")
           << (isKernelRootOp(&op) ? " unless it produces the result" : "");
  }
  if (getSymName().empty())
    return emitOpError("needs a name");
  return verifyOffset(*this, getOffset());
}

LogicalResult ViewOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getType());
  if (in.getElementType() != out.getElementType())
    return emitOpError("element types differ");
  if (dit::numElements(in.getShape()) != dit::numElements(out.getShape()))
    return emitOpError("element counts differ: ")
           << shapeString(in.getShape()) << " vs "
           << shapeString(out.getShape());
  return success();
}

namespace {
/// Checks the axes and that `result` is `input` with `divided` split by the
/// group and `multiplied` (may equal `divided`) scaled by it; either axis
/// may be kNone.
constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
LogicalResult verifyCollectiveShape(Operation *op, int64_t group,
                                    int64_t divided, int64_t multiplied) {
  ArrayRef<int64_t> in = shapeOf(op->getOperand(0));
  ArrayRef<int64_t> out = shapeOf(op->getResult(0));
  int64_t rank = in.size();
  for (int64_t axis : {divided, multiplied})
    if (axis != kNone && (axis < 0 || axis >= rank))
      return op->emitOpError("axis ") << axis << " out of range for rank "
                                      << rank;
  if (group < 1)
    return op->emitOpError("group_size must be >= 1");
  if (divided != kNone && in[divided] % group != 0)
    return op->emitOpError("dim ") << divided << " (" << in[divided]
                                   << ") is not divisible by the group size "
                                   << group;
  SmallVector<int64_t> expected(in);
  if (divided != kNone)
    expected[divided] /= group;
  if (multiplied != kNone)
    expected[multiplied] *= group;
  if (out != ArrayRef<int64_t>(expected) ||
      getElementTypeOrSelf(op->getOperand(0)) !=
          getElementTypeOrSelf(op->getResult(0)))
    return op->emitOpError("result must be ")
           << shapeString(expected) << " of the input element type";
  return success();
}
} // namespace

/// A collective's group: stride >= 1.
static LogicalResult verifyGroupStride(Operation *op, uint64_t stride) {
  if (static_cast<int64_t>(stride) < 1)
    return op->emitOpError("group_stride must be >= 1");
  return success();
}

LogicalResult AllToAllOp::verify() {
  if (failed(verifyGroupStride(*this, getGroupStride())))
    return failure();
  size_t n = getInputs().size();
  if (n < 1 || n > 8 || getResults().size() != n)
    return emitOpError("takes 1 to 8 inputs and as many results, got ")
           << n << " inputs and " << getResults().size() << " results";
  for (auto [in, out] : llvm::zip(getInputs(), getResults()))
    if (in.getType() != getInputs().front().getType() ||
        out.getType() != getResults().front().getType())
      return emitOpError("inputs (and results) must share one type");
  if (failed(verifyCollectiveShape(*this, getGroupSize(),
                                   static_cast<int64_t>(getScatterAxis()),
                                   static_cast<int64_t>(getGatherAxis()))))
    return failure();
  if (getOffset() && n != 1)
    return emitOpError("places several results: use offsets, not offset");
  if (failed(verifyOffsets(*this, getOffsets())))
    return failure();
  return verifyOffset(*this, getOffset());
}

LogicalResult AllGatherOp::verify() {
  if (failed(verifyGroupStride(*this, getGroupStride())) ||
      failed(verifyCollectiveShape(*this, getGroupSize(), kNone,
                                   static_cast<int64_t>(getAxis()))))
    return failure();
  return verifyOffset(*this, getOffset());
}

LogicalResult ShardOp::verify() {
  if (failed(verifyGroupStride(*this, getGroupStride())) ||
      failed(verifyCollectiveShape(*this, getGroupSize(),
                                   static_cast<int64_t>(getAxis()), kNone)))
    return failure();
  return verifyOffset(*this, getOffset());
}

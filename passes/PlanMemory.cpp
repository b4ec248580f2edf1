//===- PlanMemory.cpp - static arena placement of activations --------------===//
//
// Every buffer-producing vrt op gets a byte offset in one arena. A buffer
// lives from its op to the last use of it or of any view of it; an op's
// result is placed before its operands are released, so no op writes over
// what it reads. First fit over a sorted free list with merging. The
// persistent state (semantic attention's centroids) is laid out after it.
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/STLExtras.h"

#include <map>

namespace vsa {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

bool ownsBuffer(Operation *op) {
  return isa<vrt::GemmOp, vrt::QuantizeRowsOp, vrt::ScaledGemmOp,
             vrt::ScaledGemmQuantizeOp,
             vrt::AttentionOp, vrt::NormOp, vrt::NormQuantizeOp,
             vrt::NormRopeOp,
             vrt::SoftmaxOp,
             vrt::KernelOp, vrt::AllToAllOp, vrt::AllGatherOp,
             vrt::ShardOp, vrt::VsaSelectOp, vrt::SemanticAttentionOp,
             vrt::RingAttentionOp, vrt::UlyssesAttentionOp>(op);
}

/// Bytes per element in device memory: float activations are bf16 on CUDA;
/// with `exact` (vrt::keepsElementType) the type's own size.
int64_t elementBytes(Type type, bool cuda, bool exact) {
  if (isa<FloatType>(type) && !exact)
    return cuda ? 2 : (type.getIntOrFloatBitWidth() + 7) / 8;
  return std::max<int64_t>(1, (type.getIntOrFloatBitWidth() + 7) / 8);
}

int64_t alignUp(int64_t n) {
  return (n + vrt::kArenaAlignment - 1) / vrt::kArenaAlignment *
         vrt::kArenaAlignment;
}

/// First-fit allocator over [0, top) with a free list keyed by offset.
class Arena {
public:
  int64_t allocate(int64_t size) {
    for (auto it = free.begin(); it != free.end(); ++it) {
      if (it->second < size)
        continue;
      int64_t offset = it->first, rest = it->second - size;
      free.erase(it);
      if (rest)
        free[offset + size] = rest;
      return offset;
    }
    // Grow: reuse a free block that ends at the top.
    int64_t offset = top;
    if (!free.empty()) {
      auto last = std::prev(free.end());
      if (last->first + last->second == top) {
        offset = last->first;
        free.erase(last);
      }
    }
    top = offset + size;
    peak = std::max(peak, top);
    return offset;
  }
  void release(int64_t offset, int64_t size) {
    auto it = free.emplace(offset, size).first;
    if (auto next = std::next(it);
        next != free.end() && it->first + it->second == next->first) {
      it->second += next->second;
      free.erase(next);
    }
    if (it != free.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free.erase(it);
      }
    }
  }
  int64_t peakBytes() const { return peak; }

private:
  std::map<int64_t, int64_t> free;
  int64_t top = 0, peak = 0;
};

/// The op result that owns the buffer `v` reads (through views), if any.
Value bufferOf(Value v) {
  Value source = vrt::viewSource(v);
  Operation *def = source.getDefiningOp();
  return def && ownsBuffer(def) ? source : Value();
}

/// Lays out the model's persistent state (`vrt.state_bytes`): one int32
/// "centroids are warm" flag per semantic attention in program order (the
/// emitter indexes them the same way), rounded up to 256 bytes, then each
/// attention's centroids at its `state_offset`.
void planState(func::FuncOp func, OpBuilder &b) {
  auto semantic = llvm::to_vector(func.getOps<vrt::SemanticAttentionOp>());
  if (semantic.empty())
    return;
  int64_t offset = alignUp(4 * int64_t(semantic.size()));
  for (vrt::SemanticAttentionOp op : semantic) {
    op.setStateOffset(offset);
    offset += op.stateBytes();
  }
  func->setAttr(vrt::kStateBytesAttr, b.getI64IntegerAttr(offset));
}

/// Records the arena offsets of `op`'s results: `offset` for one result,
/// `offsets` for several.
void setOffsets(Operation *op, ArrayRef<int64_t> offsets, OpBuilder &b) {
  if (offsets.size() == 1)
    op->setAttr("offset", b.getI64IntegerAttr(offsets[0]));
  else
    op->setAttr("offsets", b.getDenseI64ArrayAttr(offsets));
}

struct PlanMemoryPass : vsa::impl::PlanMemoryPassBase<PlanMemoryPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (target != "cpu" && target != "cuda") {
      func.emitError("vrt-plan-memory: unknown target '") << target
                                                          << "' (cpu, cuda)";
      return signalPassFailure();
    }
    if (func.isExternal())
      return;
    bool cuda = target == "cuda";
    Block &block = func.getBody().front();
    // Semantic attention's scratch: what this target's kernel needs.
    for (auto op : func.getOps<vrt::SemanticAttentionOp>())
      op.getScratch().setType(RankedTensorType::get(
          {op.scratchBytes(cuda)}, op.getScratch().getType().getElementType()));
    for (auto op : func.getOps<vrt::RingAttentionOp>())
      op.getScratch().setType(RankedTensorType::get(
          {op.scratchBytes(cuda ? 2 : 4)},
          op.getScratch().getType().getElementType()));
    for (auto op : func.getOps<vrt::UlyssesAttentionOp>())
      op.getScratch().setType(RankedTensorType::get(
          {op.scratchBytes(cuda ? 2 : 4)},
          op.getScratch().getType().getElementType()));
    // Position of the last op reading each buffer (through views).
    DenseMap<Value, unsigned> lastUse;
    DenseMap<Operation *, unsigned> position;
    unsigned index = 0;
    for (Operation &op : block) {
      position[&op] = index;
      for (Value operand : op.getOperands())
        if (Value buffer = bufferOf(operand))
          lastUse[buffer] = isa<func::ReturnOp>(op) ? ~0u : index;
      ++index;
    }
    Arena arena;
    // Buffers placed and alive, in placement order (deterministic release).
    llvm::MapVector<Value, std::pair<int64_t, int64_t>> placed;
    OpBuilder b(func.getContext());
    for (Operation &op : block) {
      if (ownsBuffer(&op)) {
        SmallVector<int64_t> offsets;
        for (Value result : op.getResults()) {
          auto type = cast<RankedTensorType>(result.getType());
          int64_t bytes = alignUp(
              type.getNumElements() *
              elementBytes(type.getElementType(), cuda,
                           vrt::keepsElementType(result)));
          offsets.push_back(arena.allocate(bytes));
          placed[result] = {offsets.back(), bytes};
          // A result nobody reads is released right away.
          if (!lastUse.count(result))
            lastUse[result] = position[&op];
        }
        setOffsets(&op, offsets, b);
      }
      SmallVector<Value> dying;
      for (auto &[buffer, extent] : placed)
        if (lastUse[buffer] == position[&op])
          dying.push_back(buffer);
      for (Value buffer : dying) {
        arena.release(placed[buffer].first, placed[buffer].second);
        placed.erase(buffer);
      }
    }
    func->setAttr(vrt::kArenaBytesAttr, b.getI64IntegerAttr(arena.peakBytes()));
    planState(func, b);
  }
};

} // namespace

//===- PlanMemory.cpp - static arena placement of activations --------------===//
//
// Every buffer-producing vrt op gets a byte offset in one arena. A buffer
// lives from its op to the last use of it or of any view of it; an op's
// result is placed before its operands are released, so no op writes over
// what it reads. First fit over a sorted free list with merging.
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
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
  return isa<vrt::GemmOp, vrt::AttentionOp, vrt::NormOp, vrt::SoftmaxOp,
             vrt::KernelOp, vrt::AllToAllOp, vrt::AllGatherOp>(op);
}

/// Bytes per element in device memory: float activations are bf16 on CUDA.
int64_t elementBytes(Type type, bool cuda) {
  if (isa<FloatType>(type))
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

Operation *bufferOwner(Value v) {
  Operation *def = vrt::viewSource(v).getDefiningOp();
  return def && ownsBuffer(def) ? def : nullptr;
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
    // Position of the last op reading each buffer (through views).
    DenseMap<Operation *, unsigned> lastUse, position;
    unsigned index = 0;
    for (Operation &op : block) {
      position[&op] = index;
      for (Value operand : op.getOperands())
        if (Operation *owner = bufferOwner(operand))
          lastUse[owner] = isa<func::ReturnOp>(op) ? ~0u : index;
      ++index;
    }
    Arena arena;
    DenseMap<Operation *, std::pair<int64_t, int64_t>> placed;
    SmallVector<Operation *> dying;
    OpBuilder b(func.getContext());
    for (Operation &op : block) {
      if (ownsBuffer(&op)) {
        auto type = cast<RankedTensorType>(op.getResult(0).getType());
        int64_t bytes = alignUp(type.getNumElements() *
                                elementBytes(type.getElementType(), cuda));
        int64_t offset = arena.allocate(bytes);
        op.setAttr("offset", b.getI64IntegerAttr(offset));
        placed[&op] = {offset, bytes};
        // A result nobody reads is released right away.
        if (!lastUse.count(&op))
          lastUse[&op] = position[&op];
      }
      for (auto &[owner, last] : lastUse)
        if (last == position[&op] && placed.count(owner))
          dying.push_back(owner);
      for (Operation *owner : dying) {
        arena.release(placed[owner].first, placed[owner].second);
        placed.erase(owner);
      }
      dying.clear();
    }
    func->setAttr(vrt::kArenaBytesAttr, b.getI64IntegerAttr(arena.peakBytes()));
  }
};

} // namespace

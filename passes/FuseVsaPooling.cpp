//===- FuseVsaPooling.cpp - VSA's tile means from the norm that writes q/k ===//
//
// VSA's selection starts with each tile's mean of q and of k. Where q and k
// come straight from vrt.norm_rope (a DiT's q/k norm and RoPE), that op
// computes the means while it writes the rows, and the selection skips its
// own pass over q and k.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/Matchers.h"
#include "vsa/dialects/vrt/VrtOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace vsa {
#define GEN_PASS_DEF_FUSEVSAPOOLINGPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

/// The norm_rope writing `v` in `layout`, when it can take `tiles` (defined
/// before it) as its pool; null otherwise.
vrt::NormRopeOp poolableNormRope(Value v, vrt::Layout layout, Value tiles) {
  auto n = v.getDefiningOp<vrt::NormRopeOp>();
  if (!n || n.getTiles() ||
      (n.getHeadsMajor() ? vrt::Layout::bhsd : vrt::Layout::bshd) != layout)
    return nullptr;
  Operation *def = tiles.getDefiningOp();
  if (def && (def->getBlock() != n->getBlock() || !def->isBeforeInBlock(n)))
    return nullptr;
  return n;
}

/// `n` again with `tiles` as its pool; returns the tile means.
Value addPool(vrt::NormRopeOp n, Value tiles) {
  OpBuilder b(n);
  ArrayRef<int64_t> x = shapeOf(n.getInput());
  int64_t d = 2 * shapeOf(n.getCos())[1];
  auto pooledType = RankedTensorType::get(
      vrt::NormRopeOp::pooledShape(x[0], x[2] / d, shapeOf(tiles)[0] - 1, d),
      b.getF32Type());
  auto pooled = vrt::NormRopeOp::create(
      b, n.getLoc(), n.getType(0), pooledType, n.getKindAttr(), n.getInput(),
      n.getScale(), n.getBias(), n.getCos(), n.getSin(), tiles,
      n.getEpsilonAttr(), n.getHeadsMajorAttr(), IntegerAttr(),
      DenseI64ArrayAttr());
  n.getResult().replaceAllUsesWith(pooled.getResult());
  n.erase();
  return pooled.getPooled();
}

void fusePooling(vrt::VsaSelectOp select) {
  if (select.getPooledQ())
    return;
  Value tiles = select.getTileOffsets();
  vrt::NormRopeOp q =
      poolableNormRope(select.getQuery(), select.getQLayout(), tiles);
  vrt::NormRopeOp k =
      poolableNormRope(select.getKey(), select.getKvLayout(), tiles);
  if (!q || !k || q == k)
    return;
  Value pooledQ = addPool(q, tiles), pooledK = addPool(k, tiles);
  select.getPooledQMutable().assign(pooledQ);
  select.getPooledKMutable().assign(pooledK);
}

struct FuseVsaPoolingPass
    : vsa::impl::FuseVsaPoolingPassBase<FuseVsaPoolingPass> {
  void runOnOperation() override {
    SmallVector<vrt::VsaSelectOp> selects(
        getOperation().getOps<vrt::VsaSelectOp>());
    for (vrt::VsaSelectOp s : selects)
      fusePooling(s);
  }
};

} // namespace

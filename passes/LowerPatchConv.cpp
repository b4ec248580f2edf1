//===- LowerPatchConv.cpp - non-overlapping convolutions to linears --------===//
//
// A DiT's patch embedding is a convolution whose stride equals its kernel
// (no padding, no dilation, one group): every output position sees its own
// patch. It is a GEMM over patches: reshape/transpose the input into
// (N, patches, C·k…), multiply by the flattened weight, and put the channels
// back in front.
//
//===----------------------------------------------------------------------===//

#include "vsa/dialects/dit/DitOps.h"
#include "vsa/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

namespace vsa {
#define GEN_PASS_DEF_LOWERPATCHCONVPASS
#include "passes/Passes.h.inc"
} // namespace vsa

using namespace mlir;
using namespace vsa;

namespace {

bool isPatchConv(dit::ConvOp conv) {
  auto kernel = conv.getWeight().getType().getShape().drop_front(2);
  return static_cast<int64_t>(conv.getGroup()) == 1 &&
         conv.getStrides() == kernel &&
         llvm::all_of(conv.getPads(), [](int64_t p) { return p == 0; }) &&
         llvm::all_of(conv.getDilations(), [](int64_t d) { return d == 1; });
}

Value reshape(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(
      shape, cast<RankedTensorType>(v.getType()).getElementType());
  return dit::ReshapeOp::create(b, loc, type, v);
}

Value transpose(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getShape()[p]);
  return dit::TransposeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v,
      b.getDenseI64ArrayAttr(perm));
}

void lowerPatchConv(dit::ConvOp conv) {
  OpBuilder b(conv);
  Location loc = conv.getLoc();
  ArrayRef<int64_t> x = conv.getInput().getType().getShape();
  ArrayRef<int64_t> w = conv.getWeight().getType().getShape();
  int64_t n = x[0], c = x[1], o = w[0], s = x.size() - 2;
  ArrayRef<int64_t> k = w.drop_front(2);
  // (N, C, P0, k0, P1, k1, ...) -> (N, P0, P1, ..., C, k0, k1, ...).
  SmallVector<int64_t> split{n, c}, grid, toPatches{0};
  int64_t patches = 1, patchSize = c;
  for (int64_t i = 0; i < s; ++i) {
    grid.push_back(x[2 + i] / k[i]);
    split.append({grid.back(), k[i]});
    patches *= grid.back();
    patchSize *= k[i];
  }
  for (int64_t i = 0; i < s; ++i)
    toPatches.push_back(2 + 2 * i);
  toPatches.push_back(1);
  for (int64_t i = 0; i < s; ++i)
    toPatches.push_back(3 + 2 * i);
  // Trailing positions that fill no whole patch are never read: drop them.
  Value input = conv.getInput();
  SmallVector<int64_t> used(x);
  for (int64_t i = 0; i < s; ++i)
    used[2 + i] = grid[i] * k[i];
  if (ArrayRef<int64_t>(used) != x)
    input = dit::SliceOp::create(
        b, loc, RankedTensorType::get(used, conv.getType().getElementType()),
        input, b.getDenseI64ArrayAttr(SmallVector<int64_t>(x.size(), 0)),
        b.getDenseI64ArrayAttr(SmallVector<int64_t>(x.size(), 1)));
  Value cols = reshape(b, loc, input, split);
  cols = transpose(b, loc, cols, toPatches);
  cols = reshape(b, loc, cols, {n, patches, patchSize});
  Value weight = reshape(b, loc, conv.getWeight(), {o, patchSize});
  weight = transpose(b, loc, weight, {1, 0});
  auto outType = RankedTensorType::get(
      {n, patches, o}, conv.getType().getElementType());
  Value y = dit::LinearOp::create(b, loc, outType, cols, weight,
                                  conv.getBias());
  // (N, P0, P1, ..., O) -> (N, O, P0, P1, ...).
  SmallVector<int64_t> gridShape{n};
  gridShape.append(grid);
  gridShape.push_back(o);
  y = reshape(b, loc, y, gridShape);
  SmallVector<int64_t> back{0, s + 1};
  for (int64_t i = 0; i < s; ++i)
    back.push_back(1 + i);
  conv.replaceAllUsesWith(transpose(b, loc, y, back));
  conv.erase();
}

struct LowerPatchConvPass
    : vsa::impl::LowerPatchConvPassBase<LowerPatchConvPass> {
  void runOnOperation() override {
    SmallVector<dit::ConvOp> convs;
    getOperation().walk([&](dit::ConvOp conv) {
      if (isPatchConv(conv))
        convs.push_back(conv);
    });
    for (dit::ConvOp conv : convs)
      lowerPatchConv(conv);
  }
};

} // namespace

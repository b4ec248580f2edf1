//===- Views.cpp - see through chains of reshapes and transposes -----------===//
//
// A layout is tracked as, per dimension, a list of atoms (source axis, size,
// stride within that axis), major to minor. A reshape regroups the row-major
// sequence of atoms (splitting an atom when a new boundary falls inside it);
// a transpose permutes dimensions. The chain is a pure permutation of the
// source when every non-unit dimension is exactly one whole source axis.
//
//===----------------------------------------------------------------------===//

#include "vsa/Support/Views.h"
#include "vsa/dialects/dit/DitOps.h"

#include "llvm/ADT/DenseSet.h"

#include <deque>

using namespace mlir;
using namespace vsa;

namespace {

struct Atom {
  int64_t axis, size, stride;
};
using Dim = SmallVector<Atom, 2>;
using Layout = SmallVector<Dim, 6>;

Layout identityLayout(ArrayRef<int64_t> shape) {
  Layout l;
  for (auto [i, d] : llvm::enumerate(shape)) {
    Dim dim;
    if (d != 1)
      dim.push_back({int64_t(i), d, 1});
    l.push_back(dim);
  }
  return l;
}

/// Regroups the atoms of `l` into dimensions of `shape`.
std::optional<Layout> reshapeLayout(const Layout &l, ArrayRef<int64_t> shape) {
  std::deque<Atom> atoms;
  for (const Dim &d : l)
    for (const Atom &a : d)
      atoms.push_back(a);
  Layout out;
  for (int64_t want : shape) {
    Dim dim;
    int64_t have = 1;
    while (have < want) {
      if (atoms.empty())
        return std::nullopt;
      Atom a = atoms.front();
      atoms.pop_front();
      if (have * a.size <= want) {
        dim.push_back(a);
        have *= a.size;
        continue;
      }
      int64_t need = want / have;
      if (want % have || a.size % need)
        return std::nullopt;
      // Split: the outer part joins this dimension, the inner stays queued.
      dim.push_back({a.axis, need, a.stride * (a.size / need)});
      atoms.push_front({a.axis, a.size / need, a.stride});
      have *= need;
    }
    if (have != want)
      return std::nullopt;
    out.push_back(dim);
  }
  if (!atoms.empty())
    return std::nullopt;
  return out;
}

/// Merges adjacent atoms of one axis; a dimension that is one whole axis of
/// `source` ends up as a single atom of stride 1.
std::optional<SmallVector<int64_t>> asPermutation(const Layout &l,
                                                  ArrayRef<int64_t> source) {
  SmallVector<int64_t> perm;
  SmallVector<bool> used(source.size(), false);
  SmallVector<int64_t> unitDims; // positions of unit dims in `l`
  for (auto [i, dim] : llvm::enumerate(l)) {
    Dim merged;
    for (const Atom &a : dim) {
      if (!merged.empty() && merged.back().axis == a.axis &&
          merged.back().stride == a.stride * a.size) {
        merged.back() = {a.axis, merged.back().size * a.size, a.stride};
        continue;
      }
      merged.push_back(a);
    }
    if (merged.empty()) {
      perm.push_back(-1);
      unitDims.push_back(i);
      continue;
    }
    if (merged.size() != 1 || merged[0].stride != 1 ||
        merged[0].size != source[merged[0].axis] || used[merged[0].axis])
      return std::nullopt;
    used[merged[0].axis] = true;
    perm.push_back(merged[0].axis);
  }
  // Unit dimensions of the result take the source's unit axes in order.
  SmallVector<int64_t> freeUnits;
  for (auto [i, d] : llvm::enumerate(source))
    if (!used[i])
      freeUnits.push_back(i);
  if (freeUnits.size() != unitDims.size())
    return std::nullopt;
  for (auto [pos, axis] : llvm::zip(unitDims, freeUnits))
    perm[pos] = axis;
  return perm;
}

} // namespace

std::optional<PermutedView> vsa::traceToPermutation(Value value) {
  auto rank = cast<RankedTensorType>(value.getType()).getRank();
  // The chain of view ops from `value` upwards, nearest first.
  SmallVector<Operation *> chain;
  Value cur = value;
  while (Operation *op = cur.getDefiningOp()) {
    if (!isa<dit::ReshapeOp, dit::TransposeOp>(op))
      break;
    chain.push_back(op);
    cur = op->getOperand(0);
  }
  // Try the farthest ancestor first, so whole chains collapse.
  for (size_t k = chain.size() + 1; k-- > 0;) {
    Value src = k == 0 ? value : chain[k - 1]->getOperand(0);
    auto srcType = cast<RankedTensorType>(src.getType());
    if (srcType.getRank() != rank)
      continue;
    Layout l = identityLayout(srcType.getShape());
    bool ok = true;
    for (size_t j = k; j-- > 0 && ok;) {
      Operation *op = chain[j];
      auto outType = cast<RankedTensorType>(op->getResult(0).getType());
      if (auto t = dyn_cast<dit::TransposeOp>(op)) {
        Layout p;
        for (int64_t a : t.getPerm())
          p.push_back(l[a]);
        l = p;
      } else if (auto r = reshapeLayout(l, outType.getShape())) {
        l = *r;
      } else {
        ok = false;
      }
    }
    if (!ok)
      continue;
    if (auto perm = asPermutation(l, srcType.getShape()))
      return PermutedView{src, *perm};
  }
  return std::nullopt;
}

void vsa::walkBackward(
    Value root,
    llvm::function_ref<bool(Value, SmallVectorImpl<Value> &)> visit) {
  SmallVector<Value> work{root};
  llvm::DenseSet<Value> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (seen.insert(v).second && !visit(v, work))
      return;
  }
}

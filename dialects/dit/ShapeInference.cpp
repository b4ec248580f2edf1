//===- ShapeInference.cpp - static shape rules of dit ops -----------------===//

#include "vsa/dialects/dit/ShapeInference.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using llvm::ArrayRef;

namespace vsa::dit {

std::string shapeToString(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += "x";
    s += std::to_string(d);
  }
  return s;
}

int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d != 0 && n > INT64_MAX / d))
      return -1;
    n *= d;
  }
  return n;
}

FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                 EmitErrorFn emitError) {
  // A scalar has no axis: callers index the shape with the result.
  if (axis < -rank || axis >= rank) {
    emitError() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
}

FailureOr<Shape> broadcastShapes(ArrayRef<ArrayRef<int64_t>> shapes,
                                 EmitErrorFn emitError) {
  size_t rank = 0;
  for (ArrayRef<int64_t> s : shapes)
    rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (ArrayRef<int64_t> s : shapes) {
    size_t off = rank - s.size();
    for (auto [i, d] : llvm::enumerate(s)) {
      int64_t &o = out[off + i];
      if (d == o || d == 1)
        continue;
      if (o == 1) {
        o = d;
        continue;
      }
      auto diag = emitError() << "shapes do not broadcast:";
      for (ArrayRef<int64_t> t : shapes)
        diag << " (" << shapeToString(t) << ")";
      return failure();
    }
  }
  return out;
}

bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t off = to.size() - from.size();
  for (auto [i, d] : llvm::enumerate(from))
    if (d != 1 && d != to[off + i])
      return false;
  return true;
}

FailureOr<Shape> matmulShape(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs,
                             EmitErrorFn emitError) {
  if (lhs.empty() || rhs.empty()) {
    emitError() << "matmul operands must have rank >= 1";
    return failure();
  }
  // Rank-1 operands get a unit dimension that is dropped afterwards.
  Shape a(lhs.begin(), lhs.end()), b(rhs.begin(), rhs.end());
  if (lhs.size() == 1)
    a.insert(a.begin(), 1);
  if (rhs.size() == 1)
    b.push_back(1);
  int64_t k = a.back(), k2 = b[b.size() - 2];
  if (k != k2) {
    emitError() << "matmul contraction sizes differ: (" << shapeToString(lhs)
                << ") x (" << shapeToString(rhs) << ")";
    return failure();
  }
  ArrayRef<int64_t> batchA = ArrayRef<int64_t>(a).drop_back(2);
  ArrayRef<int64_t> batchB = ArrayRef<int64_t>(b).drop_back(2);
  auto batch = broadcastShapes({batchA, batchB}, emitError);
  if (failed(batch))
    return failure();
  Shape out = *batch;
  if (lhs.size() != 1)
    out.push_back(a[a.size() - 2]);
  if (rhs.size() != 1)
    out.push_back(b.back());
  return out;
}

FailureOr<Shape> gemmShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                           std::optional<ArrayRef<int64_t>> c, bool transA,
                           bool transB, EmitErrorFn emitError) {
  if (a.size() != 2 || b.size() != 2) {
    emitError() << "gemm operands must be matrices, got (" << shapeToString(a)
                << ") and (" << shapeToString(b) << ")";
    return failure();
  }
  int64_t m = transA ? a[1] : a[0], k = transA ? a[0] : a[1];
  int64_t k2 = transB ? b[1] : b[0], n = transB ? b[0] : b[1];
  if (k != k2) {
    emitError() << "gemm contraction sizes differ: " << k << " vs " << k2;
    return failure();
  }
  Shape out{m, n};
  if (c && !broadcastsTo(*c, out)) {
    emitError() << "gemm bias (" << shapeToString(*c)
                << ") does not broadcast to (" << shapeToString(out) << ")";
    return failure();
  }
  return out;
}

FailureOr<Shape> linearShape(ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
                             std::optional<ArrayRef<int64_t>> bias,
                             EmitErrorFn emitError) {
  if (input.empty() || weight.size() != 2) {
    emitError() << "linear needs an input of rank >= 1 and a (K, N) weight, "
                   "got ("
                << shapeToString(input) << ") and (" << shapeToString(weight)
                << ")";
    return failure();
  }
  // A 2-D right operand: numpy matmul is exactly x @ W over the last axis.
  FailureOr<Shape> out = matmulShape(input, weight, emitError);
  if (failed(out))
    return failure();
  if (bias && (bias->size() != 1 || (*bias)[0] != weight[1])) {
    emitError() << "linear bias (" << shapeToString(*bias)
                << ") must be a vector of the " << weight[1] << " outputs";
    return failure();
  }
  return out;
}

FailureOr<Shape> convShape(ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
                           ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                           ArrayRef<int64_t> dilations, int64_t group,
                           EmitErrorFn emitError) {
  if (input.size() < 3 || weight.size() != input.size()) {
    emitError() << "conv needs input N x C x spatial... and a weight of the "
                   "same rank, got ("
                << shapeToString(input) << ") and (" << shapeToString(weight)
                << ")";
    return failure();
  }
  size_t spatial = input.size() - 2;
  if (strides.size() != spatial || dilations.size() != spatial ||
      pads.size() != 2 * spatial) {
    emitError() << "conv over " << spatial
                << " spatial axes needs as many strides and dilations and "
                   "twice as many pads";
    return failure();
  }
  if (group < 1 || input[1] % group != 0 || weight[0] % group != 0 ||
      input[1] / group != weight[1]) {
    emitError() << "conv channels do not match: input has " << input[1]
                << ", weight expects " << weight[1] << " per group of "
                << group;
    return failure();
  }
  Shape out{input[0], weight[0]};
  for (size_t i = 0; i < spatial; ++i) {
    if (strides[i] < 1 || dilations[i] < 1 || pads[i] < 0 ||
        pads[i + spatial] < 0) {
      emitError() << "conv strides and dilations must be >= 1 and pads >= 0";
      return failure();
    }
    int64_t extent, window;
    if (weight[2 + i] < 1 ||
        llvm::AddOverflow(input[2 + i], pads[i], extent) ||
        llvm::AddOverflow(extent, pads[i + spatial], extent) ||
        llvm::MulOverflow(dilations[i], weight[2 + i] - 1, window) ||
        llvm::AddOverflow(window, int64_t(1), window)) {
      emitError() << "conv kernel or padded input along spatial axis " << i
                  << " is empty or overflows";
      return failure();
    }
    if (extent < window) {
      emitError() << "conv kernel (" << window << ") is larger than the padded "
                  << "input (" << extent << ") along spatial axis " << i;
      return failure();
    }
    out.push_back((extent - window) / strides[i] + 1);
  }
  return out;
}

// Normalises and checks a list of distinct axes.
static FailureOr<llvm::SmallVector<int64_t>>
normalizeAxes(ArrayRef<int64_t> axes, int64_t rank, EmitErrorFn emitError) {
  llvm::SmallVector<int64_t> out;
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t a : axes) {
    auto n = normalizeAxis(a, rank, emitError);
    if (failed(n))
      return failure();
    if (!seen.insert(*n).second) {
      emitError() << "axis " << a << " appears twice";
      return failure();
    }
    out.push_back(*n);
  }
  return out;
}

FailureOr<Shape> reduceShape(ArrayRef<int64_t> input, ArrayRef<int64_t> axes,
                             bool keepdims, EmitErrorFn emitError) {
  auto norm = normalizeAxes(axes, input.size(), emitError);
  if (failed(norm))
    return failure();
  Shape out;
  for (auto [i, d] : llvm::enumerate(input)) {
    bool reduced = axes.empty() || llvm::is_contained(*norm, int64_t(i));
    if (!reduced)
      out.push_back(d);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

FailureOr<Shape> transposeShape(ArrayRef<int64_t> input, ArrayRef<int64_t> perm,
                                EmitErrorFn emitError) {
  if (perm.size() != input.size()) {
    emitError() << "permutation of " << perm.size()
                << " axes for a tensor of rank " << input.size();
    return failure();
  }
  llvm::SmallVector<bool> seen(perm.size(), false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)perm.size() || seen[p]) {
      emitError() << "perm is not a permutation of 0.." << perm.size() - 1;
      return failure();
    }
    seen[p] = true;
    out.push_back(input[p]);
  }
  return out;
}

FailureOr<Shape> concatShape(ArrayRef<ArrayRef<int64_t>> inputs, int64_t axis,
                             EmitErrorFn emitError) {
  if (inputs.empty()) {
    emitError() << "concat needs at least one input";
    return failure();
  }
  int64_t rank = inputs[0].size();
  if (rank == 0) {
    emitError() << "concat inputs must have rank >= 1";
    return failure();
  }
  auto ax = normalizeAxis(axis, rank, emitError);
  if (failed(ax))
    return failure();
  Shape out(inputs[0].begin(), inputs[0].end());
  out[*ax] = 0;
  for (ArrayRef<int64_t> s : inputs) {
    if ((int64_t)s.size() != rank) {
      emitError() << "concat inputs differ in rank";
      return failure();
    }
    for (int64_t i = 0; i < rank; ++i) {
      if (i != *ax && s[i] != out[i]) {
        emitError() << "concat inputs differ in axis " << i << ": ("
                    << shapeToString(inputs[0]) << ") vs (" << shapeToString(s)
                    << ")";
        return failure();
      }
    }
    if (llvm::AddOverflow(out[*ax], s[*ax], out[*ax])) {
      emitError() << "concat along axis " << *ax << " overflows";
      return failure();
    }
  }
  return out;
}

FailureOr<Shape> gatherShape(ArrayRef<int64_t> input, ArrayRef<int64_t> indices,
                             int64_t axis, EmitErrorFn emitError) {
  if (input.empty()) {
    emitError() << "gather from a scalar";
    return failure();
  }
  auto ax = normalizeAxis(axis, input.size(), emitError);
  if (failed(ax))
    return failure();
  Shape out(input.begin(), input.begin() + *ax);
  out.append(indices.begin(), indices.end());
  out.append(input.begin() + *ax + 1, input.end());
  return out;
}

FailureOr<Shape> tileShape(ArrayRef<int64_t> input, ArrayRef<int64_t> repeats,
                           EmitErrorFn emitError) {
  if (repeats.size() != input.size()) {
    emitError() << "tile needs one repeat count per axis (" << input.size()
                << "), got " << repeats.size();
    return failure();
  }
  Shape out;
  for (auto [d, r] : llvm::zip(input, repeats)) {
    if (r < 0) {
      emitError() << "tile repeat counts must be >= 0";
      return failure();
    }
    int64_t n;
    if (llvm::MulOverflow(d, r, n)) {
      emitError() << "tiling " << d << " by " << r << " overflows";
      return failure();
    }
    out.push_back(n);
  }
  return out;
}

FailureOr<Shape> padShape(ArrayRef<int64_t> input, ArrayRef<int64_t> pads,
                          EmitErrorFn emitError) {
  if (pads.size() != 2 * input.size()) {
    emitError() << "pad needs " << 2 * input.size() << " pad sizes, got "
                << pads.size();
    return failure();
  }
  Shape out;
  for (auto [i, d] : llvm::enumerate(input)) {
    int64_t n;
    if (llvm::AddOverflow(d, pads[i], n) ||
        llvm::AddOverflow(n, pads[i + input.size()], n)) {
      emitError() << "pad of axis " << i << " overflows";
      return failure();
    }
    if (n < 0) {
      emitError() << "pad removes more than axis " << i << " holds";
      return failure();
    }
    out.push_back(n);
  }
  return out;
}

LogicalResult checkSlice(ArrayRef<int64_t> input, ArrayRef<int64_t> offsets,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> result,
                         EmitErrorFn emitError) {
  if (offsets.size() != input.size() || strides.size() != input.size() ||
      result.size() != input.size()) {
    emitError() << "slice needs one offset and stride per axis of the input";
    return failure();
  }
  for (size_t i = 0; i < input.size(); ++i) {
    if (strides[i] == 0) {
      emitError() << "slice stride along axis " << i << " is zero";
      return failure();
    }
    if (result[i] == 0)
      continue;
    int64_t last = offsets[i] + (result[i] - 1) * strides[i];
    if (offsets[i] < 0 || offsets[i] >= input[i] || last < 0 ||
        last >= input[i]) {
      emitError() << "slice along axis " << i << " reads [" << offsets[i]
                  << ", " << last << "] outside 0.." << input[i] - 1;
      return failure();
    }
  }
  return success();
}

FailureOr<Shape> attentionShape(ArrayRef<int64_t> q, ArrayRef<int64_t> k,
                                ArrayRef<int64_t> v,
                                std::optional<ArrayRef<int64_t>> mask,
                                EmitErrorFn emitError) {
  if (q.size() != 4 || k.size() != 4 || v.size() != 4) {
    emitError() << "attention operands must be (batch, heads, seq, dim)";
    return failure();
  }
  if (k[0] != q[0] || v[0] != q[0] || k[3] != q[3] || v[1] != k[1] ||
      v[2] != k[2] || k[1] < 1 || q[1] % k[1] != 0) {
    emitError() << "attention shapes do not fit: q (" << shapeToString(q)
                << "), k (" << shapeToString(k) << "), v (" << shapeToString(v)
                << ")";
    return failure();
  }
  Shape scores{q[0], q[1], q[2], k[2]};
  if (mask && !broadcastsTo(*mask, scores)) {
    emitError() << "attention mask (" << shapeToString(*mask)
                << ") does not broadcast to the scores ("
                << shapeToString(scores) << ")";
    return failure();
  }
  return Shape{q[0], q[1], q[2], v[3]};
}

LogicalResult checkScatterNd(ArrayRef<int64_t> data, ArrayRef<int64_t> indices,
                             ArrayRef<int64_t> updates, EmitErrorFn emitError) {
  if (indices.empty() || indices.back() < 1 ||
      indices.back() > (int64_t)data.size()) {
    emitError() << "scatter_nd index tuples of length "
                << (indices.empty() ? 0 : indices.back())
                << " for data of rank " << data.size();
    return failure();
  }
  Shape expected(indices.begin(), indices.end() - 1);
  expected.append(data.begin() + indices.back(), data.end());
  if (ArrayRef<int64_t>(expected) != updates) {
    emitError() << "scatter_nd updates must be (" << shapeToString(expected)
                << "), got (" << shapeToString(updates) << ")";
    return failure();
  }
  return success();
}

LogicalResult checkNormParam(ArrayRef<int64_t> input, int64_t axis,
                             ArrayRef<int64_t> param, llvm::StringRef what,
                             EmitErrorFn emitError) {
  auto ax = normalizeAxis(axis, input.size(), emitError);
  if (failed(ax))
    return failure();
  if (!broadcastsTo(param, input.drop_front(*ax))) {
    emitError() << what << " (" << shapeToString(param)
                << ") does not match the normalised axes ("
                << shapeToString(input.drop_front(*ax)) << ")";
    return failure();
  }
  return success();
}

} // namespace vsa::dit

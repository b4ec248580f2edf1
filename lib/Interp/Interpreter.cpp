//===- Interpreter.cpp - reference interpreter for dit IR -----------------===//
//
// Naive loops over flat row-major buffers. Index maps for broadcasting,
// transposes, slices and tiles all come from one helper (`offsets`) that
// enumerates base + sum(idx[i] * strides[i]) in row-major order.
//
//===----------------------------------------------------------------------===//

#include "vsa/Interp/Interpreter.h"
#include "vsa/Support/SparsePatterns.h"

#include "vsa/dialects/dit/DitOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using llvm::SmallVector;

namespace vsa::interp {

int64_t Tensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

double roundTo(Type type, double v) {
  if (type.isF32())
    return static_cast<double>(static_cast<float>(v));
  if (type.isF64())
    return v;
  if (auto ft = dyn_cast<FloatType>(type)) {
    llvm::APFloat f(v);
    bool lost = false;
    f.convert(ft.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven,
              &lost);
    f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
              &lost);
    return f.convertToDouble();
  }
  if (type.isInteger(1))
    return v != 0 ? 1.0 : 0.0;
  if (type.isIntOrIndex())
    return std::trunc(v);
  return v;
}

namespace {

using Index = SmallVector<int64_t>;
constexpr double kInf = std::numeric_limits<double>::infinity();

int64_t product(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Row-major strides of `shape`.
Index stridesOf(ArrayRef<int64_t> shape) {
  Index s(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// base + sum(idx[i] * strides[i]) for every index of `shape`, row-major.
std::vector<int64_t> offsets(ArrayRef<int64_t> shape, ArrayRef<int64_t> strides,
                             int64_t base = 0) {
  int64_t n = product(shape);
  std::vector<int64_t> out;
  if (n <= 0)
    return out;
  out.reserve(n);
  int64_t rank = shape.size();
  Index idx(rank, 0);
  int64_t off = base;
  for (int64_t k = 0; k < n; ++k) {
    out.push_back(off);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        off += strides[d];
        break;
      }
      off -= strides[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
  return out;
}

/// For every element of `out`, the flat index of the element of `in` that
/// numpy broadcasting reads.
std::vector<int64_t> broadcastMap(ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
  Index s(out.size(), 0);
  Index inStrides = stridesOf(in);
  size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i] != 1)
      s[lead + i] = inStrides[i];
  return offsets(out, s);
}

int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

bool isFloat(Type t) { return isa<FloatType>(t); }

/// Reads an elements attribute (dense or resource) as doubles.
FailureOr<std::vector<double>> readElements(Operation *op, ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  Type et = type.getElementType();
  int64_t n = type.getNumElements();
  std::vector<double> out;
  out.reserve(n);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (isFloat(et)) {
      for (const APFloat &v : dense.getValues<APFloat>()) {
        APFloat d = v;
        bool lost = false;
        d.convert(llvm::APFloat::IEEEdouble(),
                  llvm::APFloat::rmNearestTiesToEven, &lost);
        out.push_back(d.convertToDouble());
      }
    } else if (et.isInteger(1)) {
      for (bool b : dense.getValues<bool>())
        out.push_back(b ? 1.0 : 0.0);
    } else if (et.isInteger()) {
      bool isUnsigned = et.isUnsignedInteger();
      for (const APInt &v : dense.getValues<APInt>())
        out.push_back(isUnsigned ? double(v.getZExtValue())
                                 : double(v.getSExtValue()));
    } else {
      return op->emitError("interpreter: unsupported element type ") << et;
    }
    return out;
  }
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!res)
    return op->emitError("interpreter: unsupported elements attribute");
  AsmResourceBlob *blob = res.getRawHandle().getBlob();
  if (!blob)
    return op->emitError("interpreter: resource blob '")
           << res.getRawHandle().getKey() << "' has no data";
  ArrayRef<char> bytes = blob->getData();
  int64_t width = et.isInteger(1) ? 8 : et.getIntOrFloatBitWidth();
  if (width % 8 != 0 || int64_t(bytes.size()) != n * (width / 8))
    return op->emitError("interpreter: resource blob holds ")
           << bytes.size() << " bytes, type " << type << " needs "
           << n * (width / 8);
  const char *p = bytes.data();
  for (int64_t i = 0; i < n; ++i, p += width / 8) {
    double v;
    if (et.isF32()) {
      float f;
      std::memcpy(&f, p, 4);
      v = f;
    } else if (et.isF64()) {
      std::memcpy(&v, p, 8);
    } else if (auto ft = dyn_cast<FloatType>(et)) {
      uint64_t bits = 0;
      std::memcpy(&bits, p, width / 8);
      APFloat f(ft.getFloatSemantics(), APInt(width, bits));
      bool lost = false;
      f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
      v = f.convertToDouble();
    } else if (et.isInteger(1)) {
      v = *p != 0;
    } else if (et.isInteger()) {
      uint64_t bits = 0;
      std::memcpy(&bits, p, width / 8);
      APInt ai(width, bits);
      v = et.isUnsignedInteger() ? double(ai.getZExtValue())
                                 : double(ai.getSExtValue());
    } else {
      return op->emitError("interpreter: unsupported element type ") << et;
    }
    out.push_back(v);
  }
  return out;
}

class Evaluator {
public:
  DenseMap<Value, Tensor> env;

  const Tensor &get(Value v) { return env.find(v)->second; }

  static Tensor make(Value result) {
    auto type = cast<RankedTensorType>(result.getType());
    Tensor t;
    t.shape.assign(type.getShape().begin(), type.getShape().end());
    t.elementType = type.getElementType();
    t.data.assign(type.getNumElements(), 0.0);
    return t;
  }

  LogicalResult set(Value v, Tensor t) {
    for (double &x : t.data)
      x = roundTo(t.elementType, x);
    env[v] = std::move(t);
    return success();
  }

  template <typename Fn> LogicalResult unary(Operation *op, Fn fn) {
    const Tensor &a = get(op->getOperand(0));
    Tensor r = make(op->getResult(0));
    for (size_t i = 0; i < r.data.size(); ++i)
      r.data[i] = fn(a.data[i]);
    return set(op->getResult(0), std::move(r));
  }

  /// Elementwise over the broadcast of all operands to the result shape.
  template <typename Fn> LogicalResult nary(Operation *op, Fn fn) {
    Tensor r = make(op->getResult(0));
    SmallVector<const Tensor *> ins;
    SmallVector<std::vector<int64_t>> maps;
    for (Value v : op->getOperands()) {
      ins.push_back(&get(v));
      maps.push_back(broadcastMap(ins.back()->shape, r.shape));
    }
    double xs[3];
    for (size_t i = 0; i < r.data.size(); ++i) {
      for (size_t k = 0; k < ins.size(); ++k)
        xs[k] = ins[k]->data[maps[k][i]];
      r.data[i] = fn(xs);
    }
    return set(op->getResult(0), std::move(r));
  }
  template <typename Fn> LogicalResult binary(Operation *op, Fn fn) {
    return nary(op, [&](const double *x) { return fn(x[0], x[1]); });
  }

  LogicalResult eval(Operation *op);
  LogicalResult evalMatmul(Value lhs, Value rhs, Value bias, Value result);
  LogicalResult evalGemm(dit::GemmOp op);
  LogicalResult evalConv(dit::ConvOp op);
  LogicalResult evalNorm(Operation *op, int64_t axis, double eps, Value scale,
                         Value bias, bool rms);
  LogicalResult evalReduce(dit::ReduceOp op);
  LogicalResult evalAttention(dit::AttentionOp op);
  LogicalResult evalPad(dit::PadOp op);
  LogicalResult evalGather(dit::GatherOp op);
  LogicalResult evalScatterNd(dit::ScatterNdOp op);
  LogicalResult evalScatterElements(dit::ScatterElementsOp op);
};

double combine(dit::ScatterReduction red, double old, double upd) {
  switch (red) {
  case dit::ScatterReduction::none:
    return upd;
  case dit::ScatterReduction::add:
    return old + upd;
  case dit::ScatterReduction::mul:
    return old * upd;
  case dit::ScatterReduction::max:
    return std::max(old, upd);
  case dit::ScatterReduction::min:
    return std::min(old, upd);
  }
  return upd;
}

/// numpy matmul; `bias` (optional, dit.linear's) is added along the last axis.
LogicalResult Evaluator::evalMatmul(Value lhs, Value rhs, Value bias,
                                    Value result) {
  const Tensor &a = get(lhs), &b = get(rhs);
  Index as(a.shape), bs(b.shape);
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (bs.size() == 1)
    bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  ArrayRef<int64_t> aBatch = ArrayRef<int64_t>(as).drop_back(2);
  ArrayRef<int64_t> bBatch = ArrayRef<int64_t>(bs).drop_back(2);
  Index batch(std::max(aBatch.size(), bBatch.size()), 1);
  for (size_t i = 0; i < aBatch.size(); ++i)
    batch[batch.size() - aBatch.size() + i] = aBatch[i];
  for (size_t i = 0; i < bBatch.size(); ++i) {
    int64_t &d = batch[batch.size() - bBatch.size() + i];
    if (d == 1)
      d = bBatch[i];
  }
  std::vector<int64_t> amap = broadcastMap(aBatch, batch);
  std::vector<int64_t> bmap = broadcastMap(bBatch, batch);
  Tensor r = make(result);
  for (size_t p = 0; p < amap.size(); ++p) {
    const double *ap = a.data.data() + amap[p] * m * k;
    const double *bp = b.data.data() + bmap[p] * k * n;
    double *rp = r.data.data() + p * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t l = 0; l < k; ++l)
          acc += ap[i * k + l] * bp[l * n + j];
        rp[i * n + j] = acc;
      }
  }
  if (bias) {
    const Tensor &c = get(bias);
    for (size_t i = 0; i < r.data.size(); ++i)
      r.data[i] += c.data[i % n];
  }
  return set(result, std::move(r));
}

LogicalResult Evaluator::evalGemm(dit::GemmOp op) {
  const Tensor &a = get(op.getA()), &b = get(op.getB());
  bool ta = op.getTransA(), tb = op.getTransB();
  int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  int64_t n = tb ? b.shape[0] : b.shape[1];
  double alpha = op.getAlpha().convertToDouble();
  double beta = op.getBeta().convertToDouble();
  Tensor r = make(op.getResult());
  std::vector<int64_t> cmap;
  const Tensor *c = op.getC() ? &get(op.getC()) : nullptr;
  if (c)
    cmap = broadcastMap(c->shape, r.shape);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t l = 0; l < k; ++l)
        acc += a.data[ta ? l * m + i : i * k + l] *
               b.data[tb ? j * k + l : l * n + j];
      acc *= alpha;
      if (c)
        acc += beta * c->data[cmap[i * n + j]];
      r.data[i * n + j] = acc;
    }
  return set(op.getResult(), std::move(r));
}

LogicalResult Evaluator::evalConv(dit::ConvOp op) {
  const Tensor &x = get(op.getInput()), &w = get(op.getWeight());
  const Tensor *bias = op.getBias() ? &get(op.getBias()) : nullptr;
  Tensor r = make(op.getResult());
  int64_t nsp = x.shape.size() - 2;
  ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(),
                    dil = op.getDilations();
  int64_t group = op.getGroup();
  int64_t batch = x.shape[0], cin = x.shape[1], cout = w.shape[0];
  int64_t cpg = w.shape[1], opg = cout / group;
  ArrayRef<int64_t> inSp = ArrayRef<int64_t>(x.shape).drop_front(2);
  ArrayRef<int64_t> kSp = ArrayRef<int64_t>(w.shape).drop_front(2);
  ArrayRef<int64_t> outSp = ArrayRef<int64_t>(r.shape).drop_front(2);
  int64_t inSize = product(inSp), kSize = product(kSp), outSize = product(outSp);
  Index inStr = stridesOf(inSp);
  // Unravelled kernel and output positions.
  auto unravel = [&](ArrayRef<int64_t> shape, int64_t count) {
    std::vector<Index> out(count, Index(shape.size(), 0));
    Index str = stridesOf(shape);
    for (int64_t p = 0; p < count; ++p)
      for (size_t d = 0; d < shape.size(); ++d)
        out[p][d] = (p / str[d]) % shape[d];
    return out;
  };
  std::vector<Index> kPos = unravel(kSp, kSize), oPos = unravel(outSp, outSize);
  for (int64_t nb = 0; nb < batch; ++nb)
    for (int64_t o = 0; o < cout; ++o) {
      int64_t g = o / opg;
      for (int64_t op_ = 0; op_ < outSize; ++op_) {
        double acc = bias ? bias->data[o] : 0.0;
        for (int64_t c = 0; c < cpg; ++c) {
          const double *xp =
              x.data.data() + (nb * cin + g * cpg + c) * inSize;
          const double *wp = w.data.data() + (o * cpg + c) * kSize;
          for (int64_t kp = 0; kp < kSize; ++kp) {
            int64_t off = 0;
            bool inside = true;
            for (int64_t d = 0; d < nsp && inside; ++d) {
              int64_t pos = oPos[op_][d] * strides[d] - pads[d] +
                            kPos[kp][d] * dil[d];
              inside = pos >= 0 && pos < inSp[d];
              off += pos * inStr[d];
            }
            if (inside)
              acc += xp[off] * wp[kp];
          }
        }
        r.data[(nb * cout + o) * outSize + op_] = acc;
      }
    }
  return set(op.getResult(), std::move(r));
}

LogicalResult Evaluator::evalNorm(Operation *op, int64_t axis, double eps,
                                  Value scale, Value bias, bool rms) {
  const Tensor &x = get(op->getOperand(0));
  Tensor r = make(op->getResult(0));
  axis = normAxis(axis, x.shape.size());
  ArrayRef<int64_t> inner = ArrayRef<int64_t>(x.shape).drop_front(axis);
  int64_t n = product(inner), outer = product(ArrayRef<int64_t>(x.shape).take_front(axis));
  const Tensor *s = scale ? &get(scale) : nullptr;
  const Tensor *b = bias ? &get(bias) : nullptr;
  std::vector<int64_t> smap, bmap;
  if (s)
    smap = broadcastMap(s->shape, inner);
  if (b)
    bmap = broadcastMap(b->shape, inner);
  for (int64_t o = 0; o < outer; ++o) {
    const double *xp = x.data.data() + o * n;
    double *rp = r.data.data() + o * n;
    double mean = 0;
    if (!rms) {
      for (int64_t i = 0; i < n; ++i)
        mean += xp[i];
      mean /= n;
    }
    double var = 0;
    for (int64_t i = 0; i < n; ++i)
      var += (xp[i] - mean) * (xp[i] - mean);
    var /= n;
    double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < n; ++i) {
      double y = (xp[i] - mean) * inv;
      if (s)
        y *= s->data[smap[i]];
      if (b)
        y += b->data[bmap[i]];
      rp[i] = y;
    }
  }
  return set(op->getResult(0), std::move(r));
}

LogicalResult Evaluator::evalReduce(dit::ReduceOp op) {
  const Tensor &x = get(op.getInput());
  int64_t rank = x.shape.size();
  SmallVector<bool> reduced(rank, op.getAxes().empty());
  for (int64_t a : op.getAxes())
    reduced[normAxis(a, rank)] = true;
  Index kept(x.shape);
  for (int64_t d = 0; d < rank; ++d)
    if (reduced[d])
      kept[d] = 1;
  Index keptStr = stridesOf(kept);
  for (int64_t d = 0; d < rank; ++d)
    if (reduced[d])
      keptStr[d] = 0;
  std::vector<int64_t> map = offsets(x.shape, keptStr);
  Tensor r = make(op.getResult());
  dit::ReduceKind kind = op.getKind();
  double init = kind == dit::ReduceKind::prod  ? 1.0
                : kind == dit::ReduceKind::max ? -kInf
                : kind == dit::ReduceKind::min ? kInf
                                               : 0.0;
  std::fill(r.data.begin(), r.data.end(), init);
  for (size_t i = 0; i < map.size(); ++i) {
    double &acc = r.data[map[i]], v = x.data[i];
    switch (kind) {
    case dit::ReduceKind::sum:
    case dit::ReduceKind::mean:
      acc += v;
      break;
    case dit::ReduceKind::prod:
      acc *= v;
      break;
    case dit::ReduceKind::max:
      acc = (std::isnan(v) || v > acc) ? v : acc;
      break;
    case dit::ReduceKind::min:
      acc = (std::isnan(v) || v < acc) ? v : acc;
      break;
    }
  }
  if (kind == dit::ReduceKind::mean && !r.data.empty()) {
    double count = double(x.data.size()) / double(r.data.size());
    for (double &v : r.data)
      v /= count;
  }
  return set(op.getResult(), std::move(r));
}

/// Per-block means of x (tokens x dim) over the blocks of `lists`.
static std::vector<double> poolBlocks(const BlockLists &lists,
                                      ArrayRef<int64_t> blockOf,
                                      const double *x, int64_t dim) {
  const int64_t n = lists.numBlocks();
  std::vector<double> pooled(n * dim, 0.0);
  for (size_t t = 0; t < blockOf.size(); ++t)
    for (int64_t d = 0; d < dim; ++d)
      pooled[blockOf[t] * dim + d] += x[t * dim + d];
  for (int64_t b = 0; b < n; ++b) {
    double count = double(lists.blockOffsets[b + 1] - lists.blockOffsets[b]);
    for (int64_t d = 0; d < dim; ++d)
      pooled[b * dim + d] /= count;
  }
  return pooled;
}

/// VSA's coarse stage for one (batch, head): mean-pool q, k (and v) over
/// each block and score block pairs (scale * q_i . k_j). Keeps, per query
/// block, the top-k key blocks (equal scores: the lower block wins); with
/// `v`, `coarse` gets each query block's softmax of its scores times the
/// pooled v (a block's row, dv values).
static std::vector<std::vector<bool>>
selectVsaBlocks(const BlockLists &lists, ArrayRef<int64_t> blockOf,
                const double *q, const double *k, int64_t dim, double scale,
                double sparsity, const double *v, int64_t dv,
                std::vector<double> &coarse) {
  const int64_t n = lists.numBlocks();
  std::vector<double> pq = poolBlocks(lists, blockOf, q, dim),
                      pk = poolBlocks(lists, blockOf, k, dim), pv;
  if (v) {
    pv = poolBlocks(lists, blockOf, v, dv);
    coarse.assign(n * dv, 0.0);
  }
  const int64_t topK = vsaTopK(n, sparsity);
  std::vector<std::vector<bool>> kept(n, std::vector<bool>(n, false));
  std::vector<std::pair<double, int64_t>> scored(n);
  std::vector<double> score(n);
  for (int64_t i = 0; i < n; ++i) {
    double top = -kInf;
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t d = 0; d < dim; ++d)
        acc += pq[i * dim + d] * pk[j * dim + d];
      score[j] = acc * scale;
      top = std::max(top, score[j]);
      scored[j] = {-score[j], j};
    }
    if (v) {
      double sum = 0;
      for (int64_t j = 0; j < n; ++j)
        sum += (score[j] = std::exp(score[j] - top));
      for (int64_t j = 0; j < n; ++j)
        for (int64_t d = 0; d < dv; ++d)
          coarse[i * dv + d] += score[j] / sum * pv[j * dv + d];
    }
    std::sort(scored.begin(), scored.end());
    for (int64_t r = 0; r < topK; ++r)
      kept[i][scored[r].second] = true;
  }
  return kept;
}

namespace {

/// k-means of one (batch, head) slice x (seq x dim) as a video's first call
/// of semantic attention runs it: cluster c starts at token floor(c * seq /
/// clusters); each iteration assigns every token to the nearest centroid
/// (|c|^2 - 2 x.c, the lower cluster on ties) and moves each centroid to
/// its tokens' mean (an empty cluster keeps its centroid). Returns the
/// labels of the last assignment; `centroids` and `counts` follow it.
std::vector<int64_t> semanticKmeans(const double *x, int64_t seq, int64_t dim,
                                    int64_t clusters, int64_t iterations,
                                    std::vector<double> &centroids,
                                    std::vector<int64_t> &counts) {
  centroids.assign(clusters * dim, 0.0);
  for (int64_t c = 0; c < clusters; ++c)
    std::copy(x + c * seq / clusters * dim, x + (c * seq / clusters + 1) * dim,
              centroids.begin() + c * dim);
  std::vector<int64_t> labels(seq, 0);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int64_t t = 0; t < seq; ++t) {
      double best = kInf;
      for (int64_t c = 0; c < clusters; ++c) {
        double norm = 0, dot = 0;
        for (int64_t d = 0; d < dim; ++d) {
          norm += centroids[c * dim + d] * centroids[c * dim + d];
          dot += x[t * dim + d] * centroids[c * dim + d];
        }
        if (norm - 2 * dot < best) {
          best = norm - 2 * dot;
          labels[t] = c;
        }
      }
    }
    std::vector<double> sums(clusters * dim, 0.0);
    counts.assign(clusters, 0);
    for (int64_t t = 0; t < seq; ++t) {
      ++counts[labels[t]];
      for (int64_t d = 0; d < dim; ++d)
        sums[labels[t] * dim + d] += x[t * dim + d];
    }
    for (int64_t c = 0; c < clusters; ++c)
      if (counts[c])
        for (int64_t d = 0; d < dim; ++d)
          centroids[c * dim + d] = sums[c * dim + d] / double(counts[c]);
  }
  return labels;
}

/// Semantic attention's choice: kept[i][j] when query cluster i keeps key
/// cluster j. Key clusters rank by p_j = n_j exp(scale qc_i . kc_j) / sum
/// (descending, the lower index on ties) and are kept while the p of those
/// ranked higher sums to <= top_p, the first max(1, ceil(min_kept * n))
/// always; top_p >= 1 keeps all.
std::vector<std::vector<bool>>
selectSemanticClusters(ArrayRef<double> qc, ArrayRef<double> kc,
                       ArrayRef<int64_t> kCounts, int64_t dim, double scale,
                       double topP, double minKept) {
  const int64_t nq = qc.size() / dim, nk = kc.size() / dim;
  int64_t least = int64_t(std::ceil(minKept * double(nk) - 1e-4));
  least = std::min(nk, std::max<int64_t>(1, least));
  std::vector<std::vector<bool>> kept(nq, std::vector<bool>(nk, false));
  std::vector<double> p(nk);
  std::vector<int64_t> order(nk);
  for (int64_t i = 0; i < nq; ++i) {
    double top = -kInf, sum = 0;
    for (int64_t j = 0; j < nk; ++j) {
      double dot = 0;
      for (int64_t d = 0; d < dim; ++d)
        dot += qc[i * dim + d] * kc[j * dim + d];
      p[j] = scale * dot;
      top = std::max(top, p[j]);
    }
    for (int64_t j = 0; j < nk; ++j)
      sum += (p[j] = double(kCounts[j]) * std::exp(p[j] - top));
    for (int64_t j = 0; j < nk; ++j) {
      p[j] /= sum;
      order[j] = j;
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    double before = 0;
    for (int64_t r = 0; r < nk; ++r) {
      kept[i][order[r]] = topP >= 1.0 || r < least || before <= topP;
      before += p[order[r]];
    }
  }
  return kept;
}

} // namespace

LogicalResult Evaluator::evalAttention(dit::AttentionOp op) {
  const Tensor &q = get(op.getQuery()), &k = get(op.getKey()),
               &v = get(op.getValue());
  int64_t B = q.shape[0], Hq = q.shape[1], Sq = q.shape[2], D = q.shape[3];
  int64_t Hkv = k.shape[1], Skv = k.shape[2], Dv = v.shape[3];
  int64_t groupSize = Hq / Hkv;
  const Tensor *mask = op.getMask() ? &get(op.getMask()) : nullptr;
  bool boolMask = mask && mask->elementType.isInteger(1);
  std::vector<int64_t> mmap;
  if (mask)
    mmap = broadcastMap(mask->shape, {B, Hq, Sq, Skv});
  double scale = op.getScale().convertToDouble();
  bool causal = op.getIsCausal();
  // A sparse pattern keeps, per query block, the keys of its listed blocks.
  std::vector<int64_t> blockOf;
  std::vector<std::vector<bool>> kept;
  BlockLists lists;
  dit::SparsityAttr sparsity = op.getSparsityAttr();
  // Semantic attention: query token i keeps key token j when i's cluster
  // keeps j's (clusters and choice per (batch, head), a cold first call).
  bool semantic = sparsity && sparsity.getPattern() == "semantic";
  std::vector<int64_t> qLabels, kLabels;
  std::vector<std::vector<bool>> keptClusters;
  if (sparsity && !semantic) {
    lists = computeBlockLists(sparsity, *op.getGeometry());
    kept.assign(lists.numBlocks(), std::vector<bool>(lists.numBlocks(), false));
    for (int64_t b = 0; b + 1 < int64_t(lists.listOffsets.size()); ++b) {
      for (int64_t e = lists.listOffsets[b]; e < lists.listOffsets[b + 1]; ++e)
        kept[b][lists.lists[e]] = true;
    }
    // Token order[p] sits at position p, which lies in the block covering p;
    // a tile_ordered attention's tokens are already in that order.
    bool identity = lists.order.empty() || op.getTileOrdered();
    blockOf.assign(lists.blockOffsets.back(), 0);
    for (int64_t b = 0; b < lists.numBlocks(); ++b)
      for (int64_t p = lists.blockOffsets[b]; p < lists.blockOffsets[b + 1]; ++p)
        blockOf[identity ? p : lists.order[p]] = b;
  }
  bool dynamic = sparsity && sparsity.getPattern() == "vsa";
  // VSA's gate: fine + coarse * gate (coarse: per query block).
  const Tensor *gate = op.getGate() ? &get(op.getGate()) : nullptr;
  std::vector<double> coarse;
  Tensor r = make(op.getResult());
  std::vector<double> s(Skv);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      int64_t hk = h / groupSize;
      const double *kp = k.data.data() + (b * Hkv + hk) * Skv * D;
      const double *vp = v.data.data() + (b * Hkv + hk) * Skv * Dv;
      if (dynamic)
        kept = selectVsaBlocks(lists, blockOf,
                               q.data.data() + (b * Hq + h) * Sq * D, kp, D,
                               scale, sparsity.getFloat("sparsity"),
                               gate ? vp : nullptr, Dv, coarse);
      if (semantic) {
        std::vector<double> qc, kc;
        std::vector<int64_t> qCounts, kCounts;
        int64_t first = sparsity.getInt("iterations");
        qLabels = semanticKmeans(q.data.data() + (b * Hq + h) * Sq * D, Sq, D,
                                 sparsity.getInt("q_clusters"), first, qc,
                                 qCounts);
        kLabels = semanticKmeans(kp, Skv, D, sparsity.getInt("kv_clusters"),
                                 first, kc, kCounts);
        // The kernels take top_p and min_kept as floats.
        keptClusters = selectSemanticClusters(
            qc, kc, kCounts, D, scale, double(float(sparsity.getFloat("top_p"))),
            double(float(sparsity.getFloat("min_kept"))));
      }
      for (int64_t i = 0; i < Sq; ++i) {
        const double *qp = q.data.data() + ((b * Hq + h) * Sq + i) * D;
        double mx = -kInf;
        for (int64_t j = 0; j < Skv; ++j) {
          double acc = 0;
          for (int64_t d = 0; d < D; ++d)
            acc += qp[d] * kp[j * D + d];
          acc *= scale;
          if (mask) {
            double m = mask->data[mmap[((b * Hq + h) * Sq + i) * Skv + j]];
            if (boolMask)
              acc = m != 0 ? acc : -kInf;
            else
              acc += m;
          }
          if (causal && j > i)
            acc = -kInf;
          if (!kept.empty() && !kept[blockOf[i]][blockOf[j]])
            acc = -kInf;
          if (semantic && !keptClusters[qLabels[i]][kLabels[j]])
            acc = -kInf;
          s[j] = acc;
          mx = std::max(mx, acc);
        }
        double *rp = r.data.data() + ((b * Hq + h) * Sq + i) * Dv;
        if (gate)
          for (int64_t d = 0; d < Dv; ++d)
            rp[d] = coarse[blockOf[i] * Dv + d] *
                    gate->data[((b * Hq + h) * Sq + i) * Dv + d];
        if (mx == -kInf)
          continue; // every key masked: the row is zero
        double sum = 0;
        for (int64_t j = 0; j < Skv; ++j)
          sum += (s[j] = std::exp(s[j] - mx));
        for (int64_t j = 0; j < Skv; ++j) {
          double p = s[j] / sum;
          for (int64_t d = 0; d < Dv; ++d)
            rp[d] += p * vp[j * Dv + d];
        }
      }
    }
  return set(op.getResult(), std::move(r));
}

LogicalResult Evaluator::evalPad(dit::PadOp op) {
  const Tensor &x = get(op.getInput());
  Tensor r = make(op.getResult());
  std::fill(r.data.begin(), r.data.end(), op.getPaddingValue().convertToDouble());
  int64_t rank = x.shape.size();
  ArrayRef<int64_t> pads = op.getPads();
  Index inStr = stridesOf(x.shape), outStr = stridesOf(r.shape);
  // Walk the output; copy where the source index lies inside the input
  // (negative pads crop).
  for (size_t p = 0; p < r.data.size(); ++p) {
    int64_t off = 0;
    bool inside = true;
    for (int64_t d = 0; d < rank && inside; ++d) {
      int64_t i = (int64_t(p) / outStr[d]) % r.shape[d] - pads[d];
      inside = i >= 0 && i < x.shape[d];
      off += i * inStr[d];
    }
    if (inside)
      r.data[p] = x.data[off];
  }
  return set(op.getResult(), std::move(r));
}

LogicalResult Evaluator::evalGather(dit::GatherOp op) {
  const Tensor &x = get(op.getInput()), &ind = get(op.getIndices());
  int64_t axis = normAxis(op.getAxis(), x.shape.size());
  int64_t outer = product(ArrayRef<int64_t>(x.shape).take_front(axis));
  int64_t dim = x.shape[axis];
  int64_t inner = product(ArrayRef<int64_t>(x.shape).drop_front(axis + 1));
  Tensor r = make(op.getResult());
  int64_t nIdx = ind.data.size();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t t = 0; t < nIdx; ++t) {
      int64_t i = int64_t(ind.data[t]);
      if (i < 0)
        i += dim;
      if (i < 0 || i >= dim)
        return op.emitError("interpreter: gather index ")
               << int64_t(ind.data[t]) << " out of range for dimension "
               << dim;
      std::copy_n(x.data.begin() + (o * dim + i) * inner, inner,
                  r.data.begin() + (o * nIdx + t) * inner);
    }
  return set(op.getResult(), std::move(r));
}

LogicalResult Evaluator::evalScatterNd(dit::ScatterNdOp op) {
  const Tensor &x = get(op.getData()), &ind = get(op.getIndices()),
               &upd = get(op.getUpdates());
  Tensor r = make(op.getResult());
  r.data = x.data;
  int64_t depth = ind.shape.back();
  int64_t count = product(ArrayRef<int64_t>(ind.shape).drop_back());
  int64_t slice = product(ArrayRef<int64_t>(x.shape).drop_front(depth));
  Index str = stridesOf(x.shape);
  for (int64_t t = 0; t < count; ++t) {
    int64_t off = 0;
    for (int64_t d = 0; d < depth; ++d) {
      int64_t i = int64_t(ind.data[t * depth + d]);
      if (i < 0)
        i += x.shape[d];
      if (i < 0 || i >= x.shape[d])
        return op.emitError("interpreter: scatter_nd index out of range");
      off += i * str[d];
    }
    for (int64_t e = 0; e < slice; ++e)
      r.data[off + e] =
          combine(op.getReduction(), r.data[off + e], upd.data[t * slice + e]);
  }
  return set(op.getResult(), std::move(r));
}

LogicalResult Evaluator::evalScatterElements(dit::ScatterElementsOp op) {
  const Tensor &x = get(op.getData()), &ind = get(op.getIndices()),
               &upd = get(op.getUpdates());
  Tensor r = make(op.getResult());
  r.data = x.data;
  int64_t axis = normAxis(op.getAxis(), x.shape.size());
  Index str = stridesOf(x.shape), indStr = stridesOf(ind.shape);
  // Data offset of the same multi-index as each index element.
  std::vector<int64_t> same = offsets(ind.shape, str);
  for (size_t p = 0; p < ind.data.size(); ++p) {
    int64_t pos = (int64_t(p) / indStr[axis]) % ind.shape[axis];
    int64_t i = int64_t(ind.data[p]);
    if (i < 0)
      i += x.shape[axis];
    if (i < 0 || i >= x.shape[axis])
      return op.emitError("interpreter: scatter_elements index out of range");
    int64_t off = same[p] + (i - pos) * str[axis];
    r.data[off] = combine(op.getReduction(), r.data[off], upd.data[p]);
  }
  return set(op.getResult(), std::move(r));
}

double pyMod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0)))
    m += b;
  return m;
}

LogicalResult Evaluator::eval(Operation *op) {
  using namespace dit;
  auto boolOf = [](double v) { return v != 0; };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<ConstantOp>([&](ConstantOp c) -> LogicalResult {
        auto data = readElements(op, c.getValue());
        if (failed(data))
          return failure();
        Tensor t = make(c.getResult());
        t.data = std::move(*data);
        return set(c.getResult(), std::move(t));
      })
      .Case<ParamOp>([&](ParamOp p) -> LogicalResult {
        if (!p.getValue())
          return p.emitError("interpreter: parameter '")
                 << p.getName() << "' has no value";
        auto data = readElements(op, *p.getValue());
        if (failed(data))
          return failure();
        Tensor t = make(p.getResult());
        t.data = std::move(*data);
        return set(p.getResult(), std::move(t));
      })
      .Case<AddOp>([&](auto) { return binary(op, std::plus<double>()); })
      .Case<SubOp>([&](auto) { return binary(op, std::minus<double>()); })
      .Case<MulOp>([&](auto) { return binary(op, std::multiplies<double>()); })
      .Case<DivOp>([&](DivOp d) -> LogicalResult {
        bool isInt = !isFloat(d.getResult().getType().getElementType());
        bool divByZero = false;
        if (failed(binary(op, [&](double a, double b) {
              if (!isInt)
                return a / b;
              if (b == 0) {
                divByZero = true;
                return 0.0;
              }
              return std::trunc(a / b);
            })))
          return failure();
        if (divByZero)
          return d.emitError("interpreter: integer division by zero");
        return success();
      })
      .Case<PowOp>([&](auto) {
        return binary(op, [](double a, double b) { return std::pow(a, b); });
      })
      .Case<MaxOp>([&](auto) {
        return binary(op, [](double a, double b) {
          return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
        });
      })
      .Case<MinOp>([&](auto) {
        return binary(op, [](double a, double b) {
          return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
        });
      })
      .Case<ModOp>([&](ModOp m) {
        bool fmod = m.getFmod();
        return binary(op, [fmod](double a, double b) {
          return fmod ? std::fmod(a, b) : pyMod(a, b);
        });
      })
      .Case<AndOp>([&](auto) {
        return binary(op, [&](double a, double b) {
          return double(boolOf(a) && boolOf(b));
        });
      })
      .Case<OrOp>([&](auto) {
        return binary(op, [&](double a, double b) {
          return double(boolOf(a) || boolOf(b));
        });
      })
      .Case<XorOp>([&](auto) {
        return binary(op, [&](double a, double b) {
          return double(boolOf(a) != boolOf(b));
        });
      })
      .Case<CompareOp>([&](CompareOp c) {
        CmpPredicate pred = c.getPredicate();
        return binary(op, [pred](double a, double b) {
          switch (pred) {
          case CmpPredicate::eq:
            return double(a == b);
          case CmpPredicate::lt:
            return double(a < b);
          case CmpPredicate::le:
            return double(a <= b);
          case CmpPredicate::gt:
            return double(a > b);
          case CmpPredicate::ge:
            return double(a >= b);
          }
          return 0.0;
        });
      })
      .Case<ModulateOp>([&](auto) {
        return nary(op, [](const double *x) { return x[0] * (1.0 + x[2]) + x[1]; });
      })
      .Case<GatedAddOp>([&](auto) {
        return nary(op, [](const double *x) { return x[0] + x[1] * x[2]; });
      })
      .Case<WhereOp>([&](auto) {
        return nary(op, [](const double *x) { return x[0] != 0 ? x[1] : x[2]; });
      })
      .Case<SqrtOp>([&](auto) { return unary(op, [](double x) { return std::sqrt(x); }); })
      .Case<ReciprocalOp>([&](auto) { return unary(op, [](double x) { return 1.0 / x; }); })
      .Case<NegOp>([&](auto) { return unary(op, [](double x) { return -x; }); })
      .Case<AbsOp>([&](auto) { return unary(op, [](double x) { return std::fabs(x); }); })
      .Case<ExpOp>([&](auto) { return unary(op, [](double x) { return std::exp(x); }); })
      .Case<LogOp>([&](auto) { return unary(op, [](double x) { return std::log(x); }); })
      .Case<SinOp>([&](auto) { return unary(op, [](double x) { return std::sin(x); }); })
      .Case<CosOp>([&](auto) { return unary(op, [](double x) { return std::cos(x); }); })
      .Case<TanhOp>([&](auto) { return unary(op, [](double x) { return std::tanh(x); }); })
      .Case<SigmoidOp>([&](auto) {
        return unary(op, [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
      })
      .Case<ErfOp>([&](auto) { return unary(op, [](double x) { return std::erf(x); }); })
      .Case<FloorOp>([&](auto) { return unary(op, [](double x) { return std::floor(x); }); })
      .Case<CeilOp>([&](auto) { return unary(op, [](double x) { return std::ceil(x); }); })
      .Case<ReluOp>([&](auto) {
        return unary(op, [](double x) { return x > 0 ? x : (std::isnan(x) ? x : 0.0); });
      })
      .Case<NotOp>([&](auto) { return unary(op, [](double x) { return double(x == 0); }); })
      .Case<IsNanOp>([&](auto) { return unary(op, [](double x) { return double(std::isnan(x)); }); })
      .Case<CastOp>([&](auto) { return unary(op, [](double x) { return x; }); })
      .Case<GeluOp>([&](GeluOp g) {
        bool tanhApprox = g.getApproximate() == GeluApproximation::tanh;
        return unary(op, [tanhApprox](double x) {
          if (tanhApprox)
            return 0.5 * x *
                   (1.0 + std::tanh(std::sqrt(2.0 / M_PI) *
                                    (x + 0.044715 * x * x * x)));
          return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
        });
      })
      .Case<MatmulOp>([&](MatmulOp m) {
        return evalMatmul(m.getLhs(), m.getRhs(), Value(), m.getResult());
      })
      .Case<LinearOp>([&](LinearOp l) {
        return evalMatmul(l.getInput(), l.getWeight(), l.getBias(),
                          l.getResult());
      })
      .Case<GemmOp>([&](GemmOp g) { return evalGemm(g); })
      .Case<ConvOp>([&](ConvOp c) { return evalConv(c); })
      .Case<SoftmaxOp>([&](SoftmaxOp s) -> LogicalResult {
        const Tensor &x = get(s.getInput());
        Tensor r = make(s.getResult());
        int64_t axis = normAxis(s.getAxis(), x.shape.size());
        int64_t dim = x.shape[axis];
        int64_t inner = product(ArrayRef<int64_t>(x.shape).drop_front(axis + 1));
        int64_t outer = product(ArrayRef<int64_t>(x.shape).take_front(axis));
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t in = 0; in < inner; ++in) {
            int64_t base = o * dim * inner + in;
            double mx = -kInf, sum = 0;
            for (int64_t j = 0; j < dim; ++j)
              mx = std::max(mx, x.data[base + j * inner]);
            for (int64_t j = 0; j < dim; ++j)
              sum += (r.data[base + j * inner] =
                          std::exp(x.data[base + j * inner] - mx));
            for (int64_t j = 0; j < dim; ++j)
              r.data[base + j * inner] /= sum;
          }
        return set(s.getResult(), std::move(r));
      })
      .Case<LayerNormOp>([&](LayerNormOp n) {
        return evalNorm(op, n.getAxis(), n.getEpsilon().convertToDouble(),
                        n.getScale(), n.getBias(), /*rms=*/false);
      })
      .Case<RmsNormOp>([&](RmsNormOp n) {
        return evalNorm(op, n.getAxis(), n.getEpsilon().convertToDouble(),
                        n.getScale(), Value(), /*rms=*/true);
      })
      .Case<ReduceOp>([&](ReduceOp r) { return evalReduce(r); })
      .Case<RopeOp>([&](RopeOp rope) {
        const Tensor &x = get(rope.getInput());
        Tensor r = make(rope.getResult());
        int64_t d = x.shape.back(), half = d / 2;
        Index pairs(x.shape);
        pairs.back() = half;
        std::vector<int64_t> cmap = broadcastMap(get(rope.getCos()).shape, pairs);
        std::vector<int64_t> smap = broadcastMap(get(rope.getSin()).shape, pairs);
        const std::vector<double> &cos = get(rope.getCos()).data;
        const std::vector<double> &sin = get(rope.getSin()).data;
        for (size_t p = 0; p < cmap.size(); ++p) {
          int64_t row = int64_t(p) / half * d, i = int64_t(p) % half;
          int64_t a = row + (rope.getInterleaved() ? 2 * i : i);
          int64_t b = rope.getInterleaved() ? a + 1 : a + half;
          double c = cos[cmap[p]], s = sin[smap[p]];
          r.data[a] = x.data[a] * c - x.data[b] * s;
          r.data[b] = x.data[a] * s + x.data[b] * c;
        }
        return set(rope.getResult(), std::move(r));
      })
      .Case<AttentionOp>([&](AttentionOp a) { return evalAttention(a); })
      .Case<ReshapeOp>([&](ReshapeOp r) {
        Tensor t = make(r.getResult());
        t.data = get(r.getInput()).data;
        return set(r.getResult(), std::move(t));
      })
      .Case<TransposeOp>([&](TransposeOp tr) {
        const Tensor &x = get(tr.getInput());
        Tensor t = make(tr.getResult());
        Index inStr = stridesOf(x.shape), str;
        for (int64_t p : tr.getPerm())
          str.push_back(inStr[p]);
        std::vector<int64_t> map = offsets(t.shape, str);
        for (size_t i = 0; i < map.size(); ++i)
          t.data[i] = x.data[map[i]];
        return set(tr.getResult(), std::move(t));
      })
      .Case<SliceOp>([&](SliceOp s) {
        const Tensor &x = get(s.getInput());
        Tensor t = make(s.getResult());
        Index inStr = stridesOf(x.shape), str;
        int64_t base = 0;
        for (size_t d = 0; d < x.shape.size(); ++d) {
          base += s.getOffsets()[d] * inStr[d];
          str.push_back(s.getStrides()[d] * inStr[d]);
        }
        std::vector<int64_t> map = offsets(t.shape, str, base);
        for (size_t i = 0; i < map.size(); ++i)
          t.data[i] = x.data[map[i]];
        return set(s.getResult(), std::move(t));
      })
      .Case<ConcatOp>([&](ConcatOp c) {
        Tensor t = make(c.getResult());
        int64_t axis = normAxis(c.getAxis(), t.shape.size());
        int64_t outer = product(ArrayRef<int64_t>(t.shape).take_front(axis));
        int64_t inner = product(ArrayRef<int64_t>(t.shape).drop_front(axis + 1));
        int64_t outRow = t.shape[axis] * inner, at = 0;
        for (Value v : c.getInputs()) {
          const Tensor &x = get(v);
          int64_t row = x.shape[axis] * inner;
          for (int64_t o = 0; o < outer; ++o)
            std::copy_n(x.data.begin() + o * row, row,
                        t.data.begin() + o * outRow + at);
          at += row;
        }
        return set(c.getResult(), std::move(t));
      })
      .Case<BroadcastOp>([&](BroadcastOp b) {
        Tensor t = make(b.getResult());
        const Tensor &x = get(b.getInput());
        std::vector<int64_t> map = broadcastMap(x.shape, t.shape);
        for (size_t i = 0; i < map.size(); ++i)
          t.data[i] = x.data[map[i]];
        return set(b.getResult(), std::move(t));
      })
      .Case<TileOp>([&](TileOp tl) {
        // Row-major output order equals that of (r0, d0, r1, d1, ...): read
        // the input with stride 0 along each repeat axis.
        const Tensor &x = get(tl.getInput());
        Tensor t = make(tl.getResult());
        Index inStr = stridesOf(x.shape), shape, str;
        for (size_t d = 0; d < x.shape.size(); ++d) {
          shape.append({tl.getRepeats()[d], x.shape[d]});
          str.append({0, inStr[d]});
        }
        std::vector<int64_t> map = offsets(shape, str);
        for (size_t i = 0; i < map.size(); ++i)
          t.data[i] = x.data[map[i]];
        return set(tl.getResult(), std::move(t));
      })
      .Case<PadOp>([&](PadOp p) { return evalPad(p); })
      .Case<GatherOp>([&](GatherOp g) { return evalGather(g); })
      .Case<ScatterNdOp>([&](ScatterNdOp s) { return evalScatterNd(s); })
      .Case<ScatterElementsOp>(
          [&](ScatterElementsOp s) { return evalScatterElements(s); })
      .Case<ShardOp, AllToAllOp, AllGatherOp, RingAttentionOp>(
          [&](Operation *o) {
        return o->emitError("interpreter: '")
               << o->getName()
               << "' needs several ranks; the interpreter runs one (compile "
                  "with vsac and run the executable with --ranks)";
      })
      .Default([&](Operation *o) -> LogicalResult {
        return o->emitError("interpreter: unsupported op '")
               << o->getName() << "'";
      });
}

} // namespace

FailureOr<SmallVector<Tensor>> interpret(func::FuncOp func,
                                         ArrayRef<Tensor> args) {
  if (func.getBody().empty())
    return func.emitError("interpreter: function has no body");
  Block &body = func.getBody().front();
  if (args.size() != body.getNumArguments())
    return func.emitError("interpreter: expected ")
           << body.getNumArguments() << " arguments, got " << args.size();
  Evaluator ev;
  for (auto [arg, t] : llvm::zip(body.getArguments(), args)) {
    auto type = cast<RankedTensorType>(arg.getType());
    if (ArrayRef<int64_t>(t.shape) != type.getShape() ||
        int64_t(t.data.size()) != type.getNumElements())
      return func.emitError("interpreter: argument #")
             << arg.getArgNumber() << " has the wrong shape";
    Tensor copy = t;
    copy.elementType = type.getElementType();
    (void)ev.set(arg, std::move(copy));
  }
  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      SmallVector<Tensor> results;
      for (Value v : ret.getOperands())
        results.push_back(ev.get(v));
      return results;
    }
    if (failed(ev.eval(&op)))
      return failure();
  }
  return func.emitError("interpreter: function body has no return");
}

} // namespace vsa::interp

//===- TokenStream.cpp - values that carry the video token axis -----------===//

#include "vsa/Support/TokenStream.h"
#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/DitOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace vsa;


namespace vsa {


/// Token-wise ops: which operands and results carry the token axis, given
/// that `known` carries it at `axis`. Fails when the op is not token-wise
/// along it (it mixes tokens, or a side operand varies along them unseen).
class TokenRules {
public:
  /// `prefix` and `suffix`: the non-video tokens of the full sequence,
  /// which the order leaves in place.
  TokenRules(int64_t video, int64_t prefix, int64_t suffix)
      : video(video), prefix(prefix), suffix(suffix) {}

  LogicalResult links(Operation *op, Value known, int64_t axis, int kind,
                      SmallVectorImpl<TokenLink> &out) {
    this->kind = kind;
    tokens = kind == kFullSequence ? prefix + video + suffix : video;
    if (shapeOf(known)[axis] != tokens)
      return failure();
    Operation *o = op;
    auto same = [&](ValueRange full, ValueRange broadcast) {
      return elementwise(known, axis, full, broadcast, -1, out);
    };
    return llvm::TypeSwitch<Operation *, LogicalResult>(o)
        .Case<dit::SqrtOp, dit::ReciprocalOp, dit::NegOp, dit::AbsOp,
              dit::ExpOp, dit::LogOp, dit::SinOp, dit::CosOp, dit::TanhOp,
              dit::SigmoidOp, dit::ErfOp, dit::FloorOp, dit::CeilOp,
              dit::ReluOp, dit::NotOp, dit::GeluOp, dit::CastOp,
              dit::IsNanOp>([&](Operation *u) {
          return same({u->getOperand(0), u->getResult(0)}, {});
        })
        .Case<dit::AddOp, dit::SubOp, dit::MulOp, dit::DivOp, dit::PowOp,
              dit::MaxOp, dit::MinOp, dit::ModOp, dit::AndOp, dit::OrOp,
              dit::XorOp, dit::CompareOp, dit::WhereOp, dit::BroadcastOp>(
            [&](Operation *u) {
              return same({u->getResult(0)}, u->getOperands());
            })
        .Case([&](dit::ModulateOp m) {
          return same({m.getInput(), m.getResult()},
                      {m.getShift(), m.getScale()});
        })
        .Case([&](dit::GatedAddOp g) {
          return same({g.getLhs(), g.getRhs(), g.getResult()}, {g.getGate()});
        })
        .Case([&](dit::RopeOp r) { // tables broadcast to (..., D/2)
          int64_t last = int64_t(shapeOf(r.getInput()).size()) - 1;
          return elementwise(known, axis, {r.getInput(), r.getResult()},
                             {r.getCos(), r.getSin()}, last, out);
        })
        .Case([&](dit::LinearOp l) {
          int64_t last = int64_t(shapeOf(l.getInput()).size()) - 1;
          if (known != l.getInput() && known != l.getResult())
            return failure();
          return elementwise(known, axis, {l.getInput(), l.getResult()}, {},
                             last, out);
        })
        .Case([&](dit::MatmulOp m) {
          int64_t last = int64_t(shapeOf(m.getLhs()).size()) - 1;
          if (shapeOf(m.getRhs()).size() != 2 || known == m.getRhs())
            return failure();
          return elementwise(known, axis, {m.getLhs(), m.getResult()}, {},
                             last, out);
        })
        .Case<dit::LayerNormOp, dit::RmsNormOp>([&](Operation *n) {
          int64_t rank = shapeOf(n->getOperand(0)).size();
          int64_t from = n->getAttrOfType<IntegerAttr>("axis").getInt();
          if (from < 0)
            from += rank;
          if (known != n->getOperand(0) && known != n->getResult(0))
            return failure();
          if (axis >= from)
            return failure();
          return same({n->getOperand(0), n->getResult(0)}, {});
        })
        .Case([&](dit::SoftmaxOp s) {
          int64_t rank = shapeOf(s.getInput()).size();
          int64_t over = int64_t(s.getAxis());
          if (over < 0)
            over += rank;
          return elementwise(known, axis, {s.getInput(), s.getResult()}, {},
                             over, out);
        })
        .Case([&](dit::SliceOp s) {
          if (s.getStrides()[axis] != 1)
            return failure();
          int64_t offset = s.getOffsets()[axis],
                  size = shapeOf(s.getResult())[axis];
          if (offset == 0 && size == shapeOf(s.getInput())[axis])
            return same({s.getInput(), s.getResult()}, {});
          return splitVideo(s, known, axis, offset, size, out);
        })
        .Case([&](dit::ConcatOp c) {
          int64_t rank = shapeOf(c.getResult()).size();
          int64_t along = int64_t(c.getAxis());
          if (along == axis || along + rank == axis)
            return joinVideo(c, known, axis, out);
          SmallVector<Value> all(c.getInputs());
          all.push_back(c.getResult());
          return same(all, {});
        })
        .Case([&](dit::TransposeOp t) {
          ArrayRef<int64_t> perm = t.getPerm();
          if (known == t.getResult()) {
            out.push_back({t.getInput(), perm[axis], kind});
            out.push_back({t.getResult(), axis, kind});
            return success();
          }
          for (auto [i, p] : llvm::enumerate(perm))
            if (p == axis)
              out.push_back({t.getResult(), int64_t(i), kind});
          out.push_back({t.getInput(), axis, kind});
          return success();
        })
        .Case([&](dit::ReshapeOp r) -> LogicalResult {
          // Only a split or merge of the other axes keeps the token axis.
          bool forward = known == r.getInput();
          ArrayRef<int64_t> from = shapeOf(known),
                            to = shapeOf(forward ? r.getResult() : r.getInput());
          int64_t before = 1;
          for (int64_t i = 0; i < axis; ++i)
            before *= from[i];
          int64_t product = 1;
          for (int64_t b = 0; b < int64_t(to.size()); product *= to[b++])
            if (product == before && to[b] == tokens) {
              out.push_back({r.getInput(), forward ? axis : b, kind});
              out.push_back({r.getResult(), forward ? b : axis, kind});
              return success();
            }
          return failure();
        })
        .Case([&](dit::ConvOp c) -> LogicalResult {
          // Batch entries are convolved alike; tokens are mixed.
          if (!batchMode || axis != 0 ||
              (known != c.getInput() && known != c.getResult()))
            return failure();
          out.push_back({c.getInput(), 0, kind});
          out.push_back({c.getResult(), 0, kind});
          return success();
        })
        .Case([&](dit::AttentionOp a) -> LogicalResult {
          if (batchMode)
            return batchWise(a, axis, out);
          // Queries and output in one order; keys and values in one order
          // (softmax over keys does not depend on their order). Sparse
          // patterns index positions: only tile patterns being hoisted.
          // A key mask that broadcasts over the queries stays valid for a
          // seeded attention (its keys keep their order as a whole).
          if (axis != 2 || (a.getMask() && !(hoisted.contains(a) &&
                                              isKeyMask(a.getMask()))) ||
              a.getIsCausal() ||
              (a.getSparsity() && !hoisted.contains(a)) ||
              (hoisted.contains(a) && kind != kFullSequence))
            return failure();
          if (known == a.getQuery() || known == a.getResult() ||
              known == a.getGate()) {
            out.push_back({a.getQuery(), 2, kind});
            out.push_back({a.getResult(), 2, kind});
            if (Value gate = a.getGate())
              out.push_back({gate, 2, kind});
          } else {
            out.push_back({a.getKey(), 2, kind});
            out.push_back({a.getValue(), 2, kind});
          }
          if (hoisted.contains(a)) { // all of them are in the stream anyway
            for (Value v : {a.getQuery(), a.getKey(), a.getValue(),
                            a.getResult()})
              out.push_back({v, 2, kind});
            if (Value gate = a.getGate())
              out.push_back({gate, 2, kind});
          }
          return success();
        })
        .Default([](Operation *) { return failure(); });
  }

  llvm::SmallPtrSet<Operation *, 8> hoisted;
  /// A mask broadcast over the query axis ((..., 1, Skv) or a vector).
  static bool isKeyMask(Value mask) {
    ArrayRef<int64_t> m = shapeOf(mask);
    return m.size() < 2 || m[m.size() - 2] == 1;
  }

  /// The axis followed is the batch (`video` = its size): every attention
  /// is batch-wise along axis 0 of all its operands.
  bool batchMode = false;

private:
  /// Attention along the batch: q, k, v, result (and a mask that varies
  /// along it) share axis 0.
  LogicalResult batchWise(dit::AttentionOp a, int64_t axis,
                          SmallVectorImpl<TokenLink> &out) {
    if (axis != 0)
      return failure();
    SmallVector<Value, 5> sides = {a.getQuery(), a.getKey(), a.getValue(),
                                   a.getResult()};
    if (Value gate = a.getGate())
      sides.push_back(gate);
    for (Value v : sides) {
      if (shapeOf(v)[0] != tokens)
        return failure();
      out.push_back({v, 0, kind});
    }
    if (Value m = a.getMask()) {
      ArrayRef<int64_t> ms = shapeOf(m);
      int64_t at = int64_t(ms.size()) - 4; // broadcasts to (B, H, Sq, Skv)
      if (at >= 0 && ms[at] == tokens)
        out.push_back({m, at, kind});
      else if (at >= 0 && ms[at] != 1)
        return failure();
    }
    return success();
  }

  /// Whether the full sequence differs from the video tokens alone.
  bool hasText() const {
    return (prefix || suffix) && prefix != video && suffix != video;
  }

  /// concat(prefix text, video, suffix text) along the tokens: the order
  /// keeps the text in place, so permuting the video permutes the result.
  LogicalResult joinVideo(dit::ConcatOp c, Value known, int64_t axis,
                          SmallVectorImpl<TokenLink> &out) {
    SmallVector<Value> parts(c.getInputs());
    size_t at = prefix ? 1 : 0;
    if (!hasText() || parts.size() != at + 1 + (suffix ? 1 : 0) ||
        (prefix && shapeOf(parts.front())[axis] != prefix) ||
        (suffix && shapeOf(parts.back())[axis] != suffix) ||
        shapeOf(parts[at])[axis] != video ||
        (known != parts[at] && known != c.getResult()) ||
        (known == parts[at]) != (kind == kVideoSequence))
      return failure();
    out.push_back({parts[at], axis, kVideoSequence});
    out.push_back({c.getResult(), axis, kFullSequence});
    return success();
  }

  /// A slice of the full sequence: the video tokens (another stream value)
  /// or text tokens (which the order leaves in place: not in the stream).
  LogicalResult splitVideo(dit::SliceOp s, Value known, int64_t axis,
                           int64_t offset, int64_t size,
                           SmallVectorImpl<TokenLink> &out) {
    if (!hasText() || shapeOf(s.getInput())[axis] != prefix + video + suffix)
      return failure();
    if (offset == prefix && size == video) {
      if ((known == s.getResult()) != (kind == kVideoSequence))
        return failure();
      out.push_back({s.getInput(), axis, kFullSequence});
      out.push_back({s.getResult(), axis, kVideoSequence});
      return success();
    }
    bool text = offset + size <= prefix || offset >= prefix + video;
    if (!text || known != s.getInput() || kind != kFullSequence)
      return failure();
    out.push_back({s.getInput(), axis, kFullSequence});
    return success();
  }

  /// `full` values share one shape, `broadcast` ones broadcast (numpy) to
  /// it; the token axis may not be `forbidden` (an axis of `full`).
  LogicalResult elementwise(Value known, int64_t axis, ValueRange full,
                            ValueRange broadcast, int64_t forbidden,
                            SmallVectorImpl<TokenLink> &out) {
    ArrayRef<int64_t> ref = shapeOf(full.front());
    int64_t rank = ref.size(), r = -1;
    if (llvm::is_contained(full, known))
      r = axis;
    else if (llvm::is_contained(broadcast, known))
      r = axis + rank - int64_t(shapeOf(known).size());
    if (r < 0 || r >= rank || r == forbidden || ref[r] != tokens)
      return failure();
    for (Value v : full) {
      if (shapeOf(v).size() != ref.size() || shapeOf(v)[r] != tokens)
        return failure();
      out.push_back({v, r, kind});
    }
    for (Value v : broadcast) {
      int64_t i = r - (rank - int64_t(shapeOf(v).size()));
      if (i < 0 || shapeOf(v)[i] == 1)
        continue; // constant along the tokens
      if (shapeOf(v)[i] != tokens)
        return failure();
      out.push_back({v, i, kind});
    }
    return success();
  }

  int64_t video, prefix, suffix;
  int64_t tokens = 0;
  int kind = kFullSequence;
};

} // namespace vsa

namespace {

/// Whether an exit reaches the stream or an entry again.
bool exitsReenter(const TokenStream &s) {
  llvm::SmallPtrSet<Operation *, 32> seen;
  SmallVector<Operation *> reach;
  for (OpOperand *use : s.exits)
    reach.push_back(use->getOwner());
  llvm::SmallPtrSet<Operation *, 8> entryOps;
  for (Value v : s.entries)
    if (Operation *def = v.getDefiningOp())
      entryOps.insert(def);
  while (!reach.empty()) {
    Operation *op = reach.pop_back_val();
    if (!seen.insert(op).second)
      continue;
    if (s.inside.contains(op) || entryOps.contains(op))
      return true;
    for (Value r : op->getResults())
      for (Operation *user : r.getUsers())
        reach.push_back(user);
  }
  return false;
}

} // namespace

namespace {
FailureOr<TokenStream> grow(TokenRules &rules, ArrayRef<TokenLink> seeds);
} // namespace

FailureOr<TokenStream> vsa::growTokenStream(ArrayRef<TokenLink> seeds,
                                            ArrayRef<Operation *> attentions,
                                            int64_t video, int64_t prefix,
                                            int64_t suffix) {
  TokenRules rules(video, prefix, suffix);
  for (Operation *a : attentions)
    rules.hoisted.insert(a);
  return grow(rules, seeds);
}

FailureOr<TokenStream> vsa::growBatchStream(ArrayRef<Operation *> attentions,
                                            int64_t batch) {
  TokenRules rules(batch, 0, 0);
  rules.batchMode = true;
  SmallVector<TokenLink> seeds;
  for (Operation *a : attentions)
    for (Value v : a->getOperands().take_front(3))
      seeds.push_back({v, 0, kFullSequence});
  return grow(rules, seeds);
}

namespace {
FailureOr<TokenStream> grow(TokenRules &rules, ArrayRef<TokenLink> seeds) {
  TokenStream s;
  SmallVector<Value> work;
  bool conflict = false;
  auto add = [&](Value v, int64_t axis, int kind) {
    if (!isa<RankedTensorType>(v.getType())) {
      conflict = true;
      return;
    }
    auto [it, inserted] = s.values.insert({v, {axis, kind}});
    if (!inserted) {
      conflict |= it->second != std::make_pair(axis, kind);
      return;
    }
    work.push_back(v);
  };
  auto follow = [&](Operation *op, Value v, std::pair<int64_t, int> at) {
    SmallVector<TokenLink> links;
    if (failed(rules.links(op, v, at.first, at.second, links)))
      return false;
    s.inside.insert(op);
    for (const TokenLink &l : links)
      add(l.value, l.axis, l.kind);
    return true;
  };
  for (const TokenLink &seed : seeds)
    add(seed.value, seed.axis, seed.kind);
  while (!work.empty() && !conflict) {
    Value v = work.pop_back_val();
    std::pair<int64_t, int> at = s.values.lookup(v);
    Operation *def = v.getDefiningOp();
    if (!def || !follow(def, v, at))
      s.entries.insert(v);
    for (OpOperand &use : v.getUses())
      if (isa<func::ReturnOp>(use.getOwner()) ||
          !follow(use.getOwner(), v, at))
        s.exits.insert(&use);
  }
  if (conflict)
    return failure();
  // An op is inside or a boundary, never both: a use that failed from one
  // operand but whose op joined the stream from another mixes orders.
  for (OpOperand *use : s.exits)
    if (s.inside.contains(use->getOwner()))
      return failure();
  if (exitsReenter(s))
    return failure();
  return s;
}
} // namespace

//===- TokenStream.h - values that carry the video token axis --*- C++ -*-===//
//
// The token stream of a DiT: the values between the patch embedding and the
// un-patchify whose token axis every op treats alike (token-wise ops), so
// that a permutation (tile order) or a split (context parallelism) of the
// tokens commutes with them. Grown from seeds (attention operands) forwards
// and backwards through ops proven token-wise; values whose producer is not
// are entries, uses by ops that are not are exits.
//
//===----------------------------------------------------------------------===//
#ifndef VSA_SUPPORT_TOKENSTREAM_H
#define VSA_SUPPORT_TOKENSTREAM_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace vsa {

/// Which sequence a token axis indexes: the full one attention sees
/// (prefix, video, suffix) or the video tokens alone (when a concat along
/// the tokens adds text, as in CogVideoX).
enum TokenSequence : int { kFullSequence = 0, kVideoSequence = 1 };

/// A value carrying a token axis of one sequence.
struct TokenLink {
  mlir::Value value;
  int64_t axis;
  int kind;
};

class TokenRules;

/// The stream: each value with (token axis, sequence), its boundaries and
/// the ops inside it.
struct TokenStream {
  llvm::MapVector<mlir::Value, std::pair<int64_t, int>> values;
  llvm::SetVector<mlir::Value> entries;
  llvm::SetVector<mlir::OpOperand *> exits;
  llvm::SmallPtrSet<mlir::Operation *, 32> inside;
};

/// Grows the stream of a sequence of `prefix` + `video` + `suffix` tokens
/// from `seeds`. `attentions` are the self-attentions whose operands all
/// carry the full sequence (any other sparse attention stops the stream).
/// Fails when an axis conflicts, an op is both inside and a boundary, or
/// an exit reaches the stream or an entry again (a boundary in the middle
/// of the network).
mlir::FailureOr<TokenStream>
growTokenStream(llvm::ArrayRef<TokenLink> seeds,
                llvm::ArrayRef<mlir::Operation *> attentions, int64_t video,
                int64_t prefix, int64_t suffix);

/// The batch stream: the values carrying the batch axis (size `batch`),
/// grown from axis 0 of every attention's q, k and v through the same
/// token-wise rules (an op that treats batch entries alike is "token-wise"
/// along the batch) with every attention batch-wise. Its entries are the
/// function's batched inputs (and batched constants), its exits the
/// returns. Classifier-free-guidance parallelism splits it.
mlir::FailureOr<TokenStream>
growBatchStream(llvm::ArrayRef<mlir::Operation *> attentions, int64_t batch);

} // namespace vsa

#endif // VSA_SUPPORT_TOKENSTREAM_H

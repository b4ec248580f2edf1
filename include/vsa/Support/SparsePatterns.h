//===- SparsePatterns.h - block lists of sparse attention patterns -*- C++ -*-===//
//
// One place that turns a `#dit.sparsity` pattern and a `#dit.video` geometry
// into the blocks and key-block lists block-sparse attention runs on; the
// lowering stores them as constants and the interpreter evaluates the same
// lists, so both agree by construction.
//
//===----------------------------------------------------------------------===//
#ifndef VSA_SUPPORT_SPARSEPATTERNS_H
#define VSA_SUPPORT_SPARSEPATTERNS_H

#include "vsa/dialects/dit/DitDialect.h"

#include <cstdint>
#include <vector>

namespace vsa {

/// Blocks of the token sequence and, per query block, the key blocks it
/// attends to (CSR: lists[listOffsets[i] .. listOffsets[i + 1])). Shared by
/// every head and batch entry.
struct BlockLists {
  std::vector<int64_t> blockOffsets; // query and key blocks are the same
  std::vector<int64_t> listOffsets;
  std::vector<int32_t> lists;
  /// Token order the blocks refer to: position p holds token order[p]
  /// (empty: the sequence's own order). Tiles of a 3-D grid are not
  /// contiguous in (frame, row, column) order, so tile patterns permute.
  std::vector<int64_t> order;

  int64_t numBlocks() const { return int64_t(blockOffsets.size()) - 1; }
  /// Whether every query block lists every key block (dense attention).
  bool isDense() const;
};

/// The lists of `sparsity` over `geometry` at denoising step `step` (only
/// rotating frame-window depends on it). frame-window: blocks are the
/// prefix tokens, each latent frame, and the suffix tokens (empty ones
/// included). sliding-tile: the prefix, each (t, h, w) tile of the latent
/// grid in tile order (edge tiles hold fewer tokens), the suffix. vsa: the
/// tiles and the non-empty prefix/suffix, with no lists (listOffsets and
/// lists empty): they are chosen at run time (selectVsaBlocks). semantic:
/// nothing (no blocks, no order): k-means chooses clusters at run time.
BlockLists computeBlockLists(dit::SparsityAttr sparsity,
                             dit::VideoGeometryAttr geometry,
                             int64_t step = 0);

/// How many different block lists `sparsity` takes over denoising steps:
/// frame-window with `rotate = 1` moves its keyframe grid by one frame per
/// step (keyframes: frames (keyframe_offset + step) modulo the interval),
/// so it has keyframe_interval of them; every other pattern has one.
int64_t numRotations(dit::SparsityAttr sparsity);

/// Key tiles VSA keeps per query tile out of `numBlocks` at `sparsity`:
/// max(1, min(ceil((1 - sparsity) * numBlocks), numBlocks)) (the runtime's
/// vsart_vsa_top_k).
int64_t vsaTopK(int64_t numBlocks, double sparsity);

} // namespace vsa

#endif // VSA_SUPPORT_SPARSEPATTERNS_H

//===- SparsePatterns.cpp - block lists of sparse attention patterns -------===//

#include "vsa/Support/SparsePatterns.h"

#include <cstdlib>

using namespace vsa;

bool BlockLists::isDense() const {
  const int64_t n = numBlocks();
  for (int64_t i = 0; i < n; ++i)
    if (listOffsets[i + 1] - listOffsets[i] != n)
      return false;
  return true;
}

namespace {

/// Whether frame `f`'s queries keep frame `g` under frame-window rules.
bool keepsFrame(int64_t f, int64_t g, int64_t window, int64_t sink,
                int64_t interval) {
  return std::llabs(f - g) <= window || g < sink ||
         (interval > 0 && g % interval == 0);
}

} // namespace

BlockLists vsa::computeBlockLists(dit::SparsityAttr sparsity,
                                  dit::VideoGeometryAttr geometry) {
  BlockLists out;
  const int64_t frames = geometry.getT();
  const int64_t frameTokens = geometry.getH() * geometry.getW();
  // Blocks: prefix, frames 0 .. T-1, suffix.
  out.blockOffsets.push_back(0);
  out.blockOffsets.push_back(geometry.getPrefix());
  for (int64_t f = 0; f < frames; ++f)
    out.blockOffsets.push_back(out.blockOffsets.back() + frameTokens);
  out.blockOffsets.push_back(out.blockOffsets.back() + geometry.getSuffix());
  const int64_t n = out.numBlocks(), suffix = n - 1;
  const int64_t window = sparsity.getInt("window");
  const int64_t sink = sparsity.getInt("sink");
  const int64_t interval = sparsity.getInt("keyframe_interval");
  out.listOffsets.push_back(0);
  for (int64_t qb = 0; qb < n; ++qb) {
    for (int64_t kb = 0; kb < n; ++kb) {
      // Non-video tokens see and are seen by everything.
      bool keep = qb == 0 || qb == suffix || kb == 0 || kb == suffix ||
                  keepsFrame(qb - 1, kb - 1, window, sink, interval);
      if (keep)
        out.lists.push_back(int32_t(kb));
    }
    out.listOffsets.push_back(int64_t(out.lists.size()));
  }
  return out;
}

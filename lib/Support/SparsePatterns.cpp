//===- SparsePatterns.cpp - block lists of sparse attention patterns -------===//

#include "vsa/Support/SparsePatterns.h"

#include "vsart_model.h"

#include <algorithm>
#include <array>
#include <cstdlib>

using namespace vsa;

int64_t vsa::vsaTopK(int64_t numBlocks, double sparsity) {
  // The runtime's rule, so compiled code and the interpreter agree.
  return vsart_vsa_top_k(numBlocks, sparsity);
}

bool BlockLists::isDense() const {
  const int64_t n = numBlocks();
  for (int64_t i = 0; i < n; ++i)
    if (listOffsets[i + 1] - listOffsets[i] != n)
      return false;
  return true;
}

namespace {

/// Whether frame `f`'s queries keep frame `g` under frame-window rules;
/// keyframes are the frames `offset` modulo `interval`.
bool keepsFrame(int64_t f, int64_t g, int64_t window, int64_t sink,
                int64_t interval, int64_t offset) {
  return std::llabs(f - g) <= window || g < sink ||
         (interval > 0 && g % interval == offset % interval);
}

/// An optional integer parameter of `sparsity` (0 when absent).
int64_t optionalInt(dit::SparsityAttr sparsity, llvm::StringRef key) {
  auto value = sparsity.getParams().getAs<mlir::IntegerAttr>(key);
  return value ? value.getInt() : 0;
}

} // namespace

namespace {

/// Tile coordinates of each video block, in block order.
using TileCoords = std::vector<std::array<int64_t, 3>>;

/// The prefix block, each (t, h, w) tile of the latent grid in tile order
/// (edge tiles hold fewer tokens) and the suffix block, with the token order
/// that makes every block contiguous. Empty prefix/suffix blocks are kept
/// only with `keepEmpty`.
TileCoords tileBlocks(dit::VideoGeometryAttr g, const int64_t tile[3],
                      bool keepEmpty, BlockLists &out) {
  const int64_t dims[3] = {g.getT(), g.getH(), g.getW()};
  int64_t grid[3];
  for (int i = 0; i < 3; ++i)
    grid[i] = (dims[i] + tile[i] - 1) / tile[i];
  const int64_t prefix = g.getPrefix();
  for (int64_t p = 0; p < prefix; ++p)
    out.order.push_back(p);
  out.blockOffsets = {0};
  if (prefix || keepEmpty)
    out.blockOffsets.push_back(prefix);
  TileCoords coords;
  for (int64_t a = 0; a < grid[0]; ++a)
    for (int64_t b = 0; b < grid[1]; ++b)
      for (int64_t c = 0; c < grid[2]; ++c) {
        coords.push_back({a, b, c});
        for (int64_t f = a * tile[0]; f < std::min((a + 1) * tile[0], dims[0]); ++f)
          for (int64_t r = b * tile[1]; r < std::min((b + 1) * tile[1], dims[1]); ++r)
            for (int64_t q = c * tile[2]; q < std::min((c + 1) * tile[2], dims[2]); ++q)
              out.order.push_back(prefix + (f * dims[1] + r) * dims[2] + q);
        out.blockOffsets.push_back(int64_t(out.order.size()));
      }
  const int64_t video = prefix + dims[0] * dims[1] * dims[2];
  for (int64_t s = 0; s < g.getSuffix(); ++s)
    out.order.push_back(video + s);
  if (g.getSuffix() || keepEmpty)
    out.blockOffsets.push_back(int64_t(out.order.size()));
  return coords;
}

/// Sliding tile attention: each query tile keeps the key tiles within a
/// window of tiles centred on it (clamped at the grid's edges).
BlockLists slidingTileLists(dit::SparsityAttr sparsity,
                            dit::VideoGeometryAttr g) {
  const int64_t tile[3] = {sparsity.getInt("tile_t"), sparsity.getInt("tile_h"),
                           sparsity.getInt("tile_w")};
  const int64_t half[3] = {sparsity.getInt("window_t") / 2,
                           sparsity.getInt("window_h") / 2,
                           sparsity.getInt("window_w") / 2};
  BlockLists out;
  TileCoords coords = tileBlocks(g, tile, /*keepEmpty=*/true, out);
  const int64_t n = out.numBlocks(), suffix = n - 1;
  out.listOffsets.push_back(0);
  for (int64_t qb = 0; qb < n; ++qb) {
    for (int64_t kb = 0; kb < n; ++kb) {
      bool keep = qb == 0 || qb == suffix || kb == 0 || kb == suffix;
      if (!keep) {
        const auto &x = coords[qb - 1], &y = coords[kb - 1];
        keep = std::llabs(x[0] - y[0]) <= half[0] &&
               std::llabs(x[1] - y[1]) <= half[1] &&
               std::llabs(x[2] - y[2]) <= half[2];
      }
      if (keep)
        out.lists.push_back(int32_t(kb));
    }
    out.listOffsets.push_back(int64_t(out.lists.size()));
  }
  return out;
}

} // namespace

int64_t vsa::numRotations(dit::SparsityAttr sparsity) {
  if (sparsity.getPattern() != "frame-window" ||
      !optionalInt(sparsity, "rotate"))
    return 1;
  return std::max<int64_t>(1, sparsity.getInt("keyframe_interval"));
}

BlockLists vsa::computeBlockLists(dit::SparsityAttr sparsity,
                                  dit::VideoGeometryAttr geometry,
                                  int64_t step) {
  if (sparsity.getPattern() == "semantic")
    return {}; // clusters, their order and lists are all chosen at run time
  if (sparsity.getPattern() == "sliding-tile")
    return slidingTileLists(sparsity, geometry);
  if (sparsity.getPattern() == "vsa") {
    // Lists are chosen at run time; non-empty prefix/suffix blocks take part
    // in the selection like tiles.
    const int64_t tile[3] = {sparsity.getInt("tile_t"),
                             sparsity.getInt("tile_h"),
                             sparsity.getInt("tile_w")};
    BlockLists out;
    tileBlocks(geometry, tile, /*keepEmpty=*/false, out);
    return out;
  }
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
  const int64_t offset = optionalInt(sparsity, "keyframe_offset") +
                         (numRotations(sparsity) > 1 ? step : 0);
  out.listOffsets.push_back(0);
  for (int64_t qb = 0; qb < n; ++qb) {
    for (int64_t kb = 0; kb < n; ++kb) {
      // Non-video tokens see and are seen by everything.
      bool keep = qb == 0 || qb == suffix || kb == 0 || kb == suffix ||
                  keepsFrame(qb - 1, kb - 1, window, sink, interval, offset);
      if (keep)
        out.lists.push_back(int32_t(kb));
    }
    out.listOffsets.push_back(int64_t(out.lists.size()));
  }
  return out;
}

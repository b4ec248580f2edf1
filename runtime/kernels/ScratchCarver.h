// Typed arrays carved in order out of one caller-provided scratch block
// (256-byte aligned each); with a null base only the size is computed, which
// is how the *_scratch_bytes queries work.
#ifndef VSART_KERNELS_SCRATCHCARVER_H
#define VSART_KERNELS_SCRATCHCARVER_H

#include <cstddef>

namespace vsart {

class ScratchCarver {
public:
  explicit ScratchCarver(char *base) : base(base) {}

  /// p = the next `count` elements of T (nullptr when sizing only).
  template <class T> void take(T *&p, size_t count) {
    p = base ? reinterpret_cast<T *>(base + at) : nullptr;
    at += (count * sizeof(T) + 255) / 256 * 256;
  }
  size_t bytes() const { return at; }

private:
  char *base;
  size_t at = 0;
};

} // namespace vsart

#endif // VSART_KERNELS_SCRATCHCARVER_H

// Element-type helpers shared by sessions, .npy and safetensors I/O:
// bf16/f16 <-> f32 conversion, dtype names, shape strings and byte counts.
// Header-only; internal to the runtime.
#ifndef VSART_SRC_DTYPES_H
#define VSART_SRC_DTYPES_H

#include "vsart.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace vsart {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round to nearest, ties to even. NaN stays NaN (quieted, sign and the top
// payload bits kept): plain rounding could carry a NaN's payload into Inf.
inline uint16_t floatToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}
inline float bf16ToFloat(uint16_t h) { return bitsToFloat(uint32_t(h) << 16); }

inline float halfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) // zero or subnormal: mant * 2^-24, exact in float
    return std::copysign(std::ldexp(float(mant), -24), sign ? -1.0f : 1.0f);
  if (exp == 31)
    return bitsToFloat(sign | 0x7f800000u | (mant << 13));
  return bitsToFloat(sign | ((exp + 112u) << 23) | (mant << 13));
}

// Round to nearest, ties to even; overflow gives Inf, NaN stays NaN.
inline uint16_t floatToHalf(float f) {
  uint32_t u = floatBits(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  u &= 0x7fffffffu;
  if (u > 0x7f800000u)
    return uint16_t(sign | 0x7e00u | ((u >> 13) & 0x3ffu));
  if (u >= 0x477ff000u) // >= 65520: rounds to Inf
    return uint16_t(sign | 0x7c00u);
  if (u < 0x38800000u) { // below 2^-14: a half subnormal (or zero)
    // Scaling by 2^24 is exact; nearbyint rounds ties to even. A result of
    // 1024 is the smallest normal's encoding, which is also correct.
    float scaled = std::ldexp(bitsToFloat(u), 24);
    return uint16_t(sign | uint16_t(std::nearbyint(scaled)));
  }
  // Normal: round the 13 dropped mantissa bits; a carry bumps the exponent.
  u += 0xfffu + ((u >> 13) & 1u);
  return uint16_t(sign | ((u >> 13) - (112u << 10)));
}

// FP8 E4M3 (OCP "fn": no infinities, 0x7f/0xff NaN, max 448). Round to
// nearest, ties to even, saturating to +-448 like CUDA's
// __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3).
inline uint8_t floatToE4m3(float f) {
  const uint32_t bits = floatBits(f);
  const uint8_t sign = uint8_t((bits >> 24) & 0x80u);
  const uint32_t u = bits & 0x7fffffffu;
  if (u > 0x7f800000u) // NaN
    return uint8_t(sign | 0x7fu);
  if (u >= 0x43e00000u) // >= 448 (Inf included)
    return uint8_t(sign | 0x7eu);
  if (u < 0x3c800000u) // below 2^-6: a multiple of 2^-9 (8 = smallest normal)
    return uint8_t(sign | uint8_t(std::nearbyint(bitsToFloat(u) * 512.0f)));
  // Normal: round the 20 dropped mantissa bits; a carry bumps the exponent.
  const uint32_t r = u + 0x7ffffu + ((u >> 20) & 1u);
  const uint32_t code = (((r >> 23) - 120u) << 3) | ((r >> 20) & 7u);
  return uint8_t(sign | std::min<uint32_t>(code, 0x7eu)); // 480 saturates
}

inline float e4m3ToFloat(uint8_t byte) {
  const float sign = (byte & 0x80u) ? -1.0f : 1.0f;
  const int exponent = (byte >> 3) & 0xf, mant = byte & 7;
  if (exponent == 15 && mant == 7)
    return std::nanf("");
  if (exponent == 0)
    return sign * std::ldexp(float(mant), -9);
  return sign * std::ldexp(1.0f + float(mant) / 8.0f, exponent - 7);
}

// One row's scale and multiplier (vsart_cpu_quantize_rows): the row maps
// onto [-448, 448].
inline void e4m3RowScale(float absMax, float *scale, float *multiplier) {
  const bool zero = !(absMax > 0.0f) || std::isinf(absMax);
  *scale = zero ? 1.0f : absMax / 448.0f;
  *multiplier = zero ? 1.0f : 448.0f / absMax;
}

// The FP8 weight storages (bytes, then fp32 row scales), never element types.
inline bool isF8Storage(vsart_dtype_t d) {
  return d == VSART_DTYPE_F8E4M3_ROWS || d == VSART_DTYPE_F8E4M3_TENSOR;
}

inline bool isFloatDtype(vsart_dtype_t d) {
  return d == VSART_DTYPE_F32 || d == VSART_DTYPE_F16 || d == VSART_DTYPE_BF16;
}

// Reads element i of a float array of dtype `d` (F32, F16 or BF16); the
// array may be unaligned (safetensors data need not be).
inline float loadFloat(vsart_dtype_t d, const void *p, size_t i) {
  const auto *b = static_cast<const uint8_t *>(p);
  if (d == VSART_DTYPE_F32) {
    float f;
    std::memcpy(&f, b + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, b + 2 * i, 2);
  return d == VSART_DTYPE_BF16 ? bf16ToFloat(h) : halfToFloat(h);
}

inline void storeFloat(vsart_dtype_t d, void *p, size_t i, float f) {
  auto *b = static_cast<uint8_t *>(p);
  if (d == VSART_DTYPE_F32) {
    std::memcpy(b + 4 * i, &f, 4);
    return;
  }
  uint16_t h = d == VSART_DTYPE_BF16 ? floatToBf16(f) : floatToHalf(f);
  std::memcpy(b + 2 * i, &h, 2);
}

inline const char *dtypeName(vsart_dtype_t d) {
  switch (d) {
  case VSART_DTYPE_F32:
    return "f32";
  case VSART_DTYPE_F16:
    return "f16";
  case VSART_DTYPE_BF16:
    return "bf16";
  case VSART_DTYPE_I64:
    return "i64";
  case VSART_DTYPE_I32:
    return "i32";
  case VSART_DTYPE_U8:
    return "u8";
  case VSART_DTYPE_BOOL:
    return "bool";
  case VSART_DTYPE_F8E4M3_ROWS:
    return "f8e4m3 (row-scaled)";
  case VSART_DTYPE_F8E4M3_TENSOR:
    return "f8e4m3 (tensor-scaled)";
  }
  return "?";
}

// "[2, 3]"; "[]" for a scalar.
inline std::string shapeString(int32_t rank, const int64_t *dims) {
  std::string s = "[";
  for (int32_t i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

inline int64_t numElements(int32_t rank, const int64_t *dims) {
  int64_t n = 1;
  for (int32_t i = 0; i < rank; ++i)
    n *= dims[i];
  return n;
}

} // namespace vsart

#endif // VSART_SRC_DTYPES_H

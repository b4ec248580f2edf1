//===- KernelCodegen.cpp - C++/CUDA source for vrt.kernel bodies ----------===//
//
// `BodyGen::value(v, idx)` returns a C++ expression (a local or a literal)
// for element `idx` of `v`, after emitting the statements it needs.
// Data-movement ops only map the symbolic index to one of their operand;
// compute ops bind their result to a `const` local. A stack of scopes caches
// (value, index) -> local, so a value used several times is computed once,
// while statements generated inside a branch (concat, pad, where) stay in
// the branch that guards them.
//
// Around that, `KernelEmitter` writes the loops: one flat loop over the
// result (vsart_parallel_for chunks on the CPU, a grid-stride loop on CUDA),
// with a serial inner loop for a `dit.reduce` root and a second pass over
// the updates for a scatter root.
//
//===----------------------------------------------------------------------===//

#include "vsa/Target/KernelCodegen.h"

#include "vsa/dialects/dit/DitOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>
#include <functional>

using namespace mlir;
using llvm::StringRef;
using llvm::Twine;

namespace vsa::target {

int64_t storageBytes(Storage storage) {
  switch (storage) {
  case Storage::F64:
  case Storage::I64:
    return 8;
  case Storage::F32:
  case Storage::I32:
    return 4;
  case Storage::BF16:
  case Storage::F16:
    return 2;
  case Storage::I8:
  case Storage::U8:
  case Storage::Bool:
  case Storage::F8E4M3:
    return 1;
  }
  return 1;
}

StringRef storageCType(Storage storage) {
  switch (storage) {
  case Storage::F32:
    return "float";
  case Storage::F64:
    return "double";
  case Storage::BF16:
    return "__nv_bfloat16";
  case Storage::F16:
    return "__half";
  case Storage::I64:
    return "int64_t";
  case Storage::I32:
    return "int32_t";
  case Storage::I8:
    return "int8_t";
  case Storage::U8:
  case Storage::Bool:
  case Storage::F8E4M3:
    return "uint8_t";
  }
  return "float";
}

namespace {

/// Largest non-splat constant that becomes a table in the generated code.
constexpr int64_t kMaxTableElements = 65536;
/// Elements per CPU chunk and threads per CUDA block.
constexpr int64_t kCpuGrain = 4096;
constexpr int64_t kCudaBlock = 256;
constexpr int64_t kCudaMaxGrid = 1 << 20;
/// Elements per thread and step of an elementwise CUDA kernel: their loads
/// are all issued before the first store, so more bytes are in flight.
constexpr int64_t kCudaUnroll = 4;

//===----------------------------------------------------------------------===//
// Helpers every generated translation unit gets once.
//===----------------------------------------------------------------------===//

constexpr const char *kHelpers = R"cpp(#ifndef VSA_KERNEL_HELPERS
#define VSA_KERNEL_HELPERS
// Helpers of the generated kernels (emitted once per translation unit).
// Inline, not static: nvcc warns about unreferenced static functions.
#ifdef __CUDACC__
#define VSA_HD inline __host__ __device__
#else
#define VSA_HD inline
#endif
VSA_HD bool vsa_isnan(float x) { return x != x; }
VSA_HD bool vsa_isnan(double x) { return x != x; }
VSA_HD bool vsa_isnan(int64_t) { return false; }
VSA_HD bool vsa_isnan(bool) { return false; }
// max/min propagate NaN (numpy, the reference interpreter).
template <typename T> VSA_HD T vsa_max(T a, T b) {
  return vsa_isnan(a) ? a : vsa_isnan(b) ? b : (a < b ? b : a);
}
template <typename T> VSA_HD T vsa_min(T a, T b) {
  return vsa_isnan(a) ? a : vsa_isnan(b) ? b : (b < a ? b : a);
}
template <typename T> VSA_HD T vsa_relu(T x) {
  return (x > T(0) || vsa_isnan(x)) ? x : T(0);
}
VSA_HD float vsa_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
VSA_HD double vsa_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
VSA_HD float vsa_gelu_erf(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}
VSA_HD double vsa_gelu_erf(double x) {
  return 0.5 * x * (1.0 + erf(x * 0.70710678118654752));
}
VSA_HD float vsa_gelu_tanh(float x) {
  return 0.5f * x *
         (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}
VSA_HD double vsa_gelu_tanh(double x) {
  return 0.5 * x * (1.0 + tanh(0.79788456080286536 * (x + 0.044715 * x * x * x)));
}
// Integer division truncates (ONNX); a zero divisor gives 0 instead of a trap.
VSA_HD int64_t vsa_idiv(int64_t a, int64_t b) {
  return b == 0 ? 0 : b == -1 ? int64_t(0ull - uint64_t(a)) : a / b;
}
VSA_HD int64_t vsa_fmod(int64_t a, int64_t b) {
  return (b == 0 || b == -1) ? 0 : a % b;
}
VSA_HD float vsa_fmod(float a, float b) { return fmodf(a, b); }
VSA_HD double vsa_fmod(double a, double b) { return fmod(a, b); }
// Python's remainder: the result takes the divisor's sign.
template <typename T> VSA_HD T vsa_pymod(T a, T b) {
  T m = vsa_fmod(a, b);
  return (m != T(0) && ((m < T(0)) != (b < T(0)))) ? m + b : m;
}
// Exact integer power (the device's double pow may round 53^2 to 2808.99..).
VSA_HD int64_t vsa_ipow(int64_t a, int64_t b) {
  if (b < 0)
    return a == 1 ? 1 : a == -1 ? (b % 2 ? -1 : 1) : 0;
  uint64_t r = 1, x = uint64_t(a);
  for (; b > 0; b >>= 1, x *= x)
    if (b & 1)
      r *= x;
  return int64_t(r);
}
VSA_HD int64_t vsa_wrap_index(int64_t i, int64_t n) { return i < 0 ? i + n : i; }
// Gather indices wrap once, then clamp: a bad index never reads out of bounds.
VSA_HD int64_t vsa_gather_index(int64_t i, int64_t n) {
  i = vsa_wrap_index(i, n);
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}
// bf16/f16 bits <-> float for host code (round to nearest even).
inline float vsa_bf16_to_float(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}
inline uint16_t vsa_float_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((u >> 16) | 0x40u);
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
inline float vsa_f16_to_float(uint16_t h) {
  uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
  if (e == 0) {
    float v = float(m) * 5.9604644775390625e-8f;
    memcpy(&bits, &v, 4);
  } else {
    bits = e == 31 ? (0x7f800000u | (m << 13)) : (((e + 112u) << 23) | (m << 13));
  }
  bits |= uint32_t(h & 0x8000u) << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}
inline uint16_t vsa_float_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u)
    return uint16_t(sign | 0x7e00u);
  if (ax >= 0x477ff000u) // rounds to infinity
    return uint16_t(sign | 0x7c00u);
  if (ax < 0x38800000u) { // a subnormal half: a multiple of 2^-24
    float v;
    memcpy(&v, &ax, 4);
    return uint16_t(sign | uint32_t(rintf(v * 16777216.0f)));
  }
  return uint16_t(sign | ((ax + 0x0fffu + ((ax >> 13) & 1u) - 0x38000000u) >> 13));
}
// Rounds to bf16/f16 precision (dit.cast to those types).
VSA_HD float vsa_round_bf16(float x) {
#ifdef __CUDA_ARCH__
  return __bfloat162float(__float2bfloat16_rn(x));
#else
  return vsa_bf16_to_float(vsa_float_to_bf16(x));
#endif
}
VSA_HD float vsa_round_f16(float x) {
#ifdef __CUDA_ARCH__
  return __half2float(__float2half_rn(x));
#else
  return vsa_f16_to_float(vsa_float_to_f16(x));
#endif
}
#endif // VSA_KERNEL_HELPERS
)cpp";

//===----------------------------------------------------------------------===//
// Types and literals
//===----------------------------------------------------------------------===//

/// The C++ type a value is computed in.
enum class Num { F32, F64, I64, Bool };

std::optional<Num> numOf(Type t) {
  if (t.isF32() || t.isBF16() || t.isF16())
    return Num::F32;
  if (t.isF64())
    return Num::F64;
  if (t.isInteger(1))
    return Num::Bool;
  if (auto it = dyn_cast<IntegerType>(t); it && it.getWidth() <= 64)
    return Num::I64;
  return std::nullopt;
}

Type elementTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

StringRef cTypeOf(Num n) {
  switch (n) {
  case Num::F32:
    return "float";
  case Num::F64:
    return "double";
  case Num::I64:
    return "int64_t";
  case Num::Bool:
    return "bool";
  }
  return "float";
}

bool isFloat(Num n) { return n == Num::F32 || n == Num::F64; }

std::string floatLiteral(double v, bool single) {
  if (std::isnan(v))
    return single ? "NAN" : "double(NAN)";
  if (std::isinf(v))
    return std::string(v < 0 ? "-" : "") +
           (single ? "INFINITY" : "double(INFINITY)");
  char buf[40];
  std::snprintf(buf, sizeof buf, single ? "%.9g" : "%.17g",
                single ? double(float(v)) : v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  if (single)
    s += "f";
  return v < 0 ? "(" + s + ")" : s;
}

std::string intLiteral(int64_t v) {
  if (v == INT64_MIN)
    return "int64_t(-9223372036854775807 - 1)";
  return "int64_t(" + std::to_string(v) + ")";
}

/// `v` as a literal of compute type `n` (integers truncate, bool is != 0).
std::string literal(Num n, double v) {
  switch (n) {
  case Num::F32:
  case Num::F64:
    return floatLiteral(v, n == Num::F32);
  case Num::I64:
    return intLiteral(int64_t(std::trunc(v)));
  case Num::Bool:
    return v != 0 ? "true" : "false";
  }
  return "0";
}

/// Converts an expression of compute type `from` to `to`.
std::string convert(const std::string &e, Num from, Num to) {
  if (from == to)
    return e;
  if (to == Num::Bool)
    return "(" + e + " != 0)";
  return (cTypeOf(to) + "(" + e + ")").str();
}

bool isHalf(Storage s) { return s == Storage::BF16 || s == Storage::F16; }

/// C type of a stored element; the CPU has no bf16/f16 type: raw bits.
std::string storageType(Storage s, TargetKind target) {
  if (target == TargetKind::Cpu && isHalf(s))
    return "uint16_t";
  return storageCType(s).str();
}

Num storageNum(Storage s) {
  switch (s) {
  case Storage::F32:
  case Storage::BF16:
  case Storage::F16:
    return Num::F32;
  case Storage::F64:
    return Num::F64;
  case Storage::Bool:
    return Num::Bool;
  default:
    return Num::I64;
  }
}

/// A stored element (expression `e`) as compute type `n`.
std::string fromStorage(const std::string &e, Storage s, Num n,
                        TargetKind target) {
  std::string v = e;
  bool cuda = target == TargetKind::Cuda;
  if (s == Storage::BF16)
    v = (cuda ? "__bfloat162float(" : "vsa_bf16_to_float(") + e + ")";
  else if (s == Storage::F16)
    v = (cuda ? "__half2float(" : "vsa_f16_to_float(") + e + ")";
  else if (s == Storage::Bool)
    v = "(" + e + " != 0)";
  return convert(v, storageNum(s), n);
}

/// A computed value as a stored element.
std::string toStorage(const std::string &e, Num n, Storage s,
                      TargetKind target) {
  bool cuda = target == TargetKind::Cuda;
  if (s == Storage::BF16)
    return (cuda ? "__float2bfloat16_rn(" : "vsa_float_to_bf16(") +
           convert(e, n, Num::F32) + ")";
  if (s == Storage::F16)
    return (cuda ? "__float2half_rn(" : "vsa_float_to_f16(") +
           convert(e, n, Num::F32) + ")";
  if (s == Storage::Bool)
    return "uint8_t(" + e + " != 0)";
  if ((s == Storage::F32 && n == Num::F32) ||
      (s == Storage::F64 && n == Num::F64) ||
      (s == Storage::I64 && n == Num::I64))
    return e;
  return storageType(s, target) + "(" + e + ")";
}

//===----------------------------------------------------------------------===//
// Index arithmetic on C++ expressions, folding literals
//===----------------------------------------------------------------------===//

using Index = SmallVector<std::string, 6>;

bool asInt(StringRef s, int64_t &v) { return !s.getAsInteger(10, v); }

/// An identifier or an integer literal: needs no parentheses.
bool isAtom(StringRef s) {
  int64_t v;
  return asInt(s, v) ||
         (!s.empty() && llvm::all_of(s, [](char c) {
           return llvm::isAlnum(c) || c == '_';
         }));
}

std::string paren(StringRef s) {
  return isAtom(s) ? s.str() : "(" + s.str() + ")";
}

std::string idxAdd(StringRef a, int64_t c) {
  int64_t v;
  if (asInt(a, v))
    return std::to_string(v + c);
  if (c == 0)
    return a.str();
  return a.str() + (c > 0 ? " + " : " - ") + std::to_string(c > 0 ? c : -c);
}

std::string idxMul(StringRef a, int64_t c) {
  int64_t v;
  if (c == 0 || a == "0")
    return "0";
  if (asInt(a, v))
    return std::to_string(v * c);
  return c == 1 ? a.str() : paren(a) + " * " + std::to_string(c);
}

std::string idxDiv(StringRef a, int64_t c) {
  int64_t v;
  if (asInt(a, v))
    return std::to_string(v / c);
  return c == 1 ? a.str() : paren(a) + " / " + std::to_string(c);
}

std::string idxMod(StringRef a, int64_t c) {
  int64_t v;
  if (c == 1)
    return "0";
  if (asInt(a, v))
    return std::to_string(v % c);
  return paren(a) + " % " + std::to_string(c);
}

SmallVector<int64_t, 6> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t, 6> s(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

int64_t product(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Row-major offset of `idx` in `shape`.
std::string linearize(ArrayRef<std::string> idx, ArrayRef<int64_t> shape) {
  SmallVector<int64_t, 6> strides = stridesOf(shape);
  std::string sum;
  int64_t constant = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    std::string term = idxMul(idx[d], strides[d]);
    int64_t v;
    if (asInt(term, v))
      constant += v;
    else
      sum += (sum.empty() ? "" : " + ") + term;
  }
  return sum.empty() ? std::to_string(constant) : idxAdd(sum, constant);
}

/// The multi-index of row-major offset `flat` (< product(shape)) in `shape`.
Index delinearize(StringRef flat, ArrayRef<int64_t> shape) {
  SmallVector<int64_t, 6> strides = stridesOf(shape);
  Index out;
  bool outermost = true;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) {
      out.push_back("0");
      continue;
    }
    std::string e = idxDiv(flat, strides[d]);
    out.push_back(outermost ? e : idxMod(e, shape[d]));
    outermost = false;
  }
  return out;
}

/// Numpy broadcasting: the index of `from` read for element `idx` of `to`.
Index broadcastIndex(ArrayRef<std::string> idx, ArrayRef<int64_t> from,
                     ArrayRef<int64_t> to) {
  Index out;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    out.push_back(from[i] == 1 ? "0" : idx[lead + i]);
  return out;
}

int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// Whether `text` uses identifier `name`.
bool usesName(StringRef text, StringRef name) {
  auto isIdent = [](char c) { return llvm::isAlnum(c) || c == '_'; };
  for (size_t at = text.find(name); at != StringRef::npos;
       at = text.find(name, at + 1)) {
    size_t end = at + name.size();
    if ((at == 0 || !isIdent(text[at - 1])) &&
        (end == text.size() || !isIdent(text[end])))
      return true;
  }
  return false;
}

/// Drops `const T name = ...;` lines whose local is never read (an index
/// that only a broadcast dimension would have used), until none is left.
std::string pruneUnused(StringRef text) {
  SmallVector<StringRef> lines;
  text.split(lines, '\n', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < lines.size(); ++i) {
      StringRef decl = lines[i].ltrim();
      if (!decl.consume_front("const "))
        continue;
      StringRef name = decl.split(' ').second.split(' ').first;
      bool used = llvm::any_of(llvm::seq<size_t>(0, lines.size()), [&](size_t j) {
        return j != i && usesName(lines[j], name);
      });
      if (!used) {
        lines.erase(lines.begin() + i--);
        changed = true;
      }
    }
  }
  std::string out;
  for (StringRef line : lines)
    out += line.str() + "\n";
  return out;
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// Literals of a float elements attribute's values, as doubles.
std::string apFloatLiteral(APFloat v, Num n) {
  bool lost = false;
  v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return literal(n, v.convertToDouble());
}

std::string apIntLiteral(const APInt &v, Type et, Num n) {
  if (n == Num::Bool)
    return v.isZero() ? "false" : "true";
  int64_t i = et.isUnsignedInteger() ? int64_t(v.getZExtValue()) : v.getSExtValue();
  return n == Num::I64 ? intLiteral(i) : literal(n, double(i));
}

/// One literal per element of a dense_resource blob.
FailureOr<SmallVector<std::string>>
resourceLiterals(Operation *op, DenseResourceElementsAttr attr, Num n) {
  Type et = attr.getType().getElementType();
  AsmResourceBlob *blob = attr.getRawHandle().getBlob();
  int64_t count = attr.getType().getNumElements();
  unsigned width = et.isInteger(1) ? 8 : et.getIntOrFloatBitWidth();
  if (!blob || width % 8 != 0 ||
      int64_t(blob->getData().size()) != count * (width / 8))
    return op->emitOpError("has a resource blob of the wrong size or no data");
  SmallVector<std::string> out;
  const char *p = blob->getData().data();
  for (int64_t i = 0; i < count; ++i, p += width / 8) {
    uint64_t bits = 0;
    std::memcpy(&bits, p, width / 8);
    APInt ai(width, bits);
    if (auto ft = dyn_cast<FloatType>(et))
      out.push_back(apFloatLiteral(APFloat(ft.getFloatSemantics(), ai), n));
    else
      out.push_back(apIntLiteral(ai, et, n));
  }
  return out;
}

/// The constant's elements as literals (one when it is a splat).
FailureOr<SmallVector<std::string>> constantLiterals(dit::ConstantOp c, Num n) {
  ElementsAttr value = c.getValue();
  Type et = value.getElementType();
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense || !dense.isSplat()) {
    if (value.getNumElements() > kMaxTableElements)
      return c.emitOpError("has ")
             << value.getNumElements() << " elements; a generated kernel "
             << "holds constant tables of at most " << kMaxTableElements;
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(value))
    return resourceLiterals(c, res, n);
  if (!dense)
    return c.emitOpError("has an unsupported elements attribute");
  SmallVector<std::string> out;
  if (isa<FloatType>(et)) {
    for (const APFloat &v : dense.getValues<APFloat>()) {
      out.push_back(apFloatLiteral(v, n));
      if (dense.isSplat())
        break;
    }
    return out;
  }
  for (const APInt &v : dense.getValues<APInt>()) {
    out.push_back(apIntLiteral(v, et, n));
    if (dense.isSplat())
      break;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Statement writer and per-kernel state
//===----------------------------------------------------------------------===//

class Writer {
public:
  explicit Writer(int depth) : depth(depth) {}
  void line(const Twine &s) {
    text.append(2 * depth, ' ');
    text += s.str();
    text += '\n';
  }
  void open(const Twine &head) {
    line(head + " {");
    ++depth;
  }
  /// `} else ... {` inside an open block.
  void reopen(const Twine &head) {
    --depth;
    line("} " + head + " {");
    ++depth;
  }
  void close() {
    --depth;
    line("}");
  }

  int depth;
  std::string text;
};

struct KernelState {
  vrt::KernelOp op;
  TargetKind target;
  ArrayRef<Storage> inputStorage;
  Storage outputStorage;
  std::string name;
  /// File-scope definitions of constant tables.
  std::string tables;
  DenseMap<Operation *, std::string> tableOf;
  DenseMap<Value, unsigned> ids;
  unsigned values = 0, indices = 0;
  /// C type of the loop and index locals: int32_t on CUDA where every
  /// offset fits (32-bit division by constants is several times cheaper than
  /// 64-bit on the GPU), else int64_t.
  std::string indexType = "int64_t";

  bool cuda() const { return target == TargetKind::Cuda; }
  unsigned idOf(Value v) { return ids.try_emplace(v, ids.size()).first->second; }
};

//===----------------------------------------------------------------------===//
// Expressions for values at symbolic indices
//===----------------------------------------------------------------------===//

/// Statements of a branch and the expression of its value.
struct Branch {
  std::string code, value;
};

class BodyGen {
public:
  BodyGen(KernelState &k, Writer &w) : k(k), w(&w) { scopes.emplace_back(); }

  FailureOr<std::string> value(Value v, ArrayRef<std::string> idx);
  /// Binds a composite index expression to a local (cached per scope).
  std::string index(const std::string &expr);
  Index indices(ArrayRef<std::string> exprs) {
    Index out;
    for (const std::string &e : exprs)
      out.push_back(index(e));
    return out;
  }
  /// Emits `const T vN = expr; // what` and returns vN.
  std::string bind(Num n, const std::string &expr, StringRef what);
  Writer &out() { return *w; }
  void pushScope() { scopes.emplace_back(); }
  void popScope() { scopes.pop_back(); }

private:
  FailureOr<std::string> compute(Operation *op, ArrayRef<std::string> idx);
  FailureOr<std::string> load(BlockArgument arg, ArrayRef<std::string> idx);
  FailureOr<std::string> constant(dit::ConstantOp c, ArrayRef<std::string> idx);
  FailureOr<std::string> elementwise(Operation *op, ArrayRef<std::string> idx);
  FailureOr<std::string> where(dit::WhereOp op, ArrayRef<std::string> idx);
  FailureOr<std::string> concat(dit::ConcatOp op, ArrayRef<std::string> idx);
  FailureOr<std::string> pad(dit::PadOp op, ArrayRef<std::string> idx);
  FailureOr<std::string> gather(dit::GatherOp op, ArrayRef<std::string> idx);
  FailureOr<std::string> rope(dit::RopeOp op, ArrayRef<std::string> idx);
  Index reshapeIndex(ArrayRef<std::string> idx, ArrayRef<int64_t> out,
                     ArrayRef<int64_t> in);
  Index sliceIndex(dit::SliceOp op, ArrayRef<std::string> idx);
  Index tileIndex(dit::TileOp op, ArrayRef<std::string> idx);
  /// Generates `fn` into a nested block with its own scope.
  FailureOr<Branch> nested(function_ref<FailureOr<std::string>()> fn);
  /// `var = value` in an if / else-if / else chain; an empty last condition
  /// is the else branch.
  void ifChain(StringRef var, ArrayRef<std::string> conds,
               ArrayRef<Branch> branches);
  FailureOr<Num> numOfValue(Operation *op, Value v);
  std::optional<std::string> lookup(const std::string &key) const;

  KernelState &k;
  Writer *w;
  SmallVector<llvm::StringMap<std::string>> scopes;
};

std::optional<std::string> BodyGen::lookup(const std::string &key) const {
  for (const auto &scope : llvm::reverse(scopes)) {
    auto it = scope.find(key);
    if (it != scope.end())
      return it->second;
  }
  return std::nullopt;
}

std::string BodyGen::index(const std::string &expr) {
  if (isAtom(expr))
    return expr;
  std::string key = "#" + expr;
  if (auto hit = lookup(key))
    return *hit;
  std::string name = "j" + std::to_string(k.indices++);
  w->line("const " + k.indexType + " " + name + " = " + expr + ";");
  scopes.back()[key] = name;
  return name;
}

std::string BodyGen::bind(Num n, const std::string &expr, StringRef what) {
  std::string name = "v" + std::to_string(k.values++);
  w->line("const " + cTypeOf(n) + " " + name + " = " + expr + "; // " + what);
  return name;
}

FailureOr<Num> BodyGen::numOfValue(Operation *op, Value v) {
  if (std::optional<Num> n = numOf(elementTypeOf(v)))
    return *n;
  return op->emitOpError("has an unsupported element type ")
         << elementTypeOf(v) << " for a generated kernel";
}

FailureOr<std::string> BodyGen::value(Value v, ArrayRef<std::string> idx) {
  std::string key = std::to_string(k.idOf(v)) + "@" + llvm::join(idx, ",");
  if (auto hit = lookup(key))
    return *hit;
  FailureOr<std::string> r =
      isa<BlockArgument>(v) ? load(cast<BlockArgument>(v), idx)
                            : compute(v.getDefiningOp(), idx);
  if (succeeded(r))
    scopes.back()[key] = *r;
  return r;
}

FailureOr<std::string> BodyGen::load(BlockArgument arg,
                                     ArrayRef<std::string> idx) {
  FailureOr<Num> n = numOfValue(k.op, arg);
  if (failed(n))
    return failure();
  unsigned i = arg.getArgNumber();
  std::string elem =
      "in" + std::to_string(i) + "[" + linearize(idx, shapeOf(arg)) + "]";
  return bind(*n, fromStorage(elem, k.inputStorage[i], *n, k.target),
              "input " + std::to_string(i));
}

FailureOr<std::string> BodyGen::compute(Operation *op,
                                        ArrayRef<std::string> idx) {
  using namespace dit;
  return llvm::TypeSwitch<Operation *, FailureOr<std::string>>(op)
      .Case([&](ConstantOp c) { return constant(c, idx); })
      .Case([&](ReshapeOp r) {
        return value(r.getInput(), reshapeIndex(idx, shapeOf(r),
                                                shapeOf(r.getInput())));
      })
      .Case([&](TransposeOp t) {
        Index in(idx.size());
        for (auto [i, p] : llvm::enumerate(t.getPerm()))
          in[p] = idx[i];
        return value(t.getInput(), in);
      })
      .Case([&](SliceOp s) { return value(s.getInput(), sliceIndex(s, idx)); })
      .Case([&](BroadcastOp b) {
        return value(b.getInput(),
                     broadcastIndex(idx, shapeOf(b.getInput()), shapeOf(b)));
      })
      .Case([&](TileOp t) { return value(t.getInput(), tileIndex(t, idx)); })
      .Case([&](WhereOp o) { return where(o, idx); })
      .Case([&](ConcatOp o) { return concat(o, idx); })
      .Case([&](PadOp o) { return pad(o, idx); })
      .Case([&](GatherOp o) { return gather(o, idx); })
      .Case([&](RopeOp o) { return rope(o, idx); })
      .Case<ReduceOp, ScatterNdOp, ScatterElementsOp>(
          [&](Operation *o) -> FailureOr<std::string> {
            return o->emitOpError(
                "can only produce the result of a generated kernel");
          })
      .Default([&](Operation *o) -> FailureOr<std::string> {
        if (vrt::isElementwiseKernelOp(o))
          return elementwise(o, idx);
        return o->emitOpError("is not supported in a generated kernel");
      });
}

FailureOr<std::string> BodyGen::constant(dit::ConstantOp c,
                                         ArrayRef<std::string> idx) {
  FailureOr<Num> n = numOfValue(c, c.getResult());
  if (failed(n))
    return failure();
  auto it = k.tableOf.find(c);
  if (it == k.tableOf.end()) {
    FailureOr<SmallVector<std::string>> lits = constantLiterals(c, *n);
    if (failed(lits))
      return failure();
    if (lits->size() == 1)
      return lits->front();
    std::string name = k.name + "_c" + std::to_string(k.tableOf.size());
    std::string def = "// dit.constant " + std::to_string(lits->size()) +
                      " elements\nstatic " + (k.cuda() ? "__device__ " : "") +
                      "const " + cTypeOf(*n).str() + " " + name + "[" +
                      std::to_string(lits->size()) + "] = {";
    for (auto [i, lit] : llvm::enumerate(*lits))
      def += (i % 8 == 0 ? "\n    " : " ") + lit + ",";
    k.tables += def + "\n};\n";
    it = k.tableOf.try_emplace(c, name).first;
  }
  return bind(*n, it->second + "[" + linearize(idx, shapeOf(c)) + "]",
              "dit.constant");
}

Index BodyGen::reshapeIndex(ArrayRef<std::string> idx, ArrayRef<int64_t> out,
                            ArrayRef<int64_t> in) {
  // Split both shapes into groups of dims with equal products; each group
  // maps on its own (most reshapes only split or merge adjacent dims).
  Index res(in.size(), "0");
  size_t i = 0, j = 0;
  while (i < out.size() || j < in.size()) {
    size_t i0 = i, j0 = j;
    int64_t po = i < out.size() ? out[i++] : 1;
    int64_t pi = j < in.size() ? in[j++] : 1;
    while (po != pi && (i < out.size() || j < in.size())) {
      if ((po < pi && i < out.size()) || j == in.size())
        po *= out[i++];
      else
        pi *= in[j++];
    }
    ArrayRef<int64_t> inGroup = in.slice(j0, j - j0);
    std::string lin = linearize(idx.slice(i0, i - i0), out.slice(i0, i - i0));
    if (llvm::count_if(inGroup, [](int64_t d) { return d != 1; }) > 1)
      lin = index(lin);
    Index sub = indices(delinearize(lin, inGroup));
    std::copy(sub.begin(), sub.end(), res.begin() + j0);
  }
  return res;
}

Index BodyGen::sliceIndex(dit::SliceOp s, ArrayRef<std::string> idx) {
  Index in;
  for (size_t d = 0; d < idx.size(); ++d)
    in.push_back(index(idxAdd(idxMul(idx[d], s.getStrides()[d]),
                              s.getOffsets()[d])));
  return in;
}

Index BodyGen::tileIndex(dit::TileOp t, ArrayRef<std::string> idx) {
  ArrayRef<int64_t> in = shapeOf(t.getInput());
  Index out;
  for (size_t d = 0; d < idx.size(); ++d)
    out.push_back(t.getRepeats()[d] == 1 ? idx[d] : index(idxMod(idx[d], in[d])));
  return out;
}

FailureOr<Branch> BodyGen::nested(function_ref<FailureOr<std::string>()> fn) {
  Writer inner(w->depth + 1);
  Writer *outer = w;
  w = &inner;
  scopes.emplace_back();
  FailureOr<std::string> v = fn();
  scopes.pop_back();
  w = outer;
  if (failed(v))
    return failure();
  return Branch{std::move(inner.text), *v};
}

void BodyGen::ifChain(StringRef var, ArrayRef<std::string> conds,
                      ArrayRef<Branch> branches) {
  for (auto [i, b] : llvm::enumerate(branches)) {
    if (i == 0)
      w->open("if (" + conds[0] + ")");
    else if (conds[i].empty())
      w->reopen("else");
    else
      w->reopen("else if (" + conds[i] + ")");
    w->text += b.code;
    w->line(var + " = " + b.value + ";");
  }
  w->close();
}

/// Element-wise C++ for one op over operand expressions `a`.
std::optional<std::string> elementwiseExpr(Operation *op, Num n, Num in,
                                           ArrayRef<std::string> a) {
  using namespace dit;
  auto fn = [&](StringRef name) {
    return (name + (n == Num::F32 ? "f(" : "(") + a[0] + ")").str();
  };
  auto bin = [&](StringRef sep) { return a[0] + sep.str() + a[1]; };
  auto call = [&](StringRef f) {
    return (f + "(" + llvm::join(a, ", ") + ")").str();
  };
  bool isInt = n == Num::I64;
  return llvm::TypeSwitch<Operation *, std::optional<std::string>>(op)
      .Case([&](AddOp) { return bin(" + "); })
      .Case([&](SubOp) { return bin(" - "); })
      .Case([&](MulOp) { return bin(" * "); })
      .Case([&](DivOp) { return isInt ? call("vsa_idiv") : bin(" / "); })
      .Case([&](PowOp) {
        return isInt ? call("vsa_ipow")
                     : call(n == Num::F32 ? "powf" : "pow");
      })
      .Case([&](MaxOp) { return call("vsa_max"); })
      .Case([&](MinOp) { return call("vsa_min"); })
      .Case([&](ModOp m) { return call(m.getFmod() ? "vsa_fmod" : "vsa_pymod"); })
      .Case([&](AndOp) { return bin(" && "); })
      .Case([&](OrOp) { return bin(" || "); })
      .Case([&](XorOp) { return bin(" != "); })
      .Case([&](CompareOp c) {
        static const char *ops[] = {" == ", " < ", " <= ", " > ", " >= "};
        return bin(ops[static_cast<int>(c.getPredicate())]);
      })
      .Case([&](SqrtOp) { return fn("sqrt"); })
      .Case([&](ReciprocalOp) { return literal(n, 1) + " / " + a[0]; })
      .Case([&](NegOp) { return n == Num::Bool ? a[0] : "-" + a[0]; })
      .Case([&](AbsOp) {
        if (isFloat(n))
          return fn("fabs");
        return isInt ? "(" + a[0] + " < 0 ? -" + a[0] + " : " + a[0] + ")"
                     : a[0];
      })
      .Case([&](ExpOp) { return fn("exp"); })
      .Case([&](LogOp) { return fn("log"); })
      .Case([&](SinOp) { return fn("sin"); })
      .Case([&](CosOp) { return fn("cos"); })
      .Case([&](TanhOp) { return fn("tanh"); })
      .Case([&](ErfOp) { return fn("erf"); })
      .Case([&](FloorOp) { return fn("floor"); })
      .Case([&](CeilOp) { return fn("ceil"); })
      .Case([&](SigmoidOp) { return call("vsa_sigmoid"); })
      .Case([&](ReluOp) { return call("vsa_relu"); })
      .Case([&](NotOp) { return "!" + a[0]; })
      .Case([&](IsNanOp) { return call("vsa_isnan"); })
      .Case([&](GeluOp g) {
        return call(g.getApproximate() == GeluApproximation::tanh
                        ? "vsa_gelu_tanh"
                        : "vsa_gelu_erf");
      })
      .Case([&](CastOp c) {
        std::string e = convert(a[0], in, n);
        Type to = elementTypeOf(c.getResult());
        if (to.isBF16())
          return "vsa_round_bf16(" + e + ")";
        if (to.isF16())
          return "vsa_round_f16(" + e + ")";
        return e;
      })
      .Case([&](ModulateOp) {
        return a[0] + " * (" + literal(n, 1) + " + " + a[2] + ") + " + a[1];
      })
      .Case([&](GatedAddOp) { return a[0] + " + " + a[1] + " * " + a[2]; })
      .Default([](Operation *) { return std::nullopt; });
}

/// Arithmetic on i1 runs on int64 and converts back (as the interpreter).
bool isBoolArithmetic(Operation *op) {
  return isa<dit::AddOp, dit::SubOp, dit::MulOp, dit::DivOp, dit::PowOp,
             dit::MaxOp, dit::MinOp, dit::ModOp>(op) &&
         elementTypeOf(op->getResult(0)).isInteger(1);
}

FailureOr<std::string> BodyGen::elementwise(Operation *op,
                                            ArrayRef<std::string> idx) {
  FailureOr<Num> n = numOfValue(op, op->getResult(0));
  FailureOr<Num> in = numOfValue(op, op->getOperand(0));
  if (failed(n) || failed(in))
    return failure();
  bool boolArith = isBoolArithmetic(op);
  SmallVector<std::string> args;
  for (Value operand : op->getOperands()) {
    FailureOr<std::string> a = value(
        operand, broadcastIndex(idx, shapeOf(operand), shapeOf(op->getResult(0))));
    if (failed(a))
      return failure();
    args.push_back(boolArith ? "int64_t(" + *a + ")" : *a);
  }
  std::optional<std::string> e = elementwiseExpr(
      op, boolArith ? Num::I64 : *n, *in, args);
  if (!e)
    return op->emitOpError("is not supported in a generated kernel");
  return bind(*n, boolArith ? "(" + *e + " != 0)" : *e,
              op->getName().getStringRef());
}

FailureOr<std::string> BodyGen::where(dit::WhereOp op,
                                      ArrayRef<std::string> idx) {
  FailureOr<Num> n = numOfValue(op, op.getResult());
  if (failed(n))
    return failure();
  ArrayRef<int64_t> to = shapeOf(op);
  FailureOr<std::string> c = value(
      op.getCondition(), broadcastIndex(idx, shapeOf(op.getCondition()), to));
  if (failed(c))
    return failure();
  auto side = [&](Value v) {
    return nested([&] { return value(v, broadcastIndex(idx, shapeOf(v), to)); });
  };
  if (*c == "true" || *c == "false") {
    Value chosen = *c == "true" ? op.getLhs() : op.getRhs();
    return value(chosen, broadcastIndex(idx, shapeOf(chosen), to));
  }
  FailureOr<Branch> lhs = side(op.getLhs()), rhs = side(op.getRhs());
  if (failed(lhs) || failed(rhs))
    return failure();
  if (lhs->code.empty() && rhs->code.empty())
    return bind(*n, *c + " ? " + lhs->value + " : " + rhs->value, "dit.where");
  std::string var = "v" + std::to_string(k.values++);
  w->line(cTypeOf(*n) + " " + var + "; // dit.where");
  ifChain(var, {*c, ""}, {*lhs, *rhs});
  return var;
}

FailureOr<std::string> BodyGen::concat(dit::ConcatOp op,
                                       ArrayRef<std::string> idx) {
  FailureOr<Num> n = numOfValue(op, op.getResult());
  if (failed(n))
    return failure();
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), idx.size());
  const std::string &at = idx[axis];
  int64_t fixed = -1;
  bool known = asInt(at, fixed);
  SmallVector<std::string> conds;
  SmallVector<Branch> branches;
  int64_t start = 0, total = shapeOf(op)[axis];
  for (Value in : op.getInputs()) {
    int64_t size = shapeOf(in)[axis], begin = start;
    start += size;
    if (size == 0 || (known && (fixed < begin || fixed >= start)))
      continue;
    auto gen = [&]() -> FailureOr<std::string> {
      Index sub(idx.begin(), idx.end());
      sub[axis] = size == 1 ? "0" : index(idxAdd(at, -begin));
      return value(in, sub);
    };
    if (known || (begin == 0 && start == total))
      return gen(); // the only input that can hold this element
    FailureOr<Branch> b = nested(gen);
    if (failed(b))
      return failure();
    conds.push_back(start == total ? "" : at + " < " + std::to_string(start));
    branches.push_back(*b);
  }
  std::string var = "v" + std::to_string(k.values++);
  w->line(cTypeOf(*n) + " " + var + "; // dit.concat");
  ifChain(var, conds, branches);
  return var;
}

FailureOr<std::string> BodyGen::pad(dit::PadOp op, ArrayRef<std::string> idx) {
  FailureOr<Num> n = numOfValue(op, op.getResult());
  if (failed(n))
    return failure();
  std::string fill = literal(*n, op.getPaddingValue().convertToDouble());
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  if (product(in) == 0)
    return fill;
  ArrayRef<int64_t> pads = op.getPads();
  Index sub;
  SmallVector<std::string> conds;
  for (size_t d = 0; d < in.size(); ++d) {
    sub.push_back(index(idxAdd(idx[d], -pads[d])));
    int64_t v;
    if (asInt(sub.back(), v)) {
      if (v < 0 || v >= in[d])
        return fill; // statically in the padding
      continue;
    }
    if (pads[d] > 0)
      conds.push_back(sub.back() + " >= 0");
    if (pads[d + in.size()] > 0)
      conds.push_back(sub.back() + " < " + std::to_string(in[d]));
  }
  if (conds.empty())
    return value(op.getInput(), sub);
  FailureOr<Branch> b = nested([&] { return value(op.getInput(), sub); });
  if (failed(b))
    return failure();
  std::string var = "v" + std::to_string(k.values++);
  w->line(cTypeOf(*n) + " " + var + " = " + fill + "; // dit.pad");
  ifChain(var, {llvm::join(conds, " && ")}, {*b});
  return var;
}

FailureOr<std::string> BodyGen::gather(dit::GatherOp op,
                                       ArrayRef<std::string> idx) {
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  int64_t axis = normAxis(static_cast<int64_t>(op.getAxis()), in.size());
  size_t q = shapeOf(op.getIndices()).size();
  FailureOr<std::string> i =
      value(op.getIndices(), idx.slice(axis, q));
  if (failed(i))
    return failure();
  Index sub(idx.begin(), idx.begin() + axis);
  sub.push_back(in[axis] == 1 ? "0"
                              : index("vsa_gather_index(" + *i + ", " +
                                      std::to_string(in[axis]) + ")"));
  sub.append(idx.begin() + axis + q, idx.end());
  return value(op.getInput(), sub);
}

FailureOr<std::string> BodyGen::rope(dit::RopeOp op,
                                     ArrayRef<std::string> idx) {
  FailureOr<Num> n = numOfValue(op, op.getResult());
  if (failed(n))
    return failure();
  SmallVector<int64_t> pairs(shapeOf(op));
  int64_t half = pairs.back() / 2;
  pairs.back() = half;
  // Element j of the last axis is the first or second member of pair `p`,
  // whose members sit at `a` and `b`.
  const std::string &j = idx.back();
  std::string p, a, b, second;
  if (op.getInterleaved()) {
    p = index(idxDiv(j, 2));
    a = index(idxMul(p, 2));
    b = index(idxAdd(a, 1));
    second = idxMod(j, 2) + " != 0";
  } else {
    p = a = index(idxMod(j, half));
    b = index(idxAdd(a, half));
    second = j + " >= " + std::to_string(half);
  }
  Index ia(idx.begin(), idx.end()), ib(ia), ip(ia);
  ia.back() = a;
  ib.back() = b;
  ip.back() = p;
  FailureOr<std::string> x0 = value(op.getInput(), ia);
  FailureOr<std::string> x1 = value(op.getInput(), ib);
  FailureOr<std::string> c =
      value(op.getCos(), broadcastIndex(ip, shapeOf(op.getCos()), pairs));
  FailureOr<std::string> s =
      value(op.getSin(), broadcastIndex(ip, shapeOf(op.getSin()), pairs));
  if (failed(x0) || failed(x1) || failed(c) || failed(s))
    return failure();
  std::string first = *x0 + " * " + *c + " - " + *x1 + " * " + *s;
  std::string rotated = *x0 + " * " + *s + " + " + *x1 + " * " + *c;
  int64_t jv;
  if (asInt(j, jv))
    return bind(*n, (op.getInterleaved() ? jv % 2 != 0 : jv >= half) ? rotated
                                                                      : first,
                "dit.rope");
  return bind(*n, "(" + second + ") ? " + rotated + " : " + first, "dit.rope");
}

//===----------------------------------------------------------------------===//
// Loops and functions
//===----------------------------------------------------------------------===//

using ElementFn = function_ref<LogicalResult(BodyGen &, const Index &)>;

class KernelEmitter {
public:
  explicit KernelEmitter(KernelState &k) : k(k) {}
  LogicalResult emit(raw_ostream &os);

private:
  /// Statements for element `i` of a loop over `shape`: the root index
  /// locals it uses, then what `fn` generates.
  FailureOr<std::string> loopBody(ArrayRef<int64_t> shape, StringRef prefix,
                                  int depth, ElementFn fn);
  LogicalResult storeValue(BodyGen &g, Value v, const Index &idx);
  LogicalResult reduceElement(BodyGen &g, dit::ReduceOp op, const Index &idx);
  LogicalResult scatterElement(BodyGen &g, Operation *op, const Index &idx);
  FailureOr<Index> scatterDest(BodyGen &g, Operation *op, const Index &idx);
  LogicalResult checkCudaScatter(Operation *op);
  std::string cpuChunk(StringRef fn, StringRef body);
  std::string cpuSerial(StringRef fn, StringRef body);
  std::string cudaSignature(StringRef fn);
  std::string cudaKernel(StringRef fn, int64_t count, StringRef body,
                         StringRef var = "i");
  std::string cudaUnrolledKernel(StringRef fn, StringRef body);
  FailureOr<std::string> vectorLoopBody(ArrayRef<int64_t> shape, ElementFn fn);
  std::string cudaLaunch(StringRef fn, int64_t count, int64_t perBlock);
  std::string outPointer();
  int64_t grain() const;
  /// CUDA elementwise kernels (no reduce or scatter root) unroll.
  bool unrolled() const { return k.cuda() && !reduce && !scatter; }
  /// Elements per 16-byte vector store when an unrolled kernel's innermost
  /// dimension holds whole vectors (0 otherwise): a thread then computes
  /// that many consecutive elements and stores them at once.
  int64_t vectorWidth(ArrayRef<int64_t> shape) const {
    int64_t bytes = storageBytes(k.outputStorage);
    if (!unrolled() || shape.empty() || (bytes != 2 && bytes != 4))
      return 0;
    int64_t width = 16 / bytes;
    return shape.back() % width == 0 ? width : 0;
  }
  void emitCpu(raw_ostream &os, StringRef pass1, StringRef pass2);
  void emitCuda(raw_ostream &os, StringRef pass1, StringRef pass2);

  KernelState &k;
  int64_t count = 0, updates = 0;
  /// vectorWidth of the result (set by emit).
  int64_t width = 0;
  /// Where storeValue puts element i: `vsa_r[u]` in an unrolled kernel.
  std::string storeTarget = "out[i]";
  Operation *scatter = nullptr;
  dit::ReduceOp reduce;
};

FailureOr<std::string> KernelEmitter::loopBody(ArrayRef<int64_t> shape,
                                               StringRef prefix, int depth,
                                               ElementFn fn) {
  Writer body(depth);
  BodyGen g(k, body);
  Index root;
  for (size_t d = 0; d < shape.size(); ++d)
    root.push_back(shape[d] == 1 ? "0" : (prefix + Twine(d)).str());
  if (failed(fn(g, root)))
    return failure();
  Writer decls(depth);
  Index exprs = delinearize("i", shape);
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1)
      decls.line("const " + k.indexType + " " + root[d] + " = " + exprs[d] +
                 ";");
  return pruneUnused(decls.text + body.text);
}

/// The vector form's loop body for vector `g`: the outer index locals, then
/// a loop over its `width` elements whose innermost index is the vector's
/// base plus `u`, computing each into vsa_r[u], then one 16-byte store.
FailureOr<std::string> KernelEmitter::vectorLoopBody(ArrayRef<int64_t> shape,
                                                     ElementFn fn) {
  const std::string &t = k.indexType;
  size_t last = shape.size() - 1;
  Writer body(3);
  BodyGen g(k, body);
  Index root;
  for (size_t d = 0; d < shape.size(); ++d)
    root.push_back(shape[d] == 1 ? "0" : "o" + std::to_string(d));
  if (failed(fn(g, root)))
    return failure();
  SmallVector<int64_t, 6> vectors(shape);
  vectors.back() /= width;
  Index exprs = delinearize("g", vectors);
  Writer loop(2);
  for (size_t d = 0; d < last; ++d)
    if (shape[d] != 1)
      loop.line("const " + t + " " + root[d] + " = " + exprs[d] + ";");
  loop.line("const " + t + " vsa_base = " + idxMul(exprs[last], width) + ";");
  loop.line("alignas(16) " + storageType(k.outputStorage, k.target) +
            " vsa_r[" + std::to_string(width) + "];");
  loop.line("#pragma unroll");
  loop.open("for (int u = 0; u < " + std::to_string(width) + "; ++u)");
  loop.line("const " + t + " " + root[last] + " = vsa_base + u;");
  loop.text += body.text;
  loop.close();
  loop.line("*reinterpret_cast<uint4 *>(out + g * " + std::to_string(width) +
            ") = *reinterpret_cast<const uint4 *>(vsa_r);");
  return pruneUnused(loop.text);
}

LogicalResult KernelEmitter::storeValue(BodyGen &g, Value v, const Index &idx) {
  std::optional<Num> n = numOf(elementTypeOf(v));
  FailureOr<std::string> e = g.value(v, idx);
  if (failed(e))
    return failure();
  g.out().line(storeTarget + " = " +
               toStorage(*e, *n, k.outputStorage, k.target) + ";");
  return success();
}

/// Accumulator type and initial value of a reduction.
std::pair<Num, std::string> reduceInit(dit::ReduceKind kind, Num n) {
  using dit::ReduceKind;
  bool isMax = kind == ReduceKind::max, isMin = kind == ReduceKind::min;
  if (n == Num::Bool || n == Num::I64) {
    if (isMax || isMin)
      return {Num::I64, isMax ? "INT64_MIN" : "INT64_MAX"};
    return {Num::I64, kind == ReduceKind::prod ? "1" : "0"};
  }
  if (isMax || isMin)
    return {n, literal(n, isMax ? -INFINITY : INFINITY)};
  // Sums and products of floats accumulate in double.
  return {Num::F64, kind == ReduceKind::prod ? "1.0" : "0.0"};
}

LogicalResult KernelEmitter::reduceElement(BodyGen &g, dit::ReduceOp op,
                                           const Index &idx) {
  Value input = op.getInput();
  ArrayRef<int64_t> in = shapeOf(input);
  SmallVector<bool> reduced(in.size(), op.getAxes().empty());
  for (int64_t a : op.getAxes())
    reduced[normAxis(a, in.size())] = true;
  Index full(in.size(), "0");
  SmallVector<int64_t> loopShape;
  SmallVector<size_t> loopAxes;
  for (size_t d = 0, kept = 0; d < in.size(); ++d) {
    if (reduced[d]) {
      loopShape.push_back(in[d]);
      loopAxes.push_back(d);
      kept += op.getKeepdims();
    } else {
      full[d] = idx[op.getKeepdims() ? d : kept++];
    }
  }
  Num n = *numOf(elementTypeOf(input));
  auto [accNum, init] = reduceInit(op.getKind(), n);
  StringRef kind = dit::stringifyReduceKind(op.getKind());
  Writer &w = g.out();
  w.line(cTypeOf(accNum) + " acc = " + init + "; // dit.reduce " + kind);
  int64_t m = product(loopShape);
  if (m > 0) {
    w.open("for (int64_t r = 0; r < " + Twine(m) + "; ++r)");
    g.pushScope();
    Index loop = g.indices(delinearize("r", loopShape));
    for (auto [a, d] : llvm::enumerate(loopAxes))
      full[d] = loop[a];
    FailureOr<std::string> v = g.value(input, full);
    if (failed(v))
      return failure();
    std::string x = convert(*v, n, accNum);
    if (kind == "max" || kind == "min")
      w.line("acc = (vsa_isnan(" + x + ") || " + x +
             (kind == "max" ? " > " : " < ") + "acc) ? " + x + " : acc;");
    else
      w.line(Twine("acc ") + (kind == "prod" ? "*= " : "+= ") + x + ";");
    g.popScope();
    w.close();
  }
  std::string result = "acc";
  if (kind == "mean" && n != Num::Bool)
    result = m > 0 ? "acc / " + literal(accNum, double(m))
                   : literal(accNum, isFloat(accNum) ? NAN : 0); // 0 / 0
  std::string e = g.bind(n, convert(result, accNum, n), "dit.reduce result");
  w.line("out[i] = " + toStorage(e, n, k.outputStorage, k.target) + ";");
  return success();
}

dit::ScatterReduction scatterReduction(Operation *op) {
  if (auto nd = dyn_cast<dit::ScatterNdOp>(op))
    return nd.getReduction();
  return cast<dit::ScatterElementsOp>(op).getReduction();
}

FailureOr<Index> KernelEmitter::scatterDest(BodyGen &g, Operation *op,
                                            const Index &idx) {
  ArrayRef<int64_t> data = shapeOf(op->getResult(0));
  Value indices = op->getOperand(1);
  Index dest(idx.begin(), idx.end());
  SmallVector<std::string> bad;
  auto wrap = [&](const std::string &i, int64_t dim) {
    std::string j = g.index("vsa_wrap_index(" + i + ", " + std::to_string(dim) + ")");
    bad.push_back(j + " < 0 || " + j + " >= " + std::to_string(dim));
    return j;
  };
  if (auto nd = dyn_cast<dit::ScatterNdOp>(op)) {
    size_t lead = shapeOf(indices).size() - 1;
    int64_t depth = shapeOf(indices).back();
    dest.clear();
    for (int64_t d = 0; d < depth; ++d) {
      Index at(idx.begin(), idx.begin() + lead);
      at.push_back(std::to_string(d));
      FailureOr<std::string> i = g.value(indices, at);
      if (failed(i))
        return failure();
      dest.push_back(wrap(*i, data[d]));
    }
    dest.append(idx.begin() + lead, idx.end());
  } else {
    auto se = cast<dit::ScatterElementsOp>(op);
    int64_t axis = normAxis(static_cast<int64_t>(se.getAxis()), data.size());
    FailureOr<std::string> i = g.value(indices, idx);
    if (failed(i))
      return failure();
    dest[axis] = wrap(*i, data[axis]);
  }
  g.out().open("if (" + llvm::join(bad, " || ") + ")");
  g.out().line(k.cuda() ? "continue; // out of range: skipped"
                        : "ok = false; // out of range: reported after the loop");
  if (!k.cuda())
    g.out().line("continue;");
  g.out().close();
  return dest;
}

LogicalResult KernelEmitter::scatterElement(BodyGen &g, Operation *op,
                                            const Index &idx) {
  FailureOr<Index> dest = scatterDest(g, op, idx);
  if (failed(dest))
    return failure();
  Value upd = op->getOperand(2);
  Num n = *numOf(elementTypeOf(upd));
  FailureOr<std::string> u = g.value(upd, idx);
  if (failed(u))
    return failure();
  std::string at = g.index(linearize(*dest, shapeOf(op->getResult(0))));
  auto red = scatterReduction(op);
  Writer &w = g.out();
  std::string what = ("// " + op->getName().getStringRef() + " " +
                      dit::stringifyScatterReduction(red)).str();
  if (red == dit::ScatterReduction::none) {
    w.line("out[" + at + "] = " + toStorage(*u, n, k.outputStorage, k.target) +
           "; " + what);
    return success();
  }
  if (k.cuda()) {
    std::string v = toStorage(*u, n, k.outputStorage, k.target);
    if (k.outputStorage == Storage::I64)
      w.line("atomicAdd(reinterpret_cast<unsigned long long *>(out + " + at +
             "), (unsigned long long)" + v + "); " + what);
    else
      w.line("atomicAdd(out + " + at + ", " + v + "); " + what);
    return success();
  }
  std::string old = g.bind(
      n, fromStorage("out[" + at + "]", k.outputStorage, n, k.target),
      "current output (" + what.substr(3) + ")");
  std::string combined =
      red == dit::ScatterReduction::add   ? old + " + " + *u
      : red == dit::ScatterReduction::mul ? old + " * " + *u
      : red == dit::ScatterReduction::max
          ? "(" + old + " < " + *u + " ? " + *u + " : " + old + ")"
          : "(" + *u + " < " + old + " ? " + *u + " : " + old + ")";
  w.line("out[" + at + "] = " + toStorage(combined, n, k.outputStorage, k.target) +
         ";");
  return success();
}

/// scatter_elements writes element p of the updates to p with the axis
/// index replaced: other dims of the indices must fit in the data (the
/// verifier only checks the rank).
LogicalResult checkScatterShapes(Operation *op) {
  auto se = dyn_cast<dit::ScatterElementsOp>(op);
  if (!se)
    return success();
  ArrayRef<int64_t> data = shapeOf(se.getData()), ind = shapeOf(se.getIndices());
  int64_t axis = normAxis(static_cast<int64_t>(se.getAxis()), data.size());
  for (size_t d = 0; d < data.size(); ++d)
    if (int64_t(d) != axis && ind[d] > data[d])
      return op->emitOpError("indices dim ")
             << d << " (" << ind[d] << ") exceeds the data's (" << data[d]
             << ")";
  return success();
}

LogicalResult KernelEmitter::checkCudaScatter(Operation *op) {
  auto red = scatterReduction(op);
  if (red == dit::ScatterReduction::none)
    return success();
  if (red != dit::ScatterReduction::add)
    return op->emitOpError("with reduction '")
           << dit::stringifyScatterReduction(red)
           << "' is not supported by the CUDA kernel generator (none and add "
              "are)";
  Storage s = k.outputStorage;
  if (s == Storage::I8 || s == Storage::U8 || s == Storage::Bool)
    return op->emitOpError("with reduction 'add' needs a CUDA atomicAdd on ")
           << storageCType(s) << " storage, which does not exist";
  return success();
}

std::string KernelEmitter::outPointer() {
  std::string t = storageType(k.outputStorage, k.target);
  return t + " *out = static_cast<" + t + " *>(";
}

int64_t KernelEmitter::grain() const {
  if (!reduce)
    return kCpuGrain;
  dit::ReduceOp r = reduce;
  int64_t m = product(shapeOf(r.getInput())) / std::max<int64_t>(count, 1);
  return std::max<int64_t>(1, kCpuGrain / std::max<int64_t>(m, 1));
}

/// Pointer locals for the inputs `body` reads, from `array`.
std::string inputDecls(KernelState &k, StringRef body, StringRef array) {
  std::string s;
  for (auto [i, st] : llvm::enumerate(k.inputStorage)) {
    std::string name = "in" + std::to_string(i);
    if (!usesName(body, name))
      continue;
    std::string t = storageType(st, k.target);
    s += "  const " + t + " *" + name + " = static_cast<const " + t + " *>(" +
         array.str() + "[" + std::to_string(i) + "]);\n";
  }
  return s;
}

std::string KernelEmitter::cpuChunk(StringRef fn, StringRef body) {
  std::string s = "static void " + fn.str() +
                  "(void *ctx, int64_t begin, int64_t end) {\n"
                  "  const " + k.name + "_args *args = static_cast<const " +
                  k.name + "_args *>(ctx);\n";
  s += inputDecls(k, body, "args->inputs");
  s += "  " + outPointer() + "args->output);\n";
  s += "  for (int64_t i = begin; i < end; ++i) {\n" + body.str() + "  }\n}\n";
  return s;
}

std::string KernelEmitter::cpuSerial(StringRef fn, StringRef body) {
  std::string s = "// Serial, so repeated indices combine in a fixed order.\n"
                  "static bool " + fn.str() +
                  "(const void *const *inputs, void *output) {\n"
                  "  (void)inputs;\n";
  s += inputDecls(k, body, "inputs");
  s += "  " + outPointer() + "output);\n  bool ok = true;\n";
  s += "  for (int64_t i = 0; i < " + std::to_string(updates) + "; ++i) {\n" +
       body.str() + "  }\n  return ok;\n}\n";
  return s;
}

/// `__global__ void fn(const T *__restrict__ in0, ..., T *out) {`.
std::string KernelEmitter::cudaSignature(StringRef fn) {
  std::string s = "__global__ void __launch_bounds__(" +
                  std::to_string(kCudaBlock) + ") " + fn.str() + "(";
  for (auto [i, st] : llvm::enumerate(k.inputStorage))
    s += "const " + storageType(st, k.target) + " *__restrict__ in" +
         std::to_string(i) + ", ";
  return s + storageType(k.outputStorage, k.target) + " *out) {\n";
}

/// One thread per `var` in [0, n), grid-stride.
std::string KernelEmitter::cudaKernel(StringRef fn, int64_t n, StringRef body,
                                      StringRef var) {
  const std::string &t = k.indexType;
  std::string v = var.str();
  return cudaSignature(fn) + "  for (" + t + " " + v + " = " + t +
         "(blockIdx.x) * blockDim.x + threadIdx.x; " + v + " < " +
         std::to_string(n) + ";\n       " + v + " += " + t +
         "(blockDim.x) * gridDim.x) {\n" + body.str() + "  }\n}\n";
}

/// Elementwise form: each block step covers kCudaUnroll * kCudaBlock
/// elements, thread t the ones at t + u * kCudaBlock (coalesced for each u);
/// the results wait in registers until every element's loads were issued.
std::string KernelEmitter::cudaUnrolledKernel(StringRef fn, StringRef body) {
  const std::string &t = k.indexType;
  std::string n = std::to_string(count), step = std::to_string(kCudaUnroll * kCudaBlock);
  std::string u = std::to_string(kCudaUnroll), block = std::to_string(kCudaBlock);
  std::string s = cudaSignature(fn);
  s += "  for (" + t + " b = " + t + "(blockIdx.x) * " + step + "; b < " + n +
       "; b += " + t + "(gridDim.x) * " + step + ") {\n";
  s += "    " + storageType(k.outputStorage, k.target) + " vsa_r[" + u + "];\n";
  s += "#pragma unroll\n    for (int u = 0; u < " + u + "; ++u) {\n";
  s += "      const " + t + " i = b + u * " + block + " + " + t +
       "(threadIdx.x);\n      if (i >= " + n + ")\n        break;\n";
  s += body.str();
  s += "    }\n#pragma unroll\n    for (int u = 0; u < " + u + "; ++u) {\n";
  s += "      const " + t + " i = b + u * " + block + " + " + t +
       "(threadIdx.x);\n      if (i < " + n + ")\n        out[i] = vsa_r[u];\n";
  s += "    }\n  }\n}\n";
  return s;
}

std::string KernelEmitter::cudaLaunch(StringRef fn, int64_t n, int64_t perBlock) {
  int64_t grid = std::min<int64_t>((n + perBlock - 1) / perBlock, kCudaMaxGrid);
  std::string s = "  " + fn.str() + "<<<" + std::to_string(grid) + ", " +
                  std::to_string(kCudaBlock) + ", 0, s>>>(";
  for (auto [i, st] : llvm::enumerate(k.inputStorage))
    s += "static_cast<const " + storageType(st, k.target) + " *>(inputs[" +
         std::to_string(i) + "]), ";
  std::string t = storageType(k.outputStorage, k.target);
  return s + "static_cast<" + t + " *>(output));\n";
}

void KernelEmitter::emitCpu(raw_ostream &os, StringRef pass1,
                            StringRef pass2) {
  const std::string &n = k.name;
  os << "struct " << n << "_args {\n  const void *const *inputs;\n"
     << "  void *output;\n};\n";
  if (!pass1.empty())
    os << cpuChunk(n + "_chunk", pass1);
  if (!pass2.empty())
    os << cpuSerial(n + "_scatter", pass2);
  os << "static vsart_status_t " << n
     << "(const void *const *inputs, void *output, void *stream) {\n"
     << "  (void)stream;\n";
  if (pass1.empty())
    os << "  (void)inputs;\n  (void)output;\n";
  else
    os << "  " << n << "_args args = {inputs, output};\n"
       << "  vsart_parallel_for(" << count << ", " << grain() << ", " << n
       << "_chunk, &args);\n";
  if (!pass2.empty())
    os << "  if (!" << n << "_scatter(inputs, output))\n"
       << "    return VSART_ERROR_INVALID_ARGUMENT;\n";
  os << "  return VSART_OK;\n}\n";
}

void KernelEmitter::emitCuda(raw_ostream &os, StringRef pass1,
                             StringRef pass2) {
  const std::string &n = k.name;
  if (!pass1.empty())
    // The vector form: one thread per 16-byte vector `g` of the output.
    os << (width      ? cudaKernel(n + "_kernel", count / width, pass1, "g")
           : unrolled() ? cudaUnrolledKernel(n + "_kernel", pass1)
                        : cudaKernel(n + "_kernel", count, pass1));
  if (!pass2.empty())
    os << cudaKernel(n + "_scatter_kernel", updates, pass2);
  os << "static vsart_status_t " << n
     << "(const void *const *inputs, void *output, void *stream) {\n";
  if (pass1.empty() && pass2.empty()) {
    os << "  (void)inputs;\n  (void)output;\n  (void)stream;\n"
       << "  return VSART_OK;\n}\n";
    return;
  }
  if (k.inputStorage.empty())
    os << "  (void)inputs;\n";
  os << "  cudaStream_t s = static_cast<cudaStream_t>(stream);\n";
  if (!pass1.empty())
    os << cudaLaunch(n + "_kernel", count,
                     width        ? width * kCudaBlock
                     : unrolled() ? kCudaUnroll * kCudaBlock
                                  : kCudaBlock);
  if (!pass2.empty())
    os << "  // Same stream: the updates see all of the data.\n"
       << cudaLaunch(n + "_scatter_kernel", updates, kCudaBlock);
  os << "  if (cudaGetLastError() != cudaSuccess)\n"
     << "    return VSART_ERROR_INVALID_ARGUMENT;\n  return VSART_OK;\n}\n";
}

LogicalResult KernelEmitter::emit(raw_ostream &os) {
  Value y = k.op.getYielded();
  ArrayRef<int64_t> shape = shapeOf(y);
  count = product(shape);
  Operation *def = y.getDefiningOp();
  reduce = dyn_cast_or_null<dit::ReduceOp>(def);
  if (isa_and_nonnull<dit::ScatterNdOp, dit::ScatterElementsOp>(def)) {
    scatter = def;
    updates = product(shapeOf(def->getOperand(2)));
    if (failed(checkScatterShapes(def)) ||
        (k.cuda() && failed(checkCudaScatter(def))))
      return failure();
  }
  if (!numOf(elementTypeOf(y)))
    return k.op.emitOpError("has an unsupported result element type ")
           << elementTypeOf(y);
  // Pass 1 writes every output element (a scatter's data); pass 2 applies
  // a scatter's updates.
  std::string pass1, pass2;
  if (unrolled())
    storeTarget = "vsa_r[u]";
  width = vectorWidth(shape);
  if (count > 0) {
    Value first = scatter ? scatter->getOperand(0) : y;
    auto element = [&](BodyGen &g, const Index &idx) {
      return reduce ? reduceElement(g, reduce, idx) : storeValue(g, first, idx);
    };
    FailureOr<std::string> body =
        width ? vectorLoopBody(shape, element)
                           : loopBody(shape, "o", unrolled() ? 3 : 2, element);
    if (failed(body))
      return failure();
    pass1 = *body;
  }
  if (scatter && updates > 0) {
    FailureOr<std::string> body = loopBody(
        shapeOf(scatter->getOperand(2)), "p", 2,
        [&](BodyGen &g, const Index &idx) { return scatterElement(g, scatter, idx); });
    if (failed(body))
      return failure();
    pass2 = *body;
  }
  os << kHelpers << "\n// vrt.kernel \"" << k.name << "\" -> " << y.getType()
     << ", stored as " << storageType(k.outputStorage, k.target)
     << (k.cuda() ? " (CUDA)\n" : " (CPU)\n");
  os << k.tables;
  if (k.cuda())
    emitCuda(os, pass1, pass2);
  else
    emitCpu(os, pass1, pass2);
  return success();
}

} // namespace

namespace {

/// Whether 32-bit index arithmetic is exact for `op`'s CUDA kernel: every
/// tensor of the region (so every coordinate and offset) has at most 2^30
/// elements, which also keeps the grid-stride loop's `i + stride` in range,
/// and no index comes from data (gather, scatter).
bool narrowIndicesFit(vrt::KernelOp op) {
  constexpr int64_t kLimit = int64_t(1) << 30;
  auto fits = [&](Type t) {
    auto r = dyn_cast<RankedTensorType>(t);
    return !r || (r.hasStaticShape() && r.getNumElements() <= kLimit);
  };
  for (Value v : op.getInputs())
    if (!fits(v.getType()))
      return false;
  bool ok = true;
  op.getBody().walk([&](Operation *inner) {
    if (isa<dit::GatherOp, dit::ScatterNdOp, dit::ScatterElementsOp>(inner))
      ok = false;
    for (Type t : inner->getResultTypes())
      ok = ok && fits(t);
  });
  return ok;
}

} // namespace

LogicalResult emitKernel(vrt::KernelOp op, TargetKind target,
                         ArrayRef<Storage> inputStorage, Storage outputStorage,
                         raw_ostream &os) {
  if (inputStorage.size() != op.getInputs().size())
    return op.emitOpError("has ")
           << op.getInputs().size() << " inputs but " << inputStorage.size()
           << " input storage types were given";
  StringRef name = op.getSymName();
  if (name.empty() || llvm::isDigit(name[0]) ||
      !llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; }))
    return op.emitOpError("name '")
           << name << "' is not a C identifier; it names the generated function";
  KernelState state;
  state.op = op;
  state.target = target;
  if (target == TargetKind::Cuda && narrowIndicesFit(op))
    state.indexType = "int32_t";
  state.inputStorage = inputStorage;
  state.outputStorage = outputStorage;
  state.name = name.str();
  return KernelEmitter(state).emit(os);
}

} // namespace vsa::target

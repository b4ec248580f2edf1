// .npy reading and writing. The header is a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }; it is parsed
// by a small scanner that accepts exactly what numpy writes (and rejects
// anything else with a message, never by crashing).
#include "Npy.h"

#include "DTypes.h"
#include "Internal.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace vsart {
namespace npy {
namespace {

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

vsart_status_t bad(const std::string &what, const std::string &why) {
  return fail(VSART_ERROR_INVALID_FORMAT, what + ": " + why);
}

// Scanner over the header dict.
class HeaderParser {
public:
  HeaderParser(const std::string &text, const std::string &what)
      : s_(text), what_(what) {}

  vsart_status_t parse(Array *out) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    bool fortran = false;
    skipSpace();
    if (!eat('{'))
      return err("header is not a dict");
    while (skipSpace(), !eat('}')) {
      std::string key;
      if (!parseString(&key) || (skipSpace(), !eat(':')))
        return err("malformed header dict");
      skipSpace();
      if (key == "descr" && !haveDescr) {
        if (!parseString(&out->descr))
          return err("'descr' is not a string (structured dtypes are not "
                     "supported)");
        haveDescr = true;
      } else if (key == "fortran_order" && !haveOrder) {
        if (!parseBool(&fortran))
          return err("'fortran_order' is not True or False");
        haveOrder = true;
      } else if (key == "shape" && !haveShape) {
        if (vsart_status_t st = parseShape(&out->shape))
          return st;
        haveShape = true;
      } else {
        return err("unexpected or repeated header key '" + key + "'");
      }
      skipSpace();
      if (!eat(',') && (skipSpace(), peek() != '}'))
        return err("malformed header dict");
    }
    skipSpace();
    if (pos_ != s_.size())
      return err("trailing characters after the header dict");
    if (!haveDescr || !haveOrder || !haveShape)
      return err("header lacks 'descr', 'fortran_order' or 'shape'");
    if (fortran)
      return err("fortran_order arrays are not supported (save a C-order "
                 "array, e.g. np.ascontiguousarray)");
    return VSART_OK;
  }

private:
  const std::string &s_;
  const std::string &what_;
  size_t pos_ = 0;

  vsart_status_t err(const std::string &why) { return bad(what_, why); }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool eat(char c) {
    if (peek() != c || pos_ >= s_.size())
      return false;
    ++pos_;
    return true;
  }
  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool parseString(std::string *out) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return false;
    size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string::npos)
      return false;
    *out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return true;
  }
  bool parseWord(const char *word) {
    size_t n = std::strlen(word);
    if (s_.compare(pos_, n, word) != 0)
      return false;
    pos_ += n;
    return true;
  }
  bool parseBool(bool *out) {
    if (parseWord("True"))
      return *out = true, true;
    if (parseWord("False"))
      return *out = false, true;
    return false;
  }
  bool parseDim(int64_t *out) {
    size_t begin = pos_;
    int64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      int digit = peek() - '0';
      if (v > (std::numeric_limits<int64_t>::max() - digit) / 10)
        return false;
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == 'L') // Python 2 longs
      ++pos_;
    *out = v;
    return pos_ > begin;
  }
  // "()", "(3,)", "(2, 3)" with an optional trailing comma.
  vsart_status_t parseShape(std::vector<int64_t> *shape) {
    if (!eat('('))
      return err("'shape' is not a tuple");
    while (skipSpace(), !eat(')')) {
      int64_t dim = 0;
      if (!parseDim(&dim))
        return err("'shape' holds a non-integer or too large entry");
      if (shape->size() == VSART_MAX_RANK)
        return err("rank above " + std::to_string(VSART_MAX_RANK));
      shape->push_back(dim);
      skipSpace();
      if (!eat(',') && peek() != ')')
        return err("malformed 'shape' tuple");
    }
    return VSART_OK;
  }
};

// Maps descr to (kind, item size); false for anything unsupported.
bool decodeDescr(const std::string &descr, char *kind, size_t *size) {
  static const struct {
    const char *descr;
    char kind;
    size_t size;
  } kTable[] = {{"f4", 'f', 4}, {"f8", 'f', 8}, {"f2", 'f', 2}, {"i8", 'i', 8},
                {"i4", 'i', 4}, {"b1", 'b', 1}, {"u1", 'u', 1}, {"i1", 'i', 1}};
  if (descr.size() != 3)
    return false;
  char order = descr[0];
  for (const auto &e : kTable) {
    if (descr.compare(1, 2, e.descr) != 0)
      continue;
    // '=' is native order, little-endian on every supported host.
    bool okOrder = e.size == 1 ? (order == '|' || order == '<' || order == '=')
                               : (order == '<' || order == '=');
    if (!okOrder)
      return false;
    *kind = e.kind;
    *size = e.size;
    return true;
  }
  return false;
}

uint32_t readLE(const uint8_t *p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

vsart_status_t checkSizes(const std::string &what, Array *out, size_t avail) {
  uint64_t elems = 1;
  for (int64_t d : out->shape) {
    if (d != 0 && elems > (uint64_t(1) << 62) / out->itemSize / uint64_t(d))
      return bad(what, "shape too large");
    elems *= uint64_t(d);
  }
  uint64_t need = elems * out->itemSize;
  if (need != avail)
    return bad(what,
               "data holds " + std::to_string(avail) + " bytes, the '" +
                   out->descr + "' shape " +
                   shapeString(int32_t(out->shape.size()), out->shape.data()) +
                   " needs " + std::to_string(need));
  return VSART_OK;
}

} // namespace

int64_t Array::numElements() const {
  return vsart::numElements(int32_t(shape.size()), shape.data());
}

vsart_status_t parse(const uint8_t *bytes, size_t size, const std::string &what,
                     Array *out) {
  *out = Array();
  if (size < kMagicLen + 4 || std::memcmp(bytes, kMagic, kMagicLen) != 0)
    return bad(what, "not a .npy file (bad magic)");
  const uint8_t major = bytes[6];
  if (major < 1 || major > 3)
    return fail(VSART_ERROR_UNSUPPORTED_VERSION,
                what + ": .npy format version " + std::to_string(major) + "." +
                    std::to_string(bytes[7]));
  // Version 1.0 has a 2-byte header length, 2.0 and 3.0 a 4-byte one.
  const size_t lenBytes = major == 1 ? 2 : 4, prefix = 8 + lenBytes;
  if (size < prefix)
    return bad(what, "truncated header");
  const size_t headerLen = readLE(bytes + 8, int(lenBytes));
  if (headerLen > size - prefix)
    return bad(what, "header length " + std::to_string(headerLen) +
                         " runs past the end of the file");
  const std::string header(reinterpret_cast<const char *>(bytes + prefix),
                           headerLen);
  if (vsart_status_t st = HeaderParser(header, what).parse(out))
    return st;
  if (!decodeDescr(out->descr, &out->kind, &out->itemSize))
    return bad(what, "unsupported dtype '" + out->descr +
                         "' (expected little-endian <f4, <f8, <f2, <i8, <i4, "
                         "|b1 or |u1)");
  const size_t dataBegin = prefix + headerLen;
  if (vsart_status_t st = checkSizes(what, out, size - dataBegin))
    return st;
  out->data.assign(bytes + dataBegin, bytes + size);
  return ok();
}

vsart_status_t read(const std::string &path, Array *out) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return fail(VSART_ERROR_IO,
                path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    bytes.insert(bytes.end(), buf, buf + n);
  bool readError = std::ferror(f) != 0;
  std::fclose(f);
  if (readError)
    return fail(VSART_ERROR_IO, path + ": read error");
  return parse(bytes.data(), bytes.size(), path, out);
}

namespace {

int64_t loadInt(const Array &a, size_t i) {
  const uint8_t *p = a.data.data() + i * a.itemSize;
  if (a.itemSize == 8) {
    int64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  if (a.itemSize == 4) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  return int8_t(*p);
}

// Rounds a double to float; out-of-range values become +-Inf or +-FLT_MAX
// as round-to-nearest gives (a plain cast of them is undefined behaviour).
float narrow(double v) {
  const double maxF = std::numeric_limits<float>::max();
  if (std::fabs(v) <= maxF || std::isnan(v))
    return float(v);
  const double halfUlp = std::ldexp(1.0, 103); // half an ulp of FLT_MAX
  const float mag = std::fabs(v) >= maxF + halfUlp
                        ? std::numeric_limits<float>::infinity()
                        : std::numeric_limits<float>::max();
  return v < 0 ? -mag : mag;
}

float loadReal(const Array &a, size_t i) {
  const uint8_t *p = a.data.data() + i * a.itemSize;
  if (a.itemSize == 8) {
    double v;
    std::memcpy(&v, p, 8);
    return narrow(v);
  }
  return loadFloat(a.itemSize == 4 ? VSART_DTYPE_F32 : VSART_DTYPE_F16, p, 0);
}

vsart_status_t convertInts(const Array &a, vsart_dtype_t dtype, void *dst,
                           const std::string &what) {
  const size_t n = size_t(a.numElements());
  for (size_t i = 0; i < n; ++i) {
    int64_t v = loadInt(a, i);
    if (dtype == VSART_DTYPE_I64) {
      std::memcpy(static_cast<uint8_t *>(dst) + 8 * i, &v, 8);
      continue;
    }
    if (v < std::numeric_limits<int32_t>::min() ||
        v > std::numeric_limits<int32_t>::max())
      return fail(VSART_ERROR_INVALID_ARGUMENT,
                  what + ": element " + std::to_string(i) + " = " +
                      std::to_string(v) + " does not fit in i32");
    int32_t w = int32_t(v);
    std::memcpy(static_cast<uint8_t *>(dst) + 4 * i, &w, 4);
  }
  return ok();
}

} // namespace

vsart_status_t convert(const Array &a, vsart_dtype_t dtype, void *dst,
                       const std::string &what) {
  const size_t n = size_t(a.numElements());
  if (a.kind == 'f' && isFloatDtype(dtype)) {
    for (size_t i = 0; i < n; ++i)
      storeFloat(dtype, dst, i, loadReal(a, i));
    return ok();
  }
  if (a.kind == 'i' && (dtype == VSART_DTYPE_I64 || dtype == VSART_DTYPE_I32))
    return convertInts(a, dtype, dst, what);
  if ((a.kind == 'b' &&
       (dtype == VSART_DTYPE_BOOL || dtype == VSART_DTYPE_U8)) ||
      (a.kind == 'u' && dtype == VSART_DTYPE_U8)) {
    auto *out = static_cast<uint8_t *>(dst);
    for (size_t i = 0; i < n; ++i)
      out[i] = dtype == VSART_DTYPE_BOOL ? a.data[i] != 0 : a.data[i];
    return ok();
  }
  return fail(VSART_ERROR_INVALID_ARGUMENT, what + ": cannot convert '" +
                                                a.descr + "' data to " +
                                                dtypeName(dtype));
}

namespace {

// The header text, padded with spaces and a final newline so the data starts
// 64-byte aligned (as numpy does).
std::string makeHeader(const char *descr, const std::vector<int64_t> &shape) {
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    dict += (i ? ", " : "") + std::to_string(shape[i]);
  dict += shape.size() == 1 ? ",), }" : "), }";
  size_t total = kMagicLen + 4 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  return dict + "\n";
}

// The bytes to store: F16/BF16 widened to f32, I32 to i64, bools as 0/1.
std::vector<uint8_t> payload(vsart_dtype_t dtype, size_t n, const void *data) {
  std::vector<uint8_t> out;
  if (dtype == VSART_DTYPE_F16 || dtype == VSART_DTYPE_BF16) {
    out.resize(4 * n);
    for (size_t i = 0; i < n; ++i)
      storeFloat(VSART_DTYPE_F32, out.data(), i, loadFloat(dtype, data, i));
  } else if (dtype == VSART_DTYPE_I32) {
    out.resize(8 * n);
    for (size_t i = 0; i < n; ++i) {
      int32_t v;
      std::memcpy(&v, static_cast<const uint8_t *>(data) + 4 * i, 4);
      int64_t w = v;
      std::memcpy(out.data() + 8 * i, &w, 8);
    }
  } else {
    const auto *p = static_cast<const uint8_t *>(data);
    out.assign(p, p + n * vsart_dtype_size(dtype));
    if (dtype == VSART_DTYPE_BOOL)
      for (uint8_t &b : out)
        b = b != 0;
  }
  return out;
}

const char *descrFor(vsart_dtype_t dtype) {
  switch (dtype) {
  case VSART_DTYPE_F32:
  case VSART_DTYPE_F16:
  case VSART_DTYPE_BF16:
    return "<f4";
  case VSART_DTYPE_I64:
  case VSART_DTYPE_I32:
    return "<i8";
  case VSART_DTYPE_BOOL:
    return "|b1";
  case VSART_DTYPE_U8:
    return "|u1";
  case VSART_DTYPE_F8E4M3_ROWS: // storage only, never written
  case VSART_DTYPE_F8E4M3_TENSOR:
    return nullptr;
  }
  return nullptr;
}

} // namespace

vsart_status_t write(const std::string &path, vsart_dtype_t dtype,
                     const std::vector<int64_t> &shape, const void *data) {
  const char *descr = descrFor(dtype);
  if (!descr || shape.size() > VSART_MAX_RANK)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                path + ": cannot write dtype/rank as .npy");
  const int64_t n = numElements(int32_t(shape.size()), shape.data());
  const std::string header = makeHeader(descr, shape);
  const std::vector<uint8_t> body = payload(dtype, size_t(n), data);
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return fail(VSART_ERROR_IO, path + ": cannot open for writing (" +
                                    std::strerror(errno) + ")");
  const uint8_t len[2] = {uint8_t(header.size() & 0xff),
                          uint8_t(header.size() >> 8)};
  bool good =
      std::fwrite(kMagic, 1, kMagicLen, f) == kMagicLen &&
      std::fputc(1, f) != EOF && std::fputc(0, f) != EOF &&
      std::fwrite(len, 1, 2, f) == 2 &&
      std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
      std::fwrite(body.data(), 1, body.size(), f) == body.size();
  good = std::fclose(f) == 0 && good;
  if (!good)
    return fail(VSART_ERROR_IO, path + ": write failed");
  return ok();
}

} // namespace npy
} // namespace vsart

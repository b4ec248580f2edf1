// safetensors reading: a small strict JSON parser (RFC 8259 syntax, depth
// limited so hostile nesting cannot overflow the stack), header validation
// and a read-only mapping of the file.
#include "Safetensors.h"

#include "DTypes.h"
#include "Internal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

namespace vsart {
namespace {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  bool isUInt = false; // a number without sign, fraction or exponent...
  uint64_t uint = 0;   // ...that fits here
  std::string str;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;
};

class JsonParser {
public:
  JsonParser(const char *text, size_t len) : p_(text), end_(text + len) {}

  // The whole text must be one value, optionally surrounded by whitespace.
  bool parseDocument(Json *out, std::string *error) {
    bool good = (skipSpace(), parseValue(out, 0)) &&
                (skipSpace(), p_ == end_ || fail("trailing characters"));
    if (!good)
      *error = error_;
    return good;
  }

private:
  static constexpr int kMaxDepth = 64;
  const char *p_;
  const char *end_;
  std::string error_;

  bool fail(const char *why) {
    if (error_.empty())
      error_ = why;
    return false;
  }
  bool atEnd() const { return p_ == end_; }
  char peek() const { return atEnd() ? '\0' : *p_; }
  void skipSpace() {
    while (!atEnd() &&
           (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r'))
      ++p_;
  }
  bool literal(const char *word) {
    size_t n = std::strlen(word);
    if (size_t(end_ - p_) < n || std::memcmp(p_, word, n) != 0)
      return fail("invalid literal");
    p_ += n;
    return true;
  }

  bool parseValue(Json *out, int depth) {
    if (depth > kMaxDepth)
      return fail("nesting too deep");
    switch (peek()) {
    case '{':
      return parseObject(out, depth);
    case '[':
      return parseArray(out, depth);
    case '"':
      out->kind = Json::String;
      return parseString(&out->str);
    case 't':
      out->kind = Json::Bool;
      out->boolean = true;
      return literal("true");
    case 'f':
      out->kind = Json::Bool;
      return literal("false");
    case 'n':
      out->kind = Json::Null;
      return literal("null");
    default:
      return parseNumber(out);
    }
  }

  bool parseObject(Json *out, int depth) {
    out->kind = Json::Object;
    ++p_; // '{'
    skipSpace();
    if (peek() == '}')
      return ++p_, true;
    for (;;) {
      std::string key;
      Json value;
      skipSpace();
      if (peek() != '"' || !parseString(&key))
        return fail("expected a string key");
      skipSpace();
      if (peek() != ':')
        return fail("expected ':'");
      ++p_;
      skipSpace();
      if (!parseValue(&value, depth + 1))
        return false;
      out->members.emplace_back(std::move(key), std::move(value));
      skipSpace();
      if (peek() == '}')
        return ++p_, true;
      if (peek() != ',')
        return fail("expected ',' or '}'");
      ++p_;
    }
  }

  bool parseArray(Json *out, int depth) {
    out->kind = Json::Array;
    ++p_; // '['
    skipSpace();
    if (peek() == ']')
      return ++p_, true;
    for (;;) {
      Json item;
      skipSpace();
      if (!parseValue(&item, depth + 1))
        return false;
      out->items.push_back(std::move(item));
      skipSpace();
      if (peek() == ']')
        return ++p_, true;
      if (peek() != ',')
        return fail("expected ',' or ']'");
      ++p_;
    }
  }

  bool digits(bool required) {
    const char *start = p_;
    while (peek() >= '0' && peek() <= '9')
      ++p_;
    return p_ != start || !required;
  }

  bool parseNumber(Json *out) {
    out->kind = Json::Number;
    const char *start = p_;
    bool negative = peek() == '-';
    if (negative)
      ++p_;
    if (peek() == '0')
      ++p_; // no leading zeros
    else if (!digits(true))
      return fail("invalid value");
    const char *intEnd = p_;
    bool fraction = peek() == '.';
    if (fraction && (++p_, !digits(true)))
      return fail("invalid number");
    bool exponent = peek() == 'e' || peek() == 'E';
    if (exponent) {
      ++p_;
      if (peek() == '+' || peek() == '-')
        ++p_;
      if (!digits(true))
        return fail("invalid number");
    }
    if (negative || fraction || exponent)
      return true;
    out->isUInt = true;
    for (const char *c = start; c < intEnd; ++c) {
      uint64_t d = uint64_t(*c - '0');
      if (out->uint > (std::numeric_limits<uint64_t>::max() - d) / 10)
        return out->isUInt = false, true; // valid JSON, just too large
      out->uint = out->uint * 10 + d;
    }
    return true;
  }

  bool hex4(uint32_t *out) {
    if (end_ - p_ < 4)
      return fail("truncated \\u escape");
    *out = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      char c = *p_;
      int v = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (v < 0)
        return fail("invalid \\u escape");
      *out = *out << 4 | uint32_t(v);
    }
    return true;
  }

  static void appendUtf8(std::string *s, uint32_t cp) {
    if (cp < 0x80) {
      *s += char(cp);
    } else if (cp < 0x800) {
      *s += char(0xc0 | cp >> 6);
      *s += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      *s += char(0xe0 | cp >> 12);
      *s += char(0x80 | (cp >> 6 & 0x3f));
      *s += char(0x80 | (cp & 0x3f));
    } else {
      *s += char(0xf0 | cp >> 18);
      *s += char(0x80 | (cp >> 12 & 0x3f));
      *s += char(0x80 | (cp >> 6 & 0x3f));
      *s += char(0x80 | (cp & 0x3f));
    }
  }

  // \uXXXX, combining a UTF-16 surrogate pair into one code point.
  bool unicodeEscape(std::string *out) {
    uint32_t cp = 0;
    if (!hex4(&cp))
      return false;
    if (cp >= 0xdc00 && cp <= 0xdfff)
      return fail("unpaired low surrogate");
    if (cp >= 0xd800 && cp <= 0xdbff) {
      uint32_t low = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u')
        return fail("unpaired high surrogate");
      p_ += 2;
      if (!hex4(&low))
        return false;
      if (low < 0xdc00 || low > 0xdfff)
        return fail("unpaired high surrogate");
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    appendUtf8(out, cp);
    return true;
  }

  bool escape(std::string *out) {
    if (atEnd())
      return fail("unterminated string");
    char c = *p_++;
    switch (c) {
    case '"':
    case '\\':
    case '/':
      *out += c;
      return true;
    case 'b':
      *out += '\b';
      return true;
    case 'f':
      *out += '\f';
      return true;
    case 'n':
      *out += '\n';
      return true;
    case 'r':
      *out += '\r';
      return true;
    case 't':
      *out += '\t';
      return true;
    case 'u':
      return unicodeEscape(out);
    default:
      return fail("invalid escape");
    }
  }

  bool parseString(std::string *out) {
    ++p_; // opening quote
    for (;;) {
      if (atEnd())
        return fail("unterminated string");
      char c = *p_++;
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in string");
      if (c != '\\')
        *out += c;
      else if (!escape(out))
        return false;
    }
  }
};

// safetensors dtype names, their element sizes and vsart equivalents.
struct DtypeInfo {
  const char *name;
  size_t size;
  bool known;
  vsart_dtype_t dtype;
};
const DtypeInfo kDtypes[] = {{"F32", 4, true, VSART_DTYPE_F32},
                             {"F16", 2, true, VSART_DTYPE_F16},
                             {"BF16", 2, true, VSART_DTYPE_BF16},
                             {"I64", 8, true, VSART_DTYPE_I64},
                             {"I32", 4, true, VSART_DTYPE_I32},
                             {"U8", 1, true, VSART_DTYPE_U8},
                             {"BOOL", 1, true, VSART_DTYPE_BOOL},
                             {"F64", 8, false, VSART_DTYPE_F32},
                             {"I8", 1, false, VSART_DTYPE_F32},
                             {"I16", 2, false, VSART_DTYPE_F32},
                             {"U16", 2, false, VSART_DTYPE_F32},
                             {"U32", 4, false, VSART_DTYPE_F32},
                             {"U64", 8, false, VSART_DTYPE_F32},
                             {"F8_E4M3", 1, false, VSART_DTYPE_F32},
                             {"F8_E5M2", 1, false, VSART_DTYPE_F32}};

const DtypeInfo *findDtype(const std::string &name) {
  for (const DtypeInfo &d : kDtypes)
    if (name == d.name)
      return &d;
  return nullptr;
}

const Json *member(const Json &object, const char *key) {
  for (const auto &[k, v] : object.members)
    if (k == key)
      return &v;
  return nullptr;
}

// A JSON array of unsigned integers no larger than `max`.
bool uintArray(const Json *j, uint64_t max, std::vector<uint64_t> *out) {
  if (!j || j->kind != Json::Array)
    return false;
  for (const Json &item : j->items) {
    if (item.kind != Json::Number || !item.isUInt || item.uint > max)
      return false;
    out->push_back(item.uint);
  }
  return true;
}

vsart_status_t badEntry(const std::string &what, const std::string &name,
                        const std::string &why) {
  return fail(VSART_ERROR_INVALID_FORMAT,
              what + ": tensor '" + name + "': " + why);
}

vsart_status_t parseEntry(const std::string &name, const Json &value,
                          uint64_t dataSize, const std::string &what,
                          SafetensorsEntry *e) {
  e->name = name;
  if (name.empty() || name.find('\0') != std::string::npos)
    return badEntry(what, name, "empty name or NUL in name");
  const Json *dtype = member(value, "dtype");
  if (value.kind != Json::Object || !dtype || dtype->kind != Json::String)
    return badEntry(what, name, "entry is not an object with a string dtype");
  e->dtype = dtype->str;
  std::vector<uint64_t> shape, offsets;
  if (!uintArray(member(value, "shape"), uint64_t(INT64_MAX), &shape))
    return badEntry(what, name, "shape is not an array of integers >= 0");
  if (shape.size() > VSART_MAX_RANK)
    return badEntry(what, name, "rank above " + std::to_string(VSART_MAX_RANK));
  if (!uintArray(member(value, "data_offsets"), UINT64_MAX, &offsets) ||
      offsets.size() != 2)
    return badEntry(what, name, "data_offsets is not [begin, end]");
  e->begin = offsets[0];
  e->end = offsets[1];
  if (e->begin > e->end || e->end > dataSize)
    return badEntry(what, name,
                    "data_offsets [" + std::to_string(e->begin) + ", " +
                        std::to_string(e->end) +
                        "] outside the data region of " +
                        std::to_string(dataSize) + " bytes");
  e->shape.assign(shape.begin(), shape.end());
  const DtypeInfo *info = findDtype(e->dtype);
  if (!info) // a dtype newer than this reader: only its offsets are checked
    return VSART_OK;
  e->known = info->known;
  e->vsartDtype = info->dtype;
  uint64_t bytes = info->size;
  for (uint64_t d : shape) {
    if (d != 0 && bytes > std::numeric_limits<uint64_t>::max() / d)
      return badEntry(what, name, "shape too large");
    bytes *= d;
  }
  if (bytes != e->end - e->begin)
    return badEntry(what, name,
                    e->dtype + " " +
                        shapeString(int32_t(e->shape.size()), e->shape.data()) +
                        " needs " + std::to_string(bytes) +
                        " bytes, data_offsets span " +
                        std::to_string(e->end - e->begin));
  return VSART_OK;
}

} // namespace

vsart_status_t parseSafetensorsHeader(const char *json, size_t len,
                                      uint64_t dataSize,
                                      const std::string &what,
                                      std::vector<SafetensorsEntry> *out) {
  out->clear();
  Json root;
  std::string error;
  if (!JsonParser(json, len).parseDocument(&root, &error))
    return fail(VSART_ERROR_INVALID_FORMAT,
                what + ": header is not valid JSON (" + error + ")");
  if (root.kind != Json::Object)
    return fail(VSART_ERROR_INVALID_FORMAT,
                what + ": header is not a JSON object");
  std::set<std::string> seen;
  for (const auto &[name, value] : root.members) {
    if (!seen.insert(name).second)
      return badEntry(what, name, "duplicate name");
    if (name == "__metadata__")
      continue; // free-form string map; not needed here
    SafetensorsEntry e;
    if (vsart_status_t st = parseEntry(name, value, dataSize, what, &e))
      return st;
    out->push_back(std::move(e));
  }
  return ok();
}

SafetensorsFile::~SafetensorsFile() {
  if (base_)
    munmap(const_cast<uint8_t *>(base_), size_);
}

namespace {

// Maps `path` read-only; *base stays null for an empty file.
vsart_status_t mapFile(const std::string &path, const uint8_t **base,
                       size_t *size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(VSART_ERROR_IO, path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(VSART_ERROR_IO, path + ": not a regular file");
  }
  *size = size_t(st.st_size);
  if (*size > 0) {
    void *p = mmap(nullptr, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return fail(VSART_ERROR_IO, path + ": mmap: " + std::strerror(err));
    }
    *base = static_cast<const uint8_t *>(p);
  }
  ::close(fd);
  return VSART_OK;
}

} // namespace

vsart_status_t SafetensorsFile::open(const std::string &path) {
  if (base_)
    return fail(VSART_ERROR_INVALID_ARGUMENT, path + ": already open");
  if (vsart_status_t st = mapFile(path, &base_, &size_))
    return st;
  if (size_ < 8)
    return fail(VSART_ERROR_INVALID_FORMAT,
                path + ": too short for a safetensors header");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = headerLen << 8 | base_[i];
  // The format caps headers at 100 MB; larger values are corrupt lengths.
  if (headerLen > 100000000u || headerLen > size_ - 8)
    return fail(VSART_ERROR_INVALID_FORMAT,
                path + ": header length " + std::to_string(headerLen) +
                    " exceeds the file (" + std::to_string(size_) + " bytes)");
  data_ = base_ + 8 + headerLen;
  return parseSafetensorsHeader(reinterpret_cast<const char *>(base_ + 8),
                                size_t(headerLen), size_ - 8 - headerLen, path,
                                &entries_);
}

} // namespace vsart

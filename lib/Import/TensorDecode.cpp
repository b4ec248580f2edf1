//===- TensorDecode.cpp - ONNX TensorProto -> MLIR elements ----------------===//
//
// Reads raw_data, the typed repeated fields, or external data files. Every
// size is checked before a byte is read: a tensor whose data does not match
// its dims is an error, never an out-of-bounds read.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace vsa;
using namespace vsa::import;

namespace {
using TP = onnx::TensorProto;
}

Type vsa::import::elementTypeFor(int32_t t, MLIRContext *ctx) {
  switch (t) {
  case TP::FLOAT: return Float32Type::get(ctx);
  case TP::DOUBLE: return Float64Type::get(ctx);
  case TP::FLOAT16: return Float16Type::get(ctx);
  case TP::BFLOAT16: return BFloat16Type::get(ctx);
  case TP::INT64: return IntegerType::get(ctx, 64);
  case TP::INT32: return IntegerType::get(ctx, 32);
  case TP::INT8: return IntegerType::get(ctx, 8);
  case TP::UINT8: return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  case TP::BOOL: return IntegerType::get(ctx, 1);
  default: return {};
  }
}

std::string vsa::import::onnxTypeName(int32_t t) {
  if (TP::DataType_IsValid(t))
    return TP::DataType_Name(static_cast<TP::DataType>(t));
  return "type " + std::to_string(t);
}

/// Bytes per element as stored in raw_data.
static int64_t storageBytes(int32_t t) {
  switch (t) {
  case TP::DOUBLE: case TP::INT64: return 8;
  case TP::FLOAT: case TP::INT32: return 4;
  case TP::FLOAT16: case TP::BFLOAT16: return 2;
  default: return 1;
  }
}

namespace {

/// Little-endian bytes of a tensor, from wherever they live.
struct Bytes {
  std::unique_ptr<llvm::MemoryBuffer> owner; // external data
  // Typed fields repacked. A vector, not a string: `data` points into it,
  // and moving a short string would move its characters (SSO).
  std::vector<char> packed;
  ArrayRef<char> data;
};

/// Repacks a typed repeated field into raw little-endian storage.
template <typename Src, typename Dst>
void repack(const google::protobuf::RepeatedField<Src> &field,
            std::vector<char> &out) {
  out.resize(field.size() * sizeof(Dst));
  for (int i = 0; i < field.size(); ++i) {
    Dst v = static_cast<Dst>(field.Get(i));
    std::memcpy(&out[i * sizeof(Dst)], &v, sizeof(Dst));
  }
}

/// The typed field for `t` and its length, repacked; -1 when the type has
/// no typed field.
int64_t repackTyped(const TP &tensor, std::vector<char> &out) {
  switch (tensor.data_type()) {
  case TP::FLOAT:
    repack<float, float>(tensor.float_data(), out);
    return tensor.float_data_size();
  case TP::DOUBLE:
    repack<double, double>(tensor.double_data(), out);
    return tensor.double_data_size();
  case TP::INT64:
    repack<int64_t, int64_t>(tensor.int64_data(), out);
    return tensor.int64_data_size();
  case TP::INT32:
    repack<int32_t, int32_t>(tensor.int32_data(), out);
    return tensor.int32_data_size();
  case TP::FLOAT16:
  case TP::BFLOAT16:
    repack<int32_t, uint16_t>(tensor.int32_data(), out);
    return tensor.int32_data_size();
  case TP::INT8:
    repack<int32_t, int8_t>(tensor.int32_data(), out);
    return tensor.int32_data_size();
  case TP::UINT8:
  case TP::BOOL:
    repack<int32_t, uint8_t>(tensor.int32_data(), out);
    return tensor.int32_data_size();
  default:
    return -1;
  }
}

/// Resolves an external data location inside `baseDir`, refusing absolute
/// paths and anything that leaves the folder (`..`, symbolic links).
FailureOr<std::string> resolveExternalPath(StringRef location, StringRef baseDir,
                                           dit::EmitErrorFn emitError) {
  if (location.empty() || llvm::sys::path::is_absolute(location) ||
      location.contains('\0')) {
    emitError() << "external data location '" << location
                << "' must be a relative path inside the model's folder";
    return failure();
  }
  for (StringRef part : llvm::make_range(llvm::sys::path::begin(location),
                                         llvm::sys::path::end(location))) {
    if (part == "..") {
      emitError() << "external data location '" << location
                  << "' escapes the model's folder";
      return failure();
    }
  }
  SmallString<256> base, full;
  if (llvm::sys::fs::real_path(baseDir.empty() ? "." : baseDir, base)) {
    emitError() << "cannot resolve the model's folder '" << baseDir << "'";
    return failure();
  }
  SmallString<256> joined(base);
  llvm::sys::path::append(joined, location);
  if (llvm::sys::fs::real_path(joined, full)) {
    emitError() << "external data file '" << location << "' not found in '"
                << base << "'";
    return failure();
  }
  if (!StringRef(full).starts_with(StringRef(base).str() + "/")) {
    emitError() << "external data location '" << location
                << "' resolves outside the model's folder";
    return failure();
  }
  return std::string(full);
}

FailureOr<Bytes> readExternal(const TP &tensor, int64_t expected,
                              const TensorSource &source, bool load,
                              dit::EmitErrorFn emitError) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : tensor.external_data()) {
    auto parseInt = [&](const std::string &s, int64_t &out) -> LogicalResult {
      if (StringRef(s).getAsInteger(10, out) || out < 0)
        return emitError() << "external data " << kv.key() << " '" << s
                           << "' is not a non-negative integer";
      return success();
    };
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset" && failed(parseInt(kv.value(), offset)))
      return failure();
    else if (kv.key() == "length" && failed(parseInt(kv.value(), length)))
      return failure();
  }
  auto path = resolveExternalPath(location, source.baseDir, emitError);
  if (failed(path))
    return failure();
  if (length >= 0 && length != expected) {
    emitError() << "external data length " << length << " differs from the "
                << expected << " bytes its dims and type need";
    return failure();
  }
  uint64_t fileSize = 0;
  if (llvm::sys::fs::file_size(*path, fileSize) ||
      uint64_t(offset) > fileSize || fileSize - offset < uint64_t(expected)) {
    emitError() << "external data file '" << location << "' holds " << fileSize
                << " bytes; the tensor needs " << expected << " at offset "
                << offset;
    return failure();
  }
  Bytes bytes;
  if (!load)
    return bytes;
  auto buf = llvm::MemoryBuffer::getFileSlice(*path, expected, offset);
  if (!buf) {
    emitError() << "cannot read external data file '" << location
                << "': " << buf.getError().message();
    return failure();
  }
  bytes.owner = std::move(*buf);
  bytes.data = ArrayRef<char>(bytes.owner->getBufferStart(), expected);
  return bytes;
}

FailureOr<Bytes> tensorBytes(const TP &tensor, int64_t numel,
                             const TensorSource &source,
                             dit::EmitErrorFn emitError) {
  int64_t elem = storageBytes(tensor.data_type());
  if (numel > INT64_MAX / elem) {
    emitError() << "tensor of " << numel << " elements is too large";
    return failure();
  }
  int64_t expected = numel * elem;
  if (tensor.data_location() == TP::EXTERNAL)
    return readExternal(tensor, expected, source, source.loadValues, emitError);
  Bytes bytes;
  if (tensor.has_raw_data()) {
    if (int64_t(tensor.raw_data().size()) != expected) {
      emitError() << "raw_data holds " << tensor.raw_data().size()
                  << " bytes; dims and type need " << expected;
      return failure();
    }
    bytes.data = ArrayRef<char>(tensor.raw_data().data(), expected);
    return bytes;
  }
  int64_t count = repackTyped(tensor, bytes.packed);
  if (count != numel) {
    emitError() << "holds " << std::max<int64_t>(count, 0)
                << " values; its dims say " << numel;
    return failure();
  }
  bytes.data = ArrayRef<char>(bytes.packed.data(), bytes.packed.size());
  return bytes;
}

ElementsAttr makeElements(RankedTensorType type, ArrayRef<char> data,
                          bool asResource, StringRef blobName) {
  if (type.getElementType().isInteger(1)) {
    SmallVector<bool> bits;
    for (char c : data)
      bits.push_back(c != 0);
    return DenseElementsAttr::get(type, bits);
  }
  // An empty tensor has no bytes to copy (and may have no buffer at all).
  if (asResource && !data.empty()) {
    // Align to the element, not to the `char`s the bytes came in: the blob
    // is read back as an array of its element type.
    size_t align = std::max<size_t>(1, type.getElementTypeBitWidth() / 8);
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(data, align);
    return DenseResourceElementsAttr::get(type, blobName, std::move(blob));
  }
  bool detectedSplat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, data, detectedSplat))
    return {};
  return DenseElementsAttr::getFromRawBuffer(type, data);
}

} // namespace

FailureOr<DecodedTensor>
vsa::import::decodeTensor(const TP &tensor, const TensorSource &source,
                          bool asResource, MLIRContext *ctx,
                          dit::EmitErrorFn emitError) {
  Type et = elementTypeFor(tensor.data_type(), ctx);
  if (!et) {
    emitError() << "element type " << onnxTypeName(tensor.data_type())
                << " is not supported";
    return failure();
  }
  if (tensor.has_segment()) {
    emitError() << "segmented tensors are not supported";
    return failure();
  }
  SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  for (int64_t d : dims) {
    if (d < 0) {
      emitError() << "has a negative dimension " << d;
      return failure();
    }
  }
  int64_t numel = dit::numElements(dims);
  if (numel < 0) {
    emitError() << "dims (" << dit::shapeToString(dims) << ") overflow";
    return failure();
  }
  auto bytes = tensorBytes(tensor, numel, source, emitError);
  if (failed(bytes))
    return failure();
  DecodedTensor out{RankedTensorType::get(dims, et), {}};
  if (!source.loadValues && tensor.data_location() == TP::EXTERNAL)
    return out;
  out.value = makeElements(out.type, bytes->data, asResource, tensor.name());
  if (!out.value) {
    emitError() << "data does not fit type " << out.type;
    return failure();
  }
  return out;
}

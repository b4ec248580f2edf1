#include "VsabWriter.h"
#include "vsab_generated.h"

#include <cstdio>
#include <cstring>

namespace vsart {
namespace {
uint64_t align64(uint64_t x) { return (x + 63) / 64 * 64; }
void setError(std::string *error, std::string msg) {
  if (error)
    *error = std::move(msg);
}
} // namespace

bool VsabWriter::addTensor(const std::string &name, vsart_dtype_t dtype,
                           const std::vector<int64_t> &shape, const void *data,
                           size_t bytes, std::string *error) {
  size_t esize = vsart_dtype_size(dtype);
  if (esize == 0)
    return setError(error, name + ": unknown dtype"), false;
  if (shape.size() > VSART_MAX_RANK)
    return setError(error, name + ": rank above 8"), false;
  uint64_t elems = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return setError(error, name + ": negative dim"), false;
    elems *= uint64_t(d);
  }
  if (elems * esize != bytes || (bytes && !data))
    return setError(error, name + ": byte size does not match shape"), false;
  for (const Tensor &t : tensors_)
    if (t.name == name)
      return setError(error, name + ": duplicate tensor name"), false;
  const auto *p = static_cast<const uint8_t *>(data);
  tensors_.push_back({name, dtype, shape, std::vector<uint8_t>(p, p + bytes)});
  return true;
}

std::vector<uint8_t> VsabWriter::serialize() const {
  namespace fb = vsa::vsab;
  flatbuffers::FlatBufferBuilder builder;
  builder.ForceDefaults(true); // keeps weights_offset present for mutation
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  uint64_t offset = 0;
  for (const Tensor &t : tensors_) {
    tensors.push_back(fb::CreateTensorDirect(
        builder, t.name.c_str(), static_cast<fb::DType>(t.dtype), &t.shape,
        offset, t.data.size()));
    offset = align64(offset + t.data.size());
  }
  const uint64_t weightsSize = offset;
  std::vector<flatbuffers::Offset<fb::AttentionConfig>> configs;
  for (const auto &[pattern, params] : configs_) {
    std::vector<flatbuffers::Offset<fb::KeyValue>> kvs;
    for (const auto &[k, v] : params)
      kvs.push_back(fb::CreateKeyValueDirect(builder, k.c_str(), v.c_str()));
    configs.push_back(
        fb::CreateAttentionConfigDirect(builder, pattern.c_str(), &kvs));
  }
  const vsart_geometry_t &g = geometry_;
  auto geometry = fb::CreateGeometry(builder, g.latent_t, g.latent_h,
                                     g.latent_w, g.patch_t, g.patch_h,
                                     g.patch_w);
  auto root = fb::CreateModuleDirect(builder, VSART_VSAB_FORMAT_VERSION,
                                     geometry, &tensors, &configs,
                                     /*weights_offset=*/64, weightsSize);
  fb::FinishModuleBuffer(builder, root);
  const uint64_t weightsOffset = align64(builder.GetSize());
  fb::GetMutableModule(builder.GetBufferPointer())
      ->mutate_weights_offset(weightsOffset);

  std::vector<uint8_t> file(weightsOffset + weightsSize, 0);
  std::memcpy(file.data(), builder.GetBufferPointer(), builder.GetSize());
  offset = weightsOffset;
  for (const Tensor &t : tensors_) {
    if (!t.data.empty())
      std::memcpy(file.data() + offset, t.data.data(), t.data.size());
    offset += align64(t.data.size());
  }
  return file;
}

bool VsabWriter::writeFile(const std::string &path, std::string *error) const {
  std::vector<uint8_t> bytes = serialize();
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return setError(error, path + ": cannot open for writing"), false;
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok)
    setError(error, path + ": write failed");
  return ok;
}

} // namespace vsart

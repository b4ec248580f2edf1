// .vsab: writer round trip and rejection of corrupt files.
#include "VsabWriter.h"
#include "vsab_generated.h"
#include "vsart.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

std::string tempPath(const std::string &name) {
  return testing::TempDir() + "vsart-" + std::to_string(getpid()) + "-" + name;
}

void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(bytes.data()),
          std::streamsize(bytes.size()));
}

struct Fixture {
  std::vector<float> w = std::vector<float>(3 * 5);
  std::vector<int64_t> ids = {1, -2, 3};
  std::vector<uint16_t> half = std::vector<uint16_t>(7);
  std::vector<uint8_t> mask = {1, 0, 1, 1};
  vsart::VsabWriter writer;
  Fixture() {
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = float(i) * 0.5f - 3.0f;
    for (size_t i = 0; i < half.size(); ++i)
      half[i] = uint16_t(0x3c00 + i);
    std::string err;
    EXPECT_TRUE(writer.addTensor("blocks.0.attn.qkv.weight", VSART_DTYPE_F32,
                                 {3, 5}, w.data(), w.size() * 4, &err)) << err;
    EXPECT_TRUE(writer.addTensor("ids", VSART_DTYPE_I64, {3}, ids.data(), 24, &err));
    EXPECT_TRUE(writer.addTensor("half", VSART_DTYPE_BF16, {7}, half.data(), 14, &err));
    EXPECT_TRUE(writer.addTensor("mask", VSART_DTYPE_BOOL, {2, 2}, mask.data(), 4, &err));
    float scalar = 2.5f;
    EXPECT_TRUE(writer.addTensor("scalar", VSART_DTYPE_F32, {}, &scalar, 4, &err));
    EXPECT_TRUE(writer.addTensor("empty", VSART_DTYPE_F16, {0, 4}, nullptr, 0, &err));
    writer.setGeometry({21, 60, 104, 1, 2, 2});
    writer.addAttentionConfig("dense", {});
    writer.addAttentionConfig("sliding_tile",
                              {{"tile", "6x8x8"}, {"window", "3x3x3"}});
  }
};

TEST(Vsab, WriterRejectsBadTensors) {
  vsart::VsabWriter writer;
  float x[4] = {};
  std::string err;
  EXPECT_FALSE(writer.addTensor("a", VSART_DTYPE_F32, {3}, x, 16, &err));
  EXPECT_FALSE(err.empty());
  EXPECT_TRUE(writer.addTensor("a", VSART_DTYPE_F32, {4}, x, 16, &err));
  EXPECT_FALSE(writer.addTensor("a", VSART_DTYPE_F32, {4}, x, 16, &err));
}

TEST(Vsab, RoundTrip) {
  Fixture fx;
  const std::string path = tempPath("roundtrip.vsab");
  std::string err;
  ASSERT_TRUE(fx.writer.writeFile(path, &err)) << err;
  vsart_module_t m = nullptr;
  ASSERT_EQ(vsart_module_open(path.c_str(), &m), VSART_OK) << vsart_last_error();
  EXPECT_EQ(vsart_module_format_version(m), VSART_VSAB_FORMAT_VERSION);
  EXPECT_EQ(vsart_module_num_tensors(m), 6);

  vsart_tensor_view_t v;
  ASSERT_EQ(vsart_module_find_tensor(m, "blocks.0.attn.qkv.weight", &v), VSART_OK);
  EXPECT_STREQ(v.name, "blocks.0.attn.qkv.weight");
  EXPECT_EQ(v.dtype, VSART_DTYPE_F32);
  EXPECT_EQ(v.rank, 2);
  EXPECT_EQ(v.dims[0], 3);
  EXPECT_EQ(v.dims[1], 5);
  EXPECT_EQ(v.size_bytes, 60u);
  EXPECT_EQ(0, std::memcmp(v.data, fx.w.data(), 60));
  ASSERT_EQ(vsart_module_find_tensor(m, "ids", &v), VSART_OK);
  EXPECT_EQ(0, std::memcmp(v.data, fx.ids.data(), 24));
  ASSERT_EQ(vsart_module_find_tensor(m, "half", &v), VSART_OK);
  EXPECT_EQ(v.dtype, VSART_DTYPE_BF16);
  EXPECT_EQ(0, std::memcmp(v.data, fx.half.data(), 14));
  ASSERT_EQ(vsart_module_find_tensor(m, "mask", &v), VSART_OK);
  EXPECT_EQ(v.dtype, VSART_DTYPE_BOOL);
  EXPECT_EQ(0, std::memcmp(v.data, fx.mask.data(), 4));
  ASSERT_EQ(vsart_module_find_tensor(m, "scalar", &v), VSART_OK);
  EXPECT_EQ(v.rank, 0);
  EXPECT_EQ(*static_cast<const float *>(v.data), 2.5f);
  ASSERT_EQ(vsart_module_find_tensor(m, "empty", &v), VSART_OK);
  EXPECT_EQ(v.size_bytes, 0u);
  EXPECT_EQ(v.dims[0], 0);
  for (int64_t i = 0; i < vsart_module_num_tensors(m); ++i) {
    ASSERT_EQ(vsart_module_tensor_at(m, i, &v), VSART_OK);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data) % 64, 0u) << v.name;
  }
  EXPECT_EQ(vsart_module_tensor_at(m, 6, &v), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(vsart_module_find_tensor(m, "nope", &v), VSART_ERROR_NOT_FOUND);
  EXPECT_NE(std::string(vsart_last_error()).find("nope"), std::string::npos);

  vsart_geometry_t g;
  ASSERT_EQ(vsart_module_geometry(m, &g), VSART_OK);
  EXPECT_EQ(g.latent_t, 21);
  EXPECT_EQ(g.latent_h, 60);
  EXPECT_EQ(g.latent_w, 104);
  EXPECT_EQ(g.patch_t, 1);
  EXPECT_EQ(g.patch_w, 2);
  ASSERT_EQ(vsart_module_num_attention_configs(m), 2);
  const char *pattern = nullptr, *key = nullptr, *value = nullptr;
  int64_t n = -1;
  ASSERT_EQ(vsart_module_attention_config(m, 1, &pattern, &n), VSART_OK);
  EXPECT_STREQ(pattern, "sliding_tile");
  EXPECT_EQ(n, 2);
  ASSERT_EQ(vsart_module_attention_param(m, 1, 1, &key, &value), VSART_OK);
  EXPECT_STREQ(key, "window");
  EXPECT_STREQ(value, "3x3x3");
  EXPECT_EQ(vsart_module_attention_param(m, 0, 0, &key, &value),
            VSART_ERROR_INVALID_ARGUMENT);
  vsart_module_close(m);
  std::remove(path.c_str());
}

// Opens `bytes` as a file; returns the status (closing any module).
vsart_status_t openBytes(const std::vector<uint8_t> &bytes) {
  const std::string path = tempPath("corrupt.vsab");
  writeBytes(path, bytes);
  vsart_module_t m = nullptr;
  vsart_status_t st = vsart_module_open(path.c_str(), &m);
  if (st == VSART_OK) {
    // Whatever was accepted must be safe to walk.
    vsart_tensor_view_t v;
    for (int64_t i = 0; i < vsart_module_num_tensors(m); ++i) {
      EXPECT_EQ(vsart_module_tensor_at(m, i, &v), VSART_OK);
      volatile uint8_t sink = 0;
      for (size_t b = 0; b < v.size_bytes; ++b)
        sink = sink ^ static_cast<const uint8_t *>(v.data)[b];
      EXPECT_EQ(vsart_module_find_tensor(m, v.name, &v), VSART_OK);
    }
    vsart_geometry_t g;
    EXPECT_EQ(vsart_module_geometry(m, &g), VSART_OK);
  } else {
    EXPECT_EQ(m, nullptr);
    EXPECT_STRNE(vsart_last_error(), "");
  }
  vsart_module_close(m);
  std::remove(path.c_str());
  return st;
}

uint64_t weightsOffset(const std::vector<uint8_t> &bytes) {
  return vsa::vsab::GetModule(bytes.data())->weights_offset();
}

TEST(Vsab, MissingAndEmptyFiles) {
  vsart_module_t m = nullptr;
  EXPECT_EQ(vsart_module_open("/nonexistent/x.vsab", &m), VSART_ERROR_IO);
  EXPECT_EQ(openBytes({}), VSART_ERROR_INVALID_FORMAT);
}

TEST(Vsab, RejectsTruncatedFiles) {
  Fixture fx;
  std::vector<uint8_t> bytes = fx.writer.serialize();
  ASSERT_EQ(openBytes(bytes), VSART_OK);
  const size_t woff = weightsOffset(bytes);
  for (size_t len : {size_t(0), size_t(3), size_t(8), size_t(16), woff / 2,
                     woff - 1, woff, woff + 1, bytes.size() - 1}) {
    SCOPED_TRACE(len);
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + long(len));
    EXPECT_NE(openBytes(cut), VSART_OK);
  }
}

TEST(Vsab, RejectsBadIdentifier) {
  Fixture fx;
  std::vector<uint8_t> bytes = fx.writer.serialize();
  std::memcpy(bytes.data() + 4, "VSAX", 4);
  EXPECT_EQ(openBytes(bytes), VSART_ERROR_INVALID_FORMAT);
}

TEST(Vsab, BitFlipsInTableNeverCrash) {
  Fixture fx;
  const std::vector<uint8_t> bytes = fx.writer.serialize();
  const size_t woff = weightsOffset(bytes);
  size_t rejected = 0, total = 0;
  for (size_t i = 0; i < woff; ++i)
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> flipped = bytes;
      flipped[i] ^= uint8_t(1u << bit);
      rejected += openBytes(flipped) != VSART_OK;
      ++total;
    }
  // Flips in padding or string bytes are legitimately accepted; most are not.
  EXPECT_GT(rejected, total / 4) << rejected << " of " << total;
}

// Mutates the serialized table in place and expects `expected` on open.
template <typename Fn>
void expectMutationRejected(Fn mutate, vsart_status_t expected) {
  Fixture fx;
  std::vector<uint8_t> bytes = fx.writer.serialize();
  ASSERT_TRUE(mutate(vsa::vsab::GetMutableModule(bytes.data()), bytes));
  EXPECT_EQ(openBytes(bytes), expected);
}

TEST(Vsab, RejectsBadTensorEntries) {
  using M = vsa::vsab::Module;
  using B = std::vector<uint8_t>;
  // Offset past the end of the file.
  expectMutationRejected([](M *m, B &) {
    return m->mutable_tensors()->GetMutableObject(0)->mutate_offset(uint64_t(1) << 40);
  }, VSART_ERROR_INVALID_FORMAT);
  // Offset inside the region but data running past its end.
  expectMutationRejected([](M *m, B &) {
    return m->mutable_tensors()->GetMutableObject(0)->mutate_offset(
        m->weights_size());
  }, VSART_ERROR_INVALID_FORMAT);
  // Misaligned offset.
  expectMutationRejected([](M *m, B &) {
    return m->mutable_tensors()->GetMutableObject(1)->mutate_offset(
        m->tensors()->Get(1)->offset() + 4);
  }, VSART_ERROR_INVALID_FORMAT);
  // Size not matching dtype x shape.
  expectMutationRejected([](M *m, B &) {
    return m->mutable_tensors()->GetMutableObject(0)->mutate_size(56);
  }, VSART_ERROR_INVALID_FORMAT);
  // Shape not matching size.
  expectMutationRejected([](M *m, B &) {
    m->mutable_tensors()->GetMutableObject(0)->mutable_shape()->Mutate(1, 6);
    return true;
  }, VSART_ERROR_INVALID_FORMAT);
  // Negative dim.
  expectMutationRejected([](M *m, B &) {
    m->mutable_tensors()->GetMutableObject(0)->mutable_shape()->Mutate(0, -3);
    return true;
  }, VSART_ERROR_INVALID_FORMAT);
  // Unknown dtype.
  expectMutationRejected([](M *m, B &) {
    return m->mutable_tensors()->GetMutableObject(0)->mutate_dtype(
        static_cast<vsa::vsab::DType>(99));
  }, VSART_ERROR_INVALID_FORMAT);
  // Weights region past the end, misaligned, or overlapping the table.
  expectMutationRejected([](M *m, B &b) {
    return m->mutate_weights_size(b.size());
  }, VSART_ERROR_INVALID_FORMAT);
  expectMutationRejected([](M *m, B &) {
    return m->mutate_weights_offset(m->weights_offset() + 8);
  }, VSART_ERROR_INVALID_FORMAT);
  expectMutationRejected([](M *m, B &) {
    return m->mutate_weights_offset(0);
  }, VSART_ERROR_INVALID_FORMAT);
  // Duplicate names.
  expectMutationRejected([](M *m, B &) {
    auto *name = m->mutable_tensors()->GetMutableObject(2)->mutable_name();
    // "half" -> "ids\0" would change the length; rename "mask" to "half".
    auto *other = m->mutable_tensors()->GetMutableObject(3)->mutable_name();
    std::memcpy(const_cast<char *>(other->c_str()), name->c_str(), 4);
    return true;
  }, VSART_ERROR_INVALID_FORMAT);
  // Unsupported version.
  expectMutationRejected([](M *m, B &) {
    return m->mutate_format_version(VSART_VSAB_FORMAT_VERSION + 1);
  }, VSART_ERROR_UNSUPPORTED_VERSION);
}

} // namespace

// Tensor collectives (vsart_cpu_all_to_all / vsart_cpu_all_gather /
// vsart_cpu_shard_copy,
// vsart_comm.h): pack -> byte collective -> unpack over thread ranks,
// compared with a naive reference built from slices and concatenations of
// a global tensor; the Ulysses layouts (B, S/N, H, D) <-> (B, S, H/N, D)
// with 2 and 4 ranks, all_gather on axis 1, every axis pair of a 3-d
// tensor, element sizes 1-8, caller scratch, and the error messages.
#include "vsart_comm.h"
#include "vsart_model.h"

#include <gtest/gtest.h>

#include "ThreadRanks.h"

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Shape = std::vector<int64_t>;
using Bytes = std::vector<uint8_t>;

int64_t count(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// Row-major N-d tensor of `elem`-byte elements.
struct Tensor {
  Shape shape;
  size_t elem = 4;
  Bytes data;
};

/// Element i gets a distinct value from `seed` and i (little endian bytes).
Tensor iota(const Shape &shape, size_t elem, uint64_t seed) {
  Tensor t{shape, elem, Bytes(size_t(count(shape)) * elem)};
  for (int64_t i = 0; i < count(shape); ++i) {
    uint64_t v = seed * 1000003u + uint64_t(i) * 2654435761u + 1;
    std::memcpy(t.data.data() + size_t(i) * elem, &v, elem);
  }
  return t;
}

/// Chunk `r` of `n` along `axis`.
Tensor slice(const Tensor &t, int axis, int r, int n) {
  Shape s = t.shape;
  s[size_t(axis)] /= n;
  int64_t outer = count(Shape(t.shape.begin(), t.shape.begin() + axis));
  size_t inner = size_t(count(Shape(s.begin() + axis, s.end()))) * t.elem;
  size_t full = size_t(count(Shape(t.shape.begin() + axis, t.shape.end()))) *
                t.elem;
  Tensor out{s, t.elem, Bytes(size_t(count(s)) * t.elem)};
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(out.data.data() + size_t(o) * inner,
                t.data.data() + size_t(o) * full + size_t(r) * inner, inner);
  return out;
}

/// Concatenation along `axis` of tensors of one shape.
Tensor concat(const std::vector<Tensor> &parts, int axis) {
  Shape s = parts[0].shape;
  const size_t elem = parts[0].elem;
  s[size_t(axis)] *= int64_t(parts.size());
  int64_t outer = count(Shape(s.begin(), s.begin() + axis));
  size_t inner =
      size_t(count(Shape(parts[0].shape.begin() + axis, parts[0].shape.end()))) *
      elem;
  Tensor out{s, elem, Bytes(size_t(count(s)) * elem)};
  for (int64_t o = 0; o < outer; ++o)
    for (size_t p = 0; p < parts.size(); ++p)
      std::memcpy(out.data.data() + (size_t(o) * parts.size() + p) * inner,
                  parts[p].data.data() + size_t(o) * inner, inner);
  return out;
}

using vsart_test::runRanks;

/// all_to_all of inputs[r] on every rank r; checks the result against the
/// reference concat_j(slice(inputs[j], scatter, r), gather). With
/// `callerScratch`, scratch comes from the test (sized by
/// vsart_all_to_all_scratch_bytes), else the call allocates it.
void checkAllToAll(const std::vector<Tensor> &inputs, int scatter, int gather,
                   bool callerScratch = false) {
  const int n = int(inputs.size());
  std::vector<Tensor> expected;
  for (int r = 0; r < n; ++r) {
    std::vector<Tensor> parts;
    for (int j = 0; j < n; ++j)
      parts.push_back(slice(inputs[size_t(j)], scatter, r, n));
    expected.push_back(concat(parts, gather));
  }
  runRanks(n, [&](vsart_comm_t c, int r) {
    const Tensor &in = inputs[size_t(r)];
    Bytes out(in.data.size(), 0xee);
    const int32_t rank = int32_t(in.shape.size());
    Bytes scratch(vsart_all_to_all_scratch_bytes(rank, in.shape.data(), scatter,
                                                 gather, n, in.elem));
    ASSERT_EQ(vsart_cpu_all_to_all(c, n, in.data.data(), out.data(), rank,
                                   in.shape.data(), scatter, gather, in.elem,
                                   callerScratch ? scratch.data() : nullptr),
              VSART_OK)
        << vsart_last_error();
    EXPECT_TRUE(out == expected[size_t(r)].data)
        << "rank " << r << " of " << n << ", scatter " << scatter
        << ", gather " << gather << ", elem " << in.elem;
  });
}

/// (B, S, H, D) split over `n` ranks along the sequence.
std::vector<Tensor> seqShards(const Tensor &global, int n) {
  std::vector<Tensor> shards;
  for (int r = 0; r < n; ++r)
    shards.push_back(slice(global, 1, r, n));
  return shards;
}

// ---- Ulysses ------------------------------------------------------------------

class Ulysses : public ::testing::TestWithParam<int> {};

TEST_P(Ulysses, SequenceToHeadsAndBack) {
  const int n = GetParam();
  for (size_t elem : {size_t(4), size_t(2)}) {
    // Global (B, S, H, D) = (2, 4n, 2n, 3): rank r holds (B, S/N, H, D).
    const Tensor global = iota({2, 4 * n, 2 * n, 3}, elem, 7);
    const std::vector<Tensor> shards = seqShards(global, n);
    // Heads split, sequence gathered: rank r holds (B, S, H/N, D), the
    // full sequence of heads chunk r.
    std::vector<Tensor> headShards;
    for (int r = 0; r < n; ++r)
      headShards.push_back(slice(global, 2, r, n));
    runRanks(n, [&](vsart_comm_t c, int r) {
      const Tensor &in = shards[size_t(r)];
      Bytes mid(in.data.size()), back(in.data.size());
      ASSERT_EQ(vsart_cpu_all_to_all(c, n, in.data.data(), mid.data(), 4,
                                     in.shape.data(), 2, 1, elem, nullptr),
                VSART_OK)
          << vsart_last_error();
      EXPECT_TRUE(mid == headShards[size_t(r)].data) << "rank " << r;
      const Shape &midShape = headShards[size_t(r)].shape;
      ASSERT_EQ(vsart_cpu_all_to_all(c, n, mid.data(), back.data(), 4,
                                     midShape.data(), 1, 2, elem, nullptr),
                VSART_OK)
          << vsart_last_error();
      EXPECT_TRUE(back == in.data) << "rank " << r;
    });
    // The same through the generic reference (and caller scratch).
    checkAllToAll(shards, 2, 1, true);
    checkAllToAll(headShards, 1, 2);
  }
}

TEST_P(Ulysses, AllGatherSequence) {
  const int n = GetParam();
  const Tensor global = iota({2, 3 * n, 4, 5}, 4, 11);
  const std::vector<Tensor> shards = seqShards(global, n);
  for (bool callerScratch : {false, true})
    runRanks(n, [&](vsart_comm_t c, int r) {
      const Tensor &in = shards[size_t(r)];
      Bytes out(global.data.size(), 0xee);
      Bytes scratch(
          vsart_all_gather_scratch_bytes(4, in.shape.data(), 1, n, 4));
      EXPECT_EQ(scratch.size(), global.data.size()); // B = 2: reordered
      ASSERT_EQ(vsart_cpu_all_gather(c, n, in.data.data(), out.data(), 4,
                                     in.shape.data(), 1, 4,
                                     callerScratch ? scratch.data() : nullptr),
                VSART_OK)
          << vsart_last_error();
      EXPECT_TRUE(out == global.data) << "rank " << r;
    });
}

INSTANTIATE_TEST_SUITE_P(Ranks, Ulysses, ::testing::Values(2, 4),
                         [](const auto &info) {
                           return std::to_string(info.param) + "Ranks";
                         });

// ---- general ------------------------------------------------------------------

TEST(CommTensor, EveryAxisPair) {
  for (int n : {1, 2, 3}) {
    std::vector<Tensor> inputs;
    for (int r = 0; r < n; ++r)
      inputs.push_back(iota({2 * n, 3 * n, 2}, 8, uint64_t(100 + r)));
    // Axis 2 has 2 elements: divisible by n only for n <= 2.
    for (int s = 0; s < 3; ++s)
      for (int g = 0; g < 3; ++g)
        if (inputs[0].shape[size_t(s)] % n == 0)
          checkAllToAll(inputs, s, g);
  }
}

/// q, k and v through one collective (vsart_cpu_all_to_all_n) equal three
/// separate all_to_alls, with and without caller scratch, on 2 and 4 ranks,
/// for a layout that needs packing and unpacking and one that needs neither.
TEST(CommTensor, PackedAllToAllEqualsSeparateOnes) {
  for (int n : {2, 4})
    for (bool callerScratch : {false, true})
      for (auto [scatter, gather] : {std::pair(1, 2), std::pair(0, 0)}) {
        const Shape shape = {2 * n, 2 * n, 2 * n, 3};
        runRanks(n, [&](vsart_comm_t c, int r) {
          std::vector<Tensor> in, want;
          for (int t = 0; t < 3; ++t) {
            in.push_back(iota(shape, 4, uint64_t(r * 10 + t)));
            want.push_back(in.back());
            ASSERT_EQ(vsart_cpu_all_to_all(c, n, in.back().data.data(),
                                           want.back().data.data(), 4,
                                           shape.data(), scatter, gather, 4,
                                           nullptr),
                      VSART_OK)
                << vsart_last_error();
          }
          std::vector<Bytes> out(3, Bytes(in[0].data.size(), 0xee));
          const void *ins[3] = {in[0].data.data(), in[1].data.data(),
                                in[2].data.data()};
          void *outs[3] = {out[0].data(), out[1].data(), out[2].data()};
          Bytes scratch(3 * vsart_all_to_all_scratch_bytes(
                                4, shape.data(), scatter, gather, n, 4));
          ASSERT_EQ(vsart_cpu_all_to_all_n(
                        c, n, 3, ins, outs, 4, shape.data(), scatter, gather,
                        4, callerScratch ? scratch.data() : nullptr),
                    VSART_OK)
              << vsart_last_error();
          for (int t = 0; t < 3; ++t)
            EXPECT_TRUE(out[size_t(t)] == want[size_t(t)].data)
                << "tensor " << t << " rank " << r << " of " << n;
        });
      }
}

TEST(CommTensor, PackedAllToAllErrors) {
  runRanks(2, [&](vsart_comm_t c, int) {
    float a[8] = {}, b[8] = {};
    const void *ins[1] = {a};
    void *outs[1] = {b};
    const int64_t dims[] = {8};
    EXPECT_EQ(vsart_cpu_all_to_all_n(c, 2, 0, ins, outs, 1, dims, 0, 0, 4,
                                     nullptr),
              VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(vsart_last_error()).find("bad tensor count"),
              std::string::npos);
    const void *sends[2] = {a, b};
    void *recvs[2] = {b, a};
    const size_t chunks[2] = {16, 16};
    EXPECT_EQ(vsart_comm_all_to_all_n(c, 2, sends, recvs, chunks, nullptr),
              VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(vsart_last_error()).find("overlap"),
              std::string::npos)
        << vsart_last_error();
  });
}

TEST(CommTensor, ElementSizes) {
  for (size_t elem : {size_t(1), size_t(2), size_t(4), size_t(8)}) {
    std::vector<Tensor> inputs;
    for (int r = 0; r < 2; ++r)
      inputs.push_back(iota({4, 4, 5}, elem, uint64_t(r)));
    checkAllToAll(inputs, 1, 2);
    checkAllToAll(inputs, 0, 0);
  }
}

TEST(CommTensor, AllGatherEveryAxis) {
  const int n = 3;
  std::vector<Tensor> inputs;
  for (int r = 0; r < n; ++r)
    inputs.push_back(iota({1, 2, 3, 2}, 4, uint64_t(r + 5)));
  for (int axis = 0; axis < 4; ++axis) {
    const Tensor expected = concat(inputs, axis);
    // Only unit dims before axis 0 and 1: gathered in place, no scratch.
    EXPECT_EQ(vsart_all_gather_scratch_bytes(4, inputs[0].shape.data(), axis,
                                             n, 4) == 0,
              axis <= 1);
    runRanks(n, [&](vsart_comm_t c, int r) {
      const Tensor &in = inputs[size_t(r)];
      Bytes out(expected.data.size(), 0xee);
      ASSERT_EQ(vsart_cpu_all_gather(c, n, in.data.data(), out.data(), 4,
                                     in.shape.data(), axis, 4, nullptr),
                VSART_OK)
          << vsart_last_error();
      EXPECT_TRUE(out == expected.data) << "axis " << axis << " rank " << r;
    });
  }
}

TEST(CommTensor, ShardEveryAxis) {
  // vsart_cpu_shard_copy: rank r keeps chunk r along the axis; gathering
  // the chunks back gives the tensor.
  for (int n : {2, 3}) {
    const Tensor t = iota({2, 6, 3, 6}, 4, 11);
    for (int axis : {1, 3}) {
      runRanks(n, [&](vsart_comm_t c, int r) {
        const Tensor expected = slice(t, axis, r, n);
        Bytes out(expected.data.size(), 0xee);
        ASSERT_EQ(vsart_cpu_shard_copy(c, n, t.data.data(), out.data(), 4,
                                       t.shape.data(), axis, 4),
                  VSART_OK)
            << vsart_last_error();
        EXPECT_TRUE(out == expected.data)
            << "axis " << axis << " rank " << r << " of " << n;
      });
    }
  }
  // A group of 1 without a communicator is a copy.
  const Tensor t = iota({2, 4}, 2, 1);
  Bytes out(t.data.size());
  ASSERT_EQ(vsart_cpu_shard_copy(nullptr, 1, t.data.data(), out.data(), 2,
                                 t.shape.data(), 1, 2),
            VSART_OK);
  EXPECT_TRUE(out == t.data);
  const int64_t dims[] = {1, 6, 4};
  float in[24] = {}, half[12];
  EXPECT_EQ(vsart_cpu_shard_copy(nullptr, 2, in, half, 3, dims, 1, 4),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(),
               "shard: model needs 2 ranks; run with --ranks 2 / give a "
               "communicator (vsart_session_set_comm)");
  EXPECT_EQ(vsart_cpu_shard_copy(nullptr, 4, in, half, 3, dims, 1, 4),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(),
               "shard: dim 1 (6) is not divisible by the group size 4");
  EXPECT_EQ(vsart_cpu_shard_copy(nullptr, 2, in, half, 3, dims, 3, 4),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(), "shard: axis 3 out of range for rank 3");
}

TEST(CommTensor, ScratchOnlyWhenNeeded) {
  const int64_t b1[] = {1, 8, 4, 2}, b2[] = {2, 8, 4, 2};
  // B = 1: sequence -> heads needs no unpack (gather axis 1 is outermost),
  // but a pack; heads -> sequence needs no pack.
  EXPECT_EQ(vsart_all_to_all_scratch_bytes(4, b1, 2, 1, 2, 4), 256u);
  EXPECT_EQ(vsart_all_to_all_scratch_bytes(4, b1, 1, 2, 2, 4), 256u);
  EXPECT_EQ(vsart_all_to_all_scratch_bytes(4, b1, 1, 1, 2, 4), 0u);
  EXPECT_EQ(vsart_all_to_all_scratch_bytes(4, b2, 2, 1, 2, 4), 1024u);
  EXPECT_EQ(vsart_all_to_all_scratch_bytes(4, b2, 2, 1, 1, 4), 0u);
}

TEST(CommTensor, SingleRankWithoutCommunicator) {
  const Tensor t = iota({2, 3, 4}, 4, 3);
  Bytes out(t.data.size());
  ASSERT_EQ(vsart_cpu_all_to_all(nullptr, 1, t.data.data(), out.data(), 3,
                                 t.shape.data(), 2, 1, 4, nullptr),
            VSART_OK);
  EXPECT_TRUE(out == t.data);
  out.assign(out.size(), 0);
  ASSERT_EQ(vsart_cpu_all_gather(nullptr, 1, t.data.data(), out.data(), 3,
                                 t.shape.data(), 1, 4, nullptr),
            VSART_OK);
  EXPECT_TRUE(out == t.data);
}

TEST(CommTensor, Errors) {
  const int64_t dims[] = {1, 6, 4, 2};
  float in[48] = {}, out[48 * 4];
  EXPECT_EQ(vsart_cpu_all_to_all(nullptr, 2, in, out, 4, dims, 2, 1, 4,
                                 nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(),
               "all_to_all: model needs 2 ranks; run with --ranks 2 / give a "
               "communicator (vsart_session_set_comm)");
  EXPECT_EQ(vsart_cpu_all_to_all(nullptr, 4, in, out, 4, dims, 1, 2, 4,
                                 nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(), "all_to_all: dim 1 (6) is not divisible "
                                   "by the group size 4");
  EXPECT_EQ(vsart_cpu_all_to_all(nullptr, 2, in, out, 4, dims, 4, 1, 4,
                                 nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(), "all_to_all: axis 4 out of range for rank 4");
  EXPECT_EQ(vsart_cpu_all_gather(nullptr, 2, in, out, 4, dims, -1, 4, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(),
               "all_gather: axis -1 out of range for rank 4");
  EXPECT_EQ(vsart_cpu_all_gather(nullptr, 2, in, out, 9, dims, 1, 4, nullptr),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(), "all_gather: rank 9 not in [1, 8]");
  // The communicator's size must be the compiled group size.
  runRanks(2, [&](vsart_comm_t c, int) {
    float mine[48] = {}, all[48 * 4];
    EXPECT_EQ(vsart_cpu_all_gather(c, 4, mine, all, 4, dims, 1, 4, nullptr),
              VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_STREQ(vsart_last_error(), "all_gather: the model's group size is 4 "
                                     "but the communicator has 2 ranks");
  });
}

// ---- sessions -----------------------------------------------------------------

// "gather": y (2, 6) = all_gather of x (2, 3) along axis 1 over 2 ranks,
// through the run context's communicator (as generated code does).
const vsart_tensor_desc_t kGatherInputs[] = {
    {"x", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {2, 3}}};
const vsart_tensor_desc_t kGatherOutputs[] = {
    {"y", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {2, 6}}};

vsart_status_t gatherForward(void *const *in, void *const *out,
                             const void *const *, void *, void *,
                             const vsart_run_context_t *ctx) {
  static const int64_t dims[] = {2, 3};
  return vsart_cpu_all_gather(ctx ? ctx->comm : nullptr, 2, in[0], out[0], 2,
                              dims, 1, 4, nullptr);
}

vsart_model_t gatherModel() {
  vsart_model_t m{};
  m.abi_version = VSART_MODEL_ABI_VERSION;
  m.name = "gather";
  m.target = VSART_TARGET_CPU;
  m.device = &vsart_cpu_device_ops;
  m.num_inputs = 1;
  m.inputs = kGatherInputs;
  m.num_outputs = 1;
  m.outputs = kGatherOutputs;
  m.arena_bytes = 256;
  m.forward = gatherForward;
  m.num_ranks = 2;
  return m;
}

TEST(CommSession, ForwardThroughTheCommunicator) {
  static const vsart_model_t m = gatherModel();
  runRanks(2, [&](vsart_comm_t c, int r) {
    vsart_session_t s = nullptr;
    ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK)
        << vsart_last_error();
    float x[6], y[12];
    for (int i = 0; i < 6; ++i)
      x[i] = float(10 * r + i);
    ASSERT_EQ(vsart_session_set_input(s, 0, x), VSART_OK);
    ASSERT_EQ(vsart_session_set_comm(s, c), VSART_OK);
    ASSERT_EQ(vsart_session_forward(s), VSART_OK) << vsart_last_error();
    ASSERT_EQ(vsart_session_get_output(s, 0, y), VSART_OK);
    // Row b: rank 0's x[b, :] then rank 1's.
    const float want[12] = {0, 1, 2, 10, 11, 12, 3, 4, 5, 13, 14, 15};
    for (int i = 0; i < 12; ++i)
      EXPECT_EQ(y[i], want[i]) << "rank " << r << " element " << i;
    vsart_session_destroy(s);
  });
}

TEST(CommSession, NeedsCommunicatorOfTheGroupSize) {
  static const vsart_model_t m = gatherModel();
  vsart_session_t s = nullptr;
  ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK);
  const float x[6] = {};
  ASSERT_EQ(vsart_session_set_input(s, 0, x), VSART_OK);
  EXPECT_EQ(vsart_session_forward(s), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(),
               "model 'gather' needs 2 ranks; run with --ranks 2 / give a "
               "communicator (vsart_session_set_comm)");
  vsart_comm_t one = nullptr;
  ASSERT_EQ(vsart_comm_create_threads(1, 1, &one), VSART_OK);
  ASSERT_EQ(vsart_session_set_comm(s, one), VSART_OK);
  EXPECT_EQ(vsart_session_forward(s), VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(vsart_last_error(), "forward: model 'gather' was compiled for "
                                   "2 ranks but the communicator has 1");
  EXPECT_EQ(vsart_session_set_comm(nullptr, one),
            VSART_ERROR_INVALID_ARGUMENT);
  vsart_session_destroy(s);
  vsart_comm_destroy(one);
}

} // namespace

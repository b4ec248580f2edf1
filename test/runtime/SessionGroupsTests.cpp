// Communicator groups of a session (vsart_model_t::groups, ABI 3): the
// session splits the world communicator it is given into the model's
// groups (vsart_comm_group_t: size, stride) and the forward sees this
// rank's communicator of each; a group table that does not tile the world
// is rejected at creation.
#include "vsart_comm.h"
#include "vsart_model.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace {

const vsart_tensor_desc_t kOut[] = {
    {"ranks", VSART_DTYPE_I64, VSART_DTYPE_I64, 1, {4}}};

// Writes (rank, size) of groups[0] and groups[1] to its output.
vsart_status_t groupForward(void *const *, void *const *out,
                            const void *const *, void *, void *,
                            const vsart_run_context_t *ctx) {
  int64_t *o = static_cast<int64_t *>(out[0]);
  for (int g = 0; g < 2; ++g) {
    o[2 * g] = vsart_comm_rank(ctx->groups[g]);
    o[2 * g + 1] = vsart_comm_size(ctx->groups[g]);
  }
  return VSART_OK;
}

const vsart_comm_group_t kHybrid[] = {{2, 1}, {2, 2}};

vsart_model_t groupModel(const vsart_comm_group_t *groups, int32_t n) {
  vsart_model_t m = {};
  m.abi_version = VSART_MODEL_ABI_VERSION;
  m.name = "groups";
  m.device = &vsart_cpu_device_ops;
  m.num_outputs = 1;
  m.outputs = kOut;
  m.forward = groupForward;
  m.num_ranks = 4;
  m.num_groups = n;
  m.groups = groups;
  return m;
}

TEST(SessionGroups, SplitsTheWorldIntoTheModelsGroups) {
  const vsart_model_t m = groupModel(kHybrid, 2);
  std::vector<vsart_comm_t> comms(4);
  ASSERT_EQ(vsart_comm_create_threads(4, 10, comms.data()), VSART_OK);
  std::vector<std::vector<int64_t>> seen(4, std::vector<int64_t>(4, -1));
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r)
    threads.emplace_back([&, r] {
      vsart_session_t s = nullptr;
      ASSERT_EQ(vsart_session_create(&m, nullptr, &s), VSART_OK)
          << vsart_last_error();
      ASSERT_EQ(vsart_session_set_comm(s, comms[size_t(r)]), VSART_OK)
          << vsart_last_error();
      ASSERT_EQ(vsart_session_forward(s), VSART_OK) << vsart_last_error();
      ASSERT_EQ(vsart_session_get_output(s, 0, seen[size_t(r)].data()),
                VSART_OK);
      vsart_session_destroy(s);
    });
  for (std::thread &t : threads)
    t.join();
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
  for (int r = 0; r < 4; ++r) {
    // Group 0: consecutive pairs {0, 1}, {2, 3}; group 1: {0, 2}, {1, 3}.
    EXPECT_EQ(seen[size_t(r)], (std::vector<int64_t>{r % 2, 2, r / 2, 2}))
        << "world rank " << r;
  }
}

TEST(SessionGroups, RejectsGroupsThatDoNotTileTheWorld) {
  const vsart_comm_group_t bad[] = {{3, 1}};
  const vsart_model_t m = groupModel(bad, 1);
  vsart_session_t s = nullptr;
  EXPECT_EQ(vsart_session_create(&m, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(vsart_last_error()).find("does not tile 4 ranks"),
            std::string::npos)
      << vsart_last_error();
  const vsart_model_t none = groupModel(nullptr, 1);
  EXPECT_EQ(vsart_session_create(&none, nullptr, &s),
            VSART_ERROR_INVALID_ARGUMENT);
}

} // namespace

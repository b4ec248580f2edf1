// Runs a test body on the thread ranks of a fresh thread communicator
// (vsart_comm_create_threads): shared by the communicator gtest files.
#ifndef VSART_TEST_THREADRANKS_H
#define VSART_TEST_THREADRANKS_H

#include "vsart_comm.h"

#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <vector>

namespace vsart_test {

/// body(comm, rank) on one thread per rank of an `n`-rank world (10 s
/// collective timeout); joins them and destroys the communicators.
inline void runRanks(int n,
                     const std::function<void(vsart_comm_t, int)> &body) {
  std::vector<vsart_comm_t> comms(static_cast<size_t>(n), nullptr);
  ASSERT_EQ(vsart_comm_create_threads(n, 10, comms.data()), VSART_OK)
      << vsart_last_error();
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] { body(comms[size_t(r)], r); });
  for (std::thread &t : threads)
    t.join();
  for (vsart_comm_t c : comms)
    vsart_comm_destroy(c);
}

} // namespace vsart_test

#endif // VSART_TEST_THREADRANKS_H

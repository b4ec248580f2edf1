// Internals of the communicators (vsart_comm.h): the backend interface the C
// entry points (Comm.cpp) dispatch to, after checking arguments, and helpers
// shared by the thread (CommThreads.cpp) and NCCL (kernels/cuda/CommNccl.cpp)
// backends.
#ifndef VSART_SRC_COMM_H
#define VSART_SRC_COMM_H

#include "Internal.h"
#include "vsart_comm.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

/// One rank of a communicator. Arguments are checked by the C entry points:
/// buffers are non-null where bytes > 0, peers are in range or NO_PEER,
/// sizes do not overflow, buffers do not overlap where they must not.
struct vsart_comm {
  virtual ~vsart_comm() = default;
  virtual int32_t rank() const = 0;
  virtual int32_t size() const = 0;
  virtual const char *backend() const = 0;
  virtual double timeout() const = 0;
  virtual vsart_status_t allToAll(const void *send, void *recv, size_t chunk,
                                  void *stream) = 0;
  /// `count` all_to_alls in one collective (vsart_comm_all_to_all_n).
  virtual vsart_status_t allToAllN(int32_t count, const void *const *sends,
                                   void *const *recvs, const size_t *chunks,
                                   void *stream) = 0;
  virtual vsart_status_t allGather(const void *send, void *recv, size_t bytes,
                                   void *stream) = 0;
  virtual vsart_status_t sendRecv(const void *send, size_t sendBytes,
                                  int32_t dest, void *recv, size_t recvBytes,
                                  int32_t src, void *stream) = 0;
  /// vsart_comm_exchange (transfers checked: peers in range, buffers
  /// non-null where bytes > 0, receives overlap nothing).
  virtual vsart_status_t exchange(int32_t count,
                                  const vsart_comm_transfer_t *transfers,
                                  void *stream) = 0;
  virtual vsart_status_t barrier(void *stream) = 0;
  virtual vsart_status_t synchronize(void *stream) = 0;
  virtual vsart_status_t split(int32_t color, int32_t key,
                               vsart_comm_t *out) = 0;
  /// Aborts the world with "communicator aborted by rank R: message".
  virtual void abort(const std::string &message) = 0;
};

namespace vsart::comm {

using Clock = std::chrono::steady_clock;

/// timeout_s <= 0 -> vsart_comm_default_timeout(); fails (INVALID_ARGUMENT)
/// on NaN, infinity or a malformed VSART_COMM_TIMEOUT_S.
vsart_status_t resolveTimeout(double timeoutS, const char *what, double *out);

/// now + seconds, saturating for huge values.
Clock::time_point deadlineAfter(double seconds);

/// "0.2", "300": seconds as printed in messages.
std::string formatSeconds(double seconds);

/// "1, 3" (ranks in the order given).
std::string rankList(const std::vector<int32_t> &ranks);

/// "collective NAME timed out after N s on rank R (waiting for WAITING)"
/// plus "; group of world ranks ..." when group is not empty.
std::string timeoutMessage(const char *name, double seconds, int32_t rank,
                           const std::string &waiting,
                           const std::vector<int32_t> &group);

/// The first failure of a world, readable without a lock.
class Fault {
public:
  /// Records message if no failure was recorded yet; true if this call did.
  bool set(const std::string &message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_.load(std::memory_order_relaxed))
      return false;
    message_ = message;
    failed_.store(true, std::memory_order_release);
    return true;
  }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  std::string message() const {
    std::lock_guard<std::mutex> lock(mu_);
    return message_;
  }

private:
  mutable std::mutex mu_;
  std::string message_;
  std::atomic<bool> failed_{false};
};

} // namespace vsart::comm

#endif // VSART_SRC_COMM_H

// Bootstrap of multi-process communicators, without CUDA: the launcher's
// environment (torchrun, Open MPI, MPICH) and a TCP rendezvous through rank
// 0 that hands every rank a payload (NCCL's unique id) and then stays open
// as an out-of-band abort channel. Used by kernels/cuda/CommNccl.cpp;
// tested in vsart-tests without GPUs.
#ifndef VSART_SRC_RENDEZVOUS_H
#define VSART_SRC_RENDEZVOUS_H

#include "vsart.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vsart::comm {

/// Where this process sits in a multi-process job.
struct LaunchEnv {
  int32_t rank = 0, size = 1;
  int32_t localRank = -1, localSize = -1; // -1: not given
  std::string masterAddr;                 // rank 0's host
  int port = 0;                           // the rendezvous port
  std::string launcher; // "torchrun", "Open MPI" or "MPICH" (variables seen)
};

/// Environment lookup: the value of a variable or nullptr (std::getenv).
using EnvLookup = std::function<const char *(const char *)>;

/// Reads the launch environment (see vsart_comm_create_nccl_from_env for the
/// variables and defaults). Fails with INVALID_ARGUMENT naming the variable.
vsart_status_t readLaunchEnv(const EnvLookup &lookup, LaunchEnv *out);

/// vsart_comm_create_nccl_from_env on an environment already read (tests
/// run two ranks as two threads this way). Defined in libvsart_cuda
/// (kernels/cuda/CommNccl.cpp).
vsart_status_t createNcclFromLaunchEnv(const LaunchEnv &env, double timeoutS,
                                       struct vsart_comm **out);

/// A TCP rendezvous of `size` processes through rank 0, kept open afterwards
/// as an abort channel: an abort on any rank, or a rank whose connection
/// drops without a goodbye (its process died), reaches every rank's
/// onAbort. Rank 0 relays what it hears to the others.
class Rendezvous {
public:
  using AbortFn = std::function<void(const std::string &message)>;

  /// Collective: rank 0 listens on `port` (all interfaces) and waits for the
  /// size - 1 others, which connect to host:port (retrying until the
  /// deadline) and say (rank, size); rank 0 checks them and sends each
  /// `*payload`, which the others receive into `*payload`. Everything is
  /// bounded by timeoutS; failures are IO errors saying who and what.
  static vsart_status_t connect(int32_t rank, int32_t size,
                                const std::string &host, int port,
                                double timeoutS, std::string *payload,
                                std::unique_ptr<Rendezvous> *out);

  /// Starts the watcher thread (once): onAbort is called from it, at most
  /// once, with the message of the first abort heard or lost peer.
  void watch(AbortFn onAbort);
  /// Sends "message" to every other rank (through rank 0); local only once.
  void abort(const std::string &message);
  /// Closes without a goodbye, as a crashed process would (for tests).
  void dropForTesting();
  int32_t rank() const { return rank_; }

  /// Says goodbye to the peers, stops the watcher, closes the sockets.
  ~Rendezvous();
  Rendezvous(const Rendezvous &) = delete;
  Rendezvous &operator=(const Rendezvous &) = delete;

private:
  struct Peer {
    int fd = -1;
    int32_t rank = -1;
    bool bye = false;     // said goodbye: its EOF is not a failure
    std::string inbox;    // bytes of a partial frame
  };
  Rendezvous(int32_t rank, int32_t size) : rank_(rank), size_(size) {}
  void run();
  void sendFrame(Peer &peer, char type, const std::string &text);
  void deliver(const std::string &message, int32_t fromRank);
  void closeAll();

  int32_t rank_, size_;
  std::vector<Peer> peers_; // rank 0: ranks 1..size-1; others: rank 0
  std::mutex sendMu_;       // guards writes and peers_[i].fd
  int wake_[2] = {-1, -1};  // self-pipe that stops the watcher
  std::thread watcher_;
  AbortFn onAbort_;
  std::atomic<bool> aborted_{false}; // an abort was sent or heard
  bool dropped_ = false;
};

} // namespace vsart::comm

#endif // VSART_SRC_RENDEZVOUS_H

// Ulysses attention on device memory: the CUDA backend of the loop in
// src/UlyssesAttention.h. The attention runs on the caller's stream, and so
// do the NCCL exchanges by default; with VSART_ULYSSES_SIDE_STREAM=1 they
// run on a second stream of the device, ordered by events, to overlap the
// attention of the neighbouring head chunks (not the default: on 2 H200s
// that pipeline gave wrong results run to run, a race not found yet).
#include "../../src/UlyssesAttention.h"
#include "Common.h"
#include "vsart_cuda.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <string>
#include <vector>

using vsart::fail;

namespace {

struct CudaUlysses final : vsart::UlyssesBackend {
  cudaStream_t s;
  vsart_comm_t comm;
  bool threads; // the thread backend copies on the host, synchronously
  vsart::cuda::SideStream *streams = nullptr;
  int64_t chunks;
  // Event roles: exchange slots 0 .. 2·chunks-1, then "inputs ready",
  // "attention done" and "all exchanges done".
  cudaEvent_t ev(int64_t i) const { return streams->events[size_t(i)]; }
  int64_t ready() const { return 2 * chunks; }

  /// NCCL exchanges on the caller's stream (no overlap): the default. On 2
  /// H200s the side-stream pipeline gave wrong results run to run (a race
  /// not found yet); VSART_ULYSSES_SIDE_STREAM=1 turns it back on.
  bool serial;

  CudaUlysses(cudaStream_t s, vsart_comm_t comm, int64_t chunks)
      : s(s), comm(comm),
        threads(comm && std::string(vsart_comm_backend(comm)) == "threads"),
        chunks(chunks), serial(serialExchanges()) {}

  static bool serialExchanges() {
    const char *env = std::getenv("VSART_ULYSSES_SIDE_STREAM");
    return !(env && std::string(env) == "1");
  }

  vsart_status_t begin() override {
    if (threads || !comm || serial)
      return VSART_OK; // host copies, or device copies on this stream
    if (vsart_status_t st = vsart::cuda::sideStream(size_t(ready() + 3), &streams))
      return st;
    return record(s, ready(), streams->stream);
  }
  /// Records event i on `from` and makes `to` wait for it.
  vsart_status_t record(cudaStream_t from, int64_t i, cudaStream_t to) {
    if (vsart_status_t st = vsart::cuda::check(cudaEventRecord(ev(i), from),
                                               "ulysses_attention record"))
      return st;
    if (!to)
      return VSART_OK;
    return vsart::cuda::check(cudaStreamWaitEvent(to, ev(i), 0),
                              "ulysses_attention wait");
  }
  vsart_status_t exchange(vsart_comm_t comm,
                          const std::vector<vsart_comm_transfer_t> &t,
                          int32_t slot) override {
    if (!comm) // a group of one: device copies on the caller's stream
      return vsart::copyPairs(t, [&](void *dst, const void *src, size_t n) {
        return vsart::cuda::check(
            cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, s),
            "ulysses_attention copy");
      });
    if (threads) {
      if (vsart_status_t st = vsart::cuda::check(
              cudaStreamSynchronize(s), "ulysses_attention synchronize"))
        return st;
      return vsart_comm_exchange(comm, int32_t(t.size()), t.data(), nullptr);
    }
    if (serial)
      return vsart_comm_exchange(comm, int32_t(t.size()), t.data(), s);
    if (vsart_status_t st = vsart_comm_exchange(comm, int32_t(t.size()),
                                                t.data(), streams->stream))
      return st;
    return record(streams->stream, slot, nullptr);
  }
  vsart_status_t waitExchange(int32_t slot) override {
    if (threads || !streams)
      return VSART_OK;
    return vsart::cuda::check(cudaStreamWaitEvent(s, ev(slot), 0),
                              "ulysses_attention wait");
  }
  vsart_status_t attend(const vsart_attention_args_t &c) override {
    if (vsart_status_t st = vsart_cuda_attention(&c, s))
      return st;
    if (threads || !streams)
      return VSART_OK;
    return record(s, ready() + 1, streams->stream);
  }
  vsart_status_t end() override {
    if (threads || !streams)
      return VSART_OK;
    return record(streams->stream, ready() + 2, s);
  }
};

} // namespace

extern "C" vsart_status_t
vsart_cuda_ulysses_attention(vsart_comm_t comm, int32_t group_size,
                             const vsart_attention_args_t *args,
                             int32_t chunks, void *scratch,
                             size_t scratch_bytes, void *stream) {
  const char *what = "cuda_ulysses_attention";
  bool nothing = false;
  vsart::UlyssesLayout layout;
  if (vsart_status_t st =
          vsart::prepareUlysses(comm, group_size, args, chunks, 2, scratch,
                                scratch_bytes, what, &layout, &nothing))
    return st;
  if (nothing)
    return vsart::ok();
  cudaStream_t s = vsart::cuda::toStream(stream);
  CudaUlysses backend(s, comm, layout.chunks);
  vsart::cuda::CallScratch owned(backend.threads, s);
  if (!scratch)
    if (vsart_status_t st =
            owned.allocate(layout.total, "ulysses_attention scratch", &scratch))
      return st;
  vsart_status_t st =
      vsart::runUlysses(comm, group_size, *args, layout,
                        static_cast<unsigned char *>(scratch), backend);
  return st ? st : vsart::ok();
}

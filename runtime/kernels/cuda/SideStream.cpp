// The per-device side stream (Common.h): NCCL exchanges queued there run
// while the compute stream attends.
#include "Common.h"

#include <mutex>

namespace {

struct State {
  std::mutex mu;
  vsart::cuda::SideStream side;
  cudaError_t error = cudaSuccess;
};

State *createState() {
  auto *s = new State;
  s->error = cudaStreamCreateWithFlags(&s->side.stream, cudaStreamNonBlocking);
  return s;
}

} // namespace

vsart_status_t vsart::cuda::sideStream(size_t events, SideStream **out) {
  State &s = perDevice<State>(createState);
  if (s.error != cudaSuccess)
    return check(s.error, "side stream");
  std::lock_guard<std::mutex> lock(s.mu);
  while (s.side.events.size() < events) {
    cudaEvent_t e = nullptr;
    if (vsart_status_t st =
            check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming),
                  "side stream event"))
      return st;
    s.side.events.push_back(e);
  }
  *out = &s.side;
  return VSART_OK;
}

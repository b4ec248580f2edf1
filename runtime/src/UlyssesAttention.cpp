// Ulysses attention on host memory (fp32): the CPU backend of the loop in
// UlyssesAttention.h, the reference the CUDA one is tested against.
#include "UlyssesAttention.h"

#include "vsart.h"

#include <cstring>
#include <memory>
#include <new>

using vsart::fail;

namespace {

struct CpuUlysses final : vsart::UlyssesBackend {
  vsart_status_t begin() override { return VSART_OK; }
  vsart_status_t exchange(vsart_comm_t comm,
                          const std::vector<vsart_comm_transfer_t> &t,
                          int32_t) override {
    if (!comm)
      return vsart::copyPairs(t, [](void *dst, const void *src, size_t n) {
        std::memcpy(dst, src, n);
        return VSART_OK;
      });
    return vsart_comm_exchange(comm, int32_t(t.size()), t.data(), nullptr);
  }
  vsart_status_t waitExchange(int32_t) override { return VSART_OK; }
  vsart_status_t attend(const vsart_attention_args_t &c) override {
    return vsart_cpu_attention_strided(&c);
  }
  vsart_status_t end() override { return VSART_OK; }
};

} // namespace

extern "C" size_t
vsart_ulysses_attention_scratch_bytes(const vsart_attention_args_t *args,
                                      int32_t group_size, size_t elem_bytes) {
  if (!args || group_size < 1)
    return 0;
  return vsart::ulyssesLayout(*args, group_size, 1, elem_bytes).total;
}

extern "C" vsart_status_t
vsart_cpu_ulysses_attention(vsart_comm_t comm, int32_t group_size,
                            const vsart_attention_args_t *args, int32_t chunks,
                            void *scratch, size_t scratch_bytes) {
  const char *what = "cpu_ulysses_attention";
  bool nothing = false;
  vsart::UlyssesLayout layout;
  if (vsart_status_t st = vsart::prepareUlysses(
          comm, group_size, args, chunks, sizeof(float), scratch,
          scratch_bytes, what, &layout, &nothing))
    return st;
  if (nothing)
    return vsart::ok();
  std::unique_ptr<unsigned char[]> owned;
  if (!scratch) {
    owned.reset(new (std::nothrow) unsigned char[layout.total + 256]);
    if (!owned)
      return fail(VSART_ERROR_OUT_OF_MEMORY, std::string(what) + ": scratch");
    scratch = owned.get() + (256 - uintptr_t(owned.get()) % 256) % 256;
  }
  CpuUlysses backend;
  if (vsart_status_t st =
          vsart::runUlysses(comm, group_size, *args, layout,
                            static_cast<unsigned char *>(scratch), backend))
    return st;
  return vsart::ok();
}

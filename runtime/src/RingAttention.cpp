// Ring attention on host memory (thread communicators): the CPU backend of
// the shared loop in RingAttention.h.
#include "RingAttention.h"


#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <new>

namespace {

using vsart::fail;

/// dst (contiguous b, h, s, d) = src addressed through (b, h, s) strides.
void gatherRows(const float *src, const int64_t strides[3], int64_t batch,
                int64_t heads, int64_t seq, int64_t dim, float *dst) {
  vsart::parallelFor(batch * heads, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / heads, h = t % heads;
      for (int64_t s = 0; s < seq; ++s)
        std::memcpy(dst + (t * seq + s) * dim,
                    src + b * strides[0] + h * strides[1] + s * strides[2],
                    size_t(dim) * sizeof(float));
    }
  });
}

struct CpuRing final : vsart::RingBackend {
  vsart_status_t packKv(const vsart_attention_args_t &a, void *kv,
                        size_t kvBytes) override {
    float *k = static_cast<float *>(kv);
    float *v = reinterpret_cast<float *>(static_cast<char *>(kv) + kvBytes);
    gatherRows(static_cast<const float *>(a.k), a.k_strides, a.batch,
               a.num_kv_heads, a.seq_kv, a.head_dim, k);
    gatherRows(static_cast<const float *>(a.v), a.v_strides, a.batch,
               a.num_kv_heads, a.seq_kv, a.head_dim, v);
    return VSART_OK;
  }

  vsart_status_t attend(const vsart_attention_args_t &c,
                        float *lse) override {
    return vsart_cpu_attention_lse(&c, lse);
  }

  vsart_status_t merge(const vsart_attention_args_t &a, const void *part,
                       const float *lsePart, float *acc, float *lseAcc,
                       bool first) override {
    const int64_t rows = a.batch * a.num_heads * a.seq_q, D = a.head_dim;
    const float *p = static_cast<const float *>(part);
    if (first) {
      std::memcpy(acc, p, size_t(rows * D) * sizeof(float));
      std::memcpy(lseAcc, lsePart, size_t(rows) * sizeof(float));
      return VSART_OK;
    }
    vsart::parallelFor(rows, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float la = lseAcc[r], lp = lsePart[r];
        const float m = std::max(la, lp);
        if (m == -std::numeric_limits<float>::infinity())
          continue; // no key yet on either side: stays 0
        const float wa = std::exp(la - m), wp = std::exp(lp - m);
        const float inv = 1.0f / (wa + wp);
        for (int64_t d = 0; d < D; ++d)
          acc[r * D + d] = (acc[r * D + d] * wa + p[r * D + d] * wp) * inv;
        lseAcc[r] = m + std::log(wa + wp);
      }
    });
    return VSART_OK;
  }

  vsart_status_t writeOut(const vsart_attention_args_t &a,
                          const float *acc) override {
    float *out = static_cast<float *>(a.out);
    const int64_t H = a.num_heads, S = a.seq_q, D = a.head_dim;
    vsart::parallelFor(a.batch * H, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        for (int64_t s = 0; s < S; ++s)
          std::memcpy(out + t / H * a.out_strides[0] +
                          t % H * a.out_strides[1] + s * a.out_strides[2],
                      acc + (t * S + s) * D, size_t(D) * sizeof(float));
    });
    return VSART_OK;
  }

  vsart_status_t maskColumns(const void *src, int64_t rows, int64_t total,
                            int64_t offset, int64_t count,
                            void *dst) override {
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(static_cast<float *>(dst) + r * count,
                  static_cast<const float *>(src) + r * total + offset,
                  size_t(count) * sizeof(float));
    return VSART_OK;
  }

  vsart_status_t beforeExchange(vsart_comm_t, void **stream) override {
    *stream = nullptr; // the thread backend copies at once
    return VSART_OK;
  }
};

} // namespace

extern "C" size_t
vsart_ring_attention_scratch_bytes(const vsart_attention_args_t *args,
                                   size_t elem_bytes) {
  if (!args)
    return 0;
  return vsart::ringLayout(*args, elem_bytes).total;
}

extern "C" vsart_status_t
vsart_cpu_ring_attention(vsart_comm_t comm, int32_t group_size,
                         const vsart_attention_args_t *args,
                         const vsart_attention_args_t *local,
                         int64_t valid_keys, void *scratch,
                         size_t scratch_bytes) {
  const char *what = "ring_attention";
  bool nothing = false;
  if (vsart_status_t st =
          vsart::checkRingArgs(comm, group_size, args, local, what, &nothing))
    return st;
  if (nothing)
    return vsart::ok();
  const vsart::RingLayout layout = vsart::ringLayout(*args, sizeof(float));
  std::unique_ptr<unsigned char[]> owned;
  if (!scratch) {
    owned.reset(new (std::nothrow) unsigned char[layout.total + 256]);
    if (!owned)
      return fail(VSART_ERROR_OUT_OF_MEMORY, "ring_attention: scratch");
    scratch = owned.get() + (256 - uintptr_t(owned.get()) % 256) % 256;
  } else if (scratch_bytes < layout.total) {
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "ring_attention: scratch of " + std::to_string(scratch_bytes) +
                    " bytes, needs " + std::to_string(layout.total));
  }
  CpuRing backend;
  if (vsart_status_t st =
          vsart::runRing(comm, group_size, *args, local, valid_keys,
                         layout,
                         static_cast<unsigned char *>(scratch), backend))
    return st;
  return vsart::ok();
}

// Host-side helpers shared by the CUDA kernels (plain C++, no device code).
#ifndef VSART_KERNELS_CUDA_COMMON_H
#define VSART_KERNELS_CUDA_COMMON_H

#include "../../src/Internal.h"
#include "vsart_cuda.h"

#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace vsart::cuda {

/// The T of the current device, made by create() with that device current
/// on its first use there and never destroyed (at static destruction time
/// CUDA may be torn down). Library handles and workspaces belong to one
/// device: one process driving several GPUs (a thread each) needs one per
/// device.
template <class T> T &perDevice(T *(*create)()) {
  static std::mutex mu;
  static std::vector<T *> all;
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess)
    device = 0;
  std::lock_guard<std::mutex> lock(mu);
  if (size_t(device) >= all.size())
    all.resize(size_t(device) + 1, nullptr);
  if (!all[size_t(device)])
    all[size_t(device)] = create();
  return *all[size_t(device)];
}

inline cudaStream_t toStream(void *stream) {
  return static_cast<cudaStream_t>(stream);
}

/// VSART_OK for cudaSuccess; otherwise records "what: <CUDA message>" and
/// returns `status`.
vsart_status_t check(cudaError_t err, const char *what,
                     vsart_status_t status = VSART_ERROR_INVALID_ARGUMENT);

/// f(std::integral_constant<int, N>()) for the first of Ns equal to n, or
/// for the last of Ns when none is: a runtime value onto the template
/// instantiations that exist.
template <int N, int... Ns, class F> decltype(auto) withConstant(int n, F &&f) {
  if constexpr (sizeof...(Ns) == 0)
    return f(std::integral_constant<int, N>());
  else if (n == N)
    return f(std::integral_constant<int, N>());
  else
    return withConstant<Ns...>(n, static_cast<F &&>(f));
}

/// Reports a failed launch of kernel `what` (cudaGetLastError).
vsart_status_t checkLaunch(const char *what);

/// Largest power of two <= 16 dividing the address and the byte sizes of
/// `ld` and `stride` bf16 elements: the widest access that every row of
/// every matrix of a strided batch allows.
unsigned alignmentBytes(const void *ptr, int64_t ld, int64_t stride);

/// fp32 strided-batched C = alpha op(A) op(B), row-major, through cuBLASLt
/// on TF32 tensor cores (inputs rounded to 10 mantissa bits, fp32
/// accumulation): vsart_cuda_gemm's conventions for fp32 matrices, without
/// bias or epilogue (k > 0).
vsart_status_t gemmTf32(bool transA, bool transB, int64_t m, int64_t n,
                        int64_t k, float alpha, const float *a, int64_t lda,
                        int64_t strideA, const float *b, int64_t ldb,
                        int64_t strideB, float *c, int64_t ldc, int64_t strideC,
                        int64_t batch, cudaStream_t stream);

/// The fp32 mean of each tile's rows of x (bf16, (batch, head, seq) element
/// strides, head_dim contiguous) per (batch, head) into pooled, (batch,
/// heads, tiles, pooledDim(headDim)) zero-padded: vsart_cuda_vsa_select's
/// pool kernel (VsaSelect.cu). offsets (tiles + 1, device) are not checked;
/// headDim <= 256. Errors are named after `name`.
vsart_status_t poolTiles(const char *name, const void *x,
                         const int64_t strides[3], int64_t batch,
                         int64_t heads, int64_t headDim,
                         const int64_t *offsets, int64_t tiles, float *pooled,
                         cudaStream_t stream);

/// Elementwise epilogue over `batch` m x n bf16 matrices (leading dim ldc,
/// batch stride strideC): with `fill`, C = epi(bias[j] or 0) (a k == 0
/// gemm); otherwise C = epi(C). epi is NONE, GELU_TANH or GELU_ERF.
vsart_status_t matrixEpilogue(void *c, int64_t m, int64_t n, int64_t ldc,
                              int64_t strideC, int64_t batch, const void *bias,
                              vsart_epilogue_t epi, bool fill,
                              cudaStream_t stream);

/// A per-output-channel gate folded into a scaled GEMM's operands, for j < n:
/// gatedScales[j] = scales[j] * gate[j] (fp32) and, when bias is not null,
/// gatedBias[j] = bf16(bias[j] * gate[j]) (gate, bias bf16).
vsart_status_t gateChannels(const float *scales, const void *bias,
                            const void *gate, int64_t n, float *gatedScales,
                            void *gatedBias, cudaStream_t stream);

/// The scalars of an FP8 GEMM with an FP8 output
/// (vsart_cuda_scaled_gemm_quantize), fixed before its matmul: B from
/// alpha, aScales[0], the weight's largest row norm (the float after its n
/// row scales wScales, in F8E4M3_TENSOR storage; unread when n == 0) and
/// max |bias| (bf16, n; may be null), then outScales[0..m) = B / 448 (1
/// when B = 0) and, at floats 0, 4 and 8 of `scalars` (device, 12 floats,
/// 16-byte aligned: cuBLASLt refuses scalar scales at other addresses),
/// aScales[0], wScales[0] and 448 / B (1 when B = 0).
vsart_status_t fp8OutputScales(int64_t m, int64_t n, float alpha,
                               const float *aScales, const float *wScales,
                               const void *bias, float *outScales,
                               float *scalars, cudaStream_t stream);

/// cuDNN's fused flash attention (CudnnAttention.cpp) on checked, non-empty
/// arguments; with `lse` it also writes each query row's log-sum-exp (fp32,
/// batch x heads x seq_q: the softmax statistics). Sets *ran once the
/// attention is queued; when cuDNN is missing or can't take the case it
/// leaves *ran false, says why in *why and returns VSART_OK; an error status
/// means cuDNN failed to run it.
vsart_status_t cudnnAttention(const vsart_attention_args_t &args,
                              cudaStream_t stream, bool *ran, std::string *why,
                              float *lse = nullptr);

/// Bytes of one row of the E4M3 copies FP8 attention works on: head_dim
/// zero-padded to 128 or 256.
inline int64_t e4m3RowBytes(int64_t headDim) {
  return headDim <= 128 ? 128 : 256;
}

/// The fp32 scalars of FP8 attention, in this order in device memory: the
/// dequantization factors of q, k, v and P, the quantization factors of P
/// and of the output, and the maxima cuDNN writes (|P| and |P V|).
enum class Fp8Scalar : int {
  DescaleQ, DescaleK, DescaleV, DescaleS, ScaleS, ScaleO, AmaxS, AmaxO, Count
};

/// E4M3 operands of FP8 attention: q, k, v and the output as (batch, heads,
/// seq) slices of rows of e4m3RowBytes(head_dim) bytes, and the Fp8Scalar
/// block.
struct Fp8Operands {
  const void *q, *k, *v;
  void *out;
  float *scalars;
};

/// Why cuDNN's FP8 flash attention cannot take `a` (cuDNN missing or older
/// than 9.1, or 9.10.0; head_dim not a multiple of 16 up to 256; what the
/// bf16 engine refuses: a mask, no keys, misaligned rows, a scale <= 0), ""
/// when it may.
std::string fp8AttentionUnsupported(const vsart_attention_args_t &a);

/// cuDNN's FP8 flash attention of `a` (fp8 set, its sizes and scale; one
/// fp8AttentionUnsupported accepts) over the E4M3 operands f on `stream`;
/// an error naming why when cuDNN builds no plan for it.
vsart_status_t cudnnAttentionFp8(const vsart_attention_args_t &a,
                                 const Fp8Operands &f, cudaStream_t stream);

/// FP8 attention (vsart_attention_args_t::fp8) on checked, non-empty
/// arguments: quantization into call scratch, cuDNN, the bf16 output.
vsart_status_t fp8Attention(const vsart_attention_args_t &a,
                            cudaStream_t stream);

/// Scratch a collective attention allocates for one call when the caller
/// passes none: managed memory when a host-side (thread) communicator
/// copies it, else stream-ordered device memory; freed when it goes out of
/// scope, after the stream's last use.
class CallScratch {
public:
  CallScratch(bool managed, cudaStream_t s) : managed_(managed), s_(s) {}
  CallScratch(const CallScratch &) = delete;
  CallScratch &operator=(const CallScratch &) = delete;
  vsart_status_t allocate(size_t bytes, const char *what, void **out) {
    if (vsart_status_t st = check(managed_ ? cudaMallocManaged(&p_, bytes)
                                           : cudaMallocAsync(&p_, bytes, s_),
                                  what))
      return st;
    *out = p_;
    return VSART_OK;
  }
  ~CallScratch() {
    if (!p_)
      return;
    if (managed_) {
      cudaStreamSynchronize(s_); // the last kernels read it
      cudaFree(p_);
    } else {
      cudaFreeAsync(p_, s_);
    }
  }

private:
  bool managed_;
  cudaStream_t s_;
  void *p_ = nullptr;
};

/// The current device's second stream, for collectives that overlap the
/// compute stream's kernels (Ulysses and ring attention), with a pool of
/// events; made on first use, never destroyed.
struct SideStream {
  cudaStream_t stream = nullptr;
  std::vector<cudaEvent_t> events;
};
/// The device's side stream with at least `events` events.
vsart_status_t sideStream(size_t events, SideStream **out);

/// The path VSART_ATTENTION or vsart_cuda_set_attention_path selected.
vsart_status_t attentionPath(vsart_attention_path_t *path);

/// cuDNN's version when it loads, else 0.
int cudnnVersion();

/// FNV-1a over the entries of a plan-cache key (std::array<int64_t, N>).
struct ArrayHash {
  template <size_t N>
  size_t operator()(const std::array<int64_t, N> &key) const {
    size_t h = 1469598103934665603ull;
    for (int64_t v : key)
      h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
    return h;
  }
};

} // namespace vsart::cuda

#endif // VSART_KERNELS_CUDA_COMMON_H

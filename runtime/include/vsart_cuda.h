/* vsart_cuda.h - CUDA kernels of the vsa runtime (libvsart_cuda).
 *
 * Storage is bf16 (__nv_bfloat16 passed as void*), accumulation fp32. Every
 * pointer is a device pointer; `stream` is a cudaStream_t (NULL = default
 * stream). Each kernel has a CPU twin in vsart.h with the same semantics,
 * which the tests compare against. Calls are asynchronous on `stream`;
 * errors of the launch are reported, errors of the execution surface at the
 * next vsart_cuda_synchronize. */
#ifndef VSART_CUDA_H
#define VSART_CUDA_H

#include "vsart.h"
#include "vsart_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when a CUDA device is usable, else 0 (never fails). */
int vsart_cuda_available(void);
/* Name of device 0 ("" when none). */
const char *vsart_cuda_device_name(void);

/* Device memory and copies; the device-ops table of the CUDA target. */
vsart_status_t vsart_cuda_malloc(size_t bytes, void **out);
void vsart_cuda_free(void *ptr);
vsart_status_t vsart_cuda_upload(void *dst, const void *src, size_t bytes,
                                 void *stream);
vsart_status_t vsart_cuda_download(void *dst, const void *src, size_t bytes,
                                   void *stream);
vsart_status_t vsart_cuda_synchronize(void *stream);
extern const vsart_device_ops_t vsart_cuda_device_ops;

/* Strided batched GEMM through cuBLASLt, row-major like vsart_cpu_gemm:
 * for each i < batch: C_i[m,n] = epilogue(alpha * op(A_i) op(B_i) + bias[n])
 * with A_i = a + i * stride_a (elements; stride 0 broadcasts), likewise B, C.
 * bias (n) may be NULL. VSART_EPILOGUE_GELU_TANH is fused by cuBLASLt;
 * GELU_ERF runs as a second kernel. */
vsart_status_t vsart_cuda_gemm(int trans_a, int trans_b, int64_t m, int64_t n,
                               int64_t k, float alpha, const void *a,
                               int64_t lda, int64_t stride_a, const void *b,
                               int64_t ldb, int64_t stride_b, void *c,
                               int64_t ldc, int64_t stride_c, int64_t batch,
                               const void *bias, vsart_epilogue_t epilogue,
                               void *stream);

/* The twin of vsart_cpu_quantize_rows on bf16 rows (ld >= cols elements):
 * the same bytes and scales as the CPU twin given the same bf16 values.
 * cols % 8 == 0 and ld % 8 == 0 (16-byte rows). */
vsart_status_t vsart_cuda_quantize_rows(const void *x, int64_t rows,
                                        int64_t cols, int64_t ld, void *q,
                                        float *scales, void *stream);

/* The twin of vsart_cpu_scaled_gemm: cuBLASLt's FP8 matmul with outer-vector
 * scales (per row of A, per output channel of W), fp32 accumulation, bf16 C
 * and bias, the same epilogues as vsart_cuda_gemm. k % 16 == 0 and
 * n % 8 == 0. Hopper (sm_90) or newer. */
vsart_status_t vsart_cuda_scaled_gemm(int64_t m, int64_t n, int64_t k,
                                      float alpha, const void *a_q,
                                      const float *a_scales, const void *w,
                                      void *c, int64_t ldc, const void *bias,
                                      vsart_epilogue_t epilogue, void *stream);

/* The twin of vsart_cpu_scaled_gemm_residual on bf16 C, residual, bias and
 * gate: cuBLASLt reads the residual as its C (beta = 1) and the gate scales
 * the weight's per-channel scales and the bias (in stream-ordered scratch,
 * the gated bias rounded to bf16), so the GEMM's output is never rounded to
 * bf16 on its own. The limits of vsart_cuda_scaled_gemm; c != residual. */
vsart_status_t vsart_cuda_scaled_gemm_residual(
    int64_t m, int64_t n, int64_t k, float alpha, const void *a_q,
    const float *a_scales, const void *w, void *c, int64_t ldc,
    const void *bias, const void *residual, const void *gate, void *stream);

/* The twin of vsart_cpu_scaled_gemm_quantize on bf16 bias: cuBLASLt's FP8
 * matmul with scalar A and B scales and an E4M3 output scaled by 448 / B,
 * computed on the device before the matmul (a small kernel that also fills
 * out_scales). k % 16 == 0 and n % 16 == 0; epilogue NONE or GELU_TANH.
 * Hopper (sm_90) or newer. */
vsart_status_t vsart_cuda_scaled_gemm_quantize(
    int64_t m, int64_t n, int64_t k, float alpha, const void *a_q,
    const float *a_scales, const void *w, void *out_q, float *out_scales,
    const void *bias, vsart_epilogue_t epilogue, void *stream);

/* Attention (online softmax, fp32 accumulation, tensor cores): cuDNN's fused
 * flash attention where cuDNN can run the case (see below), else our
 * flash-attention-2 style kernel. */
vsart_status_t vsart_cuda_attention(const vsart_attention_args_t *args,
                                    void *stream);

/* The twin of vsart_cpu_attention_lse (cuDNN's fused attention with its
 * softmax statistics where vsart_cuda_attention would use it, else our
 * kernel): lse is a
 * device array of batch x num_heads x seq_q floats. */
vsart_status_t vsart_cuda_attention_lse(const vsart_attention_args_t *args,
                                        float *lse, void *stream);

/* The twin of vsart_cpu_ring_attention (vsart_comm.h) on device memory:
 * bf16 q/k/v/out, fp32 merge, NCCL sendrecv on stream (scratch: device
 * memory of vsart_ring_attention_scratch_bytes(args, 2) bytes, or NULL to
 * allocate it on the stream). */
vsart_status_t vsart_cuda_ring_attention(vsart_comm_t comm, int32_t group_size,
                                         const vsart_attention_args_t *args,
                                         const vsart_attention_args_t *local,
                                         int64_t valid_keys, void *scratch,
                                         size_t scratch_bytes, void *stream);

/* The twin of vsart_cpu_ulysses_attention (vsart_comm.h) on device memory:
 * bf16 q/k/v/out, the attention as vsart_cuda_attention. With NCCL the
 * exchanges run on a second stream of the device (events order them), so
 * chunk c + 1's rows arrive and chunk c - 1's output leaves while chunk c
 * attends; stream waits for all of it on return. With the thread backend
 * (tests; managed memory) each exchange synchronises stream and copies on
 * the host. scratch: device memory of
 * vsart_ulysses_attention_scratch_bytes(args, group_size, 2) bytes, or NULL
 * to allocate it on the stream. */
vsart_status_t vsart_cuda_ulysses_attention(vsart_comm_t comm,
                                            int32_t group_size,
                                            const vsart_attention_args_t *args,
                                            int32_t chunks, void *scratch,
                                            size_t scratch_bytes, void *stream);

/* Block-sparse attention, the twin of vsart_cpu_block_sparse_attention
 * (bf16 q/k/v/out, fp32 accumulation, tensor cores). q_block_offsets,
 * kv_block_offsets, list_offsets and lists are device pointers (lists may be
 * computed on the device, e.g. by vsart_cuda_vsa_select), so the host checks
 * only pointers, counts, sizes (head_dim <= 256), the list scope and that
 * attn.mask is NULL; the offsets must be valid as the CPU twin requires, and
 * list entries outside [0, num_kv_blocks) are skipped. lists may be NULL
 * when every list is empty. max_q_block (0 = seq_q) must be at least the
 * largest query block: it sizes the grid, ceil(max_q_block / 64 or 128)
 * CTAs per query block, and rows past it are neither computed nor written.
 * Blocks of up to 64 tokens (VSA tiles) run on 64-query tiles, larger ones
 * (frames) on 128-query tiles; keys stream in 64-row tiles (32 for head_dim
 * > 128). */
vsart_status_t
vsart_cuda_block_sparse_attention(const vsart_block_sparse_args_t *args,
                                  void *stream);

/* VSA coarse stage, the twin of vsart_cpu_vsa_select: bf16 q/k/v/out;
 * tile_offsets, list_offsets, lists, pooled_q and pooled_k are device
 * pointers (the offsets are not checked on the device: they must satisfy
 * vsart_cpu_vsa_select's rules). head_dim <= 256; num_tiles up to about
 * 3,000 (6,000 with a small head_dim), bounded by shared memory. Scratch of
 * at most batch * (num_heads + 2 * num_kv_heads) * num_tiles * head_dim
 * (rounded up to 4) floats (less given pooled_q and pooled_k, or without the
 * coarse output) comes from cudaMallocAsync on the stream and is freed,
 * stream-ordered, before the call returns. */
vsart_status_t vsart_cuda_vsa_select(const vsart_vsa_select_args_t *args,
                                     void *stream);

/* Which implementation vsart_cuda_attention runs. AUTO (the default): cuDNN's
 * fused flash attention (cuDNN 9, loaded at run time from libcudnn.so.9 or
 * libcudnn.so; no link-time dependency) when it loads and takes the case (no
 * mask, head_dim a multiple of 8 up to 256, 16-byte aligned operands, at
 * least one key, scale > 0, a plan cuDNN can build), else our kernel. OWN: always our
 * kernel. CUDNN: cuDNN only; a call it can't run fails, saying why. The
 * environment variable VSART_ATTENTION=auto|own|cudnn sets the initial
 * path (another value makes attention calls fail); this call overrides it. */
typedef enum vsart_attention_path_t {
  VSART_ATTENTION_AUTO = 0,
  VSART_ATTENTION_OWN = 1,
  VSART_ATTENTION_CUDNN = 2,
} vsart_attention_path_t;
vsart_status_t vsart_cuda_set_attention_path(vsart_attention_path_t path);
/* cuDNN's version (e.g. 91900 for 9.19.0) when cuDNN 9 loads, else 0. */
int vsart_cuda_cudnn_version(void);

/* Row-wise over the last dim; scale/bias (dim, bf16) may be NULL. */
vsart_status_t vsart_cuda_layer_norm(const void *x, void *out, int64_t rows,
                                     int64_t dim, const void *scale,
                                     const void *bias, float eps, void *stream);
vsart_status_t vsart_cuda_rms_norm(const void *x, void *out, int64_t rows,
                                   int64_t dim, const void *scale,
                                   const void *bias, float eps, void *stream);
vsart_status_t vsart_cuda_softmax(const void *x, void *out, int64_t rows,
                                  int64_t dim, void *stream);
/* The twin of vsart_cpu_norm_rope (bf16 x, out, scale, bias, cos, sin; one
 * pass over x): heads * head_dim <= 6144, both multiples of 8; x, out,
 * scale and bias 16-byte aligned, cos and sin 8-byte aligned. With pooled:
 * tile_offsets on the device (not checked there: they must satisfy
 * vsart_cpu_norm_rope's rules), head_dim <= 256, batch <= 65535; the tile
 * means are fp32 sums of the stored bf16 values in a fixed order (the same
 * bits on every run), mostly taken as the rows are written. */
vsart_status_t vsart_cuda_norm_rope(const vsart_norm_rope_args_t *args,
                                    void *stream);
/* The twin of vsart_cpu_norm_quantize (bf16 x and parameters): each
 * normalised value is rounded to bf16 before the row is quantized, so q and
 * scales equal vsart_cuda_*_norm(_modulate) followed by
 * vsart_cuda_quantize_rows, with one pass over x and no bf16 rows written
 * (rows of more than 6144 values: the norm into stream-ordered scratch,
 * then vsart_cuda_quantize_rows). dim % 8 == 0; x, scale, bias, mod_shift
 * and mod_scale 16-byte aligned, q 8-byte aligned. */
vsart_status_t vsart_cuda_norm_quantize(const vsart_norm_quantize_args_t *args,
                                        void *stream);
/* The twins of vsart_cpu_*_norm_modulate (bf16; one pass over x). */
vsart_status_t vsart_cuda_layer_norm_modulate(
    const void *x, void *out, int64_t batch, int64_t seq, int64_t dim,
    const void *scale, const void *bias, float eps, const void *mod_shift,
    const void *mod_scale, void *stream);
vsart_status_t vsart_cuda_rms_norm_modulate(
    const void *x, void *out, int64_t batch, int64_t seq, int64_t dim,
    const void *scale, const void *bias, float eps, const void *mod_shift,
    const void *mod_scale, void *stream);

/* Tensor collectives on device memory (NCCL communicators): the twins of
 * vsart_cpu_all_to_all / vsart_cpu_all_gather (vsart_comm.h), the pack and
 * unpack being one small copy kernel each on `stream`. scratch: device
 * memory of vsart_*_scratch_bytes() bytes, or NULL to allocate it per call
 * (stream-ordered, cudaMallocAsync/cudaFreeAsync). Asynchronous like the
 * NCCL calls: synchronize through vsart_comm_synchronize. A thread
 * communicator also works when every buffer is host-accessible (managed
 * memory, scratch too; NULL scratch is then allocated managed): the stream
 * is synchronized before the host copies (tests). */
vsart_status_t vsart_cuda_all_to_all(vsart_comm_t comm, int32_t group_size,
                                     const void *in, void *out, int32_t rank,
                                     const int64_t *dims, int32_t scatter_axis,
                                     int32_t gather_axis, size_t elem_bytes,
                                     void *scratch, void *stream);
/* The twin of vsart_cpu_all_to_all_n (one NCCL group for every tensor). */
vsart_status_t vsart_cuda_all_to_all_n(vsart_comm_t comm, int32_t group_size,
                                       int32_t count, const void *const *in,
                                       void *const *out, int32_t rank,
                                       const int64_t *dims,
                                       int32_t scatter_axis,
                                       int32_t gather_axis, size_t elem_bytes,
                                       void *scratch, void *stream);
vsart_status_t vsart_cuda_all_gather(vsart_comm_t comm, int32_t group_size,
                                     const void *in, void *out, int32_t rank,
                                     const int64_t *dims, int32_t axis,
                                     size_t elem_bytes, void *scratch,
                                     void *stream);

/* The twin of vsart_cpu_shard_copy: one cudaMemcpy2DAsync on stream. */
vsart_status_t vsart_cuda_shard_copy(vsart_comm_t comm, int32_t group_size,
                                     const void *in, void *out, int32_t rank,
                                     const int64_t *dims, int32_t axis,
                                     size_t elem_bytes, void *stream);

/* The main of CUDA executables: vsart_exe_main plus NCCL. `--ranks N`
 * creates vsart_comm_create_nccl_local(N) in this process, rank r driving
 * GPU r from its own thread with its own session; without --ranks, a model
 * with collectives started by torchrun or mpirun (RANK/WORLD_SIZE,
 * OMPI_COMM_WORLD_*, PMI_*) joins the job through
 * vsart_comm_create_nccl_from_env (one GPU per process, LOCAL_RANK). */
int vsart_cuda_exe_main(int argc, char **argv, const vsart_model_t *model);

/* Semantic-aware permutation attention (Sparse VideoGen2), the twin of
 * vsart_cpu_semantic_attention: bf16 q/k/v/out; the state's centroids
 * (fp32), scratch, labels and block map are device memory (the state struct
 * itself and its `initialized` flag are host memory). head_dim <= 256;
 * shared memory bounds num_kv_clusters (about 12,000) and the clusters'
 * sizes never reach the host. Query clusters run as blocks of at most 64
 * rows. k-means sums use fp32 atomics, so centroids (and, on near-ties,
 * clusters) may differ from the CPU twin and from run to run at rounding
 * level. Scratch: vsart_cuda_semantic_scratch_bytes (about 4 bf16 copies of
 * q plus int32 labels, permutations and lists). */
vsart_status_t
vsart_cuda_semantic_scratch_bytes(const vsart_semantic_args_t *args,
                                  size_t *bytes);
vsart_status_t
vsart_cuda_semantic_attention(const vsart_semantic_args_t *args, void *stream);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VSART_CUDA_H */

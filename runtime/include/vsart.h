/* vsart.h - C API of the vsa runtime (plain C, no LLVM/MLIR dependency).
 *
 * Conventions: every fallible call returns a vsart_status_t; VSART_OK is 0.
 * vsart_status_message() names a code; vsart_last_error() gives the detailed
 * message of the last failure on the calling thread. Handles are opaque.
 * CPU kernels compute in fp32 on raw row-major pointers, are multithreaded
 * (VSART_NUM_THREADS, default hardware_concurrency) and give bit-identical
 * results for any thread count. Elementwise and row-wise kernels allow
 * out == x (in place). */
#ifndef VSART_H
#define VSART_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vsart_status_t {
  VSART_OK = 0,
  VSART_ERROR_INVALID_ARGUMENT = 1,
  VSART_ERROR_OUT_OF_MEMORY = 2,
  VSART_ERROR_IO = 3,
  VSART_ERROR_INVALID_FORMAT = 4,
  VSART_ERROR_UNSUPPORTED_VERSION = 5,
  VSART_ERROR_NOT_FOUND = 6,
  VSART_ERROR_COMM = 7, /* a communicator aborted, timed out or failed */
} vsart_status_t;

/* Static description of a status code (never NULL). */
const char *vsart_status_message(vsart_status_t status);
/* Detailed message of the last failing call on this thread ("" if none). */
const char *vsart_last_error(void);

/* ---- tensors ------------------------------------------------------------ */

typedef enum vsart_dtype_t {
  VSART_DTYPE_F32 = 0,
  VSART_DTYPE_F16 = 1,
  VSART_DTYPE_BF16 = 2,
  VSART_DTYPE_I64 = 3,
  VSART_DTYPE_I32 = 4,
  VSART_DTYPE_U8 = 5,
  VSART_DTYPE_BOOL = 6, /* one byte per element */
  /* Storage only (of a float weight, rank >= 1), never an element type: the
   * tensor's elements as FP8 E4M3 bytes in row-major order (rows = every dim
   * but the last), then, at byte vsart_f8_rows_scales_offset(), one fp32
   * scale per row: element = e4m3 value * scale[row]. See
   * vsart_cpu_quantize_rows. */
  VSART_DTYPE_F8E4M3_ROWS = 7,
  /* Storage only, laid out like F8E4M3_ROWS but quantized with one scale
   * for the whole tensor (max |x| / 448, so every row scale is equal),
   * followed by one more fp32: the largest 2-norm of a row of the
   * dequantized tensor, rounded up. FP8 GEMMs with an FP8 output read both
   * (vsart_*_scaled_gemm_quantize); other scaled GEMMs read it as
   * F8E4M3_ROWS. */
  VSART_DTYPE_F8E4M3_TENSOR = 8,
} vsart_dtype_t;

#define VSART_MAX_RANK 8

/* Bytes per element, 0 for an unknown dtype (and for F8E4M3_ROWS and
 * F8E4M3_TENSOR, which are not ones). */
size_t vsart_dtype_size(vsart_dtype_t dtype);
/* Bytes a tensor of `dims` takes when stored as `storage` (any dtype,
 * F8E4M3_ROWS and F8E4M3_TENSOR included); 0 for an unknown dtype. */
size_t vsart_storage_bytes(vsart_dtype_t storage, int32_t rank,
                           const int64_t *dims);
/* Where the row scales of an F8E4M3_ROWS (or F8E4M3_TENSOR) tensor of
 * `count` elements start: count rounded up to 16 bytes. */
size_t vsart_f8_rows_scales_offset(int64_t count);

typedef struct vsart_tensor *vsart_tensor_t;

/* Zero-initialised, 64-byte aligned, row-major. rank 0..VSART_MAX_RANK,
 * dims >= 0 (dims may be NULL when rank is 0). */
vsart_status_t vsart_tensor_create(vsart_dtype_t dtype, int32_t rank,
                                   const int64_t *dims, vsart_tensor_t *out);
void vsart_tensor_destroy(vsart_tensor_t tensor); /* NULL is a no-op */
void *vsart_tensor_data(vsart_tensor_t tensor);
vsart_dtype_t vsart_tensor_dtype(vsart_tensor_t tensor);
int32_t vsart_tensor_rank(vsart_tensor_t tensor);
int64_t vsart_tensor_dim(vsart_tensor_t tensor, int32_t axis); /* -1 if out of range */
const int64_t *vsart_tensor_dims(vsart_tensor_t tensor);
int64_t vsart_tensor_num_elements(vsart_tensor_t tensor);
size_t vsart_tensor_size_bytes(vsart_tensor_t tensor);

/* ---- threading ---------------------------------------------------------- */

/* Threads used by CPU kernels (>= 1). Setting n <= 0 restores the default
 * (VSART_NUM_THREADS or hardware_concurrency). Not to be called while a
 * kernel runs. */
int32_t vsart_get_num_threads(void);
void vsart_set_num_threads(int32_t n);

/* Calls fn(ctx, begin, end) over disjoint chunks covering [0, n), each at
 * least `grain` long (except the last), on the runtime's threads; returns
 * when all are done. Used by generated CPU kernels. */
void vsart_parallel_for(int64_t n, int64_t grain,
                        void (*fn)(void *ctx, int64_t begin, int64_t end),
                        void *ctx);

/* ---- CPU kernels (fp32) ------------------------------------------------- */

typedef enum vsart_epilogue_t {
  VSART_EPILOGUE_NONE = 0,
  VSART_EPILOGUE_GELU_TANH = 1,
  VSART_EPILOGUE_GELU_ERF = 2,
} vsart_epilogue_t;

/* C[m,n] = epilogue(alpha * op(A) op(B) + beta * C + bias[n]).
 * op(A) is m x k: A is m x k (lda >= k) or, transposed, k x m (lda >= m).
 * op(B) is k x n: B is k x n (ldb >= n) or, transposed, n x k (ldb >= k).
 * ldc >= n. bias may be NULL. With beta == 0, C is not read. */
vsart_status_t vsart_cpu_gemm(int trans_a, int trans_b, int64_t m, int64_t n,
                              int64_t k, float alpha, const float *a,
                              int64_t lda, const float *b, int64_t ldb,
                              float beta, float *c, int64_t ldc,
                              const float *bias, vsart_epilogue_t epilogue);

/* FP8 E4M3 with one scale per row (per token of an activation, per output
 * channel of a weight): scale[r] = max_c |x[r,c]| / 448 (1 for a zero row),
 * q[r,c] = e4m3(x[r,c] / scale[r]) computed as x * (448 / max), rounded to
 * nearest even and saturated to +-448 (NaN stays NaN). q holds rows x cols
 * bytes; x rows are ld >= cols apart. */
vsart_status_t vsart_cpu_quantize_rows(const float *x, int64_t rows,
                                       int64_t cols, int64_t ld, uint8_t *q,
                                       float *scales);
/* The value of an E4M3 byte. */
float vsart_e4m3_to_float(uint8_t byte);

/* C[m,n] = epilogue(alpha * sum_k A[i,k] W[j,k] + bias[n]) with A row-quantized
 * (a_q: m x k bytes, a_scales: m) and W the (n x k) weight in F8E4M3_ROWS
 * storage (bytes, then n scales). Both operands are dequantized (value times
 * its row's scale) and multiplied in fp32 by vsart_cpu_gemm: the CPU twin of
 * vsart_cuda_scaled_gemm, equal up to rounding. ldc >= n. */
vsart_status_t vsart_cpu_scaled_gemm(int64_t m, int64_t n, int64_t k,
                                     float alpha, const uint8_t *a_q,
                                     const float *a_scales, const void *w,
                                     float *c, int64_t ldc, const float *bias,
                                     vsart_epilogue_t epilogue);

/* A residual connection fused into the scaled GEMM:
 * C[i,j] = residual[i,j] + gate[j] * (alpha * sum_k A[i,k] W[j,k] + bias[j])
 * (gate NULL: 1), the GEMM as vsart_cpu_scaled_gemm with no epilogue.
 * residual is m x n with rows ldc apart, like C; C may not alias it. */
vsart_status_t vsart_cpu_scaled_gemm_residual(
    int64_t m, int64_t n, int64_t k, float alpha, const uint8_t *a_q,
    const float *a_scales, const void *w, float *c, int64_t ldc,
    const float *bias, const float *residual, const float *gate);

/* An FP8 GEMM with an FP8 output whose scale is fixed before the product:
 * out_q[i,j] = e4m3(epilogue(alpha * sum_k A[i,k] W[j,k] + bias[j]) * 448 / B)
 * and out_scales[i] = B / 448 for every row (1 when B = 0), where A is
 * a_q (m x k) with one scale for every row (a_scales[0]; the others must
 * equal it, as vsart_*_norm_quantize with per_tensor gives) and W (n x k)
 * is in F8E4M3_TENSOR storage (scale s_w, largest row 2-norm w_norm).
 * B = |alpha| * VSART_FP8_ROW_NORM_SLACK * 448 * a_scales[0] * w_norm
 *     + max_j |bias[j]|
 * bounds every output when each row of the dequantized A has a 2-norm of at
 * most VSART_FP8_ROW_NORM_SLACK * 448 * a_scales[0] (Cauchy-Schwarz, and
 * |gelu(z)| <= |z|), so nothing saturates. epilogue NONE or GELU_TANH. The
 * CPU twin dequantizes both operands, multiplies in fp32 (vsart_cpu_gemm)
 * and rounds as x * (448 / B), the rule of vsart_cpu_quantize_rows.
 * out_q is m x n bytes. */
#define VSART_FP8_ROW_NORM_SLACK 1.07f
vsart_status_t vsart_cpu_scaled_gemm_quantize(
    int64_t m, int64_t n, int64_t k, float alpha, const uint8_t *a_q,
    const float *a_scales, const void *w, uint8_t *out_q, float *out_scales,
    const float *bias, vsart_epilogue_t epilogue);

/* out[b,h,i,:] = softmax_j(scale * q[b,h,i,:].k[b,g,j,:] + mask[b,h,i,j]) v[b,g,j,:]
 * q, out: (batch, num_heads, seq_q, head_dim); k, v: (batch, num_kv_heads,
 * seq_kv, head_dim); g = h / (num_heads / num_kv_heads) (grouped-query heads;
 * num_heads % num_kv_heads == 0). mask may be NULL; otherwise mask_dims[4]
 * gives its shape, each entry 1 (broadcast) or equal to (batch, num_heads,
 * seq_q, seq_kv). A row whose keys are all masked (-inf) yields 0. Memory use
 * is O(block), never seq_q x seq_kv. */
vsart_status_t vsart_cpu_attention(const float *q, const float *k,
                                   const float *v, float *out, int64_t batch,
                                   int64_t num_heads, int64_t num_kv_heads,
                                   int64_t seq_q, int64_t seq_kv,
                                   int64_t head_dim, float scale,
                                   const float *mask, const int64_t *mask_dims);

/* Strided attention: the same computation as vsart_cpu_attention over tensors
 * addressed as ptr[b * strides[0] + h * strides[1] + s * strides[2] + d]
 * (head_dim contiguous), so (batch, seq, heads, dim) layouts need no
 * transpose. The CPU kernels read/write float, the CUDA kernels bf16.
 * mask (same element type as q, additive, contiguous over mask_dims, each
 * entry 1 or the full size of batch, num_heads, seq_q, seq_kv) may be NULL. */
typedef struct vsart_attention_args_t {
  const void *q, *k, *v;
  void *out;
  int64_t batch, num_heads, num_kv_heads, seq_q, seq_kv, head_dim;
  int64_t q_strides[3], k_strides[3], v_strides[3], out_strides[3];
  float scale;
  const void *mask;
  int64_t mask_dims[4];
  /* Nonzero: FP8 attention (vsart_*_attention_strided / vsart_cuda_attention
   * only, no mask). q, k and v are quantized to E4M3 with one scale per
   * tensor (max |x| / 448, the rule of vsart_cpu_quantize_rows, over the
   * whole tensor); the scores and the softmax are fp32; the softmax
   * numerators exp(s - row max) (<= 1) are rounded to E4M3 as x * 448, P V
   * is accumulated in fp32 over them, divided by the row's sum and rounded
   * to E4M3 with v's scale (|P V| <= max |v|) before it is written.
   * This is cuDNN's FP8 flash attention, which the CUDA kernel runs (sm_90,
   * cuDNN >= 9.1, head_dim a multiple of 16 up to 256; an error otherwise);
   * the CPU kernel computes the same in fp32 on the rounded values. */
  int32_t fp8;
} vsart_attention_args_t;

vsart_status_t vsart_cpu_attention_strided(const vsart_attention_args_t *args);

/* vsart_cpu_attention_strided that also writes, for every query row,
 * lse[(b * num_heads + h) * seq_q + i] = log sum_j exp(scale * q.k_j +
 * mask) (natural log; -inf for a row without a finite logit): what ring
 * attention merges partial outputs with. */
vsart_status_t vsart_cpu_attention_lse(const vsart_attention_args_t *args,
                                       float *lse);

/* Block-sparse attention (the reference for sparse attention patterns).
 * Queries and keys are cut into blocks of any sizes: query block i is rows
 * [q_block_offsets[i], q_block_offsets[i + 1]) (num_q_blocks + 1 offsets
 * from 0 to seq_q), likewise key blocks, so a padded tile is simply a block
 * holding only its real tokens. Each query block attends, with one softmax,
 * to the keys of the key blocks in its list: lists[list_offsets[l] ..
 * list_offsets[l + 1]) (CSR), with l = query block (SHARED), head *
 * num_q_blocks + query block (PER_HEAD) or (batch * num_heads + head) *
 * num_q_blocks + query block (PER_BATCH_HEAD); offsets are positions in
 * `lists` (>= 0, non-decreasing, not necessarily from 0, so several offset
 * tables may share one list array). An empty list yields 0.
 * attn.mask must be NULL. With every key block listed it equals dense
 * attention up to rounding. */
typedef enum vsart_list_scope_t {
  VSART_LISTS_SHARED = 0,
  VSART_LISTS_PER_HEAD = 1,
  VSART_LISTS_PER_BATCH_HEAD = 2,
} vsart_list_scope_t;

typedef struct vsart_block_sparse_args_t {
  vsart_attention_args_t attn;
  int64_t num_q_blocks;
  const int64_t *q_block_offsets;
  int64_t num_kv_blocks;
  const int64_t *kv_block_offsets;
  vsart_list_scope_t list_scope;
  const int64_t *list_offsets;
  const int32_t *lists;
  /* Largest query block in tokens (an upper bound is fine): sizes the CUDA
   * launch grid, whose offsets and lists live on the device. 0 = seq_q. The
   * CPU kernel ignores it. */
  int64_t max_q_block;
} vsart_block_sparse_args_t;

vsart_status_t
vsart_cpu_block_sparse_attention(const vsart_block_sparse_args_t *args);

/* Video Sparse Attention (VSA, FastVideo) coarse stage: self-attention with
 * tokens in tile order, tile t holding rows [tile_offsets[t],
 * tile_offsets[t + 1]) of q, k and v (num_tiles + 1 offsets from 0 to seq;
 * seq_q == seq_kv; tiles may hold different numbers of tokens, none zero).
 * Per (batch, head): pooled q_t, k_t, v_t = mean of the tile's rows (fp32);
 * scores s[i][j] = attn.scale * q_i . k_j (grouped-query heads as in
 * vsart_cpu_attention). Selection: for each query tile i the top_k key tiles
 * by s[i][:] (1 <= top_k <= num_tiles; equal scores: the lower tile index
 * wins), written in ascending tile order to lists[l * top_k ..) with
 * l = (b * num_heads + h) * num_tiles + i, and list_offsets[l] = l * top_k
 * (batch * num_heads * num_tiles + 1 entries), i.e. PER_BATCH_HEAD lists for
 * vsart_*_block_sparse_attention with tile_offsets as both block offsets.
 * Coarse output (when attn.out is not NULL): every row of query tile i gets
 * sum_j softmax_j(s[i][:]) v_j, written through attn.out / out_strides (the
 * VSA gate multiplies it). attn.mask must be NULL. */
typedef struct vsart_vsa_select_args_t {
  vsart_attention_args_t attn;
  int64_t num_tiles;
  const int64_t *tile_offsets;
  int64_t top_k;
  int64_t *list_offsets; /* out */
  int32_t *lists;        /* out */
  /* Optional: q's and k's tile means, as vsart_*_norm_rope's `pooled`
   * writes them ((batch, num_heads or num_kv_heads, num_tiles, head_dim
   * rounded up to 4) floats; device memory on CUDA). Given both, the
   * selection reads them instead of pooling attn.q and attn.k (which may
   * then be NULL); v is still pooled for the coarse output. Read only. */
  const float *pooled_q, *pooled_k;
} vsart_vsa_select_args_t;

vsart_status_t vsart_cpu_vsa_select(const vsart_vsa_select_args_t *args);

/* Semantic-aware permutation attention (Sparse VideoGen2, the `semantic`
 * pattern): self-attention (seq_q == seq_kv == seq, attn.mask NULL, grouped-
 * query heads as in vsart_cpu_attention) over the key clusters each query
 * cluster keeps. Per (batch, head) of q and per (batch, kv head) of k:
 *  1. k-means (squared L2 distance, fp32; a token joins the cluster c with
 *     the smallest |c|^2 - 2 x.c, equal distances: the lower index). On the
 *     first call (state->initialized == 0) cluster c starts at token
 *     floor(c * seq / num_clusters) and iterations_first iterations run,
 *     later calls start from the state's centroids and run iterations_warm.
 *     An iteration assigns every token, then moves each centroid to the
 *     mean of its tokens; a cluster left empty keeps its centroid. The
 *     assignment of the last iteration clusters the tokens (as in SVG2, the
 *     centroids then move once more); the moved centroids are written back
 *     to the state and scored.
 *  2. Scores: for query cluster i of (b, h) and key cluster j of (b, g),
 *     s_ij = attn.scale * qc_i . kc_j, p_ij = n_j exp(s_ij) / sum_j' n_j'
 *     exp(s_ij') with n_j the size of key cluster j (log n_j added to the
 *     logit). Key clusters in descending p (equal: lower index first) are
 *     kept while the cumulative p before them is <= top_p, and always the
 *     first max(1, ceil(min_kept_fraction * num_kv_clusters)); top_p >= 1
 *     keeps every key cluster (then the result is dense attention).
 *  3. Tokens are permuted by cluster (stable counting sort), each query
 *     cluster attends with one softmax to the tokens of its kept key
 *     clusters (vsart_*_block_sparse_attention over clusters of variable
 *     size), and the rows are written back in the original token order
 *     through attn.out / out_strides.
 * The state belongs to the caller and carries the centroids from call to
 * call (SVG2 keeps one per layer): q_centroids (batch, num_heads,
 * num_q_clusters, head_dim) and k_centroids (batch, num_kv_heads,
 * num_kv_clusters, head_dim), fp32, host memory for the CPU kernel and
 * device memory for the CUDA one; `initialized` (host) is set to 1 by every
 * successful call with work to do. Batches are independent (classifier-free
 * guidance runs as batch 2).
 * Scratch: scratch_bytes bytes at `scratch` (64-byte aligned), at least what
 * vsart_cpu_semantic_scratch_bytes / vsart_cuda_semantic_scratch_bytes
 * report for these arguments (device memory for CUDA); nothing in it
 * survives the call. Optional outputs (NULL: not written): q_labels (batch,
 * num_heads, seq) and k_labels (batch, num_kv_heads, seq), the cluster of
 * each token; block_map (batch, num_heads, num_q_clusters, num_kv_clusters),
 * 1 where the key cluster is kept, else 0. The CPU results do not depend on
 * the thread count. */
#define VSART_SEMANTIC_DEFAULT_Q_CLUSTERS 100
#define VSART_SEMANTIC_DEFAULT_KV_CLUSTERS 100
#define VSART_SEMANTIC_DEFAULT_ITERATIONS_FIRST 50
#define VSART_SEMANTIC_DEFAULT_ITERATIONS_WARM 2
#define VSART_SEMANTIC_DEFAULT_TOP_P 0.9f
#define VSART_SEMANTIC_DEFAULT_MIN_KEPT_FRACTION 0.1f

typedef struct vsart_semantic_state_t {
  float *q_centroids;
  float *k_centroids;
  int32_t initialized; /* 0: the next call seeds and runs iterations_first */
} vsart_semantic_state_t;

typedef struct vsart_semantic_args_t {
  vsart_attention_args_t attn;
  int64_t num_q_clusters;  /* in [1, seq] */
  int64_t num_kv_clusters; /* in [1, seq] */
  int64_t iterations_first, iterations_warm; /* >= 1 */
  float top_p;             /* in (0, 1] */
  float min_kept_fraction; /* in [0, 1] */
  vsart_semantic_state_t *state;
  void *scratch;
  size_t scratch_bytes;
  int32_t *q_labels, *k_labels; /* optional outputs */
  uint8_t *block_map;           /* optional output */
} vsart_semantic_args_t;

/* Scratch the CPU kernel needs for `args` (its sizes are read, pointers
 * not); fails on sizes the kernel rejects. */
vsart_status_t vsart_cpu_semantic_scratch_bytes(const vsart_semantic_args_t *args,
                                                size_t *bytes);
vsart_status_t vsart_cpu_semantic_attention(const vsart_semantic_args_t *args);

/* Over the last dim of x (rows x dim); scale, bias (dim) may be NULL. */
vsart_status_t vsart_cpu_layer_norm(const float *x, float *out, int64_t rows,
                                    int64_t dim, const float *scale,
                                    const float *bias, float eps);
/* out = x / sqrt(mean(x^2) + eps) * scale + bias. */
vsart_status_t vsart_cpu_rms_norm(const float *x, float *out, int64_t rows,
                                  int64_t dim, const float *scale,
                                  const float *bias, float eps);
/* A norm followed by the AdaLN modulation (vsart_cpu_modulate) in one pass:
 * x, out: (batch, seq, dim); scale, bias (dim) and mod_shift, mod_scale
 * (batch, dim) may be NULL; out = norm(x) * (1 + mod_scale[b]) +
 * mod_shift[b], norm(x) as vsart_cpu_layer_norm / vsart_cpu_rms_norm. */
vsart_status_t vsart_cpu_layer_norm_modulate(const float *x, float *out,
                                             int64_t batch, int64_t seq,
                                             int64_t dim, const float *scale,
                                             const float *bias, float eps,
                                             const float *mod_shift,
                                             const float *mod_scale);
vsart_status_t vsart_cpu_rms_norm_modulate(const float *x, float *out,
                                           int64_t batch, int64_t seq,
                                           int64_t dim, const float *scale,
                                           const float *bias, float eps,
                                           const float *mod_shift,
                                           const float *mod_scale);
/* A norm (with the modulation when mod_shift / mod_scale are given) whose
 * rows are quantized to FP8 E4M3 as they are produced: q and scales equal
 * vsart_cpu_{layer,rms}_norm_modulate (or the plain norm) followed by
 * vsart_cpu_quantize_rows, without the normalised rows in memory. x is
 * (batch, seq, dim), contiguous; q holds batch * seq * dim bytes, scales
 * batch * seq floats; scale, bias (dim) and mod_shift, mod_scale (batch,
 * dim) may be NULL (the modulation pair both or neither). On the CPU x and
 * the parameters are fp32, on CUDA bf16 (vsart_cuda_norm_quantize). */
typedef struct vsart_norm_quantize_args_t {
  const void *x;
  uint8_t *q;
  float *scales;
  int64_t batch, seq, dim;
  int centered; /* 1: layer norm, 0: RMS norm */
  const void *scale, *bias;
  const void *mod_shift, *mod_scale;
  float eps;
  /* Nonzero: one scale for every row, fixed before any row is normalised:
   * B / 448 (1 when B = 0) with
   *   B = max over batch entries b of
   *       (max_i |a_bi| * sqrt(dim) + sqrt(sum_i c_bi^2)),
   *   a_bi = scale_i (1 + mod_scale_bi),
   *   c_bi = bias_i (1 + mod_scale_bi) + mod_shift_bi
   * (scale 1, bias 0, the modulation 0 when absent). A normalised row has a
   * 2-norm of at most sqrt(dim), so B bounds the 2-norm of every output row
   * and hence each value: the quantization never saturates (beyond the
   * rounding of the values on CUDA), and after E4M3 rounding each row's
   * 2-norm is below VSART_FP8_ROW_NORM_SLACK * 448 * scale, which
   * vsart_*_scaled_gemm_quantize relies on. */
  int per_tensor;
} vsart_norm_quantize_args_t;
vsart_status_t vsart_cpu_norm_quantize(const vsart_norm_quantize_args_t *args);
/* A norm over the last dim of x (batch, seq, heads * head_dim) — layer
 * (centered) or RMS — with scale and bias (heads * head_dim, either may be
 * NULL), then interleaved RoPE on each head's pairs (2i, 2i + 1) with cos,
 * sin (seq, head_dim / 2): y0 = x0 cos - x1 sin, y1 = x0 sin + x1 cos.
 * out is (batch, heads, seq, head_dim) with heads_major, else like x. */
typedef struct vsart_norm_rope_args_t {
  const void *x;
  void *out;
  int64_t batch, seq, heads, head_dim;
  int centered; /* 1: layer norm, 0: RMS norm (no bias) */
  const void *scale, *bias;
  float eps;
  const void *cos, *sin;
  int heads_major;
  /* Optional, VSA's tile means of the output (vsart_*_vsa_select's pooling
   * done while the rows are written): with pooled != NULL each batch
   * entry's rows are cut into num_tiles tiles at tile_offsets (num_tiles + 1
   * int64 values, 0 .. seq, none empty; device memory on CUDA) and pooled,
   * (batch, heads, num_tiles, pooled_dim) floats with pooled_dim = head_dim
   * rounded up to a multiple of 4 (padding zero), gets each tile's fp32
   * mean of each head's output rows as stored (bf16 on CUDA). */
  const int64_t *tile_offsets;
  int64_t num_tiles;
  float *pooled;
} vsart_norm_rope_args_t;
vsart_status_t vsart_cpu_norm_rope(const vsart_norm_rope_args_t *args);
/* Over the last dim; a row that is entirely -inf yields 0. */
vsart_status_t vsart_cpu_softmax(const float *x, float *out, int64_t rows,
                                 int64_t dim);
/* x, out: (batch, seq, dim); shift, scale: (batch, dim), either may be NULL.
 * out = x * (1 + scale[b]) + shift[b]. */
vsart_status_t vsart_cpu_modulate(const float *x, const float *shift,
                                  const float *scale, float *out, int64_t batch,
                                  int64_t seq, int64_t dim);
/* kind: VSART_EPILOGUE_GELU_TANH or VSART_EPILOGUE_GELU_ERF. */
vsart_status_t vsart_cpu_gelu(const float *x, float *out, int64_t n,
                              vsart_epilogue_t kind);

/* ---- .vsab modules ------------------------------------------------------ */

#define VSART_VSAB_FORMAT_VERSION 1u

typedef struct vsart_module *vsart_module_t;

/* A tensor stored in a module: non-owning, valid until vsart_module_close. */
typedef struct vsart_tensor_view_t {
  const char *name;
  vsart_dtype_t dtype;
  int32_t rank;
  int64_t dims[VSART_MAX_RANK];
  const void *data; /* 64-byte aligned within the file */
  size_t size_bytes;
} vsart_tensor_view_t;

typedef struct vsart_geometry_t {
  int32_t latent_t, latent_h, latent_w;
  int32_t patch_t, patch_h, patch_w;
} vsart_geometry_t;

/* Maps the file, runs the flatbuffers verifier and checks identifier,
 * version, names, dtypes and every tensor's bounds and size. */
vsart_status_t vsart_module_open(const char *path, vsart_module_t *out);
void vsart_module_close(vsart_module_t module); /* NULL is a no-op */
uint32_t vsart_module_format_version(vsart_module_t module);
vsart_status_t vsart_module_geometry(vsart_module_t module,
                                     vsart_geometry_t *out);
int64_t vsart_module_num_tensors(vsart_module_t module);
vsart_status_t vsart_module_tensor_at(vsart_module_t module, int64_t index,
                                      vsart_tensor_view_t *out);
vsart_status_t vsart_module_find_tensor(vsart_module_t module, const char *name,
                                        vsart_tensor_view_t *out);
int64_t vsart_module_num_attention_configs(vsart_module_t module);
/* Pattern name and number of key/value parameters of config `index`. */
vsart_status_t vsart_module_attention_config(vsart_module_t module,
                                             int64_t index,
                                             const char **pattern,
                                             int64_t *num_params);
vsart_status_t vsart_module_attention_param(vsart_module_t module,
                                            int64_t index, int64_t param,
                                            const char **key,
                                            const char **value);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VSART_H */

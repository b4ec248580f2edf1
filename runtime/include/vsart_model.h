/* vsart_model.h - ABI between code emitted by vsac and the runtime.
 *
 * vsac emits one C++ (CPU) or CUDA source per model that defines
 *   extern "C" const vsart_model_t *vsa_model(void);
 * describing the model's inputs, outputs and weights, the size of its
 * statically planned activation arena and its forward function, plus (for
 * executables) main() calling vsart_exe_main. A session binds weights (from
 * the .vsab written next to the executable, a safetensors checkpoint, or
 * random values), owns the arena and runs forwards. */
#ifndef VSART_MODEL_H
#define VSART_MODEL_H

#include "vsart.h"
#include "vsart_comm.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VSART_MODEL_ABI_VERSION 3u

typedef enum vsart_target_t {
  VSART_TARGET_CPU = 0,
  VSART_TARGET_CUDA = 1,
} vsart_target_t;

/* dtype: the logical element type (what .npy/.vsab/safetensors hold: F32,
 * I64, BOOL, ...). storage: the element type in device memory (BF16 for
 * float activations and weights on CUDA, else equal to dtype). */
typedef struct vsart_tensor_desc_t {
  const char *name;
  vsart_dtype_t dtype;
  vsart_dtype_t storage;
  int32_t rank;
  int64_t dims[VSART_MAX_RANK];
} vsart_tensor_desc_t;

/* Memory of one target. upload/download copy `bytes` between host and
 * device memory; on the CPU they are memcpy. */
typedef struct vsart_device_ops_t {
  const char *name; /* "cpu", "cuda" */
  vsart_status_t (*alloc)(size_t bytes, void **out); /* 256-byte aligned */
  void (*free)(void *ptr);
  vsart_status_t (*upload)(void *dst, const void *src, size_t bytes,
                           void *stream);
  vsart_status_t (*download)(void *dst, const void *src, size_t bytes,
                             void *stream);
  vsart_status_t (*synchronize)(void *stream);
} vsart_device_ops_t;

extern const vsart_device_ops_t vsart_cpu_device_ops;

/* Per-call parameters of sparse attention (no recompilation): set with
 * vsart_session_set_attention_param or the executable's --attn KEY=VALUE.
 * Negative sparsity / top_p mean "the value compiled into the model". */
typedef struct vsart_attention_params_t {
  double sparsity;      /* vsa: fraction of key tiles each query tile drops */
  double top_p;         /* semantic: cumulative probability kept */
  int32_t dense;        /* 1: every sparse attention of the call runs dense */
  int32_t dense_layers; /* the first N sparse attentions (blocks) run dense */
  int64_t step;         /* denoising step (keyframe rotation) */
} vsart_attention_params_t;

/* A group of ranks the model's collectives run in (context parallelism:
 * Ulysses, ring and CFG groups of one world of num_ranks ranks). World rank
 * w belongs to the group of `size` ranks {c0 + i * stride : i < size} with
 * c0 = w % stride + (w / (stride * size)) * stride, and is rank
 * (w / stride) % size in it. size * stride divides num_ranks; {num_ranks, 1}
 * is the world itself. */
typedef struct vsart_comm_group_t {
  int32_t size;
  int32_t stride;
} vsart_comm_group_t;

/* What a forward needs besides its buffers. */
typedef struct vsart_run_context_t {
  vsart_attention_params_t attention;
  /* This rank's communicator of the whole world; NULL = a single rank. Its
   * size must equal the model's num_ranks. Set with vsart_session_set_comm. */
  vsart_comm_t comm;
  /* groups[i]: this rank's communicator of the model's groups[i] (split
   * from comm by the session; comm itself for the world group). NULL when
   * comm is NULL. */
  const vsart_comm_t *groups;
  /* state_bytes of device memory that persists from forward to forward
   * (e.g. semantic attention's k-means centroids), zeroed when the session
   * is created and by vsart_session_reset_state. */
  void *state;
  /* Forwards run since the state was last zeroed (0 on the first call of a
   * video). */
  int64_t state_calls;
} vsart_run_context_t;

/* The defaults: compiled sparsity and top_p, sparse everywhere, step 0. */
vsart_attention_params_t vsart_attention_params_default(void);
/* Sets one parameter from text: sparsity (0 <= s < 1), topk (fraction of
 * key tiles kept, 0 < k <= 1: sparsity = 1 - k), top_p (0 < p <= 1), dense
 * (0 or 1), dense_layers (>= 0), step (>= 0). An unknown key or a bad value
 * is VSART_ERROR_INVALID_ARGUMENT naming it; params is then unchanged. */
vsart_status_t vsart_attention_params_set(vsart_attention_params_t *params,
                                          const char *key, const char *value);
/* Key tiles VSA keeps per query tile: max(1, min(ceil((1 - sparsity) *
 * num_tiles), num_tiles)) (ceil forgiving 1e-9 of rounding). */
int64_t vsart_vsa_top_k(int64_t num_tiles, double sparsity);
/* Whether sparse attention number `index` (program order) runs dense. */
int vsart_attention_runs_dense(const vsart_run_context_t *ctx, int64_t index);

/* All pointers are device pointers in storage types. Returns VSART_OK or a
 * status with vsart_last_error() set. */
typedef vsart_status_t (*vsart_forward_fn)(void *const *inputs,
                                           void *const *outputs,
                                           const void *const *weights,
                                           void *arena, void *stream,
                                           const vsart_run_context_t *ctx);

typedef struct vsart_model_t {
  uint32_t abi_version; /* VSART_MODEL_ABI_VERSION */
  const char *name;
  vsart_target_t target;
  const vsart_device_ops_t *device;
  int32_t num_inputs;
  const vsart_tensor_desc_t *inputs;
  int32_t num_outputs;
  const vsart_tensor_desc_t *outputs;
  int32_t num_weights;
  const vsart_tensor_desc_t *weights;
  uint64_t arena_bytes;
  vsart_forward_fn forward;
  /* The world size of the model's collectives: a forward needs a
   * communicator of exactly this many ranks. 0 or 1: no collectives (or a
   * group of one), no communicator needed. */
  int32_t num_ranks;
  /* The groups the collectives run in (ctx->groups has one communicator
   * per entry). */
  int32_t num_groups;
  const vsart_comm_group_t *groups;
  /* Bytes of persistent state (ctx->state). */
  uint64_t state_bytes;
} vsart_model_t;

/* ---- sessions ----------------------------------------------------------- */

typedef struct vsart_session *vsart_session_t;

/* Allocates the arena and weight buffers. vsab_path may be NULL; otherwise
 * every weight the file holds is bound from it (checked against the
 * model's name, dtype and shape). */
vsart_status_t vsart_session_create(const vsart_model_t *model,
                                    const char *vsab_path,
                                    vsart_session_t *out);
void vsart_session_destroy(vsart_session_t session); /* NULL is a no-op */
/* Binds weight `name` from host data of the given logical dtype and shape
 * (F32, BF16 or F16 data is converted to the storage type). */
vsart_status_t vsart_session_bind_weight(vsart_session_t session,
                                         const char *name, vsart_dtype_t dtype,
                                         int32_t rank, const int64_t *dims,
                                         const void *data);
/* Binds every model weight found in a safetensors file by name; tensors the
 * model does not use are ignored. */
vsart_status_t vsart_session_load_safetensors(vsart_session_t session,
                                              const char *path);
/* Fills every weight not yet bound with seeded random values. */
vsart_status_t vsart_session_randomize_weights(vsart_session_t session,
                                               uint64_t seed);
/* Number of weights still unbound; names them in vsart_last_error(). */
int64_t vsart_session_num_unbound(vsart_session_t session);
/* Copies host input `index` (logical dtype, model shape) to the device. */
vsart_status_t vsart_session_set_input(vsart_session_t session, int32_t index,
                                       const void *host_data);
/* Runs one forward on the inputs set last and waits for it. Fails when a
 * weight is unbound. */
vsart_status_t vsart_session_forward(vsart_session_t session);
/* Copies output `index` to host memory in its logical dtype. */
vsart_status_t vsart_session_get_output(vsart_session_t session, int32_t index,
                                        void *host_data);
/* Sets a per-call attention parameter for the session's next forwards (see
 * vsart_attention_params_set). */
vsart_status_t vsart_session_set_attention_param(vsart_session_t session,
                                                 const char *key,
                                                 const char *value);
/* Sets the communicator of this rank (not owned; NULL = none) for the next
 * forwards. Collective over comm when it has the model's num_ranks ranks:
 * the session splits it into the model's groups (every rank calls this in
 * the same order). A model with num_ranks > 1 fails to run without one
 * ("model 'M' needs N ranks; ...") and with one of another size. With a communicator,
 * forward synchronizes through vsart_comm_synchronize before the device
 * (NCCL: a missing rank times out instead of hanging). */
vsart_status_t vsart_session_set_comm(vsart_session_t session,
                                      vsart_comm_t comm);
/* Zeroes the persistent state (a new video: semantic attention's k-means
 * starts cold again) and ctx->state_calls. */
vsart_status_t vsart_session_reset_state(vsart_session_t session);
/* Bytes held on the device: arena + state + weights + inputs + outputs. */
uint64_t vsart_session_device_bytes(vsart_session_t session);

/* ---- debugging ---------------------------------------------------------- */

/* 1 when VSART_DUMP_DIR is set: generated forwards then write every op's
 * result to $VSART_DUMP_DIR/NNNN_NAME.npy (after synchronising). */
int vsart_dump_enabled(void);
vsart_status_t vsart_dump_tensor(int32_t index, const char *name,
                                 const void *data, vsart_dtype_t storage,
                                 int32_t rank, const int64_t *dims,
                                 const vsart_device_ops_t *device,
                                 void *stream);

/* 1 when VSART_PROFILE is set (and not "0"): generated forwards then time
 * every op (synchronising around it) by kind: gemm, attention, norm,
 * softmax, kernel. The executable prints vsart_profile_report() after its
 * --repeat runs. */
int vsart_profile_enabled(void);
void vsart_profile_forward(void);
void vsart_profile_op(const char *kind, const vsart_device_ops_t *device,
                      void *stream, int end);
void vsart_profile_reset(void);
void vsart_profile_report(void);

/* The executable's main: --input NAME=FILE.npy, --output [NAME=]FILE.npy,
 * --random-inputs, --random-weights, --weights FILE.safetensors,
 * --attn KEY=VALUE, --repeat N, --seed N, --threads N, --ranks N, --help.
 * --ranks N runs N thread ranks (thread communicator, one session each);
 * CUDA executables call vsart_cuda_exe_main (vsart_cuda.h), which adds
 * NCCL. */
int vsart_exe_main(int argc, char **argv, const vsart_model_t *model);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VSART_MODEL_H */

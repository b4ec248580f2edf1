/* vsart_comm.h - communicators of the vsa runtime (context parallelism:
 * Ulysses all-to-all, ring attention send/recv, CFG-parallel groups).
 *
 * A vsart_comm_t is one rank of a group of `size` ranks. Backends:
 *  - threads (libvsart): every rank lives in this process and is driven by
 *    its own thread; buffers are host memory and `stream` must be NULL. This
 *    is what CPU executables use for `--ranks N`, so context parallelism is
 *    tested without GPUs.
 *  - NCCL (libvsart_cuda only, see the end of this file): buffers are device
 *    memory and `stream` is a cudaStream_t (NULL = default stream).
 *
 * Collectives move bytes. Every rank of the group calls the same collectives
 * in the same order with matching sizes (a mismatch the backend can see
 * aborts the communicator). A handle is used by one thread at a time;
 * vsart_comm_abort may be called from any thread.
 *
 * Failure: vsart_comm_abort, a collective that times out, a size or order
 * mismatch and an NCCL error all abort the whole world the communicator
 * belongs to (its parent and every group split from either): pending and
 * later calls on every rank fail with VSART_ERROR_COMM and a message naming
 * the rank and the reason, e.g.
 *   "communicator aborted by rank 2: out of memory"
 *   "collective all_to_all timed out after 300 s on rank 0 (waiting for
 *    ranks 3)".
 * An aborted communicator stays aborted; destroy it. */
#ifndef VSART_COMM_H
#define VSART_COMM_H

#include "vsart.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vsart_comm *vsart_comm_t;

/* sendrecv: no message to send / to receive. */
#define VSART_COMM_NO_PEER (-1)
/* split: this rank joins no group (*out = NULL). Any negative color works. */
#define VSART_COMM_NO_COLOR (-1)

/* The timeout used when a creation call gets timeout_s <= 0: the variable
 * VSART_COMM_TIMEOUT_S (seconds, > 0) or 300. -1 when the variable is set
 * but not a positive number (creation calls then fail). */
double vsart_comm_default_timeout(void);

/* ---- thread backend (libvsart) ------------------------------------------ */

/* Creates one world of world_size (1..1024) ranks in this process; rank r is
 * ranks_out[r]. Each collective waits at most timeout_s seconds (<= 0: the
 * default above) for the other ranks. Destroy every handle. */
vsart_status_t vsart_comm_create_threads(int32_t world_size, double timeout_s,
                                         vsart_comm_t *ranks_out);

/* Runs fn(comms[i], user) on n threads (one per handle) and joins them. fn
 * returns 0 (or VSART_OK) on success; anything else is a failure whose
 * message is the thread's vsart_last_error() when fn returns. The first
 * failing rank aborts the communicator (waking the others) with that
 * message; the call returns the first failure's status (non-zero returns
 * that are not status codes become VSART_ERROR_COMM) and sets
 * vsart_last_error() to "rank R failed: ...". Works for any backend whose
 * ranks live in this process (threads, vsart_comm_create_nccl_local). */
vsart_status_t vsart_comm_run_each(int32_t n, const vsart_comm_t *comms,
                                   int (*fn)(vsart_comm_t comm, void *user),
                                   void *user);

/* create_threads(world_size, default timeout) + run_each + destroy: the
 * driver of `EXE --ranks N` on the CPU target. */
vsart_status_t vsart_comm_run_threads(int32_t world_size,
                                      int (*fn)(vsart_comm_t comm, void *user),
                                      void *user);

/* ---- every backend ------------------------------------------------------ */

/* Local: releases this rank's handle (NULL is a no-op). Other ranks keep
 * theirs. An NCCL communicator is finalized (bounded by its timeout) or, if
 * aborted or failing, ncclCommAbort'ed. */
void vsart_comm_destroy(vsart_comm_t comm);

int32_t vsart_comm_rank(vsart_comm_t comm); /* -1 for NULL */
int32_t vsart_comm_size(vsart_comm_t comm); /* 0 for NULL */
/* "threads" or "nccl" ("" for NULL). */
const char *vsart_comm_backend(vsart_comm_t comm);
/* The collective timeout in seconds (0 for NULL). */
double vsart_comm_timeout(vsart_comm_t comm);

/* send holds size chunks of chunk_bytes: chunk r goes to rank r and arrives
 * in chunk `src` of recv on rank r (recv[src] = send_src[me]). send and recv
 * must not overlap. */
vsart_status_t vsart_comm_all_to_all(vsart_comm_t comm, const void *send,
                                     void *recv, size_t chunk_bytes,
                                     void *stream);

/* count (1..VSART_COMM_MAX_BUFFERS) all_to_alls in one collective (NCCL:
 * one group of sends and receives): buffer t moves like
 * vsart_comm_all_to_all(sends[t], recvs[t], chunk_bytes[t]). Ulysses moves
 * q, k and v this way. No receive buffer may overlap another buffer. */
#define VSART_COMM_MAX_BUFFERS 8
vsart_status_t vsart_comm_all_to_all_n(vsart_comm_t comm, int32_t count,
                                       const void *const *sends,
                                       void *const *recvs,
                                       const size_t *chunk_bytes,
                                       void *stream);

/* recv (size * bytes) gets every rank's send (bytes) in rank order. In place
 * when send == recv + rank * bytes; otherwise they must not overlap. */
vsart_status_t vsart_comm_all_gather(vsart_comm_t comm, const void *send,
                                     void *recv, size_t bytes, void *stream);

/* Sends send_bytes to rank dest while receiving recv_bytes from rank src
 * (ring attention: dest = rank + 1, src = rank - 1, mod size). Only the two
 * peers take part, not the whole group: dest must make a matching call with
 * src == this rank and recv_bytes == send_bytes. dest or src may be
 * VSART_COMM_NO_PEER; a rank may send to itself. send and recv must not
 * overlap. */
vsart_status_t vsart_comm_sendrecv(vsart_comm_t comm, const void *send,
                                   size_t send_bytes, int32_t dest, void *recv,
                                   size_t recv_bytes, int32_t src,
                                   void *stream);

/* One point-to-point transfer of vsart_comm_exchange. */
typedef struct vsart_comm_transfer {
  int32_t peer;  /* rank in comm; may be this rank */
  int32_t recv;  /* 0: send buf's bytes to peer; 1: receive them into buf */
  void *buf;     /* a send buffer is only read */
  size_t bytes;
} vsart_comm_transfer_t;

/* A batch of point-to-point transfers that every rank of comm makes
 * together (NCCL: one group of sends and receives; threads: copies out of
 * the senders' buffers). The i-th send from rank a to rank b pairs with the
 * i-th receive on b from a, and both name the same bytes (threads: a
 * mismatch aborts the communicator; NCCL: undefined, as with NCCL). Ulysses attention places each head's rows straight where
 * the attention reads them and writes them this way, so no pack or unpack
 * copy is needed. No receive buffer may overlap another buffer of the
 * call. count may be 0 (the call still synchronises the ranks). */
vsart_status_t vsart_comm_exchange(vsart_comm_t comm, int32_t count,
                                   const vsart_comm_transfer_t *transfers,
                                   void *stream);

/* Returns once every rank has entered the barrier (NCCL: a one-word
 * all-reduce on stream, then vsart_comm_synchronize). */
vsart_status_t vsart_comm_barrier(vsart_comm_t comm, void *stream);

/* Waits until the collectives queued on stream have completed, at most the
 * timeout (threads: nothing is ever queued; reports an abort). */
vsart_status_t vsart_comm_synchronize(vsart_comm_t comm, void *stream);

/* Collective over comm, like MPI_Comm_split: ranks passing the same color
 * form a new group, ranked by (key, rank in comm); a negative color gives
 * *out = NULL. The groups share comm's world: aborting one aborts all. E.g.
 * 4 ranks as 2 (ring) x 2 (ulysses): ulysses groups color = rank / 2, ring
 * groups color = rank % 2, key = rank. */
vsart_status_t vsart_comm_split(vsart_comm_t comm, int32_t color, int32_t key,
                                vsart_comm_t *out);

/* Aborts comm's world: every pending and later call on every rank fails with
 * VSART_ERROR_COMM and "communicator aborted by rank R: message". The first
 * abort wins; later ones are ignored. Thread-safe. */
void vsart_comm_abort(vsart_comm_t comm, const char *message);

/* ---- tensor collectives (what generated code calls) --------------------- */
/* A dense row-major tensor of `rank` dims (<= 8) and elem_bytes per element
 * on every rank of comm. group_size is what the model was compiled for: it
 * must equal the communicator's size (the error names both); comm may be
 * NULL only when group_size is 1 (the op is then a copy). These host-memory
 * versions are for the thread backend; vsart_cuda.h has the device ones.
 *
 * all_to_all (Ulysses): dim scatter_axis is split into group_size chunks,
 * chunk r goes to rank r, and the chunks arriving from ranks 0..G-1 are
 * concatenated along gather_axis: out has dims[scatter_axis] / G and
 * dims[gather_axis] * G (scatter_axis == gather_axis keeps the shape).
 * Implemented as pack (each destination's chunk made contiguous) ->
 * vsart_comm_all_to_all -> unpack; the pack is skipped when scatter_axis has
 * only unit dims before it, the unpack when gather_axis has.
 *
 * all_gather: out is every rank's in concatenated along axis (rank order);
 * gathered straight into out when axis has only unit dims before it, else
 * into scratch and reordered.
 *
 * scratch: vsart_*_scratch_bytes() bytes (0: none needed), or NULL to have
 * the call allocate and free it. in and out must not overlap. */
size_t vsart_all_to_all_scratch_bytes(int32_t rank, const int64_t *dims,
                                      int32_t scatter_axis,
                                      int32_t gather_axis, int32_t group_size,
                                      size_t elem_bytes);
size_t vsart_all_gather_scratch_bytes(int32_t rank, const int64_t *dims,
                                      int32_t axis, int32_t group_size,
                                      size_t elem_bytes);
vsart_status_t vsart_cpu_all_to_all(vsart_comm_t comm, int32_t group_size,
                                    const void *in, void *out, int32_t rank,
                                    const int64_t *dims, int32_t scatter_axis,
                                    int32_t gather_axis, size_t elem_bytes,
                                    void *scratch);
/* count (1..VSART_COMM_MAX_BUFFERS) tensors of the same dims through one
 * all_to_all (vsart_comm_all_to_all_n): what vsart_cpu_all_to_all does to
 * each, with one collective (Ulysses' q, k and v). scratch: count times
 * vsart_all_to_all_scratch_bytes, or NULL. */
vsart_status_t vsart_cpu_all_to_all_n(vsart_comm_t comm, int32_t group_size,
                                      int32_t count, const void *const *in,
                                      void *const *out, int32_t rank,
                                      const int64_t *dims,
                                      int32_t scatter_axis,
                                      int32_t gather_axis, size_t elem_bytes,
                                      void *scratch);
vsart_status_t vsart_cpu_all_gather(vsart_comm_t comm, int32_t group_size,
                                    const void *in, void *out, int32_t rank,
                                    const int64_t *dims, int32_t axis,
                                    size_t elem_bytes, void *scratch);
/* shard (dit.shard): out gets this rank's chunk r (of group_size, r the
 * communicator's rank) along axis of in (dims), i.e. elements
 * [r * n / G, (r + 1) * n / G) of that axis, n = dims[axis]: a strided
 * copy. Fails like the collectives when comm's size is not group_size. */
vsart_status_t vsart_cpu_shard_copy(vsart_comm_t comm, int32_t group_size,
                                    const void *in, void *out, int32_t rank,
                                    const int64_t *dims, int32_t axis,
                                    size_t elem_bytes);
/* Ring attention: q, k, v and out as in vsart_attention_args_t, each of
 * the group_size ranks of comm holding its chunk of one sequence:
 * seq_q queries and seq_kv keys/values (chunk r = rank r's share). Every
 * rank gets the attention of its queries over the keys of all ranks, equal
 * to dense attention over the concatenated chunks up to rounding: the K/V
 * chunks travel around the ring (rank r sends to r + 1 and receives from
 * r - 1; group_size - 1 vsart_comm_sendrecv steps) and each step's partial
 * output is merged by log-sum-exp (fp32). scratch: at least
 * vsart_ring_attention_scratch_bytes(args, element bytes: 4 for the CPU, 2
 * for CUDA's bf16) bytes, 256-byte aligned, or NULL to allocate per call.
 * Every rank must call it with the same sizes. */
size_t vsart_ring_attention_scratch_bytes(const vsart_attention_args_t *args,
                                          size_t elem_bytes);
/* args->mask (may be NULL): a key mask over the whole ring, (1 or batch,
 * 1, 1, group_size * seq_kv), contiguous, every rank holding all of it
 * (HunyuanVideo's text padding); each step uses the visiting chunk's
 * columns. local (may be NULL): keys every rank holds whole (joint
 * attention's text), attended once besides the ring: its k, v, seq_kv,
 * k_strides, v_strides and mask (a key mask (1 or batch, 1, 1, seq_kv) or
 * NULL) are read (the rest comes from args). valid_keys (<= 0: all):
 * only the first valid_keys of the group's concatenated keys are real (a
 * padded sequence; the rest are ignored). */
vsart_status_t vsart_cpu_ring_attention(vsart_comm_t comm, int32_t group_size,
                                        const vsart_attention_args_t *args,
                                        const vsart_attention_args_t *local,
                                        int64_t valid_keys, void *scratch,
                                        size_t scratch_bytes);

/* Ulysses attention: on each of the group_size ranks of comm, q, k, v and
 * out (args) hold all num_heads heads of this rank's chunk of one sequence
 * (seq_q == seq_kv rows), contiguous (batch, heads, seq, head_dim); no mask,
 * no grouped heads. Equal to all_to_all (rows -> heads), attention over the
 * whole sequence for this rank's num_heads / group_size heads, all_to_all
 * back, but with no pack or unpack copy: every head's rows travel straight
 * into place (vsart_comm_exchange). The heads go `chunks` at a time (it
 * must divide num_heads / group_size; VSART_ULYSSES_CHUNKS overrides it):
 * chunk c + 1 arrives and chunk c - 1's output leaves while chunk c attends
 * (CUDA with NCCL: on a second stream, hidden behind the attention).
 * scratch: vsart_ulysses_attention_scratch_bytes(args, group_size, element
 * bytes: 4 for the CPU, 2 for CUDA's bf16), 256-byte aligned, or NULL to
 * allocate per call. Every rank must call it with the same sizes. */
size_t vsart_ulysses_attention_scratch_bytes(const vsart_attention_args_t *args,
                                             int32_t group_size,
                                             size_t elem_bytes);
vsart_status_t vsart_cpu_ulysses_attention(vsart_comm_t comm,
                                           int32_t group_size,
                                           const vsart_attention_args_t *args,
                                           int32_t chunks, void *scratch,
                                           size_t scratch_bytes);

/* The check both make: comm's size is group_size (or comm is NULL and
 * group_size 1). `what` names the caller in the message. */
vsart_status_t vsart_comm_check_group(vsart_comm_t comm, int32_t group_size,
                                      const char *what);

/* ---- NCCL backend: these exist in libvsart_cuda only -------------------- */
/* libnccl.so.2 is dlopen'ed on first use (no link-time dependency); NCCL
 * >= 2.18 is required. Communicators are created nonblocking
 * (ncclConfig_t.blocking = 0) so that no NCCL call can wait without bound:
 *  - create_*: the TCP rendezvous and ncclCommInitRankConfig wait at most
 *    the timeout (polling ncclCommGetAsyncError);
 *  - all_to_all, all_gather, sendrecv only queue work on stream and return
 *    (an ncclInProgress enqueue is polled, bounded by the timeout); the GPU
 *    waits for the peers, so a missing rank shows up in
 *    vsart_comm_synchronize (or barrier), which polls cudaStreamQuery and
 *    ncclCommGetAsyncError until the timeout, then ncclCommAbort's;
 *  - split polls the new communicator, bounded by the timeout;
 *  - destroy finalizes, bounded by the timeout, then ncclCommAbort's.
 * Anything else that synchronizes the stream (cudaStreamSynchronize,
 * vsart_cuda_download) can hang on a missing rank: synchronize through
 * vsart_comm_synchronize first. Every call sets the handle's device. */

/* One process per GPU. Reads the rank from RANK / WORLD_SIZE / LOCAL_RANK
 * (torchrun), or OMPI_COMM_WORLD_RANK / _SIZE / _LOCAL_RANK (Open MPI
 * mpirun), or PMI_RANK / PMI_SIZE / MPI_LOCALRANKID (MPICH), and rank 0's
 * address from MASTER_ADDR (default 127.0.0.1 when every rank is on one
 * node, as the local size says) and MASTER_PORT (default 29500). The
 * rendezvous port is VSART_COMM_PORT if set, else MASTER_PORT, plus 1 under
 * torchrun's agent store (TORCHELASTIC_USE_AGENT_STORE=True, whose server
 * already holds MASTER_PORT). Rank 0 listens there, the others connect
 * (retrying until the timeout) and receive the ncclUniqueId; the device is
 * LOCAL_RANK (default: rank modulo the visible devices). The connections
 * stay open as an out-of-band channel: an abort, or a process that exits
 * without destroying its communicator, aborts every rank. */
vsart_status_t vsart_comm_create_nccl_from_env(double timeout_s,
                                               vsart_comm_t *out);

/* One process driving num_gpus local GPUs (devices 0..num_gpus-1): one
 * handle per GPU in ranks_out, to be driven by one thread each (e.g.
 * vsart_comm_run_each). Like ncclCommInitAll, but nonblocking. */
vsart_status_t vsart_comm_create_nccl_local(int32_t num_gpus, double timeout_s,
                                            vsart_comm_t *ranks_out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VSART_COMM_H */

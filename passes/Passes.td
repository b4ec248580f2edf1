//===- Passes.td - vsa passes ---------------------------------*- tablegen -*-===//

#ifndef VSA_PASSES
#define VSA_PASSES

include "mlir/Pass/PassBase.td"

def PrintSummaryPass : Pass<"dit-print-summary", "mlir::ModuleOp"> {
  let summary = "Print a summary of a dit module: I/O, weights, op counts";
  let description = [{
    Prints, to the output stream given by `to` (stdout or stderr), the
    model's inputs and outputs with their shapes, the number and size of its
    weights (and how many carry provenance from a transposed `val_N`
    initializer), and a count of every op kind. The IR is left unchanged.
    Used by `vsac --emit=summary`.
  }];
  let options = [
    Option<"to", "to", "std::string", /*default=*/"\"stdout\"",
           "Where to print: stdout or stderr">
  ];
}

def RaiseAttentionPass : Pass<"dit-raise-attention", "mlir::func::FuncOp"> {
  let summary = "Raise softmax(q·kᵀ)·v chains to dit.attention and set roles";
  let description = [{
    Recognises the exporters' decomposed scaled dot-product attention:
    `matmul(q·s1, kᵀ·s2)` (kᵀ possibly written as reshape/transpose/reshape),
    optionally scaled and with an additive mask, `softmax` over the last axis,
    optionally `where(isnan(p), 0, p)` (fully masked rows), then `matmul` with
    v. It becomes one `dit.attention` with scale s1·s2·s3.

    Every `dit.attention` without a role then gets one: `self` when queries
    and keys are projected from the same activations (joint text+video
    attention included), `cross` when the keys come from other activations
    (text or image context).
  }];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def RaiseRmsNormPass : Pass<"dit-raise-rms-norm", "mlir::func::FuncOp"> {
  let summary = "Raise decomposed RMSNorm chains to dit.rms_norm";
  let description = [{
    Recognises `x * reciprocal(sqrt(mean(x², trailing axes) + eps))` (also
    written with `div` by the square root, `1 / r` for the reciprocal
    (TorchScript exports), `x * x` for the square, and the
    operands of `mul` in either order), optionally followed by a
    multiplication with a weight over the normalised axes, and replaces it
    with one `dit.rms_norm`. torch's RMSNorm below opset 23 exports as
    Pow/ReduceMean/Add/Sqrt/Reciprocal/Mul/Mul.
  }];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def RaiseRopePass : Pass<"dit-raise-rope", "mlir::func::FuncOp"> {
  let summary = "Raise decomposed interleaved RoPE to dit.rope";
  let description = [{
    Recognises real-valued interleaved rotary embedding as diffusers' Wan
    exports it: lanes x1 = x[..., 0::2] and x2 = x[..., 1::2] (a reshape to
    (..., D/2, 2) and unit slices, or stride-2 slices), `x1·cos − x2·sin`
    and `x1·sin + x2·cos` (mul and add operands in either order), written
    back by two ScatterND (optionally behind one shared transpose) whose
    constant index tables address exactly the even and the odd lanes.
    Becomes `dit.rope x, cos, sin {interleaved}` (followed by the transpose,
    if any). Intermediates used elsewhere block the rewrite.
  }];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def RaiseLinearPass : Pass<"dit-raise-linear", "mlir::func::FuncOp"> {
  let summary = "Raise weight products (matmul + bias, gemm) to dit.linear";
  let description = [{
    Recognises `nn.Linear` as the exporters write it: `matmul(x, W)` with a
    2-D weight W (a `dit.param`, possibly behind reshapes/transposes),
    optionally followed by `add` (either operand order) of a bias of shape
    (N) (or (1, N), ...) that is a param or constant; and
    `gemm(a, B, c)` with alpha = 1, beta = 1 (or no c), trans_a = 0 and a
    weight B (trans_b = 1: B is (N, K) and gets an explicit transpose).
    Each becomes one `dit.linear x, W(, b)`. A product whose right operand is
    not param-derived (attention's q·kᵀ and p·v) stays a matmul; a bias that
    does not add along the last axis only stays an `add` after a bias-free
    linear.
  }];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def RaiseGeluPass : Pass<"dit-raise-gelu", "mlir::func::FuncOp"> {
  let summary = "Raise decomposed GELU (tanh approximation or erf) to dit.gelu";
  let description = [{
    Recognises `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))`
    (TorchScript exports of diffusers' `GELU(approximate="tanh")`; x^3 as
    `pow(x, 3)` or `x * (x * x)`) and `0.5 * x * (1 + erf(x / sqrt(2)))`
    (also `x * 0.7071...`), with the products in any order and grouping and
    constants matched to a relative 1e-6, and replaces the chain with
    `dit.gelu tanh` or `dit.gelu none`. Intermediate values used elsewhere
    block the rewrite.
  }];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def RaiseModulationPass : Pass<"dit-raise-modulation", "mlir::func::FuncOp"> {
  let summary = "Raise AdaLN modulation and gated residuals (dit.modulate, dit.gated_add)";
  let description = [{
    Recognises the adaptive-norm structure of a DiT block.
    `add(mul(n, 1 + scale), shift)` (adds and mul in either operand order;
    the `1` a splat 1.0 constant or a param with an inline 1.0 value; the
    `1 + scale` possibly behind one reshape, which then moves onto the scale)
    with shift and scale broadcasting to n becomes `dit.modulate n, shift,
    scale`. `add(x, mul(y, gate))` (either operand order) with a gate that
    is not a constant or param, has fewer elements than y and is 1 on every
    axis but y's first and last (a per-sample/per-channel gate from the
    timestep modulation) becomes `dit.gated_add x, y, gate`. Products with
    other users are left alone.
  }];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def InferVideoGeometryPass : Pass<"dit-infer-video-geometry", "mlir::func::FuncOp"> {
  let summary = "Attach #dit.video geometry to attention from the patch embedding";
  let description = [{
    Finds the patch embedding (a `dit.conv` whose strides equal its kernel,
    on a function argument) and reads the latent grid t x h x w from its
    output: 3-D convolutions give it directly; 2-D ones (CogVideoX folds
    frames into the batch) give t = conv batch / query batch. Each
    `dit.attention` whose query sequence holds those t*h*w tokens gets
    `#dit.video<t, h, w, prefix, suffix>`, where prefix/suffix count
    non-video tokens that a sequence concat puts before/after them.
  }];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def SparsifyAttentionPass : Pass<"dit-sparsify-attention", "mlir::func::FuncOp"> {
  let summary = "Make video self-attention sparse with a named pattern";
  let description = [{
    Sets `#dit.sparsity` on every `dit.attention` with role `self` and a
    `#dit.video` geometry; cross-attention (text, image) stays dense.
    `pattern=frame-window` (long-video frame window with keyframes): each
    latent frame attends to the frames within +-`window`, to the first
    `sink` frames and to keyframes every `keyframe-interval` frames; the
    prefix/suffix (text) tokens stay global. `keyframe-interval=auto` makes
    a video no longer than the model's training horizon (`horizon` latent
    frames: Wan 21, HunyuanVideo 33, CogVideoX 13) run exactly dense, and a
    longer one keep about `horizon` keyframes (interval ceil(T / horizon)).
    `rotate=1` moves the keyframe grid by one frame per denoising step (the
    run-time `--attn step=N`; the lowering stores one list set per offset),
    `keyframe-offset` shifts it at compile time.
    `pattern=sliding-tile` (STA): tokens are grouped in `tile` (t, h, w)
    tiles (edge tiles hold fewer tokens); each query tile attends to the key
    tiles within a `window` of TxHxW tiles centred on it (odd; a window
    wider than the grid is clamped, i.e. attends to everything); the
    lowering gathers q, k, v into tile order around the attention and
    scatters the result back, unless `dit-hoist-tile-order` permuted the
    whole token stream once. `pattern=vsa` (Video Sparse Attention): tokens
    in `tile` tiles; at run time a coarse stage mean-pools q and k per tile
    and each (head, query tile) keeps the top-k key tiles, k = max(1,
    min(ceil((1 - sparsity) * tiles), tiles)), for block-sparse attention;
    `sparsity` is the default the executable's `--attn sparsity=` overrides.
    `gate=1` adds VSA's gated coarse output, as VSA-trained checkpoints
    compute it: gate = to_gate_compress(x), x the input of the query
    projection, and the attention returns fine + coarse · gate. The
    parameters are named after the query projection's block
    (`blocks.N.attn1.to_q.weight` -> `blocks.N.to_gate_compress.weight` and
    `.bias`, FastVideo's keys); a model that has them keeps them, otherwise
    they are external and bound at run time from the VSA checkpoint, and a
    checkpoint without them fails to bind, naming them (never a silent
    fine-only fallback). An attention whose queries do not come from a
    Linear with such a weight is an error. `pattern=semantic` (Sparse
    VideoGen2): per head, k-means clusters q (`q-clusters`) and k
    (`kv-clusters`) at run time, `iterations` on a video's first forward and
    `warm-iterations` from the previous forward's centroids (per-layer state
    kept by the session); each query cluster keeps the key clusters of
    highest size-weighted centroid attention up to cumulative probability
    `top-p` (at least the `min-kept` fraction); the whole sequence
    (text included) is clustered. Cluster counts above the token count are
    clamped to it. Invalid options are errors naming the option.
  }];
  let options = [
    Option<"pattern", "pattern", "std::string", /*default=*/"\"\"",
           "frame-window">,
    Option<"window", "window", "std::string", /*default=*/"\"\"",
           "frame-window: frames kept on each side of the query's frame "
           "(default 1); sliding-tile: TxHxW tiles, odd, centred on the "
           "query's tile (default 3x3x3)">,
    Option<"tile", "tile", "std::string", /*default=*/"\"4x4x4\"",
           "sliding-tile, vsa: tile size TxHxW in latent tokens">,
    Option<"sink", "sink", "int64_t", /*default=*/"1",
           "frame-window: leading frames every frame keeps">,
    Option<"keyframeInterval", "keyframe-interval", "std::string",
           /*default=*/"\"auto\"",
           "frame-window: keyframe spacing in frames, 0 for none, or auto">,
    Option<"sparsity", "sparsity", "double", /*default=*/"0.875",
           "vsa: default fraction of key tiles each query tile drops, in "
           "[0, 1)">,
    Option<"gate", "gate", "bool", /*default=*/"false",
           "vsa: add the gated coarse output (to_gate_compress, bound at "
           "run time from a VSA-trained checkpoint)">,
    Option<"keyframeOffset", "keyframe-offset", "int64_t", /*default=*/"0",
           "frame-window: keyframes are the frames this modulo the interval">,
    Option<"rotate", "rotate", "bool", /*default=*/"false",
           "frame-window: move the keyframe grid by one frame per denoising "
           "step (the executable's --attn step=N)">,
    Option<"horizon", "horizon", "int64_t", /*default=*/"21",
           "frame-window: the model's training horizon in latent frames "
           "(for keyframe-interval=auto; Wan 21, HunyuanVideo 33, "
           "CogVideoX 13)">,
    // Defaults: the runtime's VSART_SEMANTIC_DEFAULT_* (checked in
    // SparsifyAttention.cpp).
    Option<"qClusters", "q-clusters", "int64_t", /*default=*/"100",
           "semantic: k-means clusters of the queries per head (clamped to "
           "the token count)">,
    Option<"kvClusters", "kv-clusters", "int64_t", /*default=*/"100",
           "semantic: k-means clusters of the keys per head (clamped to the "
           "token count)">,
    Option<"iterations", "iterations", "int64_t", /*default=*/"50",
           "semantic: k-means iterations on a video's first forward">,
    Option<"warmIterations", "warm-iterations", "int64_t", /*default=*/"2",
           "semantic: k-means iterations from the previous forward's "
           "centroids">,
    Option<"topP", "top-p", "double", /*default=*/"0.9",
           "semantic: cumulative probability of key clusters kept, in (0, 1] "
           "(the executable's --attn top_p= overrides)">,
    Option<"minKept", "min-kept", "double", /*default=*/"0.1",
           "semantic: fraction of key clusters always kept, in [0, 1]">
  ];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def HoistTileOrderPass : Pass<"dit-hoist-tile-order", "mlir::func::FuncOp"> {
  let summary = "Permute the token stream into tile order once, not per attention";
  let description = [{
    Tile patterns (`sliding-tile`, `vsa`) attend over the tokens in tile
    order (`computeBlockLists`' `order`). When every such attention of the
    function uses the same order, this pass follows the token stream from
    the sparse attentions through token-wise ops (elementwise ops with
    broadcasting, linear/matmul and norms over other axes, modulation,
    gelu, RoPE, attention, slices/concats/transposes and reshapes that keep
    the token axis) and permutes it once where it starts (a
    `dit.gather` by the order constant after the patch embedding, and after
    each token-indexed side input such as the RoPE tables) and once back
    where it ends (a gather by the inverse before the un-patchify). The
    attentions get `tile_ordered`, so `vrt-lower` adds no per-layer gathers.
    Text joined to the video along the tokens (CogVideoX) stays in place in
    tile order: the video alone carries the order's video part
    (`vsa.sparse.N.video_order`) through such concats and slices.
    The IR is left unchanged when the orders differ, when an op that is not
    token-wise sits inside the stream (its boundary would be per layer), or
    when the analysis is unsure; the per-attention gathers then remain.
  }];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def ContextParallelPass : Pass<"dit-context-parallel", "mlir::func::FuncOp"> {
  let summary = "Split the video tokens over ranks (Ulysses all-to-all)";
  let description = [{
    Context parallelism over `ulysses` ranks. The token stream (the values
    carrying the video token axis from the patch embedding to the
    un-patchify, grown through token-wise ops from every video
    self-attention, as `dit-hoist-tile-order` does) is cut into `ulysses`
    contiguous chunks: a `dit.shard` where it starts (after the patch
    embedding, and after token-indexed side inputs such as the RoPE tables,
    which become rank-aware), a `dit.all_gather` where it ends, and every
    value in between holds this rank's 1/N of the tokens. Around each
    self-attention, `dit.all_to_all` turns q, k and v from sequence shards
    (B, H, S/N, D) into head shards (B, H/N, S, D) and the result back;
    norms and RoPE before it (Wan's q/k RMSNorm spans every head) run on
    the sequence shard. Cross-attention keeps its local queries against
    the whole, unsplit context: no collective; the encoder states are
    never split, and what only the timestep feeds stays replicated.
    With `ring` = M > 1 the tokens are split over N x M ranks; the
    all-to-all runs within groups of N consecutive ranks and leaves each
    with H/N heads of a contiguous 1/M of the sequence, and the attention
    becomes a `dit.ring_attention` over the M ranks holding the same heads
    (stride N): K/V chunks rotate with send/recv, partial outputs merge by
    log-sum-exp. With `cfg` = C > 1 the batch (the conditional and
    unconditional entries of classifier-free guidance) is split first over
    C groups of N x M ranks: every value carrying the batch axis (grown
    from the attentions through ops that treat batch entries alike) gets
    B/C of it, sharded at the inputs, gathered at the outputs. The function
    gets `dit.num_ranks` = C x N x M.
    Tokens that N x M does not divide, and heads that N does not, are
    zero-padded for dense Ulysses (padded keys masked, padded heads sliced
    off); otherwise (ring, sparse patterns, grouped-query heads, joint
    attention) an error names the sizes and the largest degree that works.
    Joint text+video attention (geometry prefix/suffix: CogVideoX,
    HunyuanVideo) splits only the video: the text stays whole on every
    rank, keeps this rank's heads at the attention and is gathered over
    the heads after it (on a ring its keys and values join as local keys
    instead of travelling); a key mask (B, 1, 1, S) stays valid (on a ring
    each chunk takes its columns, the local keys the text's).
    `ulysses` = `ring` = `cfg` = 1 leaves the IR unchanged.
  }];
  let options = [
    Option<"ulysses", "ulysses", "int64_t", "1",
           "Number of ranks of the Ulysses (all-to-all) group">,
    Option<"ring", "ring", "int64_t", "1",
           "Number of ranks of the ring-attention group (hybrid with "
           "ulysses: ulysses x ring ranks)">,
    Option<"cfg", "cfg", "int64_t", "1",
           "Number of groups the batch (classifier-free guidance) is split "
           "over: cfg x ulysses x ring ranks">
  ];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def LowerPatchConvPass : Pass<"dit-lower-patch-conv", "mlir::func::FuncOp"> {
  let summary = "Rewrite non-overlapping (patch-embedding) convolutions as linears";
  let description = [{
    A convolution whose strides equal its kernel, without padding, dilation
    or groups, becomes reshape/transpose into patches, one `dit.linear` with
    the flattened weight, and a transpose back to channels-first. Other
    convolutions are left alone (lowering to vrt rejects them).
  }];
  let dependentDialects = ["::vsa::dit::DitDialect"];
}

def LowerToVrtPass : Pass<"vrt-lower", "mlir::func::FuncOp"> {
  let summary = "Lower dit ops to vrt library calls, views and one-op kernels";
  let description = [{
    Linears and matmuls become `vrt.gemm` (a transposed weight becomes
    `trans_b`, read in the layout diffusers stores it), attention becomes
    `vrt.attention` (a boolean mask becomes an additive one), norms and
    softmax over trailing axes become `vrt.norm`/`vrt.softmax` on row views,
    reshapes become `vrt.view`, weights `vrt.weight` (non-splat constants
    too, holding their value), and every other op a `vrt.kernel` of its own
    for `vrt-fuse-kernels` to merge. Model inputs that feed library calls
    are copied once (their storage type may differ), and results that are
    not activations are copied out. Unsupported ops are errors naming them.
  }];
  let dependentDialects = ["::vsa::vrt::VrtDialect", "::vsa::dit::DitDialect"];
}

def FuseKernelsPass : Pass<"vrt-fuse-kernels", "mlir::func::FuncOp"> {
  let summary = "Fuse generated kernels, views and GEMM/attention epilogues";
  let description = [{
    Inlines a kernel (or a view) into the kernel that consumes it when it has
    no other use, or when it reads nothing (constants), so chains of
    element-wise, data-movement, RoPE and modulation ops compute in one pass
    over memory. Then: a final (0, 2, 1, 3) transpose feeding attention, or
    applied to its result, becomes the operand's `bshd` layout; a GELU
    kernel after a GEMM becomes its epilogue; a kernel that only reshapes
    becomes a view.
  }];
  let dependentDialects = ["::vsa::vrt::VrtDialect", "::vsa::dit::DitDialect"];
}

def PackAllToAllPass : Pass<"vrt-pack-all-to-all", "mlir::func::FuncOp"> {
  let summary = "Move adjacent all-to-alls of one shape in one collective";
  let description = [{
    A run of `vrt.all_to_all` ops that follow each other directly, with the
    same input type, axes and group (Ulysses' q, k and v before a
    self-attention), becomes one `vrt.all_to_all` with several inputs and
    results (at most 8): one collective instead of three, so a layer makes
    two (q/k/v there, the output back) instead of four. Must run before
    `vrt-plan-memory` (the packed op gets `offsets`).
  }];
  let dependentDialects = ["::vsa::vrt::VrtDialect"];
}

def FuseUlyssesAttentionPass
    : Pass<"vrt-fuse-ulysses-attention", "mlir::func::FuncOp"> {
  let summary = "Turn Ulysses' all-to-alls and attention into one pipelined "
                "call";
  let description = [{
    Matches `vrt.all_to_all` of q, k and v (rows → heads: scatter axis 1,
    gather axis 2; packed or not), a plain `vrt.attention` of their results
    (dense, no mask, no grouped heads, bhsd) and the `vrt.all_to_all` of
    its output back (scatter 2, gather 1) over the same group, and replaces
    them by one `vrt.ulysses_attention`: no pack or unpack copies, and the
    exchanges of one head chunk overlap the attention of the next. Other
    attentions (masked, sparse, joint, ring) keep their collectives. Must
    run before `vrt-plan-memory` (the new op owns a scratch buffer).
  }];
  let options = [Option<"chunks", "chunks", "int64_t", "0",
                        "head chunks per rank (0: the most, up to 4, that "
                        "leave at least 2 heads each)">];
  let dependentDialects = ["::vsa::vrt::VrtDialect"];
}

def QuantizeGemmsPass : Pass<"vrt-quantize-gemms", "mlir::func::FuncOp"> {
  let summary = "Run the linear layers' GEMMs in FP8 E4M3";
  let description = [{
    Each `vrt.gemm` of activations (..., M, K) by a weight (N, K)
    (`trans_b`, a `vrt.weight`) with M, N and K at least `min-dim`,
    K % 16 == 0 and N % 8 == 0 becomes `vrt.quantize_rows` of its lhs
    (per-token scales; one per distinct lhs, so q, k and v share it) and a
    `vrt.scaled_gemm` (per-output-channel weight scales, fp32 accumulation,
    the same bias, alpha and epilogue). A weight is quantized only when every
    one of its uses qualifies: the session stores it once, as FP8. An
    activation is quantized only when the GEMMs reading it produce at least
    `min-n` columns in all: the quantization is a pass over the activation,
    and every quantized activation adds FP8 error. On an H100 FP8 with its
    quantization is faster from about 1100 columns on; the default 2048
    keeps Wan's q/k/v and FFN-up in FP8 (within 2e-2 of diffusers) and its
    1536-wide projections and FFN-down in bf16; `min-n=1536` takes those too
    (5 % faster, 2.1e-2). Small GEMMs (time embedding, patch
    embedding, the output head) stay as they are. Must run before
    `vrt-plan-memory`.
  }];
  let options = [
    Option<"minDim", "min-dim", "int64_t", /*default=*/"256",
           "Smallest M, N and K a GEMM needs to run in FP8">,
    Option<"minN", "min-n", "int64_t", /*default=*/"2048",
           "Fewest output columns, summed over the GEMMs reading one "
           "activation, worth quantizing it for">
  ];
  let dependentDialects = ["::vsa::vrt::VrtDialect"];
}

def QuantizeAttentionPass
    : Pass<"vrt-quantize-attention", "mlir::func::FuncOp"> {
  let summary = "Run long dense attentions in FP8 E4M3";
  let description = [{
    Marks `fp8` every dense `vrt.attention` (no blocks, no mask) over at
    least `min-keys` keys whose head dim is a multiple of 16 up to 256: the
    runtime quantizes q, k and v with one scale per tensor and runs cuDNN's
    FP8 flash attention on Hopper (vsart_attention_args_t::fp8), about 1.25x
    faster than bf16 at Wan's self-attention shape, with a few percent of
    relative error on the attention output. Short attentions (text
    cross-attention) stay as they are. A block-sparse attention is marked
    for its dense path (`--attn dense=1`, `dense_layers`: the dense steps
    of a sparse pipeline); the block-sparse kernel itself stays bf16.
  }];
  let options = [
    Option<"minKeys", "min-keys", "int64_t", /*default=*/"4096",
           "Fewest keys an attention needs to run in FP8">
  ];
  let dependentDialects = ["::vsa::vrt::VrtDialect"];
}

def FuseVsaPoolingPass : Pass<"vrt-fuse-vsa-pooling", "mlir::func::FuncOp"> {
  let summary = "Let the norms that write q and k pool VSA's tiles";
  let description = [{
    A `vrt.vsa_select` whose q and k are the results of `vrt.norm_rope`
    ops (in the layouts the selection reads) takes its tile means from
    them: each norm_rope gets the selection's tile offsets as its `pool`
    and returns (B, H, tiles, D rounded up to 4) fp32 means of its output
    rows, and the selection reads those (`pooled`) instead of making a
    pass over q and k. Must run after `vrt-fuse-kernels` (which settles
    the layouts) and before `vrt-plan-memory`.
  }];
  let dependentDialects = ["::vsa::vrt::VrtDialect"];
}

def FuseIntoFp8Pass : Pass<"vrt-fuse-into-fp8", "mlir::func::FuncOp"> {
  let summary = "Fold the memory-bound neighbours of FP8 GEMMs into them";
  let description = [{
    Two rewrites around `vrt-quantize-gemms`' output, each saving a pass
    over a (tokens, channels) activation:
    - a `vrt.norm` whose only use is a `vrt.quantize_rows` (through views)
      becomes one `vrt.norm_quantize`: the normalised rows are quantized as
      they are made and never written in bf16;
    - a generated kernel that only adds a `vrt.scaled_gemm`'s result to a
      residual (`dit.add`, or `dit.gated_add` whose gate is a contiguous
      row of channels shared by every token, e.g. a slice of the AdaLN
      modulation with batch 1) becomes the GEMM's `residual` and `gate`:
      the GEMM reads the residual as its C and the gate scales its weight
      scales and bias, so its output is not written and read again.
    A GEMM with an epilogue or other users, or a gate that differs per
    batch entry, stays as it is. Must run before `vrt-plan-memory`.
  }];
  let dependentDialects = ["::vsa::vrt::VrtDialect"];
}

def QuantizeGemmOutputsPass
    : Pass<"vrt-quantize-gemm-outputs", "mlir::func::FuncOp"> {
  let summary = "Let FP8 GEMMs write their output in FP8";
  let description = [{
    A `vrt.scaled_gemm` (no residual; epilogue none or gelu_tanh; N % 16
    == 0) whose only reader is a `vrt.quantize_rows`, and whose input is a
    `vrt.norm_quantize` read by nothing else, becomes one
    `vrt.scaled_gemm_quantize`, and the norm gets `per_tensor`: one scale
    for every row, bounding every row's 2-norm. The GEMM then bounds its
    own output before computing it, writes E4M3 with that scale and never
    writes its output in bf16 (a DiT's FFN-up: its hidden layer is 4-6
    times the model width). The weight is stored with one scale for the
    whole tensor. Precision: the bounds are loose (E4M3 keeps its relative
    precision; values far below the bound lose it to subnormals). Runs
    after `vrt-fuse-into-fp8`, before `vrt-plan-memory`.
  }];
  let dependentDialects = ["::vsa::vrt::VrtDialect"];
}

def PlanMemoryPass : Pass<"vrt-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Place every activation in one arena by liveness";
  let description = [{
    Walks the function in order, keeps each buffer from its definition to
    its last use (uses of views count for the viewed buffer), and gives it
    the first free, 256-byte aligned range of the arena (first fit, freed
    ranges merge). Sets each op's `offset` and the function's
    `vrt.arena_bytes` (the peak). Element sizes follow the target: float
    activations take 2 bytes (bf16) on CUDA. Semantic attention's scratch
    result is sized for the target's kernel and planned like any buffer;
    its centroids go to the persistent state: one int32 warm flag per
    semantic attention (program order, rounded up to 256 bytes), then each
    attention's q and k centroids at its `state_offset`; the function gets
    `vrt.state_bytes`.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Storage of the target: cpu (fp32) or cuda (bf16 activations)">
  ];
}

#endif // VSA_PASSES

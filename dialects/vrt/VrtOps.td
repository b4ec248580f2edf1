//===- VrtOps.td - vrt ops ------------------------------------*- tablegen -*-===//
//
// Every op that produces an activation carries an optional `offset`: its
// byte offset in the arena, set by `vrt-plan-memory`.
//
//===----------------------------------------------------------------------===//

#ifndef VSA_VRT_OPS
#define VSA_VRT_OPS

include "VrtDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/RegionKindInterface.td"

def Vrt_WeightOp : Vrt_Op<"weight", [Pure]> {
  let summary = "a bound weight (or a constant table stored in the .vsab)";
  let description = [{
    Names a tensor the session binds before a forward: a model parameter
    under its diffusers name, or a constant the compiler stored in the
    `.vsab` (then `value` holds it).
    ```mlir
    %w = vrt.weight "blocks.0.attn1.to_q.weight" : tensor<32x32xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<ElementsAttr>:$value);
  let results = (outs Vrt_Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result) (`=` $value^)?";
  let hasVerifier = 1;
}

def Vrt_GemmOp : Vrt_Op<"gemm", [Pure]> {
  let summary = "(batched) GEMM with bias and GELU epilogues";
  let description = [{
    `lhs` is (..., M, K) (or (..., K, M) with `trans_a`); `rhs` is (K, N)
    (or (N, K) with `trans_b`) shared by every batch, or has the same
    leading batch dims as `lhs`. The result is
    epilogue(alpha · op(lhs) op(rhs) + bias), shape (..., M, N).
    ```mlir
    %y = vrt.gemm %x, %w, %b {trans_b = true, epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x48x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
    ```
  }];
  let arguments = (ins Vrt_FloatTensor:$lhs, Vrt_FloatTensor:$rhs,
                       Optional<Vrt_FloatTensor>:$bias,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_a,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_b,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha,
                       DefaultValuedAttr<Vrt_Epilogue,
                         "::vsa::vrt::Epilogue::none">:$epilogue,
                       OptionalAttr<I64Attr>:$offset);
  let results = (outs Vrt_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Vrt_QuantizeRowsOp : Vrt_Op<"quantize_rows", [Pure]> {
  let summary = "FP8 E4M3 with one fp32 scale per row (runtime kernel)";
  let description = [{
    Quantizes each row (last dim) of `input` on its own: `scales` holds
    max |row| / 448 and `values` the row divided by it, rounded to E4M3
    (vsart_*_quantize_rows). Both results keep their element types on every
    target (one byte per value, fp32 scales). `offsets` are their arena
    offsets.
    ```mlir
    %q, %s = vrt.quantize_rows %x : tensor<1x48x32xf32> -> tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>
    ```
  }];
  let arguments = (ins Vrt_FloatTensor:$input,
                       OptionalAttr<DenseI64ArrayAttr>:$offsets);
  let results = (outs TensorOf<[F8E4M3FN]>:$values, TensorOf<[F32]>:$scales);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($values) "
                       "`,` type($scales)";
  let hasVerifier = 1;
}

def Vrt_ScaledGemmOp : Vrt_Op<"scaled_gemm", [Pure, AttrSizedOperandSegments]> {
  let summary = "FP8 GEMM of row-quantized activations and an FP8 weight";
  let description = [{
    epilogue(alpha · (lhs · diag(lhs_scales)) Wᵀ + bias), shape (..., M, N),
    where `lhs` (..., M, K) and `lhs_scales` (..., M) come from
    `vrt.quantize_rows` and `weight` is a (N, K) `vrt.weight` that the
    session stores as FP8 E4M3 with one scale per output channel
    (VSART_DTYPE_F8E4M3_ROWS). Products accumulate in fp32
    (vsart_*_scaled_gemm; cuBLASLt's FP8 path with outer-vector scales on
    CUDA). K must be a multiple of 16 and N of 8 (FP8 tensor-core layouts).
    With `residual` (the result's shape; no epilogue) the result is
    residual + gate ⊙ (that product + bias): a DiT block's residual
    connection, fused by `vrt-fuse-into-fp8` (vsart_*_scaled_gemm_residual).
    `gate` holds N contiguous values from element `gate_offset` of its
    operand, shared by every row (without it the gate is 1).
    ```mlir
    %y = vrt.scaled_gemm %q, %s, %w, %b {epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
    %z = vrt.scaled_gemm %q, %s, %w, %b residual %x gate %mod[128] : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>, tensor<64xf32>, tensor<1x48x64xf32>, tensor<1x6x64xf32>) -> tensor<1x48x64xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F8E4M3FN]>:$lhs, TensorOf<[F32]>:$lhs_scales,
                       Vrt_FloatTensor:$weight,
                       Optional<Vrt_FloatTensor>:$bias,
                       Optional<Vrt_FloatTensor>:$residual,
                       Optional<Vrt_FloatTensor>:$gate,
                       DefaultValuedAttr<I64Attr, "0">:$gate_offset,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha,
                       DefaultValuedAttr<Vrt_Epilogue,
                         "::vsa::vrt::Epilogue::none">:$epilogue,
                       OptionalAttr<I64Attr>:$offset);
  let results = (outs Vrt_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $lhs_scales `,` $weight (`,` $bias^)? "
                       "(`residual` $residual^)? "
                       "(`gate` $gate^ `[` $gate_offset `]`)? "
                       "attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Checks `residual` and `gate` given the output channels N.
    ::llvm::LogicalResult verifyResidual(int64_t n);
  }];
}

def Vrt_ScaledGemmQuantizeOp : Vrt_Op<"scaled_gemm_quantize",
                                       [Pure]> {
  let summary = "FP8 GEMM whose output is FP8 with one scale fixed before it";
  let description = [{
    `vrt.scaled_gemm` (no residual) followed by `vrt.quantize_rows` of its
    result, without the bf16 result in memory: `values` (E4M3, (..., M, N))
    and `scales` (..., M), every scale the same bound B / 448 of the
    output, computed before the product from the operands' own bounds:
    B = |alpha| · 1.07 · 448 · lhs_scale · (largest row 2-norm of the
    weight) + max |bias| (Cauchy-Schwarz; |gelu(z)| <= |z|). So `lhs` and
    `lhs_scales` must be the results of one `per_tensor`
    `vrt.norm_quantize`: one scale for every row that bounds each row's
    2-norm. The weight is stored with one
    scale for the whole tensor (VSART_DTYPE_F8E4M3_TENSOR). K and N must be
    multiples of 16; the epilogue none or gelu_tanh (cuBLASLt applies it
    before the output scale; there is no erf form). Fused by
    `vrt-quantize-gemm-outputs` (vsart_*_scaled_gemm_quantize).
    ```mlir
    %q, %s = vrt.scaled_gemm_quantize %x, %xs, %w, %b {epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>, tensor<64xf32>) -> (tensor<1x48x64xf8E4M3FN>, tensor<1x48xf32>)
    ```
  }];
  let arguments = (ins TensorOf<[F8E4M3FN]>:$lhs, TensorOf<[F32]>:$lhs_scales,
                       Vrt_FloatTensor:$weight,
                       Optional<Vrt_FloatTensor>:$bias,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha,
                       DefaultValuedAttr<Vrt_Epilogue,
                         "::vsa::vrt::Epilogue::none">:$epilogue,
                       OptionalAttr<DenseI64ArrayAttr>:$offsets);
  let results = (outs TensorOf<[F8E4M3FN]>:$values, TensorOf<[F32]>:$scales);
  let assemblyFormat = "$lhs `,` $lhs_scales `,` $weight (`,` $bias^)? "
                       "attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Vrt_AttentionOp : Vrt_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "dense scaled dot-product attention (runtime kernel)";
  let description = [{
    softmax(scale · q kᵀ + mask) v, each operand and the result in its own
    layout: `bhsd` (batch, heads, seq, dim) or `bshd` (batch, seq, heads,
    dim), so projections feed the kernel without transposes. `mask` is
    additive, of the element type of `query`, and broadcasts to
    (B, Hq, Sq, Skv). With `blocks`, the attention is block-sparse: the
    sequence (queries and keys alike) is cut at `block_offsets` (i64, one
    more than the blocks, 0 .. S) and query block i attends only to the key
    blocks `lists[list_offsets[l] .. list_offsets[l + 1])` (i64 offsets,
    i32 block indices). The size of `list_offsets` says whose lists they
    are: n + 1 (n blocks), shared by every head and batch entry (l = i);
    Hq·n + 1, per head (l = h·n + i); B·Hq·n + 1, per batch entry and head
    (l = (b·Hq + h)·n + i), as `vrt.vsa_select` makes them. With
    `rotations` R > 1 (rotating keyframes), `list_offsets` holds R such
    offset tables back to back (absolute positions in `lists`) and denoising
    step s uses table s mod R. With `fp8` (no mask, head dim a multiple of
    16 up to 256) the runtime computes the dense attention in FP8:
    per-tensor E4M3 q, k, v, the softmax numerators and the output
    (vsart_attention_args_t::fp8; cuDNN's FP8 flash attention on Hopper);
    for a block-sparse attention that is its dense path (`--attn dense=1`,
    `dense_layers`), the block-sparse kernel staying bf16.
  }];
  let arguments = (ins Vrt_FloatTensor:$query, Vrt_FloatTensor:$key,
                       Vrt_FloatTensor:$value,
                       Optional<Vrt_FloatTensor>:$mask,
                       Optional<TensorOf<[I64]>>:$block_offsets,
                       Optional<TensorOf<[I64]>>:$list_offsets,
                       Optional<TensorOf<[I32]>>:$lists, F64Attr:$scale,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$q_layout,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$kv_layout,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$out_layout,
                       DefaultValuedAttr<I64Attr, "1">:$rotations,
                       OptionalAttr<I64Attr>:$offset, UnitAttr:$fp8);
  let results = (outs Vrt_FloatTensor:$result);
  let assemblyFormat = "$query `,` $key `,` $value (`mask` $mask^)? "
                       "(`blocks` `(` $block_offsets^ `,` $list_offsets `,` "
                       "$lists `)`)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// (batch, heads, seq, dim) of an operand given its layout.
    static std::array<int64_t, 4> bhsdDims(::mlir::Type type,
                                           ::vsa::vrt::Layout layout);
    /// Checks the block-sparse operands given (b, h, s, d) of q and k.
    ::llvm::LogicalResult verifyBlocks(::llvm::ArrayRef<int64_t> q,
                                       ::llvm::ArrayRef<int64_t> k);
    /// Whether FP8 attention takes this head dim (a multiple of 16 up to
    /// 256: cuDNN's FP8 flash attention).
    static bool fp8HeadDim(int64_t d) { return d > 0 && d % 16 == 0 && d <= 256; }
  }];
}

def Vrt_NormOp : Vrt_Op<"norm", [Pure, AttrSizedOperandSegments]> {
  let summary = "layer or RMS normalisation over the last axis";
  let description = [{
    Normalises each row of `input` (rows, dim), then applies `scale` and
    `bias` (dim). With `modulate` (a DiT's AdaLN modulation after its norm,
    fused by the lowering) the result is then y · (1 + mod_scale[g]) +
    mod_shift[g], both (G, dim) with G dividing rows: row r takes group
    r / (rows / G) (the batch entry).
    ```mlir
    %y = vrt.norm layer %x modulate %shift, %scale {epsilon = 1.0e-06 : f64} : (tensor<96x32xf32>, tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<96x32xf32>
    ```
  }];
  let arguments = (ins Vrt_NormKind:$kind, Vrt_FloatTensor:$input,
                       Optional<Vrt_FloatTensor>:$scale,
                       Optional<Vrt_FloatTensor>:$bias,
                       Optional<Vrt_FloatTensor>:$mod_shift,
                       Optional<Vrt_FloatTensor>:$mod_scale,
                       F64Attr:$epsilon, OptionalAttr<I64Attr>:$offset);
  let results = (outs Vrt_FloatTensor:$result);
  let assemblyFormat = "$kind $input (`scale` $scale^)? (`bias` $bias^)? "
                       "(`modulate` $mod_shift^ `,` $mod_scale)? "
                       "attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Vrt_NormQuantizeOp : Vrt_Op<"norm_quantize",
                                 [Pure, AttrSizedOperandSegments]> {
  let summary = "a norm whose rows are quantized to FP8 as they are made";
  let description = [{
    `vrt.norm` (same operands and rules) followed by `vrt.quantize_rows` of
    its result, without the normalised rows in memory: `values` (E4M3, the
    input's rows; shaped like the quantization's input, whose rows they
    are) and `scales` (one per row). Fused by
    `vrt-fuse-into-fp8` where a norm feeds only a quantization
    (vsart_*_norm_quantize). `offsets` are the results' arena offsets.
    With `per_tensor` every row gets the same scale, fixed before any row
    is made: a bound on the 2-norm of every output row taken from the
    norm's parameters and the modulation (max |scale (1 + mod_scale)| ·
    sqrt(dim) + ‖bias (1 + mod_scale) + mod_shift‖, over the batch), / 448.
    It feeds `vrt.scaled_gemm_quantize`, which bounds its own output with
    it.
    ```mlir
    %q, %s = vrt.norm_quantize layer %x modulate %shift, %scale {epsilon = 1.0e-06 : f64} : (tensor<96x32xf32>, tensor<2x32xf32>, tensor<2x32xf32>) -> (tensor<96x32xf8E4M3FN>, tensor<96xf32>)
    ```
  }];
  let arguments = (ins Vrt_NormKind:$kind, Vrt_FloatTensor:$input,
                       Optional<Vrt_FloatTensor>:$scale,
                       Optional<Vrt_FloatTensor>:$bias,
                       Optional<Vrt_FloatTensor>:$mod_shift,
                       Optional<Vrt_FloatTensor>:$mod_scale,
                       F64Attr:$epsilon,
                       OptionalAttr<DenseI64ArrayAttr>:$offsets,
                       UnitAttr:$per_tensor);
  let results = (outs TensorOf<[F8E4M3FN]>:$values, TensorOf<[F32]>:$scales);
  let assemblyFormat = "$kind $input (`scale` $scale^)? (`bias` $bias^)? "
                       "(`modulate` $mod_shift^ `,` $mod_scale)? "
                       "(`per_tensor` $per_tensor^)? "
                       "attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Vrt_NormRopeOp : Vrt_Op<"norm_rope", [Pure, AttrSizedOperandSegments]> {
  let summary = "normalisation over the last axis, then interleaved RoPE";
  let description = [{
    `input` (B, S, H·D) is normalised per row like `vrt.norm` (with `scale`
    and `bias`), then each head's pairs (2i, 2i + 1) are rotated by `cos`
    and `sin` (S, D/2) of the row's token (`dit.rope` with `interleaved`).
    The result is (B, H, S, D) with `heads_major` (the attention's layout),
    else (B, S, H, D). The lowering fuses a norm, the reshape to heads, the
    RoPE and the transpose into it (runtime `vsart_*_norm_rope`). With
    `pool` (VSA tile offsets, n + 1 entries) it also returns `pooled`,
    (B, H, n, D rounded up to 4) fp32: each tile's mean of each head's
    output rows, zero-padded, for `vrt.vsa_select`. `offset` places the
    result in the arena, `offsets` the result and `pooled`.
    ```mlir
    %y = vrt.norm_rope rms %x scale %s rope %cos, %sin {epsilon = 1.0e-06 : f64, heads_major} : (tensor<1x48x32xf32>, tensor<32xf32>, tensor<48x8xf32>, tensor<48x8xf32>) -> tensor<1x2x48x16xf32>
    ```
  }];
  let arguments = (ins Vrt_NormKind:$kind, Vrt_FloatTensor:$input,
                       Optional<Vrt_FloatTensor>:$scale,
                       Optional<Vrt_FloatTensor>:$bias,
                       Vrt_FloatTensor:$cos, Vrt_FloatTensor:$sin,
                       Optional<TensorOf<[I64]>>:$tiles,
                       F64Attr:$epsilon, UnitAttr:$heads_major,
                       OptionalAttr<I64Attr>:$offset,
                       OptionalAttr<DenseI64ArrayAttr>:$offsets);
  let results = (outs Vrt_FloatTensor:$result,
                      Optional<TensorOf<[F32]>>:$pooled);
  let assemblyFormat = "$kind $input (`scale` $scale^)? (`bias` $bias^)? "
                       "`rope` $cos `,` $sin (`pool` $tiles^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// (batch, heads, tiles, dim rounded up to 4): the tile means' shape.
    static ::llvm::SmallVector<int64_t> pooledShape(int64_t batch,
                                                    int64_t heads,
                                                    int64_t tiles,
                                                    int64_t dim);
    /// Checks `pool` and `pooled`.
    ::llvm::LogicalResult verifyPooled();
  }];
}

def Vrt_SoftmaxOp : Vrt_Op<"softmax", [Pure]> {
  let summary = "softmax over the last axis";
  let arguments = (ins Vrt_FloatTensor:$input, OptionalAttr<I64Attr>:$offset);
  let results = (outs Vrt_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vrt_KernelOp : Vrt_Op<"kernel", [IsolatedFromAbove]> {
  let summary = "a generated kernel: fused dit ops computing one tensor";
  let description = [{
    The body's block arguments stand for `inputs`; its ops are element-wise,
    data-movement and RoPE/modulation `dit` ops, optionally rooted in a
    `dit.reduce` or a scatter; `vrt.yield` returns the result. The emitters
    generate one loop nest (CPU) or one grid (CUDA) that computes each
    output element by index arithmetic through the body, so the
    intermediates never reach memory.
    ```mlir
    %y = vrt.kernel "k0" (%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
    ^bb0(%x: tensor<4xf32>, %z: tensor<4xf32>):
      %s = dit.add %x, %z : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      vrt.yield %s : tensor<4xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$sym_name, Variadic<Vrt_Tensor>:$inputs,
                       OptionalAttr<I64Attr>:$offset);
  let results = (outs Vrt_Tensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name `(` $inputs `)` attr-dict `:` "
                       "functional-type($inputs, results) $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Value getYielded();
  }];
}

def Vrt_YieldOp : Vrt_Op<"yield", [Pure, Terminator, HasParent<"KernelOp">]> {
  let summary = "the value a generated kernel writes";
  let arguments = (ins Vrt_Tensor:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Vrt_ViewOp : Vrt_Op<"view", [Pure]> {
  let summary = "the same buffer under another shape (no copy)";
  let arguments = (ins Vrt_Tensor:$input);
  let results = (outs Vrt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vrt_VsaSelectOp : Vrt_Op<"vsa_select", [Pure, AttrSizedOperandSegments]> {
  let summary = "VSA coarse stage: the key tiles each query tile keeps";
  let description = [{
    Video Sparse Attention's selection (runtime kernel vsart_*_vsa_select):
    q and k, in tile order, are cut into tiles at `tile_offsets` (n + 1
    entries, 0 .. S); per (batch, head), tiles are mean-pooled, scored
    (`scale` · q̄ᵢ · k̄ⱼ) and each query tile keeps its top-k key tiles,
    k = max(1, min(ceil((1 − sparsity) · n), n)), with `sparsity` the
    session's `--attn sparsity` or else the compiled `sparsity`. Results:
    per-(batch, head) CSR lists for block-sparse `vrt.attention`:
    `list_offsets` (B·Hq·n + 1) and `lists` (room for B·Hq·n·n; the first
    B·Hq·n·k entries are used). With `value` (in the key's layout) it also
    returns `coarse` (B, Hq, S, Dv), bhsd: each query row gets its tile's
    attention over all pooled key tiles, softmaxᵢ(scores) · v̄ — VSA's coarse
    output, which the gate multiplies; it is needed on the dense path too,
    so that call always runs. With `pooled`, q's and k's tile means come
    from the `vrt.norm_rope` ops that wrote them ((B, H, n, D rounded up to
    4) each, `vrt-fuse-vsa-pooling`) instead of a pass over q and k.
    `offsets` are the results' arena offsets.
    ```mlir
    %lo, %l = vrt.vsa_select %q, %k tiles(%t) {scale = 0.35 : f64, sparsity = 0.875 : f64} : (tensor<1x2x48x8xf32>, tensor<1x2x48x8xf32>, tensor<13xi64>) -> (tensor<49xi64>, tensor<288xi32>)
    %lo2, %l2, %c = vrt.vsa_select %q, %k value %v tiles(%t) {scale = 0.35 : f64, sparsity = 0.875 : f64} : (tensor<1x2x48x8xf32>, tensor<1x2x48x8xf32>, tensor<1x2x48x8xf32>, tensor<13xi64>) -> (tensor<49xi64>, tensor<288xi32>, tensor<1x2x48x8xf32>)
    ```
  }];
  let arguments = (ins Vrt_FloatTensor:$query, Vrt_FloatTensor:$key,
                       Optional<Vrt_FloatTensor>:$value,
                       Optional<TensorOf<[F32]>>:$pooled_q,
                       Optional<TensorOf<[F32]>>:$pooled_k,
                       TensorOf<[I64]>:$tile_offsets, F64Attr:$scale,
                       F64Attr:$sparsity,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$q_layout,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$kv_layout,
                       OptionalAttr<DenseI64ArrayAttr>:$offsets);
  let results = (outs TensorOf<[I64]>:$list_offsets,
                      TensorOf<[I32]>:$lists,
                      Optional<Vrt_FloatTensor>:$coarse);
  let assemblyFormat = "$query `,` $key (`value` $value^)? "
                       "(`pooled` `(` $pooled_q^ `,` $pooled_k `)`)? "
                       "`tiles` `(` $tile_offsets `)` attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

// Not Pure: every call updates the attention's persistent centroid state.
def Vrt_SemanticAttentionOp : Vrt_Op<"semantic_attention"> {
  let summary = "semantic-aware permutation attention (Sparse VideoGen2)";
  let description = [{
    Self-attention (runtime kernel vsart_*_semantic_attention): per (batch,
    head), k-means clusters q into `q_clusters` and k into `kv_clusters`
    clusters (`iterations` on a video's first forward, `warm_iterations`
    from the previous forward's centroids), each query cluster keeps the key
    clusters of highest size-weighted centroid attention up to cumulative
    probability `top_p` (the session's `--attn top_p` overrides it; at least
    the `min_kept` fraction), and attends to their tokens. Operands and
    result are read through their layouts like `vrt.attention`'s; v has q's
    head dim. Results: the attention output and `scratch`, an i8 buffer the
    kernel uses during the call (at least what the target's kernel asks for:
    `scratchBytes`; vrt-lower sizes it for both targets, vrt-plan-memory
    trims it to its target's). `offsets` are both results' arena offsets;
    `state_offset` is the byte offset of this attention's centroids in the
    model's persistent state (q's, then k's 256 bytes further rounded up,
    fp32), set by vrt-plan-memory.
    ```mlir
    %o, %scratch = vrt.semantic_attention %q, %k, %v clusters(8, 8) {iterations = 50 : i64, min_kept = 1.000000e-01 : f64, scale = 2.500000e-01 : f64, top_p = 0.9 : f64, warm_iterations = 2 : i64} : (tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>) -> (tensor<1x2x48x16xf32>, tensor<59648xi8>)
    ```
  }];
  let arguments = (ins Vrt_FloatTensor:$query, Vrt_FloatTensor:$key,
                       Vrt_FloatTensor:$value, F64Attr:$scale,
                       I64Attr:$q_clusters, I64Attr:$kv_clusters,
                       I64Attr:$iterations, I64Attr:$warm_iterations,
                       F64Attr:$top_p, F64Attr:$min_kept,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$q_layout,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$kv_layout,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$out_layout,
                       OptionalAttr<DenseI64ArrayAttr>:$offsets,
                       OptionalAttr<I64Attr>:$state_offset);
  let results = (outs Vrt_FloatTensor:$result, TensorOf<[I8]>:$scratch);
  let assemblyFormat = "$query `,` $key `,` $value `clusters` `(` $q_clusters "
                       "`,` $kv_clusters `)` attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Scratch bytes the CPU (fp32) or CUDA (bf16) kernel needs for these
    /// sizes: the Scratch layouts of runtime/kernels/{cpu,cuda}/
    /// SemanticAttention.* (the kernels check what they get at run time).
    static int64_t scratchBytes(bool cuda, int64_t batch, int64_t heads,
                                int64_t kvHeads, int64_t seq, int64_t headDim,
                                int64_t qClusters, int64_t kvClusters);
    /// scratchBytes for this op's operands.
    int64_t scratchBytes(bool cuda);
    /// Bytes of persistent state: q's centroids (B, Hq, q_clusters, D) then
    /// k's (B, Hkv, kv_clusters, D), fp32, each rounded up to 256 bytes.
    int64_t stateBytes();
    /// Offset of k's centroids from q's in the state.
    int64_t kCentroidsOffset();
  }];
}

def Vrt_AllToAllOp : Vrt_Op<"all_to_all", [Pure]> {
  let summary = "Ulysses all-to-all over a group of ranks";
  let description = [{
    Splits `scatter_axis` into `group_size` chunks, sends chunk r to rank r
    and concatenates what arrives along `gather_axis`. The group is the
    ranks {c0 + i·group_stride} of the world (vsart_comm_group_t). Several
    inputs of one type (Ulysses' q, k and v, packed by
    `vrt-pack-all-to-all`) move in one collective, result i from input i;
    `offset` places one result, `offsets` several.
    ```mlir
    %q2, %k2, %v2 = vrt.all_to_all %q, %k, %v {gather_axis = 2 : i64, group_size = 2 : i64, scatter_axis = 1 : i64} : tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>
    ```
  }];
  let arguments = (ins Variadic<Vrt_Tensor>:$inputs, I64Attr:$scatter_axis,
                       I64Attr:$gather_axis, I64Attr:$group_size,
                       DefaultValuedAttr<I64Attr, "1">:$group_stride,
                       OptionalAttr<I64Attr>:$offset,
                       OptionalAttr<DenseI64ArrayAttr>:$offsets);
  let results = (outs Variadic<Vrt_Tensor>:$results);
  let assemblyFormat =
      "$inputs attr-dict `:` type($inputs) `->` type($results)";
  let hasVerifier = 1;
}

def Vrt_AllGatherOp : Vrt_Op<"all_gather", [Pure]> {
  let summary = "gather every rank's tensor along `axis`";
  let arguments = (ins Vrt_Tensor:$input, I64Attr:$axis, I64Attr:$group_size,
                       DefaultValuedAttr<I64Attr, "1">:$group_stride,
                       OptionalAttr<I64Attr>:$offset);
  let results = (outs Vrt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vrt_ShardOp : Vrt_Op<"shard", [Pure]> {
  let summary = "copy this rank's 1/group_size chunk along `axis`";
  let description = [{
    Rank r (of the communicator, whose size must be `group_size`) copies
    elements [r·n/G, (r+1)·n/G) of `axis` (a strided copy: runtime
    vsart_{cpu,cuda}_shard_copy).
    ```mlir
    %s = vrt.shard %x {axis = 1 : i64, group_size = 2 : i64} : tensor<1x48x32xf32> -> tensor<1x24x32xf32>
    ```
  }];
  let arguments = (ins Vrt_Tensor:$input, I64Attr:$axis, I64Attr:$group_size,
                       DefaultValuedAttr<I64Attr, "1">:$group_stride,
                       OptionalAttr<I64Attr>:$offset);
  let results = (outs Vrt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vrt_RingAttentionOp : Vrt_Op<"ring_attention",
                                 [AttrSizedOperandSegments]> {
  let summary = "ring attention over a group of ranks (runtime kernel)";
  let description = [{
    `dit.ring_attention` on the runtime: q, k, v hold this rank's chunk of
    the sequence, read through their layouts like `vrt.attention`'s; the
    K/V chunks go around the `group_size` ranks of the group ({c0 +
    i·group_stride}) with send/recv and partial outputs merge by
    log-sum-exp (vsart_{cpu,cuda}_ring_attention). Results: the output and
    `scratch`, the kernel's i8 buffer for two K/V chunks, the partial and
    running outputs and their log-sum-exps (`scratchBytes`; vrt-lower sizes
    it for fp32, vrt-plan-memory trims it to its target's). `offsets` are
    both results' arena offsets. `local` keys and values (bhsd; joint
    attention's text, whole on every rank) are attended once besides the
    ring. `mask` / `local_mask`: key masks (B or 1, 1, 1, keys) over every
    rank's keys / the local ones.
    ```mlir
    %o, %scratch = vrt.ring_attention %q, %k, %v group 2 {scale = 2.500000e-01 : f64} : (tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>) -> (tensor<1x2x24x16xf32>, tensor<20480xi8>)
    ```
  }];
  let arguments = (ins Vrt_FloatTensor:$query, Vrt_FloatTensor:$key,
                       Vrt_FloatTensor:$value,
                       Optional<Vrt_FloatTensor>:$mask,
                       Optional<Vrt_FloatTensor>:$local_key,
                       Optional<Vrt_FloatTensor>:$local_value,
                       Optional<Vrt_FloatTensor>:$local_mask, F64Attr:$scale,
                       I64Attr:$group_size,
                       DefaultValuedAttr<I64Attr, "1">:$group_stride,
                       OptionalAttr<I64Attr>:$valid_keys,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$q_layout,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$kv_layout,
                       DefaultValuedAttr<Vrt_Layout,
                         "::vsa::vrt::Layout::bhsd">:$out_layout,
                       OptionalAttr<DenseI64ArrayAttr>:$offsets);
  let results = (outs Vrt_FloatTensor:$result, TensorOf<[I8]>:$scratch);
  let assemblyFormat = "$query `,` $key `,` $value (`mask` $mask^)? "
                       "(`local` `(` $local_key^ `,` $local_value `)`)? "
                       "(`local_mask` $local_mask^)? `group` $group_size "
                       "attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Scratch bytes of vsart_ring_attention_scratch_bytes (runtime
    /// src/RingAttention.h) for elements of `elemBytes` (4 on the CPU, 2
    /// on CUDA).
    int64_t scratchBytes(int64_t elemBytes);
  }];
}

def Vrt_UlyssesAttentionOp : Vrt_Op<"ulysses_attention"> {
  let summary = "Ulysses all-to-all, attention and all-to-all back, pipelined";
  let description = [{
    What `vrt.all_to_all` (sequence shards → head shards) of q, k, v,
    `vrt.attention` and `vrt.all_to_all` back compute, as one runtime call
    (vsart_{cpu,cuda}_ulysses_attention): each rank holds all heads of its
    chunk of the sequence, (batch, heads, seq chunk, dim) contiguous (bhsd),
    and gets the attention over the whole sequence of the group's
    `group_size` ranks in the same layout. Every head's rows travel straight
    into place (no pack or unpack copy), and the heads go `chunks` at a
    time so the next chunk's rows and the last chunk's output move while
    one chunk attends. Results: the output and `scratch`, the received q,
    k, v and the attention output of this rank's heads (`scratchBytes`;
    vrt-lower sizes it for fp32, vrt-plan-memory trims it to its target's).
    ```mlir
    %o, %scratch = vrt.ulysses_attention %q, %k, %v group 2 chunks 1 {scale = 2.500000e-01 : f64} : (tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>) -> (tensor<1x2x24x16xf32>, tensor<24576xi8>)
    ```
  }];
  let arguments = (ins Vrt_FloatTensor:$query, Vrt_FloatTensor:$key,
                       Vrt_FloatTensor:$value, F64Attr:$scale,
                       I64Attr:$group_size,
                       DefaultValuedAttr<I64Attr, "1">:$group_stride,
                       I64Attr:$chunks,
                       OptionalAttr<DenseI64ArrayAttr>:$offsets);
  let results = (outs Vrt_FloatTensor:$result, TensorOf<[I8]>:$scratch);
  let assemblyFormat = "$query `,` $key `,` $value `group` $group_size "
                       "`chunks` $chunks attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Scratch bytes of vsart_ulysses_attention_scratch_bytes (runtime
    /// src/UlyssesAttention.h) for elements of `elemBytes` (4 on the CPU, 2
    /// on CUDA).
    int64_t scratchBytes(int64_t elemBytes);
  }];
}

#endif // VSA_VRT_OPS

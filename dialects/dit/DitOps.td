//===- DitOps.td - dit ops ------------------------------------*- tablegen -*-===//
//
// Generic tensor ops the ONNX importer produces, plus the compound ops that
// raising passes build. Shapes are static; every op's verifier recomputes its
// result type with the shared shape rules (ShapeInference.h) and compares.
//
//===----------------------------------------------------------------------===//

#ifndef VSA_DIT_OPS
#define VSA_DIT_OPS

include "DitDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Constants and weights
//===----------------------------------------------------------------------===//

def Dit_ConstantOp : Dit_Op<"constant", [ConstantLike, Pure]> {
  let summary = "a tensor literal";
  let description = [{
    Small literals: shape arithmetic, scales, masks, folded tables.
    ```mlir
    %0 = dit.constant dense<[1, 48, 32]> : tensor<3xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Dit_Tensor:$result);
  let hasCustomAssemblyFormat = 1;
  let hasFolder = 1;
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::ElementsAttr":$value), [{
      build($_builder, $_state, ::llvm::cast<::mlir::TensorType>(value.getType()), value);
    }]>];
}

def Dit_ParamOp : Dit_Op<"param", [Pure]> {
  let summary = "a model weight, with its provenance";
  let description = [{
    A weight of the model. `name` is the parameter's name in the source model
    (diffusers' `blocks.0.attn1.to_q.weight`) when it is known, else the ONNX
    initializer's name. `source` is the ONNX initializer it was read from when
    that differs (the dynamo exporter's `val_N`), and `perm`, when present,
    says that this value is the parameter transposed by `perm`. Without a
    `value` the weight is external: it is bound by name at run time.
    ```mlir
    %w = dit.param "blocks.0.attn1.to_q.weight" {perm = array<i64: 1, 0>, source = "val_12"} : tensor<32x32xf32> = dense<...>
    %b = dit.param "blocks.0.attn1.to_q.bias" : tensor<32xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<StrAttr>:$source,
                       OptionalAttr<DenseI64ArrayAttr>:$perm,
                       OptionalAttr<ElementsAttr>:$value);
  let results = (outs Dit_Tensor:$result);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// Numpy-broadcasting binary op; both operands share one element type.
class Dit_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Dit_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsElementType])> {
  let arguments = (ins Dit_Tensor:$lhs, Dit_Tensor:$rhs);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dit_AddOp : Dit_BinaryOp<"add", [Commutative]> { let summary = "lhs + rhs"; }
def Dit_SubOp : Dit_BinaryOp<"sub"> { let summary = "lhs - rhs"; }
def Dit_MulOp : Dit_BinaryOp<"mul", [Commutative]> { let summary = "lhs * rhs"; }
def Dit_DivOp : Dit_BinaryOp<"div"> {
  let summary = "lhs / rhs (integer division truncates, as ONNX)";
}
def Dit_PowOp : Dit_BinaryOp<"pow"> { let summary = "lhs ** rhs"; }
def Dit_MaxOp : Dit_BinaryOp<"max", [Commutative]> { let summary = "max(lhs, rhs)"; }
def Dit_MinOp : Dit_BinaryOp<"min", [Commutative]> { let summary = "min(lhs, rhs)"; }
def Dit_ModOp : Dit_BinaryOp<"mod"> {
  let summary = "remainder; `fmod` = 1 takes the dividend's sign (C fmod)";
  let arguments = (ins Dit_Tensor:$lhs, Dit_Tensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$fmod);
}
def Dit_AndOp : Dit_BinaryOp<"and", [Commutative]> {
  let summary = "logical and";
  let arguments = (ins Dit_BoolTensor:$lhs, Dit_BoolTensor:$rhs);
}
def Dit_OrOp : Dit_BinaryOp<"or", [Commutative]> {
  let summary = "logical or";
  let arguments = (ins Dit_BoolTensor:$lhs, Dit_BoolTensor:$rhs);
}
def Dit_XorOp : Dit_BinaryOp<"xor", [Commutative]> {
  let summary = "logical xor";
  let arguments = (ins Dit_BoolTensor:$lhs, Dit_BoolTensor:$rhs);
}

def Dit_CompareOp : Dit_Op<"compare", [Pure, SameOperandsElementType]> {
  let summary = "elementwise comparison with numpy broadcasting; yields i1";
  let description = [{
    ```mlir
    %m = dit.compare ge, %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Dit_CmpPredicate:$predicate, Dit_Tensor:$lhs,
                       Dit_Tensor:$rhs);
  let results = (outs Dit_BoolTensor:$result);
  let assemblyFormat = "$predicate `,` $lhs `,` $rhs attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dit_WhereOp : Dit_Op<"where", [Pure]> {
  let summary = "select(condition, lhs, rhs) with numpy broadcasting";
  let arguments = (ins Dit_BoolTensor:$condition, Dit_Tensor:$lhs,
                       Dit_Tensor:$rhs);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$condition `,` $lhs `,` $rhs attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

class Dit_UnaryOp<string mnemonic, Type operandType = Dit_FloatTensor,
                  list<Trait> traits = []>
    : Dit_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let arguments = (ins operandType:$input);
  let results = (outs operandType:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasFolder = 1;
}

def Dit_SqrtOp : Dit_UnaryOp<"sqrt"> { let summary = "square root"; }
def Dit_ReciprocalOp : Dit_UnaryOp<"reciprocal"> { let summary = "1 / x"; }
def Dit_NegOp : Dit_UnaryOp<"neg", Dit_Tensor> { let summary = "-x"; }
def Dit_AbsOp : Dit_UnaryOp<"abs", Dit_Tensor> { let summary = "|x|"; }
def Dit_ExpOp : Dit_UnaryOp<"exp"> { let summary = "e^x"; }
def Dit_LogOp : Dit_UnaryOp<"log"> { let summary = "natural logarithm"; }
def Dit_SinOp : Dit_UnaryOp<"sin"> { let summary = "sine"; }
def Dit_CosOp : Dit_UnaryOp<"cos"> { let summary = "cosine"; }
def Dit_TanhOp : Dit_UnaryOp<"tanh"> { let summary = "hyperbolic tangent"; }
def Dit_SigmoidOp : Dit_UnaryOp<"sigmoid"> { let summary = "1 / (1 + e^-x)"; }
def Dit_ErfOp : Dit_UnaryOp<"erf"> { let summary = "error function"; }
def Dit_FloorOp : Dit_UnaryOp<"floor"> { let summary = "round down"; }
def Dit_CeilOp : Dit_UnaryOp<"ceil"> { let summary = "round up"; }
def Dit_ReluOp : Dit_UnaryOp<"relu"> { let summary = "max(x, 0)"; }
def Dit_NotOp : Dit_UnaryOp<"not", Dit_BoolTensor> { let summary = "logical not"; }

def Dit_GeluOp : Dit_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "GELU, exact (erf) or with the tanh approximation";
  let arguments = (ins Dit_FloatTensor:$input,
      DefaultValuedAttr<Dit_GeluApproximation,
                        "::vsa::dit::GeluApproximation::none">:$approximate);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$approximate $input attr-dict `:` type($result)";
}

def Dit_IsNanOp : Dit_Op<"isnan", [Pure, SameOperandsAndResultShape]> {
  let summary = "x != x, elementwise";
  let arguments = (ins Dit_FloatTensor:$input);
  let results = (outs Dit_BoolTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Dit_CastOp : Dit_Op<"cast", [Pure, SameOperandsAndResultShape]> {
  let summary = "element type conversion (float rounding to nearest even; "
                "float to int truncates; nonzero to i1 is true)";
  let arguments = (ins Dit_Tensor:$input);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra, convolution, normalisation
//===----------------------------------------------------------------------===//

def Dit_MatmulOp : Dit_Op<"matmul", [Pure, SameOperandsAndResultElementType]> {
  let summary = "numpy matmul: batched, broadcasting batch dimensions";
  let arguments = (ins Dit_FloatTensor:$lhs, Dit_FloatTensor:$rhs);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_GemmOp : Dit_Op<"gemm", [Pure, SameOperandsAndResultElementType]> {
  let summary = "alpha * op(a) * op(b) + beta * c, op = optional transpose";
  let arguments = (ins Dit_FloatTensor:$a, Dit_FloatTensor:$b,
                       Optional<Dit_FloatTensor>:$c,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F64Attr, "1.0">:$beta,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_a,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_b);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$a `,` $b (`,` $c^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_LinearOp : Dit_Op<"linear", [Pure, SameOperandsAndResultElementType]> {
  let summary = "x @ weight + bias over the last axis (a raised nn.Linear)";
  let description = [{
    `x` is (..., K), `weight` is (K, N) — already W^T, as the exporters store
    it (the param's `perm` says so) — and the optional `bias` is (N). The
    result is (..., N). Built by `dit-raise-linear`.
    ```mlir
    %y = dit.linear %x, %w, %b : (tensor<1x48x32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
    ```
  }];
  let arguments = (ins Dit_FloatTensor:$input, Dit_FloatTensor:$weight,
                       Optional<Dit_FloatTensor>:$bias);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_ConvOp : Dit_Op<"conv", [Pure, SameOperandsAndResultElementType]> {
  let summary = "N-d convolution, NC(D)HW layout (the patch embedding)";
  let description = [{
    `pads` holds the padding before each spatial axis, then after each.
  }];
  let arguments = (ins Dit_FloatTensor:$input, Dit_FloatTensor:$weight,
                       Optional<Dit_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_SoftmaxOp : Dit_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let arguments = (ins Dit_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Dit_LayerNormOp : Dit_Op<"layer_norm", [Pure, AttrSizedOperandSegments,
                                             SameOperandsAndResultElementType]> {
  let summary = "normalise over the axes from `axis` on, then scale and shift";
  let arguments = (ins Dit_FloatTensor:$input,
                       Optional<Dit_FloatTensor>:$scale,
                       Optional<Dit_FloatTensor>:$bias,
                       I64Attr:$axis, F64Attr:$epsilon);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$input (`scale` $scale^)? (`bias` $bias^)? attr-dict "
                       "`:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_RmsNormOp : Dit_Op<"rms_norm", [Pure, SameOperandsAndResultElementType]> {
  let summary = "x / sqrt(mean(x^2 over axes from `axis` on) + eps) * scale";
  let arguments = (ins Dit_FloatTensor:$input,
                       Optional<Dit_FloatTensor>:$scale,
                       I64Attr:$axis, F64Attr:$epsilon);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$input (`scale` $scale^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_ModulateOp : Dit_Op<"modulate", [Pure, AllTypesMatch<["input", "result"]>,
                                          SameOperandsAndResultElementType]> {
  let summary = "adaptive-norm modulation: x * (1 + scale) + shift";
  let description = [{
    The AdaLN modulation of a DiT block: `shift` and `scale` (typically
    (B, 1, C) or (B, C), computed from the timestep embedding) broadcast to
    `input` (B, S, C). Built by `dit-raise-modulation`.
    ```mlir
    %y = dit.modulate %n, %shift, %scale : (tensor<1x48x32xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
    ```
  }];
  let arguments = (ins Dit_FloatTensor:$input, Dit_FloatTensor:$shift,
                       Dit_FloatTensor:$scale);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$input `,` $shift `,` $scale attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_GatedAddOp : Dit_Op<"gated_add", [Pure, AllTypesMatch<["lhs", "rhs", "result"]>,
                                          SameOperandsAndResultElementType]> {
  let summary = "gated residual: lhs + rhs * gate";
  let description = [{
    A DiT block's residual connection, `hidden_states + attn_output * gate`,
    with a per-sample/per-channel `gate` (from the timestep modulation)
    broadcasting to `rhs`. Built by `dit-raise-modulation`.
    ```mlir
    %y = dit.gated_add %x, %a, %g : (tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
    ```
  }];
  let arguments = (ins Dit_FloatTensor:$lhs, Dit_FloatTensor:$rhs,
                       Dit_FloatTensor:$gate);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs `,` $gate attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_ReduceOp : Dit_Op<"reduce", [Pure, SameOperandsAndResultElementType]> {
  let summary = "reduce over `axes` (all axes when empty)";
  let arguments = (ins Dit_ReduceKind:$kind, Dit_Tensor:$input,
                       DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$kind $input $axes attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_AttentionOp : Dit_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "scaled dot-product attention over (batch, heads, seq, dim)";
  let description = [{
    softmax(scale * q kᵀ + mask) v. q: (B, Hq, Sq, D); k: (B, Hkv, Skv, D);
    v: (B, Hkv, Skv, Dv) with Hq a multiple of Hkv (grouped queries); the
    optional mask broadcasts to (B, Hq, Sq, Skv) and is additive (float) or
    a keep-mask (i1). `role` and `geometry` are filled in by raising;
    `sparsity` (self-attention over video only) by `dit-sparsify-attention`.
    `tile_ordered` (tile patterns only, set by `dit-hoist-tile-order`): the
    sequence axis of q, k, v and the result is already in the pattern's tile
    order, so the lowering does not permute around this attention.
    `gate` (vsa only; `dit-sparsify-attention` with `gate=1`): VSA's learned
    gate (`to_gate_compress`), shaped like the result, which then is
    fine + coarse · gate — fine: the block-sparse attention; coarse: for
    each query, the attention of its tile's mean-pooled query over the
    mean-pooled key and value tiles (all tiles).
  }];
  let arguments = (ins Dit_FloatTensor:$query, Dit_FloatTensor:$key,
                       Dit_FloatTensor:$value, Optional<Dit_Tensor>:$mask,
                       Optional<Dit_FloatTensor>:$gate, F64Attr:$scale,
                       DefaultValuedAttr<BoolAttr, "false">:$is_causal,
                       OptionalAttr<Dit_AttentionRole>:$role,
                       OptionalAttr<Dit_VideoGeometryAttr>:$geometry,
                       OptionalAttr<Dit_SparsityAttr>:$sparsity,
                       UnitAttr:$tile_ordered);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$query `,` $key `,` $value (`mask` $mask^)? "
                       "(`gate` $gate^)? (`role` $role^)? attr-dict "
                       "`:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_RopeOp : Dit_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>,
                                  SameOperandsAndResultElementType]> {
  let summary = "rotary position embedding over pairs of the last axis";
  let description = [{
    Rotates pairs of the last axis of `input` (..., D), D even: with
    `interleaved` the pairs are (x[2i], x[2i+1]), otherwise (rotate-half)
    (x[i], x[i + D/2]); each pair (x0, x1) becomes
    (x0·cos − x1·sin, x0·sin + x1·cos). `cos` and `sin` broadcast to the
    pair shape (..., D/2), so the op is layout-agnostic: raised Wan RoPE has
    input (B, S, H, D) and tables (1, S, 1, D/2). Built by `dit-raise-rope`.
    ```mlir
    %y = dit.rope %x, %c, %s {interleaved} : (tensor<1x48x2x16xf32>, tensor<1x48x1x8xf32>, tensor<1x48x1x8xf32>) -> tensor<1x48x2x16xf32>
    ```
  }];
  let arguments = (ins Dit_FloatTensor:$input, Dit_FloatTensor:$cos,
                       Dit_FloatTensor:$sin, UnitAttr:$interleaved);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$input `,` $cos `,` $sin attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Dit_ReshapeOp : Dit_Op<"reshape", [Pure, SameOperandsAndResultElementType]> {
  let summary = "same elements, new static shape (also Squeeze/Unsqueeze/Flatten)";
  let arguments = (ins Dit_Tensor:$input);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Dit_TransposeOp : Dit_Op<"transpose", [Pure, SameOperandsAndResultElementType]> {
  let summary = "permute axes: result dim i = input dim perm[i]";
  let arguments = (ins Dit_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat =
      "$input $perm attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Dit_SliceOp : Dit_Op<"slice", [Pure, SameOperandsAndResultElementType]> {
  let summary = "strided slice; sizes come from the result type";
  let description = [{
    Result element i along axis a is input element offsets[a] + i * strides[a]
    (strides may be negative, never zero).
  }];
  let arguments = (ins Dit_Tensor:$input, DenseI64ArrayAttr:$offsets,
                       DenseI64ArrayAttr:$strides);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$input `offsets` $offsets `strides` $strides attr-dict "
                       "`:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dit_ConcatOp : Dit_Op<"concat", [Pure, SameOperandsElementType]> {
  let summary = "join tensors along one axis";
  let arguments = (ins Variadic<Dit_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dit_BroadcastOp : Dit_Op<"broadcast", [Pure, SameOperandsAndResultElementType]> {
  let summary = "numpy broadcast to the result shape (ONNX Expand)";
  let arguments = (ins Dit_Tensor:$input);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dit_TileOp : Dit_Op<"tile", [Pure, SameOperandsAndResultElementType]> {
  let summary = "repeat the tensor `repeats[i]` times along axis i";
  let arguments = (ins Dit_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat =
      "$input $repeats attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Dit_PadOp : Dit_Op<"pad", [Pure, SameOperandsAndResultElementType]> {
  let summary = "constant padding: `pads` = before each axis, then after";
  let arguments = (ins Dit_Tensor:$input, DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<F64Attr, "0.0">:$padding_value);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat =
      "$input $pads attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Dit_GatherOp : Dit_Op<"gather", [Pure]> {
  let summary = "ONNX Gather: take `indices` along `axis` (negative wrap)";
  let arguments = (ins Dit_Tensor:$input, Dit_IndexTensor:$indices,
                       I64Attr:$axis);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$input `[` $indices `]` attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Dit_ScatterNdOp : Dit_Op<"scatter_nd", [Pure]> {
  let summary = "ONNX ScatterND: data with slices at `indices` replaced";
  let arguments = (ins Dit_Tensor:$data, Dit_IndexTensor:$indices,
                       Dit_Tensor:$updates,
                       DefaultValuedAttr<Dit_ScatterReduction,
                         "::vsa::dit::ScatterReduction::none">:$reduction);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$data `[` $indices `]` `,` $updates "
                       "(`reduction` $reduction^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Dit_ScatterElementsOp : Dit_Op<"scatter_elements", [Pure]> {
  let summary = "ONNX ScatterElements along `axis`";
  let arguments = (ins Dit_Tensor:$data, Dit_IndexTensor:$indices,
                       Dit_Tensor:$updates, I64Attr:$axis,
                       DefaultValuedAttr<Dit_ScatterReduction,
                         "::vsa::dit::ScatterReduction::none">:$reduction);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$data `[` $indices `]` `,` $updates "
                       "(`reduction` $reduction^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Context parallelism (built by dit-context-parallel)
//===----------------------------------------------------------------------===//

def Dit_ShardOp : Dit_Op<"shard", [Pure, SameOperandsAndResultElementType]> {
  let summary = "this rank's contiguous 1/degree chunk along `axis`";
  let description = [{
    Of `degree` ranks, rank r keeps elements [r·n/degree, (r+1)·n/degree)
    of `axis` (n its size, a multiple of `degree`). Where the token stream
    starts under context parallelism. The ranks of a collective are a group
    of the world: {c0 + i·stride : i < degree} (stride 1: consecutive
    ranks; hybrid and CFG parallelism use larger strides).
    ```mlir
    %s = dit.shard %x axis 1 degree 2 : tensor<1x48x32xf32> -> tensor<1x24x32xf32>
    ```
  }];
  let arguments = (ins Dit_Tensor:$input, I64Attr:$axis, I64Attr:$degree,
                       DefaultValuedAttr<I64Attr, "1">:$stride);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$input `axis` $axis `degree` $degree attr-dict `:` "
                       "type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Dit_AllToAllOp : Dit_Op<"all_to_all", [Pure,
                                            SameOperandsAndResultElementType]> {
  let summary = "Ulysses all-to-all over `degree` ranks";
  let description = [{
    Splits `scatter_axis` into `degree` chunks, sends chunk r to rank r and
    concatenates what arrives (in rank order) along `gather_axis`: heads
    (B, H, S/N, D) → (B, H/N, S, D) with scatter 1, gather 2, and back with
    scatter 2, gather 1.
    ```mlir
    %y = dit.all_to_all %q scatter 1 gather 2 degree 2 : tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>
    ```
  }];
  let arguments = (ins Dit_Tensor:$input, I64Attr:$scatter_axis,
                       I64Attr:$gather_axis, I64Attr:$degree,
                       DefaultValuedAttr<I64Attr, "1">:$stride);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$input `scatter` $scatter_axis `gather` $gather_axis "
                       "`degree` $degree attr-dict `:` type($input) `->` "
                       "type($result)";
  let hasVerifier = 1;
}

def Dit_AllGatherOp : Dit_Op<"all_gather", [Pure,
                                            SameOperandsAndResultElementType]> {
  let summary = "every rank's tensor concatenated along `axis` (rank order)";
  let description = [{
    The inverse of `dit.shard`: where the token stream ends.
    ```mlir
    %y = dit.all_gather %x axis 1 degree 2 : tensor<1x24x16xf32> -> tensor<1x48x16xf32>
    ```
  }];
  let arguments = (ins Dit_Tensor:$input, I64Attr:$axis, I64Attr:$degree,
                       DefaultValuedAttr<I64Attr, "1">:$stride);
  let results = (outs Dit_Tensor:$result);
  let assemblyFormat = "$input `axis` $axis `degree` $degree attr-dict `:` "
                       "type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Dit_RingAttentionOp : Dit_Op<"ring_attention",
                                 [Pure, AttrSizedOperandSegments]> {
  let summary = "attention of this rank's queries over every ring rank's keys";
  let description = [{
    Ring attention (context parallelism): q (B, Hq, S, D), k and v
    (B, Hkv, S, D) hold this rank's chunk of a sequence split over the
    `degree` ranks of a ring group ({c0 + i·stride}); the result (q's shape)
    is softmax(scale · q Kᵀ) V over the keys and values of all of them,
    concatenated in rank order. K/V chunks travel around the ring and the
    partial outputs merge by log-sum-exp. With `local` keys and values
    (B, Hkv, T, D) (joint attention's text, whole on every rank) the
    queries also attend to those, once. `mask` is a key mask over the
    whole ring's keys, (B or 1, 1, 1, degree x S), every rank holding all of
    it; `local_mask` one over the local keys. With `valid_keys`, only the first
    that many keys of the whole (padded) sequence count. Made by
    `dit-context-parallel`
    with `ring` > 1 from an unmasked, non-causal dense self-attention.
    ```mlir
    %o = dit.ring_attention %q, %k, %v degree 2 {scale = 2.500000e-01 : f64} : (tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>) -> tensor<1x2x24x16xf32>
    ```
  }];
  let arguments = (ins Dit_FloatTensor:$query, Dit_FloatTensor:$key,
                       Dit_FloatTensor:$value,
                       Optional<Dit_FloatTensor>:$mask,
                       Optional<Dit_FloatTensor>:$local_key,
                       Optional<Dit_FloatTensor>:$local_value,
                       Optional<Dit_FloatTensor>:$local_mask, F64Attr:$scale,
                       I64Attr:$degree, DefaultValuedAttr<I64Attr, "1">:$stride,
                       OptionalAttr<I64Attr>:$valid_keys);
  let results = (outs Dit_FloatTensor:$result);
  let assemblyFormat = "$query `,` $key `,` $value (`mask` $mask^)? "
                       "(`local` `(` $local_key^ `,` $local_value `)`)? "
                       "(`local_mask` $local_mask^)? `degree` $degree "
                       "attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // VSA_DIT_OPS

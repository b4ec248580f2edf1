//===- DitDialect.td - the dit dialect: DiT graphs on tensors -*- tablegen -*-===//
//
// `dit` holds a video diffusion transformer as a graph of value-semantics
// tensor ops. The ONNX importer produces the generic ops; raising passes
// recognise the compound ops (attention, norms, RoPE, ...) a DiT is made of.
//
//===----------------------------------------------------------------------===//

#ifndef VSA_DIT_DIALECT
#define VSA_DIT_DIALECT

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Dit_Dialect : Dialect {
  let name = "dit";
  let summary = "Video diffusion transformer graphs on static-shaped tensors";
  let description = [{
    Value-semantics ops on ranked tensors with static shapes. Every shape is
    known at compile time: the importer binds or rejects dynamic dimensions.
    Weights are `dit.param` ops carrying their diffusers parameter name.
  }];
  let cppNamespace = "::vsa::dit";
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 1;
}

class Dit_Op<string mnemonic, list<Trait> traits = []>
    : Op<Dit_Dialect, mnemonic, traits>;

// Element types a DiT graph carries: floats for activations and weights,
// integers for indices and shape arithmetic, i1 for masks.
def Dit_ElementType : AnyTypeOf<[F64, F32, F16, BF16, I64, I32, I8, UI8, I1]>;
def Dit_Tensor : StaticShapeTensorOf<[Dit_ElementType]>;
def Dit_FloatTensor : StaticShapeTensorOf<[F64, F32, F16, BF16]>;
def Dit_IndexTensor : StaticShapeTensorOf<[I64, I32]>;
def Dit_BoolTensor : StaticShapeTensorOf<[I1]>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Dit_CmpPredicate : I32EnumAttr<"CmpPredicate", "comparison predicate", [
    I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"lt", 1>,
    I32EnumAttrCase<"le", 2>, I32EnumAttrCase<"gt", 3>,
    I32EnumAttrCase<"ge", 4>]> {
  let cppNamespace = "::vsa::dit";
}

def Dit_ReduceKind : I32EnumAttr<"ReduceKind", "reduction", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"max", 2>, I32EnumAttrCase<"min", 3>,
    I32EnumAttrCase<"prod", 4>]> {
  let cppNamespace = "::vsa::dit";
}

def Dit_ScatterReduction : I32EnumAttr<"ScatterReduction",
    "how scattered updates combine with the data", [
    I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"add", 1>,
    I32EnumAttrCase<"mul", 2>, I32EnumAttrCase<"max", 3>,
    I32EnumAttrCase<"min", 4>]> {
  let cppNamespace = "::vsa::dit";
}

def Dit_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "GELU formula", [
    I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"tanh", 1>]> {
  let cppNamespace = "::vsa::dit";
}

def Dit_AttentionRole : I32EnumAttr<"AttentionRole",
    "whether keys/values come from the queries' own sequence", [
    I32EnumAttrCase<"self", 0>, I32EnumAttrCase<"cross", 1>]> {
  let cppNamespace = "::vsa::dit";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Dit_VideoGeometryAttr : AttrDef<Dit_Dialect, "VideoGeometry"> {
  let mnemonic = "video";
  let summary = "how a token sequence maps to latent frames x rows x columns";
  let description = [{
    A sequence of `prefix + t*h*w + suffix` tokens: `prefix` non-video tokens,
    then video tokens in (frame, row, column) order, then `suffix` others.
    Example: `#dit.video<t = 21, h = 30, w = 52, prefix = 0, suffix = 0>`.
  }];
  let parameters = (ins "int64_t":$t, "int64_t":$h, "int64_t":$w,
                        "int64_t":$prefix, "int64_t":$suffix);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getNumVideoTokens() const { return getT() * getH() * getW(); }
    int64_t getNumTokens() const {
      return getPrefix() + getNumVideoTokens() + getSuffix();
    }
  }];
}

def Dit_SparsityAttr : AttrDef<Dit_Dialect, "Sparsity"> {
  let mnemonic = "sparsity";
  let summary = "which keys each query block of a self-attention keeps";
  let description = [{
    Set by `dit-sparsify-attention` on video self-attention. `pattern` names
    the rule, `params` its integer parameters. `frame-window` (long-video
    frame window with keyframes): a latent frame's queries attend to the
    frames within +-`window`, to the first `sink` frames, to every frame
    whose index is a multiple of `keyframe_interval` (0: none) and to the
    non-video tokens; non-video queries attend to everything (optional:
    keyframes are the frames `keyframe_offset` modulo the interval, and
    with `rotate = 1` the grid moves by one frame per denoising step). Example:
    `#dit.sparsity<"frame-window", {keyframe_interval = 4 : i64, sink = 1 : i64, window = 1 : i64}>`.
    `sliding-tile`: tiles of `tile_t/h/w` tokens, each query tile attends to
    the key tiles within a `window_t/h/w` window of tiles centred on it.
    `vsa` (Video Sparse Attention): tiles of `tile_t/h/w` tokens; per head
    and query tile, the `1 - sparsity` fraction of key tiles that mean-pooled
    attention scores highest (chosen at run time; `sparsity` is the compiled
    default, a float in [0, 1)).
    `semantic` (Sparse VideoGen2): per head, k-means of q into `q_clusters`
    and of k into `kv_clusters` clusters (`iterations` on a video's first
    call, `warm_iterations` from the previous call's centroids after), then
    each query cluster keeps the key clusters of highest size-weighted
    centroid attention up to cumulative probability `top_p` (a float in
    (0, 1]; at least the `min_kept` fraction, a float in [0, 1]). Chosen at
    run time; the lists do not depend on token positions, so no tile order.
  }];
  let parameters = (ins StringRefParameter<"the pattern">:$pattern,
                        "::mlir::DictionaryAttr":$params);
  let assemblyFormat = "`<` $pattern `,` $params `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Integer parameter `key` (verified to exist for the pattern).
    int64_t getInt(::llvm::StringRef key) const;
    /// Float parameter `key` (verified to exist for the pattern).
    double getFloat(::llvm::StringRef key) const;
  }];
}

#endif // VSA_DIT_DIALECT

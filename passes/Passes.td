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

#endif // VSA_PASSES

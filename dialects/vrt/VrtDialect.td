//===- VrtDialect.td - vrt: the runtime-level program -------*- tablegen -*-===//
//
// `vrt` is the program vsac emits code from: library calls (GEMM, attention,
// norms), launches of generated kernels whose bodies are fused `dit` ops,
// views, and collectives, over buffers that a static memory plan places in
// one arena.
//
//===----------------------------------------------------------------------===//

#ifndef VSA_VRT_DIALECT
#define VSA_VRT_DIALECT

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Vrt_Dialect : Dialect {
  let name = "vrt";
  let summary = "Runtime calls and generated kernels over a planned arena";
  let description = [{
    Values are tensors with static shapes; each one that an op produces
    lives in the activation arena at the byte `offset` the memory planner
    assigns (`vrt-plan-memory`), except `vrt.view`, which aliases its
    operand, and `vrt.weight`, which names a bound weight. Function
    arguments are the model inputs; the function's `vrt.arena_bytes`
    attribute holds the arena's size (the peak of live activations).
  }];
  let cppNamespace = "::vsa::vrt";
  let dependentDialects = ["::vsa::dit::DitDialect"];
  let useDefaultAttributePrinterParser = 1;
}

class Vrt_Op<string mnemonic, list<Trait> traits = []>
    : Op<Vrt_Dialect, mnemonic, traits>;

def Vrt_ElementType : AnyTypeOf<[F32, F16, BF16, I64, I32, I8, UI8, I1]>;
def Vrt_Tensor : StaticShapeTensorOf<[Vrt_ElementType]>;
def Vrt_FloatTensor : StaticShapeTensorOf<[F32, F16, BF16]>;

def Vrt_EpilogueEnum : I32EnumAttr<"Epilogue", "GEMM epilogue", [
    I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"gelu_tanh", 1>,
    I32EnumAttrCase<"gelu_erf", 2>]> {
  let cppNamespace = "::vsa::vrt";
  let genSpecializedAttr = 0;
}

def Vrt_LayoutEnum : I32EnumAttr<"Layout", "attention operand layout", [
    I32EnumAttrCase<"bhsd", 0>, I32EnumAttrCase<"bshd", 1>]> {
  let cppNamespace = "::vsa::vrt";
  let genSpecializedAttr = 0;
}

def Vrt_NormKindEnum : I32EnumAttr<"NormKind", "row normalisation", [
    I32EnumAttrCase<"layer", 0>, I32EnumAttrCase<"rms", 1>]> {
  let cppNamespace = "::vsa::vrt";
  let genSpecializedAttr = 0;
}

def Vrt_Epilogue : EnumAttr<Vrt_Dialect, Vrt_EpilogueEnum, "epilogue">;
def Vrt_Layout : EnumAttr<Vrt_Dialect, Vrt_LayoutEnum, "layout">;
def Vrt_NormKind : EnumAttr<Vrt_Dialect, Vrt_NormKindEnum, "norm">;
#endif // VSA_VRT_DIALECT

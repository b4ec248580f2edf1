#!/usr/bin/env python3
"""Writes the seed corpus of the importer fuzzer (tools/fuzz).

    make_corpus.py [OUT_DIR]      (default: test/fuzz/corpus next to this file)

Each seed is a tiny, valid model that vsa imports: binary protobuf files
(`*.onnx`) built here, and ONNX text (`text_*.txt`, which the fuzzer reads as
text because it starts with '<') taken from the lit tests in test/Import.
The names avoid lit's test suffixes. Output is
deterministic, so re-running it leaves the committed files unchanged.
Crash reproducers found by fuzzing live in the same folder as `regress-*`;
this script neither writes nor removes them.
"""

import os
import sys

import numpy as np
from onnx import TensorProto, external_data_helper, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
F = TensorProto.FLOAT
I64 = TensorProto.INT64


def model(nodes, inputs, outputs, inits=(), opset=20, ir_version=10):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(graph, ir_version=ir_version,
                             opset_imports=[helper.make_opsetid("", opset)],
                             producer_name="vsa-fuzz-corpus")


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def ints(name, values):
    return init(name, np.array(values, dtype=np.int64))


def floats(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    return init(name, rng.standard_normal(shape).astype(np.float32))


def const(out, array):
    return helper.make_node("Constant", [], [out],
                            value=numpy_helper.from_array(np.asarray(array)))


def node(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs, **attrs)


def matmul():
    """x @ W + b with a generated-name weight and a TorchScript node name."""
    return model(
        [node("MatMul", ["x", "val_1"], ["h"], name="/blocks.0/attn1/to_q/MatMul"),
         node("Add", ["h", "b"], ["y"])],
        [vi("x", [2, 4])], [vi("y", [2, 3])],
        [floats("val_1", [4, 3]), floats("b", [3], 1)])


def provenance():
    """A dynamo-style MatMul: val_N weight, Linear name scopes in metadata."""
    mm = node("MatMul", ["x", "val_7"], ["y"], name="node_linear")
    for key, value in [
            ("pkg.torch.onnx.name_scopes", "['', 'blocks.0', 'blocks.0.ffn.net.0.proj']"),
            ("pkg.torch.onnx.class_hierarchy",
             "['Model', \"a.B\", 'torch.nn.modules.linear.Linear']")]:
        entry = mm.metadata_props.add()
        entry.key, entry.value = key, value
    return model([mm], [vi("x", [2, 4])], [vi("y", [2, 3])],
                 [floats("val_7", [4, 3])])


def reshape_chain():
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, folded to constants."""
    return model(
        [node("Shape", ["x"], ["s"]),
         const("i0", np.array(0, np.int64)),
         node("Gather", ["s", "i0"], ["b"], axis=0),
         const("ax", np.array([0], np.int64)),
         node("Unsqueeze", ["b", "ax"], ["b1"]),
         const("rest", np.array([-1], np.int64)),
         node("Concat", ["b1", "rest"], ["target"], axis=0),
         node("Reshape", ["x", "target"], ["y"]),
         node("Flatten", ["x"], ["f"], axis=2),
         node("Unsqueeze", ["f", "ax1"], ["u"]),
         node("Squeeze", ["u", "ax1"], ["z"])],
        [vi("x", [2, 3, 4])], [vi("y", [2, 12]), vi("z", [6, 4])],
        [ints("ax1", [1])], opset=17)


def slice_():
    """Slice with negative starts, steps and axes; Split and Concat."""
    return model(
        [node("Slice", ["x", "st", "en", "ax", "sp"], ["y"]),
         node("Split", ["x", "split"], ["a", "b"], axis=1),
         node("Concat", ["b", "a"], ["z"], axis=-1)],
        [vi("x", [4, 6])], [vi("y", [2, 3]), vi("z", [4, 6])],
        [ints("st", [-1, 0]), ints("en", [-100, 6]), ints("ax", [0, 1]),
         ints("sp", [-2, 2]), ints("split", [2, 4])], opset=18)


def conv():
    """Conv with bias, strides, pads and groups; then Pad and Relu."""
    return model(
        [node("Conv", ["x", "w", "b"], ["c"], strides=[2, 1], pads=[1, 1, 1, 0],
              group=2),
         const("pv", np.array(0.5, np.float32)),
         node("Pad", ["c", "pads", "pv"], ["p"]),
         node("Relu", ["p"], ["y"])],
        [vi("x", [1, 4, 5, 5])], [vi("y", [1, 2, 4, 5])],
        [floats("w", [2, 2, 3, 3]), floats("b", [2], 1),
         ints("pads", [0, 0, 0, 0, 0, 0, 1, 1])], opset=19)


def layernorm():
    """LayerNormalization with scale and bias; Softmax, Gelu, ReduceMean."""
    return model(
        [node("LayerNormalization", ["x", "s", "b"], ["l"], axis=-1,
              epsilon=1e-6),
         node("Softmax", ["l"], ["sm"], axis=1),
         node("Gelu", ["sm"], ["g"], approximate="tanh"),
         node("ReduceMean", ["g", "axes"], ["y"], keepdims=1)],
        [vi("x", [2, 3, 8])], [vi("y", [2, 3, 1])],
        [floats("s", [8]), floats("b", [8], 1), ints("axes", [-1])])


def scatternd():
    """ScatterND with constant indices, Gather and ScatterElements."""
    return model(
        [node("ScatterND", ["data", "idx", "upd"], ["s"], reduction="add"),
         node("Gather", ["s", "gi"], ["g"], axis=1),
         node("ScatterElements", ["g", "ei", "eu"], ["y"], axis=0)],
        [vi("data", [4, 3]), vi("upd", [2, 3])], [vi("y", [4, 2])],
        [ints("idx", [[0], [2]]), ints("gi", [2, 0]),
         ints("ei", [[1, 0]]), floats("eu", [1, 2])], opset=18)


def attention():
    """Attention (opset 23), 4-D with a mask and 3-D with grouped heads."""
    return model(
        [node("Attention", ["q", "k", "v", "m"], ["a"], scale=0.125),
         node("Attention", ["q3", "k3", "v3"], ["b"], q_num_heads=4,
              kv_num_heads=2, is_causal=1),
         node("RMSNormalization", ["b", "rs"], ["r"])],
        [vi("q", [1, 2, 3, 8]), vi("k", [1, 2, 4, 8]), vi("v", [1, 2, 4, 4]),
         vi("m", [3, 4]), vi("q3", [1, 3, 16]), vi("k3", [1, 4, 8]),
         vi("v3", [1, 4, 8])],
        [vi("a", [1, 2, 3, 4]), vi("r", [1, 3, 16])],
        [floats("rs", [16])], opset=23)


def constants():
    """Constant nodes of every kind feeding foldable arithmetic."""
    return model(
        [const("c", np.arange(6, dtype=np.float32).reshape(2, 3)),
         node("Constant", [], ["f"], value_float=2.0),
         node("Constant", [], ["fs"], value_floats=[1.0, -2.0, 3.0]),
         node("Constant", [], ["i"], value_int=3),
         node("Constant", [], ["is"], value_ints=[2, 3]),
         node("Mul", ["c", "f"], ["m"]),
         node("Sub", ["m", "fs"], ["d"]),
         node("Sqrt", ["f"], ["sq"]),
         node("Div", ["d", "sq"], ["q"]),
         node("Cast", ["i"], ["ic"], to=F),
         node("Pow", ["q", "ic"], ["p"]),
         node("ConstantOfShape", ["is"], ["z"],
              value=numpy_helper.from_array(np.array([1.5], np.float32))),
         node("Max", ["p", "z", "c"], ["mx"]),
         node("Greater", ["mx", "c"], ["gt"]),
         node("Where", ["gt", "mx", "x"], ["w"]),
         node("Range", ["r0", "i", "r1"], ["r"]),
         node("Mod", ["r", "i"], ["y2"]),
         node("Add", ["w", "x"], ["a"]),
         node("Transpose", ["c"], ["ct"], perm=[1, 0]),
         node("Transpose", ["ct"], ["ctt"], perm=[1, 0]),
         node("Slice", ["ctt", "r0", "r1", "r0"], ["cs"]),
         node("Add", ["a", "cs"], ["y"])],
        [vi("x", [2, 3])], [vi("y", [2, 3]), vi("y2", [3], I64)],
        [ints("r0", [0]), ints("r1", [1])])


def shape_ops():
    """Expand, Tile, Transpose, Clip, Gemm, Unsqueeze (opset 11 attributes)."""
    return model(
        [node("Unsqueeze", ["x"], ["u"], axes=[0]),
         node("Expand", ["u", "shape"], ["e"]),
         node("Tile", ["e", "rep"], ["t"]),
         node("Transpose", ["t"], ["tt"], perm=[1, 0, 2]),
         node("Squeeze", ["tt"], ["s"], axes=[0]),
         node("Clip", ["s", "lo", "hi"], ["c"]),
         node("Gemm", ["c", "w", "b"], ["y"], transB=1, alpha=0.5),
         node("ReduceSum", ["y"], ["rs"], axes=[1], keepdims=0)],
        [vi("x", [1, 4])], [vi("y", [2, 3]), vi("rs", [2])],
        [ints("shape", [2, 1, 4]), ints("rep", [1, 1, 1]),
         init("lo", np.array(-1, np.float32)), init("hi", np.array(1, np.float32)),
         floats("w", [3, 4]), floats("b", [3], 1)], opset=11)


def typed_initializers():
    """Initializers in typed fields and raw_data, of several element types."""
    half = helper.make_tensor("h", TensorProto.FLOAT16, [2],
                              np.array([1.0, 2.0], np.float16).view(np.uint16)
                              .astype(np.int32).tolist())
    boolean = helper.make_tensor("m", TensorProto.BOOL, [2], [1, 0])
    typed = helper.make_tensor("tf", F, [2], [0.5, 4.0])
    i8 = numpy_helper.from_array(np.array([3, -4], np.int8), "i8")
    return model(
        [node("Cast", ["h"], ["hf"], to=F),
         node("Where", ["m", "hf", "tf"], ["w"]),
         node("Cast", ["i8"], ["i8f"], to=F),
         node("Mul", ["w", "i8f"], ["p"]),
         node("Add", ["x", "p"], ["y"]),
         node("IsNaN", ["y"], ["n"]),
         node("Not", ["n"], ["nn"])],
        [vi("x", [2])], [vi("y", [2]), vi("nn", [2], TensorProto.BOOL)],
        [half, boolean, typed, i8])


def external_data():
    """A weight in an external file, which the fuzzer's empty folder lacks."""
    ext = init("weight", np.zeros([2], np.float32))
    ext.data_location = TensorProto.EXTERNAL
    external_data_helper.set_external_data(ext, "weights.bin", offset=0, length=8)
    return model([node("Add", ["x", "weight"], ["y"])],
                 [vi("x", [2])], [vi("y", [2])], [ext])


def text_seeds():
    """The importer's lit tests in ONNX text, without their RUN/CHECK comments
    (so that each starts with '<'): one seed per op family."""
    tests = os.path.join(HERE, "..", "Import")
    seeds = {}
    for name in sorted(os.listdir(tests)):
        if not name.endswith(".onnxtext"):
            continue
        with open(os.path.join(tests, name)) as f:
            lines = [l for l in f if not l.lstrip().startswith("#")]
        text = "".join(lines).lstrip()
        if text.startswith("<"):
            seeds["text_" + name[:-len(".onnxtext")].replace("-", "_") + ".txt"] = text
    return seeds


SEEDS = {
    "matmul.onnx": matmul,
    "provenance.onnx": provenance,
    "reshape_chain.onnx": reshape_chain,
    "slice.onnx": slice_,
    "conv.onnx": conv,
    "layernorm.onnx": layernorm,
    "scatternd.onnx": scatternd,
    "attention_opset23.onnx": attention,
    "constants.onnx": constants,
    "shape_ops_opset11.onnx": shape_ops,
    "typed_initializers.onnx": typed_initializers,
    "external_data.onnx": external_data,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for name, make in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(make().SerializeToString())
    for name, text in text_seeds().items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes ONNX models (or other files) for the importer tests.

    make_bad_models.py KIND[=ARG] OUT [KIND[=ARG] OUT ...]

KIND is one of the functions marked @kind below (dashes for underscores),
OUT the .onnx path to write, ARG an extra argument some kinds take. Several
models per call save Python start-up time. Files a kind needs next to the
model (external data, links) go into OUT's folder or its parent. Nodes are
named so that errors can be checked against the node name. Everything is
deterministic.
"""

import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 20
KINDS = {}


def kind(fn):
    KINDS[fn.__name__] = fn
    return fn


def model(nodes, inputs, outputs, inits=(), opset=OPSET, **kwargs):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    opsets = kwargs.pop("opsets", [helper.make_opsetid("", opset)])
    return helper.make_model(graph, opset_imports=opsets, ir_version=10,
                             producer_name="make_bad_models", **kwargs)


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def write(out, m):
    # Serialize directly: onnx.save would try to resolve external data.
    with open(out, "wb") as f:
        f.write(m if isinstance(m, bytes) else m.SerializeToString())


def add_model(inits=(), x="x", w="w"):
    """y = Add(x, w), x: float[2, 3]."""
    return model([helper.make_node("Add", [x, w], ["y"], name="add_w")],
                 [f32("x", [2, 3])], [f32("y", [2, 3])], inits)


# --- Files that are not ONNX models ----------------------------------------

@kind
def empty(out):
    write(out, b"")


@kind
def truncated(out, src):
    """The first 4096 bytes of a real model (ends inside its graph)."""
    with open(src, "rb") as f:
        write(out, f.read(4096))


@kind
def random_bytes(out):
    write(out, random.Random(1234).randbytes(4096))


# --- Graph structure --------------------------------------------------------

@kind
def unknown_op(out):
    write(out, model([helper.make_node("FancyOp", ["x"], ["y"], name="fancy")],
                     [f32("x", [2])], [f32("y", [2])]))


@kind
def unknown_domain(out):
    node = helper.make_node("Relu", ["x"], ["y"], name="custom_relu",
                            domain="com.example")
    write(out, model([node], [f32("x", [2])], [f32("y", [2])],
                     opsets=[helper.make_opsetid("", OPSET),
                             helper.make_opsetid("com.example", 1)]))


@kind
def dangling_input(out):
    write(out, add_model(w="missing_w"))


@kind
def cycle(out):
    nodes = [helper.make_node("Add", ["x", "c"], ["b"], name="cycle_a"),
             helper.make_node("Relu", ["b"], ["c"], name="cycle_b")]
    write(out, model(nodes, [f32("x", [2])], [f32("b", [2])]))


@kind
def cycle_downstream(out):
    """The first node only reads from a cycle; the error names a node on it."""
    nodes = [helper.make_node("Neg", ["b"], ["y"], name="after_cycle"),
             helper.make_node("Add", ["x", "c"], ["b"], name="cycle_a"),
             helper.make_node("Relu", ["b"], ["c"], name="cycle_b")]
    write(out, model(nodes, [f32("x", [2])], [f32("y", [2])]))


@kind
def duplicate_output(out):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="first"),
             helper.make_node("Neg", ["x"], ["y"], name="second")]
    write(out, model(nodes, [f32("x", [2])], [f32("y", [2])]))


@kind
def shadow_input(out):
    """A node output that redefines a graph input."""
    nodes = [helper.make_node("Relu", ["x"], ["x"], name="shadow")]
    write(out, model(nodes, [f32("x", [2])], [f32("x", [2])]))


@kind
def duplicate_input(out):
    nodes = [helper.make_node("Add", ["x", "x"], ["y"], name="twice")]
    write(out, model(nodes, [f32("x", [2]), f32("x", [3])], [f32("y", [2])]))


@kind
def duplicate_initializer(out):
    w = numpy_helper.from_array(np.ones((2, 3), np.float32), "w")
    write(out, add_model([w, w]))


@kind
def no_op_type(out):
    write(out, model([helper.make_node("", ["x"], ["y"], name="blank")],
                     [f32("x", [2])], [f32("y", [2])]))


@kind
def missing_input(out):
    """Gemm with only A: B is required."""
    write(out, model([helper.make_node("Gemm", ["x"], ["y"], name="gemm1")],
                     [f32("x", [2, 2])], [f32("y", [2, 2])]))


@kind
def output_type(out):
    """The graph output is declared int64 but Relu computes float."""
    y = helper.make_tensor_value_info("y", TensorProto.INT64, [2])
    write(out, model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                     [f32("x", [2])], [y]))


@kind
def output_shape(out):
    write(out, model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                     [f32("x", [2])], [f32("y", [3])]))


@kind
def sequence_input(out):
    seq = helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, [2])
    write(out, model([helper.make_node("Identity", ["s"], ["y"], name="i")],
                     [seq], [f32("y", [2])]))


@kind
def complex_input(out):
    x = helper.make_tensor_value_info("x", TensorProto.COMPLEX64, [2])
    write(out, model([helper.make_node("Identity", ["x"], ["y"], name="i")],
                     [x], [f32("y", [2])]))


@kind
def unshaped_input(out):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    write(out, model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                     [x], [f32("y", [2, 3])]))


@kind
def dynamic_input(out):
    """x: float['batch', 3, ?]; y = Relu(x) * w with w: float[3, 1]."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, None])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, None])
    w = numpy_helper.from_array(np.full((3, 1), 2, np.float32), "scale")
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Mul", ["r", "scale"], ["y"], name="mul")]
    write(out, model(nodes, [x], [y], [w]))


@kind
def anonymous_dim(out):
    """x: float[?, 3]: a dynamic dimension without a name."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])
    write(out, model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                     [x], [f32("y", [2, 3])]))


# --- Model-level ------------------------------------------------------------

@kind
def opset_low(out):
    write(out, model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                     [f32("x", [2])], [f32("y", [2])], opset=10))


@kind
def opset_high(out):
    write(out, model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                     [f32("x", [2])], [f32("y", [2])], opset=25))


@kind
def no_default_opset(out):
    write(out, model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                     [f32("x", [2])], [f32("y", [2])],
                     opsets=[helper.make_opsetid("com.example", 1)]))


@kind
def no_graph(out):
    m = onnx.ModelProto()
    m.ir_version = 10
    m.opset_import.append(helper.make_opsetid("", OPSET))
    write(out, m)


@kind
def local_function(out):
    fn = helper.make_function(
        "local", "MyRelu", ["a"], ["b"],
        [helper.make_node("Relu", ["a"], ["b"])],
        [helper.make_opsetid("", OPSET)])
    node = helper.make_node("MyRelu", ["x"], ["y"], name="call", domain="local")
    write(out, model([node], [f32("x", [2])], [f32("y", [2])],
                     opsets=[helper.make_opsetid("", OPSET),
                             helper.make_opsetid("local", 1)],
                     functions=[fn]))


# --- Tensor data ------------------------------------------------------------

@kind
def raw_data_size(out):
    w = numpy_helper.from_array(np.ones((2, 3), np.float32), "w")
    w.raw_data = w.raw_data[:20]
    write(out, add_model([w]))


def tensor(name, data_type, dims):
    """A TensorProto without the helper's consistency checks."""
    t = onnx.TensorProto()
    t.name = name
    t.data_type = data_type
    t.dims.extend(dims)
    return t


@kind
def typed_count(out):
    """float_data holds 5 values for dims (2, 3)."""
    w = tensor("w", TensorProto.FLOAT, [2, 3])
    w.float_data.extend([1, 2, 3, 4, 5])
    write(out, add_model([w]))


@kind
def string_initializer(out):
    w = helper.make_tensor("w", TensorProto.STRING, [2], [b"a", b"b"])
    write(out, add_model([w]))


@kind
def complex_initializer(out):
    w = tensor("w", TensorProto.COMPLEX64, [1])
    w.float_data.extend([1.0, 2.0])
    write(out, add_model([w]))


@kind
def negative_dim(out):
    write(out, add_model([tensor("w", TensorProto.FLOAT, [2, -3])]))


@kind
def overflow_dims(out):
    """dims whose product overflows int64."""
    w = tensor("w", TensorProto.FLOAT, [1 << 40, 1 << 40])
    write(out, add_model([w]))


def external(location, offset=None, length=None, name="w"):
    """A [2, 3] float initializer stored externally."""
    w = tensor(name, TensorProto.FLOAT, [2, 3])
    w.data_location = TensorProto.EXTERNAL
    entries = {"location": location}
    if offset is not None:
        entries["offset"] = str(offset)
    if length is not None:
        entries["length"] = str(length)
    for k, v in entries.items():
        e = w.external_data.add()
        e.key, e.value = k, v
    return w


WEIGHTS = np.arange(6, dtype=np.float32).reshape(2, 3) / 4


def write_bin(path, data):
    with open(path, "wb") as f:
        f.write(data)


@kind
def ext_ok(out):
    """Valid external data: 8 junk bytes, then w at offset 8."""
    write_bin(os.path.join(os.path.dirname(out), "weights.bin"),
              b"junk0123" + WEIGHTS.tobytes() + b"tail")
    write(out, add_model([external("weights.bin", offset=8, length=24)]))


@kind
def ext_subdir(out):
    """Valid: a location in a sub-folder."""
    sub = os.path.join(os.path.dirname(out), "data")
    os.makedirs(sub, exist_ok=True)
    write_bin(os.path.join(sub, "w.bin"), WEIGHTS.tobytes())
    write(out, add_model([external("data/w.bin")]))


@kind
def ext_absolute(out):
    path = os.path.abspath(os.path.join(os.path.dirname(out), "w.bin"))
    write_bin(path, WEIGHTS.tobytes())
    write(out, add_model([external(path)]))


@kind
def ext_dotdot(out):
    """../w.bin exists, but outside the model's folder."""
    parent = os.path.dirname(os.path.dirname(os.path.abspath(out)))
    write_bin(os.path.join(parent, "w.bin"), WEIGHTS.tobytes())
    write(out, add_model([external("../w.bin")]))


@kind
def ext_symlink(out):
    """link.bin in the model's folder points at a file outside it."""
    folder = os.path.dirname(os.path.abspath(out))
    outside = os.path.join(os.path.dirname(folder), "outside.bin")
    write_bin(outside, WEIGHTS.tobytes())
    link = os.path.join(folder, "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(outside, link)
    write(out, add_model([external("link.bin")]))


@kind
def ext_link_inside(out):
    """Valid: link.bin points at data/real.bin inside the model's folder."""
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(os.path.join(folder, "data"), exist_ok=True)
    write_bin(os.path.join(folder, "data", "real.bin"), WEIGHTS.tobytes())
    link = os.path.join(folder, "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.join("data", "real.bin"), link)
    write(out, add_model([external("link.bin")]))


@kind
def ext_missing(out):
    write(out, add_model([external("nowhere.bin")]))


@kind
def ext_short(out):
    """The file holds 20 bytes; w needs 24."""
    write_bin(os.path.join(os.path.dirname(out), "short.bin"),
              WEIGHTS.tobytes()[:20])
    write(out, add_model([external("short.bin")]))


@kind
def ext_offset(out):
    """Offset 100 is past the end of a 24-byte file."""
    write_bin(os.path.join(os.path.dirname(out), "w.bin"), WEIGHTS.tobytes())
    write(out, add_model([external("w.bin", offset=100)]))


@kind
def ext_length(out):
    """length says 16; dims and type need 24."""
    write_bin(os.path.join(os.path.dirname(out), "w.bin"), WEIGHTS.tobytes())
    write(out, add_model([external("w.bin", length=16)]))


@kind
def ext_bad_offset(out):
    write_bin(os.path.join(os.path.dirname(out), "w.bin"), WEIGHTS.tobytes())
    write(out, add_model([external("w.bin", offset="-8")]))


@kind
def constant_external(out):
    """A Constant node whose value tensor lives in an external file."""
    write_bin(os.path.join(os.path.dirname(out), "w.bin"), WEIGHTS.tobytes())
    node = helper.make_node("Constant", [], ["w"], name="const_w",
                            value=external("w.bin", name="value"))
    write(out, model([node, helper.make_node("Add", ["x", "w"], ["y"],
                                             name="add_w")],
                     [f32("x", [2, 3])], [f32("y", [2, 3])]))


# --- Node-level -------------------------------------------------------------

@kind
def layernorm_mean(out):
    """`use_mean` reads LayerNorm's Mean output, which vsa does not compute."""
    s = numpy_helper.from_array(np.ones(4, np.float32), "ln.weight")
    nodes = [helper.make_node("LayerNormalization", ["x", "ln.weight"],
                              ["y", "mean", "inv_std"], name="ln", axis=-1),
             helper.make_node("Mul", ["y", "mean"], ["z"], name="use_mean")]
    write(out, model(nodes, [f32("x", [2, 4])], [f32("z", [2, 4])], [s]))


@kind
def layernorm_mean_output(out):
    """The graph returns LayerNorm's Mean output directly."""
    s = numpy_helper.from_array(np.ones(4, np.float32), "ln.weight")
    nodes = [helper.make_node("LayerNormalization", ["x", "ln.weight"],
                              ["y", "mean"], name="ln")]
    write(out, model(nodes, [f32("x", [2, 4])], [f32("mean", [2, 1])], [s]))


@kind
def reshape_runtime_shape(out):
    """Reshape's shape is a graph input, not a constant."""
    s = helper.make_tensor_value_info("s", TensorProto.INT64, [2])
    node = helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape_x")
    write(out, model([node], [f32("x", [2, 3]), s], [f32("y", [3, 2])]))


@kind
def attr_wrong_kind(out):
    node = helper.make_node("Softmax", ["x"], ["y"], name="softmax_x",
                            axis="last")
    write(out, model([node], [f32("x", [2, 3])], [f32("y", [2, 3])]))


@kind
def attr_wrong_kind_float(out):
    """LayerNormalization's epsilon given as an integer."""
    s = numpy_helper.from_array(np.ones(4, np.float32), "ln.weight")
    node = helper.make_node("LayerNormalization", ["x", "ln.weight"], ["y"],
                            name="ln", epsilon=1)
    write(out, model([node], [f32("x", [2, 4])], [f32("y", [2, 4])], [s]))


@kind
def gather_out_of_range(out):
    idx = numpy_helper.from_array(np.array([0, -4], np.int64), "idx")
    node = helper.make_node("Gather", ["x", "idx"], ["y"], name="gather_rows")
    write(out, model([node], [f32("x", [3, 2])], [f32("y", [2, 2])], [idx]))


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for spec, out in zip(args[::2], args[1::2]):
        name, *extra = spec.split("=", 1)
        fn = KINDS.get(name.replace("-", "_"))
        if not fn:
            sys.exit(f"unknown kind '{name}'; kinds: {', '.join(sorted(KINDS))}")
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        fn(out, *extra)


if __name__ == "__main__":
    main()

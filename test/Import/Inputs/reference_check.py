#!/usr/bin/env python3
"""Compares the importer's opset-keyed semantics with onnx's reference
implementation on many generated cases.

    reference_check.py make OPSET MODEL.onnx     write the cases
    reference_check.py compare MODEL.onnx IMPORTED.mlir

`make` writes one model whose outputs are Slice, Split, Gather, Reshape,
Squeeze/Unsqueeze, Flatten, Transpose, Concat, Expand, Tile, Pad and
Reduce* cases on constant inputs (seeded, with INT64 sentinels, negative
steps and axes). The importer folds most of them to constants. `compare`
runs onnx.reference on the model and checks every output's shape, and its
values where vsac folded it to a dit.constant. Prints one summary line;
exits 1 listing the differences.
"""

import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

BIG = np.iinfo(np.int64).max
SMALL = np.iinfo(np.int64).min


def make(opset, path):
    opset = int(opset)
    rng = np.random.default_rng(20240617)
    x = np.arange(7 * 5 * 3, dtype=np.int64).reshape(7, 5, 3)
    inits = [numpy_helper.from_array(x, "x")]
    nodes, outputs = [], []

    def const(name, values):
        inits.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    def out(name, node):
        nodes.append(node)
        outputs.append(helper.make_tensor_value_info(name, TensorProto.INT64,
                                                     None))

    def index(d):
        choices = [rng.integers(-d - 3, d + 4), BIG, SMALL, 0, -1, d, -d]
        return int(choices[rng.integers(len(choices))])

    for i in range(80):
        n_axes = int(rng.integers(1, 4))
        axes = [int(a) for a in rng.choice(3, n_axes, replace=False)]
        dims = [x.shape[a] for a in axes]
        starts = [index(d) for d in dims]
        ends = [index(d) for d in dims]
        steps = [int(rng.choice([1, 2, 3, -1, -2, -3])) for _ in dims]
        # A start before -d with a negative step: the spec (and ORT) clamp it
        # to 0, one element; onnx.reference follows numpy: none.
        starts = [BIG if t < 0 and s < -d else s
                  for s, t, d in zip(starts, steps, dims)]
        axes = [a - 3 if rng.integers(2) else a for a in axes]
        ins = ["x", const(f"s{i}", starts), const(f"e{i}", ends)]
        if i % 5 or axes != list(range(n_axes)):
            ins += [const(f"a{i}", axes), const(f"t{i}", steps)]
        elif i % 10:
            ins += ["", const(f"t{i}", steps)]
        out(f"slice{i}", helper.make_node("Slice", ins, [f"slice{i}"]))

    split_cases = [(0, [2, 5]), (1, [0, 4, 1]), (-1, [3])]
    for i, (axis, sizes) in enumerate(split_cases):
        names = [f"split{i}_{j}" for j in range(len(sizes))]
        ins = ["x"]
        if opset >= 13:
            ins.append(const(f"split{i}", sizes))
            attrs = {}
        else:
            attrs = {"split": sizes}
        for n in names[:-1]:
            outputs.append(helper.make_tensor_value_info(n, TensorProto.INT64,
                                                         None))
        out(names[-1], helper.make_node("Split", ins, names, axis=axis,
                                        **attrs))
    if opset >= 18:
        names = ["splitn_0", "splitn_1", "splitn_2"]
        for n in names[:-1]:
            outputs.append(helper.make_tensor_value_info(n, TensorProto.INT64,
                                                         None))
        out(names[-1], helper.make_node("Split", ["x"], names, axis=0,
                                        num_outputs=3))

    gathers = [(0, [[-7, 6], [0, -1]]), (1, -2), (2, [2, -3, 0])]
    for i, (axis, idx) in enumerate(gathers):
        out(f"gather{i}", helper.make_node("Gather", ["x", const(f"g{i}", idx)],
                                           [f"gather{i}"], axis=axis))
    for i, shape in enumerate([[0, -1], [-1, 5, 0], [105], [3, 0, 7], [0, 0, 3]]):
        out(f"reshape{i}", helper.make_node(
            "Reshape", ["x", const(f"r{i}", shape)], [f"reshape{i}"]))
    for i, axes in enumerate([[0], [-1, 1], [0, 4]]):
        if opset >= 13:
            node = helper.make_node("Unsqueeze", ["x", const(f"u{i}", axes)],
                                    [f"unsqueeze{i}"])
        else:
            node = helper.make_node("Unsqueeze", ["x"], [f"unsqueeze{i}"],
                                    axes=axes)
        out(f"unsqueeze{i}", node)
    for axis in range(-3, 4):
        name = f"flatten{axis + 3}"
        out(name, helper.make_node("Flatten", ["x"], [name], axis=axis))
    for i, perm in enumerate([[2, 0, 1], None]):
        kw = {"perm": perm} if perm else {}
        out(f"transpose{i}", helper.make_node("Transpose", ["x"],
                                              [f"transpose{i}"], **kw))
    out("concat", helper.make_node("Concat", ["x", "x"], ["concat"], axis=-2))
    out("expand", helper.make_node("Expand", ["x", const("ex", [2, 1, 1, 3])],
                                   ["expand"]))
    out("tile", helper.make_node("Tile", ["x", const("tl", [2, 1, 3])],
                                 ["tile"]))
    out("pad", helper.make_node("Pad", ["x", const("pd", [1, 0, 2, 0, 1, 1])],
                                ["pad"]))
    reduce_cases = [("ReduceSum", [1], 1), ("ReduceSum", [0, -1], 0),
                    ("ReduceMax", [], 0), ("ReduceMin", [2], 0),
                    ("ReduceProd", [-2], 1)]
    for i, (op, axes, keep) in enumerate(reduce_cases):
        name = f"reduce{i}"
        axes_as_input = opset >= (13 if op == "ReduceSum" else 18)
        if axes_as_input:
            ins = ["x", const(f"ra{i}", axes)] if axes else ["x"]
            node = helper.make_node(op, ins, [name], keepdims=keep)
        else:
            kw = {"axes": axes} if axes else {}
            node = helper.make_node(op, ["x"], [name], keepdims=keep, **kw)
        out(name, node)

    graph = helper.make_graph(nodes, "reference", [], outputs, inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", opset)], ir_version=8 if opset < 19 else 10)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def parse_dense(literal, shape):
    if literal == "":
        return np.zeros(shape, np.int64)
    if literal.startswith('"0x'):
        data = bytes.fromhex(literal[3:-1])
        return np.frombuffer(data, np.int64).reshape(shape)
    value = np.array(eval(literal.replace("true", "1").replace("false", "0")),
                     np.int64)
    return np.broadcast_to(value, shape) if value.ndim == 0 else value


def shape_of(type_):
    dims = type_.split("x")[:-1]
    return tuple(int(d) for d in dims)


def compare(model_path, mlir_path):
    model = onnx.load(model_path)
    expected = ReferenceEvaluator(model).run(None, {})
    text = open(mlir_path).read()
    consts = {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(
        r"(%\w+) = dit\.constant dense<(.*)> : tensor<([^>]*)>", text)}
    ret = re.search(r"return (.*) : (.*)\n", text)
    values = [v.strip() for v in ret.group(1).split(",")]
    types = re.findall(r"tensor<([^>]*)>", ret.group(2))
    errors, folded = [], 0
    for out, want, value, type_ in zip(model.graph.output, expected, values,
                                       types):
        shape = shape_of(type_)
        if shape != want.shape:
            errors.append(f"{out.name}: shape {shape}, reference {want.shape}")
            continue
        if value in consts:
            folded += 1
            got = parse_dense(consts[value][0], shape)
            if not np.array_equal(got, want):
                errors.append(f"{out.name}: values differ\n{got}\n{want}")
    if len(values) != len(expected):
        errors.append(f"{len(values)} results, reference {len(expected)}")
    if errors:
        sys.exit("\n".join(errors))
    print(f"reference: {len(expected)} outputs match in shape, "
          f"{folded} folded constants match in value")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        compare(*sys.argv[2:])
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""Checks vsac's dit.param ops against the ONNX model, independently of the
importer's C++:

- every MatMul weight with a generated name (`val_N`, `onnx::MatMul_N`) is
  a dit.param named after its Linear module (from the node's metadata, or
  for TorchScript exports its node name), with perm [1, 0] and its source;
- every other float initializer a node reads keeps its own name;
- each param's type and embedded bytes equal the initializer's.

    check_provenance.py MODEL.onnx IMPORTED.mlir

Prints one summary line; exits 1 with the differences otherwise.
"""

import ast
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper

PARAM = re.compile(r'dit\.param "([^"]+)"(?: \{([^}]*)\})? : tensor<([^>]*)>'
                   r'(?: = dense_resource<("[^"]+"|[^>]+)>)?')
BLOB = re.compile(r'^\s+("[^"]+"|[^:\s]+): "0x([0-9A-F]+)",?$', re.M)


def generated(name):
    return name.startswith("onnx::") or re.fullmatch(r"val_\d+", name)


def linear_weight(node):
    meta = {p.key: p.value for p in node.metadata_props}
    scopes = meta.get("pkg.torch.onnx.name_scopes")
    classes = meta.get("pkg.torch.onnx.class_hierarchy")
    if scopes and classes:
        scopes, classes = ast.literal_eval(scopes), ast.literal_eval(classes)
        if len(scopes) == len(classes):
            for scope, cls in reversed(list(zip(scopes, classes))):
                if cls.endswith(".Linear") and scope:
                    return scope + ".weight"
    parts = node.name.split("/")
    if node.name.startswith("/") and len(parts) > 2 and \
            parts[-1].startswith("MatMul"):
        return ".".join(parts[1:-1]) + ".weight"
    return None


def main(model_path, mlir_path):
    model = onnx.load(model_path)
    inits = {t.name: t for t in model.graph.initializer}
    expected = {}  # initializer -> parameter name
    for node in model.graph.node:
        if node.op_type != "MatMul" or len(node.input) < 2:
            continue
        w = node.input[1]
        if w in inits and len(inits[w].dims) == 2 and generated(w) \
                and w not in expected:
            name = linear_weight(node)
            if name:
                expected[w] = name
    used = {i for n in model.graph.node for i in n.input}
    kept = {n for n, t in inits.items()
            if n in used and not generated(n) and
            t.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16,
                            onnx.TensorProto.BFLOAT16, onnx.TensorProto.DOUBLE)}

    text = open(mlir_path).read()
    blobs = {k.strip('"'): bytes.fromhex(v[8:]) for k, v in BLOB.findall(text)}
    got, names, errors, compared = {}, set(), [], 0
    for name, attrs, type_, blob in PARAM.findall(text):
        names.add(name)
        source = re.search(r'source = "([^"]+)"', attrs or "")
        init_name = source.group(1) if source else name
        if source:
            got[init_name] = name
            if "perm = array<i64: 1, 0>" not in attrs:
                errors.append(f"{name}: no perm [1, 0]")
        init = inits.get(init_name)
        if init is None:
            errors.append(f"{name}: no initializer '{init_name}'")
            continue
        array = numpy_helper.to_array(init)
        if type_.split("x")[:-1] != [str(d) for d in array.shape]:
            errors.append(f"{name}: type {type_} but dims {list(array.shape)}")
        if blob:
            compared += 1
            if blobs.get(blob.strip('"')) != array.tobytes():
                errors.append(f"{name}: embedded bytes differ from "
                              f"'{init_name}'")
    for w in sorted(set(expected) | set(got)):
        if expected.get(w) != got.get(w):
            errors.append(f"{w}: expected {expected.get(w)}, got {got.get(w)}")
    for n in sorted(kept - names):
        errors.append(f"parameter '{n}' lost its name")
    if errors:
        sys.exit("\n".join(errors))
    print(f"provenance: {len(got)} transposed weights named, "
          f"{len(kept)} parameter names kept, "
          f"{compared} values compared")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""check_stacked.py SRC.onnx STACKED.onnx: every node stack_layers.py cloned
(NAME__bK) reads initializers holding the same bytes as its source node's
(NAME), for tensors up to 1 MiB; prints the count checked or the first
difference (exit 1)."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def tensors(path):
    m = onnx.load(path)  # with external data
    return {n.name: n for n in m.graph.node}, {t.name: t for t in m.graph.initializer}


src_nodes, src_inits = tensors(sys.argv[1])
out_nodes, out_inits = tensors(sys.argv[2])
checked = 0
for name, node in out_nodes.items():
    base, _, block = name.rpartition("__b")
    if not base or base not in src_nodes:
        continue
    for a, b in zip(src_nodes[base].input, node.input):
        if a not in src_inits or b not in out_inits:
            continue
        x, y = numpy_helper.to_array(src_inits[a]), numpy_helper.to_array(out_inits[b])
        if x.nbytes > 1 << 20:
            continue
        if x.shape != y.shape or not np.array_equal(x, y):
            print(f"{name}: initializer {b} differs from {a} of {base}")
            sys.exit(1)
        checked += 1
print(f"stacked constants: {checked} checked, all equal")

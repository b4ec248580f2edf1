#!/usr/bin/env python3
"""VSA gate parameters for tests (numpy only).

vsa_gate.py weights MODEL.mlir OUT.safetensors [--seed N] [--zero]
    One F32 tensor per external `to_gate_compress` parameter of MODEL.mlir
    (vsac --emit=transformed), in the checkpoint's layout (the parameter's
    `perm` undone): what a VSA-trained checkpoint holds.
vsa_gate.py bind MODEL.mlir WEIGHTS.safetensors OUT.mlir
    MODEL.mlir with those parameters given values from WEIGHTS (transposed
    by `perm`), so the reference interpreter can run it.
"""
import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "scripts"))
import safetensors_io  # noqa: E402

# dit.param "NAME" {perm = array<i64: 1, 0>} : tensor<AxBxf32>  (no value)
PARAM = re.compile(r'^(\s*%\S+ = dit\.param "([^"]*to_gate_compress[^"]*)"'
                   r'(?: \{perm = array<i64: ([0-9, ]+)>\})? : tensor<([0-9x]+)xf32>)\s*$')


def external_params(path):
    for line in open(path):
        m = PARAM.match(line.rstrip("\n"))
        if m:
            perm = [int(p) for p in m.group(3).split(",")] if m.group(3) else None
            shape = [int(d) for d in m.group(4).split("x")]
            yield m, m.group(2), shape, perm


def checkpoint_shape(shape, perm):
    if not perm:
        return shape
    out = [0] * len(shape)
    for i, p in enumerate(perm):
        out[p] = shape[i]
    return out


def weights(args):
    rng = np.random.default_rng(args.seed)
    tensors = {}
    for _, name, shape, perm in external_params(args.model):
        ckpt = checkpoint_shape(shape, perm)
        fan_in = ckpt[-1] if len(ckpt) > 1 else 1
        a = (rng.standard_normal(ckpt) / np.sqrt(fan_in)).astype(np.float32)
        tensors[name] = np.zeros(ckpt, np.float32) if args.zero else a
    assert tensors, "no external to_gate_compress parameters in " + args.model
    safetensors_io.write_numpy(args.out, tensors)


def bind(args):
    tensors = safetensors_io.read_numpy(args.weights)
    lines = open(args.model).read().split("\n")
    found = {m.group(0): (name, perm) for m, name, _, perm in external_params(args.model)}
    out = []
    for line in lines:
        if line in found:
            name, perm = found[line]
            a = tensors[name]
            if perm:
                a = np.transpose(a, perm)
            values = np.array2string(a, separator=", ", threshold=1 << 30,
                                     floatmode="unique", max_line_width=1 << 30)
            line += " = dense<" + values.replace("\n", "") + ">"
        out.append(line)
    open(args.out, "w").write("\n".join(out))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("weights")
    w.add_argument("model")
    w.add_argument("out")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--zero", action="store_true")
    b = sub.add_parser("bind")
    b.add_argument("model")
    b.add_argument("weights")
    b.add_argument("out")
    args = p.parse_args()
    (weights if args.cmd == "weights" else bind)(args)


if __name__ == "__main__":
    main()

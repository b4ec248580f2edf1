#!/usr/bin/env python3
"""Describe the committed ONNX fixtures (facts for test/fixtures/README.md).

For each <name>.onnx in --dir (default test/fixtures) prints, as markdown:
op types with counts, opset imports, graph inputs/outputs, initializer naming
(parameter names vs exporter-generated `val_N` / `onnx::*`), the metadata_props
keys on nodes, and one MatMul whose weight is a `val_N` initializer together
with its metadata. It rebuilds the PyTorch models (build functions of
models/*/export.py, same seeds) to classify initializers and to check, for
every MatMul fed by a generated initializer, that the weight equals
`<Linear scope>.weight`^T, the Linear scope being read from the node's
pkg.torch.onnx.name_scopes / class_hierarchy.

Run (from the repo root):
  python3 models/common/describe_fixtures.py [--dir test/fixtures] > /tmp/facts.md
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import re
import sys
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
GENERATED = re.compile(r"^(val_\d+|onnx::.*|/.*)$")
LINEAR = "torch.nn.modules.linear.Linear"


def meta(node: onnx.NodeProto) -> dict[str, str]:
    return {p.key: p.value for p in node.metadata_props}


def linear_scope(node: onnx.NodeProto) -> str | None:
    """Module path of the innermost nn.Linear that produced `node` (dynamo exports)."""
    md = meta(node)
    if "pkg.torch.onnx.name_scopes" not in md:
        return None
    scopes = ast.literal_eval(md["pkg.torch.onnx.name_scopes"])
    classes = ast.literal_eval(md["pkg.torch.onnx.class_hierarchy"])
    for scope, cls in reversed(list(zip(scopes, classes))):
        if cls == LINEAR:
            return scope
    return None


def describe(path: str, params: dict[str, np.ndarray] | None) -> tuple[str, list[tuple[onnx.NodeProto, str]]]:
    """Markdown facts for one fixture; `params` = the rebuilt model's parameters+buffers."""
    m = onnx.load(path)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    consumers: dict[str, list[str]] = defaultdict(list)
    for n in g.node:
        for x in n.input:
            consumers[x].append(n.op_type)
    name = os.path.basename(path)[: -len(".onnx")]
    lines = [f"### {name}", ""]
    lines.append("opset imports: " + ", ".join(f"`{o.domain or 'ai.onnx'}`={o.version}" for o in m.opset_import)
                 + f"; ir_version {m.ir_version}; producer {m.producer_name} {m.producer_version}  ")
    ops = Counter(n.op_type for n in g.node)
    lines.append(f"ops ({sum(ops.values())} nodes): " + ", ".join(f"{k}×{v}" for k, v in sorted(ops.items())) + "  ")

    def kind(k: str) -> str:
        t = inits[k]
        dt = "float" if t.data_type == onnx.TensorProto.FLOAT else onnx.TensorProto.DataType.Name(t.data_type).lower()
        return "/".join(sorted(set(consumers[k]))) + f"({dt})"

    def fmt(names: list[str]) -> str:
        return ", ".join(f"{k}×{v}" for k, v in sorted(Counter(kind(x) for x in names).items()))

    param_named = [k for k in inits if params is not None and k in params]
    gen = [k for k in inits if GENERATED.match(k)]
    fx_named = [k for k in inits if k not in param_named and k not in gen]
    lines.append(f"initializers: {len(inits)}  ")
    lines.append(f"- {len(param_named)} named exactly as the PyTorch parameter/buffer, same layout: {fmt(param_named)}  ")
    if fx_named:
        lines.append(f"- {len(fx_named)} folded constants named after the FX node (e.g. "
                     + ", ".join(f"`{x}`" for x in fx_named[:4]) + f"): {fmt(fx_named)}  ")
    if gen:
        lines.append(f"- {len(gen)} generated names (`{gen[0]}`, ...): {fmt(gen)}  ")
    keys = Counter(p.key for n in g.node for p in n.metadata_props)
    lines.append(
        "node metadata_props keys: "
        + (", ".join(f"`{k}` ({v}/{len(g.node)} nodes)" for k, v in sorted(keys.items())) if keys else "none")
        + "  "
    )
    matmuls = [
        (n, n.input[1]) for n in g.node if n.op_type == "MatMul" and n.input[1] in inits and GENERATED.match(n.input[1])
    ]
    for n in g.node:
        if n.op_type == "Attention":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            lines.append(f"Attention nodes: inputs (Q, K, V) in 4-D (B, heads, S, head_dim), attrs {attrs}  ")
            break
    lines.append("")
    return "\n".join(lines), matmuls


def example_block(path: str, node: onnx.NodeProto, init_name: str) -> str:
    m = onnx.load(path)
    t = next(i for i in m.graph.initializer if i.name == init_name)
    out = [f"`{os.path.basename(path)}`: node `{node.name}` ({node.op_type}), inputs {list(node.input)}; "
           f"`{init_name}` is {list(t.dims)} float32", "", "```"]
    for k, v in meta(node).items():
        out.append(f"{k}: {v}")
    out += ["```", ""]
    return "\n".join(out)


def load_script(model_dir: str):
    path = os.path.join(REPO, "models", model_dir, "export.py")
    spec = importlib.util.spec_from_file_location(f"export_{model_dir}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def builders() -> dict[str, Any]:
    wan, cog, hy = load_script("wan"), load_script("cogvideox"), load_script("hunyuanvideo")

    def ts17():
        return wan.swap_rmsnorm_for_diffusers(wan.build(wan.T2V_CONFIG))

    return {
        "wan_t2v": lambda: wan.build(wan.T2V_CONFIG),
        "wan_i2v": lambda: wan.build(wan.I2V_CONFIG),
        "wan_t2v_opset23": lambda: wan.build(wan.T2V_CONFIG),
        "wan_t2v_ts17": ts17,
        "cogvideox": cog.build,
        "hunyuanvideo": hy.build,
    }


def model_params(build) -> dict[str, np.ndarray]:
    mod = build()
    out = {k: v.detach().numpy() for k, v in mod.named_buffers()}
    out.update({k: v.detach().numpy() for k, v in mod.state_dict().items()})
    return out


def verify_provenance(path: str, params: dict[str, np.ndarray]) -> str:
    """Check named initializers == params, and MatMul val_N == (<Linear scope>.weight)^T."""
    name = os.path.basename(path)[: -len(".onnx")]
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    named = [k for k in inits if k in params]
    named_ok = sum(1 for k in named if inits[k].shape == params[k].shape and np.array_equal(inits[k], params[k]))
    ok = bad = 0
    has_meta = any(n.metadata_props for n in m.graph.node)
    for n in m.graph.node:
        if n.op_type != "MatMul" or n.input[1] not in inits or not GENERATED.match(n.input[1]):
            continue
        scope = linear_scope(n)
        w = params.get(f"{scope}.weight") if scope else None
        if w is not None and w.T.shape == inits[n.input[1]].shape and np.array_equal(w.T, inits[n.input[1]]):
            ok += 1
        else:
            bad += 1
    line = f"{name}: {named_ok}/{len(named)} parameter-named initializers equal the PyTorch tensor"
    if has_meta:
        line += f"; {ok} MatMul generated weights == (<Linear scope>.weight)^T via name_scopes, {bad} not"
    else:
        line += f"; no node metadata (weight provenance only via node names like `/blocks.0/attn1/to_q/MatMul`)"
    return line


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", default=os.path.join(REPO, "test", "fixtures"))
    a = p.parse_args()
    files = sorted(f for f in os.listdir(a.dir) if f.endswith(".onnx"))
    build = builders()
    example = None
    checks = []
    for f in files:
        path = os.path.join(a.dir, f)
        name = f[: -len(".onnx")]
        params = model_params(build[name]) if name in build else None
        text, matmuls = describe(path, params)
        print(text)
        if params is not None:
            checks.append(verify_provenance(path, params))
        if example is None and matmuls and name == "wan_t2v":
            # Prefer a block-level projection for the example.
            n, w = next(((n, w) for n, w in matmuls if "attn1.to_q" in (linear_scope(n) or "")), matmuls[0])
            example = example_block(path, n, w)
    if example:
        print("### example: MatMul with a generated weight\n")
        print(example)
    print("### provenance check\n")
    for line in checks:
        print(f"- {line}")


if __name__ == "__main__":
    sys.exit(main())

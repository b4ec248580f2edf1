"""Shared helpers for the tiny diffusers -> ONNX fixture exporters.

Used by models/{wan,cogvideox,hunyuanvideo}/export.py. Not a script itself.

What one fixture is (written by `export_fixture`):
  <out>/<name>.onnx          static-shape ONNX graph, all weights inside the file
  <out>/<name>.inputs.npz    keys = ONNX graph input names (exactly)
  <out>/<name>.outputs.npz   keys = ONNX graph output names; values = PyTorch output

Post-processing applied to every exported graph:
  * node metadata_props key `pkg.torch.onnx.stack_trace` is removed (large);
    `pkg.torch.onnx.name_scopes` / `pkg.torch.onnx.class_hierarchy` are kept
    (weight provenance for the importer);
  * the model is saved as one file (no external data).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from typing import Any, Sequence

import numpy as np
import onnx
import torch

STRIP_METADATA_KEYS = ("pkg.torch.onnx.stack_trace",)
MAX_FIXTURE_BYTES = 2 * 1024 * 1024

DEFAULT_OUT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures")
)


def parse_args(doc: str, fixture_names: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: test/fixtures)")
    p.add_argument(
        "--only",
        nargs="*",
        choices=list(fixture_names),
        help="export only these fixtures (default: all)",
    )
    return p.parse_args()


def perturb_parameters(model: torch.nn.Module, scale: float = 0.05) -> torch.nn.Module:
    """Add seeded N(0, scale^2) noise to every parameter (call after torch.manual_seed).

    diffusers' default init leaves norm weights at 1 and many biases /
    modulation tables at 0; a fixture with such values would not catch a
    mis-mapped weight in an importer, so every parameter is made non-trivial.
    """
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * scale)
    return model


def seeded_inputs(seed: int, specs: dict[str, tuple[tuple[int, ...], Any]]) -> dict[str, np.ndarray]:
    """Fixed random inputs: specs = {name: (shape, dtype-or-callable(rng, shape))}."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, (shape, kind) in specs.items():
        if isinstance(kind, (type, np.dtype, str)):
            out[name] = rng.standard_normal(shape).astype(kind)
        else:
            out[name] = np.asarray(kind(rng, shape))
    return out


def _iter_graphs(graph: onnx.GraphProto):
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _iter_graphs(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _iter_graphs(g)


def strip_metadata(model: onnx.ModelProto) -> None:
    for g in _iter_graphs(model.graph):
        for node in g.node:
            keep = [p for p in node.metadata_props if p.key not in STRIP_METADATA_KEYS]
            del node.metadata_props[:]
            node.metadata_props.extend(keep)
    for f in model.functions:
        for node in f.node:
            keep = [p for p in node.metadata_props if p.key not in STRIP_METADATA_KEYS]
            del node.metadata_props[:]
            node.metadata_props.extend(keep)


def ort_compatible_copy(model: onnx.ModelProto) -> tuple[onnx.ModelProto, list[str]]:
    """Copy of `model` with ops ORT's CPU provider lacks rewritten (for the ORT check only).

    onnxruntime has no CPU kernel for Where on bool data (HunyuanVideo's
    `attention_mask.masked_fill(...)` on a bool mask exports to exactly that),
    so such a Where is wrapped as Cast(uint8) -> Where -> Cast(bool). The
    fixture file itself is saved unmodified. Returns (copy, notes).
    """
    m = onnx.ModelProto()
    m.CopyFrom(model)
    inferred = onnx.shape_inference.infer_shapes(m)
    elem = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        elem[vi.name] = vi.type.tensor_type.elem_type
    for init in inferred.graph.initializer:
        elem[init.name] = init.data_type
    notes = []
    new_nodes = []
    for node in m.graph.node:
        if node.op_type == "Where" and elem.get(node.output[0]) == onnx.TensorProto.BOOL:
            cond, x, y = node.input
            xs, ys, out = f"{x}__u8_{node.name}", f"{y}__u8_{node.name}", f"{node.output[0]}__u8"
            new_nodes.append(onnx.helper.make_node("Cast", [x], [xs], to=onnx.TensorProto.UINT8))
            new_nodes.append(onnx.helper.make_node("Cast", [y], [ys], to=onnx.TensorProto.UINT8))
            new_nodes.append(onnx.helper.make_node("Where", [cond, xs, ys], [out], name=node.name))
            new_nodes.append(onnx.helper.make_node("Cast", [out], [node.output[0]], to=onnx.TensorProto.BOOL))
            notes.append(f"bool Where {node.name} run as uint8 for ORT")
        else:
            new_nodes.append(node)
    del m.graph.node[:]
    m.graph.node.extend(new_nodes)
    return m, notes


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def export_fixture(
    *,
    name: str,
    model: torch.nn.Module,
    inputs: dict[str, np.ndarray],
    output_names: Sequence[str],
    out_dir: str,
    opset: int = 20,
    dynamo: bool = True,
    extra_kwargs: dict[str, Any] | None = None,
    positional: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Run PyTorch, export to ONNX, check onnxruntime, write the 3 fixture files.

    `inputs` are passed to `model.forward` by keyword (tensor inputs, in ONNX
    input order); `positional` (optional) names the ones that must be passed
    positionally instead (the dynamo exporter accepts both; the TorchScript
    exporter needs positional args). `extra_kwargs` are non-tensor keyword
    arguments (e.g. return_dict=False) that are specialised into the graph.
    Returns a summary dict (ORT max abs error, sizes, ...).
    """
    os.makedirs(out_dir, exist_ok=True)
    model = model.eval()
    extra_kwargs = dict(extra_kwargs or {})
    input_names = list(inputs)
    positional = list(positional or [])
    torch_inputs = {k: torch.from_numpy(v.copy()) for k, v in inputs.items()}
    args = tuple(torch_inputs[k] for k in positional)
    kwargs = {k: v for k, v in torch_inputs.items() if k not in positional}
    kwargs.update(extra_kwargs)

    with torch.no_grad():
        ref = model(*args, **kwargs)
    if isinstance(ref, torch.Tensor):
        ref = (ref,)
    ref = [_to_numpy(r) for r in ref]
    assert len(ref) == len(output_names), (len(ref), output_names)

    onnx_path = os.path.join(out_dir, f"{name}.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, f"{name}.onnx")
        with torch.no_grad():
            export_kw: dict[str, Any] = dict(
                input_names=input_names,
                output_names=list(output_names),
                opset_version=opset,
                dynamo=dynamo,
            )
            if dynamo:
                export_kw["external_data"] = False
                torch.onnx.export(model, args, tmp_path, kwargs=kwargs, **export_kw)
            else:
                # TorchScript exporter: positional args only; trailing dict = kwargs.
                torch.onnx.export(model, args + (kwargs,), tmp_path, **export_kw)
        m = onnx.load(tmp_path, load_external_data=True)
    strip_metadata(m)
    # Everything inline, one file.
    onnx.save(m, onnx_path, save_as_external_data=False)
    onnx.checker.check_model(onnx_path, full_check=True)

    graph_inputs = [i.name for i in m.graph.input]
    graph_outputs = [o.name for o in m.graph.output]
    assert graph_inputs == input_names, f"ONNX inputs {graph_inputs} != {input_names}"
    assert graph_outputs == list(output_names), f"ONNX outputs {graph_outputs} != {output_names}"

    np.savez(os.path.join(out_dir, f"{name}.inputs.npz"), **inputs)
    np.savez(os.path.join(out_dir, f"{name}.outputs.npz"), **dict(zip(output_names, ref)))

    # onnxruntime check.
    ort_err: Any
    ort_notes: list[str] = []
    try:
        import onnxruntime as ort

        ort_model, ort_notes = ort_compatible_copy(m)
        for note in ort_notes:
            print(f"[{name}] note: {note}")
        sess = ort.InferenceSession(ort_model.SerializeToString(), providers=["CPUExecutionProvider"])
        got = sess.run(list(output_names), inputs)
        ort_err = max(float(np.max(np.abs(g.astype(np.float64) - r))) for g, r in zip(got, ref))
    except Exception as e:  # noqa: BLE001 - recorded, not fatal (e.g. opset 23 ops)
        ort_err = f"ORT failed: {type(e).__name__}: {str(e).splitlines()[0][:300]}"

    sizes = {
        suffix: os.path.getsize(os.path.join(out_dir, f"{name}{suffix}"))
        for suffix in (".onnx", ".inputs.npz", ".outputs.npz")
    }
    summary = {
        "name": name,
        "opset": opset,
        "exporter": "dynamo" if dynamo else "torchscript",
        "inputs": {k: (tuple(v.shape), str(v.dtype)) for k, v in inputs.items()},
        "outputs": {k: (tuple(r.shape), str(r.dtype)) for k, r in zip(output_names, ref)},
        "ort_max_abs_err": ort_err,
        "output_max_abs": max(float(np.max(np.abs(r))) for r in ref),
        "ort_notes": ort_notes,
        "sizes": sizes,
        "op_types": dict(sorted(Counter(n.op_type for n in m.graph.node).items())),
        "opset_imports": {o.domain or "ai.onnx": o.version for o in m.opset_import},
    }
    print(f"[{name}] exporter={summary['exporter']} opset={opset}")
    print(f"[{name}] inputs={summary['inputs']}")
    print(f"[{name}] outputs={summary['outputs']}")
    print(f"[{name}] ORT max abs err vs PyTorch: {ort_err} (max |output| = {summary['output_max_abs']:.3g})")
    print(f"[{name}] sizes={sizes} total={sum(sizes.values())} bytes")
    for suffix, sz in sizes.items():
        if sz > MAX_FIXTURE_BYTES:
            print(f"[{name}] WARNING: {name}{suffix} is {sz} bytes > 2 MiB", file=sys.stderr)
    return summary


def versions() -> dict[str, str]:
    import diffusers
    import onnxruntime
    import onnxscript

    return {
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "onnxscript": onnxscript.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
    }


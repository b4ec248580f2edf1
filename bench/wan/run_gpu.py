#!/usr/bin/env python3
"""On the GPU machine: compare a vsac-compiled Wan executable with diffusers.

Builds diffusers' WanTransformer3DModel (same config as export_wan.py) with
seeded random weights in bf16, writes its parameters and buffers to a
safetensors file and seeded inputs to .npy files, runs diffusers eager and
torch.compile (median latency, peak memory), runs the executable on the same
weights and inputs (--repeat for its median), and prints one JSON object:
the relative L2 error of our output against diffusers (bf16 and fp32
references) and the timings.

  python3 bench/wan/run_gpu.py --exe build-gpu/wan --layers 30 --out $OUT/res.json
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from export_wan import CONFIGS  # noqa: E402
import safetensors_io  # noqa: E402


def write_safetensors(path, tensors):
    """torch tensors (bf16/f32/f16/i64, made contiguous) to safetensors."""
    names = {torch.bfloat16: "BF16", torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}
    entries = {}
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        entries[name] = (names[t.dtype], list(t.shape), raw)
    safetensors_io.write(path, entries)


def bench(fn, iters, warm=1):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(iters):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); torch.cuda.synchronize()
        ts.append(s.elapsed_time(e))
    ts.sort()
    return ts[len(ts) // 2]


def rel_l2(a, b):
    a = a.astype(np.float64); b = b.astype(np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--config", default="1.3b", choices=sorted(CONFIGS))
    ap.add_argument("--layers", type=int, default=None)
    ap.add_argument("--frames", type=int, default=21)
    ap.add_argument("--height", type=int, default=60)
    ap.add_argument("--width", type=int, default=104)
    ap.add_argument("--text", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile")
    ap.add_argument("--fp32-ref", action="store_true", help="also compare with an fp32 diffusers run")
    ap.add_argument("--attn", action="append", default=[],
                    help="a variant of run-time attention parameters for the executable, "
                         "e.g. 'sparsity=0.875' or 'dense=1' or 'sparsity=0.9,dense_layers=1' "
                         "(repeatable; each runs and is compared separately)")
    ap.add_argument("--also", action="append", default=[],
                    help="another executable of the same model, EXE or EXE:RANKS (context "
                         "parallel, run with --ranks RANKS), run on the same weights and "
                         "inputs and compared alike (repeatable)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--keep", default=None, help="write weights and inputs to this folder (kept)")
    ap.add_argument("--device", default="cuda", help="cuda, or cpu to check a CPU executable (no timings)")
    args = ap.parse_args()
    dev = args.device
    from diffusers import WanTransformer3DModel
    heads, ffn, layers = CONFIGS[args.config]
    layers = args.layers or layers
    res = {"gpu": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "torch": torch.__version__,
           "date": time.strftime("%Y-%m-%d"), "config": args.config, "layers": layers,
           "latents": [args.frames, args.height, args.width]}
    torch.manual_seed(0)
    with torch.device(dev):
        model = WanTransformer3DModel(num_attention_heads=heads, attention_head_dim=128,
                                      ffn_dim=ffn, num_layers=layers).eval()
    # Give every parameter non-trivial values (diffusers zero-inits some).
    g = torch.Generator(device=dev).manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g, device=dev) / p.shape[-1] ** 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g, device=dev) * 0.05)
    torch.manual_seed(2)
    x = torch.randn(1, 16, args.frames, args.height, args.width, device=dev)
    t = torch.tensor([500.0], device=dev)
    ctx = torch.randn(1, args.text, 4096, device=dev)
    tmp = args.keep or tempfile.mkdtemp()
    os.makedirs(tmp, exist_ok=True)
    for name, v in (("hidden_states", x), ("timestep", t), ("encoder_hidden_states", ctx)):
        np.save(os.path.join(tmp, name + ".npy"), v.float().cpu().numpy())
    ref32 = None
    if args.fp32_ref:
        with torch.no_grad():
            ref32 = model(x, t, ctx, return_dict=False)[0].float().cpu().numpy()
    if dev == "cpu":
        # CPU executables compute in fp32: compare with the fp32 model.
        weights = os.path.join(tmp, "weights.safetensors")
        state = dict(model.named_parameters())
        state.update(dict(model.named_buffers()))
        write_safetensors(weights, state)
        with torch.no_grad():
            ref = model(x, t, ctx, return_dict=False)[0].float().numpy()
        return run_exe(args, res, tmp, weights, ref, None)
    model = model.to(torch.bfloat16)
    state = dict(model.named_parameters())
    state.update(dict(model.named_buffers()))
    weights = os.path.join(tmp, "weights.safetensors")
    write_safetensors(weights, state)
    xb, cb = x.to(torch.bfloat16), ctx.to(torch.bfloat16)
    torch.cuda.reset_peak_memory_stats()
    with torch.no_grad():
        f = lambda: model(xb, t, cb, return_dict=False)[0]
        ref = f().float().cpu().numpy()
        res["diffusers_eager_ms"] = round(bench(f, args.repeat), 2)
        res["diffusers_peak_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        if args.compile:
            mc = torch.compile(model)
            t0 = time.time(); mc(xb, t, cb, return_dict=False); torch.cuda.synchronize()
            res["torch_compile_s"] = round(time.time() - t0, 1)
            res["diffusers_compiled_ms"] = round(bench(lambda: mc(xb, t, cb, return_dict=False)[0], args.repeat), 2)
            del mc
    del model, f
    torch.cuda.empty_cache()
    if args.keep:  # the reference too, for runs of other executables later
        np.save(os.path.join(tmp, "reference_bf16.npy"), ref)
    run_exe(args, res, tmp, weights, ref, ref32)


def run_variants(args, res, tmp, weights, ref, ref32, exe=None, extra=()):
    """Runs `exe` once per --attn variant (or once without any) into `res`."""
    if not args.attn:
        return run_variant(args, res, tmp, weights, ref, ref32, [], quiet=True,
                           exe=exe, extra=extra)
    base = dict(res)
    res["variants"] = {}
    for variant in args.attn:
        pairs = [kv for kv in variant.split(",") if kv]
        one = dict(base)
        run_variant(args, one, tmp, weights, ref, ref32, pairs, quiet=True, exe=exe,
                    extra=extra)
        res["variants"][variant] = {k: v for k, v in one.items() if k not in base}


def run_exe(args, res, tmp, weights, ref, ref32):
    if not args.attn and not args.also:
        return run_variant(args, res, tmp, weights, ref, ref32, [])
    base = dict(res)
    run_variants(args, res, tmp, weights, ref, ref32)
    if args.also:
        res["also"] = {}
        for spec in args.also:
            exe, _, ranks = spec.partition(":")
            one = dict(base)
            run_variants(args, one, tmp, weights, ref, ref32, exe=exe,
                         extra=["--ranks", ranks] if ranks else [])
            entry = {k: v for k, v in one.items() if k not in base}
            if entry.get("vsa_ms") and res.get("vsa_ms"):
                entry["speedup_vs_main_exe"] = round(res["vsa_ms"] / entry["vsa_ms"], 3)
            res["also"][os.path.basename(exe) + (f" --ranks {ranks}" if ranks else "")] = entry
    text = json.dumps(res, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


def run_variant(args, res, tmp, weights, ref, ref32, pairs, quiet=False, exe=None, extra=()):
    out = os.path.join(tmp, "out.npy")
    cmd = [exe or args.exe, "--weights", weights, "--output", out, "--repeat", str(args.repeat)]
    cmd += list(extra)
    for name in ("hidden_states", "timestep", "encoder_hidden_states"):
        cmd += ["--input", f"{name}={os.path.join(tmp, name + '.npy')}"]
    for kv in pairs:
        cmd += ["--attn", kv]
    p = subprocess.run(cmd, capture_output=True, text=True)
    res["vsa_stdout"] = p.stdout[-2000:]
    res["vsa_stderr"] = p.stderr[-2000:]
    res["vsa_rc"] = p.returncode
    if p.returncode == 0:
        m = re.search(r"median ([0-9.]+) ms", p.stdout)
        res["vsa_ms"] = float(m.group(1)) if m else None
        m = re.search(r"device total ([0-9.]+) MiB", p.stdout)
        res["vsa_device_gb"] = round(float(m.group(1)) / 1024, 3) if m else None
        ours = np.load(out)
        key = "rel_l2_vs_diffusers_fp32" if ref32 is None and res["gpu"] == "cpu" else "rel_l2_vs_diffusers_bf16"
        res[key] = rel_l2(ours, ref)
        res["max_err_ratio"] = float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-30))
        if ref32 is not None:
            res["rel_l2_vs_diffusers_fp32"] = rel_l2(ours, ref32)
            res["rel_l2_diffusers_bf16_vs_fp32"] = rel_l2(ref, ref32)
        if res.get("vsa_ms") and res.get("diffusers_compiled_ms"):
            res["ratio_vs_compiled"] = round(res["vsa_ms"] / res["diffusers_compiled_ms"], 3)
        if res.get("vsa_ms") and res.get("diffusers_eager_ms"):
            res["ratio_vs_eager"] = round(res["vsa_ms"] / res["diffusers_eager_ms"], 3)
    if quiet:
        return
    text = json.dumps(res, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()

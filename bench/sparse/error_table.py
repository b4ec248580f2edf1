#!/usr/bin/env python3
"""Forward-output error of the sparse-attention patterns vs dense, at 75 %,
87.5 % and 95 % sparsity. Prints two Markdown tables (docs/sparse-errors.md).

Part 1, the tiny models through the real compiler: each fixture
(test/fixtures/{wan_t2v,cogvideox,wan_i2v}) is compiled for the CPU by
build/bin/vsac, dense and with each pattern, run on the stored inputs, and
its output `sample` compared with the stored dense PyTorch output
(relative L2 ||y - y_ref|| / ||y_ref||). The compiled dense model gives the
noise floor.
- vsa: one executable (tile 1x2x2: 12 tiles of 4 tokens over the 3x4x4 grid)
  per model, every level through `--attn sparsity=S`; the sparsity reported
  is the fraction of key blocks dropped per (head, query block), 1 - k / n
  with the runtime's k (CogVideoX: the 8 text tokens are a 13th block).
- sliding-tile / frame-window: the sparsity is a property of the compiled
  block lists. Every (tile, window) resp. (window, sink, keyframe-interval)
  setting the grid allows is scored with a Python copy of the rules in
  docs/sparse.md; the one closest to each level is compiled, and its actual
  sparsity -- the fraction of (query token, key token) pairs of the whole
  self-attention sequence (text tokens included) that the lists drop -- is
  read back from the compiled lists (`vsa.sparse.N.*` constants of the vrt
  IR, printed unelided by `vsa-opt --vrt-lowering`) and checked against the
  prediction.

Part 2, attention inputs with video-like locality (numpy, float64; an
independent implementation of the three patterns' rules as docs/sparse.md
states them): a T x H x W latent grid (default 12 x 24 x 40 = 11520 tokens),
H heads x 64 dims. Per head, q and k are smooth random fields (random
low-frequency 3-D plane waves + Gaussian-filtered noise + a little white
noise) sharing a constant component and part of their content, RMS-normalised
(as Wan's norm_q/norm_k) with a gain, then rotated with Wan's 3-D RoPE
(diffusers WanRotaryPosEmbed: head dim split into t/h/w = D - 2 * 2(D//6),
2(D//6), 2(D//6) = 24/20/20 for D = 64, theta 10000, interleaved pairs); v is
an independent smooth field. Per pattern and level: relative L2 error of the
attention output vs dense over all heads and tokens, and the attention
probability mass (of the dense softmax) the kept blocks capture, mean and
minimum over (head, query).

The synthetic tables are computed for several q/k gains (--gains, default
1.5,2,3: from diffuse to sharply peaked attention); the dense attention's
mean exp(entropy) and local mass are printed for each. Sliding-tile settings
within 1 percentage point of a level count as equally close (the most even
window wins); frame-window uses the closest setting (plain windows before
sinks before keyframes on ties).

Usage: python3 bench/sparse/error_table.py [--part 1|2|both] [--grid 12x24x40]
           [--heads 4] [--gains 1.5,2,3] [--work DIR]
About 3.5 minutes on 2 CPU cores (part 1: 15 s).
"""
import argparse
import itertools
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "build" / "bin"
FIXTURES = ROOT / "test" / "fixtures"
LEVELS = (0.75, 0.875, 0.95)
MODELS = ("wan_t2v", "cogvideox", "wan_i2v")


def pct(x):
    return f"{100 * x:.1f} %"


def rel_l2(y, ref):
    y = np.asarray(y, np.float64)
    ref = np.asarray(ref, np.float64)
    return float(np.linalg.norm(y - ref) / np.linalg.norm(ref))


def vsa_top_k(n, sparsity):
    """The runtime's vsart_vsa_top_k (runtime/src/AttentionParams.cpp)."""
    keep = math.ceil((1.0 - sparsity) * n - 1e-9)
    return max(1, min(keep, n))


# ---------------------------------------------------------------------------
# Block lists as docs/sparse.md states them (Python copies for choosing
# settings; part 1 checks them against the compiled lists).


def tile_blocks(grid, tile):
    """Token sets of the tiles of `grid` (latent token indices, row-major
    (t, h, w)) and their tile coordinates, in tile order."""
    T, H, W = grid
    n = [-(-grid[i] // tile[i]) for i in range(3)]
    blocks, coords = [], []
    for a, b, c in itertools.product(range(n[0]), range(n[1]), range(n[2])):
        toks = [(f * H + r) * W + q
                for f in range(a * tile[0], min((a + 1) * tile[0], T))
                for r in range(b * tile[1], min((b + 1) * tile[1], H))
                for q in range(c * tile[2], min((c + 1) * tile[2], W))]
        blocks.append(toks)
        coords.append((a, b, c))
    return blocks, coords, n


def sta_kept_pairs(grid, prefix, suffix, tile, window):
    """Kept (query, key) token pairs of sliding-tile (prefix/suffix blocks
    see and are seen by everything)."""
    _, coords, _ = tile_blocks(grid, tile)
    sizes = np.array([len(b) for b in tile_blocks(grid, tile)[0]], np.int64)
    c = np.array(coords)
    half = np.array(window) // 2
    keep = np.all(np.abs(c[:, None, :] - c[None, :, :]) <= half, axis=-1)
    video = int(np.prod(grid))
    n = prefix + video + suffix
    kept_video = int(sizes @ keep @ sizes)
    return n * n - video * video + kept_video, n * n


def fw_keep_frames(T, window, sink, interval):
    f = np.arange(T)
    keep = np.abs(f[:, None] - f[None, :]) <= window
    keep |= f[None, :] < sink
    if interval > 0:
        keep |= (f[None, :] % interval) == 0
    return keep


def fw_kept_pairs(grid, prefix, suffix, window, sink, interval):
    T, H, W = grid
    ft = H * W
    video = T * ft
    n = prefix + video + suffix
    kept_video = int(fw_keep_frames(T, window, sink, interval).sum()) * ft * ft
    return n * n - video * video + kept_video, n * n


def odd_windows(ntiles):
    return range(1, 2 * ntiles, 2)  # wider than 2n - 1 is the same list


def sta_candidates(grid, prefix=0, suffix=0, tiles=None):
    out = []
    tile_opts = tiles or [t for t in itertools.product(
        *[range(1, g + 1) for g in grid])]
    for tile in tile_opts:
        n = [-(-grid[i] // tile[i]) for i in range(3)]
        for win in itertools.product(*[odd_windows(x) for x in n]):
            kept, tot = sta_kept_pairs(grid, prefix, suffix, tile, win)
            out.append((1 - kept / tot, tile, win))
    return out


def fw_candidates(grid, prefix=0, suffix=0):
    T = grid[0]
    out = []
    for window, sink, interval in itertools.product(
            range(T), range(T + 1), range(T + 1)):
        kept, tot = fw_kept_pairs(grid, prefix, suffix, window, sink, interval)
        out.append((1 - kept / tot, window, sink, interval))
    return out


def closest(cands, level, tiebreak, slack=0.0):
    """The candidate closest to `level`; with `slack`, the best by `tiebreak`
    among those within max(closest distance, slack) of it."""
    best = min(abs(c[0] - level) for c in cands)
    pool = [c for c in cands if abs(c[0] - level) <= max(best, slack) + 1e-12]
    return min(pool, key=lambda c: (tiebreak(c), abs(c[0] - level)))


def sta_tiebreak(c):
    # The most cube-like tile, then the larger tile, then the most even
    # window (in tiles), then the smallest.
    _, tile, win = c
    return (float(np.std(tile)), -int(np.prod(tile)), float(np.std(win)),
            int(np.prod(win)), tile, win)


# Sliding-tile settings within 1 percentage point of a level count as
# equally close; the most even among them is used (the closest alone is
# often a degenerate line of tiles, e.g. window 1x1x13).
STA_SLACK = 0.01


def fw_tiebreak(c):
    # Plain windows first, then sinks before keyframes, fewest first.
    _, window, sink, interval = c
    return (sink > 0 or interval > 0, interval > 0, sink, window,
            -interval if interval else 0)


# ---------------------------------------------------------------------------
# Part 1: the tiny models through vsac.


def tool(name):
    path = BIN / name
    for _ in range(10):
        if path.exists():
            return str(path)
        time.sleep(30)  # a colleague may be rebuilding
    sys.exit(f"error: {path} not found")


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, cmd))}\n{res.stdout}{res.stderr}")
    return res.stdout


def geometry(onnx):
    out = run([tool("vsac"), str(onnx), "--emit=summary"])
    m = re.search(r"over video (\d+)x(\d+)x(\d+) tokens \(\+(\d+) before, "
                  r"(\d+) after\)", out)
    if not m:
        sys.exit(f"error: no video geometry in the summary of {onnx}")
    t, h, w, pre, suf = map(int, m.groups())
    return (t, h, w), pre, suf


def parse_dense(text, elems, bits):
    """Values of a printed DenseElementsAttr: a list, a splat, or MLIR's hex
    form of the raw little-endian data."""
    body = text.strip()
    if body.startswith('"0x'):
        raw = bytes.fromhex(body.strip('"')[2:])
        vals = np.frombuffer(raw, dtype=f"<i{bits // 8}").astype(np.int64)
        return vals if vals.size == elems else np.full(elems, vals[0])
    if body.startswith("["):
        return np.array([int(x) for x in body.strip("[]").split(",")
                         if x.strip()], np.int64)
    return np.full(elems, int(body), np.int64)  # splat


WEIGHT_RE = re.compile(
    r'vrt\.weight "vsa\.sparse\.(\d+)\.(offsets|list_offsets|lists|order)" : '
    r'tensor<(\d+)xi(64|32)> = dense<([^>]*)>')


def compiled_sparsity(onnx, spec, work):
    """Fraction of (query, key) token pairs the compiled lists drop, for each
    sparse attention (vsa.sparse.N), from the unelided vrt IR."""
    mlir = work / "t.mlir"
    run([tool("vsac"), str(onnx), f"--sparse={spec}", "--emit=transformed",
         "-o", str(mlir)])
    vrt = run([tool("vsa-opt"), str(mlir), "--vrt-lowering"])
    tables = {}
    for idx, key, n, bits, body in WEIGHT_RE.findall(vrt):
        tables.setdefault(int(idx), {})[key] = parse_dense(body, int(n),
                                                           int(bits))
    if not tables:
        sys.exit(f"error: no vsa.sparse.* tables for {spec}")
    out = []
    for idx in sorted(tables):
        t = tables[idx]
        sizes = np.diff(t["offsets"])
        lo, lists = t["list_offsets"], t["lists"]
        kept = sum(int(sizes[qb]) * int(sizes[lists[lo[qb]:lo[qb + 1]]].sum())
                   for qb in range(len(sizes)))
        total = int(sizes.sum()) ** 2
        out.append(1 - kept / total)
    return out


def part1(levels, work):
    rows = []
    for model in MODELS:
        onnx = FIXTURES / f"{model}.onnx"
        mdir = work / model
        mdir.mkdir(parents=True, exist_ok=True)
        inputs = dict(np.load(FIXTURES / f"{model}.inputs.npz"))
        ref = np.load(FIXTURES / f"{model}.outputs.npz")["sample"]
        args = []
        for name, val in inputs.items():
            np.save(mdir / f"{name}.npy", val)
            args += ["--input", f"{name}={mdir / (name + '.npy')}"]
        grid, pre, suf = geometry(onnx)
        gtxt = f"{grid[0]}x{grid[1]}x{grid[2]}" + (f" + {pre} text" if pre else "")

        def compile_run(spec, tag, attn=()):
            exe = mdir / tag
            if not exe.exists():
                cmd = [tool("vsac"), str(onnx), "--target=cpu", "-o", str(exe)]
                if spec:
                    cmd.insert(2, f"--sparse={spec}")
                run(cmd)
            out = mdir / f"{tag}.{'_'.join(attn).replace('=', '') or 'x'}.npy"
            extra = []
            for a in attn:
                extra += ["--attn", a]
            run([str(exe), "--quiet", *args, *extra, "--output", str(out)])
            return rel_l2(np.load(out), ref)

        err = compile_run(None, "dense")
        rows.append((model, gtxt, "dense (compiled)", "-", "-", "0 %", err))

        # vsa: one executable, every level at run time.
        tile = (1, 2, 2)
        ntiles = int(np.prod([-(-grid[i] // tile[i]) for i in range(3)]))
        nblocks = ntiles + (1 if pre else 0) + (1 if suf else 0)
        for s in levels:
            k = vsa_top_k(nblocks, s)
            err = compile_run("vsa:tile=1x2x2", "vsa", (f"sparsity={s}",))
            rows.append((model, gtxt, "vsa", pct(s),
                         f"tile 1x2x2, k = {k} of {nblocks} blocks",
                         f"{pct(1 - k / nblocks)} (blocks)", err))

        sta = sta_candidates(grid, pre, suf)
        fw = fw_candidates(grid, pre, suf)
        for s in levels:
            best, tile_, win = closest(sta, s, sta_tiebreak, STA_SLACK)
            spec = ("sliding-tile:tile=" + "x".join(map(str, tile_)) +
                    ",window=" + "x".join(map(str, win)))
            actual = compiled_sparsity(onnx, spec, mdir)
            if any(abs(a - best) > 1e-12 for a in actual):
                sys.exit(f"error: {spec}: compiled lists drop {actual}, "
                         f"the rules predict {best}")
            tag = "sta_" + "x".join(map(str, tile_)) + "_" + "x".join(map(str, win))
            err = compile_run(spec, tag)
            rows.append((model, gtxt, "sliding-tile", pct(s),
                         f"tile {'x'.join(map(str, tile_))}, window "
                         f"{'x'.join(map(str, win))}", pct(actual[0]), err))
        for s in levels:
            best, window, sink, interval = closest(fw, s, fw_tiebreak)
            spec = (f"frame-window:window={window},sink={sink},"
                    f"keyframe-interval={interval}")
            actual = compiled_sparsity(onnx, spec, mdir)
            if any(abs(a - best) > 1e-12 for a in actual):
                sys.exit(f"error: {spec}: compiled lists drop {actual}, "
                         f"the rules predict {best}")
            err = compile_run(spec, f"fw_{window}_{sink}_{interval}")
            rows.append((model, gtxt, "frame-window", pct(s),
                         f"window {window}, sink {sink}, keyframe-interval "
                         f"{interval}", pct(actual[0]), err))
    lines = ["| model (grid) | pattern | target | settings | actual sparsity | "
             "rel. L2 vs dense PyTorch |",
             "|---|---|---|---|---|---|"]
    for model, g, pat, target, settings, actual, err in rows:
        lines.append(f"| {model} ({g}) | {pat} | {target} | {settings} | "
                     f"{actual} | {err:.2e} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Part 2: synthetic attention with video-like locality (numpy, float64).


def smooth_field(rng, grid, D, waves=6, sigma=(1.0, 2.0, 2.0), noise=0.1):
    """Unit-RMS smooth random field over the grid, D channels: random
    low-frequency plane waves (<= 1.5 cycles over T, <= 3 over H and W) plus
    Gaussian-filtered noise (sigma in tokens) plus white noise."""
    T, H, W = grid
    t, h, w = np.meshgrid(np.arange(T) / T, np.arange(H) / H, np.arange(W) / W,
                          indexing="ij")
    f = np.zeros((T, H, W, D))
    for _ in range(waves):
        ft, fh, fw = rng.uniform(0, 1.5), rng.uniform(-3, 3), rng.uniform(-3, 3)
        phase = 2 * np.pi * (ft * t + fh * h + fw * w) + rng.uniform(0, 2 * np.pi)
        f += np.sin(phase)[..., None] * rng.normal(size=D)
    f /= np.sqrt(np.mean(f * f))
    g = rng.normal(size=(T, H, W, D))
    spec = np.fft.fftn(g, axes=(0, 1, 2))
    for ax, (n, s) in enumerate(zip(grid, sigma)):
        k = np.fft.fftfreq(n)
        shape = [1, 1, 1, 1]
        shape[ax] = n
        spec *= np.exp(-0.5 * (2 * np.pi * s * k) ** 2).reshape(shape)
    g = np.real(np.fft.ifftn(spec, axes=(0, 1, 2)))
    g /= np.sqrt(np.mean(g * g))
    f = f + 0.5 * g + noise * rng.normal(size=(T, H, W, D))
    return (f / np.sqrt(np.mean(f * f))).reshape(-1, D)


def wan_rope_angles(grid, D, theta=10000.0):
    """Per-token rotation angles of the D/2 interleaved pairs, Wan's 3-D RoPE
    (diffusers WanRotaryPosEmbed): t/h/w parts of D - 4(D//6), 2(D//6),
    2(D//6) dims, each with frequencies theta^(-2i/dim)."""
    hd = wd = 2 * (D // 6)
    td = D - hd - wd
    T, H, W = grid
    t, h, w = np.meshgrid(np.arange(T), np.arange(H), np.arange(W),
                          indexing="ij")
    parts = []
    for dim, pos in ((td, t), (hd, h), (wd, w)):
        freqs = 1.0 / theta ** (np.arange(0, dim, 2)[: dim // 2] / dim)
        parts.append(pos.reshape(-1, 1) * freqs[None, :])
    return np.concatenate(parts, axis=1)  # [N, D/2]


def apply_rope(x, ang):
    x1, x2 = x[:, 0::2], x[:, 1::2]
    c, s = np.cos(ang), np.sin(ang)
    out = np.empty_like(x)
    out[:, 0::2] = x1 * c - x2 * s
    out[:, 1::2] = x1 * s + x2 * c
    return out


def synthetic_qkv(grid, heads, D, gain, rho, seed):
    rng = np.random.default_rng(seed)
    ang = wan_rope_angles(grid, D)
    q, k, v = [], [], []
    for _ in range(heads):
        mu = rng.normal(size=D)
        mu /= np.sqrt(np.mean(mu * mu))  # shared constant part (RoPE locality)
        fq = smooth_field(rng, grid, D)
        fk = rho * fq + math.sqrt(1 - rho * rho) * smooth_field(rng, grid, D)
        for raw, dst in ((mu + fq, q), (mu + fk, k)):
            raw = raw / np.sqrt(np.mean(raw * raw, axis=1, keepdims=True))
            dst.append(apply_rope(gain * raw, ang))
        v.append(smooth_field(rng, grid, D))
    return np.stack(q), np.stack(k), np.stack(v)


def part2(args, gain):
    grid = tuple(int(x) for x in args.grid.split("x"))
    tile = (4, 4, 4)
    if any(g % t for g, t in zip(grid, tile)):
        sys.exit("error: --grid must be a multiple of 4 along each axis")
    T, H, W = grid
    N, D, heads = T * H * W, args.dim, args.heads
    scale = 1 / math.sqrt(D)
    t0 = time.time()
    q, k, v = synthetic_qkv(grid, heads, D, gain, args.rho, args.seed)

    # Tile order (4x4x4 tiles are contiguous); attention doesn't depend on
    # the token order, so everything below works in it.
    blocks, coords, ntile = tile_blocks(grid, tile)
    order = np.concatenate([np.array(b) for b in blocks])
    q, k, v = q[:, order], k[:, order], v[:, order]
    nt = len(blocks)
    bs = 64
    frame = (order // (H * W)).astype(np.int64)  # frame of each token
    tile_of = np.repeat(np.arange(nt), bs)

    # Settings per level.
    c = np.array(coords)
    sta = sta_candidates(grid, tiles=[tile])
    fw = fw_candidates(grid)
    masks = []  # (pattern, target, settings, actual, kind, data)
    for s in args.levels:
        kk = vsa_top_k(nt, s)
        masks.append(("vsa", s, f"tile 4x4x4, k = {kk} of {nt} tiles",
                      1 - kk / nt, "vsa", kk))
    for s in args.levels:
        best, _, win = closest(sta, s, sta_tiebreak, STA_SLACK)
        half = np.array(win) // 2
        keep = np.all(np.abs(c[:, None, :] - c[None, :, :]) <= half, axis=-1)
        masks.append(("sliding-tile", s, "tile 4x4x4, window " +
                      "x".join(map(str, win)), 1 - keep.mean(), "tile", keep))
    for s in args.levels:
        best, window, sink, interval = closest(fw, s, fw_tiebreak)
        keep = fw_keep_frames(T, window, sink, interval)
        masks.append(("frame-window", s, f"window {window}, sink {sink}, "
                      f"keyframe-interval {interval}", 1 - keep.mean(),
                      "frame", keep))

    M = len(masks)
    err2 = np.zeros(M)
    mass_sum = np.zeros(M)
    mass_min = np.full(M, np.inf)
    ref2 = 0.0
    ent_sum = 0.0
    local_mass = 0.0  # dense mass within the 3x3x3 tile neighbourhood
    near = np.all(np.abs(c[:, None, :] - c[None, :, :]) <= 1, axis=-1)
    chunk_tiles = args.chunk_tiles
    for hd in range(heads):
        # VSA's choice for this head: mean-pooled q, k per tile, scaled
        # scores, top-k per query tile (equal scores: the lower tile wins).
        qb = q[hd].reshape(nt, bs, D).mean(1)
        kb = k[hd].reshape(nt, bs, D).mean(1)
        sc = scale * qb @ kb.T
        rank = np.argsort(-sc, axis=1, kind="stable")
        vsa_keep = {}
        for i, m in enumerate(masks):
            if m[4] == "vsa":
                keep = np.zeros((nt, nt), bool)
                np.put_along_axis(keep, rank[:, : m[5]], True, axis=1)
                vsa_keep[i] = keep
        for t0_ in range(0, nt, chunk_tiles):
            tq = np.arange(t0_, min(t0_ + chunk_tiles, nt))
            rows = slice(tq[0] * bs, (tq[-1] + 1) * bs)
            s_ = (q[hd, rows] @ k[hd].T) * scale
            s_ -= s_.max(axis=1, keepdims=True)
            p = np.exp(s_)
            del s_
            den = p.sum(axis=1)
            ref = (p @ v[hd]) / den[:, None]
            ref2 += float(np.sum(ref * ref))
            pn = p / den[:, None]
            ent_sum += float(-np.sum(pn * np.log(np.maximum(pn, 1e-300))))
            nb = near[tq][:, tile_of]  # [tiles, N]
            local_mass += float(np.sum(pn.reshape(len(tq), bs, N) * nb[:, None, :]))
            del pn
            for i, m in enumerate(masks):
                if m[4] == "frame":
                    mk = m[5][frame[rows]][:, frame]
                else:
                    kt = vsa_keep[i] if m[4] == "vsa" else m[5]
                    mk = np.repeat(kt[tq][:, tile_of], bs, axis=0)
                pm = np.where(mk, p, 0.0)
                dm = pm.sum(axis=1)
                if np.any(dm < 1e-250):
                    sys.exit("error: kept mass underflowed; lower --gains")
                out = (pm @ v[hd]) / dm[:, None]
                err2[i] += float(np.sum((out - ref) ** 2))
                mass = dm / den
                mass_sum[i] += float(mass.sum())
                mass_min[i] = min(mass_min[i], float(mass.min()))
        print(f"  head {hd + 1}/{heads} done ({time.time() - t0:.0f} s)",
              file=sys.stderr)
    err = np.sqrt(err2 / ref2)
    eff = math.exp(ent_sum / (heads * N))
    print(f"  gain {gain:g}: {time.time() - t0:.0f} s", file=sys.stderr)
    stats = (f"gain {gain:g}: exp(entropy) = {eff:.0f} keys "
             f"({100 * eff / N:.1f} % of the sequence), "
             f"{100 * local_mass / (heads * N):.1f} % of the mass within the "
             f"3x3x3 tile neighbourhood")
    rows = [(m[0], m[1], m[2], m[3]) for m in masks]
    res = [(err[i], mass_sum[i] / (heads * N), mass_min[i]) for i in range(M)]
    return stats, rows, res


def part2_table(args, gains):
    grid = args.grid.replace("x", " x ")
    n = int(np.prod([int(x) for x in args.grid.split("x")]))
    out = [part2(args, g) for g in gains]
    lines = [f"Grid {grid} = {n} tokens, {args.heads} heads x {args.dim}, "
             f"float64, rho {args.rho}, seed {args.seed}. Dense attention per "
             f"gain (mean over heads and queries):", ""]
    lines += [f"- {st}" for st, _, _ in out]
    head = "| pattern | target | settings | actual sparsity |"
    rule = "|---|---|---|---|"
    for g in gains:
        head += f" rel. L2 (gain {g:g}) | mass kept, mean (min) (gain {g:g}) |"
        rule += "---|---|"
    lines += ["", head, rule]
    for i, (pat, target, settings, actual) in enumerate(out[0][1]):
        row = f"| {pat} | {pct(target)} | {settings} | {pct(actual)} |"
        for _, _, res in out:
            e, mean, mn = res[i]
            row += f" {e:.2e} | {100 * mean:.1f} % ({100 * mn:.1f} %) |"
        lines.append(row)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("1", "2", "both"), default="both")
    ap.add_argument("--grid", default="12x24x40", help="TxHxW latent tokens (part 2)")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--gains", default="1.5,2,3",
                    help="q/k RMS after normalisation, one table each (part 2)")
    ap.add_argument("--rho", type=float, default=0.5,
                    help="share of q's smooth field in k (part 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk-tiles", type=int, default=16)
    ap.add_argument("--work", help="work folder for part 1 (default: a temporary one)")
    args = ap.parse_args()
    args.levels = LEVELS
    t0 = time.time()
    if args.part in ("1", "both"):
        if args.work:
            Path(args.work).mkdir(parents=True, exist_ok=True)
            table = part1(LEVELS, Path(args.work))
        else:
            with tempfile.TemporaryDirectory(prefix="vsa-errors-") as d:
                table = part1(LEVELS, Path(d))
        print("## Tiny models through vsac (CPU)\n")
        print(table)
        print(f"\n(part 1: {time.time() - t0:.0f} s)\n", file=sys.stderr)
    if args.part in ("2", "both"):
        print("\n## Synthetic attention with video-like locality\n")
        print(part2_table(args, [float(g) for g in args.gains.split(",")]))
    print(f"total {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

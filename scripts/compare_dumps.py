#!/usr/bin/env python3
"""compare_dumps.py REF_DIR TEST_DIR [--top N]: op-by-op comparison of two
VSART_DUMP_DIR runs of the same model (say the CPU and the CUDA executable on
the same weights and inputs). Prints, per dumped op in program order, the
relative L2 error of TEST against REF and max|err|/max|ref|, and marks where
the error first exceeds --threshold."""
import argparse
import os

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("ref")
ap.add_argument("test")
ap.add_argument("--threshold", type=float, default=2e-2)
a = ap.parse_args()
first = None
for name in sorted(os.listdir(a.ref)):
    if not name.endswith(".npy") or not os.path.exists(os.path.join(a.test, name)):
        continue
    r = np.load(os.path.join(a.ref, name)).astype(np.float64)
    t = np.load(os.path.join(a.test, name)).astype(np.float64)
    if r.shape != t.shape:
        print(f"{name}: shapes differ {r.shape} vs {t.shape}")
        continue
    l2 = float(np.linalg.norm(t - r) / max(np.linalg.norm(r), 1e-30))
    mx = float(np.abs(t - r).max() / max(np.abs(r).max(), 1e-30)) if r.size else 0.0
    mark = ""
    if first is None and l2 > a.threshold:
        first = name
        mark = "  <-- first above threshold"
    print(f"{name:40s} {str(r.shape):28s} rel_l2 {l2:.3e}  max {mx:.3e}{mark}")
print("first op above threshold:", first)

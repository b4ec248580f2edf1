#!/usr/bin/env python3
"""compare_npy.py OUT.npy REF.npy [--rtol R]: max|out-ref| <= R * max|ref|.

Prints `NAME: max|err|/max|ref| = X (rtol R) OK` or `... FAIL` and exits 1 on
failure, so lit RUN lines can both check and record the error."""
import argparse
import sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("ref")
ap.add_argument("--rtol", type=float, default=1e-4)
ap.add_argument("--name", default="output")
ap.add_argument("--l2", type=float, default=None,
                help="check the relative L2 error against this bound instead")
a = ap.parse_args()
out, ref = np.load(a.out).astype(np.float64), np.load(a.ref).astype(np.float64)
if out.shape != ref.shape:
    print(f"{a.name}: shape {out.shape} != reference {ref.shape} FAIL")
    sys.exit(1)
scale = max(float(np.abs(ref).max()), 1e-30)
ratio = float(np.abs(out - ref).max()) / scale if out.size else 0.0
l2 = float(np.linalg.norm(out - ref) / max(np.linalg.norm(ref), 1e-30))
if a.l2 is not None:
    ok = bool(np.isfinite(out).all()) and l2 <= a.l2
    print(f"{a.name}: rel L2 = {l2:.3e} (bound {a.l2:g}), max|err|/max|ref| = {ratio:.3e} {'OK' if ok else 'FAIL'}")
else:
    ok = bool(np.isfinite(out).all()) and ratio <= a.rtol
    print(f"{a.name}: max|err|/max|ref| = {ratio:.3e} (rtol {a.rtol:g}) {'OK' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)

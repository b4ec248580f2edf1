#!/usr/bin/env python3
"""collectives_ref.py DIR G: writes DIR/x.npy (2, 8, 4, 2) and what rank 0 of
Inputs/collectives-G.mlir must return when every rank gets x: a2a (rank 0
receives head chunk 0 of every rank, concatenated along the sequence), back
(= x) and gathered (G copies of x along the sequence)."""
import os
import sys

import numpy as np

out, g = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
x = np.arange(2 * 8 * 4 * 2, dtype=np.float32).reshape(2, 8, 4, 2) * 0.5 - 3
np.save(os.path.join(out, "x.npy"), x)
np.save(os.path.join(out, "a2a.npy"), np.concatenate([x[:, :, : 4 // g]] * g, axis=1))
np.save(os.path.join(out, "back.npy"), x)
np.save(os.path.join(out, "gathered.npy"), np.concatenate([x] * g, axis=1))

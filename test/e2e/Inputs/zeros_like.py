#!/usr/bin/env python3
"""zeros_like.py IN.npz OUT_DIR: one all-zero NAME.npy per array of IN.npz."""
import os
import sys

import numpy as np

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
for name, a in np.load(src).items():
    np.save(os.path.join(out, name + ".npy"), np.zeros_like(a))

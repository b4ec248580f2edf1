#!/usr/bin/env python3
"""Split an .npz archive into DIR/<key>.npy files: npz_to_npy.py IN.npz DIR"""
import os
import sys

import numpy as np


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: npz_to_npy.py IN.npz DIR")
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with np.load(src) as archive:
        for key in archive.files:
            np.save(os.path.join(out, key + ".npy"), archive[key])


if __name__ == "__main__":
    main()

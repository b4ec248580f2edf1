#!/usr/bin/env python3
"""pick_dump.py DIR NAME INDEX OUT.npy: copies the INDEX-th (from 0, in
program order) tensor that a VSART_DUMP_DIR run wrote for ops named NAME
(files NNNN_NAME.npy) to OUT.npy."""
import glob
import os
import shutil
import sys

folder, name, index, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
files = sorted(glob.glob(os.path.join(folder, "[0-9]*_" + name + ".npy")))
if index >= len(files):
    sys.exit(f"pick_dump: {len(files)} dumps of {name} in {folder}, no #{index}")
shutil.copyfile(files[index], out)

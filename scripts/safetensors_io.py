"""Minimal safetensors reading and writing (numpy only): the bench and test
scripts' one copy of the format (8-byte little-endian header length, JSON
header padded to 8 bytes, raw little-endian tensor data)."""
import json
import struct

import numpy as np

_NUMPY = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def write(path, entries):
    """entries: name -> (dtype name such as "BF16", shape, raw bytes)."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, shape, raw) in entries.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_numpy(path, arrays):
    """arrays: name -> numpy array (float32, float16 or int64)."""
    names = {np.dtype(t): n for n, t in _NUMPY.items()}
    write(path, {name: (names[a.dtype], a.shape, np.ascontiguousarray(a).tobytes())
                 for name, a in arrays.items()})


def read_numpy(path):
    """name -> numpy array, for the dtypes numpy has (F32, F16, I64)."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        lo, hi = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + lo:8 + n + hi],
                                  dtype=_NUMPY[info["dtype"]]).reshape(info["shape"])
    return out

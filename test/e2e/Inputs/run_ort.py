#!/usr/bin/env python3
"""Runs an ONNX model with onnxruntime on the arrays of an .npz file (by
input name) and saves the first output: run_ort.py MODEL.onnx INPUTS.npz OUT.npy"""
import sys

import numpy as np
import onnxruntime as ort

model, inputs, out = sys.argv[1:4]
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
feeds = dict(np.load(inputs))
names = {i.name for i in session.get_inputs()}
result = session.run(None, {k: v for k, v in feeds.items() if k in names})[0]
np.save(out, result)

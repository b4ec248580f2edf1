#!/usr/bin/env python3
"""Export a tiny random-weight diffusers CogVideoX transformer to an ONNX test fixture.

Makes, in --out (default test/fixtures):
  cogvideox   CogVideoXTransformer3DModel, tiny CogVideoX-2b-style config (3D
              sincos positional embedding, no RoPE, Conv2d patch embed), dynamo
              exporter, opset 20
as cogvideox.onnx, cogvideox.inputs.npz, cogvideox.outputs.npz (see
models/common/export_util.py). The fixture is committed; this script is not
run in CI.

Run (from the repo root; needs torch, diffusers, onnxscript, onnx, onnxruntime):
  python3 models/cogvideox/export.py
  python3 models/cogvideox/export.py --out /tmp/fx
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import CogVideoXTransformer3DModel  # noqa: E402

from common.export_util import export_fixture, parse_args, perturb_parameters, seeded_inputs  # noqa: E402

LATENT_FRAMES = 3
TEMPORAL_COMPRESSION = 4
TEXT_LEN = 8

# sample_{height,width,frames} must match the input (latent H, W; pixel frames
# (F - 1) * 4 + 1) so the model uses its precomputed positional-embedding
# buffer instead of recomputing it; max_text_seq_length must equal the text
# length (the buffer is (1, text_len + num_patches, inner_dim)).
CONFIG = dict(
    num_attention_heads=2,
    attention_head_dim=16,
    in_channels=4,
    out_channels=4,
    time_embed_dim=32,
    text_embed_dim=32,
    num_layers=2,
    patch_size=2,
    patch_size_t=None,
    sample_width=8,
    sample_height=8,
    sample_frames=(LATENT_FRAMES - 1) * TEMPORAL_COMPRESSION + 1,
    temporal_compression_ratio=TEMPORAL_COMPRESSION,
    max_text_seq_length=TEXT_LEN,
    use_rotary_positional_embeddings=False,
    use_learned_positional_embeddings=False,
)


def build() -> CogVideoXTransformer3DModel:
    torch.manual_seed(0)
    model = CogVideoXTransformer3DModel(**CONFIG).eval()  # fp32 by default
    return perturb_parameters(model)


def inputs():
    return seeded_inputs(
        0,
        {
            "hidden_states": ((1, LATENT_FRAMES, 4, 8, 8), np.float32),  # B, F, C, H, W
            "encoder_hidden_states": ((1, TEXT_LEN, 32), np.float32),
            # CogVideoX's DDIM/DPM schedulers yield int64 timesteps.
            "timestep": ((1,), lambda rng, shape: np.full(shape, 500, dtype=np.int64)),
        },
    )


def main() -> None:
    names = ["cogvideox"]
    args = parse_args(__doc__, names)
    if "cogvideox" in (args.only or names):
        r = export_fixture(name="cogvideox", model=build(), inputs=inputs(), output_names=["sample"],
                           out_dir=args.out, opset=20, extra_kwargs={"return_dict": False})
        print(f"{r['name']}: ORT max abs err = {r['ort_max_abs_err']}")


if __name__ == "__main__":
    main()

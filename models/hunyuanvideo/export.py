#!/usr/bin/env python3
"""Export a tiny random-weight diffusers HunyuanVideo transformer to an ONNX test fixture.

Makes, in --out (default test/fixtures):
  hunyuanvideo   HunyuanVideoTransformer3DModel, tiny T2V config (1 dual-stream
                 block, 1 single-stream block, 1 token-refiner block, guidance
                 embedding), dynamo exporter, opset 20; the text attention mask
                 has 2 padded positions
as hunyuanvideo.onnx, hunyuanvideo.inputs.npz, hunyuanvideo.outputs.npz (see
models/common/export_util.py). The fixture is committed; this script is not
run in CI.

Run (from the repo root; needs torch, diffusers, onnxscript, onnx, onnxruntime):
  python3 models/hunyuanvideo/export.py
  python3 models/hunyuanvideo/export.py --out /tmp/fx
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import HunyuanVideoTransformer3DModel  # noqa: E402

from common.export_util import export_fixture, parse_args, perturb_parameters, seeded_inputs  # noqa: E402

TEXT_LEN = 8
TEXT_VALID = 6  # positions >= 6 of the text mask are padding (0)

# inner_dim = 2 * 16 = 32; rope_axes_dim (t, h, w) must sum to the head dim
# and each part must be even (real: (16, 56, 56) for head dim 128).
CONFIG = dict(
    in_channels=4,
    out_channels=4,
    num_attention_heads=2,
    attention_head_dim=16,
    num_layers=1,
    num_single_layers=1,
    num_refiner_layers=1,
    mlp_ratio=2.0,
    patch_size=2,
    patch_size_t=1,
    qk_norm="rms_norm",
    guidance_embeds=True,
    text_embed_dim=32,
    pooled_projection_dim=16,
    rope_theta=256.0,
    rope_axes_dim=(4, 6, 6),
    image_condition_type=None,
)


def build() -> HunyuanVideoTransformer3DModel:
    torch.manual_seed(0)
    model = HunyuanVideoTransformer3DModel(**CONFIG).eval()  # fp32 by default
    return perturb_parameters(model)


def _mask(rng, shape):
    m = np.zeros(shape, dtype=np.float32)  # the pipeline passes it in the transformer dtype
    m[:, :TEXT_VALID] = 1.0
    return m


def inputs():
    # HunyuanVideo's FlowMatchEulerDiscreteScheduler yields float timesteps; the
    # pipeline casts timestep and guidance (= guidance_scale * 1000) to the
    # transformer dtype.
    return seeded_inputs(
        0,
        {
            "hidden_states": ((1, 4, 3, 8, 8), np.float32),  # B, C, F, H, W
            "timestep": ((1,), lambda rng, shape: np.full(shape, 500.0, dtype=np.float32)),
            "encoder_hidden_states": ((1, TEXT_LEN, 32), np.float32),
            "encoder_attention_mask": ((1, TEXT_LEN), _mask),
            "pooled_projections": ((1, 16), np.float32),
            "guidance": ((1,), lambda rng, shape: np.full(shape, 6000.0, dtype=np.float32)),
        },
    )


def main() -> None:
    names = ["hunyuanvideo"]
    args = parse_args(__doc__, names)
    if "hunyuanvideo" in (args.only or names):
        r = export_fixture(name="hunyuanvideo", model=build(), inputs=inputs(), output_names=["sample"],
                           out_dir=args.out, opset=20, extra_kwargs={"return_dict": False})
        print(f"{r['name']}: ORT max abs err = {r['ort_max_abs_err']}")


if __name__ == "__main__":
    main()

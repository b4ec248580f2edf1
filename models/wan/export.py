#!/usr/bin/env python3
"""Export tiny random-weight diffusers Wan 2.1 transformers to ONNX test fixtures.

Makes, in --out (default test/fixtures):
  wan_t2v          WanTransformer3DModel, tiny T2V config, dynamo exporter, opset 20
  wan_i2v          same with the I2V image branch (image_dim / added_kv_proj_dim),
                   dynamo exporter, opset 20
  wan_t2v_opset23  wan_t2v weights/inputs, dynamo exporter, opset 23 (ONNX
                   Attention / RMSNormalization ops)
  wan_t2v_ts17     wan_t2v weights/inputs, TorchScript exporter (dynamo=False),
                   opset 17; torch.nn.RMSNorm is swapped for diffusers' RMSNorm
                   because the TorchScript exporter has no aten::rms_norm symbolic
  wan_t2v_cfg      wan_t2v weights, batch 2 as classifier-free guidance runs it:
                   the latents and timestep twice, conditional then
                   unconditional text states (context-parallel cfg tests)
  wan_i2v_cfg      the same for wan_i2v (image states and latents twice)
each as <name>.onnx, <name>.inputs.npz, <name>.outputs.npz (see
models/common/export_util.py). The fixtures are committed; this script is not
run in CI.

Run (from the repo root; needs torch, diffusers, onnxscript, onnx, onnxruntime):
  python3 models/wan/export.py                     # all six
  python3 models/wan/export.py --only wan_t2v --out /tmp/fx
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import WanTransformer3DModel  # noqa: E402

from common.export_util import export_fixture, parse_args, perturb_parameters, seeded_inputs  # noqa: E402

# Tiny Wan 2.1 T2V config. inner_dim = 2 * 16 = 32. Wan RoPE splits the head
# dim as h = w = 2 * (16 // 6) = 4, t = 16 - 8 = 8 (all even, as it requires).
T2V_CONFIG = dict(
    patch_size=(1, 2, 2),
    num_attention_heads=2,
    attention_head_dim=16,
    in_channels=4,
    out_channels=4,
    text_dim=32,
    freq_dim=32,
    ffn_dim=64,
    num_layers=2,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    eps=1e-6,
    image_dim=None,
    added_kv_proj_dim=None,
    rope_max_seq_len=64,  # real: 1024; only sizes the RoPE table buffer
)

# I2V (Wan2.1-I2V-14B: image_dim=1280 (CLIP ViT-H), added_kv_proj_dim=5120 =
# inner_dim, in_channels=36 = 16 noise + 16 image latents + 4 mask). The image
# embedder maps image_dim -> inner_dim, so added_kv_proj_dim must be inner_dim.
I2V_CONFIG = dict(T2V_CONFIG, in_channels=8, out_channels=4, image_dim=24, added_kv_proj_dim=32)

# diffusers hard-codes the text length to 512 when an image branch is present
# (WanAttnProcessor: image_context_length = encoder_hidden_states.shape[1] - 512).
I2V_TEXT_LEN = 512
I2V_IMAGE_TOKENS = 5  # real: 257 CLIP tokens


def _timestep(rng, shape):
    # Wan's default scheduler (UniPCMultistepScheduler) yields int64 timesteps.
    return np.full(shape, 500, dtype=np.int64)


def build(config: dict) -> WanTransformer3DModel:
    torch.manual_seed(0)
    model = WanTransformer3DModel(**config).eval()  # fp32 by default
    return perturb_parameters(model)


def t2v_inputs():
    return seeded_inputs(
        0,
        {
            "hidden_states": ((1, 4, 3, 8, 8), np.float32),  # B, C, F, H, W latents
            "timestep": ((1,), _timestep),
            "encoder_hidden_states": ((1, 16, 32), np.float32),
        },
    )


def i2v_inputs():
    return seeded_inputs(
        1,
        {
            "hidden_states": ((1, 8, 3, 8, 8), np.float32),
            "timestep": ((1,), _timestep),
            "encoder_hidden_states": ((1, I2V_TEXT_LEN, 32), np.float32),
            "encoder_hidden_states_image": ((1, I2V_IMAGE_TOKENS, 24), np.float32),
        },
    )


def cfg_inputs():
    """Classifier-free guidance as one batch of 2: wan_t2v's latents and
    timestep twice, the conditional text states then unconditional ones."""
    cond = t2v_inputs()
    uncond = np.random.default_rng(2).standard_normal((1, 16, 32)).astype(np.float32)
    return {
        "hidden_states": np.concatenate([cond["hidden_states"]] * 2),
        "timestep": np.concatenate([cond["timestep"]] * 2),
        "encoder_hidden_states": np.concatenate([cond["encoder_hidden_states"], uncond]),
    }


def i2v_cfg_inputs():
    """wan_i2v's inputs as a classifier-free-guidance batch of 2: the
    conditional text states, then seeded unconditional ones (the image
    states and latents twice)."""
    cond = i2v_inputs()
    uncond = np.random.default_rng(3).standard_normal((1, I2V_TEXT_LEN, 32)).astype(np.float32)
    out = {k: np.concatenate([v] * 2) for k, v in cond.items()}
    out["encoder_hidden_states"] = np.concatenate([cond["encoder_hidden_states"], uncond])
    return out


def swap_rmsnorm_for_diffusers(model: torch.nn.Module) -> torch.nn.Module:
    """Replace every torch.nn.RMSNorm by diffusers' RMSNorm (same weights/eps)."""
    from diffusers.models.normalization import RMSNorm

    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.RMSNorm):
                eps = child.eps if child.eps is not None else torch.finfo(torch.float32).eps
                new = RMSNorm(child.normalized_shape, eps=eps, elementwise_affine=child.elementwise_affine)
                if child.elementwise_affine:
                    new.weight.data.copy_(child.weight.data)
                setattr(parent, child_name, new)
    return model


OUTPUTS = ["sample"]
EXTRA = {"return_dict": False}


def main() -> None:
    names = ["wan_t2v", "wan_i2v", "wan_t2v_opset23", "wan_t2v_ts17", "wan_t2v_cfg", "wan_i2v_cfg"]
    args = parse_args(__doc__, names)
    todo = args.only or names
    results = []
    if "wan_t2v" in todo:
        results.append(
            export_fixture(name="wan_t2v", model=build(T2V_CONFIG), inputs=t2v_inputs(),
                           output_names=OUTPUTS, out_dir=args.out, opset=20, extra_kwargs=EXTRA)
        )
    if "wan_i2v" in todo:
        results.append(
            export_fixture(name="wan_i2v", model=build(I2V_CONFIG), inputs=i2v_inputs(),
                           output_names=OUTPUTS, out_dir=args.out, opset=20, extra_kwargs=EXTRA)
        )
    if "wan_t2v_opset23" in todo:
        results.append(
            export_fixture(name="wan_t2v_opset23", model=build(T2V_CONFIG), inputs=t2v_inputs(),
                           output_names=OUTPUTS, out_dir=args.out, opset=23, extra_kwargs=EXTRA)
        )
    if "wan_t2v_ts17" in todo:
        model = swap_rmsnorm_for_diffusers(build(T2V_CONFIG))
        inputs = t2v_inputs()
        results.append(
            export_fixture(name="wan_t2v_ts17", model=model, inputs=inputs, output_names=OUTPUTS,
                           out_dir=args.out, opset=17, dynamo=False, extra_kwargs=EXTRA,
                           positional=list(inputs))
        )
    if "wan_t2v_cfg" in todo:
        results.append(
            export_fixture(name="wan_t2v_cfg", model=build(T2V_CONFIG), inputs=cfg_inputs(),
                           output_names=OUTPUTS, out_dir=args.out, opset=20, extra_kwargs=EXTRA)
        )
    if "wan_i2v_cfg" in todo:
        results.append(
            export_fixture(name="wan_i2v_cfg", model=build(I2V_CONFIG), inputs=i2v_cfg_inputs(),
                           output_names=OUTPUTS, out_dir=args.out, opset=20, extra_kwargs=EXTRA)
        )
    for r in results:
        print(f"{r['name']}: ORT max abs err = {r['ort_max_abs_err']}")


if __name__ == "__main__":
    main()

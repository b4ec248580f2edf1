#!/usr/bin/env python3
"""Export diffusers' WanTransformer3DModel at a real size (graph + external data).

Wan 2.1 T2V 1.3B at 480p x 81 frames by default: latents (1, 16, 21, 60, 104)
-> 32760 video tokens, 12 heads x 128, ffn 8960, 30 layers, 512 text tokens.
Weights are random (seeded); vsac compiles the graph with --external-weights
and the benchmark binds the same weights from a safetensors file that
run_gpu.py writes from the diffusers model it compares against.

  python3 bench/wan/export_wan.py --out /tmp/wan13b            # 1.3B, 480p
  python3 bench/wan/export_wan.py --layers 2 --out /tmp/wan13b_l2
"""
import argparse
import os
import time

import torch
from diffusers import WanTransformer3DModel

CONFIGS = {
    # name: (heads, ffn, layers)
    "1.3b": (12, 8960, 30),
    "14b": (40, 13824, 40),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="1.3b", choices=sorted(CONFIGS))
    ap.add_argument("--layers", type=int, default=None, help="override the layer count")
    ap.add_argument("--frames", type=int, default=21, help="latent frames (81 video frames -> 21)")
    ap.add_argument("--height", type=int, default=60, help="latent height (480p -> 60)")
    ap.add_argument("--width", type=int, default=104, help="latent width (832 -> 104)")
    ap.add_argument("--text", type=int, default=512, help="text tokens")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    heads, ffn, layers = CONFIGS[args.config]
    layers = args.layers or layers
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    model = WanTransformer3DModel(num_attention_heads=heads, attention_head_dim=128,
                                  ffn_dim=ffn, num_layers=layers).eval()
    x = torch.randn(1, 16, args.frames, args.height, args.width)
    t = torch.tensor([500.0])
    ctx = torch.randn(1, args.text, 4096)
    path = os.path.join(args.out, "wan.onnx")
    t0 = time.time()
    with torch.no_grad():
        torch.onnx.export(model, (x, t, ctx), path, kwargs={"return_dict": False},
                          input_names=["hidden_states", "timestep", "encoder_hidden_states"],
                          output_names=["sample"], opset_version=20, dynamo=True,
                          external_data=True)
    print(f"exported {path} ({layers} layers, {heads} heads, ffn {ffn}) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

"""The peer for context parallelism: diffusers' WanTransformer3DModel (random
bf16 weights) under ContextParallelConfig(ulysses_degree=WORLD), one process
per GPU, median of 3 forwards. Run on the GPU machine:

  torchrun --nproc_per_node=N bench/cp/diffusers_cp.py [--config 1.3b|14b] [--layers L]

1.3b: 30 layers, 12 heads x 128, ffn 8960 at 480p x 81 frames (21 x 60 x 104
latents); 14b: 40 layers, 40 heads, ffn 13824 at 720p (21 x 90 x 160).
Writes $OUT/diffusers_cp_<config>_l<layers>_ws<N>.json on rank 0."""
import argparse
import json
import os
import time

import torch
import torch.distributed as dist
from diffusers import ContextParallelConfig, WanTransformer3DModel

CONFIGS = {"1.3b": (12, 8960, 30, (21, 60, 104)), "14b": (40, 13824, 40, (21, 90, 160))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="1.3b", choices=sorted(CONFIGS))
    ap.add_argument("--backend", default="native")
    ap.add_argument("--layers", type=int, default=None, help="override the layer count")
    args = ap.parse_args()
    dist.init_process_group("nccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.cuda.set_device(rank)
    heads, ffn, layers, (f, h, w) = CONFIGS[args.config]
    layers = args.layers or layers
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = WanTransformer3DModel(num_attention_heads=heads, attention_head_dim=128,
                                      ffn_dim=ffn, num_layers=layers)
    model = model.to(torch.bfloat16).eval()
    model.set_attention_backend(args.backend)
    if world > 1:
        model.enable_parallelism(config=ContextParallelConfig(ulysses_degree=world))
    g = torch.Generator(device="cuda").manual_seed(1)
    x = torch.randn(1, 16, f, h, w, device="cuda", dtype=torch.bfloat16, generator=g)
    t = torch.tensor([500.0], device="cuda")
    ctx = torch.randn(1, 512, 4096, device="cuda", dtype=torch.bfloat16, generator=g)
    times = []
    with torch.no_grad():
        for _ in range(4):  # the first warms up
            dist.barrier()
            torch.cuda.synchronize()
            t0 = time.time()
            model(x, t, ctx, return_dict=False)
            torch.cuda.synchronize()
            times.append(time.time() - t0)
    res = {"gpu": torch.cuda.get_device_name(), "world": world, "config": args.config,
           "layers": layers,
           "backend": args.backend, "torch": torch.__version__,
           "date": time.strftime("%Y-%m-%d"),
           "forward_ms": [round(v * 1000, 2) for v in times[1:]],
           "median_ms": round(sorted(times[1:])[1] * 1000, 2),
           "peak_gb": round(torch.cuda.max_memory_allocated() / 2**30, 3)}
    if rank == 0:
        print(json.dumps(res), flush=True)
        out = os.path.join(os.environ.get("OUT", "/tmp"),
                           f"diffusers_cp_{args.config}_l{layers}_ws{world}.json")
        with open(out, "w") as fh:
            json.dump(res, fh)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

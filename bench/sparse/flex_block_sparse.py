#!/usr/bin/env python3
"""FlexAttention on the block-sparse Wan 2.1 1.3B 480p shape.

For comparison with vsart_cuda_block_sparse_attention (vsart-cuda-tests
--gtest_also_run_disabled_tests
--gtest_filter=CudaPerf.DISABLED_WanBlockSparse).

Batch 1, 12 heads x 128, 32760 tokens in 64-token blocks (512, the last
holding 56; --block 128: 256 blocks, the anchor's size), 12.5 % of the key
blocks per (head, query block), random, bf16. Prints the median time of torch.compile'd flex_attention with a
BlockMask built from those lists (64 x 64 kernel tiles, as a 64-token block
mask needs), TFLOP/s counting the real tokens of the computed block pairs,
and dense SDPA on the same tensors for reference. Needs a GPU.
"""
import argparse

import torch
import triton.testing
from torch.nn.attention.flex_attention import BlockMask, flex_attention


def median_ms(fn):
    return triton.testing.do_bench(fn, warmup=50, rep=300, return_mode="median")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--seq", type=int, default=32760)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--keep", type=float, default=0.125)
    ap.add_argument("--same-heads", action="store_true",
                    help="one list per query block for all heads (the "
                    "anchor's mask) instead of one per head")
    args = ap.parse_args()
    H, S, D, BLK = args.heads, args.seq, args.dim, args.block
    dev = "cuda"
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, H, S, D, device=dev, dtype=torch.bfloat16)
               for _ in range(3))
    nb = (S + BLK - 1) // BLK
    keep = max(1, int(nb * args.keep))
    # Per (head, query block): `keep` distinct random key blocks, ascending.
    idx = torch.rand(1, 1 if args.same_heads else H, nb, nb,
                     device=dev).topk(keep, dim=-1).indices
    idx = idx.sort(dim=-1).values.to(torch.int32).expand(1, H, nb, keep)
    kv_num = torch.full((1, H, nb), keep, dtype=torch.int32, device=dev)
    kv_idx = torch.zeros(1, H, nb, nb, dtype=torch.int32, device=dev)
    kv_idx[..., :keep] = idx
    sizes = torch.full((nb,), BLK, dtype=torch.float64, device=dev)
    sizes[-1] = S - BLK * (nb - 1)
    flops = 4.0 * D * float((sizes[None, :, None] * sizes[idx[0].long()]).sum())
    dense_flops = 4.0 * S * S * D * H
    print(f"shape 1x{H}x{S}x{D}, {nb} blocks of {BLK}, {keep}/{nb} kept "
          f"({100 * flops / dense_flops:.2f}% of dense FLOPs); "
          f"torch {torch.__version__}, {torch.cuda.get_device_name()}",
          flush=True)

    bm = BlockMask.from_kv_blocks(kv_num, kv_idx, BLOCK_SIZE=BLK,
                                  seq_lengths=(S, S))
    flex = torch.compile(flex_attention, dynamic=False)
    ref_rows = slice(0, BLK)
    configs = ({"BLOCK_M": 64, "BLOCK_N": 64},
               {"BLOCK_M": 64, "BLOCK_N": 64, "num_warps": 4,
                "num_stages": 3},
               {"BLOCK_M": 64, "BLOCK_N": 32})
    if BLK % 128 == 0:  # Flex's defaults need 128-token blocks
        configs = ({}, {"BLOCK_M": 128, "BLOCK_N": 64, "num_warps": 8,
                        "num_stages": 3}) + configs
    for opts in configs:
        try:
            out = flex(q, k, v, block_mask=bm, kernel_options=opts)
            torch.cuda.synchronize()
            ms = median_ms(
                lambda: flex(q, k, v, block_mask=bm, kernel_options=opts))
        except Exception as e:  # a config the installed torch refuses
            print(f"flex {opts}: failed: {type(e).__name__}: "
                  f"{str(e).splitlines()[0][:200]}", flush=True)
            continue
        # Check the first query block of head 0 against a gathered softmax.
        keys = torch.cat([torch.arange(int(b) * BLK, min(S, (int(b) + 1) * BLK),
                                       device=dev) for b in idx[0, 0, 0]])
        s = (q[0, 0, ref_rows].float() @ k[0, 0, keys].float().T) / D ** 0.5
        ref = torch.softmax(s, dim=-1) @ v[0, 0, keys].float()
        err = ((out[0, 0, ref_rows].float() - ref).norm() / ref.norm()).item()
        print(f"flex {opts}: {ms:.3f} ms, {flops / ms / 1e9:.1f} TFLOP/s of "
              f"computed blocks, rel_l2 {err:.2e} (block 0, head 0)",
              flush=True)

    sdpa = torch.nn.functional.scaled_dot_product_attention
    ms = median_ms(lambda: sdpa(q, k, v))
    print(f"dense sdpa: {ms:.3f} ms, {dense_flops / ms / 1e9:.1f} TFLOP/s",
          flush=True)


if __name__ == "__main__":
    main()

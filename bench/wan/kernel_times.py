#!/usr/bin/env python3
"""Sum Nsight Compute kernel durations by kernel, per forward.

VSART_PROFILE times op kinds with a device sync around each, which adds
launch latency to every small op; this reads the GPU's own kernel times:

  ncu --csv --print-units base --metrics gpu__time_duration.sum \
      --cache-control none --clock-control none EXE --random-inputs \
      --random-weights --quiet > times.csv
  python3 bench/wan/kernel_times.py times.csv [--forwards N] [--top 40]

Kernels are grouped by name up to the first '(' (templates kept, so each
instantiation is its own row); the sum of all rows is the forward's pure
kernel time, without launch gaps.
"""
import argparse
import csv
import sys
from collections import defaultdict


def rows(path):
    with open(path, newline="") as f:
        lines = [l for l in f if l.startswith('"')]  # ncu's own log lines are not CSV
    return csv.DictReader(lines)


def short(name, width):
    name = name.split("(")[0].strip()
    return name if len(name) <= width else name[: width - 3] + "..."


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--forwards", type=int, default=1, help="forwards the profile covers")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--width", type=int, default=90)
    args = ap.parse_args()
    total = defaultdict(float)
    count = defaultdict(int)
    for r in rows(args.csv):
        if r.get("Metric Name") != "gpu__time_duration.sum":
            continue
        key = short(r["Kernel Name"], args.width)
        total[key] += float(r["Metric Value"].replace(",", "")) * 1e-6  # ns -> ms
        count[key] += 1
    if not total:
        sys.exit(f"{args.csv}: no gpu__time_duration.sum rows")
    all_ms = sum(total.values()) / args.forwards
    print(f"kernel time per forward: {all_ms:.3f} ms in {sum(count.values()) // args.forwards} launches")
    for key in sorted(total, key=total.get, reverse=True)[: args.top]:
        ms = total[key] / args.forwards
        n = count[key] / args.forwards
        print(f"{ms:9.3f} ms {100 * ms / all_ms:5.1f}% {n:6.0f} x {1000 * ms / n:8.1f} us  {key}")


if __name__ == "__main__":
    main()

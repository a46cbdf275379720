#!/usr/bin/env python3
"""A model of data-parallel scaling from measured figures (distributed.jsonl of
bench-distributed.sh): weak scaling, every node training batch 32 on its own
cores in the measured compute time (the 2-rank step minus its all-reduce),
then a ring all-reduce of the gradient floats:
    t_allreduce = 2 (K - 1) / K * bytes / bandwidth + 2 (K - 1) * latency
(Patarasuk and Yuan's bandwidth-optimal ring), plus the measured number of
batch-norm sums per step, each a small message all-reduced by recursive
doubling in ceil(log2 K) rounds of one latency (their bytes are negligible). Links: 1 GbE (117 MB/s
payload, 50 us per message) and 10 GbE (1170 MB/s, 20 us). Modelled, not
measured: no congestion, no overlap of communication with backward."""
import json
import math
import sys

LINKS = {"1 GbE": (117e6, 50e-6), "10 GbE": (1170e6, 20e-6)}
NODES = [2, 4, 8, 16, 32, 64]


def allreduce(floats, k, bandwidth, latency):
    return 2 * (k - 1) / k * 4 * floats / bandwidth + 2 * (k - 1) * latency


def main():
    rows = {r["scheme"]: r for r in map(json.loads, open(sys.argv[1]))}
    print("| model | link | " + " | ".join(f"{k} nodes" for k in NODES) + " |")
    print("|---|---|" + "---|" * len(NODES))
    for scheme in ["dense", "pattern", "block", "unstructured", "channel"]:
        if scheme not in rows:
            continue
        r = rows[scheme]
        compute = (r["dp_step_ms"] - r["allreduce_ms"] - r["bn_sync_ms"]) / 1000
        for link, (bw, lat) in LINKS.items():
            cells = []
            for k in NODES:
                t = (compute + allreduce(r["allreduce_floats"], k, bw, lat) +
                     r["bn_syncs"] * math.ceil(math.log2(k)) * lat)
                cells.append(f"{1000 * t:.1f} ms ({100 * compute / t:.0f}%)")
            name = scheme if scheme == "dense" else f"{scheme} 0.90"
            print(f"| {name} | {link} | " + " | ".join(cells) + " |")
    print("\nStep time per node (compute share in parentheses); each node adds 32 "
          "images per step.")


main()

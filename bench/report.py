#!/usr/bin/python3
"""Turns the JSON lines of scripts/bench.sh into bench.json, bench.md and PNG plots.
Usage: report.py RESULTS_DIR"""
import json
import os
import sys
from collections import defaultdict

out = sys.argv[1]
rows = []
for name in sorted(os.listdir(out)):
    if name.endswith(".jsonl"):
        with open(os.path.join(out, name)) as f:
            rows += [json.loads(line) for line in f if line.strip().startswith("{")]
with open(os.path.join(out, "bench.json"), "w") as f:
    json.dump(rows, f, indent=1)
rows = [r for r in rows if "kind" in r]  # the data-parallel lines have their own report

def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


# Training steps run in interleaved pairs with PyTorch's (bench/pairs.py): each
# model's step is the median of its runs' medians, its ratio to PyTorch the
# median of the per-pair ratios, with their range.
def paired(items, key):
    groups = defaultdict(list)
    for r in items:
        groups[key(r)].append(r)
    out = []
    for rs in groups.values():
        a = dict(rs[0])
        a["median_ms"] = median([r["median_ms"] for r in rs])
        a["min_ms"] = min(r["min_ms"] for r in rs)
        a["max_ms"] = max(r["max_ms"] for r in rs)
        a["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rs)
        ratios = [r["torch_ms"] / r["median_ms"] for r in rs if "torch_ms" in r]
        a["pairs"] = len(ratios)
        if ratios:
            a["x_torch"], a["x_torch_lo"], a["x_torch_hi"] = median(ratios), min(ratios), max(ratios)
            a["torch_ms"] = median([r["torch_ms"] for r in rs if "torch_ms" in r])
        out.append(a)
    return out


def x_torch(r):
    if "x_torch" not in r:
        return ""
    return f"{r['x_torch']:.2f} ({r['x_torch_lo']:.2f}-{r['x_torch_hi']:.2f}, {r['pairs']} pairs)"


# MobileNetV2 (bench/torch/export_mobilenet_v2.py) has its own table; every
# other table is of the ResNet-32.
def network(r):
    return r.get("network") or ("mobilenet_v2" if r.get("model") == "mobilenet_v2" else "resnet32")
mobilenet = [r for r in rows if network(r) == "mobilenet_v2"]
rows = [r for r in rows if network(r) != "mobilenet_v2"]


model_key = lambda r: (r.get("binary", ""), r["scheme"], r["target"], r.get("width", 16),
                       r.get("batch", 64), r["threads"], r.get("storage", "f32"),
                       r.get("kernels", "auto"))
sparseprop = paired([r for r in rows if r["kind"] == "sparseprop_step"],
                    lambda r: (r["sparsity"], r.get("width", 16), r["threads"]))
peaks = {r["threads"]: r for r in rows if r["kind"] == "peak"}
rows = [r for r in rows if r["kind"] not in ("sparseprop_step", "peak")]
# Models compiled with --conv-kernels direct only feed the kernel-choice table;
# compact storage, batches 16/32, one thread and width 32 only their own tables.
direct = [r for r in rows if r.get("kernels", "auto") == "direct"]
rows = [r for r in rows if r.get("kernels", "auto") != "direct"]
main_threads = max((r["threads"] for r in rows if "threads" in r), default=0)
def is_main(r):
    return (r.get("storage", "f32") == "f32" and r.get("batch", 64) == 64 and not r.get("recompute")
            and r.get("threads", main_threads) == main_threads and r.get("width", 16) == 16)
variants = [r for r in rows if r["kind"] in ("step", "torch_step") and not is_main(r)]
kernels = [r for r in rows if r["kind"] == "kernel" and r["k"] == 3 and r["layer"] != "conv1"
           and r.get("storage", "f32") == "f32" and r.get("threads", main_threads) == main_threads]
rows = [r for r in rows if is_main(r)]
steps = paired([r for r in rows if r["kind"] == "step"], model_key)
# PyTorch's own runs: its peak memory and its two layouts (one process each).
torch_steps = [r for r in rows if r["kind"] == "torch_step"]
onednn = {(r["O"], r["I"], r["hw"], r["stride"]): r for r in rows if r["kind"] == "onednn"}
halide = {(r["O"], r["I"], r["hw"], r["stride"]): r for r in rows if r["kind"] == "halide"}
mutations = [r for r in rows if r["kind"] == "mutation"]


def roofline(r):
    """Active FLOP / (time x the measured FMA peak at the step's threads)."""
    pk = peaks.get(r["threads"])
    if not pk or not r.get("active_gflop"):
        return ""
    return f"{r['active_gflop'] / (r['median_ms'] / 1000) / pk['gflops']:.3f}"


md = []
threads = (steps or kernels or [{"threads": "?"}])[0]["threads"]
md.append(f"All figures from one `scripts/bench.sh` invocation, {threads} threads, batch 64, "
          "ResNet-32 (16/32/64 unless said) on 3x32x32 inputs. Ratios compare runs of the same "
          "invocation; training steps ran in interleaved pairs with PyTorch's.\n")

# 1. Kernels: per shape, scheme, sparsity; time summed over the layers of that shape.
def key(r):
    return (r["O"], r["I"], r["hw"], r["stride"])
# Per (shape, scheme, target): summed ms and MFLOP per direction, layers, sparsity.
DIRS = ("fwd", "bwd_data", "bwd_weight")
agg = defaultdict(lambda: {"ms": [0.0] * 3, "mflop": [0.0] * 3, "n": 0, "sparsity": 0.0})
for r in kernels:
    a = agg[(key(r), r["scheme"], r["target"])]
    for i, d in enumerate(DIRS):
        a["ms"][i] += r[f"{d}_ms"]
        a["mflop"][i] += r.get(f"{d}_gflops", 0.0) * r[f"{d}_ms"]
    a["n"] += 1
    a["sparsity"] = r["sparsity"]
md.append("## Kernels (generated), per 3x3 conv shape\n")
md.append("Times are per layer (median). GFLOP/s count the multiply-adds of the active weights. "
          "`of oneDNN` = this kernel's GFLOP/s / oneDNN 2.6's dense GFLOP/s on the same shape "
          "(its own fastest layouts), per direction; `x dense` = mest's generated dense kernel's "
          "time / this kernel's.\n")
md.append("| shape O,I,out,stride | scheme | target | sparsity | fwd / bwd-data / bwd-weight ms "
          "| GFLOP/s | of oneDNN | x dense |")
md.append("|---|---|---|---|---|---|---|---|")
shapes = sorted({k[0] for k in agg})
shapes16 = {key(r) for r in kernels if r.get("width", 16) == 16}  # the plot's
schemes = ["dense", "unstructured", "channel", "block", "pattern"]
fractions = defaultdict(list)  # scheme -> this kernel's fraction of oneDNN, every direction
for shape in shapes:
    d = agg.get((shape, "dense", 0.0))
    o = onednn.get(shape)
    for s in schemes:
        for (k, sch, t), a in sorted(agg.items(), key=lambda kv: kv[0][2]):
            if k != shape or sch != s:
                continue
            n = a["n"]
            ms = [m / n for m in a["ms"]]
            gf = [f / m if m else 0.0 for f, m in zip(a["mflop"], a["ms"])]
            cells = [f"{shape}", s, f"{t:.2f}", f"{a['sparsity']:.3f}",
                     " / ".join(f"{m:.3f}" for m in ms), " / ".join(f"{g:.0f}" for g in gf)]
            if o and o.get("bwd_data_gflops"):
                frac = [g / o[f"{dd}_gflops"] for g, dd in zip(gf, DIRS)]
                fractions[s] += frac
                cells.append(" / ".join(f"{f:.2f}" for f in frac))
            else:
                cells.append("")
            cells.append(" / ".join(f"{dm / d['n'] / m:.2f}" for dm, m in zip(d["ms"], ms)) if d else "")
            md.append("| " + " | ".join(cells) + " |")
if fractions:
    md.append("\nMedian fraction of oneDNN's dense GFLOP/s over shapes and directions: " +
              ", ".join(f"{s} {median(v):.2f}" for s, v in fractions.items()) + ".\n")
if onednn or halide:
    md.append("\nDense baselines on the same shapes (oneDNN 2.6 in its own layouts; the Halide 14 "
              "generator of runtime/kernels/halide; mest's generated dense kernel):\n")
    md.append("| shape | oneDNN fwd / bwd-data / bwd-weight ms | oneDNN GFLOP/s | Halide fwd ms | mest dense fwd ms |")
    md.append("|---|---|---|---|---|")
    for k in sorted(set(onednn) | set(halide)):
        o, h, d = onednn.get(k), halide.get(k), agg.get((k, "dense", 0.0))
        cells = [str(k)]
        cells.append(f"{o['fwd_ms']:.3f} / {o['bwd_data_ms']:.3f} / {o['bwd_weight_ms']:.3f}" if o else "")
        cells.append(" / ".join(f"{o.get(dd + '_gflops', 0):.0f}" for dd in DIRS) if o else "")
        cells.append(f"{h['fwd_ms']:.3f}" if h else "")
        cells.append(f"{d['ms'][0] / d['n']:.3f}" if d else "")
        md.append("| " + " | ".join(cells) + " |")
if peaks:
    md.append("\nThe machine's measured f32 FMA peak (bench-peak): " +
              ", ".join(f"{t} thread{'s' if t > 1 else ''} {p['gflops']:.0f} GFLOP/s ({p['isa']})"
                        for t, p in sorted(peaks.items())) + ".\n")


# 2. Training step.
def step_table(title, items, note=""):
    dense = next((r for r in items if r["scheme"] == "dense"), None)
    md.append(f"\n## {title}\n")
    md.append("`x PyTorch dense`: the median of the per-pair ratios PyTorch ms / mest ms over "
              "interleaved pairs (range and pair count in brackets), PyTorch's dense step of the "
              "same network, batch and threads in channels_last. `regions`: OpenMP parallel "
              "regions a step starts (OMPT). `roofline`: the active FLOP of the step's conv and "
              "linear layers / (median time x the measured FMA peak)." + note + "\n")
    md.append("| model | median ms (min-max) | x PyTorch dense | x mest dense | regions | "
              "active GFLOP | roofline | peak RSS MiB |")
    md.append("|---|---|---|---|---|---|---|---|")
    for r in sorted(items, key=lambda r: (r["scheme"], r["target"])):
        cells = [f"mest {r['scheme']} {r['target']:.2f}",
                 f"{r['median_ms']:.1f} ({r['min_ms']:.1f}-{r['max_ms']:.1f})", x_torch(r),
                 f"{dense['median_ms'] / r['median_ms']:.2f}" if dense else "",
                 str(r.get("parallel_regions", "")), f"{r.get('active_gflop', 0):.2f}",
                 roofline(r), f"{r['peak_rss_mb']:.1f}"]
        md.append("| " + " | ".join(cells) + " |")
    t = [r["torch_ms"] for r in items if "torch_ms" in r]
    if t:
        md.append(f"| PyTorch dense, channels_last, in the pairs | {median(t):.1f} | 1.00 | | | | | |")


step_table("Training step (forward, loss, backward, SGD update), ResNet-32 16/32/64", steps)
for r in torch_steps:
    md.append(f"| PyTorch {r['torch']} dense, {r['layout']}, own process | {r['median_ms']:.1f} "
              f"({r['min_ms']:.1f}-{r['max_ms']:.1f}) | | | | | | {r['peak_rss_mb']:.1f} |")
wide = paired([r for r in variants if r["kind"] == "step" and r.get("width", 16) == 32],
              model_key)
if wide:
    step_table("The MEST paper's ResNet-32 (32/64/128, only the 3x3 convolutions sparse), batch 64",
               wide)
    for r in variants:
        if r["kind"] == "torch_step" and r.get("width", 16) == 32:
            md.append(f"| PyTorch {r['torch']} dense, {r['layout']}, own process | "
                      f"{r['median_ms']:.1f} | | | | | | {r['peak_rss_mb']:.1f} |")
if mobilenet:
    mn_steps = paired([r for r in mobilenet if r["kind"] == "step"], model_key)
    if mn_steps:
        step_table("MobileNetV2 (torchvision, width 1.0, 3x32x32), batch 64", mn_steps,
                   " Imported from PyTorch's training-mode ONNX export (its Dropout(0.2) trains "
                   "in both); the default policy keeps the first and the depthwise convolutions "
                   "and the classifier dense.")
    for r in mobilenet:
        if r["kind"] == "torch_step":
            md.append(f"| PyTorch {r['torch']} dense, {r['layout']}, own process | "
                      f"{r['median_ms']:.1f} ({r['min_ms']:.1f}-{r['max_ms']:.1f}) | | | | | | "
                      f"{r['peak_rss_mb']:.1f} |")
if sparseprop:
    md.append("\n## SparseProp (sparse backpropagation, ICML 2023) on the same ResNet-32\n")
    md.append("SparseProp's `swap_modules_with_sparse` on the network pruned to the sparsity "
              "(unstructured, per layer by magnitude), in interleaved pairs with PyTorch's dense "
              "step like mest's; mest's unstructured step at the same sparsity beside it.\n")
    md.append("| sparsity | SparseProp median ms | SparseProp x PyTorch dense | layers swapped | "
              "mest unstructured x PyTorch dense |")
    md.append("|---|---|---|---|---|")
    mest_u = {round(r["target"], 2): r for r in steps if r["scheme"] == "unstructured"}
    for r in sorted(sparseprop, key=lambda r: r["sparsity"]):
        m = mest_u.get(round(r["sparsity"], 2))
        md.append(f"| {r['sparsity']:.2f} | {r['median_ms']:.1f} | {x_torch(r)} | "
                  f"{r.get('swapped_layers', '')} of {r.get('total_layers', '')} | "
                  f"{x_torch(m) if m else ''} |")

# 3. Memory plan.
md.append("\n## Memory planned by mest (bytes)\n")
md.append("| model | weights | gradients | momentum | sparse metadata | batch norm etc. | activations (arena) | peak RSS MiB |")
md.append("|---|---|---|---|---|---|---|---|")
for r in sorted(steps, key=lambda r: (r["scheme"], r["target"])):
    md.append(f"| {r['scheme']} {r['target']:.2f} | {r['weights_bytes']} | {r['gradients_bytes']} | {r['momentum_bytes']} | "
              f"{r['metadata_bytes']} | {r['other_state_bytes']} | {r['arena_bytes']} | {r['peak_rss_mb']:.1f} |")

# 3b. Compact activation storage (mestc --activation-storage): step and peak
# memory against the exact (f32) compilation and PyTorch, same invocation.
compact = paired([r for r in variants if r["kind"] == "step" and r.get("batch", 64) == 64
                  and (r.get("storage", "f32") != "f32" or r.get("recompute"))], model_key)
main_torch = [r for r in torch_steps if r.get("width", 16) == 16]
if compact:
    torch_peak = max((r["peak_rss_mb"] for r in main_torch), default=None)
    md.append("\n## Compact activation storage and recomputation (arithmetic in f32)\n")
    md.append("Saved activations in 16 bits (`--activation-storage`), batch-norm outputs "
              "recomputed in backward (`--recompute-activations N`, column `recompute`), the "
              "ReLU outputs backward reads only for their sign as 1-bit masks in every build.\n")
    md.append("Peak RSS of the step benchmark; `/ PyTorch` against the larger PyTorch peak of the "
              "run; planned = state + arena + threads x scratch (descriptor), against the peak "
              "minus the process before the model existed.\n")
    md.append("| model | storage | recompute | median ms | x PyTorch dense | x f32 | peak RSS MiB | "
              "/ PyTorch | arena bytes | planned / measured |")
    md.append("|---|---|---|---|---|---|---|---|---|---|")
    exact = {(r["scheme"], r["target"]): r for r in steps}
    compared = {(c["scheme"], c["target"]) for c in compact}
    for r in sorted(compact + [exact[k] for k in compared if k in exact],
                    key=lambda r: (r["scheme"], r.get("storage", "f32"), r.get("recompute", 0))):
        e = exact.get((r["scheme"], r["target"]))
        measured = (r["peak_rss_mb"] - r.get("baseline_rss_mb", 0.0)) * 1048576
        cells = [f"{r['scheme']} {r['target']:.2f}", r.get("storage", "f32"),
                 str(r.get("recompute", 0)), f"{r['median_ms']:.1f}",
                 x_torch(r), f"{e['median_ms'] / r['median_ms']:.2f}" if e else "",
                 f"{r['peak_rss_mb']:.1f}",
                 f"{r['peak_rss_mb'] / torch_peak:.3f}" if torch_peak else "", str(r["arena_bytes"]),
                 f"{r['planned_bytes'] / measured:.3f}" if measured > 0 else ""]
        md.append("| " + " | ".join(cells) + " |")

# 3c. Batches small devices use, and one thread: each against PyTorch at the
# same batch and thread count, in pairs.
others = paired([r for r in variants if r["kind"] == "step" and r.get("storage", "f32") == "f32"
                 and r.get("width", 16) == 16 and not r.get("recompute")], model_key)
torch_peak_at = {(r["batch"], r["threads"]): r["peak_rss_mb"]
                 for r in torch_steps + variants if r["kind"] == "torch_step" and r.get("width", 16) == 16}
if others:
    md.append("\n## Other batches and one thread (not targets)\n")
    md.append("| model | batch | threads | median ms | PyTorch dense ms (pairs) | x PyTorch | peak RSS MiB | PyTorch peak MiB |")
    md.append("|---|---|---|---|---|---|---|---|")
    for r in sorted(others, key=lambda r: (r["threads"], r["batch"], r["scheme"])):
        tp = torch_peak_at.get((r["batch"], r["threads"]))
        md.append(f"| {r['scheme']} {r['target']:.2f} | {r['batch']} | {r['threads']} | {r['median_ms']:.1f} | "
                  f"{r.get('torch_ms', 0):.1f} | {x_torch(r)} | {r['peak_rss_mb']:.1f} | "
                  f"{f'{tp:.1f}' if tp else ''} |")

# 3d. Peak memory against the batch: block 0.90 exact (f32, nothing
# recomputed) and in the smallest plan (bf16, chains of 3), against PyTorch
# dense at the same batch (one process each, bench/torch/resnet_step.py).
curve = defaultdict(dict)
for r in paired([r for r in rows + variants if r["kind"] == "step" and r["scheme"] == "block"
                 and abs(r["target"] - 0.9) < 1e-6 and r.get("width", 16) == 16
                 and r["threads"] == main_threads], model_key):
    mode = ("exact" if r.get("storage", "f32") == "f32" and not r.get("recompute")
            else "smallest" if r.get("storage") == "bf16" and r.get("recompute") == 3 else None)
    if mode:
        curve[r.get("batch", 64)][mode] = r["peak_rss_mb"]
for r in torch_steps + variants:
    if r["kind"] == "torch_step" and r.get("width", 16) == 16 and r["threads"] == main_threads:
        curve[r["batch"]]["torch"] = max(curve[r["batch"]].get("torch", 0), r["peak_rss_mb"])
if curve:
    md.append("\n## Peak memory against the batch (block 0.90)\n")
    md.append("Peak RSS MiB of the step benchmark; exact: f32 storage, nothing recomputed; "
              "smallest: bf16, batch-norm outputs recomputed (chains of 3). PyTorch dense "
              "at the same batch (the larger of its runs' peaks). Plot: memory-vs-batch.png.\n")
    md.append("| batch | mest exact | / PyTorch | mest smallest | / PyTorch | PyTorch dense |")
    md.append("|---|---|---|---|---|---|")
    for batch in sorted(curve):
        c = curve[batch]
        t = c.get("torch")
        cell = lambda v: f"{v:.1f}" if v else ""
        ratio = lambda v: f"{v / t:.3f}" if v and t else ""
        md.append(f"| {batch} | {cell(c.get('exact'))} | {ratio(c.get('exact'))} | "
                  f"{cell(c.get('smallest'))} | {ratio(c.get('smallest'))} | {cell(t)} |")

# 4. Mutation.
md.append("\n## Mutation event and regrouping\n")
md.append("| model | mutate ms | regroup ms | fraction of a CIFAR epoch (782 steps) |")
md.append("|---|---|---|---|")
step_of = {(r["scheme"], r["target"]): r for r in steps}
for r in sorted(mutations, key=lambda r: (r["scheme"], r["target"])):
    st = step_of.get((r["scheme"], r["target"]))
    frac = (r["mutate_ms"] + r["regroup_ms"]) / (st["median_ms"] * 782) if st else float("nan")
    md.append(f"| {r['scheme']} {r['target']:.2f} | {r['mutate_ms']:.2f} | {r['regroup_ms']:.3f} | {frac:.5f} |")

# Kernel choice: the compiler's default (padded kernels wherever they apply) against
# the direct kernels, per layer of the same model and direction.
if direct:
    md.append("\n## Kernel choice: default (padded where it applies) vs --conv-kernels direct\n")
    md.append("Per conv shape of ResNet-32 at 90% (ms per layer, median, averaged over the layers "
              "of that shape): default / direct (direct / default; > 1: the default is faster). "
              "Step: the whole training step.\n")
    md.append("| scheme | shape O,I,k,out,stride | fwd | bwd-data | bwd-weight |")
    md.append("|---|---|---|---|---|")
    auto_k = {(r["scheme"], r["layer"]): r for r in rows
              if r["kind"] == "kernel" and r["target"] == 0.9}
    fields = ("fwd_ms", "bwd_data_ms", "bwd_weight_ms")
    pairs = defaultdict(lambda: [[0.0] * 3, [0.0] * 3, 0])
    for r in direct:
        a = auto_k.get((r["scheme"], r["layer"])) if r["kind"] == "kernel" else None
        if not a:
            continue
        p = pairs[(r["scheme"], (r["O"], r["I"], r["k"], r["hw"], r["stride"]))]
        for i, f in enumerate(fields):
            p[0][i] += a[f]; p[1][i] += r[f]
        p[2] += 1
    worst = []
    for (scheme, shape), (a, d, n) in sorted(pairs.items()):
        cells = [f"{a[i] / n:.3f} / {d[i] / n:.3f} ({d[i] / a[i]:.2f}x)" for i in range(3)]
        worst += [(d[i] / a[i], scheme, shape, fields[i]) for i in range(3)]
        md.append(f"| {scheme} | {shape} | " + " | ".join(cells) + " |")
    if worst:
        w = min(worst)
        md.append(f"\nSlowest default relative to direct: {w[0]:.2f}x ({w[1]} {w[2]} {w[3]}).\n")
    auto_s = {r["scheme"]: r for r in steps if r["target"] == 0.9}
    direct_steps = paired([r for r in direct if r["kind"] == "step"], lambda r: r["scheme"])
    for r in sorted(direct_steps, key=lambda r: r["scheme"]):
        a = auto_s.get(r["scheme"])
        if a:
            md.append(f"Step, {r['scheme']} 0.90: default {a['median_ms']:.1f} ms, direct "
                      f"{r['median_ms']:.1f} ms ({r['median_ms'] / a['median_ms']:.2f}x).")

with open(os.path.join(out, "bench.md"), "w") as f:
    f.write("\n".join(md) + "\n")

# Plots.
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib missing: no plots")
    sys.exit(0)
fig, ax = plt.subplots(figsize=(7, 4.5))
for s in schemes[1:]:
    pts = []
    for t in sorted({tt for (_, sch, tt) in agg if sch == s}):
        tot = sum(a["ms"][0] for (k, sch, tt), a in agg.items() if sch == s and tt == t and k in shapes16)
        dense = sum(a["ms"][0] for (k, sch, tt), a in agg.items() if sch == "dense" and k in shapes16)
        if tot and dense:
            pts.append((t, dense / tot))
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=s)
ax.axhline(1.0, color="grey", lw=0.8)
ax.set_xlabel("target sparsity"); ax.set_ylabel("forward speed-up vs mest dense")
ax.set_title("Generated sparse conv kernels, ResNet-32 3x3 layers, batch 64")
ax.legend(); fig.tight_layout(); fig.savefig(os.path.join(out, "speedup.png"), dpi=110)

if steps:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    conv = defaultdict(float)
    for r in rows:
        if r["kind"] == "kernel":
            conv[(r["scheme"], r["target"])] += r["fwd_ms"] + r["bwd_weight_ms"] + (0 if r["layer"] == "conv1" else r["bwd_data_ms"])
    names, cv, other = [], [], []
    for r in sorted(steps, key=lambda r: (r["scheme"], r["target"])):
        if r["target"] not in (0.0, 0.9):
            continue
        c = conv[(r["scheme"], r["target"])]
        names.append(f"{r['scheme']}\n{r['target']:.2f}"); cv.append(c); other.append(max(0.0, r["median_ms"] - c))
    ax.bar(names, cv, label="convolutions (fwd, bwd-data, bwd-weight+SGD)")
    ax.bar(names, other, bottom=cv, label="batch norm, ReLU, add, pooling, loss, SGD of BN")
    torch_in_pairs = [r["torch_ms"] for r in steps if "torch_ms" in r]
    if torch_in_pairs:
        ax.axhline(median(torch_in_pairs), color="red", ls="--", label="PyTorch dense step")
    ax.set_ylabel("ms per training step"); ax.set_title("Training step by layer kind (ResNet-32, batch 64)")
    ax.legend(fontsize=8); fig.tight_layout(); fig.savefig(os.path.join(out, "step-breakdown.png"), dpi=110)
print("wrote", os.path.join(out, "bench.md"))

if curve:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for mode, label in (("torch", "PyTorch dense"), ("exact", "mest block 0.90, f32"),
                        ("smallest", "mest block 0.90, bf16 + recompute")):
        pts = sorted((b, c[mode]) for b, c in curve.items() if mode in c)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set_xscale("log", base=2); ax.set_yscale("log")
    ax.set_xlabel("batch"); ax.set_ylabel("peak RSS MiB")
    ax.set_title("ResNet-32 training step: peak memory against the batch")
    ax.legend(); fig.tight_layout(); fig.savefig(os.path.join(out, "memory-vs-batch.png"), dpi=110)

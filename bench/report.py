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

# Models compiled with --conv-kernels direct only feed the kernel-choice table;
# compact storage, batches 16/32 and one thread only their own tables.
direct = [r for r in rows if r.get("kernels", "auto") == "direct"]
rows = [r for r in rows if r.get("kernels", "auto") != "direct"]
main_threads = max((r["threads"] for r in rows if "threads" in r), default=0)
def is_main(r):
    return (r.get("storage", "f32") == "f32" and r.get("batch", 64) == 64
            and r.get("threads", main_threads) == main_threads)
variants = [r for r in rows if r["kind"] in ("step", "torch_step") and not is_main(r)]
rows = [r for r in rows if is_main(r)]
kernels = [r for r in rows if r["kind"] == "kernel" and r["k"] == 3 and r["layer"] != "conv1"]
# Training steps run in two rounds minutes apart (this VM has slow windows that
# hit memory-bound code hardest): each model, mest's and PyTorch's alike, is
# reported with its faster round.
def best_round(items, key):
    best = {}
    for r in items:
        k = key(r)
        if k not in best or r["median_ms"] < best[k]["median_ms"]:
            best[k] = r
    return list(best.values())
steps = best_round([r for r in rows if r["kind"] == "step"], lambda r: (r["scheme"], r["target"]))
torch_steps = best_round([r for r in rows if r["kind"] == "torch_step"], lambda r: r["layout"])
onednn = {(r["O"], r["I"], r["hw"], r["stride"]): r for r in rows if r["kind"] == "onednn"}
halide = {(r["O"], r["I"], r["hw"], r["stride"]): r for r in rows if r["kind"] == "halide"}
mutations = [r for r in rows if r["kind"] == "mutation"]
md = []
threads = (steps or kernels or [{"threads": "?"}])[0]["threads"]
md.append(f"All figures from one `scripts/bench.sh` invocation, {threads} threads, batch 64, "
          "ResNet-32 (16/32/64) on 3x32x32 inputs. Ratios compare runs of the same invocation.\n")

# 1. Kernels: per shape, scheme, sparsity; time summed over the layers of that shape.
def key(r):
    return (r["O"], r["I"], r["hw"], r["stride"])
agg = defaultdict(lambda: [0.0, 0.0, 0.0, 0, 0.0])
for r in kernels:
    a = agg[(key(r), r["scheme"], r["target"])]
    a[0] += r["fwd_ms"]; a[1] += r["bwd_data_ms"]; a[2] += r["bwd_weight_ms"]; a[3] += 1
    a[4] = r["sparsity"]
md.append("## Kernels (generated), per 3x3 conv shape\n")
md.append("Times are per layer (median). `x dense` = mest's generated dense kernel / this kernel; "
          "`x oneDNN` = oneDNN 2.6 (its own fastest layouts) / this kernel.\n")
md.append("| shape O,I,out,stride | scheme | target | sparsity | fwd ms | bwd-data ms | bwd-weight ms "
          "| fwd x dense | bwd-data x dense | bwd-weight x dense | fwd x oneDNN |")
md.append("|---|---|---|---|---|---|---|---|---|---|---|")
shapes = sorted({k[0] for k in agg})
schemes = ["dense", "unstructured", "channel", "block", "pattern"]
for shape in shapes:
    d = agg.get((shape, "dense", 0.0))
    for s in schemes:
        for (k, sch, t), a in sorted(agg.items(), key=lambda kv: kv[0][2]):
            if k != shape or sch != s:
                continue
            n = a[3]
            f, bd, bw = a[0] / n, a[1] / n, a[2] / n
            cells = [f"{shape}", s, f"{t:.2f}", f"{a[4]:.3f}", f"{f:.3f}", f"{bd:.3f}", f"{bw:.3f}"]
            if d:
                cells += [f"{d[0] / d[3] / f:.2f}", f"{d[1] / d[3] / bd:.2f}", f"{d[2] / d[3] / bw:.2f}"]
            else:
                cells += ["", "", ""]
            o = onednn.get(shape)
            cells.append(f"{o['fwd_ms'] / f:.2f}" if o else "")
            md.append("| " + " | ".join(cells) + " |")
if onednn or halide:
    md.append("\nDense baselines on the same shapes (oneDNN 2.6 in its own layouts; the Halide 14 "
              "generator of runtime/kernels/halide; mest's generated dense kernel):\n")
    md.append("| shape | oneDNN fwd / bwd-data / bwd-weight ms | oneDNN fwd GFLOP/s | Halide fwd ms | mest dense fwd ms |")
    md.append("|---|---|---|---|---|")
    for k in sorted(set(onednn) | set(halide)):
        o, h, d = onednn.get(k), halide.get(k), agg.get((k, "dense", 0.0))
        cells = [str(k)]
        cells.append(f"{o['fwd_ms']:.3f} / {o['bwd_data_ms']:.3f} / {o['bwd_weight_ms']:.3f}" if o else "")
        cells.append(f"{o['fwd_gflops']:.1f}" if o else "")
        cells.append(f"{h['fwd_ms']:.3f}" if h else "")
        cells.append(f"{d[0] / d[3]:.3f}" if d else "")
        md.append("| " + " | ".join(cells) + " |")

# 2. Training step.
best_torch = min(torch_steps, key=lambda r: r["median_ms"]) if torch_steps else None
dense_step = next((r for r in steps if r["scheme"] == "dense"), None)
md.append("\n## Training step (forward, loss, backward, SGD update)\n")
md.append("| model | median ms (min-max) | x PyTorch dense | x mest dense | peak RSS MiB |")
md.append("|---|---|---|---|---|")
for r in sorted(steps, key=lambda r: (r["scheme"], r["target"])):
    md.append(f"| mest {r['scheme']} {r['target']:.2f} | {r['median_ms']:.1f} ({r['min_ms']:.1f}-{r['max_ms']:.1f}) | "
              f"{best_torch['median_ms'] / r['median_ms']:.2f} | "
              f"{dense_step['median_ms'] / r['median_ms']:.2f} | {r['peak_rss_mb']:.1f} |"
              if best_torch and dense_step else f"| mest {r['scheme']} | {r['median_ms']:.1f} | | | |")
for r in torch_steps:
    md.append(f"| PyTorch {r['torch']} dense, {r['layout']} | {r['median_ms']:.1f} ({r['min_ms']:.1f}-{r['max_ms']:.1f}) | "
              f"{best_torch['median_ms'] / r['median_ms']:.2f} | | {r['peak_rss_mb']:.1f} |")

# 3. Memory plan.
md.append("\n## Memory planned by mest (bytes)\n")
md.append("| model | weights | gradients | momentum | sparse metadata | batch norm etc. | activations (arena) | peak RSS MiB |")
md.append("|---|---|---|---|---|---|---|---|")
for r in sorted(steps, key=lambda r: (r["scheme"], r["target"])):
    md.append(f"| {r['scheme']} {r['target']:.2f} | {r['weights_bytes']} | {r['gradients_bytes']} | {r['momentum_bytes']} | "
              f"{r['metadata_bytes']} | {r['other_state_bytes']} | {r['arena_bytes']} | {r['peak_rss_mb']:.1f} |")

# 3b. Compact activation storage (mestc --activation-storage): step and peak
# memory against the exact (f32) compilation and PyTorch, same invocation.
compact = best_round([r for r in variants if r["kind"] == "step" and r.get("storage", "f32") != "f32"],
                     lambda r: (r["scheme"], r["target"], r["storage"]))
if compact:
    torch_peak = max((r["peak_rss_mb"] for r in torch_steps), default=None)
    md.append("\n## Compact activation storage (saved activations in 16 bits, arithmetic in f32)\n")
    md.append("Peak RSS of the step benchmark; `/ PyTorch` against the larger PyTorch peak of the "
              "run; planned = state + arena + threads x scratch (descriptor), against the peak "
              "minus the process before the model existed.\n")
    md.append("| model | storage | median ms | x PyTorch dense | x f32 | peak RSS MiB | / PyTorch | "
              "arena bytes | planned / measured |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    exact = {(r["scheme"], r["target"]): r for r in steps}
    compared = {(c["scheme"], c["target"]) for c in compact}
    for r in sorted(compact + [exact[k] for k in compared if k in exact],
                    key=lambda r: (r["scheme"], r.get("storage", "f32"))):
        e = exact.get((r["scheme"], r["target"]))
        measured = (r["peak_rss_mb"] - r.get("baseline_rss_mb", 0.0)) * 1048576
        cells = [f"{r['scheme']} {r['target']:.2f}", r.get("storage", "f32"), f"{r['median_ms']:.1f}",
                 f"{best_torch['median_ms'] / r['median_ms']:.2f}" if best_torch else "",
                 f"{e['median_ms'] / r['median_ms']:.2f}" if e else "", f"{r['peak_rss_mb']:.1f}",
                 f"{r['peak_rss_mb'] / torch_peak:.3f}" if torch_peak else "", str(r["arena_bytes"]),
                 f"{r['planned_bytes'] / measured:.3f}" if measured > 0 else ""]
        md.append("| " + " | ".join(cells) + " |")

# 3c. Batches small devices use, and one thread: each against PyTorch at the
# same batch and thread count (its faster layout).
others = best_round([r for r in variants if r["kind"] == "step" and r.get("storage", "f32") == "f32"],
                    lambda r: (r["scheme"], r["target"], r["batch"], r["threads"]))
torch_at = {}
for r in [t for t in torch_steps] + [t for t in variants if t["kind"] == "torch_step"]:
    k = (r["batch"], r["threads"])
    if k not in torch_at or r["median_ms"] < torch_at[k]["median_ms"]:
        torch_at[k] = r
if others:
    md.append("\n## Other batches and one thread (not targets)\n")
    md.append("| model | batch | threads | median ms | PyTorch dense ms (layout) | x PyTorch | peak RSS MiB | PyTorch peak MiB |")
    md.append("|---|---|---|---|---|---|---|---|")
    for r in sorted(others, key=lambda r: (r["threads"], r["batch"], r["scheme"])):
        t = torch_at.get((r["batch"], r["threads"]))
        md.append(f"| {r['scheme']} {r['target']:.2f} | {r['batch']} | {r['threads']} | {r['median_ms']:.1f} | "
                  + (f"{t['median_ms']:.1f} ({t['layout']}) | {t['median_ms'] / r['median_ms']:.2f} | "
                     f"{r['peak_rss_mb']:.1f} | {t['peak_rss_mb']:.1f} |" if t else f"| | {r['peak_rss_mb']:.1f} | |"))

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
    direct_steps = best_round([r for r in direct if r["kind"] == "step"], lambda r: r["scheme"])
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
        tot = sum(a[0] for (k, sch, tt), a in agg.items() if sch == s and tt == t)
        dense = sum(a[0] for (k, sch, tt), a in agg.items() if sch == "dense")
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
    if best_torch:
        ax.axhline(best_torch["median_ms"], color="red", ls="--", label="PyTorch dense step")
    ax.set_ylabel("ms per training step"); ax.set_title("Training step by layer kind (ResNet-32, batch 64)")
    ax.legend(fontsize=8); fig.tight_layout(); fig.savefig(os.path.join(out, "step-breakdown.png"), dpi=110)
print("wrote", os.path.join(out, "bench.md"))

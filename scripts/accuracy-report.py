#!/usr/bin/env python3
"""docs/accuracy.md from the runs of scripts/accuracy.sh.

Usage: accuracy-report.py ACC_DIR EPOCHS
       accuracy-report.py --record ACC_DIR NAME
A finished run (ACC_DIR/runs/NAME/metrics.jsonl, NAME = MODEL-SCHEME-SPARSITY[-remove]-sSEED)
is summarised once into docs/accuracy/runs/NAME.json (--record): the record that is
committed, so the table outlives the build tree that ran it. The report reads those
records, lists the unfinished runs of ACC_DIR, writes docs/accuracy.md and one SVG per
model (test accuracy against epoch, the seed mean of each configuration) into
docs/accuracy/, and prints the tables.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = re.compile(r"^(?P<model>[a-z0-9]+)-(?P<scheme>[a-z]+)-(?P<sp>\d+)(?P<remove>-remove)?-s(?P<seed>\d+)$")
SCHEMES = ["dense", "unstructured", "block", "pattern", "channel"]
RECORDS = os.path.join(ROOT, "docs", "accuracy", "runs")
COLOURS = {"dense": "#000000", "unstructured": "#1f77b4", "block": "#2ca02c",
           "pattern": "#d62728", "channel": "#9467bd"}


def parse(name):
    m = NAME.match(name)
    if not m:
        return None
    return dict(name=name, model=m["model"], scheme=m["scheme"],
                sparsity=int(m["sp"]) / 10 ** len(m["sp"]) if m["sp"] != "0" else 0.0,
                remove=bool(m["remove"]), seed=int(m["seed"]))


def metrics(acc_dir, name):
    path = os.path.join(acc_dir, "runs", name, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def record(acc_dir, name):
    """The committed summary of a finished run."""
    epochs = metrics(acc_dir, name)
    if not epochs:
        sys.exit(f"accuracy-report: {acc_dir}/runs/{name}/metrics.jsonl has no epochs")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    rec = dict(name=name, epochs=len(epochs),
               final_test_accuracy=epochs[-1]["test_accuracy"],
               test_accuracy=[e["test_accuracy"] for e in epochs],
               wall_seconds=round(sum(e["epoch_seconds"] for e in epochs), 1),
               peak_rss_mb=max(e["peak_rss_mb"] for e in epochs),
               examples_processed=epochs[-1]["examples_processed"],  # a running total
               finished=time.strftime("%Y-%m-%d"), commit=commit)
    os.makedirs(RECORDS, exist_ok=True)
    with open(os.path.join(RECORDS, name + ".json"), "w") as f:
        json.dump(rec, f, indent=1)
        f.write("\n")


def load():
    runs = []
    for file in sorted(os.listdir(RECORDS)) if os.path.isdir(RECORDS) else []:
        run = parse(file[:-5]) if file.endswith(".json") else None
        if run:
            with open(os.path.join(RECORDS, file)) as f:
                run.update(json.load(f))
            runs.append(run)
    return runs


def unfinished(acc_dir, recorded):
    base = os.path.join(acc_dir, "runs")
    names = sorted(os.listdir(base)) if os.path.isdir(base) else []
    return [(n, len(metrics(acc_dir, n))) for n in names
            if parse(n) and n not in recorded and not os.path.exists(os.path.join(base, n, "done"))]


def final(r):
    return 100 * r["final_test_accuracy"]


def summary(values):
    if not values:
        return "", ""
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return mean, sd


def fmt(v, spec="{:.2f}"):
    return "" if v == "" or v != v else spec.format(v)


def config_key(r):
    return (r["model"], r["scheme"], r["sparsity"], r["remove"])


def tables(runs, epochs, pending):
    lines = []
    done = [r for r in runs if r["epochs"] == epochs]
    for model in sorted({r["model"] for r in done}):
        rows = sorted({config_key(r) for r in done if r["model"] == model and not r["remove"]},
                      key=lambda k: (SCHEMES.index(k[1]), k[2]))
        dense = [final(r) for r in done
                 if config_key(r) == (model, "dense", 0.0, False)]
        dense_mean = statistics.mean(dense) if dense else None
        lines += [f"### {model}, {epochs} epochs", "",
                  "| scheme | sparsity | seeds | test accuracy % (mean) | sd | vs dense (points) "
                  "| per seed | wall time per run | peak RSS MiB |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for key in rows:
            rs = [r for r in done if config_key(r) == key]
            acc = [final(r) for r in rs]
            mean, sd = summary(acc)
            diff = "" if dense_mean is None or key[1] == "dense" else f"{mean - dense_mean:+.2f}"
            secs = statistics.mean(r["wall_seconds"] for r in rs)
            rss = max(r["peak_rss_mb"] for r in rs)
            seeds = ", ".join(f"{a:.2f} ({r['seed']})" for a, r in zip(acc, rs))
            lines.append(f"| {key[1]} | {key[2]:.2f} | {len(rs)} | {fmt(mean)} | {fmt(sd)} | "
                         f"{diff} | {seeds} | {secs / 60:.1f} min | {rss:.0f} |")
        lines.append("")
    removal = [r for r in done if r["remove"]]
    if removal:
        lines += ["### Two-phase data efficiency", "",
                  "| run | examples processed | of the full run | time | accuracy % | full run's | change |",
                  "|---|---|---|---|---|---|---|"]
        for r in removal:
            full = next((f for f in done if not f["remove"] and f["seed"] == r["seed"]
                         and (f["model"], f["scheme"], f["sparsity"]) ==
                         (r["model"], r["scheme"], r["sparsity"])), None)
            seen, secs, acc = r["examples_processed"], r["wall_seconds"], final(r)
            if full:
                fseen, fsecs, facc = full["examples_processed"], full["wall_seconds"], final(full)
                lines.append(f"| {r['name']} | {seen} | {seen / fseen:.3f} | {secs / 60:.1f} min "
                             f"({secs / fsecs:.3f}) | {acc:.2f} | {facc:.2f} | {acc - facc:+.2f} |")
            else:
                lines.append(f"| {r['name']} | {seen} | | {secs / 60:.1f} min | {acc:.2f} | | |")
        lines.append("")
    if pending:
        lines += ["Runs not finished (not in the tables): " +
                  ", ".join(f"{n} ({k} of {epochs} epochs)" for n, k in pending), ""]
    return lines


def plot(runs, model, epochs, path):
    """Test accuracy against epoch, the seed mean of each configuration."""
    curves = {}
    for r in runs:
        if r["model"] != model or r["remove"] or len(r.get("test_accuracy", [])) != epochs:
            continue
        curves.setdefault((r["scheme"], r["sparsity"]), []).append(
            [100 * a for a in r["test_accuracy"]])
    if not curves:
        return False
    w, h, left, bottom, top, right = 720, 420, 60, 50, 30, 170
    ys = [v for c in curves.values() for run in c for v in run[epochs // 4:]]
    lo, hi = min(ys) - 0.5, max(ys) + 0.3
    sx = lambda e: left + (w - left - right) * e / max(1, epochs - 1)
    sy = lambda a: top + (h - top - bottom) * (hi - max(lo, min(hi, a))) / (hi - lo)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2 - 60}" y="18" font-size="14">{model}: test accuracy (seed mean)</text>']
    tick = 0.5 if hi - lo < 6 else 1.0
    a = tick * int(lo / tick + 1)
    while a < hi:
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{sy(a):.1f}" y2="{sy(a):.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 40}" y="{sy(a) + 4:.1f}">{a:.1f}</text>')
        a += tick
    for e in range(0, epochs + 1, max(1, epochs // 8)):
        x = sx(min(e, epochs - 1))
        out.append(f'<text x="{x - 6:.1f}" y="{h - bottom + 18}">{e}</text>')
    out.append(f'<text x="{(w - right) / 2}" y="{h - 10}">epoch</text>')
    for i, ((scheme, sp), cs) in enumerate(sorted(curves.items(), key=lambda kv: (SCHEMES.index(kv[0][0]), kv[0][1]))):
        mean = [statistics.mean(run[e] for run in cs) for e in range(epochs)]
        dash = "" if sp in (0.0, 0.9) else ' stroke-dasharray="5,3"' if sp == 0.95 else ' stroke-dasharray="2,2"'
        pts = " ".join(f"{sx(e):.1f},{sy(v):.1f}" for e, v in enumerate(mean))
        out.append(f'<polyline fill="none" stroke="{COLOURS[scheme]}" stroke-width="1.5"{dash} points="{pts}"/>')
        label = scheme if scheme == "dense" else f"{scheme} {sp:.2f}"
        y = top + 16 * i
        out.append(f'<line x1="{w - right + 10}" x2="{w - right + 30}" y1="{y}" y2="{y}" stroke="{COLOURS[scheme]}" stroke-width="2"{dash}/>'
                   f'<text x="{w - right + 35}" y="{y + 4}">{label} (n={len(cs)})</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return True


HEADER = """# Accuracy at length

Test accuracy on Fashion-MNIST (60,000 training images, the 10,000 test images, no
augmentation) of the sparse schemes trained with MEST+EM&S, against dense training of the
same network by the same training binary. Every figure is the final epoch's test accuracy
(not the best epoch's), mean and sample standard deviation over the seeds listed.

- Networks: ResNet-20 (16/32/64 channels) and the MEST paper's ResNet-32 at width 32
  (32/64/128), both with only the 3x3 convolutions sparse (stem, 1x1 shortcuts and
  classifier dense), input 1x28x28, batch 64.
- Training: the binaries' defaults (SGD lr 0.1 cosine, momentum 0.9, weight decay 1e-4;
  mutation `auto`, i.e. EM&S where the compiled capacity holds it, every epochs x 5/160
  epochs, decayed at epochs x 90/160 and x 120/160), storage capacity the target minus
  0.05 (0.85 for 0.90), which EM&S needs.
- Wall time is the sum of the epochs' times (training and evaluation) as the run measured
  them; the runs are long and were made beside other work on the 2-core VM, so read the
  times as a rough cost, not a benchmark (`make bench` has the step times). Peak RSS is
  the training process's.

Reproduce: `make accuracy` (scripts/accuracy.sh: builds each model with `mest-model` and
`mestc --emit exe`, runs it, resumes unfinished runs; `MEST_ACC_LIST=1` lists the runs,
`MEST_ACC_ONLY`, `MEST_ACC_SEEDS`, `MEST_ACC_EPOCHS`, `MEST_ACC_THREADS` select them), then
this page is regenerated by scripts/accuracy-report.py from the records of the finished
runs in docs/accuracy/runs/ (one JSON file per run: per-epoch test accuracy, wall time,
peak RSS, examples processed, the commit it was built from). A run with a record is not
run again; delete its record to repeat it.

## Results
"""


def main():
    if sys.argv[1] == "--record":
        return record(sys.argv[2], sys.argv[3])
    acc_dir, epochs = sys.argv[1], int(sys.argv[2])
    runs = load()
    body = tables(runs, epochs, unfinished(acc_dir, {r["name"] for r in runs}))
    os.makedirs(os.path.join(ROOT, "docs", "accuracy"), exist_ok=True)
    plots = []
    for model in sorted({r["model"] for r in runs}):
        rel = f"accuracy/{model}-test-accuracy.svg"
        if plot(runs, model, epochs, os.path.join(ROOT, "docs", rel)):
            plots.append(f"![{model} test accuracy against epoch]({rel})")
    text = HEADER + "\n" + "\n".join(body) + "\n" + ("\n\n".join(plots) + "\n" if plots else "")
    with open(os.path.join(ROOT, "docs", "accuracy.md"), "w") as f:
        f.write(text)
    print("\n".join(body))


if __name__ == "__main__":
    main()

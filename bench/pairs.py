#!/usr/bin/python3
"""Training steps in interleaved pairs: for every benchmark model, --pairs times
in turn, mest's step (a bench-resnet32* or bench-mobilenet_v2* binary, its own
process) then PyTorch's
dense step of the same network, batch and threads (channels_last, in this
process, model built once). Each pair's ratio is PyTorch's median / mest's
median of that pair, so a slow window of the VM, which lasts seconds to minutes,
slows both sides of a pair. SparseProp (bench/sparseprop, when its venv exists)
is paired with PyTorch the same way. Writes one JSON line per run to OUT, each
mest or SparseProp line carrying "pair" and "torch_ms".

Usage: pairs.py BUILD_DIR OUT [--pairs 5] [--threads N] [--sparseprop PYTHON]
                [--models GLOB]   (e.g. 'bench-resnet32-*-90' to re-measure a few)
report.py reads OUT: each ratio is the median of the per-pair ratios, with
their range."""
import argparse
import fnmatch
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch"))
import torch  # noqa: E402
from resnet_step import make_step, time_steps  # noqa: E402


def mest_jobs(build, threads, pattern):
    """(binary, arguments, OMP threads) for every model's step, as bench.sh names them."""
    jobs = []
    bench = os.path.join(build, "bench")
    with open(os.path.join(bench, "models.txt")) as f:  # this configuration's (bench/CMakeLists.txt)
        names = sorted(l.strip() for l in f if l.strip())
    for name in names:
        path = os.path.join(bench, name)
        if not name.startswith(("bench-resnet32", "bench-mobilenet_v2")) or \
                not fnmatch.fnmatch(name, pattern) or \
                not os.access(path, os.X_OK) or not os.path.isfile(path):
            continue
        args = ["step", "--steps", "15", "--warmup", "3",
                "--label", "direct" if name.endswith("-direct") else "auto"]
        parts = name.split("-")
        for storage in ("bf16", "f16"):
            if storage in parts:
                args += ["--storage", storage]
        jobs.append((path, args, threads))
        if threads > 1 and name in ("bench-resnet32-pattern-90", "bench-resnet32-block-90",
                                    "bench-resnet32-pattern-90-b16", "bench-resnet32-block-90-b16"):
            jobs.append((path, args, 1))  # one thread, against PyTorch on one thread
    return jobs


def sparseprop_jobs(python, threads):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sparseprop", "resnet_step.py")
    return [([python, script, "--threads", str(threads), "--sparsity", s, "--steps", "10",
              "--warmup", "2"], threads) for s in ("0.9", "0.98")]


def run_json(cmd, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if r.returncode != 0 or not lines:
        print(f"pairs.py: {' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[-400:]}",
              file=sys.stderr)
        return None
    return json.loads(lines[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("out")
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--torch-steps", type=int, default=10)
    p.add_argument("--sparseprop", help="the SparseProp venv's python")
    p.add_argument("--models", default="*", help="only the bench binaries matching this glob")
    a = p.parse_args()
    jobs = [([b] + args, t) for b, args, t in mest_jobs(a.build, a.threads, a.models)]
    if a.sparseprop:
        jobs += sparseprop_jobs(a.sparseprop, a.threads)
    steps = {}  # (network, batch, width) -> PyTorch's step, built once

    def torch_ms(network, batch, width, threads):
        torch.set_num_threads(threads)
        key = (network, batch, width)
        if key not in steps:
            steps[key] = make_step(batch, width, network=network)
            time_steps(steps[key], 2, 1)
        t = time_steps(steps[key], 1, a.torch_steps)
        return t[len(t) // 2]

    with open(a.out, "a") as out:
        for pair in range(a.pairs):
            print(f"  pair {pair + 1}/{a.pairs}: {len(jobs)} models, each beside PyTorch",
                  flush=True)
            for cmd, threads in jobs:
                r = run_json(cmd, threads)
                if r is None:
                    continue
                r["pair"] = pair
                r["binary"] = ("sparseprop" if r["kind"] == "sparseprop_step"
                               else os.path.basename(cmd[0]))
                r["network"] = ("mobilenet_v2" if r["binary"].startswith("bench-mobilenet_v2")
                                else "resnet32")
                r["torch_ms"] = torch_ms(r["network"], r.get("batch", 64), r.get("width", 16),
                                         threads)
                r["torch_layout"] = "channels_last"
                # mestc --recompute-activations N, named -rN (bench/CMakeLists.txt).
                r["recompute"] = next((int(p[1:]) for p in os.path.basename(cmd[0]).split("-")
                                       if len(p) > 1 and p[0] == "r" and p[1:].isdigit()), 0)
                r["torch"] = torch.__version__
                out.write(json.dumps(r) + "\n")
                out.flush()


if __name__ == "__main__":
    main()

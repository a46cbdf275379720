#!/usr/bin/env bash
# Data-parallel training on this machine (docs/distributed.md, "Measured"):
# ResNet-32 on Fashion-MNIST (1x28x28), dense and every scheme at 90%:
#  - gradient floats each rank all-reduces per step, sparse against dense;
#  - 2 ranks x 1 thread x batch 32 (mpirun, loopback) against 1 process x
#    2 threads x batch 64: step time and the all-reduce's share.
# Writes distributed.jsonl and distributed.md to OUT.
# Usage: bench/distributed/bench-distributed.sh [BUILD_DIR] [OUT] [STEPS]
set -euo pipefail
build=${1:-build}
out=${2:-bench/results/latest}
steps=${3:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun -np 2 --oversubscribe --bind-to none --mca btl self,vader)
run=(--epochs 1 --train-limit $((steps * 64)) --test-limit 64 --mutation none --quiet
     --checkpoint-every 0)
: > "$out/distributed.jsonl"
for scheme in dense unstructured channel block pattern; do
  policy=(--scheme "$scheme" --sparsity 0.9)
  [[ $scheme == dense ]] && policy=(--scheme dense)
  for b in 32 64; do
    "$build/bin/mest-model" --model resnet32 --input 1x28x28 --classes 10 --batch $b \
      "${policy[@]}" -o "$work/$scheme-$b.mlir"
  done
  echo "compiling ResNet-32 $scheme (2 binaries)..." >&2
  "$build/bin/mestc" "$work/$scheme-32.mlir" --data-parallel --emit exe -o "$work/$scheme-dp"
  "$build/bin/mestc" "$work/$scheme-64.mlir" --emit exe -o "$work/$scheme-one"
  "${mpi[@]}" "$work/$scheme-dp" "${run[@]}" --threads 1 --out "$work/$scheme-dp.out" >&2
  "$work/$scheme-one" "${run[@]}" --threads 2 --out "$work/$scheme-one.out" >&2
  /usr/bin/python3 - "$scheme" "$steps" "$work/$scheme-dp.out/metrics.jsonl" \
    "$work/$scheme-one.out/metrics.jsonl" >> "$out/distributed.jsonl" <<'PY'
import json, sys
scheme, steps = sys.argv[1], int(sys.argv[2])
dp = json.loads(open(sys.argv[3]).readline())
one = json.loads(open(sys.argv[4]).readline())
print(json.dumps({
    "scheme": scheme, "steps": steps,
    "allreduce_floats": dp["allreduce_floats_per_step"],
    "dense_floats": dp["dense_floats_per_step"],
    "dp_step_ms": 1000 * dp["train_seconds"] / steps,
    "allreduce_ms": 1000 * dp["allreduce_seconds"] / steps,
    "bn_syncs": dp["bn_sync_calls"] / steps,
    "bn_sync_ms": 1000 * dp["bn_sync_seconds"] / steps,
    "one_step_ms": 1000 * one["train_seconds"] / steps}))
PY
done
/usr/bin/python3 - "$out/distributed.jsonl" > "$out/distributed.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
dense = next(r for r in rows if r["scheme"] == "dense")["allreduce_floats"]
print("| ResNet-32 (1x28x28) | gradient floats all-reduced per step | x dense | 2 ranks x 1 thread, batch 32 each: step ms | gradient all-reduce ms (share) | batch-norm sums per step, ms (share) | 1 process x 2 threads, batch 64: step ms | 2 ranks / 1 process |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['scheme']}{'' if r['scheme'] == 'dense' else ' 0.90'} | {r['allreduce_floats']} | "
          f"{r['allreduce_floats'] / dense:.3f} | {r['dp_step_ms']:.1f} | {r['allreduce_ms']:.2f} "
          f"({100 * r['allreduce_ms'] / r['dp_step_ms']:.1f}%) | {r['bn_syncs']:.0f}, "
          f"{r['bn_sync_ms']:.2f} ({100 * r['bn_sync_ms'] / r['dp_step_ms']:.1f}%) | "
          f"{r['one_step_ms']:.1f} | "
          f"{r['dp_step_ms'] / r['one_step_ms']:.2f} |")
PY

echo >> "$out/distributed.md"
/usr/bin/python3 "$(dirname "$0")/scaling.py" "$out/distributed.jsonl" >> "$out/distributed.md"
cat "$out/distributed.md"

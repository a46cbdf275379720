#!/usr/bin/env bash
# The benchmark instrument (make bench): mest's generated kernels and training
# steps (ResNet-32, batch 64, every scheme at 80/90/95/98% and dense; at 90% also
# with 16-bit activation storage, at batch 16 and 32, and on one thread), oneDNN
# dense kernels and the PyTorch dense training step (the same batches and
# threads), data-parallel training over MPI (bench/distributed), all in this one
# invocation on this machine. Writes JSON lines, bench.json,
# bench.md and PNG plots to bench/results/latest (or $MEST_BENCH_OUT).
# Usage: scripts/bench.sh [BUILD_DIR]   (MEST_BENCH_THREADS, default: all cores)
set -euo pipefail
build=${1:-build}
threads=${MEST_BENCH_THREADS:-$(nproc)}
out=${MEST_BENCH_OUT:-bench/results/latest}
mkdir -p "$out" && rm -f "$out"/*.jsonl
# Reconfigure: the baselines' packages may have been installed (make bench runs
# scripts/install-deps.sh --bench first) after this tree was configured.
cmake "$build" > /dev/null
echo "building the benchmark models (first time: a few minutes)..."
cmake --build "$build" --target mest-bench -- -j "$(nproc)"
missing=()
[ -x "$build/bench/bench-onednn" ] || missing+=("oneDNN (libdnnl-dev)")
/usr/bin/python3 -c "import torch" 2>/dev/null || missing+=("PyTorch (python3-torch)")
if [ ${#missing[@]} -gt 0 ]; then
  printf '\n*** mest bench: NO BASELINE for %s: its columns stay empty. ***\n' "${missing[*]}" >&2
  printf '*** Install with scripts/install-deps.sh --bench, then run make bench again. ***\n\n' >&2
fi
export OMP_NUM_THREADS=$threads
# The step's labels from a model's name: --label (kernels) and --storage.
step_args() {
  args=(--label auto)
  [[ $1 == *-direct ]] && args=(--label direct)
  [[ $1 == *-bf16 ]] && args+=(--storage bf16)
  [[ $1 == *-f16 ]] && args+=(--storage f16)
  return 0
}
# One thread: pattern and block at 90%, against PyTorch on one thread.
one_thread() {
  for m in pattern block; do
    OMP_NUM_THREADS=1 "$build/bench/bench-resnet32-$m-90" step --steps 10 --warmup 2 >> "$out/mest-steps.jsonl"
  done
}
for b in "$build"/bench/bench-resnet32-*; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  name=$(basename "$b")
  echo "== $name"
  if [[ $name == *-direct ]]; then
    # Compiled with --conv-kernels direct: kernels and step, for the kernel choice.
    "$b" kernels --reps 10 --label direct >> "$out/mest-kernels.jsonl"
    "$b" step --steps 20 --warmup 3 --label direct >> "$out/mest-steps.jsonl"
    continue
  fi
  if [[ $name == *-b16 || $name == *-b32 || $name == *f16 ]]; then
    # Other batches and compact storage: the step only.
    step_args "$name"
    "$b" step --steps 20 --warmup 3 "${args[@]}" >> "$out/mest-steps.jsonl"
    continue
  fi
  "$b" kernels --reps 10 >> "$out/mest-kernels.jsonl"
  "$b" step --steps 20 --warmup 3 >> "$out/mest-steps.jsonl"
  "$b" mutation >> "$out/mest-mutation.jsonl"
done
echo "== Halide"
"$build/bench/bench-halide" 20 >> "$out/halide.jsonl"
if [ -x "$build/bench/bench-onednn" ]; then
  echo "== oneDNN"
  "$build/bench/bench-onednn" 20 >> "$out/onednn.jsonl"
fi
torch_steps() {
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    for layout in nchw channels_last; do
      /usr/bin/python3 bench/torch/resnet_step.py --threads "$threads" --layout $layout >> "$out/torch.jsonl"
    done
    # The batches small devices use, and one thread (its faster layout, channels_last).
    for batch in 16 32; do
      /usr/bin/python3 bench/torch/resnet_step.py --threads "$threads" --batch $batch \
        --layout channels_last >> "$out/torch.jsonl"
    done
    /usr/bin/python3 bench/torch/resnet_step.py --threads 1 --steps 10 --layout channels_last \
      >> "$out/torch.jsonl"
  else
    echo "python3-torch is missing (scripts/install-deps.sh --bench installs it): no PyTorch baseline"
  fi
}
echo "== one thread"
one_thread
echo "== PyTorch"
torch_steps
# A second round of training steps, mest's and PyTorch's, minutes after the
# first: report.py keeps each model's faster round (shared VMs have slow windows).
echo "== second round of training steps"
for b in "$build"/bench/bench-resnet32-*; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  step_args "$(basename "$b")"
  "$b" step --steps 20 --warmup 3 "${args[@]}" >> "$out/mest-steps.jsonl"
done
one_thread
torch_steps
/usr/bin/python3 bench/report.py "$out"
# Data-parallel training (docs/distributed.md): gradient bytes per step and
# 2 ranks x 1 thread against 1 process x 2 threads, when OpenMPI is installed.
if command -v mpirun > /dev/null; then
  echo "== data-parallel (mpirun -np 2, loopback)"
  bench/distributed/bench-distributed.sh "$build" "$out"
else
  echo "mpirun is missing (scripts/install-deps.sh installs openmpi-bin): no data-parallel bench"
fi

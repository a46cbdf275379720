#!/usr/bin/env bash
# The benchmark instrument (make bench): mest's generated kernels and training
# steps (ResNet-32, batch 64, every scheme at 80/90/95/98% and dense; at 90% also
# with 16-bit activation storage, at batch 16 and 32, on one thread, and at the
# MEST paper's width 32), MobileNetV2 at 90% unstructured, oneDNN and Halide
# dense kernels, the machine's FMA
# peak, the PyTorch dense training step and SparseProp's sparse one, and
# data-parallel training over MPI (bench/distributed), all in this one
# invocation on this machine. Training steps run in interleaved pairs with
# PyTorch's (bench/pairs.py). Writes JSON lines, bench.json, bench.md and PNG
# plots to bench/results/latest (or $MEST_BENCH_OUT).
# Usage: scripts/bench.sh [BUILD_DIR]
#   MEST_BENCH_THREADS (default: all cores), MEST_BENCH_PAIRS (default 5),
#   MEST_SPARSEPROP_PYTHON (default /opt/mest/sparseprop-venv/bin/python)
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
sparseprop_python=${MEST_SPARSEPROP_PYTHON:-/opt/mest/sparseprop-venv/bin/python}
missing=()
[ -x "$build/bench/bench-onednn" ] || missing+=("oneDNN (libdnnl-dev)")
/usr/bin/python3 -c "import torch" 2>/dev/null || missing+=("PyTorch (python3-torch)")
sp=()
if [ -x "$sparseprop_python" ] && "$sparseprop_python" -c "import sparseprop" 2>/dev/null; then
  sp=(--sparseprop "$sparseprop_python")
else
  missing+=("SparseProp ($sparseprop_python)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  printf '\n*** mest bench: NO BASELINE for %s: its columns stay empty. ***\n' "${missing[*]}" >&2
  printf '*** Install with scripts/install-deps.sh --bench, then run make bench again. ***\n\n' >&2
fi
export OMP_NUM_THREADS=$threads
# Kernels and mutation, each model on its own (the step is timed in pairs below).
for name in $(cat "$build/bench/models.txt"); do
  b=$build/bench/$name
  # Other batches and compact storage: the step only.
  # MobileNetV2: the step only (the kernel table is of the ResNet-32's shapes).
  [[ $name =~ -b[0-9]+$ || $name == *f16* || $name =~ -r[0-9]+ || $name == bench-mobilenet* ]] &&
    continue
  echo "== $name: kernels"
  if [[ $name == *-direct ]]; then
    "$b" kernels --reps 10 --label direct >> "$out/mest-kernels.jsonl"
    continue
  fi
  "$b" kernels --reps 10 >> "$out/mest-kernels.jsonl"
  "$b" mutation >> "$out/mest-mutation.jsonl"
done
echo "== the machine's f32 peak"
"$build/bench/bench-peak" >> "$out/peak.jsonl"
OMP_NUM_THREADS=1 "$build/bench/bench-peak" >> "$out/peak.jsonl"
echo "== Halide"
"$build/bench/bench-halide" 20 >> "$out/halide.jsonl"
if [ -x "$build/bench/bench-onednn" ]; then
  echo "== oneDNN"
  "$build/bench/bench-onednn" 20 >> "$out/onednn.jsonl"
fi
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  # PyTorch's peak memory, one process per configuration, and its two layouts.
  echo "== PyTorch: peak memory and layouts"
  torch_step=bench/torch/resnet_step.py
  /usr/bin/python3 $torch_step --threads "$threads" --steps 10 >> "$out/torch.jsonl"
  /usr/bin/python3 $torch_step --threads "$threads" --steps 10 --width 32 --layout channels_last \
    >> "$out/torch.jsonl"
  if /usr/bin/python3 -c "import torchvision" 2>/dev/null; then
    /usr/bin/python3 $torch_step --threads "$threads" --steps 10 --network mobilenet_v2 \
      --layout channels_last >> "$out/torch.jsonl"
  fi
  for batch in 16 32 128 256; do
    /usr/bin/python3 $torch_step --threads "$threads" --steps 10 --batch $batch \
      --layout channels_last >> "$out/torch.jsonl"
  done
  # Every model's step beside PyTorch's, in interleaved pairs (bench/pairs.py).
  echo "== training steps: ${MEST_BENCH_PAIRS:-5} interleaved pairs of mest (or SparseProp) and PyTorch"
  /usr/bin/python3 bench/pairs.py "$build" "$out/steps.jsonl" --threads "$threads" \
    --pairs "${MEST_BENCH_PAIRS:-5}" "${sp[@]}"
else
  echo "python3-torch is missing (scripts/install-deps.sh --bench installs it): no PyTorch baseline"
  for name in $(cat "$build/bench/models.txt"); do
    "$build/bench/$name" step --steps 15 --warmup 3 >> "$out/steps.jsonl"
  done
fi
/usr/bin/python3 bench/report.py "$out"
# Data-parallel training (docs/distributed.md): gradient bytes per step and
# 2 ranks x 1 thread against 1 process x 2 threads, when OpenMPI is installed.
if command -v mpirun > /dev/null; then
  echo "== data-parallel (mpirun -np 2, loopback)"
  bench/distributed/bench-distributed.sh "$build" "$out"
else
  echo "mpirun is missing (scripts/install-deps.sh installs openmpi-bin): no data-parallel bench"
fi

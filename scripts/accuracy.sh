#!/usr/bin/env bash
# The accuracy table at length (docs/accuracy.md), run by `make accuracy`: each
# scheme at 90% (and unstructured/block at 95% and 98%) with MEST+EM&S on
# Fashion-MNIST, ResNet-20 and the MEST paper's ResNet-32 at width 32, several
# seeds, plus the two-phase data efficiency. Hours of work: every run checkpoints
# each epoch, and running the script again resumes unfinished runs and skips
# finished ones, so it can be stopped (Ctrl-C, or SIGSTOP/SIGCONT around a
# benchmark) and continued at any time. A finished run is summarised into
# docs/accuracy/runs/NAME.json, the record to commit (a run with a record is not
# repeated); the report is rewritten from the records after every run.
#
# The binaries are the shipped tools' output: mest-model writes the model,
# `mestc --emit exe` links its training binary.
#
# Usage: scripts/accuracy.sh BUILD_DIR
#   MEST_ACC_EPOCHS   epochs per run (default 40)
#   MEST_ACC_SEEDS    seeds (default "914 915 916")
#   MEST_ACC_THREADS  OpenMP threads per run (default: all cores)
#   MEST_ACC_ONLY     a grep -E pattern: only the runs whose name matches
#   MEST_ACC_DIR      where runs and binaries go (default BUILD_DIR/accuracy)
#   MEST_ACC_LIST=1   print the run names in order and exit
set -euo pipefail
build=${1:-build}
epochs=${MEST_ACC_EPOCHS:-40}
seeds=${MEST_ACC_SEEDS:-914 915 916}
threads=${MEST_ACC_THREADS:-$(nproc)}
only=${MEST_ACC_ONLY:-.}
dir=${MEST_ACC_DIR:-$build/accuracy}
root=$(cd "$(dirname "$0")/.." && pwd)

# One run per line: NAME MODEL SCHEME SPARSITY SEED [TRAINING OPTIONS...]
# in the order that gives a complete first table soonest: one seed of every
# scheme, then the other seeds, then the sparsity sweep, data efficiency and
# the wider network.
runs() {
  local seed first=1
  for seed in $seeds; do
    for s in dense unstructured block pattern channel; do
      sp=0.9; [ $s = dense ] && sp=0
      echo "resnet20-$s-${sp#0.}-s$seed resnet20 $s $sp $seed"
    done
    if [ $first = 1 ]; then
      # Two-phase data efficiency: phase 1 counts forgetting events, 24% of the
      # examples (the least forgotten) are dropped at a fifth of the run.
      echo "resnet20-pattern-9-remove-s$seed resnet20 pattern 0.9 $seed" \
           "--remove-epoch $((epochs / 5)) --remove 0.24"
      first=0
    fi
  done
  for seed in $seeds; do
    for s in unstructured block; do
      for sp in 0.95 0.98; do echo "resnet20-$s-${sp#0.}-s$seed resnet20 $s $sp $seed"; done
    done
  done
  for seed in $seeds; do
    for s in dense unstructured block pattern channel; do
      sp=0.9; [ $s = dense ] && sp=0
      echo "resnet32w32-$s-${sp#0.}-s$seed resnet32w32 $s $sp $seed"
    done
  done
}

if [ "${MEST_ACC_LIST:-0}" = 1 ]; then runs | grep -E -- "$only" | cut -d' ' -f1; exit 0; fi

# The training binary of MODEL at SCHEME/SPARSITY, built once.
binary() {
  local model=$1 scheme=$2 sp=$3 bin="$dir/bin/$1-$2-$3"
  if [ ! -x "$bin" ]; then
    mkdir -p "$dir/bin"
    local net=$model width=16
    [ "$model" = resnet32w32 ] && net=resnet32 width=32
    local policy=(--scheme "$scheme")
    # EM&S grows 5 points above the target before pruning back: the storage
    # holds the target minus 0.05 (0.85 for 0.90).
    [ "$scheme" != dense ] &&
      policy+=(--sparsity "$sp" --capacity "$(awk "BEGIN { print $sp - 0.05 }")")
    "$build/bin/mest-model" --model "$net" --width "$width" --batch 64 --input 1x28x28 \
      --classes 10 "${policy[@]}" --name "$net" -o "$bin.mlir" >&2
    echo "== compiling $bin" >&2
    "$build/bin/mestc" "$bin.mlir" --emit exe -o "$bin" >&2
  fi
  echo "$bin"
}

mkdir -p "$dir/runs"
runs | grep -E -- "$only" | while read -r name model scheme sp seed opts; do
  out="$dir/runs/$name"
  if [ -f "$root/docs/accuracy/runs/$name.json" ]; then continue; fi
  bin=$(binary "$model" "$scheme" "$sp")
  resume=()
  [ -f "$out/checkpoint.mest" ] && resume=(--resume)
  echo "== $name: $epochs epochs${resume:+ (resuming)}"
  # shellcheck disable=SC2086
  "$bin" --epochs "$epochs" --seed "$seed" --threads "$threads" --out "$out" --quiet \
    --checkpoint-every 1 "${resume[@]}" $opts > "$out.log" 2>&1 < /dev/null ||
    { echo "$name failed: see $out.log" >&2; tail -5 "$out.log" >&2; exit 1; }
  mkdir -p "$out" && mv "$out.log" "$out/log.txt" && touch "$out/done"
  python3 "$root/scripts/accuracy-report.py" --record "$dir" "$name"
  python3 "$root/scripts/accuracy-report.py" "$dir" "$epochs" > /dev/null
done
python3 "$root/scripts/accuracy-report.py" "$dir" "$epochs"

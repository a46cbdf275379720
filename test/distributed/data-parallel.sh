#!/usr/bin/env bash
# Data-parallel training on loopback (docs/distributed.md). Usage:
#   data-parallel.sh DP_BINARY REF_BINARY WORKDIR
# DP_BINARY: the CNN at batch 16, mestc --data-parallel; REF_BINARY: the same
# CNN at batch 32 in one process (--split-updates, so that both store their
# gradients in the state block and whole states compare).
set -euo pipefail
dp=$1 ref=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Loopback only: shared memory between the two ranks, no network transport.
mpi=(mpirun -np 2 --oversubscribe --bind-to none --mca btl self,vader)
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. 2 ranks x 16 with synchronised batch norm = 1 process x 32, 10 steps"
steps=(--epochs 1 --train-limit 320 --test-limit 64 --mutation none --threads 1 --quiet
       --checkpoint-every 0 --lr 0.05)
"${mpi[@]}" "$dp" "${steps[@]}" --out "$work/dp" > "$work/dp.log" 2>&1 || { cat "$work/dp.log"; fail "mpirun"; }
"$ref" "${steps[@]}" --out "$work/ref" > "$work/ref.log" 2>&1 || { cat "$work/ref.log"; fail "reference"; }
$py "$here/compare-state.py" "$work/ref/model.mest" "$work/dp/model.mest" --rtol 2e-3 --atol 2e-5 \
  || fail "2 ranks differ from one process with the global batch"
grep -q '"replicas": 2' "$work/dp/metrics.jsonl" || fail "no replicas in the metrics"
# The comparison can fail: per-rank batch norm (statistics of 16, not 32) differs.
"${mpi[@]}" "$dp" "${steps[@]}" --sync-bn off --out "$work/local" > "$work/local.log" 2>&1 \
  || { cat "$work/local.log"; fail "mpirun --sync-bn off"; }
$py "$here/compare-state.py" "$work/ref/model.mest" "$work/local/model.mest" --rtol 2e-3 \
  --atol 2e-5 --expect-different || fail "--sync-bn off gave the synchronised result"

echo "== 2. mutation and data removal on 2 ranks: identical models, masks equal to one process's"
# The forgetting records of both ranks' examples are combined every step, so
# both remove the same examples at epoch 3 (else their states would differ).
mut=(--epochs 3 --train-limit 640 --test-limit 64 --mutation mest --mutate-every 1 --threads 1
     --lr 0.05 --remove-epoch 2 --remove 0.25)
"${mpi[@]}" "$dp" "${mut[@]}" --out "$work/mut" --export "$work/mut/model-{rank}.mest" \
  > "$work/mut.log" 2>&1 || { cat "$work/mut.log"; fail "mpirun mutation"; }
events=$(grep -c "mutation (phase" "$work/mut.log" || true)
(( events >= 2 )) || { cat "$work/mut.log"; fail "expected 2 mutation events, saw $events"; }
grep -q "removed 160 of 640 training examples" "$work/mut.log" || { cat "$work/mut.log"; fail "no removal"; }
cmp "$work/mut/model-0.mest" "$work/mut/model-1.mest" || fail "the ranks' models differ"
"$ref" "${mut[@]}" --out "$work/mut-ref" > "$work/mut-ref.log" 2>&1 || fail "reference mutation"
"$dp" --export-onnx "$work/mut.onnx" --model "$work/mut/model-0.mest" > /dev/null
"$ref" --export-onnx "$work/mut-ref.onnx" --model "$work/mut-ref/model.mest" > /dev/null
$py - "$work/mut.onnx" "$work/mut-ref.onnx" <<'PY' || fail "masks differ from one process's"
import sys
import numpy as np
import onnx
from onnx import numpy_helper
a, b = (onnx.load(p) for p in sys.argv[1:3])
wa = {i.name: numpy_helper.to_array(i) for i in a.graph.initializer}
wb = {i.name: numpy_helper.to_array(i) for i in b.graph.initializer}
checked = 0
for name, x in wa.items():
    if x.ndim != 4:
        continue
    if not np.array_equal(x != 0, wb[name] != 0):
        sys.exit(f"{name}: {(x != 0).sum()} vs {(wb[name] != 0).sum()} weights, "
                 f"{((x != 0) != (wb[name] != 0)).sum()} positions differ")
    checked += 1
print(f"masks of {checked} conv layers equal")
PY

echo "== 2b. ranks started with different options (another seed on rank 1) are stopped"
mpmd=(mpirun --oversubscribe --bind-to none --mca btl self,vader)
if "${mpmd[@]}" -np 1 "$dp" "${mut[@]}" --out "$work/disagree" --seed 1 : \
     -np 1 "$dp" "${mut[@]}" --out "$work/disagree" --seed 2 > "$work/disagree.log" 2>&1; then
  fail "ranks with different seeds trained to the end"
fi
grep -q "ranks were started with different options" "$work/disagree.log" \
  || { cat "$work/disagree.log"; fail "the disagreement is not named"; }
[[ ! -s "$work/disagree/metrics.jsonl" && ! -e "$work/disagree/checkpoint.mest" ]] \
  || fail "disagreeing ranks trained"

echo "== 3. a rank killed mid-epoch stops the other; the checkpoint resumes"
long=(--epochs 6 --train-limit 19200 --test-limit 64 --threads 1 --checkpoint-every 1
      --lr 0.05 --out "$work/kill")
"${mpi[@]}" "$dp" "${long[@]}" --quiet > "$work/kill.log" 2>&1 &
job=$!
for _ in $(seq 1 600); do
  [[ -s "$work/kill/checkpoint.mest" ]] && break
  sleep 0.2
done
[[ -s "$work/kill/checkpoint.mest" ]] || { kill $job; fail "no checkpoint after the first epoch"; }
victim=""
for p in $(pgrep -f "$dp" || true); do
  if { tr '\0' '\n' < /proc/$p/environ; } 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1; then
    victim=$p
  fi
done
[[ -n "$victim" ]] || { kill $job; fail "rank 1 not found (the run ended too soon?)"; }
start=$(date +%s)
kill -9 "$victim"
rc=0
wait $job || rc=$?
took=$(( $(date +%s) - start ))
echo "rank 1 (pid $victim) killed: mpirun exited $rc after ${took} s"
[[ $rc -ne 0 ]] || fail "mpirun exited 0 after a rank was killed"
(( took <= 30 )) || fail "the other rank took ${took} s to stop"
grep -q "rank 1" "$work/kill.log" || { cat "$work/kill.log"; fail "the message does not name rank 1"; }
# The resume reads and checks the checkpoint the killed run left.
"${mpi[@]}" "$dp" "${long[@]}" --resume > "$work/resume.log" 2>&1 \
  || { cat "$work/resume.log"; fail "resume after the kill"; }
grep -q "resumed from" "$work/resume.log" || fail "the run did not resume from the checkpoint"
[[ -s "$work/kill/model.mest" ]] || fail "the resumed run exported no model"
# Another number of ranks is refused: every step depends on K.
if "$dp" "${long[@]}" --resume > "$work/other-k.log" 2>&1; then fail "resumed with 1 rank"; fi
grep -q "made with other options" "$work/other-k.log" && grep -q "replicas=2" "$work/other-k.log" \
  || { cat "$work/other-k.log"; fail "the refusal does not say why"; }
echo "PASS"

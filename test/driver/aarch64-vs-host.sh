#!/usr/bin/env bash
# The aarch64 training binary, run under emulation, trains like the host's: a
# short run (a few hundred Fashion-MNIST images, 2 epochs, EM&S mutation) gives
# the host's per-epoch losses within float tolerance, and a run killed after
# its first checkpoint resumes to a bit-identical model.
# Usage: aarch64-vs-host.sh HOST_BINARY TARGET_BINARY WORK_DIR EMULATOR [ARGS...]
set -euo pipefail
host=$1 target=$2 work=$3
shift 3
emulator=("$@")
rm -rf "$work" && mkdir -p "$work"
common=(--train-limit 320 --test-limit 64 --epochs 2 --threads 1 --quiet --mutation ems --seed 7)
"$host" "${common[@]}" --out "$work/host" > /dev/null
"${emulator[@]}" "$target" "${common[@]}" --out "$work/target" > /dev/null

/usr/bin/python3 - "$work/host/metrics.jsonl" "$work/target/metrics.jsonl" <<'PY'
import json, sys
host, target = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
assert len(host) == len(target) == 2, (len(host), len(target))
for h, t in zip(host, target):
    for key in ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "sparsity"):
        a, b = h[key], t[key]
        if abs(a - b) > 1e-3 * max(1.0, abs(a)):
            sys.exit(f"FAIL: epoch {h['epoch']} {key}: host {a}, aarch64 {b}")
    print(f"epoch {h['epoch']}: train loss host {h['train_loss']:.5f} aarch64 {t['train_loss']:.5f}, "
          f"test loss host {h['test_loss']:.5f} aarch64 {t['test_loss']:.5f}")
PY

"${emulator[@]}" "$target" "${common[@]}" --out "$work/killed" > /dev/null &
pid=$!
for _ in $(seq 1 1200); do
  [ -f "$work/killed/checkpoint.mest" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
[ -f "$work/killed/checkpoint.mest" ] || { echo "FAIL: no checkpoint before the kill"; exit 1; }
if [ -f "$work/killed/model.mest" ]; then echo "note: the run finished before the kill"; fi
"${emulator[@]}" "$target" "${common[@]}" --out "$work/killed" --resume > /dev/null
cmp "$work/target/model.mest" "$work/killed/model.mest" || { echo "FAIL: resumed aarch64 run differs"; exit 1; }
echo "aarch64: resumed run is bit-identical; losses equal the host's"

#!/usr/bin/env bash
# Instructions per ResNet-32 training step (batch 64) on aarch64, sparse (each
# scheme at 90%) against dense: the step cannot be timed under emulation, but
# qemu-user counts the guest instructions it executes, deterministically (the
# InsnCount plugin, bench/qemu/InsnCount.c). One step's count is the
# difference between runs of 3 and 1 steps, halved, so setup is excluded.
# Usage: scripts/bench-aarch64.sh [HOST_BUILD_DIR]   (make bench-aarch64)
set -euo pipefail
build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
cross=$build/aarch64-bench
libs=/opt/mest/aarch64-linux-gnu/lib
cmake --build "$build" --target mestc mest-model > /dev/null
cmake -G Ninja -S "$src" -B "$cross" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" \
  -DMEST_HOST_MESTC="$(realpath "$build")/bin/mestc" -DMEST_CROSS_BENCH=ON \
  -DCMAKE_BUILD_TYPE=Release > /dev/null
echo "building the aarch64 benchmark models (a few minutes the first time)..."
cmake --build "$cross" --target bench-resnet32-dense bench-resnet32-unstructured \
  bench-resnet32-channel bench-resnet32-block bench-resnet32-pattern > /dev/null
plugin=$cross/libinsncount.so
clang-19 -O2 -shared -fPIC -fvisibility=hidden "$src/bench/qemu/InsnCount.c" -o "$plugin"
count() {  # instructions of `bench step --steps $2`
  qemu-aarch64 -plugin "$plugin" -d plugin -L /usr/aarch64-linux-gnu \
    -E LD_LIBRARY_PATH=$libs:/usr/lib/aarch64-linux-gnu -E OMP_NUM_THREADS=1 \
    "$1" step --steps "$2" --warmup 0 2>&1 >/dev/null | sed -n 's/^insns: //p'
}
printf '| model | instructions per step | x fewer than dense |\n|---|---|---|\n'
dense=0
for scheme in dense unstructured channel block pattern; do
  bin=$cross/bench/qemu/bench-resnet32-$scheme
  one=$(count "$bin" 1)
  three=$(count "$bin" 3)
  step=$(( (three - one) / 2 ))
  [[ $scheme == dense ]] && dense=$step
  label=$scheme; [[ $scheme == dense ]] || label="$scheme 0.90"
  printf '| %s | %s | %s |\n' "$label" "$step" "$(python3 -c "print(f'{$dense / $step:.2f}')")"
done

#!/usr/bin/env bash
# The installed package from outside the tree: `cmake --install` of this build
# into a temporary prefix, then a project of its own (test/install/outside,
# copied away from mest's sources) with find_package(mest) and
# mest_add_training_binary(), and the installed `mestc --emit exe`; both
# binaries must train exactly as the in-tree one built from the same model
# (same seed, one thread).
# Usage: install-package.sh BUILD_DIR SOURCE_DIR IN_TREE_TRAIN_BINARY
set -euo pipefail
build=$1 src=$2 intree=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
for f in bin/mestc lib/mest/libmest_driver.a lib/cmake/mest/mestConfig.cmake \
         include/mest/runtime/abi/mest_abi.h; do
  [[ -e $tmp/prefix/$f ]] || { echo "FAIL: the install has no $f"; exit 1; }
done
cp -r "$src/test/install/outside" "$tmp/src"
cmake -G Ninja -S "$tmp/src" -B "$tmp/out" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 > "$tmp/configure.log" ||
  { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/out" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
if grep -q "$src\|$build" "$tmp/out/build.ninja"; then
  echo "FAIL: the outside build refers to mest's source or build tree:"
  grep -o "$src[^ ]*\|$build[^ ]*" "$tmp/out/build.ninja" | sort -u | head
  exit 1
fi
"$tmp/out/my-train" --help > "$tmp/help.txt"  # not a pipe: grep -q would end it early
grep -q -- "--epochs" "$tmp/help.txt" || { echo "FAIL: my-train --help"; exit 1; }
args=(--epochs 2 --train-limit 512 --test-limit 256 --threads 1 --seed 5)
"$tmp/out/my-train" "${args[@]}" --out "$tmp/run-out" > "$tmp/out.log"
"$intree" "${args[@]}" --out "$tmp/run-in" > "$tmp/in.log"
without_timings() { sed -E 's/"(epoch_seconds|train_seconds|images_per_second|peak_rss_mb|mutate_ms|regroup_ms)": [0-9.e+-]+//g' "$1"; }
if ! diff <(without_timings "$tmp/run-out/metrics.jsonl") <(without_timings "$tmp/run-in/metrics.jsonl") > "$tmp/diff"; then
  echo "FAIL: the outside binary trains differently from the in-tree one:"; head "$tmp/diff"; exit 1
fi
# The installed mestc's one command to a binary (the installed runtime, found next to it).
"$tmp/prefix/bin/mestc" "$tmp/src/model.mlir" --emit exe -o "$tmp/exe-train"
"$tmp/exe-train" "${args[@]}" --out "$tmp/run-exe" > "$tmp/exe.log"
if ! diff <(without_timings "$tmp/run-exe/metrics.jsonl") <(without_timings "$tmp/run-in/metrics.jsonl") > "$tmp/diff"; then
  echo "FAIL: the binary of the installed mestc --emit exe trains differently:"; head "$tmp/diff"; exit 1
fi
echo "PASS: installed into a prefix, built outside the tree (CMake package and mestc --emit exe), trained as the in-tree binary does"

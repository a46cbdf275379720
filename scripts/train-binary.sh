#!/usr/bin/env bash
# One command from a model to a training binary, for this machine or a board:
#   scripts/train-binary.sh MODEL.mlir -o OUT [--target aarch64-linux-gnu] [MESTC_OPTIONS...]
# Builds mestc (once, in BUILD, default build/), compiles the model with it for
# the target, and links the generated code with the runtime and the training
# driver built for that target (in BUILD/train/<name>-<target>/). OUT runs
# with --help; docs/aarch64.md says what a board needs to run it.
set -euo pipefail
usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
model="" out="" target="" options=()
while [[ $# -gt 0 ]]; do
  case $1 in
    -o) out=${2:?-o needs a file}; shift 2 ;;
    --target) target=${2:?--target needs a triple}; shift 2 ;;
    -h|--help) usage 0 ;;
    # A mestc option; its value may follow as the next word (--activation-storage f16).
    -*) options+=("$1")
        if [[ $1 != *=* && $# -gt 1 && $2 != -* && $2 != *.mlir ]]; then options+=("$2"); shift; fi
        shift ;;
    *) [[ -z $model ]] || { echo "train-binary.sh: one model, got $model and $1" >&2; exit 2; }
       model=$1; shift ;;
  esac
done
[[ -n $model && -n $out ]] || usage
[[ -f $model ]] || { echo "train-binary.sh: $model: no such file" >&2; exit 2; }
case $target in
  ""|aarch64-linux-gnu) ;;
  *) echo "train-binary.sh: --target $target: supported are the host (default) and aarch64-linux-gnu" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src/build}
[[ -f $build/build.ninja ]] || make -C "$src" configure BUILD="$build" > /dev/null
cmake --build "$build" --target mestc > /dev/null
name=$(basename "$model" .mlir)
dir=$build/train/$name-${target:-host}
flags=(-DMEST_TARGET_ONLY=ON -DMEST_HOST_MESTC="$build/bin/mestc"
       -DMEST_USER_MODEL="$(realpath "$model")" -DMEST_USER_BINARY=mest-train
       -DMEST_USER_OPTIONS="${options[*]:-}" -DCMAKE_BUILD_TYPE=Release)
if [[ -n $target ]]; then
  flags+=(-DCMAKE_TOOLCHAIN_FILE="$src/cmake/$target.cmake")
else
  flags+=(-DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19)
fi
echo "mest: building a training binary of $model for ${target:-this machine} in $dir"
cmake -G Ninja -S "$src" -B "$dir" "${flags[@]}" > /dev/null
cmake --build "$dir" --target mest-train > /dev/null
cp "$dir/mest-train" "$out"
echo "mest: wrote $out ($(file -b "$out" | cut -d, -f1-2))"

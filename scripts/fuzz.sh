#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets with ASan + UBSan into build-fuzz/ and
# runs each for FUZZ_SECONDS (default 600), FUZZ_JOBS at a time (default: the
# cores). Working corpora grow in build-fuzz/corpus/NAME, seeded from
# fuzz/corpus/NAME and fuzz/regressions/NAME; a crash leaves its input in
# build-fuzz/artifacts/ and fails the run: copy it into fuzz/regressions/NAME
# (make test then runs it forever after). The report, per target: executions,
# coverage (libFuzzer's cov: edges, ft: features), corpus size, crashes.
# Usage: scripts/fuzz.sh [TARGET...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-600}
jobs=${FUZZ_JOBS:-$(nproc)}
out=build-fuzz
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx cifar options checkpoint stats ir npy)

scripts/install-deps.sh --fuzz
if [ ! -f $out/build.ninja ]; then
  cmake -G Ninja -S . -B $out -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang-19 \
    -DCMAKE_CXX_COMPILER=clang++-19 -DLLVM_USE_LINKER=lld -DMEST_FUZZ=ON -DMEST_SANITIZE=ON \
    -DMEST_NATIVE=OFF > /dev/null
fi
cmake --build $out -j "$(nproc)" --target "${targets[@]/#/mest-fuzz-}"
mkdir -p $out/artifacts $out/logs

run() {
  local t=$1 dir=$out/corpus/$1
  mkdir -p "$dir"
  # allow_user_poisoning=0: LLVM's allocators poison from inline header code that
  # is instrumented here but not in the Debian libraries; mixing the two reports
  # use-after-poison inside MLIR itself (seen on the first input of the ir target).
  ASAN_OPTIONS=detect_leaks=1:allow_user_poisoning=0 "$out/fuzz/mest-fuzz-$t" -max_total_time="$secs" -timeout=30 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
    "$dir" "fuzz/corpus/$t" "fuzz/regressions/$t" > "$out/logs/$t.log" 2>&1
}
echo "fuzzing ${targets[*]} for ${secs} s each, ${jobs} at a time"
pids=() status=0
for t in "${targets[@]}"; do
  run "$t" & pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done

report=$out/fuzz-report.md
{
  echo "| target | seconds | executions | exec/s | cov | ft | corpus | crash |"
  echo "|---|---|---|---|---|---|---|---|"
  for t in "${targets[@]}"; do
    log=$out/logs/$t.log
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    corp=$(ls "$out/corpus/$t" | wc -l)
    crash=$(grep -c -E '^==[0-9]+==ERROR|deadly signal|Test unit written' "$log" || true)
    echo "| $t | $secs | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | $corp | $crash |"
  done
} > "$report"
cat "$report"
ls $out/artifacts/ 2>/dev/null | sed 's/^/artifact: /'
exit $status

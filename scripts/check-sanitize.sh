#!/usr/bin/env bash
# make check-sanitize: the whole test suite built with AddressSanitizer and
# UndefinedBehaviorSanitizer (mest's own code: compiler, runtime, driver, tests;
# the Debian LLVM/MLIR libraries and the code mestc generates are not
# instrumented) in build-sanitize/, then ctest. Not part of make test: the
# instrumented build doubles its time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-sanitize
if [ ! -f $out/build.ninja ]; then
  cmake -G Ninja -S . -B $out -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang-19 \
    -DCMAKE_CXX_COMPILER=clang++-19 -DLLVM_USE_LINKER=lld -DMEST_SANITIZE=ON > /dev/null
fi
# allow_user_poisoning=0: see scripts/fuzz.sh. Exported for the build too:
# mestc (instrumented) compiles the test models during it.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allow_user_poisoning=0
export UBSAN_OPTIONS=print_stacktrace=1
cmake --build $out -j "$(nproc)"
cd $out
ctest --output-on-failure -j "$(nproc)"

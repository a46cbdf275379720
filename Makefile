# The two entry points of mest. Both install missing Debian packages first.
#   make demo   compile an example model and run the main job
#   make test   build everything and run every test through one ctest
#   make bench, make bench-aarch64, make fuzz, make check-sanitize: benchmarks (the host's
#   and instruction counts on aarch64), fuzzing, sanitizer build
#   make accuracy: the accuracy table at length (docs/accuracy.md; hours, resumable)
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo test bench bench-aarch64 accuracy fuzz check-sanitize clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
	  -DLLVM_USE_LINKER=lld -DMEST_WERROR=ON $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@scripts/install-deps.sh --bench
	@scripts/bench.sh $(BUILD)

# Test accuracy of every scheme at length, several seeds; rerun to resume.
accuracy: build
	@scripts/accuracy.sh $(BUILD)

# Instructions per ResNet-32 training step on aarch64, counted under qemu-user.
bench-aarch64: build
	@scripts/bench-aarch64.sh $(BUILD)

# libFuzzer targets under ASan + UBSan, FUZZ_SECONDS each (default 600); not in make test.
fuzz:
	@scripts/fuzz.sh

# The whole suite built with ASan + UBSan (its own build tree).
check-sanitize:
	@scripts/install-deps.sh --fuzz
	@scripts/check-sanitize.sh

clean:
	rm -rf $(BUILD) build-fuzz build-sanitize

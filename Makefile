# Thin wrapper around meson; see README.md.
BUILD ?= build
PORT ?= 8080
MESON_OPTS ?=

# make test also runs the C tests under ASan+UBSan in ASAN_BUILD
# (tools/asan-tests.sh); SANITIZE=0 leaves that out.
SANITIZE ?= 1
ASAN_BUILD ?= build-asan

# make fuzz: each libFuzzer target for FUZZ_RUNS executions (docs/RELIABILITY.md).
FUZZ_RUNS ?= 10000000
FUZZ_BUILD ?= build-fuzz

.PHONY: all deps deps-test deps-bench build run test bench fuzz soak clean format

all: build

deps:
	@tools/install-deps.sh run

deps-test:
	@tools/install-deps.sh test
	@tools/npm-deps.sh

deps-bench:
	@tools/install-deps.sh bench
	@tools/npm-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: deps build
	@echo "voxgate: http://127.0.0.1:$(PORT)/"
	GST_PLUGIN_PATH=$(CURDIR)/$(BUILD)/plugins $(BUILD)/voxgate serve --port $(PORT)

test: deps-test build
	@SANITIZE=$(SANITIZE) ASAN_BUILD=$(ASAN_BUILD) tools/run-tests.sh $(BUILD)

bench: deps-bench build
	@bench/run.sh $(BUILD)

fuzz: deps-test
	@tools/fuzz.sh run $(FUZZ_RUNS) $(FUZZ_BUILD)

# 1 000 join/leave cycles and 200 never-connecting peers against one gateway
# (~15 min on 2 cores), then SOAK_TUTOR_SESSIONS learners talking to
# tutor.pipeline for SOAK_TUTOR_SECONDS (an hour); not in CI. Figures in
# docs/RELIABILITY.md.
SOAK_CYCLES ?= 1000
SOAK_TUTOR_SECONDS ?= 3600
SOAK_TUTOR_SESSIONS ?= 12
soak: deps-test build
	GST_PLUGIN_PATH=$(CURDIR)/$(BUILD)/plugins VOXGATE_BIN=$(CURDIR)/$(BUILD)/voxgate \
	  VOXGATE_SOURCE_DIR=$(CURDIR) CHURN_REPORT=$(CURDIR)/$(BUILD)/soak-report.jsonl \
	  tests/soak/test-churn.sh $(BUILD)/tests/rooms/vg-churn $(SOAK_CYCLES) 200
	bench/soak/tutor-soak.sh $(BUILD) $(SOAK_TUTOR_SECONDS) $(SOAK_TUTOR_SESSIONS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Thin wrapper over CMake. The two commands of the README:
#   make run   install what is missing, build, start tocsin on SQLite in ./data
#   make test  install what is missing, build with ASan+UBSan, run every test
# and make cluster: three nodes on a private PostgreSQL behind nginx
# (scripts/cluster.sh), until Ctrl-C; make deb: the Debian package.
LISTEN ?= 127.0.0.1:8080
DATA   ?= ./data
JOBS   ?= $(shell nproc)

# make fuzz: the libFuzzer targets of fuzz/ (clang), each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := event_standard event_alertmanager template openapi

# The run build (make build, make run): tocsin alone, which needs only the
# packages of `scripts/install-deps.sh run`. BUILD_DIR and CMAKE_ARGS (more
# cmake flags) let scripts run this same build elsewhere: ctest's
# build.run_deps (tests/build/test_run_deps.sh) and bench/.
BUILD_DIR  ?= build
CMAKE_ARGS ?=

# make cluster: nginx's address, and the folder of the nodes' logs, nginx's
# configuration and the PostgreSQL server's record (the nodes listen on
# CLUSTER_NODE_PORTS, default 8081 8082 8083; see scripts/cluster.sh).
CLUSTER_LISTEN ?= 127.0.0.1:8080
CLUSTER_STATE  ?= .cluster

.PHONY: all build run test deps test-deps cluster-deps cluster bench format clean fuzz deb

all: build

deps:
	@scripts/install-deps.sh run

test-deps:
	@scripts/install-deps.sh test

cluster-deps:
	@scripts/install-deps.sh cluster

build:
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOCSIN_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j$(JOBS)

run: deps build
	$(BUILD_DIR)/tocsin serve --listen $(LISTEN) --data $(DATA)

# make deb: tocsin_VERSION_ARCH.deb in this folder (scripts/build-deb.sh: the
# run build in build-deb/, a systemd unit, /etc/tocsin/tocsin.conf, the man
# page; sources in packaging/debian/ and docs/tocsin.1).
deb: deps
	@scripts/build-deb.sh

cluster: cluster-deps build
	@TOCSIN_BIN=$(BUILD_DIR)/tocsin CLUSTER_LISTEN=$(CLUSTER_LISTEN) CLUSTER_STATE=$(CLUSTER_STATE) \
		scripts/cluster.sh

test: test-deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTOCSIN_SANITIZE=ON -DTOCSIN_TESTS=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30
	cd build-asan && ctest --output-on-failure --timeout 900

# Fuzzing runs first in `make test` so that ctest's summary ends the output.
fuzz: test-deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-g -O1" \
		-DTOCSIN_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j$(JOBS) --target fuzz_targets
	@fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: deps build
	bench/ingest.sh

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'fuzz/*.c' 'fuzz/*.h')

clean:
	rm -rf build build-asan build-fuzz build-deb tocsin_*.deb

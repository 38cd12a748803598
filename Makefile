# Thin wrapper over CMake. The two commands of the README:
#   make run   install what is missing, build, start tocsin on SQLite in ./data
#   make test  install what is missing, build with ASan+UBSan, run every test
LISTEN ?= 127.0.0.1:8080
DATA   ?= ./data
JOBS   ?= $(shell nproc)

.PHONY: all build run test deps test-deps bench format clean

all: build

deps:
	@scripts/install-deps.sh run

test-deps:
	@scripts/install-deps.sh test

build:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j$(JOBS)

run: deps build
	./build/tocsin serve --listen $(LISTEN) --data $(DATA)

test: test-deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTOCSIN_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure --timeout 900

bench: deps build
	bench/ingest.sh

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')

clean:
	rm -rf build build-asan

#!/usr/bin/env bash
# fuzz/run.sh: runs the libFuzzer targets for a bounded time (`make fuzz`).
# Usage: fuzz/run.sh BUILD_DIR SECONDS TARGET...
#
# Each target fuzz_<name> (built in BUILD_DIR/fuzz) runs for SECONDS over a
# fresh copy of its committed seeds, fuzz/corpus/<name>/, in
# BUILD_DIR/corpus-<name> (what it finds stays there, never in the repo),
# with fuzz/<name>.dict when there is one; crash inputs go to
# BUILD_DIR/artifacts/. Two run at a time (the machine has 2 cores). Exits
# non-zero when any target found something, after printing its log's end.
set -uo pipefail
cd "$(dirname "$0")/.."
build=$1 seconds=$2
shift 2
mkdir -p "$build/artifacts"

run_one() {
    local name=$1 corpus="$build/corpus-$1" dict=()
    rm -rf "$corpus"
    cp -r "fuzz/corpus/$name" "$corpus"
    [ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
    "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$name-" "${dict[@]}" "$corpus" \
        >"$build/fuzz-$name.log" 2>&1
}

summary() {
    local name=$1 log="$build/fuzz-$1.log"
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    echo "fuzz $name: ${runs:-?} inputs in ${seconds}s, coverage ${cov:-?} edges"
}

failed=0
pending=("$@")
while [ ${#pending[@]} -gt 0 ]; do
    batch=("${pending[@]:0:2}")
    pending=("${pending[@]:2}")
    pids=()
    for name in "${batch[@]}"; do
        run_one "$name" &
        pids+=($!)
    done
    for i in "${!batch[@]}"; do
        name=${batch[$i]}
        if wait "${pids[$i]}"; then
            summary "$name"
        else
            failed=1
            echo "fuzz $name: FOUND A PROBLEM (log: $build/fuzz-$name.log)"
            grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$build/fuzz-$name.log" | head -20
        fi
    done
done
if [ $failed -ne 0 ]; then
    echo "fuzz: a target failed; reproduce with $build/fuzz/fuzz_NAME $build/artifacts/FILE," \
         "fix, and add the input to fuzz/corpus/NAME/crash-WHAT"
    exit 1
fi
echo "fuzz: $# targets ran ${seconds}s each without a finding"

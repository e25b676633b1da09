#!/usr/bin/env bash
# run.sh — run every libFuzzer target in build-fuzz/fuzz/ for a while.
#
#   tests/fuzz/run.sh            ZETL_FUZZ_SECONDS per target (default 60)
#   tests/fuzz/run.sh --short    10 s per target (what `make test` runs)
#
# Each target starts from its seed corpus tests/fuzz/corpus/NAME/ (copied to a
# scratch directory, so new inputs never land in the tree). A crash, leak or
# sanitizer report is a FAIL naming the reproducer; copy it into the corpus and
# add a regression test. Prints PASS/FAIL lines (tests/run.sh counts them).
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${ZETL_FUZZ_SECONDS:-60}
[ "${1:-}" = "--short" ] && secs=10
bindir=${ZETL_FUZZ_BUILD:-build-fuzz}/fuzz

# Always build (incremental): a stale target would fuzz yesterday's code.
if ! out=$(make -s -j"$(nproc 2>/dev/null || echo 2)" fuzz-bins 2>&1); then
    echo "FAIL fuzz: build — expected the fuzz targets to build, saw: $(tail -5 <<<"$out" | tr '\n' ' ')"
    exit 1
fi
keep=${ZETL_FUZZ_ARTIFACTS:-$(mktemp -d /tmp/zetl-fuzz.XXXXXX)}
jobs=${ZETL_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

# fuzz_one BIN: run one target; its PASS/FAIL line goes to $keep/NAME.result.
fuzz_one() {
    local bin=$1 name short scratch log rc runs
    name=$(basename "$bin"); short=${name#fuzz_}
    scratch=$(mktemp -d)
    [ -d "tests/fuzz/corpus/$short" ] && cp -r "tests/fuzz/corpus/$short/." "$scratch/"
    log="$keep/$name.log"
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$keep/$name-" "$scratch" >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    if [ $rc -eq 0 ]; then
        echo "PASS fuzz_$short: ${secs}s, ${runs:-0} inputs, no crash"
    else
        echo "FAIL fuzz_$short: ${secs}s run — expected no crash, saw exit $rc; reproducer and log in $keep ($(grep -m1 -E 'ERROR|SUMMARY' "$log" || true))"
    fi >"$keep/$name.result"
    rm -rf "$scratch"
}

# The targets run $jobs at a time (ZETL_FUZZ_JOBS; each is one process on one core);
# their lines are printed in name order once all have run.
bins=()
for bin in "$bindir"/fuzz_*; do [ -x "$bin" ] && bins+=("$bin"); done
[ ${#bins[@]} -gt 0 ] || { echo "FAIL fuzz: targets — expected at least one fuzz target in $bindir, saw none"; exit 1; }
running=0
for bin in "${bins[@]}"; do
    if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
    fuzz_one "$bin" &
    running=$((running + 1))
done
wait
fails=0
for bin in "${bins[@]}"; do
    res="$keep/$(basename "$bin").result"
    if [ -s "$res" ]; then cat "$res"; else echo "FAIL $(basename "$bin"): run — expected a result line, saw none"; fi
    grep -q '^PASS' "$res" 2>/dev/null || fails=$((fails + 1))
done
[ $fails -eq 0 ] && [ -z "${ZETL_FUZZ_ARTIFACTS:-}" ] && rm -rf "$keep"
exit $((fails > 0))

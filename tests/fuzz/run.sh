#!/usr/bin/env bash
# tests/fuzz/run.sh [BUILD_DIR] [TARGET...] — run the libFuzzer targets of
# tests/fuzz/ (built by scripts/build.sh --fuzz into build-fuzz/) for a
# bounded time each: FUZZ_SECS (default 60) seconds per target, FUZZ_JOBS
# (default 2) targets at a time. Each starts from a temp copy of its seed
# corpus tests/fuzz/corpus/<name>/ (the repo is never modified) with its
# dictionary tests/fuzz/<name>.dict when there is one; -rss_limit_mb=2048,
# -timeout=10 per input. A crash, leak, UB report, hang or OOM fails the run:
# the reproducer's path (kept under $UFS_TEST_DIR/fuzz-artifacts.*) and its
# base64 are printed. Prints per target: executions, cov and ft (libFuzzer's
# coverage counters) and corpus size. Exit status 0 only if every target ran
# clean. scripts/test.sh runs this after its TSan stage.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$ROOT/build-fuzz}
shift $(($# > 0 ? 1 : 0))
secs=${FUZZ_SECS:-60}
jobs=${FUZZ_JOBS:-2}
base=${UFS_TEST_DIR:-/tmp/unifs-test}
mkdir -p "$base"
art=$(mktemp -d "$base/fuzz-artifacts.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/ufs-fuzz-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT

targets=("$@")
if ((${#targets[@]} == 0)); then
	for f in "$ROOT"/tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

# run_one NAME: fuzz one target; its log goes to $work/NAME.log.
run_one()
{
	local t=$1 name=${1#fuzz_} dict=() rc
	mkdir -p "$work/$name" "$art/$name"
	cp -r "$ROOT/tests/fuzz/corpus/$name/." "$work/$name/" 2>/dev/null
	[[ -f $ROOT/tests/fuzz/$name.dict ]] && dict=(-dict="$ROOT/tests/fuzz/$name.dict")
	"$build/$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$art/$name/" "${dict[@]}" "$work/$name" >"$work/$t.log" 2>&1
	rc=$?
	echo "$rc" >"$work/$t.rc"
}

# report NAME: one summary line; on failure the log's tail and the reproducer.
report()
{
	local t=$1 name=${1#fuzz_} rc log=$work/$1.log runs cov ft n
	rc=$(cat "$work/$t.rc" 2>/dev/null || echo 1)
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	n=$(find "$work/$name" -type f | wc -l)
	mapfile -t found < <(find "$art/$name" -type f 2>/dev/null)
	if [[ $rc == 0 && ${#found[@]} == 0 ]]; then
		echo "$t: OK: ${runs:-?} runs in ${secs} s, cov ${cov:-?}, ft ${ft:-?}, corpus $n"
		return 0
	fi
	echo "$t: FAILED (rc=$rc) after ${runs:-?} runs, cov ${cov:-?}"
	grep -E 'ERROR|SUMMARY|runtime error|invariant failed' "$log" | head -8 | sed 's/^/  /'
	for f in "${found[@]}"; do
		echo "  reproducer: $f"
		echo "  base64: $(base64 -w0 "$f")"
		echo "  rerun: $build/$t $f"
	done
	return 1
}

for t in "${targets[@]}"; do
	if [[ ! -x $build/$t ]]; then
		echo "tests/fuzz/run.sh: $build/$t is missing (scripts/build.sh --fuzz)" >&2
		exit 2
	fi
done
echo "fuzzing ${#targets[@]} targets, ${secs} s each, ${jobs} at a time; artifacts in $art"
running=0
for t in "${targets[@]}"; do
	run_one "$t" &
	running=$((running + 1))
	if ((running >= jobs)); then
		wait -n
		running=$((running - 1))
	fi
done
wait
failed=0
for t in "${targets[@]}"; do report "$t" || failed=$((failed + 1)); done
((failed == 0)) && rmdir "$art"/* "$art" 2>/dev/null
echo "fuzz: $((${#targets[@]} - failed)) clean, $failed failed"
((failed == 0))

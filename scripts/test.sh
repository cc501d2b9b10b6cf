#!/usr/bin/env bash
# scripts/test.sh — THE test command (README and CI call it). Runs, in order:
#   1. scripts/setup.sh                      (deps; fast when already installed)
#   2. scripts/build.sh                      (build/, -Werror)
#   3. clang-format --dry-run --Werror       over *.c/*.h in fs cache protocols
#                                            migrate mount-helpers common tests
#   4. tests/servers/all.sh start            (real NFS, S3, Azurite on loopback)
#   5. ctest --test-dir build
#   5b. scripts/package_demo.sh              (.deb built, installed, demo run
#                                            against the installed binaries)
#   6. scripts/build.sh --asan + ctest --test-dir build-asan (ASan+UBSan)
#   7. scripts/build.sh --tsan + ctest --test-dir build-tsan (ThreadSanitizer,
#      only the cache, fs and upload unit tests: TSAN_TESTS in build.sh)
#   8. scripts/build.sh --fuzz + tests/fuzz/run.sh (libFuzzer targets, clang,
#      ASan+UBSan: each runs FUZZ_SECS, default 60, seconds from its seed
#      corpus, two at a time; a crash prints its reproducer and base64)
# Every stage runs even if an earlier independent one failed; exit status is
# non-zero if anything failed; the last line is "N passed, N failed, N
# skipped" (each ctest test counts once, each non-ctest stage counts once; a
# test that exits 77, ctest's SKIP_RETURN_CODE, is skipped: neither passed
# nor failed).
# Servers started here are stopped at exit; servers that were already up
# (someone else's run on this machine) are left alone. UFS_KEEP_SERVERS=1
# keeps them up in any case.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=tests/cloud_safety.sh
source "$ROOT/tests/cloud_safety.sh" # no credential lookup leaves loopback
export UFS_TEST_DIR=${UFS_TEST_DIR:-/tmp/unifs-test}

passed=0 failed=0 skipped=0 failures=()
t_start=$SECONDS

stage()
{
	echo
	echo "==== $* ===="
}

# record NAME RC: count a non-ctest stage.
record()
{
	if [[ $2 == 0 ]]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$1")
	fi
}

# run_ctest DIR [env...]: run ctest in DIR (extra ctest arguments from the
# array ctest_args), add its counts. ctest's summary line counts a skipped
# test among the passed ones; the "(Skipped)" lines of its "did not run" list
# are taken out of them.
ctest_args=()
run_ctest()
{
	local dir=$1 log rc p f s total
	shift
	log=$(mktemp)
	env "$@" ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "${ctest_args[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if read -r f total < <(sed -nE 's/.*tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1 \2/p' "$log" | tail -1); then
		s=$(sed -n '/^The following tests did not run:/,/^$/p' "$log" | grep -c ' (Skipped)$')
		p=$((total - f - s))
		passed=$((passed + p))
		skipped=$((skipped + s))
		failed=$((failed + f))
		((f == 0)) || failures+=("ctest $dir: $f failed")
		if ((rc != 0 && f == 0)); then record "ctest $dir (rc=$rc)" 1; fi
	else
		record "ctest $dir (no tests ran, rc=$rc)" 1
	fi
	rm -f "$log"
}

servers_started=0
cleanup()
{
	if ((servers_started)) && [[ ${UFS_KEEP_SERVERS:-0} != 1 ]]; then
		tests/servers/all.sh stop >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stage "setup"
scripts/setup.sh
rc=$?
record setup $rc
if ((rc != 0)); then
	echo "setup failed; cannot continue"
	echo "$passed passed, $failed failed, $skipped skipped"
	exit 1
fi

stage "build (build/, -Werror)"
scripts/build.sh
build_rc=$?
record build $build_rc

stage "clang-format"
mapfile -d '' srcs < <(find fs cache protocols migrate mount-helpers common tests \
	-name node_modules -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null)
if ((${#srcs[@]})); then
	clang-format --dry-run --Werror "${srcs[@]}"
	rc=$?
	((rc == 0)) && echo "clang-format: ${#srcs[@]} files clean"
else
	rc=0
fi
record clang-format $rc

stage "test servers"
tests/servers/all.sh status >/dev/null 2>&1 || servers_started=1
tests/servers/all.sh start
srv_rc=$?
record servers $srv_rc

if ((build_rc == 0)); then
	stage "ctest build/"
	run_ctest build
else
	echo "skipping ctest build/: build failed"
fi

if ((build_rc == 0 && srv_rc == 0)); then
	stage "package (cpack -G DEB, apt-get install, demo against /usr/bin/unifs)"
	scripts/package_demo.sh
	record package-demo $?
else
	echo "skipping the package stage: build or servers failed"
fi

stage "build (build-asan/, ASan+UBSan)"
scripts/build.sh --asan
asan_rc=$?
record build-asan $asan_rc
if ((asan_rc == 0)); then
	stage "ctest build-asan/"
	run_ctest build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi

stage "build (build-tsan/, ThreadSanitizer: cache, fs, upload unit tests)"
scripts/build.sh --tsan
tsan_rc=$?
record build-tsan $tsan_rc
if ((tsan_rc == 0)); then
	stage "ctest build-tsan/"
	tsan_list=$(sed -nE 's/^TSAN_TESTS=\((.*)\)$/\1/p' scripts/build.sh)
	ctest_args=(-R "^unit/(${tsan_list// /|})\$") # per-test timeout 1500 s (CMakeLists.txt)
	run_ctest build-tsan TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
	ctest_args=()
fi

stage "build (build-fuzz/, libFuzzer targets)"
scripts/build.sh --fuzz
fuzz_rc=$?
record build-fuzz $fuzz_rc
if ((fuzz_rc == 0)); then
	stage "fuzz (tests/fuzz/run.sh: ${FUZZ_SECS:-60} s per target)"
	tests/fuzz/run.sh build-fuzz
	record fuzz $?
fi

echo
echo "==== summary ($((SECONDS - t_start)) s) ===="
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))

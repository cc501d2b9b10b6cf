#!/usr/bin/env bash
# scripts/build.sh [--asan|--tsan|--fuzz] — configure and build unifs with
# warnings as errors: into build/ (default), build-asan/ with ASan+UBSan
# (-DUFS_SANITIZE=ON), build-tsan/ with ThreadSanitizer (-DUFS_TSAN=ON; only
# the unit tests of the threaded modules: TSAN_TESTS below) or build-fuzz/
# with clang (-DUFS_FUZZ=ON; only the libFuzzer targets tests/fuzz/fuzz_*.c).
# Extra arguments after the flags go to cmake configure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
dir=$ROOT/build
opts=(-DUFS_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
targets=()
# The pool, cache, fs and upload unit tests (scripts/test.sh runs them under TSan).
TSAN_TESTS=(test_budget test_pool test_cache test_cache_bufpool test_cache_disk test_cache_ra test_meta test_inode test_namespace test_upload test_ratelimit)
if [[ ${1:-} == --asan ]]; then
	dir=$ROOT/build-asan
	opts=(-DUFS_WERROR=ON -DUFS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
	shift
elif [[ ${1:-} == --tsan ]]; then
	dir=$ROOT/build-tsan
	opts=(-DUFS_WERROR=ON -DUFS_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
	for t in "${TSAN_TESTS[@]}"; do targets+=(--target "$t"); done
	shift
elif [[ ${1:-} == --fuzz ]]; then
	dir=$ROOT/build-fuzz
	opts=(-DUFS_WERROR=ON -DUFS_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo)
	for f in "$ROOT"/tests/fuzz/fuzz_*.c; do targets+=(--target "$(basename "$f" .c)"); done
	shift
fi
cmake -S "$ROOT" -B "$dir" "${opts[@]}" "$@"
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"

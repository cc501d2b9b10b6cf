#!/usr/bin/env bash
# scripts/build.sh [--asan] — configure and build unifs with warnings as
# errors: into build/ (default) or build-asan/ with ASan+UBSan
# (-DUFS_SANITIZE=ON). Extra arguments after the flags go to cmake configure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
dir=$ROOT/build
opts=(-DUFS_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [[ ${1:-} == --asan ]]; then
	dir=$ROOT/build-asan
	opts=(-DUFS_WERROR=ON -DUFS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
	shift
fi
cmake -S "$ROOT" -B "$dir" "${opts[@]}" "$@"
cmake --build "$dir" -j "$(nproc)"

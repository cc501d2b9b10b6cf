#!/usr/bin/env bash
# bench_rmrf.sh — `rm -rf` of BENCH_FILES files (default 100000, in
# BENCH_DIRS directories, default 100) through a file:// mount, after
# `find -ls` has looked every one up (so the inode table and the metadata
# cache hold them all: the case where a removal that scans them is
# quadratic). Also times `find -ls` over the tree. Prints seconds; with
# BENCH_BASE_BIN=/path/to/old/unifs the same on that binary (before/after).
# Not a pass/fail test.
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench rmrf"

files=${BENCH_FILES:-100000}
ndirs=${BENCH_DIRS:-100}
now() { date +%s.%N; }
secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f", e - s }'; }

# make_tree DIR: ndirs directories, files spread over them (empty files)
make_tree()
{
	python3 - "$1" "$files" "$ndirs" <<'PYEOF'
import os, sys
root, files, ndirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(ndirs):
    os.makedirs(f"{root}/d{d}", exist_ok=True)
for k in range(files):
    open(f"{root}/d{k % ndirs}/f{k}", "w").close()
PYEOF
}

# run BIN LABEL: mount BIN on a fresh tree, find -ls, rm -rf; prints a line
run()
{
	local bin=$1 label=$2 src=$UFS_WORK/src-$2 mnt=$UFS_WORK/mnt-$2 t0 t1 t2 n
	mkdir -p "$src/tree"
	make_tree "$src/tree"
	ufs_config "$UFS_WORK/$label.conf" <<EOF
[global]
memory = 256M

[mount "/f"]
url = file://$src
EOF
	UFS_BIN=$bin ufs_mount "$UFS_WORK/$label.conf" "$mnt"
	t0=$(now)
	n=$(find "$mnt/f/tree" -ls | wc -l)
	t1=$(now)
	rm -rf "$mnt/f/tree" || echo "rm -rf failed" >&2
	t2=$(now)
	[[ -e $src/tree ]] && echo "$label: tree still there after rm -rf" >&2
	printf '%-8s %7d entries  find -ls %7s s  rm -rf %8s s\n' "$label" "$n" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")"
	UFS_BIN=$bin ufs_umount "$mnt"
	rm -rf "$src"
}

echo "rm -rf of $files files in $ndirs directories through file:// (after find -ls)"
[[ -n ${BENCH_BASE_BIN:-} ]] && run "$BENCH_BASE_BIN" before
run "$UFS_BIN" after
ufs_pass

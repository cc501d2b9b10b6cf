#!/usr/bin/env bash
# tests/integration/test_migrate_slurm.sh — the Slurm path for real: a
# one-node Slurm (tests/servers/slurm.sh: slurm-wlm + munge on loopback)
# runs `sbatch --array=0-3 --wait examples/slurm-migrate.sbatch NFS S3`;
# each task copies its shard, the shards are disjoint and non-empty, and
# `unifs check` finds the union complete. Resubmitting one task redoes
# nothing (its journal; SHARDS=4 names the shard count).
source "$(dirname "$0")/lib.sh"
ufs_begin migrate_slurm
command -v jq >/dev/null || fail "jq not installed"
"$UFS_SERVERS/slurm.sh" start >&2 || fail "slurm could not start"
source "$UFS_TEST_DIR/slurm/env"
export AWS_ENDPOINT_URL=$UFS_S3_ENDPOINT

nfs_name=$(ufs_uniq migrate-slurm)
tree=$UFS_NFS_EXPORT_DIR/$nfs_name
mkdir -p "$tree/a/b" "$tree/c" "$tree/empty"
on_exit "rm -rf '$tree'"
for i in $(seq 1 80); do head -c $((i * 1500)) /dev/urandom >"$tree/$([[ $((i % 3)) == 0 ]] && echo a/b || echo c)/f $i"; done
head -c 30000000 /dev/urandom >"$tree/large.bin"
bkt=$(ufs_uniq migrate-slurm)
s3_mkbucket "$bkt"
src=$UFS_NFS_URL/$nfs_name
dst=s3://$bkt/copy

export UNIFS=$UFS_BIN JOURNAL_DIR=$UFS_WORK
within 600 sbatch --array=0-3 --wait --output="$UFS_WORK/task-%a.out" --error="$UFS_WORK/task-%a.err" \
	"$UFS_SRC/examples/slurm-migrate.sbatch" "$src" "$dst" --transfers 4 >"$UFS_WORK/sbatch.out" 2>&1 ||
	fail "sbatch --wait failed: $(cat "$UFS_WORK/sbatch.out" "$UFS_WORK"/task-*.out 2>/dev/null | tail -5)"
total=0
for k in 0 1 2 3; do
	out=$UFS_WORK/task-$k.out
	n=$(jq -r .copied "$out" 2>/dev/null) || fail "task $k: no JSON summary: $(tail -3 "$out")"
	assert_eq 0 "$(jq -r .failed "$out")" "task $k failures"
	((n > 0)) || fail "task $k copied nothing"
	total=$((total + n))
done
assert_eq 81 "$total" "files copied by the 4 tasks together"
within 300 "$UFS_BIN" check "$src" "$dst" >"$UFS_WORK/check.out" 2>&1 ||
	fail "unifs check after the array: $(cat "$UFS_WORK/check.out")"

# resubmit one task: its journal says everything is done
SHARDS=4 within 300 sbatch --array=2 --wait --output="$UFS_WORK/again-%a.out" --error="$UFS_WORK/again-%a.err" \
	"$UFS_SRC/examples/slurm-migrate.sbatch" "$src" "$dst" >/dev/null 2>&1 || fail "resubmitted task failed"
assert_eq "0 $(jq -r .copied "$UFS_WORK/task-2.out")" "$(jq -r '"\(.copied) \(.skipped)"' "$UFS_WORK/again-2.out")" \
	"resubmitted task 2: copied / skipped"
ufs_pass

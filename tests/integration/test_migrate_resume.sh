#!/usr/bin/env bash
# tests/integration/test_migrate_resume.sh — unifs cp survives crashes:
#  1. kill -9 in the middle of a large file -> NFS copy with --journal; the
#     same command again finishes from the last journaled part (it says
#     where it resumed: exactly the durable offset), the result verifies and
#     a third run copies nothing;
#  2. the S3 server dies mid-copy (its fault proxy is killed): cp exits 1
#     naming failed files with the server's message; once the server is back
#     the same command finishes what is left and check finds no difference.
# UFS_MIGRATE_RESUME_MB sets the large file's size (default 1024).
source "$(dirname "$0")/lib.sh"
ufs_begin migrate_resume
command -v jq >/dev/null || fail "jq not installed"
size_mb=${UFS_MIGRATE_RESUME_MB:-1024}

# jcount KIND FILE: journal records of KIND ("P" parts, "D" done files).
jcount()
{
	local n
	n=$(grep -c "^$1 " "$2" 2>/dev/null)
	echo "${n:-0}"
}

# --- 1. kill -9 mid-file, file -> nfs -----------------------------------------------
nfs_name=$(ufs_uniq migrate-resume)
mkdir -p "$UFS_NFS_EXPORT_DIR/$nfs_name"
on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$nfs_name'"
head -c $((size_mb << 20)) /dev/urandom >"$UFS_WORK/large.bin"
journal=$UFS_WORK/large.journal
dst=$UFS_NFS_URL/$nfs_name/large.bin
cmd=("$UFS_BIN" cp --journal "$journal" --json-lines "file://$UFS_WORK/large.bin" "$dst")

"${cmd[@]}" >"$UFS_WORK/run1.out" 2>"$UFS_WORK/run1.err" &
pid=$!
on_exit "kill -9 $pid"
# wait until at least two parts are durable (or a third of the file)
for _ in $(seq 600); do
	(($(jcount P "$journal") >= 2)) && break
	kill -0 "$pid" 2>/dev/null || fail "cp finished before it could be killed (make the file larger)"
	sleep 0.1
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
durable=$(awk '$1 == "P" {o = $3} END {print o + 0}' "$journal")
((durable > 0 && durable < size_mb << 20)) || fail "no part journaled before kill -9 (durable=$durable)"

within 600 "${cmd[@]}" >"$UFS_WORK/run2.out" 2>"$UFS_WORK/run2.err" ||
	fail "rerun after kill -9: $(cat "$UFS_WORK/run2.err" "$UFS_WORK/run2.out" | head -c 600)"
assert_eq "resumed at byte $durable" "$(jq -r .reason "$UFS_WORK/run2.out")" "where the rerun resumed"
assert_file_eq "$UFS_WORK/large.bin" "$UFS_NFS_EXPORT_DIR/$nfs_name/large.bin"
within 600 "${cmd[@]}" >"$UFS_WORK/run3.out" 2>"$UFS_WORK/run3.err" || fail "third run: $(cat "$UFS_WORK/run3.err")"
assert_eq "skipped journal" "$(jq -r '.action + " " + .reason' "$UFS_WORK/run3.out")" \
	"third run (stderr: $(head -c 300 "$UFS_WORK/run3.err"))"
rm -f "$UFS_WORK/large.bin"

# --- 2. the server dies mid-copy, comes back -----------------------------------------
bkt=$(ufs_uniq migrate-resume)
s3_mkbucket "$bkt"
port=$((20000 + RANDOM % 20000))
ppid_file=$UFS_WORK/proxy.pid
proxy_start() { s3_proxy_start "$port" "$ppid_file"; }
proxy_stop() { s3_proxy_stop "$ppid_file"; }
on_exit proxy_stop
proxy_start
mkdir -p "$UFS_WORK/many"
n_many=120
for i in $(seq 1 "$n_many"); do head -c 65536 /dev/urandom >"$UFS_WORK/many/f$i"; done
journal=$UFS_WORK/many.journal
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
cmd=("$UFS_BIN" cp -r --transfers 2 --journal "$journal" "file://$UFS_WORK/many" "s3://$bkt/many")
"${cmd[@]}" >"$UFS_WORK/s1.out" 2>"$UFS_WORK/s1.err" &
pid=$!
for _ in $(seq 300); do
	(($(jcount D "$journal") >= 20)) && break
	sleep 0.05
done
proxy_stop
wait "$pid"
assert_eq 1 $? "exit status when the server died mid-copy ($(head -3 "$UFS_WORK/s1.err"))"
grep -Eq '^unifs: cp: f[0-9]+: .*(refused|down|reach)' "$UFS_WORK/s1.err" ||
	fail "failed files not named with the reason: $(head -3 "$UFS_WORK/s1.err")"
done1=$(jcount D "$journal")
((done1 >= 20 && done1 < n_many)) || fail "expected a partial first run, journal has $done1 files"
proxy_start
within 300 "${cmd[@]}" --json >"$UFS_WORK/s2.out" 2>"$UFS_WORK/s2.err" || fail "rerun after the server came back: $(cat "$UFS_WORK/s2.err")"
assert_eq "$done1 $((n_many - done1))" "$(jq -r '"\(.skipped) \(.copied)"' "$UFS_WORK/s2.out")" "rerun: journaled skipped, rest copied"
within 300 "$UFS_BIN" check "file://$UFS_WORK/many" "s3://$bkt/many" >"$UFS_WORK/c.out" 2>&1 ||
	fail "check after resume: $(cat "$UFS_WORK/c.out")"
ufs_pass

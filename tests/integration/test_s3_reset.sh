#!/usr/bin/env bash
# test_s3_reset.sh — one connection reset mid-body does not take the backend
# down. An S3 mount through this test's fault proxy (faultproxy_s3.py); two
# readers stream two files at once while the proxy resets one GET half-way
# through its body (RST); then the same again on a fresh mount (new daemon,
# no cached blocks). In each round:
#   - both readers get every byte right (the reset read is retried on a
#     fresh connection) and neither sees an error (no EHOSTDOWN)
#   - the proxy did reset exactly one more connection (its reset counter)
#     and has no reset left pending
# After the second round `unifs stats` of the new daemon counts the retry
# and shows the backend up.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "s3 reset"

bkt=$(ufs_uniq s3reset)
s3_mkbucket "$bkt"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
proxy_url=http://127.0.0.1:$port
ppid_file=$UFS_WORK/proxy.pid
fault() { curl -sf -X POST "$proxy_url/__fault?$1" -o /dev/null || fail "fault proxy: $1"; }
# assert_resets N WHEN: the proxy has reset N connections in all, none pending
assert_resets()
{
	local got
	got=$(curl -sf "$proxy_url/__fault" |
		python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["stats"]["rst"], j["rst_count"])') ||
		fail "fault proxy: cannot read its counters"
	assert_eq "$1 0" "$got" "$2: connections reset by the proxy, resets still pending"
}
on_exit "s3_proxy_stop '$ppid_file'"
s3_proxy_start "$port" "$ppid_file"

for f in a b; do
	head -c $((24 << 20)) /dev/urandom >"$UFS_WORK/$f.bin"
	s3_put "$bkt/$f.bin" "$UFS_WORK/$f.bin"
done

mnt=$UFS_WORK/mnt
ufs_config "$UFS_WORK/unifs.conf" <<EOF
[global]
memory     = 64M
op_timeout = 20
retry_down = 30

[mount "/s3"]
url        = s3://$bkt/
endpoint   = $proxy_url
path_style = true
EOF
ufs_mount "$UFS_WORK/unifs.conf" "$mnt"

# read_both: both files at once; each reader's sha256 against its source
read_both()
{
	local f pids=() rc=0
	for f in a b; do
		(sha256sum <"$mnt/s3/$f.bin" | cut -d' ' -f1 >"$UFS_WORK/$f.got") 2>"$UFS_WORK/$f.err" &
		pids+=($!)
	done
	for f in "${pids[@]}"; do wait "$f" || rc=1; done
	for f in a b; do
		[[ -s $UFS_WORK/$f.err ]] && fail "reader of $f.bin: $(cat "$UFS_WORK/$f.err")"
		assert_eq "$(cat "$UFS_WORK/$f.got")" "$(sha256sum <"$UFS_WORK/$f.bin" | cut -d' ' -f1)"
	done
	return $rc
}

fault "rst=1&count=1"
read_both || fail "a reader failed after one reset"
assert_resets 1 "first round"

# a second round: a new daemon (no cached blocks, no page cache reuse) and
# one more reset
"$UFS_BIN" umount "$mnt" && ufs_mount "$UFS_WORK/unifs.conf" "$mnt"
fault "rst=1&count=1"
read_both || fail "a reader failed after the second reset"
assert_resets 2 "second round"

stats=$("$UFS_BIN" stats --json "$mnt")
python3 - "$stats" <<'PY' || fail "unifs stats after the resets: $stats"
import json, sys
j = json.loads(sys.argv[1])
be = j["backends"][0]
retries = be["retries"]
assert retries >= 1, f"retries {retries}"
assert be["state"] == "up", f"state {be['state']}"
print(f"  retries {retries}, state {be['state']}")
PY
ufs_pass

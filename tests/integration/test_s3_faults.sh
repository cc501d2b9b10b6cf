#!/usr/bin/env bash
# test_s3_faults.sh — S3 failure modes through a real mount. The S3 mount
# talks to s3rver through this test's own fault proxy (faultproxy_s3.py:
# faultproxy.py with HEAD lengths kept), which
# also plays "the server going away" (killing the shared s3rver would hurt
# other tests): the proxy is killed mid-read and restarted.
#   - missing bucket: the mount fails and names the bucket
#   - wrong credentials: an access key s3rver does not know -> 403
#     InvalidAccessKeyId -> the mount fails with "access denied" naming the
#     mount (s3rver checks the key id, not the SigV4 signature)
#   - 404 -> ENOENT; 503 for a while -> the read succeeds, retries counted
#     in `unifs stats`; truncated bodies -> EIO, never short data
#   - object replaced mid-read -> ESTALE
#   - server gone during a read -> error within bounded time, a file:// mount
#     of the same namespace unaffected, recovery when the server returns
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "s3 faults"

bkt=$(ufs_uniq s3faults)
s3_mkbucket "$bkt"
port=$((20000 + RANDOM % 20000))
proxy_url=http://127.0.0.1:$port
ppid_file=$UFS_WORK/proxy.pid

proxy_start() { s3_proxy_start "$port" "$ppid_file"; }
proxy_stop() { s3_proxy_stop "$ppid_file"; }
fault() { curl -sf -X POST "$proxy_url/__fault?$1" -o /dev/null || fail "fault proxy: $1"; }
on_exit proxy_stop
proxy_start

mkdir -p "$UFS_WORK/local"
echo "local data" >"$UFS_WORK/local/l.txt"
seed() { head -c "$2" /dev/urandom >"$UFS_WORK/$1" && s3_put "$bkt/$1" "$UFS_WORK/$1"; }
seed small.bin 100000
seed retry.bin 3000000
seed trunc.bin 3000000
seed stale.bin $((64 << 20))
seed gone.bin $((64 << 20))

s3section() # NAME URL [extra lines]
{
	printf '[mount "%s"]\nurl = %s\nendpoint = %s\npath_style = true\n%s\n' "$1" "$2" "$proxy_url" "${3:-}"
}

# --- missing bucket / wrong credentials: the mount fails with a reason ---
mkdir -p "$UFS_WORK/m0"
ufs_config "$UFS_WORK/nobkt.conf" <<<"$(s3section /ckpt "s3://no-such-bucket-$$/")"
out=$("$UFS_BIN" mount "$UFS_WORK/nobkt.conf" "$UFS_WORK/m0" 2>&1) && fail "mount of a missing bucket succeeded"
[[ $out == *"no-such-bucket-$$"* && $out == *"does not exist"* ]] || fail "missing bucket message: $out"
ufs_config "$UFS_WORK/badkey.conf" <<<"$(s3section /ckpt "s3://$bkt/")"
out=$(AWS_ACCESS_KEY_ID=NOT-A-KEY "$UFS_BIN" mount "$UFS_WORK/badkey.conf" "$UFS_WORK/m0" 2>&1) &&
	fail "mount with an unknown access key succeeded"
[[ $out == *"/ckpt"* && $out == *"access denied"* ]] || fail "wrong credentials message: $out"

# --- the real mount: s3 through the proxy + a local subtree ---
mnt=$UFS_WORK/mnt
ufs_config "$UFS_WORK/unifs.conf" <<EOF
[global]
op_timeout = 5
retry_down = 1
$(s3section /s3 "s3://$bkt/")
[mount "/local"]
url = file://$UFS_WORK/local
EOF
ufs_mount "$UFS_WORK/unifs.conf" "$mnt"

# 404 -> ENOENT
err=$(cat "$mnt/s3/nope" 2>&1 || true)
[[ $err == *"No such file or directory"* ]] || fail "missing object: '$err'"

# 503 three times, then the read succeeds; retries show in unifs stats
assert_ok test -f "$mnt/s3/retry.bin"
fault "status=503&count=3"
assert_file_eq "$UFS_WORK/retry.bin" "$mnt/s3/retry.bin"
retries=$("$UFS_BIN" stats --json "$mnt" | python3 -c '
import json, sys
d = json.load(sys.stdin)
def walk(o):
    if isinstance(o, dict):
        if "retries" in o and isinstance(o["retries"], int):
            yield o["retries"]
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
print(sum(walk(d)))')
((retries >= 3)) || fail "unifs stats counts $retries retries after three 503s"

# truncated bodies -> EIO, not short data
assert_ok test -f "$mnt/s3/trunc.bin"
fault "truncate=1&count=-1"
err=$(cat "$mnt/s3/trunc.bin" 2>&1 >/dev/null || true)
fault "reset=1"
[[ $err == *"Input/output error"* ]] || fail "truncated body: '$err' (want EIO)"

# object replaced mid-read -> ESTALE
python3 - "$mnt/s3/stale.bin" "$UFS_SERVERS/s3curl.sh" "/$bkt/stale.bin" "$UFS_WORK/new.bin" <<'PY' ||
import errno, os, subprocess, sys
path, s3curl, key, new = sys.argv[1:5]
fd = os.open(path, os.O_RDONLY)
assert len(os.pread(fd, 1 << 20, 0)) == 1 << 20
with open(new, "wb") as f:
    f.write(os.urandom(64 << 20))
subprocess.run([s3curl, "PUT", key, "--data-binary", "@" + new, "-o", "/dev/null"], check=True)
try:
    os.pread(fd, 1 << 20, 60 << 20)
except OSError as e:
    sys.exit(0 if e.errno == errno.ESTALE else f"read after replace: {e} (want ESTALE)")
sys.exit("read after the object was replaced returned data (want ESTALE)")
PY
	fail "object replaced mid-read was not detected"

# server gone during a read: bounded error, local subtree fine, recovery
assert_ok test -f "$mnt/s3/gone.bin"
python3 - "$mnt/s3/gone.bin" "$ppid_file" <<'PY' >"$UFS_WORK/gone.out" 2>&1 &
import os, signal, sys, time
path, pidf = sys.argv[1:3]
fd = os.open(path, os.O_RDONLY)
os.pread(fd, 1 << 20, 0)
os.kill(int(open(pidf).read()), signal.SIGKILL)
t = time.monotonic()
try:
    off = 1 << 20
    while off < (64 << 20):
        n = len(os.pread(fd, 1 << 20, off))
        off += n
        if n == 0:
            break
    print("no error")
except OSError as e:
    print(f"error {e.errno} after {time.monotonic() - t:.1f}s")
PY
reader=$!
for _ in $(seq 900); do
	kill -0 "$reader" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$reader" 2>/dev/null && { kill "$reader"; fail "read with the server gone still hangs after 90 s"; }
wait "$reader" || true
out=$(cat "$UFS_WORK/gone.out")
[[ $out == error* ]] || fail "read with the server gone: $out"
echo "server gone during a read: $out" >&2
secs=$(awk '{print $NF}' <<<"$out" | tr -d s)
awk -v s="$secs" 'BEGIN { exit !(s < 60) }' || fail "error took ${secs}s (bound 60 s)"
assert_eq "local data" "$(within 10 cat "$mnt/local/l.txt")" "local subtree while S3 is down"
proxy_start
sleep 2
ok=0
for _ in $(seq 20); do
	cmp -s "$UFS_WORK/gone.bin" "$mnt/s3/gone.bin" && ok=1 && break
	sleep 1
done
((ok)) || fail "S3 subtree did not recover after the server returned"

ufs_pass

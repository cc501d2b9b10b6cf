#!/usr/bin/env bash
# test_direct_basic.sh — the direct path (libunifs) through a real mount of
# S3 (s3rver) and NFS (ganesha): direct reads equal the source (cold and
# warm), a checkpoint written with ufs_write batches is the object curl sees
# once the handle is deregistered (commit), a read-only fd gives a
# read-only handle (EBADF on write), closing the fd revokes the handle, the
# Python binding (python/unifs, numpy + torch) works, `unifs stats` counts
# it all, and a daemon that goes away fails an attached client with
# ENOTCONN instead of hanging it. (Forged tokens, other uids, bad ranges,
# full rings and dying clients: tests/unit/test_direct.c.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "direct basic"

probe=${UFS_BUILD:-$UFS_SRC/build}/direct_probe
[[ -x $probe ]] || fail "direct_probe not built: $probe"
export UFS_SRC UNIFS_LIB=${UFS_BUILD:-$UFS_SRC/build}/libunifs.so
ufs_direct_python
"$py" -c 'import numpy, torch' 2>/dev/null || fail "python3-numpy/python3-torch missing (scripts/setup.sh)"

bkt=$(ufs_uniq direct)
s3_mkbucket "$bkt"
nfsdir=direct-$$-$RANDOM
mkdir -p "$UFS_NFS_EXPORT_DIR/$nfsdir"
on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$nfsdir'"
mnt=$UFS_WORK/mnt
cfg=$UFS_WORK/direct.conf
ufs_config "$cfg" <<EOF
[global]
memory = 768M
part_size = 8M

[mount "/s3"]
url        = s3://$bkt/d/
endpoint   = $UFS_S3_ENDPOINT
path_style = true

[mount "/nfs"]
url = $UFS_NFS_URL/$nfsdir
EOF
ufs_mount "$cfg" "$mnt"

# --- reads: S3 cold and warm, NFS ---
src=$UFS_WORK/src.bin
head -c $((40 << 20)) /dev/urandom >"$src"
head -c 777 /dev/urandom >>"$src"
s3_put "$bkt/d/src.bin" "$src"
cp "$src" "$UFS_NFS_EXPORT_DIR/$nfsdir/src.bin"
for f in s3/src.bin s3/src.bin nfs/src.bin; do
	out=$UFS_WORK/out.bin
	within 120 "$probe" read "$mnt/$f" "$out" >/dev/null || fail "direct read of $f failed"
	assert_file_eq "$src" "$out"
done

# --- checkpoint save: ufs_write batches, object visible after commit ---
ck=$UFS_WORK/ck.bin
head -c $((50 << 20)) /dev/urandom >"$ck"
within 120 "$probe" write "$mnt/s3/ck.bin" "$ck" $((5 << 20)) >/dev/null || fail "direct write failed"
s3_get "$bkt/d/ck.bin" "$UFS_WORK/ck.curl" || fail "ck.bin is not on the server after commit"
assert_file_eq "$ck" "$UFS_WORK/ck.curl"
within 60 "$probe" write "$mnt/nfs/ck.bin" "$ck" >/dev/null || fail "direct write to nfs failed"
assert_file_eq "$ck" "$UFS_NFS_EXPORT_DIR/$nfsdir/ck.bin"

# --- open mode and revocation ---
assert_eq EBADF "$("$probe" rowrite "$mnt/s3/src.bin")" "write on a read-only handle"
assert_eq EBADF "$(within 30 "$probe" revoke "$mnt/s3/src.bin")" "read after close(fd)"
assert_eq ENOTTY "$("$py" -c '
import ctypes, os, sys
lib = ctypes.CDLL(os.environ["UNIFS_LIB"]); lib.ufs_driver_open()
fd = os.open(sys.argv[1], os.O_RDONLY); h = ctypes.c_void_p()
rc = lib.ufs_handle_register(fd, ctypes.byref(h))
print("ENOTTY" if rc == -25 else rc)' "$src")" "register of a file outside unifs"

# --- Python binding ---
within 300 "$py" "$UFS_SRC/tests/integration/direct_py_test.py" "$mnt/s3" "$mnt" ||
	fail "python binding test failed"
within 300 "$py" "$UFS_SRC/tests/integration/direct_py_test.py" "$mnt/nfs" "$mnt" ||
	fail "python binding test on nfs failed"

# --- counters ---
stats=$("$UFS_BIN" stats --json "$mnt")
python3 - "$stats" <<'PY' || fail "direct counters wrong: $stats"
import json, sys
d = json.loads(sys.argv[1])["direct"]
assert d["sessions"] >= 5 and d["entries"] > 10, d
assert d["bytes_read"] >= 3 * (40 << 20) and d["bytes_written"] >= 100 << 20, d
assert d["errors"] >= 2 and d["prefetch_files"] >= 1, d
PY

# --- the daemon goes away while a client is attached: error, not hang ---
coproc HOLD { exec "$probe" hold "$mnt/s3/src.bin"; }
read -r -t 30 line <&"${HOLD[0]}" || fail "hold did not start"
assert_eq "ready OK" "$line" "first read of hold"
pid=$(pgrep -f -- "mount $cfg $mnt" | head -1)
[[ -n $pid ]] || fail "daemon pid not found"
kill -TERM "$pid"
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
echo go >&"${HOLD[1]}"
read -r -t 30 line <&"${HOLD[0]}" || fail "read after the daemon left hung (or printed nothing)"
assert_eq ENOTCONN "$line" "read after the daemon left"
ufs_pass

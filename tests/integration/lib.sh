# shellcheck shell=bash
# tests/integration/lib.sh — shared helpers for tests/integration/test_*.sh.
#
# Usage, at the top of a test:
#   source "$(dirname "$0")/lib.sh"      # starts servers if needed, sources env
#   ufs_begin "nfs basic read"           # names the test, makes $UFS_WORK
#   ... ufs_mount "$cfg" "$mnt"; assert_file_eq ...
#   ufs_pass                             # prints PASS: name, exit 0
# A test that cannot run here calls `ufs_skip why` (exit 77: skipped).
# Any failing assertion prints `FAIL: name: why` and exits 1; cleanups
# registered with `on_exit CMD...` run in reverse order whatever happens
# (mounts made with ufs_mount are unmounted automatically).
#
# Environment: UFS_BIN (default $UFS_SRC/build/unifs), UFS_SRC (repo root),
# UFS_TEST_DIR (server state dir, default /tmp/unifs-test), plus everything
# from $UFS_TEST_DIR/env (UFS_NFS_URL, UFS_NFS4_URL, UFS_NFS_EXPORT_DIR,
# UFS_S3_ENDPOINT, UFS_AZ_ENDPOINT, UFS_AZ_ACCOUNT, UFS_AZ_KEY, AWS_*).
set -uo pipefail

UFS_SRC=${UFS_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
UFS_BIN=${UFS_BIN:-$UFS_SRC/build/unifs}
UFS_TEST_DIR=${UFS_TEST_DIR:-/tmp/unifs-test}
UFS_SERVERS=$UFS_SRC/tests/servers
UFS_TEST_NAME=${UFS_TEST_NAME:-$(basename "${0%.sh}")}
export UFS_SRC UFS_BIN UFS_TEST_DIR

# No credential lookup leaves loopback (cloud metadata, ambient identity).
# shellcheck source=tests/cloud_safety.sh
source "$UFS_SRC/tests/cloud_safety.sh"

# Plain-http loopback endpoints must not be affected by proxies or CA bundles.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

# ---- results -------------------------------------------------------------

fail()
{
	echo "FAIL: $UFS_TEST_NAME: $*"
	exit 1
}

ufs_pass()
{
	echo "PASS: $UFS_TEST_NAME"
	exit 0
}

# ufs_skip MSG: exit 77, which ctest reports as skipped (SKIP_RETURN_CODE
# in CMakeLists.txt), never as passed; in CI (CI=true) a skip is a failure.
ufs_skip()
{
	if [[ ${CI:-} == true ]]; then
		fail "would skip in CI: $*"
	fi
	echo "SKIP: $UFS_TEST_NAME: $*"
	exit 77
}

# ---- cleanup registry ----------------------------------------------------

_UFS_CLEANUPS=()

# on_exit CMD...: run CMD (as one string, eval'd) at exit, last registered first.
on_exit()
{
	_UFS_CLEANUPS+=("$*")
}

_ufs_run_cleanups()
{
	local rc=$? i
	for ((i = ${#_UFS_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${_UFS_CLEANUPS[i]}" >/dev/null 2>&1 || true
	done
	_UFS_CLEANUPS=()
	return $rc
}
trap _ufs_run_cleanups EXIT
trap 'exit 130' INT TERM

# ---- assertions ----------------------------------------------------------

assert_eq()
{
	local want=$1 got=$2 what=${3:-value}
	[[ $want == "$got" ]] || fail "$what: expected '$want', got '$got'"
}

assert_ne()
{
	local a=$1 b=$2 what=${3:-value}
	[[ $a != "$b" ]] || fail "$what: expected something other than '$a'"
}

# assert_file_eq A B: identical contents (cmp).
assert_file_eq()
{
	[[ -e $1 ]] || fail "missing file: $1"
	[[ -e $2 ]] || fail "missing file: $2"
	cmp -s -- "$1" "$2" || fail "files differ: $1 $2 ($(cmp -- "$1" "$2" 2>&1 | head -1))"
}

# assert_ok CMD...: CMD must succeed.
assert_ok()
{
	"$@" || fail "command failed (rc=$?): $*"
}

# assert_fails CMD...: CMD must fail.
assert_fails()
{
	if "$@"; then fail "command unexpectedly succeeded: $*"; fi
}

# within SECONDS CMD...: CMD must finish (either way) within SECONDS; its
# status is returned. A timeout fails the test. CMD must be a program, not a
# shell function (it runs under timeout(1)).
within()
{
	local secs=$1 rc
	shift
	timeout -k 5 "$secs" "$@"
	rc=$?
	if ((rc == 124 || rc == 137)); then
		fail "did not finish within ${secs}s: $*"
	fi
	return $rc
}

# ---- servers -------------------------------------------------------------

# rgw_up: start (or reuse) Ceph RGW (a SigV4-verifying S3 server) and source
# its env: RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY.
rgw_up()
{
	"$UFS_SERVERS/rgw.sh" start >&2 || fail "Ceph RGW could not start"
	# shellcheck source=/dev/null
	source "$UFS_TEST_DIR/rgw/env" || fail "no $UFS_TEST_DIR/rgw/env"
}

# rgw_curl METHOD PATH [curl args...]: a request to RGW signed by curl, not by unifs.
rgw_curl()
{
	local m=$1 p=$2
	shift 2
	curl -sf -X "$m" --aws-sigv4 aws:amz:us-east-1:s3 \
		--user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@" "$RGW_ENDPOINT$p"
}

# ufs_servers_up: start (or reuse) all servers and source the env file.
ufs_servers_up()
{
	"$UFS_SERVERS/all.sh" start >&2 || fail "test servers could not start"
	# shellcheck source=/dev/null
	source "$UFS_TEST_DIR/env" || fail "cannot source $UFS_TEST_DIR/env"
}

# s3_mkbucket NAME: create a bucket on s3rver (ok if it already exists); it
# is removed with everything in it when the test exits (s3_rmbucket).
s3_mkbucket()
{
	S3CURL_NOFAIL=1 "$UFS_SERVERS/s3curl.sh" PUT "/$1" -o /dev/null \
		-w '%{http_code}' | grep -qE '^(200|409)$' || fail "cannot create bucket $1"
	on_exit s3_rmbucket "$1"
}

# s3_rmbucket NAME: drop a test bucket and its objects. S3 refuses to delete
# a non-empty bucket and s3rver keeps one directory per bucket, so the
# directory goes (a no-op for an s3rver not started from $UFS_TEST_DIR).
# UFS_KEEP_DATA=1 keeps it for inspection.
s3_rmbucket()
{
	[[ ${UFS_KEEP_DATA:-0} == 1 || -z $1 || $1 == */* || $1 == .* ]] && return 0
	rm -rf "${UFS_TEST_DIR:?}/s3/data/$1"
}

# s3_put BUCKET/KEY FILE / s3_get BUCKET/KEY OUT: direct object I/O (no unifs).
# s3_private: start a private s3rver (own port and data dir under
# $UFS_WORK, stopped at exit) that the test may stop and start again with
# `s3priv stop|start`; UFS_S3_ENDPOINT points at it.
s3_private()
{
	S3PRIV_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	S3PRIV_DIR=$UFS_WORK/s3
	on_exit "UFS_TEST_DIR='$S3PRIV_DIR' UFS_S3_PORT=$S3PRIV_PORT '$UFS_SERVERS/s3.sh' stop"
	s3priv start || fail "private s3rver did not start"
	export UFS_S3_ENDPOINT=http://127.0.0.1:$S3PRIV_PORT
}
s3priv() { UFS_TEST_DIR=$S3PRIV_DIR UFS_S3_PORT=$S3PRIV_PORT "$UFS_SERVERS/s3.sh" "$@" >&2; }

s3_put()
{
	"$UFS_SERVERS/s3curl.sh" PUT "/$1" --data-binary "@$2" -o /dev/null || fail "s3 put $1"
}

# s3_bulk_put BUCKET PREFIX COUNT: create objects PREFIXf00001..PREFIXfCOUNT
# (content "x\n") directly on the test S3 over 8 keep-alive connections,
# signed with botocore's SigV4 (fast; independent of unifs).
s3_bulk_put()
{
	python3 - "$@" <<'PY' || fail "s3_bulk_put $*"
import concurrent.futures as cf, http.client, os, sys, threading, urllib.parse
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
bkt, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = os.environ.get("UFS_S3_ENDPOINT") or "http://127.0.0.1:4568"
ep = urllib.parse.urlsplit(base)
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
local = threading.local()
def put(i):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection(ep.hostname, ep.port, timeout=120)
    path = "/%s/%s" % (bkt, urllib.parse.quote("%sf%05d" % (prefix, i)))
    req = AWSRequest("PUT", base + path, data=b"x\n",
                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    local.c.request("PUT", path, body=b"x\n", headers=dict(req.headers.items()))
    r = local.c.getresponse()
    r.read()
    if r.status != 200:
        raise SystemExit("s3_bulk_put: PUT %s: HTTP %d" % (path, r.status))
with cf.ThreadPoolExecutor(8) as ex:
    list(ex.map(put, range(1, count + 1)))
PY
}

s3_get()
{
	"$UFS_SERVERS/s3curl.sh" GET "/$1" -o "$2"
}

# az_mkcontainer NAME / az_put CONT/BLOB FILE / az_get CONT/BLOB OUT (SharedKey).
az_mkcontainer()
{
	AZCURL_NOFAIL=1 "$UFS_SERVERS/azcurl.sh" PUT "/$1?restype=container" -o /dev/null \
		-w '%{http_code}' | grep -qE '^(201|409)$' || fail "cannot create container $1"
	on_exit az_rmcontainer "$1"
}

# az_rmcontainer NAME: Delete Container (Azure deletes the blobs with it;
# Azurite frees their extents later). UFS_KEEP_DATA=1 keeps it.
az_rmcontainer()
{
	[[ ${UFS_KEEP_DATA:-0} == 1 ]] && return 0
	AZCURL_NOFAIL=1 "$UFS_SERVERS/azcurl.sh" DELETE "/$1?restype=container" -o /dev/null
}

az_put()
{
	"$UFS_SERVERS/azcurl.sh" PUT "/$1" --file "$2" -o /dev/null || fail "az put $1"
}

az_get()
{
	"$UFS_SERVERS/azcurl.sh" GET "/$1" -o "$2"
}

# hostile_s3_start: start tests/integration/hostile_s3.py on a free port
# (stopped at exit); sets HOSTILE_PORT and the fake credentials it accepts.
hostile_s3_start()
{
	local out=$UFS_WORK/hostile_s3.out
	python3 "$UFS_SRC/tests/integration/hostile_s3.py" 0 >"$out" 2>&1 &
	on_exit "kill $!"
	for _ in $(seq 100); do
		[[ -s $out ]] && break
		sleep 0.1
	done
	HOSTILE_PORT=$(head -1 "$out")
	[[ $HOSTILE_PORT =~ ^[0-9]+$ ]] || fail "hostile_s3.py did not start: $(cat "$out")"
	export AWS_ACCESS_KEY_ID=hostile AWS_SECRET_ACCESS_KEY=hostile
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3
}

# s3_proxy_start PORT PIDFILE: faultproxy_s3.py on PORT in front of s3rver
# (pid in PIDFILE, log in $UFS_WORK/proxy.log); returns once it answers.
s3_proxy_start()
{
	python3 "$UFS_SERVERS/faultproxy_s3.py" --listen "$1" --target "$UFS_S3_ENDPOINT" \
		--pidfile "$2" >>"$UFS_WORK/proxy.log" 2>&1 &
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$1/__fault" && return 0
		sleep 0.1
	done
	fail "fault proxy did not start on port $1"
}

# s3_proxy_stop PIDFILE: stop that proxy (to the client, the server died).
s3_proxy_stop()
{
	[[ -s $1 ]] && kill "$(cat "$1")" 2>/dev/null
	rm -f "$1"
}

# ufs_uniq PREFIX: a name unique to this run (lowercase, bucket-safe).
ufs_uniq()
{
	echo "$1-$$-$RANDOM$RANDOM" | tr 'A-Z_' 'a-z-'
}

# ---- work dirs and mounts ------------------------------------------------

# ufs_begin [NAME]: set the test name and create $UFS_WORK (removed at exit).
ufs_begin()
{
	[[ $# -gt 0 ]] && UFS_TEST_NAME=$1
	mkdir -p "$UFS_TEST_DIR/work"
	UFS_WORK=$(mktemp -d "$UFS_TEST_DIR/work/$(tr -c 'A-Za-z0-9_-' _ <<<"$UFS_TEST_NAME" | head -c 40).XXXXXX") ||
		fail "cannot create work dir"
	export UFS_WORK
	on_exit "rm -rf '$UFS_WORK'"
}

# ufs_mount CONFIG MNT [unifs mount options...]: mount (daemonised) and wait
# until MNT is a live FUSE mount; unmounted automatically at exit.
ufs_mount()
{
	local cfg=$1 mnt=$2 i
	shift 2
	[[ -x $UFS_BIN ]] || fail "unifs binary not found: $UFS_BIN (build first)"
	mkdir -p "$mnt"
	within 60 "$UFS_BIN" mount "$@" "$cfg" "$mnt" || fail "unifs mount $cfg $mnt failed"
	on_exit "ufs_umount '$mnt'"
	for ((i = 0; i < 100; i++)); do
		ufs_is_mounted "$mnt" && return 0
		sleep 0.1
	done
	fail "$mnt is not a FUSE mount after unifs mount returned"
}

ufs_is_mounted()
{
	local m
	m=$(realpath -m "$1")
	awk -v m="$m" '$2 == m && $3 ~ /^fuse/ {found = 1} END {exit !found}' /proc/self/mounts
}

# ufs_umount MNT: unmount robustly (unifs umount, then fusermount3 -u, then
# a lazy umount). Never fails the test by itself; returns 1 if still mounted.
ufs_umount()
{
	local mnt=$1
	ufs_is_mounted "$mnt" || return 0
	timeout 30 "$UFS_BIN" umount "$mnt" >/dev/null 2>&1 && ! ufs_is_mounted "$mnt" && return 0
	timeout 10 fusermount3 -u "$mnt" >/dev/null 2>&1 && ! ufs_is_mounted "$mnt" && return 0
	timeout 10 fusermount3 -uz "$mnt" >/dev/null 2>&1 || timeout 10 umount -l "$mnt" >/dev/null 2>&1
	! ufs_is_mounted "$mnt"
}

# list_server_start: tests/bench/list_server.py (buckets of synthetic keys
# for S3 and Azure, generated on the fly) on a free loopback port, stopped
# at exit; LIST_SERVER is its base URL.
list_server_start()
{
	python3 "$UFS_SRC/tests/bench/list_server.py" 0 >"$UFS_WORK/list_server.port" \
		2>"$UFS_WORK/list_server.log" &
	on_exit "kill $! 2>/dev/null"
	for _ in $(seq 50); do
		[[ -s $UFS_WORK/list_server.port ]] && break
		sleep 0.1
	done
	[[ -s $UFS_WORK/list_server.port ]] || fail "list_server.py did not start"
	LIST_SERVER=http://127.0.0.1:$(cat "$UFS_WORK/list_server.port")
}

# ufs_stats MNT KEY...: numbers from `unifs stats --json MNT`, KEY as
# section.key (memory.peak, metadata.list_bytes, ...), on one line.
ufs_stats()
{
	local mnt=$1
	shift
	"$UFS_BIN" stats --json "$mnt" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(" ".join(str(j[k.split(".")[0]][k.split(".")[1]]) for k in sys.argv[1:]))' "$@"
}

# ufs_requests MNT MOUNT KIND: requests of KIND (LIST, HEAD, GET, ...) the
# backend of mount prefix MOUNT made so far (`unifs stats --json`).
ufs_requests()
{
	"$UFS_BIN" stats --json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(next(b["requests"][sys.argv[2]] for b in j["backends"] if b["mount"] == sys.argv[1]))' "$2" "$3"
}

# ufs_config FILE <<EOF ... EOF: write a config file with mode 0600.
ufs_config()
{
	(umask 077 && cat >"$1")
}

# ---- the direct path from Python ------------------------------------------

# ufs_direct_python: set $py to a Python that can load libunifs
# ($UNIFS_LIB, exported: the build's libunifs.so) with the binding of this
# tree (PYTHONPATH): Debian's python3 (python3-numpy, python3-torch), not
# one from a PATH venv. An ASan+UBSan build's libunifs.so needs the
# sanitizer runtime loaded first when Python (not instrumented) loads it
# with ctypes; Python's own allocations are not ours to leak-check.
ufs_direct_python()
{
	export UNIFS_LIB=${UFS_BUILD:-$UFS_SRC/build}/libunifs.so
	export PYTHONPATH=$UFS_SRC/python${PYTHONPATH:+:$PYTHONPATH}
	py=${UFS_PYTHON:-/usr/bin/python3}
	if [[ $(ldd "$UNIFS_LIB" 2>/dev/null) == *libasan* ]]; then
		printf '#!/bin/sh\nLD_PRELOAD="%s %s" ASAN_OPTIONS=detect_leaks=0 exec "%s" "$@"\n' \
			"$(gcc -print-file-name=libasan.so)" "$(gcc -print-file-name=libubsan.so)" "$py" \
			>"$UFS_WORK/python-asan"
		chmod 755 "$UFS_WORK/python-asan"
		py=$UFS_WORK/python-asan
	fi
}

# ---- several users -------------------------------------------------------

# ufs_mount_users PREFIX: a file:// subtree ($local_dir) and an nfs:// one
# ($nfs_dir, on the ganesha export), both mode 1777 like /tmp, mounted
# allow_other at $mnt as /local and /nfs (config $cfg). Sets those four.
ufs_mount_users()
{
	command -v setpriv >/dev/null || fail "setpriv (util-linux) not installed"
	local nfs_name
	local_dir=$UFS_WORK/local
	mkdir -p "$local_dir"
	nfs_name=$(ufs_uniq "$1")
	nfs_dir=$UFS_NFS_EXPORT_DIR/$nfs_name
	mkdir -p "$nfs_dir"
	on_exit "rm -rf '$nfs_dir'"
	chmod 755 "$UFS_WORK"
	chmod 1777 "$local_dir" "$nfs_dir"
	cfg=$UFS_WORK/users.conf
	ufs_config "$cfg" <<EOF
[mount "/local"]
url = file://$local_dir

[mount "/nfs"]
url = $UFS_NFS_URL/$nfs_name
EOF
	mnt=$UFS_WORK/mnt
	ufs_mount "$cfg" "$mnt" -o allow_other,op_timeout=60
}

# ufs_user NAME: make sure the local user NAME exists (a system user with
# no home, created when absent) and print its uid.
ufs_user()
{
	id -u "$1" >/dev/null 2>&1 ||
		useradd --system --no-create-home --shell /usr/sbin/nologin "$1" >/dev/null 2>&1 ||
		fail "cannot create user $1"
	id -u "$1"
}

# as_user NAME CMD...: run CMD as user NAME (its uid and gid, no
# supplementary groups).
as_user()
{
	local u=$1
	shift
	setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --clear-groups -- "$@"
}

ufs_servers_up

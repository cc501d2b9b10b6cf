#!/usr/bin/env bash
# tests/bench/bench_list.sh — listing a flat prefix of millions of keys:
# `ls -f` through unifs (memory = 256M) against curl paging the same
# ListObjectsV2 listing and against the FUSE peers s3fs and rclone mount
# (peers.sh, their defaults), all from list_server.py (synthetic keys,
# generated on the fly). Prints entries/s, the ratios, and the daemon's
# peak RSS (VmHWM) against memory + 64 MiB; then the same for Azure (List
# Blobs) and the peak RSS of a BIG-key listing.
#
#   BENCH_LIST_N=1000000     keys of the main comparison
#   BENCH_LIST_BIG=10000000  keys of the RSS run (0: skip it)
#   BENCH_PEER_SECS=300      time given to each peer (entries counted so far)
#
# Goals (issue "listings at any scale"): unifs >= 0.8x curl, >= 5x s3fs and
# rclone, peak RSS <= memory + 64 MiB. Reports; fails only when unifs
# lists the wrong number of entries.
set -euo pipefail
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/peers.sh"
ufs_begin "bench list"

N=${BENCH_LIST_N:-1000000}
BIG=${BENCH_LIST_BIG:-10000000}
PEER_SECS=${BENCH_PEER_SECS:-300}
MEM_MIB=256

list_server_start
ep=$LIST_SERVER
echo "bench_list: $(date -u +%F), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, N = $N"

now() { date +%s.%N; }
rate() { python3 -c 'import sys; n, t = int(sys.argv[1]), float(sys.argv[2]); print(f"{n / t:.0f}")' "$1" "$2"; }
ratio() { python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f"{a / b:.2f}" if b else "inf")' "$1" "$2"; }

# curl paging ListObjectsV2 of syn-N, one request per page (keep-alive
# across pages: one curl process per page would measure process starts).
curl_pages()
{
	python3 - "$ep/syn-$1-curl" <<'PY'
import re, subprocess, sys, time
base, tok, n = sys.argv[1], "", 0
t0 = time.monotonic()
while True:
    url = base + "?list-type=2&max-keys=1000" + (f"&continuation-token={tok}" if tok else "")
    body = subprocess.run(["curl", "-sf", url], check=True, capture_output=True).stdout
    n += body.count(b"<Key>")
    m = re.search(rb"<NextContinuationToken>([^<]*)<", body)
    if not m:
        break
    tok = m.group(1).decode()
print(n, time.monotonic() - t0)
PY
}

# lsf DIR SECS [PID]: `ls -f DIR` for at most SECS; prints "entries seconds"
# (. and .. apart). A peer daemon PID that has not answered by then is
# killed (an ls waiting on a FUSE reply ignores signals).
lsf()
{
	local t0 t1 lp i
	t0=$(now)
	(timeout -s KILL "$2" ls -f "$1" 2>/dev/null | grep -cvxE '\.|\.\.' >"$UFS_WORK/lsf.n") &
	lp=$!
	for ((i = 0; i < $2 * 20 + 40; i++)); do
		kill -0 "$lp" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$lp" 2>/dev/null && [[ -n ${3:-} ]]; then kill -KILL "$3"; fi
	wait "$lp" || true
	t1=$(now)
	echo "$(cat "$UFS_WORK/lsf.n") $(python3 -c "print($t1 - $t0)")"
}

read -r cn ct <<<"$(curl_pages "$N")"
crate=$(rate "$cn" "$ct")
echo "curl (ListObjectsV2 pages): $cn keys in ${ct%.*} s: $crate entries/s"

(umask 077 && printf 'a2V5\n' >"$UFS_WORK/az.key")
mnt=$UFS_WORK/mnt
ufs_config "$UFS_WORK/unifs.conf" <<EOF
[global]
memory = ${MEM_MIB}M

[mount "/s3"]
url        = s3://syn-$N-unifs/
endpoint   = $ep
path_style = true

[mount "/az"]
url      = az://syn-$N-unifs/
endpoint = $ep/devstoreaccount1
account  = devstoreaccount1
key_file = $UFS_WORK/az.key

[mount "/big"]
url        = s3://syn-$BIG-unifs/
endpoint   = $ep
path_style = true
EOF
ufs_mount "$UFS_WORK/unifs.conf" "$mnt"
pid=$(pgrep -n -f "unifs mount .*$UFS_WORK/unifs.conf") || fail "daemon pid not found"
hwm() { awk '/^VmHWM:/ {print int($2 / 1024)}' "/proc/$pid/status"; }

read -r un ut <<<"$(lsf "$mnt/s3" 3600)"
assert_eq "$un" "$N"
urate=$(rate "$un" "$ut")
echo "unifs s3 (ls -f): $un entries in ${ut%.*} s: $urate entries/s ($(ratio "$urate" "$crate")x curl); daemon peak RSS $(hwm) MiB (memory + 64 = $((MEM_MIB + 64)))"
read -r an at <<<"$(lsf "$mnt/az" 3600)"
assert_eq "$an" "$N"
echo "unifs az (ls -f): $an entries in ${at%.*} s: $(rate "$an" "$at") entries/s; daemon peak RSS $(hwm) MiB"
read -r un2 ut2 <<<"$(lsf "$mnt/s3" 3600)"
echo "unifs s3, second ls -f: ${ut2%.*} s (from the cache only when the listing fits a quarter of memory)"

for peer in s3fs rclone; do
	m=$UFS_WORK/$peer
	if UFS_S3_ENDPOINT=$ep "mount_$peer" "syn-$N-$peer" "$m"; then
		ppid_=$(pgrep -n -f "^(/usr/bin/)?$peer .*syn-$N-$peer") || ppid_=
		read -r pn pt <<<"$(lsf "$m" "$PEER_SECS" "$ppid_")"
		prate=$(rate "$pn" "$pt")
		echo "$peer (ls -f, $PEER_SECS s at most): $pn entries in ${pt%.*} s: $prate entries/s (unifs: $(ratio "$urate" "$prate")x)"
		ufs_umount "$m" || true
	else
		echo "$peer: not available"
	fi
done

if ((BIG > 0)); then
	read -r bn bt <<<"$(lsf "$mnt/big" 7200)"
	assert_eq "$bn" "$BIG"
	echo "unifs s3 $BIG keys (ls -f): ${bt%.*} s: $(rate "$bn" "$bt") entries/s; daemon peak RSS $(hwm) MiB (memory + 64 = $((MEM_MIB + 64)))"
fi
ufs_pass

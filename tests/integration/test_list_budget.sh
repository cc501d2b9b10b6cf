#!/usr/bin/env bash
# test_list_budget.sh — directory listings count in the memory budget, so
# a huge bucket cannot take the daemon past memory. hostile_s3.py serves synthetic buckets of many keys
# (nothing stored: pages are generated); one mount with memory = 64M:
#   - /big (100,000 keys, ~31 MiB of listing: room for a second listing in
#     flight; 200,000 keys, 63 of 64 MiB, failed once): `ls | wc -l` is right, the
#     listing is served but not cached (more than a quarter of the budget),
#     and the budget's peak stays within memory
#   - /huge (400,000 keys, ~100 MB): does not fit; `ls` fails with ENOMEM
#     (no half listing), the budget's peak still within memory, and the
#     mount keeps serving (/big lists again)
# The same listing peak shows in Prometheus (unifs_listing_peak_bytes).
# Prints the daemon's peak RSS (VmHWM) and the listing figures from
# `unifs stats --json`; RSS is bounded by memory + 160 MiB (the inode table
# and libraries are outside the budget; +320 MiB for an ASan build's
# quarantine and shadow). No timing assertions.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "list budget"

hostile_s3_start
port=$HOSTILE_PORT
unset AWS_ENDPOINT_URL

mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mem_mib=64
big=100000
huge=400000
mnt=$UFS_WORK/mnt
ufs_config "$UFS_WORK/unifs.conf" <<EOF
[global]
memory  = ${mem_mib}M
metrics = 127.0.0.1:$mport

[mount "/big"]
url        = s3://many-$big-lb$$/
endpoint   = http://127.0.0.1:$port
path_style = true

[mount "/huge"]
url        = s3://many-$huge-lb$$/
endpoint   = http://127.0.0.1:$port
path_style = true
EOF
ufs_mount "$UFS_WORK/unifs.conf" "$mnt"
pid=$(pgrep -n -f "unifs mount .*$UFS_WORK/unifs.conf") || fail "daemon pid not found"

# stat KEY...: numbers from `unifs stats --json` (memory.* / metadata.*)
stat()
{
	"$UFS_BIN" stats --json "$mnt" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(" ".join(str(j[k.split(".")[0]][k.split(".")[1]]) for k in sys.argv[1:]))' "$@"
}

n=$(ls "$mnt/big" | wc -l)
assert_eq "$n" "$big"
read -r peak limit lpeak uncached <<<"$(stat memory.peak memory.limit metadata.list_peak metadata.lists_uncached)"
echo "  /big: $n entries; budget peak $peak of $limit; listing peak $lpeak bytes; uncached $uncached"
assert_eq "$limit" $((mem_mib << 20))
((peak <= limit)) || fail "budget peak $peak exceeds memory $limit"
((lpeak >= big * 200)) || fail "listing of $big entries counted as $lpeak bytes only"
((uncached >= 1)) || fail "a listing larger than a quarter of memory was cached"
read -r lbytes <<<"$(stat metadata.list_bytes)"
assert_eq "$lbytes" 0 # the handle closed: nothing kept
prom=$(curl -sf "http://127.0.0.1:$mport/metrics") || fail "no metrics on port $mport"
grep -qx "unifs_listing_peak_bytes $lpeak" <<<"$prom" ||
	fail "Prometheus: $(grep unifs_listing <<<"$prom")"

if ls "$mnt/huge" >/dev/null 2>"$UFS_WORK/err"; then
	fail "a listing larger than memory was served"
fi
grep -q 'Cannot allocate memory' "$UFS_WORK/err" || fail "ls /huge: $(cat "$UFS_WORK/err")"
read -r peak lbytes <<<"$(stat memory.peak metadata.list_bytes)"
echo "  /huge: refused (ENOMEM); budget peak $peak of $limit"
((peak <= limit)) || fail "budget peak $peak exceeds memory $limit after /huge"
assert_eq "$lbytes" 0

n=$(ls "$mnt/big" | wc -l)
assert_eq "$n" "$big"
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
slack=160
# An ASan build keeps up to 256 MiB of freed memory in quarantine, plus shadow.
[[ $(ldd "$UFS_BIN" 2>/dev/null) == *libasan* ]] && slack=$((slack + 320))
echo "  daemon peak RSS $((hwm >> 10)) MiB (memory = ${mem_mib}M, allowed + $slack MiB)"
((hwm < (mem_mib + slack) << 10)) || fail "daemon RSS peaked at $((hwm >> 10)) MiB"
ufs_pass

#!/usr/bin/env bash
# bench_prefetch.sh — prefetch measured where it pays: a shuffled torch
# DataLoader's cold epoch over BENCH_FILES (2000) objects of BENCH_KB (128)
# KiB, BENCH_WORKERS (4) worker processes, every request of every client
# through tests/bench/latency_proxy.py (BENCH_LAT, 20 ms to the first byte of
# each response: an in-region object store) in front of Ceph RGW
# (BENCH_S3=s3rver for s3rver; tests/bench/s3target.sh). In one run, each on
# a fresh mount (cold):
#   unifs, prefetch   unifs.torch.FileDataset with the sampler's order handed
#                     to the daemon (python/examples/torch_prefetch_dataset.py)
#   unifs, none       the same Dataset without prefetch
#   s3fs, rclone      the same Dataset (plain reads) on the peers' mounts,
#                     their defaults (tests/bench/peers.sh)
# BENCH_PEERS="s3fs rclone" picks the peers ("" none). BENCH_UFS_GLOBAL: extra [global] lines of both unifs mounts (e.g.
# "workers = 32": the daemon prefetches half its worker pool's count of
# files at once, at most 16). Prints samples/s, the ratios (goals: prefetch >= 3x none, >= 3x the best
# peer) and, per run, the requests the proxy saw and the most it had waiting
# for a first byte at once (the client's concurrency); last, a warm epoch
# (every file in the cache): the loader's own ceiling on this machine.
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench prefetch"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/s3target.sh"

nfiles=${BENCH_FILES:-2000}
kb=${BENCH_KB:-128}
workers=${BENCH_WORKERS:-4}
lat=${BENCH_LAT:-20}
ufs_direct_python
ex=$UFS_SRC/python/examples/torch_prefetch_dataset.py
"$py" -c 'import torch' 2>/dev/null || fail "python3-torch not installed"

s3_target
bkt=$(ufs_uniq bpf)
s3_new_bucket "$bkt"
upstream=${S3EP#http://}
upstream=${upstream%%/*}

# ---- the objects ----
small=$UFS_WORK/small
mkdir -p "$small"
head -c $((nfiles * kb << 10)) /dev/urandom | split -b "${kb}K" -d -a 5 - "$small/f"
ls "$small" | xargs -P 16 -I{} bash -c 's3raw PUT "/$1/ds/$2" -T "$3/$2" -o /dev/null' _ "$bkt" {} "$small" ||
	fail "seeding $nfiles objects"
rm -rf "$small"

# proxy_start: a fresh latency proxy (its own counts); PXEP its endpoint
PXPID=
proxy_start()
{
	local i
	rm -f "$UFS_WORK/px.out" "$UFS_WORK/px.stats"
	"$py" "$UFS_SRC/tests/bench/latency_proxy.py" "$upstream" --lat "$lat" --stats "$UFS_WORK/px.stats" \
		>"$UFS_WORK/px.out" 2>&1 &
	PXPID=$!
	for ((i = 0; i < 50; i++)); do
		[[ -s $UFS_WORK/px.out ]] && break
		sleep 0.1
	done
	PXEP=http://127.0.0.1:$(awk '/^port/ { print $2 }' "$UFS_WORK/px.out")
	[[ $PXEP != http://127.0.0.1: ]] || fail "latency proxy did not start: $(cat "$UFS_WORK/px.out")"
}
proxy_stop()
{
	kill "$PXPID" 2>/dev/null
	wait "$PXPID" 2>/dev/null
	PXPID=
}
on_exit '[[ -n $PXPID ]] && kill $PXPID 2>/dev/null'

declare -A RATE PX
# epoch KEY DIR [--no-prefetch]: one cold epoch over DIR (listed first, as a
# DataLoader's scan would); RATE[KEY] = samples/s, PX[KEY] = proxy counts
epoch()
{
	local key=$1 dir=$2 out
	shift 2
	ls "$dir" >/dev/null || fail "listing $dir"
	out=$(within 900 "$py" "$ex" "$dir" --workers "$workers" "$@") || {
		echo "bench_prefetch: $key failed" >&2
		RATE[$key]=failed
		return
	}
	RATE[$key]=$(grep -o '[0-9]* files/s' <<<"$out" | cut -d' ' -f1)
	sleep 1.2 # the proxy writes its counts each second
	PX[$key]=$(cat "$UFS_WORK/px.stats" 2>/dev/null)
	echo "bench_prefetch: $key: $out; proxy: ${PX[$key]}" >&2
}

# unifs_epoch KEY [--no-prefetch]: on a fresh unifs mount through a fresh proxy
n_mounts=0
unifs_epoch()
{
	local key=$1 m
	shift
	n_mounts=$((n_mounts + 1))
	m=$UFS_WORK/u$n_mounts
	proxy_start
	printf '[global]\nmemory = 2G\n%s\n[mount "/s3"]\nurl = s3://%s/\nendpoint = %s\npath_style = true\n' \
		"${BENCH_UFS_GLOBAL:-}" "$bkt" "$PXEP" | ufs_config "$m.conf"
	ufs_mount "$m.conf" "$m"
	epoch "$key" "$m/s3/ds" "$@"
	[[ $key == unifs_pf ]] && epoch unifs_warm "$m/s3/ds" --no-prefetch # the cache filled
	ufs_umount "$m"
	proxy_stop
}

# (after the prefetch epoch, a second one on the same mount, every file in
# the cache: unifs_warm, the most this loader does on this machine)

# peer_epoch KEY MOUNTFN: the peer mounted through a fresh proxy
peer_epoch()
{
	local key=$1 fn=$2 m=$UFS_WORK/$1
	proxy_start
	if UFS_S3_ENDPOINT=$PXEP "$fn" "$bkt" "$m"; then
		epoch "$key" "$m/ds" --no-prefetch
		ufs_umount "$m"
	else
		RATE[$key]="n/a"
		echo "bench_prefetch: $key: not installed or did not mount" >&2
	fi
	proxy_stop
}

unifs_epoch unifs_pf
unifs_epoch unifs_none --no-prefetch
for p in ${BENCH_PEERS-s3fs rclone}; do
	peer_epoch "$p" "mount_$p"
done

# ---- report ----
num() { [[ ${RATE[$1]:-} =~ ^[0-9]+$ ]] && echo "${RATE[$1]}" || echo 0; }
best=0 bestname=none
for p in s3fs rclone; do
	(($(num "$p") > best)) && best=$(num "$p") bestname=$p
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
printf '\nshuffled DataLoader, cold epoch: %d x %d KiB, %d workers, %s behind a %s ms first-byte proxy (load %s)\n' \
	"$nfiles" "$kb" "$workers" "$S3NAME" "$lat" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "unifs [global]: memory = 2G${BENCH_UFS_GLOBAL:+; $BENCH_UFS_GLOBAL}"
printf '%-22s %10s   %s\n' "" "samples/s" "proxy: requests, most waiting at once"
for k in unifs_pf unifs_none s3fs rclone unifs_warm; do
	printf '%-22s %10s   %s\n' "$k" "${RATE[$k]:-n/a}" "${PX[$k]:-}"
done
echo "prefetch / none:      $(ratio "$(num unifs_pf)" "$(num unifs_none)") (goal >= 3)"
echo "prefetch / best peer: $(ratio "$(num unifs_pf)" "$best") ($bestname; goal >= 3)"
ufs_pass

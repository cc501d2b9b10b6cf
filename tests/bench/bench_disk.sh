#!/usr/bin/env bash
# bench_disk.sh — what the disk tier costs the epoch that fills it, and what
# it gives back in epoch 2, on s3rver, Ceph RGW and ganesha, in one
# run:
#   1. cold read of one BENCH_MB (1 GiB) object with `dd bs=1M` through a
#      fresh mount, memory = 1G, the disk tier on (cache_dir, cache_size = 4G,
#      emptied first) and off, ROUNDS (3) interleaved rounds: medians, the
#      ratio on/off (goal >= 0.9x) and the daemon's CPU seconds per GiB;
#   2. after each tier-on read, once the fills settled: how many of the
#      object's blocks the tier holds (goal >= 95%) and the skips counted;
#   3. epoch 2: a fresh mount with the server unreachable (S3: the endpoint
#      is a closed loopback port; NFS: ganesha stays up - it is shared - and
#      the bench checks that no byte was fetched) reads the object from the
#      tier; against `dd iflag=direct bs=8M` over the tier's own block files
#      on the same disk (goal >= 0.8x) and against the cold read (goal > 1x).
# Page caches are dropped before every read (as root). Timings are printed,
# never asserted. BENCH_TARGETS picks targets (default "s3rver rgw nfs").
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench disk"

mb=${BENCH_MB:-1024}
rounds=${ROUNDS:-3}
targets=${BENCH_TARGETS:-s3rver rgw nfs}
nblocks=$(((mb + 7) / 8))
declare -A R

now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "n/a" }'; }
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
daemon_pid() { pgrep -f -- "unifs mount .* $1\$" | head -1; }
# stat_of MNT KEY: a cache counter from `unifs stats --json`.
stat_of()
{
	"$UFS_BIN" stats --json "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["cache"].get(sys.argv[1], "n/a"))' "$2"
}

src=$UFS_WORK/src.bin
head -c $((mb << 20)) /dev/urandom >"$src" || fail "cannot write $src"
mnt=$UFS_WORK/mnt
tier=$UFS_WORK/tier

# conf FILE URL ENDPOINT TIER(0|1)
conf()
{
	local extra=""
	[[ $4 == 1 ]] && extra="cache_dir = $tier
cache_size = 4G"
	ufs_config "$1" <<EOF
[global]
memory = 1G
op_timeout = 3
retry_down = 1
$extra
[mount "/"]
url = $2
${3:+endpoint = $3
path_style = true}
EOF
}

# cold TAG CONF: one cold dd through a fresh mount; R[TAG_s] += seconds,
# R[TAG_cpu] += CPU s/GiB; with the tier, R[TAG_held] += blocks held.
cold()
{
	local tag=$1 cfg=$2 t0 t1 pid c0 c1 i
	ufs_umount "$mnt"
	if [[ $tag == *_on ]]; then # the tier emptied first (an off read leaves it alone)
		rm -rf "$tier" && mkdir -m 0700 "$tier"
	fi
	ufs_mount "$cfg" "$mnt"
	ls -l "$mnt" >/dev/null || fail "$tag: ls" # the listing is kept for the offline epoch 2
	drop
	pid=$(daemon_pid "$mnt")
	c0=$(cpu_of "$pid")
	t0=$(now)
	dd if="$mnt/obj.bin" of=/dev/null bs=1M status=none || fail "$tag: dd"
	t1=$(now)
	c1=$(cpu_of "$pid")
	R[${tag}_s]+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
	R[${tag}_cpu]+=" $(awk -v a="$c0" -v b="$c1" -v m="$mb" 'BEGIN { printf "%.2f", (b - a) * 1024 / m }')"
	if [[ $tag == *_on ]]; then
		for ((i = 0; i < 300; i++)); do
			[[ $(stat_of "$mnt" disk_fill_pending) =~ ^[1-9] ]] || break
			sleep 0.1
		done
		R[${tag}_held]+=" $(find "$tier" -name '*.blk' | wc -l)"
		R[${tag}_skips]+=" $(stat_of "$mnt" disk_fill_skips)/$(stat_of "$mnt" disk_fill_evicted)/$(stat_of "$mnt" disk_fill_errors)"
	fi
	ufs_umount "$mnt"
}

# epoch2 TAG CONF: read the object from the filled tier; R[TAG_e2] seconds,
# R[TAG_dd] seconds of dd iflag=direct over the block files.
epoch2()
{
	local tag=$1 cfg=$2 t0 t1
	ufs_mount "$cfg" "$mnt"
	drop
	t0=$(now)
	if dd if="$mnt/obj.bin" of=/dev/null bs=1M status=none; then
		t1=$(now)
		R[${tag}_e2]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	else
		R[${tag}_e2]=failed
	fi
	R[${tag}_e2fetched]=$(stat_of "$mnt" fetched_bytes)
	R[${tag}_e2cpu]=$(awk -v c="$(cpu_of "$(daemon_pid "$mnt")")" -v m="$mb" 'BEGIN { printf "%.2f", c * 1024 / m }')
	ufs_umount "$mnt"
	drop
	t0=$(now)
	find "$tier" -name '*.blk' -exec dd iflag=direct bs=8M of=/dev/null status=none if={} \;
	t1=$(now)
	R[${tag}_dd]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# run_target TAG URL ENDPOINT DEAD_ENDPOINT
run_target()
{
	local tag=$1 url=$2 ep=$3 dead=$4 r
	conf "$UFS_WORK/$tag-on.conf" "$url" "$ep" 1
	conf "$UFS_WORK/$tag-off.conf" "$url" "$ep" 0
	conf "$UFS_WORK/$tag-e2.conf" "$url" "$dead" 1
	for ((r = 0; r < rounds; r++)); do
		if ((r % 2 == 0)); then
			cold "${tag}_on" "$UFS_WORK/$tag-on.conf"
			cold "${tag}_off" "$UFS_WORK/$tag-off.conf"
		else
			cold "${tag}_off" "$UFS_WORK/$tag-off.conf"
			cold "${tag}_on" "$UFS_WORK/$tag-on.conf"
		fi
	done
	epoch2 "$tag" "$UFS_WORK/$tag-e2.conf"
}

dead_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dead=http://127.0.0.1:$dead_port # bound then closed: connection refused

for t in s3rver nfs rgw; do
	[[ " $targets " == *" $t "* ]] || continue
	case $t in
	s3rver)
		bkt=$(ufs_uniq benchdisk)
		s3_mkbucket "$bkt"
		"$UFS_SERVERS/s3curl.sh" PUT "/$bkt/obj.bin" -T "$src" -o /dev/null || fail "put to s3rver"
		run_target s3rver "s3://$bkt/" "$UFS_S3_ENDPOINT" "$dead"
		;;
	rgw) # last: s3_target points the S3 environment at RGW for good
		source "$(dirname "$0")/s3target.sh"
		s3_target
		[[ $S3NAME == RGW ]] || fail "Ceph RGW is not available"
		bkt=$(ufs_uniq benchdisk)
		s3_new_bucket "$bkt"
		s3raw PUT "/$bkt/obj.bin" -T "$src" -o /dev/null || fail "put to RGW"
		run_target rgw "s3://$bkt/" "$S3EP" "$dead"
		;;
	nfs)
		d=$(ufs_uniq bench-disk)
		mkdir -p "$UFS_NFS_EXPORT_DIR/$d"
		on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$d'"
		cp "$src" "$UFS_NFS_EXPORT_DIR/$d/obj.bin" || fail "cannot write to the export"
		run_target nfs "$UFS_NFS_URL/$d" "" ""
		;;
	esac
done

mbps() { awk -v s="$1" -v m="$mb" 'BEGIN { if (s + 0 > 0) printf "%.0f", m * 1.048576 / s; else print "n/a" }'; }
printf '\nbench_disk: %d MiB object, memory = 1G, block 8 MiB (%d blocks), %d rounds, %s cores\n' \
	"$mb" "$nblocks" "$rounds" "$(nproc)"
for t in $targets; do
	on=$(median ${R[${t}_on_s]}) off=$(median ${R[${t}_off_s]})
	printf '\n%s\n' "$t"
	printf '  cold, tier off   %6s s  %5s MB/s  CPU %s s/GiB   (rounds:%s)\n' "$off" "$(mbps "$off")" \
		"$(median ${R[${t}_off_cpu]})" "${R[${t}_off_s]}"
	printf '  cold, tier on    %6s s  %5s MB/s  CPU %s s/GiB   (rounds:%s)\n' "$on" "$(mbps "$on")" \
		"$(median ${R[${t}_on_cpu]})" "${R[${t}_on_s]}"
	printf '  blocks held after each tier-on read:%s of %d; not stored (queue full/evicted first/errors):%s\n' \
		"${R[${t}_on_held]}" "$nblocks" "${R[${t}_on_skips]}"
	printf '  epoch 2 from the tier %s s  %5s MB/s  CPU %s s/GiB  (bytes fetched: %s)\n' \
		"${R[${t}_e2]}" "$(mbps "${R[${t}_e2]}")" "${R[${t}_e2cpu]}" "${R[${t}_e2fetched]}"
	printf '  dd iflag=direct of the tier files %s s  %5s MB/s\n' "${R[${t}_dd]}" "$(mbps "${R[${t}_dd]}")"
	printf '  ratios: on/off %s (goal >= 0.9x)  held %s%% (goal >= 95%%)  epoch2/dd %s (goal >= 0.8x)  epoch2/cold %s (goal > 1x)\n' \
		"$(ratio "$off" "$on")" \
		"$(awk -v h="$(median ${R[${t}_on_held]})" -v n="$nblocks" 'BEGIN { printf "%.0f", 100 * h / n }')" \
		"$(ratio "${R[${t}_dd]}" "${R[${t}_e2]}")" "$(ratio "$off" "${R[${t}_e2]}")"
done
ufs_pass

#!/usr/bin/env bash
# bench_seq.sh — one sequential reader of a BENCH_MB (1 GiB) file, unifs
# against the raw protocol and the FUSE peers, for the client's speed and
# CPU cost, in one run:
#   servers (BENCH_SERVERS, default "nfs rgw s3rver"): ganesha (NFSv3),
#     Ceph RGW (tests/servers/rgw.sh, port 7480, shared: started if absent,
#     never stopped), s3rver;
#   tools: unifs (one mount per server for the whole run, memory = BENCH_MEM,
#     no disk tier), the raw protocol (nfs-cat / one curl GET), s3fs and
#     rclone mount (S3; BENCH_PEERS=0 skips them);
#   cases: cold (every page cache dropped: echo 3 > drop_caches) and warm
#     (the server's page cache holds the file: only the client path counts).
# Two files a and b per server: the cold case reads a, the warm case b (read
# once by curl/nfs-cat first to warm the server); the unifs memory is the
# file's size, so its cache never holds the file it is asked for and each
# read crosses the wire (checked: fetched_bytes must grow by the file size).
# One daemon per server serves every round, as for a user reading many
# files: round 1 maps fresh memory, later rounds recycle it.
# BENCH_ROUNDS (5) interleaved rounds (every tool once per case per round);
# the table gives medians: MB/s, ratio to the raw tool, and client CPU
# seconds per GiB = the daemon's utime+stime delta (/proc/PID/stat) + the
# reader's (cat, from /usr/bin/time); for the raw tool its own. Also the
# unifs daemon's peak RSS (VmHWM) against memory + 64 MiB. UFS_BIN selects
# the unifs binary (a before/after comparison runs the script twice).
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/peers.sh"
ufs_begin "bench seq"

mb=${BENCH_MB:-1024}
rounds=${BENCH_ROUNDS:-5}
servers=${BENCH_SERVERS:-nfs rgw s3rver}
peers=${BENCH_PEERS:-1}
mem=${BENCH_MEM:-${mb}M} # the file fills it: reading a evicts b and back
declare -A V # V[server.case.tool.metric] = space-separated values, one per round
declare -A PID BKT EP AK SK

now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches || fail "cannot drop caches (run as root)"; }
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
hwm() { awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$1/status"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }

# run KEY PID CMD...: run CMD (output discarded), add MB/s and CPU s/GiB
# (CMD's user+sys, plus PID's CPU delta when PID is set) to V[KEY.*].
run()
{
	local key=$1 pid=$2 d0=0 d1=0 t0 t1 c
	shift 2
	[[ -n $pid ]] && d0=$(cpu_of "$pid")
	t0=$(now)
	/usr/bin/time -o "$UFS_WORK/time.out" -f '%U %S' "$@" >/dev/null || fail "$key: $*"
	t1=$(now)
	[[ -n $pid ]] && d1=$(cpu_of "$pid")
	c=$(awk -v a="$d0" -v b="$d1" 'END { print $1 + $2 + b - a }' "$UFS_WORK/time.out")
	V[$key.mbps]+=" $(awk -v s="$t0" -v e="$t1" -v m="$mb" 'BEGIN { printf "%.1f", m * 1.048576 / (e - s) }')"
	V[$key.cpu]+=" $(awk -v c="$c" -v m="$mb" 'BEGIN { printf "%.3f", c * 1024 / m }')"
}

# ---- per-server setup: raw_get FILE, a unifs mount, peers ----

s3_get() { curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user "$S3_AK:$S3_SK" \
	-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"; }

# s3_env SERVER: S3_EP / S3_AK / S3_SK for rgw or s3rver.
s3_env()
{
	if [[ $1 == rgw ]]; then
		"$UFS_SERVERS/rgw.sh" start >&2 || fail "Ceph RGW could not start"
		source "$UFS_TEST_DIR/rgw/env"
		S3_EP=$RGW_ENDPOINT S3_AK=$RGW_ACCESS_KEY S3_SK=$RGW_SECRET_KEY
	else
		S3_EP=$UFS_S3_ENDPOINT S3_AK=$AWS_ACCESS_KEY_ID S3_SK=$AWS_SECRET_ACCESS_KEY
	fi
}

# setup SERVER: seed files a and b, mount unifs (and peers) at $UFS_WORK/SERVER-*.
setup()
{
	local s=$1 conf=$UFS_WORK/$1.conf src=$UFS_WORK/seed.bin
	[[ -f $src ]] || head -c $((mb << 20)) /dev/urandom >"$src" || fail "cannot write $src"
	if [[ $s == nfs ]]; then
		local d
		d=$(ufs_uniq bench-seq)
		mkdir -p "$UFS_NFS_EXPORT_DIR/$d"
		on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$d'"
		cp "$src" "$UFS_NFS_EXPORT_DIR/$d/a" && cp "$src" "$UFS_NFS_EXPORT_DIR/$d/b" ||
			fail "cannot seed the NFS export"
		NFS_BASE=$UFS_NFS_URL/$d
		printf '[global]\nmemory = %s\n[mount "/"]\nurl = %s\n' "$mem" "$NFS_BASE" >"$conf"
	else
		local bkt
		bkt=$(ufs_uniq bseq)
		s3_env "$s"
		s3_get -X PUT "$S3_EP/$bkt" -o /dev/null || fail "cannot create bucket $bkt on $s"
		on_exit "S3_AK='$S3_AK' S3_SK='$S3_SK'; for k in a b; do s3_get -X DELETE '$S3_EP/$bkt/'\$k -o /dev/null; done; s3_get -X DELETE '$S3_EP/$bkt' -o /dev/null"
		for k in a b; do
			s3_get -T "$src" "$S3_EP/$bkt/$k" -o /dev/null || fail "cannot PUT $k on $s"
		done
		BKT[$s]=$bkt EP[$s]=$S3_EP AK[$s]=$S3_AK SK[$s]=$S3_SK
		printf '[global]\nmemory = %s\n[mount "/"]\nurl = s3://%s/\nendpoint = %s\npath_style = true\n' \
			"$mem" "$bkt" "$S3_EP" >"$conf"
	fi
	if [[ $s == nfs ]]; then
		ufs_mount "$conf" "$UFS_WORK/$s-unifs"
	else
		AWS_ACCESS_KEY_ID=$S3_AK AWS_SECRET_ACCESS_KEY=$S3_SK ufs_mount "$conf" "$UFS_WORK/$s-unifs"
	fi
	PID[$s]=$(pgrep -f -- "unifs mount .* $UFS_WORK/$s-unifs\$" | head -1)
	[[ -n ${PID[$s]} ]] || fail "no unifs daemon for $s"
	if [[ $s != nfs && $peers == 1 ]]; then
		local bkt=${BKT[$s]}
		UFS_S3_ENDPOINT=$S3_EP AWS_ACCESS_KEY_ID=$S3_AK AWS_SECRET_ACCESS_KEY=$S3_SK \
			mount_s3fs "$bkt" "$UFS_WORK/$s-s3fs" || fail "s3fs mount ($s)"
		UFS_S3_ENDPOINT=$S3_EP AWS_ACCESS_KEY_ID=$S3_AK AWS_SECRET_ACCESS_KEY=$S3_SK \
			mount_rclone "$bkt" "$UFS_WORK/$s-rclone" || fail "rclone mount ($s)"
		PID[$s.s3fs]=$(pgrep -f -- "s3fs $bkt $UFS_WORK/$s-s3fs" | head -1)
		PID[$s.rclone]=$(pgrep -f -- "rclone .*mount s:$bkt $UFS_WORK/$s-rclone" | head -1)
	fi
}

# raw_cmd SERVER FILE: RAWCMD = the raw protocol's read of FILE to stdout.
raw_cmd()
{
	if [[ $1 == nfs ]]; then
		RAWCMD=(nfs-cat "$NFS_BASE/$2")
	else
		RAWCMD=(curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user "${AK[$1]}:${SK[$1]}"
			-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "${EP[$1]}/${BKT[$1]}/$2")
	fi
}

# fetched SERVER: bytes the unifs mount of SERVER fetched from its backend.
fetched()
{
	"$UFS_BIN" stats --json "$UFS_WORK/$1-unifs" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["cache"]["fetched_bytes"])'
}

# one_case SERVER CASE FILE: every tool reads FILE once.
one_case()
{
	local s=$1 c=$2 f=$3 tool
	[[ $c == cold ]] && drop
	raw_cmd "$s" "$f"
	run "$s.$c.raw" "" "${RAWCMD[@]}"
	[[ $c == cold ]] && drop
	local f0
	f0=$(fetched "$s")
	run "$s.$c.unifs" "${PID[$s]}" cat "$UFS_WORK/$s-unifs/$f"
	(($(fetched "$s") - f0 >= (mb << 20) * 9 / 10)) || fail "$s: unifs served $f from its cache"
	[[ $s == nfs || $peers != 1 ]] && return
	for tool in s3fs rclone; do
		[[ $c == cold ]] && drop
		run "$s.$c.$tool" "${PID[$s.$tool]:-}" cat "$UFS_WORK/$s-$tool/$f"
	done
}

for s in $servers; do
	setup "$s"
done
for ((r = 1; r <= rounds; r++)); do
	for s in $servers; do
		one_case "$s" cold a
		raw_cmd "$s" b
		"${RAWCMD[@]}" >/dev/null || fail "warming b on $s"
		one_case "$s" warm b
	done
	echo "round $r done" >&2
done

printf '\nSequential read of one %d MiB file, medians of %d rounds (%s)\n' "$mb" "$rounds" "$UFS_BIN"
printf '%-7s %-5s %-7s %9s %8s %12s   %s\n' server case tool "MB/s" "x raw" "cpu s/GiB" "all rounds MB/s | cpu"
for s in $servers; do
	for c in cold warm; do
		rawm=$(echo "${V[$s.$c.raw.mbps]}" | median)
		for tool in raw unifs s3fs rclone; do
			[[ -n ${V[$s.$c.$tool.mbps]:-} ]] || continue
			m=$(echo "${V[$s.$c.$tool.mbps]}" | median)
			printf '%-7s %-5s %-7s %9s %7.2fx %12s   %s |%s\n' "$s" "$c" "$tool" "$m" \
				"$(awk -v a="$m" -v b="$rawm" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
				"$(echo "${V[$s.$c.$tool.cpu]}" | median)" "${V[$s.$c.$tool.mbps]# }" "${V[$s.$c.$tool.cpu]}"
		done
	done
	printf '%-7s unifs daemon peak RSS %s MiB (memory %s + 64 MiB)\n' "$s" "$(hwm "${PID[$s]}")" "$mem"
done
ufs_pass

#!/usr/bin/env bash
# tests/integration/test_ops_metrics.sh — the Prometheus endpoint for real:
# a mount of an s3rver bucket and a local dir with `metrics = 127.0.0.1:P`,
# Debian's prometheus scraping it every second; the test reads a 3 MiB
# object and lists a directory, then asks Prometheus's HTTP query API that
# the counters moved by what it did (GET 2xx, bytes received, FUSE reads,
# LISTs, cache misses) and checks /metrics against `unifs stats --json`
# (one source). Bad input: the port already in use (mount comes up, the
# warning names the port), an unparsable address (clear error), scrapes
# running while the mount goes away; `unifs ctl MNT log=debug`.
source "$(dirname "$0")/lib.sh"
ufs_begin ops_metrics

PROM=$UFS_SERVERS/prometheus.sh
# Ports unique to this test (ops): Prometheus 19090, unifs 19464..19479
# (the first free one) and that + 100.
prom_port=19090
mport=
for ((p = 19464; p < 19480; p++)); do
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		mport=$p
		break
	fi
done
[[ -n $mport ]] || fail "no free port in 19464..19479"
mport2=$((mport + 100))

bkt=$(ufs_uniq opsmetrics)
s3_mkbucket "$bkt"
head -c $((3 << 20)) /dev/urandom >"$UFS_WORK/obj.bin"
s3_put "$bkt/data/obj.bin" "$UFS_WORK/obj.bin"
mkdir -p "$UFS_WORK/local"
for i in 1 2 3; do echo "file $i" >"$UFS_WORK/local/f$i"; done

cfg=$UFS_WORK/ops.conf
ufs_config "$cfg" <<EOF
[global]
metrics = 127.0.0.1:$mport

[mount "/s3"]
url = s3://$bkt/data/
endpoint = $UFS_S3_ENDPOINT
path_style = true
region = us-east-1

[mount "/local"]
url = file://$UFS_WORK/local
EOF
mnt=$UFS_WORK/mnt
ufs_mount "$cfg" "$mnt"

# --- Prometheus scrapes the mount ---------------------------------------------
pdir=$UFS_WORK/prom
on_exit "'$PROM' stop '$pdir'"
"$PROM" start "$pdir" "$prom_port" "127.0.0.1:$mport" || fail "prometheus did not start"

q() { "$PROM" query "$pdir" "$1"; }

# wait_prom EXPR: wait (<= 30 s) until Prometheus says EXPR holds (a
# comparison, which returns a sample only when true).
wait_prom()
{
	local end=$((SECONDS + 30))
	while ((SECONDS < end)); do
		[[ -n $(q "$1") ]] && return 0
		sleep 0.2
	done
	fail "Prometheus never saw: $1"
}

wait_prom 'up{job="unifs"} == 1'
wait_prom 'unifs_backend_up{mount="/s3"} == 1'
gets0=$(q 'sum(unifs_backend_requests_total{mount="/s3",op="GET",code=~"2.."}) or vector(0)')
bytes0=$(q 'unifs_backend_received_bytes_total{mount="/s3"}')
reads0=$(q 'unifs_fuse_requests_total{op="read"}')
lists0=$(q 'sum(unifs_backend_requests_total{mount="/local",op="LIST"}) or vector(0)')
[[ -n $bytes0 && -n $reads0 ]] || fail "no baseline from Prometheus (bytes=$bytes0 reads=$reads0)"

# --- the I/O ----------------------------------------------------------------------
cmp "$mnt/s3/obj.bin" "$UFS_WORK/obj.bin" || fail "read through the mount differs"
assert_eq "f1 f2 f3" "$(ls "$mnt/local" | xargs)" "listing of /local"

wait_prom "sum(unifs_backend_requests_total{mount=\"/s3\",op=\"GET\",code=~\"2..\"}) >= $gets0 + 1"
wait_prom "unifs_backend_received_bytes_total{mount=\"/s3\"} >= $bytes0 + $((3 << 20))"
wait_prom "unifs_fuse_requests_total{op=\"read\"} >= $reads0 + 1"
wait_prom "sum(unifs_backend_requests_total{mount=\"/local\",op=\"LIST\"}) >= $lists0 + 1"
wait_prom 'unifs_cache_misses_total{tier="memory"} > 0'
wait_prom 'unifs_backend_operation_duration_seconds_count{mount="/s3",op="read"} > 0'
wait_prom 'unifs_memory_budget_bytes > 0'
# The object was fetched once: bytes received moved by 3 MiB (+ small
# HEAD/LIST bodies), not more.
sleep 2
bytes1=$(q 'unifs_backend_received_bytes_total{mount="/s3"}')
python3 -c 'import sys
d = float(sys.argv[1]) - float(sys.argv[2])
sys.exit(not (3 << 20 <= d < (3 << 20) + 65536))' "$bytes1" "$bytes0" ||
	fail "bytes received moved $bytes0 -> $bytes1, expected by 3 MiB"

# --- one source: /metrics and unifs stats --json agree --------------------------
m=$(curl -sf "http://127.0.0.1:$mport/metrics") || fail "GET /metrics failed"
grep -q '^# TYPE unifs_backend_requests_total counter$' <<<"$m" || fail "no TYPE line in /metrics"
mbytes=$(awk '$1 == "unifs_backend_received_bytes_total{mount=\"/s3\"}" {print $2}' <<<"$m")
sbytes=$("$UFS_BIN" stats --json "$mnt" | python3 -c 'import json,sys
print([b for b in json.load(sys.stdin)["backends"] if b["mount"] == "/s3"][0]["bytes_in"])')
assert_eq "$sbytes" "$mbytes" "bytes_in in unifs stats vs /metrics"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/nope")
assert_eq 404 "$code" "unknown path on the metrics port"

# --- unifs ctl: log level at run time --------------------------------------------
out=$("$UFS_BIN" ctl "$mnt" log=debug) || fail "unifs ctl log=debug failed"
[[ $out == "log debug (was "* ]] || fail "unexpected ctl reply: $out"
assert_fails "$UFS_BIN" ctl "$mnt" log=loud
err=$("$UFS_BIN" ctl "$mnt" log=loud 2>&1)
[[ $err == *"expected error, warn, info or debug"* ]] || fail "bad level message: $err"
"$UFS_BIN" ctl "$mnt" log=info >/dev/null || fail "unifs ctl log=info failed"

# --- bad input ---------------------------------------------------------------------
mnt2=$UFS_WORK/mnt2
mkdir -p "$mnt2"
err=$(within 60 "$UFS_BIN" mount -o metrics=127.0.0.1:$mport "file://$UFS_WORK/local" "$mnt2" 2>&1) ||
	fail "mount with the metrics port in use failed: $err"
on_exit "ufs_umount '$mnt2'"
[[ $err == *"port $mport"*"in use"* ]] || fail "no warning naming port $mport: $err"
assert_eq "f1 f2 f3" "$(ls "$mnt2" | xargs)" "mount without metrics still works"
ufs_umount "$mnt2" || fail "cannot unmount $mnt2"

err=$("$UFS_BIN" mount -o metrics=127.0.0.1:notaport "file://$UFS_WORK/local" "$mnt2" 2>&1) &&
	fail "an unparsable metrics address was accepted"
[[ $err == *"metrics: expected HOST:PORT"*"127.0.0.1:notaport"* ]] || fail "unclear error: $err"
[[ $(wc -l <<<"$err") == 1 ]] || fail "error is not one line: $err"
ufs_is_mounted "$mnt2" && fail "$mnt2 mounted after a config error"

# Scrapes while the mount goes away: each completes or is refused, and the
# daemon exits (nothing left mounted, the port closed).
mnt3=$UFS_WORK/mnt3
ufs_config "$UFS_WORK/m3.conf" <<EOF
[global]
metrics = 127.0.0.1:$mport2
[mount "/"]
url = file://$UFS_WORK/local
EOF
ufs_mount "$UFS_WORK/m3.conf" "$mnt3"
curl -sf -o /dev/null "http://127.0.0.1:$mport2/metrics" || fail "second endpoint not serving"
(for ((i = 0; i < 300; i++)); do curl -s -m 2 -o /dev/null "http://127.0.0.1:$mport2/metrics"; done) &
scraper=$!
sleep 0.3
within 30 "$UFS_BIN" umount "$mnt3" || fail "umount during scrapes failed"
kill "$scraper" 2>/dev/null
wait "$scraper" 2>/dev/null
ufs_is_mounted "$mnt3" && fail "$mnt3 still mounted"
if curl -s -m 2 -o /dev/null "http://127.0.0.1:$mport2/metrics"; then
	fail "metrics port still answers after unmount"
fi

ufs_pass

#!/usr/bin/env bash
# bench_s3.sh — S3 sequential throughput on s3rver, in one run:
#   read 1 GiB:  unifs mount  vs  one curl GET (the limit)  vs  s3fs  vs  rclone mount
#   write 1 GiB: unifs mount  vs  curl -T
# Prints MB/s and the ratios against the goals (read >= 0.8x curl and
# >= 1.5x both peers; write >= 0.7x curl). Peers missing from PATH are
# reported as such. Size: BENCH_MB (default 1024).
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/peers.sh"
ufs_begin "bench s3"

mb=${BENCH_MB:-1024}
export S3CURL_TIMEOUT=${S3CURL_TIMEOUT:-3600}
bkt=$(ufs_uniq bench)
s3_mkbucket "$bkt"
src=$UFS_WORK/src.bin
head -c $((mb << 20)) /dev/urandom >"$src"
"$UFS_SERVERS/s3curl.sh" PUT "/$bkt/obj.bin" -T "$src" -o /dev/null || fail "seeding the object"

now() { date +%s.%N; }
rate() { awk -v s="$1" -v e="$2" -v m="$mb" 'BEGIN { printf "%.1f", m * 1.048576 / (e - s) }'; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
declare -A R

# curl GET: the limit
drop
t0=$(now)
"$UFS_SERVERS/s3curl.sh" GET "/$bkt/obj.bin" -o /dev/null || fail "curl GET"
R[curl_read]=$(rate "$t0" "$(now)")

# unifs
mnt=$UFS_WORK/unifs
ufs_config "$UFS_WORK/unifs.conf" <<EOF
[global]
memory = 2G
[mount "/"]
url = s3://$bkt/
endpoint = $UFS_S3_ENDPOINT
path_style = true
EOF
ufs_mount "$UFS_WORK/unifs.conf" "$mnt"
drop
t0=$(now)
dd if="$mnt/obj.bin" of=/dev/null bs=1M status=none || fail "unifs read"
R[unifs_read]=$(rate "$t0" "$(now)")

# s3fs and rclone mount, with their defaults
if mount_s3fs "$bkt" "$UFS_WORK/s3fs"; then
	drop
	t0=$(now)
	dd if="$UFS_WORK/s3fs/obj.bin" of=/dev/null bs=1M status=none && R[s3fs_read]=$(rate "$t0" "$(now)")
fi
: "${R[s3fs_read]:=n/a}"
if mount_rclone "$bkt" "$UFS_WORK/rclone"; then
	drop
	t0=$(now)
	dd if="$UFS_WORK/rclone/obj.bin" of=/dev/null bs=1M status=none && R[rclone_read]=$(rate "$t0" "$(now)")
fi
: "${R[rclone_read]:=n/a}"

# writes
t0=$(now)
"$UFS_SERVERS/s3curl.sh" PUT "/$bkt/curl-put.bin" -T "$src" -o /dev/null || fail "curl -T"
R[curl_write]=$(rate "$t0" "$(now)")
t0=$(now)
dd if="$src" of="$mnt/unifs-put.bin" bs=1M status=none conv=fsync || fail "unifs write"
R[unifs_write]=$(rate "$t0" "$(now)")

# curl multipart: the same 8 MiB parts, 4 in flight, then Complete. This is
# the raw limit of any writer that does not know the size up front: s3rver's
# CompleteMultipartUpload re-reads and re-hashes every part, so multipart
# costs it about twice the work of one PUT.
parts=$UFS_WORK/parts
mkdir -p "$parts"
split -b 8M -d -a 5 "$src" "$parts/p"
upload_part() # FILE NUMBER UPLOADID
{
	local etag
	etag=$("$UFS_SERVERS/s3curl.sh" PUT "/$bkt/curl-mpu.bin?partNumber=$2&uploadId=$3" -T "$1" -o /dev/null -D - |
		tr -d '\r' | sed -n 's/^[Ee][Tt]ag: *//p')
	printf '<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>\n' "$2" "$etag" >"$1.xml"
}
t0=$(now)
uid=$("$UFS_SERVERS/s3curl.sh" POST "/$bkt/curl-mpu.bin?uploads" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
[[ -n $uid ]] || fail "CreateMultipartUpload"
n=0
for f in "$parts"/p*; do
	n=$((n + 1))
	upload_part "$f" "$n" "$uid" &
	((n % 4 == 0)) && wait
done
wait
{ echo '<CompleteMultipartUpload>'; cat $(ls "$parts"/p*.xml | sort); echo '</CompleteMultipartUpload>'; } >"$UFS_WORK/complete.xml"
"$UFS_SERVERS/s3curl.sh" POST "/$bkt/curl-mpu.bin?uploadId=$uid" -T "$UFS_WORK/complete.xml" -o /dev/null ||
	fail "CompleteMultipartUpload"
R[curl_mpu_write]=$(rate "$t0" "$(now)")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "n/a" }'; }
printf '\nS3 sequential, %d MiB object on s3rver (MB/s)\n' "$mb"
printf '  read   curl %8s  unifs %8s  s3fs %8s  rclone %8s\n' "${R[curl_read]}" "${R[unifs_read]}" "${R[s3fs_read]}" "${R[rclone_read]}"
printf '  write  curl %8s  unifs %8s  curl-multipart %8s\n' "${R[curl_write]}" "${R[unifs_write]}" "${R[curl_mpu_write]}"
printf '  unifs/curl read  %s (goal >= 0.8x)\n' "$(ratio "${R[unifs_read]}" "${R[curl_read]}")"
printf '  unifs/s3fs read  %s (goal >= 1.5x)\n' "$(ratio "${R[unifs_read]}" "${R[s3fs_read]}")"
printf '  unifs/rclone     %s (goal >= 1.5x)\n' "$(ratio "${R[unifs_read]}" "${R[rclone_read]}")"
printf '  unifs/curl write %s (goal >= 0.7x)\n' "$(ratio "${R[unifs_write]}" "${R[curl_write]}")"
printf '  unifs/curl-multipart write %s (same request pattern: the limit for streamed writes)\n' \
	"$(ratio "${R[unifs_write]}" "${R[curl_mpu_write]}")"
ufs_pass

#!/usr/bin/env bash
# bench_migrate.sh — unifs cp/sync/check against `rclone copy/sync/check`
# (Debian's rclone) with equal parallelism (--transfers T, --checksum), same
# servers, one run each:
#   (a) N_A x A_MB MiB   NFS -> S3      (rclone reads the NFS export's
#                                        directory locally: it has no NFS client)
#   (b) N_B x B_KB KiB   S3 -> Blob
#   (c) 1 x C_MB MiB     S3 -> NFS      (rclone writes the export's directory)
#   (d) sync of (b) after 1% of the files changed
#   (e) check of (b)
# Prints wall seconds, the speed ratio rclone/unifs (> 1: unifs faster),
# client CPU s/GiB and peak RSS of each, then the RSS of `unifs cp` over
# RSS_FILES empty files (the bounded-memory goal: <= 256 MiB at 100,000).
# Defaults are the sizes of the published run (docs/performance.md):
# BENCH_N_A=4 BENCH_A_MB=512 BENCH_N_B=5000 BENCH_B_KB=64 BENCH_C_MB=1024
# BENCH_TRANSFERS=8 BENCH_RSS_FILES=100000;
# scale them down for a quick run.
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench migrate"
command -v rclone >/dev/null || fail "rclone not installed"

n_a=${BENCH_N_A:-4} a_mb=${BENCH_A_MB:-512} n_b=${BENCH_N_B:-5000} b_kb=${BENCH_B_KB:-64}
c_mb=${BENCH_C_MB:-1024} tr=${BENCH_TRANSFERS:-8} rss_files=${BENCH_RSS_FILES:-100000}
export AWS_ENDPOINT_URL=$UFS_S3_ENDPOINT
export AZURE_STORAGE_CONNECTION_STRING="AccountName=$UFS_AZ_ACCOUNT;AccountKey=$UFS_AZ_KEY;BlobEndpoint=$UFS_AZ_ENDPOINT"
# rclone_az_sas: an account SAS URL for Azurite (blob service, all
# permissions, signed like Azure's "Create an account SAS", version
# 2021-12-02). Debian's rclone 1.60 cannot reach Azurite otherwise: its
# use_emulator sends requests without a URL and its endpoint key is a DNS
# suffix (https://ACCOUNT.ENDPOINT), while a SAS URL is used as given.
rclone_az_sas()
{
	local se=2099-01-01T00:00:00Z sts sig
	sts="$UFS_AZ_ACCOUNT"$'\n'"racwdl"$'\n'"b"$'\n'"sco"$'\n\n'"$se"$'\n\n'"http,https"$'\n'"2021-12-02"$'\n\n'
	sig=$(printf '%s' "$sts" | openssl dgst -sha256 -mac HMAC \
		-macopt "hexkey:$(printf '%s' "$UFS_AZ_KEY" | base64 -d | od -An -vtx1 | tr -d ' \n')" \
		-binary | base64 -w0)
	sig=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$sig")
	printf '%s?sv=2021-12-02&ss=b&srt=sco&sp=racwdl&se=%s&spr=http,https&sig=%s\n' \
		"$UFS_AZ_ENDPOINT" "${se//:/%3A}" "$sig"
}
rc_conf=$UFS_WORK/rclone.conf
printf '%s\n' "[s]" "type = s3" "provider = Other" "endpoint = $UFS_S3_ENDPOINT" \
	"access_key_id = $AWS_ACCESS_KEY_ID" "secret_access_key = $AWS_SECRET_ACCESS_KEY" \
	"force_path_style = true" "[az]" "type = azureblob" "sas_url = $(rclone_az_sas)" >"$rc_conf"
unset AWS_CA_BUNDLE # rclone cannot use a CA bundle with its own transport
rc() { rclone --config "$rc_conf" --transfers "$tr" --checkers "$tr" --checksum "$@"; }
uf() { "$UFS_BIN" "$@" --transfers "$tr" --checksum --no-progress; }
export -f rc uf
export rc_conf tr UFS_BIN

nfs_name=$(ufs_uniq bench-migrate)
nfs_dir=$UFS_NFS_EXPORT_DIR/$nfs_name
[[ -n $UFS_NFS_EXPORT_DIR ]] || fail "UFS_NFS_EXPORT_DIR is not set"
mkdir -p "$nfs_dir/a"
on_exit "rm -rf '$nfs_dir'"
bkt=$(ufs_uniq bench-migrate)
s3_mkbucket "$bkt"
cont=$(ufs_uniq bench-migrate)
az_mkcontainer "$cont"

# measure NAME FUNC ARGS...: wall, user+sys CPU and peak RSS into M_*[NAME].
declare -A M_WALL M_CPU M_RSS
measure()
{
	local name=$1 out=$UFS_WORK/time.$1 w u s k
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$out" bash -c '"$@"' _ "$@" >"$UFS_WORK/out.$name" 2>&1 ||
		echo "bench_migrate: $name failed: $(tail -2 "$UFS_WORK/out.$name")" >&2
	read -r w u s k < <(tail -1 "$out")
	[[ ${k:-} =~ ^[0-9]+$ ]] || { w=0 u=0 s=0 k=0; }
	M_WALL[$name]=$w
	M_CPU[$name]=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
	M_RSS[$name]=$((k / 1024))
}

# --- fixtures -------------------------------------------------------------------
for i in $(seq 1 "$n_a"); do head -c $((a_mb << 20)) /dev/urandom >"$nfs_dir/a/big$i"; done
mkdir -p "$UFS_WORK/b" "$UFS_WORK/c"
for i in $(seq 1 "$n_b"); do head -c $((b_kb << 10)) /dev/urandom >"$UFS_WORK/b/f$i"; done
rc copy "$UFS_WORK/b" "s:$bkt/b" || fail "seeding (b)"
head -c $((c_mb << 20)) /dev/urandom >"$UFS_WORK/c/one.bin"
rc copy "$UFS_WORK/c" "s:$bkt/c" || fail "seeding (c)"
rm -rf "${UFS_WORK:?}/b" "${UFS_WORK:?}/c"

# --- runs: unifs first, then rclone, each into its own destination ----------------
measure a_unifs uf cp -r "$UFS_NFS_URL/$nfs_name/a" "s3://$bkt/a-unifs"
measure a_rclone rc copy "$nfs_dir/a" "s:$bkt/a-rclone"
measure b_unifs uf cp -r "s3://$bkt/b" "az://$cont/b-unifs"
measure b_rclone rc copy "s:$bkt/b" "az:$cont/b-rclone"
measure c_unifs uf cp -r "s3://$bkt/c" "$UFS_NFS_URL/$nfs_name/c-unifs"
measure c_rclone rc copy "s:$bkt/c" "$nfs_dir/c-rclone"
n_chg=$((n_b / 100 > 0 ? n_b / 100 : 1))
for i in $(seq 1 "$n_chg"); do
	head -c $((b_kb << 10)) /dev/urandom >"$UFS_WORK/chg"
	"$UFS_SERVERS/s3curl.sh" PUT "/$bkt/b/f$((i * (n_b / n_chg)))" -T "$UFS_WORK/chg" -o /dev/null ||
		fail "changing (b)"
done
measure d_unifs uf sync "s3://$bkt/b" "az://$cont/b-unifs"
measure d_rclone rc sync "s:$bkt/b" "az:$cont/b-rclone"
measure e_unifs uf check "s3://$bkt/b" "az://$cont/b-unifs"
measure e_rclone rc check "s:$bkt/b" "az:$cont/b-rclone"

declare -A BYTES=([a]=$((n_a * a_mb << 20)) [b]=$((n_b * b_kb << 10)) [c]=$((c_mb << 20))
	[d]=$((n_chg * b_kb << 10)) [e]=$((n_b * b_kb << 10)))
printf '\n%-4s %-28s %8s %8s %7s %10s %10s %8s %8s\n' case what unifs_s rclone_s ratio \
	u_cpu/GiB r_cpu/GiB u_rssMiB r_rssMiB
for k in a b c d e; do
	case $k in
	a) what="$n_a x $a_mb MiB NFS->S3" ;;
	b) what="$n_b x $b_kb KiB S3->Blob" ;;
	c) what="1 x $c_mb MiB S3->NFS" ;;
	d) what="sync (b), $n_chg changed" ;;
	e) what="check (b)" ;;
	esac
	awk -v k="$k" -v w="$what" -v u="${M_WALL[${k}_unifs]}" -v r="${M_WALL[${k}_rclone]}" \
		-v uc="${M_CPU[${k}_unifs]}" -v rcpu="${M_CPU[${k}_rclone]}" -v b="${BYTES[$k]}" \
		-v um="${M_RSS[${k}_unifs]}" -v rm="${M_RSS[${k}_rclone]}" 'BEGIN { g = b / 1073741824;
		printf "%-4s %-28s %8.2f %8.2f %6.2fx %10.2f %10.2f %8d %8d\n", k, w, u, r, r / u,
			uc / g, rcpu / g, um, rm }'
done

# --- bounded memory: RSS of cp over many small files ------------------------------
mkdir -p "$UFS_WORK/many"
for d in $(seq 0 99); do
	mkdir -p "$UFS_WORK/many/d$d"
	(cd "$UFS_WORK/many/d$d" && seq -f "f%g" 1 $((rss_files / 100)) | xargs touch)
done
measure rss uf cp -r "file://$UFS_WORK/many" "file://$UFS_WORK/many-copy"
printf '\nunifs cp -r of %d empty files (file -> file): %.1f s, peak RSS %d MiB (goal <= 256)\n' \
	"$rss_files" "${M_WALL[rss]}" "${M_RSS[rss]}"
ufs_pass

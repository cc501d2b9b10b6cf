#!/usr/bin/env bash
# tests/integration/test_az_faults.sh — Azure Blob failure modes through
# `unifs mount` against Azurite (which verifies SharedKey and SAS signatures):
#   wrong key -> the mount fails with a one-line EACCES reason, nothing mounted;
#   key_file readable by group/other -> refused; the right key mounts;
#   expired (correctly signed) and forged SAS -> EACCES; a valid SAS works;
#   missing container -> one line naming it;
#   Azurite stopped mid-read -> the reader gets an error within a bound, the
#   mount keeps answering, and it serves again once Azurite is back.
# Azurite is shared with other tests: it is restarted before this test ends,
# also from the exit trap.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/az_lib.sh"
ufs_begin "az faults"

cont=$(ufs_uniq azfaults)
az_mkcontainer "$cont" # deleted at exit
mnt=$UFS_WORK/mnt
mkdir -p "$mnt"

# mount_fails CONFIG PATTERN: the mount must fail, say PATTERN in one line,
# and leave nothing mounted.
mount_fails()
{
	local out
	out=$(within 60 "$UFS_BIN" mount "$1" "$mnt" 2>&1) && {
		ufs_umount "$mnt"
		fail "mount with $2 succeeded"
	}
	ufs_is_mounted "$mnt" && fail "a failed mount left $mnt mounted"
	grep -q -- "$2" <<<"$out" || fail "mount error does not say '$2': $out"
	assert_eq 1 "$(grep -c . <<<"$out")" "lines of the mount error"
}

# az_account_sas EXPIRY [KEY]: an account SAS (blob service, all permissions)
# signed like Azure's "Create an account SAS" (version 2021-12-02).
az_account_sas()
{
	local se=$1 key=${2:-$UFS_AZ_KEY} sts sig
	sts="$UFS_AZ_ACCOUNT"$'\n'"racwdl"$'\n'"b"$'\n'"sco"$'\n\n'"$se"$'\n\n'"http,https"$'\n'"2021-12-02"$'\n\n'
	sig=$(printf '%s' "$sts" | openssl dgst -sha256 -mac HMAC \
		-macopt "hexkey:$(printf '%s' "$key" | base64 -d | od -An -vtx1 | tr -d ' \n')" \
		-binary | base64 -w0)
	printf 'sv=2021-12-02&ss=b&srt=sco&sp=racwdl&se=%s&spr=http,https&sig=%s\n' \
		"$(az_enc "$se")" "$(az_enc "$sig" | sed 's|/|%2F|g')"
}

# --- credentials ------------------------------------------------------------
az_write_config "$UFS_WORK/az.conf" "$cont"
printf '%s\n' "$(head -c 64 /dev/urandom | base64 -w0)" >"$UFS_WORK/az.key"
mount_fails "$UFS_WORK/az.conf" "authentication failed for account '$UFS_AZ_ACCOUNT'"

az_write_config "$UFS_WORK/az.conf" "$cont"
chmod 640 "$UFS_WORK/az.key"
mount_fails "$UFS_WORK/az.conf" "readable by group/other"
chmod 600 "$UFS_WORK/az.key"

sas_config()
{
	(umask 077 && printf '%s\n' "$1" >"$UFS_WORK/az.sas")
	ufs_config "$UFS_WORK/sas.conf" <<EOF
[mount "/blob"]
url = az://$cont/
endpoint = $UFS_AZ_ENDPOINT
sas_file = $UFS_WORK/az.sas
EOF
}
sas_config "$(az_account_sas 2001-01-01T00:00:00Z)"
mount_fails "$UFS_WORK/sas.conf" "authentication failed.*SAS"
sas_config "$(az_account_sas 2099-01-01T00:00:00Z "$(head -c 64 /dev/urandom | base64 -w0)")"
mount_fails "$UFS_WORK/sas.conf" "authentication failed.*SAS"
sas_config "$(az_account_sas 2099-01-01T00:00:00Z)"
ufs_mount "$UFS_WORK/sas.conf" "$mnt"
echo "via sas" >"$mnt/blob/sas.txt" || fail "write with a valid SAS"
az_get "$cont/sas.txt" "$UFS_WORK/sas.got" || fail "direct GET of sas.txt"
assert_eq "via sas" "$(cat "$UFS_WORK/sas.got")" "content written with a SAS"
ufs_umount "$mnt" || fail "umount"

# --- missing container --------------------------------------------------------
az_write_config "$UFS_WORK/nocont.conf" "nosuch-$cont"
mount_fails "$UFS_WORK/nocont.conf" \
	"container 'nosuch-$cont' does not exist in account '$UFS_AZ_ACCOUNT'"

# --- Azurite stopped mid-read -------------------------------------------------
head -c 96M /dev/urandom >"$UFS_WORK/data"
az_put "$cont/data.bin" "$UFS_WORK/data"
az_write_config "$UFS_WORK/az.conf" "$cont"
sed -i 's/^memory = 1G/memory = 256M\nreadahead_max = 16M\nop_timeout = 5\nretry_down = 2/' \
	"$UFS_WORK/az.conf"
ufs_mount "$UFS_WORK/az.conf" "$mnt"
on_exit "'$UFS_SERVERS/azurite.sh' start"

# a slow reader: 1 MiB every 50 ms; reports how it ended and when
python3 - "$mnt/blob/data.bin" >"$UFS_WORK/reader.out" 2>&1 <<'PY' &
import sys, time
t0 = time.monotonic()
try:
    with open(sys.argv[1], "rb") as f:
        while f.read(1 << 20):
            time.sleep(0.05)
    print("EOF")
except OSError as e:
    print(f"ERROR {e.errno} {time.monotonic() - t0:.1f}")
PY
reader=$!
sleep 1
"$UFS_SERVERS/azurite.sh" stop >/dev/null 2>&1 || fail "cannot stop azurite"
stopped=$SECONDS
wait $reader
res=$(cat "$UFS_WORK/reader.out")
[[ $res == ERROR* ]] || fail "reader did not see an error with Azurite down: $res"
((SECONDS - stopped <= 60)) || fail "reader error took $((SECONDS - stopped))s (bound 60s)"
# the mount answers (with an error) in bounded time while the server is down
within 30 ls "$mnt/blob" >/dev/null 2>&1 && fail "listing succeeded with Azurite down"
within 30 stat "$mnt" >/dev/null || fail "the mount root does not answer while Azurite is down"

"$UFS_SERVERS/azurite.sh" start >/dev/null 2>&1 || fail "cannot restart azurite"
ok=0
for ((i = 0; i < 30; i++)); do
	if cmp -s "$UFS_WORK/data" "$mnt/blob/data.bin"; then
		ok=1
		break
	fi
	sleep 1
done
((ok)) || fail "no recovery within 30s of Azurite's restart"
ls "$mnt/blob" | grep -qx data.bin || fail "listing after recovery"

ufs_pass

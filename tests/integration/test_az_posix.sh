#!/usr/bin/env bash
# tests/integration/test_az_posix.sh — the Azure Blob backend through a real
# FUSE mount against Azurite, checked with ordinary tools and with
# independent SharedKey-signed requests (azcurl.sh, not unifs):
#   a large file (UFS_AZ_POSIX_MB, default 64 MiB) written through the mount == the blob GET directly == read back;
#   6,000 blobs created directly are all listed (two List Blobs pages);
#   the folder marker blob (shared semantics: test_os_conformance.sh);
#   awkward names (spaces, unicode, + % ? &) round-trip exactly both ways;
#   `unifs ls / stat / cat az://...` without a mount.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/az_lib.sh"
ufs_begin "az posix"

cont=$(ufs_uniq azposix)
az_mkcontainer "$cont" # deleted at exit
az_write_config "$UFS_WORK/az.conf" "$cont"
mnt=$UFS_WORK/mnt
ufs_mount "$UFS_WORK/az.conf" "$mnt"
m=$mnt/blob

# --- a large file, written and read through the mount --------------------
big_mb=${UFS_AZ_POSIX_MB:-64}
head -c $((big_mb << 20)) /dev/urandom >"$UFS_WORK/big.src"
within 600 cp "$UFS_WORK/big.src" "$m/big.bin" || fail "cp of $big_mb MiB into the mount"
az_get "$cont/big.bin" "$UFS_WORK/big.direct" || fail "direct GET of big.bin"
assert_file_eq "$UFS_WORK/big.src" "$UFS_WORK/big.direct"
rm -f "$UFS_WORK/big.direct"
assert_eq $((big_mb << 20)) "$(stat -c %s "$m/big.bin")" "size of big.bin"
within 600 cmp "$UFS_WORK/big.src" "$m/big.bin" || fail "big.bin read back differs"
rm -f "$UFS_WORK/big.src"

# --- 6,000 blobs made directly, listed completely across pages ------------
seq -f 'f%05g' 1 6000 >"$UFS_WORK/names.want"
az_bulk_put "$cont" many/ 6000 || fail "creating 6000 blobs directly"
assert_eq 6000 "$(az_list_names "$cont" many/ | wc -l)" "blobs stored under many/"
ls "$m/many" >"$UFS_WORK/names.got" || fail "ls of many/"
assert_eq 6000 "$(wc -l <"$UFS_WORK/names.got")" "entries listed in many/"
cmp -s "$UFS_WORK/names.want" "$UFS_WORK/names.got" || fail "many/ lists other names"
assert_eq 2 "$(stat -c %s "$m/many/f06000")" "size of the last listed blob"
assert_eq 6000 "$(find "$m/many" -type f -size 2c | wc -l)" "files of 2 bytes in many/"

# --- Azure's folder marker blob (the shared directory semantics:
# test_os_conformance.sh) ---------------------------------------------------
mkdir "$m/d1" || fail "mkdir d1"
"$AZCURL" HEAD "/$cont/d1" | grep -qi '^x-ms-meta-hdi_isfolder: *true' ||
	fail "mkdir did not store a hdi_isfolder marker blob"
echo one >"$m/d1/f" || fail "write d1/f"
mv "$m/d1/f" "$m/d1/g" || fail "mv d1/f d1/g"
assert_eq "d1
d1/g" "$(az_list_names "$cont" d1)" "blobs under d1 after mv"
rm -r "$m/d1" || fail "rm -r d1"
assert_eq "" "$(az_list_names "$cont" d)" "blobs left under d1"

# --- awkward names, both ways ----------------------------------------------
names=("sp ace.txt" "uni-ü-日本.txt" "plus+sign" "per%cent%20x" "quest?ion" "amp&ersand=1"
	"mix ?&+%é #x" "dir with space")
mkdir "$m/odd" || fail "mkdir odd"
for n in "${names[@]}"; do
	printf 'via mount: %s\n' "$n" >"$m/odd/$n" || fail "create '$n' through the mount"
done
az_list_names "$cont" odd/ | sed 's|^odd/||' | LC_ALL=C sort >"$UFS_WORK/odd.got"
printf '%s\n' "${names[@]}" | LC_ALL=C sort >"$UFS_WORK/odd.want"
cmp -s "$UFS_WORK/odd.want" "$UFS_WORK/odd.got" ||
	fail "stored names differ: $(diff "$UFS_WORK/odd.want" "$UFS_WORK/odd.got" | tr '\n' ' ')"
for n in "${names[@]}"; do
	az_get "$cont/odd/$(az_enc "$n")" "$UFS_WORK/odd.one" || fail "direct GET of '$n'"
	assert_eq "via mount: $n" "$(cat "$UFS_WORK/odd.one")" "content of '$n'"
	printf 'direct: %s\n' "$n" >"$UFS_WORK/odd.put"
	az_put "$cont/odd2/$(az_enc "$n")" "$UFS_WORK/odd.put"
done
ls "$m/odd2" | LC_ALL=C sort >"$UFS_WORK/odd2.got"
cmp -s "$UFS_WORK/odd.want" "$UFS_WORK/odd2.got" || fail "names made directly list differently"
for n in "${names[@]}"; do
	assert_eq "direct: $n" "$(cat "$m/odd2/$n")" "reading '$n' made directly"
done

# --- unifs ls / stat / cat without a mount --------------------------------
export AZURE_STORAGE_CONNECTION_STRING="AccountName=$UFS_AZ_ACCOUNT;AccountKey=$UFS_AZ_KEY;BlobEndpoint=$UFS_AZ_ENDPOINT"
ls_out=$(within 60 "$UFS_BIN" ls "az://$cont/odd/") || fail "unifs ls az://$cont/odd/"
for n in "${names[@]}"; do
	grep -qF " $n" <<<"$ls_out" || fail "unifs ls does not show '$n'"
done
within 60 "$UFS_BIN" stat "az://$cont/many/f00042" | grep -q 'Size: *2$' ||
	fail "unifs stat of many/f00042"
assert_eq "via mount: plus+sign" "$(within 60 "$UFS_BIN" cat "az://$cont/odd/plus+sign")" \
	"unifs cat"
assert_fails within 60 "$UFS_BIN" cat "az://$cont/odd/missing"

ufs_pass

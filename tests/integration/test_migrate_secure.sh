#!/usr/bin/env bash
# tests/integration/test_migrate_secure.sh — `unifs cp`/`sync`/`check` run
# by root over another user's data cannot be turned against anyone:
# - setuid/setgid: a user's 04755/02755 file copied by root keeps its owner
#   (or loses the bits), on file:// and nfs://; a non-root copy of root's
#   setuid file is no setuid file of the copier;
# - directory modes: a private 0700 source directory is 0700 on DST (its
#   0644 file unreadable by the second user), a 0500 one is filled and
#   ends 0500 (copied by that user), directory mtimes kept;
# - the journal: a symlink planted in a sticky shared directory is refused
#   and its target never created; a journal owned by the second user is
#   refused; a new journal is 0600, and --resume reopens it;
# - hostile names (ESC, BEL, newline, tab, backslash, invalid UTF-8) in the
#   text report, warnings and `unifs ls` hold no raw control byte and keep
#   one line per name; --json-lines is valid UTF-8 and round-trips to the
#   names' bytes with Python's surrogateescape; the same for S3 keys.
# Run as root with a second user (ufs_user, setpriv).
source "$(dirname "$0")/lib.sh"
ufs_begin migrate_secure
[[ $(id -u) == 0 ]] || ufs_skip "needs root (a second user, chown)"
command -v setpriv >/dev/null || fail "setpriv (util-linux) not installed"
u2=ufsmig2
ufs_user $u2 >/dev/null
uid2=$(id -u $u2)
gid2=$(id -g $u2)
chmod 755 "$UFS_WORK"

run() { within 120 "$UFS_BIN" "$@" >"$UFS_WORK/out" 2>"$UFS_WORK/err"; }
run_as2() {
	within 120 setpriv --reuid=$uid2 --regid=$gid2 --clear-groups -- "$UFS_BIN" "$@" \
		>"$UFS_WORK/out" 2>"$UFS_WORK/err"
}
# mode_owner PATH: "octal-mode uid gid"
mode_owner() { stat -c '%a %u %g' "$1"; }

# ---- setuid / setgid -----------------------------------------------------
src=$UFS_WORK/src
mkdir -p "$src/priv" "$src/open"
echo "user program" >"$src/suid"
echo "group program" >"$src/sgid"
chown $uid2:$gid2 "$src/suid" "$src/sgid"
chmod 04755 "$src/suid" # after chown: chown clears the bits
chmod 02755 "$src/sgid"
echo "root secret" >"$src/priv/secret"
chmod 0644 "$src/priv/secret"
chmod 0700 "$src/priv"
touch -d @1500000000 "$src/priv/secret" "$src/priv"
echo "public" >"$src/open/f"

# no_lying_bits DIR: a copied setuid/setgid file keeps its owner/group or
# loses the bit
no_lying_bits() {
	local m u g
	read -r m u g <<<"$(mode_owner "$1/suid")"
	if ((8#$m & 04000)) && [[ $u != "$uid2" ]]; then
		fail "$1/suid: setuid copy owned by uid $u, not the source's $uid2 (mode $m)"
	fi
	read -r m u g <<<"$(mode_owner "$1/sgid")"
	if ((8#$m & 02000)) && [[ $g != "$gid2" ]]; then
		fail "$1/sgid: setgid copy of group $g, not the source's $gid2 (mode $m)"
	fi
}

run cp -r "file://$src" "file://$UFS_WORK/dst" || fail "cp as root: $(cat "$UFS_WORK/err")"
no_lying_bits "$UFS_WORK/dst"
# root may keep the owner: it does, with the mode
assert_eq "4755 $uid2 $gid2" "$(mode_owner "$UFS_WORK/dst/suid")" "owner and setuid kept"
assert_eq "2755 $uid2 $gid2" "$(mode_owner "$UFS_WORK/dst/sgid")" "group and setgid kept"

nfs_name=$(ufs_uniq migsec)
on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$nfs_name'"
run cp -r "file://$src" "$UFS_NFS_URL/$nfs_name" || fail "cp to nfs as root: $(cat "$UFS_WORK/err")"
no_lying_bits "$UFS_NFS_EXPORT_DIR/$nfs_name"
assert_eq 700 "$(stat -c %a "$UFS_NFS_EXPORT_DIR/$nfs_name/priv")" "nfs: private dir mode"

# the second user copies root's setuid program: no setuid file of theirs
echo "root program" >"$UFS_WORK/rootprog"
chmod 04755 "$UFS_WORK/rootprog"
mkdir -p "$UFS_WORK/u2dst"
chown $u2 "$UFS_WORK/u2dst"
run_as2 cp "file://$UFS_WORK/rootprog" "file://$UFS_WORK/u2dst/prog" ||
	fail "cp as $u2: $(cat "$UFS_WORK/err")"
assert_eq "755 $uid2" "$(stat -c '%a %u' "$UFS_WORK/u2dst/prog")" "non-root copy drops setuid"

# ---- directory modes -----------------------------------------------------
assert_eq "700 0 0" "$(mode_owner "$UFS_WORK/dst/priv")" "private dir stays private"
as_user $u2 cat "$UFS_WORK/dst/priv/secret" >/dev/null 2>&1 &&
	fail "$u2 can read a file of a 0700 source directory"
assert_eq 1500000000 "$(stat -c %Y "$UFS_WORK/dst/priv")" "directory mtime kept"
assert_eq 755 "$(stat -c %a "$UFS_WORK/dst/open")" "open dir mode"
# a read-only (0500) source directory is still filled, and ends 0500
u2src=$UFS_WORK/u2src
mkdir -p "$u2src/ro"
echo data >"$u2src/ro/inside"
chown -R $u2 "$u2src"
chmod 0500 "$u2src/ro"
run_as2 cp -r "file://$u2src" "file://$UFS_WORK/u2dst/tree" ||
	fail "cp of a 0500 dir as $u2: $(cat "$UFS_WORK/err")"
assert_eq 500 "$(stat -c %a "$UFS_WORK/u2dst/tree/ro")" "0500 dir mode kept"
assert_eq data "$(cat "$UFS_WORK/u2dst/tree/ro/inside")" "0500 dir filled"

# ---- the journal ---------------------------------------------------------
shared=$UFS_WORK/shared
mkdir -p "$shared"
chmod 1777 "$shared"
as_user $u2 ln -s "$UFS_WORK/victim" "$shared/j1" || fail "plant symlink"
run cp -r --journal "$shared/j1" "file://$src" "file://$UFS_WORK/dstj"
assert_eq 1 "$?" "journal at a symlink refused"
grep -q "journal $shared/j1 is a symbolic link" "$UFS_WORK/err" ||
	fail "no clear reason: $(cat "$UFS_WORK/err")"
[[ -e $UFS_WORK/victim ]] && fail "the symlink's target was created"
as_user $u2 touch "$shared/j2" || fail "plant journal"
run cp -r --journal "$shared/j2" "file://$src" "file://$UFS_WORK/dstj"
assert_eq 1 "$?" "journal owned by $u2 refused"
grep -q "journal $shared/j2 is owned by uid $uid2" "$UFS_WORK/err" ||
	fail "no clear reason: $(cat "$UFS_WORK/err")"
assert_eq 0 "$(stat -c %s "$shared/j2")" "foreign journal untouched"
[[ -e $UFS_WORK/dstj ]] && fail "a refused journal still let the copy run"
run cp -r --journal "$UFS_WORK/j3" "file://$src" "file://$UFS_WORK/dstj" ||
	fail "cp with a new journal: $(cat "$UFS_WORK/err")"
assert_eq 600 "$(stat -c %a "$UFS_WORK/j3")" "new journal mode"
run cp -r --resume --journal "$UFS_WORK/j3" "file://$src" "file://$UFS_WORK/dstj" ||
	fail "--resume of an own journal: $(cat "$UFS_WORK/err")"

# ---- hostile names -------------------------------------------------------
hn=$UFS_WORK/hostile
mkdir -p "$hn"
names=($'esc\e[31mred' $'bel\a' $'two\nmissing forged' $'tab\there' 'back\slash'
	$'bad\xff\xfeutf8' $'c1\xc2\x9bcsi' $'ok-caf\xc3\xa9')
for n in "${names[@]}"; do printf 'x' >"$hn/$n" || fail "create hostile name"; done
mkfifo "$hn/"$'fifo\e]0;title\a'
# raw_controls FILE: lines of FILE holding a control byte other than the
# line's own newline
raw_controls() { LC_ALL=C grep -c $'[\x01-\x09\x0b-\x1f\x7f]' "$1"; }

run check "file://$hn" "file://$UFS_WORK/empty-dst"
assert_eq 0 "$(raw_controls "$UFS_WORK/out")" "check report: raw control bytes"
assert_eq 0 "$(raw_controls "$UFS_WORK/err")" "check stderr: raw control bytes"
assert_eq "$((${#names[@]} + 1))" "$(wc -l <"$UFS_WORK/out")" "one report line per name"
grep -qxF 'missing esc\033[31mred' "$UFS_WORK/out" || fail "ESC not escaped: $(cat -v "$UFS_WORK/out")"
grep -qxF 'missing two\nmissing forged' "$UFS_WORK/out" || fail "newline not escaped"
grep -qxF 'missing back\\slash' "$UFS_WORK/out" || fail "backslash not escaped"
grep -qxF 'missing bad\377\376utf8' "$UFS_WORK/out" || fail "invalid UTF-8 not escaped"
grep -qxF 'missing c1\302\233csi' "$UFS_WORK/out" || fail "C1 not escaped"
grep -qxF $'missing ok-caf\xc3\xa9' "$UFS_WORK/out" || fail "valid UTF-8 altered"

run cp -r "file://$hn" "file://$UFS_WORK/hdst"
assert_eq 0 "$(raw_controls "$UFS_WORK/err")" "warnings: raw control bytes ($(cat -v "$UFS_WORK/err"))"
grep -qF 'fifo\033]0;title\a: skipped' "$UFS_WORK/err" || fail "warning not escaped: $(cat -v "$UFS_WORK/err")"
run cp -r --json-lines "file://$hn" "file://$UFS_WORK/hdst2"
python3 - "$UFS_WORK/out" "$hn" <<'EOF' || fail "--json-lines: $(cat -v "$UFS_WORK/out")"
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
got = {r["path"].encode("utf-8", "surrogateescape") for r in rows}
want = set(os.listdir(os.fsencode(sys.argv[2])))
assert got == want, (got ^ want)
EOF

run ls -1 "file://$hn"
assert_eq 0 "$(raw_controls "$UFS_WORK/out")" "ls -1: raw control bytes"
assert_eq "$((${#names[@]} + 1))" "$(wc -l <"$UFS_WORK/out")" "ls -1: one line per name"
run ls "file://$hn"
assert_eq 0 "$(raw_controls "$UFS_WORK/out")" "ls: raw control bytes"

# S3 keys with control characters: s3rver ignores encoding-type=url and
# lists keys raw in XML, where ESC and BEL cannot stand (not well-formed);
# newline, tab, DEL and a C1 CSI can.
export AWS_ENDPOINT_URL=$UFS_S3_ENDPOINT
bkt=$(ufs_uniq migsec)
s3_mkbucket "$bkt"
s3names=($'nl\nmissing forged' $'tab\tkey' $'del\x7fkey' $'c1\xc2\x9b2Jkey')
mkdir -p "$UFS_WORK/s3src"
for n in "${s3names[@]}"; do printf 'y' >"$UFS_WORK/s3src/$n"; done
run cp -r "file://$UFS_WORK/s3src" "s3://$bkt/h" || fail "cp hostile keys to s3: $(cat -v "$UFS_WORK/err")"
run check "s3://$bkt/h" "file://$UFS_WORK/empty-dst"
assert_eq 0 "$(raw_controls "$UFS_WORK/out")" "s3 check report: raw control bytes"
assert_eq "${#s3names[@]}" "$(wc -l <"$UFS_WORK/out")" "s3: one report line per key"
grep -qxF 'missing nl\nmissing forged' "$UFS_WORK/out" || fail "s3 key not escaped: $(cat -v "$UFS_WORK/out")"
grep -qxF 'missing c1\302\2332Jkey' "$UFS_WORK/out" || fail "s3 C1 not escaped: $(cat -v "$UFS_WORK/out")"
run cp -r --json-lines "s3://$bkt/h" "file://$UFS_WORK/s3back" || fail "cp s3 -> file: $(cat -v "$UFS_WORK/err")"
python3 - "$UFS_WORK/out" "$UFS_WORK/s3src" <<'EOF' || fail "s3 --json-lines: $(cat -v "$UFS_WORK/out")"
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
got = {r["path"].encode("utf-8", "surrogateescape") for r in rows}
assert got == set(os.listdir(os.fsencode(sys.argv[2]))), got
EOF
ufs_pass

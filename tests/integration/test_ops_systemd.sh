#!/usr/bin/env bash
# tests/integration/test_ops_systemd.sh — the daemon as a Type=notify unit
# sees it, without systemd as PID 1: `systemd-analyze verify` accepts
# packaging/unifs@.service with no warning (its man: references resolved
# in the repository's man/, so nothing installed before is needed) and
# rates its exposure at most 6.0; `unifs mount -f` with $NOTIFY_SOCKET set,
# under the unit's own sandbox (capability bounding set, no new privileges,
# system call filter: unit_sandbox.py), sends READY=1 only once the mount
# answers, serves as root does (create, chown, setuid, a device node, the
# direct path), and on SIGTERM sends STOPPING=1, unmounts and exits 0.
source "$(dirname "$0")/lib.sh"
ufs_begin ops_systemd

# --- the unit file ---------------------------------------------------------------
udir=$UFS_WORK/units
mkdir -p "$udir"
sed "s|/usr/bin/unifs|$UFS_BIN|" "$UFS_SRC/packaging/unifs@.service" >"$udir/unifs@.service"
# Documentation=man:... is checked with man(1): the pages of this tree
mandir=$UFS_WORK/man
for page in "$UFS_SRC"/man/*.[0-9]; do
	mkdir -p "$mandir/man${page##*.}"
	cp "$page" "$mandir/man${page##*.}/"
done
out=$(cd "$udir" && MANPATH=$mandir within 60 systemd-analyze verify ./unifs@train.service 2>&1) ||
	fail "systemd-analyze verify failed: $out"
[[ -z $out ]] || fail "systemd-analyze verify warns: $out"
level=$(cd "$udir" && systemd-analyze security --offline=true ./unifs@train.service 2>&1 |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[[ -n $level ]] || fail "systemd-analyze security gave no exposure level"
awk -v l="$level" 'BEGIN {exit !(l <= 6.0)}' || fail "unit exposure $level (want <= 6.0)"
echo "systemd-analyze security: $level"
grep -q '^Type=notify$' "$udir/unifs@.service" || fail "unit is not Type=notify"
grep -q '^ExecStart=.* mount -f /etc/unifs/%i.conf ' "$udir/unifs@.service" ||
	fail "unit does not mount /etc/unifs/%i.conf in the foreground"

# --- sd_notify: READY=1 when live, STOPPING=1 on SIGTERM ------------------------
mkdir -p "$UFS_WORK/local"
echo "data" >"$UFS_WORK/local/f"
cfg=$UFS_WORK/sd.conf
ufs_config "$cfg" <<EOF
[mount "/"]
url = file://$UFS_WORK/local
EOF
mnt=$UFS_WORK/mnt
mkdir -p "$mnt"
sock=$UFS_WORK/notify.sock
msgs=$UFS_WORK/notify.log
python3 - "$sock" "$msgs" "$mnt" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        m = s.recv(4096).decode()
        # At READY=1 the mount must already answer.
        live = os.path.exists(os.path.join(sys.argv[3], "f"))
        log.write(m.replace("\n", "|") + (" live" if live else " notlive") + "\n")
        log.flush()
PY
listener=$!
on_exit "kill $listener"
for ((i = 0; i < 50; i++)); do [[ -S $sock ]] && break; sleep 0.1; done

# LeakSanitizer (ASan builds) stops the world with ptrace, which the unit's
# filter denies, as it should: leaks are the other tests' to find.
sanitizer=
[[ $(ldd "$UFS_BIN" 2>/dev/null) == *libasan* ]] && sanitizer=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
NOTIFY_SOCKET=$sock ASAN_OPTIONS=$sanitizer python3 "$UFS_SRC/tests/integration/unit_sandbox.py" "$udir/unifs@.service" \
	"$UFS_BIN" mount -f "$cfg" "$mnt" 2>"$UFS_WORK/daemon.log" &
daemon=$!
on_exit "ufs_umount '$mnt'"
for ((i = 0; i < 100; i++)); do grep -q READY=1 "$msgs" 2>/dev/null && break; sleep 0.1; done
grep -qx "READY=1|STATUS=serving $mnt live" "$msgs" || fail "no READY=1 with a live mount: $(cat "$msgs")"
assert_eq data "$(cat "$mnt/f")" "read through the mount"

# --- what the sandbox must leave: root's file operations, the direct path ---------
echo new >"$mnt/n" && chown 1:1 "$mnt/n" && chmod 4755 "$mnt/n" ||
	fail "create/chown/chmod u+s in the sandbox: $(tail -3 "$UFS_WORK/daemon.log")"
assert_eq "1:1:4755" "$(stat -c %u:%g:%a "$UFS_WORK/local/n")" "owner and mode on disk"
mknod "$mnt/null" c 1 3 || fail "mknod in the sandbox"
assert_eq "character special file" "$(stat -c %F "$UFS_WORK/local/null")" "device node on disk"
probe=${UFS_BUILD:-$UFS_SRC/build}/direct_probe
within 60 "$probe" read "$mnt/f" "$UFS_WORK/f.direct" >/dev/null || fail "direct read in the sandbox"
assert_file_eq "$UFS_WORK/local/f" "$UFS_WORK/f.direct"

kill -TERM "$daemon"
within 30 bash -c "while kill -0 $daemon 2>/dev/null; do sleep 0.1; done" || true
wait "$daemon"
rc=$?
cat "$UFS_WORK/daemon.log" >&2
assert_eq 0 $rc "daemon exit status after SIGTERM"
ufs_is_mounted "$mnt" && fail "still mounted after SIGTERM"
grep -q "^STOPPING=1|STATUS=unmounting $mnt" "$msgs" || fail "no STOPPING=1: $(cat "$msgs")"

ufs_pass

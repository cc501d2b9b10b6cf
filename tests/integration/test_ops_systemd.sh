#!/usr/bin/env bash
# tests/integration/test_ops_systemd.sh — the daemon as a Type=notify unit
# sees it, without systemd as PID 1: `systemd-analyze verify` accepts
# packaging/unifs@.service with no warning; `unifs mount -f` with
# $NOTIFY_SOCKET set (the way unifs@.service runs it) sends READY=1 only
# once the mount answers, and on SIGTERM sends STOPPING=1, unmounts and
# exits 0.
source "$(dirname "$0")/lib.sh"
ufs_begin ops_systemd

# --- the unit file ---------------------------------------------------------------
udir=$UFS_WORK/units
mkdir -p "$udir"
sed "s|/usr/bin/unifs|$UFS_BIN|" "$UFS_SRC/packaging/unifs@.service" >"$udir/unifs@.service"
out=$(cd "$udir" && within 60 systemd-analyze verify ./unifs@train.service 2>&1) ||
	fail "systemd-analyze verify failed: $out"
[[ -z $out ]] || fail "systemd-analyze verify warns: $out"
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

NOTIFY_SOCKET=$sock "$UFS_BIN" mount -f "$cfg" "$mnt" 2>"$UFS_WORK/daemon.log" &
daemon=$!
on_exit "ufs_umount '$mnt'"
for ((i = 0; i < 100; i++)); do grep -q READY=1 "$msgs" 2>/dev/null && break; sleep 0.1; done
grep -qx "READY=1|STATUS=serving $mnt live" "$msgs" || fail "no READY=1 with a live mount: $(cat "$msgs")"
assert_eq data "$(cat "$mnt/f")" "read through the mount"

kill -TERM "$daemon"
within 30 bash -c "while kill -0 $daemon 2>/dev/null; do sleep 0.1; done" || true
wait "$daemon"
assert_eq 0 $? "daemon exit status after SIGTERM"
ufs_is_mounted "$mnt" && fail "still mounted after SIGTERM"
grep -q "^STOPPING=1|STATUS=unmounting $mnt" "$msgs" || fail "no STOPPING=1: $(cat "$msgs")"

ufs_pass

#!/usr/bin/env bash
# tests/integration/test_posix_offline.sh — while an NFS server is
# unreachable, a file whose data the disk tier holds keeps its last-known
# mode and owner: a 0600 root file stays unreadable to another user (EACCES),
# never shown as 0444. The server is "blocked" for this mount only: the mount
# reaches ganesha through a private TCP relay (nfsport/mountport URL
# arguments) that the test stops; the shared ganesha keeps running.
source "$(dirname "$0")/lib.sh"
ufs_begin posix_offline

command -v setpriv >/dev/null || fail "setpriv (util-linux) not installed"
command -v rpcinfo >/dev/null || fail "rpcinfo (rpcbind) not installed"
mountd=$(rpcinfo -p 127.0.0.1 | awk '$1 == 100005 && $3 == "tcp" {print $4; exit}')
[[ -n $mountd ]] || fail "ganesha's mountd port not found with rpcinfo"

# relay LISTEN_PORT TARGET_PORT...: one relay process for each pair, ports
# picked by the kernel and written to $UFS_WORK/ports.
cat >"$UFS_WORK/relay.py" <<'PY'
import socket, sys, threading
pairs = []
for target in sys.argv[2:]:
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    pairs.append((ls, int(target)))
with open(sys.argv[1], "w") as f:
    f.write(" ".join(str(ls.getsockname()[1]) for ls, _ in pairs) + "\n")
def pipe(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(ls, port):
    while True:
        c, _ = ls.accept()
        u = socket.create_connection(("127.0.0.1", port))
        threading.Thread(target=pipe, args=(c, u), daemon=True).start()
        threading.Thread(target=pipe, args=(u, c), daemon=True).start()
for ls, port in pairs:
    threading.Thread(target=serve, args=(ls, port), daemon=True).start()
threading.Event().wait()
PY
python3 "$UFS_WORK/relay.py" "$UFS_WORK/ports" 2049 "$mountd" &
relay=$!
on_exit "kill $relay 2>/dev/null"
for ((i = 0; i < 50; i++)); do [[ -s $UFS_WORK/ports ]] && break; sleep 0.1; done
read -r nfsport mountport <"$UFS_WORK/ports" || fail "relay did not start"

nfs_name=$(ufs_uniq posixoff)
nfs_dir=$UFS_NFS_EXPORT_DIR/$nfs_name
mkdir -p "$nfs_dir"
on_exit "rm -rf '$nfs_dir'"
chmod 755 "$UFS_WORK"
head -c 100000 /dev/urandom >"$nfs_dir/secret"
chmod 600 "$nfs_dir/secret"
head -c 100000 /dev/urandom >"$nfs_dir/public"
chmod 644 "$nfs_dir/public"

cfg=$UFS_WORK/offline.conf
ufs_config "$cfg" <<EOF
[global]
cache_dir = $UFS_WORK/cache
attr_ttl = 1
op_timeout = 3

[mount "/nfs"]
url = $UFS_NFS_URL/$nfs_name?nfsport=$nfsport&mountport=$mountport
EOF
mnt=$UFS_WORK/mnt
ufs_mount "$cfg" "$mnt" -o allow_other
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# online: the server decides; both files read once (the disk tier keeps them)
assert_eq "600 0" "$(stat -c '%a %u' "$mnt/nfs/secret")" "secret online"
assert_file_eq "$nfs_dir/secret" "$mnt/nfs/secret"
assert_file_eq "$nfs_dir/public" "$mnt/nfs/public"
as_nobody cat "$mnt/nfs/secret" >/dev/null 2>&1 && fail "nobody read the 0600 file online"

kill "$relay"
wait "$relay" 2>/dev/null
sleep 2 # attributes expire (attr_ttl = 1)

out=$(stat -c '%a %u' "$mnt/nfs/secret" 2>&1) || fail "stat of a cached file offline: $out"
assert_eq "600 0" "$out" "secret offline keeps mode and owner"
assert_eq "644" "$(stat -c %a "$mnt/nfs/public")" "public offline keeps its mode"
err=$(as_nobody cat "$mnt/nfs/secret" 2>&1 >/dev/null) && fail "nobody read the 0600 file offline"
[[ $err == *"Permission denied"* ]] || fail "nobody reading the 0600 file offline: want EACCES, got: $err"
assert_file_eq "$nfs_dir/public" "$mnt/nfs/public"
ufs_pass

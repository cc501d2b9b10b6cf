#!/usr/bin/env bash
# tests/integration/test_ops_doctor.sh — `unifs doctor` against real servers
# and bad ones: a healthy config (s3rver, NFS, a local dir) passes every
# check (exit 0, --json agrees); a server that accepts connections and never
# answers fails "auth" within a bound set by op_timeout; a server whose Date
# is an hour off fails "clock" with the SigV4 hint; a nameless host fails
# "dns"; a broken config is one clear line and exit 1.
source "$(dirname "$0")/lib.sh"
ufs_begin ops_doctor

bkt=$(ufs_uniq opsdoctor)
s3_mkbucket "$bkt"
echo "hello doctor" >"$UFS_WORK/hi.txt"
s3_put "$bkt/d/hi.txt" "$UFS_WORK/hi.txt"
mkdir -p "$UFS_WORK/local"
echo "local" >"$UFS_WORK/local/l.txt"

good=$UFS_WORK/good.conf
ufs_config "$good" <<EOF
[global]
op_timeout = 5
[mount "/s3"]
url = s3://$bkt/d/
endpoint = $UFS_S3_ENDPOINT
path_style = true
region = us-east-1
[mount "/nfs"]
url = $UFS_NFS_URL
[mount "/local"]
url = file://$UFS_WORK/local
EOF
out=$(within 60 "$UFS_BIN" doctor "$good") || fail "doctor failed on a healthy config: $out"
grep -qE '^ +read +ok .*bytes of hi.txt' <<<"$out" || fail "no small read of hi.txt: $out"
grep -qE '^ +clock +ok .*skew' <<<"$out" || fail "no clock check: $out"
grep -q 'doctor: 3 mounts checked, 0 failed' <<<"$out" || fail "bad summary: $out"
json=$(within 60 "$UFS_BIN" doctor --json "$good") || fail "doctor --json failed"
python3 -c 'import json,sys
d = json.loads(sys.argv[1])
assert d["ok"] is True and len(d["mounts"]) == 3, d
names = [c["name"] for c in d["mounts"][0]["checks"]]
assert names == ["config", "credentials", "dns", "tcp", "tls", "auth", "list", "read", "clock"], names
assert all(c["result"] in ("ok", "n/a", "skip") for m in d["mounts"] for c in m["checks"])' "$json" ||
	fail "doctor --json: $json"

# fake_s3_conf FILE OP_TIMEOUT [PREFIX ENDPOINT]...: S3 mounts of a server
# that is not s3rver (path style, a fixed bucket name).
fake_s3_conf()
{
	local f=$1 t=$2
	shift 2
	printf '[global]\nop_timeout = %s\n' "$t" | ufs_config "$f"
	while (($# >= 2)); do
		printf '[mount "%s"]\nurl = s3://opsdoctor-bucket/\nendpoint = %s\npath_style = true\nregion = us-east-1\n' \
			"$1" "$2" >>"$f"
		shift 2
	done
}

# --- a server that accepts and never answers: bounded by op_timeout -------------
port_file=$UFS_WORK/hang.port
python3 - "$port_file" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
while True:
    c, _ = s.accept(); conns.append(c)  # never answers
PY
hang_pid=$!
on_exit "kill $hang_pid"
for ((i = 0; i < 50; i++)); do [[ -s $port_file ]] && break; sleep 0.1; done
hang=$UFS_WORK/hang.conf
fake_s3_conf "$hang" 2 /hang "http://127.0.0.1:$(cat "$port_file")"
t0=$SECONDS
out=$(within 30 "$UFS_BIN" doctor "$hang") && fail "doctor passed against a hanging server: $out"
((SECONDS - t0 <= 15)) || fail "doctor took $((SECONDS - t0)) s with op_timeout = 2"
grep -qE '^ +tcp +ok' <<<"$out" || fail "tcp should pass against a listening socket: $out"
grep -qE '^ +auth +FAIL' <<<"$out" || fail "auth should fail: $out"
grep -q 'hint: the server did not answer within op_timeout' <<<"$out" || fail "no hint: $out"

# --- a server whose clock is an hour ahead ---------------------------------------
skew_file=$UFS_WORK/skew.port
python3 - "$skew_file" <<'PY' &
import http.server, sys, time, email.utils
class H(http.server.BaseHTTPRequestHandler):
    def reply(self):
        self.send_response_only(403)
        self.send_header("Date", email.utils.formatdate(time.time() + 3600, usegmt=True))
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_HEAD = do_PUT = reply
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
skew_pid=$!
on_exit "kill $skew_pid"
for ((i = 0; i < 50; i++)); do [[ -s $skew_file ]] && break; sleep 0.1; done
skew=$UFS_WORK/skew.conf
fake_s3_conf "$skew" 3 /skew "http://127.0.0.1:$(cat "$skew_file")" \
	/nohost http://no-such-host.invalid:9
out=$(within 60 "$UFS_BIN" doctor "$skew") && fail "doctor passed against a skewed server: $out"
grep -qE '^ +clock +FAIL .*-3[56][0-9][0-9] s off' <<<"$out" || fail "no clock failure: $out"
grep -q 'hint: sync the clock' <<<"$out" || fail "no clock hint: $out"
grep -qE '^ +dns +FAIL +[0-9.]+ +no-such-host.invalid' <<<"$out" || fail "no dns failure: $out"
grep -q 'doctor: 2 mounts checked, 2 failed' <<<"$out" || fail "bad summary: $out"

# --- a broken config: one line, exit 1 ---------------------------------------------
printf '[global]\nbogus = 1\n' >"$UFS_WORK/bad.conf"
chmod 600 "$UFS_WORK/bad.conf"
err=$("$UFS_BIN" doctor "$UFS_WORK/bad.conf" 2>&1) && fail "doctor accepted a broken config"
[[ $(wc -l <<<"$err") == 1 && $err == *"unknown key 'bogus'"* ]] || fail "unclear error: $err"
"$UFS_BIN" doctor >/dev/null 2>&1
assert_eq 2 $? "doctor without CONFIG is a usage error"

ufs_pass

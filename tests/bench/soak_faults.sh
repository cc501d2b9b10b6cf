#!/usr/bin/env bash
# soak_faults.sh — fault soak of an S3 mount (not a pass/fail test; prints
# figures and exits non-zero when a bound is broken):
#   s3rver behind this run's fault proxy (faultproxy_s3.py) that resets 5% of
#   GETs mid-body (RST), delays 20% of requests by up to 0.5 s and trickles
#   5% of bodies at 2 MB/s; meanwhile 4 readers stream and verify a
#   checksummed dataset (page cache dropped per file) and 2 writers upload
#   and read back files, for SOAK_SECS seconds (default 300).
# Prints: bytes verified, corrupted bytes (must be 0), read/write errors and
# the slowest error (must surface within op_timeout + slack), the memory
# budget's peak and the daemon's largest RSS against the budget.
# Size: SOAK_FILES files of SOAK_MB MiB (default 8 x 32); SOAK_MEM (128M);
# SOAK_DISK=1 adds a disk tier (then most re-reads stay local).
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "soak faults"

secs=${SOAK_SECS:-300}
nfiles=${SOAK_FILES:-8}
mb=${SOAK_MB:-32}
mem=${SOAK_MEM:-128M}
op_timeout=${SOAK_OP_TIMEOUT:-10}
disk="" # the dataset is larger than memory: reads keep going to the server
[[ ${SOAK_DISK:-0} == 1 ]] && disk="cache_dir = $UFS_WORK/cache"

bkt=$(ufs_uniq soak)
s3_mkbucket "$bkt"
mkdir -p "$UFS_WORK/src"
for i in $(seq "$nfiles"); do
	head -c $((mb << 20)) /dev/urandom >"$UFS_WORK/src/d$i.bin"
	s3_put "$bkt/data/d$i.bin" "$UFS_WORK/src/d$i.bin"
done

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
proxy_url=http://127.0.0.1:$port
python3 "$UFS_SERVERS/faultproxy_s3.py" --listen "$port" --target "$UFS_S3_ENDPOINT" \
	--pidfile "$UFS_WORK/proxy.pid" --max-conns 256 >>"$UFS_WORK/proxy.log" 2>&1 &
on_exit "kill $! 2>/dev/null"
for _ in $(seq 50); do curl -s -o /dev/null "$proxy_url/__fault" && break; sleep 0.1; done

mnt=$UFS_WORK/mnt
ufs_config "$UFS_WORK/unifs.conf" <<EOF
[global]
memory     = $mem
op_timeout = $op_timeout
$disk

[mount "/s3"]
url        = s3://$bkt/
endpoint   = $proxy_url
path_style = true
EOF
ufs_mount "$UFS_WORK/unifs.conf" "$mnt"
pid=$(pgrep -n -f "unifs mount .*$UFS_WORK/unifs.conf") || fail "daemon pid not found"
curl -sf -X POST "$proxy_url/__fault?seed=12&p_rst=0.05&p_delay=0.2&rdelay=0.5&p_trickle=0.05&trickle_bps=2000000" \
	-o /dev/null || fail "fault proxy did not take the faults"

python3 - "$mnt/s3" "$UFS_WORK/src" "$secs" "$op_timeout" "$pid" "$UFS_BIN" "$mnt" <<'PYEOF'
import hashlib, json, os, random, subprocess, sys, threading, time
root, src, secs, op_timeout, pid, ufs_bin, mnt = sys.argv[1:8]
secs, op_timeout = float(secs), float(op_timeout)
names = sorted(os.listdir(src))
want = {n: open(os.path.join(src, n), "rb").read() for n in names}
lock = threading.Lock()
R = {"read_files": 0, "read_bytes": 0, "corrupt_bytes": 0, "read_errors": 0,
     "write_files": 0, "write_bytes": 0, "write_errors": 0, "slowest_error_s": 0.0,
     "rss_max": 0}
stop = time.monotonic() + secs

def note_error(kind, t0, e):
    dt = time.monotonic() - t0
    with lock:
        R[kind] += 1
        R["slowest_error_s"] = max(R["slowest_error_s"], dt)
    sys.stderr.write(f"soak: {kind[:-7]} error after {dt:.1f} s: {e}\n")

def corrupt(a, b):
    n = min(len(a), len(b))
    return sum(1 for i in range(n) if a[i] != b[i]) + abs(len(a) - len(b))

def read_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        out = bytearray()
        while True:
            t0 = time.monotonic()
            b = os.read(fd, 1 << 20)
            if time.monotonic() - t0 > op_timeout * 3:
                sys.stderr.write(f"soak: one read took {time.monotonic() - t0:.1f} s\n")
            if not b:
                break
            out += b
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return bytes(out)
    finally:
        os.close(fd)

def reader(k):
    rng = random.Random(k)
    while time.monotonic() < stop:
        n = rng.choice(names)
        t0 = time.monotonic()
        try:
            got = read_file(os.path.join(root, "data", n))
        except OSError as e:
            note_error("read_errors", t0, e)
            continue
        bad = 0 if hashlib.sha256(got).digest() == hashlib.sha256(want[n]).digest() else corrupt(got, want[n])
        with lock:
            R["read_files"] += 1
            R["read_bytes"] += len(got)
            R["corrupt_bytes"] += bad

def writer(k):
    i = 0
    while time.monotonic() < stop:
        data = os.urandom(8 << 20)
        path = os.path.join(root, f"w{k}-{i}.bin")
        i += 1
        t0 = time.monotonic()
        try:
            with open(path, "wb") as f:
                f.write(data)
            got = read_file(path)
        except OSError as e:
            note_error("write_errors", t0, e)
            continue
        with lock:
            R["write_files"] += 1
            R["write_bytes"] += len(data)
            R["corrupt_bytes"] += corrupt(got, data)
        try:
            os.unlink(path)
        except OSError:
            pass

def sampler():
    while time.monotonic() < stop:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    with lock:
                        R["rss_max"] = max(R["rss_max"], int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(1)

ts = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
ts += [threading.Thread(target=writer, args=(k,)) for k in range(2)]
ts.append(threading.Thread(target=sampler))
for t in ts:
    t.start()
for t in ts:
    t.join()
st = json.loads(subprocess.run([ufs_bin, "stats", "--json", mnt], capture_output=True, text=True).stdout)
R["mem_peak"] = st["memory"]["peak"]
R["mem_limit"] = st["memory"]["limit"]
R["retries"] = st["backends"][0]["retries"]
R["backend_errors"] = st["backends"][0]["errors"]
R["last_error"] = st["backends"][0]["last_error"]
R["state"] = st["backends"][0]["state"]
json.dump(R, open(os.environ["UFS_WORK"] + "/soak.json", "w"))
PYEOF
[[ -s $UFS_WORK/soak.json ]] || fail "the soak driver failed"
proxy=$(curl -s "$proxy_url/__fault")
python3 - "$UFS_WORK/soak.json" "$proxy" "$secs" "$op_timeout" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1])); p = json.loads(sys.argv[2])["stats"]
secs, op_timeout = float(sys.argv[3]), float(sys.argv[4])
mib = 1 << 20
print(f"soak: {secs:.0f} s, 4 readers + 2 writers through the fault proxy")
print(f"  proxy: {p['requests']} requests, {p['rst']} reset mid-body, {p['rdelayed']} delayed, {p['trickled']} trickled")
print(f"  read:  {r['read_files']} files, {r['read_bytes'] / mib:.0f} MiB verified, {r['read_errors']} errors")
print(f"  write: {r['write_files']} files, {r['write_bytes'] / mib:.0f} MiB uploaded and read back, {r['write_errors']} errors")
print(f"  corrupted bytes: {r['corrupt_bytes']}")
print(f"  slowest error surfaced after {r['slowest_error_s']:.1f} s (op_timeout {op_timeout:.0f} s)")
print(f"  backend: {r['retries']} retries, {r['backend_errors']} errors, {r['state']} at the end")
if r["last_error"]:
    print(f"  backend's last error: {r['last_error']}")
print(f"  memory: budget peak {r['mem_peak'] / mib:.0f} MiB of {r['mem_limit'] / mib:.0f} MiB; daemon RSS max {r['rss_max'] / mib:.0f} MiB")
bad = []
if r["corrupt_bytes"]:
    bad.append("corrupted bytes")
if r["slowest_error_s"] > 2 * op_timeout + 5:
    bad.append("an error took longer than op_timeout to surface")
if r["mem_peak"] > r["mem_limit"]:
    bad.append("memory budget exceeded")
if r["read_files"] == 0 or r["write_files"] == 0:
    bad.append("no progress")
print("soak: " + ("FAILED: " + "; ".join(bad) if bad else "OK"))
sys.exit(1 if bad else 0)
PYEOF
rc=$?
((rc == 0)) && ufs_pass
fail "soak bounds broken"

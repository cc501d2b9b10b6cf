#!/usr/bin/env bash
# test_s3_hostile.sh — an S3 server that lists hostilely (hostile_s3.py, this
# test's own fake endpoint) cannot make the client page forever or buffer
# without limit:
#   - a continuation token handed back twice -> `unifs ls` fails with EIO and
#     says the listing loops, within seconds
#   - a 40 MiB ListObjectsV2 body -> refused at the 32 MiB bound with a
#     one-line reason, not buffered
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "s3 hostile listings"

port=$((20000 + RANDOM % 20000))
python3 "$UFS_SRC/tests/integration/hostile_s3.py" "$port" >"$UFS_WORK/srv.out" 2>&1 &
srv=$!
on_exit "kill $srv"
for _ in $(seq 50); do
	[[ -s $UFS_WORK/srv.out ]] && break
	sleep 0.1
done
[[ -s $UFS_WORK/srv.out ]] || fail "hostile_s3.py did not start: $(cat "$UFS_WORK/srv.out")"
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=hostile AWS_SECRET_ACCESS_KEY=hostile
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3

err=$UFS_WORK/err
if within 30 "$UFS_BIN" ls "s3://loop-$$/" >/dev/null 2>"$err"; then
	fail "listing a bucket whose server repeats its continuation token succeeded"
fi
grep -q 'repeated a continuation token' "$err" || fail "loop not named: $(cat "$err")"

if within 60 "$UFS_BIN" ls "s3://huge-$$/" >/dev/null 2>"$err"; then
	fail "a 40 MiB listing page was accepted"
fi
grep -q 'larger than 33554432 bytes' "$err" || fail "oversized listing not named: $(cat "$err")"
ufs_pass

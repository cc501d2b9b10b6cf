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

hostile_s3_start
export AWS_ENDPOINT_URL=http://127.0.0.1:$HOSTILE_PORT

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

# tests/bench/s3target.sh — the S3 server a benchmark measures against, and
# raw requests to it. Source after tests/integration/lib.sh.
#
#   s3_target            pick the server: Ceph RGW (multi-threaded, verifies
#                        SigV4; started if absent) unless BENCH_S3=s3rver or
#                        RGW cannot start. Sets S3NAME (RGW / s3rver), S3EP,
#                        and exports UFS_S3_ENDPOINT, AWS_ACCESS_KEY_ID and
#                        AWS_SECRET_ACCESS_KEY to it, so unifs mounts, s3fs,
#                        rclone and s3raw all talk to the same server.
#   s3raw METHOD /bucket[/key] [curl args...]
#                        one signed request with curl (exported: usable from
#                        bash -c and xargs); HTTP >= 400 fails.
#   s3_new_bucket NAME   create it; dropped with its objects at exit.
#
# curl's SigV4 signs a query key without '=' wrongly: write "?uploads=".

s3_target()
{
	if [[ ${BENCH_S3:-rgw} == rgw ]] && "$UFS_SERVERS/rgw.sh" start >&2 && [[ -f $UFS_TEST_DIR/rgw/env ]]; then
		source "$UFS_TEST_DIR/rgw/env"
		S3NAME=RGW S3EP=$RGW_ENDPOINT
		export AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY
	else
		S3NAME=s3rver S3EP=$UFS_S3_ENDPOINT
		export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-S3RVER} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-S3RVER}
	fi
	export UFS_S3_ENDPOINT=$S3EP S3EP S3NAME
}

s3raw()
{
	local m=$1 p=$2
	shift 2
	if [[ $S3NAME == s3rver ]]; then
		"$UFS_SERVERS/s3curl.sh" "$m" "$p" "$@"
		return
	fi
	[[ $m == HEAD ]] && set -- -I "$@" || set -- -X "$m" "$@"
	curl -sf -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@" "$S3EP$p"
}
export -f s3raw
export UFS_SERVERS

# s3_drop_bucket NAME: the bucket and everything in it (RGW: radosgw-admin
# purges it server-side; s3rver: lib.sh's s3_rmbucket).
s3_drop_bucket()
{
	if [[ $S3NAME == RGW ]]; then
		radosgw-admin -c "$UFS_TEST_DIR/rgw/ceph.conf" bucket rm --bucket="$1" --purge-objects \
			>/dev/null 2>&1 || echo "s3target: could not drop bucket $1 on RGW" >&2
	else
		s3_rmbucket "$1"
	fi
}

s3_new_bucket()
{
	s3raw PUT "/$1" -o /dev/null || fail "cannot create bucket $1 on $S3NAME"
	on_exit s3_drop_bucket "$1"
}

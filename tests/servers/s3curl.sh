#!/usr/bin/env bash
# tests/servers/s3curl.sh — send one request to the test s3rver with curl,
# independently of unifs (for tests' own checks and seeding).
#
#   s3curl.sh METHOD /bucket[/key] [curl args...]
#
# Examples:
#   s3curl.sh PUT /mybucket                          # create bucket
#   s3curl.sh PUT /mybucket/a/b.txt --data-binary @file
#   s3curl.sh GET /mybucket/a/b.txt -o out
#   s3curl.sh GET '/mybucket?list-type=2&prefix=a/'
#   s3curl.sh DELETE /mybucket/a/b.txt
#   s3curl.sh HEAD /mybucket/a/b.txt                 # prints headers
#
# Adds what s3rver needs: x-amz-date, x-amz-content-sha256 and a well-formed
# (dummy) SigV4 Authorization header for access key $AWS_ACCESS_KEY_ID
# (default S3RVER); s3.sh runs s3rver with --allow-mismatched-signatures.
# Exit status: curl's; HTTP >= 400 fails (body still printed) unless
# S3CURL_NOFAIL=1. Endpoint: $UFS_S3_ENDPOINT or http://127.0.0.1:$UFS_S3_PORT.
set -euo pipefail

if [[ $# -lt 2 ]]; then
	echo "usage: $0 METHOD /bucket[/key] [curl args...]" >&2
	exit 2
fi
method=$1 path=$2
shift 2
[[ $path == /* ]] || path=/$path

endpoint=${UFS_S3_ENDPOINT:-http://127.0.0.1:${UFS_S3_PORT:-4568}}
key=${AWS_ACCESS_KEY_ID:-S3RVER}
now=$(date -u +%Y%m%dT%H%M%SZ)
auth="AWS4-HMAC-SHA256 Credential=$key/${now%%T*}/us-east-1/s3/aws4_request,"
auth+=" SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
auth+=" Signature=$(printf '0%.0s' {1..64})"

args=(-sS --noproxy '*' -m "${S3CURL_TIMEOUT:-60}"
	-H "x-amz-date: $now" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD'
	-H "Authorization: $auth")
[[ ${S3CURL_NOFAIL:-0} == 1 ]] || args+=(--fail-with-body)
if [[ $method == HEAD ]]; then
	args+=(-I)
else
	args+=(-X "$method")
fi
exec curl "${args[@]}" "$@" "$endpoint$path"

#!/usr/bin/env bash
# tests/servers/azcurl.sh — send one SharedKey-signed request to the test
# Azurite with curl, independently of unifs (for tests' checks and seeding).
#
#   azcurl.sh METHOD /container[/blob][?query] [--file F] [curl args...]
#
# Examples:
#   azcurl.sh PUT '/mycont?restype=container'        # create container
#   azcurl.sh PUT /mycont/dir/a.txt --file a.txt     # upload a block blob
#   azcurl.sh GET /mycont/dir/a.txt -o out
#   azcurl.sh GET '/mycont?restype=container&comp=list'
#   azcurl.sh DELETE /mycont/dir/a.txt
#
# Signs with SharedKey (openssl) for $UFS_AZ_ACCOUNT / $UFS_AZ_KEY (default:
# the well-known devstoreaccount1 key). Extra `-H 'x-ms-...: v'` headers in
# the curl args are signed too. A PUT to a blob without comp= gets
# x-ms-blob-type: BlockBlob. HTTP >= 400 fails unless AZCURL_NOFAIL=1.
set -euo pipefail

if [[ $# -lt 2 ]]; then
	echo "usage: $0 METHOD /container[/blob][?query] [--file F] [curl args...]" >&2
	exit 2
fi
method=$1 target=$2
shift 2
[[ $target == /* ]] || target=/$target

account=${UFS_AZ_ACCOUNT:-devstoreaccount1}
key=${UFS_AZ_KEY:-Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==}
endpoint=${UFS_AZ_ENDPOINT:-http://127.0.0.1:${UFS_AZ_PORT:-10000}/$account}

file="" extra=() xms=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--file)
		file=$2
		shift 2
		;;
	-H)
		extra+=(-H "$2")
		if [[ ${2,,} == x-ms-* ]]; then xms+=("$2"); fi
		shift 2
		;;
	*)
		extra+=("$1")
		shift
		;;
	esac
done

path=${target%%\?*} query=""
[[ $target == *\?* ]] && query=${target#*\?}

clen="" ctype=""
if [[ -n $file ]]; then
	clen=$(stat -c %s "$file")
	ctype=application/octet-stream
	[[ $clen == 0 ]] && clen=""
	extra+=(-T "$file" -H "Content-Type: $ctype" -H "Expect:") # streamed, not loaded in memory
elif [[ $method == PUT || $method == POST ]]; then
	extra+=(-H 'Content-Length: 0')
fi
blobpath=${path#/*/}
if [[ $method == PUT && $blobpath != "$path" && -n $blobpath && $query != *comp=* ]]; then
	xms+=("x-ms-blob-type: BlockBlob")
	extra+=(-H "x-ms-blob-type: BlockBlob")
fi
xms+=("x-ms-date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')" "x-ms-version: 2021-08-06")

# Canonicalized headers: lowercase names, sorted, "name:value\n".
canon_hdrs=$(for h in "${xms[@]}"; do
	n=${h%%:*} v=${h#*:}
	v="${v#"${v%%[![:space:]]*}"}"
	printf '%s:%s\n' "${n,,}" "$v"
done | LC_ALL=C sort)
# Canonicalized resource: /account + URL path (which, path style, starts with
# /account again), then query params lowercased and sorted, "name:value".
canon_res="/$account/$account$path"
if [[ -n $query ]]; then
	canon_res+=$'\n'$(tr '&' '\n' <<<"$query" | while IFS='=' read -r n v; do
		printf '%s:%s\n' "${n,,}" "$(printf '%b' "${v//%/\\x}")"
	done | LC_ALL=C sort)
fi
sts="$method"$'\n\n\n'"$clen"$'\n\n'"$ctype"$'\n\n\n\n\n\n\n'"$canon_hdrs"$'\n'"$canon_res"
sig=$(printf '%s' "$sts" | openssl dgst -sha256 -mac HMAC \
	-macopt "hexkey:$(printf '%s' "$key" | base64 -d | od -An -tx1 -v | tr -d ' \n')" -binary | base64 -w0)

args=(-sS --noproxy '*' -m "${AZCURL_TIMEOUT:-60}" -H "Authorization: SharedKey $account:$sig")
for h in "${xms[@]}"; do
	case ${h,,} in x-ms-date:* | x-ms-version:*) args+=(-H "$h") ;; esac
done
[[ ${AZCURL_NOFAIL:-0} == 1 ]] || args+=(--fail-with-body)
if [[ $method == HEAD ]]; then args+=(-I); else args+=(-X "$method"); fi
exec curl "${args[@]}" "${extra[@]}" "$endpoint$target"

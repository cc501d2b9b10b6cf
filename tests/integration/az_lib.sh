# shellcheck shell=bash
# tests/integration/az_lib.sh — helpers shared by the Azure Blob tests
# (test_az_*.sh, tests/bench/bench_az.sh). Source after lib.sh.

AZCURL=$UFS_SERVERS/azcurl.sh

# az_enc NAME: percent-encode a blob name for a URL path ('/' kept).
az_enc()
{
	python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/"))' "$1"
}

# az_list_names CONTAINER [PREFIX]: every blob name (all pages), one a line,
# straight from Azurite (not through unifs).
az_list_names()
{
	local c=$1 prefix=${2:-} marker="" page
	while :; do
		page=$("$AZCURL" GET "/$c?restype=container&comp=list&maxresults=5000&prefix=$(az_enc "$prefix")${marker:+&marker=$(az_enc "$marker")}") ||
			return 1
		python3 -c '
import sys, xml.etree.ElementTree as E
r = E.fromstring(sys.stdin.read())
for b in r.iter("Blob"):
    print(b.find("Name").text)
m = r.find("NextMarker")
sys.stderr.write((m.text or "") if m is not None else "")' <<<"$page" 2>"$UFS_WORK/.marker" ||
			return 1
		marker=$(cat "$UFS_WORK/.marker")
		[[ -z $marker ]] && return 0
	done
}

# az_write_config FILE CONTAINER [EXTRA-LINES]: a one-mount config for /blob
# with the key in a 0600 key_file.
az_write_config()
{
	local f=$1 c=$2 extra=${3:-}
	(umask 077 && printf '%s\n' "$UFS_AZ_KEY" >"$UFS_WORK/az.key")
	ufs_config "$f" <<EOF
[global]
memory = 1G
[mount "/blob"]
url = az://$c/
endpoint = $UFS_AZ_ENDPOINT
account = $UFS_AZ_ACCOUNT
key_file = $UFS_WORK/az.key
$extra
EOF
}

# az_bulk_put CONTAINER PREFIX COUNT: create blobs PREFIXf00001..PREFIXfCOUNT
# (content "x\n") directly on Azurite over 8 keep-alive connections, signed
# with SharedKey here in Python (fast; independent of unifs).
az_bulk_put()
{
	python3 - "$1" "$2" "$3" <<'PY'
import base64, concurrent.futures as cf, hashlib, hmac, http.client, os, sys, threading
import urllib.parse
from email.utils import formatdate
cont, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
ep = urllib.parse.urlsplit(os.environ["UFS_AZ_ENDPOINT"])
acct, key = os.environ["UFS_AZ_ACCOUNT"], base64.b64decode(os.environ["UFS_AZ_KEY"])
local = threading.local()
def put(i):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection(ep.hostname, ep.port, timeout=60)
    path = ep.path.rstrip("/") + "/" + cont + "/" + urllib.parse.quote(f"{prefix}f{i:05d}")
    date = formatdate(usegmt=True)
    sts = (f"PUT\n\n\n2\n\napplication/octet-stream\n\n\n\n\n\n\n"
           f"x-ms-blob-type:BlockBlob\nx-ms-date:{date}\nx-ms-version:2021-12-02\n/{acct}{path}")
    sig = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()
    local.c.request("PUT", path, body=b"x\n", headers={
        "x-ms-blob-type": "BlockBlob", "x-ms-date": date, "x-ms-version": "2021-12-02",
        "Content-Type": "application/octet-stream", "Authorization": f"SharedKey {acct}:{sig}"})
    r = local.c.getresponse()
    r.read()
    if r.status != 201:
        raise SystemExit(f"az_bulk_put: PUT {path}: HTTP {r.status}")
with cf.ThreadPoolExecutor(8) as ex:
    list(ex.map(put, range(1, count + 1)))
PY
}

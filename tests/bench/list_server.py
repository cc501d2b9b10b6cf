#!/usr/bin/env python3
"""list_server.py PORT — a loopback S3 and Azure Blob endpoint whose buckets
hold N synthetic keys, generated on the fly (nothing stored), for
bench_list.sh: listings of millions of keys without millions of objects.

A bucket (S3, path style) or container (Azure, /ACCOUNT/CONTAINER) named
syn-N-anything holds N keys k00000000 .. k(N-1), every one 2 bytes ("x\\n"),
one mtime. Answered:
  S3    GET /b?list-type=2 (ListObjectsV2: prefix, max-keys,
        continuation-token, start-after), GET /b (ListObjects v1: marker),
        HEAD/GET /b/key (Range honoured), HEAD /b, GET /b?location
  Azure GET /acct/c?restype=container&comp=list (prefix, maxresults,
        marker), GET/HEAD /acct/c?restype=container, HEAD/GET /acct/c/key
No signature is checked. Keys have no '/', so delimited listings have no
common prefixes; a prefix lists the keys it starts. Pages are at most 1000
keys. Prints the port once listening (0: any free port)."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

PAGE_MAX = 1000
MTIME_S3 = '2026-01-01T00:00:00.000Z'
MTIME_HTTP = 'Thu, 01 Jan 2026 00:00:00 GMT'
BODY = b'x\n'
ETAG = '"401b30e3b8b5d629635a5c613cdb7919"'  # md5 of "x\n"
WIDTH = 8


def count_of(bucket):
    """N of a bucket syn-N-*, or None."""
    parts = bucket.split('-')
    if len(parts) >= 2 and parts[0] == 'syn' and parts[1].isdigit():
        return int(parts[1])
    return None


def key_range(n, prefix):
    """[lo, hi) of the keys starting with prefix."""
    if not prefix:
        return 0, n
    if prefix[0] != 'k' or not prefix[1:].isdigit() or len(prefix) > WIDTH + 1:
        return 0, 0
    digits = prefix[1:]
    lo = int(digits.ljust(WIDTH, '0')) if digits else 0
    hi = int(digits.ljust(WIDTH, '9')) + 1 if digits else n
    return min(lo, n), min(hi, n)


def after(key):
    """Index just after key (a marker / start-after), or 0."""
    if key.startswith('k') and key[1:].isdigit():
        return int(key[1:]) + 1
    return 0


def key_index(n, key):
    """Index of an existing key, or None."""
    if key.startswith('k') and key[1:].isdigit() and len(key) == WIDTH + 1:
        i = int(key[1:])
        return i if i < n else None
    return None


def name(i):
    return 'k%0*d' % (WIDTH, i)


S3_ENTRY = ('<Contents><Key>{k}</Key><LastModified>' + MTIME_S3 + '</LastModified>'
            '<ETag>&quot;401b30e3b8b5d629635a5c613cdb7919&quot;</ETag><Size>2</Size>'
            '<StorageClass>STANDARD</StorageClass></Contents>')
AZ_ENTRY = ('<Blob><Name>{k}</Name><Properties><Last-Modified>' + MTIME_HTTP +
            '</Last-Modified><Etag>0x8D000000000000</Etag><Content-Length>2</Content-Length>'
            '<Content-Type>application/octet-stream</Content-Type>'
            '<Content-MD5>QBsw47i11ikjWlxhPNt5GQ==</Content-MD5><BlobType>BlockBlob</BlobType>'
            '</Properties></Blob>')


def s3_list(bucket, n, q):
    v2 = q.get('list-type', [''])[0] == '2'
    prefix = q.get('prefix', [''])[0]
    lo, hi = key_range(n, prefix)
    mx = max(0, min(int(q.get('max-keys', [str(PAGE_MAX)])[0]), PAGE_MAX))
    if v2:
        tok = q.get('continuation-token', [''])[0]
        start = int(tok) if tok.isdigit() else after(q.get('start-after', [''])[0])
    else:
        start = after(q.get('marker', [''])[0])
    start = max(start, lo)
    end = min(hi, start + mx)
    trunc = end < hi
    body = ''.join(S3_ENTRY.format(k=name(i)) for i in range(start, end))
    if v2:
        more = f'<NextContinuationToken>{end}</NextContinuationToken>' if trunc else ''
        head = f'<KeyCount>{end - start}</KeyCount>'
    else:
        more = f'<NextMarker>{name(end - 1)}</NextMarker>' if trunc and end > start else ''
        head = f'<Marker>{q.get("marker", [""])[0]}</Marker>'
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f'<Name>{bucket}</Name><Prefix>{prefix}</Prefix>{head}<MaxKeys>{mx}</MaxKeys>'
            f'<IsTruncated>{"true" if trunc else "false"}</IsTruncated>{more}{body}'
            '</ListBucketResult>').encode()


def az_list(container, n, q):
    prefix = q.get('prefix', [''])[0]
    lo, hi = key_range(n, prefix)
    mx = max(0, min(int(q.get('maxresults', [str(PAGE_MAX)])[0]), PAGE_MAX))
    marker = q.get('marker', [''])[0]
    start = max(int(marker) if marker.isdigit() else 0, lo)
    end = min(hi, start + mx)
    more = f'<NextMarker>{end}</NextMarker>' if end < hi else '<NextMarker/>'
    body = ''.join(AZ_ENTRY.format(k=name(i)) for i in range(start, end))
    return ('<?xml version="1.0" encoding="utf-8"?>'
            f'<EnumerationResults ContainerName="{container}"><Prefix>{prefix}</Prefix>'
            f'<MaxResults>{mx}</MaxResults><Blobs>{body}</Blobs>{more}'
            '</EnumerationResults>').encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def send(self, code, body=b'', ctype='application/xml', headers=None, length=None):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD' and body:
            self.wfile.write(body)

    def object(self, n, key, azure):
        if key_index(n, key) is None:
            return self.send(404, b'')
        h = {'Last-Modified': MTIME_HTTP, 'ETag': ETAG if not azure else '"0x8D000000000000"',
             'Accept-Ranges': 'bytes'}
        if azure:
            h['x-ms-blob-type'] = 'BlockBlob'
        body = BODY
        rng = self.headers.get('Range') or self.headers.get('x-ms-range')
        if rng and rng.startswith('bytes='):
            a, _, b = rng[6:].partition('-')
            a = int(a or 0)
            b = min(int(b) if b else len(BODY) - 1, len(BODY) - 1)
            if a >= len(BODY):
                return self.send(416, b'')
            h['Content-Range'] = f'bytes {a}-{b}/{len(BODY)}'
            return self.send(206, BODY[a:b + 1], 'application/octet-stream', h)
        return self.send(200, body, 'application/octet-stream', h,
                         length=len(body))

    def route(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query, keep_blank_values=True)
        parts = [unquote(p) for p in url.path.split('/')[1:]]
        if 'restype' in q or 'comp' in q:  # Azure: /acct/container[/blob]
            parts = parts[1:]
            azure = True
        else:
            azure = len(parts) >= 2 and count_of(parts[0]) is None and \
                count_of(parts[1]) is not None
            if azure:
                parts = parts[1:]
        if not parts or not parts[0]:
            return self.send(200, b'<ListAllMyBucketsResult/>')
        n = count_of(parts[0])
        if n is None:
            return self.send(404, b'<Error><Code>NoSuchBucket</Code></Error>')
        key = '/'.join(parts[1:])
        if key:
            return self.object(n, key, azure)
        if azure:
            if q.get('comp', [''])[0] == 'list':
                return self.send(200, az_list(parts[0], n, q))
            return self.send(200, b'')
        if 'location' in q:
            return self.send(200, b'<LocationConstraint/>')
        if self.command == 'HEAD':
            return self.send(200, b'')
        return self.send(200, s3_list(parts[0], n, q))

    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route()


def main():
    srv = ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1]) if len(sys.argv) > 1 else 0),
                              Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()

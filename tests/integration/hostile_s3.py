#!/usr/bin/env python3
"""hostile_s3.py PORT — a fake S3 endpoint that lists hostilely, for
test_s3_hostile.sh. Every request is answered 200 as if signed correctly;
ListObjectsV2 by bucket name:
  loop-*  : truncated pages that always hand back the same continuation token
  huge-*  : a 40 MiB body (more than the client's listing bound)
  many-N-*: N synthetic keys k0000000.. at the root, in pages of max-keys
            (at most 1000) chained by continuation tokens (nothing stored)
  other   : one empty page
HEAD / other GETs: an empty 200. Prints the port on stdout once listening."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HUGE = 40 << 20
PAGE = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
        '<IsTruncated>{trunc}</IsTruncated>{tok}'
        '<Contents><Key>{key}</Key><Size>1</Size></Contents></ListBucketResult>')


ENTRY = ('<Contents><Key>k{i:07d}</Key><Size>{size}</Size>'
         '<LastModified>2024-01-01T00:00:00.000Z</LastModified>'
         '<ETag>&quot;{i:032x}&quot;</ETag></Contents>')


def many_page(bucket, query):
    """One ListObjectsV2 page of the synthetic bucket many-N-*."""
    n = int(bucket.split('-')[1])
    q = parse_qs(query)
    start = int(q.get('continuation-token', ['0'])[0])
    if q.get('prefix', [''])[0]:
        start = n  # no directories: any prefix lists nothing
    count = min(int(q.get('max-keys', ['1000'])[0]), 1000, n - start)
    end = start + max(count, 0)
    tok = f'<NextContinuationToken>{end}</NextContinuationToken>' if end < n else ''
    body = ''.join(ENTRY.format(i=i, size=i % 4096) for i in range(start, end))
    return ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
            f'<Name>{bucket}</Name><KeyCount>{end - start}</KeyCount>'
            f'<IsTruncated>{"true" if end < n else "false"}</IsTruncated>{tok}'
            f'{body}</ListBucketResult>').encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def reply(self, body, length=None):
        self.send_response(200)
        self.send_header('Content-Type', 'application/xml')
        self.send_header('Content-Length', str(len(body) if length is None else length))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def do_HEAD(self):
        self.reply(b'', 0)

    def do_GET(self):
        url = urlsplit(self.path)
        bucket = url.path.strip('/').split('/')[0]
        if 'list-type=2' not in url.query:
            return self.reply(b'')
        if bucket.startswith('many-'):
            return self.reply(many_page(bucket, url.query))
        if bucket.startswith('loop-'):
            page = PAGE.format(trunc='true', key='f',
                               tok='<NextContinuationToken>same</NextContinuationToken>')
            return self.reply(page.encode())
        if bucket.startswith('huge-') and 'max-keys=1&' not in url.query + '&':
            head = b'<ListBucketResult><IsTruncated>false</IsTruncated>'
            self.send_response(200)
            self.send_header('Content-Length', str(HUGE))
            self.end_headers()
            try:
                self.wfile.write(head)
                chunk = b' ' * (1 << 20)
                for _ in range(HUGE >> 20):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        return self.reply(PAGE.format(trunc='false', tok='', key='f').encode())


def main():
    srv = ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()

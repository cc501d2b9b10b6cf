#!/usr/bin/env python3
"""hostile_s3.py PORT — a fake S3 endpoint that lists hostilely, for
test_s3_hostile.sh. Every request is answered 200 as if signed correctly;
ListObjectsV2 by bucket name:
  loop-*  : truncated pages that always hand back the same continuation token
  huge-*  : a 40 MiB body (more than the client's listing bound)
  other   : one empty page
HEAD / other GETs: an empty 200. Prints the port on stdout once listening."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HUGE = 40 << 20
PAGE = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
        '<IsTruncated>{trunc}</IsTruncated>{tok}'
        '<Contents><Key>{key}</Key><Size>1</Size></Contents></ListBucketResult>')


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

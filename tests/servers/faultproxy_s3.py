#!/usr/bin/env python3
"""tests/servers/faultproxy_s3.py — faultproxy.py with HEAD answers intact.

faultproxy.py answers every proxied request with Content-Length = the bytes
it read upstream, which for HEAD is 0 (an S3 client then sees every object as
empty), and sends a body after an injected status even on HEAD (the next
answer on that connection is then garbage). This wrapper keeps the upstream
Content-Length on HEAD answers and sends injected HEAD answers without a
body; otherwise it is faultproxy.py (same options, same /__fault control).
"""

import http.client
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultproxy  # noqa: E402

_tl = threading.local()
_orig_getresponse = http.client.HTTPConnection.getresponse


def _getresponse(self, *args, **kwargs):
    resp = _orig_getresponse(self, *args, **kwargs)
    _tl.length = resp.getheader("Content-Length")
    return resp


http.client.HTTPConnection.getresponse = _getresponse


class HeadKeepingHandler(faultproxy.Handler):
    def send_header(self, keyword, value):
        if (self.command == "HEAD" and keyword.lower() == "content-length"
                and getattr(_tl, "length", None) is not None):
            value = _tl.length
        super().send_header(keyword, value)

    def _send_simple(self, code, body, ctype="application/json"):
        if self.command != "HEAD":
            return super()._send_simple(code, body, ctype)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _proxy_keep_head(self):
        _tl.length = None
        return faultproxy.Handler._proxy(self)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _proxy_keep_head


faultproxy.Handler = HeadKeepingHandler

if __name__ == "__main__":
    faultproxy.main()

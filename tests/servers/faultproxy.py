#!/usr/bin/env python3
"""tests/servers/faultproxy.py — fault-injecting HTTP reverse proxy (stdlib only).

Sits between unifs and an HTTP test server (s3rver or Azurite) and, on
request, breaks the next responses so tests can prove retries, error mapping
and truncation detection.

    faultproxy.py --listen 14568 --target http://127.0.0.1:4568 [--pidfile F]

Control (on the proxy's own port; never forwarded):
    GET  /__fault                       current settings + counters (JSON)
    POST /__fault?status=503&count=2    next 2 requests answered 503 (no forward)
    POST /__fault?truncate=1&count=1    next GET with a body: full Content-Length
                                        sent, connection closed after half the body
    POST /__fault?delay=2.5&count=3     next 3 requests delayed 2.5 s before forwarding
    POST /__fault?hang=1&count=1        next request: accept, never answer (until reset)
    POST /__fault?rst=1&count=1         next GET with a body: half the body, then the
                                        connection is reset (RST, not FIN)
    POST /__fault?reset=1               clear all faults
Random faults, drawn per request until reset (tests/bench/soak_faults.sh):
    POST /__fault?p_rst=0.05            a GET with a body: half the body, then the
                                        connection is reset (RST, not FIN)
    POST /__fault?p_delay=0.2&rdelay=0.5  delayed by up to rdelay s (uniform)
    POST /__fault?p_trickle=0.05&trickle_bps=2000000  body sent in 16 KiB
                                        pieces at about trickle_bps bytes/s
    POST /__fault?seed=N                seed of the draws (repeatable runs)
Faults combine; count=-1 means "until reset". Each forwarded request opens a
fresh upstream connection; the proxy is threaded with a bounded number of
concurrent connections (--max-conns, default 64).
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import struct
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

HOP_HEADERS = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
    "trailer", "upgrade",
}


class Faults:
    """Thread-safe fault settings; each fault kind has its own countdown."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hang_event = threading.Event()
        self.reset()
        self.rng = random.Random(1)
        self.stats = {"requests": 0, "status_injected": 0, "truncated": 0,
                      "delayed": 0, "hung": 0, "rst": 0, "rdelayed": 0, "trickled": 0}

    def reset(self):
        with self.lock:
            self.status, self.status_n = 0, 0
            self.truncate_n = 0
            self.delay, self.delay_n = 0.0, 0
            self.hang_n = 0
            self.rst_n = 0
            self.p_rst = self.p_delay = self.p_trickle = 0.0
            self.rdelay, self.trickle_bps = 0.0, 2000000
        self.hang_event.set()
        self.hang_event = threading.Event()

    @staticmethod
    def _take(n):
        """Consume one unit of a countdown: returns (fires, new_n)."""
        if n == 0:
            return False, 0
        return True, (n - 1 if n > 0 else n)

    def plan(self, method):
        """Decide the faults for one request (consumes counters)."""
        with self.lock:
            self.stats["requests"] += 1
            p = {"status": 0, "truncate": False, "delay": 0.0, "hang": None}
            fire, self.hang_n = self._take(self.hang_n)
            if fire:
                p["hang"] = self.hang_event
                self.stats["hung"] += 1
            fire, self.delay_n = self._take(self.delay_n)
            if fire:
                p["delay"] = self.delay
                self.stats["delayed"] += 1
            fire, self.status_n = self._take(self.status_n)
            if fire:
                p["status"] = self.status
                self.stats["status_injected"] += 1
            elif method == "GET" and self.truncate_n:
                _, self.truncate_n = self._take(self.truncate_n)
                p["truncate"] = True
                self.stats["truncated"] += 1
            self._plan_random(method, p)
            return p

    def _plan_random(self, method, p):
        """The random faults (lock held)."""
        p["rst"] = p["trickle"] = False
        if self.p_delay and self.rng.random() < self.p_delay:
            p["delay"] += self.rng.uniform(0, self.rdelay)
            self.stats["rdelayed"] += 1
        if method != "GET" or p["status"] or p["truncate"]:
            return
        if self.rst_n:
            _, self.rst_n = self._take(self.rst_n)
            p["rst"] = True
            self.stats["rst"] += 1
        elif self.p_rst and self.rng.random() < self.p_rst:
            p["rst"] = True
            self.stats["rst"] += 1
        elif self.p_trickle and self.rng.random() < self.p_trickle:
            p["trickle"] = self.trickle_bps
            self.stats["trickled"] += 1

    def describe(self):
        with self.lock:
            return {"status": self.status, "status_count": self.status_n,
                    "truncate_count": self.truncate_n, "delay": self.delay,
                    "delay_count": self.delay_n, "hang_count": self.hang_n,
                    "rst_count": self.rst_n,
                    "stats": dict(self.stats)}

    def configure(self, q):
        count = int(q.get("count", ["1"])[0])
        if "reset" in q:
            self.reset()
        with self.lock:
            if "status" in q:
                self.status, self.status_n = int(q["status"][0]), count
            if "truncate" in q:
                self.truncate_n = count
            if "delay" in q:
                self.delay, self.delay_n = float(q["delay"][0]), count
            if "hang" in q:
                self.hang_n = count
            if "rst" in q:
                self.rst_n = count
            for k in ("p_rst", "p_delay", "p_trickle", "rdelay"):
                if k in q:
                    setattr(self, k, float(q[k][0]))
            if "trickle_bps" in q:
                self.trickle_bps = max(1024, int(q["trickle_bps"][0]))
            if "seed" in q:
                self.rng.seed(int(q["seed"][0]))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "unifs-faultproxy/1"

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.server.verbose:
            sys.stderr.write("faultproxy: " + (fmt % args) + "\n")

    def _send_simple(self, code, body, ctype="application/json"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _control(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        self._read_body()
        try:
            if self.command != "GET":
                self.server.faults.configure(q)
        except (ValueError, KeyError) as e:
            self._send_simple(400, json.dumps({"error": str(e)}) + "\n")
            return
        self._send_simple(200, json.dumps(self.server.faults.describe()) + "\n")

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            return self.rfile.read(n)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return b""

    def _proxy(self):
        if urllib.parse.urlsplit(self.path).path == "/__fault":
            return self._control()
        body = self._read_body()
        plan = self.server.faults.plan(self.command)
        if plan["hang"] is not None:
            plan["hang"].wait(timeout=3600)
            self.close_connection = True
            return
        if plan["delay"]:
            time.sleep(plan["delay"])
        if plan["status"]:
            self._send_simple(plan["status"],
                              "<Error><Code>InjectedFault</Code></Error>\n",
                              "application/xml")
            return
        t = self.server.target
        conn = http.client.HTTPConnection(t.hostname, t.port or 80, timeout=300)
        try:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP_HEADERS}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            self._send_simple(502, json.dumps({"error": str(e)}) + "\n")
            return
        finally:
            conn.close()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_HEADERS and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if plan["truncate"] and data:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if plan["truncate"] and data:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if plan["rst"] and data:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            # SO_LINGER 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if plan["trickle"] and data:
            step = 16384
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                time.sleep(step / plan["trickle"])
            return
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _proxy


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, target, max_conns, verbose):
        super().__init__(addr, Handler)
        self.target = target
        self.faults = Faults()
        self.verbose = verbose
        self.slots = threading.BoundedSemaphore(max_conns)

    def process_request(self, request, client_address):
        if not self.slots.acquire(timeout=30):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1")
    ap.add_argument("--target", required=True, help="e.g. http://127.0.0.1:4568")
    ap.add_argument("--pidfile")
    ap.add_argument("--max-conns", type=int, default=64)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    target = urllib.parse.urlsplit(a.target)
    srv = Server(("127.0.0.1", a.listen), target, a.max_conns, a.verbose)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.faults.reset()  # release hung requests
        srv.server_close()
        if a.pidfile:
            try:
                os.unlink(a.pidfile)
            except OSError:
                pass


if __name__ == "__main__":
    main()

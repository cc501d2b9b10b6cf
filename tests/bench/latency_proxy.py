#!/usr/bin/env python3
"""latency_proxy.py — a TCP proxy that gives every request the first-byte
latency of a real object store (benchmarks only, not a test server).

    latency_proxy.py UPSTREAM_HOST:PORT [--lat MS] [--port P] [--stats FILE]

Listens on 127.0.0.1 (port P, or a free one), prints "port N" once ready and
forwards each connection to UPSTREAM. The first byte of each response is held
until LAT ms (default 20: an in-region S3 or Blob GET) after the request began
(the client's first bytes after the previous response); the rest of the
response flows unchanged. HTTP/1.1 keep-alive connections work (one request at
a time per connection, as S3 clients send them). Since the delay is a sleep in
the response's own thread, concurrent requests each wait LAT in parallel, as on
a store: what a client gains from having more requests in flight is what it
would gain there.

On SIGTERM/SIGINT (or with --stats, at each second) it writes "requests N
max_inflight M" to FILE: how many requests it saw and the most it had waiting
for their first byte at once (the client's concurrency).
"""

import argparse
import signal
import socket
import sys
import threading
import time


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.waiting = 0
        self.max_waiting = 0

    def begin(self):
        with self.lock:
            self.requests += 1
            self.waiting += 1
            self.max_waiting = max(self.max_waiting, self.waiting)

    def first_byte(self):
        with self.lock:
            self.waiting -= 1

    def line(self):
        with self.lock:
            return "requests %d max_inflight %d\n" % (self.requests, self.max_waiting)


class Conn:
    """One client connection and its upstream: a thread each way."""

    def __init__(self, client, upstream, lat, stats):
        self.c, self.u, self.lat, self.stats = client, upstream, lat, stats
        self.cv = threading.Condition()
        self.t_req = None  # when the request now waiting for its response began

    def up(self):
        """client -> upstream: the first bytes after a response mark a request."""
        try:
            while True:
                data = self.c.recv(1 << 16)
                if not data:
                    break
                with self.cv:
                    if self.t_req is None:
                        self.t_req = time.monotonic()
                        self.stats.begin()
                self.u.sendall(data)
        except OSError:
            pass
        self._shut(self.u)

    def down(self):
        """upstream -> client: hold a response's first byte until LAT after its request."""
        try:
            while True:
                data = self.u.recv(1 << 16)
                if not data:
                    break
                with self.cv:
                    t_req, self.t_req = self.t_req, None
                if t_req is not None:
                    wait = t_req + self.lat - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    self.stats.first_byte()
                self.c.sendall(data)
        except OSError:
            pass
        with self.cv:
            if self.t_req is not None:  # a request that got no answer
                self.t_req = None
                self.stats.first_byte()
        self._shut(self.c)

    @staticmethod
    def _shut(s):
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(listener, upstream, lat, stats):
    while True:
        client, _ = listener.accept()
        try:
            up = socket.create_connection(upstream)
        except OSError:
            client.close()
            continue
        for s in (client, up):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Conn(client, up, lat, stats)
        t_up = threading.Thread(target=conn.up, daemon=True)
        t_down = threading.Thread(target=conn.down, daemon=True)
        t_up.start()
        t_down.start()
        threading.Thread(target=_reap, args=(t_up, t_down, client, up), daemon=True).start()


def _reap(t_up, t_down, client, up):
    t_up.join()
    t_down.join()
    client.close()
    up.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("upstream", help="HOST:PORT")
    ap.add_argument("--lat", type=float, default=20.0, help="first-byte latency, ms")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--stats", help="file for the request counts")
    a = ap.parse_args()
    host, port = a.upstream.rsplit(":", 1)
    stats = Stats()
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", a.port))
    lst.listen(512)

    def dump(*_):
        if a.stats:
            with open(a.stats, "w") as f:
                f.write(stats.line())

    def stop(*_):
        dump()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=serve, args=(lst, (host, int(port)), a.lat / 1000.0, stats), daemon=True).start()
    print("port %d" % lst.getsockname()[1], flush=True)
    while True:
        time.sleep(1)
        dump()


if __name__ == "__main__":
    main()

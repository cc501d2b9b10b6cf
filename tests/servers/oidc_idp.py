#!/usr/bin/env python3
"""tests/servers/oidc_idp.py — a loopback OpenID Connect issuer for RGW STS
(test_rgw_sts.sh), standard library + the openssl command only.

  oidc_idp.py serve --cert CERT.pem --port-file F
      serve /.well-known/openid-configuration and /jwks (the RSA key of CERT
      with its certificate as x5c: Ceph Pacific validates tokens with it and
      checks its SHA-1 thumbprint against the provider's) on 127.0.0.1:0;
      writes the port to F.
  oidc_idp.py mint --key KEY.pem --iss URL --aud AUD --sub SUB [--ttl S]
      print an RS256 JWT signed with KEY.
"""
import argparse
import base64
import http.server
import json
import os
import socketserver
import subprocess
import time


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def serve(a):
    der = subprocess.run(["openssl", "x509", "-in", a.cert, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    mod = subprocess.run(["openssl", "x509", "-in", a.cert, "-noout", "-modulus"],
                         capture_output=True, check=True).stdout.decode().split("=")[1].strip()
    key = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
           "n": b64u(bytes.fromhex(mod)), "e": b64u((65537).to_bytes(3, "big")),
           "x5c": [base64.b64encode(der).decode()]}

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *x):
            pass

        def do_GET(self):
            iss = "http://127.0.0.1:%d" % self.server.server_address[1]
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": iss, "jwks_uri": iss + "/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"]}
            elif self.path == "/jwks":
                body = {"keys": [key]}
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            d = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(d)))
            self.end_headers()
            self.wfile.write(d)

    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    s = S(("127.0.0.1", 0), H)
    open(a.port_file + ".tmp", "w").write("%d\n" % s.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    s.serve_forever()


def mint(a):
    now = int(time.time())
    head = b64u(json.dumps({"alg": "RS256", "kid": "k1", "typ": "JWT"}).encode())
    claims = b64u(json.dumps({"iss": a.iss, "sub": a.sub, "aud": a.aud, "azp": a.aud,
                              "iat": now, "nbf": now, "exp": now + a.ttl}).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", a.key],
                         input=(head + "." + claims).encode(), capture_output=True,
                         check=True).stdout
    print(head + "." + claims + "." + b64u(sig))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--cert", required=True)
    s.add_argument("--port-file", required=True)
    m = sub.add_parser("mint")
    for k in ("key", "iss", "aud", "sub"):
        m.add_argument("--" + k, required=True)
    m.add_argument("--ttl", type=int, default=3600)
    a = p.parse_args()
    serve(a) if a.cmd == "serve" else mint(a)


if __name__ == "__main__":
    main()

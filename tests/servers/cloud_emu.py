#!/usr/bin/env python3
"""tests/servers/cloud_emu.py — loopback emulators of the cloud token services
unifs's credential chains call (test_cloud_identity_*.sh), standard library
only. One process, two ports:

  main port (token services)
    PUT  /latest/api/token                      IMDSv2 session token
    GET  /latest/meta-data/iam/security-credentials/[ROLE]
    GET  /latest/meta-data/placement/region
    GET  /ecs/creds                             container credentials
                                                (Authorization must match --container-token)
    POST /sts/                                  STS AssumeRoleWithWebIdentity / AssumeRole
    POST /TENANT/oauth2/v2.0/token              Azure AD client-credentials grant
                                                (client_secret, or a client_assertion:
                                                an RS256 JWT verified against --az-cert)
    GET  /metadata/identity/oauth2/token        Azure IMDS (Metadata: true)
    GET  /msi/token                             App Service (X-IDENTITY-HEADER)
    POST /_mode  svc=NAME&mode=ok|hang|500|malformed|expired   broken answers per service
    GET  /_stats                                JSON counters
  s3 port (optional, --s3-upstream): a verifying proxy in front of s3rver.
    A request is forwarded only when its SigV4 Authorization names an access
    key this emulator issued that has not expired (else 403 ExpiredToken /
    InvalidAccessKeyId) and the credential scope's region is --s3-region
    (else 301 PermanentRedirect with x-amz-bucket-region); it reaches s3rver
    under s3rver's own key (s3rver checks the key, never the signature).

Issued AWS keys and Azure tokens live --lifetime seconds. Services: imds,
container, sts, aad, azimds, appsvc.
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import re
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.parse

LOCK = threading.Lock()
MODES = {}
STATS = {"issued": 0, "s3_ok": 0, "s3_denied": 0, "s3_redirected": 0, "aad_assertions": 0}
KEYS = {}  # access key id -> expiry
ARGS = None


def count(name):
    with LOCK:
        STATS[name] = STATS.get(name, 0) + 1


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def new_aws_creds(lifetime=None):
    with LOCK:
        STATS["issued"] += 1
        n = STATS["issued"]
    ak = "ASIAEMU%08d" % n
    exp = time.time() + (ARGS.lifetime if lifetime is None else lifetime)
    with LOCK:
        KEYS[ak] = exp
    return {"AccessKeyId": ak, "SecretAccessKey": "emusecret%d" % n,
            "Token": "emutoken%d" % n, "Expiration": iso(exp)}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def azure_jwt(lifetime):
    now = int(time.time())
    with LOCK:
        STATS["issued"] += 1
    claims = {"aud": "https://storage.azure.com",
              "iss": "https://sts.windows.net/%s/" % ARGS.tenant,
              "iat": now - 5, "nbf": now - 5, "exp": now + lifetime,
              "oid": "emu", "tid": ARGS.tenant}
    return ".".join([b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()),
                     b64url(json.dumps(claims).encode()), b64url(b"emu-signature")])


def verify_assertion(jwt):
    """Check an RS256 client assertion against the certificate's key (openssl)."""
    if not ARGS.az_cert:
        return False
    try:
        h, c, s = jwt.split(".")
        claims = json.loads(b64url_dec(c))
        if claims.get("iss") != ARGS.client_id or claims.get("sub") != ARGS.client_id:
            return False
        if claims.get("exp", 0) < time.time():
            return False
        with tempfile.TemporaryDirectory() as d:
            open(d + "/data", "wb").write((h + "." + c).encode())
            open(d + "/sig", "wb").write(b64url_dec(s))
            pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", ARGS.az_cert],
                                 capture_output=True, check=True).stdout
            open(d + "/pub", "wb").write(pub)
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", d + "/pub",
                                "-signature", d + "/sig", d + "/data"], capture_output=True)
            return r.returncode == 0
    except Exception:
        return False


class Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="application/json", hdrs=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (hdrs or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""


class TokenHandler(Quiet):
    def broken(self, svc, creds=True):
        """Apply the service's mode; True when the answer was sent (or withheld).
        creds: this answer carries the credentials (malformed applies)."""
        count("req_" + svc)
        mode = MODES.get(svc, "ok")
        if mode in ("malformed", "expired") and not creds:
            return False
        if mode == "hang":
            time.sleep(60)
            return True
        if mode == "500":
            self.reply(500, "internal error")
            return True
        if mode == "malformed":
            self.reply(200, '{"AccessKeyId": "ASIA, "access_token": tr')
            return True
        return False

    def lifetime(self, svc):
        return -60 if MODES.get(svc) == "expired" else ARGS.lifetime

    def do_PUT(self):
        self.body()
        if self.path == "/latest/api/token":
            if self.broken("imds", creds=False):
                return
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400, "missing ttl", "text/plain")
            return self.reply(200, "emu-imds-session", "text/plain")
        self.reply(404, "no")

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/_stats":
            with LOCK:
                return self.reply(200, json.dumps(STATS))
        if u.path.startswith("/latest/meta-data/"):
            if self.broken("imds", creds=u.path.endswith("/emu-role")):
                return
            if self.headers.get("X-aws-ec2-metadata-token") != "emu-imds-session":
                return self.reply(401, "no session token", "text/plain")
            if u.path == "/latest/meta-data/placement/region":
                return self.reply(200, ARGS.imds_region, "text/plain")
            if u.path == "/latest/meta-data/iam/security-credentials/":
                return self.reply(200, "emu-role", "text/plain")
            if u.path == "/latest/meta-data/iam/security-credentials/emu-role":
                c = new_aws_creds(self.lifetime("imds"))
                c.update({"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": iso(time.time())})
                return self.reply(200, json.dumps(c))
            return self.reply(404, "no")
        if u.path == "/ecs/creds":
            if self.broken("container"):
                return
            if self.headers.get("Authorization") != ARGS.container_token:
                return self.reply(401, '{"message": "bad authorization"}')
            return self.reply(200, json.dumps(new_aws_creds(self.lifetime("container"))))
        if u.path == "/metadata/identity/oauth2/token":
            if self.broken("azimds"):
                return
            if self.headers.get("Metadata") != "true":
                return self.reply(400, '{"error": "invalid_request"}')
            if q.get("resource") != "https://storage.azure.com/":
                return self.reply(400, '{"error": "invalid_resource"}')
            with LOCK:
                STATS["mi_client_id"] = q.get("client_id", "")
            if ARGS.mi_client_id and q.get("client_id") != ARGS.mi_client_id:
                return self.reply(400, '{"error": "invalid_request", "error_description": "identity not found"}')
            return self.azure_token(self.lifetime("azimds"), imds=True)
        if u.path == "/msi/token":
            if self.broken("appsvc"):
                return
            if self.headers.get("X-IDENTITY-HEADER") != ARGS.identity_header:
                return self.reply(401, '{"error": "bad header"}')
            return self.azure_token(self.lifetime("appsvc"), imds=True)
        self.reply(404, "no")

    def azure_token(self, lifetime, imds):
        tok = azure_jwt(lifetime)
        now = int(time.time())
        if imds:
            body = {"access_token": tok, "expires_in": str(lifetime), "expires_on": str(now + lifetime),
                    "resource": "https://storage.azure.com/", "token_type": "Bearer"}
        else:
            body = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                    "access_token": tok}
        self.reply(200, json.dumps(body))

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        form = dict(urllib.parse.parse_qsl(self.body().decode()))
        if u.path == "/_mode":
            MODES[form["svc"]] = form["mode"]
            return self.reply(200, "{}")
        if u.path == "/sts/":
            if self.broken("sts"):
                return
            return self.sts(form)
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", u.path)
        if m:
            if self.broken("aad"):
                return
            if m.group(1) != ARGS.tenant or form.get("client_id") != ARGS.client_id:
                return self.reply(400, '{"error": "unauthorized_client"}')
            if form.get("grant_type") != "client_credentials" or \
                    form.get("scope") != "https://storage.azure.com/.default":
                return self.reply(400, '{"error": "invalid_scope"}')
            if "client_secret" in form:
                if form["client_secret"] != ARGS.client_secret:
                    return self.reply(401, '{"error": "invalid_client"}')
            elif form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                a = form.get("client_assertion", "")
                fed = open(ARGS.federated_token).read().strip() if ARGS.federated_token else None
                if a == fed:
                    count("aad_federated")
                elif verify_assertion(a):
                    count("aad_assertions")
                else:
                    return self.reply(401, '{"error": "invalid_client"}')
            else:
                return self.reply(400, '{"error": "invalid_request"}')
            return self.azure_token(self.lifetime("aad"), imds=False)
        self.reply(404, "no")

    def sts(self, form):
        action = form.get("Action")
        if action == "AssumeRoleWithWebIdentity":
            tok = form.get("WebIdentityToken", "")
            if not tok or (ARGS.web_token_file and tok != open(ARGS.web_token_file).read().strip()):
                return self.reply(400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code></Error></ErrorResponse>", "text/xml")
            count("sts_web_identity")
        elif action == "AssumeRole":
            auth = self.headers.get("Authorization", "")
            m = re.search(r"Credential=([^/]+)/\d{8}/[^/]+/sts/aws4_request", auth)
            if not m or (m.group(1) not in ARGS.sts_base_keys.split(",") and
                         KEYS.get(m.group(1), 0) < time.time()):
                return self.reply(403, "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>", "text/xml")
            count("sts_assume_role:" + form.get("RoleArn", ""))
        else:
            return self.reply(400, "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>", "text/xml")
        with LOCK:
            STATS["last_role"] = form.get("RoleArn", "")
            STATS["last_session"] = form.get("RoleSessionName", "")
        c = new_aws_creds(self.lifetime("sts"))
        xml = ("<{a}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{a}Result>"
               "<Credentials><AccessKeyId>{AccessKeyId}</AccessKeyId>"
               "<SecretAccessKey>{SecretAccessKey}</SecretAccessKey>"
               "<SessionToken>{Token}</SessionToken><Expiration>{Expiration}</Expiration>"
               "</Credentials></{a}Result></{a}Response>").format(a=action, **c)
        self.reply(200, xml, "text/xml")


class S3Proxy(Quiet):
    """Forward to s3rver only what carries a valid issued key and the right region."""

    def handle_any(self):
        auth = self.headers.get("Authorization", "")
        body = self.body()
        m = re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/s3/aws4_request", auth)
        if not m:
            count("s3_denied")
            return self.reply(403, "<Error><Code>AccessDenied</Code></Error>", "application/xml")
        ak, region = m.group(1), m.group(2)
        if region != ARGS.s3_region:
            count("s3_redirected")
            return self.reply(301, "<Error><Code>PermanentRedirect</Code><Message>wrong region</Message></Error>",
                              "application/xml", {"x-amz-bucket-region": ARGS.s3_region})
        exp = KEYS.get(ak)
        if exp is None or exp < time.time():
            count("s3_denied")
            code = "InvalidAccessKeyId" if exp is None else "ExpiredToken"
            return self.reply(403, "<Error><Code>%s</Code></Error>" % code, "application/xml")
        count("s3_ok")
        host, port = ARGS.s3_upstream.split(":")
        c = http.client.HTTPConnection(host, int(port), timeout=30)
        # s3rver knows one access key and never checks signatures: pass the
        # request on under its key (the check above is the verification)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in ("host", "x-amz-security-token")}
        hdrs["Host"] = ARGS.s3_upstream
        hdrs["Authorization"] = auth.replace("Credential=" + ak + "/", "Credential=S3RVER/")
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        # a HEAD answer's Content-Length is the object's size, not its body's
        self.send_header("Content-Length", r.getheader("Content-Length", "0")
                         if self.command == "HEAD" else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--lifetime", type=int, default=20)
    p.add_argument("--imds-region", default="eu-west-3")
    p.add_argument("--container-token", default="emu-container-token")
    p.add_argument("--web-token-file")
    p.add_argument("--sts-base-keys", default="")
    p.add_argument("--tenant", default="emu-tenant")
    p.add_argument("--client-id", default="emu-client")
    p.add_argument("--client-secret", default="emu-client-secret")
    p.add_argument("--az-cert")
    p.add_argument("--federated-token")
    p.add_argument("--mi-client-id")
    p.add_argument("--identity-header", default="emu-identity-header")
    p.add_argument("--s3-upstream")
    p.add_argument("--s3-region", default="eu-west-3")
    ARGS = p.parse_args()
    main_srv = Server(("127.0.0.1", 0), TokenHandler)
    ports = [main_srv.server_address[1]]
    threading.Thread(target=main_srv.serve_forever, daemon=True).start()
    if ARGS.s3_upstream:
        s3 = Server(("127.0.0.1", 0), S3Proxy)
        ports.append(s3.server_address[1])
        threading.Thread(target=s3.serve_forever, daemon=True).start()
    tmp = ARGS.port_file + ".tmp"
    open(tmp, "w").write(" ".join(map(str, ports)) + "\n")
    os.rename(tmp, ARGS.port_file)
    threading.Event().wait()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""sigv4_diff.py DRIVER [N] — differential test of unifs' SigV4 signer
against botocore's (python3-botocore). Generates N requests (default 3000)
from a fixed seed: keys holding every byte 0x01-0xff and awkward UTF-8,
query strings with duplicate names, empty values and reserved characters,
headers with odd case, repeated names and runs of blanks, session tokens and
payload hashes (UNSIGNED-PAYLOAD or hex). Each is signed by botocore's
S3SigV4Auth and by DRIVER (sigv4_driver, built by CMake); the canonical
requests and signatures must be equal. Prints one line per mismatch (the
first 5 in full) and exits 1 if any, 2 when botocore is missing."""
import hashlib
import random
import subprocess
import sys
from urllib.parse import quote

try:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    print("sigv4_diff: python3-botocore is not installed (scripts/setup.sh installs it)")
    sys.exit(2)

SAFE = '-_.~'
HDR_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-'
VAL_CHARS = ''.join(chr(c) for c in range(0x21, 0x7f))


def rand_key(rng):
    """A key: every byte 1..255 can appear (as raw bytes, then UTF-8 decoded
    leniently for botocore-free handling: we keep bytes and percent-encode)."""
    n = rng.randint(1, 40)
    pool = [bytes([b]) for b in range(1, 256)] + [
        'é'.encode(), '日本'.encode(), '😀'.encode(), b'/', b'//', b' ', b'+', b'%', b'~']
    return b''.join(rng.choice(pool) for _ in range(n))


def rand_text(rng, n=12):
    pool = [chr(c) for c in range(0x20, 0x7f)] + ['é', 'ü', '日', '😀', '\t']
    return ''.join(rng.choice(pool) for _ in range(rng.randint(0, n)))


def gen(rng, i):
    key = rand_key(rng)
    path = '/bkt/' + quote(key, safe='/' + SAFE)  # as ufs_uri_encode(key, keep_slash=1)
    params = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
        params.append((rand_text(rng, 8) or 'k', rand_text(rng, 16)))
    if rng.random() < 0.3 and params:
        params.append((params[0][0], rand_text(rng, 6)))  # a repeated name
    query = '&'.join(quote(k, safe=SAFE) + '=' + quote(v, safe=SAFE) for k, v in params)
    headers = [('Host', rng.choice(['127.0.0.1:7480', 'bkt.s3.amazonaws.com', 'h']))]
    for _ in range(rng.randint(0, 5)):
        name = ''.join(rng.choice(HDR_CHARS) for _ in range(rng.randint(1, 12)))
        if name.lower() in ('host', 'authorization', 'x-amz-date', 'x-amz-content-sha256',
                            'x-amz-security-token', 'user-agent', 'expect',
                            'x-amzn-trace-id', 'te', 'transfer-encoding', 'connection'):
            continue  # set by the signer, or hop-by-hop headers botocore leaves unsigned
        val = ''.join(rng.choice(VAL_CHARS + '  ') for _ in range(rng.randint(1, 20)))
        val = rng.choice(['', ' ', '  ']) + val + rng.choice(['', ' '])
        headers.append((name, val))
    payload = rng.choice(['UNSIGNED-PAYLOAD',
                          hashlib.sha256(str(i).encode()).hexdigest(),
                          hashlib.sha256(b'').hexdigest()])
    token = rng.choice(['', '', 'FwoGZXIvYXdzE' + 'A' * rng.randint(0, 300) + '/+='])
    return {
        'method': rng.choice(['GET', 'PUT', 'HEAD', 'DELETE', 'POST']),
        'path': path, 'params': params, 'query': query, 'headers': headers,
        'payload': payload, 'token': token,
        'date': '2026%02d%02dT%02d%02d%02dZ' % (rng.randint(1, 12), rng.randint(1, 28),
                                                rng.randint(0, 23), rng.randint(0, 59),
                                                rng.randint(0, 59)),
        'ak': 'AKIA' + str(i), 'sk': rand_text(rng, 40).replace('\t', 'x') or 's',
        'region': rng.choice(['us-east-1', 'eu-west-3', 'default']),
    }


def botocore_sign(r):
    url = 'http://' + r['headers'][0][1] + r['path']
    req = AWSRequest(method=r['method'], url=url, params=r['params'] or None)
    for name, val in r['headers'][1:]:
        if name in req.headers:  # repeated name: values trimmed, then joined (SigV4 spec)
            val = req.headers[name].strip() + ',' + val.strip()
            del req.headers[name]
        req.headers[name] = val
    req.headers['X-Amz-Content-SHA256'] = r['payload']
    creds = Credentials(r['ak'], r['sk'], r['token'] or None)
    auth = S3SigV4Auth(creds, 's3', r['region'])
    auth.payload = lambda _req: r['payload']  # the hash unifs was given, as sent
    req.context['timestamp'] = r['date']
    auth._modify_request_before_signing(req)
    canonical = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canonical)
    return canonical, auth.signature(sts, req)


def hexf(s):
    b = s.encode() if isinstance(s, str) else s
    return b.hex() if b else '-'


def driver_line(r):
    hdrs = '\n'.join('%s: %s' % (n, v) for n, v in r['headers'])
    fields = [r['method'], r['path'], r['query'], r['payload'], r['date'], r['ak'], r['sk'],
              r['token'], r['region'], hdrs]
    return '\t'.join(hexf(f) for f in fields)


def main():
    driver, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    rng = random.Random(20261202)
    reqs = [gen(rng, i) for i in range(n)]
    out = subprocess.run([driver], input='\n'.join(driver_line(r) for r in reqs) + '\n',
                         capture_output=True, text=True, check=True).stdout.splitlines()
    if len(out) != n:
        print('sigv4_diff: driver answered %d of %d requests' % (len(out), n))
        return 1
    bad = 0
    for i, (r, line) in enumerate(zip(reqs, out)):
        canon, sig = botocore_sign(r)
        if line.startswith('ERROR'):
            got_c, got_s = line, ''
        else:
            hx, got_s = line.split('\t')
            got_c = bytes.fromhex(hx).decode('utf-8', 'replace')
        if got_c != canon or got_s != sig:
            bad += 1
            if bad <= 5:
                print('MISMATCH request %d %s %r\n--- botocore:\n%s\n--- unifs:\n%s\n' %
                      (i, r['method'], r['path'], canon, got_c))
    print('sigv4_diff: %d requests, %d mismatches' % (n, bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

/*
 * sign.c — request signing; see sign.h. Organised in sections: common
 * digests, AWS SigV4, the encodings both clouds use. Azure SharedKey is
 * azure/az_sign.c; the canonical-header helpers both share are sign_i.h.
 *
 * SigV4 (header auth), as AWS documents it:
 *   canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n HASH
 *     URI: the path, each byte outside the RFC 3986 unreserved set
 *          percent-encoded, '/' kept (optionally dot-segments removed);
 *     QUERY: name=value pairs, both encoded ('/' too), sorted by name, value;
 *     HEADERS: "name:value\n", names lower-case, sorted, values trimmed with
 *          inner blank runs folded, repeated names joined with ',';
 *   string to sign = "AWS4-HMAC-SHA256" \n DATE \n SCOPE \n hex(SHA256(creq))
 *   signing key = HMAC chain over "AWS4"+secret, date, region, service,
 *          "aws4_request"; signature = hex(HMAC(key, string to sign)).
 * Encoding works on the decoded form of what the caller sends, so an already
 * encoded path ("/a%20b") and a raw one ("/a b") sign the same.
 */
#include "protocols/sign.h"
#include "protocols/sign_i.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

#include "common/strbuf.h"
#include "common/secret.h"

/* ==== common digests ==== */

static void sign_hex(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void ufs_sha256_hex(const void *data, size_t len, char out[UFS_SHA256_HEX_LEN])
{
	unsigned char md[UFS_SHA256_LEN];

	SHA256(data, len, md);
	sign_hex(md, sizeof(md), out);
}

int ufs_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		    unsigned char out[UFS_SHA256_LEN])
{
	unsigned int outlen = UFS_SHA256_LEN;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen))
		return -EIO;
	return 0;
}

/* ==== AWS Signature Version 4 ==== */

/* Append s (len bytes) decoded then re-encoded the SigV4 way. */
static void sign_str_encoded(struct ufs_strbuf *b, const char *s, size_t len, int keep_slash)
{
	char *dec = ufs_uri_decode(s, len);
	char *enc = ufs_uri_encode(dec ? dec : s, dec ? strlen(dec) : len, keep_slash);

	if (enc)
		ufs_sb_puts(b, enc);
	else
		b->oom = 1;
	free(dec);
	free(enc);
}

void ufs_amz_date(time_t t, char out[UFS_AMZ_DATE_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, UFS_AMZ_DATE_LEN, "%Y%m%dT%H%M%SZ", &tm);
}

/* Remove empty, "." and ".." segments; keeps a trailing '/' of a non-root path. */
static char *sign_normalize_path(const char *path)
{
	size_t len = strlen(path);
	char *out = malloc(len + 2);
	size_t o = 0;
	const char *p = path;

	if (!out)
		return NULL;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && strncmp(p, "..", 2) == 0) {
			while (o > 0 && out[--o] != '/')
				;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	if (o == 0 || (len > 1 && path[len - 1] == '/'))
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

static void sign_canonical_uri(struct ufs_strbuf *b, const struct ufs_sigv4_req *r)
{
	const char *path = r->path && *r->path ? r->path : "/";
	char *norm = NULL;

	if (r->normalize_path) {
		norm = sign_normalize_path(path);
		if (!norm) {
			b->oom = 1;
			return;
		}
		path = norm;
	}
	sign_str_encoded(b, path, strlen(path), 1);
	free(norm);
}

int ufs_sign_param_cmp(const void *a, const void *b)
{
	const struct ufs_sign_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static char *sign_encode_part(const char *s, size_t len)
{
	struct ufs_strbuf b = {0};

	sign_str_encoded(&b, s, len, 0);
	if (!b.oom && !b.s)
		ufs_sb_append(&b, "", 0);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* Split "a=1&b=2" into encoded params; returns the count or -ENOMEM. */
static int sign_split_query(const char *q, struct ufs_sign_param **pp)
{
	size_t n = 0, cap = 0;
	struct ufs_sign_param *v = NULL;

	while (q && *q) {
		size_t len = strcspn(q, "&"), klen = strcspn(q, "=");

		if (klen > len)
			klen = len;
		if (len > 0) {
			if (n == cap) {
				struct ufs_sign_param *nv;

				cap = cap ? cap * 2 : 8;
				nv = realloc(v, cap * sizeof(*nv));
				if (!nv)
					goto oom;
				v = nv;
			}
			v[n].name = sign_encode_part(q, klen);
			v[n].value = klen < len ? sign_encode_part(q + klen + 1, len - klen - 1)
						: sign_encode_part("", 0);
			n++;
			if (!v[n - 1].name || !v[n - 1].value)
				goto oom;
		}
		q += len;
		if (*q == '&')
			q++;
	}
	*pp = v;
	return (int)n;
oom:
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
	return -ENOMEM;
}

static int sign_canonical_query(struct ufs_strbuf *b, const char *query)
{
	struct ufs_sign_param *v = NULL;
	int n = sign_split_query(query, &v);

	if (n <= 0)
		return n;
	qsort(v, (size_t)n, sizeof(*v), ufs_sign_param_cmp);
	for (int i = 0; i < n; i++) {
		if (i)
			ufs_sb_puts(b, "&");
		ufs_sb_puts(b, v[i].name);
		ufs_sb_puts(b, "=");
		ufs_sb_puts(b, v[i].value);
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
	return 0;
}

int ufs_sign_hdr_cmp(const void *a, const void *b)
{
	const struct ufs_sign_hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Parse "Name: value" into lower-case name and trimmed, folded value. */
int ufs_sign_hdr_parse(const char *line, size_t order, struct ufs_sign_hdr *h)
{
	size_t nlen = strcspn(line, ":"), o = 0;
	const char *v = line[nlen] ? line + nlen + 1 : line + nlen;

	h->order = order;
	h->name = strndup(line, nlen);
	h->value = malloc(strlen(v) + 1);
	if (!h->name || !h->value)
		return -ENOMEM;
	for (size_t i = 0; i < nlen; i++)
		h->name[i] = (char)tolower((unsigned char)h->name[i]);
	for (; *v; v++) {
		if (isspace((unsigned char)*v)) {
			if (o > 0 && h->value[o - 1] != ' ')
				h->value[o++] = ' ';
		} else {
			h->value[o++] = *v;
		}
	}
	while (o > 0 && h->value[o - 1] == ' ')
		o--;
	h->value[o] = '\0';
	return 0;
}

void ufs_sign_hdrset_free(struct ufs_sign_hdrset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->h[i].name);
		free(s->h[i].value);
	}
	free(s->h);
}

/* The request's headers plus the ones SigV4 adds, parsed and sorted. */
static int sign_collect_headers(const struct ufs_sigv4_req *r, const struct ufs_sigv4_key *k,
				struct ufs_sign_hdrset *s)
{
	struct ufs_http_hdrs add = {0};
	size_t nreq = r->headers ? r->headers->n : 0;
	int rc = ufs_http_hdrs_add(&add, "x-amz-date:%s", r->amz_date);

	if (!rc && r->content_sha_header)
		rc = ufs_http_hdrs_add(&add, "x-amz-content-sha256:%s", r->payload_hash);
	if (!rc && k->session_token && !r->omit_token)
		rc = ufs_http_hdrs_add(&add, "x-amz-security-token:%s", k->session_token);
	s->n = 0;
	s->h = rc ? NULL : calloc(nreq + add.n, sizeof(*s->h));
	if (!s->h)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < nreq + add.n; i++) {
		const char *line = i < nreq ? r->headers->line[i] : add.line[i - nreq];

		s->n++;
		rc = ufs_sign_hdr_parse(line, i, &s->h[i]);
	}
	ufs_http_hdrs_clear(&add);
	if (rc) {
		ufs_sign_hdrset_free(s);
		return rc;
	}
	qsort(s->h, s->n, sizeof(*s->h), ufs_sign_hdr_cmp);
	return 0;
}

/* Append the canonical headers block and the signed-headers list. */
void ufs_sign_canonical_headers(struct ufs_strbuf *b, struct ufs_strbuf *signed_names,
				const struct ufs_sign_hdrset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		int same = i > 0 && strcmp(s->h[i].name, s->h[i - 1].name) == 0;

		if (same) {
			ufs_sb_puts(b, ",");
		} else {
			if (i > 0)
				ufs_sb_puts(b, "\n");
			ufs_sb_puts(b, s->h[i].name);
			ufs_sb_puts(b, ":");
			if (signed_names->len)
				ufs_sb_puts(signed_names, ";");
			ufs_sb_puts(signed_names, s->h[i].name);
		}
		ufs_sb_puts(b, s->h[i].value);
	}
	ufs_sb_puts(b, "\n");
}

static int sign_has_host(const struct ufs_sign_hdrset *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->h[i].name, "host") == 0)
			return 1;
	return 0;
}

/* Canonical request into *pcreq and the signed-headers list into *psigned. */
static int sign_canonical_request(const struct ufs_sigv4_req *r, const struct ufs_sigv4_key *k,
				  char **pcreq, char **psigned)
{
	struct ufs_strbuf b = {0}, names = {0};
	struct ufs_sign_hdrset hs;
	int rc = sign_collect_headers(r, k, &hs);

	if (rc)
		return rc;
	if (!sign_has_host(&hs)) {
		ufs_sign_hdrset_free(&hs);
		return -EINVAL;
	}
	ufs_sb_puts(&b, r->method);
	ufs_sb_puts(&b, "\n");
	sign_canonical_uri(&b, r);
	ufs_sb_puts(&b, "\n");
	rc = sign_canonical_query(&b, r->query);
	ufs_sb_puts(&b, "\n");
	ufs_sign_canonical_headers(&b, &names, &hs);
	ufs_sb_puts(&b, "\n");
	ufs_sb_puts(&b, names.s ? names.s : "");
	ufs_sb_puts(&b, "\n");
	ufs_sb_puts(&b, r->payload_hash);
	ufs_sign_hdrset_free(&hs);
	if (rc || b.oom || names.oom) {
		free(b.s);
		free(names.s);
		return rc ? rc : -ENOMEM;
	}
	*pcreq = b.s;
	*psigned = names.s;
	return 0;
}

/* "20150830/us-east-1/service/aws4_request" */
static int sign_scope(const struct ufs_sigv4_req *r, const struct ufs_sigv4_key *k, char **pscope)
{
	if (!r->amz_date || strlen(r->amz_date) != UFS_AMZ_DATE_LEN - 1)
		return -EINVAL;
	if (asprintf(pscope, "%.8s/%s/%s/aws4_request", r->amz_date, k->region, k->service) < 0)
		return -ENOMEM;
	return 0;
}

static int sign_string_to_sign(const char *creq, const char *amz_date, const char *scope,
			       char **psts)
{
	char hash[UFS_SHA256_HEX_LEN];

	ufs_sha256_hex(creq, strlen(creq), hash);
	if (asprintf(psts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, hash) < 0)
		return -ENOMEM;
	return 0;
}

/* signature = hex(HMAC(signing key, sts)); the key chain is derived here. */
static int sign_signature(const struct ufs_sigv4_key *k, const char *amz_date, const char *sts,
			  char out[UFS_SHA256_HEX_LEN])
{
	const char *parts[] = {NULL, k->region, k->service, "aws4_request", sts};
	unsigned char key[UFS_SHA256_LEN];
	char date[9], *first;
	int rc = 0;

	snprintf(date, sizeof(date), "%.8s", amz_date);
	parts[0] = date;
	if (asprintf(&first, "AWS4%s", k->secret_key) < 0)
		return -ENOMEM;
	rc = ufs_hmac_sha256(first, strlen(first), date, strlen(date), key);
	OPENSSL_cleanse(first, strlen(first));
	free(first);
	for (size_t i = 1; !rc && i < sizeof(parts) / sizeof(parts[0]); i++)
		rc = ufs_hmac_sha256(key, sizeof(key), parts[i], strlen(parts[i]), key);
	if (!rc)
		sign_hex(key, sizeof(key), out);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

void ufs_sigv4_out_free(struct ufs_sigv4_out *out)
{
	free(out->canonical_request);
	free(out->string_to_sign);
	free(out->authorization);
	memset(out, 0, sizeof(*out));
}

int ufs_sigv4_sign(const struct ufs_sigv4_req *r, const struct ufs_sigv4_key *k,
		   struct ufs_sigv4_out *pout)
{
	struct ufs_sigv4_out o = {0};
	char *signed_names = NULL, *scope = NULL;
	int rc = sign_scope(r, k, &scope);

	if (!rc)
		rc = sign_canonical_request(r, k, &o.canonical_request, &signed_names);
	if (!rc)
		rc =
		    sign_string_to_sign(o.canonical_request, r->amz_date, scope, &o.string_to_sign);
	if (!rc)
		rc = sign_signature(k, r->amz_date, o.string_to_sign, o.signature);
	if (!rc && asprintf(&o.authorization,
			    "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			    k->access_key, scope, signed_names, o.signature) < 0) {
		o.authorization = NULL;
		rc = -ENOMEM;
	}
	free(signed_names);
	free(scope);
	if (rc) {
		ufs_sigv4_out_free(&o);
		return rc;
	}
	*pout = o;
	return 0;
}

int ufs_sigv4_add_headers(const struct ufs_sigv4_req *r, const struct ufs_sigv4_key *k,
			  struct ufs_http_hdrs *pauth)
{
	struct ufs_sigv4_out o;
	int rc = ufs_sigv4_sign(r, k, &o);

	if (rc)
		return rc;
	rc = ufs_http_hdrs_add(pauth, "x-amz-date: %s", r->amz_date);
	if (!rc && r->content_sha_header)
		rc = ufs_http_hdrs_add(pauth, "x-amz-content-sha256: %s", r->payload_hash);
	if (!rc && k->session_token)
		rc = ufs_http_hdrs_add(pauth, "x-amz-security-token: %s", k->session_token);
	if (!rc)
		rc = ufs_http_hdrs_add(pauth, "Authorization: %s", o.authorization);
	ufs_sigv4_out_free(&o);
	return rc;
}

/* ==== encodings both clouds use (Content-MD5, base64 keys, HTTP dates) ==== */

int ufs_base64_encode(const void *in, size_t len, char *out, size_t cap)
{
	if (cap < 4 * ((len + 2) / 3) + 1)
		return -ENOSPC;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

int ufs_content_md5_add(struct ufs_http_hdrs *h, const void *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char b64[32];

	if (!EVP_Digest(buf, len, md, &mdlen, EVP_md5(), NULL) ||
	    ufs_base64_encode(md, mdlen, b64, sizeof(b64)) < 0)
		return -EIO;
	return ufs_http_hdrs_add(h, "Content-MD5: %s", b64);
}

int ufs_base64_decode(const char *in, void *out, size_t cap)
{
	size_t len = strlen(in), pad, raw;
	unsigned char *tmp;
	int n;

	if (len == 0 || len % 4 != 0)
		return -EINVAL;
	pad = (size_t)(in[len - 1] == '=') + (size_t)(in[len - 2] == '=');
	raw = len / 4 * 3;
	if (raw - pad > cap)
		return -ENOSPC;
	tmp = malloc(raw + 1);
	if (!tmp)
		return -ENOMEM;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
	if (n >= 0) {
		n -= (int)pad;
		memcpy(out, tmp, (size_t)n);
	}
	OPENSSL_cleanse(tmp, raw + 1);
	free(tmp);
	return n < 0 ? -EINVAL : n;
}

void ufs_http_date(time_t t, char out[UFS_HTTP_DATE_LEN])
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, UFS_HTTP_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday],
		 tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

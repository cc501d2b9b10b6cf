/*
 * sign.c — request signing; see sign.h. Organised in sections (common
 * digests, AWS SigV4); other schemes are appended as their own sections.
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

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A growable string; any failed append leaves oom set and later appends no-ops. */
struct sign_str {
	char *s;
	size_t len;
	size_t cap;
	int oom;
};

static void sign_str_add(struct sign_str *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		char *ns;

		while (cap < b->len + n + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sign_str_cat(struct sign_str *b, const char *s)
{
	sign_str_add(b, s, strlen(s));
}

/* Append s (len bytes) decoded then re-encoded the SigV4 way. */
static void sign_str_encoded(struct sign_str *b, const char *s, size_t len, int keep_slash)
{
	char *dec = ufs_uri_decode(s, len);
	char *enc = ufs_uri_encode(dec ? dec : s, dec ? strlen(dec) : len, keep_slash);

	if (enc)
		sign_str_cat(b, enc);
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

static void sign_canonical_uri(struct sign_str *b, const struct ufs_sigv4_req *r)
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

/* One query parameter, encoded. */
struct sign_param {
	char *name;
	char *value;
};

static int sign_param_cmp(const void *a, const void *b)
{
	const struct sign_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static char *sign_encode_part(const char *s, size_t len)
{
	struct sign_str b = {0};

	sign_str_encoded(&b, s, len, 0);
	if (!b.oom && !b.s)
		sign_str_add(&b, "", 0);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* Split "a=1&b=2" into encoded params; returns the count or -ENOMEM. */
static int sign_split_query(const char *q, struct sign_param **pp)
{
	size_t n = 0, cap = 0;
	struct sign_param *v = NULL;

	while (q && *q) {
		size_t len = strcspn(q, "&"), klen = strcspn(q, "=");

		if (klen > len)
			klen = len;
		if (len > 0) {
			if (n == cap) {
				struct sign_param *nv;

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

static int sign_canonical_query(struct sign_str *b, const char *query)
{
	struct sign_param *v = NULL;
	int n = sign_split_query(query, &v);

	if (n <= 0)
		return n;
	qsort(v, (size_t)n, sizeof(*v), sign_param_cmp);
	for (int i = 0; i < n; i++) {
		if (i)
			sign_str_cat(b, "&");
		sign_str_cat(b, v[i].name);
		sign_str_cat(b, "=");
		sign_str_cat(b, v[i].value);
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
	return 0;
}

/* One header to sign: lower-case name, folded value, original position. */
struct sign_hdr {
	char *name;
	char *value;
	size_t order;
};

static int sign_hdr_cmp(const void *a, const void *b)
{
	const struct sign_hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Parse "Name: value" into lower-case name and trimmed, folded value. */
static int sign_hdr_parse(const char *line, size_t order, struct sign_hdr *h)
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

struct sign_hdrset {
	struct sign_hdr *h;
	size_t n;
};

static void sign_hdrset_free(struct sign_hdrset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->h[i].name);
		free(s->h[i].value);
	}
	free(s->h);
}

/* The request's headers plus the ones SigV4 adds, parsed and sorted. */
static int sign_collect_headers(const struct ufs_sigv4_req *r, const struct ufs_sigv4_key *k,
				struct sign_hdrset *s)
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
		rc = sign_hdr_parse(line, i, &s->h[i]);
	}
	ufs_http_hdrs_clear(&add);
	if (rc) {
		sign_hdrset_free(s);
		return rc;
	}
	qsort(s->h, s->n, sizeof(*s->h), sign_hdr_cmp);
	return 0;
}

/* Append the canonical headers block and the signed-headers list. */
static void sign_canonical_headers(struct sign_str *b, struct sign_str *signed_names,
				   const struct sign_hdrset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		int same = i > 0 && strcmp(s->h[i].name, s->h[i - 1].name) == 0;

		if (same) {
			sign_str_cat(b, ",");
		} else {
			if (i > 0)
				sign_str_cat(b, "\n");
			sign_str_cat(b, s->h[i].name);
			sign_str_cat(b, ":");
			if (signed_names->len)
				sign_str_cat(signed_names, ";");
			sign_str_cat(signed_names, s->h[i].name);
		}
		sign_str_cat(b, s->h[i].value);
	}
	sign_str_cat(b, "\n");
}

static int sign_has_host(const struct sign_hdrset *s)
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
	struct sign_str b = {0}, names = {0};
	struct sign_hdrset hs;
	int rc = sign_collect_headers(r, k, &hs);

	if (rc)
		return rc;
	if (!sign_has_host(&hs)) {
		sign_hdrset_free(&hs);
		return -EINVAL;
	}
	sign_str_cat(&b, r->method);
	sign_str_cat(&b, "\n");
	sign_canonical_uri(&b, r);
	sign_str_cat(&b, "\n");
	rc = sign_canonical_query(&b, r->query);
	sign_str_cat(&b, "\n");
	sign_canonical_headers(&b, &names, &hs);
	sign_str_cat(&b, "\n");
	sign_str_cat(&b, names.s ? names.s : "");
	sign_str_cat(&b, "\n");
	sign_str_cat(&b, r->payload_hash);
	sign_hdrset_free(&hs);
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

/*
 * az_sign.c — Azure Blob auth: SharedKey, SAS and bearer tokens; see
 * az_sign.h.
 *
 * SharedKey follows "Authorize with Shared Key" (version 2009-09-19+): the
 * string-to-sign is built from the request exactly as http.c sends it (the
 * caller's headers plus the hook's x-ms-date), so a retry re-signs with a
 * fresh date. The bearer token is cached in the credential and re-read when
 * its file's mtime changes (a token refresher rewrites the file).
 */
#include "protocols/azure/az_sign.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/secret.h"
#include "common/strbuf.h"
#include "protocols/credsrc.h"
#include "protocols/sign_i.h"

/* The x-ms-* lines of the request (caller's + hook's), parsed and sorted. */
static int az_ms_headers(const struct ufs_http_hdrs *h, const struct ufs_http_hdrs *x,
			 struct ufs_sign_hdrset *s)
{
	size_t nh = h ? h->n : 0, nx = x ? x->n : 0;
	int rc = 0;

	s->n = 0;
	s->h = calloc(nh + nx + 1, sizeof(*s->h));
	if (!s->h)
		return -ENOMEM;
	for (size_t i = 0; !rc && i < nh + nx; i++) {
		const char *line = i < nh ? h->line[i] : x->line[i - nh];

		if (strncasecmp(line, "x-ms-", 5) != 0)
			continue;
		rc = ufs_sign_hdr_parse(line, i, &s->h[s->n]);
		s->n++;
	}
	if (rc)
		return rc;
	qsort(s->h, s->n, sizeof(*s->h), ufs_sign_hdr_cmp);
	return 0;
}

/* Append "\nname:v1,v2" per query parameter: names lower-cased, both decoded,
 * sorted by name then value. 0, -ENOMEM or -EINVAL (malformed escape). */
static int az_canonical_query(struct ufs_strbuf *b, const char *q)
{
	struct ufs_sign_param *v;
	size_t n = 0, cnt = 1;
	int rc = 0;

	for (size_t i = 0; q && q[i]; i++)
		cnt += q[i] == '&';
	v = calloc(cnt, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (rc == 0 && q && *q) {
		size_t len = strcspn(q, "&"), klen = strcspn(q, "=");

		if (klen > len)
			klen = len;
		if (len > 0) {
			v[n].name = ufs_uri_decode(q, klen);
			v[n].value =
			    ufs_uri_decode(q + klen + (klen < len), len - klen - (klen < len));
			for (char *p = v[n].name; p && *p; p++)
				*p = (char)tolower((unsigned char)*p);
			rc = v[n].name && v[n].value ? 0 : -EINVAL;
			n++;
		}
		q += len + (q[len] == '&');
	}
	if (rc == 0)
		qsort(v, n, sizeof(*v), ufs_sign_param_cmp);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int first = i == 0 || strcmp(v[i - 1].name, v[i].name) != 0;

		ufs_sb_puts(b, first ? "\n" : ",");
		if (first) {
			ufs_sb_puts(b, v[i].name);
			ufs_sb_puts(b, ":");
		}
		ufs_sb_puts(b, v[i].value);
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
	return rc;
}

/* Value of a standard header from either list, "" when absent. */
static const char *az_std(const struct ufs_http_hdrs *h, const struct ufs_http_hdrs *x,
			  const char *name)
{
	const char *v = h ? ufs_http_hdrs_get(h, name) : NULL;

	if (!v && x)
		v = ufs_http_hdrs_get(x, name);
	return v ? v : "";
}

/* Split an absolute URL into its path (up to '?') and query (after it). */
static int az_url_split(const char *url, const char **ppath, size_t *plen, const char **pquery)
{
	const char *p = strstr(url, "://");
	const char *q;

	if (!p)
		return -EINVAL;
	p = strchr(p + 3, '/');
	if (!p)
		p = "/";
	q = strchr(p, '?');
	*ppath = p;
	*plen = q ? (size_t)(q - p) : strlen(p);
	*pquery = q ? q + 1 : NULL;
	return 0;
}

/* VERB and the eleven standard header lines (Content-Length empty when 0). */
static void az_std_lines(struct ufs_strbuf *b, const char *method, uint64_t content_length,
			 const struct ufs_http_hdrs *h, const struct ufs_http_hdrs *x)
{
	static const char *const names[] = {"Content-Encoding",
					    "Content-Language",
					    "",
					    "Content-MD5",
					    "Content-Type",
					    "Date",
					    "If-Modified-Since",
					    "If-Match",
					    "If-None-Match",
					    "If-Unmodified-Since",
					    "Range"};
	char len[24] = "";

	if (content_length)
		snprintf(len, sizeof(len), "%llu", (unsigned long long)content_length);
	ufs_sb_puts(b, method);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ufs_sb_puts(b, "\n");
		ufs_sb_puts(b, names[i][0] ? az_std(h, x, names[i]) : len);
	}
	ufs_sb_puts(b, "\n");
}

char *ufs_az_string_to_sign(const char *method, const char *url, const char *account,
			    uint64_t content_length, const struct ufs_http_hdrs *hdrs,
			    const struct ufs_http_hdrs *extra)
{
	struct ufs_strbuf b = {0}, unused = {0};
	struct ufs_sign_hdrset ms = {0};
	const char *path, *query;
	size_t plen;
	int rc;

	rc = az_url_split(url, &path, &plen, &query);
	if (rc == 0)
		rc = az_ms_headers(hdrs, extra, &ms);
	if (rc == 0) {
		az_std_lines(&b, method, content_length, hdrs, extra);
		if (ms.n)
			ufs_sign_canonical_headers(&b, &unused, &ms);
		ufs_sb_puts(&b, "/");
		ufs_sb_puts(&b, account);
		ufs_sb_append(&b, path, plen);
		rc = az_canonical_query(&b, query);
	}
	ufs_sign_hdrset_free(&ms);
	free(unused.s);
	if (rc || b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

int ufs_az_signature(const void *key, size_t keylen, const char *sts, char out[UFS_AZ_SIG_LEN])
{
	unsigned char mac[UFS_SHA256_LEN];

	if (ufs_hmac_sha256(key, keylen, sts, strlen(sts), mac) != 0)
		return -EIO;
	return ufs_base64_encode(mac, sizeof(mac), out, UFS_AZ_SIG_LEN) < 0 ? -EIO : 0;
}

static int az_add_date(struct ufs_http_hdrs *pauth)
{
	char date[UFS_HTTP_DATE_LEN];

	ufs_http_date(time(NULL), date);
	return ufs_http_hdrs_add(pauth, "x-ms-date: %s", date);
}

/* Body length as http.c will send it (Content-Length). */
static uint64_t az_body_len(const struct ufs_http_req *req)
{
	return req->body || req->read_fn ? req->body_len : 0;
}

int ufs_az_sign_sharedkey(void *arg, const struct ufs_http_req *req, struct ufs_http_hdrs *pauth)
{
	struct ufs_az_cred *c = arg;
	char sig[UFS_AZ_SIG_LEN];
	char *sts;
	int rc = az_add_date(pauth);

	if (rc)
		return rc;
	sts = ufs_az_string_to_sign(req->method, req->url, c->account, az_body_len(req),
				    &req->headers, pauth);
	if (!sts)
		return -ENOMEM;
	rc = ufs_az_signature(c->key, c->key_len, sts, sig);
	free(sts);
	if (rc == 0)
		rc = ufs_http_hdrs_add(pauth, "Authorization: SharedKey %s:%s", c->account, sig);
	return rc;
}

/* Read the first line of path (blanks trimmed) into an owned string, the
 * file checked again (owner, mode) on every read; *pst: its fstat. */
static int az_read_token(const char *path, char **ptok, struct stat *pst, char *err, size_t errlen)
{
	char *buf = NULL, *s, *tok;
	size_t n;
	int rc = ufs_secret_read(path, 16383, &buf, pst, err, errlen);

	if (rc)
		return rc;
	buf[strcspn(buf, "\r\n")] = '\0';
	s = buf + strspn(buf, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	tok = n ? strndup(s, n) : NULL;
	ufs_secret_free(buf);
	if (!tok) {
		snprintf(err, errlen, "%s: %s", path, n ? strerror(ENOMEM) : "it is empty");
		return n ? -ENOMEM : -ENODATA;
	}
	*ptok = tok;
	return 0;
}

/* Re-read the token file when its mtime changed. Called with c->lock held. */
static int az_token_refresh(struct ufs_az_cred *c)
{
	struct stat st;
	char *tok = NULL, err[512];
	int rc;

	if (stat(c->token_file, &st) != 0) {
		rc = -errno;
		snprintf(err, sizeof(err), "%s: %s", c->token_file, strerror(-rc));
	} else if (c->token && st.st_mtim.tv_sec == c->token_mtime.tv_sec &&
		   st.st_mtim.tv_nsec == c->token_mtime.tv_nsec) {
		return 0;
	} else {
		rc = az_read_token(c->token_file, &tok, &st, err, sizeof(err));
	}
	if (rc) {
		ufs_err("az: cannot read token_file: %s", err);
		return -EACCES;
	}
	ufs_secret_free(c->token);
	c->token = tok;
	c->token_mtime = st.st_mtim;
	return 0;
}

/* The bearer token of a self-renewing source. */
static int az_sign_src(struct ufs_credsrc *src, struct ufs_http_hdrs *pauth)
{
	char why[300];
	struct ufs_cred_set *set = ufs_credsrc_get(src, why, sizeof(why));
	int rc;

	if (!set) {
		ufs_err("az: %s", why);
		return -EACCES;
	}
	rc = ufs_http_hdrs_add(pauth, "Authorization: Bearer %s", set->token);
	ufs_cred_set_put(set);
	return rc;
}

int ufs_az_sign_bearer(void *arg, const struct ufs_http_req *req, struct ufs_http_hdrs *pauth)
{
	struct ufs_az_cred *c = arg;
	int rc = az_add_date(pauth);

	(void)req;
	if (rc)
		return rc;
	if (c->src)
		return az_sign_src(c->src, pauth);
	pthread_mutex_lock(&c->lock);
	rc = az_token_refresh(c);
	if (rc == 0)
		rc = ufs_http_hdrs_add(pauth, "Authorization: Bearer %s", c->token);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int ufs_az_sign_none(void *arg, const struct ufs_http_req *req, struct ufs_http_hdrs *pauth)
{
	(void)arg;
	(void)req;
	return az_add_date(pauth);
}

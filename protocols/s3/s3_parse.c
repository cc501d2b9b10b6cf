/*
 * s3_parse.c — the pure parts of the S3 backend; see s3_i.h. URL and time
 * parsing, request URLs, and the XML documents of ListObjectsV2 and
 * multipart uploads (parsed with xml.c). No I/O, no global state.
 */
#include "protocols/s3/s3_i.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http/http.h"
#include "protocols/objstore/objstore.h"
#include "protocols/xml.h"

/* ---- URLs ---- */

static int s3_bucket_ok(const char *b, size_t n)
{
	return ufs_os_root_name_ok(b, n, ".-");
}

int ufs_s3_parse_url(const char *url, char **pbucket, char **pprefix, char *err, size_t errlen)
{
	return ufs_os_split_url(url, "s3", s3_bucket_ok,
				"bucket name (3-63 of a-z, 0-9, '.' and '-')", pbucket, pprefix,
				err, errlen);
}

char *ufs_s3_url(const char *endpoint, const char *bucket, int path_style, const char *key,
		 const char *query)
{
	char *ekey = ufs_uri_encode(key, strlen(key), 1);
	const char *host = strstr(endpoint, "://");
	const char *q = query && *query ? "?" : "";
	char *url = NULL;
	int n;

	if (!ekey || !host)
		goto out;
	if (path_style)
		n = asprintf(&url, "%s/%s/%s%s%s", endpoint, bucket, ekey, q, query ? query : "");
	else
		n = asprintf(&url, "%.*s%s.%s/%s%s%s", (int)(host + 3 - endpoint), endpoint, bucket,
			     host + 3, ekey, q, query ? query : "");
	if (n < 0)
		url = NULL;
out:
	free(ekey);
	return url;
}

/* ---- times and tags ---- */

static int s3_tm_to_ts(struct tm *tm, long nsec, struct timespec *pts)
{
	time_t t = timegm(tm);

	if (t == (time_t)-1)
		return -EINVAL;
	pts->tv_sec = t;
	pts->tv_nsec = nsec;
	return 0;
}

int ufs_s3_parse_iso8601(const char *s, size_t len, struct timespec *pts)
{
	char buf[64], frac[16] = "";
	struct tm tm = {0};
	long nsec = 0;
	int used = 0;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
		return -EINVAL;
	if (buf[used] == '.' && sscanf(buf + used + 1, "%9[0-9]", frac) == 1) {
		for (size_t i = 0; i < 9; i++)
			nsec = nsec * 10 + (i < strlen(frac) ? frac[i] - '0' : 0);
		used += 1 + (int)strlen(frac);
	}
	if (strcmp(buf + used, "Z") != 0 && strcmp(buf + used, "+00:00") != 0)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return s3_tm_to_ts(&tm, nsec, pts);
}

/* ---- ListObjectsV2 ---- */

struct s3_list_state {
	const char *prefix;
	size_t plen;
	ufs_s3_entry_cb cb;
	void *arg;
	struct ufs_s3_page *page;
	int in_result; /* root element is ListBucketResult */
	int url_keys;  /* EncodingType is "url": keys and prefixes are %-encoded */
	int bad_key;   /* a url-encoded key did not decode */
	char *key;     /* Contents/Key or CommonPrefixes/Prefix */
	uint64_t size;
	struct timespec mtime;
	char etag[UFS_ETAG_MAX];
};

static int s3_list_emit(struct s3_list_state *st, int is_dir)
{
	struct ufs_s3_entry e = {
	    .is_dir = is_dir, .size = st->size, .mtime = st->mtime, .etag = st->etag};
	char *key = st->key;
	size_t klen;
	int rc = 0;

	st->key = NULL;
	if (!key || strncmp(key, st->prefix, st->plen) != 0) {
		free(key);
		return 0;
	}
	st->page->n_entries++;
	klen = strlen(key);
	if (is_dir && klen > st->plen && key[klen - 1] == '/')
		key[klen - 1] = '\0';
	e.name = key + st->plen;
	rc = st->cb ? st->cb(st->arg, &e) : 0;
	free(key);
	return rc;
}

static void s3_list_reset_entry(struct s3_list_state *st)
{
	free(st->key);
	st->key = NULL;
	st->size = 0;
	st->mtime = (struct timespec){0, 0};
	st->etag[0] = '\0';
}

static int s3_list_on_start(void *arg, const char *path, const char *text, size_t len)
{
	struct s3_list_state *st = arg;

	(void)text;
	(void)len;
	if (strcmp(path, "ListBucketResult") == 0)
		st->in_result = 1;
	else if (strcmp(path, "ListBucketResult/Contents") == 0 ||
		 strcmp(path, "ListBucketResult/CommonPrefixes") == 0)
		s3_list_reset_entry(st);
	return 0;
}

char *ufs_s3_url_key_decode(const char *s, size_t len)
{
	char *plus = strndup(s, len), *out;

	if (!plus)
		return NULL;
	for (char *c = plus; *c; c++)
		if (*c == '+')
			*c = ' ';
	out = ufs_uri_decode(plus, strlen(plus));
	free(plus);
	return out;
}

/* A Key / Prefix as listed: %-decoded when the page is url-encoded. A bad
 * escape or an encoded NUL fails the page (-EIO, st->bad_key). */
static int s3_list_key(struct s3_list_state *st, const char *text, size_t len)
{
	free(st->key);
	if (!st->url_keys) {
		st->key = strndup(text, len);
		return st->key ? 0 : -ENOMEM;
	}
	st->key = memmem(text, len, "%00", 3) ? NULL : ufs_s3_url_key_decode(text, len);
	if (st->key)
		return 0;
	st->bad_key = 1;
	return -EIO;
}

/* Fields of one Contents / CommonPrefixes element. */
static int s3_list_field(struct s3_list_state *st, const char *f, const char *text, size_t len)
{
	char num[32];

	if (strcmp(f, "Contents/Key") == 0 || strcmp(f, "CommonPrefixes/Prefix") == 0)
		return s3_list_key(st, text, len);
	if (strcmp(f, "Contents/Size") == 0) {
		snprintf(num, sizeof(num), "%.*s", (int)(len < 31 ? len : 31), text);
		st->size = strtoull(num, NULL, 10);
	} else if (strcmp(f, "Contents/LastModified") == 0) {
		ufs_s3_parse_iso8601(text, len, &st->mtime);
	} else if (strcmp(f, "Contents/ETag") == 0) {
		ufs_os_etag_strip(text, len, st->etag);
	}
	return 0;
}

static int s3_list_on_end(void *arg, const char *path, const char *text, size_t len)
{
	struct s3_list_state *st = arg;
	const char *f;

	if (strncmp(path, "ListBucketResult/", 17) != 0)
		return 0;
	f = path + 17;
	if (strcmp(f, "Contents") == 0)
		return s3_list_emit(st, 0);
	if (strcmp(f, "CommonPrefixes") == 0)
		return s3_list_emit(st, 1);
	if (strcmp(f, "IsTruncated") == 0) {
		st->page->truncated = len == 4 && strncmp(text, "true", 4) == 0;
	} else if (strcmp(f, "NextContinuationToken") == 0) {
		free(st->page->next_token);
		st->page->next_token = strndup(text, len);
		if (!st->page->next_token)
			return -ENOMEM;
	} else {
		return s3_list_field(st, f, text, len);
	}
	return 0;
}

int ufs_s3_parse_list(const char *xml, size_t len, const char *prefix, ufs_s3_entry_cb cb,
		      void *arg, struct ufs_s3_page *page, char *err, size_t errlen)
{
	struct s3_list_state st = {
	    .prefix = prefix, .plen = strlen(prefix), .cb = cb, .arg = arg, .page = page};
	char *enc = ufs_s3_xml_text(xml, len, "ListBucketResult/EncodingType");
	int rc;

	memset(page, 0, sizeof(*page));
	st.url_keys = enc && strcmp(enc, "url") == 0;
	free(enc);
	rc = ufs_xml_parse(xml, len, s3_list_on_start, s3_list_on_end, &st, err, errlen);
	free(st.key);
	if (st.bad_key)
		snprintf(err, errlen, "bad %%-escape in a url-encoded key");
	if (rc == 0 && !st.in_result) {
		snprintf(err, errlen, "not a ListBucketResult document");
		rc = -EIO;
	}
	if (rc == 0 && page->truncated && !page->next_token) {
		snprintf(err, errlen, "truncated listing without NextContinuationToken");
		rc = -EIO;
	}
	if (rc) {
		free(page->next_token);
		page->next_token = NULL;
	}
	return rc;
}

/* ---- multipart documents ---- */

struct s3_find {
	const char *path;
	char *value;
	int oom;
};

static int s3_find_on_end(void *arg, const char *path, const char *text, size_t len)
{
	struct s3_find *f = arg;

	if (strcmp(path, f->path) == 0 && !f->value) {
		f->value = strndup(text, len);
		f->oom = !f->value;
	}
	return 0;
}

char *ufs_s3_xml_text(const char *xml, size_t len, const char *path)
{
	struct s3_find f = {path, NULL, 0};
	char err[128];

	if (ufs_xml_parse(xml, len, NULL, s3_find_on_end, &f, err, sizeof(err)) != 0) {
		free(f.value);
		return NULL;
	}
	return f.value;
}

char *ufs_s3_parse_upload_id(const char *xml, size_t len)
{
	char *id = ufs_s3_xml_text(xml, len, "InitiateMultipartUploadResult/UploadId");

	if (id && !*id) {
		free(id);
		id = NULL;
	}
	return id;
}

int ufs_s3_body_is_error(const char *xml, size_t len, char *code, size_t codelen)
{
	char msg[8];

	if (codelen)
		code[0] = '\0';
	return xml && len && ufs_http_parse_error(xml, len, code, codelen, msg, sizeof(msg)) == 0;
}

char *ufs_s3_complete_body(char (*etags)[UFS_ETAG_MAX], unsigned n)
{
	size_t cap = 128 + (size_t)n * (64 + UFS_ETAG_MAX), o = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	o += (size_t)snprintf(out + o, cap - o, "<CompleteMultipartUpload>");
	for (unsigned i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o,
				      "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
				      i + 1, etags[i]);
	snprintf(out + o, cap - o, "</CompleteMultipartUpload>");
	return out;
}

/* ---- ListParts ---- */

struct s3_parts_state {
	ufs_upload_part_cb cb;
	void *arg;
	int in_result, truncated, bad;
	unsigned num, next;
	int has_num, has_size;
	struct ufs_upload_part p;
};

/* Decimal text[0..len) into *pv; 0 or -EIO. */
static int s3_parse_u64(const char *text, size_t len, uint64_t *pv)
{
	char buf[21];

	if (len == 0 || len >= sizeof(buf))
		return -EIO;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (strspn(buf, "0123456789") != len)
		return -EIO;
	*pv = strtoull(buf, NULL, 10);
	return 0;
}

static int s3_parts_on_end(void *arg, const char *path, const char *text, size_t len)
{
	struct s3_parts_state *st = arg;
	uint64_t v = 0;

	if (strcmp(path, "ListPartsResult") == 0)
		st->in_result = 1;
	if (strncmp(path, "ListPartsResult/", 16) != 0)
		return 0;
	path += 16;
	if (strcmp(path, "Part/PartNumber") == 0) {
		st->has_num = s3_parse_u64(text, len, &v) == 0 && v > 0 && v <= UFS_S3_MAX_PARTS;
		st->num = (unsigned)v;
	} else if (strcmp(path, "Part/Size") == 0) {
		st->has_size = s3_parse_u64(text, len, &st->p.len) == 0;
	} else if (strcmp(path, "Part/ETag") == 0) {
		ufs_os_etag_strip(text, len, st->p.etag);
	} else if (strcmp(path, "IsTruncated") == 0) {
		st->truncated = len == 4 && strncmp(text, "true", 4) == 0;
	} else if (strcmp(path, "NextPartNumberMarker") == 0) {
		st->next =
		    s3_parse_u64(text, len, &v) == 0 && v <= UFS_S3_MAX_PARTS ? (unsigned)v : 0;
	} else if (strcmp(path, "Part") == 0) {
		int rc = st->has_num && st->has_size ? st->cb(st->arg, "", st->num, &st->p) : -EIO;

		st->bad |= rc == -EIO;
		memset(&st->p, 0, sizeof(st->p));
		st->has_num = st->has_size = 0;
		return rc;
	}
	return 0;
}

int ufs_s3_parse_parts(const char *xml, size_t len, ufs_upload_part_cb cb, void *arg,
		       unsigned *pnext)
{
	struct s3_parts_state st = {.cb = cb, .arg = arg};
	char err[128];
	int rc = ufs_xml_parse(xml, len, NULL, s3_parts_on_end, &st, err, sizeof(err));

	*pnext = 0;
	if (rc == 0 && !st.in_result)
		rc = -EIO;
	if (rc == 0 && st.truncated && !st.next)
		rc = -EIO; /* truncated without a marker: would loop */
	if (rc == 0 && st.truncated)
		*pnext = st.next;
	return rc;
}

uint64_t ufs_s3_part_len(uint64_t base, unsigned n)
{
	return base * (1 + (uint64_t)((n ? n - 1 : 0) / 1000));
}

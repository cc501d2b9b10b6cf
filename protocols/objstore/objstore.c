/*
 * objstore.c — pure helpers shared by the S3 and Azure Blob backends; see
 * objstore.h. Both services name objects by flat keys under a URL prefix,
 * return ETags in the same quoted form and dates as HTTP dates, so the
 * normalisation and validation that turns keys into POSIX names lives here
 * once. HTTP dates are parsed with curl_getdate() (locale-independent).
 */
#include "protocols/objstore/objstore.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "protocols/credsrc.h"

char *ufs_os_norm_prefix(const char *p)
{
	size_t len = strlen(p), o = 0;
	char *out = malloc(len + 2);

	if (!out)
		return NULL;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n) {
			memcpy(out + o, p, n);
			o += n;
			out[o++] = '/';
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[o] = '\0';
	return out;
}

void ufs_os_etag_strip(const char *in, size_t len, char out[UFS_ETAG_MAX])
{
	while (len > 0 && isspace((unsigned char)in[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*in)) {
		in++;
		len--;
	}
	if (len >= 2 && strncmp(in, "W/", 2) == 0) {
		in += 2;
		len -= 2;
	}
	if (len > 0 && in[0] == '"') {
		in++;
		len--;
	}
	if (len > 0 && in[len - 1] == '"')
		len--;
	if (len >= UFS_ETAG_MAX)
		len = UFS_ETAG_MAX - 1;
	memcpy(out, in, len);
	out[len] = '\0';
}

/* "SECONDS[.FRACTION]" -> *pts; 0 or -EINVAL. */
static int os_parse_epoch(const char *s, struct timespec *pts)
{
	struct timespec t = {0, 0};
	long scale = 100000000;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (t.tv_sec > (INT64_MAX - 9) / 10)
			return -EINVAL;
		t.tv_sec = t.tv_sec * 10 + (*p - '0');
	}
	if (*p == '.' && isdigit((unsigned char)p[1])) {
		for (p++; isdigit((unsigned char)*p) && scale > 0; p++, scale /= 10)
			t.tv_nsec += (*p - '0') * scale;
		while (isdigit((unsigned char)*p)) /* below a nanosecond */
			p++;
	}
	if (*p)
		return -EINVAL;
	*pts = t;
	return 0;
}

/* 32 hex digits -> 16 bytes; 0 or -EINVAL. */
static int os_parse_hash(const char *s, unsigned char out[16])
{
	unsigned char v[16];

	if (strlen(s) != 32)
		return -EINVAL;
	for (int i = 0; i < 32; i++) {
		int c = tolower((unsigned char)s[i]);
		int d = isdigit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return -EINVAL;
		v[i / 2] = (unsigned char)(i % 2 ? (v[i / 2] << 4) | d : d);
	}
	memcpy(out, v, sizeof(v));
	return 0;
}

int ufs_os_meta_apply(const char *mtime, const char *xxh3, struct ufs_attr *pattr)
{
	int rc = 0;

	if (mtime && os_parse_epoch(mtime, &pattr->mtime) != 0)
		rc = -EINVAL;
	if (xxh3 && os_parse_hash(xxh3, pattr->xxh3) != 0)
		rc = -EINVAL;
	else if (xxh3)
		pattr->has_xxh3 = 1;
	return rc;
}

void ufs_os_meta_format(const struct ufs_attr *meta, char mtime[UFS_OS_META_LEN],
			char xxh3[UFS_OS_META_LEN])
{
	snprintf(mtime, UFS_OS_META_LEN, "%lld.%09ld", (long long)meta->mtime.tv_sec,
		 (long)meta->mtime.tv_nsec);
	xxh3[0] = '\0';
	for (int i = 0; meta->has_xxh3 && i < 16; i++)
		snprintf(xxh3 + 2 * i, 3, "%02x", meta->xxh3[i]);
}

int ufs_os_parse_http_date(const char *s, struct timespec *pts)
{
	time_t t = curl_getdate(s, NULL);

	if (t == (time_t)-1)
		return -EINVAL;
	pts->tv_sec = t;
	pts->tv_nsec = 0;
	return 0;
}

int ufs_os_root_name_ok(const char *s, size_t n, const char *punct)
{
	if (n < 3 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    !strchr(punct, s[i]))
			return 0;
	return 1;
}

int ufs_os_split_url(const char *url, const char *scheme, ufs_os_root_ok_fn root_ok,
		     const char *what, char **proot, char **pprefix, char *err, size_t errlen)
{
	size_t sl = strlen(scheme), n;
	const char *r, *slash;

	*proot = *pprefix = NULL;
	if (strncmp(url, scheme, sl) != 0 || strncmp(url + sl, "://", 3) != 0) {
		snprintf(err, errlen, "'%s' is not an %s:// URL", url, scheme);
		return -EINVAL;
	}
	r = url + sl + 3;
	slash = strchr(r, '/');
	n = slash ? (size_t)(slash - r) : strlen(r);
	if (!root_ok(r, n)) {
		snprintf(err, errlen, "'%.*s' is not a valid %s", (int)n, r, what);
		return -EINVAL;
	}
	*proot = strndup(r, n);
	*pprefix = ufs_os_norm_prefix(slash ? slash : "");
	if (!*proot || !*pprefix) {
		free(*proot);
		free(*pprefix);
		*proot = *pprefix = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int ufs_os_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > NAME_MAX || memchr(name, '/', len))
		return 0;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return 0;
	return 1;
}

void ufs_os_describe(const struct ufs_mount_cfg *m, const struct ufs_backend *be,
		     struct ufs_be_desc *out)
{
	struct ufs_credsrc_info ci;
	char exp[64] = "", reg[64] = "";

	(void)m;
	if (!be) {
		out->cred_unknown = 1;
		return;
	}
	if (be->endpoint) {
		snprintf(out->server, sizeof(out->server), "%s", be->endpoint);
		out->tls = strncmp(be->endpoint, "https:", 6) == 0;
		ufs_be_desc_host(out, be->endpoint, out->tls ? "443" : "80");
	}
	ufs_credsrc_info(be->cred, &ci);
	if (ci.expires) {
		struct tm tm;

		gmtime_r(&ci.expires, &tm);
		strftime(exp, sizeof(exp), ", expire %Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), " (in %lld s)",
			 (long long)(ci.expires - time(NULL)));
	}
	if (be->region)
		snprintf(reg, sizeof(reg), ", region %s", be->region);
	snprintf(out->cred, sizeof(out->cred), "%s%s%s", be->cred ? ci.source : "",
		 be->cred   ? exp
		 : be->auth ? be->auth
			    : "none: anonymous requests",
		 reg);
}

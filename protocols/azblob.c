/*
 * azblob.c — the Azure Blob Storage backend ("az://container/prefix/").
 *
 * Namespace: blob "prefix/a/b" is file "a/b". Directories are implicit (a
 * name prefix "a/" that some blob has) or explicit: a zero-length blob "a"
 * with metadata hdi_isfolder=true (the BlobFuse convention), written by
 * mkdir() so that empty directories exist.
 *
 * Pure helpers (URL/endpoint parsing, List Blobs parsing, block ids) come
 * first; they are declared in azblob_i.h for the unit tests.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "protocols/azblob_i.h"
#include "protocols/xml.h"

/* ---- URL and endpoint parsing ------------------------------------------ */

static int az_container_valid(const char *c, size_t len)
{
	if (len < 3 || len > 63 || c[0] == '-' || c[len - 1] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!(islower((unsigned char)c[i]) || isdigit((unsigned char)c[i]) || c[i] == '-'))
			return 0;
		if (c[i] == '-' && i > 0 && c[i - 1] == '-')
			return 0;
	}
	return 1;
}

/* Normalise a key prefix: drop empty components, end with '/' unless empty. */
static char *az_prefix_normalise(const char *p)
{
	size_t len = strlen(p);
	char *out = malloc(len + 2);
	size_t o = 0;

	if (!out)
		return NULL;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n > 0) {
			memcpy(out + o, p, n);
			o += n;
			out[o++] = '/';
		}
		p += n + (slash ? 1 : 0);
	}
	out[o] = '\0';
	return out;
}

int ufs_az_parse_url(const char *url, char **pcontainer, char **pprefix, char *err, size_t errlen)
{
	const char *c, *slash;
	size_t clen;

	if (strncmp(url, "az://", 5) != 0) {
		snprintf(err, errlen, "'%s' is not an az:// URL", url);
		return -EINVAL;
	}
	c = url + 5;
	slash = strchr(c, '/');
	clen = slash ? (size_t)(slash - c) : strlen(c);
	if (!az_container_valid(c, clen)) {
		snprintf(err, errlen,
			 "'%.*s' is not a valid container name (3-63 of a-z, 0-9 and '-')",
			 (int)clen, c);
		return -EINVAL;
	}
	*pcontainer = strndup(c, clen);
	*pprefix = az_prefix_normalise(slash ? slash + 1 : "");
	if (!*pcontainer || !*pprefix) {
		free(*pcontainer);
		free(*pprefix);
		*pcontainer = *pprefix = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Account from a host "ACCOUNT.blob.core.windows.net"-like name, or NULL. */
static char *az_account_from_host(const char *host, size_t len)
{
	const char *dot = memchr(host, '.', len);

	if (!dot || (size_t)(host + len - dot) < 6 || strncmp(dot, ".blob.", 6) != 0)
		return NULL;
	return strndup(host, (size_t)(dot - host));
}

/* Pick the account: the configured one must agree with the endpoint's. */
static int az_account_pick(const char *cfg, char *from_ep, char **paccount, char *err,
			   size_t errlen)
{
	if (cfg && from_ep && strcmp(cfg, from_ep) != 0) {
		snprintf(err, errlen, "account '%s' does not match the endpoint's account '%s'",
			 cfg, from_ep);
		free(from_ep);
		return -EINVAL;
	}
	if (from_ep) {
		*paccount = from_ep;
		return 0;
	}
	if (!cfg || !*cfg) {
		snprintf(err, errlen, "no account: set 'account' (or an endpoint naming it)");
		return -EINVAL;
	}
	*paccount = strdup(cfg);
	return *paccount ? 0 : -ENOMEM;
}

int ufs_az_parse_endpoint(const char *endpoint, const char *account, char **pbase, char **paccount,
			  char *err, size_t errlen)
{
	const char *host, *path;
	char *from_ep = NULL;
	size_t elen;
	int rc;

	*pbase = *paccount = NULL;
	if (!endpoint || !*endpoint) {
		rc = az_account_pick(account, NULL, paccount, err, errlen);
		if (rc)
			return rc;
		if (asprintf(pbase, "https://%s.blob.core.windows.net", *paccount) < 0) {
			free(*paccount);
			*paccount = *pbase = NULL;
			return -ENOMEM;
		}
		return 0;
	}
	host = strstr(endpoint, "://");
	if (!host || (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8))) {
		snprintf(err, errlen, "endpoint '%s' must start with http:// or https://",
			 endpoint);
		return -EINVAL;
	}
	host += 3;
	elen = strlen(endpoint);
	while (elen > (size_t)(host - endpoint) && endpoint[elen - 1] == '/')
		elen--;
	path = memchr(host, '/', elen - (size_t)(host - endpoint));
	if (path) {
		const char *seg = path + 1, *end = endpoint + elen;
		const char *next = memchr(seg, '/', (size_t)(end - seg));

		if (next || seg == end) {
			snprintf(err, errlen,
				 "endpoint '%s': a path-style endpoint has exactly one path "
				 "segment, the account",
				 endpoint);
			return -EINVAL;
		}
		from_ep = strndup(seg, (size_t)(end - seg));
	} else {
		from_ep = az_account_from_host(host, elen - (size_t)(host - endpoint));
	}
	rc = az_account_pick(account, from_ep, paccount, err, errlen);
	if (rc)
		return rc;
	*pbase = strndup(endpoint, elen);
	if (!*pbase) {
		free(*paccount);
		*paccount = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* ---- small pure helpers ----------------------------------------------- */

void ufs_az_block_id(uint32_t n, char out[UFS_AZ_BLOCK_ID_MAX])
{
	char raw[UFS_AZ_BLOCK_ID_RAW + 1];

	/* "ufsb" + 8 digits: 12 bytes -> 16 base64 characters, no padding */
	snprintf(raw, sizeof(raw), "ufsb%08u", n % 100000000u);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)raw, UFS_AZ_BLOCK_ID_RAW);
}

int ufs_az_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > NAME_MAX || memchr(name, '/', len))
		return 0;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return 0;
	return 1;
}

int ufs_az_parse_date(const char *s, struct timespec *pts)
{
	time_t t = curl_getdate(s, NULL);

	if (t == (time_t)-1)
		return -EINVAL;
	pts->tv_sec = t;
	pts->tv_nsec = 0;
	return 0;
}

void ufs_az_etag_copy(char out[UFS_ETAG_MAX], const char *etag, size_t len)
{
	while (len > 0 && (*etag == '"' || *etag == ' ')) {
		etag++;
		len--;
	}
	while (len > 0 && (etag[len - 1] == '"' || etag[len - 1] == ' '))
		len--;
	if (len >= UFS_ETAG_MAX)
		len = UFS_ETAG_MAX - 1;
	memcpy(out, etag, len);
	out[len] = '\0';
}

/* ---- List Blobs page parser -------------------------------------------- */

#define AZ_XB "EnumerationResults/Blobs/Blob"
#define AZ_XP "EnumerationResults/Blobs/BlobPrefix"

static int az_names_add(struct ufs_az_names *s, const char *name, size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strndup(name, len);
	if (!s->v[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static void az_names_clear(struct ufs_az_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static void az_names_free(struct ufs_az_names *s)
{
	az_names_clear(s);
	free(s->v);
	s->v = NULL;
	s->cap = 0;
}

static int az_names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int az_names_has(const struct ufs_az_names *s, const char *name)
{
	return s->n && bsearch(&name, s->v, s->n, sizeof(*s->v), az_names_cmp) != NULL;
}

void ufs_az_lister_init(struct ufs_az_lister *l, const char *prefix, ufs_list_cb cb, void *arg)
{
	memset(l, 0, sizeof(*l));
	l->prefix = prefix;
	l->prefix_len = strlen(prefix);
	l->cb = cb;
	l->arg = arg;
}

void ufs_az_lister_fini(struct ufs_az_lister *l)
{
	az_names_free(&l->cur);
	az_names_free(&l->prev);
	az_names_free(&l->dirs);
	free(l->name);
	free(l->next_marker);
	l->name = l->next_marker = NULL;
}

/* Name relative to the listing prefix (a trailing '/' dropped), or NULL when
 * the name is not usable (logged once here). */
static char *az_rel_name(struct ufs_az_lister *l, char *full, size_t *plen)
{
	size_t len = strlen(full);

	if (len < l->prefix_len || strncmp(full, l->prefix, l->prefix_len) != 0)
		return NULL;
	full += l->prefix_len;
	len -= l->prefix_len;
	if (len == 0)
		return NULL; /* the directory's own marker blob "dir/" */
	if (full[len - 1] == '/')
		len--;
	if (!ufs_az_name_valid(full, len)) {
		l->skipped++;
		ufs_warn("az: skipping blob '%s%.*s': not a valid file name", l->prefix, (int)len,
			 full);
		return NULL;
	}
	*plen = len;
	return full;
}

static void az_attr_dir(struct ufs_attr *a)
{
	a->mode = 040755;
	a->nlink = 2;
	a->size = 0;
}

static int az_emit(struct ufs_az_lister *l, const char *name, const struct ufs_attr *a)
{
	int rc = l->cb(l->arg, name, a);

	l->emitted++;
	if (rc)
		l->stop = rc;
	return rc;
}

static int az_emit_blob(struct ufs_az_lister *l)
{
	size_t len;
	char *rel = l->name ? az_rel_name(l, l->name, &len) : NULL;
	char *name;
	int rc;

	if (!rel)
		return 0;
	name = strndup(rel, len);
	if (!name || az_names_add(&l->cur, rel, len)) {
		free(name);
		return -ENOMEM;
	}
	l->attr.uid = l->attr.gid = UFS_UID_OWNER;
	if (l->is_dir) {
		az_attr_dir(&l->attr);
		l->attr.etag[0] = '\0';
	} else {
		l->attr.mode = 0100644;
		l->attr.nlink = 1;
	}
	l->attr.atime = l->attr.ctime = l->attr.mtime;
	rc = az_emit(l, name, &l->attr);
	free(name);
	return rc;
}

static int az_list_start(void *arg, const char *path, const char *text, size_t len)
{
	struct ufs_az_lister *l = arg;

	(void)text;
	(void)len;
	if (strcmp(path, AZ_XB) == 0) {
		free(l->name);
		l->name = NULL;
		memset(&l->attr, 0, sizeof(l->attr));
		l->is_dir = 0;
	}
	return 0;
}

static int az_is_true(const char *text, size_t len)
{
	return len == 4 && strncasecmp(text, "true", 4) == 0;
}

static int az_list_blob_field(struct ufs_az_lister *l, const char *f, const char *text, size_t len)
{
	if (strcmp(f, "/Name") == 0) {
		free(l->name);
		l->name = strndup(text, len);
		return l->name ? 0 : -ENOMEM;
	}
	if (strcmp(f, "/Properties/Content-Length") == 0)
		l->attr.size = strtoull(text, NULL, 10);
	else if (strcmp(f, "/Properties/Last-Modified") == 0)
		ufs_az_parse_date(text, &l->attr.mtime);
	else if (strcmp(f, "/Properties/Etag") == 0)
		ufs_az_etag_copy(l->attr.etag, text, len);
	else if (strcmp(f, "/Properties/ResourceType") == 0)
		l->is_dir |= len == 9 && strncmp(text, "directory", 9) == 0;
	else if (strcasecmp(f, "/Metadata/hdi_isfolder") == 0)
		l->is_dir |= az_is_true(text, len);
	return 0;
}

static int az_list_end(void *arg, const char *path, const char *text, size_t len)
{
	struct ufs_az_lister *l = arg;
	size_t xb = sizeof(AZ_XB) - 1;

	if (strcmp(path, AZ_XB) == 0)
		return az_emit_blob(l);
	if (strncmp(path, AZ_XB, xb) == 0 && path[xb] == '/')
		return az_list_blob_field(l, path + xb, text, len);
	if (strcmp(path, AZ_XP "/Name") == 0)
		return az_names_add(&l->dirs, text, len);
	if (strcmp(path, "EnumerationResults/NextMarker") == 0) {
		free(l->next_marker);
		l->next_marker = strndup(text, len);
		return l->next_marker ? 0 : -ENOMEM;
	}
	return 0;
}

/* Report the page's BlobPrefix directories that no blob already stands for. */
static int az_emit_prefixes(struct ufs_az_lister *l)
{
	struct ufs_attr a;

	memset(&a, 0, sizeof(a));
	az_attr_dir(&a);
	a.uid = a.gid = UFS_UID_OWNER;
	qsort(l->cur.v, l->cur.n, sizeof(*l->cur.v), az_names_cmp);
	for (size_t i = 0; i < l->dirs.n; i++) {
		size_t len;
		char *rel = az_rel_name(l, l->dirs.v[i], &len);
		int rc;

		if (!rel)
			continue;
		rel[len] = '\0'; /* drop the trailing '/' in place */
		if (az_names_has(&l->cur, rel) || az_names_has(&l->prev, rel))
			continue;
		rc = az_emit(l, rel, &a);
		if (rc)
			return rc;
	}
	return 0;
}

int ufs_az_list_page(struct ufs_az_lister *l, const char *xml, size_t len)
{
	char err[128];
	struct ufs_az_names t;
	int rc;

	free(l->next_marker);
	l->next_marker = NULL;
	az_names_clear(&l->dirs);
	rc = ufs_xml_parse(xml, len, az_list_start, az_list_end, l, err, sizeof(err));
	if (rc == -EIO)
		ufs_warn("az: malformed List Blobs answer: %s", err);
	if (rc == 0)
		rc = az_emit_prefixes(l);
	if (rc == 0 && l->stop)
		rc = l->stop;
	/* this page's names become the previous page's */
	az_names_clear(&l->prev);
	t = l->prev;
	l->prev = l->cur;
	l->cur = t;
	return rc;
}

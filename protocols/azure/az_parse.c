/*
 * az_parse.c — the pure parts of the Azure Blob store (azblob_i.h): URL and
 * endpoint parsing, connection strings, block ids and the List Blobs page
 * parser. No I/O; unit-tested in tests/unit/test_azblob.c.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "protocols/azure/azblob_i.h"
#include "protocols/http/http.h"
#include "protocols/objstore/objstore.h"
#include "protocols/sign.h"
#include "protocols/xml.h"

/* ---- URL and endpoint parsing ------------------------------------------ */

/* Containers also refuse "--". */
static int az_container_valid(const char *c, size_t len)
{
	return ufs_os_root_name_ok(c, len, "-") && !memmem(c, len, "--", 2);
}

int ufs_az_parse_url(const char *url, char **pcontainer, char **pprefix, char *err, size_t errlen)
{
	return ufs_os_split_url(url, "az", az_container_valid,
				"container name (3-63 of a-z, 0-9 and '-')", pcontainer, pprefix,
				err, errlen);
}

/* Account from a host "ACCOUNT.blob.core.windows.net"-like name, or NULL. */
static char *az_account_from_host(const char *host, size_t len)
{
	const char *dot = memchr(host, '.', len);

	if (!dot || dot == host || (size_t)(host + len - dot) < 6 || strncmp(dot, ".blob.", 6) != 0)
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
	if (path == host || elen == (size_t)(host - endpoint)) {
		snprintf(err, errlen, "endpoint '%s' has no host", endpoint);
		return -EINVAL;
	}
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

int ufs_az_block_num(const char *id, size_t len, uint32_t *pn)
{
	unsigned char raw[UFS_AZ_BLOCK_ID_MAX];
	char digits[9];

	if (len != 16 || EVP_DecodeBlock(raw, (const unsigned char *)id, (int)len) != 12 ||
	    memcmp(raw, "ufsb", 4) != 0)
		return -EINVAL;
	memcpy(digits, raw + 4, 8);
	digits[8] = '\0';
	if (strspn(digits, "0123456789") != 8)
		return -EINVAL;
	*pn = (uint32_t)strtoul(digits, NULL, 10);
	return 0;
}

/* ---- Get Block List parser ---- */

struct az_blocks_state {
	ufs_upload_part_cb cb;
	void *arg;
	int in_list, has_size, ours;
	uint32_t num;
	uint64_t size;
};

static int az_blocks_on_end(void *arg, const char *path, const char *text, size_t len)
{
	static const char blk[] = "BlockList/UncommittedBlocks/Block";
	struct az_blocks_state *st = arg;
	char buf[21];
	int rc;

	if (strcmp(path, "BlockList") == 0)
		st->in_list = 1;
	if (strncmp(path, blk, sizeof(blk) - 1) != 0)
		return 0;
	path += sizeof(blk) - 1;
	if (strcmp(path, "/Name") == 0) {
		st->ours = ufs_az_block_num(text, len, &st->num) == 0;
	} else if (strcmp(path, "/Size") == 0) {
		st->has_size = len > 0 && len < sizeof(buf);
		if (st->has_size) {
			memcpy(buf, text, len);
			buf[len] = '\0';
			st->has_size = strspn(buf, "0123456789") == len;
			st->size = strtoull(buf, NULL, 10);
		}
	} else if (path[0] == '\0') {
		struct ufs_upload_part p = {.len = st->size};

		rc = !st->has_size ? -EIO : st->ours ? st->cb(st->arg, "", st->num + 1, &p) : 0;
		st->has_size = st->ours = 0;
		return rc;
	}
	return 0;
}

int ufs_az_parse_block_list(const char *xml, size_t len, ufs_upload_part_cb cb, void *arg)
{
	struct az_blocks_state st = {.cb = cb, .arg = arg};
	char err[128];
	int rc = ufs_xml_parse(xml, len, NULL, az_blocks_on_end, &st, err, sizeof(err));

	return rc == 0 && !st.in_list ? -EIO : rc;
}

char *ufs_az_conn_get(const char *cs, const char *name)
{
	size_t nl = strlen(name);

	while (cs && *cs) {
		size_t len = strcspn(cs, ";");

		while (len > 0 && (*cs == ' ' || *cs == '\t'))
			cs++, len--;
		if (len > nl && strncasecmp(cs, name, nl) == 0 && cs[nl] == '=')
			return strndup(cs + nl + 1, len - nl - 1);
		cs += len + (cs[len] == ';');
	}
	return NULL;
}

/* ---- List Blobs page parser -------------------------------------------- */

#define AZ_XB "EnumerationResults/Blobs/Blob"
#define AZ_XP "EnumerationResults/Blobs/BlobPrefix"

/* State of one page parse. */
struct az_page {
	const char *prefix;
	size_t prefix_len;
	ufs_os_entry_cb cb;
	void *arg;
	char **pnext;
	char *name; /* current Blob's or BlobPrefix's name (owned) */
	struct ufs_os_entry e;
	char etag[UFS_ETAG_MAX];
	unsigned char md5[16]; /* Content-MD5, when listed */
};

/* Report the current entry, relative to the prefix (others are ignored). */
static int az_page_emit(struct az_page *p, enum ufs_os_kind kind)
{
	size_t len = p->name ? strlen(p->name) : 0;

	if (!p->name || len < p->prefix_len || strncmp(p->name, p->prefix, p->prefix_len) != 0)
		return 0;
	if (kind != UFS_OS_FILE || p->e.kind != UFS_OS_MARKER)
		p->e.kind = kind;
	p->e.name = p->name + p->prefix_len;
	p->e.name_len = len - p->prefix_len;
	p->e.etag = p->e.kind == UFS_OS_FILE ? p->etag : "";
	return p->cb(p->arg, &p->e);
}

static int az_list_start(void *arg, const char *path, const char *text, size_t len)
{
	struct az_page *p = arg;

	(void)text;
	(void)len;
	if (strcmp(path, AZ_XB) == 0 || strcmp(path, AZ_XP) == 0) {
		free(p->name);
		p->name = NULL;
		memset(&p->e, 0, sizeof(p->e));
		p->etag[0] = '\0';
	}
	return 0;
}

static int az_is_true(const char *text, size_t len)
{
	return len == 4 && strncasecmp(text, "true", 4) == 0;
}

/* A listed Content-MD5 (base64 of 16 bytes) into p->md5 / p->e.md5. */
static void az_list_md5(struct az_page *p, const char *text, size_t len)
{
	char b64[32];

	if (len == 0 || len >= sizeof(b64))
		return;
	memcpy(b64, text, len);
	b64[len] = '\0';
	if (ufs_base64_decode(b64, p->md5, sizeof(p->md5)) == (int)sizeof(p->md5))
		p->e.md5 = p->md5;
}

static int az_list_blob_field(struct az_page *p, const char *f, const char *text, size_t len)
{
	if (strcmp(f, "/Name") == 0) {
		free(p->name);
		p->name = strndup(text, len);
		return p->name ? 0 : -ENOMEM;
	}
	if (strcmp(f, "/Properties/Content-Length") == 0)
		p->e.size = strtoull(text, NULL, 10);
	else if (strcmp(f, "/Properties/Last-Modified") == 0)
		ufs_os_parse_http_date(text, &p->e.mtime);
	else if (strcmp(f, "/Properties/Etag") == 0)
		ufs_os_etag_strip(text, len, p->etag);
	else if (strcmp(f, "/Properties/Content-MD5") == 0)
		az_list_md5(p, text, len);
	else if (strcmp(f, "/Properties/ResourceType") == 0 && len == 9 &&
		 strncmp(text, "directory", 9) == 0)
		p->e.kind = UFS_OS_MARKER;
	else if (strcasecmp(f, "/Metadata/hdi_isfolder") == 0 && az_is_true(text, len))
		p->e.kind = UFS_OS_MARKER;
	return 0;
}

static int az_list_end(void *arg, const char *path, const char *text, size_t len)
{
	struct az_page *p = arg;
	size_t xb = sizeof(AZ_XB) - 1;

	if (strcmp(path, AZ_XB) == 0)
		return az_page_emit(p, UFS_OS_FILE);
	if (strcmp(path, AZ_XP) == 0)
		return az_page_emit(p, UFS_OS_PREFIX);
	if (strncmp(path, AZ_XB, xb) == 0 && path[xb] == '/')
		return az_list_blob_field(p, path + xb, text, len);
	if (strcmp(path, AZ_XP "/Name") == 0)
		return az_list_blob_field(p, "/Name", text, len);
	if (strcmp(path, "EnumerationResults/NextMarker") == 0 && len) {
		free(*p->pnext);
		*p->pnext = strndup(text, len);
		return *p->pnext ? 0 : -ENOMEM;
	}
	return 0;
}

int ufs_az_list_page(const char *xml, size_t len, const char *prefix, ufs_os_entry_cb cb, void *arg,
		     char **pnext)
{
	struct az_page p = {
	    .prefix = prefix, .prefix_len = strlen(prefix), .cb = cb, .arg = arg, .pnext = pnext};
	char err[128];
	int rc;

	*pnext = NULL;
	rc = ufs_xml_parse(xml, len, az_list_start, az_list_end, &p, err, sizeof(err));
	if (rc == -EIO)
		ufs_warn("az: malformed List Blobs answer: %s", err);
	free(p.name);
	if (rc) {
		free(*pnext);
		*pnext = NULL;
	}
	return rc;
}

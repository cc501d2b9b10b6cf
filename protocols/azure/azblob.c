/*
 * azblob.c — the Azure Blob store ("az://container/prefix/", ufs_az_ops).
 * The POSIX side is the shared object-store layer (protocols/objstore/);
 * this file supplies its primitives (struct ufs_os_prims) in Azure's wire
 * form, the credentials (SharedKey, SAS, bearer token: sign.c signs), the
 * container check and the configuration. Pure parsing is in az_parse.c.
 *
 * Directory markers are zero-length blobs "a" with metadata
 * hdi_isfolder=true (the BlobFuse convention). Uploads are Put Block (ids
 * ufs_az_block_id(n), Content-MD5 checked by the service) and Put Block List;
 * Azure has no abort for uncommitted blocks: a failed writer commits
 * nothing, the blob keeps its old content, and the service discards the
 * blocks by itself (after a week); a resumed copy lists the uncommitted
 * blocks (Get Block List) to continue an upload. Creates with O_EXCL and rename with
 * RENAME_NOREPLACE are conditional (If-None-Match: *).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/secret.h"
#include "protocols/azure/azblob_i.h"
#include "protocols/azure/creds_azure.h"
#include "protocols/http/http.h"
#include "protocols/azure/az_sign.h"

/* ==== the backend ======================================================= */

enum az_auth { AZ_AUTH_NONE, AZ_AUTH_KEY, AZ_AUTH_SAS, AZ_AUTH_BEARER };

struct az_backend {
	struct ufs_os os;	 /* first: the common object-store head */
	struct ufs_az_cred cred; /* account, key / bearer token */
	enum az_auth auth;
	char *account;
	char *container;
	char *endpoint;	  /* base URL, no trailing '/' (path-style: ends with /account) */
	char *sas;	  /* SAS query without '?', NULL = none */
	char *token_file; /* owned copy behind cred.token_file */
	uint64_t block_size;
};

static struct az_backend *az_of(void *be)
{
	return (struct az_backend *)be;
}

/* "ENDPOINT/CONTAINER[/ENCODED-KEY][?QUERY][&SAS]"; NULL on ENOMEM. key is
 * the full blob name (prefix included) or NULL for the container. */
static char *az_url(const struct az_backend *az, const char *key, const char *query)
{
	char *enc = key ? ufs_uri_encode(key, strlen(key), 1) : NULL;
	char *url = NULL;
	int n;

	if (key && !enc)
		return NULL;
	n = asprintf(&url, "%s/%s%s%s%s%s%s%s", az->endpoint, az->container, enc ? "/" : "",
		     enc ? enc : "", query || az->sas ? "?" : "", query ? query : "",
		     query && az->sas ? "&" : "", az->sas ? az->sas : "");
	free(enc);
	return n < 0 ? NULL : url;
}

/* Full blob name of a backend-relative path; NULL on ENOMEM. */
static ufs_http_sign_fn az_signer(const struct az_backend *az)
{
	switch (az->auth) {
	case AZ_AUTH_KEY:
		return ufs_az_sign_sharedkey;
	case AZ_AUTH_BEARER:
		return ufs_az_sign_bearer;
	default:
		return ufs_az_sign_none;
	}
}

/* Perform req (url owned by the caller) with the version header and auth;
 * clears req->headers afterwards. 0 or -errno. */
static int az_perform(struct az_backend *az, struct ufs_http_req *req, struct ufs_http_resp *resp)
{
	int rc = ufs_http_hdrs_add(&req->headers, "x-ms-version: " UFS_AZ_VERSION);

	req->be = &az->os.base;
	req->sign = az_signer(az);
	req->sign_arg = &az->cred;
	if (rc == 0)
		rc = ufs_http_perform(req, resp);
	ufs_http_hdrs_clear(&req->headers);
	return rc;
}

/* One request without a body to send or keep. Takes url (freed here) and
 * the lines of hdrs (may be NULL; emptied); resp may be NULL. 0 or -errno. */
static int az_simple(struct az_backend *az, enum ufs_req_kind kind, const char *method, char *url,
		     struct ufs_http_hdrs *hdrs, struct ufs_http_resp *resp)
{
	struct ufs_http_req req = {.kind = kind, .method = method, .url = url};
	struct ufs_http_resp own = {.content_length = -1};
	int rc = -ENOMEM;

	if (hdrs) {
		req.headers = *hdrs;
		*hdrs = (struct ufs_http_hdrs){0};
	}
	if (url)
		rc = az_perform(az, &req, resp ? resp : &own);
	ufs_http_hdrs_clear(&req.headers);
	ufs_http_resp_clear(&own);
	free(url);
	return rc;
}

/* Fetch one List Blobs page into body. delim: use '/' as delimiter. */
static int az_list_get(struct az_backend *az, const char *prefix, const char *marker, int delim,
		       unsigned max, struct ufs_strbuf *body)
{
	struct ufs_http_req req = {.kind = UFS_REQ_LIST, .method = "GET", .out_grow = body};
	struct ufs_http_resp resp = {.content_length = -1};
	char *ep = ufs_uri_encode(prefix, strlen(prefix), 0);
	char *em = marker ? ufs_uri_encode(marker, strlen(marker), 0) : NULL;
	char *q = NULL;
	int rc = -ENOMEM;

	if (ep && (em || !marker) &&
	    asprintf(
		&q, "restype=container&comp=list&include=metadata&maxresults=%u&prefix=%s%s%s%s",
		max, ep, delim ? "&delimiter=%2F" : "", em ? "&marker=" : "", em ? em : "") >= 0) {
		char *url = az_url(az, NULL, q);

		req.url = url;
		rc = url ? az_perform(az, &req, &resp) : -ENOMEM;
		free(url);
	}
	free(q);
	free(ep);
	free(em);
	ufs_http_resp_clear(&resp);
	return rc;
}

/* PUT a body (blob or block or block list) to url (owned). 0 or -errno. */
static int az_put(struct az_backend *az, char *url, struct ufs_http_hdrs *hdrs, const void *body,
		  size_t len)
{
	struct ufs_http_req req = {.kind = UFS_REQ_PUT, .method = "PUT", .url = url};
	struct ufs_http_resp resp = {.content_length = -1};
	int rc = url ? 0 : -ENOMEM;

	req.headers = *hdrs;
	*hdrs = (struct ufs_http_hdrs){0};
	req.body = body ? body : "";
	req.body_len = len;
	if (rc == 0)
		rc = az_perform(az, &req, &resp);
	ufs_http_hdrs_clear(&req.headers);
	ufs_http_resp_clear(&resp);
	free(url);
	return rc;
}

/* Put Block List body: every block id, in order. NULL on ENOMEM. */
static char *az_block_list_xml(uint32_t n, size_t *plen)
{
	static const char head[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
	static const char tail[] = "</BlockList>";
	size_t cap = sizeof(head) + sizeof(tail) + (size_t)n * (UFS_AZ_BLOCK_ID_MAX + 20);
	char *x = malloc(cap), id[UFS_AZ_BLOCK_ID_MAX];
	size_t o;

	if (!x)
		return NULL;
	o = (size_t)snprintf(x, cap, "%s", head);
	for (uint32_t i = 0; i < n; i++) {
		ufs_az_block_id(i, id);
		o += (size_t)snprintf(x + o, cap - o, "<Latest>%s</Latest>", id);
	}
	o += (size_t)snprintf(x + o, cap - o, "%s", tail);
	*plen = o;
	return x;
}
/* Poll the destination until a pending server-side copy ends. */
static int az_copy_wait(struct az_backend *az, const char *key)
{
	double limit = az->os.base.gcfg ? az->os.base.gcfg->op_timeout * 10 : 200;

	for (double waited = 0; waited < limit; waited += 0.05) {
		struct ufs_http_resp resp = {.content_length = -1};
		const char *st;
		int rc = az_simple(az, UFS_REQ_HEAD, "HEAD", az_url(az, key, NULL), NULL, &resp);

		st = rc == 0 ? ufs_http_hdrs_get(&resp.hdrs, "x-ms-copy-status") : NULL;
		if (rc == 0 && st && strncmp(st, "pending", 7) != 0)
			rc = strncmp(st, "success", 7) == 0 ? 0 : -EIO;
		else if (rc == 0 && st)
			rc = 1;
		ufs_http_resp_clear(&resp);
		if (rc <= 0)
			return rc;
		usleep(50000);
	}
	return -ETIMEDOUT;
}

/* Copy Blob from -> to (full names); src_etag pins the source version. */
static int az_copy(struct az_backend *az, const char *from, const char *to, const char *src_etag,
		   int noreplace)
{
	struct ufs_http_resp resp = {.content_length = -1};
	struct ufs_http_hdrs h = {0};
	char *src = az_url(az, from, NULL);
	const char *st;
	int rc = src ? ufs_http_hdrs_add(&h, "x-ms-copy-source: %s", src) : -ENOMEM;

	if (rc == 0 && src_etag[0])
		rc = ufs_http_hdrs_add(&h, "x-ms-source-if-match: \"%s\"", src_etag);
	if (rc == 0 && noreplace)
		rc = ufs_http_hdrs_add(&h, "If-None-Match: *");
	if (rc == 0)
		rc = az_simple(az, UFS_REQ_COPY, "PUT", az_url(az, to, NULL), &h, &resp);
	st = rc == 0 ? ufs_http_hdrs_get(&resp.hdrs, "x-ms-copy-status") : NULL;
	if (st && strncmp(st, "success", 7) != 0)
		rc = az_copy_wait(az, to);
	ufs_http_hdrs_clear(&h);
	ufs_http_resp_clear(&resp);
	free(src);
	return rc;
}

/* ---- primitives ---------------------------------------------------------- */

static int az_p_head(struct ufs_os *os, const char *key, struct ufs_attr *pattr)
{
	struct az_backend *az = az_of(os);
	struct ufs_http_resp resp = {.content_length = -1};
	int rc = az_simple(az, UFS_REQ_HEAD, "HEAD", az_url(az, key, NULL), NULL, &resp);
	const char *v;

	if (rc == 0) {
		v = ufs_http_hdrs_get(&resp.hdrs, "Content-Length");
		pattr->size = v ? strtoull(v, NULL, 10) : 0;
		pattr->mtime = os->created;
		v = ufs_http_hdrs_get(&resp.hdrs, "Last-Modified");
		if (v)
			ufs_os_parse_http_date(v, &pattr->mtime);
		v = ufs_http_hdrs_get(&resp.hdrs, "ETag");
		if (v)
			ufs_os_etag_strip(v, strlen(v), pattr->etag);
		v = ufs_http_hdrs_get(&resp.hdrs, "x-ms-meta-hdi_isfolder");
		pattr->mode = v && strcasecmp(v, "true") == 0 ? S_IFDIR : S_IFREG;
		(void)ufs_os_meta_apply(ufs_http_hdrs_get(&resp.hdrs, "x-ms-meta-mtime"),
					ufs_http_hdrs_get(&resp.hdrs, "x-ms-meta-unifs_xxh3"),
					pattr);
	}
	ufs_http_resp_clear(&resp);
	return rc;
}

static int az_p_list_page(struct ufs_os *os, const char *prefix, int delim, unsigned max,
			  char **ptoken, ufs_os_entry_cb cb, void *arg)
{
	struct ufs_strbuf body = {0};
	int rc = az_list_get(az_of(os), prefix, *ptoken, delim, max, &body);

	free(*ptoken);
	*ptoken = NULL;
	if (rc == 0)
		rc = ufs_az_list_page(body.s ? body.s : "", body.len, prefix, cb, arg, ptoken);
	free(body.s);
	return rc;
}

static ssize_t az_p_get(struct ufs_os *os, const char *key, const char *etag, uint64_t off,
			size_t len, void *buf)
{
	struct az_backend *az = az_of(os);
	struct ufs_http_req req = {.kind = UFS_REQ_GET, .method = "GET", .out_buf = buf};
	struct ufs_http_resp resp = {.content_length = -1};
	int rc;

	req.url = az_url(az, key, NULL);
	req.out_cap = len;
	rc = req.url ? 0 : -ENOMEM;
	if (rc == 0)
		rc =
		    ufs_http_hdrs_add(&req.headers, "x-ms-range: bytes=%llu-%llu",
				      (unsigned long long)off, (unsigned long long)(off + len - 1));
	if (rc == 0 && etag[0])
		rc = ufs_http_hdrs_add(&req.headers, "If-Match: \"%s\"", etag);
	if (rc == 0)
		rc = az_perform(az, &req, &resp);
	ufs_http_hdrs_clear(&req.headers);
	free((char *)req.url);
	if (rc == 0 && resp.body_len != len)
		rc = -EIO; /* the blob is shorter than its pinned size */
	ufs_http_resp_clear(&resp);
	return rc ? rc : (ssize_t)len;
}

/* Headers of a commit (Put Blob / Put Block List): O_EXCL must not replace. */
static int az_commit_headers(struct ufs_http_hdrs *h, int excl)
{
	int rc = ufs_http_hdrs_add(h, "x-ms-blob-content-type: application/octet-stream");

	if (rc == 0 && excl)
		rc = ufs_http_hdrs_add(h, "If-None-Match: *");
	return rc;
}

/* meta's x-ms-meta-mtime and x-ms-meta-unifs_xxh3 headers into h. */
static int az_meta_add(struct ufs_http_hdrs *h, const struct ufs_attr *meta)
{
	char mtime[UFS_OS_META_LEN], xxh3[UFS_OS_META_LEN];
	int rc;

	ufs_os_meta_format(meta, mtime, xxh3);
	rc = ufs_http_hdrs_add(h, "x-ms-meta-mtime: %s", mtime);
	if (rc == 0 && xxh3[0])
		rc = ufs_http_hdrs_add(h, "x-ms-meta-unifs_xxh3: %s", xxh3);
	return rc;
}

static int az_p_put(struct ufs_os *os, const char *key, const void *buf, size_t len, int excl,
		    const struct ufs_attr *meta)
{
	struct az_backend *az = az_of(os);
	struct ufs_http_hdrs h = {0};
	int rc = ufs_http_hdrs_add(&h, "x-ms-blob-type: BlockBlob");

	if (rc == 0 && meta)
		rc = az_meta_add(&h, meta);

	if (rc == 0)
		rc = az_commit_headers(&h, excl);
	if (rc == 0)
		rc = ufs_content_md5_add(&h, buf, len);
	if (rc == 0)
		return az_put(az, az_url(az, key, NULL), &h, buf, len);
	ufs_http_hdrs_clear(&h);
	return rc;
}

/* Set Blob Metadata: the source mtime and the unifs hash key. */
static int az_p_set_meta(struct ufs_os *os, const char *key, uint64_t size,
			 const struct ufs_attr *meta)
{
	struct az_backend *az = az_of(os);
	struct ufs_http_hdrs h = {0};
	int rc = az_meta_add(&h, meta);

	(void)size;
	if (rc == 0)
		return az_put(az, az_url(az, key, "comp=metadata"), &h, NULL, 0);
	ufs_http_hdrs_clear(&h);
	return rc;
}

/* The folder marker blob "dirkey" (hdi_isfolder), never replacing a blob. */
static int az_p_put_marker(struct ufs_os *os, const char *dirkey)
{
	struct az_backend *az = az_of(os);
	struct ufs_http_hdrs h = {0};
	int rc = ufs_http_hdrs_add(&h, "x-ms-blob-type: BlockBlob");

	if (rc == 0)
		rc = ufs_http_hdrs_add(&h, "x-ms-meta-hdi_isfolder: true");
	if (rc == 0)
		rc = ufs_http_hdrs_add(&h, "If-None-Match: *");
	if (rc == 0)
		rc = az_put(az, az_url(az, dirkey, NULL), &h, NULL, 0);
	ufs_http_hdrs_clear(&h);
	return rc;
}

static int az_p_copy(struct ufs_os *os, const char *from, const char *to, uint64_t size,
		     const char *etag, int noreplace)
{
	(void)size;
	return az_copy(az_of(os), from, to, etag, noreplace);
}

static int az_p_del(struct ufs_os *os, const char *key)
{
	struct az_backend *az = az_of(os);

	return az_simple(az, UFS_REQ_DELETE, "DELETE", az_url(az, key, NULL), NULL, NULL);
}

/* Blocks need no upload id: the block list commits them. */
static int az_p_mpu_begin(struct ufs_os *os, const char *key, char **pid)
{
	(void)os;
	(void)key;
	*pid = strdup("");
	return *pid ? 0 : -ENOMEM;
}

/* Put Block number n (ids count from 0) of key; runs on a pipeline thread. */
static int az_p_mpu_part(struct ufs_os *os, const char *key, const char *id, unsigned n,
			 const void *buf, size_t len, char etag[UFS_ETAG_MAX])
{
	struct az_backend *az = az_of(os);
	struct ufs_http_hdrs h = {0};
	char bid[UFS_AZ_BLOCK_ID_MAX], *eid, *q = NULL;
	int rc;

	(void)id;
	etag[0] = '\0';
	ufs_az_block_id(n - 1, bid);
	eid = ufs_uri_encode(bid, strlen(bid), 0);
	rc = eid ? ufs_content_md5_add(&h, buf, len) : -ENOMEM;
	if (rc || asprintf(&q, "comp=block&blockid=%s", eid) < 0) {
		ufs_http_hdrs_clear(&h);
		free(eid);
		return rc ? rc : -ENOMEM;
	}
	rc = az_put(az, az_url(az, key, q), &h, buf, len);
	free(eid);
	free(q);
	return rc;
}

/* Put Block List of blocks 0..n-1, in order. */
static int az_p_mpu_commit(struct ufs_os *os, const char *key, const char *id,
			   char (*etags)[UFS_ETAG_MAX], unsigned n, int excl)
{
	struct az_backend *az = az_of(os);
	struct ufs_http_hdrs h = {0};
	size_t len = 0;
	char *xml = az_block_list_xml(n, &len);
	int rc = xml ? az_commit_headers(&h, excl) : -ENOMEM;

	(void)id;
	(void)etags;
	if (rc == 0)
		rc = az_put(az, az_url(az, key, "comp=blocklist"), &h, xml, len);
	ufs_http_hdrs_clear(&h);
	free(xml);
	return rc;
}

/* Get Block List (uncommitted) of key: the blocks of an upload in flight.
 * No block at all is -ENOENT (the service knows no such blob). */
static int az_p_mpu_list(struct ufs_os *os, const char *key, const char *id, ufs_upload_part_cb cb,
			 void *arg)
{
	struct az_backend *az = az_of(os);
	struct ufs_strbuf body = {0};
	struct ufs_http_req req = {.kind = UFS_REQ_LIST, .method = "GET", .out_grow = &body};
	struct ufs_http_resp resp = {.content_length = -1};
	char *url = az_url(az, key, "comp=blocklist&blocklisttype=uncommitted");
	int rc = url ? 0 : -ENOMEM;

	(void)id;
	req.url = url;
	if (!rc)
		rc = az_perform(az, &req, &resp);
	if (!rc)
		rc = ufs_az_parse_block_list(body.s, body.len, cb, arg);
	if (rc == -EIO)
		ufs_be_set_error(&os->base, "Get Block List: malformed answer");
	ufs_http_resp_clear(&resp);
	free(url);
	free(body.s);
	return rc;
}

static uint64_t az_p_part_len(struct ufs_os *os, unsigned n)
{
	(void)n;
	return az_of(os)->block_size;
}

static const struct ufs_os_prims az_prims = {
    .store = "Azure Blob",
    .max_parts = 50000, /* blocks per blob */
    .part_etags = 0,
    .part_len = az_p_part_len,
    .head = az_p_head,
    .list_page = az_p_list_page,
    .get = az_p_get,
    .put = az_p_put,
    .put_marker = az_p_put_marker,
    .copy = az_p_copy,
    .del = az_p_del,
    .set_meta = az_p_set_meta,
    .mpu_begin = az_p_mpu_begin,
    .mpu_part = az_p_mpu_part,
    .mpu_commit = az_p_mpu_commit,
    .mpu_abort = NULL, /* uncommitted blocks expire by themselves */
    .mpu_list = az_p_mpu_list,
};

/* ---- create, check, destroy ---------------------------------------------- */

/* Read a secret file (refused when unsafe: ufs_secret_open()), trimmed. */
static int az_read_secret(const char *path, char **pout, char *err, size_t errlen)
{
	char *text = NULL;
	size_t n, b = 0;
	int rc = ufs_secret_read(path, 8191, &text, NULL, err, errlen);

	if (rc)
		return rc;
	n = strlen(text);
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	while (b < n && isspace((unsigned char)text[b]))
		b++;
	*pout = strndup(text + b, n - b);
	ufs_secret_free(text);
	return *pout ? 0 : -ENOMEM;
}

static int az_set_key(struct az_backend *az, const char *b64, const char *from, char *err,
		      size_t errlen)
{
	int n = ufs_base64_decode(b64, az->cred.key, sizeof(az->cred.key));

	ufs_secret_no_dump();

	if (n <= 0) {
		snprintf(err, errlen, "%s is not a base64 account key", from);
		return -EINVAL;
	}
	az->cred.key_len = (size_t)n;
	az->auth = AZ_AUTH_KEY;
	return 0;
}

static int az_set_sas(struct az_backend *az, const char *sas)
{
	ufs_secret_no_dump();
	az->sas = strdup(sas[0] == '?' ? sas + 1 : sas);
	az->auth = AZ_AUTH_SAS;
	return az->sas ? 0 : -ENOMEM;
}

/* AccountKey or SharedAccessSignature of AZURE_STORAGE_CONNECTION_STRING. */
static int az_conn_creds(struct az_backend *az, char *err, size_t errlen)
{
	const char *cs = getenv("AZURE_STORAGE_CONNECTION_STRING");
	char *key = ufs_az_conn_get(cs, "AccountKey");
	char *sas = key ? NULL : ufs_az_conn_get(cs, "SharedAccessSignature");
	int rc = 0;

	if (key)
		rc = az_set_key(az, key, "AZURE_STORAGE_CONNECTION_STRING's AccountKey", err,
				errlen);
	else if (sas)
		rc = az_set_sas(az, sas);
	if (key)
		OPENSSL_cleanse(key, strlen(key));
	if (sas)
		OPENSSL_cleanse(sas, strlen(sas));
	free(key);
	free(sas);
	return rc;
}

/* No explicit credential: the Azure AD chain (creds_azure.h); anonymous when
 * none is configured and no managed identity answers. */
static int az_chain_creds(struct az_backend *az, const struct ufs_mount_cfg *m, char *err,
			  size_t errlen)
{
	char why[400] = "";
	int rc = ufs_az_identity(m, &az->cred.src, why, sizeof(why));

	if (rc == -ENOENT) {
		ufs_info(
		    "az %s: no credentials (account_key, sas_token, key_file, sas_file, "
		    "token_file, AZURE_STORAGE_KEY, AZURE_CLIENT_ID..., managed identity: %s): "
		    "anonymous access",
		    m->prefix, why[0] ? why : "none");
		return 0;
	}
	if (rc) {
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	az->auth = AZ_AUTH_BEARER;
	az->os.base.cred = az->cred.src;
	return 0;
}

/* Credentials from one of account_key / sas_token / key_file / sas_file /
 * token_file (explicit config first), else from AZURE_STORAGE_KEY /
 * AZURE_STORAGE_SAS_TOKEN, else from the connection string, else the Azure
 * AD chain (service principal, workload identity, managed identity), else
 * anonymous.
 * Secret values never reach err or the log. */
static int az_load_creds(struct az_backend *az, const struct ufs_mount_cfg *m, char *err,
			 size_t errlen)
{
	const char *ak = ufs_mcfg_get(m, "account_key"), *st = ufs_mcfg_get(m, "sas_token");
	const char *kf = ufs_mcfg_get(m, "key_file"), *sf = ufs_mcfg_get(m, "sas_file");
	const char *tf = ufs_mcfg_get(m, "token_file"), *env;
	char *text = NULL;
	int rc = 0;

	if (!!ak + !!st + !!kf + !!sf + !!tf > 1) {
		snprintf(err, errlen,
			 "set only one of account_key, sas_token, key_file, sas_file and "
			 "token_file");
		return -EINVAL;
	}
	if (kf || sf)
		rc = az_read_secret(kf ? kf : sf, &text, err, errlen);
	if (rc == 0 && ak)
		rc = az_set_key(az, ak, "account_key", err, errlen);
	else if (rc == 0 && st)
		rc = az_set_sas(az, st);
	else if (rc == 0 && kf)
		rc = az_set_key(az, text, kf, err, errlen);
	else if (rc == 0 && sf)
		rc = az_set_sas(az, text);
	else if (rc == 0 && tf) {
		rc = ufs_check_secret_file(tf, err, errlen);
		az->token_file = rc ? NULL : strdup(tf);
		az->cred.token_file = az->token_file;
		az->auth = AZ_AUTH_BEARER;
		rc = rc ? rc : az->token_file ? 0 : -ENOMEM;
	} else if (rc == 0 && (env = getenv("AZURE_STORAGE_KEY")) && *env) {
		rc = az_set_key(az, env, "AZURE_STORAGE_KEY", err, errlen);
	} else if (rc == 0 && (env = getenv("AZURE_STORAGE_SAS_TOKEN")) && *env) {
		rc = az_set_sas(az, env);
	} else if (rc == 0) {
		rc = az_conn_creds(az, err, errlen);
		if (rc == 0 && az->auth == AZ_AUTH_NONE)
			rc = az_chain_creds(az, m, err, errlen);
	}
	if (text)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

/* Location and tuning keys of the section. */
static int az_parse_cfg(struct az_backend *az, const struct ufs_mount_cfg *m,
			const struct ufs_config *g, char *err, size_t errlen)
{
	const char *cs = getenv("AZURE_STORAGE_CONNECTION_STRING");
	const char *account = ufs_mcfg_get(m, "account"), *endpoint = ufs_mcfg_get(m, "endpoint");
	char *cs_account = ufs_az_conn_get(cs, "AccountName");
	char *cs_endpoint = ufs_az_conn_get(cs, "BlobEndpoint");
	uint64_t def = g && g->part_size ? g->part_size : 8ULL << 20;
	int rc;

	if (!account)
		account = getenv("AZURE_STORAGE_ACCOUNT");
	if (!account)
		account = cs_account;
	if (!endpoint)
		endpoint = cs_endpoint;
	rc = ufs_az_parse_url(m->url, &az->container, &az->os.prefix, err, errlen);
	if (rc == 0)
		rc = ufs_az_parse_endpoint(endpoint, account, &az->endpoint, &az->account, err,
					   errlen);
	free(cs_account);
	free(cs_endpoint);
	if (rc == 0 && ufs_mcfg_get_size(m, "block_size", def, &az->block_size) != 0) {
		snprintf(err, errlen, "block_size: not a size");
		rc = -EINVAL;
	}
	if (rc == 0 && (az->block_size < (64 << 10) || az->block_size > (4000ULL << 20))) {
		snprintf(err, errlen, "block_size must be between 64K and 4000M");
		rc = -EINVAL;
	}
	az->os.parallel = g && g->workers ? (g->workers < 8 ? g->workers : 8) : 4;
	return rc;
}

static const char *az_auth_name(const struct az_backend *az)
{
	static const char *const names[] = {"none: anonymous requests", "shared key", "SAS",
					    "bearer token (token_file)"};

	return names[az->auth];
}

static void az_destroy(struct ufs_backend *be)
{
	struct az_backend *az = az_of(be);

	if (!az)
		return;
	OPENSSL_cleanse(az->cred.key, sizeof(az->cred.key));
	if (az->sas)
		OPENSSL_cleanse(az->sas, strlen(az->sas));
	if (az->cred.token)
		OPENSSL_cleanse(az->cred.token, strlen(az->cred.token));
	free(az->cred.token);
	pthread_mutex_destroy(&az->cred.lock);
	free(az->sas);
	free(az->token_file);
	ufs_credsrc_destroy(az->cred.src);
	free(az->account);
	free(az->container);
	free(az->endpoint);
	ufs_os_fini(&az->os);
	free(az);
}

static int az_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
		     struct ufs_backend **pbe, char *err, size_t errlen)
{
	struct az_backend *az = calloc(1, sizeof(*az));
	char msg[384] = "out of memory";
	int rc;

	if (!az) {
		snprintf(err, errlen, "mount %s: out of memory", m->prefix);
		return -ENOMEM;
	}
	pthread_mutex_init(&az->cred.lock, NULL);
	rc = ufs_os_init(&az->os, &ufs_az_ops, &az_prims, m, g, err, errlen);
	if (rc) {
		az_destroy(&az->os.base);
		return rc;
	}
	rc = az_parse_cfg(az, m, g, msg, sizeof(msg));
	az->os.base.endpoint = az->endpoint;
	if (rc == 0)
		rc = az_load_creds(az, m, msg, sizeof(msg));
	az->os.base.auth = az_auth_name(az);
	if (rc) {
		snprintf(err, errlen, "mount %s: %s", m->prefix, msg);
		az_destroy(&az->os.base);
		return rc;
	}
	az->cred.account = az->account;
	if ((az->auth == AZ_AUTH_SAS || az->auth == AZ_AUTH_BEARER) &&
	    strncasecmp(az->endpoint, "http://", 7) == 0)
		ufs_warn("az %s: %s token sent over plain http:// to %s: anyone on the path can "
			 "read and replay it (use https://)",
			 m->prefix, az->auth == AZ_AUTH_SAS ? "SAS" : "bearer", az->endpoint);
	*pbe = &az->os.base;
	return 0;
}

static const char *az_auth_hint(const struct az_backend *az)
{
	switch (az->auth) {
	case AZ_AUTH_KEY:
		return "check account_key / key_file / AZURE_STORAGE_KEY";
	case AZ_AUTH_SAS:
		return "check sas_token / sas_file / AZURE_STORAGE_SAS_TOKEN: invalid, expired or "
		       "lacking "
		       "permissions";
	case AZ_AUTH_BEARER:
		return az->cred.src ? "check the identity's role assignment on the account "
				      "(Storage Blob Data Reader/Contributor)"
				    : "check token_file";
	default:
		return "no credentials: set account_key, key_file, AZURE_STORAGE_KEY or an Azure "
		       "AD identity";
	}
}

static int az_check(struct ufs_backend *be, char *err, size_t errlen)
{
	struct az_backend *az = az_of(be);
	struct ufs_http_resp resp = {.content_length = -1};
	char *q = az->auth == AZ_AUTH_SAS || az->auth == AZ_AUTH_NONE
		      ? "restype=container&comp=list&maxresults=1"
		      : "restype=container";
	int rc = az_simple(az, UFS_REQ_OTHER, "GET", az_url(az, NULL, q), NULL, &resp);

	if (rc == -ENOENT && strcmp(resp.err_code, "ResourceNotFound") != 0)
		snprintf(err, errlen, "mount %s: container '%s' does not exist in account '%s'",
			 be->name, az->container, az->account);
	else if (rc == -EACCES || rc == -ENOENT)
		snprintf(err, errlen, "mount %s: authentication failed for account '%s' (%s)%s%s",
			 be->name, az->account, az_auth_hint(az), resp.err_code[0] ? ": " : "",
			 resp.err_code);
	else if (rc)
		snprintf(err, errlen, "mount %s: %s: %s", be->name, az->endpoint, strerror(-rc));
	if (rc == -ENOENT && strcmp(resp.err_code, "ResourceNotFound") == 0)
		rc = -EACCES; /* anonymous access to a private container */
	ufs_http_resp_clear(&resp);
	return rc;
}

static const struct ufs_cfg_key az_keys[] = {
    {"account", 0, "storage account name (may also come from the endpoint)"},
    {"endpoint", 0, "blob service URL (default https://ACCOUNT.blob.core.windows.net)"},
    {"key_file", 0, "file holding the shared key (mode 0600)"},
    {"sas_file", 0, "file holding a SAS token (mode 0600)"},
    {"token_file", 0, "file holding an OAuth bearer token (mode 0600)"},
    {"client_id", 0, "managed identity: client id of a user-assigned identity"},
    {"object_id", 0, "managed identity: object (principal) id of a user-assigned identity"},
    {"msi_res_id", 0, "managed identity: Azure resource id of a user-assigned identity"},
    {"account_key", UFS_CFGKEY_SECRET, "inline base64 shared key"},
    {"sas_token", UFS_CFGKEY_SECRET, "inline SAS token"},
    {NULL, 0, NULL},
};

const struct ufs_backend_ops ufs_az_ops = UFS_OS_OPS(
    "az", "az://container[/prefix] Azure Blob Storage", az_keys, az_create, az_check, az_destroy);

/*
 * fuzz_url.c — libFuzzer target: the backend URL parsers, as the daemon runs
 * them on a mount's url (and an Azure endpoint / connection string):
 * ufs_config_from_url() (scheme check), ufs_s3_parse_url(),
 * ufs_az_parse_url(), ufs_nfs_url_parse(), ufs_az_parse_endpoint(),
 * ufs_az_conn_get(), ufs_os_norm_prefix(), and ufs_s3_url() building a
 * request URL with the input as key and as endpoint.
 *
 * Checked on every success: a bucket / container obeys its naming rule, a
 * key prefix is "" or "a/b/" (no leading '/', no empty component), an NFS
 * path is absolute without a trailing '/', an endpoint base has no trailing
 * '/'. On failure the outputs are NULL and err says why.
 *
 * Run by hand: build-fuzz/fuzz_url tests/fuzz/corpus/url
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "protocols/azure/azblob_i.h"
#include "protocols/backend.h"
#include "protocols/nfs/nfs_i.h"
#include "protocols/objstore/objstore.h"
#include "protocols/s3/s3_i.h"
#include "tests/fuzz/helper_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "" or "a/b/": no leading '/', each component followed by one '/'. */
static void fuzz_check_prefix(const char *p)
{
	size_t n = strlen(p);

	UFS_FUZZ_CHECK(n == 0 || (p[0] != '/' && p[n - 1] == '/'), "prefix is \"\" or \"a/b/\"");
	UFS_FUZZ_CHECK(strstr(p, "//") == NULL, "prefix has no empty component");
}

typedef int (*fuzz_split_fn)(const char *url, char **proot, char **pprefix, char *err,
			     size_t errlen);

static void fuzz_objstore_url(const char *url, fuzz_split_fn split, const char *punct)
{
	char *root = (char *)"unset", *prefix = (char *)"unset", err[512] = "";

	if (split(url, &root, &prefix, err, sizeof(err)) != 0) {
		UFS_FUZZ_CHECK(!root && !prefix && err[0], "a refused URL says why, owns nothing");
		return;
	}
	UFS_FUZZ_CHECK(ufs_os_root_name_ok(root, strlen(root), punct), "root name is valid");
	fuzz_check_prefix(prefix);
	free(root);
	free(prefix);
}

static void fuzz_nfs_url(const char *url)
{
	struct ufs_nfs_url u;
	char err[512] = "";
	size_t n;

	if (ufs_nfs_url_parse(url, &u, err, sizeof(err)) != 0) {
		UFS_FUZZ_CHECK(!u.server && !u.path && err[0], "a refused NFS URL says why");
		ufs_nfs_url_free(&u);
		return;
	}
	n = strlen(u.path);
	UFS_FUZZ_CHECK(u.path[0] == '/', "NFS path is absolute");
	UFS_FUZZ_CHECK(n == 1 || u.path[n - 1] != '/', "NFS path has no trailing '/'");
	UFS_FUZZ_CHECK(u.version == 3 || u.version == 4, "NFS version is 3 or 4");
	UFS_FUZZ_CHECK(u.server[0] != '\0' && u.args, "NFS server and args set");
	(void)ufs_nfs_url_has_arg(&u, "version");
	ufs_nfs_url_free(&u);
}

static void fuzz_az_endpoint(const char *endpoint, const char *account)
{
	char *base = NULL, *acct = NULL, err[512] = "";
	size_t n;

	if (ufs_az_parse_endpoint(endpoint, account, &base, &acct, err, sizeof(err)) != 0) {
		UFS_FUZZ_CHECK(!base && !acct && err[0], "a refused endpoint says why");
		return;
	}
	n = strlen(base);
	UFS_FUZZ_CHECK(n > 0 && base[n - 1] != '/', "endpoint base has no trailing '/'");
	UFS_FUZZ_CHECK(acct[0] != '\0', "account is set");
	free(base);
	free(acct);
}

static void fuzz_request_urls(const char *s)
{
	free(ufs_s3_url("http://127.0.0.1:7480", "bkt", 1, s, "list-type=2"));
	free(ufs_s3_url("https://s3.example", "bkt", 0, s, NULL));
	if (strstr(s, "://"))
		free(ufs_s3_url(s, "bkt", 0, "d/k", ""));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = ufs_fuzz_str(data, size);
	struct ufs_config *cfg = NULL;
	char err[512] = "", *v;

	if (ufs_config_from_url(url, &ufs_backend_schema, &cfg, err, sizeof(err)) == 0)
		ufs_config_destroy(cfg);
	else
		UFS_FUZZ_CHECK(err[0], "a refused URL says why");
	fuzz_objstore_url(url, ufs_s3_parse_url, ".-");
	fuzz_objstore_url(url, ufs_az_parse_url, "-");
	fuzz_nfs_url(url);
	fuzz_az_endpoint(url, NULL);
	fuzz_az_endpoint(url, "devstoreaccount1");
	v = ufs_az_conn_get(url, "AccountName");
	free(v);
	v = ufs_os_norm_prefix(url);
	fuzz_check_prefix(v);
	free(v);
	fuzz_request_urls(url);
	free(url);
	return 0;
}

/*
 * azblob_i.h — the pure parts of the Azure Blob backend (protocols/azblob.c),
 * exposed for unit tests: URL and endpoint parsing, the List Blobs page
 * parser and block ids. Nothing here does I/O.
 */
#ifndef UFS_AZBLOB_I_H
#define UFS_AZBLOB_I_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/backend.h"

/* Blob service REST version sent on every request (Azurite 3.37 accepts it). */
#define UFS_AZ_VERSION "2021-12-02"
/* List Blobs page size (the service maximum). */
#define UFS_AZ_LIST_MAX 5000
/* Length of a block id before base64 (every id of one blob has this length). */
#define UFS_AZ_BLOCK_ID_RAW 12
/* Buffer size for a base64 block id, NUL included. */
#define UFS_AZ_BLOCK_ID_MAX 24

/*
 * Split "az://container/prefix/..." into an owned container name and an owned
 * prefix ("" or "dir/sub/": no leading '/', one trailing '/', no empty
 * component). The container must follow Azure's naming rules (3-63 of
 * a-z 0-9 '-'). 0, or -EINVAL / -ENOMEM with a one-line reason in err.
 */
int ufs_az_parse_url(const char *url, char **pcontainer, char **pprefix, char *err, size_t errlen);

/*
 * Resolve the service endpoint and account. endpoint may be NULL (then
 * "https://ACCOUNT.blob.core.windows.net"). An endpoint with a path
 * ("http://127.0.0.1:10000/devstoreaccount1") is path-style: its first path
 * segment is the account. account may be NULL when the endpoint names it
 * (path-style, or a host "ACCOUNT.blob..."). On success *pbase is the owned
 * base URL without a trailing '/' (the path-style account segment included)
 * and *paccount the owned account name. 0, or -EINVAL / -ENOMEM with a
 * one-line reason in err.
 */
int ufs_az_parse_endpoint(const char *endpoint, const char *account, char **pbase, char **paccount,
			  char *err, size_t errlen);

/*
 * Block id number n of a blob: base64 of a fixed-width ASCII counter (every id
 * of a blob must have the same length), written into out (UFS_AZ_BLOCK_ID_MAX
 * bytes). The result holds only base64 characters that need no escaping
 * beyond '+', '/' and '=' in a URL.
 */
void ufs_az_block_id(uint32_t n, char out[UFS_AZ_BLOCK_ID_MAX]);

/*
 * List Blobs page parser (delimiter '/'). Feed each response body to
 * ufs_az_list_page(); entries come to cb relative to the listing prefix:
 *   Blob            -> regular file (size, mtime, etag), or a directory when
 *                      its metadata hdi_isfolder is "true" (BlobFuse marker)
 *                      or its ResourceType is "directory" (HNS accounts);
 *   BlobPrefix      -> directory, unless a blob of the same name was already
 *                      reported (a folder marker, or a file: the file wins);
 *   invalid names   -> skipped with a log line.
 * Blob names sort before "name/", so a marker/prefix pair is always in the
 * same page or in two consecutive ones: the parser remembers the names of
 * the current and the previous page only.
 */
struct ufs_az_lister {
	const char *prefix; /* listing prefix: "" or "dir/" */
	size_t prefix_len;
	ufs_list_cb cb;
	void *arg;
	char *next_marker;	  /* owned; NULL or "" when the listing is complete */
	unsigned skipped;	  /* invalid names skipped so far */
	unsigned emitted;	  /* entries reported so far */
	struct timespec dir_time; /* times reported for BlobPrefix directories */
	/* private */
	struct ufs_az_names {
		char **v;
		size_t n, cap;
	} cur, prev, dirs;
	char *name; /* current Blob's name (owned) */
	struct ufs_attr attr;
	int is_dir;
	int stop;
};

/* Start a listing of prefix (borrowed; "" or ending in '/') into cb. */
void ufs_az_lister_init(struct ufs_az_lister *l, const char *prefix, ufs_list_cb cb, void *arg);
/* Parse one page; 0, a callback's non-zero value, -EIO (malformed) or -ENOMEM. */
int ufs_az_list_page(struct ufs_az_lister *l, const char *xml, size_t len);
/* Free what the lister owns. */
void ufs_az_lister_fini(struct ufs_az_lister *l);

/* Value of name (case-insensitive) in an Azure connection string
 * "K1=v1;K2=v2;..." (cs may be NULL): malloc'd, or NULL when absent. */
char *ufs_az_conn_get(const char *cs, const char *name);

#endif

/*
 * azblob_i.h — the pure parts of the Azure Blob store (az_parse.c),
 * exposed for unit tests: URL and endpoint parsing, the List Blobs page
 * parser and block ids. Nothing here does I/O.
 */
#ifndef UFS_AZBLOB_I_H
#define UFS_AZBLOB_I_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/objstore/objstore.h"

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
 * Parse one List Blobs page (xml, len bytes) of prefix (borrowed; "" or
 * ending in '/'): each Blob and BlobPrefix under prefix goes to cb as an
 * object-store entry relative to prefix: a Blob is UFS_OS_FILE (size, mtime,
 * etag) or UFS_OS_MARKER when its metadata hdi_isfolder is "true" (the
 * BlobFuse convention) or its ResourceType is "directory" (HNS accounts); a
 * BlobPrefix is UFS_OS_PREFIX (name ending in '/'). Names are not filtered
 * (the object-store layer does). *pnext is the NextMarker (malloc'd) or NULL
 * at the end. 0, a callback's non-zero value, -EIO (malformed) or -ENOMEM.
 */
int ufs_az_list_page(const char *xml, size_t len, const char *prefix, ufs_os_entry_cb cb, void *arg,
		     char **pnext);

/*
 * The number n of a block id made by ufs_az_block_id() into *pn. 0, or
 * -EINVAL for any other id.
 */
int ufs_az_block_num(const char *id, size_t len, uint32_t *pn);

/*
 * Parse a Get Block List answer (blocklisttype=uncommitted): each
 * UncommittedBlocks/Block whose name is one of ours goes to cb as part
 * number+1 with its Size and etag "" (blocks named otherwise are skipped).
 * 0, cb's value, or -EIO (malformed, not a BlockList, a block without a
 * size).
 */
int ufs_az_parse_block_list(const char *xml, size_t len, ufs_upload_part_cb cb, void *arg);

/* Value of name (case-insensitive) in an Azure connection string
 * "K1=v1;K2=v2;..." (cs may be NULL): malloc'd, or NULL when absent. */
char *ufs_az_conn_get(const char *cs, const char *name);

#endif

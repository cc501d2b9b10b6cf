/*
 * objstore.h — pure helpers shared by the object-store backends (S3 in
 * s3*.c, Azure Blob in azblob.c): key-prefix normalisation, ETag stripping,
 * HTTP-date parsing and the check that a listed key component is usable as
 * one POSIX file name. No I/O, no global state; each backend keeps only what
 * really differs (bucket/container rules, ISO 8601 in S3 listings).
 */
#ifndef UFS_OBJSTORE_H
#define UFS_OBJSTORE_H

#include <stddef.h>
#include <time.h>

#include "protocols/backend.h"

/*
 * Normalise the path part of an object-store URL into a key prefix: empty
 * components dropped (leading, trailing and repeated '/'), each remaining
 * component followed by one '/': "/a//b" -> "a/b/", "" or "/" -> "".
 * Returns a malloc'd string, or NULL when out of memory.
 */
char *ufs_os_norm_prefix(const char *path);

/*
 * Copy the opaque part of an ETag header / XML value (len bytes, not
 * necessarily NUL-terminated) into out: surrounding blanks, a weak "W/"
 * marker and the surrounding double quotes are removed ("\"abc\"" -> "abc",
 * "W/\"x\" " -> "x", "plain" -> "plain"). Truncated to UFS_ETAG_MAX - 1
 * bytes; out is always NUL-terminated. Callers that send it back quote it
 * again ("If-Match: \"%s\"").
 */
void ufs_os_etag_strip(const char *in, size_t len, char out[UFS_ETAG_MAX]);

/*
 * Parse an HTTP date (RFC 7231 IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT";
 * the obsolete RFC 850 and asctime forms are accepted too, as recipients
 * must) into *pts with tv_nsec 0. Locale-independent. 0 or -EINVAL.
 */
int ufs_os_parse_http_date(const char *s, struct timespec *pts);

/*
 * True when name[0..len) is usable as one POSIX directory-entry name: not
 * empty, not "." or "..", no '/' (so "a//b" and a key's trailing '/' never
 * pass through) and at most NAME_MAX bytes. Listings skip keys that fail.
 */
int ufs_os_name_ok(const char *name, size_t len);

#endif

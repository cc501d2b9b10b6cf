/*
 * s3_i.h — the pure parts of the S3 backend (protocols/s3.c), exposed for unit
 * tests: URL parsing, request URLs, time formats, ETags, the ListObjectsV2
 * page parser and the multipart XML bodies. Nothing here does I/O.
 */
#ifndef UFS_S3_I_H
#define UFS_S3_I_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "protocols/backend.h"
#include "protocols/objstore/objstore.h"

#define UFS_S3_LIST_MAX 1000	     /* ListObjectsV2 page size */
#define UFS_S3_MIN_PART (5ULL << 20) /* S3's smallest non-last part */
#define UFS_S3_MAX_PART (5ULL << 30) /* S3's largest part / single copy */
#define UFS_S3_MAX_PARTS 10000	     /* parts per upload */

/*
 * Split "s3://bucket/prefix/..." into an owned bucket and an owned key prefix
 * ("" or "a/b/": no leading '/', one trailing '/', no empty component). The
 * bucket must follow S3's naming rules (3-63 of a-z 0-9 '.' '-'). 0, or
 * -EINVAL / -ENOMEM with a one-line reason in err.
 */
int ufs_s3_parse_url(const char *url, char **pbucket, char **pprefix, char *err, size_t errlen);

/*
 * URL of key (raw bytes, may be "" for the bucket itself) with an optional
 * query (already encoded, without '?'). endpoint is "scheme://host[:port]"
 * without a trailing '/'. path_style: endpoint/bucket/key, else
 * scheme://bucket.host/key. The key is percent-encoded ('/' kept). Returns a
 * malloc'd string or NULL.
 */
char *ufs_s3_url(const char *endpoint, const char *bucket, int path_style, const char *key,
		 const char *query);

/* "2024-01-02T03:04:05.678Z" (ISO 8601, UTC) -> *pts. 0 or -EINVAL. */
int ufs_s3_parse_iso8601(const char *s, size_t len, struct timespec *pts);

/* One entry of a listing page; name is relative to the listed prefix and
 * may be "" or invalid (the caller filters with ufs_os_name_ok()). */
struct ufs_s3_entry {
	const char *name;
	int is_dir; /* from CommonPrefixes (trailing '/' removed) */
	uint64_t size;
	struct timespec mtime;
	const char *etag; /* stripped; "" when none */
};

/* Called per entry; non-zero stops the parse and is returned by it. */
typedef int (*ufs_s3_entry_cb)(void *arg, const struct ufs_s3_entry *e);

struct ufs_s3_page {
	int truncated;	    /* IsTruncated */
	char *next_token;   /* NextContinuationToken (owned, NULL if none) */
	unsigned n_entries; /* Contents + CommonPrefixes seen */
};

/*
 * Parse one ListObjectsV2 page. Keys not under prefix are ignored. Keys and
 * prefixes are %-decoded ('+' is a space) when the page says
 * <EncodingType>url</EncodingType> (servers that ignore encoding-type=url send
 * them raw). 0, the
 * callback's stop value, or -EIO (malformed XML, or not a ListBucketResult)
 * with a reason in err. On success page->next_token must be freed by the
 * caller; on failure it is NULL.
 */
int ufs_s3_parse_list(const char *xml, size_t len, const char *prefix, ufs_s3_entry_cb cb,
		      void *arg, struct ufs_s3_page *page, char *err, size_t errlen);

/* A url-encoded listing key ('+' = space, %XX) decoded, malloc'd; NULL on
 * ENOMEM or a malformed escape. */
char *ufs_s3_url_key_decode(const char *s, size_t len);

/* Text of the first element at path ("A/B/C"), entity-decoded, malloc'd;
 * NULL if absent or the XML is malformed. */
char *ufs_s3_xml_text(const char *xml, size_t len, const char *path);

/* UploadId of an InitiateMultipartUploadResult, malloc'd; NULL if absent. */
char *ufs_s3_parse_upload_id(const char *xml, size_t len);

/*
 * Is this 200 answer body an <Error> document? (CompleteMultipartUpload and
 * CopyObject report failures that way.) Copies its code into code.
 */
int ufs_s3_body_is_error(const char *xml, size_t len, char *code, size_t codelen);

/* CompleteMultipartUpload body for parts 1..n with their (stripped) ETags;
 * malloc'd, or NULL. */
char *ufs_s3_complete_body(char (*etags)[UFS_ETAG_MAX], unsigned n);

/* One ListParts page: each Part (PartNumber, Size, ETag stripped) goes to
 * cb; *pnext is NextPartNumberMarker when IsTruncated, else 0. 0, cb's
 * value, or -EIO (malformed, not a ListPartsResult, a Part without a
 * number or size). */
int ufs_s3_parse_parts(const char *xml, size_t len, ufs_upload_part_cb cb, void *arg,
		       unsigned *pnext);

/* Size of part number n (1-based) for a base part size: grows every 1,000
 * parts so that 10,000 parts reach far beyond base * 10,000. */
uint64_t ufs_s3_part_len(uint64_t base, unsigned n);

/* ==== backend internals shared by s3.c, s3_req.c and s3_mpu.c ==== */

#include "protocols/s3/creds_aws.h"
#include "protocols/http/http.h"

struct s3_be {
	struct ufs_os os; /* first: a struct ufs_backend * is a struct s3_be * */
	char *bucket;
	char *endpoint;	     /* "scheme://host[:port]", no trailing '/' */
	char *region;	     /* signing region; set at create, moved once by a redirect */
	int endpoint_auto;   /* the endpoint was derived from the region */
	int region_moved;    /* atomic: a redirect moved region (and endpoint) once */
	char *moved_from[2]; /* the region and endpoint before the move: other threads
				may still read them, so they live until destroy */
	int path_style;
	uint64_t part_size;
	struct ufs_aws_ident id; /* credentials (shared, self-renewing) and where they came from */
};

/* One S3 request under construction: init, set body/output, perform, fini. */
struct s3_call {
	struct ufs_http_req req;
	struct ufs_http_resp resp;
	char *url;
};

/* Prepare a request of method on key (full object key; "" for the bucket)
 * with an encoded query (or NULL). 0 or -ENOMEM. (s3_req.c) */
int s3_call_init(struct s3_call *c, struct s3_be *sb, enum ufs_req_kind kind, const char *method,
		 const char *key, const char *query);
/* Sign (SigV4, fresh date per attempt) and send; 0 or -errno (see http.h).
 * An answer naming another region for the bucket (x-amz-bucket-region on a
 * 301 PermanentRedirect or a 400) moves the backend there, once, with a
 * warning, and the call is sent again. */
int s3_call_perform(struct s3_call *c);
/* Free what the call owns. */
void s3_call_fini(struct s3_call *c);
/* One request without a body whose answer body is dropped; the answer goes
 * to *presp when presp is not NULL (free it with ufs_http_resp_clear()). */
int s3_simple(struct s3_be *sb, enum ufs_req_kind kind, const char *method, const char *key,
	      const char *query, struct ufs_http_resp *presp);
/* A 200 answer whose body is an <Error> (CopyObject, Complete...): -EIO
 * (-ENOENT for NoSuchKey), the code kept for logs; else 0. */
int s3_check_body(struct s3_be *sb, const struct ufs_strbuf *body, const char *what);

/* Multipart primitives (s3_mpu.c), see struct ufs_os_prims. */
int s3_mpu_begin(struct ufs_os *os, const char *key, char **pid);
int s3_mpu_part(struct ufs_os *os, const char *key, const char *id, unsigned n, const void *buf,
		size_t len, char etag[UFS_ETAG_MAX]);
int s3_mpu_commit(struct ufs_os *os, const char *key, const char *id, char (*etags)[UFS_ETAG_MAX],
		  unsigned n, int excl);
void s3_mpu_abort(struct ufs_os *os, const char *key, const char *id);
int s3_mpu_list(struct ufs_os *os, const char *key, const char *id, ufs_upload_part_cb cb,
		void *arg);
/* Server-side copy: CopyObject, or UploadPartCopy above 5 GiB (s3_mpu.c). */
int s3_copy(struct ufs_os *os, const char *from, const char *to, uint64_t size, const char *etag,
	    int noreplace);
/* Add meta's x-amz-meta-mtime and x-amz-meta-unifs-xxh3 headers to h. */
int s3_meta_add(struct ufs_http_hdrs *h, const struct ufs_attr *meta);
/* Replace key's metadata with meta's (s3_mpu.c), see struct ufs_os_prims. */
int s3_set_meta(struct ufs_os *os, const char *key, uint64_t size, const struct ufs_attr *meta);

#endif

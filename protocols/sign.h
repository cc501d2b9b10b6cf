/*
 * sign.h — request signing for the object stores, written with OpenSSL's
 * primitives (no libs3, no CURLOPT_AWS_SIGV4).
 *
 * Sections: common digests; AWS Signature Version 4 (header auth); the
 * encodings both clouds use (base64, Content-MD5, HTTP dates). Azure's
 * SharedKey and bearer auth build on these in azure/az_sign.h.
 *
 * Nothing here logs or keeps a secret: keys are borrowed for the call.
 */
#ifndef UFS_SIGN_H
#define UFS_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "protocols/http/http.h"

/* ==== common digests ==== */

#define UFS_SHA256_LEN 32
#define UFS_SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

/* SHA-256 of data[0..len) as lower-case hex into out. */
void ufs_sha256_hex(const void *data, size_t len, char out[UFS_SHA256_HEX_LEN]);

/* HMAC-SHA256(key, data) into out (32 bytes). 0, or -EIO if OpenSSL fails. */
int ufs_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		    unsigned char out[UFS_SHA256_LEN]);

/* ==== AWS Signature Version 4 ==== */

#define UFS_SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"
#define UFS_SIGV4_EMPTY_HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define UFS_AMZ_DATE_LEN 17 /* "20130524T000000Z" + NUL */

/* Credentials and scope, borrowed for one call. */
struct ufs_sigv4_key {
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL when none */
	const char *region;	   /* "us-east-1" */
	const char *service;	   /* "s3" */
};

/* One request to sign. */
struct ufs_sigv4_req {
	const char *method; /* "GET" */
	const char *path;   /* URI path as sent ("/bkt/a%20b"); raw bytes are encoded too */
	const char *query;  /* query without '?', NULL or "" when none */
	/* Headers to sign ("Name: value"); must hold Host. Values are trimmed and
	 * inner runs of blanks folded; repeated names are joined with ','. */
	const struct ufs_http_hdrs *headers;
	const char *payload_hash; /* hex SHA-256 of the body, or UFS_SIGV4_UNSIGNED */
	const char *amz_date;	  /* "20150830T123600Z" (UTC) */
	int normalize_path;	  /* remove "." / ".." / empty segments (not for S3) */
	int content_sha_header;	  /* add and sign x-amz-content-sha256 (S3 requires it) */
	int omit_token;		  /* add x-amz-security-token unsigned (after signing) */
};

/* What signing produced; free with ufs_sigv4_out_free(). */
struct ufs_sigv4_out {
	char *canonical_request;
	char *string_to_sign;
	char *authorization; /* value of the Authorization header */
	char signature[UFS_SHA256_HEX_LEN];
};

/* Format t (UTC) as an x-amz-date "YYYYMMDDTHHMMSSZ". */
void ufs_amz_date(time_t t, char out[UFS_AMZ_DATE_LEN]);

/*
 * Sign r with k: canonical request, string to sign, signature and the
 * Authorization value, into *pout. 0, or -ENOMEM / -EINVAL (no Host header,
 * malformed date). On error *pout holds nothing to free.
 */
int ufs_sigv4_sign(const struct ufs_sigv4_req *r, const struct ufs_sigv4_key *k,
		   struct ufs_sigv4_out *pout);

/* Free what ufs_sigv4_sign() put in out. */
void ufs_sigv4_out_free(struct ufs_sigv4_out *out);

/*
 * Sign r and append the auth headers to pauth: x-amz-date,
 * x-amz-content-sha256 (when r->content_sha_header), x-amz-security-token
 * (when k has one) and Authorization. 0 or -errno.
 */
int ufs_sigv4_add_headers(const struct ufs_sigv4_req *r, const struct ufs_sigv4_key *k,
			  struct ufs_http_hdrs *pauth);

/* ==== encodings both clouds use ====*/

#define UFS_HTTP_DATE_LEN 40 /* "Sun, 06 Nov 1994 08:49:37 GMT" + NUL, with room */

/*
 * Base64 (RFC 4648, padded) of in[0..len) into out (cap bytes, NUL included).
 * Returns the length written, or -ENOSPC.
 */
int ufs_base64_encode(const void *in, size_t len, char *out, size_t cap);

/*
 * Append "Content-MD5: base64(MD5(buf[0..len)))" to h (RFC 1864), so the
 * server refuses a body corrupted on the way (S3 BadDigest, Azure
 * Md5Mismatch). Used on every single PUT, S3 UploadPart and Azure Put Block.
 * 0, -EIO (digest failed) or -ENOMEM.
 */
int ufs_content_md5_add(struct ufs_http_hdrs *h, const void *buf, size_t len);

/*
 * Decode padded base64 text into out (cap bytes). Returns the decoded length,
 * or -EINVAL (not base64) / -ENOSPC.
 */
int ufs_base64_decode(const char *in, void *out, size_t cap);

/* Format t (UTC) as an RFC 1123 HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void ufs_http_date(time_t t, char out[UFS_HTTP_DATE_LEN]);

#endif

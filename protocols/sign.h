/*
 * sign.h — request signing for the object stores, written with OpenSSL's
 * primitives (no libs3, no CURLOPT_AWS_SIGV4).
 *
 * Sections: common digests; AWS Signature Version 4 (header auth). Further
 * schemes (Azure SharedKey) are appended as their own sections.
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

/* ==== Azure Blob: SharedKey, SAS and bearer-token auth (azblob.c) ==== */

#define UFS_AZ_KEY_MAX 128   /* decoded SharedKey bytes (Azure's are 64) */
#define UFS_AZ_SIG_LEN 45    /* base64 of a SHA-256 HMAC + NUL */
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

/*
 * The SharedKey string-to-sign of one Blob request (version 2009-09-19 and
 * later): VERB, the eleven standard headers (Content-Length empty when 0),
 * the canonical x-ms-* headers and the canonical resource "/account/path"
 * with one "name:value" line per query parameter (names lower-cased and
 * sorted, values decoded, repeats comma-joined). url is the absolute,
 * percent-encoded URL as sent (for path-style endpoints its path starts with
 * the account again); hdrs and extra (may be NULL) are every header the
 * request carries. Returns a malloc'd string, or NULL (ENOMEM, malformed URL).
 */
char *ufs_az_string_to_sign(const char *method, const char *url, const char *account,
			    uint64_t content_length, const struct ufs_http_hdrs *hdrs,
			    const struct ufs_http_hdrs *extra);

/*
 * Sign sts with the decoded account key: base64(HMAC-SHA256(key, sts)) into
 * out. 0 or -EIO.
 */
int ufs_az_signature(const void *key, size_t keylen, const char *sts, char out[UFS_AZ_SIG_LEN]);

/* Azure credentials of one backend (owned by it; every field set before use). */
struct ufs_credsrc;

struct ufs_az_cred {
	const char *account;
	unsigned char key[UFS_AZ_KEY_MAX]; /* SharedKey, decoded; key_len 0 = none */
	size_t key_len;
	/* OAuth bearer token read from token_file, re-read when its mtime changes */
	const char *token_file; /* NULL = none */
	pthread_mutex_t lock;	/* guards token and token_mtime */
	char *token;
	struct timespec token_mtime;
	/* or a self-renewing Azure AD token (creds_azure.h), when not NULL */
	struct ufs_credsrc *src;
};

/*
 * Sign hook (ufs_http_sign_fn, arg = struct ufs_az_cred *) for SharedKey:
 * appends x-ms-date and "Authorization: SharedKey account:signature".
 * 0 or -errno.
 */
int ufs_az_sign_sharedkey(void *arg, const struct ufs_http_req *req, struct ufs_http_hdrs *pauth);

/*
 * Sign hook for OAuth: appends x-ms-date and "Authorization: Bearer TOKEN",
 * the token of cred->src when set, else read from cred->token_file (first
 * line, blanks trimmed) and re-read whenever the file's mtime changes.
 * -EACCES with a logged reason when the file cannot be read or is empty,
 * or the token has expired (its refresh failing).
 */
int ufs_az_sign_bearer(void *arg, const struct ufs_http_req *req, struct ufs_http_hdrs *pauth);

/* Sign hook for SAS and anonymous requests (the SAS rides in the URL):
 * appends x-ms-date only. */
int ufs_az_sign_none(void *arg, const struct ufs_http_req *req, struct ufs_http_hdrs *pauth);

#endif

/*
 * az_sign.h — Azure Blob request auth: the SharedKey string-to-sign and
 * signature, and the sign hooks of http.h for SharedKey, SAS/anonymous and
 * OAuth bearer tokens (a token file, or a self-renewing Azure AD token of
 * creds_azure.h). Built on the digests and encodings of protocols/sign.h.
 *
 * Nothing here logs or keeps a secret: keys are borrowed for the call.
 */
#ifndef UFS_AZ_SIGN_H
#define UFS_AZ_SIGN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "protocols/sign.h"

#define UFS_AZ_KEY_MAX 128 /* decoded SharedKey bytes (Azure's are 64) */
#define UFS_AZ_SIG_LEN 45  /* base64 of a SHA-256 HMAC + NUL */

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

/*
 * creds_http.h — what the credential sources of both clouds (s3/creds_aws*,
 * azure/creds_azure*) share: token files, and one request to a token
 * service (EC2 and Azure instance
 * metadata, ECS/EKS container credentials, AWS STS, Azure AD), over the
 * shared transport (protocols/http/) with the bounds such a service needs:
 * one attempt (the credential's refresher retries with backoff), a short
 * overall time limit (a hanging service costs UFS_CREDS_HTTP_TIMEOUT
 * seconds), a bounded answer, and errors as one line that names the service
 * and its URL without the query.
 */
#ifndef UFS_CREDS_HTTP_H
#define UFS_CREDS_HTTP_H

#include <stddef.h>
#include <time.h>

#include "common/strbuf.h"
#include "protocols/http/http.h"

/* Overall seconds one token-service request may take (connect included). */
#define UFS_CREDS_HTTP_TIMEOUT 5.0
/* The same for a cloud metadata service, which answers within milliseconds
 * where it exists (the SDKs wait 1 s): a machine off the cloud fails fast. */
#define UFS_CREDS_METADATA_TIMEOUT 2.0
/* Largest answer accepted from a token service. */
#define UFS_CREDS_HTTP_MAX (256 * 1024)

/* How one request is made (NULL: unsigned, UFS_CREDS_HTTP_TIMEOUT). */
struct ufs_creds_opts {
	ufs_http_sign_fn sign; /* sign hook of http.h, NULL: unsigned */
	void *sign_arg;
	double timeout_s; /* overall bound, 0: UFS_CREDS_HTTP_TIMEOUT */
};

/*
 * method url with the header lines hdrs (NULL-terminated array of
 * "Name: value", may be NULL) and body (may be NULL), as opt says (may be
 * NULL). A 2xx answer's body is
 * appended to *pout (the caller frees pout->s). 0, or -errno with "WHAT:
 * REASON (URL)" in err: -ETIMEDOUT, -ECONNREFUSED, -EACCES (401/403), -EIO
 * (other status, oversized answer), ...
 */
int ufs_creds_http(const char *what, const char *method, const char *url, const char *const *hdrs,
		   const char *body, const struct ufs_creds_opts *opt, struct ufs_strbuf *pout,
		   char *err, size_t errlen);

/*
 * The members of a JSON answer: for each i < n, *pvals[i] = the string value
 * of keys[i] (malloc'd) or NULL when absent. 0, or -EINVAL ("WHAT: malformed
 * answer" in err) when json is not a JSON object, -ENOMEM. On failure every
 * *pvals[i] is NULL.
 */
int ufs_creds_json(const char *what, const struct ufs_strbuf *json, const char *const *keys,
		   char **const *pvals, size_t n, char *err, size_t errlen);

/* An ISO 8601 UTC time ("2024-01-02T03:04:05Z", fraction allowed) as UTC
 * seconds into *pt. 0 or -EINVAL. */
int ufs_creds_parse_time(const char *s, time_t *pt);

/* Largest token file (a Kubernetes service-account JWT, an Azure federated
 * token, an ECS authorization token). */
#define UFS_CREDS_TOKEN_MAX 16384

/*
 * Read a token file (re-read at every use: platforms rotate them), blanks
 * and newlines trimmed, into *ptok (free with ufs_secret_free()). Unlike the
 * credential files, any mode is accepted: Kubernetes projects these tokens
 * world-readable into the pod. 0 or -errno with "token file PATH: REASON".
 */
int ufs_creds_read_token(const char *path, char **ptok, char *err, size_t errlen);

#endif

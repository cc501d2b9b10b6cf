/*
 * creds_http.c — token files, requests to token services and reading their
 * answers; see creds_http.h. No backend is attached to the request (a token service's
 * traffic is not the mount's), so nothing is counted on a backend.
 */
#include "protocols/creds_http.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/secret.h"
#include "protocols/http/http.h"
#include "protocols/s3/s3_i.h"

static void creds_http_reason(const char *what, const char *url, int rc, double timeout,
			      const struct ufs_http_resp *resp, char *err, size_t errlen)
{
	int ulen = (int)strcspn(url, "?");

	if (resp->status)
		snprintf(err, errlen, "%s: HTTP %ld%s%s (%.*s)", what, resp->status,
			 resp->err_code[0] ? " " : "", resp->err_code, ulen, url);
	else if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "%s: no answer within %.0f s (%.*s)", what, timeout, ulen,
			 url);
	else
		snprintf(err, errlen, "%s: %s (%.*s)", what, strerror(-rc), ulen, url);
}

int ufs_creds_http(const char *what, const char *method, const char *url, const char *const *hdrs,
		   const char *body, const struct ufs_creds_opts *opt, struct ufs_strbuf *pout,
		   char *err, size_t errlen)
{
	struct ufs_http_req req = {
	    .kind = UFS_REQ_GET,
	    .method = method,
	    .url = url,
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .out_grow = pout,
	    .out_max = UFS_CREDS_HTTP_MAX,
	    .timeout_s = opt && opt->timeout_s > 0 ? opt->timeout_s : UFS_CREDS_HTTP_TIMEOUT,
	    .max_attempts = 1,
	    .sign = opt ? opt->sign : NULL,
	    .sign_arg = opt ? opt->sign_arg : NULL,
	};
	struct ufs_http_resp resp = {.content_length = -1};
	int rc = 0;

	for (size_t i = 0; hdrs && hdrs[i] && !rc; i++)
		rc = ufs_http_hdrs_add(&req.headers, "%s", hdrs[i]);
	if (!rc && body)
		rc = ufs_http_hdrs_add(&req.headers, "Content-Type: %s",
				       body[0] == '{' ? "application/json"
						      : "application/x-www-form-urlencoded");
	if (!rc)
		rc = ufs_http_perform(&req, &resp);
	if (rc)
		creds_http_reason(what, url, rc, req.timeout_s, &resp, err, errlen);
	ufs_http_hdrs_clear(&req.headers);
	ufs_http_resp_clear(&resp);
	return rc;
}

int ufs_creds_json(const char *what, const struct ufs_strbuf *json, const char *const *keys,
		   char **const *pvals, size_t n, char *err, size_t errlen)
{
	const char *text = json->s ? json->s : "";

	for (size_t i = 0; i < n; i++) {
		int rc = ufs_json_get(text, json->len, keys[i], pvals[i]);

		if (rc == -ENOENT)
			continue;
		if (rc) {
			for (size_t k = 0; k < i; k++) {
				ufs_secret_free(*pvals[k]);
				*pvals[k] = NULL;
			}
			if (rc == -EINVAL)
				snprintf(err, errlen, "%s: malformed answer (not a JSON object)",
					 what);
			return rc;
		}
	}
	return 0;
}

int ufs_creds_parse_time(const char *s, time_t *pt)
{
	struct timespec ts;

	if (!s || ufs_s3_parse_iso8601(s, strlen(s), &ts) != 0)
		return -EINVAL;
	*pt = ts.tv_sec;
	return 0;
}

int ufs_creds_read_token(const char *path, char **ptok, char *err, size_t errlen)
{
	char buf[UFS_CREDS_TOKEN_MAX + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, r;
	size_t a = 0;

	*ptok = NULL;
	if (fd < 0) {
		snprintf(err, errlen, "token file %s: %s", path, strerror(errno));
		return -errno;
	}
	while ((size_t)n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - (size_t)n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += r;
	}
	close(fd);
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
		n--;
	while ((ssize_t)a < n && strchr(" \t\r\n", buf[a]))
		a++;
	if ((size_t)n > UFS_CREDS_TOKEN_MAX || (ssize_t)a >= n) {
		snprintf(err, errlen, "token file %s: %s", path,
			 (ssize_t)a >= n ? "it is empty" : "it is too large");
		OPENSSL_cleanse(buf, sizeof(buf));
		return -EINVAL;
	}
	*ptok = strndup(buf + a, (size_t)n - a);
	OPENSSL_cleanse(buf, sizeof(buf));
	return *ptok ? 0 : -ENOMEM;
}

/*
 * http.h — the one libcurl transport shared by the object-store stores
 * (protocols/s3/, protocols/azure/), and RFC 3986 URI encoding.
 *
 * One CURL easy handle per calling thread (a pthread key), reused across
 * requests so connections stay alive. Every request is bounded: a connect
 * timeout, a low-speed limit (a stalled stream fails) and an overall limit,
 * all derived from [global] op_timeout. Connection errors, 5xx, 429 and
 * throttling answers (S3 SlowDown) are retried with exponential backoff and
 * jitter, bounded in count and in total time; a per-attempt sign hook adds
 * fresh auth headers before every attempt.
 *
 * HTTP status and CURLcode are turned into -errno in one place
 * (ufs_http_status_errno(), and http_classify() in http.c for transport
 * errors); the server's error code and message, parsed from the
 * XML error body (<Error><Code>..</Code><Message>..</Message></Error>, the
 * same shape for S3 and Azure Blob), are kept in the response and recorded
 * with ufs_be_set_error() for logs.
 *
 * A body that ends before its Content-Length / Content-Range says it should
 * is an error (-EIO), never short data.
 */
#ifndef UFS_HTTP_H
#define UFS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "protocols/backend.h"

/* Default bound of a body gathered into out_grow (listings, small XML answers):
 * a server cannot make the client buffer without limit. */
#define UFS_HTTP_GROW_MAX ((size_t)32 << 20)

/* An owned list of "Name: value" header lines. Zero-initialise to start. */
struct ufs_http_hdrs {
	char **line;
	size_t n;
	size_t cap;
};

/* Append one "Name: value" line (printf-like). 0 or -ENOMEM. */
int ufs_http_hdrs_add(struct ufs_http_hdrs *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Value of header name (case-insensitive), leading blanks skipped; NULL if absent. */
const char *ufs_http_hdrs_get(const struct ufs_http_hdrs *h, const char *name);
/* One raw response header line as received (data[0..n), not NUL-terminated,
 * CR/LF at its end): kept as "Name: value"; a status line ("HTTP/...", a new
 * answer after 100-continue or a redirect) empties h; a blank line is
 * dropped. 0 or -ENOMEM. */
int ufs_http_hdrs_take_line(struct ufs_http_hdrs *h, const char *data, size_t n);
/* Free every line; h is empty (reusable) afterwards. */
void ufs_http_hdrs_clear(struct ufs_http_hdrs *h);

struct ufs_http_req;

/*
 * Sign hook, called before every attempt (so dates are fresh on retries).
 * Append the auth headers (Authorization, x-amz-date, ...) to *pauth, which
 * is empty on entry; req->headers is what the caller set. 0 or -errno (the
 * request then fails with that errno without being sent).
 */
typedef int (*ufs_http_sign_fn)(void *arg, const struct ufs_http_req *req,
				struct ufs_http_hdrs *pauth);

/* Streamed request body: copy up to n bytes into buf, return bytes (0 at end)
 * or (size_t)-1 to abort. rewind (may be NULL: then no retry once sent)
 * restarts the stream at 0 and returns 0 or -1. */
typedef size_t (*ufs_http_read_fn)(void *arg, char *buf, size_t n);
typedef int (*ufs_http_rewind_fn)(void *arg);

struct ufs_http_req {
	struct ufs_backend *be;	      /* counters, last error, op_timeout (be->gcfg) */
	enum ufs_req_kind kind;	      /* for ufs_be_count() */
	const char *method;	      /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *url;	      /* absolute, already percent-encoded */
	struct ufs_http_hdrs headers; /* caller's headers (owned by the caller) */

	/* Request body: from memory (body, body_len), or streamed (read_fn with
	 * body_len bytes), or none (body == NULL && read_fn == NULL). */
	const void *body;
	uint64_t body_len;
	ufs_http_read_fn read_fn;
	ufs_http_rewind_fn rewind_fn;
	void *read_arg;

	/* Response body of a 2xx answer: into out_buf (capacity out_cap; more
	 * than out_cap bytes -> -EIO), or appended to out_grow (more than out_max
	 * bytes -> -EIO, err_msg says so), or discarded
	 * when both are NULL. Error bodies never land here. */
	void *out_buf;
	size_t out_cap;
	struct ufs_strbuf *out_grow;
	size_t out_max; /* out_grow bound: more -> -EIO; 0 = UFS_HTTP_GROW_MAX */

	ufs_http_sign_fn sign; /* may be NULL (anonymous / SAS in URL) */
	void *sign_arg;

	const char *ca_file;   /* https only: explicit CA bundle, NULL = defaults */
	double timeout_s;      /* per-attempt overall bound (and connect bound when
				  shorter); 0 = from op_timeout */
	unsigned max_attempts; /* 0 = the default retry count; 1 = no retry */
};

/* What came back. Zero-initialise; free with ufs_http_resp_clear(). */
struct ufs_http_resp {
	long status;		   /* final HTTP status, 0 if no answer */
	uint64_t body_len;	   /* bytes delivered to out_buf / out_grow */
	int64_t content_length;	   /* Content-Length, -1 when absent */
	struct ufs_http_hdrs hdrs; /* every response header of the final answer */
	char err_code[64];	   /* server's <Code>, "" if none */
	char err_msg[256];	   /* server's <Message>, "" if none */
	unsigned attempts;	   /* attempts made (1 = no retry) */
};

/* Free what resp owns; resp is reusable afterwards. */
void ufs_http_resp_clear(struct ufs_http_resp *resp);

/*
 * Perform req (with retries, see the file comment) on this thread's handle.
 * Returns 0 on a 2xx answer with a complete body, else -errno:
 *   404 -ENOENT, 401/403 -EACCES, 409 -EEXIST, 412 -ESTALE, 416 -ERANGE,
 *   400 -EINVAL, other 4xx -EIO, 5xx/429/SlowDown after the retries -EIO,
 *   timeout -ETIMEDOUT, connection refused -ECONNREFUSED, unreachable host
 *   -EHOSTUNREACH, truncated/oversized body -EIO.
 * resp is filled in every case where an answer arrived. Counts the request,
 * its bytes, retries and errors on req->be; the server's message is kept with
 * ufs_be_set_error(). Thread-safe (each thread uses its own handle).
 */
int ufs_http_perform(struct ufs_http_req *req, struct ufs_http_resp *resp);

/* The CA bundle https requests trust: ca_file when readable, else
 * $AWS_CA_BUNDLE when readable, else NULL (the system's). */
const char *ufs_http_ca_file(const char *ca_file);

/* The single HTTP status -> errno map (0 for 2xx). */
int ufs_http_status_errno(long status);

/* Would this answer be retried? (5xx, 429, 408, S3 SlowDown/RequestTimeout) */
int ufs_http_status_retryable(long status, const char *err_code);

/*
 * Does a 2xx answer fit the request's range? range: the request's
 * "bytes=A-B" (NULL: not a range request -> 1). A 206 needs Content-Range
 * "bytes A-B" (decimal digits only) starting at A and covering body_len
 * bytes, at least one; a 200 (range ignored) is right only when A is 0.
 * 1 if it fits, 0 if not.
 */
int ufs_http_range_ok(const char *range, long status, const char *content_range, uint64_t body_len);

/*
 * Parse an XML error body "<Error><Code>C</Code><Message>M</Message>...":
 * copies C and M (truncated) into code/msg. 0, or -EIO if it is not one.
 */
int ufs_http_parse_error(const char *body, size_t len, char *code, size_t codelen, char *msg,
			 size_t msglen);

/*
 * Percent-encode s (len bytes) for a URL: RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - _ . ~) kept, '/' kept when keep_slash, every other byte as
 * %XX (upper-case hex). Returns a malloc'd string or NULL.
 */
char *ufs_uri_encode(const char *s, size_t len, int keep_slash);

/* Decode %XX sequences (and nothing else) of s into a malloc'd string; NULL
 * on ENOMEM or a malformed escape. */
char *ufs_uri_decode(const char *s, size_t len);

#endif

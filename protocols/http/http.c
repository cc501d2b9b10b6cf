/*
 * http.c — the shared libcurl transport; see http.h for the contract.
 *
 * Handles: one CURL easy handle per thread, created on first use and kept in
 * a pthread key (freed by the key's destructor when the thread exits). Each
 * request starts with curl_easy_reset(), which clears options but keeps the
 * handle's live connections, so keep-alive works across requests.
 *
 * One request = up to HTTP_MAX_ATTEMPTS attempts. An attempt: sign (fresh
 * date), set options, perform, classify. Retried: connection failures,
 * resets (on a new connection, even mid-body), 5xx/429/408 and throttling codes; not retried: any
 * other answer, a body we cannot resend, or when the retry deadline (op_timeout after the first
 * attempt) has passed. Between attempts: exponential backoff with jitter. The last attempt's
 * outcome is mapped to -errno in http_classify(): a timeout is -ETIMEDOUT (server unreachable:
 * backend.c marks the backend down) only when no answer had begun; a body that stalls or resets
 * after the status came is -EIO (that call fails, the backend stays up).
 *
 * Body routing: the write callback asks curl for the status of the answer
 * being received; a 2xx body goes to the caller (fixed buffer or growable),
 * any other body to a small private buffer parsed as an XML error.
 */
#include "protocols/http/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "protocols/xml.h"

#define HTTP_MAX_ATTEMPTS 6
#define HTTP_BACKOFF_BASE_MS 100.0
#define HTTP_BACKOFF_CAP_MS 2000.0
#define HTTP_ERRBODY_MAX (64 * 1024)
#define HTTP_DEFAULT_TIMEOUT 20.0

/* ---- header lists ---- */

int ufs_http_hdrs_add(struct ufs_http_hdrs *h, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int n;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 8;
		char **nl = realloc(h->line, cap * sizeof(*nl));

		if (!nl)
			return -ENOMEM;
		h->line = nl;
		h->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	h->line[h->n++] = line;
	return 0;
}

const char *ufs_http_hdrs_get(const struct ufs_http_hdrs *h, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < h->n; i++) {
		const char *l = h->line[i];

		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			l += nl + 1;
			while (*l == ' ' || *l == '\t')
				l++;
			return l;
		}
	}
	return NULL;
}

int ufs_http_hdrs_take_line(struct ufs_http_hdrs *h, const char *data, size_t n)
{
	size_t len = n;

	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new answer (after 100-continue, ...): forget older headers */
		ufs_http_hdrs_clear(h);
		return 0;
	}
	if (len > 0 && ufs_http_hdrs_add(h, "%.*s", (int)len, data) != 0)
		return -ENOMEM;
	return 0;
}

void ufs_http_hdrs_clear(struct ufs_http_hdrs *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->line[i]);
	free(h->line);
	h->line = NULL;
	h->n = h->cap = 0;
}

void ufs_http_resp_clear(struct ufs_http_resp *resp)
{
	ufs_http_hdrs_clear(&resp->hdrs);
	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
}

/* ---- URI encoding ---- */

static int uri_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

char *ufs_uri_encode(const char *s, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(len * 3 + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (uri_unreserved(c) || (keep_slash && c == '/')) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static int uri_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *ufs_uri_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= len || uri_hexval(s[i + 1]) < 0 || uri_hexval(s[i + 2]) < 0) {
			free(out);
			return NULL;
		}
		out[o++] = (char)(uri_hexval(s[i + 1]) * 16 + uri_hexval(s[i + 2]));
		i += 2;
	}
	out[o] = '\0';
	return out;
}

/* ---- status and error mapping (the one place) ---- */

int ufs_http_status_errno(long status)
{
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 400:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 408:
		return -ETIMEDOUT;
	case 409:
		return -EEXIST;
	case 412:
		return -ESTALE;
	case 416:
		return -ERANGE;
	default:
		return -EIO;
	}
}

int ufs_http_status_retryable(long status, const char *err_code)
{
	static const char *const codes[] = {"SlowDown",	     "RequestTimeout",
					    "InternalError", "ServiceUnavailable",
					    "ServerBusy",    "OperationTimedOut"};

	if (status >= 500 || status == 429 || status == 408)
		return 1;
	for (size_t i = 0; err_code && i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(err_code, codes[i]) == 0)
			return 1;
	return 0;
}

/* errno for a transfer that got no (complete) answer */
static int http_curl_errno(CURLcode cc, long os_errno)
{
	switch (cc) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_CONNECT:
		if (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH)
			return -EHOSTUNREACH;
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* CURLcodes worth another attempt (connection-level trouble) */
static int http_curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL: /* garbage where a status line should be */
		return 1;
	default:
		return 0;
	}
}

struct http_err_parse {
	char *code;
	size_t codelen;
	char *msg;
	size_t msglen;
	int seen;
};

static void http_copy_text(char *dst, size_t dstlen, const char *text, size_t len)
{
	if (dstlen == 0)
		return;
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, text, len);
	dst[len] = '\0';
}

static int http_err_on_end(void *arg, const char *path, const char *text, size_t len)
{
	struct http_err_parse *p = arg;

	if (strcmp(path, "Error/Code") == 0) {
		http_copy_text(p->code, p->codelen, text, len);
		p->seen = 1;
	} else if (strcmp(path, "Error/Message") == 0) {
		http_copy_text(p->msg, p->msglen, text, len);
	}
	return 0;
}

int ufs_http_parse_error(const char *body, size_t len, char *code, size_t codelen, char *msg,
			 size_t msglen)
{
	struct http_err_parse p = {code, codelen, msg, msglen, 0};
	char err[128];

	if (codelen)
		code[0] = '\0';
	if (msglen)
		msg[0] = '\0';
	if (!body || len == 0)
		return -EIO;
	if (ufs_xml_parse(body, len, NULL, http_err_on_end, &p, err, sizeof(err)) != 0 || !p.seen)
		return -EIO;
	return 0;
}

/* ---- per-thread handles ---- */

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static pthread_key_t http_key;
static int http_init_rc;

static void http_handle_free(void *h)
{
	curl_easy_cleanup(h);
}

static void http_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    pthread_key_create(&http_key, http_handle_free) != 0)
		http_init_rc = -ENOMEM;
}

/* This thread's handle, reset for a new request; NULL on ENOMEM. */
static CURL *http_handle(void)
{
	CURL *h;

	pthread_once(&http_once, http_global_init);
	if (http_init_rc)
		return NULL;
	h = pthread_getspecific(http_key);
	if (h) {
		curl_easy_reset(h);
		return h;
	}
	h = curl_easy_init();
	if (h && pthread_setspecific(http_key, h) != 0) {
		curl_easy_cleanup(h);
		h = NULL;
	}
	return h;
}

/* ---- one attempt ---- */

struct http_xfer {
	struct ufs_http_req *req;
	struct ufs_http_resp *resp;
	CURL *h;
	uint64_t sent;		   /* body bytes handed to curl (memory body) */
	struct ufs_strbuf errbody; /* body of a non-2xx answer */
	int overflow;		   /* the answer did not fit out_buf */
	int oom;
	int conn_failed; /* the last attempt's connection failed (reset, timeout...) */
};

/* Append to a growing body (common/strbuf.h); 0 or -ENOMEM. */
static int http_buf_append(struct ufs_strbuf *b, const char *data, size_t n)
{
	ufs_sb_append(b, data, n);
	return b->oom ? -ENOMEM : 0;
}

static long http_status_now(CURL *h)
{
	long status = 0;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static size_t http_grow_max(const struct ufs_http_req *req)
{
	return req->out_max ? req->out_max : UFS_HTTP_GROW_MAX;
}

static size_t http_on_body_ok(struct http_xfer *x, const char *data, size_t n)
{
	struct ufs_http_req *req = x->req;

	if (req->out_buf) {
		if (x->resp->body_len + n > req->out_cap) {
			x->overflow = 1;
			return 0;
		}
		memcpy((char *)req->out_buf + x->resp->body_len, data, n);
	} else if (req->out_grow) {
		if (x->resp->body_len + n > http_grow_max(req)) {
			x->overflow = 1;
			return 0;
		}
		if (http_buf_append(req->out_grow, data, n) != 0) {
			x->oom = 1;
			return 0;
		}
	}
	x->resp->body_len += n;
	return n;
}

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;
	long status = http_status_now(x->h);

	if (status >= 200 && status < 300)
		return http_on_body_ok(x, data, n);
	if (x->errbody.len + n <= HTTP_ERRBODY_MAX)
		http_buf_append(&x->errbody, data, n);
	return n;
}

static size_t http_on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;

	return ufs_http_hdrs_take_line(&x->resp->hdrs, data, n) == 0 ? n : 0;
}

static size_t http_on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	struct ufs_http_req *req = x->req;
	size_t n = size * nmemb;

	if (req->read_fn) {
		size_t got = req->read_fn(req->read_arg, buf, n);

		return got == (size_t)-1 ? CURL_READFUNC_ABORT : got;
	}
	if (n > req->body_len - x->sent)
		n = (size_t)(req->body_len - x->sent);
	memcpy(buf, (const char *)req->body + x->sent, n);
	x->sent += n;
	return n;
}

/* Restart the request body at 0 (curl asks on redirects/rewinds; we before retries). */
static int http_rewind_body(struct http_xfer *x)
{
	struct ufs_http_req *req = x->req;

	x->sent = 0;
	if (req->read_fn)
		return req->rewind_fn && req->rewind_fn(req->read_arg) == 0 ? 0 : -1;
	return 0;
}

static int http_on_seek(void *arg, curl_off_t off, int origin)
{
	struct http_xfer *x = arg;

	if (off != 0 || origin != SEEK_SET || http_rewind_body(x) != 0)
		return CURL_SEEKFUNC_CANTSEEK;
	return CURL_SEEKFUNC_OK;
}

static double http_op_timeout(const struct ufs_http_req *req)
{
	if (req->be && req->be->gcfg && req->be->gcfg->op_timeout > 0)
		return req->be->gcfg->op_timeout;
	return HTTP_DEFAULT_TIMEOUT;
}

static int http_is_loopback_url(const char *url)
{
	const char *p = strstr(url, "://");

	if (!p)
		return 0;
	p += 3;
	return strncmp(p, "127.", 4) == 0 || strncmp(p, "localhost", 9) == 0 ||
	       strncmp(p, "[::1]", 5) == 0;
}

const char *ufs_http_ca_file(const char *ca)
{
	if (!ca || access(ca, R_OK) != 0)
		ca = getenv("AWS_CA_BUNDLE");
	return ca && *ca && access(ca, R_OK) == 0 ? ca : NULL;
}

/* CA bundle: https only, see ufs_http_ca_file(). */
static void http_set_tls(CURL *h, const struct ufs_http_req *req)
{
	const char *ca = ufs_http_ca_file(req->ca_file);

	if (strncasecmp(req->url, "https://", 8) == 0 && ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
}

static void http_set_timeouts(CURL *h, const struct ufs_http_req *req)
{
	double op = http_op_timeout(req);
	double total = req->timeout_s > 0 ? req->timeout_s : op;
	long stall = (long)(op < 2 ? 2 : op);
	double conn = op < 10 ? op : 10;

	if (total < conn)
		conn = total;
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(conn * 1000));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(total * 1000));
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall);
}

static void http_set_method(CURL *h, struct http_xfer *x)
{
	struct ufs_http_req *req = x->req;
	int has_body = req->body || req->read_fn;

	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		return;
	}
	if (has_body || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, http_on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, http_on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "PUT") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
}

/* Build the header list of one attempt: caller's + sign hook's + "Expect:". */
static int http_build_headers(struct http_xfer *x, struct curl_slist **plist)
{
	struct ufs_http_req *req = x->req;
	struct ufs_http_hdrs auth = {0};
	struct curl_slist *list = NULL, *n;
	int rc = 0;

	if (req->sign)
		rc = req->sign(req->sign_arg, req, &auth);
	for (size_t i = 0; rc == 0 && i < req->headers.n + auth.n + 1; i++) {
		const char *l = i < req->headers.n	      ? req->headers.line[i]
				: i < req->headers.n + auth.n ? auth.line[i - req->headers.n]
							      : "Expect:";

		n = curl_slist_append(list, l);
		if (!n)
			rc = -ENOMEM;
		else
			list = n;
	}
	ufs_http_hdrs_clear(&auth);
	if (rc)
		curl_slist_free_all(list);
	else
		*plist = list;
	return rc;
}

static void http_setup(CURL *h, struct http_xfer *x, struct curl_slist *hdrs)
{
	struct ufs_http_req *req = x->req;

	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	if (http_is_loopback_url(req->url))
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	http_set_timeouts(h, req);
	http_set_tls(h, req);
	http_set_method(h, x);
}

/* Forget what an earlier attempt delivered. */
static void http_attempt_reset(struct http_xfer *x)
{
	struct ufs_http_resp *resp = x->resp;

	ufs_http_hdrs_clear(&resp->hdrs);
	resp->status = 0;
	resp->body_len = 0;
	resp->content_length = -1;
	resp->err_code[0] = resp->err_msg[0] = '\0';
	x->errbody.len = 0;
	x->overflow = x->oom = 0;
	if (x->req->out_grow)
		x->req->out_grow->len = 0;
}

/* Decimal digits at *pp (no sign, no blanks) into *pv, *pp moved past them;
 * 0, or -1 when there are none or the value overflows. */
static int http_parse_u64(const char **pp, uint64_t *pv)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*pp = p;
	*pv = v;
	return 0;
}

int ufs_http_range_ok(const char *range, long status, const char *content_range, uint64_t body_len)
{
	const char *p = range;
	uint64_t want, a, b;

	if (!range || strncmp(p, "bytes=", 6) != 0 || (p += 6, http_parse_u64(&p, &want)) != 0 ||
	    *p != '-')
		return 1; /* not a range request of ours */
	if (status != 206)
		return want == 0; /* 200: the whole object, right only from offset 0 */
	p = content_range;
	if (!p || strncmp(p, "bytes ", 6) != 0 || (p += 6, http_parse_u64(&p, &a)) != 0 ||
	    *p++ != '-' || http_parse_u64(&p, &b) != 0 || b < a)
		return 0;
	/* b - a + 1 would wrap for "bytes 0-18446744073709551615" */
	return a == want && body_len > 0 && b - a == body_len - 1;
}

/* The Range header the caller set (S3 "Range", Azure "x-ms-range"), or NULL. */
static const char *http_req_range(const struct ufs_http_req *req)
{
	const char *r = ufs_http_hdrs_get(&req->headers, "Range");

	return r ? r : ufs_http_hdrs_get(&req->headers, "x-ms-range");
}

/* A 2xx answer arrived: is the body complete? 0 or -EIO. */
static int http_check_length(struct http_xfer *x)
{
	struct ufs_http_resp *resp = x->resp;
	curl_off_t cl = -1;

	curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	resp->content_length = cl;
	if (strcmp(x->req->method, "HEAD") == 0)
		return 0;
	if (cl >= 0 && (uint64_t)cl != resp->body_len)
		return -EIO;
	if (!ufs_http_range_ok(http_req_range(x->req), resp->status,
			       ufs_http_hdrs_get(&resp->hdrs, "Content-Range"), resp->body_len)) {
		snprintf(resp->err_msg, sizeof(resp->err_msg),
			 "answer %ld with Content-Range '%s' does not match the request's '%s'",
			 resp->status, ufs_http_hdrs_get(&resp->hdrs, "Content-Range") ?: "",
			 http_req_range(x->req));
		return -EIO;
	}
	return 0;
}

/* Outcome of one attempt. *pretry: worth another attempt. Returns 0/-errno. */
static int http_classify(struct http_xfer *x, CURLcode cc, int *pretry)
{
	struct ufs_http_resp *resp = x->resp;
	long os_errno = 0;

	*pretry = 0;
	resp->status = http_status_now(x->h);
	if (cc == CURLE_WRITE_ERROR && (x->overflow || x->oom)) {
		if (x->overflow)
			snprintf(resp->err_msg, sizeof(resp->err_msg),
				 "answer body larger than %zu bytes",
				 x->req->out_grow ? http_grow_max(x->req) : x->req->out_cap);
		return x->oom ? -ENOMEM : -EIO;
	}
	x->conn_failed = cc != CURLE_OK;
	if (cc != CURLE_OK) {
		curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &os_errno);
		*pretry = http_curl_retryable(cc);
		if (cc == CURLE_OPERATION_TIMEDOUT && resp->status != 0) {
			/* the server answered, its body did not come in time: a slow
			 * transfer, not an unreachable server (-ETIMEDOUT would mark
			 * the whole backend down) */
			snprintf(resp->err_msg, sizeof(resp->err_msg),
				 "answer body not complete within the time allowed");
			return -EIO;
		}
		return http_curl_errno(cc, os_errno);
	}
	if (resp->status < 200 || resp->status >= 300) {
		ufs_http_parse_error(x->errbody.s, x->errbody.len, resp->err_code,
				     sizeof(resp->err_code), resp->err_msg, sizeof(resp->err_msg));
		*pretry = ufs_http_status_retryable(resp->status, resp->err_code);
		return ufs_http_status_errno(resp->status);
	}
	return http_check_length(x);
}

/* One attempt; fresh: open a new connection (the last one misbehaved). */
static int http_attempt(struct http_xfer *x, int fresh, int *pretry)
{
	struct curl_slist *hdrs = NULL;
	CURLcode cc;
	int rc;

	*pretry = 0;
	http_attempt_reset(x);
	rc = http_build_headers(x, &hdrs);
	if (rc)
		return rc;
	http_setup(x->h, x, hdrs);
	if (fresh)
		curl_easy_setopt(x->h, CURLOPT_FRESH_CONNECT, 1L);
	cc = curl_easy_perform(x->h);
	rc = http_classify(x, cc, pretry);
	curl_slist_free_all(hdrs);
	return rc;
}

/* ---- the retry loop ---- */

static double http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Backoff before attempt n (n >= 1): base*2^(n-1), capped, jittered to [50%,100%]. */
static double http_backoff_s(unsigned n)
{
	static _Thread_local unsigned seed;
	double ms = HTTP_BACKOFF_BASE_MS;

	if (!seed)
		seed = (unsigned)(http_now() * 1e6) ^ (unsigned)(uintptr_t)&seed;
	for (unsigned i = 1; i < n && ms < HTTP_BACKOFF_CAP_MS; i++)
		ms *= 2;
	if (ms > HTTP_BACKOFF_CAP_MS)
		ms = HTTP_BACKOFF_CAP_MS;
	ms *= 0.5 + 0.5 * (double)rand_r(&seed) / RAND_MAX;
	return ms / 1000.0;
}

static void http_sleep(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* URL without its query (which may hold a SAS token) for messages. */
static void http_url_for_log(const char *url, char *buf, size_t size)
{
	size_t n = strcspn(url, "?");

	snprintf(buf, size, "%.*s", (int)n, url);
}

static void http_record(struct ufs_http_req *req, struct ufs_http_resp *resp, int rc)
{
	char url[200];

	if (!req->be)
		return;
	ufs_be_count_code(req->be, req->kind, resp->status, resp->body_len,
			  rc == 0 ? req->body_len : 0);
	if (rc == 0 || rc == -ENOENT)
		return;
	ufs_be_count_error(req->be);
	http_url_for_log(req->url, url, sizeof(url));
	if (resp->status)
		ufs_be_set_error(req->be, "%s %s: HTTP %ld %s%s%s", req->method, url, resp->status,
				 resp->err_code, resp->err_code[0] ? ": " : "", resp->err_msg);
	else
		ufs_be_set_error(req->be, "%s %s: %s", req->method, url, strerror(-rc));
}

int ufs_http_perform(struct ufs_http_req *req, struct ufs_http_resp *resp)
{
	struct http_xfer x = {.req = req, .resp = resp};
	double deadline = http_now() + http_op_timeout(req);
	int rc, retry;

	resp->attempts = 0;
	x.h = http_handle();
	if (!x.h)
		return -ENOMEM;
	for (;;) {
		resp->attempts++;
		/* after a connection failure (a reset mid-body included, when the
		 * status had come) the retry opens a new connection */
		rc = http_attempt(&x, x.conn_failed || (resp->attempts > 1 && resp->status == 0),
				  &retry);
		if (!retry || resp->attempts >= HTTP_MAX_ATTEMPTS ||
		    (req->max_attempts && resp->attempts >= req->max_attempts))
			break;
		double wait = http_backoff_s(resp->attempts);

		if (http_now() + wait > deadline || http_rewind_body(&x) != 0)
			break;
		if (req->be)
			ufs_be_count_retry(req->be);
		ufs_debug("%s: retrying after %s (attempt %u)", req->be ? req->be->name : "http",
			  resp->status ? "server error" : strerror(-rc), resp->attempts + 1);
		http_sleep(wait);
	}
	http_record(req, resp, rc);
	free(x.errbody.s);
	return rc;
}

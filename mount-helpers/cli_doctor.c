/*
 * cli_doctor.c — `unifs doctor [--json] CONFIG`: health checks of every
 * mount of a config, without mounting, in the order a mount depends on
 * them:
 *
 *   config       the section parses and the backend can be created
 *   credentials  where they come from (environment, config, file, none)
 *   dns          the server's host name resolves
 *   tcp          a TCP connection opens (bounded by op_timeout)
 *   tls          the TLS handshake completes (https endpoints only)
 *   auth         the backend's own check: root exists, credentials work
 *   list         one listing of the root
 *   read         4 KiB of the first file of the root
 *   clock        skew against the server's Date header (SigV4 fails > 15 min)
 *
 * Each check is timed; a failed one gets a one-line hint and the checks that
 * depend on it are skipped. Every network step is bounded by op_timeout, so
 * a server that accepts connections and never answers costs at most a few
 * op_timeouts. Exit status 1 when any mount has a failed check.
 */
#include "mount-helpers/cli_i.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/strbuf.h"
#include "protocols/backend.h"
#include "protocols/http/http.h"
#include "protocols/objstore/objstore.h"

#define DOC_SKEW_MAX_S (15 * 60)
#define DOC_READ_LEN 4096
#define DOC_HINT_CREDS                                                                             \
	"see CREDENTIALS in unifs.conf(5): environment, profile, web identity, instance role"

enum doc_id {
	DOC_CONFIG,
	DOC_CREDS,
	DOC_DNS,
	DOC_TCP,
	DOC_TLS,
	DOC_AUTH,
	DOC_LIST,
	DOC_READ,
	DOC_CLOCK,
	DOC_N
};
enum doc_status { DOC_OK, DOC_FAIL, DOC_SKIP, DOC_NA };

static const char *const doc_names[DOC_N] = {"config", "credentials", "dns",  "tcp",  "tls",
					     "auth",   "list",	      "read", "clock"};
static const char *const doc_status_names[] = {"ok", "FAIL", "skip", "n/a"};

struct doc_check {
	enum doc_status st;
	double ms;
	char detail[320];
	const char *hint;
};

/* What one mount's checks need and find. */
struct doc_mount {
	const struct ufs_mount_cfg *m;
	const struct ufs_config *g;
	struct ufs_backend *be;
	struct ufs_be_desc desc; /* server (http(s) base URL, host, port), credentials */
	struct addrinfo *ai;
	char file[1024]; /* first file of the root, "" if none */
	int auth_rc;	 /* what the backend's check returned */
	struct doc_check c[DOC_N];
	int failed;
};

static void doc_usage(FILE *f)
{
	fputs("usage: unifs doctor [--json] CONFIG\n"
	      "\n"
	      "Check every mount of CONFIG without mounting it: config, credentials\n"
	      "source, DNS, TCP connect, TLS, auth, list of the root, one small read,\n"
	      "clock skew against the server. Prints a table with timings and a hint for\n"
	      "each failure (--json: one JSON object). Exit status 1 if any mount fails.\n",
	      f);
}

static void doc_set(struct doc_mount *d, enum doc_id id, enum doc_status st, double t0,
		    const char *hint, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void doc_set(struct doc_mount *d, enum doc_id id, enum doc_status st, double t0,
		    const char *hint, const char *fmt, ...)
{
	struct doc_check *c = &d->c[id];
	va_list ap;

	c->st = st;
	c->ms = t0 > 0 ? (ufs_mono_now() - t0) * 1000 : 0;
	c->hint = st == DOC_FAIL ? hint : NULL;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	if (st == DOC_FAIL)
		d->failed = 1;
}

/* ---- where the server is ---- */

/* The server of d's mount and its credential source, as its backend
 * describes them (endpoint, region, profile, environment: see doc_config,
 * which runs first). A scheme no backend serves describes nothing. */
static void doc_find_server(struct doc_mount *d)
{
	if (ufs_be_describe(d->m, d->be, &d->desc) != 0)
		d->desc.cred_unknown = 1;
}

/* ---- the checks ---- */

static void doc_config(struct doc_mount *d)
{
	double t0 = ufs_mono_now();
	char err[512] = "";
	int rc = ufs_backend_create(d->m, d->g, &d->be, err, sizeof(err));

	if (rc < 0)
		doc_set(d, DOC_CONFIG, DOC_FAIL, t0,
			strstr(err, "credentials") ? DOC_HINT_CREDS
						   : "fix the section's keys (see unifs.conf(5))",
			"%s", err[0] ? err : strerror(-rc));
	else
		doc_set(d, DOC_CONFIG, DOC_OK, t0, NULL, "%s", d->m->url);
}

/* The credential source the backend uses, its expiry and the region. */
static void doc_creds(struct doc_mount *d)
{
	double t0 = ufs_mono_now();

	if (d->desc.cred_na)
		doc_set(d, DOC_CREDS, DOC_NA, 0, NULL, "%s", d->desc.cred);
	else if (d->desc.cred_unknown)
		doc_set(d, DOC_CREDS, DOC_FAIL, t0, DOC_HINT_CREDS, "%s", d->c[DOC_CONFIG].detail);
	else
		doc_set(d, DOC_CREDS, DOC_OK, t0, NULL, "%s", d->desc.cred);
}

static void doc_dns(struct doc_mount *d)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	double t0 = ufs_mono_now();
	char addr[128] = "";
	int rc;

	if (!d->desc.host[0]) {
		doc_set(d, DOC_DNS, DOC_NA, 0, NULL, "no network server");
		return;
	}
	rc = getaddrinfo(d->desc.host, d->desc.port, &hints, &d->ai);
	if (rc != 0) {
		doc_set(d, DOC_DNS, DOC_FAIL, t0,
			"check the host name in url/endpoint and /etc/resolv.conf", "%s: %s",
			d->desc.host, gai_strerror(rc));
		return;
	}
	getnameinfo(d->ai->ai_addr, d->ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
	doc_set(d, DOC_DNS, DOC_OK, t0, NULL, "%s -> %s", d->desc.host, addr);
}

/* Connect to the first address, bounded by op_timeout. 0 or -errno. */
static int doc_connect(const struct addrinfo *ai, double timeout_s)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int rc = 0, e = 0;
	socklen_t len = sizeof(e);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		rc = -errno;
	else if (poll(&p, 1, (int)(timeout_s * 1000)) == 0)
		rc = -ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e)
		rc = -(e ? e : errno);
	close(fd);
	return rc;
}

static void doc_tcp(struct doc_mount *d)
{
	double t0 = ufs_mono_now();
	int rc;

	if (!d->ai) {
		doc_set(d, DOC_TCP, d->desc.host[0] ? DOC_SKIP : DOC_NA, 0, NULL, "%s",
			d->desc.host[0] ? "no address" : "no network server");
		return;
	}
	rc = doc_connect(d->ai, d->g->op_timeout);
	if (rc < 0)
		doc_set(d, DOC_TCP, DOC_FAIL, t0,
			"server down or firewalled: check host, port and that the service runs",
			"%s port %s: %s", d->desc.host, d->desc.port, strerror(-rc));
	else
		doc_set(d, DOC_TCP, DOC_OK, t0, NULL, "%s port %s", d->desc.host, d->desc.port);
}

/* libcurl header callback: keep the Date header's value. */
static size_t doc_header(char *buf, size_t size, size_t n, void *arg)
{
	char *date = arg;
	size_t len = size * n;

	if (len > 5 && strncasecmp(buf, "Date:", 5) == 0) {
		size_t vlen = len - 5;
		const char *v = buf + 5;

		while (vlen && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
			vlen--;
		snprintf(date, 64, "%.*s", (int)vlen, v);
	}
	return len;
}

/* One request to the server: connect_only (TLS handshake) or a HEAD of the
 * root (Date header into date). CURLE_* code; message in err. */
static CURLcode doc_curl(struct doc_mount *d, int connect_only, char date[64], char *err)
{
	CURL *h = curl_easy_init();
	CURLcode rc;

	if (!h)
		return CURLE_OUT_OF_MEMORY;
	err[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, d->desc.server);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(d->g->op_timeout * 1000));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	if (ufs_http_ca_file(NULL)) /* the backends' CA bundle */
		curl_easy_setopt(h, CURLOPT_CAINFO, ufs_http_ca_file(NULL));
	if (connect_only) {
		curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, doc_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, date);
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK && !err[0])
		snprintf(err, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
	curl_easy_cleanup(h);
	return rc;
}

static void doc_tls(struct doc_mount *d)
{
	char err[CURL_ERROR_SIZE], date[64] = "";
	double t0 = ufs_mono_now();

	if (!d->desc.tls) {
		doc_set(d, DOC_TLS, DOC_NA, 0, NULL, "%s",
			d->desc.server[0] ? "plain http" : "not an https server");
		return;
	}
	if (d->c[DOC_TCP].st != DOC_OK) {
		doc_set(d, DOC_TLS, DOC_SKIP, 0, NULL, "no connection");
		return;
	}
	if (doc_curl(d, 1, date, err) != CURLE_OK)
		doc_set(d, DOC_TLS, DOC_FAIL, t0,
			"check the certificate (CA bundle, host name) and the endpoint's scheme",
			"%s", err);
	else
		doc_set(d, DOC_TLS, DOC_OK, t0, NULL, "handshake done");
}

static const char *doc_auth_hint(int rc)
{
	if (rc == -EACCES || rc == -EPERM)
		return "credentials refused: check the keys, their permissions and the clock";
	if (rc == -ENOENT)
		return "the bucket, container, export or prefix in url does not exist";
	if (ufs_errno_is_unreachable(rc))
		return "the server did not answer within op_timeout: is it the right service "
		       "and port?";
	return "see the server's message; unifs.conf(5) lists the keys";
}

static void doc_auth(struct doc_mount *d)
{
	char err[512] = "";
	double t0 = ufs_mono_now();
	int rc;

	if (!d->be || (d->desc.host[0] && d->c[DOC_TCP].st != DOC_OK) ||
	    d->c[DOC_TLS].st == DOC_FAIL) {
		doc_set(d, DOC_AUTH, DOC_SKIP, 0, NULL, "an earlier check failed");
		return;
	}
	rc = ufs_be_check(d->be, err, sizeof(err));
	d->auth_rc = rc;
	if (rc < 0)
		doc_set(d, DOC_AUTH, DOC_FAIL, t0, doc_auth_hint(rc), "%s",
			err[0] ? err : strerror(-rc));
	else
		doc_set(d, DOC_AUTH, DOC_OK, t0, NULL, "root exists, access granted");
}

struct doc_list {
	struct doc_mount *d;
	unsigned n;
};

static int doc_list_cb(void *arg, const char *name, const struct ufs_attr *attr)
{
	struct doc_list *l = arg;

	l->n++;
	if (!l->d->file[0] && (attr->mode == 0 || S_ISREG(attr->mode)))
		snprintf(l->d->file, sizeof(l->d->file), "%s", name);
	return l->n >= 1000; /* enough to know listing works */
}

static void doc_list(struct doc_mount *d)
{
	struct doc_list l = {d, 0};
	double t0 = ufs_mono_now();
	int rc;

	if (d->c[DOC_AUTH].st != DOC_OK) {
		doc_set(d, DOC_LIST, DOC_SKIP, 0, NULL, "auth failed");
		return;
	}
	rc = ufs_be_list(d->be, "", doc_list_cb, &l);
	if (rc < 0)
		doc_set(d, DOC_LIST, DOC_FAIL, t0, doc_auth_hint(rc), "%s", strerror(-rc));
	else
		doc_set(d, DOC_LIST, DOC_OK, t0, NULL, "%u entr%s%s", l.n, l.n == 1 ? "y" : "ies",
			l.n >= 1000 ? " or more" : "");
}

static void doc_read(struct doc_mount *d)
{
	struct ufs_attr a;
	char buf[DOC_READ_LEN];
	double t0 = ufs_mono_now();
	ssize_t n;
	int rc;

	if (d->c[DOC_LIST].st != DOC_OK || !d->file[0]) {
		doc_set(d, DOC_READ, DOC_SKIP, 0, NULL, "%s",
			d->c[DOC_LIST].st != DOC_OK ? "list failed" : "no file in the root");
		return;
	}
	rc = ufs_be_getattr(d->be, d->file, &a);
	if (rc == 0 && !S_ISREG(a.mode)) {
		doc_set(d, DOC_READ, DOC_SKIP, 0, NULL, "no file in the root");
		return;
	}
	n = rc;
	if (rc == 0) {
		struct ufs_obj o = {.path = d->file, .size = a.size, .mtime = a.mtime};

		memcpy(o.etag, a.etag, sizeof(o.etag));
		n = ufs_be_read(d->be, &o, 0, a.size < sizeof(buf) ? a.size : sizeof(buf), buf);
	}
	if (n < 0)
		doc_set(d, DOC_READ, DOC_FAIL, t0, doc_auth_hint((int)n), "%s: %s", d->file,
			strerror((int)-n));
	else
		doc_set(d, DOC_READ, DOC_OK, t0, NULL, "%zd bytes of %s", n, d->file);
}

static void doc_clock(struct doc_mount *d)
{
	char err[CURL_ERROR_SIZE], date[64] = "";
	struct timespec srv;
	double t0 = ufs_mono_now(), skew;

	if (!d->desc.server[0]) {
		doc_set(d, DOC_CLOCK, DOC_NA, 0, NULL, "no HTTP server");
		return;
	}
	if (d->c[DOC_TCP].st != DOC_OK || ufs_errno_is_unreachable(d->auth_rc)) {
		doc_set(d, DOC_CLOCK, DOC_SKIP, 0, NULL, "server not answering");
		return;
	}
	doc_curl(d, 0, date, err);
	if (!date[0] || ufs_os_parse_http_date(date, &srv) != 0) {
		doc_set(d, DOC_CLOCK, DOC_SKIP, t0, NULL, "no Date header from the server");
		return;
	}
	skew = difftime(time(NULL), srv.tv_sec);
	if (skew > DOC_SKEW_MAX_S || skew < -DOC_SKEW_MAX_S)
		doc_set(d, DOC_CLOCK, DOC_FAIL, t0,
			"sync the clock (chrony/systemd-timesyncd): signatures fail past 15 min",
			"local clock %+.0f s off the server's", skew);
	else
		doc_set(d, DOC_CLOCK, DOC_OK, t0, NULL, "skew %+.0f s", skew);
}

static void doc_run(struct doc_mount *d)
{
	doc_config(d);
	doc_find_server(d);
	doc_creds(d);
	doc_dns(d);
	doc_tcp(d);
	doc_tls(d);
	doc_auth(d);
	doc_list(d);
	doc_read(d);
	doc_clock(d);
	if (d->ai)
		freeaddrinfo(d->ai);
	ufs_backend_destroy(d->be);
}

/* ---- output ---- */

static void doc_print_text(const struct doc_mount *d, size_t n)
{
	printf("%-16s %-12s %-5s %9s  %s\n", "MOUNT", "CHECK", "RESULT", "TIME(ms)", "DETAIL");
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < DOC_N; k++) {
			const struct doc_check *c = &d[i].c[k];

			printf("%-16s %-12s %-5s %9.1f  %s\n", k ? "" : d[i].m->prefix,
			       doc_names[k], doc_status_names[c->st], c->ms, c->detail);
			if (c->hint)
				printf("%-16s %-12s %-5s %9s  hint: %s\n", "", "", "", "", c->hint);
		}
	}
}

static void doc_print_json(const struct doc_mount *d, size_t n, int failed)
{
	struct ufs_strbuf b = {0};
	char *s;

	ufs_sb_printf(&b, "{\"ok\":%s,\"mounts\":[", failed ? "false" : "true");
	for (size_t i = 0; i < n; i++) {
		ufs_sb_printf(&b, "%s{\"mount\":", i ? "," : "");
		ufs_sb_json_str(&b, d[i].m->prefix);
		ufs_sb_printf(&b, ",\"url\":");
		ufs_sb_json_str(&b, d[i].m->url);
		ufs_sb_printf(&b, ",\"ok\":%s,\"checks\":[", d[i].failed ? "false" : "true");
		for (int k = 0; k < DOC_N; k++) {
			const struct doc_check *c = &d[i].c[k];

			ufs_sb_printf(&b, "%s{\"name\":\"%s\",\"result\":\"%s\",\"ms\":%.1f,",
				      k ? "," : "", doc_names[k], doc_status_names[c->st], c->ms);
			ufs_sb_printf(&b, "\"detail\":");
			ufs_sb_json_str(&b, c->detail);
			ufs_sb_printf(&b, ",\"hint\":");
			ufs_sb_json_str(&b, c->hint ? c->hint : "");
			ufs_sb_printf(&b, "}");
		}
		ufs_sb_printf(&b, "]}");
	}
	ufs_sb_printf(&b, "]}\n");
	s = ufs_sb_take(&b);
	if (s)
		fputs(s, stdout);
	free(s);
}

int cli_doctor_main(int argc, char **argv)
{
	struct ufs_config *cfg = NULL;
	struct doc_mount *d;
	const char *src = NULL;
	char err[CLI_ERR_MAX];
	int json = 0, failed = 0, rc;

	if (cli_wants_help(argc, argv)) {
		doc_usage(stdout);
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			json = 1;
		else if (src || argv[i][0] == '-')
			return doc_usage(stderr), CLI_USAGE;
		else
			src = argv[i];
	}
	if (!src)
		return doc_usage(stderr), CLI_USAGE;
	ufs_log_init(0, UFS_LOG_ERROR);
	rc = ufs_be_config_open(src, &cfg, err, sizeof(err));
	if (rc < 0) {
		cli_error("doctor", "config: %s", err);
		return CLI_FAIL;
	}
	d = calloc(cfg->n_mounts ? cfg->n_mounts : 1, sizeof(*d));
	if (!d) {
		ufs_config_destroy(cfg);
		cli_error("doctor", "out of memory");
		return CLI_FAIL;
	}
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		d[i].m = &cfg->mounts[i];
		d[i].g = cfg;
		doc_run(&d[i]);
		failed += d[i].failed;
	}
	if (json)
		doc_print_json(d, cfg->n_mounts, failed);
	else
		doc_print_text(d, cfg->n_mounts);
	if (!json)
		printf("doctor: %zu mount%s checked, %d failed\n", cfg->n_mounts,
		       cfg->n_mounts == 1 ? "" : "s", failed);
	free(d);
	ufs_config_destroy(cfg);
	return failed ? CLI_FAIL : CLI_OK;
}

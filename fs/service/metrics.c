/*
 * metrics.c — the Prometheus endpoint of a mount: `metrics = HOST:PORT`
 * ([global] or -o metrics=...) serves GET /metrics in the text exposition
 * format (0.0.4) with libmicrohttpd, one internal thread.
 *
 * The numbers are the counters `unifs stats` prints (ctl.c): backend
 * request counters and histograms (protocols/backend.c), the counters of
 * the field table (stats_fields.c: block and metadata cache, memory
 * budget), FUSE requests by type (fuse_stats.c); nothing is counted twice. Labels: mount = the
 * namespace prefix of the backend ("/ckpt"), op, code, tier.
 *
 * The listening socket is bound here (not by the library) so an address in
 * use gives a warning that names it, and the mount goes on without metrics.
 * fs_metrics_stop() runs before any counter's owner is freed; it joins the
 * server thread, which finishes a scrape in progress first, so a scrape
 * during unmount either completes or is refused, never reads freed state.
 */
#include "fs/inode/inode.h"
#include "fs/service/service_i.h"
#include "fs/service/stats_fields.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "protocols/credsrc.h"

#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

struct fs_metrics {
	struct MHD_Daemon *d; /* owns the listening socket once started */
};

#define M_U64(x) ((unsigned long long)(x))

/* One counter/gauge sample per backend of a per-backend value. */
static void metrics_be_family(struct ufs_strbuf *b, struct ufs_fs *fs, const char *name,
			      const char *type, const char *help,
			      unsigned long long (*get)(struct ufs_backend *))
{
	ufs_prom_family(b, name, type, help);
	for (size_t i = 0; i < fs->n_be; i++) {
		ufs_sb_printf(b, "%s{mount=", name);
		ufs_prom_label(b, fs->cfg->mounts[i].prefix);
		ufs_sb_printf(b, "} %llu\n", get(fs->be[i]));
	}
}

static unsigned long long m_bytes_in(struct ufs_backend *be)
{
	return M_U64(atomic_load(&be->stats.bytes_in));
}

static unsigned long long m_bytes_out(struct ufs_backend *be)
{
	return M_U64(atomic_load(&be->stats.bytes_out));
}

static unsigned long long m_errors(struct ufs_backend *be)
{
	return M_U64(atomic_load(&be->stats.errors));
}

static unsigned long long m_retries(struct ufs_backend *be)
{
	return M_U64(atomic_load(&be->stats.retries));
}

/* Seconds until the backend's credentials expire; 0 when they never do or
 * have expired. */
static unsigned long long m_cred_ttl(struct ufs_backend *be)
{
	struct ufs_credsrc_info ci;
	time_t now = time(NULL);

	ufs_credsrc_info(be->cred, &ci);
	return ci.expires > now ? M_U64(ci.expires - now) : 0;
}

static unsigned long long m_cred_failures(struct ufs_backend *be)
{
	struct ufs_credsrc_info ci;

	ufs_credsrc_info(be->cred, &ci);
	return M_U64(ci.refresh_failures);
}

static unsigned long long m_up(struct ufs_backend *be)
{
	int down;

	pthread_mutex_lock(&be->lock);
	down = be->down;
	pthread_mutex_unlock(&be->lock);
	return !down;
}

/* unifs_backend_requests_total{mount,op,code}: the non-zero slots. */
static void metrics_requests(struct ufs_strbuf *b, struct ufs_fs *fs)
{
	ufs_prom_family(b, "unifs_backend_requests_total", "counter",
			"Requests sent to the backend by operation and status code "
			"(code 0: no protocol status).");
	for (size_t i = 0; i < fs->n_be; i++) {
		for (int k = 0; k < UFS_REQ__COUNT; k++) {
			for (int c = 0; c < UFS_BE_NCODES; c++) {
				uint64_t n = atomic_load_explicit(&fs->be[i]->stats.by_code[k][c],
								  memory_order_relaxed);

				if (!n)
					continue;
				ufs_sb_printf(b, "unifs_backend_requests_total{mount=");
				ufs_prom_label(b, fs->cfg->mounts[i].prefix);
				if (c == UFS_BE_CODE_OTHER)
					ufs_sb_printf(b, ",op=\"%s\",code=\"other\"} %llu\n",
						      ufs_req_kind_name(k), M_U64(n));
				else
					ufs_sb_printf(b, ",op=\"%s\",code=\"%d\"} %llu\n",
						      ufs_req_kind_name(k), c, M_U64(n));
			}
		}
	}
}

/* Latency histograms and error counts of the backend calls. */
static void metrics_be_ops(struct ufs_strbuf *b, struct ufs_fs *fs)
{
	struct ufs_strbuf l = {0};

	ufs_prom_family(b, "unifs_backend_operation_duration_seconds", "histogram",
			"Time of one backend call (read, getattr, list, ...) including retries.");
	for (size_t i = 0; i < fs->n_be; i++) {
		for (int o = 0; o < UFS_BE_OP__COUNT; o++) {
			const struct ufs_hist *h = &fs->be[i]->stats.op_seconds[o];

			if (!ufs_hist_count(h))
				continue; /* never called: keep the page small */
			l.len = 0;
			ufs_sb_printf(&l, "mount=");
			ufs_prom_label(&l, fs->cfg->mounts[i].prefix);
			ufs_sb_printf(&l, ",op=\"%s\"", ufs_be_op_name(o));
			if (!l.oom)
				ufs_prom_hist(b, "unifs_backend_operation_duration_seconds", l.s,
					      h);
		}
	}
	ufs_prom_family(b, "unifs_backend_operation_errors_total", "counter",
			"Backend calls that failed, by operation.");
	for (size_t i = 0; i < fs->n_be; i++) {
		for (int o = 0; o < UFS_BE_OP__COUNT; o++) {
			ufs_sb_printf(b, "unifs_backend_operation_errors_total{mount=");
			ufs_prom_label(b, fs->cfg->mounts[i].prefix);
			ufs_sb_printf(b, ",op=\"%s\"} %llu\n", ufs_be_op_name(o),
				      M_U64(atomic_load(&fs->be[i]->stats.op_errors[o])));
		}
	}
	free(ufs_sb_take(&l));
}

static void metrics_backends(struct ufs_strbuf *b, struct ufs_fs *fs)
{
	metrics_be_family(b, fs, "unifs_backend_up", "gauge",
			  "1 while the backend's server answers, 0 while it is marked down.", m_up);
	metrics_requests(b, fs);
	metrics_be_family(b, fs, "unifs_backend_received_bytes_total", "counter",
			  "Payload bytes received from the backend.", m_bytes_in);
	metrics_be_family(b, fs, "unifs_backend_sent_bytes_total", "counter",
			  "Payload bytes sent to the backend.", m_bytes_out);
	metrics_be_family(b, fs, "unifs_backend_errors_total", "counter",
			  "Requests that failed after their retries.", m_errors);
	metrics_be_family(b, fs, "unifs_backend_credentials_expiry_seconds", "gauge",
			  "Seconds until the backend's temporary credentials expire (0: they do "
			  "not expire, or already have).",
			  m_cred_ttl);
	metrics_be_family(b, fs, "unifs_backend_credentials_refresh_failures_total", "counter",
			  "Failed attempts to renew the backend's temporary credentials.",
			  m_cred_failures);
	metrics_be_family(b, fs, "unifs_backend_retries_total", "counter",
			  "Requests retried after a server error or a dropped connection.",
			  m_retries);
	metrics_be_ops(b, fs);
}

static void metrics_sample(struct ufs_strbuf *b, const char *name, const char *type,
			   const char *help, unsigned long long v)
{
	ufs_prom_family(b, name, type, help);
	ufs_sb_printf(b, "%s %llu\n", name, v);
}

/* The families of the field table (cache, memory budget, metadata cache),
 * in table order; the rows of a labelled family stand together. */
static void metrics_table(struct ufs_strbuf *b, struct ufs_fs *fs)
{
	struct fs_stat_snap st;
	const char *family = "";

	fs_stat_read(fs, &st);
	for (size_t i = 0; i < fs_stat_nfields; i++) {
		const struct fs_stat_field *f = &fs_stat_fields[i];

		if (!f->prom)
			continue;
		if (strcmp(f->prom, family) != 0)
			ufs_prom_family(b, f->prom, fs_stat_type_name(f->type), f->help);
		family = f->prom;
		if (f->label)
			ufs_sb_printf(b, "%s{%s} %llu\n", f->prom, f->label,
				      M_U64(fs_stat_value(&st, f)));
		else
			ufs_sb_printf(b, "%s %llu\n", f->prom, M_U64(fs_stat_value(&st, f)));
	}
}

static void metrics_fuse(struct ufs_strbuf *b, struct ufs_fs *fs)
{
	struct fs_fstats *st = fs->fstats;
	char l[64];

	metrics_sample(b, "unifs_inodes", "gauge", "Inodes the kernel knows.",
		       ufs_itab_count(fs->itab));
	if (!st)
		return;
	metrics_sample(b, "unifs_open_files", "gauge", "Files and directories open now.",
		       (unsigned long long)atomic_load(&st->open_handles));
	ufs_prom_family(b, "unifs_fuse_requests_total", "counter", "FUSE requests by type.");
	for (int o = 0; o < FS_FOP__COUNT; o++)
		ufs_sb_printf(b, "unifs_fuse_requests_total{op=\"%s\"} %llu\n", fs_fop_name(o),
			      M_U64(atomic_load(&st->n[o])));
	ufs_prom_family(b, "unifs_fuse_request_duration_seconds", "histogram",
			"Time to answer one FUSE request, by type.");
	for (int o = 0; o < FS_FOP__COUNT; o++) {
		if (!atomic_load(&st->n[o]))
			continue;
		snprintf(l, sizeof(l), "op=\"%s\"", fs_fop_name(o));
		ufs_prom_hist(b, "unifs_fuse_request_duration_seconds", l, &st->seconds[o]);
	}
}

char *fs_metrics_format(struct ufs_fs *fs)
{
	struct ufs_strbuf b = {0};
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ufs_prom_family(&b, "unifs_start_time_seconds", "gauge",
			"Unix time the daemon of this mount started.");
	ufs_sb_printf(&b, "unifs_start_time_seconds %lld\n", (long long)fs->started.tv_sec);
	metrics_backends(&b, fs);
	metrics_table(&b, fs);
	metrics_fuse(&b, fs);
	return ufs_sb_take(&b);
}

static enum MHD_Result metrics_reply(struct MHD_Connection *c, unsigned status, char *body,
				     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, mode);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? METRICS_CTYPE : "text/plain");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result metrics_handle(void *cls, struct MHD_Connection *c, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	char *body;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return metrics_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n",
				     MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return metrics_reply(c, MHD_HTTP_NOT_FOUND, "unifs: metrics are at /metrics\n",
				     MHD_RESPMEM_PERSISTENT);
	body = fs_metrics_format(cls);
	if (!body)
		return metrics_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n",
				     MHD_RESPMEM_PERSISTENT);
	return metrics_reply(c, MHD_HTTP_OK, body, MHD_RESPMEM_MUST_FREE);
}

/* A listening TCP socket on addr, or -errno. */
static int metrics_listen(const struct sockaddr_in *sa)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(fd, 64) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int fs_metrics_start(struct ufs_fs *fs, char *why, size_t whylen)
{
	struct sockaddr_in sa;
	int fd;

	if (!fs->cfg->metrics || ufs_metrics_parse_addr(fs->cfg->metrics, &sa, why, whylen))
		return 0; /* off (the address was validated with the config) */
	fd = metrics_listen(&sa);
	if (fd < 0) {
		snprintf(why, whylen,
			 "metrics: cannot listen on %s (port %u): %s; %s is mounted without "
			 "metrics",
			 fs->cfg->metrics, ntohs(sa.sin_port), strerror(-fd), fs->mountpoint);
		return fd;
	}
	fs->metrics = calloc(1, sizeof(*fs->metrics));
	if (fs->metrics)
		fs->metrics->d = MHD_start_daemon(
		    MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, metrics_handle, fs,
		    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
	if (!fs->metrics || !fs->metrics->d) {
		snprintf(why, whylen,
			 "metrics: cannot start the HTTP server on %s; %s is mounted without "
			 "metrics",
			 fs->cfg->metrics, fs->mountpoint);
		close(fd);
		free(fs->metrics);
		fs->metrics = NULL;
		return -EIO;
	}
	ufs_info("metrics: serving http://%s/metrics for %s", fs->cfg->metrics, fs->mountpoint);
	return 0;
}

void fs_metrics_stop(struct ufs_fs *fs)
{
	if (!fs->metrics)
		return;
	MHD_stop_daemon(fs->metrics->d);
	free(fs->metrics);
	fs->metrics = NULL;
}

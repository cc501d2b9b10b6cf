/*
 * ctl.c — the control socket of a mount: a Unix stream socket at
 * ufs_ctl_socket_path(mountpoint, the daemon's uid) served by one thread.
 *
 * Who may use it: whoever may use the mount. With allow_other on a root
 * mount the socket is 0666 and any local user gets the stats; otherwise
 * (and always on a user's own mount) it is 0600, the owner's. Changing the
 * log level is the owner's (or root's) alone, checked with SO_PEERCRED.
 *
 * The socket lives in the daemon's socket directory: /run/unifs for root,
 * the user's own for a user mount (see fs/sockdir.c for which and who may
 * reach it).
 *
 * Protocol: the client sends one line, the server answers and closes.
 *   "stats\n"      -> a human-readable table
 *   "stats json\n" -> one JSON object (see fs_stats_format)
 *   "log LEVEL\n"  -> set the daemon's log level (error|warn|info|debug);
 *                     answers "log LEVEL (was OLD)" or "error: ..."
 * Anything else gets "error: unknown request\n".
 *
 * The thread polls the listening socket and a stop pipe; fs_ctl_stop()
 * writes the pipe, joins the thread and unlinks the socket. Each client gets
 * a 2 s receive timeout, so a silent client cannot block the server long.
 */
#include "fs/fs.h"
#include "fs/inode/inode.h"
#include "fs/service/service_i.h"
#include "fs/service/stats_fields.h"
#include "fs/sockdir.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
/* sanitizer/allocator_interface.h, which Debian's gcc does not ship */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "common/log.h"
#include "common/strbuf.h"
#include "protocols/credsrc.h"

struct ufs_ctl {
	int lfd;
	int stop[2];
	pthread_t thread;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Health of be as "up"/"down" and its last error. */
static const char *ctl_state(struct ufs_backend *be, char *err, size_t errlen)
{
	int down;

	pthread_mutex_lock(&be->lock);
	down = be->down;
	pthread_mutex_unlock(&be->lock);
	ufs_be_last_error(be, err, errlen);
	return down ? "down" : "up";
}

#define CTL_U64(x) ((unsigned long long)(x))

/* ,"credentials":{source, expires_in (s, -1: never), refreshes, failures,
 * last error} of a backend that signs with a credential source. */
static void ctl_json_cred(struct ufs_strbuf *b, struct ufs_backend *be)
{
	struct ufs_credsrc_info ci;

	if (!be->cred)
		return;
	ufs_credsrc_info(be->cred, &ci);
	ufs_sb_printf(b, ",\"credentials\":{\"source\":");
	ufs_sb_json_str(b, ci.source);
	ufs_sb_printf(b, ",\"expires_in\":%lld,\"refreshes\":%llu,\"refresh_failures\":%llu",
		      ci.expires ? (long long)(ci.expires - time(NULL)) : -1LL,
		      CTL_U64(ci.refreshes), CTL_U64(ci.refresh_failures));
	ufs_sb_printf(b, ",\"last_error\":");
	ufs_sb_json_str(b, ci.last_error);
	ufs_sb_printf(b, "}");
}

/* "  credentials: SOURCE, expire in N s, ..." of a backend with a source. */
static void ctl_text_cred(struct ufs_strbuf *b, struct ufs_backend *be)
{
	struct ufs_credsrc_info ci;

	if (!be->cred)
		return;
	ufs_credsrc_info(be->cred, &ci);
	ufs_sb_printf(b, "  credentials: %s", ci.source);
	if (ci.expires)
		ufs_sb_printf(b, ", expire in %lld s", (long long)(ci.expires - time(NULL)));
	ufs_sb_printf(b, ", refreshes %llu, refresh failures %llu\n", CTL_U64(ci.refreshes),
		      CTL_U64(ci.refresh_failures));
	if (ci.last_error[0])
		ufs_sb_printf(b, "  credentials last error: %s\n", ci.last_error);
}

static void ctl_json_backend(struct ufs_strbuf *b, struct ufs_fs *fs, size_t i)
{
	struct ufs_backend *be = fs->be[i];
	char err[256];
	const char *state = ctl_state(be, err, sizeof(err));
	uint64_t served;
	int stale;

	ufs_sb_printf(b, "%s{\"mount\":", i ? "," : "");
	ufs_sb_json_str(b, fs->cfg->mounts[i].prefix);
	ufs_sb_printf(b, ",\"url\":");
	ufs_sb_json_str(b, fs->cfg->mounts[i].url);
	ufs_sb_printf(b, ",\"state\":\"%s\",\"requests\":{", state);
	for (int k = 0; k < UFS_REQ__COUNT; k++)
		ufs_sb_printf(b, "%s\"%s\":%llu", k ? "," : "", ufs_req_kind_name(k),
			      CTL_U64(atomic_load(&be->stats.req[k])));
	ufs_sb_printf(
	    b, "},\"bytes_in\":%llu,\"bytes_out\":%llu,\"errors\":%llu,\"retries\":%llu",
	    CTL_U64(atomic_load(&be->stats.bytes_in)), CTL_U64(atomic_load(&be->stats.bytes_out)),
	    CTL_U64(atomic_load(&be->stats.errors)), CTL_U64(atomic_load(&be->stats.retries)));
	ufs_sb_printf(b, ",\"last_error\":");
	ufs_sb_json_str(b, err);
	stale = fs_offline_stale(fs, i, &served);
	ufs_sb_printf(b, ",\"stale\":%s,\"stale_answers\":%llu", stale ? "true" : "false",
		      CTL_U64(served));
	ctl_json_cred(b, be);
	ufs_sb_printf(b, "}");
}

/* The daemon's CPU seconds so far (user, system) and bytes delivered to
 * readers: together, the client CPU cost per GiB read. */
struct ctl_cpu {
	double user_s, sys_s;
	unsigned long long read_bytes;
};

static struct ctl_cpu ctl_cpu_now(struct ufs_fs *fs)
{
	struct rusage ru;
	struct ctl_cpu c = {0};

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		c.user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
		c.sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	}
	c.read_bytes = CTL_U64(atomic_load(&fs->read_bytes));
	return c;
}

/* CPU seconds per GiB delivered (0 before any byte). */
static double ctl_cpu_per_gib(const struct ctl_cpu *c)
{
	return c->read_bytes ? (c->user_s + c->sys_s) * (1024.0 * 1024 * 1024) / c->read_bytes
			     : 0.0;
}

/* FUSE requests by type (fuse_stats.c), open files, inodes. */
static void ctl_json_fuse(struct ufs_strbuf *b, struct ufs_fs *fs)
{
	struct fs_fstats *st = fs->fstats;

	ufs_sb_printf(b, "{\"inodes\":%llu", CTL_U64(ufs_itab_count(fs->itab)));
	if (st) {
		ufs_sb_printf(b, ",\"open_files\":%lld,\"requests\":{",
			      (long long)atomic_load(&st->open_handles));
		for (int o = 0; o < FS_FOP__COUNT; o++)
			ufs_sb_printf(b, "%s\"%s\":%llu", o ? "," : "", fs_fop_name(o),
				      CTL_U64(atomic_load(&st->n[o])));
		ufs_sb_printf(b, "}");
	}
	ufs_sb_printf(b, "}");
}

static void ctl_text_fuse(struct ufs_strbuf *b, struct ufs_fs *fs)
{
	struct fs_fstats *st = fs->fstats;

	ufs_sb_printf(b, "fuse\n  inodes %llu", CTL_U64(ufs_itab_count(fs->itab)));
	if (st) {
		ufs_sb_printf(
		    b, ", open files %lld\n  requests:", (long long)atomic_load(&st->open_handles));
		for (int o = 0; o < FS_FOP__COUNT; o++) {
			uint64_t n = atomic_load(&st->n[o]);

			if (n)
				ufs_sb_printf(b, " %s=%llu", fs_fop_name(o), CTL_U64(n));
		}
	}
	ufs_sb_printf(b, "\n");
}

/* "TITLE":{"key":value,...} of section sec of the field table. */
static void ctl_json_section(struct ufs_strbuf *b, const char *title, const struct fs_stat_snap *s,
			     enum fs_stat_section sec)
{
	const char *sep = "";

	ufs_sb_printf(b, "\"%s\":{", title);
	for (const struct fs_stat_field *f = fs_stat_next(sec, NULL); f; f = fs_stat_next(sec, f)) {
		ufs_sb_printf(b, "%s\"%s\":%llu", sep, f->name, CTL_U64(fs_stat_value(s, f)));
		sep = ",";
	}
	ufs_sb_printf(b, "}");
}

/* "TITLE" and a "  key value" line per field of section sec. */
static void ctl_text_section(struct ufs_strbuf *b, const char *title, const struct fs_stat_snap *s,
			     enum fs_stat_section sec)
{
	ufs_sb_printf(b, "%s\n", title);
	for (const struct fs_stat_field *f = fs_stat_next(sec, NULL); f; f = fs_stat_next(sec, f))
		ufs_sb_printf(b, "  %-24s %llu\n", f->name, CTL_U64(fs_stat_value(s, f)));
}

/* ,"heap_bytes":N in sanitizer builds: bytes the daemon allocated and has
 * not freed (what a leak or an unbounded table grows; RSS keeps what the
 * sanitizer's allocator once held). Other builds have no exact figure
 * (glibc's mallinfo2 counts its arenas' reserve): nothing. */
static void ctl_json_heap(struct ufs_strbuf *b)
{
#if defined(__SANITIZE_ADDRESS__)
	ufs_sb_printf(b, ",\"heap_bytes\":%llu",
		      (unsigned long long)__sanitizer_get_current_allocated_bytes());
#else
	(void)b;
#endif
}

static void ctl_json(struct ufs_strbuf *b, struct ufs_fs *fs)
{
	struct ctl_cpu cpu = ctl_cpu_now(fs);
	struct fs_stat_snap st;

	fs_stat_read(fs, &st);
	ufs_sb_printf(b, "{\"mountpoint\":");
	ufs_sb_json_str(b, fs->mountpoint);
	ufs_sb_printf(b, ",");
	ctl_json_section(b, "memory", &st, FS_STAT_MEMORY);
	ufs_sb_printf(b,
		      ",\"daemon\":{\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"read_bytes\":%llu,"
		      "\"cpu_s_per_gib\":%.3f",
		      cpu.user_s, cpu.sys_s, cpu.read_bytes, ctl_cpu_per_gib(&cpu));
	ctl_json_heap(b);
	ufs_sb_printf(b, "},");
	ctl_json_section(b, "cache", &st, FS_STAT_CACHE);
	ufs_sb_printf(b, ",");
	ctl_json_section(b, "metadata", &st, FS_STAT_META);
	ufs_sb_printf(b, ",\"fuse\":");
	ctl_json_fuse(b, fs);
	ufs_sb_printf(b, ",");
	ctl_json_section(b, "direct", &st, FS_STAT_DIRECT);
	ufs_sb_printf(b, ",\"backends\":[");
	for (size_t i = 0; i < fs->n_be; i++)
		ctl_json_backend(b, fs, i);
	ufs_sb_printf(b, "]}\n");
}

static void ctl_text_backend(struct ufs_strbuf *b, struct ufs_fs *fs, size_t i)
{
	struct ufs_backend *be = fs->be[i];
	char err[256];
	const char *state = ctl_state(be, err, sizeof(err));
	uint64_t served;

	ufs_sb_printf(b, "%-20s %-5s %s\n", fs->cfg->mounts[i].prefix, state,
		      fs->cfg->mounts[i].url);
	ufs_sb_printf(b, "  requests:");
	for (int k = 0; k < UFS_REQ__COUNT; k++)
		ufs_sb_printf(b, " %s=%llu", ufs_req_kind_name(k),
			      CTL_U64(atomic_load(&be->stats.req[k])));
	ufs_sb_printf(
	    b, "\n  bytes in %llu, out %llu; errors %llu, retries %llu\n",
	    CTL_U64(atomic_load(&be->stats.bytes_in)), CTL_U64(atomic_load(&be->stats.bytes_out)),
	    CTL_U64(atomic_load(&be->stats.errors)), CTL_U64(atomic_load(&be->stats.retries)));
	if (err[0])
		ufs_sb_printf(b, "  last error: %s\n", err);
	ctl_text_cred(b, be);
	if (fs_offline_stale(fs, i, &served))
		ufs_sb_printf(b,
			      "  STALE: server unreachable, serving the disk tier's copy read-only "
			      "(%llu answers)\n",
			      CTL_U64(served));
}

static void ctl_text(struct ufs_strbuf *b, struct ufs_fs *fs)
{
	struct ctl_cpu cpu = ctl_cpu_now(fs);
	struct fs_stat_snap st;

	fs_stat_read(fs, &st);
	ufs_sb_printf(b, "mountpoint %s\n", fs->mountpoint);
	ufs_sb_printf(b, "memory     used %llu  limit %llu  peak %llu\n", CTL_U64(st.memory.used),
		      CTL_U64(st.memory.limit), CTL_U64(st.memory.peak));
	ufs_sb_printf(b,
		      "daemon     cpu user %.3f s  sys %.3f s  read %llu bytes  %.3f cpu s/GiB\n",
		      cpu.user_s, cpu.sys_s, cpu.read_bytes, ctl_cpu_per_gib(&cpu));
	ctl_text_section(b, "cache", &st, FS_STAT_CACHE);
	ctl_text_section(b, "metadata", &st, FS_STAT_META);
	ctl_text_fuse(b, fs);
	ctl_text_section(b, "direct", &st, FS_STAT_DIRECT);
	ufs_sb_printf(b, "backends\n");
	for (size_t i = 0; i < fs->n_be; i++)
		ctl_text_backend(b, fs, i);
}

char *fs_stats_format(struct ufs_fs *fs, int json)
{
	struct ufs_strbuf b = {0};

	if (json)
		ctl_json(&b, fs);
	else
		ctl_text(&b, fs);
	return ufs_sb_take(&b);
}

/* "log LEVEL": change the daemon's log threshold; the reply says what. */
static char *ctl_set_log(struct ufs_fs *fs, const char *level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	struct ufs_strbuf b = {0};
	enum ufs_log_level old = ufs_log_get_level(), lv;

	if (ufs_log_parse_level(level, &lv) != 0) {
		ufs_sb_printf(&b, "error: log: expected error, warn, info or debug, got '%s'\n",
			      level);
		return ufs_sb_take(&b);
	}
	ufs_log_set_level(lv);
	ufs_log(lv > UFS_LOG_INFO ? lv : UFS_LOG_INFO, "%s: log level %s -> %s (unifs ctl)",
		fs->mountpoint, names[old], names[lv]);
	ufs_sb_printf(&b, "log %s (was %s)\n", names[lv], names[old]);
	return ufs_sb_take(&b);
}

/* Read one request line (without '\n') into line. */
static int ctl_read_line(int fd, char *line, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, line + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return (int)n;
}

static void ctl_write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* 1 when the peer of fd is the daemon's own uid or root. */
static int ctl_peer_is_owner(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 &&
	       (cr.uid == 0 || cr.uid == geteuid());
}

static void ctl_serve(struct ufs_fs *fs, int fd)
{
	struct timeval tv = {.tv_sec = 2};
	char line[64];
	char *out = NULL;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ctl_read_line(fd, line, sizeof(line));
	if (strcmp(line, "stats") == 0)
		out = fs_stats_format(fs, 0);
	else if (strcmp(line, "stats json") == 0)
		out = fs_stats_format(fs, 1);
	else if (strncmp(line, "log ", 4) == 0 && !ctl_peer_is_owner(fd))
		out = strdup("error: only the owner of the mount may change its log level\n");
	else if (strncmp(line, "log ", 4) == 0)
		out = ctl_set_log(fs, line + 4);
	if (out)
		ctl_write_all(fd, out, strlen(out));
	else
		ctl_write_all(fd, "error: unknown request\n", 23);
	free(out);
}

static void *ctl_thread(void *arg)
{
	struct ufs_fs *fs = arg;
	struct ufs_ctl *c = fs->ctl;
	struct pollfd pfd[2] = {{.fd = c->lfd, .events = POLLIN},
				{.fd = c->stop[0], .events = POLLIN}};

	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		ctl_serve(fs, fd);
		close(fd);
	}
	return NULL;
}

/* Create, bind and listen on the control socket of mountpoint in the
 * socket directory (mode: its mode); its path into c->path. */
static int ctl_listen(struct ufs_ctl *c, const char *mountpoint, mode_t mode, char *err,
		      size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(c->path)];
	int rc = fs_sock_dir_prepare(dir, sizeof(dir), err, errlen);

	if (rc < 0)
		return rc;
	fs_sock_path(dir, mountpoint, ".sock", c->path, sizeof(c->path));
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return -errno;
	memcpy(sa.sun_path, c->path, sizeof(sa.sun_path));
	unlink(c->path); /* a leftover of a daemon that died */
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(c->path, mode) < 0 ||
	    listen(c->lfd, 16) < 0) {
		int e = errno;

		snprintf(err, errlen, "control socket %s: %s", c->path, strerror(e));
		return -e;
	}
	return 0;
}

int fs_ctl_start(struct ufs_fs *fs, char *err, size_t errlen)
{
	struct ufs_ctl *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->lfd = -1;
	c->stop[0] = c->stop[1] = -1;
	rc = ctl_listen(c, fs->mountpoint, fs_sock_mode(fs->cfg->allow_other), err, errlen);
	if (rc == 0 && pipe2(c->stop, O_CLOEXEC) < 0)
		rc = -errno;
	fs->ctl = c;
	if (rc == 0 && (rc = -pthread_create(&c->thread, NULL, ctl_thread, fs)) == 0)
		return 0;
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->path);
	}
	if (c->stop[0] >= 0) {
		close(c->stop[0]);
		close(c->stop[1]);
	}
	free(c);
	fs->ctl = NULL;
	return rc;
}

void fs_ctl_stop(struct ufs_fs *fs)
{
	struct ufs_ctl *c = fs->ctl;

	if (!c)
		return;
	if (write(c->stop[1], "x", 1) < 0)
		ufs_warn("control socket: cannot stop its thread: %s", strerror(errno));
	pthread_join(c->thread, NULL);
	close(c->lfd);
	close(c->stop[0]);
	close(c->stop[1]);
	unlink(c->path);
	free(c);
	fs->ctl = NULL;
}

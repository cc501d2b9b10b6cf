/*
 * nfs.c — the NFS backend (libnfs 4.0): nfs://server/export/path[?version=3|4].
 *
 * Design
 * - Connections. libnfs 4.0 is not thread-safe, so every calling thread gets
 *   its own struct nfs_conn (one nfs_context = one TCP connection + mount),
 *   bound through a per-backend pthread key; a thread that exits hands its
 *   conn back to the backend's pool for the next new thread. N worker
 *   threads therefore give N connections (nconnect-style parallelism: the
 *   read-ahead runs of one sequential reader, and the chunks of one direct
 *   read, go out on several connections at once). The mount key
 *   nfs_connections (0, the default: no bound) caps the connections per
 *   mount: threads beyond it share the least shared conn. A conn
 *   is used under its own mutex, because a writer opened on one thread's
 *   conn may be driven later from another FUSE thread (or shares it).
 * - Bounded calls. We use libnfs's async API with our own poll loop and a
 *   deadline of op_timeout per backend call (connect + mount included), so
 *   no call can hang, whatever state the socket is in. On the deadline, on a
 *   dead socket, or on libnfs's own RPC timeout the context is discarded
 *   (destroyed; its cached handles closed) and gen is bumped; the next call
 *   reconnects. A connection lost in the middle of a call is reconnected and
 *   the call retried once within the same deadline, so the subtree recovers
 *   by itself when the server comes back. Failures map to -ETIMEDOUT
 *   (deadline), -ECONNREFUSED (cannot connect/mount), -ECONNRESET (lost again
 *   right after reconnecting: backend.c marks the backend down only after a
 *   few such calls in a row).
 * - Handles, not path walks, on the data path. Reads go through a per-conn
 *   LRU of open read handles (struct nfsfh) keyed by path: the path is walked
 *   once per conn, then every read is a GETATTR + READs on the cached handle,
 *   all in flight together (the GETATTR pins the version: size or mtime
 *   different from the obj's -> -ESTALE; a stale or changed cached handle is
 *   reopened once before answering). A large read is split into rsize chunks
 *   that are all in flight at once on the conn. Writers own one nfsfh
 *   (pwrite in wsize chunks, pipelined; ftruncate; fsync = COMMIT; close =
 *   COMMIT + close). Opening a handle (reader or writer) uses libnfs's
 *   path-based open, which walks the path with LOOKUPs.
 *   A handle cached before the file was replaced under the same name still
 *   answers for the old version as long as the obj names that version
 *   (consistent bytes; the cache above moves on when its attributes expire).
 * - Metadata over NFSv3 (getattr, list, mkdir, unlink, rmdir, rename,
 *   symlink, readlink, link, setattr, statfs) goes through file handles:
 *   protocols/nfs/nfs_meta.c keeps a per-backend path -> directory handle cache
 *   shared by all conns and issues raw NFSv3 RPCs on the calling thread's
 *   conn (same deadline and reconnect as here), so a warm stat is one
 *   LOOKUP in the cached parent, not one LOOKUP per path component; its
 *   design comment says how long a cached handle is trusted. When the
 *   export root handle cannot be had (MOUNT failing) and over NFSv4, the
 *   calls below use libnfs's path-based API (nfs_lstat64, nfs_mkdir2...,
 *   one LOOKUP per component each time; libnfs 4.0's NFSv4 client offers
 *   no raw handle API worth building on).
 * - list() is READDIRPLUS: attributes come with the entries, never one
 *   GETATTR per entry (path-based: nfs_opendir()). libnfs's own dircache is
 *   off (the cache layer above owns caching and its TTLs).
 * - NFSv4 with libnfs 4.0 ("not yet functional" per its own header) works
 *   with these workarounds: a unique client name per context, WRITEs of at
 *   most NFS_V4_WRITE_MAX bytes (pipelined), O_TRUNC as a SETATTR after the
 *   open, handles reopened on OLD/BAD_STATEID, a fresh context (new open
 *   owner) on BAD_SEQID. NFSv3 is the fast, recommended path.
 * - SIGPIPE is blocked in the calling thread during libnfs calls and a
 *   pending one consumed, so a server dying mid-send cannot kill the daemon.
 *
 * Lock order: nfs_be.pool_lock (pool bookkeeping only) and nfs_conn.lock
 * are never held together; nfs_conn.lock is held for the whole backend
 * call on that conn (it is the libnfs context's lock). List callbacks run
 * without any lock held.
 *
 * Files (one layer each; calls go downwards only): nfs.c (this: ops table,
 * lifecycle), nfs_ns.c (attributes, listing, namespace operations),
 * nfs_data.c (reader and writer), nfs_meta.c (NFSv3 metadata through cached
 * handles), nfs_conn.c (connections, bounded-wait executor, read handle
 * LRU), nfs_url.c (URL parsing, path helpers), nfs_fhcache.c (handle cache).
 */
#include "protocols/nfs/nfs_i.h"

#include "protocols/backend.h"
#include "protocols/http/http.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

/* ---- lifecycle ----------------------------------------------------------------- */

static void nfsbe_destroy(struct ufs_backend *be)
{
	struct nfs_be *nb = ufs_nfs_be_of(be);
	struct nfs_conn *c = nb->conns, *next;

	pthread_key_delete(nb->key);
	for (; c; c = next) {
		next = c->next;
		ufs_nfs_conn_free(c);
	}
	pthread_mutex_destroy(&nb->pool_lock);
	ufs_nfs3_fini(nb);
	ufs_nfs_url_free(&nb->url);
	ufs_be_fini(&nb->base);
	free(nb);
}

#define NFS_CONNECTIONS_MAX 256

/* The mount's nfs_connections (0: one connection per calling thread). */
static int nfs_connections_key(const struct ufs_mount_cfg *m, unsigned *pn, char *why,
			       size_t whylen)
{
	const char *v = ufs_mcfg_get(m, "nfs_connections");
	char *end;
	unsigned long n;

	*pn = 0;
	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n > NFS_CONNECTIONS_MAX) {
		snprintf(why, whylen, "nfs_connections: expected 0..%d, got '%s'",
			 NFS_CONNECTIONS_MAX, v);
		return -EINVAL;
	}
	*pn = (unsigned)n;
	return 0;
}

static int nfsbe_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
			struct ufs_backend **pbe, char *err, size_t errlen)
{
	struct nfs_be *nb = calloc(1, sizeof(*nb));
	double t = g && g->op_timeout > 0 ? g->op_timeout : 20;
	char why[256];
	int rc;

	if (!nb) {
		snprintf(err, errlen, "mount %s: out of memory", m->prefix);
		return -ENOMEM;
	}
	rc = ufs_nfs_url_parse(m->url, &nb->url, why, sizeof(why));
	if (rc == 0)
		rc = nfs_connections_key(m, &nb->max_conns, why, sizeof(why));
	if (rc == 0 && pthread_key_create(&nb->key, ufs_nfs_conn_unbind) != 0)
		rc = -EAGAIN;
	if (rc < 0) {
		snprintf(err, errlen, "mount %s: %s", m->prefix,
			 rc == -EAGAIN ? "no thread key" : why);
		ufs_nfs_url_free(&nb->url);
		free(nb);
		return rc;
	}
	ufs_be_init(&nb->base, &ufs_nfs_ops, m, g);
	pthread_mutex_init(&nb->pool_lock, NULL);
	ufs_nfs3_init(nb, g);
	nb->pinned_ids =
	    ufs_nfs_url_has_arg(&nb->url, "uid") || ufs_nfs_url_has_arg(&nb->url, "gid");
	/* libnfs takes whole seconds; our own deadline uses the exact value */
	nb->timeout_ms = (int)(t * 1000);
	*pbe = &nb->base;
	return 0;
}

static int nfsbe_check(struct ufs_backend *be, char *err, size_t errlen)
{
	struct nfs_stat_64 st;
	char last[256];
	int rc = ufs_nfs_lstat(ufs_nfs_be_of(be), "/", &st);

	if (rc == 0 && (st.nfs_mode & S_IFMT) != S_IFDIR)
		rc = -ENOTDIR;
	if (rc == 0)
		return 0;
	ufs_be_last_error(be, last, sizeof(last));
	if (rc == -ENOENT || rc == -EACCES || rc == -EPERM)
		snprintf(err, errlen, "mount %s: %s: export not found (%s)", be->name,
			 be->mcfg->url, last);
	else if (ufs_errno_is_unreachable(rc))
		snprintf(err, errlen, "mount %s: %s: server unreachable (%s)", be->name,
			 be->mcfg->url, strerror(-rc));
	else
		snprintf(err, errlen, "mount %s: %s: %s (%s)", be->name, be->mcfg->url,
			 strerror(-rc), last);
	return rc;
}

/* The server from the URL (port 2049); AUTH_SYS as the calling user. */
static void nfsbe_describe(const struct ufs_mount_cfg *m, const struct ufs_backend *be,
			   struct ufs_be_desc *out)
{
	(void)be;
	ufs_be_desc_host(out, m->url, "2049");
	snprintf(out->cred, sizeof(out->cred), "AUTH_SYS uid %u gid %u", (unsigned)getuid(),
		 (unsigned)getgid());
}

static const struct ufs_cfg_key nfs_keys[] = {
    {"nfs_connections", 0, "TCP connections to the server at most (default 0: one per thread)"},
    {NULL, 0, NULL},
};

const struct ufs_backend_ops ufs_nfs_ops = {
    .scheme = "nfs",
    .caps = UFS_CAP_POSIX_WRITE | UFS_CAP_HARDLINK | UFS_CAP_SYMLINK | UFS_CAP_CHMOD,
    .url_help = "nfs://host/export[/dir][?version=3|4]  NFSv3/v4",
    .keys = nfs_keys,
    .create = nfsbe_create,
    .check = nfsbe_check,
    .describe = nfsbe_describe,
    .getattr = ufs_nfsbe_getattr,
    .list = ufs_nfsbe_list,
    .read = ufs_nfsbe_read,
    .open_writer = ufs_nfsbe_open_writer,
    .unlink = ufs_nfsbe_unlink,
    .mkdir = ufs_nfsbe_mkdir,
    .rmdir = ufs_nfsbe_rmdir,
    .rename = ufs_nfsbe_rename,
    .symlink = ufs_nfsbe_symlink,
    .readlink = ufs_nfsbe_readlink,
    .link = ufs_nfsbe_link,
    .mknod = ufs_nfsbe_mknod,
    .setattr = ufs_nfsbe_setattr,
    .statfs = ufs_nfsbe_statfs,
    .destroy = nfsbe_destroy,
};

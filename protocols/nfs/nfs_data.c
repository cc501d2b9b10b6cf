/*
 * nfs_data.c — the NFS data path: pipelined reads through cached read
 * handles (version pinned by a GETATTR in the same round) and the streaming
 * writer (pipelined pwrite, ftruncate, COMMIT on fsync and close).
 * Design: protocols/nfs/nfs.c.
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

#define NFS_MAX_INFLIGHT 32 /* READ/WRITE chunks in flight per call */
/* libnfs 4.0's NFSv4 client does not learn rsize/wsize and encodes a WRITE
 * into a ~4 KiB buffer (larger ones fail with "ZDR error: Failed to encode
 * COMPOUND4args"), so NFSv4 writes go in small chunks, pipelined. */
#define NFS_V4_READ_MAX (1u << 20)
#define NFS_V4_WRITE_MAX 3072u

/* ---- read -------------------------------------------------------------------- */

struct nfs_read_args {
	const struct ufs_obj *obj;
	const char *path; /* absolute */
	uint64_t off;
	size_t len;
	char *buf;
	size_t got; /* bytes read so far */
};

/* -ESTALE unless st is obj's version. */
static int nfs_same_version(const struct nfs_stat_64 *st, const struct ufs_obj *obj)
{
	if (st->nfs_size != obj->size || (int64_t)st->nfs_mtime != (int64_t)obj->mtime.tv_sec ||
	    (long)st->nfs_mtime_nsec != obj->mtime.tv_nsec)
		return -ESTALE;
	return 0;
}

/* Start READs of [a->off + a->got, +want) in rsize chunks; returns how many
 * calls were started (their status in the queued worst case *pq). */
static int nfs_read_start(struct nfs_conn *c, struct nfsfh *fh, struct nfs_read_args *a,
			  size_t want, struct nfs_call *calls, int *pq)
{
	size_t chunk = (size_t)nfs_get_readmax(c->ctx);
	int n = 0;

	if (chunk == 0) /* libnfs 4.0 does not learn it over NFSv4 */
		chunk = NFS_V4_READ_MAX;
	if (chunk > want)
		chunk = want ? want : 1;
	for (size_t done = 0; done < want && n < NFS_MAX_INFLIGHT; n++) {
		size_t len = want - done < chunk ? want - done : chunk;
		struct nfs_call *k = &calls[n];

		*k = (struct nfs_call){
		    .res = NFS_RES_BYTES, .out = a->buf + a->got + done, .cap = len};
		int q =
		    nfs_pread_async(c->ctx, fh, a->off + a->got + done, len, ufs_nfs_call_cb, k);
		if (q < 0) {
			k->done = 1;
			k->err = q;
			*pq = q;
		}
		done += len;
	}
	return n;
}

/* Account the finished chunk reads in order; returns -errno, or 0 with
 * a->got advanced over the contiguous data (a short chunk stops there: the
 * rest is read in the next round unless at end of file). */
static int nfs_read_collect(struct nfs_conn *c, struct nfs_read_args *a, struct nfs_call *calls,
			    int n, int *pzero)
{
	for (int i = 0; i < n; i++) {
		if (calls[i].err < 0) {
			ufs_nfs_note_error(c, "read", calls[i].err, calls[i].msg);
			return ufs_nfs_call_errno(&calls[i]);
		}
		a->got += (size_t)calls[i].err;
		if ((size_t)calls[i].err < calls[i].cap) {
			*pzero = calls[i].err == 0;
			break;
		}
	}
	return 0;
}

/* One pinned round: GETATTR + the chunk READs in flight together. *peof is
 * set when the read reached the end of the file. */
static int nfs_read_round(struct nfs_conn *c, struct nfsfh *fh, struct nfs_read_args *a, int *peof)
{
	struct nfs_call calls[NFS_MAX_INFLIGHT + 1];
	struct nfs_call *ptrs[NFS_MAX_INFLIGHT + 1];
	struct nfs_stat_64 st;
	int queued = 0, n, rc, zero = 0;

	calls[0] = (struct nfs_call){.res = NFS_RES_COPY, .out = &st, .cap = sizeof(st)};
	queued = nfs_fstat64_async(c->ctx, fh, ufs_nfs_call_cb, &calls[0]);
	if (queued < 0)
		calls[0].done = 1;
	n = 1 + nfs_read_start(c, fh, a, a->len - a->got, calls + 1, &queued);
	for (int i = 0; i < n; i++)
		ptrs[i] = &calls[i];
	rc = ufs_nfs_finish(c, ptrs, n, queued);
	if (rc < 0)
		return rc;
	if (calls[0].err < 0)
		return ufs_nfs_call_errno(&calls[0]);
	rc = nfs_same_version(&st, a->obj);
	if (rc == 0)
		rc = nfs_read_collect(c, a, calls + 1, n - 1, &zero);
	*peof = zero || a->off + a->got >= st.nfs_size;
	return rc;
}

/* The cached read handle of a->path, opened if needed; *pcached says which. */
static int nfs_read_fh(struct nfs_conn *c, const char *path, struct nfsfh **pfh, int *pcached)
{
	struct nfsfh *fh = ufs_nfs_fhc_find(c, path);
	int rc;

	*pcached = fh != NULL;
	if (!fh) {
		rc = ufs_nfs_open_fh(c, path, O_RDONLY, 0, &fh);
		if (rc < 0)
			return rc;
		rc = ufs_nfs_fhc_insert(c, path, fh);
		if (rc < 0)
			return rc;
	}
	*pfh = fh;
	return 0;
}

static int nfs_op_read(struct nfs_conn *c, void *arg)
{
	struct nfs_read_args *a = arg;
	int rc = 0, eof = 0, cached, retried = 0;
	struct nfsfh *fh;

	a->got = 0;
	while (rc == 0 && !eof && a->got < a->len) {
		rc = nfs_read_fh(c, a->path, &fh, &cached);
		if (rc == 0)
			rc = nfs_read_round(c, fh, a, &eof);
		if (!retried && (rc == -EBADF || (rc == -ESTALE && cached && a->got == 0))) {
			/* stale, replaced or lost state: reopen once */
			ufs_nfs_fhc_drop(c, a->path, rc == -EBADF);
			retried = 1;
			rc = 0;
		}
	}
	return rc == -EBADF ? -EIO : rc;
}

ssize_t ufs_nfsbe_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
		       void *buf)
{
	struct nfs_read_args a = {.obj = obj, .off = off, .len = len, .buf = buf};
	int rc;
	char *abs = ufs_nfs_abspath(obj->path, &rc);

	if (!abs)
		return rc;
	a.path = abs;
	rc = ufs_nfs_run(ufs_nfs_be_of(be), nfs_op_read, &a);
	free(abs);
	ufs_be_count(be, UFS_REQ_GET, rc == 0 ? a.got : 0, 0);
	return rc < 0 ? rc : (ssize_t)a.got;
}

/* ---- writer -------------------------------------------------------------------- */

struct nfs_writer {
	struct ufs_writer base;
	struct nfs_conn *c; /* the conn fh belongs to */
	struct nfsfh *fh;   /* NULL: (re)open on next use */
	unsigned gen;	    /* c->gen when fh was opened */
	char *path;	    /* absolute, for reopening after a reconnect */
	int oflags;	    /* access mode (+O_APPEND) for reopening */
	int err;	    /* first error, returned by close() */
	/* arguments of the op in progress */
	const char *wbuf;
	size_t wlen;
	uint64_t woff;
};

/* The writer's handle on the current context (reopened after a reconnect). */
static int nfs_writer_fh(struct nfs_conn *c, struct nfs_writer *w)
{
	if (w->fh && w->gen == c->gen)
		return 0;
	if (w->fh) /* opened on a discarded context, or its stateid went stale */
		nfs_free_nfsfh(w->fh);
	w->fh = NULL;
	w->gen = c->gen;
	return ufs_nfs_open_fh(c, w->path, w->oflags, 0, &w->fh);
}

static int nfs_w_do_pwrite(struct nfs_conn *c, struct nfs_writer *w)
{
	struct nfs_call calls[NFS_MAX_INFLIGHT];
	struct nfs_call *ptrs[NFS_MAX_INFLIGHT];
	size_t chunk, done = 0;
	int rc;

	chunk = c->nb->url.version == 4 ? NFS_V4_WRITE_MAX : (size_t)nfs_get_writemax(c->ctx);
	if (chunk == 0)
		chunk = NFS_V4_WRITE_MAX;
	while (done < w->wlen) {
		int n = 0, queued = 0;
		for (size_t s = done; s < w->wlen && n < NFS_MAX_INFLIGHT; n++) {
			size_t len = w->wlen - s < chunk ? w->wlen - s : chunk;
			calls[n] = (struct nfs_call){.res = NFS_RES_NONE};
			ptrs[n] = &calls[n];
			int q = nfs_pwrite_async(c->ctx, w->fh, w->woff + s, len, w->wbuf + s,
						 ufs_nfs_call_cb, &calls[n]);
			if (q < 0) {
				calls[n].done = 1;
				calls[n].err = queued = q;
			}
			s += len;
		}
		rc = ufs_nfs_finish(c, ptrs, n, queued);
		for (int i = 0; rc == 0 && i < n; i++) {
			size_t want = w->wlen - done < chunk ? w->wlen - done : chunk;
			if (calls[i].err < 0) {
				ufs_nfs_note_error(c, "write", calls[i].err, calls[i].msg);
				rc = ufs_nfs_call_errno(&calls[i]);
			} else if ((size_t)calls[i].err != want) {
				rc = -EIO; /* libnfs loops short writes itself */
			}
			done += want;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A writer step run on the writer's conn with its handle. */
struct nfs_wop {
	struct nfs_writer *w;
	int (*fn)(struct nfs_conn *c, struct nfs_writer *w);
};

/* Run o->fn with a valid handle; a handle whose NFSv4 state was lost is
 * reopened and the step retried once. */
static int nfs_op_writer(struct nfs_conn *c, void *arg)
{
	struct nfs_wop *o = arg;

	for (int attempt = 0; attempt < 2; attempt++) {
		int rc = nfs_writer_fh(c, o->w);

		if (rc == 0)
			rc = o->fn(c, o->w);
		if (rc != -EBADF)
			return rc;
		o->w->gen = c->gen - 1; /* forces nfs_writer_fh() to reopen */
	}
	return -EIO;
}

static int nfs_writer_run(struct nfs_writer *w, int (*fn)(struct nfs_conn *, struct nfs_writer *))
{
	struct nfs_wop o = {.w = w, .fn = fn};

	return ufs_nfs_run_on(w->c, nfs_op_writer, &o);
}

static int nfs_writer_fail(struct nfs_writer *w, int rc)
{
	if (rc < 0 && w->err == 0)
		w->err = rc;
	return rc;
}

static ssize_t nfs_w_pwrite(struct ufs_writer *uw, const void *buf, size_t len, uint64_t off)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;
	int rc;

	w->wbuf = buf;
	w->wlen = len;
	w->woff = off;
	rc = nfs_writer_run(w, nfs_w_do_pwrite);
	ufs_be_count(uw->be, UFS_REQ_PUT, 0, rc == 0 ? len : 0);
	return rc < 0 ? nfs_writer_fail(w, rc) : (ssize_t)len;
}

static int nfs_w_do_ftruncate(struct nfs_conn *c, struct nfs_writer *w)
{
	struct nfs_call call = {.res = NFS_RES_NONE};

	return ufs_nfs_exec(c, &call,
			    nfs_ftruncate_async(c->ctx, w->fh, w->woff, ufs_nfs_call_cb, &call),
			    "truncate");
}

static int nfs_w_truncate(struct ufs_writer *uw, uint64_t size)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;

	w->woff = size;
	ufs_be_count(uw->be, UFS_REQ_OTHER, 0, 0);
	return nfs_writer_fail(w, nfs_writer_run(w, nfs_w_do_ftruncate));
}

static int nfs_w_do_fsync(struct nfs_conn *c, struct nfs_writer *w)
{
	struct nfs_call call = {.res = NFS_RES_NONE};

	return ufs_nfs_exec(c, &call, nfs_fsync_async(c->ctx, w->fh, ufs_nfs_call_cb, &call),
			    "commit");
}

static int nfs_w_fsync(struct ufs_writer *uw)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;
	int rc;

	ufs_be_count(uw->be, UFS_REQ_OTHER, 0, 0);
	rc = nfs_writer_fail(w, nfs_writer_run(w, nfs_w_do_fsync));
	return rc < 0 ? rc : w->err;
}

static int nfs_op_wclose(struct nfs_conn *c, void *arg)
{
	struct nfs_writer *w = arg;
	struct nfs_call call = {.res = NFS_RES_NONE};
	struct nfsfh *fh = w->fh;
	int rc;

	w->fh = NULL;
	if (!fh)
		return 0;
	if (w->gen != c->gen) { /* opened on a discarded context: just free it */
		nfs_free_nfsfh(fh);
		return 0;
	}
	rc = ufs_nfs_exec(c, &call, nfs_close_async(c->ctx, fh, ufs_nfs_call_cb, &call), "close");
	/* NFSv4: two opens of one file by this client share one open state; a
	 * CLOSE through the other handle ended it, or a later OPEN moved its
	 * stateid on (BAD/OLD_STATEID, -EBADF here). The data went out with
	 * WRITE and COMMIT, which checked their own results: nothing is lost. */
	return rc == -EBADF ? 0 : rc;
}

static void nfs_writer_free(struct nfs_writer *w)
{
	free(w->path);
	free(w);
}

static int nfs_w_close(struct ufs_writer *uw)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;
	int rc;

	if (w->err == 0)
		nfs_w_fsync(uw); /* COMMIT, like close(2) on an NFS mount */
	rc = ufs_nfs_run_on(w->c, nfs_op_wclose, w);
	if (w->err == 0)
		w->err = rc;
	rc = w->err;
	nfs_writer_free(w);
	return rc;
}

static void nfs_w_abort(struct ufs_writer *uw)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;

	ufs_nfs_run_on(w->c, nfs_op_wclose, w);
	nfs_writer_free(w);
}

static const struct ufs_writer_ops nfs_writer_ops = {
    .pwrite = nfs_w_pwrite,
    .truncate = nfs_w_truncate,
    .fsync = nfs_w_fsync,
    .close = nfs_w_close,
    .abort = nfs_w_abort,
};

struct nfs_open_args {
	struct nfs_writer *w;
	int flags;
	int mode;
};

/* Open w->path, creating it when asked. O_CREAT without O_EXCL must not
 * reset an existing file's mode (CREATE3 UNCHECKED would): open it, and
 * create exclusively only when missing. *pcreated tells which happened. */
static int nfs_open_or_create(struct nfs_conn *c, struct nfs_open_args *a, int *pcreated)
{
	struct nfs_writer *w = a->w;
	int acc = a->flags & O_ACCMODE;
	int rc = -ENOENT;

	*pcreated = 0;
	for (int tries = 0; tries < 3; tries++) {
		if (!(a->flags & O_EXCL))
			rc = ufs_nfs_open_fh(c, w->path, acc, 0, &w->fh);
		if (rc != -ENOENT || !(a->flags & O_CREAT))
			return rc;
		rc = ufs_nfs_open_fh(c, w->path, O_CREAT | O_EXCL | acc, a->mode, &w->fh);
		*pcreated = rc == 0;
		if (rc != -EEXIST || (a->flags & O_EXCL))
			return rc;
	}
	return rc;
}

/* O_TRUNC is applied with a SETATTR after the open (libnfs 4.0's NFSv4
 * open with O_TRUNC fails with ERANGE). */
static int nfs_op_open_writer(struct nfs_conn *c, void *arg)
{
	struct nfs_open_args *a = arg;
	int created, rc;

	rc = nfs_open_or_create(c, a, &created);
	a->w->gen = c->gen; /* after: a failed OPEN may have renewed the context */
	if (rc < 0 || created || !(a->flags & O_TRUNC))
		return rc;
	a->w->woff = 0;
	return nfs_w_do_ftruncate(c, a->w);
}

int ufs_nfsbe_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
			  struct ufs_writer **pw)
{
	struct nfs_be *nb = ufs_nfs_be_of(be);
	struct nfs_writer *w = calloc(1, sizeof(*w));
	int acc = (flags & O_ACCMODE) == O_RDWR ? O_RDWR : O_WRONLY;
	struct nfs_open_args a = {.w = w, .flags = (flags & ~O_ACCMODE) | acc, .mode = (int)mode};
	int rc = -ENOMEM;

	if (w)
		w->path = ufs_nfs_abspath(path, &rc);
	if (w)
		w->c = ufs_nfs_conn_get(nb);
	if (!w || !w->path || !w->c) {
		if (w)
			nfs_writer_free(w);
		return rc;
	}
	w->base.ops = &nfs_writer_ops;
	w->base.be = be;
	w->oflags = acc | (flags & O_APPEND);
	rc = ufs_nfs_run_on(w->c, nfs_op_open_writer, &a);
	if (rc < 0) {
		nfs_writer_free(w);
		return rc;
	}
	*pw = &w->base;
	return 0;
}

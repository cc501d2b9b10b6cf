/*
 * xfer.c — copy one file (or symlink) from SRC to DST, verified.
 *
 * The source is read through parallel ranged reads (stream.c, --streams
 * in flight) and handed in order to the sink, which hashes every byte with
 * xxh3-128 and writes it to DST's writer (object-store writers upload their
 * parts in parallel on their own pipeline). On file/nfs, every MIG_PART
 * bytes the writer is fsync'd and the journal records how far the file is
 * durable; a rerun re-hashes that prefix from the source but writes only
 * what follows it. On an object store the writer's multipart upload is the
 * durable state: after each write the contiguous prefix of stored parts is
 * journaled (the upload id once, then each part's size and ETag), and a
 * rerun of the same source (size, mtime, etag as journaled) asks the writer
 * to resume that upload (the store confirms each part) and streams on from
 * the end of it; an upload that cannot be resumed is aborted and the file
 * starts over, the reason said on its line. A new file on file/nfs is
 * created 0600; after close its owner, mode and times are set (meta.c),
 * and DST is read back and its hash must equal the source's (--verify=auto: on
 * file/nfs, which have no server-side check; all: everywhere; none: never).
 */
#include "migrate/migrate_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#define MIG_PART (32ull << 20)

struct xfer_sink {
	struct mig_run *r;
	const char *rel;
	struct ufs_writer *w;
	XXH3_state_t *h;
	uint64_t durable;   /* bytes already on DST from an earlier run */
	uint64_t next_mark; /* next offset to make durable and journal */
	const struct ufs_attr *src;
	unsigned jparts;  /* object store: parts of the upload journaled */
	int jupload;	  /* its upload id is journaled */
	int jparts_off;	  /* the id cannot be journaled: no resume for it */
	unsigned resumed; /* resumed after this many parts (0: not) */
	char note[320];	  /* why an upload was not resumed */
};

static void xfer_hex(XXH3_state_t *h, char out[MIG_HASH_HEX])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h));
	for (unsigned i = 0; i < sizeof(c.digest); i++)
		snprintf(out + 2 * i, 3, "%02x", c.digest[i]);
}

static int xfer_hash_sink(void *arg, const void *buf, size_t len, uint64_t off)
{
	(void)off;
	return XXH3_128bits_update(arg, buf, len) == XXH_OK ? 0 : -EINVAL;
}

static void xfer_obj(struct ufs_obj *obj, const char *path, const struct ufs_attr *a)
{
	memset(obj, 0, sizeof(*obj));
	obj->path = path;
	obj->size = a->size;
	obj->mtime = a->mtime;
	memcpy(obj->etag, a->etag, sizeof(obj->etag));
}

/* Stream path (attributes a) of side s into sink. */
static int xfer_stream(const struct mig_run *r, const struct mig_side *s, const char *path,
		       const struct ufs_attr *a, mig_stream_sink sink, void *arg, int *psink_err)
{
	const struct mig_stream_opts so = {.chunk = r->o->chunk, .inflight = r->o->streams};
	struct ufs_obj obj;

	xfer_obj(&obj, path, a);
	return mig_stream_object(s->be, &obj, &so, sink, arg, psink_err);
}

int mig_hash_file(const struct mig_run *r, const struct mig_side *s, const char *rel,
		  const struct ufs_attr *a, char hash[MIG_HASH_HEX])
{
	XXH3_state_t *h = XXH3_createState();
	char *path = mig_path(s->root, rel);
	int sink_err, rc = h && path ? 0 : -ENOMEM;

	if (rc == 0)
		XXH3_128bits_reset(h);
	if (rc == 0)
		rc = xfer_stream(r, s, path, a, xfer_hash_sink, h, &sink_err);
	if (rc == 0)
		xfer_hex(h, hash);
	XXH3_freeState(h);
	free(path);
	return rc;
}

/* Make what was written durable and journal it (file/nfs only). */
static int xfer_mark(struct xfer_sink *x, uint64_t end)
{
	int rc = x->w->ops->fsync(x->w);

	if (rc == 0)
		rc = mig_journal_add_part(x->r->j, x->rel, end);
	x->next_mark = end + MIG_PART;
	return rc;
}

/* ufs_upload_part_cb: journal one more stored part (after its upload id). */
static int xfer_journal_upart(void *arg, const char *id, unsigned n,
			      const struct ufs_upload_part *p)
{
	struct xfer_sink *x = arg;
	struct mig_upload u = {.size = x->src->size, .mtime = x->src->mtime, .id = (char *)id};
	int rc = 0;

	if (!x->jupload) {
		memcpy(u.etag, x->src->etag, sizeof(u.etag));
		rc = mig_journal_add_upload(x->r->j, x->rel, &u);
		x->jparts_off = rc == -EINVAL;
		if (rc)
			return rc == -EINVAL ? 1 : rc;
		x->jupload = 1;
	}
	if (n == 0)
		return 0; /* begun, no part stored yet */
	rc = mig_journal_add_upart(x->r->j, x->rel, n, p);
	if (rc == -EINVAL) {
		x->jparts_off = 1;
		return 1;
	}
	x->jparts = n;
	return rc;
}

/* Object store: journal the parts stored since the last call. */
static int xfer_journal_uploads(struct xfer_sink *x)
{
	int rc;

	if (!x->r->j || x->r->dst.posix || !x->w->ops->stored_parts || x->jparts_off)
		return 0;
	rc = x->w->ops->stored_parts(x->w, x->jparts, xfer_journal_upart, x);
	return rc > 0 ? 0 : rc;
}

static int xfer_sink(void *arg, const void *buf, size_t len, uint64_t off)
{
	struct xfer_sink *x = arg;
	uint64_t end = off + len;
	ssize_t n;

	if (XXH3_128bits_update(x->h, buf, len) != XXH_OK)
		return -EINVAL;
	if (end <= x->durable)
		return 0;
	if (off < x->durable) {
		buf = (const char *)buf + (x->durable - off);
		len -= (size_t)(x->durable - off);
		off = x->durable;
	}
	n = x->w->ops->pwrite(x->w, buf, len, off);
	if (n >= 0 && (size_t)n != len)
		n = -EIO;
	if (n < 0)
		return (int)n;
	mig_report_sent(x->r->rep, len);
	if (x->r->j && x->r->dst.posix && end >= x->next_mark)
		return xfer_mark(x, end);
	return xfer_journal_uploads(x);
}

/* "strerror (server's message)" into why. */
static void xfer_why(struct ufs_backend *be, int rc, const char *what, char *why, size_t whylen)
{
	char last[256] = "";

	if (be)
		ufs_be_last_error(be, last, sizeof(last));
	if (last[0] && strcmp(last, cli_strerror(rc)) != 0)
		snprintf(why, whylen, "%s: %s (%s)", what, cli_strerror(rc), last);
	else
		snprintf(why, whylen, "%s: %s", what, cli_strerror(rc));
}

/* Where an earlier run left rel durable on DST (0: start over). */
static uint64_t xfer_resume_point(struct mig_run *r, const struct mig_item *it, const char *dpath)
{
	uint64_t off = r->j && r->dst.posix ? mig_journal_part(r->j, it->rel) : 0;
	struct ufs_attr a;

	if (off == 0 || off > it->src.size)
		return 0;
	if (ufs_be_getattr(r->dst.be, dpath, &a) != 0 || a.size < off)
		return 0;
	return off;
}

static int xfer_same_source(const struct mig_upload *u, const struct ufs_attr *a)
{
	return u->size == a->size && u->mtime.tv_sec == a->mtime.tv_sec &&
	       u->mtime.tv_nsec == a->mtime.tv_nsec && strcmp(u->etag, a->etag) == 0;
}

/* Object store: continue the upload an earlier run journaled for it, or
 * abort it and say why the file starts over (x->note). */
static void xfer_resume_upload(struct mig_run *r, const struct mig_item *it, struct xfer_sink *x)
{
	struct mig_upload u;
	char why[256] = "";
	int rc;

	if (!r->j || r->dst.posix || !x->w->ops->resume ||
	    mig_journal_upload(r->j, it->rel, &u) <= 0)
		return;
	if (!xfer_same_source(&u, &it->src)) {
		x->w->ops->drop(x->w, u.id);
		snprintf(x->note, sizeof(x->note),
			 "started over: the source changed since the journaled upload");
	} else if (u.nparts == 0) {
		x->w->ops->drop(x->w, u.id);
		snprintf(x->note, sizeof(x->note),
			 "started over: no part of the journaled upload was stored");
	} else if ((rc = x->w->ops->resume(x->w, u.id, u.nparts, u.parts, why, sizeof(why))) != 0) {
		snprintf(x->note, sizeof(x->note), "started over: journaled upload not resumed: %s",
			 why[0] ? why : cli_strerror(rc));
	} else {
		for (unsigned i = 0; i < u.nparts; i++)
			x->durable += u.parts[i].len;
		x->resumed = x->jparts = u.nparts;
		x->jupload = 1;
	}
	mig_upload_fini(&u);
}

/* Give a writer that stores metadata the source mtime and hash. An object
 * source's listing gives its upload time: its HEAD gives the mtime it
 * carries in metadata. */
static int xfer_set_meta(const struct mig_run *r, const struct mig_item *it, const char *spath,
			 struct xfer_sink *x)
{
	struct ufs_attr meta = {.mtime = it->src.mtime}, a;
	XXH128_canonical_t c;

	if (!x->w->ops->set_meta)
		return 0;
	if (!r->src.posix && ufs_be_getattr(r->src.be, spath, &a) == 0)
		meta.mtime = a.mtime;
	meta.has_xxh3 = 1;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(x->h));
	memcpy(meta.xxh3, c.digest, sizeof(meta.xxh3));
	return x->w->ops->set_meta(x->w, &meta);
}

/* Stream SRC into a writer on dpath; hash into x->h. */
static int xfer_write(struct mig_run *r, const struct mig_item *it, const char *spath,
		      const char *dpath, struct xfer_sink *x, char *why, size_t whylen)
{
	int flags = O_WRONLY | O_CREAT | (x->durable ? 0 : O_TRUNC);
	int sink_err = 0;
	int rc =
	    ufs_be_open_writer(r->dst.be, dpath, flags, mig_meta_file_mode(r, &it->src), &x->w);

	if (rc != 0) {
		xfer_why(r->dst.be, rc, "create", why, whylen);
		return rc;
	}
	xfer_resume_upload(r, it, x);
	rc = xfer_stream(r, &r->src, spath, &it->src, xfer_sink, x, &sink_err);
	if (rc != 0) {
		x->w->ops->abort(x->w);
		xfer_why(sink_err ? r->dst.be : r->src.be, rc, sink_err ? "write" : "read", why,
			 whylen);
		return rc;
	}
	rc = xfer_set_meta(r, it, spath, x);
	if (rc != 0) {
		x->w->ops->abort(x->w);
		xfer_why(r->dst.be, rc, "metadata", why, whylen);
		return rc;
	}
	rc = x->w->ops->close(x->w);
	if (rc != 0)
		xfer_why(r->dst.be, rc, "close", why, whylen);
	return rc;
}

/* Read DST back and compare with the source hash. */
static int xfer_verify(struct mig_run *r, const struct mig_item *it, const char *dpath,
		       const char *want, char *why, size_t whylen)
{
	char got[MIG_HASH_HEX];
	struct ufs_attr a;
	int rc = ufs_be_getattr(r->dst.be, dpath, &a);

	if (rc == 0 && a.size != it->src.size) {
		snprintf(why, whylen, "verify: %llu bytes on the destination, %llu expected",
			 (unsigned long long)a.size, (unsigned long long)it->src.size);
		return -EIO;
	}
	if (rc == 0)
		rc = mig_hash_file(r, &r->dst, it->rel, &a, got);
	if (rc != 0) {
		xfer_why(r->dst.be, rc, "verify", why, whylen);
		return rc;
	}
	if (strcmp(got, want) != 0) {
		snprintf(why, whylen, "verify: destination xxh3 %s, source %s", got, want);
		return -EIO;
	}
	return 0;
}

int mig_xfer_file(struct mig_run *r, const struct mig_item *it, char hash[MIG_HASH_HEX], char *why,
		  size_t whylen)
{
	struct xfer_sink x = {.r = r, .rel = it->rel, .h = XXH3_createState(), .src = &it->src};
	char *spath = mig_path(r->src.root, it->rel);
	char *dpath = mig_path(r->dst.root, it->rel);
	int rc = x.h && spath && dpath ? 0 : -ENOMEM;

	if (rc == 0) {
		XXH3_128bits_reset(x.h);
		x.durable = xfer_resume_point(r, it, dpath);
		x.next_mark = x.durable + MIG_PART;
		rc = xfer_write(r, it, spath, dpath, &x, why, whylen);
	} else {
		snprintf(why, whylen, "%s", cli_strerror(rc));
	}
	if (rc == 0) {
		xfer_hex(x.h, hash);
		rc = mig_meta_apply(r, dpath, &it->src, 0, x.note, sizeof(x.note));
		if (rc != 0)
			xfer_why(r->dst.be, rc, "metadata", why, whylen);
	}
	if (rc == 0 && (r->o->verify == MIG_VERIFY_ALL || (r->o->verify && r->dst.posix)))
		rc = xfer_verify(r, it, dpath, hash, why, whylen);
	if (rc == 0 && x.resumed)
		snprintf(why, whylen, "resumed at part %u / byte %llu", x.resumed + 1,
			 (unsigned long long)x.durable);
	else if (rc == 0 && x.durable)
		snprintf(why, whylen, "resumed at byte %llu", (unsigned long long)x.durable);
	else if (rc == 0 && x.note[0])
		snprintf(why, whylen, "%s", x.note);
	XXH3_freeState(x.h);
	free(spath);
	free(dpath);
	return rc;
}

int mig_xfer_link(struct mig_run *r, const struct mig_item *it, char *why, size_t whylen)
{
	char target[4096];
	char *spath = mig_path(r->src.root, it->rel);
	char *dpath = mig_path(r->dst.root, it->rel);
	int rc =
	    spath && dpath ? ufs_be_readlink(r->src.be, spath, target, sizeof(target)) : -ENOMEM;

	if (rc < 0) {
		xfer_why(r->src.be, rc, "readlink", why, whylen);
	} else {
		if (it->has_dst)
			(void)ufs_be_unlink(r->dst.be, dpath);
		rc = ufs_be_symlink(r->dst.be, target, dpath);
		if (rc != 0)
			xfer_why(r->dst.be, rc, "symlink", why, whylen);
	}
	free(spath);
	free(dpath);
	return rc < 0 ? rc : 0;
}

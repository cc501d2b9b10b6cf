/*
 * bwlimit.c — the bandwidth limit of a backend: which token bucket
 * (common/ratelimit.h) its bytes are charged to, and the writer that
 * charges what is written.
 *
 * A mount's bucket: its own when its section sets bwlimit (0: none, even
 * under a [global] limit), else the one the [global] bwlimit made, shared by
 * every mount without its own; `unifs cp`/`sync` put their --bwlimit bucket
 * on their source backends instead (migrate/copy.c), as they lend a budget.
 *
 * backend.c charges the bytes: ufs_be_read() each read's bytes once they
 * came back, and the writers ufs_be_open_writer() hands out, wrapped here
 * when a bucket is set, charge each pwrite before it is passed on. Writers
 * are used straight through their ops by fs/ and migrate/, so the wrapper is
 * the one place every written byte passes; the wrapped writer sees only its
 * own ops, and a mount without a limit gets its writers unwrapped.
 */
#include "protocols/bwlimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/ratelimit.h"

void ufs_be_bwlimit_init(struct ufs_backend *be)
{
	uint64_t rate = 0;

	be->bwlimit = be->gcfg ? be->gcfg->bw : NULL;
	be->bwlimit_own = NULL;
	if (!be->mcfg || !ufs_mcfg_get(be->mcfg, "bwlimit"))
		return;
	be->bwlimit = NULL;
	if (ufs_mcfg_get_size(be->mcfg, "bwlimit", 0, &rate) != 0 || rate == 0)
		return;
	if (ufs_ratelimit_create(rate, NULL, &be->bwlimit_own) != 0) {
		ufs_warn("mount %s: bwlimit: out of memory, no limit", be->name);
		return;
	}
	be->bwlimit = be->bwlimit_own;
}

void ufs_be_bwlimit_fini(struct ufs_backend *be)
{
	ufs_ratelimit_destroy(be->bwlimit_own);
	be->bwlimit_own = NULL;
	be->bwlimit = NULL;
}

/* A writer whose pwrites are charged to a bucket, then handed to in. */
struct bw_writer {
	struct ufs_writer w; /* first: what callers hold */
	struct ufs_writer_ops ops;
	struct ufs_writer *in;
	struct ufs_ratelimit *rl;
};

static struct ufs_writer *bw_in(struct ufs_writer *w)
{
	return ((struct bw_writer *)w)->in;
}

static ssize_t bw_pwrite(struct ufs_writer *w, const void *buf, size_t len, uint64_t off)
{
	struct ufs_writer *in = bw_in(w);

	ufs_ratelimit_take(((struct bw_writer *)w)->rl, len);
	return in->ops->pwrite(in, buf, len, off);
}

static int bw_truncate(struct ufs_writer *w, uint64_t size)
{
	return bw_in(w)->ops->truncate(bw_in(w), size);
}

static int bw_fsync(struct ufs_writer *w)
{
	return bw_in(w)->ops->fsync(bw_in(w));
}

static int bw_close(struct ufs_writer *w)
{
	struct ufs_writer *in = bw_in(w);

	free(w);
	return in->ops->close(in);
}

static void bw_abort(struct ufs_writer *w)
{
	struct ufs_writer *in = bw_in(w);

	free(w);
	in->ops->abort(in);
}

static int bw_set_meta(struct ufs_writer *w, const struct ufs_attr *meta)
{
	return bw_in(w)->ops->set_meta(bw_in(w), meta);
}

static int bw_stored_parts(struct ufs_writer *w, unsigned from, ufs_upload_part_cb cb, void *arg)
{
	return bw_in(w)->ops->stored_parts(bw_in(w), from, cb, arg);
}

static int bw_resume(struct ufs_writer *w, const char *id, unsigned n,
		     const struct ufs_upload_part *parts, char *why, size_t whylen)
{
	return bw_in(w)->ops->resume(bw_in(w), id, n, parts, why, whylen);
}

static void bw_drop(struct ufs_writer *w, const char *id)
{
	bw_in(w)->ops->drop(bw_in(w), id);
}

int ufs_be_bwlimit_writer(struct ufs_backend *be, struct ufs_writer **pw)
{
	const struct ufs_writer_ops *o = (*pw)->ops;
	struct bw_writer *bw;

	if (!be->bwlimit)
		return 0;
	bw = calloc(1, sizeof(*bw));
	if (!bw) {
		o->abort(*pw);
		*pw = NULL;
		return -ENOMEM;
	}
	bw->in = *pw;
	bw->rl = be->bwlimit;
	bw->ops = (struct ufs_writer_ops){
	    .pwrite = bw_pwrite,
	    .truncate = o->truncate ? bw_truncate : NULL,
	    .fsync = o->fsync ? bw_fsync : NULL,
	    .close = bw_close,
	    .abort = bw_abort,
	    .set_meta = o->set_meta ? bw_set_meta : NULL,
	    .stored_parts = o->stored_parts ? bw_stored_parts : NULL,
	    .resume = o->resume ? bw_resume : NULL,
	    .drop = o->drop ? bw_drop : NULL,
	};
	bw->w.ops = &bw->ops;
	bw->w.be = (*pw)->be;
	*pw = &bw->w;
	return 0;
}

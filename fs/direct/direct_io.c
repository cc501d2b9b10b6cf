/*
 * direct_io.c — entries of the direct path: checks, and the worker pool.
 *
 * An entry is checked against its session (handle, buffer, ranges, open
 * mode: a read needs a handle of an fd opened for reading, a write one
 * opened for writing, else -EBADF) before anything runs; a bad one
 * completes at once with -errno. Writes run in submission order on the
 * session thread, through the open file's write side (the same part-upload
 * pipeline as FUSE writes, whose parts upload in parallel in the
 * background). Reads are split into block-size chunks that the pool runs
 * in parallel through the open file's reader: block-cache hits are one
 * memcpy into the shared buffer, misses fan out as parallel ranged GETs /
 * NFS reads. A read is at most nworkers jobs, each taking the next chunk
 * until none is left (so a hostile ring of huge reads costs a bounded
 * number of allocations); the last job to finish completes the entry
 * (bytes, or the first -errno).
 *
 * Client buffers are mapped without pre-faulting (direct.c); before an
 * entry touches its range, that range alone is populated in one call
 * (cheaper than a fault per page, and never more than the entry uses).
 *
 * The pool is the common worker pool (common/pool.h): a FIFO of jobs
 * (chunk reads, prefetches) run by nworkers threads, all started at once;
 * stop drains it first (UFS_POOL_DRAIN), since every entry must complete.
 */
#include "fs/direct/direct_i.h"

#include "common/pool.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum job_kind { JOB_CHUNK, JOB_PREFETCH };

struct direct_job {
	struct ufs_job job; /* on ufs_direct.pool */
	enum job_kind kind;
	struct direct_sess *s;
	struct direct_op *op; /* JOB_CHUNK */
	struct direct_pf *pf; /* JOB_PREFETCH */
};

/* A read entry: its jobs come with it, freed with it by the last one out. */
struct direct_op {
	struct direct_sess *s;
	struct direct_grant *g;
	uint64_t user_data;
	uint8_t *p;		  /* buffer of the entry */
	uint64_t off;		  /* its file offset */
	uint64_t len;		  /* its length */
	uint64_t chunk;		  /* bytes per chunk */
	uint64_t nchunks;	  /* chunks in all */
	_Atomic uint64_t next;	  /* the next chunk to take */
	_Atomic unsigned running; /* jobs not finished */
	_Atomic int64_t err;
	_Atomic uint64_t bytes;
	struct direct_job jobs[];
};

static void io_job_run(struct ufs_job *uj, int cancelled);

/* Queue j on the pool. The pool only refuses once it is stopping, which is
 * after every session is reaped (so never while a job can be queued); were
 * it to, j runs here: every entry must complete. */
static void pool_push(struct ufs_direct *d, struct direct_job *j)
{
	j->job.run = io_job_run;
	if (ufs_pool_submit(d->pool, &j->job) < 0)
		io_job_run(&j->job, 0);
}

/* A new prefetch job of s for pf (owned by the job). NULL: ENOMEM. */
static struct direct_job *job_prefetch(struct direct_sess *s, struct direct_pf *pf)
{
	struct direct_job *j = calloc(1, sizeof(*j));

	if (j) {
		j->kind = JOB_PREFETCH;
		j->s = s;
		j->pf = pf;
	}
	return j;
}

/* How many files one session may prefetch at once. */
static unsigned pf_jobs(const struct ufs_direct *d)
{
	unsigned n = d->nworkers / 2;

	return n < 2 ? 2 : n > DIRECT_PREFETCH_MAX ? DIRECT_PREFETCH_MAX : n;
}

void direct_prefetch_kick(struct direct_sess *s)
{
	struct direct_job *jobs[DIRECT_PREFETCH_MAX];
	unsigned cap = pf_jobs(s->d);
	int n = 0;

	pthread_mutex_lock(&s->lock);
	if (!s->pf_head && s->pf_running == 0)
		s->pf_bytes = 0;
	while (s->pf_head && s->pf_running < cap) {
		struct direct_pf *pf = s->pf_head;
		struct direct_job *j = job_prefetch(s, pf);

		if (!j)
			break;
		s->pf_head = pf->next;
		if (!s->pf_head)
			s->pf_tail = NULL;
		s->pf_queued -= strlen(pf->path) + 1;
		s->pf_running++;
		s->inflight++;
		jobs[n++] = j;
	}
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < n; i++)
		pool_push(s->d, jobs[i]);
}

/* Finish entry op with its result. */
static void io_finish(struct direct_op *op)
{
	struct direct_sess *s = op->s;
	int64_t err = atomic_load(&op->err);

	if (err == 0)
		atomic_fetch_add(&s->d->n.bytes_read, atomic_load(&op->bytes));
	direct_entry_done(s, op->g, op->user_data, err ? err : (int64_t)atomic_load(&op->bytes));
	free(op);
}

/* Fault in [p, p + len) of a client buffer at once (writable: the entry
 * writes it). Best effort: an old kernel just faults page by page. */
static void io_populate(uint8_t *p, uint64_t len, int writable)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(page - 1), end = (uintptr_t)p + len;

	if (len)
		(void)madvise((void *)a, end - a,
			      writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

/* Run chunks of op until none is left; the last job out finishes op. */
static void io_run_chunks(struct direct_job *j)
{
	struct direct_op *op = j->op;
	struct ufs_direct *d = j->s->d;
	uint64_t i;

	while ((i = atomic_fetch_add(&op->next, 1)) < op->nchunks) {
		uint64_t at = i * op->chunk;
		size_t len = (size_t)(op->len - at < op->chunk ? op->len - at : op->chunk);
		ssize_t n;
		int64_t zero = 0;

		io_populate(op->p + at, len, 1);
		n = op->g->ops->read(d->fs, op->g->file, op->p + at, len, op->off + at);
		if (n < 0)
			atomic_compare_exchange_strong(&op->err, &zero, (int64_t)n);
		else
			atomic_fetch_add(&op->bytes, (uint64_t)n);
	}
	if (atomic_fetch_sub(&op->running, 1) == 1)
		io_finish(op);
}

/* Run one job on a worker. A drained pool never cancels a job, and a
 * job's entry must complete either way, so cancelled changes nothing. */
static void io_job_run(struct ufs_job *uj, int cancelled)
{
	struct direct_job *j = (struct direct_job *)((char *)uj - offsetof(struct direct_job, job));

	(void)cancelled;
	if (j->kind == JOB_CHUNK) {
		io_run_chunks(j); /* j is its op's, freed with it */
		return;
	}
	direct_prefetch_run(j->s, j->pf->path);
	free(j->pf);
	direct_prefetch_kick(j->s);
	direct_sess_done(j->s);
	free(j);
}

int direct_pool_start(struct ufs_direct *d, unsigned n)
{
	d->pool = ufs_pool_create(n, NULL, UFS_POOL_DRAIN);
	if (!d->pool)
		return -EAGAIN;
	d->nworkers = ufs_pool_threads(d->pool); /* fixed: all started at once */
	return 0;
}

void direct_pool_stop(struct ufs_direct *d)
{
	ufs_pool_destroy(d->pool);
	d->pool = NULL;
	d->nworkers = 0;
}

/* Check e against s: its grant (counted in flight) and buffer address. */
static int io_check(struct direct_sess *s, const struct udw_sqe *e, struct direct_grant **pg,
		    uint8_t **pp)
{
	struct ufs_direct *d = s->d;
	struct direct_grant *g;
	const struct direct_buf *b;
	int rc = 0;

	if (e->op != UDW_IO_READ && e->op != UDW_IO_WRITE)
		return -EINVAL;
	if (e->handle >= DIRECT_MAX_HANDLES || !(g = s->handles[e->handle]))
		return -EBADF;
	if (e->buf >= DIRECT_MAX_BUFS || !(b = &s->bufs[e->buf])->p)
		return -EINVAL;
	if (e->len > b->size || e->buf_off > b->size - e->len)
		return -EINVAL; /* outside the buffer */
	if (e->file_off > (uint64_t)INT64_MAX || e->len > (uint64_t)INT64_MAX - e->file_off)
		return -EINVAL; /* negative or overflowing offset */
	if (!(g->mode & (e->op == UDW_IO_WRITE ? FS_DIRECT_WRITE : FS_DIRECT_READ)))
		return -EBADF; /* as read(2)/write(2) on an fd not opened for it */
	pthread_mutex_lock(&d->lock);
	if (g->revoked)
		rc = -EBADF; /* its fd was closed */
	else
		g->inflight++;
	pthread_mutex_unlock(&d->lock);
	*pg = g;
	*pp = b->p + e->buf_off;
	return rc;
}

/* A write, run here, in order. */
static void io_write(struct direct_sess *s, struct direct_grant *g, const struct udw_sqe *e,
		     uint8_t *p)
{
	struct ufs_direct *d = s->d;
	ssize_t n = 0;

	if (e->len) {
		io_populate(p, e->len, 0);
		n = g->ops->write(d->fs, g->file, p, e->len, e->file_off);
	}

	if (n > 0)
		atomic_fetch_add(&d->n.bytes_written, (uint64_t)n);
	direct_entry_done(s, g, e->user_data, n);
}

/* A read, fanned out in chunks of the cache block size to at most
 * nworkers jobs. */
static void io_read(struct direct_sess *s, struct direct_grant *g, const struct udw_sqe *e,
		    uint8_t *p)
{
	uint64_t chunk = s->d->fs->cfg->block_size ? s->d->fs->cfg->block_size : 8u << 20;
	uint64_t nchunks = e->len ? (e->len + chunk - 1) / chunk : 1;
	unsigned njobs = nchunks < s->d->nworkers ? (unsigned)nchunks : s->d->nworkers;
	struct direct_op *op = calloc(1, sizeof(*op) + njobs * sizeof(op->jobs[0]));

	if (!op) {
		direct_entry_done(s, g, e->user_data, -ENOMEM);
		return;
	}
	op->s = s;
	op->g = g;
	op->user_data = e->user_data;
	op->p = p;
	op->off = e->file_off;
	op->len = e->len;
	op->chunk = chunk;
	op->nchunks = nchunks;
	atomic_store(&op->running, njobs);
	for (unsigned i = 0; i < njobs; i++) {
		op->jobs[i].kind = JOB_CHUNK;
		op->jobs[i].s = s;
		op->jobs[i].op = op;
		pool_push(s->d, &op->jobs[i]);
	}
}

void direct_io_start(struct direct_sess *s, const struct udw_sqe *e)
{
	struct direct_grant *g = NULL;
	uint8_t *p = NULL;
	int rc = io_check(s, e, &g, &p);

	atomic_fetch_add(&s->d->n.entries, 1);
	if (rc < 0) {
		direct_complete(s, e->user_data, rc);
		direct_sess_done(s);
	} else if (e->op == UDW_IO_WRITE) {
		io_write(s, g, e, p);
	} else {
		io_read(s, g, e, p);
	}
}

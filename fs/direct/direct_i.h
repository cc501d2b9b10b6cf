/*
 * direct_i.h — private interfaces of the direct-path room (fs/direct/).
 *
 * direct.c: the listening socket, grants (token -> open file), sessions
 * (one thread per client connection: setup requests and the submission
 * ring). direct_io.c: entry checks and the worker pool that runs reads
 * (split in block-size chunks, in parallel) and prefetch jobs.
 * direct_prefetch.c: warming the cache with whole files by path.
 * direct_done.c: completions. Calls go down that list: direct.c ->
 * direct_io.c -> direct_prefetch.c, and each of them -> direct_done.c.
 *
 * Lifetimes: a grant is referenced by the grant table (until its file is
 * revoked) and by every session handle using it; `inflight` counts entries
 * using its file, and revoke waits for it to reach zero. A session counts
 * its entries and prefetch jobs in flight and only unmaps a buffer or its
 * ring, or frees itself, once that count is zero.
 *
 * Lock order: ufs_direct.lock, then a session's lock. Neither is held while
 * an entry runs, nor while a job is queued on the pool (whose lock is a
 * leaf).
 */
#ifndef UFS_FS_DIRECT_I_H
#define UFS_FS_DIRECT_I_H

#include <pthread.h>

#include "fs/direct/direct.h"
#include "fs/inode/inode.h"
#include "lib/direct_wire.h"

/*
 * Bounds on what one client can make the daemon hold (a client is any
 * local user of an allow_other mount, and may be hostile):
 *   grants: one per open file and uid (a repeated ioctl gets the same
 *   token), DIRECT_GRANTS_PER_FILE uids per open file and
 *   DIRECT_GRANTS_PER_UID open files per uid (-EMFILE past them);
 *   sessions: DIRECT_SESS_PER_UID live per uid, fewer with a low fd limit
 *   (sess_per_uid; -EUSERS), each with at
 *   most DIRECT_MAX_HANDLES handles, DIRECT_MAX_BUFS buffers of at most
 *   UDW_BUF_MAX bytes (-EFBIG) and DIRECT_SESS_MAP_MAX bytes in all
 *   (-ENOSPC), a ring of at most UDW_RING_MAX entries, each read running
 *   as at most nworkers jobs, DIRECT_PF_QUEUE_MAX bytes of queued
 *   prefetch paths (more are dropped and counted).
 * Client memory is mapped without pre-faulting; an entry faults in only the
 * range it uses.
 */
#define DIRECT_MAX_HANDLES 1024
#define DIRECT_MAX_BUFS 256
#define DIRECT_GRANTS_PER_FILE 8
#define DIRECT_GRANTS_PER_UID 16384
/* A node's training job: 8 ranks of one uid with 32 loader workers each;
 * at most an eighth of the daemon's fd limit (a session holds 3 fds). */
#define DIRECT_SESS_PER_UID 512
#define DIRECT_SESS_MAP_MAX (64ull << 30)
#define DIRECT_PF_QUEUE_MAX (16u << 20)
/* Prefetch concurrency per session: half the worker pool (the other half
 * stays free for demand reads), at most this many. A loader's own readers
 * already keep some requests in flight; prefetch must run deeper than they
 * do to get ahead of them. */
#define DIRECT_PREFETCH_MAX 16

struct direct_grant {
	struct direct_grant *next;
	uint8_t token[UDW_TOKEN_LEN];
	void *file;
	const struct fs_direct_file_ops *ops;
	uint64_t ino;
	unsigned mode; /* FS_DIRECT_READ | FS_DIRECT_WRITE: the fd's open mode */
	uid_t uid;
	int revoked;
	unsigned inflight, refs;
};

struct direct_buf {
	uint8_t *p;
	size_t size;
};

struct direct_pf {
	struct direct_pf *next;
	char path[];
};

struct direct_sess {
	struct direct_sess *next;
	struct ufs_direct *d;
	int sfd, efd_sq, efd_cq;
	uid_t uid;
	pid_t pid;
	_Atomic int ended; /* its thread is finishing: no longer counted for uid */
	struct udw_ring *ring;
	size_t ring_bytes;
	uint32_t n, sq_head;
	pthread_t thread;
	pthread_mutex_t lock; /* CQ producers, inflight, prefetch queue */
	pthread_cond_t idle;
	unsigned inflight; /* entries + prefetch jobs running */
	unsigned entries;  /* entries admitted and not yet completed */
	struct direct_grant *handles[DIRECT_MAX_HANDLES];
	struct direct_buf bufs[DIRECT_MAX_BUFS];
	uint64_t mapped; /* bytes of bufs */
	struct direct_pf *pf_head, *pf_tail;
	size_t pf_queued; /* bytes of the queued paths */
	unsigned pf_running;
	uint64_t pf_bytes; /* prefetched since the queue was last empty */
};

struct ufs_pool;

struct ufs_direct {
	struct ufs_fs *fs;
	int lfd, stop[2];
	pthread_t thread;
	char path[UDW_SOCK_MAX];
	pthread_mutex_t lock;
	pthread_cond_t cond; /* grants' inflight dropped */
	struct direct_grant *grants;
	struct direct_sess *sessions;
	struct ufs_pool *pool;	/* runs reads and prefetches (direct_io.c) */
	unsigned nworkers;	/* threads of pool */
	_Atomic int64_t warned; /* second of the last refusal logged */
	unsigned sess_per_uid;	/* live sessions one uid may hold */
	uid_t owner;		/* the daemon's uid: not 0, the only client */
	struct {
		_Atomic uint64_t sessions, sessions_active, handles, entries;
		_Atomic uint64_t bytes_read, bytes_written, errors;
		_Atomic uint64_t prefetch_files, prefetch_bytes, prefetch_dropped;
	} n;
};

/* ---- direct_done.c ---- */

/* Post the completion of user_data with res; wakes the client. */
void direct_complete(struct direct_sess *s, uint64_t user_data, int64_t res);
/* One entry or prefetch job of s finished (after its completion). */
void direct_sess_done(struct direct_sess *s);
/* The grant's entry finished. */
void direct_grant_done(struct ufs_direct *d, struct direct_grant *g);
/* Entry user_data of s, run on grant g, finished with res: the three above,
 * in that order. */
void direct_entry_done(struct direct_sess *s, struct direct_grant *g, uint64_t user_data,
		       int64_t res);

/* ---- direct_io.c ---- */

/* Start / stop the worker pool (jobs still queued at stop are run). */
int direct_pool_start(struct ufs_direct *d, unsigned n);
void direct_pool_stop(struct ufs_direct *d);
/* Check and start one SQE of s (counts it in flight; completes it with
 * -errno at once when it is invalid). */
void direct_io_start(struct direct_sess *s, const struct udw_sqe *e);
/* Queue a prefetch job on the pool for each free prefetch slot of s (at
 * most half the pool, DIRECT_PREFETCH_MAX at most). */
void direct_prefetch_kick(struct direct_sess *s);

/* ---- direct_prefetch.c ---- */

/* Queue NUL-separated paths (len bytes) for prefetch (direct_prefetch_kick
 * starts them). 0 or -errno. */
int direct_prefetch_add(struct direct_sess *s, const char *paths, size_t len);
/* Drop the queued paths of s. */
void direct_prefetch_cancel(struct direct_sess *s);
/* Run one prefetch of path for s (from a worker). */
void direct_prefetch_run(struct direct_sess *s, const char *path);

#endif

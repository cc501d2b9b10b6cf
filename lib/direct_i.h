/*
 * direct_i.h — private interfaces of libunifs (lib/).
 *
 * One session per mount (its daemon's socket): the socket (setup requests,
 * one at a time under the session lock), the ring memfd and two eventfds.
 * Every entry in flight holds one slot of the session (slot index = the
 * CQE's user_data), so in-flight entries never exceed the ring size and the
 * completion ring cannot overflow. One waiting thread at a time "reaps"
 * (polls the completion eventfd and the socket outside the lock); the others
 * wait on the condition variable. Lock order: g_lock (direct.c) before a
 * session lock.
 */
#ifndef UFS_LIB_DIRECT_I_H
#define UFS_LIB_DIRECT_I_H

#include <pthread.h>
#include <stdint.h>

#include "lib/direct_wire.h"
#include "lib/unifs/direct.h"

#define LIB_BUF_SESSIONS 8 /* mounts one buffer can be used with */

struct lib_slot {
	int used, done;
	int64_t res;
	struct ufs_batch *batch; /* NULL: a synchronous waiter */
	void *user_data;
};

struct lib_sess {
	struct lib_sess *next;
	char sock[UDW_SOCK_MAX];
	uint64_t serial; /* unique in this process */
	int sfd, efd_sq, efd_cq;
	struct udw_ring *ring;
	size_t ring_bytes;
	uint32_t n;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int reaping;
	int dead; /* the daemon went away: everything fails with -ENOTCONN */
	unsigned nfree;
	struct lib_slot slots[UFS_RING_ENTRIES];
};

struct ufs_handle {
	struct lib_sess *s;
	uint32_t id;
	int writable;
	uint64_t size;
};

struct ufs_buf {
	int fd;
	void *ptr;
	size_t size;
	pthread_mutex_t lock;
	uint64_t stage_gen; /* a staging buffer: the pool's generation */
	struct {
		struct lib_sess *s;
		uint64_t serial;
		uint32_t id;
	} reg[LIB_BUF_SESSIONS];
};

struct ufs_batch {
	struct lib_sess *s; /* set by the first submit */
	unsigned max, inflight;
	unsigned ev_head, ev_count; /* completed events, a ring of max */
	struct ufs_io_event *ev;
};

/* ---- direct.c ---- */

/* One request/reply on s's socket (fds: up to 3 to pass, nfd of them);
 * lock held by the caller. 0 and *preply filled, or -errno. */
int lib_sess_call(struct lib_sess *s, struct udw_msg *m, const void *payload, size_t plen,
		  const int *fds, int nfd);
/* The session of the server at socket path sock (opened on first use; the
 * driver must be open). 0 or -errno. */
int lib_sess_open(const char *sock, struct lib_sess **ps);
/* Register grant g (from the ioctl) with s: *ph set. 0 or -errno. */
int lib_register_grant(struct lib_sess *s, const struct udw_grant *g, ufs_handle_t *ph);
/* The id of b in s (registers it there on first use). 0 or -errno. */
int lib_buf_id(struct ufs_buf *b, struct lib_sess *s, uint32_t *pid);
/* A staging buffer of size bytes for ufs_read_into: an idle one of the pool,
 * or a new one. 0 or -errno. */
int lib_stage_get(size_t size, struct ufs_buf **pb);
/* Give a staging buffer back: kept for the next call (at most 2), or freed
 * (pool full, or dropped since it was taken: ufs_driver_close, fork). */
void lib_stage_put(struct ufs_buf *b);

/* ---- direct_io.c ---- */

/* Submit n entries already validated to s with their slots (batch or NULL).
 * Fills pslots with the slot indices when given. 0 or -errno (-EAGAIN full). */
int lib_io_submit(struct lib_sess *s, const struct udw_sqe *sqe, unsigned n,
		  struct ufs_batch *batch, void *const *user, unsigned *pslots);
/* Wait until pred(s, arg) holds (lock held on entry and exit), reaping
 * completions. 0, -ETIMEDOUT or -ENOTCONN. timeout_ms -1: forever. */
int lib_io_wait(struct lib_sess *s, int (*pred)(struct lib_sess *, void *), void *arg,
		int timeout_ms);

#endif

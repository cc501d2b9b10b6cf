/*
 * direct_io.c — libunifs: entries through the rings (ufs_read, ufs_write,
 * the batch API).
 *
 * Submission: under the session lock, take a free slot per entry (none:
 * -EAGAIN, the ring is full), write the SQEs, publish the tail, and ring the
 * submit doorbell only when the daemon sleeps. Completion: the CQE's
 * user_data is the slot index; a reaper copies the result into the slot (a
 * synchronous waiter) or into its batch's event ring and frees the slot.
 * The socket is polled with the completion eventfd: a daemon that goes away
 * fails every waiter with -ENOTCONN instead of hanging it.
 */
#include "lib/direct_i.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int io_take_slot(struct lib_sess *s)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!s->slots[i].used) {
			memset(&s->slots[i], 0, sizeof(s->slots[i]));
			s->slots[i].used = 1;
			s->nfree--;
			return (int)i;
		}
	return -1;
}

int lib_io_submit(struct lib_sess *s, const struct udw_sqe *sqe, unsigned n,
		  struct ufs_batch *batch, void *const *user, unsigned *pslots)
{
	struct udw_ring *r = s->ring;
	uint32_t tail;

	if (s->dead)
		return -ENOTCONN;
	if (n > s->nfree)
		return -EAGAIN;
	tail = atomic_load_explicit(&r->sq_tail, memory_order_relaxed);
	for (unsigned i = 0; i < n; i++) {
		int k = io_take_slot(s);
		struct udw_sqe *e = &udw_sq(r)[(tail + i) & (s->n - 1)];

		*e = sqe[i];
		e->user_data = (uint64_t)k;
		s->slots[k].batch = batch;
		s->slots[k].user_data = user ? user[i] : NULL;
		if (pslots)
			pslots[i] = (unsigned)k;
	}
	atomic_store_explicit(&r->sq_tail, tail + n, memory_order_seq_cst);
	if (atomic_load_explicit(&r->sleeping, memory_order_seq_cst)) {
		uint64_t one = 1;

		if (write(s->efd_sq, &one, sizeof(one)) < 0 && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

/* Move completed CQEs into their slots or batches; lock held. */
static void io_reap(struct lib_sess *s)
{
	struct udw_ring *r = s->ring;
	uint32_t head = atomic_load_explicit(&r->cq_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&r->cq_tail, memory_order_acquire);

	for (; head != tail; head++) {
		struct udw_cqe c = udw_cq(r, s->n)[head & (s->n - 1)];
		struct lib_slot *sl;

		if (c.user_data >= s->n || !s->slots[c.user_data].used)
			continue;
		sl = &s->slots[c.user_data];
		if (sl->batch) {
			struct ufs_batch *b = sl->batch;
			unsigned at = (b->ev_head + b->ev_count) % b->max;

			b->ev[at].user_data = sl->user_data;
			b->ev[at].res = (ssize_t)c.res;
			b->ev_count++;
			b->inflight--;
			sl->used = 0;
			s->nfree++;
		} else {
			sl->res = c.res;
			sl->done = 1;
		}
	}
	atomic_store_explicit(&r->cq_head, head, memory_order_release);
}

static int64_t io_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Poll the completion eventfd and the socket (lock dropped). */
static void io_poll(struct lib_sess *s, int ms)
{
	struct pollfd p[2] = {{.fd = s->efd_cq, .events = POLLIN}, {.fd = s->sfd, .events = 0}};
	uint64_t v;

	s->reaping = 1;
	pthread_mutex_unlock(&s->lock);
	if (poll(p, 2, ms) > 0) {
		if (p[0].revents & POLLIN)
			(void)!read(s->efd_cq, &v, sizeof(v));
		if (p[1].revents & (POLLHUP | POLLERR)) {
			pthread_mutex_lock(&s->lock);
			s->dead = 1;
			s->reaping = 0;
			return;
		}
	}
	pthread_mutex_lock(&s->lock);
	s->reaping = 0;
}

int lib_io_wait(struct lib_sess *s, int (*pred)(struct lib_sess *, void *), void *arg,
		int timeout_ms)
{
	int64_t end = timeout_ms < 0 ? INT64_MAX : io_now_ms() + timeout_ms;

	for (;;) {
		int64_t left;

		io_reap(s);
		if (pred(s, arg))
			return 0;
		if (s->dead)
			return -ENOTCONN;
		left = end - io_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (!s->reaping) {
			io_poll(s, left > 1000 ? 1000 : (int)left);
			pthread_cond_broadcast(&s->cond);
		} else {
			struct timespec t;

			clock_gettime(CLOCK_REALTIME, &t);
			t.tv_nsec += 2000000;
			if (t.tv_nsec >= 1000000000) {
				t.tv_sec++;
				t.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&s->cond, &s->lock, &t);
		}
	}
}

/* Fill the SQE of one entry; -EINVAL for a bad handle, buffer or range. */
static int io_fill(struct lib_sess *s, ufs_handle_t h, enum ufs_op op, ufs_buf_t b, size_t len,
		   int64_t file_off, size_t buf_off, struct udw_sqe *e)
{
	uint32_t bid;
	int rc;

	if (!h || !b || h->s != s || (op != UFS_OP_READ && op != UFS_OP_WRITE))
		return -EINVAL;
	rc = lib_buf_id(b, s, &bid);
	if (rc < 0)
		return rc;
	memset(e, 0, sizeof(*e));
	e->op = op == UFS_OP_READ ? UDW_IO_READ : UDW_IO_WRITE;
	e->handle = h->id;
	e->buf = bid;
	e->file_off = (uint64_t)file_off; /* the daemon checks the ranges */
	e->len = len;
	e->buf_off = buf_off;
	return 0;
}

static int io_slot_done(struct lib_sess *s, void *arg)
{
	return s->slots[*(unsigned *)arg].done;
}

/* One entry, waited for. */
static ssize_t io_sync(ufs_handle_t h, enum ufs_op op, ufs_buf_t b, size_t size, int64_t file_off,
		       size_t buf_off)
{
	struct udw_sqe e;
	struct lib_sess *s = h ? h->s : NULL;
	unsigned slot;
	int rc;

	if (!s)
		return -EINVAL;
	rc = io_fill(s, h, op, b, size, file_off, buf_off, &e);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	rc = lib_io_submit(s, &e, 1, NULL, NULL, &slot);
	if (rc == 0)
		rc = lib_io_wait(s, io_slot_done, &slot, -1);
	if (rc == 0 || s->slots[slot].done) {
		ssize_t res = (ssize_t)s->slots[slot].res;

		s->slots[slot].used = 0;
		s->nfree++;
		pthread_mutex_unlock(&s->lock);
		return res;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

ssize_t ufs_read(ufs_handle_t h, ufs_buf_t b, size_t size, int64_t file_off, size_t buf_off)
{
	return io_sync(h, UFS_OP_READ, b, size, file_off, buf_off);
}

ssize_t ufs_write(ufs_handle_t h, ufs_buf_t b, size_t size, int64_t file_off, size_t buf_off)
{
	return io_sync(h, UFS_OP_WRITE, b, size, file_off, buf_off);
}

int ufs_batch_setup(unsigned max, ufs_batch_t *pbatch)
{
	struct ufs_batch *b;

	if (max == 0 || max > UFS_RING_ENTRIES)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->ev = calloc(max, sizeof(*b->ev)))) {
		free(b);
		return -ENOMEM;
	}
	b->max = max;
	*pbatch = b;
	return 0;
}

int ufs_batch_submit(ufs_batch_t b, const struct ufs_io_entry *en, unsigned n)
{
	struct udw_sqe sqe[UFS_RING_ENTRIES];
	void *user[UFS_RING_ENTRIES];
	struct lib_sess *s;
	int rc = 0;

	if (!b || !en || n == 0)
		return -EINVAL;
	if (n > b->max || !en[0].handle)
		return n > b->max ? -EAGAIN : -EINVAL;
	s = b->s ? b->s : en[0].handle->s;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		rc = io_fill(s, en[i].handle, en[i].op, en[i].buf, en[i].len, en[i].file_off,
			     en[i].buf_off, &sqe[i]);
		user[i] = en[i].user_data;
	}
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	if (b->inflight + b->ev_count + n > b->max)
		rc = -EAGAIN;
	else
		rc = lib_io_submit(s, sqe, n, b, user, NULL);
	if (rc == 0) {
		b->s = s;
		b->inflight += n;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

struct io_batch_want {
	struct ufs_batch *b;
	unsigned min;
};

static int io_batch_ready(struct lib_sess *s, void *arg)
{
	struct io_batch_want *w = arg;

	(void)s;
	return w->b->ev_count >= w->min || w->b->inflight == 0;
}

int ufs_batch_wait(ufs_batch_t b, unsigned min, unsigned max, struct ufs_io_event *events,
		   int timeout_ms)
{
	struct io_batch_want w = {b, min};
	unsigned k = 0;
	int rc;

	if (!b || (!events && max))
		return -EINVAL;
	if (!b->s)
		return 0;
	pthread_mutex_lock(&b->s->lock);
	rc = lib_io_wait(b->s, io_batch_ready, &w, timeout_ms);
	for (; k < max && b->ev_count; k++, b->ev_count--) {
		events[k] = b->ev[b->ev_head];
		b->ev_head = (b->ev_head + 1) % b->max;
	}
	pthread_mutex_unlock(&b->s->lock);
	if (k > 0 || rc == 0)
		return (int)k;
	return rc;
}

void ufs_batch_destroy(ufs_batch_t b)
{
	struct io_batch_want w = {b, UINT32_MAX};

	if (!b)
		return;
	if (b->s) {
		pthread_mutex_lock(&b->s->lock);
		lib_io_wait(b->s, io_batch_ready, &w, -1);
		pthread_mutex_unlock(&b->s->lock);
	}
	free(b->ev);
	free(b);
}

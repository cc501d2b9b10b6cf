/*
 * direct_done.c — completions of the direct path: an entry or a prefetch
 * job of a session finishing. The session thread (direct.c), the entries
 * (direct_io.c) and the pool's prefetch jobs all end here, so it sits
 * below the other files of the room and calls none of them.
 *
 * An entry ends in three steps, always in this order: its grant is no
 * longer in use (revoke may go on), its completion is posted on the ring
 * (the client wakes), and the session counts one thing less in flight (it
 * may now unmap or free what the entry used). direct_entry_done() does the
 * three; the steps are also exported for the cases that need only some.
 */
#include "fs/direct/direct_i.h"

#include <unistd.h>

void direct_grant_done(struct ufs_direct *d, struct direct_grant *g)
{
	pthread_mutex_lock(&d->lock);
	g->inflight--;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

void direct_complete(struct direct_sess *s, uint64_t user_data, int64_t res)
{
	struct udw_ring *r = s->ring;
	uint64_t one = 1;
	uint32_t tail;

	if (res < 0)
		atomic_fetch_add(&s->d->n.errors, 1);
	pthread_mutex_lock(&s->lock);
	tail = atomic_load_explicit(&r->cq_tail, memory_order_relaxed);
	udw_cq(r, s->n)[tail & (s->n - 1)] = (struct udw_cqe){.res = res, .user_data = user_data};
	atomic_store_explicit(&r->cq_tail, tail + 1, memory_order_release);
	s->entries--;
	pthread_mutex_unlock(&s->lock);
	(void)!write(s->efd_cq, &one, sizeof(one));
}

void direct_sess_done(struct direct_sess *s)
{
	pthread_mutex_lock(&s->lock);
	s->inflight--;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

void direct_entry_done(struct direct_sess *s, struct direct_grant *g, uint64_t user_data,
		       int64_t res)
{
	direct_grant_done(s->d, g);
	direct_complete(s, user_data, res);
	direct_sess_done(s);
}

/*
 * stream.c — read one object in order through parallel ranged reads
 * (`unifs cat`, and the copy engine of cp/sync/check).
 *
 * The object is read in `chunk`-byte pieces by up to `inflight` reader
 * threads (each with its own backend connection) into a ring of `inflight`
 * slots; the calling thread hands the chunks to the sink in order. An object
 * of one chunk is read on the calling thread (no thread is started).
 *
 * Ring invariant: chunk c lives in slot c % inflight; a slot's "chunk" field
 * is the only chunk allowed in it now. A reader that claimed chunk c waits
 * until slot.chunk == c and the slot is FREE, fills it (READING -> FILLED);
 * the drain waits for FILLED, calls the sink, then advances slot.chunk by
 * inflight and marks it FREE. One mutex guards every slot field; no I/O is
 * done while holding it. Every read is pinned to obj, so an object that
 * changes under us fails with -ESTALE.
 */
#include "migrate/migrate.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_MAX_INFLIGHT 64

enum stream_slot_state { STREAM_FREE, STREAM_READING, STREAM_FILLED };

struct stream_slot {
	char *buf;
	uint64_t chunk; /* the chunk this slot may hold now */
	ssize_t n;	/* bytes, or -errno, once FILLED */
	enum stream_slot_state state;
};

struct stream_job {
	struct ufs_backend *be;
	const struct ufs_obj *obj;
	size_t chunk;
	unsigned inflight;
	uint64_t nchunks;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t next_claim; /* next chunk a reader takes */
	int stop;	     /* set on error: readers quit */
	struct stream_slot slots[STREAM_MAX_INFLIGHT];
};

static size_t stream_chunk_len(const struct stream_job *j, uint64_t c)
{
	uint64_t left = j->obj->size - c * j->chunk;

	return left < j->chunk ? (size_t)left : j->chunk;
}

/* Read chunk c fully into buf (several backend reads if they come short). */
static ssize_t stream_read_chunk(struct stream_job *j, uint64_t c, char *buf)
{
	size_t want = stream_chunk_len(j, c);
	size_t got = 0;

	while (got < want) {
		ssize_t n = ufs_be_read(j->be, j->obj, c * j->chunk + got, want - got, buf + got);

		if (n < 0)
			return n;
		if (n == 0)
			return -ESTALE; /* shorter than its pinned size: changed */
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void *stream_reader(void *arg)
{
	struct stream_job *j = arg;

	pthread_mutex_lock(&j->lock);
	while (!j->stop && j->next_claim < j->nchunks) {
		uint64_t c = j->next_claim++;
		struct stream_slot *s = &j->slots[c % j->inflight];
		ssize_t n;

		while (!j->stop && !(s->chunk == c && s->state == STREAM_FREE))
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->stop)
			break;
		s->state = STREAM_READING;
		pthread_mutex_unlock(&j->lock);
		n = stream_read_chunk(j, c, s->buf);
		pthread_mutex_lock(&j->lock);
		s->n = n;
		s->state = STREAM_FILLED;
		pthread_cond_broadcast(&j->cond);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* Hand chunks to the sink in order. 0, a read error, or the sink's error
 * (*psink_err set for the latter). */
static int stream_drain(struct stream_job *j, mig_stream_sink sink, void *arg, int *psink_err)
{
	int rc = 0;

	for (uint64_t c = 0; c < j->nchunks && rc == 0; c++) {
		struct stream_slot *s = &j->slots[c % j->inflight];

		pthread_mutex_lock(&j->lock);
		while (!(s->chunk == c && s->state == STREAM_FILLED))
			pthread_cond_wait(&j->cond, &j->lock);
		pthread_mutex_unlock(&j->lock);
		if (s->n < 0)
			rc = (int)s->n;
		else if ((rc = sink(arg, s->buf, (size_t)s->n, c * j->chunk)) != 0)
			*psink_err = 1;
		pthread_mutex_lock(&j->lock);
		s->chunk += j->inflight;
		s->state = STREAM_FREE;
		if (rc)
			j->stop = 1;
		pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
	}
	return rc;
}

static int stream_setup(struct stream_job *j, struct ufs_backend *be, const struct ufs_obj *obj,
			const struct mig_stream_opts *o)
{
	size_t cap;

	memset(j, 0, sizeof(*j));
	j->be = be;
	j->obj = obj;
	j->chunk = o->chunk;
	j->nchunks = (obj->size + o->chunk - 1) / o->chunk;
	j->inflight = o->inflight < 1 ? 1 : o->inflight;
	if (j->inflight > STREAM_MAX_INFLIGHT)
		j->inflight = STREAM_MAX_INFLIGHT;
	if (j->inflight > j->nchunks)
		j->inflight = (unsigned)j->nchunks;
	cap = obj->size < o->chunk ? (size_t)obj->size : o->chunk;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	for (unsigned i = 0; i < j->inflight; i++) {
		j->slots[i].chunk = i;
		j->slots[i].buf = malloc(cap ? cap : 1);
		if (!j->slots[i].buf)
			return -ENOMEM;
	}
	return 0;
}

static void stream_teardown(struct stream_job *j)
{
	for (unsigned i = 0; i < j->inflight; i++)
		free(j->slots[i].buf);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
}

/* One chunk: read and sink it on this thread. */
static int stream_single(struct stream_job *j, mig_stream_sink sink, void *arg, int *psink_err)
{
	ssize_t n = stream_read_chunk(j, 0, j->slots[0].buf);
	int rc;

	if (n < 0)
		return (int)n;
	rc = sink(arg, j->slots[0].buf, (size_t)n, 0);
	*psink_err = rc != 0;
	return rc;
}

int mig_stream_object(struct ufs_backend *be, const struct ufs_obj *obj,
		      const struct mig_stream_opts *o, mig_stream_sink sink, void *arg,
		      int *psink_err)
{
	pthread_t th[STREAM_MAX_INFLIGHT];
	unsigned started = 0;
	struct stream_job j;
	int rc;

	*psink_err = 0;
	if (o->chunk == 0)
		return -EINVAL;
	if (obj->size == 0)
		return 0;
	rc = stream_setup(&j, be, obj, o);
	if (rc == 0 && j.nchunks == 1) {
		rc = stream_single(&j, sink, arg, psink_err);
		stream_teardown(&j);
		return rc;
	}
	for (; rc == 0 && started < j.inflight; started++) {
		int e = pthread_create(&th[started], NULL, stream_reader, &j);

		if (e)
			rc = -e;
	}
	if (rc == 0)
		rc = stream_drain(&j, sink, arg, psink_err);
	pthread_mutex_lock(&j.lock);
	j.stop = rc != 0;
	pthread_cond_broadcast(&j.cond);
	pthread_mutex_unlock(&j.lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	stream_teardown(&j);
	return rc;
}

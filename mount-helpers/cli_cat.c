/*
 * cli_cat.c — `unifs cat TARGET`: stream one object to stdout.
 *
 * The object is read in CAT_CHUNK pieces by CAT_INFLIGHT reader threads
 * (each with its own backend connection) into a ring of CAT_INFLIGHT slots;
 * the main thread writes the chunks to stdout in order.
 *
 * Ring invariant: chunk c lives in slot c % CAT_INFLIGHT; a slot's "chunk"
 * field is the only chunk allowed in it now. A reader that claimed chunk c
 * waits until slot.chunk == c and the slot is FREE, fills it (READING ->
 * FILLED); the writer waits for FILLED, writes, then advances slot.chunk by
 * CAT_INFLIGHT and marks it FREE. One mutex guards every slot field; no I/O
 * is done while holding it. Every read is pinned to the identity from
 * getattr, so a file that changes under us fails with ESTALE.
 */
#include "mount-helpers/cli_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAT_CHUNK (8u << 20)
#define CAT_INFLIGHT 4

enum cat_slot_state { CAT_FREE, CAT_READING, CAT_FILLED };

struct cat_slot {
	char *buf;
	uint64_t chunk; /* the chunk this slot may hold now */
	ssize_t n;	/* bytes, or -errno, once FILLED */
	enum cat_slot_state state;
};

struct cat_job {
	struct ufs_backend *be;
	struct ufs_obj obj;
	uint64_t nchunks;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t next_claim; /* next chunk a reader takes */
	int stop;	     /* set on error: readers quit */
	struct cat_slot slots[CAT_INFLIGHT];
};

static size_t cat_chunk_len(const struct cat_job *j, uint64_t c)
{
	uint64_t off = c * CAT_CHUNK;
	uint64_t left = j->obj.size - off;

	return left < CAT_CHUNK ? (size_t)left : CAT_CHUNK;
}

/* Read chunk c fully into buf (several backend reads if they come short). */
static ssize_t cat_read_chunk(struct cat_job *j, uint64_t c, char *buf)
{
	size_t want = cat_chunk_len(j, c);
	size_t got = 0;

	while (got < want) {
		ssize_t n = ufs_be_read(j->be, &j->obj, c * CAT_CHUNK + got, want - got, buf + got);

		if (n < 0)
			return n;
		if (n == 0)
			return -ESTALE; /* shorter than its pinned size: changed */
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void *cat_reader(void *arg)
{
	struct cat_job *j = arg;

	pthread_mutex_lock(&j->lock);
	while (!j->stop && j->next_claim < j->nchunks) {
		uint64_t c = j->next_claim++;
		struct cat_slot *s = &j->slots[c % CAT_INFLIGHT];
		ssize_t n;

		while (!j->stop && !(s->chunk == c && s->state == CAT_FREE))
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->stop)
			break;
		s->state = CAT_READING;
		pthread_mutex_unlock(&j->lock);
		n = cat_read_chunk(j, c, s->buf);
		pthread_mutex_lock(&j->lock);
		s->n = n;
		s->state = CAT_FILLED;
		pthread_cond_broadcast(&j->cond);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* Writer: emit chunks in order. Returns 0, a read error, or a write error
 * (as -errno; *pwrite_err set for the latter). */
static int cat_drain(struct cat_job *j, int *pwrite_err)
{
	int rc = 0;

	for (uint64_t c = 0; c < j->nchunks && rc == 0; c++) {
		struct cat_slot *s = &j->slots[c % CAT_INFLIGHT];

		pthread_mutex_lock(&j->lock);
		while (!(s->chunk == c && s->state == CAT_FILLED))
			pthread_cond_wait(&j->cond, &j->lock);
		pthread_mutex_unlock(&j->lock);
		if (s->n < 0)
			rc = (int)s->n;
		else if ((rc = cli_write_all(STDOUT_FILENO, s->buf, (size_t)s->n)) != 0)
			*pwrite_err = 1;
		pthread_mutex_lock(&j->lock);
		s->chunk += CAT_INFLIGHT;
		s->state = CAT_FREE;
		if (rc)
			j->stop = 1;
		pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
	}
	return rc;
}

static int cat_setup(struct cat_job *j, struct cli_target *t, const struct ufs_attr *a)
{
	memset(j, 0, sizeof(*j));
	j->be = t->be;
	j->obj.path = t->rel;
	j->obj.size = a->size;
	j->obj.mtime = a->mtime;
	memcpy(j->obj.etag, a->etag, sizeof(j->obj.etag));
	j->nchunks = (a->size + CAT_CHUNK - 1) / CAT_CHUNK;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	for (unsigned i = 0; i < CAT_INFLIGHT; i++) {
		j->slots[i].chunk = i;
		j->slots[i].buf = malloc(CAT_CHUNK);
		if (!j->slots[i].buf)
			return -ENOMEM;
	}
	return 0;
}

static void cat_teardown(struct cat_job *j)
{
	for (unsigned i = 0; i < CAT_INFLIGHT; i++)
		free(j->slots[i].buf);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
}

/* Stream the object; returns 0 or -errno (*pwrite_err: a stdout failure). */
static int cat_stream(struct cli_target *t, const struct ufs_attr *a, int *pwrite_err)
{
	pthread_t th[CAT_INFLIGHT];
	unsigned started = 0;
	struct cat_job j;
	int rc = cat_setup(&j, t, a);

	for (; rc == 0 && started < CAT_INFLIGHT && started < j.nchunks; started++) {
		int e = pthread_create(&th[started], NULL, cat_reader, &j);

		if (e)
			rc = -e;
	}
	if (rc == 0)
		rc = cat_drain(&j, pwrite_err);
	pthread_mutex_lock(&j.lock);
	j.stop = rc != 0;
	pthread_cond_broadcast(&j.cond);
	pthread_mutex_unlock(&j.lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	cat_teardown(&j);
	return rc;
}

static void cat_usage(FILE *f)
{
	fputs("usage: unifs cat URL\n"
	      "       unifs cat -c CONFIG /path/in/namespace\n"
	      "\n"
	      "Write one file or object to stdout (parallel 8 MiB ranged reads).\n",
	      f);
}

static int cat_run(struct cli_target *t)
{
	struct ufs_attr a;
	int write_err = 0;
	int rc = cli_target_getattr(t, &a);

	if (rc == 0 && S_ISDIR(a.mode))
		rc = -EISDIR;
	if (rc == 0 && !t->be)
		rc = -ENOENT;
	if (rc == 0)
		rc = cat_stream(t, &a, &write_err);
	if (rc == 0)
		return CLI_OK;
	if (write_err) {
		cli_error("cat", "stdout: %s", cli_strerror(rc));
		return CLI_FAIL;
	}
	return cli_target_fail(t, rc);
}

int cli_cat_main(int argc, char **argv)
{
	return cli_target_command(argc, argv, "cat", "", cat_usage, cat_run);
}

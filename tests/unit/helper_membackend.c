/*
 * helper_membackend.c — in-memory backend for unit tests (see the header).
 * One mutex guards the objects, counters and the read log; data is copied
 * under it, the injected delay is slept outside it.
 */
#include "helper_membackend.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct memb_object {
	char *path;
	char *data;
	size_t size;
	char etag[UFS_ETAG_MAX];
	struct memb_object *next;
};

struct memb_range {
	uint64_t off, len;
};

struct memb_backend {
	struct ufs_backend head; /* first: the cache sees a struct ufs_backend */
	struct ufs_mount_cfg mcfg;
	pthread_mutex_t lock;
	struct memb_object *objects;
	int fail_err, fail_count;
	unsigned delay_us, inflight, max_inflight;
	uint64_t reads, bytes;
	struct memb_range *log;
	size_t nlog, caplog;
};

static struct memb_backend *memb_of(struct ufs_backend *be)
{
	return (struct memb_backend *)be;
}

static struct memb_object *memb_find(struct memb_backend *m, const char *path)
{
	for (struct memb_object *o = m->objects; o; o = o->next)
		if (strcmp(o->path, path) == 0)
			return o;
	return NULL;
}

/* Pop one injected failure, or 0. Lock held. */
static int memb_take_failure(struct memb_backend *m)
{
	if (m->fail_count == 0)
		return 0;
	if (m->fail_count > 0)
		m->fail_count--;
	return m->fail_err;
}

static void memb_log(struct memb_backend *m, uint64_t off, uint64_t len)
{
	if (m->nlog == m->caplog) {
		size_t ncap = m->caplog ? m->caplog * 2 : 64;
		struct memb_range *nl = realloc(m->log, ncap * sizeof(*nl));

		if (!nl)
			return;
		m->log = nl;
		m->caplog = ncap;
	}
	m->log[m->nlog++] = (struct memb_range){off, len};
}

/* Copy the pinned range under the lock; bytes or -errno. */
static ssize_t memb_copy(struct memb_backend *m, const struct ufs_obj *obj, uint64_t off,
			 size_t len, void *buf)
{
	struct memb_object *o = memb_find(m, obj->path);
	int err = memb_take_failure(m);

	if (err)
		return err;
	if (!o)
		return -ENOENT;
	if (o->size != obj->size || strcmp(o->etag, obj->etag) != 0)
		return -ESTALE;
	m->reads++;
	memb_log(m, off, len);
	if (off >= o->size)
		return 0;
	if (len > o->size - off)
		len = (size_t)(o->size - off);
	memcpy(buf, o->data + off, len);
	m->bytes += len;
	return (ssize_t)len;
}

static ssize_t memb_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off,
			 size_t len, void *buf)
{
	struct memb_backend *m = memb_of(be);
	unsigned delay;
	ssize_t n;

	pthread_mutex_lock(&m->lock);
	if (++m->inflight > m->max_inflight)
		m->max_inflight = m->inflight;
	delay = m->delay_us;
	n = memb_copy(m, obj, off, len, buf);
	pthread_mutex_unlock(&m->lock);
	if (delay)
		usleep(delay);
	pthread_mutex_lock(&m->lock);
	m->inflight--;
	pthread_mutex_unlock(&m->lock);
	return n;
}

static int memb_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	struct memb_backend *m = memb_of(be);
	struct memb_object *o;
	int rc = -ENOENT;

	pthread_mutex_lock(&m->lock);
	o = memb_find(m, path);
	if (o) {
		memset(pattr, 0, sizeof(*pattr));
		pattr->mode = 0100644;
		pattr->nlink = 1;
		pattr->size = o->size;
		memcpy(pattr->etag, o->etag, sizeof(pattr->etag));
		rc = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static void memb_destroy(struct ufs_backend *be)
{
	struct memb_backend *m = memb_of(be);
	struct memb_object *o;

	while ((o = m->objects)) {
		m->objects = o->next;
		free(o->path);
		free(o->data);
		free(o);
	}
	free(m->log);
	free(m->mcfg.url);
	free(m->mcfg.prefix);
	pthread_mutex_destroy(&m->lock);
	ufs_be_fini(be);
	free(m);
}

static const struct ufs_backend_ops memb_ops = {
    .scheme = "mem",
    .getattr = memb_getattr,
    .read = memb_read,
    .destroy = memb_destroy,
};

struct ufs_backend *ufs_memb_create(const char *url)
{
	struct memb_backend *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->mcfg.url = strdup(url);
	m->mcfg.prefix = strdup("/mem");
	if (!m->mcfg.url || !m->mcfg.prefix) {
		free(m->mcfg.url);
		free(m->mcfg.prefix);
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	ufs_be_init(&m->head, &memb_ops, &m->mcfg, NULL);
	return &m->head;
}

/* Replace o's content with a copy of data. Lock held. */
static int memb_set(struct memb_object *o, const void *data, size_t size, const char *etag)
{
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, size);
	free(o->data);
	o->data = copy;
	o->size = size;
	strncpy(o->etag, etag, sizeof(o->etag) - 1);
	o->etag[sizeof(o->etag) - 1] = '\0';
	return 0;
}

/* Allocate and link an empty object at path. Lock held. */
static struct memb_object *memb_new(struct memb_backend *m, const char *path)
{
	struct memb_object *o = calloc(1, sizeof(*o));

	if (!o || !(o->path = strdup(path))) {
		free(o);
		return NULL;
	}
	o->next = m->objects;
	m->objects = o;
	return o;
}

int ufs_memb_put(struct ufs_backend *be, const char *path, const void *data, size_t size,
		 const char *etag)
{
	struct memb_backend *m = memb_of(be);
	struct memb_object *o;
	int rc;

	pthread_mutex_lock(&m->lock);
	o = memb_find(m, path);
	if (!o)
		o = memb_new(m, path);
	rc = o ? memb_set(o, data, size, etag) : -ENOMEM;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int ufs_memb_obj(struct ufs_backend *be, const char *path, struct ufs_obj *pobj)
{
	struct memb_backend *m = memb_of(be);
	struct memb_object *o;

	pthread_mutex_lock(&m->lock);
	o = memb_find(m, path);
	if (o) {
		memset(pobj, 0, sizeof(*pobj));
		pobj->path = o->path;
		pobj->size = o->size;
		memcpy(pobj->etag, o->etag, sizeof(pobj->etag));
	}
	pthread_mutex_unlock(&m->lock);
	return o ? 0 : -ENOENT;
}

void ufs_memb_fail(struct ufs_backend *be, int err, int count)
{
	struct memb_backend *m = memb_of(be);

	pthread_mutex_lock(&m->lock);
	m->fail_err = err;
	m->fail_count = count;
	pthread_mutex_unlock(&m->lock);
}

void ufs_memb_set_delay(struct ufs_backend *be, unsigned us)
{
	struct memb_backend *m = memb_of(be);

	pthread_mutex_lock(&m->lock);
	m->delay_us = us;
	pthread_mutex_unlock(&m->lock);
}

/* Read one counter under the lock. */
static uint64_t memb_counter(struct ufs_backend *be, const uint64_t *field)
{
	struct memb_backend *m = memb_of(be);
	uint64_t v;

	pthread_mutex_lock(&m->lock);
	v = *field;
	pthread_mutex_unlock(&m->lock);
	return v;
}

uint64_t ufs_memb_reads(struct ufs_backend *be)
{
	return memb_counter(be, &memb_of(be)->reads);
}

uint64_t ufs_memb_bytes(struct ufs_backend *be)
{
	return memb_counter(be, &memb_of(be)->bytes);
}

unsigned ufs_memb_max_inflight(struct ufs_backend *be)
{
	struct memb_backend *m = memb_of(be);
	unsigned v;

	pthread_mutex_lock(&m->lock);
	v = m->max_inflight;
	pthread_mutex_unlock(&m->lock);
	return v;
}

uint64_t ufs_memb_reads_touching(struct ufs_backend *be, uint64_t off, uint64_t len)
{
	struct memb_backend *m = memb_of(be);
	uint64_t n = 0;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nlog; i++)
		if (m->log[i].off < off + len && off < m->log[i].off + m->log[i].len)
			n++;
	pthread_mutex_unlock(&m->lock);
	return n;
}

void ufs_memb_reset_counts(struct ufs_backend *be)
{
	struct memb_backend *m = memb_of(be);

	pthread_mutex_lock(&m->lock);
	m->reads = m->bytes = 0;
	m->max_inflight = 0;
	m->nlog = 0;
	pthread_mutex_unlock(&m->lock);
}

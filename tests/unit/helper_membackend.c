/*
 * helper_membackend.c — in-memory backend for unit tests (see the header).
 * One mutex guards the objects, counters and the read log; data is copied
 * under it, the injected delay is slept outside it.
 */
#include "helper_membackend.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "protocols/objstore/objstore.h"

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

/* ==== an in-memory object store (struct ufs_os_prims) ==== */

#define MEMOS_MAX 256
#define MEMOS_PARTS 64

struct memos_obj {
	char *key;
	char *data;
	size_t size;
	int marker;
	char etag[UFS_ETAG_MAX];
};

struct memos {
	struct ufs_os os; /* first */
	pthread_mutex_t lock;
	int azure_markers;
	size_t part_len;
	unsigned serial;
	int stuck_token; /* listing pages repeat one continuation token */
	struct memos_obj obj[MEMOS_MAX];
	size_t n;
	char *part[MEMOS_PARTS];
	size_t part_size[MEMOS_PARTS];
};

static struct memos *memos_of(void *p)
{
	return (struct memos *)p;
}

static int memos_cmp(const void *a, const void *b)
{
	return strcmp(((const struct memos_obj *)a)->key, ((const struct memos_obj *)b)->key);
}

/* Lock held. */
static struct memos_obj *memos_find(struct memos *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->obj[i].key, key) == 0)
			return &s->obj[i];
	return NULL;
}

/* Create or replace key. Lock held. */
static int memos_store(struct memos *s, const char *key, const void *data, size_t size, int marker)
{
	struct memos_obj *o = memos_find(s, key);
	char *copy = malloc(size ? size : 1);

	if (!copy || (!o && s->n == MEMOS_MAX)) {
		free(copy);
		return -ENOMEM;
	}
	if (!o) {
		o = &s->obj[s->n++];
		o->key = strdup(key);
	} else {
		free(o->data);
	}
	memcpy(copy, data, size);
	o->data = copy;
	o->size = size;
	o->marker = marker;
	snprintf(o->etag, sizeof(o->etag), "e%u", ++s->serial);
	qsort(s->obj, s->n, sizeof(s->obj[0]), memos_cmp);
	return 0;
}

int ufs_memos_put(struct ufs_backend *be, const char *key, const void *data, size_t size,
		  int marker)
{
	struct memos *s = memos_of(be);
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = memos_store(s, key, data, size, marker);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ufs_memos_has(struct ufs_backend *be, const char *key)
{
	struct memos *s = memos_of(be);
	int has;

	pthread_mutex_lock(&s->lock);
	has = memos_find(s, key) != NULL;
	pthread_mutex_unlock(&s->lock);
	return has;
}

void ufs_memos_stuck_token(struct ufs_backend *be, int on)
{
	memos_of(be)->stuck_token = on;
}

static int memos_head(struct ufs_os *os, const char *key, struct ufs_attr *pattr)
{
	struct memos *s = memos_of(os);
	struct memos_obj *o;

	pthread_mutex_lock(&s->lock);
	o = memos_find(s, key);
	if (o) {
		pattr->mode = o->marker ? S_IFDIR : S_IFREG;
		pattr->size = o->size;
		pattr->mtime = os->created;
		snprintf(pattr->etag, sizeof(pattr->etag), "%s", o->etag);
	}
	pthread_mutex_unlock(&s->lock);
	return o ? 0 : -ENOENT;
}

/* Entry i of a listing of prefix: its name, rolled up at '/' when delim. */
static struct ufs_os_entry memos_entry(const struct memos_obj *o, size_t plen, int delim)
{
	const char *rest = o->key + plen, *slash = delim ? strchr(rest, '/') : NULL;
	struct ufs_os_entry e = {
	    .name = rest, .name_len = strlen(rest), .size = o->size, .etag = o->etag};

	e.kind = o->marker ? UFS_OS_MARKER : UFS_OS_FILE;
	if (slash && slash[1] != '\0') {
		e.kind = UFS_OS_PREFIX;
		e.name_len = (size_t)(slash - rest) + 1;
	} else if (slash && slash != rest) {
		e.kind = UFS_OS_PREFIX; /* an S3 marker "d/" below the prefix */
	}
	return e;
}

/* Tokens are the last reported name; pages are walked under the lock but
 * reported outside it (the callback may call back in). */
static int memos_list_page(struct ufs_os *os, const char *prefix, int delim, unsigned max,
			   char **ptoken, ufs_os_entry_cb cb, void *arg)
{
	struct memos *s = memos_of(os);
	size_t plen = strlen(prefix);
	struct ufs_os_entry *page = calloc(max + 1, sizeof(*page));
	char **names = calloc(max + 1, sizeof(*names));
	unsigned n = 0;
	int rc = 0, more = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++) {
		struct ufs_os_entry e;

		if (strncmp(s->obj[i].key, prefix, plen) != 0)
			continue;
		e = memos_entry(&s->obj[i], plen, delim);
		free(names[n]);
		names[n] = strndup(e.name, e.name_len);
		if ((*ptoken && strcmp(names[n], *ptoken) <= 0) ||
		    (n && strcmp(names[n], names[n - 1]) == 0))
			continue; /* already reported, or the same rolled-up prefix */
		if (n == max) {
			more = 1;
			break;
		}
		e.name = names[n];
		page[n++] = e;
	}
	pthread_mutex_unlock(&s->lock);
	free(*ptoken);
	*ptoken = s->stuck_token ? strdup("stuck") : more ? strdup(names[n - 1]) : NULL;
	for (unsigned i = 0; !rc && i < n; i++)
		rc = cb(arg, &page[i]);
	for (unsigned i = 0; i <= n; i++)
		free(names[i]);
	free(names);
	free(page);
	return rc;
}

static ssize_t memos_get(struct ufs_os *os, const char *key, const char *etag, uint64_t off,
			 size_t len, void *buf)
{
	struct memos *s = memos_of(os);
	struct memos_obj *o;
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	o = memos_find(s, key);
	if (!o)
		n = -ENOENT;
	else if (etag[0] && strcmp(etag, o->etag) != 0)
		n = -ESTALE;
	else if (off >= o->size)
		n = -ERANGE;
	else {
		n = (ssize_t)(o->size - off < len ? o->size - off : len);
		memcpy(buf, o->data + off, (size_t)n);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

static int memos_put(struct ufs_os *os, const char *key, const void *buf, size_t len, int excl,
		     const struct ufs_attr *meta)
{
	struct memos *s = memos_of(os);
	int rc;

	(void)meta;
	pthread_mutex_lock(&s->lock);
	rc = excl && memos_find(s, key) ? -ESTALE : memos_store(s, key, buf, len, 0);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int memos_put_marker(struct ufs_os *os, const char *dirkey)
{
	struct memos *s = memos_of(os);
	char *key = NULL;
	int rc;

	if (s->azure_markers) {
		pthread_mutex_lock(&s->lock);
		rc = memos_find(s, dirkey) ? -ESTALE : memos_store(s, dirkey, "", 0, 1);
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	if (asprintf(&key, "%s/", dirkey) < 0)
		return -ENOMEM;
	rc = ufs_memos_put(&os->base, key, "", 0, 0);
	free(key);
	return rc;
}

static int memos_copy(struct ufs_os *os, const char *from, const char *to, uint64_t size,
		      const char *etag, int noreplace)
{
	struct memos *s = memos_of(os);
	struct memos_obj *o;
	int rc;

	(void)size;
	pthread_mutex_lock(&s->lock);
	o = memos_find(s, from);
	if (!o)
		rc = -ENOENT;
	else if ((etag[0] && strcmp(etag, o->etag) != 0) || (noreplace && memos_find(s, to)))
		rc = -ESTALE;
	else
		rc = memos_store(s, to, o->data, o->size, o->marker);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int memos_del(struct ufs_os *os, const char *key)
{
	struct memos *s = memos_of(os);
	struct memos_obj *o;

	pthread_mutex_lock(&s->lock);
	o = memos_find(s, key);
	if (o) {
		free(o->key);
		free(o->data);
		*o = s->obj[--s->n];
		qsort(s->obj, s->n, sizeof(s->obj[0]), memos_cmp);
	}
	pthread_mutex_unlock(&s->lock);
	return o ? 0 : -ENOENT;
}

static int memos_mpu_begin(struct ufs_os *os, const char *key, char **pid)
{
	(void)os;
	(void)key;
	*pid = strdup("upload-1");
	return *pid ? 0 : -ENOMEM;
}

static int memos_mpu_part(struct ufs_os *os, const char *key, const char *id, unsigned n,
			  const void *buf, size_t len, char etag[UFS_ETAG_MAX])
{
	struct memos *s = memos_of(os);
	char *copy = malloc(len);

	(void)key;
	(void)id;
	if (!copy || n == 0 || n > MEMOS_PARTS) {
		free(copy);
		return copy ? -EFBIG : -ENOMEM;
	}
	memcpy(copy, buf, len);
	snprintf(etag, UFS_ETAG_MAX, "p%u", n);
	pthread_mutex_lock(&s->lock);
	free(s->part[n - 1]);
	s->part[n - 1] = copy;
	s->part_size[n - 1] = len;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void memos_parts_free(struct memos *s)
{
	for (unsigned i = 0; i < MEMOS_PARTS; i++) {
		free(s->part[i]);
		s->part[i] = NULL;
		s->part_size[i] = 0;
	}
}

static int memos_mpu_commit(struct ufs_os *os, const char *key, const char *id,
			    char (*etags)[UFS_ETAG_MAX], unsigned n, int excl)
{
	struct memos *s = memos_of(os);
	size_t total = 0, o = 0;
	char *all;
	int rc, bad = 0;

	(void)id;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < n; i++)
		total += s->part_size[i];
	all = malloc(total ? total : 1);
	for (unsigned i = 0; all && i < n; i++) {
		bad |= !etags || etags[i][0] != 'p'; /* an ETag the part did not return */
		memcpy(all + o, s->part[i], s->part_size[i]);
		o += s->part_size[i];
	}
	rc = !all ? -ENOMEM : bad ? -EIO : excl && memos_find(s, key) ? -ESTALE : 0;
	if (!rc)
		rc = memos_store(s, key, all, o, 0);
	memos_parts_free(s);
	pthread_mutex_unlock(&s->lock);
	free(all);
	return rc;
}

static void memos_mpu_abort(struct ufs_os *os, const char *key, const char *id)
{
	struct memos *s = memos_of(os);

	(void)key;
	(void)id;
	pthread_mutex_lock(&s->lock);
	memos_parts_free(s);
	pthread_mutex_unlock(&s->lock);
}

static uint64_t memos_part_len(struct ufs_os *os, unsigned n)
{
	(void)n;
	return memos_of(os)->part_len;
}

static const struct ufs_os_prims memos_prims = {
    .store = "memory",
    .max_parts = MEMOS_PARTS,
    .part_etags = 1,
    .part_len = memos_part_len,
    .head = memos_head,
    .list_page = memos_list_page,
    .get = memos_get,
    .put = memos_put,
    .put_marker = memos_put_marker,
    .copy = memos_copy,
    .del = memos_del,
    .mpu_begin = memos_mpu_begin,
    .mpu_part = memos_mpu_part,
    .mpu_commit = memos_mpu_commit,
    .mpu_abort = memos_mpu_abort,
};

static void memos_destroy(struct ufs_backend *be)
{
	struct memos *s = memos_of(be);

	for (size_t i = 0; i < s->n; i++) {
		free(s->obj[i].key);
		free(s->obj[i].data);
	}
	memos_parts_free(s);
	pthread_mutex_destroy(&s->lock);
	ufs_os_fini(&s->os);
	free(s);
}

static const struct ufs_backend_ops memos_ops =
    UFS_OS_OPS("memos", "memos:// (tests)", NULL, NULL, NULL, memos_destroy);

int ufs_memos_create(const struct ufs_mount_cfg *m, int azure_markers, size_t part_len,
		     struct ufs_backend **pbe, char *err, size_t errlen)
{
	struct memos *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->azure_markers = azure_markers;
	s->part_len = part_len;
	rc = ufs_os_init(&s->os, &memos_ops, &memos_prims, m, NULL, err, errlen);
	s->os.prefix = strdup("pfx/");
	s->os.parallel = 2;
	if (!rc && !s->os.prefix)
		rc = -ENOMEM;
	if (rc) {
		memos_destroy(&s->os.base);
		return rc;
	}
	*pbe = &s->os.base;
	return 0;
}

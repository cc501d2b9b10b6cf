/*
 * direct_prefetch.c — ufs_prefetch: warm the block cache with whole files,
 * in the order the client gave (a shuffled sampler's), so its reads (direct
 * or through FUSE) hit memory when they get there.
 *
 * Each session keeps a FIFO of absolute paths; at most half the worker pool
 * (DIRECT_PREFETCH_MAX at most) of them are fetched at a time, each file read block by
 * block through a cache stream with pinned reads released at once (no copy).
 * Bound: a session prefetches at most half the memory budget ahead of the
 * last time its queue was empty; the paths past that are dropped and
 * counted (prefetch_dropped), since they would only evict earlier ones.
 * The queue itself holds at most DIRECT_PF_QUEUE_MAX bytes of paths per
 * session; paths past that are dropped and counted the same way.
 * Prefetch returns no data: a path the client may not read only warms the
 * cache for whoever may. Cancel drops the queue; running fetches finish
 * their current file.
 */
#include "fs/direct/direct_i.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "common/budget.h"

int direct_prefetch_add(struct direct_sess *s, const char *paths, size_t len)
{
	size_t at = 0;

	while (at < len) {
		size_t l = strnlen(paths + at, len - at);
		struct direct_pf *pf;

		if (at + l == len)
			return -EINVAL; /* not NUL-terminated */
		at += l + 1;
		pthread_mutex_lock(&s->lock);
		pf = s->pf_queued + l + 1 <= DIRECT_PF_QUEUE_MAX ? malloc(sizeof(*pf) + l + 1)
								 : NULL;
		if (pf) {
			memcpy(pf->path, paths + at - l - 1, l + 1);
			pf->next = NULL;
			if (s->pf_tail)
				s->pf_tail->next = pf;
			else
				s->pf_head = pf;
			s->pf_tail = pf;
			s->pf_queued += l + 1;
		}
		pthread_mutex_unlock(&s->lock);
		if (!pf)
			atomic_fetch_add(&s->d->n.prefetch_dropped, 1);
	}
	return 0;
}

void direct_prefetch_cancel(struct direct_sess *s)
{
	struct direct_pf *pf;

	pthread_mutex_lock(&s->lock);
	pf = s->pf_head;
	s->pf_head = s->pf_tail = NULL;
	s->pf_queued = 0;
	pthread_mutex_unlock(&s->lock);
	while (pf) {
		struct direct_pf *next = pf->next;

		atomic_fetch_add(&s->d->n.prefetch_dropped, 1);
		free(pf);
		pf = next;
	}
}

/* The node of absolute path p (on the mount) in *pn. 0 or -errno. */
static int pf_node(struct ufs_fs *fs, const char *p, char *buf, size_t size, struct fs_node *pn)
{
	size_t ml = strlen(fs->mountpoint);
	int rc;

	if (strcmp(fs->mountpoint, "/") != 0) {
		if (strncmp(p, fs->mountpoint, ml) != 0 || (p[ml] != '/' && p[ml] != '\0'))
			return -EXDEV;
		p += ml;
	}
	rc = ufs_ns_normalize(*p ? p : "/", buf, size);
	if (rc == 0)
		rc = ufs_ns_resolve(fs->ns, buf, &pn->mount, &pn->rel);
	if (rc == 0 && pn->mount < 0)
		rc = -EISDIR;
	if (rc < 0)
		return rc;
	pn->path = buf;
	pn->be = fs->be[pn->mount];
	pn->synthetic = 0;
	pn->ino = 0;
	return 0;
}

/* Read every block of obj through the cache, releasing each at once. */
static uint64_t pf_fetch(struct ufs_direct *d, struct direct_sess *s, struct fs_node *n,
			 const struct ufs_attr *a)
{
	struct ufs_fs *fs = d->fs;
	struct ufs_obj obj = {.path = n->rel, .size = a->size, .mtime = a->mtime};
	struct ufs_rstream *rs;
	uint64_t off = 0, bs = fs->cfg->block_size ? fs->cfg->block_size : 8u << 20;

	memcpy(obj.etag, a->etag, sizeof(obj.etag));
	if (ufs_cache_open(fs->cache, n->be, &obj, 0, &rs) < 0)
		return 0;
	while (off < a->size) {
		struct ufs_cache_pin *pin;
		ssize_t got = ufs_cache_read_pinned(rs, (size_t)bs, off, &pin);

		if (got <= 0)
			break;
		ufs_cache_unpin(pin);
		off += (uint64_t)got;
		pthread_mutex_lock(&s->lock);
		s->pf_bytes += (uint64_t)got;
		pthread_mutex_unlock(&s->lock);
	}
	ufs_cache_close(rs);
	return off;
}

static void pf_one(struct direct_sess *s, const char *path)
{
	struct ufs_direct *d = s->d;
	struct ufs_fs *fs = d->fs;
	char buf[PATH_MAX];
	struct fs_node n;
	struct ufs_attr a;
	uint64_t got, ahead;

	pthread_mutex_lock(&s->lock);
	ahead = s->pf_bytes;
	pthread_mutex_unlock(&s->lock);
	if (!fs->cache || ahead > ufs_budget_limit(fs->budget) / 2 ||
	    pf_node(fs, path, buf, sizeof(buf), &n) < 0 || fs_node_getattr(fs, &n, 0, &a) < 0 ||
	    !S_ISREG(a.mode)) {
		atomic_fetch_add(&d->n.prefetch_dropped, 1);
		return;
	}
	got = pf_fetch(d, s, &n, &a);
	atomic_fetch_add(&d->n.prefetch_files, 1);
	atomic_fetch_add(&d->n.prefetch_bytes, got);
}

void direct_prefetch_run(struct direct_sess *s, const char *path)
{
	pf_one(s, path);
	pthread_mutex_lock(&s->lock);
	s->pf_running--;
	pthread_mutex_unlock(&s->lock);
}

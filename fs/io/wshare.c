/*
 * wshare.c — one write side per object-store inode, shared by every handle
 * open for writing on it.
 *
 * An object store keeps a file being written in one place on this host: the
 * stream of a multipart upload or a staging file (writepath.c). Two handles
 * with write sides of their own would each upload their own view and the
 * last close would silently drop what the other wrote. So the first handle
 * that opens an object-store inode for writing creates its write side and
 * later ones join it: every call of every joined handle serialises on the
 * share's lock, a read through any of them sees what all of them wrote, a
 * flush (close(2)) of any uploads it all, and the last release closes it.
 * O_TRUNC on a joining open truncates the shared file.
 *
 * POSIX backends (file, nfs) do not share: each handle has its own writer
 * and the server is the shared state.
 *
 * Lock order: the registry lock (fs_wshares.lock) is a leaf, never held
 * while a share's lock is taken or while a backend is called.
 */
#include "fs/io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

struct fs_wshare {
	uint64_t ino;
	int refs;		/* handles joined; registry lock */
	pthread_mutex_t lock;	/* serialises the calls of every joined handle */
	struct fs_wfile *wf;	/* the write side */
	struct fs_wshare *next; /* registry list */
};

struct fs_wshares {
	pthread_mutex_t lock;
	struct fs_wshare *head;
};

int fs_wshares_create(struct ufs_fs *fs)
{
	fs->wshares = calloc(1, sizeof(*fs->wshares));
	if (!fs->wshares)
		return -ENOMEM;
	pthread_mutex_init(&fs->wshares->lock, NULL);
	return 0;
}

void fs_wshares_destroy(struct ufs_fs *fs)
{
	if (!fs->wshares)
		return;
	pthread_mutex_destroy(&fs->wshares->lock);
	free(fs->wshares);
	fs->wshares = NULL;
}

/* The share of ino with a new reference, or NULL. Registry lock held. */
static struct fs_wshare *wshare_join_locked(struct fs_wshares *r, uint64_t ino)
{
	for (struct fs_wshare *s = r->head; s; s = s->next) {
		if (s->ino == ino) {
			s->refs++;
			return s;
		}
	}
	return NULL;
}

/* Join the share of ino, if any; O_TRUNC in flags truncates it. */
static int wshare_try_join(struct ufs_fs *fs, uint64_t ino, int flags, struct fs_wshare **pws)
{
	struct fs_wshare *s;
	int rc = 0;

	pthread_mutex_lock(&fs->wshares->lock);
	s = wshare_join_locked(fs->wshares, ino);
	pthread_mutex_unlock(&fs->wshares->lock);
	if (s && (flags & O_TRUNC)) {
		pthread_mutex_lock(&s->lock);
		rc = fs_wfile_truncate(s->wf, 0);
		pthread_mutex_unlock(&s->lock);
	}
	*pws = s;
	return rc;
}

/* Insert a share of wf for ino, or join the one another open inserted
 * first (then wf is not used: *pfresh = 0). */
static int wshare_insert(struct ufs_fs *fs, uint64_t ino, struct fs_wfile *wf,
			 struct fs_wshare **pws, int *pfresh)
{
	struct fs_wshare *s = calloc(1, sizeof(*s));
	struct fs_wshare *old;

	if (!s)
		return -ENOMEM;
	s->ino = ino;
	s->refs = 1;
	s->wf = wf;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_lock(&fs->wshares->lock);
	old = wshare_join_locked(fs->wshares, ino);
	if (!old) {
		s->next = fs->wshares->head;
		fs->wshares->head = s;
	}
	pthread_mutex_unlock(&fs->wshares->lock);
	*pfresh = old == NULL;
	if (old) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		s = old;
	}
	*pws = s;
	return 0;
}

int fs_wshare_open(struct ufs_fs *fs, uint64_t ino, struct ufs_backend *be, const char *rel,
		   int flags, mode_t mode, const struct ufs_attr *cur, struct fs_wshare **pws)
{
	struct fs_wfile *wf;
	int fresh, rc = wshare_try_join(fs, ino, flags, pws);

	if (rc < 0) {
		fs_wshare_release(fs, *pws);
		return rc;
	}
	if (*pws)
		return 0;
	rc = fs_wfile_open(be, rel, flags, mode, cur, fs->cfg->staging_dir, &wf);
	if (rc < 0)
		return rc;
	rc = wshare_insert(fs, ino, wf, pws, &fresh);
	if (rc < 0 || !fresh) { /* lost a race to another open: use its side */
		int crc = fs_wfile_close(wf);

		if (rc == 0 && (flags & O_TRUNC)) {
			pthread_mutex_lock(&(*pws)->lock);
			crc = fs_wfile_truncate((*pws)->wf, 0);
			pthread_mutex_unlock(&(*pws)->lock);
		}
		if (rc == 0 && crc < 0) {
			fs_wshare_release(fs, *pws);
			rc = crc;
		}
	}
	return rc;
}

int fs_wshare_adopt(struct ufs_fs *fs, uint64_t ino, struct fs_wfile *wf, struct fs_wshare **pws)
{
	int fresh, rc = wshare_insert(fs, ino, wf, pws, &fresh);

	if (rc == 0 && !fresh) { /* an open of the same inode won: stay private */
		fs_wshare_release(fs, *pws);
		rc = -EEXIST;
	}
	if (rc < 0)
		*pws = NULL;
	return rc;
}

struct fs_wfile *fs_wshare_wfile(struct fs_wshare *ws)
{
	return ws->wf;
}

pthread_mutex_t *fs_wshare_lock(struct fs_wshare *ws)
{
	return &ws->lock;
}

int fs_wshare_release(struct ufs_fs *fs, struct fs_wshare *ws)
{
	struct fs_wshare **pp;
	int last;

	if (!ws)
		return 0;
	pthread_mutex_lock(&fs->wshares->lock);
	last = --ws->refs == 0;
	for (pp = &fs->wshares->head; last && *pp; pp = &(*pp)->next) {
		if (*pp == ws) {
			*pp = ws->next;
			break;
		}
	}
	pthread_mutex_unlock(&fs->wshares->lock);
	if (!last)
		return 0;
	int rc = fs_wfile_close(ws->wf);

	pthread_mutex_destroy(&ws->lock);
	free(ws);
	return rc;
}

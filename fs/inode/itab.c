/*
 * itab.c — inode table (see itab.h).
 *
 * Design: every inode sits in three keyed tables (common/table.h): by inode
 * number (always), by key xxh64(rel, seed = mount + 1) (while hashed), and
 * by xxh64(file id, seed = mount + 1) (while it has a backend file id). One
 * mutex guards the three tables and every inode field; functions copy out
 * what callers need so no pointer into an inode escapes the lock. Each
 * table doubles when it holds as many entries as buckets, with no bound
 * but memory (growth is best effort).
 *
 * Parent index: a hashed inode of a mount (mount >= 0) points to the inode
 * of its parent directory in the same mount (found by key when it is
 * hashed), which counts its hashed children (nchild). Removing or renaming
 * a path whose inode has no hashed children is then one key lookup, so
 * `rm -rf` of N files costs O(N), not O(N^2). Only a directory with known
 * children (or a table holding orphans: inodes whose parent was not in the
 * table when they were hashed, or was freed before them) is handled by
 * walking the whole table for the subtree.
 *
 * Memory: with a budget set (ufs_itab_set_budget), each inode's bytes (the
 * inode, its path, its share of the three tables' buckets) are reserved
 * before the lock is taken, so the budget's reclaim hooks (blocks, cached
 * listings and attributes) make room for it, and given back when the kernel
 * forgets it. Inodes are the kernel's: one that finds no room is still
 * made, uncounted, rather than fail the lookup (and it frees nothing when
 * forgotten). The root is not counted.
 *
 * States of an inode: hashed (reachable by key and by number) -> unhashed
 * (removed or replaced by a rename: reachable by number only) -> freed when
 * its lookup count reaches zero. The root is never freed.
 */
#include "fs/inode/itab.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "common/budget.h"
#include "common/table.h"

struct ufs_inode {
	struct ufs_tnode by_ino; /* in ufs_itab.by_ino */
	struct ufs_tnode by_key; /* in ufs_itab.by_key, while hashed */
	struct ufs_tnode by_fid; /* in ufs_itab.by_fid, while fid != 0 */
	uint64_t fid;		 /* backend file id (st_ino, NFS fileid), 0: none */
	uint64_t ino;
	uint64_t nlookup;
	int hashed;
	struct ufs_inode *parent; /* hashed: inode of the parent directory, or NULL */
	uint64_t nchild;	  /* hashed inodes whose parent is this one */
	int orphan;		  /* hashed with no parent inode found (counted) */
	int mount;
	size_t rel_off;
	char *path;
	uint64_t gen;
	/* last open identity */
	int seen;
	uint64_t seen_size, seen_gen;
	struct timespec seen_mtime;
	char seen_etag[UFS_ETAG_MAX];
	/* last mode and owner the backend showed (offline attributes) */
	int owner_known;
	uint32_t last_mode, last_uid, last_gid;
	/* pending object-store writes */
	unsigned writers;
	uint64_t wsize;
	uint32_t wmode;
	uint32_t charged; /* bytes reserved in the budget for this inode */
};

/* Buckets of each table at first, and their bound: none but memory. */
#define ITAB_BUCKETS 1024
#define ITAB_MAX_BUCKETS (SIZE_MAX / 2 + 1)

struct ufs_itab {
	pthread_mutex_t lock;
	struct ufs_table by_ino, by_key, by_fid; /* count of by_ino: inodes */
	size_t n_orphans; /* hashed inodes of a mount whose parent is unknown */
	uint64_t next_ino;
	struct ufs_inode *root;
	struct ufs_budget *budget; /* NULL: inodes not counted */
	uint64_t bytes;		   /* reserved for the inodes alive */
};

#define ITAB_INODE(n, member) ufs_table_entry((n), struct ufs_inode, member)

/* What by_key is keyed by: a mount and the first len bytes of rel. */
struct itab_key {
	int mount;
	const char *rel;
	size_t len;
};

/* What by_fid is keyed by. */
struct itab_fid {
	int mount;
	uint64_t fid;
};

static uint64_t itab_seed(int mount)
{
	return (uint64_t)(unsigned)(mount + 1);
}

static int itab_ino_eq(const struct ufs_tnode *n, const void *key)
{
	return ITAB_INODE(n, by_ino)->ino == *(const uint64_t *)key;
}

static int itab_key_eq(const struct ufs_tnode *n, const void *key)
{
	const struct ufs_inode *in = ITAB_INODE(n, by_key);
	const struct itab_key *k = key;

	return in->mount == k->mount && strncmp(in->path + in->rel_off, k->rel, k->len) == 0 &&
	       in->path[in->rel_off + k->len] == '\0';
}

static int itab_fid_eq(const struct ufs_tnode *n, const void *key)
{
	const struct ufs_inode *in = ITAB_INODE(n, by_fid);
	const struct itab_fid *k = key;

	return in->mount == k->mount && in->fid == k->fid;
}

static uint64_t itab_ino_hash(uint64_t ino)
{
	return XXH64(&ino, sizeof(ino), 0);
}

static uint64_t itab_fid_hash(const struct itab_fid *k)
{
	return XXH64(&k->fid, sizeof(k->fid), itab_seed(k->mount));
}

/* The inode numbered ino, or NULL. Lock held. */
static struct ufs_inode *itab_find(struct ufs_itab *t, uint64_t ino)
{
	return ITAB_INODE(ufs_table_find(&t->by_ino, itab_ino_hash(ino), &ino), by_ino);
}

/* The hashed inode of (mount, the first len bytes of rel), or NULL. Lock
 * held. */
static struct ufs_inode *itab_find_key(struct ufs_itab *t, int mount, const char *rel, size_t len)
{
	struct itab_key k = {mount, rel, len};

	return ITAB_INODE(ufs_table_find(&t->by_key, XXH64(rel, len, itab_seed(mount)), &k),
			  by_key);
}

static void itab_hash_key(struct ufs_itab *t, struct ufs_inode *in)
{
	const char *rel = in->path + in->rel_off;

	ufs_table_insert(&t->by_key, &in->by_key, XXH64(rel, strlen(rel), itab_seed(in->mount)));
	in->hashed = 1;
}

/* Link hashed in to its parent's inode (parent index). Lock held. */
static void itab_link_parent(struct ufs_itab *t, struct ufs_inode *in)
{
	const char *rel = in->path + in->rel_off, *slash = strrchr(rel, '/');

	if (in->mount < 0 || !*rel)
		return; /* synthetic directories and mount roots: never removed */
	in->parent = itab_find_key(t, in->mount, rel, slash ? (size_t)(slash - rel) : 0);
	if (in->parent) {
		in->parent->nchild++;
	} else {
		in->orphan = 1;
		t->n_orphans++;
	}
}

static void itab_unlink_parent(struct ufs_itab *t, struct ufs_inode *in)
{
	if (in->parent)
		in->parent->nchild--;
	if (in->orphan)
		t->n_orphans--;
	in->parent = NULL;
	in->orphan = 0;
}

/* in is freed while inodes still name it as their parent (the kernel forgot
 * a directory before its children): they become orphans. Lock held. */
static void itab_orphan_children(struct ufs_itab *t, struct ufs_inode *in)
{
	struct ufs_table_iter it;

	for (struct ufs_tnode *n = in->nchild ? ufs_table_first(&t->by_ino, &it) : NULL;
	     n && in->nchild; n = ufs_table_next(&it)) {
		struct ufs_inode *c = ITAB_INODE(n, by_ino);

		if (c->parent == in) {
			c->parent = NULL;
			c->orphan = 1;
			t->n_orphans++;
			in->nchild--;
		}
	}
}

static void itab_unhash_key(struct ufs_itab *t, struct ufs_inode *in)
{
	if (!in->hashed)
		return;
	itab_unlink_parent(t, in);
	ufs_table_remove(&t->by_key, &in->by_key);
	in->hashed = 0;
}

static void itab_hash_fid(struct ufs_itab *t, struct ufs_inode *in)
{
	struct itab_fid k = {in->mount, in->fid};

	ufs_table_insert(&t->by_fid, &in->by_fid, itab_fid_hash(&k));
}

static void itab_unhash_fid(struct ufs_itab *t, struct ufs_inode *in)
{
	if (!in->fid)
		return;
	ufs_table_remove(&t->by_fid, &in->by_fid);
	in->fid = 0;
}

static struct ufs_inode *itab_new_inode(struct ufs_itab *t, int mount, const char *path,
					size_t rel_off)
{
	struct ufs_inode *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->path = strdup(path);
	if (!in->path) {
		free(in);
		return NULL;
	}
	in->mount = mount;
	in->rel_off = rel_off;
	in->ino = t->next_ino++;
	ufs_table_insert(&t->by_ino, &in->by_ino, itab_ino_hash(in->ino));
	itab_hash_key(t, in);
	itab_link_parent(t, in);
	return in;
}

/* Set up the three tables, empty. 0, or -ENOMEM with none of them set up
 * (each finished, so safe to walk and to finish again). */
static int itab_tables_init(struct ufs_itab *t)
{
	if (ufs_table_init(&t->by_ino, ITAB_BUCKETS, ITAB_MAX_BUCKETS, itab_ino_eq) == 0 &&
	    ufs_table_init(&t->by_key, ITAB_BUCKETS, ITAB_MAX_BUCKETS, itab_key_eq) == 0 &&
	    ufs_table_init(&t->by_fid, ITAB_BUCKETS, ITAB_MAX_BUCKETS, itab_fid_eq) == 0)
		return 0;
	ufs_table_fini(&t->by_ino);
	ufs_table_fini(&t->by_key);
	ufs_table_fini(&t->by_fid);
	return -ENOMEM;
}

struct ufs_itab *ufs_itab_create(int root_mount)
{
	struct ufs_itab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->next_ino = UFS_ROOT_INO;
	pthread_mutex_init(&t->lock, NULL);
	if (itab_tables_init(t) == 0)
		t->root = itab_new_inode(t, root_mount, "/", 1);
	if (!t->root) {
		ufs_itab_destroy(t);
		return NULL;
	}
	t->root->nlookup = 1;
	return t;
}

void ufs_itab_destroy(struct ufs_itab *t)
{
	struct ufs_table_iter it;

	if (!t)
		return;
	for (struct ufs_tnode *n = ufs_table_first(&t->by_ino, &it); n; n = ufs_table_next(&it)) {
		struct ufs_inode *in = ITAB_INODE(n, by_ino);

		free(in->path);
		free(in);
	}
	pthread_mutex_destroy(&t->lock);
	ufs_table_fini(&t->by_ino);
	ufs_table_fini(&t->by_key);
	ufs_table_fini(&t->by_fid);
	free(t);
}

/* Bytes an inode for a path of len bytes holds: the inode and the path as
 * malloc rounds them, and a bucket in each table (one per entry). */
static uint32_t itab_inode_bytes(size_t len)
{
	uint64_t a = (sizeof(struct ufs_inode) + 8 + 15) & ~(uint64_t)15;
	uint64_t b = (len + 1 + 8 + 15) & ~(uint64_t)15;

	return (uint32_t)(a + (b < 32 ? 32 : b) + 3 * sizeof(void *));
}

void ufs_itab_set_budget(struct ufs_itab *t, struct ufs_budget *b)
{
	t->budget = b;
}

uint64_t ufs_itab_bytes(struct ufs_itab *t)
{
	uint64_t n;

	pthread_mutex_lock(&t->lock);
	n = t->bytes;
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* Count one lookup of the hashed inode of (mount, rel): its number, or 0
 * when there is none. Lock held. */
static uint64_t itab_ref_known(struct ufs_itab *t, int mount, const char *rel)
{
	struct ufs_inode *in = itab_find_key(t, mount, rel, strlen(rel));

	if (!in)
		return 0;
	in->nlookup++;
	return in->ino;
}

uint64_t ufs_itab_ref(struct ufs_itab *t, int mount, const char *path, size_t rel_off)
{
	const char *rel = path + rel_off;
	uint32_t resv = 0;
	struct ufs_inode *in;
	uint64_t ino;

	pthread_mutex_lock(&t->lock);
	ino = itab_ref_known(t, mount, rel);
	pthread_mutex_unlock(&t->lock);
	if (ino)
		return ino;
	if (t->budget) { /* reserved unlocked: the reclaim hooks may take a while */
		resv = itab_inode_bytes(strlen(path));
		if (ufs_budget_acquire(t->budget, resv, 0) < 0)
			resv = 0;
	}
	pthread_mutex_lock(&t->lock);
	ino = itab_ref_known(t, mount, rel); /* made meanwhile by another lookup */
	if (!ino && (in = itab_new_inode(t, mount, path, rel_off)) != NULL) {
		in->charged = resv;
		t->bytes += resv;
		resv = 0;
		in->nlookup++;
		ino = in->ino;
	}
	pthread_mutex_unlock(&t->lock);
	if (resv)
		ufs_budget_release(t->budget, resv);
	return ino;
}

uint64_t ufs_itab_find(struct ufs_itab *t, int mount, const char *rel)
{
	struct ufs_inode *in;
	uint64_t ino = 0;

	pthread_mutex_lock(&t->lock);
	in = itab_find_key(t, mount, rel, strlen(rel));
	if (in)
		ino = in->ino;
	pthread_mutex_unlock(&t->lock);
	return ino;
}

void ufs_itab_forget(struct ufs_itab *t, uint64_t ino, uint64_t n)
{
	struct ufs_inode *in;
	uint64_t back = 0;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in && in != t->root) {
		in->nlookup = in->nlookup > n ? in->nlookup - n : 0;
		if (in->nlookup == 0) {
			ufs_table_remove(&t->by_ino, &in->by_ino);
			itab_unhash_key(t, in);
			itab_unhash_fid(t, in);
			itab_orphan_children(t, in);
			back = in->charged;
			t->bytes -= back;
			free(in->path);
			free(in);
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (back)
		ufs_budget_release(t->budget, back);
}

int ufs_itab_get(struct ufs_itab *t, uint64_t ino, struct ufs_iloc *ploc)
{
	struct ufs_inode *in;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (!in) {
		rc = -ESTALE;
	} else {
		ploc->path = strdup(in->path);
		ploc->mount = in->mount;
		if (!ploc->path)
			rc = -ENOMEM;
		else
			ploc->rel = ploc->path + in->rel_off;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void ufs_iloc_free(struct ufs_iloc *loc)
{
	free(loc->path);
	loc->path = NULL;
	loc->rel = NULL;
}

size_t ufs_itab_count(struct ufs_itab *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = ufs_table_count(&t->by_ino);
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* Move one inode to newpath (same mount, same rel_off); lock held. */
static void itab_move(struct ufs_itab *t, struct ufs_inode *in, char *newpath)
{
	itab_unhash_key(t, in);
	free(in->path);
	in->path = newpath;
	itab_hash_key(t, in);
	itab_link_parent(t, in);
}

/* Whether the subtree of (mount, rel) is just its own inode (or nothing):
 * *pin is that inode or NULL. 0: the table must be walked. Lock held. */
static int itab_leaf(struct ufs_itab *t, int mount, const char *rel, struct ufs_inode **pin)
{
	*pin = itab_find_key(t, mount, rel, strlen(rel));
	return mount >= 0 && *rel && t->n_orphans == 0 && (!*pin || (*pin)->nchild == 0);
}

/* Whether path is p or below p. */
static int itab_in_tree(const char *p, size_t plen, const char *path)
{
	return strncmp(path, p, plen) == 0 && (path[plen] == '\0' || path[plen] == '/');
}

/* Collect the inodes of mount at or below path (hashed ones only). Lock
 * held. Returns a malloc'd array (count in *pn) or NULL. */
static struct ufs_inode **itab_collect(struct ufs_itab *t, int mount, const char *path, size_t *pn)
{
	size_t plen = strlen(path), n = 0;
	struct ufs_inode **v = malloc((ufs_table_count(&t->by_ino) + 1) * sizeof(*v));
	struct ufs_table_iter it;

	if (!v)
		return NULL;
	for (struct ufs_tnode *nd = ufs_table_first(&t->by_ino, &it); nd;
	     nd = ufs_table_next(&it)) {
		struct ufs_inode *in = ITAB_INODE(nd, by_ino);

		if (in->hashed && in->mount == mount && itab_in_tree(path, plen, in->path))
			v[n++] = in;
	}
	*pn = n;
	return v;
}

/* Rename of a leaf (see itab_leaf): one move. Lock held. */
static void itab_rename_leaf(struct ufs_itab *t, struct ufs_inode *from, struct ufs_inode *to,
			     const char *to_path)
{
	char *np;

	if (to && to != t->root)
		itab_unhash_key(t, to);
	if (!from)
		return;
	np = strdup(to_path);
	if (np)
		itab_move(t, from, np);
	else
		itab_unhash_key(t, from); /* unreachable beats wrong */
}

void ufs_itab_rename(struct ufs_itab *t, int mount, const char *from_path, const char *to_path,
		     size_t rel_off)
{
	size_t flen = strlen(from_path), tlen = strlen(to_path);
	struct ufs_inode **v, *from, *to;
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	if (rel_off <= flen && rel_off <= tlen && itab_leaf(t, mount, from_path + rel_off, &from) &&
	    itab_leaf(t, mount, to_path + rel_off, &to)) {
		itab_rename_leaf(t, from, to, to_path);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	v = itab_collect(t, mount, to_path, &n);
	for (size_t i = 0; v && i < n; i++)
		itab_unhash_key(t, v[i]);
	free(v);
	v = itab_collect(t, mount, from_path, &n);
	for (size_t i = 0; v && i < n; i++) {
		const char *tail = v[i]->path + flen;
		char *np = malloc(tlen + strlen(tail) + 1);

		if (!np) {
			itab_unhash_key(t, v[i]); /* unreachable beats wrong */
			continue;
		}
		memcpy(np, to_path, tlen);
		strcpy(np + tlen, tail);
		itab_move(t, v[i], np);
	}
	free(v);
	pthread_mutex_unlock(&t->lock);
}

void ufs_itab_unhash(struct ufs_itab *t, int mount, const char *path, size_t rel_off)
{
	struct ufs_inode **v, *in;
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	if (rel_off <= strlen(path) && itab_leaf(t, mount, path + rel_off, &in)) {
		if (in && in != t->root)
			itab_unhash_key(t, in);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	v = itab_collect(t, mount, path, &n);
	for (size_t i = 0; v && i < n; i++) {
		if (v[i] != t->root)
			itab_unhash_key(t, v[i]);
	}
	free(v);
	pthread_mutex_unlock(&t->lock);
}

uint64_t ufs_itab_gen(struct ufs_itab *t, uint64_t ino)
{
	struct ufs_inode *in;
	uint64_t gen = 0;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in)
		gen = in->gen;
	pthread_mutex_unlock(&t->lock);
	return gen;
}

void ufs_itab_bump_gen(struct ufs_itab *t, uint64_t ino)
{
	struct ufs_inode *in;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in)
		in->gen++;
	pthread_mutex_unlock(&t->lock);
}

int ufs_itab_same_identity(struct ufs_itab *t, uint64_t ino, const struct ufs_obj *obj)
{
	struct ufs_inode *in;
	int same = 0;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in) {
		same = in->seen && in->seen_gen == in->gen && in->seen_size == obj->size &&
		       in->seen_mtime.tv_sec == obj->mtime.tv_sec &&
		       in->seen_mtime.tv_nsec == obj->mtime.tv_nsec &&
		       strcmp(in->seen_etag, obj->etag) == 0;
		in->seen = 1;
		in->seen_gen = in->gen;
		in->seen_size = obj->size;
		in->seen_mtime = obj->mtime;
		memcpy(in->seen_etag, obj->etag, sizeof(in->seen_etag));
	}
	pthread_mutex_unlock(&t->lock);
	return same;
}

void ufs_itab_writer_open(struct ufs_itab *t, uint64_t ino, uint32_t mode)
{
	struct ufs_inode *in;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in) {
		if (in->writers++ == 0)
			in->wsize = 0;
		in->wmode = mode;
	}
	pthread_mutex_unlock(&t->lock);
}

void ufs_itab_writer_size(struct ufs_itab *t, uint64_t ino, uint64_t size, int exact)
{
	struct ufs_inode *in;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in && (exact || size > in->wsize))
		in->wsize = size;
	pthread_mutex_unlock(&t->lock);
}

void ufs_itab_writer_close(struct ufs_itab *t, uint64_t ino)
{
	struct ufs_inode *in;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in && in->writers > 0)
		in->writers--;
	pthread_mutex_unlock(&t->lock);
}

int ufs_itab_pending(struct ufs_itab *t, uint64_t ino, uint64_t *psize, uint32_t *pmode)
{
	struct ufs_inode *in;
	int pending = 0;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in && in->writers > 0) {
		pending = 1;
		*psize = in->wsize;
		*pmode = in->wmode;
	}
	pthread_mutex_unlock(&t->lock);
	return pending;
}

void ufs_itab_note_attr(struct ufs_itab *t, uint64_t ino, const struct ufs_attr *attr)
{
	struct ufs_inode *in;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in && in != t->root) {
		in->owner_known = 1;
		in->last_mode = attr->mode;
		in->last_uid = attr->uid;
		in->last_gid = attr->gid;
		if (in->fid != attr->ino) {
			itab_unhash_fid(t, in);
			in->fid = attr->ino;
			if (in->fid)
				itab_hash_fid(t, in);
		}
	}
	pthread_mutex_unlock(&t->lock);
}

int ufs_itab_check_attr(struct ufs_itab *t, uint64_t ino, const struct ufs_attr *attr)
{
	struct ufs_inode *in;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in && in != t->root && in->owner_known &&
	    ((in->last_mode & S_IFMT) != (attr->mode & S_IFMT) ||
	     (in->fid && attr->ino && in->fid != attr->ino)))
		rc = -ESTALE;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

size_t ufs_itab_same_file(struct ufs_itab *t, uint64_t ino, uint64_t *pinos, size_t max)
{
	struct ufs_inode *in;
	struct ufs_tnode *o = NULL;
	struct itab_fid k = {0, 0};
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in && in->fid) {
		k = (struct itab_fid){in->mount, in->fid};
		o = ufs_table_find(&t->by_fid, itab_fid_hash(&k), &k);
	}
	for (; o && n < max; o = ufs_table_find_next(&t->by_fid, o, &k))
		if (o != &in->by_fid)
			pinos[n++] = ITAB_INODE(o, by_fid)->ino;
	pthread_mutex_unlock(&t->lock);
	return n;
}

int ufs_itab_last_owner(struct ufs_itab *t, uint64_t ino, struct ufs_attr *pattr)
{
	struct ufs_inode *in;
	int known = 0;

	pthread_mutex_lock(&t->lock);
	in = itab_find(t, ino);
	if (in && in->owner_known) {
		known = 1;
		pattr->mode = in->last_mode;
		pattr->uid = in->last_uid;
		pattr->gid = in->last_gid;
		pattr->ino = in->fid;
	}
	pthread_mutex_unlock(&t->lock);
	return known;
}

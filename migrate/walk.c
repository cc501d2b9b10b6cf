/*
 * walk.c — walk SRC and DST side by side and feed the work queue.
 *
 * Depth first, one directory at a time: both sides' listings of that
 * directory are read into arrays, sorted by name and merged, so every
 * entry reaches the queue with both attributes and entries only on DST
 * ("extra") are seen too; subdirectories go on a stack of rel paths. Memory
 * is one directory listing per side plus the stack, never the whole tree.
 *
 * Directories are created on DST by the walk itself, before any of their
 * files is queued, so workers never race a missing parent: every directory
 * on file/nfs, only empty ones on object stores (a marker; a non-empty
 * prefix exists through its objects). Every shard creates them (mkdir is
 * idempotent); files are queued only by the shard that owns them. A copied
 * directory is created 0700 and remembered: its owner, mode and times are
 * set after the run (meta.c), so it is never open to others while filled.
 */
#include "migrate/migrate_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct walk_ent {
	char *name;
	struct ufs_attr a;
};

struct walk_list {
	struct walk_ent *v;
	size_t n, cap;
	int err;
};

/* The stack of directories still to walk; dst_only: not on SRC. */
struct walk_dir {
	char *rel;
	int dst_only; /* not on SRC */
	int on_dst;   /* exists on DST */
	struct walk_dir *next;
};

char *mig_path(const char *root, const char *rel)
{
	if (!*root)
		return strdup(rel);
	if (!*rel)
		return strdup(root);
	return ufs_path_join(root, rel);
}

static int walk_collect(void *arg, const char *name, const struct ufs_attr *attr)
{
	struct walk_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct walk_ent *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return l->err = -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].name = strdup(name);
	if (!l->v[l->n].name)
		return l->err = -ENOMEM;
	l->v[l->n].a = *attr;
	l->n++;
	return 0;
}

static int walk_cmp(const void *a, const void *b)
{
	return strcmp(((const struct walk_ent *)a)->name, ((const struct walk_ent *)b)->name);
}

static void walk_list_free(struct walk_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* List dir rel of side s, sorted, types filled in. A missing dir is empty. */
static int walk_list(const struct mig_side *s, const char *rel, struct walk_list *l)
{
	char *dir = mig_path(s->root, rel);
	int rc = dir ? ufs_be_list(s->be, dir, walk_collect, l) : -ENOMEM;

	if (rc == 0 && l->err)
		rc = l->err;
	for (size_t i = 0; rc == 0 && i < l->n; i++) {
		if (l->v[i].a.mode == 0) {
			char *p = ufs_path_join(dir, l->v[i].name);

			if (!p || ufs_be_getattr(s->be, p, &l->v[i].a) != 0)
				l->v[i].a.mode = S_IFREG;
			free(p);
		}
	}
	free(dir);
	if (rc == -ENOENT || rc == -ENOTDIR)
		rc = 0;
	if (rc == 0 && l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), walk_cmp);
	return rc;
}

/* mkdir -p of the backend path p, p itself with mode, missing parents 0755
 * (EEXIST is fine, *pmade says whether p was made; "" is the root). */
static int walk_mkdir_p(struct ufs_backend *be, const char *p, mode_t mode, int *pmade)
{
	const char *slash = strrchr(p, '/');
	int rc = *p ? ufs_be_mkdir(be, p, mode) : -EEXIST;

	if (rc == -ENOENT && slash) {
		char *parent = strndup(p, (size_t)(slash - p));

		rc = parent ? walk_mkdir_p(be, parent, 0755, NULL) : -ENOMEM;
		free(parent);
		if (rc == 0)
			rc = ufs_be_mkdir(be, p, mode);
	}
	if (pmade)
		*pmade = rc == 0;
	return rc == -EEXIST ? 0 : rc;
}

/* Make the DST directory of the SRC directory rel (s: its attributes) when
 * missing (mkdir -p, with the mode of a copied directory, meta.c; made:
 * whether to) and remember it for its metadata after the run (remember: its
 * metadata is ours to set). 0 or -errno. */
static int walk_dst_dir(struct mig_run *r, const char *rel, const struct ufs_attr *s, int make,
			int remember)
{
	char *p = mig_path(r->dst.root, rel);
	int made = 0, rc = p ? 0 : -ENOMEM;

	if (rc == 0 && make)
		rc = walk_mkdir_p(r->dst.be, p, mig_meta_dir_mode(r), &made);
	if (rc == 0 && (remember || made))
		rc = mig_meta_dir_add(r, rel, p, s);
	free(p);
	return rc;
}

static int walk_push_dir(struct walk_dir **pstack, const char *rel, int dst_only, int on_dst)
{
	struct walk_dir *d = calloc(1, sizeof(*d));

	if (d)
		d->rel = strdup(rel);
	if (!d || !d->rel) {
		free(d);
		return -ENOMEM;
	}
	d->dst_only = dst_only;
	d->on_dst = on_dst;
	d->next = *pstack;
	*pstack = d;
	return 0;
}

static int walk_changes_dst(const struct mig_run *r)
{
	return r->o->mode != MIG_CHECK && !r->o->dry_run;
}

/* Entries only on DST matter to check and to sync --delete. */
static int walk_wants_extras(const struct mig_run *r)
{
	return r->o->mode == MIG_CHECK || (r->o->mode == MIG_SYNC && r->o->delete_extra);
}

/* Queue one file/symlink entry (filters and shard applied). */
static void walk_queue(struct mig_run *r, const char *rel, const struct walk_ent *s,
		       const struct walk_ent *d)
{
	struct mig_item *it;

	if (!mig_filter_match(r->o, rel) || !mig_shard_owns(rel, r->o->shard_k, r->o->shard_n))
		return;
	it = calloc(1, sizeof(*it));
	if (it)
		it->rel = strdup(rel);
	if (!it || !it->rel) {
		mig_report_entry(r->rep, MIG_OUT_FAILED, rel, 0, NULL, cli_strerror(ENOMEM));
		mig_item_free(it);
		return;
	}
	if (s) {
		it->src = s->a;
		it->has_src = 1;
		mig_report_found(r->rep, s->a.size);
	}
	if (d) {
		it->dst = d->a;
		it->has_dst = 1;
	}
	mig_queue_push(r->q, it);
}

/* A directory on SRC (s): make it on DST when needed and remember it for
 * its metadata (meta.c), then walk it later. */
static int walk_src_dir(struct mig_run *r, const char *rel, const struct walk_ent *s,
			const struct walk_ent *d, struct walk_dir **pstack)
{
	int rc;

	if (d && !S_ISDIR(d->a.mode)) {
		mig_report_entry(r->rep, MIG_OUT_FAILED, rel, 0, NULL,
				 "destination is a file where a directory is needed");
		return 0;
	}
	rc = walk_dst_dir(r, rel, &s->a, !d && r->dst.posix && walk_changes_dst(r), 1);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		mig_report_entry(r->rep, MIG_OUT_FAILED, rel, 0, NULL, cli_strerror(rc));
		return 0;
	}
	return walk_push_dir(pstack, rel, 0, d != NULL);
}

/* One merged pair of entries named name in directory rel. */
static int walk_pair(struct mig_run *r, const char *dir, const struct walk_ent *s,
		     const struct walk_ent *d, struct walk_dir **pstack)
{
	char *rel;
	int rc = 0;

	if (!s && !walk_wants_extras(r))
		return 0; /* cp, or sync without --delete: extras do not matter */
	rel = mig_path(dir, s ? s->name : d->name);
	if (!rel)
		return -ENOMEM;
	if (s && S_ISDIR(s->a.mode))
		rc = walk_src_dir(r, rel, s, d, pstack);
	else if (!s && S_ISDIR(d->a.mode))
		rc = walk_push_dir(pstack, rel, 1, 1);
	else if (s && d && S_ISDIR(d->a.mode))
		mig_report_entry(r->rep, MIG_OUT_FAILED, rel, s->a.size, NULL,
				 "destination is a directory where a file is needed");
	else
		walk_queue(r, rel, s, d);
	free(rel);
	return rc;
}

/* An empty SRC directory: make it on an object store, report it on check. */
static void walk_empty_dir(struct mig_run *r, const char *rel, int on_dst)
{
	char *p;
	int rc;

	if (on_dst || !*rel || !mig_shard_owns(rel, r->o->shard_k, r->o->shard_n))
		return;
	if (r->o->mode == MIG_CHECK) {
		mig_report_entry(r->rep, MIG_OUT_MISSING, rel, 0, NULL, "empty directory");
		return;
	}
	if (r->dst.posix || r->o->dry_run)
		return;
	p = mig_path(r->dst.root, rel);
	rc = p ? ufs_be_mkdir(r->dst.be, p, 0755) : -ENOMEM;
	if (rc != 0 && rc != -EEXIST)
		mig_report_entry(r->rep, MIG_OUT_FAILED, rel, 0, NULL, cli_strerror(rc));
	free(p);
}

/* Walk one directory of both sides. */
static int walk_dir(struct mig_run *r, const struct walk_dir *wd, struct walk_dir **pstack)
{
	struct walk_list s = {0}, d = {0};
	size_t i = 0, k = 0;
	int rc = wd->dst_only ? 0 : walk_list(&r->src, wd->rel, &s);

	if (rc == 0)
		rc = walk_list(&r->dst, wd->rel, &d);
	if (rc != 0) {
		mig_report_entry(r->rep, MIG_OUT_FAILED, *wd->rel ? wd->rel : ".", 0, NULL,
				 cli_strerror(rc));
		rc = 0;
	} else if (!wd->dst_only && s.n == 0) {
		walk_empty_dir(r, wd->rel, wd->on_dst);
	}
	while (rc == 0 && (i < s.n || k < d.n)) {
		int c = i == s.n ? 1 : k == d.n ? -1 : strcmp(s.v[i].name, d.v[k].name);

		rc =
		    walk_pair(r, wd->rel, c <= 0 ? &s.v[i] : NULL, c >= 0 ? &d.v[k] : NULL, pstack);
		i += c <= 0;
		k += c >= 0;
	}
	walk_list_free(&s);
	walk_list_free(&d);
	return rc;
}

/* SRC root is a file: one item with rel "". */
static int walk_single(struct mig_run *r, const struct ufs_attr *sa)
{
	struct walk_ent s = {.name = "", .a = *sa}, d = {.name = ""};
	int has_dst = ufs_be_getattr(r->dst.be, r->dst.root, &d.a) == 0;

	if (has_dst && S_ISDIR(d.a.mode)) {
		mig_report_entry(r->rep, MIG_OUT_FAILED, r->dst.name, 0, NULL,
				 "is a directory where a file is needed");
		return 0;
	}
	if (r->dst.posix && walk_changes_dst(r) && strchr(r->dst.root, '/')) {
		char *parent =
		    strndup(r->dst.root, (size_t)(strrchr(r->dst.root, '/') - r->dst.root));
		int rc = parent ? walk_mkdir_p(r->dst.be, parent, 0755, NULL) : -ENOMEM;

		free(parent);
		r->dst_fault = rc != 0;
		if (rc != 0)
			return rc;
	}
	walk_queue(r, "", &s, has_dst ? &d : NULL);
	return 0;
}

/* Check DST's root before the walk: a file where a directory is needed is an
 * error; a missing one is created (file/nfs) and then gets the metadata of
 * SRC's root (sa) after the run; an existing one is left as it is. */
static int walk_dst_root(struct mig_run *r, const struct ufs_attr *sa)
{
	struct ufs_attr a;
	int rc = ufs_be_getattr(r->dst.be, r->dst.root, &a);

	if (rc == 0 && !S_ISDIR(a.mode))
		return -ENOTDIR;
	if (rc == -ENOENT && r->dst.posix && walk_changes_dst(r))
		return walk_dst_dir(r, "", sa, 1, 0);
	return rc == -ENOENT ? 0 : rc;
}

int mig_walk(struct mig_run *r)
{
	struct walk_dir *stack = NULL;
	struct ufs_attr a;
	int rc = ufs_be_getattr(r->src.be, r->src.root, &a);

	if (rc != 0)
		return rc;
	if (!S_ISDIR(a.mode))
		return walk_single(r, &a);
	if (!r->o->recursive)
		return -EISDIR;
	rc = walk_dst_root(r, &a);
	r->dst_fault = rc != 0;
	if (rc == 0)
		rc = walk_push_dir(&stack, "", 0, 1);
	while (stack) {
		struct walk_dir *wd = stack;

		stack = wd->next;
		if (rc == 0)
			rc = walk_dir(r, wd, &stack);
		free(wd->rel);
		free(wd);
	}
	return rc;
}

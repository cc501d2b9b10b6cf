/*
 * os_ns.c — the object-store namespace, written once over a store's
 * primitives (objstore.h): attributes, listings, directories, rename,
 * statfs, reads and the owner/mode options.
 *
 * Mapping: backend path p is key prefix+p. A directory is the mount root,
 * a marker (what mkdir writes: "p/" on S3, a "p" object flagged as a folder
 * on Azure) or implicit (some key starts with "p/"). getattr is a HEAD of
 * the key, then, when there is none, a one-key probe of "p/". When a key is
 * both an object and a prefix ("a" and "a/x"), the object wins everywhere:
 * getattr finds it first and listings drop the prefix (ufs_os_dedup_*), so
 * one name never shows two types.
 *
 * Listings are read a page at a time through a cursor (the list_* slots):
 * the store's continuation token (S3) or marker (Azure) is the resume
 * point. The de-duplication of a page looks at the page before it, so a
 * cursor opened at a token may show a prefix whose object ended the page
 * before: a caller wanting the very same entries again opens one page
 * earlier and drops that page (fs/ops/dir_stream.c does).
 *
 * Attributes: objects carry no owner or mode; every entry gets the mount's
 * uid/gid (default: the mounting user) and file_mode/dir_mode (default
 * 0644/0755, or 0666/0777 less umask).
 *
 * Threads: the struct ufs_os is read-only after create(); every function
 * here may run on many threads at once.
 */
#include "protocols/objstore/objstore.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"

#define OS_LIST_MAX 1000 /* keys per listing page (both stores accept it) */

/* ---- setup and attributes ---- */

/* A number key in base (at most max) into *pout; 1 if set, 0 if absent,
 * -EINVAL with "mount /x: KEY 'V' is not WHAT". */
static int os_cfg_num(const struct ufs_mount_cfg *m, const char *key, int base, unsigned long max,
		      const char *what, uint32_t *pout, char *err, size_t errlen)
{
	const char *v = ufs_mcfg_get(m, key);
	char *end;
	unsigned long n;

	if (!v)
		return 0;
	n = strtoul(v, &end, base);
	if (!*v || *end || *v == '-' || n > max) {
		snprintf(err, errlen, "mount %s: %s '%s' is not %s", m->prefix, key, v, what);
		return -EINVAL;
	}
	*pout = (uint32_t)n;
	return 1;
}

static int os_cfg_mode(const struct ufs_mount_cfg *m, const char *key, uint32_t *pout, char *err,
		       size_t errlen)
{
	return os_cfg_num(m, key, 8, 07777, "an octal mode (e.g. 0640)", pout, err, errlen);
}

static int os_cfg_id(const struct ufs_mount_cfg *m, const char *key, uint32_t *pout, char *err,
		     size_t errlen)
{
	return os_cfg_num(m, key, 10, UFS_UID_OWNER - 1, "a numeric id", pout, err, errlen);
}

const struct ufs_cfg_key ufs_os_keys[] = {
    {"uid", 0, "numeric owner shown for every entry (default: who mounted)"},
    {"gid", 0, "numeric group shown for every entry (default: who mounted)"},
    {"file_mode", 0, "octal permission bits of files (default 0644)"},
    {"dir_mode", 0, "octal permission bits of directories (default 0755)"},
    {"umask", 0, "octal mask: files 0666 and directories 0777 less it"},
    {NULL, 0, NULL},
};

/* uid, gid, umask, file_mode, dir_mode of the section. */
static int os_cfg_owner(struct ufs_os *os, const struct ufs_mount_cfg *m, char *err, size_t errlen)
{
	uint32_t mask = 0;
	int rc = os_cfg_id(m, "uid", &os->uid, err, errlen);

	if (rc >= 0)
		rc = os_cfg_id(m, "gid", &os->gid, err, errlen);
	if (rc >= 0)
		rc = os_cfg_mode(m, "umask", &mask, err, errlen);
	if (rc < 0)
		return rc;
	os->file_mode = rc ? 0666 & ~mask : 0644;
	os->dir_mode = rc ? 0777 & ~mask : 0755;
	rc = os_cfg_mode(m, "file_mode", &os->file_mode, err, errlen);
	if (rc >= 0)
		rc = os_cfg_mode(m, "dir_mode", &os->dir_mode, err, errlen);
	return rc < 0 ? rc : 0;
}

int ufs_os_init(struct ufs_os *os, const struct ufs_backend_ops *ops,
		const struct ufs_os_prims *prims, const struct ufs_mount_cfg *m,
		const struct ufs_config *g, char *err, size_t errlen)
{
	ufs_be_init(&os->base, ops, m, g);
	os->prims = prims;
	os->uid = os->gid = UFS_UID_OWNER;
	clock_gettime(CLOCK_REALTIME, &os->created);
	return os_cfg_owner(os, m, err, errlen);
}

void ufs_os_fini(struct ufs_os *os)
{
	free(os->prefix);
	os->prefix = NULL;
	ufs_be_fini(&os->base);
}

char *ufs_os_key(const struct ufs_os *os, const char *path)
{
	char *key;

	return asprintf(&key, "%s%s", os->prefix ? os->prefix : "", path) < 0 ? NULL : key;
}

/* Make a the attributes of a file or directory of this mount. */
static void os_attr_finish(const struct ufs_os *os, struct ufs_attr *a, int is_dir)
{
	a->uid = os->uid;
	a->gid = os->gid;
	if (is_dir) {
		a->mode = S_IFDIR | os->dir_mode;
		a->nlink = 2;
		a->size = 0;
		a->etag[0] = '\0';
	} else {
		a->mode = S_IFREG | os->file_mode;
		a->nlink = 1;
	}
	a->atime = a->ctime = a->mtime;
}

/* Attributes of a directory that has no object of its own. */
static void os_attr_dir(const struct ufs_os *os, struct ufs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->mtime = os->created;
	os_attr_finish(os, a, 1);
}

/* ---- probes ---- */

struct os_count {
	unsigned n;	/* entries other than the prefix's own marker */
	unsigned total; /* every entry */
};

static int os_count_entry(void *arg, const struct ufs_os_entry *e)
{
	struct os_count *c = arg;

	c->total++;
	if (e->name_len)
		c->n++;
	return 0;
}

/* Count up to max keys under dirkey + "/" (no delimiter). 0 or -errno. */
static int os_probe(struct ufs_os *os, const char *dirkey, unsigned max, struct os_count *pc)
{
	char *prefix = NULL, *token = NULL;
	int rc;

	memset(pc, 0, sizeof(*pc));
	if (asprintf(&prefix, "%s/", dirkey) < 0)
		return -ENOMEM;
	rc = os->prims->list_page(os, prefix, 0, max, &token, os_count_entry, pc);
	free(token);
	free(prefix);
	return rc;
}

/* ---- getattr ---- */

/* getattr of a full key (not the root). */
static int os_getattr_key(struct ufs_os *os, const char *key, struct ufs_attr *pattr)
{
	struct os_count c;
	int rc;

	memset(pattr, 0, sizeof(*pattr));
	rc = os->prims->head(os, key, pattr);
	if (rc == 0) {
		os_attr_finish(os, pattr, S_ISDIR(pattr->mode));
		return 0;
	}
	if (rc != -ENOENT)
		return rc;
	rc = os_probe(os, key, 1, &c);
	if (rc)
		return rc;
	if (!c.total)
		return -ENOENT;
	os_attr_dir(os, pattr);
	return 0;
}

int ufs_os_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	struct ufs_os *os = (struct ufs_os *)be;
	char *key;
	int rc;

	if (!*path) {
		os_attr_dir(os, pattr);
		return 0;
	}
	key = ufs_os_key(os, path);
	if (!key)
		return -ENOMEM;
	rc = os_getattr_key(os, key, pattr);
	free(key);
	return rc;
}

/* ---- listings ---- */

static int os_names_add(struct ufs_os_names *s, const char *name, size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strndup(name, len);
	if (!s->v[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static void os_names_clear(struct ufs_os_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static void os_names_free(struct ufs_os_names *s)
{
	os_names_clear(s);
	free(s->v);
	s->v = NULL;
	s->cap = 0;
}

static int os_names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int os_names_has(const struct ufs_os_names *s, const char *name)
{
	return s->n && bsearch(&name, s->v, s->n, sizeof(*s->v), os_names_cmp) != NULL;
}

void ufs_os_dedup_init(struct ufs_os_dedup *d, struct ufs_os *os, const char *dir, ufs_list_cb cb,
		       void *arg)
{
	memset(d, 0, sizeof(*d));
	d->os = os;
	d->dir = dir;
	d->cb = cb;
	d->arg = arg;
}

void ufs_os_dedup_fini(struct ufs_os_dedup *d)
{
	os_names_free(&d->cur);
	os_names_free(&d->prev);
	os_names_free(&d->prefixes);
}

/* Is name[0..len) a usable file name? Logs the ones skipped. */
static int os_listed_name_ok(struct ufs_os_dedup *d, const char *name, size_t len)
{
	if (ufs_os_name_ok(name, len))
		return 1;
	d->skipped++;
	ufs_warn("%s: skipping %s key '%s%s%s%.*s' (not a valid file name)", d->os->base.name,
		 d->os->prims->store, d->os->prefix, d->dir, *d->dir ? "/" : "", (int)len, name);
	return 0;
}

static int os_emit(struct ufs_os_dedup *d, const char *name, const struct ufs_attr *a)
{
	d->emitted++;
	return d->cb ? d->cb(d->arg, name, a) : 0;
}

int ufs_os_dedup_entry(void *arg, const struct ufs_os_entry *e)
{
	struct ufs_os_dedup *d = arg;
	struct ufs_attr a;
	size_t len = e->name_len;
	char *name;
	int rc;

	if (e->kind == UFS_OS_PREFIX)
		return os_names_add(&d->prefixes, e->name,
				    len && e->name[len - 1] == '/' ? len - 1 : len);
	if (len == 0 || !os_listed_name_ok(d, e->name, len))
		return 0; /* "" is the directory's own marker */
	name = strndup(e->name, len);
	rc = name ? os_names_add(&d->cur, e->name, len) : -ENOMEM;
	memset(&a, 0, sizeof(a));
	a.size = e->size;
	a.mtime = e->mtime;
	snprintf(a.etag, sizeof(a.etag), "%s", e->etag ? e->etag : "");
	if (e->md5) {
		memcpy(a.md5, e->md5, sizeof(a.md5));
		a.has_md5 = 1;
	}
	os_attr_finish(d->os, &a, e->kind == UFS_OS_MARKER);
	if (!rc)
		rc = os_emit(d, name, &a);
	free(name);
	return rc;
}

int ufs_os_dedup_page(struct ufs_os_dedup *d)
{
	struct ufs_os_names t;
	struct ufs_attr a;
	int rc = 0;

	os_attr_dir(d->os, &a);
	if (d->cur.n)
		qsort(d->cur.v, d->cur.n, sizeof(*d->cur.v), os_names_cmp);
	for (size_t i = 0; !rc && i < d->prefixes.n; i++) {
		const char *name = d->prefixes.v[i];

		if (!os_listed_name_ok(d, name, strlen(name)))
			continue;
		if (!os_names_has(&d->cur, name) && !os_names_has(&d->prev, name))
			rc = os_emit(d, name, &a);
	}
	os_names_clear(&d->prefixes);
	os_names_clear(&d->prev);
	t = d->prev;
	d->prev = d->cur;
	d->cur = t;
	return rc;
}

/* A directory that lists empty must still exist (a marker, or the root). */
static int os_list_empty_check(struct ufs_os *os, const char *dir)
{
	struct ufs_attr a;
	int rc = ufs_os_getattr(&os->base, dir, &a);

	if (rc == 0 && !S_ISDIR(a.mode))
		rc = -ENOTDIR;
	return rc;
}

/* Continuation tokens / markers seen in one listing, as 64-bit FNV-1a
 * hashes: a server that hands one back twice would page forever. */
struct os_tokens {
	uint64_t *h;
	size_t n;
	size_t cap;
};

/* Record token; 1 if it was seen before, 0 if new, -ENOMEM. */
static int os_tokens_seen(struct os_tokens *t, const char *token)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *c = (const unsigned char *)token; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->h[i] == h)
			return 1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		uint64_t *n = realloc(t->h, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->h = n;
		t->cap = cap;
	}
	t->h[t->n++] = h;
	return 0;
}

/* A listing in progress (the list_* slots): the page after token, the
 * de-duplicator's names of the last pages, the tokens seen. */
struct os_cursor {
	char *dir, *prefix;
	char *token; /* the next page's; NULL: first page (or done) */
	int done;    /* the last page was listed */
	int resumed; /* opened at a token: earlier pages are not ours to judge */
	struct ufs_os_dedup d;
	struct os_tokens seen;
};

int ufs_os_list_open(struct ufs_backend *be, const char *dir, const char *token, void **pcur)
{
	struct ufs_os *os = (struct ufs_os *)be;
	struct os_cursor *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->dir = strdup(dir);
	c->token = token ? strdup(token) : NULL;
	c->resumed = token != NULL;
	if (!c->dir || (token && !c->token) ||
	    asprintf(&c->prefix, "%s%s%s", os->prefix, dir, *dir ? "/" : "") < 0) {
		c->prefix = NULL;
		ufs_os_list_close(be, c);
		return -ENOMEM;
	}
	ufs_os_dedup_init(&c->d, os, c->dir, NULL, NULL);
	*pcur = c;
	return 0;
}

int ufs_os_list_page(struct ufs_backend *be, void *cur, ufs_list_cb cb, void *arg, int *pmore)
{
	struct ufs_os *os = (struct ufs_os *)be;
	struct os_cursor *c = cur;
	int rc;

	*pmore = 0;
	if (c->done)
		return 0;
	c->d.cb = cb;
	c->d.arg = arg;
	rc = os->prims->list_page(os, c->prefix, 1, OS_LIST_MAX, &c->token, ufs_os_dedup_entry,
				  &c->d);
	if (!rc)
		rc = ufs_os_dedup_page(&c->d);
	if (!rc && c->token && (rc = os_tokens_seen(&c->seen, c->token)) == 1) {
		ufs_be_set_error(be,
				 "listing of '%s' loops: the server repeated a "
				 "continuation token after %zu pages",
				 c->prefix, c->seen.n);
		ufs_err("%s: listing of '%s' loops: the server repeated a continuation "
			"token after %zu pages",
			be->name, c->prefix, c->seen.n);
		rc = -EIO;
	}
	if (rc)
		return rc;
	if (c->token) {
		*pmore = 1;
		return 0;
	}
	c->done = 1;
	if (!c->resumed && !c->d.emitted && !c->d.skipped && *c->dir)
		rc = os_list_empty_check(os, c->dir);
	return rc;
}

const char *ufs_os_list_token(const void *cur)
{
	const struct os_cursor *c = cur;

	return c->done ? NULL : c->token;
}

void ufs_os_list_close(struct ufs_backend *be, void *cur)
{
	struct os_cursor *c = cur;

	(void)be;
	if (!c)
		return;
	ufs_os_dedup_fini(&c->d);
	free(c->seen.h);
	free(c->token);
	free(c->prefix);
	free(c->dir);
	free(c);
}

int ufs_os_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg)
{
	void *cur;
	int more = 0, rc = ufs_os_list_open(be, dir, NULL, &cur);

	if (rc < 0)
		return rc;
	do
		rc = ufs_os_list_page(be, cur, cb, arg, &more);
	while (!rc && more);
	ufs_os_list_close(be, cur);
	return rc;
}

/* ---- reads ---- */

ssize_t ufs_os_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
		    void *buf)
{
	struct ufs_os *os = (struct ufs_os *)be;
	char *key;
	ssize_t n;

	if (len == 0 || off >= obj->size)
		return 0;
	if (len > obj->size - off)
		len = (size_t)(obj->size - off);
	key = ufs_os_key(os, obj->path);
	if (!key)
		return -ENOMEM;
	n = os->prims->get(os, key, obj->etag, off, len, buf);
	free(key);
	if (n == -ERANGE)
		return obj->etag[0] ? -ESTALE : 0; /* the object shrank under the pin */
	if (n >= 0 && (size_t)n < len && obj->etag[0])
		return -EIO; /* same version, fewer bytes than its size: never short data */
	return n;
}

/* ---- namespace changes ---- */

int ufs_os_unlink(struct ufs_backend *be, const char *path)
{
	struct ufs_os *os = (struct ufs_os *)be;
	struct ufs_attr a;
	char *key = ufs_os_key(os, path);
	int rc = key ? os_getattr_key(os, key, &a) : -ENOMEM;

	if (!rc && S_ISDIR(a.mode))
		rc = -EISDIR;
	if (!rc)
		rc = os->prims->del(os, key);
	free(key);
	return rc;
}

int ufs_os_mkdir(struct ufs_backend *be, const char *path, mode_t mode)
{
	struct ufs_os *os = (struct ufs_os *)be;
	struct ufs_attr a;
	char *key = ufs_os_key(os, path);
	int rc = key ? os_getattr_key(os, key, &a) : -ENOMEM;

	(void)mode; /* objects keep no mode: dir_mode says what is shown */
	if (rc == 0)
		rc = -EEXIST;
	else if (rc == -ENOENT)
		rc = os->prims->put_marker(os, key);
	free(key);
	return rc == -ESTALE ? -EEXIST : rc;
}

/* Delete the markers of dirkey: "dirkey/" always, "dirkey" when it is one. */
static int os_del_markers(struct ufs_os *os, const char *dirkey, int marker_object)
{
	char *slash = NULL;
	int rc = marker_object ? os->prims->del(os, dirkey) : 0;

	if (rc == -ENOENT)
		rc = 0;
	if (!rc && asprintf(&slash, "%s/", dirkey) < 0)
		return -ENOMEM;
	if (!rc)
		rc = os->prims->del(os, slash);
	free(slash);
	return rc == -ENOENT ? 0 : rc;
}

int ufs_os_rmdir(struct ufs_backend *be, const char *path)
{
	struct ufs_os *os = (struct ufs_os *)be;
	struct ufs_attr a;
	struct os_count c;
	char *key;
	int rc, marker;

	if (!*path)
		return -EBUSY;
	key = ufs_os_key(os, path);
	if (!key)
		return -ENOMEM;
	memset(&a, 0, sizeof(a));
	rc = os->prims->head(os, key, &a);
	marker = rc == 0 && S_ISDIR(a.mode);
	if (rc == 0 && !marker)
		rc = -ENOTDIR;
	if (rc == 0 || rc == -ENOENT) {
		int miss = rc == -ENOENT;

		rc = os_probe(os, key, 2, &c);
		if (!rc && c.n)
			rc = -ENOTEMPTY;
		else if (!rc && miss && !c.total)
			rc = -ENOENT;
	}
	if (!rc)
		rc = os_del_markers(os, key, marker);
	free(key);
	return rc;
}

/* Check the destination of a rename: absent, or a file (replaced). */
static int os_rename_dest(struct ufs_os *os, const char *tk, unsigned flags)
{
	struct ufs_attr b;
	int rc = os_getattr_key(os, tk, &b);

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (S_ISDIR(b.mode))
		return -EISDIR;
	return (flags & 1u) ? -EEXIST : 0;
}

int ufs_os_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags)
{
	struct ufs_os *os = (struct ufs_os *)be;
	char *fk = ufs_os_key(os, from), *tk = ufs_os_key(os, to);
	struct ufs_attr a;
	int rc = fk && tk ? 0 : -ENOMEM;

	if (!rc && (flags & ~1u)) /* RENAME_NOREPLACE (1) only: EXCHANGE cannot be atomic */
		rc = -EINVAL;
	if (!rc)
		rc = os_getattr_key(os, fk, &a);
	if (!rc && S_ISDIR(a.mode))
		rc = -EXDEV; /* a directory is many objects: mv copies them */
	if (!rc)
		rc = os_rename_dest(os, tk, flags);
	if (!rc)
		rc = os->prims->copy(os, fk, tk, a.size, a.etag, flags & 1u);
	if (!rc)
		rc = os->prims->del(os, fk);
	free(fk);
	free(tk);
	return rc == -ESTALE && (flags & 1u) ? -EEXIST : rc;
}

int ufs_os_statfs(struct ufs_backend *be, struct statvfs *pst)
{
	(void)be;
	memset(pst, 0, sizeof(*pst));
	pst->f_bsize = pst->f_frsize = 1 << 20;
	pst->f_blocks = pst->f_bfree = pst->f_bavail = 1ULL << 30; /* 2^30 MiB = 1 PiB */
	pst->f_files = pst->f_ffree = pst->f_favail = 1ULL << 32;
	pst->f_namemax = NAME_MAX; /* longer names are skipped by listings */
	return 0;
}

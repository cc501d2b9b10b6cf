/*
 * dir_stream.c — a directory listing read page by page, for one open
 * directory (ops_dir.c), in memory bounded by a page, not by the listing.
 *
 * Pages are the backend's (ufs_be_list_page: 1000 keys of S3 or Azure; the
 * whole directory as one page for file and nfs, which have no resume
 * point). The stream holds:
 *   - the window: one page, its entries sorted by name, counted in the
 *     memory budget (a page that does not fit fails with -ENOMEM);
 *   - the lister, positioned after the last page read;
 *   - resume points (marks): the backend's token where page p starts, for
 *     pages seen so far, at most DIR_STREAM_MARKS of them: when full, every
 *     other one is dropped and from then on only every 2nd (4th, ...) page
 *     is marked (the stride);
 *   - the cache candidate: every entry read so far in page order, while the
 *     listing stays small enough to cache (ufs_meta_dir_cacheable); at the
 *     last page it is sorted and stored in the metadata cache, so the next
 *     opendir of a directory that fits is served from there. A larger one
 *     is dropped and never cached.
 *
 * Moving the window to page p: nothing to do for the window's own page; the
 * next page comes from the lister; any other page is read again from the
 * mark before it (page p-1's, or the nearest one earlier), reading and
 * dropping the pages up to p so that the backend's de-duplication sees
 * the same neighbours as the first time. So offsets (page, index) name the
 * same entries for as long as the directory does not change; when it
 * changes between two readings of a page, the page shows it as it is now
 * (see "Listings" in man/unifs.1).
 *
 * Every page read puts its typed entries' attributes into the metadata
 * cache (with the ticket taken at open), so a stat after a listing answers
 * from them while they are fresh.
 *
 * Not thread-safe: the caller serialises calls on one stream.
 */
#include "fs/ops/dir_stream.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "fs/inode/inode.h"

#define DS_TRIM_BYTES (8u << 20) /* a dropped candidate this large is trimmed */

struct ds_mark {
	uint64_t page;
	char *token; /* NULL: the beginning (page 0) */
};

struct dir_stream {
	struct ufs_backend *be; /* NULL: a one-page stream (dir_stream_of) */
	struct ufs_meta *meta;
	int mount;
	char *rel;
	dir_stream_done_fn done;
	void *done_arg;
	uint64_t ticket;

	struct ufs_meta_dir *win; /* the window; NULL before the first page */
	uint64_t win_page;
	int win_last;
	int stale; /* rewound: page 0 is to be read again */

	struct ufs_be_lister *l; /* NULL: reopen at a mark before reading */
	uint64_t l_page;	 /* the page l reads next */
	int l_end;		 /* l has read the last page */

	struct ds_mark marks[DIR_STREAM_MARKS]; /* by page, ascending; [0] is page 0 */
	size_t n_marks;
	uint64_t stride; /* pages between marks */

	struct ufs_meta_dir *whole; /* cache candidate; NULL: none (dropped or stored) */
	uint64_t whole_next;	    /* the page it takes next */
	uint64_t reads;
};

/* ufs_list_cb: names a POSIX directory can hold go to the page. */
static int ds_add(void *arg, const char *name, const struct ufs_attr *attr)
{
	if (!*name || strchr(name, '/') || strlen(name) > FS_NAME_MAX || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return 0;
	return ufs_meta_dir_add(arg, name, attr);
}

/* Drop the cache candidate. A large one (it grew to a quarter of memory)
 * is given back to the system at once: pages freed in one malloc arena do
 * not serve the next listing's pages in another, and the daemon's RSS
 * would outgrow the budget by what the arenas keep. */
static void ds_whole_drop(struct dir_stream *ds)
{
	uint64_t bytes = ds->whole ? ufs_meta_dir_bytes(ds->whole) : 0;

	ufs_meta_dir_unref(ds->whole);
	ds->whole = NULL;
	if (bytes >= DS_TRIM_BYTES)
		malloc_trim(0);
}

/* Record where page p starts (token), keeping at most DIR_STREAM_MARKS
 * marks by doubling the stride. */
static void ds_mark(struct dir_stream *ds, uint64_t p, const char *token)
{
	size_t j = 0;
	char *t;

	if (!token || p % ds->stride || ds->marks[ds->n_marks - 1].page >= p)
		return;
	if (ds->n_marks == DIR_STREAM_MARKS) {
		ds->stride *= 2;
		for (size_t i = 0; i < ds->n_marks; i++) {
			if (ds->marks[i].page % ds->stride == 0)
				ds->marks[j++] = ds->marks[i];
			else
				free(ds->marks[i].token);
		}
		ds->n_marks = j;
		if (p % ds->stride)
			return;
	}
	t = strdup(token);
	if (!t)
		return; /* only a longer re-read later */
	ds->marks[ds->n_marks].page = p;
	ds->marks[ds->n_marks].token = t;
	ds->n_marks++;
}

/* Feed page p (just read; more: pages follow) to the cache candidate. */
static void ds_whole_feed(struct dir_stream *ds, struct ufs_meta_dir *page, uint64_t p, int more)
{
	struct ufs_meta_dir *d;

	if (!ds->whole || p != ds->whole_next)
		return;
	if (p == 0 && !more) { /* the listing is this one page */
		ds_whole_drop(ds);
		d = ufs_meta_dir_ref(page);
	} else {
		for (size_t i = 0; i < ufs_meta_dir_count(page); i++) {
			const struct ufs_attr *a;
			const char *name = ufs_meta_dir_entry(page, i, &a);

			if (ufs_meta_dir_add(ds->whole, name, a) < 0) {
				ds_whole_drop(ds);
				return;
			}
		}
		ds->whole_next++;
		if (!ufs_meta_dir_cacheable(ds->meta, ds->whole)) {
			ds_whole_drop(ds);
			return;
		}
		if (more)
			return;
		d = ds->whole;
		ds->whole = NULL;
		ufs_meta_dir_sort(d);
	}
	if (ufs_meta_put_dir_since(ds->meta, ds->mount, ds->rel, d, ds->ticket) == 0 && ds->done)
		ds->done(ds->done_arg, d);
	ufs_meta_dir_unref(d);
}

/* Read the lister's next page into *ppage (sorted, counted). 0 or -errno;
 * on error the lister is closed (the next read reopens at a mark). */
static int ds_read(struct dir_stream *ds, struct ufs_meta_dir **ppage, int *pmore)
{
	struct ufs_meta_dir *page = ufs_meta_dir_create_for(ds->meta);
	uint64_t p = ds->l_page;
	int rc;

	*pmore = 0;
	rc = page ? ufs_be_list_page(ds->l, ds_add, page, pmore) : -ENOMEM;
	if (rc < 0) {
		ufs_meta_dir_unref(page);
		ufs_be_list_close(ds->l);
		ds->l = NULL;
		return rc;
	}
	ds->reads++;
	ds->l_page++;
	ds->l_end = !*pmore;
	if (*pmore)
		ds_mark(ds, p + 1, ufs_be_list_token(ds->l));
	ufs_meta_dir_sort(page);
	ufs_meta_put_children_since(ds->meta, ds->mount, ds->rel, page, ds->ticket);
	ds_whole_feed(ds, page, p, *pmore);
	*ppage = page;
	return 0;
}

/* Index of the last mark at or before page `at`. */
static size_t ds_mark_before(const struct dir_stream *ds, uint64_t at)
{
	size_t i = ds->n_marks - 1;

	while (i > 0 && ds->marks[i].page > at)
		i--;
	return i;
}

/* Reopen the lister at mark i. */
static int ds_reopen(struct dir_stream *ds, size_t i)
{
	int rc;

	ufs_be_list_close(ds->l);
	ds->l = NULL;
	rc = ufs_be_list_open(ds->be, ds->rel, ds->marks[i].token, &ds->l);
	if (rc < 0)
		return rc;
	ds->l_page = ds->marks[i].page;
	ds->l_end = 0;
	if (ds->whole && ds->l_page > ds->whole_next)
		ds_whole_drop(ds); /* it would never see the pages it lacks */
	return 0;
}

int dir_stream_seek(struct dir_stream *ds, uint64_t p)
{
	struct ufs_meta_dir *page;
	int rc, more;
	size_t m;

	if (ds->win && !ds->stale && (p == ds->win_page || (ds->win_last && p > ds->win_page)))
		return 0;
	if (!ds->be)
		return 0; /* one page: it is the window */
	m = ds_mark_before(ds, p ? p - 1 : 0);
	if (ds->stale || !ds->l || ds->l_end || ds->l_page > p || ds->marks[m].page > ds->l_page) {
		rc = ds_reopen(ds, m);
		if (rc < 0)
			return rc;
	}
	for (;;) {
		rc = ds_read(ds, &page, &more);
		if (rc < 0)
			return rc;
		if (ds->l_page - 1 == p || !more)
			break;
		ufs_meta_dir_unref(page);
	}
	ufs_meta_dir_unref(ds->win);
	ds->win = page;
	ds->win_page = ds->l_page - 1;
	ds->win_last = !more;
	ds->stale = 0;
	return 0;
}

static struct dir_stream *ds_new(void)
{
	struct dir_stream *ds = calloc(1, sizeof(*ds));

	if (!ds)
		return NULL;
	ds->n_marks = 1; /* page 0 starts at the beginning: token NULL */
	ds->stride = 1;
	return ds;
}

int dir_stream_open(struct ufs_backend *be, struct ufs_meta *meta, int mount, const char *rel,
		    dir_stream_done_fn done, void *done_arg, struct dir_stream **pds)
{
	struct dir_stream *ds = ds_new();
	int rc;

	if (!ds)
		return -ENOMEM;
	ds->be = be;
	ds->meta = meta;
	ds->mount = mount;
	ds->done = done;
	ds->done_arg = done_arg;
	ds->ticket = ufs_meta_ticket(meta); /* a listing older than a change is not kept */
	ds->rel = strdup(rel);
	ds->whole = ufs_meta_dir_create_for(meta);
	rc = ds->rel ? dir_stream_seek(ds, 0) : -ENOMEM;
	if (rc < 0) {
		dir_stream_close(ds);
		return rc;
	}
	*pds = ds;
	return 0;
}

struct dir_stream *dir_stream_of(struct ufs_meta_dir *d)
{
	struct dir_stream *ds = ds_new();

	if (!ds)
		return NULL;
	ds->win = ufs_meta_dir_ref(d);
	ds->win_last = 1;
	return ds;
}

uint64_t dir_stream_page(const struct dir_stream *ds)
{
	return ds->win_page;
}

size_t dir_stream_count(const struct dir_stream *ds)
{
	return ds->win ? ufs_meta_dir_count(ds->win) : 0;
}

int dir_stream_last(const struct dir_stream *ds)
{
	return ds->win_last;
}

const char *dir_stream_entry(const struct dir_stream *ds, size_t i, const struct ufs_attr **pattr)
{
	return ufs_meta_dir_entry(ds->win, i, pattr);
}

void dir_stream_rewind(struct dir_stream *ds)
{
	if (ds->be)
		ds->stale = 1;
}

uint64_t dir_stream_reads(const struct dir_stream *ds)
{
	return ds->reads;
}

size_t dir_stream_marks(const struct dir_stream *ds)
{
	return ds->n_marks;
}

void dir_stream_close(struct dir_stream *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->n_marks; i++)
		free(ds->marks[i].token);
	ufs_be_list_close(ds->l);
	ufs_meta_dir_unref(ds->win);
	ds_whole_drop(ds);
	free(ds->rel);
	free(ds);
}

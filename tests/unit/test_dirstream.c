/* test_dirstream.c — a directory listing read in pages (fs/ops/dir_stream.c)
 * over a fake paging backend of N names in pages of P: every entry once in
 * order, the window holds one page, seeks back re-read from the resume
 * point before the page, marks thin out past DIR_STREAM_MARKS, rewind
 * reads again, a listing that fits is cached (and one that does not is
 * not), typed entries' attributes land in the metadata cache, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/meta.h"
#include "common/budget.h"
#include "fs/ops/dir_stream.h"

/* The fake backend: names n0000000.. in pages of `page`, the token of a
 * page is its first index in decimal. */
struct fake {
	struct ufs_backend base;
	unsigned n, page;
	unsigned pages_read; /* list_page calls */
	unsigned opens_at_token;
	int fail_at; /* page start index whose read fails with -EIO; -1: none */
};

struct fake_cur {
	unsigned next;
	int done;
	char tok[24];
};

static int fake_open(struct ufs_backend *be, const char *dir, const char *token, void **pcur)
{
	struct fake *f = (struct fake *)be;
	struct fake_cur *c = calloc(1, sizeof(*c));

	(void)dir;
	if (token) {
		c->next = (unsigned)strtoul(token, NULL, 10);
		f->opens_at_token++;
	}
	*pcur = c;
	return 0;
}

static int fake_page(struct ufs_backend *be, void *cur, ufs_list_cb cb, void *arg, int *pmore)
{
	struct fake *f = (struct fake *)be;
	struct fake_cur *c = cur;
	struct ufs_attr a = {.mode = S_IFREG | 0644, .size = 1};
	unsigned end = c->next + f->page < f->n ? c->next + f->page : f->n;
	char name[32];
	int rc;

	*pmore = 0;
	if (c->done)
		return 0;
	f->pages_read++;
	if (f->fail_at >= 0 && (unsigned)f->fail_at == c->next)
		return -EIO;
	for (unsigned i = end; i-- > c->next;) { /* backwards: the stream sorts */
		snprintf(name, sizeof(name), "n%07u", i);
		if ((rc = cb(arg, name, &a)) != 0)
			return rc;
	}
	c->next = end;
	c->done = end == f->n;
	*pmore = !c->done;
	snprintf(c->tok, sizeof(c->tok), "%u", end);
	return 0;
}

static const char *fake_token(const void *cur)
{
	const struct fake_cur *c = cur;

	return c->done ? NULL : c->tok;
}

static void fake_close(struct ufs_backend *be, void *cur)
{
	(void)be;
	free(cur);
}

static int fake_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg)
{
	(void)be, (void)dir, (void)cb, (void)arg;
	return -ENOTSUP;
}

static const struct ufs_backend_ops fake_ops = {
    .scheme = "fake",
    .list = fake_list,
    .list_open = fake_open,
    .list_page = fake_page,
    .list_token = fake_token,
    .list_close = fake_close,
};

static struct ufs_mount_cfg fake_mcfg = {.prefix = (char *)"/f", .url = (char *)"fake://"};

static void fake_init(struct fake *f, unsigned n, unsigned page)
{
	memset(f, 0, sizeof(*f));
	ufs_be_init(&f->base, &fake_ops, &fake_mcfg, NULL);
	f->n = n;
	f->page = page;
	f->fail_at = -1;
}

static struct ufs_meta *meta_new(struct ufs_budget *b)
{
	struct ufs_meta_ttl ttl = {.attr = 60, .dir = 60, .negative = 0};
	struct ufs_meta *m = ufs_meta_create(1, &ttl, NULL, NULL, 0);

	assert_non_null(m);
	if (b)
		assert_int_equal(ufs_meta_set_budget(m, b), 0);
	return m;
}

static unsigned dones;
static void on_done(void *arg, struct ufs_meta_dir *d)
{
	(void)arg;
	(void)d;
	dones++;
}

/* Read entry k of the listing (page k / page, index k % page). */
static const char *entry_at(struct dir_stream *ds, unsigned page, unsigned k)
{
	const struct ufs_attr *a;

	assert_int_equal(dir_stream_seek(ds, k / page), 0);
	assert_int_equal(dir_stream_page(ds), k / page);
	assert_true(k % page < dir_stream_count(ds));
	return dir_stream_entry(ds, k % page, &a);
}

static void test_stream_all_once(void **state)
{
	struct fake f;
	struct ufs_meta *m = meta_new(NULL);
	struct dir_stream *ds;
	char want[32];
	unsigned k = 0;

	(void)state;
	fake_init(&f, 2500, 100);
	dones = 0;
	assert_int_equal(dir_stream_open(&f.base, m, 0, "d", on_done, NULL, &ds), 0);
	for (uint64_t p = 0;; p++) {
		assert_int_equal(dir_stream_seek(ds, p), 0);
		assert_int_equal(dir_stream_page(ds), p);
		for (size_t i = 0; i < dir_stream_count(ds); i++, k++) {
			const struct ufs_attr *a;

			snprintf(want, sizeof(want), "n%07u", k);
			assert_string_equal(dir_stream_entry(ds, i, &a), want); /* sorted */
			assert_int_equal(a->mode, S_IFREG | 0644);
		}
		if (dir_stream_last(ds))
			break;
	}
	assert_int_equal(k, 2500);
	assert_int_equal(dir_stream_reads(ds), 25);
	assert_int_equal(f.pages_read, 25);
	/* past the end: the last page */
	assert_int_equal(dir_stream_seek(ds, 99), 0);
	assert_int_equal(dir_stream_page(ds), 24);
	assert_int_equal(f.pages_read, 25);
	dir_stream_close(ds);
	/* it fit: cached, with its entries' attributes */
	assert_int_equal(dones, 1);
	{
		struct ufs_meta_dir *d = ufs_meta_get_dir(m, 0, "d");
		struct ufs_attr a;

		assert_non_null(d);
		assert_int_equal(ufs_meta_dir_count(d), 2500);
		ufs_meta_dir_unref(d);
		assert_int_equal(ufs_meta_get_attr(m, 0, "d/n0000042", &a), 1);
		assert_int_equal(a.size, 1);
	}
	ufs_meta_destroy(m);
	ufs_be_fini(&f.base);
}

static void test_seek_back_rereads_from_mark(void **state)
{
	struct fake f;
	struct ufs_meta *m = meta_new(NULL);
	struct dir_stream *ds;
	unsigned before;

	(void)state;
	fake_init(&f, 1000, 10);
	assert_int_equal(dir_stream_open(&f.base, m, 0, "", NULL, NULL, &ds), 0);
	assert_string_equal(entry_at(ds, 10, 555), "n0000555");
	assert_int_equal(f.pages_read, 56); /* forward: every page once */
	before = f.pages_read;
	/* back to page 30: reopened at page 29's token, 29 read and dropped */
	assert_string_equal(entry_at(ds, 10, 301), "n0000301");
	assert_int_equal(f.pages_read - before, 2);
	assert_int_equal(f.opens_at_token, 1);
	/* same page: nothing read; the next page: one read */
	before = f.pages_read;
	assert_string_equal(entry_at(ds, 10, 309), "n0000309");
	assert_string_equal(entry_at(ds, 10, 310), "n0000310");
	assert_int_equal(f.pages_read - before, 1);
	/* back to page 0: from the beginning, no token */
	assert_string_equal(entry_at(ds, 10, 3), "n0000003");
	assert_int_equal(f.opens_at_token, 1);
	dir_stream_close(ds);
	ufs_meta_destroy(m);
	ufs_be_fini(&f.base);
}

static void test_marks_thin_out(void **state)
{
	const unsigned pages = DIR_STREAM_MARKS * 3;
	struct fake f;
	struct ufs_meta *m = meta_new(NULL);
	struct dir_stream *ds;
	unsigned before;

	(void)state;
	fake_init(&f, pages, 1); /* one name a page */
	assert_int_equal(dir_stream_open(&f.base, m, 0, "", NULL, NULL, &ds), 0);
	assert_int_equal(dir_stream_seek(ds, pages - 1), 0);
	assert_true(dir_stream_last(ds));
	assert_true(dir_stream_marks(ds) <= DIR_STREAM_MARKS);
	assert_true(dir_stream_marks(ds) >= DIR_STREAM_MARKS / 2);
	/* any earlier page is reached in at most stride (4) + 1 reads */
	for (unsigned p = 1; p < pages; p += 997) {
		char want[16];

		before = f.pages_read;
		snprintf(want, sizeof(want), "n%07u", p);
		assert_string_equal(entry_at(ds, 1, p), want);
		assert_true(f.pages_read - before <= 5);
	}
	dir_stream_close(ds);
	ufs_meta_destroy(m);
	ufs_be_fini(&f.base);
}

static void test_rewind_reads_again(void **state)
{
	struct fake f;
	struct ufs_meta *m = meta_new(NULL);
	struct dir_stream *ds;
	unsigned before;

	(void)state;
	fake_init(&f, 30, 10);
	assert_int_equal(dir_stream_open(&f.base, m, 0, "", NULL, NULL, &ds), 0);
	before = f.pages_read;
	assert_int_equal(dir_stream_seek(ds, 0), 0); /* the window: no read */
	assert_int_equal(f.pages_read, before);
	f.n = 25; /* the directory shrank */
	dir_stream_rewind(ds);
	assert_int_equal(dir_stream_seek(ds, 0), 0);
	assert_int_equal(f.pages_read, before + 1);
	assert_int_equal(dir_stream_seek(ds, 5), 0); /* past the end now */
	assert_int_equal(dir_stream_page(ds), 2);
	assert_int_equal(dir_stream_count(ds), 5);
	dir_stream_close(ds);
	ufs_meta_destroy(m);
	ufs_be_fini(&f.base);
}

static void test_too_large_not_cached(void **state)
{
	struct ufs_budget *b = ufs_budget_create(4 << 20);
	struct ufs_meta *m = meta_new(b);
	struct ufs_meta_stats st;
	struct dir_stream *ds;
	struct fake f;

	(void)state;
	fake_init(&f, 40000, 1000); /* ~13 MiB of listing in a 4 MiB budget */
	dones = 0;
	assert_int_equal(dir_stream_open(&f.base, m, 0, "big", on_done, NULL, &ds), 0);
	assert_int_equal(dir_stream_seek(ds, 39), 0);
	assert_true(dir_stream_last(ds));
	assert_string_equal(entry_at(ds, 1000, 39999), "n0039999");
	ufs_meta_stats(m, &st);
	assert_true(st.list_peak <= (1 << 20) + (1 << 20)); /* a quarter + a page */
	assert_true(st.lists_uncached >= 1);
	assert_true(ufs_budget_used(b) <= 4 << 20);
	dir_stream_close(ds);
	assert_int_equal(dones, 0);
	assert_null(ufs_meta_get_dir(m, 0, "big"));
	ufs_meta_stats(m, &st);
	assert_int_equal(st.list_bytes, 0);
	ufs_meta_destroy(m);
	ufs_budget_destroy(b);
	ufs_be_fini(&f.base);
}

static void test_errors(void **state)
{
	struct fake f;
	struct ufs_meta *m = meta_new(NULL);
	struct dir_stream *ds;

	(void)state;
	fake_init(&f, 100, 10);
	f.fail_at = 0;
	assert_int_equal(dir_stream_open(&f.base, m, 0, "", NULL, NULL, &ds), -EIO);
	f.fail_at = 50;
	assert_int_equal(dir_stream_open(&f.base, m, 0, "", NULL, NULL, &ds), 0);
	assert_int_equal(dir_stream_seek(ds, 4), 0);
	assert_int_equal(dir_stream_seek(ds, 5), -EIO);
	assert_int_equal(dir_stream_page(ds), 4); /* window unchanged */
	f.fail_at = -1;
	assert_string_equal(entry_at(ds, 10, 57), "n0000057"); /* retried from a mark */
	dir_stream_close(ds);
	ufs_meta_destroy(m);
	ufs_be_fini(&f.base);
}

static void test_one_page_stream(void **state)
{
	struct ufs_meta_dir *d = ufs_meta_dir_create();
	struct dir_stream *ds;
	const struct ufs_attr *a;

	(void)state;
	assert_int_equal(ufs_meta_dir_add(d, "b", NULL), 0);
	assert_int_equal(ufs_meta_dir_add(d, "a", NULL), 0);
	ufs_meta_dir_sort(d);
	ds = dir_stream_of(d);
	ufs_meta_dir_unref(d);
	assert_non_null(ds);
	assert_int_equal(dir_stream_seek(ds, 3), 0);
	assert_int_equal(dir_stream_page(ds), 0);
	assert_true(dir_stream_last(ds));
	dir_stream_rewind(ds);
	assert_int_equal(dir_stream_seek(ds, 0), 0);
	assert_int_equal(dir_stream_count(ds), 2);
	assert_string_equal(dir_stream_entry(ds, 1, &a), "b");
	dir_stream_close(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stream_all_once),
	    cmocka_unit_test(test_seek_back_rereads_from_mark),
	    cmocka_unit_test(test_marks_thin_out),
	    cmocka_unit_test(test_rewind_reads_again),
	    cmocka_unit_test(test_too_large_not_cached),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_one_page_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

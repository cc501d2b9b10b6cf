/*
 * cli_browse.c — `unifs ls` and `unifs stat`: look at a URL or a namespace
 * path without mounting.
 *
 * ls costs one listing (one request per page on object stores): the type,
 * size and mtime come from the listing itself, never from one getattr per
 * entry. Entries are collected, sorted by name (bytewise) and printed as
 *   MODE  SIZE  YYYY-MM-DD HH:MM  NAME[ -> TARGET]
 * or, with -1, one name per line; names and link targets are escaped as
 * `ls -b` does (cli_put_text). In the namespace form the synthetic
 * children of a directory are merged in and hide real entries of the same
 * name, as in the mounted filesystem.
 */
#include "mount-helpers/cli_i.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fs/inode/namespace.h"

/* ls options: "-1" short format; "-l" (the default) is accepted. */
#define LS_FLAGS "1l"
#define LS_SHORT 1u

struct browse_entry {
	char *name;
	struct ufs_attr attr;
};

struct browse_list {
	struct browse_entry *v;
	size_t n, cap;
	const struct mig_target *t; /* for synthetic-name filtering */
};

static int browse_add(struct browse_list *l, const char *name, const struct ufs_attr *attr)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct browse_entry *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].name = strdup(name);
	if (!l->v[l->n].name)
		return -ENOMEM;
	l->v[l->n].attr = *attr;
	l->n++;
	return 0;
}

static void browse_list_free(struct browse_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

/* ufs_list_cb: keep real entries not hidden by a synthetic name. */
static int browse_on_entry(void *arg, const char *name, const struct ufs_attr *attr)
{
	struct browse_list *l = arg;
	const struct mig_target *t = l->t;

	if (t->ns && ufs_ns_has_synthetic_child(t->ns, t->nspath, name))
		return 0;
	return browse_add(l, name, attr);
}

/* ufs_ns_list_cb: synthetic directories. */
static int browse_on_synthetic(void *arg, const char *name)
{
	struct ufs_attr a = {.mode = S_IFDIR | 0555, .nlink = 2};

	return browse_add(arg, name, &a);
}

static int browse_cmp(const void *a, const void *b)
{
	const struct browse_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Collect the entries of the target directory. 0 or -errno. */
static int browse_collect(struct mig_target *t, struct browse_list *l)
{
	int rc = 0;

	l->t = t;
	if (t->be) {
		rc = ufs_be_list(t->be, t->rel, browse_on_entry, l);
		/* a synthetic dir covered by a mount need not exist there */
		if (rc == -ENOENT && t->synthetic)
			rc = 0;
	}
	if (rc == 0 && t->synthetic)
		rc = ufs_ns_list_synthetic(t->ns, t->nspath, browse_on_synthetic, l);
	if (rc == 0 && l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), browse_cmp);
	return rc;
}

/* "drwxr-xr-x" from a full st_mode; '?' type when unknown (mode 0). */
static void browse_mode_string(uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	char type = '?';

	if (S_ISDIR(mode))
		type = 'd';
	else if (S_ISREG(mode))
		type = '-';
	else if (S_ISLNK(mode))
		type = 'l';
	out[0] = type;
	for (int i = 0; i < 9; i++)
		out[i + 1] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
	if (mode == 0)
		memset(out + 1, '?', 9);
	out[10] = '\0';
}

static void browse_time_string(const struct timespec *ts, char *out, size_t size)
{
	struct tm tm;

	if (ts->tv_sec == 0 && ts->tv_nsec == 0) {
		snprintf(out, size, "%16s", "-");
		return;
	}
	localtime_r(&ts->tv_sec, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

/* One name (or server-given string) and a newline, escaped for the
 * terminal (cli_put_text: names are untrusted). */
static void browse_print_name(const char *name)
{
	cli_put_text(stdout, name);
	putchar('\n');
}

/* Print one long-format line; rel is the entry's backend path (readlink). */
static void browse_print_long(struct mig_target *t, const char *name, const char *rel,
			      const struct ufs_attr *a, int size_width)
{
	char mode[11], when[32], link[4096] = "";

	browse_mode_string(a->mode, mode);
	browse_time_string(&a->mtime, when, sizeof(when));
	if (S_ISLNK(a->mode) && t->be && rel && ufs_be_readlink(t->be, rel, link, sizeof(link)) < 0)
		link[0] = '\0';
	printf("%s %*" PRIu64 " %s ", mode, size_width, a->size, when);
	cli_put_text(stdout, name);
	if (link[0]) {
		fputs(" -> ", stdout);
		cli_put_text(stdout, link);
	}
	putchar('\n');
}

static int browse_size_width(const struct browse_list *l)
{
	int w = 1;

	for (size_t i = 0; i < l->n; i++) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%" PRIu64, l->v[i].attr.size);

		if (n > w)
			w = n;
	}
	return w;
}

static void browse_print_list(struct mig_target *t, const struct browse_list *l, int short_fmt)
{
	int width = browse_size_width(l);

	for (size_t i = 0; i < l->n; i++) {
		char *rel;

		if (short_fmt) {
			browse_print_name(l->v[i].name);
			continue;
		}
		rel = S_ISLNK(l->v[i].attr.mode) ? ufs_path_join(t->rel, l->v[i].name) : NULL;
		browse_print_long(t, l->v[i].name, rel, &l->v[i].attr, width);
		free(rel);
	}
}

static int browse_ls(struct mig_target *t, int short_fmt)
{
	struct browse_list l = {0};
	struct ufs_attr a;
	int rc = mig_target_getattr(t, &a);

	if (rc == 0 && !S_ISDIR(a.mode)) {
		if (short_fmt)
			browse_print_name(t->name);
		else
			browse_print_long(t, t->name, t->rel, &a, 1);
		return CLI_OK;
	}
	if (rc == 0)
		rc = browse_collect(t, &l);
	if (rc == 0)
		browse_print_list(t, &l, short_fmt);
	browse_list_free(&l);
	return rc == 0 ? CLI_OK : mig_target_fail(t, rc);
}

static void ls_usage(FILE *f)
{
	fputs("usage: unifs ls [-1] [-l] [--region R] URL\n"
	      "       unifs ls [-1] [-l] -c CONFIG /path/in/namespace\n"
	      "\n"
	      "List a directory (or show one file) without mounting: mode, size,\n"
	      "modification time and name; -1 prints names only.\n",
	      f);
}

static int ls_run(struct mig_target *t)
{
	return browse_ls(t, t->flags & LS_SHORT);
}

int cli_ls_main(int argc, char **argv)
{
	return cli_target_command(argc, argv, "ls", LS_FLAGS, ls_usage, ls_run);
}

static const char *browse_type_name(uint32_t mode)
{
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISREG(mode))
		return "regular file";
	if (S_ISLNK(mode))
		return "symbolic link";
	return "unknown";
}

static void browse_print_owner(const char *label, uint32_t id)
{
	if (id == UFS_UID_OWNER)
		printf("%-6s (mounting user)\n", label);
	else
		printf("%-6s %" PRIu32 "\n", label, id);
}

static void browse_print_stat(struct mig_target *t, const struct ufs_attr *a)
{
	char mode[11], when[64];
	struct tm tm;

	browse_mode_string(a->mode, mode);
	localtime_r(&a->mtime.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	fputs("File:  ", stdout);
	browse_print_name(t->name);
	printf("Type:  %s\n", browse_type_name(a->mode));
	printf("Size:  %" PRIu64 "\n", a->size);
	printf("Mode:  %04o (%s)\n", (unsigned)(a->mode & 07777), mode);
	printf("Mtime: %s (%lld.%09ld)\n", when, (long long)a->mtime.tv_sec, a->mtime.tv_nsec);
	if (a->etag[0]) {
		fputs("ETag:  ", stdout);
		browse_print_name(a->etag);
	}
	if (a->ino)
		printf("Inode: %" PRIu64 "\n", a->ino);
	if (a->nlink)
		printf("Links: %" PRIu32 "\n", a->nlink);
	browse_print_owner("Uid:", a->uid);
	browse_print_owner("Gid:", a->gid);
}

static void stat_usage(FILE *f)
{
	fputs("usage: unifs stat [--region R] URL\n"
	      "       unifs stat -c CONFIG /path/in/namespace\n"
	      "\n"
	      "Show type, size, mode, modification time and ETag of one entry.\n",
	      f);
}

static int stat_run(struct mig_target *t)
{
	struct ufs_attr a;
	int rc = mig_target_getattr(t, &a);

	if (rc != 0)
		return mig_target_fail(t, rc);
	browse_print_stat(t, &a);
	return CLI_OK;
}

int cli_stat_main(int argc, char **argv)
{
	return cli_target_command(argc, argv, "stat", "", stat_usage, stat_run);
}

/*
 * filter.c — which entries a cp/sync/check job looks at: --include and
 * --exclude globs (also read from files), --min-size/--max-size and
 * --min-age/--max-age. Free of I/O but for reading pattern files.
 *
 * Rules (man/unifs.1, FILTERS):
 *  - Globs are common/glob.h's: '*' stays within one path component, '**'
 *    crosses '/'. A pattern with a '/' is matched against the path relative
 *    to the source root (a leading '/' only says so and is dropped); one
 *    without a '/' against the last component, at any depth.
 *  - An entry passes when it matches some --include (or none were given)
 *    and no --exclude; the order of the options does not matter.
 *  - Size and age bounds apply to everything but directories (a symlink's
 *    size is the length of its target), against the source's attributes, or
 *    the destination's for an entry only on DST. Ages count from the moment
 *    the options were read.
 *  - Directories are always walked, except one matched by DIR of an
 *    exclude that is DIR, a slash and "**": such a directory is not
 *    walked, made or deleted at all.
 * What a filter drops is neither copied nor deleted (sync --delete) nor
 * reported (check).
 */
#include "migrate/migrate_i.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/glob.h"

struct mig_pattern {
	struct ufs_glob *g;
	struct ufs_glob *dir; /* an exclude DIR, slash, "**": DIR, else NULL */
	int anchored;	      /* had a '/': matched against the whole rel path */
};

void mig_filter_init(struct mig_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->max_size = UINT64_MAX;
	f->mtime_min = INT64_MIN;
	f->mtime_max = INT64_MAX;
}

static void filter_pattern_free(struct mig_pattern *p)
{
	if (!p)
		return;
	ufs_glob_free(p->g);
	ufs_glob_free(p->dir);
	free(p);
}

void mig_filter_fini(struct mig_filter *f)
{
	for (size_t i = 0; i < f->n_include; i++)
		filter_pattern_free(f->include[i]);
	for (size_t i = 0; i < f->n_exclude; i++)
		filter_pattern_free(f->exclude[i]);
	free(f->include);
	free(f->exclude);
	mig_filter_init(f);
}

/* Compile text (an exclude when exclude) into a new pattern, or NULL. */
static struct mig_pattern *filter_pattern_new(const char *text, int exclude)
{
	struct mig_pattern *p = calloc(1, sizeof(*p));
	size_t n;
	int rc;

	if (!p)
		return NULL;
	p->anchored = strchr(text, '/') != NULL;
	if (*text == '/')
		text++;
	rc = ufs_glob_compile(text, &p->g);
	n = strlen(text);
	if (rc == 0 && exclude && n > 3 && strcmp(text + n - 3, "/**") == 0) {
		char *dir = strndup(text, n - 3);

		rc = dir ? ufs_glob_compile(dir, &p->dir) : -ENOMEM;
		free(dir);
	}
	if (rc != 0) {
		filter_pattern_free(p);
		return NULL;
	}
	return p;
}

int mig_filter_add(struct mig_filter *f, int exclude, const char *pattern)
{
	struct mig_pattern ***pv = exclude ? &f->exclude : &f->include;
	size_t *pn = exclude ? &f->n_exclude : &f->n_include;
	struct mig_pattern **v = realloc(*pv, (*pn + 1) * sizeof(*v));
	struct mig_pattern *p;

	if (!v)
		return -ENOMEM;
	*pv = v;
	p = filter_pattern_new(pattern, exclude);
	if (!p)
		return -ENOMEM;
	v[(*pn)++] = p;
	return 0;
}

/* line without its leading and trailing blanks (in place). */
static char *filter_trim(char *line)
{
	size_t n;

	while (isspace((unsigned char)*line))
		line++;
	n = strlen(line);
	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	return line;
}

int mig_filter_add_file(struct mig_filter *f, int exclude, const char *path, char *err,
			size_t errlen)
{
	FILE *in = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!in) {
		rc = -errno;
		snprintf(err, errlen, "--%s-from %s: %s", exclude ? "exclude" : "include", path,
			 cli_strerror(-rc));
		return rc;
	}
	while (rc == 0 && getline(&line, &cap, in) >= 0) {
		char *p = filter_trim(line);

		if (*p && *p != '#')
			rc = mig_filter_add(f, exclude, p);
	}
	if (rc == 0 && ferror(in))
		rc = -EIO;
	if (rc != 0)
		snprintf(err, errlen, "--%s-from %s: %s", exclude ? "exclude" : "include", path,
			 cli_strerror(-rc));
	free(line);
	fclose(in);
	return rc;
}

void mig_filter_age(struct mig_filter *f, int max_age, uint64_t age, int64_t now)
{
	int64_t cut = age > (uint64_t)INT64_MAX / 2 ? INT64_MIN / 2 : now - (int64_t)age;

	if (max_age)
		f->mtime_min = cut;
	else
		f->mtime_max = cut;
}

/* Does pattern p match rel (the whole path, or its last component)? */
static int filter_glob(const struct mig_pattern *p, const struct ufs_glob *g, const char *rel)
{
	const char *base = strrchr(rel, '/');

	if (!p->anchored)
		rel = base ? base + 1 : rel;
	return ufs_glob_match(g, rel);
}

int mig_filter_match(const struct mig_filter *f, const char *rel, const struct ufs_attr *a)
{
	int in;

	if (!f)
		return 1;
	in = f->n_include == 0;
	for (size_t i = 0; i < f->n_include && !in; i++)
		in = filter_glob(f->include[i], f->include[i]->g, rel);
	for (size_t i = 0; i < f->n_exclude && in; i++)
		in = !filter_glob(f->exclude[i], f->exclude[i]->g, rel);
	if (!in || !a || S_ISDIR(a->mode))
		return in;
	return a->size >= f->min_size && a->size <= f->max_size &&
	       (int64_t)a->mtime.tv_sec >= f->mtime_min && (int64_t)a->mtime.tv_sec <= f->mtime_max;
}

int mig_filter_prunes_dir(const struct mig_filter *f, const char *rel)
{
	for (size_t i = 0; f && i < f->n_exclude; i++)
		if (f->exclude[i]->dir && filter_glob(f->exclude[i], f->exclude[i]->dir, rel))
			return 1;
	return 0;
}

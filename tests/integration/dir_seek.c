/*
 * dir_seek.c — POSIX directory stream positions through a mount, for
 * test_list_stream.sh: `dir_seek DIR N` reads DIR once with readdir(3),
 * noting telldir(3) before each entry, and checks every name comes once
 * and N names came (. and .. apart); then seekdir(3)s to the noted
 * positions of entries spread over the listing (back and forth, first and
 * last included) and checks readdir returns the same name there; then
 * rewinddir(3) and a second full read give the N names again. Prints one
 * line with what it checked; exit 0 on success, 1 with a reason.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seen {
	char **name;
	long *pos;
	size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "dir_seek: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	return 1;
}

static int is_dots(const char *n)
{
	return !strcmp(n, ".") || !strcmp(n, "..");
}

/* Read d to its end from where it is, noting names and positions. */
static int read_all(DIR *d, struct seen *s)
{
	for (;;) {
		long pos = telldir(d);
		struct dirent *e = readdir(d);

		if (!e)
			return 0;
		if (is_dots(e->d_name))
			continue;
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 1024;
			s->name = realloc(s->name, s->cap * sizeof(*s->name));
			s->pos = realloc(s->pos, s->cap * sizeof(*s->pos));
			if (!s->name || !s->pos)
				return -1;
		}
		s->pos[s->n] = pos;
		s->name[s->n++] = strdup(e->d_name);
	}
}

/* Every name once: 0, or 1 with the first duplicate printed. */
static int check_unique(const struct seen *s)
{
	char **v = malloc(s->n * sizeof(*v));

	if (!v)
		return fail("out of memory", NULL);
	memcpy(v, s->name, s->n * sizeof(*v));
	qsort(v, s->n, sizeof(*v), cmp_str);
	for (size_t i = 1; i < s->n; i++)
		if (!strcmp(v[i - 1], v[i])) {
			fail("listed twice", v[i]);
			free(v);
			return 1;
		}
	free(v);
	return 0;
}

int main(int argc, char **argv)
{
	struct seen s = {0}, again = {0};
	size_t want, probes = 0;
	DIR *d;

	if (argc != 3)
		return fail("usage: dir_seek DIR N", NULL);
	want = strtoul(argv[2], NULL, 10);
	d = opendir(argv[1]);
	if (!d)
		return fail("opendir", argv[1]);
	if (read_all(d, &s) < 0)
		return fail("out of memory", NULL);
	if (s.n != want) {
		fprintf(stderr, "dir_seek: %zu names listed, %zu expected\n", s.n, want);
		return 1;
	}
	if (check_unique(&s))
		return 1;
	/* back and forth over the listing: last, first, then strides */
	for (size_t k = 0; k < 64 && s.n; k++) {
		size_t i = k == 0 ? s.n - 1 : k == 1 ? 0 : (k * 7919 * 104729) % s.n;
		struct dirent *e;

		seekdir(d, s.pos[i]);
		e = readdir(d);
		if (!e || strcmp(e->d_name, s.name[i])) {
			fprintf(stderr, "dir_seek: seekdir to entry %zu gave '%s', not '%s'\n", i,
				e ? e->d_name : "(end)", s.name[i]);
			return 1;
		}
		probes++;
	}
	rewinddir(d);
	if (read_all(d, &again) < 0)
		return fail("out of memory", NULL);
	if (again.n != want || check_unique(&again)) {
		fprintf(stderr, "dir_seek: after rewinddir %zu names, %zu expected\n", again.n,
			want);
		return 1;
	}
	closedir(d);
	printf("dir_seek: %zu names once each, %zu seekdir positions, rewinddir: %zu again\n", s.n,
	       probes, again.n);
	for (size_t i = 0; i < s.n; i++)
		free(s.name[i]);
	for (size_t i = 0; i < again.n; i++)
		free(again.name[i]);
	free(s.name);
	free(s.pos);
	free(again.name);
	free(again.pos);
	return 0;
}

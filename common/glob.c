/*
 * glob.c — `**` globs (rules in glob.h) as a small NFA run over the string.
 *
 * The pattern is compiled into tokens; state i means "tokens 0..i-1 have
 * matched the bytes read so far". The set of live states advances one byte
 * at a time (a byte per state), so a match costs pattern x string steps and
 * no pattern can make it backtrack. Stars are states that may stay put and
 * may be left without a byte: STAR stays on any byte but '/', DSTAR on any
 * byte. "**" followed by '/' compiles to SKIP, DSTAR, '/': SKIP is left
 * without a byte either into the DSTAR or past the '/', so the three match
 * "" or anything that ends in '/'.
 * Bracket expressions keep their text and ask fnmatch(3) about one byte.
 */
#include "common/glob.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* Kinds from G_STAR on may be left without reading a byte. */
enum glob_kind { G_LIT, G_ANY, G_CLASS, G_STAR, G_DSTAR, G_SKIP };

struct glob_tok {
	enum glob_kind kind;
	unsigned char c; /* G_LIT */
	const char *cls; /* G_CLASS: "[...]" NUL-terminated in the arena */
};

struct ufs_glob {
	size_t n;
	struct glob_tok *t;
	char *arena; /* the bracket expressions' text */
};

/* Length of the bracket expression at p ("[...]"), 0 if it does not close. */
static size_t glob_class_len(const char *p)
{
	size_t i = 1;

	if (p[i] == '!' || p[i] == '^')
		i++;
	if (p[i] == ']')
		i++;
	for (; p[i] && p[i] != ']'; i++)
		if (p[i] == '[' && p[i + 1] == ':') {
			const char *end = strstr(p + i + 2, ":]");

			if (!end)
				return 0;
			i = (size_t)(end - p) + 1;
		}
	return p[i] == ']' ? i + 1 : 0;
}

/* The token(s) at *pp (advanced past them) appended to g; a bracket
 * expression's text goes to *parena. */
static void glob_token(struct ufs_glob *g, const char **pp, char **parena)
{
	const char *p = *pp;
	struct glob_tok t = {.kind = G_LIT, .c = (unsigned char)*p};
	size_t n;

	if (*p == '*' && p[1] == '*') {
		while (*p == '*')
			p++;
		if (*p == '/') {
			g->t[g->n++] = (struct glob_tok){.kind = G_SKIP};
			g->t[g->n++] = (struct glob_tok){.kind = G_DSTAR};
			g->t[g->n++] = (struct glob_tok){.kind = G_LIT, .c = '/'};
			p++;
		} else {
			g->t[g->n++] = (struct glob_tok){.kind = G_DSTAR};
		}
		*pp = p;
		return;
	}
	if (*p == '*')
		t.kind = G_STAR;
	else if (*p == '?')
		t.kind = G_ANY;
	else if (*p == '\\' && p[1])
		t.c = (unsigned char)*++p;
	else if (*p == '[' && (n = glob_class_len(p)) > 0) {
		t.kind = G_CLASS;
		t.cls = *parena;
		memcpy(*parena, p, n);
		(*parena)[n] = '\0';
		*parena += n + 1;
		p += n - 1;
	}
	g->t[g->n++] = t;
	*pp = p + 1;
}

int ufs_glob_compile(const char *pattern, struct ufs_glob **pg)
{
	size_t len = strlen(pattern);
	struct ufs_glob *g = calloc(1, sizeof(*g));
	char *arena;

	if (g) {
		g->t = calloc(len + 1, sizeof(*g->t));
		g->arena = malloc(2 * len + 1);
	}
	if (!g || !g->t || !g->arena) {
		ufs_glob_free(g);
		return -ENOMEM;
	}
	arena = g->arena;
	for (const char *p = pattern; *p;)
		glob_token(g, &p, &arena);
	*pg = g;
	return 0;
}

/* Does token t consume byte c (and move on)? */
static int glob_takes(const struct glob_tok *t, unsigned char c)
{
	char s[2] = {(char)c, '\0'};

	switch (t->kind) {
	case G_LIT:
		return t->c == c;
	case G_ANY:
		return c != '/';
	case G_CLASS:
		return c != '/' && fnmatch(t->cls, s, 0) == 0;
	default:
		return 0;
	}
}

/* Does token t stay put on byte c? */
static int glob_stays(const struct glob_tok *t, unsigned char c)
{
	return (t->kind == G_STAR && c != '/') || t->kind == G_DSTAR;
}

/* Add to live every state reachable from a live one without a byte. */
static void glob_close(const struct ufs_glob *g, unsigned char *live)
{
	for (size_t i = 0; i < g->n; i++) {
		if (live[i] && g->t[i].kind >= G_STAR)
			live[i + 1] = 1;
		if (live[i] && g->t[i].kind == G_SKIP)
			live[i + 3] = 1;
	}
}

int ufs_glob_match(const struct ufs_glob *g, const char *s)
{
	unsigned char small[2][64], *heap = NULL, *cur = small[0], *next = small[1];
	int any = 1, match;

	if (g->n + 1 > sizeof(small[0])) {
		heap = calloc(2, g->n + 1);
		if (!heap)
			return 0;
		cur = heap;
		next = heap + g->n + 1;
	}
	memset(cur, 0, g->n + 1);
	cur[0] = 1;
	glob_close(g, cur);
	for (; *s && any; s++) {
		unsigned char c = (unsigned char)*s, *tmp;

		memset(next, 0, g->n + 1);
		for (size_t i = 0; i < g->n; i++) {
			if (!cur[i])
				continue;
			next[i] |= glob_stays(&g->t[i], c);
			next[i + 1] |= glob_takes(&g->t[i], c);
		}
		glob_close(g, next);
		any = memchr(next, 1, g->n + 1) != NULL;
		tmp = cur;
		cur = next;
		next = tmp;
	}
	match = !*s && cur[g->n];
	free(heap);
	return match;
}

void ufs_glob_free(struct ufs_glob *g)
{
	if (!g)
		return;
	free(g->t);
	free(g->arena);
	free(g);
}

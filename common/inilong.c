/*
 * inilong.c — inih over lines longer than its compiled limit (see inilong.h).
 *
 * One pass over the text copies it line by line. A line longer than
 * INILONG_SAFE whose key ends early ("key = value", '=' or ':' as inih
 * accepts) is copied as "key = \001ufslong:N" and its value, blanks and an
 * inline ';' comment removed, is kept as values[N]; an over-long comment
 * line is copied as ";". Line count is unchanged, so inih's line numbers
 * stay right. The handler wrapper maps a placeholder value back.
 */
#include "common/inilong.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

#define INILONG_SAFE 150 /* below Debian's INI_MAX_LINE (200) */
#define INILONG_KEY_MAX 100
#define INILONG_TAG "\001ufslong:"

struct inilong {
	ini_handler h;
	void *user;
	char **values;
	size_t n, cap;
	int oom;
};

/* Keep a copy of value[0..len) trimmed as inih trims; its index or -1. */
static long inilong_keep(struct inilong *il, const char *value, size_t len)
{
	char *v;
	char **arr;

	while (len && isspace((unsigned char)*value)) {
		value++;
		len--;
	}
	for (size_t i = 1; i < len; i++)
		if (value[i] == ';' && isspace((unsigned char)value[i - 1]))
			len = i;
	while (len && isspace((unsigned char)value[len - 1]))
		len--;
	if (il->n == il->cap) {
		il->cap = il->cap ? il->cap * 2 : 4;
		arr = realloc(il->values, il->cap * sizeof(*arr));
		if (!arr)
			return -1;
		il->values = arr;
	}
	v = strndup(value, len);
	if (!v)
		return -1;
	il->values[il->n] = v;
	return (long)il->n++;
}

/* Copy line[0..len) to out, pre-splitting it when it is too long for inih. */
static void inilong_line(struct inilong *il, struct ufs_strbuf *out, const char *line, size_t len)
{
	const char *p = line;
	size_t key;
	long idx;

	while (p < line + len && isspace((unsigned char)*p))
		p++;
	if (len <= INILONG_SAFE || p == line + len || *p == '[') {
		ufs_sb_append(out, line, len);
		return;
	}
	if (*p == ';' || *p == '#') {
		ufs_sb_append(out, ";", 1);
		return;
	}
	key = strcspn(line, "=:");
	if (key >= len || key > INILONG_KEY_MAX) {
		ufs_sb_append(out, line, len); /* inih reports it */
		return;
	}
	idx = inilong_keep(il, line + key + 1, len - key - 1);
	if (idx < 0) {
		il->oom = 1;
		return;
	}
	ufs_sb_append(out, line, key + 1);
	ufs_sb_printf(out, " " INILONG_TAG "%ld", idx);
}

static int inilong_handler(void *arg, const char *section, const char *name, const char *value)
{
	struct inilong *il = arg;
	size_t tag = strlen(INILONG_TAG);

	if (strncmp(value, INILONG_TAG, tag) == 0) {
		char *end;
		unsigned long i = strtoul(value + tag, &end, 10);

		if (*end == '\0' && i < il->n)
			value = il->values[i];
	}
	return il->h(il->user, section, name, value);
}

/* Wipe and free the split text and the kept values. */
static void inilong_free(struct inilong *il, char *text)
{
	for (size_t i = 0; i < il->n; i++) {
		explicit_bzero(il->values[i], strlen(il->values[i]));
		free(il->values[i]);
	}
	free(il->values);
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
}

int ufs_ini_parse_text(const char *text, ini_handler h, void *user)
{
	struct inilong il = {h, user, NULL, 0, 0, 0};
	struct ufs_strbuf out = {0};
	const char *p = text;
	char *split;
	int rc;

	ufs_sb_append(&out, "", 0);
	while (*p) {
		size_t len = strcspn(p, "\n");

		inilong_line(&il, &out, p, len);
		if (p[len] == '\n')
			ufs_sb_append(&out, "\n", 1);
		p += len + (p[len] == '\n');
	}
	if (out.oom || il.oom) {
		if (out.s)
			explicit_bzero(out.s, out.len);
		free(out.s);
		inilong_free(&il, NULL);
		return -2;
	}
	split = ufs_sb_take(&out);
	rc = ini_parse_string(split, inilong_handler, &il);
	inilong_free(&il, split);
	return rc;
}

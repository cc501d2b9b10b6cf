/* strbuf.c — growing string; see strbuf.h. */
#include "common/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make room for n more bytes and a NUL; 0, or -1 with b->oom set. */
static int sb_reserve(struct ufs_strbuf *b, size_t n)
{
	size_t cap;
	char *s;

	if (b->oom)
		return -1;
	if (b->s && b->len + n < b->cap)
		return 0;
	cap = (b->cap + n + 1) * 2;
	s = realloc(b->s, cap);
	if (!s) {
		b->oom = 1;
		return -1;
	}
	b->s = s;
	b->cap = cap;
	return 0;
}

void ufs_sb_printf(struct ufs_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		if (sb_reserve(b, (size_t)n) != 0)
			return;
	}
}

void ufs_sb_append(struct ufs_strbuf *b, const void *data, size_t n)
{
	if (sb_reserve(b, n) != 0)
		return;
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void ufs_sb_puts(struct ufs_strbuf *b, const char *s)
{
	ufs_sb_append(b, s, strlen(s));
}

void ufs_sb_json_str(struct ufs_strbuf *b, const char *s)
{
	ufs_sb_printf(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			ufs_sb_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			ufs_sb_printf(b, "\\u%04x", *p);
		else
			ufs_sb_printf(b, "%c", *p);
	}
	ufs_sb_printf(b, "\"");
}

char *ufs_sb_take(struct ufs_strbuf *b)
{
	char *s = b->oom ? NULL : b->s;

	if (b->oom)
		free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
	return s;
}

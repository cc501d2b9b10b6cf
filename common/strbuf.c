/*
 * strbuf.c — growing string; see strbuf.h.
 *
 * The two escapers put names that arrive from outside (object keys, file
 * names, servers' messages) into text a user reads or a program parses,
 * one byte-exact rule each (documented in man/unifs.1, ESCAPING): both
 * walk the string as UTF-8 with the same strict decoder, so "valid" means
 * the same thing in JSON and in text.
 */
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

void ufs_sb_vprintf(struct ufs_strbuf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_copy(cp, ap);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, cp);
		va_end(cp);
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

void ufs_sb_printf(struct ufs_strbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ufs_sb_vprintf(b, fmt, ap);
	va_end(ap);
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

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF), or 0 when p does not start
 * one (a stray continuation byte, a truncated or invalid sequence). */
static size_t sb_utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* U+D800..U+DFFF */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* True for the UTF-8 form (C2 80..C2 9F) of a C1 control U+0080..U+009F. */
static int sb_is_c1(const unsigned char *p, size_t n)
{
	return n == 2 && p[0] == 0xc2 && p[1] <= 0x9f;
}

void ufs_sb_json_str(struct ufs_strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	ufs_sb_append(b, "\"", 1);
	while (*p) {
		size_t n = sb_utf8_len(p);

		if (n == 0)
			ufs_sb_printf(b, "\\udc%02x", *p); /* surrogateescape */
		else if (*p == '"' || *p == '\\')
			ufs_sb_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			ufs_sb_printf(b, "\\u%04x", *p);
		else if (sb_is_c1(p, n))
			ufs_sb_printf(b, "\\u%04x", p[1]);
		else
			ufs_sb_append(b, p, n);
		p += n ? n : 1;
	}
	ufs_sb_append(b, "\"", 1);
}

void ufs_sb_text_str(struct ufs_strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = sb_utf8_len(p);

		if (*p == '\\')
			ufs_sb_append(b, "\\\\", 2);
		else if (*p >= '\a' && *p <= '\r')
			ufs_sb_printf(b, "\\%c", "abtnvfr"[*p - '\a']);
		else if (*p < 0x20 || *p == 0x7f || n == 0)
			ufs_sb_printf(b, "\\%03o", *p);
		else if (sb_is_c1(p, n))
			ufs_sb_printf(b, "\\%03o\\%03o", p[0], p[1]);
		else
			ufs_sb_append(b, p, n);
		p += n ? n : 1;
	}
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

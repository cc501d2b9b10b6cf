/*
 * strbuf.h — the one growing NUL-terminated string (or byte buffer): replies
 * (the control socket's stats, the Prometheus exposition), HTTP bodies,
 * SigV4 canonical requests, XML paths, config text, and the escaped forms
 * of untrusted names (JSON, terminal text). Allocation failure is
 * sticky: once oom is set, further appends are dropped and the caller checks
 * oom once at the end.
 */
#ifndef UFS_STRBUF_H
#define UFS_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct ufs_strbuf {
	char *s; /* NULL until the first append; owned, free() it */
	size_t len, cap;
	int oom;
};

/* Append printf-style text to b (sets b->oom when memory runs out). */
void ufs_sb_printf(struct ufs_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ufs_sb_printf with a va_list (ap is left unconsumed: va_copy'd). */
void ufs_sb_vprintf(struct ufs_strbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Append n bytes of data (NULs included); b->s stays NUL-terminated. */
void ufs_sb_append(struct ufs_strbuf *b, const void *data, size_t n);

/* Append the string s. */
void ufs_sb_puts(struct ufs_strbuf *b, const char *s);

/*
 * Append s (any bytes) as a JSON string literal that is always valid UTF-8:
 * '"' and '\\' as \" and \\; C0 controls, DEL and the C1 controls
 * U+0080..U+009F as \u00XX (lower-case hex); well-formed UTF-8 otherwise as
 * is; every byte that is not part of well-formed UTF-8 (RFC 3629) as the
 * lone surrogate \udcXX, XX the byte, as Python's "surrogateescape" does:
 * json.loads(text).encode("utf-8", "surrogateescape") gives s back.
 */
void ufs_sb_json_str(struct ufs_strbuf *b, const char *s);

/*
 * Append s (any bytes) escaped for a terminal or a line-based report, like
 * `ls -b`: '\\' as \\; BEL BS HT LF VT FF CR as \a \b \t \n \v \f \r;
 * every other C0 control, DEL, each byte of a C1 control's UTF-8 form
 * (C2 80..C2 9F) and every byte not part of well-formed UTF-8 as \ooo
 * (three octal digits: ESC is \033); anything else as is. The result holds
 * no control byte and no raw newline, and reads back unambiguously.
 */
void ufs_sb_text_str(struct ufs_strbuf *b, const char *s);

/* Take the string out of b (NULL when b->oom, then freed); b is emptied. */
char *ufs_sb_take(struct ufs_strbuf *b);

#endif

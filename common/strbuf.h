/*
 * strbuf.h — the one growing NUL-terminated string (or byte buffer): replies
 * (the control socket's stats, the Prometheus exposition), HTTP bodies,
 * SigV4 canonical requests, XML paths, config text. Allocation failure is
 * sticky: once oom is set, further appends are dropped and the caller checks
 * oom once at the end.
 */
#ifndef UFS_STRBUF_H
#define UFS_STRBUF_H

#include <stddef.h>

struct ufs_strbuf {
	char *s; /* NULL until the first append; owned, free() it */
	size_t len, cap;
	int oom;
};

/* Append printf-style text to b (sets b->oom when memory runs out). */
void ufs_sb_printf(struct ufs_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append n bytes of data (NULs included); b->s stays NUL-terminated. */
void ufs_sb_append(struct ufs_strbuf *b, const void *data, size_t n);

/* Append the string s. */
void ufs_sb_puts(struct ufs_strbuf *b, const char *s);

/* Append s as a JSON string literal (quotes, escapes). */
void ufs_sb_json_str(struct ufs_strbuf *b, const char *s);

/* Take the string out of b (NULL when b->oom, then freed); b is emptied. */
char *ufs_sb_take(struct ufs_strbuf *b);

#endif

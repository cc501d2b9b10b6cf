/*
 * glob.h — shell-style patterns over slash-separated paths, with `**`:
 *
 *   *       any run of bytes without '/'
 *   **      any run of bytes, '/' included; "**" and the '/' after it
 *           match nothing or anything that ends in '/': "a/" "**" "/b"
 *           (written apart here only because C comments end at star-slash)
 *           matches "a/b" and "a/x/y/b", "**" "/x" matches "x" and "d/x"
 *   ?       one byte, not '/'
 *   [...]   one byte of a bracket expression as fnmatch(3) reads it
 *           ("[a-z]", "[!0-9]", "[[:alpha:]]"), never '/'; a '[' with no
 *           closing ']' is a plain '['
 *   \c      the byte c itself
 *
 * Matching is byte-wise, of the whole string, in time linear in the
 * pattern times the string (no backtracking blow-up).
 */
#ifndef UFS_GLOB_H
#define UFS_GLOB_H

struct ufs_glob;

/* Compile pattern. 0 and an owned *pg, or -ENOMEM. Every pattern is valid. */
int ufs_glob_compile(const char *pattern, struct ufs_glob **pg);

/* True when s matches g as a whole. */
int ufs_glob_match(const struct ufs_glob *g, const char *s);

/* Free g. NULL is a no-op. */
void ufs_glob_free(struct ufs_glob *g);

#endif

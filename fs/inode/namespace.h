/*
 * namespace.h — the mount table: which backend serves which part of the one
 * POSIX namespace.
 *
 * Every namespace path is absolute and normalised ("/", "/a/b"; no trailing
 * '/', no empty, "." or ".." components). The mount whose prefix is the
 * longest one covering a path serves it; the rest of the path, without a
 * leading '/', is the backend-relative path ("" for the mount's root).
 *
 * Synthetic directories are the root and every proper ancestor of a mount
 * prefix ("/data" when only "/data/nfs" is mounted). They list the next
 * component of each mount prefix below them. When such a directory is also
 * covered by a mount (a mount at "/", or a mount nested in another one) its
 * listing is the real one merged with the synthetic names; a synthetic name
 * hides a real entry of the same name.
 *
 * The table is immutable after creation, so every function is thread-safe.
 */
#ifndef UFS_NAMESPACE_H
#define UFS_NAMESPACE_H

#include <stddef.h>

#include "common/config.h"

struct ufs_ns;

/* Called once per synthetic child name; non-zero stops the walk and is
 * returned by ufs_ns_list_synthetic(). */
typedef int (*ufs_ns_list_cb)(void *arg, const char *name);

/* Build the mount table of cfg (mount i of the table is cfg->mounts[i]).
 * Returns an owned table (free with ufs_ns_destroy) or NULL on ENOMEM. */
struct ufs_ns *ufs_ns_create(const struct ufs_config *cfg);

/* Free ns; NULL is a no-op. */
void ufs_ns_destroy(struct ufs_ns *ns);

/* Number of mounts, and the prefix of mount i (borrowed from ns). */
size_t ufs_ns_count(const struct ufs_ns *ns);
const char *ufs_ns_prefix(const struct ufs_ns *ns, size_t i);

/*
 * Resolve the normalised absolute path. *pmount: index of the covering mount
 * with the longest prefix, or -1 when no mount covers path. *prel: the
 * backend-relative rest, pointing into path ("" for a mount root; when no
 * mount covers it, path itself). Returns 0, or -ENOENT when path is neither
 * covered by a mount nor a synthetic directory.
 */
int ufs_ns_resolve(const struct ufs_ns *ns, const char *path, int *pmount, const char **prel);

/* 1 if path is a synthetic directory (the root, or a proper ancestor of a
 * mount prefix), else 0. */
int ufs_ns_is_synthetic(const struct ufs_ns *ns, const char *path);

/* 1 if name is a synthetic child of the directory dir, else 0. */
int ufs_ns_has_synthetic_child(const struct ufs_ns *ns, const char *dir, const char *name);

/* Call cb for each synthetic child name of dir, once per name, in mount
 * table order. Returns 0, or the first non-zero value cb returned. */
int ufs_ns_list_synthetic(const struct ufs_ns *ns, const char *dir, ufs_ns_list_cb cb, void *arg);

/* Join a namespace directory and a component ("/" + "a" -> "/a",
 * "/a" + "b" -> "/a/b"). Returns a malloc'd string or NULL. */
char *ufs_ns_join(const char *dir, const char *name);

/*
 * Normalise a user-supplied absolute path into out: collapse repeated '/',
 * drop "." components and a trailing '/'. Returns 0; -EINVAL when in is not
 * absolute or holds a ".." component; -ENAMETOOLONG when out is too small.
 */
int ufs_ns_normalize(const char *in, char *out, size_t size);

#endif

/*
 * namespace.c — the mount table (see namespace.h).
 *
 * Design: an array of the mount prefixes of the config, in config order, each
 * with its length. Lookups are linear scans: a namespace holds a handful of
 * mounts, and a scan of a few short strings costs less than any index. The
 * table never changes after ufs_ns_create(), so no lock is needed.
 */
#include "fs/inode/namespace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ns_mount {
	char *prefix;
	size_t len;
};

struct ufs_ns {
	struct ns_mount *mounts;
	size_t n;
};

struct ufs_ns *ufs_ns_create(const struct ufs_config *cfg)
{
	struct ufs_ns *ns = calloc(1, sizeof(*ns));

	if (!ns)
		return NULL;
	ns->mounts = calloc(cfg->n_mounts ? cfg->n_mounts : 1, sizeof(*ns->mounts));
	if (!ns->mounts) {
		free(ns);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		ns->mounts[i].prefix = strdup(cfg->mounts[i].prefix);
		if (!ns->mounts[i].prefix) {
			ns->n = i;
			ufs_ns_destroy(ns);
			return NULL;
		}
		ns->mounts[i].len = strlen(cfg->mounts[i].prefix);
	}
	ns->n = cfg->n_mounts;
	return ns;
}

void ufs_ns_destroy(struct ufs_ns *ns)
{
	if (!ns)
		return;
	for (size_t i = 0; i < ns->n; i++)
		free(ns->mounts[i].prefix);
	free(ns->mounts);
	free(ns);
}

size_t ufs_ns_count(const struct ufs_ns *ns)
{
	return ns->n;
}

const char *ufs_ns_prefix(const struct ufs_ns *ns, size_t i)
{
	return i < ns->n ? ns->mounts[i].prefix : NULL;
}

/* Length of the part of path below ancestor, or -1 when ancestor does not
 * cover path. Covering includes equality ("/a" covers "/a" with 0). */
static long ns_below(const char *ancestor, size_t alen, const char *path)
{
	if (alen == 1) /* "/" covers everything */
		return (long)strlen(path + 1);
	if (strncmp(path, ancestor, alen) != 0)
		return -1;
	if (path[alen] == '\0')
		return 0;
	if (path[alen] != '/')
		return -1;
	return (long)strlen(path + alen + 1);
}

int ufs_ns_resolve(const struct ufs_ns *ns, const char *path, int *pmount, const char **prel)
{
	int best = -1;
	size_t best_len = 0;

	for (size_t i = 0; i < ns->n; i++) {
		const struct ns_mount *m = &ns->mounts[i];

		if (ns_below(m->prefix, m->len, path) < 0)
			continue;
		if (best < 0 || m->len > best_len) {
			best = (int)i;
			best_len = m->len;
		}
	}
	*pmount = best;
	if (best < 0) {
		*prel = path;
		return ufs_ns_is_synthetic(ns, path) ? 0 : -ENOENT;
	}
	if (best_len == 1)
		*prel = path + 1;
	else
		*prel = path[best_len] ? path + best_len + 1 : path + best_len;
	return 0;
}

/* The synthetic child of dir on the way to mount m, as a pointer into the
 * prefix and a length; 0 when m is not strictly below dir. */
static size_t ns_child_of(const char *dir, const struct ns_mount *m, const char **pname)
{
	size_t dlen = strlen(dir);
	const char *rest;
	const char *slash;

	if (ns_below(dir, dlen, m->prefix) <= 0)
		return 0;
	rest = dlen == 1 ? m->prefix + 1 : m->prefix + dlen + 1;
	slash = strchr(rest, '/');
	*pname = rest;
	return slash ? (size_t)(slash - rest) : strlen(rest);
}

int ufs_ns_is_synthetic(const struct ufs_ns *ns, const char *path)
{
	const char *name;

	if (strcmp(path, "/") == 0)
		return 1;
	for (size_t i = 0; i < ns->n; i++) {
		if (ns_child_of(path, &ns->mounts[i], &name) > 0)
			return 1;
	}
	return 0;
}

int ufs_ns_has_synthetic_child(const struct ufs_ns *ns, const char *dir, const char *name)
{
	size_t nlen = strlen(name);
	const char *child;

	for (size_t i = 0; i < ns->n; i++) {
		size_t clen = ns_child_of(dir, &ns->mounts[i], &child);

		if (clen == nlen && clen > 0 && memcmp(child, name, nlen) == 0)
			return 1;
	}
	return 0;
}

/* 1 if the child name of mount i was already produced by an earlier mount. */
static int ns_seen_before(const struct ufs_ns *ns, const char *dir, size_t i, const char *name,
			  size_t len)
{
	const char *other;

	for (size_t j = 0; j < i; j++) {
		size_t olen = ns_child_of(dir, &ns->mounts[j], &other);

		if (olen == len && memcmp(other, name, len) == 0)
			return 1;
	}
	return 0;
}

int ufs_ns_list_synthetic(const struct ufs_ns *ns, const char *dir, ufs_ns_list_cb cb, void *arg)
{
	char name[256];
	const char *child;

	for (size_t i = 0; i < ns->n; i++) {
		size_t len = ns_child_of(dir, &ns->mounts[i], &child);
		int rc;

		if (len == 0 || len >= sizeof(name) || ns_seen_before(ns, dir, i, child, len))
			continue;
		memcpy(name, child, len);
		name[len] = '\0';
		rc = cb(arg, name);
		if (rc)
			return rc;
	}
	return 0;
}

char *ufs_ns_join(const char *dir, const char *name)
{
	size_t dlen = strlen(dir);
	size_t nlen = strlen(name);
	char *s;

	if (dlen == 1)
		dlen = 0; /* "/" + name */
	s = malloc(dlen + nlen + 2);
	if (!s)
		return NULL;
	memcpy(s, dir, dlen);
	s[dlen] = '/';
	memcpy(s + dlen + 1, name, nlen + 1);
	return s;
}

int ufs_ns_normalize(const char *in, char *out, size_t size)
{
	size_t o = 0;

	if (in[0] != '/')
		return -EINVAL;
	while (*in) {
		size_t len;

		while (*in == '/')
			in++;
		len = strcspn(in, "/");
		if (len == 0 || (len == 1 && in[0] == '.')) {
			in += len;
			continue;
		}
		if (len == 2 && in[0] == '.' && in[1] == '.')
			return -EINVAL;
		if (o + len + 2 > size)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, in, len);
		o += len;
		in += len;
	}
	if (size < 2)
		return -ENAMETOOLONG;
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

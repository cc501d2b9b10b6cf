/*
 * registry.c — the scheme registry: which backends exist (file, nfs, s3,
 * az), the keys each accepts (the config parser's schema and --help), and
 * creating or describing the backend of a mount by its URL's scheme. It
 * sits above the backends: it names their ops tables, and no backend calls
 * it (they use backend.c), so backends and the registry never call each
 * other.
 */
#include "protocols/backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct ufs_backend_ops *const registry[] = {
    &ufs_file_ops,
    &ufs_nfs_ops,
    &ufs_s3_ops,
    &ufs_az_ops,
};

#define REGISTRY_N (sizeof(registry) / sizeof(registry[0]))

const struct ufs_cfg_key ufs_backend_common_keys[] = {
    {"url", 0, "the backend and its root (required)"},
    {"readonly", 0, "true: refuse writes in this subtree (EROFS)"},
    {"attr_ttl", 0, "seconds attributes are cached (overrides [global])"},
    {"dir_ttl", 0, "seconds listings are cached (overrides [global])"},
    {"negative_ttl", 0, "seconds a missing name is remembered (overrides [global])"},
    {"op_timeout", 0, "seconds a backend call may take (overrides [global])"},
    {"block_size", 0, "cache block size, at least 4K (overrides [global])"},
    {"part_size", 0, "upload part size, at least 4K (overrides [global])"},
    {"bwlimit", 0, "bytes/s this mount reads and writes, 0 = none (overrides [global])"},
    {NULL, 0, NULL},
};

const struct ufs_backend_ops *const *ufs_backend_registry(size_t *pn)
{
	*pn = REGISTRY_N;
	return registry;
}

/* The backend registered for scheme, or NULL. */
static const struct ufs_backend_ops *registry_find(const char *scheme)
{
	for (size_t i = 0; i < REGISTRY_N; i++)
		if (strcmp(registry[i]->scheme, scheme) == 0)
			return registry[i];
	return NULL;
}

/* The entry for key in a NULL-terminated table (NULL table: none), or NULL. */
static const struct ufs_cfg_key *keys_find(const struct ufs_cfg_key *t, const char *key)
{
	for (; t && t->name; t++)
		if (strcmp(t->name, key) == 0)
			return t;
	return NULL;
}

/* The key of ops (its own, its family's or a common one), or NULL. */
static const struct ufs_cfg_key *ops_key(const struct ufs_backend_ops *ops, const char *key)
{
	const struct ufs_cfg_key *k = keys_find(ufs_backend_common_keys, key);

	if (!k)
		k = keys_find(ops->family_keys, key);
	if (!k)
		k = keys_find(ops->keys, key);
	return k;
}

static int schema_scheme_known(const char *scheme)
{
	return registry_find(scheme) != NULL;
}

static unsigned key_flags_of(const struct ufs_cfg_key *k)
{
	return k ? UFS_CFGKEY_VALID | (k->flags & UFS_CFGKEY_SECRET) : 0;
}

static unsigned schema_key_flags(const char *scheme, const char *key)
{
	const struct ufs_backend_ops *ops = scheme ? registry_find(scheme) : NULL;
	unsigned flags = 0;

	if (ops)
		return key_flags_of(ops_key(ops, key));
	for (size_t i = 0; !scheme && i < REGISTRY_N; i++)
		flags |= key_flags_of(ops_key(registry[i], key));
	return flags;
}

/* Append "name" to buf as an item of a list ("a, b, c" or "a, b or c"). */
static void describe_add(char *buf, size_t size, const char *name, size_t i, int last)
{
	size_t len = strlen(buf);

	if (len < size)
		snprintf(buf + len, size - len, "%s%s", i == 0 ? "" : last ? " or " : ", ", name);
}

static void describe_keys(const struct ufs_cfg_key *t, char *buf, size_t size, size_t *pi)
{
	for (; t && t->name; t++)
		describe_add(buf, size, t->name, (*pi)++, 0);
}

static void schema_describe(const char *scheme, char *buf, size_t size)
{
	const struct ufs_backend_ops *ops = scheme ? registry_find(scheme) : NULL;
	size_t i = 0;

	buf[0] = '\0';
	if (!scheme) {
		for (i = 0; i < REGISTRY_N; i++)
			describe_add(buf, size, registry[i]->scheme, i, i + 1 == REGISTRY_N);
		return;
	}
	describe_keys(ufs_backend_common_keys, buf, size, &i);
	if (ops) {
		describe_keys(ops->family_keys, buf, size, &i);
		describe_keys(ops->keys, buf, size, &i);
	}
}

const struct ufs_cfg_schema ufs_backend_schema = {
    .scheme_known = schema_scheme_known,
    .key_flags = schema_key_flags,
    .describe = schema_describe,
};

int ufs_be_config_open(const char *source, struct ufs_config **pcfg, char *err, size_t errlen)
{
	if (strstr(source, "://"))
		return ufs_config_from_url(source, &ufs_backend_schema, pcfg, err, errlen);
	return ufs_config_load(source, &ufs_backend_schema, pcfg, err, errlen);
}

static void help_keys(FILE *f, const struct ufs_cfg_key *t)
{
	for (; t && t->name; t++)
		fprintf(f, "      %-18s %s%s\n", t->name, t->help,
			(t->flags & UFS_CFGKEY_SECRET) ? " (secret: file must be mode 0600)" : "");
}

void ufs_backend_print_help(FILE *f)
{
	fputs("Backends and their [mount \"/path\"] keys (see unifs.conf(5)):\n"
	      "  any scheme:\n",
	      f);
	help_keys(f, ufs_backend_common_keys);
	for (size_t i = 0; i < REGISTRY_N; i++) {
		fprintf(f, "  %s\n", registry[i]->url_help);
		help_keys(f, registry[i]->family_keys);
		help_keys(f, registry[i]->keys);
	}
}

static int scheme_matches(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

/* The backend whose scheme url has, or NULL. */
static const struct ufs_backend_ops *registry_for_url(const char *url)
{
	for (size_t i = 0; i < REGISTRY_N; i++) {
		if (scheme_matches(url, registry[i]->scheme))
			return registry[i];
	}
	return NULL;
}

int ufs_backend_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
		       struct ufs_backend **pbe, char *err, size_t errlen)
{
	const char *url = m->url ? m->url : "";
	const struct ufs_backend_ops *ops = registry_for_url(url);
	char names[128];

	if (ops)
		return ops->create(m, g, pbe, err, errlen);
	schema_describe(NULL, names, sizeof(names));
	snprintf(err, errlen, "mount %s: unknown URL scheme in '%s' (use %s)", m->prefix, url,
		 names);
	return -EPROTONOSUPPORT;
}

int ufs_be_describe(const struct ufs_mount_cfg *m, const struct ufs_backend *be,
		    struct ufs_be_desc *out)
{
	const struct ufs_backend_ops *ops = registry_for_url(m->url ? m->url : "");

	memset(out, 0, sizeof(*out));
	if (!ops)
		return -EPROTONOSUPPORT;
	if (ops->describe)
		ops->describe(m, be, out);
	return 0;
}

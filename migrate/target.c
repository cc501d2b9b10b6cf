/*
 * target.c — open a TARGET (a URL, or a path in a config's namespace)
 * without mounting: what ls/stat/cat browse and cp/sync/check copy between.
 *
 * URL form: the URL may name a directory or an object. Object stores and
 * file:// serve any path below their root, but an NFS URL must name the
 * export (or a directory the server lets us mount). So the parent URL is
 * tried first: if its root answers, the target is its last component there
 * (and a missing one is a definite ENOENT); otherwise the URL itself is the
 * backend root and the target is "" (the export, the bucket, the file).
 *
 * Namespace form (-c CONFIG /path): the config's mount table (fs/inode/namespace.h)
 * resolves the path to the mount with the longest prefix; synthetic
 * directories (the root, ancestors of mount prefixes) need no backend.
 */
#include "migrate/migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/inode/namespace.h"
#include "protocols/http/http.h"

/* Split url into its parent URL and last path component. Returns 0 with
 * both malloc'd, or -EINVAL when the URL has no component below its root
 * (s3://bucket, nfs://host, file:///). An nfs:// query (?version=4) stays on
 * the parent. The name is %XX-decoded like the rest of a URL path. */
static int target_split_url(const char *url, char **pparent, char **pbase)
{
	const char *sep = strstr(url, "://");
	const char *path = sep ? strchr(sep + 3, '/') : NULL;
	const char *query = NULL;
	size_t end, slash, plen;

	if (!path)
		return -EINVAL;
	if (strncmp(url, "nfs://", 6) == 0)
		query = strchr(path, '?');
	end = query ? (size_t)(query - url) : strlen(url);
	while (end > (size_t)(path - url) + 1 && url[end - 1] == '/')
		end--;
	slash = end;
	while (slash > (size_t)(path - url) && url[slash - 1] != '/')
		slash--;
	if (slash == end)
		return -EINVAL;
	/* parent keeps its root '/' but no other trailing one */
	plen = slash - 1 > (size_t)(path - url) ? slash - 1 : slash;
	/* backends decode %XX in URL paths, so the split-off name is decoded too */
	*pbase = ufs_uri_decode(url + slash, end - slash);
	if (!*pbase)
		*pbase = strndup(url + slash, end - slash);
	*pparent = malloc(strlen(url) + 1);
	if (!*pbase || !*pparent) {
		free(*pbase);
		free(*pparent);
		return -ENOMEM;
	}
	snprintf(*pparent, strlen(url) + 1, "%.*s%s", (int)plen, url, query ? query : "");
	return 0;
}

/* A backend message without the "mount /: " it starts with when the mount
 * is only the URL's own (the URL form): the user named no mount. */
static const char *target_message(const struct mig_target *t, const char *msg)
{
	if (!t->nspath && strncmp(msg, "mount /: ", 9) == 0)
		return msg + 9;
	return msg;
}

/* Give the URL's mount the key region = t->region (--region). 0 or -ENOMEM. */
static int target_set_region(struct mig_target *t)
{
	struct ufs_mount_cfg *m = &t->cfg->mounts[0];
	struct ufs_kv *kv;

	if (!t->region)
		return 0;
	kv = realloc(m->kv, (m->n_kv + 1) * sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	m->kv = kv;
	kv[m->n_kv] = (struct ufs_kv){strdup("region"), strdup(t->region), 0};
	m->n_kv++;
	return kv[m->n_kv - 1].key && kv[m->n_kv - 1].value ? 0 : -ENOMEM;
}

/* Build cfg + backend for url; on failure prints why (when loud). */
static int target_backend(struct mig_target *t, const char *url, int loud)
{
	char err[CLI_ERR_MAX] = "";
	int rc = ufs_config_from_url(url, &ufs_backend_schema, &t->cfg, err, sizeof(err));

	if (rc == 0)
		rc = target_set_region(t);
	if (rc == 0)
		rc = ufs_backend_create(&t->cfg->mounts[0], t->cfg, &t->be, err, sizeof(err));
	if (rc != 0) {
		if (loud)
			cli_error(t->cmd, "%s: %s", t->name,
				  err[0] ? target_message(t, err) : cli_strerror(rc));
		ufs_config_destroy(t->cfg);
		t->cfg = NULL;
		t->be = NULL;
	}
	return rc;
}

static void target_drop_backend(struct mig_target *t)
{
	ufs_backend_destroy(t->be);
	ufs_config_destroy(t->cfg);
	t->be = NULL;
	t->cfg = NULL;
}

/* Try the parent URL: 1 when it serves the target, 0 to fall back. */
static int target_try_parent(struct mig_target *t, const char *url)
{
	char *parent = NULL, *base = NULL;
	struct ufs_attr a;

	if (target_split_url(url, &parent, &base) != 0)
		return 0;
	if (target_backend(t, parent, 0) == 0 && ufs_be_getattr(t->be, "", &a) == 0 &&
	    S_ISDIR(a.mode)) {
		free(parent);
		t->rel = base;
		return 1;
	}
	if (t->be || t->cfg)
		target_drop_backend(t);
	free(parent);
	free(base);
	return 0;
}

static int target_open_url(struct mig_target *t, const char *url)
{
	if (target_try_parent(t, url))
		return CLI_OK;
	if (target_backend(t, url, 1) != 0)
		return CLI_FAIL;
	t->rel = strdup("");
	return t->rel ? CLI_OK : CLI_FAIL;
}

static int target_open_ns(struct mig_target *t, const char *config, const char *path)
{
	char err[CLI_ERR_MAX] = "";
	char norm[4096];
	const char *rel;
	int idx = -1;
	int rc = ufs_config_load(config, &ufs_backend_schema, &t->cfg, err, sizeof(err));

	if (rc != 0) {
		cli_error(t->cmd, "%s", err);
		return CLI_FAIL;
	}
	t->ns = ufs_ns_create(t->cfg);
	if (!t->ns)
		return mig_target_fail(t, -ENOMEM);
	rc = ufs_ns_normalize(path, norm, sizeof(norm));
	if (rc == 0)
		rc = ufs_ns_resolve(t->ns, norm, &idx, &rel);
	if (rc != 0)
		return mig_target_fail(t, rc);
	t->nspath = strdup(norm);
	t->synthetic = ufs_ns_is_synthetic(t->ns, norm);
	t->rel = strdup(idx >= 0 ? rel : "");
	if (!t->nspath || !t->rel)
		return mig_target_fail(t, -ENOMEM);
	if (idx < 0)
		return CLI_OK;
	rc = ufs_backend_create(&t->cfg->mounts[idx], t->cfg, &t->be, err, sizeof(err));
	if (rc != 0) {
		t->be = NULL;
		cli_error(t->cmd, "%s: %s", t->name, err);
		return CLI_FAIL;
	}
	return CLI_OK;
}

int mig_target_open(struct mig_target *t, const char *config, const char *name)
{
	t->name = name;
	if (config)
		return target_open_ns(t, config, name);
	return target_open_url(t, name);
}

void mig_target_close(struct mig_target *t)
{
	ufs_backend_destroy(t->be);
	ufs_ns_destroy(t->ns);
	ufs_config_destroy(t->cfg);
	free(t->rel);
	free(t->nspath);
	t->be = NULL;
	t->ns = NULL;
	t->cfg = NULL;
	t->rel = NULL;
	t->nspath = NULL;
}

int mig_target_getattr(struct mig_target *t, struct ufs_attr *pattr)
{
	if (t->synthetic) {
		memset(pattr, 0, sizeof(*pattr));
		pattr->mode = S_IFDIR | 0555;
		pattr->nlink = 2;
		pattr->uid = UFS_UID_OWNER;
		pattr->gid = UFS_UID_OWNER;
		return 0;
	}
	return ufs_be_getattr(t->be, t->rel, pattr);
}

int mig_target_fail(struct mig_target *t, int rc)
{
	char last[256] = "", why[CLI_ERR_MAX] = "";

	/* A failure may come from the backend's root (no such bucket or export,
	 * bad credentials): its check says so more clearly. Not re-tried for an
	 * unreachable server, which would only wait out another timeout. */
	if (t->be && !ufs_errno_is_unreachable(-rc) && ufs_be_check(t->be, why, sizeof(why)) != 0 &&
	    why[0]) {
		cli_error(t->cmd, "%s: %s", t->name, target_message(t, why));
		return CLI_FAIL;
	}
	if (t->be)
		ufs_be_last_error(t->be, last, sizeof(last));
	if (last[0] && strcmp(last, cli_strerror(rc)) != 0)
		cli_error(t->cmd, "%s: %s (%s)", t->name, cli_strerror(rc), last);
	else
		cli_error(t->cmd, "%s: %s", t->name, cli_strerror(rc));
	return CLI_FAIL;
}

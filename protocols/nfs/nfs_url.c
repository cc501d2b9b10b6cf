/*
 * nfs_url.c — NFS URL parsing and path helpers (no I/O): validates
 * nfs://server/export/path[?args] against the libnfs 4.0 argument list and
 * turns backend-relative paths into the absolute paths libnfs takes.
 * Design: protocols/nfs/nfs.c.
 */
#include "protocols/nfs/nfs_i.h"

#include "protocols/backend.h"
#include "protocols/http.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

/* ---- URL ----------------------------------------------------------------- */

static const char *const nfs_known_args[] = {
    "version",
    "uid",
    "gid",
    "tcp-syncnt",
    "nfsport",
    "mountport",
    "autoreconnect",
    "dircache",
    "auto-traverse-mounts",
    "readahead",
    "pagecache",
    "debug",
    "if",
    NULL,
};

static int nfs_arg_known(const char *name, size_t len)
{
	for (int i = 0; nfs_known_args[i]; i++)
		if (strlen(nfs_known_args[i]) == len && strncmp(nfs_known_args[i], name, len) == 0)
			return 1;
	return 0;
}

/* Check one "name=value" argument; updates *pversion. */
static int nfs_url_arg(const char *a, size_t len, int *pversion, char *err, size_t errlen)
{
	const char *eq = memchr(a, '=', len);

	if (!eq || eq == a || eq + 1 == a + len) {
		snprintf(err, errlen, "malformed NFS URL argument '%.*s' (use name=value)",
			 (int)len, a);
		return -EINVAL;
	}
	if (!nfs_arg_known(a, (size_t)(eq - a))) {
		snprintf(err, errlen,
			 "unknown NFS URL argument '%.*s' (libnfs knows version, uid, gid, "
			 "tcp-syncnt, nfsport, mountport, autoreconnect, dircache, readahead, ...)",
			 (int)(eq - a), a);
		return -EINVAL;
	}
	if (eq - a == 7 && strncmp(a, "version", 7) == 0) {
		if (a + len - eq != 2 || (eq[1] != '3' && eq[1] != '4')) {
			snprintf(err, errlen, "NFS version must be 3 or 4, not '%.*s'",
				 (int)(a + len - eq - 1), eq + 1);
			return -EINVAL;
		}
		*pversion = eq[1] - '0';
	}
	return 0;
}

static int nfs_url_args(const char *q, int *pversion, char *err, size_t errlen)
{
	while (*q) {
		size_t len = strcspn(q, "&");
		int rc = len ? nfs_url_arg(q, len, pversion, err, errlen) : 0;

		if (rc < 0)
			return rc;
		q += len;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* Decode the path part [p, end) into an absolute path without trailing '/'. */
static char *nfs_url_path(const char *p, size_t len)
{
	char *raw = strndup(p, len);
	char *path = raw && !strstr(raw, "%00") ? ufs_uri_decode(raw, len) : NULL;
	size_t n;

	free(raw);
	if (!path)
		return NULL;
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	return path;
}

int ufs_nfs_url_parse(const char *url, struct ufs_nfs_url *pu, char *err, size_t errlen)
{
	const char *host = url + 6, *slash, *q;
	int rc;

	memset(pu, 0, sizeof(*pu));
	pu->version = 3;
	if (strncmp(url, "nfs://", 6) != 0) {
		snprintf(err, errlen, "%s: not an nfs:// URL", url);
		return -EINVAL;
	}
	slash = strchr(host, '/');
	q = strchr(host, '?');
	if (!slash || (q && q < slash) || slash == host || memchr(host, '@', slash - host)) {
		snprintf(err, errlen, "%s: expected nfs://server/export[/path][?version=3|4]", url);
		return -EINVAL;
	}
	pu->server = strndup(host, (size_t)(slash - host));
	pu->path = nfs_url_path(slash, q ? (size_t)(q - slash) : strlen(slash));
	pu->args = strdup(q ? q + 1 : "");
	if (!pu->server || !pu->path || !pu->args) {
		snprintf(err, errlen, "%s: bad %%XX escape in the path", url);
		ufs_nfs_url_free(pu);
		return -EINVAL;
	}
	rc = nfs_url_args(pu->args, &pu->version, err, errlen);
	if (rc < 0)
		ufs_nfs_url_free(pu);
	return rc;
}

int ufs_nfs_url_has_arg(const struct ufs_nfs_url *u, const char *name)
{
	size_t n = strlen(name);

	for (const char *a = u->args; a && *a;) {
		if (strncmp(a, name, n) == 0 && a[n] == '=')
			return 1;
		a = strchr(a, '&');
		a = a ? a + 1 : NULL;
	}
	return 0;
}

void ufs_nfs_url_free(struct ufs_nfs_url *u)
{
	free(u->server);
	free(u->path);
	free(u->args);
	memset(u, 0, sizeof(*u));
}

int ufs_nfs_path_check(const char *path)
{
	if (path[0] == '/')
		return -EINVAL;
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return -EINVAL;
	return 0;
}

char *ufs_nfs_abspath(const char *path, int *perr)
{
	size_t n = strlen(path);
	char *abs;

	*perr = ufs_nfs_path_check(path);
	if (*perr < 0)
		return NULL;
	*perr = -ENOMEM;
	abs = malloc(n + 2);
	if (abs) {
		abs[0] = '/';
		memcpy(abs + 1, path, n + 1);
	}
	return abs;
}

uint32_t ufs_nfs_ftype_mode(unsigned type)
{
	static const uint32_t fmt[] = {0,	S_IFREG, S_IFDIR,  S_IFBLK,
				       S_IFCHR, S_IFLNK, S_IFSOCK, S_IFIFO};

	return type < sizeof(fmt) / sizeof(fmt[0]) ? fmt[type] : 0;
}

/*
 * nfs_i.h — private to protocols/nfs.c: the URL parser, exposed so the unit
 * tests can check it without a server.
 */
#ifndef UFS_NFS_I_H
#define UFS_NFS_I_H

#include <stddef.h>

/* nfs://server/export/path[?arg=val[&arg=val]...], parsed and validated. */
struct ufs_nfs_url {
	char *server; /* host as written (no user info) */
	char *path;   /* percent-decoded, absolute, no trailing '/' ("/" stays "/") */
	int version;  /* 3 (default) or 4 */
	char *args;   /* the query, "" when none: applied to each context by libnfs */
};

/*
 * Parse url into *pu (owned strings; free with ufs_nfs_url_free). Accepts the
 * libnfs URL arguments of libnfs 4.0 (version=3|4, uid, gid, tcp-syncnt,
 * nfsport, mountport, autoreconnect, dircache, auto-traverse-mounts,
 * readahead, pagecache, debug, if); an unknown argument, a version other than
 * 3 or 4, a missing server or path, or a bad %XX escape is -EINVAL with a
 * one-line reason in err (without a mount name; the caller prefixes it).
 */
int ufs_nfs_url_parse(const char *url, struct ufs_nfs_url *pu, char *err, size_t errlen);

/* Free what ufs_nfs_url_parse() allocated; safe on a zeroed struct. */
void ufs_nfs_url_free(struct ufs_nfs_url *u);

#endif

/*
 * meta.c — the metadata a copy keeps: owner, group, mode and times of what
 * file:// and nfs:// sources hold, on a destination that can hold them.
 *
 * Rules (man/unifs.1, METADATA):
 * - Both sides POSIX (file, nfs): a file is created 0600 and written; then
 *   its owner and group are set when the caller is root (a non-root caller
 *   keeps mode and times only), then its mode and times. A setuid (setgid)
 *   bit is kept only where the owner (group) is: a root copy whose chown
 *   fails (an NFS server squashing root), or a non-root copy of another
 *   user's file, drops it as GNU cp drops it. chown and chmod are separate
 *   calls: a server may clear setuid on a chown sent with the mode.
 * - Directories are created 0700, so nothing in a private source directory
 *   is reachable by others while it is filled, and remembered; after the
 *   run (every file in them written) each one gets its owner, mode and
 *   times, deepest first, so a 0500 source directory can still be filled.
 *   DST's root gets the source root's only when this run created it (an
 *   existing directory chosen as DST is left as it is). With --shard N > 1
 *   a directory keeps u+rwx: another shard may still be filling it.
 * - An object-store source has no owner: a file keeps the mode the store
 *   gives without setuid/setgid/sticky and its mtime, a directory is
 *   created 0755 (as before). An object-store destination keeps what its
 *   writer stores (the mtime and hash in its metadata).
 * Memory: one small record per source directory of the run.
 */
#include "migrate/migrate_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One directory whose metadata is applied after the run. */
struct mig_dir_meta {
	char *rel, *path; /* as reported; the backend path on DST */
	uint32_t uid, gid, mode;
	struct timespec atime, mtime;
	struct mig_dir_meta *next; /* pushed in walk order: children after parents */
};

/* True when this run keeps what a POSIX source holds (both sides POSIX and
 * the run writes DST). */
static int meta_kept(const struct mig_run *r)
{
	return r->src.posix && r->dst.posix && r->o->mode != MIG_CHECK && !r->o->dry_run;
}

mode_t mig_meta_file_mode(const struct mig_run *r, const struct ufs_attr *src)
{
	if (r->src.posix && r->dst.posix)
		return 0600;
	if (r->dst.posix)
		return src->mode & 0777;
	return src->mode & 07777;
}

mode_t mig_meta_dir_mode(const struct mig_run *r)
{
	return r->src.posix ? 0700 : 0755;
}

/* Set owner and group of path as root; the mode bits that stay allowed
 * (setuid/setgid dropped where the owner/group is not kept). */
static uint32_t meta_owner(const struct mig_run *r, const char *path, const struct ufs_attr *src,
			   char *note, size_t notelen)
{
	uint32_t mode = src->mode & 07777;
	struct ufs_attr a = {.uid = src->uid, .gid = src->gid};
	int rc;

	if (geteuid() != 0) {
		if (src->uid != geteuid())
			mode &= ~(uint32_t)S_ISUID;
		if (src->gid != getegid())
			mode &= ~(uint32_t)S_ISGID;
		return mode;
	}
	rc = ufs_be_setattr(r->dst.be, path, &a, UFS_SET_UID | UFS_SET_GID);
	if (rc != 0) {
		mode &= ~(uint32_t)(S_ISUID | S_ISGID);
		if (note && !note[0])
			snprintf(note, notelen, "owner not kept: %s", cli_strerror(rc));
	}
	return mode;
}

int mig_meta_apply(const struct mig_run *r, const char *path, const struct ufs_attr *src, int dir,
		   char *note, size_t notelen)
{
	struct ufs_attr a = {.mtime = src->mtime, .atime = src->mtime};
	unsigned set = UFS_SET_MTIME | UFS_SET_ATIME;

	if (!r->dst.posix)
		return 0;
	if (r->src.posix) {
		a.mode = meta_owner(r, path, src, note, notelen);
		a.atime = src->atime;
		set |= UFS_SET_MODE;
		if (dir && r->o->shard_n > 1)
			a.mode |= S_IRWXU;
	}
	return ufs_be_setattr(r->dst.be, path, &a, set);
}

int mig_meta_dir_add(struct mig_run *r, const char *rel, const char *path, const struct ufs_attr *a)
{
	struct mig_dir_meta *d;

	if (!meta_kept(r))
		return 0;
	d = calloc(1, sizeof(*d));
	if (d) {
		d->rel = strdup(rel);
		d->path = strdup(path);
	}
	if (!d || !d->rel || !d->path) {
		if (d)
			free(d->rel);
		free(d);
		return -ENOMEM;
	}
	d->uid = a->uid;
	d->gid = a->gid;
	d->mode = a->mode;
	d->atime = a->atime;
	d->mtime = a->mtime;
	d->next = r->dirs;
	r->dirs = d;
	return 0;
}

void mig_meta_dirs_finish(struct mig_run *r)
{
	while (r->dirs) {
		struct mig_dir_meta *d = r->dirs;
		struct ufs_attr a = {.uid = d->uid,
				     .gid = d->gid,
				     .mode = d->mode,
				     .atime = d->atime,
				     .mtime = d->mtime};
		int rc = mig_meta_apply(r, d->path, &a, 1, NULL, 0);

		if (rc != 0) {
			char why[CLI_ERR_MAX];

			snprintf(why, sizeof(why), "directory metadata: %s", cli_strerror(rc));
			mig_report_entry(r->rep, MIG_OUT_FAILED, d->rel, 0, NULL, why);
		}
		r->dirs = d->next;
		free(d->rel);
		free(d->path);
		free(d);
	}
}

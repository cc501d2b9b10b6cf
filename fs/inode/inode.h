/*
 * inode.h — the inode room of the FUSE daemon (fs/inode/): what the other
 * rooms need to know about names.
 *
 * Files: namespace.c (mount table: prefix -> backend; namespace.h),
 * itab.c (inode table; itab.h), node.c (path resolution, attributes from
 * the metadata cache or the backend, entry replies), attr.c (attributes
 * made here, not by a backend), offline.c (answers from the disk tier
 * while a server is down), caller.c (requests run as their caller).
 *
 * The room calls down only (cache/, protocols/, common/); nothing here
 * calls the io, ops, direct or service rooms.
 */
#ifndef UFS_FS_INODE_H
#define UFS_FS_INODE_H

#include <stdint.h>
#include <sys/stat.h>

#include "cache/meta.h"
#include "fs/fs_types.h"
#include "fs/inode/itab.h"
#include "fs/inode/namespace.h"

/* Longest name of one path component. */
#define FS_NAME_MAX 255

struct fs_node;

/* ---- offline.c: answers from the disk tier while a server is down ---- */

/* Per-mount offline state for fs->n_be mounts. 0 or -ENOMEM. */
int fs_offline_create(struct ufs_fs *fs);
/* Wait for running probes and free the state; safe when never created. */
void fs_offline_destroy(struct ufs_fs *fs);
/* 1 when mount is serving stale data: do not call its server (a background
 * probe is started when one is due); 0 to go to the server. */
int fs_offline_skip(struct ufs_fs *fs, int mount);
/* The server failed getattr of n with rc: 0 and *pattr (last known mode and
 * owner, never wider) when the disk tier knows n and rc means unreachable
 * (the mount becomes stale); else rc. */
int fs_offline_attr(struct ufs_fs *fs, const struct fs_node *n, int rc, struct ufs_attr *pattr);
/* Same for the listing of directory n: 0 and *pd (a new reference, also put
 * in the metadata cache), or rc. */
int fs_offline_listing(struct ufs_fs *fs, const struct fs_node *n, int rc,
		       struct ufs_meta_dir **pd);
/* Whether mount is stale now; *pserved: answers the disk tier gave. */
int fs_offline_stale(struct ufs_fs *fs, size_t mount, uint64_t *pserved);

/* ---- node.c: where a path lives, and its attributes ---- */

/* A resolved namespace path (owned copies). */
struct fs_node {
	char *path;		/* namespace path */
	int mount;		/* -1: synthetic-only directory */
	const char *rel;	/* backend-relative path, into path */
	struct ufs_backend *be; /* NULL when mount < 0 */
	int synthetic;		/* path is a synthetic directory */
	uint64_t ino;		/* inode number when known, else 0 */
};

/* Resolve inode ino. 0 or -errno (-ESTALE for an unknown inode). */
int fs_node_of_ino(struct ufs_fs *fs, uint64_t ino, struct fs_node *pn);
/* Resolve name in directory parent (-ENAMETOOLONG past 255 bytes, -ENOENT
 * outside every mount). 0 or -errno. */
int fs_node_of_child(struct ufs_fs *fs, uint64_t parent, const char *name, struct fs_node *pn);
/* A name to create in parent: -EEXIST for a synthetic name or mount point,
 * -EROFS where nothing can be written. 0 or -errno (pn freed on error). */
int fs_node_of_new(struct ufs_fs *fs, uint64_t parent, const char *name, struct fs_node *pn);
/* An existing name to remove or rename: -EBUSY for a synthetic name or a
 * mount point, -EROFS where nothing can be written. 0 or -errno. */
int fs_node_of_old(struct ufs_fs *fs, uint64_t parent, const char *name, struct fs_node *pn);
/* 1 for a name the namespace owns (synthetic directory, mount root). */
int fs_node_is_fixed(const struct fs_node *n);
/* Free the copies held by n. */
void fs_node_free(struct fs_node *n);
/* -EROFS unless entries may be created/changed at n (mount, not readonly). */
int fs_node_writable(struct ufs_fs *fs, const struct fs_node *n);
/* Attribute/entry time to live for n, in seconds. */
double fs_node_attr_ttl(struct ufs_fs *fs, const struct fs_node *n);
/* How long the kernel may keep attr of n: fs_node_attr_ttl(), but 0 for a
 * file with several names (hard links: a change through one name, or
 * behind the mount, must show through the others at once). */
double fs_attr_kernel_ttl(struct ufs_fs *fs, const struct fs_node *n, const struct ufs_attr *attr);

/*
 * Attributes of n: from the metadata cache unless fresh, else from the
 * backend (then cached, or a negative entry stored). Synthetic directories
 * and mount roots the backend cannot show get synthetic attributes; a file
 * still being written through the mount reports its local size. 0 or -errno.
 */
int fs_node_getattr(struct ufs_fs *fs, struct fs_node *n, int fresh, struct ufs_attr *pattr);
/* Fill st from attr for node n (owner mapping, blocks, blksize). st_ino is
 * the backend's file id tagged with the mount (so hard links show one
 * number, unique across the namespace), else n's inode number. */
void fs_attr_to_stat(struct ufs_fs *fs, const struct ufs_attr *attr, const struct fs_node *n,
		     struct stat *st);
/* Reply to a lookup-like request with n and attr (counts one lookup). */
void fs_reply_entry(fuse_req_t req, struct ufs_fs *fs, struct fs_node *n,
		    const struct ufs_attr *attr);
/* Fill e for n/attr and count one lookup; 0 or -ENOMEM. */
int fs_fill_entry(struct ufs_fs *fs, struct fs_node *n, const struct ufs_attr *attr,
		  struct fuse_entry_param *e);
/* Forget what the caches know about n after a change through the mount. */
void fs_node_changed(struct ufs_fs *fs, const struct fs_node *n);

/* n (a name of a file with other names: hard links) was linked, unlinked
 * or renamed: the other names' cached attributes (link count, ctime) are
 * dropped here and in the kernel. */
void fs_node_links_changed(struct ufs_fs *fs, const struct fs_node *n);
/* The file of inode ino changed through ino (data: its bytes or size; else
 * mode, owner or times): its other names (hard links), each its own inode
 * here, drop their cached attributes, here and in the kernel, and with
 * data also their write generation moves and the kernel drops their pages.
 * A file with one name costs one lookup. */
void fs_node_file_changed(struct ufs_fs *fs, uint64_t ino, int data);

/* ---- attr.c: attributes made here, not by a backend ---- */

/* Attributes of an entry just created through the mount (mode: type and
 * permissions), for when its backend does not show it yet. */
void fs_attr_new(struct ufs_attr *pattr, uint32_t mode);
/* Attributes of a synthetic directory. */
void fs_attr_synthetic(struct ufs_fs *fs, struct ufs_attr *pattr);

/* ---- caller.c: requests run as their caller ---- */

/* Mark the calling worker thread as acting for req's process (uid, gid,
 * supplementary groups; common/ucred.h) until fs_caller_end(). */
void fs_caller_begin(fuse_req_t req);
/* The thread acts as the daemon again. */
void fs_caller_end(void);

#endif

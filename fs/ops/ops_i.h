/*
 * ops_i.h — what the files of the FUSE operations room (fs/ops/) share
 * among themselves: their parts of the operation table, the fs of a
 * request, and truncation through an open file (ops_file.c, used by
 * setattr in ops.c). Private to the room.
 */
#ifndef UFS_FS_OPS_I_H
#define UFS_FS_OPS_I_H

#include <stdint.h>

#include "fs/inode/inode.h"
#include "fs/ops/ops.h"

/* Directories (ops_dir.c), open files (ops_file.c), extended attributes
 * and fallocate (ops_xattr.c): each sets its slots of ops. */
void fs_ops_dir_fill(struct fuse_lowlevel_ops *ops);
void fs_ops_file_fill(struct fuse_lowlevel_ops *ops);
void fs_ops_xattr_fill(struct fuse_lowlevel_ops *ops);

/* Set the size of n, through the open handle fi when given (NULL: none).
 * Object stores stage the file when the new size is not 0. 0 or -errno. */
int fs_file_truncate(struct ufs_fs *fs, struct fs_node *n, struct fuse_file_info *fi,
		     uint64_t size);

/* The fs of a request. */
static inline struct ufs_fs *fs_of(fuse_req_t req)
{
	return (struct ufs_fs *)fuse_req_userdata(req);
}

#endif

/*
 * ops.h — the FUSE operations room of the daemon (fs/ops/): the one thing
 * the other rooms need from it is the operation table.
 *
 * Files: ops.c (attribute and namespace operations; assembles the table),
 * ops_dir.c (directories), ops_file.c (open files; grants for the direct
 * path), ops_xattr.c (extended attributes, fallocate). ops_i.h holds what
 * they share among themselves.
 *
 * The room calls the direct, io and inode rooms (and below); nothing in fs/
 * but daemon.c calls it.
 */
#ifndef UFS_FS_OPS_H
#define UFS_FS_OPS_H

#include "fs/fs_types.h"

/* Fill ops with every operation of the filesystem (the handlers take their
 * struct ufs_fs from the session's userdata). */
void fs_ops_fill(struct fuse_lowlevel_ops *ops);

#endif

/*
 * itab.h — the inode table of the FUSE daemon: namespace entries the
 * kernel knows about, by FUSE inode number and by key (mount index,
 * backend-relative path).
 *
 * Each inode keeps its full namespace path; its backend-relative path is the
 * tail of that path after the mount prefix (rel_off bytes in). Inode 1 is the
 * namespace root "/" and is never forgotten. Inode numbers are never reused.
 *
 * Rename rewrites the paths (and keys) of the renamed inode and of every
 * known inode below it in the same mount, so a path read from the table is
 * always the current one; an inode replaced by a rename is unhashed (it
 * lives on, unreachable by key, until the kernel forgets it).
 *
 * Each name the kernel knows is its own inode. An inode also records the
 * backend's file id (st_ino, NFS fileid) it was last shown with, indexed by
 * (mount, file id), so the names of one file (hard links) can be found
 * (ufs_itab_same_file) and their attributes refreshed together.
 *
 * Besides the lookup count an inode carries: a write generation (bumped on
 * every write/truncate through the mount, the cache's gen), the identity
 * seen at the last open (keep_cache), and the "pending" state of a file
 * being written to an object store (open writers, size written so far) so
 * getattr can report a file the server does not show yet.
 *
 * Thread-safe: one mutex guards the table; no function calls out while
 * holding it.
 */
#ifndef UFS_FS_ITAB_H
#define UFS_FS_ITAB_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/backend.h"

#define UFS_ROOT_INO 1

struct ufs_itab;
struct ufs_budget;

/* Where an inode lives: an owned copy made by ufs_itab_get(). */
struct ufs_iloc {
	int mount;	 /* mount index, -1 for a synthetic-only directory */
	char *path;	 /* namespace path, malloc'd */
	const char *rel; /* backend-relative path, points into path */
};

/* New table holding the root (inode 1) at "/" served by root_mount (-1 when
 * no mount sits at "/"). NULL on ENOMEM. */
struct ufs_itab *ufs_itab_create(int root_mount);
/* Free the table and every inode (their bytes are not given back to the
 * budget: it goes with the daemon). NULL: no-op. */
void ufs_itab_destroy(struct ufs_itab *t);
/* Count the inodes made from now on in b (call before the first lookup):
 * an inode reserves its bytes when made (the budget's reclaim hooks make
 * room; one that finds none is made uncounted rather than refused) and
 * gives them back when the kernel forgets it. */
void ufs_itab_set_budget(struct ufs_itab *t, struct ufs_budget *b);
/* Bytes the inodes alive hold in the budget. */
uint64_t ufs_itab_bytes(struct ufs_itab *t);

/*
 * Find or add the inode of namespace path served by mount, whose
 * backend-relative path starts rel_off bytes into path, and count one
 * lookup. Returns the inode number, or 0 on ENOMEM.
 */
uint64_t ufs_itab_ref(struct ufs_itab *t, int mount, const char *path, size_t rel_off);
/* Inode number of the hashed inode of (mount, rel), or 0; counts nothing. */
uint64_t ufs_itab_find(struct ufs_itab *t, int mount, const char *rel);
/* Drop n lookups; the inode is freed at zero (never the root). */
void ufs_itab_forget(struct ufs_itab *t, uint64_t ino, uint64_t n);
/* Copy the location of ino into *ploc (free with ufs_iloc_free). 0, -ESTALE
 * for an unknown inode, -ENOMEM. */
int ufs_itab_get(struct ufs_itab *t, uint64_t ino, struct ufs_iloc *ploc);
/* Free what ufs_itab_get() copied (the struct itself is the caller's). */
void ufs_iloc_free(struct ufs_iloc *loc);
/* Number of inodes (root included). */
size_t ufs_itab_count(struct ufs_itab *t);

/*
 * Record a rename inside one mount: the inode at from_path and every inode
 * below it in that mount move to to_path (same rel_off, the offset of the
 * backend-relative part in both paths: a mount root is never renamed); an
 * inode that was at to_path (and below) is unhashed first. A path without
 * known children costs one lookup; a directory with some, a walk of the
 * table.
 */
void ufs_itab_rename(struct ufs_itab *t, int mount, const char *from_path, const char *to_path,
		     size_t rel_off);
/* Unhash the inode at path (rel_off: as above) and every inode below it (it
 * was removed); they live until forgotten. Same cost as a rename. */
void ufs_itab_unhash(struct ufs_itab *t, int mount, const char *path, size_t rel_off);

/* Write generation of ino (0 for an unknown inode) / bump it by one. */
uint64_t ufs_itab_gen(struct ufs_itab *t, uint64_t ino);
void ufs_itab_bump_gen(struct ufs_itab *t, uint64_t ino);

/* Whether obj's identity and the current gen equal what the last call saw
 * for ino (1/0); records them as the new last identity. */
int ufs_itab_same_identity(struct ufs_itab *t, uint64_t ino, const struct ufs_obj *obj);

/* Pending object-store writes: a writer opened (mode = file mode), grew the
 * file to at least size, or finished. ufs_itab_pending() returns 1 and the
 * size/mode while a writer is open, else 0. */
void ufs_itab_writer_open(struct ufs_itab *t, uint64_t ino, uint32_t mode);
void ufs_itab_writer_size(struct ufs_itab *t, uint64_t ino, uint64_t size, int exact);
void ufs_itab_writer_close(struct ufs_itab *t, uint64_t ino);
int ufs_itab_pending(struct ufs_itab *t, uint64_t ino, uint64_t *psize, uint32_t *pmode);

/* Remember the mode, owner and backend file id (attr->ino, 0: none) attr
 * shows for ino (a backend answered). */
void ufs_itab_note_attr(struct ufs_itab *t, uint64_t ino, const struct ufs_attr *attr);
/* 0 if attr may show ino's object: nothing noted yet, or the same type and
 * (where both are known) the same file id; -ESTALE if ino was noted with
 * another object (the name now holds a different one). */
int ufs_itab_check_attr(struct ufs_itab *t, uint64_t ino, const struct ufs_attr *attr);
/* Other inodes of the same mount noted with ino's file id (other names of
 * one file: hard links), at most max into pinos; their count. */
size_t ufs_itab_same_file(struct ufs_itab *t, uint64_t ino, uint64_t *pinos, size_t max);
/* The mode, uid, gid and file id last noted for ino into *pattr (other
 * fields untouched): 1, or 0 when none was noted. */
int ufs_itab_last_owner(struct ufs_itab *t, uint64_t ino, struct ufs_attr *pattr);

#endif

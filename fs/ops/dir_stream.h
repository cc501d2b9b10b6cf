/*
 * dir_stream.h — one open directory's listing, read in pages (ops/ only;
 * see dir_stream.c for the design).
 *
 * A stream shows the listing as numbered pages of entries; page p's
 * entries are at (p, 0..count-1). It holds one page (the window), not the
 * listing: moving the window to another page reads it from the backend
 * (the next page from where the last read stopped, an earlier one from the
 * resume point kept for it). A stream made of a cached listing is one page.
 */
#ifndef UFS_OPS_DIR_STREAM_H
#define UFS_OPS_DIR_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "cache/meta.h"
#include "protocols/backend.h"

struct dir_stream;

/* Called once a stream has read the whole listing and stored it in the
 * metadata cache (ufs_meta_put_dir_since answered 0): d is that listing,
 * borrowed for the call. */
typedef void (*dir_stream_done_fn)(void *arg, struct ufs_meta_dir *d);

/* Resume points kept per stream: past this many pages, every other one is
 * dropped (re-reading an early page then starts a few pages before it). */
#define DIR_STREAM_MARKS 1024

/*
 * Open a stream on directory rel of be (mount index mount of meta) and read
 * its first page: its pages count in meta's budget while they are the
 * window, their typed entries' attributes go to meta, and a listing that
 * stays cacheable (ufs_meta_dir_cacheable) to its end is stored in meta
 * (then done(done_arg, listing), when done is set). 0 and *pds, or -errno
 * (the backend's, -ENOMEM when one page does not fit in the budget).
 */
int dir_stream_open(struct ufs_backend *be, struct ufs_meta *meta, int mount, const char *rel,
		    dir_stream_done_fn done, void *done_arg, struct dir_stream **pds);
/* A stream of one page: the complete listing d (a new reference is taken). */
struct dir_stream *dir_stream_of(struct ufs_meta_dir *d);
/* Move the window onto page p (p past the last page: onto the last page).
 * 0 or -errno; the window is unchanged on error. */
int dir_stream_seek(struct dir_stream *ds, uint64_t p);
/* The window's page number, its entry count, and whether it is the last. */
uint64_t dir_stream_page(const struct dir_stream *ds);
size_t dir_stream_count(const struct dir_stream *ds);
int dir_stream_last(const struct dir_stream *ds);
/* Name of entry i of the window (i < count), its attributes in *pattr. */
const char *dir_stream_entry(const struct dir_stream *ds, size_t i, const struct ufs_attr **pattr);
/* Start over: the next seek to page 0 reads it again from the backend
 * (rewinddir sees the directory as it is now). No-op on a one-page stream. */
void dir_stream_rewind(struct dir_stream *ds);
/* Backend pages read so far, and resume points held (tests, debugging). */
uint64_t dir_stream_reads(const struct dir_stream *ds);
size_t dir_stream_marks(const struct dir_stream *ds);
/* Free ds. NULL: no-op. */
void dir_stream_close(struct dir_stream *ds);

#endif

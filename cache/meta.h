/*
 * meta.h — the metadata cache: attributes, negative entries and directory
 * listings of backend paths, each with a time to live.
 *
 * Keys are (mount index, backend-relative path). TTLs are per mount
 * ([global] attr_ttl, dir_ttl, negative_ttl, overridable in a mount section
 * with the same keys). Storing a listing also stores the attributes of its
 * entries whose type is known, so `ls -l` needs one listing and no per-entry
 * getattr. Every change made through the mount invalidates what it touched.
 *
 * Memory: with a budget set (ufs_meta_set_budget), cached entries and the
 * listings made by ufs_meta_dir_create_for() count in it: a listing as it
 * is built, until its last reference goes; cached listings are dropped when
 * the budget needs room (the cache's reclaim hook); a listing larger than a
 * quarter of the budget is not cached at all.
 *
 * The clock is injectable (tests); the default is CLOCK_MONOTONIC in seconds.
 * All functions are thread-safe. Nothing here knows about FUSE.
 */
#ifndef UFS_META_H
#define UFS_META_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "protocols/backend.h"

struct ufs_meta;
struct ufs_meta_dir;
struct ufs_budget;

/* Counters of ufs_meta_stats(). */
struct ufs_meta_stats {
	uint64_t entries;	 /* cached paths */
	uint64_t entry_bytes;	 /* their memory (listings apart) */
	uint64_t list_bytes;	 /* memory of the listings alive (cached or held open) */
	uint64_t list_peak;	 /* the highest list_bytes seen */
	uint64_t lists_uncached; /* listings too large to cache (served, not kept) */
	uint64_t lists_evicted;	 /* cached listings dropped to make room in the budget */
};

/* Time to live, in seconds, of each kind of entry of one mount. 0 disables
 * that kind of caching. */
struct ufs_meta_ttl {
	double attr;
	double dir;
	double negative;
};

/* Monotonic seconds. */
typedef double (*ufs_clock_fn)(void *arg);

/* TTLs of mount i of cfg: the [global] values, overridden by the mount's own
 * attr_ttl / dir_ttl / negative_ttl keys. 0, or -EINVAL with a message. */
int ufs_meta_ttl_from_config(const struct ufs_config *cfg, size_t i, struct ufs_meta_ttl *pttl,
			     char *err, size_t errlen);

/*
 * New cache for n_mounts mounts with ttls[i] for mount i (copied). clock NULL
 * selects CLOCK_MONOTONIC. max_entries bounds the number of cached paths (0:
 * a default of one million); past it, expired entries and then everything are
 * dropped. Returns an owned cache or NULL on ENOMEM.
 */
struct ufs_meta *ufs_meta_create(size_t n_mounts, const struct ufs_meta_ttl *ttls,
				 ufs_clock_fn clock, void *clock_arg, size_t max_entries);
/* Free the cache; listings still referenced elsewhere stay valid. NULL: no-op. */
void ufs_meta_destroy(struct ufs_meta *m);
/* Count m's memory in b from now on and register m's reclaim hook (after
 * those already registered: call it once the block cache has registered
 * its own). Call before any listing or entry exists. 0 or -ENOSPC. */
int ufs_meta_set_budget(struct ufs_meta *m, struct ufs_budget *b);
/* m's counters (memory included) into *pst. */
void ufs_meta_stats(struct ufs_meta *m, struct ufs_meta_stats *pst);

/* TTLs of mount (borrowed). */
const struct ufs_meta_ttl *ufs_meta_ttl(const struct ufs_meta *m, int mount);

/* Cached attributes of path: 1 and *pattr filled on a hit, -ENOENT on a
 * live negative entry, 0 on a miss or an expired entry. */
int ufs_meta_get_attr(struct ufs_meta *m, int mount, const char *path, struct ufs_attr *pattr);
/* Store attributes (attr->mode must be non-zero); clears a negative entry. */
void ufs_meta_put_attr(struct ufs_meta *m, int mount, const char *path,
		       const struct ufs_attr *attr);
/* Remember that path does not exist (for negative_ttl). */
void ufs_meta_put_negative(struct ufs_meta *m, int mount, const char *path);
/* A ticket for a later put: take it before asking the backend. The _since
 * puts store nothing if anything was invalidated after the ticket was taken
 * (the answer may predate that change); UFS_META_NO_TICKET always stores. */
#define UFS_META_NO_TICKET UINT64_MAX
uint64_t ufs_meta_ticket(struct ufs_meta *m);
void ufs_meta_put_attr_since(struct ufs_meta *m, int mount, const char *path,
			     const struct ufs_attr *attr, uint64_t ticket);
void ufs_meta_put_negative_since(struct ufs_meta *m, int mount, const char *path, uint64_t ticket);

/* Cached listing of dir: a new reference (release with ufs_meta_dir_unref),
 * or NULL on a miss or an expired listing. */
struct ufs_meta_dir *ufs_meta_get_dir(struct ufs_meta *m, int mount, const char *dir);
/* Store the listing d of dir (the cache takes its own reference; d must not
 * be changed afterwards) and the attributes of its typed entries (those only
 * if the budget has room for them all). A listing larger than a quarter of
 * the budget is not stored. Returns 0, or -EFBIG when d was too large (nothing
 * stored). */
int ufs_meta_put_dir(struct ufs_meta *m, int mount, const char *dir, struct ufs_meta_dir *d);
/* The same with a ticket (ufs_meta_ticket, taken before listing): -ESTALE,
 * nothing stored, when something was invalidated since. */
int ufs_meta_put_dir_since(struct ufs_meta *m, int mount, const char *dir, struct ufs_meta_dir *d,
			   uint64_t ticket);

/* Store the attributes of the typed entries of d (one page of a listing
 * of dir, read in pages) as ufs_meta_put_dir does, and nothing else;
 * nothing if something was invalidated since ticket, or if the budget has
 * no room for them all. d may be changed afterwards. */
void ufs_meta_put_children_since(struct ufs_meta *m, int mount, const char *dir,
				 const struct ufs_meta_dir *d, uint64_t ticket);
/* 1 if d is small enough to cache (ufs_meta_put_dir); 0 if not, counted
 * as one listing not cached (lists_uncached). */
int ufs_meta_dir_cacheable(struct ufs_meta *m, const struct ufs_meta_dir *d);

/* Forget what is known about path (attributes, negative entry, listing) and
 * about its parent directory (its listing, and its attributes: its mtime
 * changed too). */
void ufs_meta_invalidate(struct ufs_meta *m, int mount, const char *path);
/* Like ufs_meta_invalidate() for path and everything below it (rename,
 * rmdir of a directory). */
void ufs_meta_invalidate_tree(struct ufs_meta *m, int mount, const char *path);

/* Number of cached paths (tests, stats). */
size_t ufs_meta_count(struct ufs_meta *m);

/* A listing: an immutable-once-stored array of (name, attributes), counted
 * by reference. create() returns it with one reference, its memory not
 * counted in any budget. */
struct ufs_meta_dir *ufs_meta_dir_create(void);
/* The same, its memory counted in m's budget from the first entry added to
 * the last reference dropped (may outlive m). NULL on ENOMEM. */
struct ufs_meta_dir *ufs_meta_dir_create_for(struct ufs_meta *m);
/* Append an entry (attr may have mode 0 when the type is unknown; NULL:
 * unknown). 0, or -ENOMEM (out of memory, or a counted listing that found
 * no room in the budget even after reclaim and a bounded wait). */
int ufs_meta_dir_add(struct ufs_meta_dir *d, const char *name, const struct ufs_attr *attr);
size_t ufs_meta_dir_count(const struct ufs_meta_dir *d);
/* Estimated memory d holds, in bytes. */
uint64_t ufs_meta_dir_bytes(const struct ufs_meta_dir *d);
/* Name of entry i (i < count), its attributes in *pattr (borrowed). */
const char *ufs_meta_dir_entry(const struct ufs_meta_dir *d, size_t i,
			       const struct ufs_attr **pattr);
/* Sort the entries of d by name (byte order, as S3 and Blob list): the
 * order readdir shows and the order "next file" prefetch follows. Call
 * once d is complete, before storing it: it also gives back the budget d
 * reserved beyond its size. */
void ufs_meta_dir_sort(struct ufs_meta_dir *d);
/* Index of name in d, or -1 (binary search once sorted). */
long ufs_meta_dir_find(const struct ufs_meta_dir *d, const char *name);
/* Reading cursor kept with the listing (index of the entry last opened; -1
 * initially): lets the reader see that files are opened in listing order. */
long ufs_meta_dir_cursor(const struct ufs_meta_dir *d);
void ufs_meta_dir_set_cursor(struct ufs_meta_dir *d, long i);
/* Take one more reference / drop one (the last one frees d). NULL: no-op. */
struct ufs_meta_dir *ufs_meta_dir_ref(struct ufs_meta_dir *d);
void ufs_meta_dir_unref(struct ufs_meta_dir *d);

#endif

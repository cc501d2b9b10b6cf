/*
 * stats_fields.h — the one table of a mount's counters (stats_fields.c):
 * `unifs stats`, `unifs stats --json` (ctl.c) and the Prometheus endpoint
 * (metrics.c) all print from it. Private to the service room.
 *
 * A counter is one row: its section, its key in `unifs stats` (NULL: not
 * there), its Prometheus family and labels (NULL: not exported), type and
 * help, and where its value lies in struct fs_stat_snap (offsetof). Adding
 * one is a row here plus its field in the struct it is read from (e.g.
 * struct ufs_cache_stats in cache/cache.h).
 *
 * Two orders, both kept from before the table: the metrics page lists the
 * families in table order (the rows of a labelled family stand together);
 * `unifs stats` lists each section's keys in the order of the fields of
 * its struct (fs_stat_next).
 */
#ifndef UFS_FS_SERVICE_STATS_FIELDS_H
#define UFS_FS_SERVICE_STATS_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "cache/meta.h"
#include "fs/direct/direct.h"
#include "fs/fs_types.h"

/* One reading of every counter of the table. Every field is a uint64_t. */
struct fs_stat_snap {
	struct ufs_cache_stats cache;
	struct ufs_meta_stats meta;
	struct fs_direct_stats direct;
	struct {
		uint64_t used, limit, peak;
	} memory; /* the memory budget */
};

/* The sections of `unifs stats` the table fills ("cache": {...}, ...). */
enum fs_stat_section { FS_STAT_CACHE, FS_STAT_META, FS_STAT_DIRECT, FS_STAT_MEMORY };

enum fs_stat_type { FS_STAT_COUNTER, FS_STAT_GAUGE };

struct fs_stat_field {
	enum fs_stat_section section;
	const char *name;  /* key in `unifs stats`; NULL: Prometheus only */
	const char *prom;  /* Prometheus family; NULL: not exported */
	const char *label; /* labels of its sample in the family ("tier=\"disk\""), or NULL */
	enum fs_stat_type type;
	const char *help;
	size_t off; /* of the value in struct fs_stat_snap */
};

/* The table, in the order of the metrics page; fs_stat_nfields rows. */
extern const struct fs_stat_field fs_stat_fields[];
extern const size_t fs_stat_nfields;

/* Read every counter of fs into *ps (zeros for what fs does not run). */
void fs_stat_read(struct ufs_fs *fs, struct fs_stat_snap *ps);
/* The value of f in s. */
uint64_t fs_stat_value(const struct fs_stat_snap *s, const struct fs_stat_field *f);
/* The keyed row of section sec after prev in struct order (prev NULL: the
 * first), or NULL after the last. */
const struct fs_stat_field *fs_stat_next(enum fs_stat_section sec,
					 const struct fs_stat_field *prev);
/* "counter" or "gauge". */
const char *fs_stat_type_name(enum fs_stat_type t);

#endif

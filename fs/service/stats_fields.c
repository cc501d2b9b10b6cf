/*
 * stats_fields.c — the table of a mount's counters (see stats_fields.h)
 * and the one place that reads them: the block cache (io/readpath.c), the
 * metadata cache, the direct path and the memory budget.
 *
 * To add a counter: its field in the struct it comes from, and one row
 * below (at the place its Prometheus family should stand on the metrics
 * page; rows without a family may stand anywhere).
 */
#include "fs/service/stats_fields.h"

#include <string.h>

#include "common/budget.h"
#include "fs/io/io.h"

#define C FS_STAT_COUNTER
#define G FS_STAT_GAUGE
#define CACHE(f) FS_STAT_CACHE, #f
#define META(f) FS_STAT_META, #f
#define DIRECT(f) FS_STAT_DIRECT, #f
#define AT(part, f) offsetof(struct fs_stat_snap, part.f)

const struct fs_stat_field fs_stat_fields[] = {
    /* section, key, Prometheus family, labels, type, help, value */
    {CACHE(mem_hits), "unifs_cache_hits_total", "tier=\"memory\"", C, "Block cache hits by tier.",
     AT(cache, mem_hits)},
    {CACHE(disk_hits), "unifs_cache_hits_total", "tier=\"disk\"", C, "Block cache hits by tier.",
     AT(cache, disk_hits)},
    {CACHE(mem_misses), "unifs_cache_misses_total", "tier=\"memory\"", C,
     "Block cache misses by tier.", AT(cache, mem_misses)},
    {CACHE(disk_misses), "unifs_cache_misses_total", "tier=\"disk\"", C,
     "Block cache misses by tier.", AT(cache, disk_misses)},
    {CACHE(disk_checksum_failures), "unifs_cache_checksum_failures_total", NULL, C,
     "Disk-tier blocks dropped because their checksum did not match.",
     AT(cache, disk_checksum_failures)},
    {CACHE(disk_bytes), "unifs_cache_disk_bytes", NULL, G, "Bytes held by the disk tier.",
     AT(cache, disk_bytes)},
    {CACHE(disk_fills), "unifs_cache_disk_fills_total", NULL, C, "Blocks stored in the disk tier.",
     AT(cache, disk_fills)},
    {CACHE(disk_fill_skips), "unifs_cache_disk_fill_skips_total", NULL, C,
     "Blocks not stored in the disk tier: its write queue was full.", AT(cache, disk_fill_skips)},
    {CACHE(disk_fill_evicted), "unifs_cache_disk_fill_evicted_total", NULL, C,
     "Blocks not stored in the disk tier: evicted from memory before their turn.",
     AT(cache, disk_fill_evicted)},
    {CACHE(disk_fill_errors), "unifs_cache_disk_fill_errors_total", NULL, C,
     "Disk-tier stores that failed (file system full, I/O error).", AT(cache, disk_fill_errors)},
    {CACHE(disk_fill_pending), "unifs_cache_disk_fill_pending", NULL, G,
     "Blocks queued for the disk tier.", AT(cache, disk_fill_pending)},
    {CACHE(disk_write_bytes), "unifs_cache_disk_write_bytes_total", NULL, C,
     "Bytes written to the disk tier.", AT(cache, disk_write_bytes)},
    {CACHE(disk_write_bps), "unifs_cache_disk_write_bytes_per_second", NULL, G,
     "Disk-tier write rate over the last second.", AT(cache, disk_write_bps)},
    {CACHE(fetched_bytes), "unifs_cache_fetched_bytes_total", NULL, C,
     "Bytes the cache fetched from backends.", AT(cache, fetched_bytes)},
    {CACHE(prefetch_bytes), "unifs_prefetch_bytes_total", NULL, C, "Bytes read ahead.",
     AT(cache, prefetch_bytes)},
    {CACHE(prefetch_used_bytes), "unifs_prefetch_used_bytes_total", NULL, C,
     "Read-ahead bytes that a read then used.", AT(cache, prefetch_used_bytes)},
    {CACHE(prefetch_wasted_bytes), "unifs_prefetch_wasted_bytes_total", NULL, C,
     "Read-ahead bytes dropped unused.", AT(cache, prefetch_wasted_bytes)},
    {CACHE(mem_used), NULL, NULL, G, "Memory budget in use (0 without a block cache).",
     AT(cache, mem_used)},
    {CACHE(mem_limit), NULL, NULL, G, "Memory budget (0 without a block cache).",
     AT(cache, mem_limit)},
    {CACHE(mem_peak), NULL, NULL, G, "Highest memory budget use (0 without a block cache).",
     AT(cache, mem_peak)},
    {CACHE(buf_mapped), NULL, NULL, C, "Block buffers mapped fresh.", AT(cache, buf_mapped)},
    {CACHE(buf_reused), NULL, NULL, C, "Block buffers handed out again.", AT(cache, buf_reused)},
    {CACHE(buf_released), NULL, NULL, C, "Block buffers unmapped.", AT(cache, buf_released)},
    {CACHE(buf_idle_bytes), NULL, NULL, G, "Bytes of idle block buffers held.",
     AT(cache, buf_idle_bytes)},
    {FS_STAT_MEMORY, "used", "unifs_memory_used_bytes", NULL, G, "Memory budget in use.",
     AT(memory, used)},
    {FS_STAT_MEMORY, "limit", "unifs_memory_budget_bytes", NULL, G, "Memory budget (memory = ...).",
     AT(memory, limit)},
    {FS_STAT_MEMORY, "peak", "unifs_memory_peak_bytes", NULL, G, "Highest memory budget use.",
     AT(memory, peak)},
    {META(entries), "unifs_meta_entries", NULL, G, "Paths in the metadata cache.",
     AT(meta, entries)},
    {META(entry_bytes), "unifs_meta_entry_bytes", NULL, G,
     "Memory of the metadata cache's entries (in the budget).", AT(meta, entry_bytes)},
    {META(list_bytes), "unifs_listing_bytes", NULL, G,
     "Memory of directory listings alive, cached or open (in the budget).", AT(meta, list_bytes)},
    {META(list_peak), "unifs_listing_peak_bytes", NULL, G, "Highest listing memory.",
     AT(meta, list_peak)},
    {META(lists_uncached), "unifs_listings_uncached_total", NULL, C,
     "Listings served but too large to cache.", AT(meta, lists_uncached)},
    {META(lists_evicted), "unifs_listings_evicted_total", NULL, C,
     "Cached listings dropped to make room in the memory budget.", AT(meta, lists_evicted)},
    {DIRECT(sessions), NULL, NULL, C, "Direct-path sessions opened.", AT(direct, sessions)},
    {DIRECT(sessions_active), NULL, NULL, G, "Direct-path sessions open now.",
     AT(direct, sessions_active)},
    {DIRECT(handles), NULL, NULL, G, "Direct-path handles registered now.", AT(direct, handles)},
    {DIRECT(entries), NULL, NULL, C, "Direct-path entries submitted.", AT(direct, entries)},
    {DIRECT(bytes_read), NULL, NULL, C, "Bytes read through the direct path.",
     AT(direct, bytes_read)},
    {DIRECT(bytes_written), NULL, NULL, C, "Bytes written through the direct path.",
     AT(direct, bytes_written)},
    {DIRECT(errors), NULL, NULL, C, "Direct-path entries that failed.", AT(direct, errors)},
    {DIRECT(prefetch_files), NULL, NULL, C, "Files the direct path prefetched.",
     AT(direct, prefetch_files)},
    {DIRECT(prefetch_bytes), NULL, NULL, C, "Bytes the direct path prefetched.",
     AT(direct, prefetch_bytes)},
    {DIRECT(prefetch_dropped), NULL, NULL, C, "Prefetch paths dropped unfetched.",
     AT(direct, prefetch_dropped)},
};

const size_t fs_stat_nfields = sizeof(fs_stat_fields) / sizeof(fs_stat_fields[0]);

void fs_stat_read(struct ufs_fs *fs, struct fs_stat_snap *ps)
{
	memset(ps, 0, sizeof(*ps));
	fs_cache_stats(fs, &ps->cache);
	ufs_meta_stats(fs->meta, &ps->meta);
	fs_direct_get_stats(fs, &ps->direct);
	ps->memory.used = ufs_budget_used(fs->budget);
	ps->memory.limit = ufs_budget_limit(fs->budget);
	ps->memory.peak = ufs_budget_peak(fs->budget);
}

uint64_t fs_stat_value(const struct fs_stat_snap *s, const struct fs_stat_field *f)
{
	uint64_t v;

	memcpy(&v, (const char *)s + f->off, sizeof(v));
	return v;
}

const struct fs_stat_field *fs_stat_next(enum fs_stat_section sec, const struct fs_stat_field *prev)
{
	const struct fs_stat_field *best = NULL;

	for (size_t i = 0; i < fs_stat_nfields; i++) {
		const struct fs_stat_field *f = &fs_stat_fields[i];

		if (f->section != sec || !f->name || (prev && f->off <= prev->off))
			continue;
		if (!best || f->off < best->off)
			best = f;
	}
	return best;
}

const char *fs_stat_type_name(enum fs_stat_type t)
{
	return t == FS_STAT_GAUGE ? "gauge" : "counter";
}

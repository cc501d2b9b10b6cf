/*
 * readahead.c — sequential-access detection and the read-ahead window of one
 * stream (one open file). Pure logic on struct ufs_ra; the caller serialises
 * (ufs_rstream.lock) and carries out the plan.
 *
 * Up to UFS_RA_CURSORS cursors follow interleaved sequential streams on one
 * file. A read within UFS_RA_SLACK of a cursor's expected offset (before or
 * after: the kernel's async read-ahead requests arrive out of order, readers
 * skip small gaps) is a sequential hit on it; any other read places a new
 * cursor (in a free slot, else replacing the least recently used one, which
 * counts as a seek: the first reads of interleaved streams are not seeks).
 *
 * Window: a cursor starts with one block; each time its reader crosses into a
 * new block the window doubles, up to max. Read-ahead is planned only when a
 * hit crosses a block boundary (or on the first hit), as whole blocks after
 * the read, never past the end of the object, and only once what is planned
 * ahead has shrunk to half a window: plans then come in half-window batches
 * that the block layer fetches as a few large requests.
 *
 * A read that places a cursor (other than the first read of the stream) is a
 * probe: it is fetched exactly, not as a whole block, until the cursor proves
 * sequential; random readers thus never pull whole blocks.
 *
 * Random mode: UFS_RA_RANDOM_SEEKS consecutive seeks turn read-ahead off (the
 * caller then fetches only what is asked, granule-rounded). A cursor that
 * collects UFS_RA_REENGAGE_HITS contiguous hits (reads that reach its
 * expected offset without a gap, which random reads practically never do)
 * turns it back on.
 */
#include <string.h>

#include "cache/cache_i.h"

void ufs_ra_init(struct ufs_ra *ra, uint64_t bs, uint64_t max, uint64_t size)
{
	memset(ra, 0, sizeof(*ra));
	ra->bs = bs;
	ra->max = max < bs ? bs : max;
	ra->size = size;
}

/* The cursor [off, ...) continues, or NULL. */
static struct ufs_ra_cursor *ra_match(struct ufs_ra *ra, uint64_t off)
{
	for (unsigned i = 0; i < ra->ncur; i++) {
		struct ufs_ra_cursor *c = &ra->cur[i];
		uint64_t lo = c->next > UFS_RA_SLACK ? c->next - UFS_RA_SLACK : 0;

		if (off >= lo && off <= c->next + UFS_RA_SLACK)
			return c;
	}
	return NULL;
}

/* Place a fresh cursor after a read of [off, end). */
static void ra_place(struct ufs_ra *ra, uint64_t end)
{
	struct ufs_ra_cursor *c = &ra->cur[0];

	if (ra->ncur < UFS_RA_CURSORS) {
		c = &ra->cur[ra->ncur++];
	} else {
		for (unsigned i = 1; i < UFS_RA_CURSORS; i++)
			if (ra->cur[i].tick < c->tick)
				c = &ra->cur[i];
	}
	c->next = end;
	c->window = ra->bs;
	c->hits = 0;
	c->run = 0;
	c->pf_end = 0;
	c->tick = ra->tick;
}

/* Blocks to prefetch after a sequential read ending at end. */
static void ra_plan_window(const struct ufs_ra *ra, struct ufs_ra_cursor *c, uint64_t end,
			   struct ufs_ra_plan *pplan)
{
	uint64_t nblocks = (ra->size + ra->bs - 1) / ra->bs;
	uint64_t first = (end + ra->bs - 1) / ra->bs;
	uint64_t last = (end + c->window + ra->bs - 1) / ra->bs;

	if (c->pf_end > first) {
		if (c->pf_end - first > c->window / ra->bs / 2)
			return; /* still more than half a window ahead */
		first = c->pf_end;
	}
	if (last > nblocks)
		last = nblocks;
	if (first < last) {
		pplan->pf_first = first;
		pplan->pf_end = last;
		c->pf_end = last;
	}
}

/* A sequential hit on c by a read ending at end. */
static void ra_hit(struct ufs_ra *ra, struct ufs_ra_cursor *c, uint64_t off, uint64_t end,
		   struct ufs_ra_plan *pplan)
{
	uint64_t prev_blk = c->next ? (c->next - 1) / ra->bs : 0;
	uint64_t cur_blk = (end - 1) / ra->bs;
	int crossed = c->hits == 0 || cur_blk > prev_blk;

	c->hits++;
	if (off <= c->next && end >= c->next)
		c->run++;
	c->tick = ra->tick;
	ra->seeks = 0;
	if (end > c->next)
		c->next = end;
	if (ra->random) {
		if (c->run < UFS_RA_REENGAGE_HITS)
			return;
		ra->random = 0;
		c->window = ra->bs;
		c->pf_end = 0;
		crossed = 1;
	} else if (crossed && c->hits > 1) {
		c->window = c->window * 2 > ra->max ? ra->max : c->window * 2;
	}
	if (crossed)
		ra_plan_window(ra, c, end, pplan);
}

void ufs_ra_on_read(struct ufs_ra *ra, uint64_t off, uint64_t len, struct ufs_ra_plan *pplan)
{
	uint64_t end = off + len > ra->size ? ra->size : off + len;
	struct ufs_ra_cursor *c;

	memset(pplan, 0, sizeof(*pplan));
	ra->tick++;
	c = ra_match(ra, off);
	if (c) {
		ra_hit(ra, c, off, end, pplan);
	} else {
		pplan->probe = ra->ncur > 0;
		if (ra->ncur == UFS_RA_CURSORS)
			ra->seeks++; /* reads placed in free slots may be new streams */
		if (ra->seeks >= UFS_RA_RANDOM_SEEKS)
			ra->random = 1;
		ra_place(ra, end);
	}
	pplan->random = ra->random;
}

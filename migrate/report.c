/*
 * report.c — what cp/sync/check tell the user.
 *
 * Every entry's outcome is counted here. Failures and warnings always go to
 * stderr as "unifs: CMD: PATH: why"; check's findings go to stdout as
 * "missing PATH" / "differs PATH" / "extra PATH"; --json-lines turns every
 * outcome into one JSON object on stdout instead; --json prints one summary
 * object at the end. --progress redraws one line on stderr every second
 * (files and bytes done / found so far, rate, ETA). One mutex serialises
 * counters and output. A name is untrusted (a hostile bucket's keys, any
 * file name): the text form escapes control characters and backslashes
 * (ufs_sb_text_str), the JSON forms are always valid UTF-8 (ufs_sb_json_str);
 * both rules are in man/unifs.1, ESCAPING.
 */
#include "migrate/migrate_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/strbuf.h"

struct mig_report {
	const struct mig_opts *o;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t progress;
	int progress_on, stopping;
	const char *root_name; /* names the entry "" (a single-file copy) */
	double t0;
	uint64_t count[MIG_OUT__COUNT];
	uint64_t found, found_bytes, done, done_bytes, moved_bytes, sent_bytes;
};

static const char *const report_names[MIG_OUT__COUNT] = {
    [MIG_OUT_COPIED] = "copied",	 [MIG_OUT_SKIPPED] = "skipped",
    [MIG_OUT_WOULD_COPY] = "would_copy", [MIG_OUT_MISSING] = "missing",
    [MIG_OUT_DIFFERS] = "differs",	 [MIG_OUT_EXTRA] = "extra",
    [MIG_OUT_DELETED] = "deleted",	 [MIG_OUT_WARNING] = "warning",
    [MIG_OUT_FAILED] = "failed",
};

static double report_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report_mib(char *buf, size_t len, double bytes)
{
	if (bytes >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
	else
		snprintf(buf, len, "%.1f MiB", bytes / (1024.0 * 1024));
}

/* Redraw the progress line (lock held). */
static void report_draw(struct mig_report *rep)
{
	double dt = report_now() - rep->t0;
	double rate = dt > 0 ? (double)rep->done_bytes / dt : 0;
	double left =
	    rep->found_bytes > rep->done_bytes ? (double)(rep->found_bytes - rep->done_bytes) : 0;
	long eta = rate > 0 ? (long)(left / rate) : 0;
	char done[32], total[32], r[32];

	report_mib(done, sizeof(done), (double)rep->done_bytes);
	report_mib(total, sizeof(total), (double)rep->found_bytes);
	report_mib(r, sizeof(r), rate);
	fprintf(stderr, "\r%s: %llu/%llu files, %s/%s, %s/s, ETA %ld:%02ld   ", rep->o->cmd,
		(unsigned long long)rep->done, (unsigned long long)rep->found, done, total, r,
		eta / 60, eta % 60);
	fflush(stderr);
}

static void *report_progress(void *arg)
{
	struct mig_report *rep = arg;

	pthread_mutex_lock(&rep->lock);
	while (!rep->stopping) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&rep->wake, &rep->lock, &ts);
		report_draw(rep);
	}
	fputc('\n', stderr);
	pthread_mutex_unlock(&rep->lock);
	return NULL;
}

int mig_report_create(const struct mig_opts *o, struct mig_report **prep)
{
	struct mig_report *rep = calloc(1, sizeof(*rep));

	if (!rep)
		return -ENOMEM;
	rep->o = o;
	rep->t0 = report_now();
	pthread_mutex_init(&rep->lock, NULL);
	pthread_cond_init(&rep->wake, NULL);
	if (o->progress && pthread_create(&rep->progress, NULL, report_progress, rep) == 0)
		rep->progress_on = 1;
	*prep = rep;
	return 0;
}

void mig_report_set_root_name(struct mig_report *rep, const char *name)
{
	pthread_mutex_lock(&rep->lock);
	rep->root_name = name;
	pthread_mutex_unlock(&rep->lock);
}

void mig_report_found(struct mig_report *rep, uint64_t size)
{
	pthread_mutex_lock(&rep->lock);
	rep->found++;
	rep->found_bytes += size;
	pthread_mutex_unlock(&rep->lock);
}

/* One --json-lines object, built with the common JSON string writer
 * (ufs_sb_json_str: always valid UTF-8, control characters escaped, other
 * bytes as \udcXX) and written whole. */
static void report_json_line(enum mig_outcome out, const char *rel, uint64_t size, const char *hash,
			     const char *why)
{
	struct ufs_strbuf b = {0};

	ufs_sb_puts(&b, "{\"path\":");
	ufs_sb_json_str(&b, rel);
	ufs_sb_printf(&b, ",\"action\":\"%s\",\"size\":%llu", report_names[out],
		      (unsigned long long)size);
	if (hash) {
		ufs_sb_puts(&b, ",\"xxh3\":");
		ufs_sb_json_str(&b, hash);
	}
	if (why) {
		ufs_sb_puts(&b, out == MIG_OUT_FAILED ? ",\"error\":" : ",\"reason\":");
		ufs_sb_json_str(&b, why);
	}
	ufs_sb_puts(&b, "}\n");
	if (!b.oom)
		fwrite(b.s, 1, b.len, stdout);
	free(b.s);
}

/* The text form: failures and warnings on stderr, check findings on stdout;
 * names and reasons escaped (cli_error, cli_put_text: ufs_sb_text_str). */
static void report_text_line(struct mig_report *rep, enum mig_outcome out, const char *rel,
			     const char *why)
{
	const char *name = *rel ? rel : rep->root_name ? rep->root_name : ".";

	if (out == MIG_OUT_FAILED || out == MIG_OUT_WARNING)
		cli_error(rep->o->cmd, "%s: %s", name, why ? why : report_names[out]);
	else if (out == MIG_OUT_MISSING || out == MIG_OUT_DIFFERS || out == MIG_OUT_EXTRA ||
		 out == MIG_OUT_WOULD_COPY || out == MIG_OUT_DELETED) {
		printf("%s ", report_names[out]);
		cli_put_text(stdout, name);
		putchar('\n');
	}
}

void mig_report_entry(struct mig_report *rep, enum mig_outcome out, const char *rel, uint64_t size,
		      const char *hash, const char *why)
{
	pthread_mutex_lock(&rep->lock);
	rep->count[out]++;
	if (out != MIG_OUT_EXTRA && out != MIG_OUT_DELETED) {
		rep->done++;
		rep->done_bytes += size;
	}
	if (out == MIG_OUT_COPIED)
		rep->moved_bytes += size;
	if (rep->progress_on)
		fputs("\r\033[K", stderr);
	if (rep->o->json_lines)
		report_json_line(out, rel, size, hash, why);
	else if (!rep->o->json || out == MIG_OUT_FAILED || out == MIG_OUT_WARNING)
		report_text_line(rep, out, rel, why);
	if (rep->o->json_lines || !rep->o->json)
		fflush(stdout);
	pthread_mutex_unlock(&rep->lock);
}

uint64_t mig_report_count(struct mig_report *rep, enum mig_outcome out)
{
	uint64_t n;

	pthread_mutex_lock(&rep->lock);
	n = rep->count[out];
	pthread_mutex_unlock(&rep->lock);
	return n;
}

void mig_report_sent(struct mig_report *rep, uint64_t bytes)
{
	pthread_mutex_lock(&rep->lock);
	rep->sent_bytes += bytes;
	pthread_mutex_unlock(&rep->lock);
}

static void report_summary_json(struct mig_report *rep, double dt)
{
	printf("{\"command\":\"%s\",\"dry_run\":%s,\"files\":%llu", rep->o->cmd,
	       rep->o->dry_run ? "true" : "false", (unsigned long long)rep->found);
	for (int i = 0; i < MIG_OUT__COUNT; i++)
		printf(",\"%s\":%llu", report_names[i], (unsigned long long)rep->count[i]);
	printf(",\"bytes_copied\":%llu,\"bytes_sent\":%llu,\"seconds\":%.3f}\n",
	       (unsigned long long)rep->moved_bytes, (unsigned long long)rep->sent_bytes, dt);
}

static void report_summary_text(struct mig_report *rep, double dt)
{
	char moved[32];

	report_mib(moved, sizeof(moved), (double)rep->moved_bytes);
	fprintf(stderr,
		"%s: %llu files: %llu copied (%s), %llu skipped, %llu failed; %llu missing, "
		"%llu differ, %llu extra, %llu deleted; %.1f s\n",
		rep->o->cmd, (unsigned long long)rep->found,
		(unsigned long long)rep->count[MIG_OUT_COPIED], moved,
		(unsigned long long)rep->count[MIG_OUT_SKIPPED],
		(unsigned long long)rep->count[MIG_OUT_FAILED],
		(unsigned long long)rep->count[MIG_OUT_MISSING],
		(unsigned long long)rep->count[MIG_OUT_DIFFERS],
		(unsigned long long)rep->count[MIG_OUT_EXTRA],
		(unsigned long long)rep->count[MIG_OUT_DELETED], dt);
}

int mig_report_finish(struct mig_report *rep)
{
	double dt = report_now() - rep->t0;
	int differs;

	if (rep->progress_on) {
		pthread_mutex_lock(&rep->lock);
		rep->stopping = 1;
		pthread_cond_broadcast(&rep->wake);
		pthread_mutex_unlock(&rep->lock);
		pthread_join(rep->progress, NULL);
		rep->progress_on = 0;
	}
	if (rep->o->json)
		report_summary_json(rep, dt);
	else if (rep->o->progress || rep->o->mode == MIG_CHECK)
		report_summary_text(rep, dt);
	fflush(stdout);
	differs =
	    rep->count[MIG_OUT_MISSING] + rep->count[MIG_OUT_DIFFERS] + rep->count[MIG_OUT_EXTRA];
	if (rep->count[MIG_OUT_FAILED] || (rep->o->mode == MIG_CHECK && differs))
		return CLI_FAIL;
	return CLI_OK;
}

void mig_report_destroy(struct mig_report *rep)
{
	if (!rep)
		return;
	pthread_cond_destroy(&rep->wake);
	pthread_mutex_destroy(&rep->lock);
	free(rep);
}

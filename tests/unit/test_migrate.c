/*
 * test_migrate.c — the I/O-free parts of the cp/sync/check engine: the
 * decision rules (migrate/plan.c), --include/--exclude, shard parsing and
 * ownership, the resume journal (append, reopen, torn tail, corrupt and
 * foreign journals refused; object uploads in flight: U/M records), the
 * store listings a resume checks (S3 ListParts, Azure Get Block List) and
 * the bounded queue (push order, drain at destroy, its bound).
 *
 * The engine sources are compiled in directly (their statics are under
 * test); they only need ufscore.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "migrate/journal.c"
#include "migrate/plan.c"
#include "migrate/queue.c"
#include "migrate/report.c"
#include "protocols/azure/azblob_i.h"
#include "protocols/s3/s3_i.h"

static struct mig_item item(uint64_t ssize, time_t smtime, uint64_t dsize, time_t dmtime)
{
	struct mig_item it = {.rel = "f", .has_src = 1, .has_dst = 1};

	it.src.mode = S_IFREG | 0644;
	it.src.size = ssize;
	it.src.mtime.tv_sec = smtime;
	it.dst.mode = S_IFREG | 0644;
	it.dst.size = dsize;
	it.dst.mtime.tv_sec = dmtime;
	return it;
}

static void test_plan_rules(void **state)
{
	struct mig_opts o = {.mode = MIG_SYNC};
	struct mig_item it = item(10, 100, 10, 100);

	(void)state;
	assert_int_equal(mig_plan(&o, &it, 1), MIG_ACT_SKIP);
	it.dst.mtime.tv_sec = 99;
	assert_int_equal(mig_plan(&o, &it, 1), MIG_ACT_COPY); /* posix: any mtime change */
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_COPY); /* object: source newer */
	it.dst.mtime.tv_sec = 200;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_SKIP); /* object: uploaded later */
	it.dst.size = 11;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_COPY);
	o.mode = MIG_CHECK;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_DIFFERS);
	it.dst.size = 10;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_SKIP); /* check: sizes only */
	o.checksum = 1;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_HASH);
	it.has_dst = 0;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_MISSING);
	o.mode = MIG_CP;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_COPY);
	it.has_dst = 1;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_COPY); /* cp copies anyway */
	it.has_src = 0;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_EXTRA);
}

static void test_filters(void **state)
{
	const char *inc[] = {"*.txt"}, *exc[] = {"tmp/*", "*~"};
	struct mig_opts o = {.include = inc, .n_include = 1, .exclude = exc, .n_exclude = 2};

	(void)state;
	assert_true(mig_filter_match(&o, "a/b/c.txt"));
	assert_false(mig_filter_match(&o, "a/b/c.bin"));
	assert_false(mig_filter_match(&o, "tmp/c.txt"));
	assert_true(mig_filter_match(&o, "x/tmp/c.txt")); /* '/' pattern: whole path */
	o.n_include = 0;
	assert_true(mig_filter_match(&o, "c.bin"));
	assert_false(mig_filter_match(&o, "d/c.bin~"));
}

static void test_shard_parse(void **state)
{
	char err[256];
	unsigned k = 9, n = 9;

	(void)state;
	assert_int_equal(mig_shard_parse("2/4", NULL, &k, &n, err, sizeof(err)), 0);
	assert_int_equal(k, 2);
	assert_int_equal(n, 4);
	assert_int_equal(mig_shard_parse("4/4", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "K must be below N"));
	assert_int_equal(mig_shard_parse("-1/4", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_shard_parse("1/0", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_shard_parse("x", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected K/N"));
	unsetenv("SLURM_ARRAY_TASK_ID");
	unsetenv("JOB_COMPLETION_INDEX");
	assert_int_equal(mig_shard_parse("auto", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "neither"));
	setenv("SLURM_ARRAY_TASK_ID", "3", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
	assert_int_equal(mig_shard_parse("auto", NULL, &k, &n, err, sizeof(err)), 0);
	assert_int_equal(k, 3);
	assert_int_equal(n, 4);
	unsetenv("SLURM_ARRAY_TASK_ID");
	setenv("JOB_COMPLETION_INDEX", "1", 1);
	assert_int_equal(mig_shard_parse("auto", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--shard-count"));
	assert_int_equal(mig_shard_parse("auto", "2", &k, &n, err, sizeof(err)), 0);
	assert_int_equal(k, 1);
	assert_int_equal(n, 2);
	assert_int_equal(mig_shard_parse("auto", "1", &k, &n, err, sizeof(err)), -EINVAL);
	unsetenv("JOB_COMPLETION_INDEX");
}

/* Every path has exactly one owner, and the shards are roughly even. */
static void test_shard_owns(void **state)
{
	unsigned per[4] = {0};
	char rel[32];

	(void)state;
	for (int i = 0; i < 4000; i++) {
		int owners = 0;

		snprintf(rel, sizeof(rel), "dir%d/file%d", i % 7, i);
		for (unsigned k = 0; k < 4; k++) {
			if (mig_shard_owns(rel, k, 4)) {
				owners++;
				per[k]++;
			}
		}
		assert_int_equal(owners, 1);
	}
	for (unsigned k = 0; k < 4; k++)
		assert_in_range(per[k], 800, 1200);
	assert_true(mig_shard_owns("anything", 0, 1));
}

static char *journal_tmp(void)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_migrate.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	return path;
}

static void test_journal_roundtrip(void **state)
{
	const char *hash = "0123456789abcdef0123456789abcdef";
	char *path = journal_tmp(), err[512];
	struct mig_journal *j = NULL;
	FILE *f;

	(void)state;
	assert_int_equal(mig_journal_open(path, "job A", 1, &j, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "--resume needs an existing journal"));
	assert_int_equal(mig_journal_open(path, "job A", 0, &j, err, sizeof(err)), 0);
	assert_false(mig_journal_is_done(j, "a b/c"));
	assert_int_equal(mig_journal_add_done(j, "a b/c", 5, hash), 0);
	assert_int_equal(mig_journal_add_part(j, "big", 64 << 20), 0);
	assert_int_equal(mig_journal_add_part(j, "big", 96 << 20), 0);
	for (int i = 0; i < 700; i++) { /* grow the map past 512 */
		char rel[32];

		snprintf(rel, sizeof(rel), "f%d", i);
		assert_int_equal(mig_journal_add_done(j, rel, (uint64_t)i, hash), 0);
	}
	mig_journal_close(j);
	/* a crash mid-append leaves a torn line: dropped, the rest trusted */
	f = fopen(path, "a");
	fputs("D 12345", f);
	fclose(f);
	assert_int_equal(mig_journal_open(path, "job A", 1, &j, err, sizeof(err)), 0);
	assert_true(mig_journal_is_done(j, "a b/c"));
	assert_true(mig_journal_is_done(j, "f699"));
	assert_false(mig_journal_is_done(j, "big"));
	assert_int_equal(mig_journal_part(j, "big"), 96 << 20);
	assert_int_equal(mig_journal_part(j, "a b/c"), 0);
	assert_int_equal(mig_journal_add_done(j, "big", 1, hash), 0); /* lands on its own line */
	mig_journal_close(j);
	assert_int_equal(mig_journal_open(path, "job A", 1, &j, err, sizeof(err)), 0);
	assert_true(mig_journal_is_done(j, "big"));
	mig_journal_close(j);
	/* another job's journal is refused, never trusted */
	assert_int_equal(mig_journal_open(path, "job B", 0, &j, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "belongs to another job"));
	unlink(path);
}

/* The journal is the caller's own file: a new one is 0600; a symlink at the
 * path is refused (its target neither created nor written), and so is a
 * second hard link or something that is not a regular file. */
static void test_journal_trust(void **state)
{
	char *path = journal_tmp(), err[512], target[80], link2[80];
	struct mig_journal *j = NULL;
	struct stat st;

	(void)state;
	umask(0);
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), 0);
	umask(022);
	mig_journal_close(j);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(link2, sizeof(link2), "%s.hard", path);
	assert_int_equal(link(path, link2), 0);
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "hard links"));
	unlink(link2);
	unlink(path);
	snprintf(target, sizeof(target), "%s.target", path);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "is a symbolic link"));
	assert_int_equal(mig_journal_open(path, "job", 1, &j, err, sizeof(err)), -ELOOP);
	assert_int_equal(access(target, F_OK), -1);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
}

/* Flip one byte of a record: the line's checksum catches it. */
static void test_journal_corrupt(void **state)
{
	char *path = journal_tmp(), err[512], buf[4096];
	struct mig_journal *j = NULL;
	ssize_t n;
	int fd;

	(void)state;
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), 0);
	assert_int_equal(mig_journal_add_done(j, "x", 123, "00000000000000000000000000000000"), 0);
	mig_journal_close(j);
	fd = open(path, O_RDWR);
	n = read(fd, buf, sizeof(buf));
	assert_true(n > 40);
	buf[n - 15] ^= 1;
	assert_int_equal(pwrite(fd, buf, (size_t)n, 0), n);
	close(fd);
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2 is corrupt"));
	/* not a journal at all (and without a newline): refused, left alone */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a unifs journal"));
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	close(fd);
	unlink(path);
}

/* Object uploads in flight: U starts a file's part list, M adds part n in
 * order, D forgets it; all of it survives a reopen. */
static void test_journal_uploads(void **state)
{
	const char *hash = "0123456789abcdef0123456789abcdef";
	char *path = journal_tmp(), err[512];
	struct mig_upload u = {.size = 3 << 20, .mtime = {1700000000, 250}, .id = "2~abc/+="};
	struct ufs_upload_part p = {.len = 1 << 20, .etag = "d41d8cd98f00b204e9800998ecf8427e"};
	struct mig_upload got;
	struct mig_journal *j = NULL;

	(void)state;
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), 0);
	assert_int_equal(mig_journal_upload(j, "big", &got), 0);
	assert_int_equal(mig_journal_add_upload(j, "big", &u), 0);
	assert_int_equal(mig_journal_add_upart(j, "big", 1, &p), 0);
	p.etag[0] = '\0'; /* Azure: no ETag -> "-" */
	assert_int_equal(mig_journal_add_upart(j, "big", 2, &p), 0);
	assert_int_equal(mig_journal_add_upart(j, "big", 4, &p), -EINVAL); /* out of order */
	/* ids or ETags that cannot be one token are not journaled */
	u.id = "has space";
	assert_int_equal(mig_journal_add_upload(j, "other", &u), -EINVAL);
	u.id = "";
	snprintf(u.etag, sizeof(u.etag), "src-etag");
	assert_int_equal(mig_journal_add_upload(j, "az blob", &u), 0);
	assert_int_equal(mig_journal_add_upload(j, "gone", &u), 0);
	assert_int_equal(mig_journal_add_done(j, "gone", 1, hash), 0);
	mig_journal_close(j);

	assert_int_equal(mig_journal_open(path, "job", 1, &j, err, sizeof(err)), 0);
	assert_int_equal(mig_journal_upload(j, "big", &got), 1);
	assert_int_equal(got.size, 3 << 20);
	assert_int_equal(got.mtime.tv_sec, 1700000000);
	assert_int_equal(got.mtime.tv_nsec, 250);
	assert_string_equal(got.etag, "");
	assert_string_equal(got.id, "2~abc/+=");
	assert_int_equal(got.nparts, 2);
	assert_int_equal(got.parts[0].len, 1 << 20);
	assert_string_equal(got.parts[0].etag, "d41d8cd98f00b204e9800998ecf8427e");
	assert_string_equal(got.parts[1].etag, "");
	mig_upload_fini(&got);
	assert_int_equal(mig_journal_upload(j, "az blob", &got), 1);
	assert_string_equal(got.id, "");
	assert_string_equal(got.etag, "src-etag");
	assert_int_equal(got.nparts, 0);
	mig_upload_fini(&got);
	assert_int_equal(mig_journal_upload(j, "gone", &got), 0); /* done: forgotten */
	/* a new upload of the same file starts its part list over */
	u.id = "second";
	assert_int_equal(mig_journal_add_upload(j, "big", &u), 0);
	assert_int_equal(mig_journal_upload(j, "big", &got), 1);
	assert_string_equal(got.id, "second");
	assert_int_equal(got.nparts, 0);
	mig_upload_fini(&got);
	mig_journal_close(j);
	unlink(path);
}

/* Write header + one record line body (its CRC computed) and open it. */
static int journal_with_line(const char *path, const char *body, char *err, size_t errlen)
{
	char header[64];
	struct mig_journal *j = NULL;
	FILE *f = fopen(path, "w");
	int rc;

	assert_non_null(f);
	snprintf(header, sizeof(header), JOURNAL_MAGIC "%016" PRIx64, journal_id("job"));
	fprintf(f, "%s\n%s %08x\n", header, body, (unsigned)XXH32(body, strlen(body), 0));
	fclose(f);
	rc = mig_journal_open(path, "job", 1, &j, err, errlen);
	mig_journal_close(j);
	return rc;
}

/* Well-checksummed but malformed upload records refuse the journal. */
static void test_journal_upload_bad(void **state)
{
	static const char *bad[] = {
	    "M 00000000000000aa 1 5 x",		   /* a part without its upload */
	    "U 00000000000000aa 5 1.5 - id extra", /* trailing field */
	    "U 00000000000000aa 5 1 - id",	   /* mtime without nanoseconds */
	    "U 00000000000000aa x 1.5 - id",	   /* size not a number */
	    "Q 00000000000000aa 5",		   /* unknown record */
	};
	char *path = journal_tmp(), err[512];

	(void)state;
	assert_int_equal(journal_with_line(path, "U 00000000000000aa 5 1.5 - id", err, sizeof(err)),
			 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(journal_with_line(path, bad[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "line 2 is corrupt"));
	}
	unlink(path);
}

struct seen_parts {
	unsigned n[8], count;
	uint64_t len[8];
	char etag[8][UFS_ETAG_MAX];
};

static int seen_part(void *arg, const char *id, unsigned n, const struct ufs_upload_part *p)
{
	struct seen_parts *s = arg;

	(void)id;
	assert_true(s->count < 8);
	s->n[s->count] = n;
	s->len[s->count] = p->len;
	memcpy(s->etag[s->count++], p->etag, UFS_ETAG_MAX);
	return 0;
}

/* What a resume asks the store: S3 ListParts pages, Azure uncommitted blocks. */
static void test_store_part_listings(void **state)
{
	static const char parts[] =
	    "<?xml version=\"1.0\"?><ListPartsResult><Bucket>b</Bucket>"
	    "<Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag><Size>5242880</Size></Part>"
	    "<Part><PartNumber>2</PartNumber><ETag>\"bb\"</ETag><Size>7</Size></Part>"
	    "<IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>"
	    "</ListPartsResult>";
	static const char noSize[] =
	    "<ListPartsResult><Part><PartNumber>1</PartNumber></Part></ListPartsResult>";
	static const char loop[] =
	    "<ListPartsResult><IsTruncated>true</IsTruncated></ListPartsResult>";
	char id0[UFS_AZ_BLOCK_ID_MAX], id4[UFS_AZ_BLOCK_ID_MAX], xml[512];
	struct seen_parts s = {0};
	unsigned next = 9;
	uint32_t num;

	(void)state;
	assert_int_equal(ufs_s3_parse_parts(parts, strlen(parts), seen_part, &s, &next), 0);
	assert_int_equal(next, 2);
	assert_int_equal(s.count, 2);
	assert_int_equal(s.n[1], 2);
	assert_int_equal(s.len[0], 5242880);
	assert_string_equal(s.etag[0], "aa");
	assert_string_equal(s.etag[1], "bb");
	assert_int_equal(ufs_s3_parse_parts(noSize, strlen(noSize), seen_part, &s, &next), -EIO);
	assert_int_equal(ufs_s3_parse_parts(loop, strlen(loop), seen_part, &s, &next), -EIO);
	assert_int_equal(ufs_s3_parse_parts("<Error/>", 8, seen_part, &s, &next), -EIO);

	ufs_az_block_id(0, id0);
	ufs_az_block_id(4, id4);
	assert_int_equal(ufs_az_block_num(id4, strlen(id4), &num), 0);
	assert_int_equal(num, 4);
	assert_int_equal(ufs_az_block_num("AAAA", 4, &num), -EINVAL);
	snprintf(xml, sizeof(xml),
		 "<BlockList><CommittedBlocks><Block><Name>%s</Name><Size>1</Size></Block>"
		 "</CommittedBlocks><UncommittedBlocks>"
		 "<Block><Name>%s</Name><Size>5</Size></Block>"
		 "<Block><Name>Zm9yZWlnbg==</Name><Size>6</Size></Block>"
		 "<Block><Name>%s</Name><Size>7</Size></Block>"
		 "</UncommittedBlocks></BlockList>",
		 id0, id4, id0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ufs_az_parse_block_list(xml, strlen(xml), seen_part, &s), 0);
	assert_int_equal(s.count, 2); /* committed and foreign blocks skipped */
	assert_int_equal(s.n[0], 5);
	assert_int_equal(s.len[0], 5);
	assert_int_equal(s.n[1], 1);
	assert_int_equal(s.len[1], 7);
	assert_int_equal(ufs_az_parse_block_list("<x/>", 4, seen_part, &s), -EIO);
	snprintf(xml, sizeof(xml),
		 "<BlockList><UncommittedBlocks><Block><Name>%s</Name></Block>"
		 "</UncommittedBlocks></BlockList>",
		 id0);
	assert_int_equal(ufs_az_parse_block_list(xml, strlen(xml), seen_part, &s), -EIO);
}

/* What the queue's workers saw: the entries handled, in order; the first
 * entry can be held at a gate. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	char seen[16];
	int n, hold, holding;
	atomic_int pushed;
} qt = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void qt_handle(struct mig_run *r, const struct mig_item *it)
{
	(void)r;
	pthread_mutex_lock(&qt.lock);
	if (qt.n < (int)sizeof(qt.seen) - 1)
		qt.seen[qt.n++] = it->rel[0];
	qt.holding = qt.hold;
	pthread_cond_broadcast(&qt.cv);
	while (qt.hold)
		pthread_cond_wait(&qt.cv, &qt.lock);
	qt.holding = 0;
	pthread_mutex_unlock(&qt.lock);
}

static void qt_push(struct mig_queue *q, char name)
{
	struct mig_item *it = calloc(1, sizeof(*it));

	assert_non_null(it);
	it->rel = strndup(&name, 1);
	mig_queue_push(q, it);
	atomic_fetch_add(&qt.pushed, 1);
}

static void qt_reset(int hold)
{
	memset(qt.seen, 0, sizeof(qt.seen));
	qt.n = qt.holding = 0;
	qt.hold = hold;
	atomic_store(&qt.pushed, 0);
}

/* Entries are handled in push order, and destroy handles every entry
 * still queued before it returns (nothing is lost or leaked). */
static void test_queue(void **state)
{
	struct mig_run r = {0};
	struct mig_queue *q = NULL;

	(void)state;
	qt_reset(0);
	assert_int_equal(mig_queue_create(2, 1, qt_handle, &r, &q), 0);
	for (char c = 'a'; c <= 'e'; c++)
		qt_push(q, c);
	mig_queue_destroy(q);
	assert_string_equal(qt.seen, "abcde");
	mig_queue_destroy(NULL);
}

static void *qt_pusher(void *arg)
{
	for (char c = 'a'; c <= 'e'; c++)
		qt_push(arg, c);
	return NULL;
}

/* The bound: with one worker busy and cap 2, the fourth push waits (one
 * running + two waiting) until the worker moves on. */
static void test_queue_bound(void **state)
{
	struct mig_run r = {0};
	struct mig_queue *q = NULL;
	pthread_t th;

	(void)state;
	qt_reset(1);
	assert_int_equal(mig_queue_create(2, 1, qt_handle, &r, &q), 0);
	assert_int_equal(pthread_create(&th, NULL, qt_pusher, q), 0);
	pthread_mutex_lock(&qt.lock);
	while (!qt.holding)
		pthread_cond_wait(&qt.cv, &qt.lock);
	pthread_mutex_unlock(&qt.lock);
	while (atomic_load(&qt.pushed) < 3)
		usleep(1000);
	usleep(100 * 1000);
	assert_int_equal(atomic_load(&qt.pushed), 3);
	pthread_mutex_lock(&qt.lock);
	qt.hold = 0;
	pthread_cond_broadcast(&qt.cv);
	pthread_mutex_unlock(&qt.lock);
	pthread_join(th, NULL);
	mig_queue_destroy(q);
	assert_string_equal(qt.seen, "abcde");
}

/* --json-lines: one object per entry, strings escaped as JSON (the bytes
 * the integration tests and scripts parse). */
static void test_report_json_lines(void **state)
{
	struct mig_opts o = {.mode = MIG_CP, .cmd = "cp", .json_lines = 1};
	struct mig_report *rep;
	char path[] = "/tmp/ufs_test_report_XXXXXX", buf[512] = "";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	ssize_t n;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(mig_report_create(&o, &rep), 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	mig_report_entry(rep, MIG_OUT_COPIED, "a\"b\\c\n", 5, "00ff", NULL);
	mig_report_entry(rep, MIG_OUT_FAILED, "d", 0, NULL, "no \x01 way");
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	assert_string_equal(
	    buf,
	    "{\"path\":\"a\\\"b\\\\c\\u000a\",\"action\":\"copied\",\"size\":5,\"xxh3\":\"00ff\"}\n"
	    "{\"path\":\"d\",\"action\":\"failed\",\"size\":0,\"error\":\"no \\u0001 way\"}\n");
	mig_report_destroy(rep);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_rules),
	    cmocka_unit_test(test_filters),
	    cmocka_unit_test(test_shard_parse),
	    cmocka_unit_test(test_shard_owns),
	    cmocka_unit_test(test_journal_roundtrip),
	    cmocka_unit_test(test_journal_corrupt),
	    cmocka_unit_test(test_journal_trust),
	    cmocka_unit_test(test_journal_uploads),
	    cmocka_unit_test(test_journal_upload_bad),
	    cmocka_unit_test(test_store_part_listings),
	    cmocka_unit_test(test_queue),
	    cmocka_unit_test(test_queue_bound),
	    cmocka_unit_test(test_report_json_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

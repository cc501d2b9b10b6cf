/*
 * cli_mig_journal.c — the resume journal of cp/sync (--journal PATH).
 *
 * Format (text, append-only, every append fsync'd):
 *   unifs-journal 1 JOB                       JOB: xxh64 of the job identity
 *   D PATHID SIZE XXH3 CRC                    file PATHID finished, verified
 *   P PATHID OFFSET CRC                       file PATHID durable up to OFFSET
 * PATHID is the xxh64 of the rel path (names never need escaping), CRC the
 * xxh32 of the line before it. Reading back, a header of another job or a
 * complete line whose CRC fails refuses the journal (never trusted); a last
 * line without its newline is a torn append from a crash: it is cut off.
 *
 * In memory: two open-addressing maps PATHID -> value (done: size, parts:
 * offset), 16 bytes per finished file.
 */
#include "mount-helpers/cli_mig_i.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define JOURNAL_MAGIC "unifs-journal 1 "

struct jmap {
	uint64_t *keys, *vals;
	size_t cap, n;
};

struct mig_journal {
	int fd;
	pthread_mutex_t lock;
	struct jmap done, parts;
};

static uint64_t journal_id(const char *s)
{
	uint64_t h = XXH64(s, strlen(s), 0);

	return h ? h : 1; /* 0 marks an empty map slot */
}

static int jmap_put(struct jmap *m, uint64_t key, uint64_t val);

static int jmap_grow(struct jmap *m)
{
	struct jmap big = {.cap = m->cap ? m->cap * 2 : 1024};

	big.keys = calloc(big.cap, sizeof(*big.keys));
	big.vals = calloc(big.cap, sizeof(*big.vals));
	if (!big.keys || !big.vals) {
		free(big.keys);
		free(big.vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			jmap_put(&big, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = big;
	return 0;
}

static int jmap_put(struct jmap *m, uint64_t key, uint64_t val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap && jmap_grow(m) != 0)
		return -ENOMEM;
	for (i = key % m->cap; m->keys[i] && m->keys[i] != key; i = (i + 1) % m->cap)
		;
	if (!m->keys[i])
		m->n++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

/* 1 and *pval when key is in m. */
static int jmap_get(const struct jmap *m, uint64_t key, uint64_t *pval)
{
	if (!m->cap)
		return 0;
	for (size_t i = key % m->cap; m->keys[i]; i = (i + 1) % m->cap) {
		if (m->keys[i] == key) {
			*pval = m->vals[i];
			return 1;
		}
	}
	return 0;
}

/* Parse one complete record line (without '\n'). 0 or -EINVAL. */
static int journal_parse_line(struct mig_journal *j, const char *line)
{
	const char *crc_at = strrchr(line, ' ');
	uint64_t id, val;
	unsigned crc;
	char kind, hash[MIG_HASH_HEX];
	int used = 0;

	if (!crc_at || sscanf(crc_at + 1, "%8x%n", &crc, &used) != 1 || crc_at[1 + used] ||
	    XXH32(line, (size_t)(crc_at - line), 0) != crc)
		return -EINVAL;
	if (sscanf(line, "%c %16" SCNx64 " %" SCNu64 " %32s", &kind, &id, &val, hash) == 4 &&
	    kind == 'D')
		return jmap_put(&j->done, id, val);
	if (sscanf(line, "%c %16" SCNx64 " %" SCNu64, &kind, &id, &val) == 3 && kind == 'P')
		return jmap_put(&j->parts, id, val);
	return -EINVAL;
}

/* Read an existing journal back; *pgood: bytes of whole lines. */
static int journal_load(struct mig_journal *j, FILE *f, const char *header, off_t *pgood, char *err,
			size_t errlen, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int rc = 0;

	*pgood = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n' && !(lineno == 1 && strncmp(line, header, (size_t)n) != 0))
			break; /* torn last append */
		line[n - 1] = line[n - 1] == '\n' ? '\0' : line[n - 1];
		if (lineno == 1 && strcmp(line, header) != 0) {
			snprintf(err, errlen,
				 "journal %s: %s; refusing to use it (give another --journal path)",
				 path,
				 strncmp(line, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC)) == 0
				     ? "belongs to another job (other source, destination or shard)"
				     : "not a unifs journal");
			rc = -EINVAL;
		} else if (lineno > 1 && journal_parse_line(j, line) != 0) {
			snprintf(err, errlen, "journal %s: line %u is corrupt; refusing to use it",
				 path, lineno);
			rc = -EINVAL;
		} else {
			*pgood += n;
		}
	}
	free(line);
	return rc;
}

static int journal_write(struct mig_journal *j, const char *buf, size_t len)
{
	int rc = cli_write_all(j->fd, buf, len);

	if (rc == 0 && fdatasync(j->fd) != 0)
		rc = -errno;
	return rc;
}

/* Read back an existing journal (cut a torn tail) or write a new header. */
static int journal_init(struct mig_journal *j, const char *path, const char *header, char *err,
			size_t errlen)
{
	struct stat st;
	off_t good = 0;
	int rc = 0;

	if (fstat(j->fd, &st) != 0)
		return -errno;
	if (st.st_size > 0) {
		FILE *f = fdopen(dup(j->fd), "r");

		if (!f)
			return -errno;
		rc = journal_load(j, f, header, &good, err, errlen, path);
		fclose(f);
		if (rc == 0 && good < st.st_size && ftruncate(j->fd, good) != 0)
			rc = -errno;
	}
	if (rc == 0 && good == 0) {
		char line[64];
		int len = snprintf(line, sizeof(line), "%s\n", header);

		if (ftruncate(j->fd, 0) != 0)
			return -errno;
		rc = journal_write(j, line, (size_t)len);
	}
	if (rc != 0 && !err[0])
		snprintf(err, errlen, "journal %s: %s", path, cli_strerror(rc));
	return rc;
}

int mig_journal_open(const char *path, const char *identity, int resume, struct mig_journal **pj,
		     char *err, size_t errlen)
{
	struct mig_journal *j = calloc(1, sizeof(*j));
	char header[64];
	int rc;

	err[0] = '\0';
	if (!j)
		return -ENOMEM;
	snprintf(header, sizeof(header), JOURNAL_MAGIC "%016" PRIx64, journal_id(identity));
	j->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | (resume ? 0 : O_CREAT), 0644);
	if (j->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "journal %s: %s%s", path, cli_strerror(rc),
			 resume && rc == -ENOENT ? " (--resume needs an existing journal)" : "");
		free(j);
		return rc;
	}
	pthread_mutex_init(&j->lock, NULL);
	rc = journal_init(j, path, header, err, errlen);
	if (rc != 0) {
		mig_journal_close(j);
		return rc;
	}
	*pj = j;
	return 0;
}

int mig_journal_is_done(struct mig_journal *j, const char *rel)
{
	uint64_t v;
	int done;

	pthread_mutex_lock(&j->lock);
	done = jmap_get(&j->done, journal_id(rel), &v);
	pthread_mutex_unlock(&j->lock);
	return done;
}

uint64_t mig_journal_part(struct mig_journal *j, const char *rel)
{
	uint64_t v = 0;

	pthread_mutex_lock(&j->lock);
	if (!jmap_get(&j->parts, journal_id(rel), &v))
		v = 0;
	pthread_mutex_unlock(&j->lock);
	return v;
}

/* Append body + " CRC\n" and record it in map m. */
static int journal_append(struct mig_journal *j, const char *body, struct jmap *m, uint64_t id,
			  uint64_t val)
{
	char line[160];
	int len =
	    snprintf(line, sizeof(line), "%s %08x\n", body, (unsigned)XXH32(body, strlen(body), 0));
	int rc;

	pthread_mutex_lock(&j->lock);
	rc = journal_write(j, line, (size_t)len);
	if (rc == 0)
		rc = jmap_put(m, id, val);
	pthread_mutex_unlock(&j->lock);
	return rc;
}

int mig_journal_add_done(struct mig_journal *j, const char *rel, uint64_t size, const char *hash)
{
	uint64_t id = journal_id(rel);
	char body[128];

	snprintf(body, sizeof(body), "D %016" PRIx64 " %" PRIu64 " %s", id, size, hash);
	return journal_append(j, body, &j->done, id, size);
}

int mig_journal_add_part(struct mig_journal *j, const char *rel, uint64_t off)
{
	uint64_t id = journal_id(rel);
	char body[128];

	snprintf(body, sizeof(body), "P %016" PRIx64 " %" PRIu64, id, off);
	return journal_append(j, body, &j->parts, id, off);
}

void mig_journal_close(struct mig_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	pthread_mutex_destroy(&j->lock);
	free(j->done.keys);
	free(j->done.vals);
	free(j->parts.keys);
	free(j->parts.vals);
	free(j);
}

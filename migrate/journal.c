/*
 * journal.c — the resume journal of cp/sync (--journal PATH).
 *
 * Format (text, append-only, every append fsync'd):
 *   unifs-journal 1 JOB                       JOB: xxh64 of the job identity
 *   D PATHID SIZE XXH3 CRC                    file PATHID finished, verified
 *   P PATHID OFFSET CRC                       file PATHID durable up to OFFSET
 *   U PATHID SIZE SEC.NSEC SRCETAG UPLOAD CRC object upload UPLOAD of PATHID
 *                                             begun from a source of SIZE
 *                                             bytes, mtime SEC.NSEC, SRCETAG
 *   M PATHID N LEN ETAG CRC                   part N (LEN bytes, ETAG) of
 *                                             PATHID's last upload is stored
 * PATHID is the xxh64 of the rel path (names never need escaping), CRC the
 * xxh32 of the line before it; an empty SRCETAG, UPLOAD or ETAG is "-"
 * (Azure uploads have no id, blocks no ETag). M lines follow their U line
 * in part order (the copy journals the contiguous prefix of stored parts);
 * a U line starts the file's part list over. Reading back, a header of another job or a
 * complete line whose CRC fails refuses the journal (never trusted); a last
 * line without its newline is a torn append from a crash: it is cut off.
 *
 * The file is the caller's own: opened with O_NOFOLLOW (a symlink at PATH
 * is refused, never followed), a new one created O_EXCL with mode 0600, and
 * one that is not a regular file, has other hard links, or is owned by a
 * user other than the caller and root is refused (a root job must not
 * write where another user's planted name points).
 *
 * In memory: two open-addressing maps PATHID -> value (done: size, parts:
 * offset), 16 bytes per finished file, and a list of the uploads in flight
 * (id, source, parts) from which a file is dropped once it is done.
 */
#include "migrate/migrate_i.h"

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

/*
 * PATHID -> value, open addressing (key 0: an empty slot), doubling at half
 * full; entries are never removed. It stays its own map rather than the
 * common keyed table (common/table.h) because what it holds are two plain
 * numbers, not objects: the intrusive table would need one allocation per
 * entry (a node holding the value: a malloc, and a failure path, per
 * finished file of a copy of millions of files, each freed at close) where
 * this map grows two flat arrays.
 */
struct jmap {
	uint64_t *keys, *vals;
	size_t cap, n;
};

/* An upload in flight of the file PATHID. */
struct jupload {
	uint64_t pathid;
	struct mig_upload u;
	struct jupload *next;
};

struct mig_journal {
	int fd;
	pthread_mutex_t lock;
	struct jmap done, parts;
	struct jupload *uploads;
};

#define JOURNAL_TOKEN_MAX 320 /* longest upload id / ETag journaled */
#define JOURNAL_LINE_MAX 512

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

void mig_upload_fini(struct mig_upload *u)
{
	free(u->id);
	free(u->parts);
	memset(u, 0, sizeof(*u));
}

/* The upload entry of pathid, or NULL; *pprev: the link that points to it. */
static struct jupload *journal_find_upload(struct mig_journal *j, uint64_t pathid,
					   struct jupload ***pprev)
{
	struct jupload **pp = &j->uploads;

	while (*pp && (*pp)->pathid != pathid)
		pp = &(*pp)->next;
	if (pprev)
		*pprev = pp;
	return *pp;
}

/* A file is done: forget its upload. */
static void journal_drop_upload(struct mig_journal *j, uint64_t pathid)
{
	struct jupload **pp, *ju = journal_find_upload(j, pathid, &pp);

	if (ju) {
		*pp = ju->next;
		mig_upload_fini(&ju->u);
		free(ju);
	}
}

/* Record "pathid's upload id began from a source like src" (in memory). */
static int journal_put_upload(struct mig_journal *j, uint64_t pathid, const struct mig_upload *src)
{
	struct jupload *ju = journal_find_upload(j, pathid, NULL);
	char *id = strdup(src->id);

	if (!id)
		return -ENOMEM;
	if (!ju) {
		ju = calloc(1, sizeof(*ju));
		if (!ju) {
			free(id);
			return -ENOMEM;
		}
		ju->pathid = pathid;
		ju->next = j->uploads;
		j->uploads = ju;
	}
	mig_upload_fini(&ju->u);
	ju->u = *src;
	ju->u.id = id;
	ju->u.parts = NULL;
	ju->u.nparts = ju->u.cap = 0;
	return 0;
}

/* Record "part n of pathid's upload is stored" (in memory); parts come in
 * order after their upload: anything else is -EINVAL. */
static int journal_put_upart(struct mig_journal *j, uint64_t pathid, unsigned n,
			     const struct ufs_upload_part *p)
{
	struct jupload *ju = journal_find_upload(j, pathid, NULL);
	struct mig_upload *u = ju ? &ju->u : NULL;

	if (!u || n != u->nparts + 1)
		return -EINVAL;
	if (u->nparts == u->cap) {
		unsigned cap = u->cap ? u->cap * 2 : 16;
		struct ufs_upload_part *np = realloc(u->parts, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		u->parts = np;
		u->cap = cap;
	}
	u->parts[u->nparts++] = *p;
	return 0;
}

/* "-" for an empty token. */
static const char *journal_tok(const char *s)
{
	return s[0] ? s : "-";
}

/* A token read back: "-" is empty. */
static void journal_untok(char *s)
{
	if (strcmp(s, "-") == 0)
		s[0] = '\0';
}

/* "U PATHID SIZE SEC.NSEC SRCETAG UPLOAD" -> the upload (id in idbuf). */
static int journal_parse_upload(const char *body, uint64_t *ppathid, struct mig_upload *u,
				char *idbuf)
{
	long long sec;
	long nsec;
	int used = 0;

	memset(u, 0, sizeof(*u));
	if (sscanf(body, "U %16" SCNx64 " %" SCNu64 " %lld.%9ld %95s %320s%n", ppathid, &u->size,
		   &sec, &nsec, u->etag, idbuf, &used) != 6 ||
	    body[used] || nsec < 0)
		return -EINVAL;
	u->mtime.tv_sec = (time_t)sec;
	u->mtime.tv_nsec = nsec;
	journal_untok(u->etag);
	journal_untok(idbuf);
	u->id = idbuf;
	return 0;
}

/* "M PATHID N LEN ETAG" -> the part. */
static int journal_parse_upart(const char *body, uint64_t *ppathid, unsigned *pn,
			       struct ufs_upload_part *p)
{
	int used = 0;

	memset(p, 0, sizeof(*p));
	if (sscanf(body, "M %16" SCNx64 " %u %" SCNu64 " %95s%n", ppathid, pn, &p->len, p->etag,
		   &used) != 4 ||
	    body[used])
		return -EINVAL;
	journal_untok(p->etag);
	return 0;
}

/* Apply one checksummed record body to the in-memory state. */
static int journal_apply(struct mig_journal *j, const char *body)
{
	char idbuf[JOURNAL_TOKEN_MAX + 1], hash[MIG_HASH_HEX];
	struct ufs_upload_part p;
	struct mig_upload u;
	uint64_t id, val;
	unsigned n;
	int used = 0;

	switch (body[0]) {
	case 'D':
		if (sscanf(body, "D %16" SCNx64 " %" SCNu64 " %32s%n", &id, &val, hash, &used) !=
			3 ||
		    body[used])
			return -EINVAL;
		journal_drop_upload(j, id);
		return jmap_put(&j->done, id, val);
	case 'P':
		if (sscanf(body, "P %16" SCNx64 " %" SCNu64 "%n", &id, &val, &used) != 2 ||
		    body[used])
			return -EINVAL;
		return jmap_put(&j->parts, id, val);
	case 'U':
		return journal_parse_upload(body, &id, &u, idbuf) ? -EINVAL
								  : journal_put_upload(j, id, &u);
	case 'M':
		return journal_parse_upart(body, &id, &n, &p) ? -EINVAL
							      : journal_put_upart(j, id, n, &p);
	}
	return -EINVAL;
}

/* Parse one complete record line (without '\n'). 0 or -EINVAL. */
static int journal_parse_line(struct mig_journal *j, const char *line)
{
	const char *crc_at = strrchr(line, ' ');
	char body[JOURNAL_LINE_MAX];
	unsigned crc;
	int used = 0;

	if (!crc_at || sscanf(crc_at + 1, "%8x%n", &crc, &used) != 1 || crc_at[1 + used] ||
	    XXH32(line, (size_t)(crc_at - line), 0) != crc ||
	    (size_t)(crc_at - line) >= sizeof(body))
		return -EINVAL;
	memcpy(body, line, (size_t)(crc_at - line));
	body[crc_at - line] = '\0';
	return journal_apply(j, body);
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

/* Refuse an open journal that another user could have planted or can
 * change: not a regular file, a second hard link, or owned by someone who
 * is neither the caller nor root. 0, or -EPERM with the reason in err. */
static int journal_trusted(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "journal %s: %s", path, cli_strerror(errno));
		return -EPERM;
	}
	if (!S_ISREG(st.st_mode))
		snprintf(err, errlen, "journal %s is not a regular file", path);
	else if (st.st_uid != geteuid() && st.st_uid != 0)
		snprintf(err, errlen, "journal %s is owned by uid %u, not by you; refusing it",
			 path, (unsigned)st.st_uid);
	else if (st.st_nlink != 1)
		snprintf(err, errlen, "journal %s has %u hard links; refusing it", path,
			 (unsigned)st.st_nlink);
	else
		return 0;
	return -EPERM;
}

/*
 * Open the journal file: an existing one as it is, else (not resume) a new
 * one created with O_EXCL, mode 0600. The last component is never followed
 * (O_NOFOLLOW: a symlink is refused), and what is opened must pass
 * journal_trusted. The fd (>= 0), or -errno with the reason in err.
 */
static int journal_open_file(const char *path, int resume, char *err, size_t errlen)
{
	const int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	int fd = open(path, flags), rc;

	if (fd < 0 && errno == ENOENT && !resume) {
		fd = open(path, flags | O_CREAT | O_EXCL, 0600);
		if (fd < 0 && errno == EEXIST)
			fd = open(path, flags); /* created meanwhile: use that one */
	}
	rc = fd < 0 ? -errno : 0;
	if (rc == -ELOOP)
		snprintf(err, errlen, "journal %s is a symbolic link; refusing it", path);
	else if (rc != 0)
		snprintf(err, errlen, "journal %s: %s%s", path, cli_strerror(rc),
			 resume && rc == -ENOENT ? " (--resume needs an existing journal)" : "");
	if (rc == 0)
		rc = journal_trusted(fd, path, err, errlen);
	if (rc == 0 && fcntl(fd, F_SETFL, O_APPEND) != 0) { /* blocking again */
		rc = -errno;
		snprintf(err, errlen, "journal %s: %s", path, cli_strerror(rc));
	}
	if (rc != 0 && fd >= 0)
		close(fd);
	return rc == 0 ? fd : rc;
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
	rc = journal_open_file(path, resume, err, errlen);
	if (rc < 0) {
		free(j);
		return rc;
	}
	j->fd = rc;
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

/* Apply body to the in-memory state as a read back would (a record it
 * refuses is not written), then append body + " CRC\n". The state is
 * only read by this run for files not yet begun, so a failed write that
 * leaves it ahead of the file misleads nothing. */
static int journal_append(struct mig_journal *j, const char *body)
{
	char line[JOURNAL_LINE_MAX + 16];
	int len =
	    snprintf(line, sizeof(line), "%s %08x\n", body, (unsigned)XXH32(body, strlen(body), 0));
	int rc;

	pthread_mutex_lock(&j->lock);
	rc = journal_apply(j, body);
	if (rc == 0)
		rc = journal_write(j, line, (size_t)len);
	pthread_mutex_unlock(&j->lock);
	return rc;
}

int mig_journal_add_done(struct mig_journal *j, const char *rel, uint64_t size, const char *hash)
{
	char body[128];

	snprintf(body, sizeof(body), "D %016" PRIx64 " %" PRIu64 " %s", journal_id(rel), size,
		 hash);
	return journal_append(j, body);
}

int mig_journal_add_part(struct mig_journal *j, const char *rel, uint64_t off)
{
	char body[128];

	snprintf(body, sizeof(body), "P %016" PRIx64 " %" PRIu64, journal_id(rel), off);
	return journal_append(j, body);
}

/* A token that fits a journal line: 1..max bytes, no blank or control. */
static int journal_tok_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

int mig_journal_add_upload(struct mig_journal *j, const char *rel, const struct mig_upload *u)
{
	char body[JOURNAL_LINE_MAX];

	if (!journal_tok_ok(u->id, JOURNAL_TOKEN_MAX) || !journal_tok_ok(u->etag, UFS_ETAG_MAX - 1))
		return -EINVAL;
	snprintf(body, sizeof(body), "U %016" PRIx64 " %" PRIu64 " %lld.%09ld %s %s",
		 journal_id(rel), u->size, (long long)u->mtime.tv_sec, (long)u->mtime.tv_nsec,
		 journal_tok(u->etag), journal_tok(u->id));
	return journal_append(j, body);
}

int mig_journal_add_upart(struct mig_journal *j, const char *rel, unsigned n,
			  const struct ufs_upload_part *p)
{
	char body[JOURNAL_LINE_MAX];

	if (!journal_tok_ok(p->etag, UFS_ETAG_MAX - 1))
		return -EINVAL;
	snprintf(body, sizeof(body), "M %016" PRIx64 " %u %" PRIu64 " %s", journal_id(rel), n,
		 p->len, journal_tok(p->etag));
	return journal_append(j, body);
}

int mig_journal_upload(struct mig_journal *j, const char *rel, struct mig_upload *pu)
{
	struct jupload *ju;
	int rc = 0;

	memset(pu, 0, sizeof(*pu));
	pthread_mutex_lock(&j->lock);
	ju = journal_find_upload(j, journal_id(rel), NULL);
	if (ju) {
		*pu = ju->u;
		pu->id = strdup(ju->u.id);
		pu->parts = malloc((ju->u.nparts ? ju->u.nparts : 1) * sizeof(*pu->parts));
		pu->cap = ju->u.nparts;
		rc = pu->id && pu->parts ? 1 : -ENOMEM;
		if (rc != 1)
			mig_upload_fini(pu);
		else if (ju->u.nparts)
			memcpy(pu->parts, ju->u.parts, ju->u.nparts * sizeof(*pu->parts));
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
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
	while (j->uploads)
		journal_drop_upload(j, j->uploads->pathid);
	free(j);
}

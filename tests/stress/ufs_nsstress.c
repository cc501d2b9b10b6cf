/*
 * ufs_nsstress.c — namespace stress test: random create, rename,
 * link, unlink, mkdir, rmdir, symlink, mkfifo, chmod, truncate, utimensat
 * and xattr operations from several processes over one small shared tree,
 * then a check of that tree against the store behind it.
 *
 *   ufs_nsstress -s SEED -n OPS -p PROCS -d DIR [-x] [-c BACKING] [-k] [-v] [-t SECS]
 *                [-a ERRNO,...] [-D FILE]
 *     -s SEED     base seed (decimal or 0x hex); process i runs stream SEED+i
 *     -n OPS      operations per process          -p PROCS  processes (1..16)
 *     -d DIR      the tree, on the filesystem under test; created when
 *                 missing, must be empty unless -k
 *     -x          include xattr operations (user.*); a mount that answers
 *                 ENOTSUP to the probe at start has them skipped
 *     -c BACKING  afterwards compare DIR with BACKING, the same tree seen
 *                 directly in the store (file:// dir, NFS export dir)
 *     -k          no operations: only the comparison (after a remount)
 *     -v          log every operation to stderr     -t SECS  hang limit (600)
 *     -a E1,E2    tolerate these errnos (names, e.g. ESTALE, or OP:ERRNO for
 *                 one operation, e.g. read:EINVAL; SHORT: a read(2) of
 *                 another size than fstat said; STALEATTR: in the check
 *                 right after the run, a file's size or mtime unlike the
 *                 store's): known bugs of the filesystem under test;
 *                 counted and printed.
 *                 A write or truncate cut short by one leaves its file
 *                 "damaged": its content is not checked (mount and store
 *                 must still agree)
 *     -D FILE     where the run lists damaged files (st_ino), the check
 *                 after a remount (-k) reads them
 * Exit status: 0 all well; 1 a failure (printed with the last operations of
 * the process and a replay command); 2 usage or setup error.
 *
 * Design
 * - Names: paths of 1 to 3 components; the inner ones from {a,b,c}, the last
 *   from {a..h}, so about 100 paths that every process hits and every kind of
 *   collision happens (file over dir, dir into its own subtree, ...).
 *   Symlink targets are relative and go down only ("x", "x/y"), so nothing
 *   resolves outside DIR whatever is renamed where.
 * - Determinism: operation k of process i draws all its arguments from its
 *   own generator seeded by (SEED + i, k), never from results, so each
 *   process issues the same operations in every run; with -p 1 the results
 *   are the same too, and a failure replays exactly.
 * - File content: a 50-byte header "NSS s=SEED p=PROC o=OP l=LEN" followed
 *   by bytes that are a function of (SEED, PROC, OP, offset). Any file must
 *   read as a prefix of what one write produced, then zeros (truncate down
 *   and up again). Writers in place hold a lock (a process-shared mutex
 *   chosen by st_ino, so hard links share it) from ftruncate(0) to close;
 *   readers hold it while they read, so content checks hold during the run
 *   (close-to-open). Replacing writers write a private temp name ".tPROC"
 *   and rename it over the target. O_TRUNC at open (no lock yet) only with -p 1.
 * - Errors: each operation has the errnos POSIX gives it when another
 *   process changed the tree first (ENOENT, EEXIST, ENOTEMPTY, ...); any
 *   other errno (EIO, ESTALE, ...), a content mismatch, a crash or a hang is
 *   a failure. EINVAL from rename is allowed only where a directory would go
 *   below itself (checked with realpath when -p 1).
 * - Probes at start: xattr support (-x), renameat2 NOREPLACE/EXCHANGE and
 *   mkfifo; what is unsupported is skipped (said once), never failed.
 * - Check: a parallel walk of DIR and BACKING compares names, types, modes,
 *   owners, sizes, link counts and mtimes (directories too), symlink
 *   targets, contents (byte for byte, and valid as above), user.* xattrs,
 *   and hard link identity (same st_ino through DIR iff same st_ino in
 *   BACKING, and link counts equal to the names found).
 * - Shared memory (one anonymous mapping, made before fork) holds the locks,
 *   per-process operation logs (a ring: the parent prints the tail of a
 *   process that hangs or dies) and per-operation counters.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 16
#define N_LOCKS 64
#define LOG_N 40
#define LOG_W 200
#define PATH_W 64
#define HDR_LEN 50
#define MAX_FILE (256 * 1024 + HDR_LEN)
#define MAX_READ (4 * MAX_FILE)
#define XVAL_MAX 256
#define MAX_DAMAGED 4096
#define RC_BAD (-100000)   /* an operation saw something wrong: p->why */
#define RC_SKIP 1	   /* not run: the mount does not support it (probes) */
#define ERR_SHORT 4095	   /* pseudo-errno: read(2) got another size than fstat (p->why) */
#define ERR_STALEATTR 4094 /* pseudo-errno: live check, a file's size or mtime is stale */

static const char *const NAMES[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
#define N_NAMES 8
#define N_DIRNAMES 3 /* inner path components come from the first ones */
static const char *const XNAMES[] = {"user.n0", "user.n1", "user.n2"};
#define N_XNAMES 3
static const char HDR_TEMPLATE[] = "NSS s=################ p=## o=######## l=########\n";

struct cfg {
	uint64_t seed;
	unsigned nops, nprocs, timeout;
	const char *dir, *backing, *damaged_file, *tolerated_arg;
	bool xattr, check_only, verbose;
	int tolerated[8]; /* -a: errno | (op kind + 1) << 16 (0: any), 0-terminated */
};

struct oplog {
	atomic_uint next;
	char line[LOG_N][LOG_W];
};

enum op_kind {
	OP_WRITE,
	OP_REPLACE,
	OP_RENAME,
	OP_LINK,
	OP_UNLINK,
	OP_MKDIR,
	OP_RMDIR,
	OP_SYMLINK,
	OP_MKFIFO,
	OP_CHMOD,
	OP_TRUNCATE,
	OP_UTIMES,
	OP_SETXATTR,
	OP_RMXATTR,
	OP_GETXATTR,
	OP_STAT,
	OP_READDIR,
	OP_READLINK,
	OP_READ,
	N_OPS
};

struct counts {
	unsigned long done[N_OPS], ok[N_OPS], tolerated;
};

struct shared {
	pthread_mutex_t locks[N_LOCKS];
	bool xattr_ok, noreplace_ok, exchange_ok, fifo_ok;
	struct oplog log[MAX_PROCS];
	struct counts counts[MAX_PROCS];
	atomic_uint n_damaged;
	ino_t damaged[MAX_DAMAGED]; /* files a tolerated error cut a write short */
};

struct rng {
	uint64_t s;
};

/* One process's state while it runs its stream. */
struct proc {
	const struct cfg *cfg;
	struct shared *sh;
	unsigned idx, opno;
	char *line;	  /* its current log line */
	const char *step; /* the call of the operation that failed */
	ino_t ino;	  /* the file the operation writes, once known */
	uint8_t *buf;
	char why[160];
};

/* ---- generators ---------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rng_next(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ull;
	return mix64(r->s);
}

static unsigned rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

/* A path of 1..3 components (40% / 40% / 20%). */
static void gen_path(struct rng *r, char *out)
{
	unsigned roll = rng_below(r, 10), depth = roll < 4 ? 1 : roll < 8 ? 2 : 3;

	out[0] = '\0';
	for (unsigned i = 0; i + 1 < depth; i++) {
		strcat(out, NAMES[rng_below(r, N_DIRNAMES)]);
		strcat(out, "/");
	}
	strcat(out, NAMES[rng_below(r, N_NAMES)]);
}

/* A symlink target that stays inside the tree: "x" or "x/y". */
static void gen_target(struct rng *r, char *out)
{
	strcpy(out, NAMES[rng_below(r, N_NAMES)]);
	if (rng_below(r, 3) == 0) {
		strcat(out, "/");
		strcat(out, NAMES[rng_below(r, N_NAMES)]);
	}
}

static bool valid_target(const char *t)
{
	size_t n = strlen(t);

	return (n == 1 || (n == 3 && t[1] == '/' && t[2] >= 'a' && t[2] < 'a' + N_NAMES)) &&
	       t[0] >= 'a' && t[0] < 'a' + N_NAMES;
}

static uint64_t content_key(uint64_t seed, unsigned proc, unsigned op)
{
	return mix64(seed ^ mix64(((uint64_t)proc << 32) | op));
}

/* The bytes a write of len bytes by (seed, proc, op) puts at [0, len). */
static void gen_content(uint64_t seed, unsigned proc, unsigned op, size_t len, uint8_t *buf)
{
	uint64_t key = content_key(seed, proc, op);
	char hdr[96];

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = mix64(key ^ (i / 8));

		for (size_t j = 0; j < 8 && i + j < len; j++)
			buf[i + j] = (uint8_t)(v >> (8 * j));
	}
	if (len < HDR_LEN)
		return;
	snprintf(hdr, sizeof(hdr), "NSS s=%016" PRIx64 " p=%02x o=%08x l=%08x\n", seed, proc & 0xff,
		 op, (unsigned)len);
	memcpy(buf, hdr, HDR_LEN);
}

/* ---- content check --------------------------------------------------------- */

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Where b[0, n) stops matching the header template (n when it does not). */
static size_t hdr_match(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n && i < HDR_LEN; i++) {
		char t = HDR_TEMPLATE[i];
		bool hex = (b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'f');

		if (t == '#' ? !hex : b[i] != (uint8_t)t)
			return i;
	}
	return n < HDR_LEN ? n : HDR_LEN;
}

/*
 * Whether b[0, n) is a prefix of what one write of this run produced, then
 * zeros. Returns 0, or -1 with the reason in why.
 */
static int content_check(uint64_t seed, const uint8_t *b, size_t n, char *why, size_t whysz)
{
	size_t m = hdr_match(b, n), len;
	unsigned proc, op;
	uint64_t s;
	uint8_t *want;

	if (m < HDR_LEN && m < n) {
		if (all_zero(b + m, n - m))
			return 0;
		snprintf(why, whysz, "header broken at byte %zu of %zu", m, n);
		return -1;
	}
	if (n < HDR_LEN)
		return 0;
	if (sscanf((const char *)b, "NSS s=%" SCNx64 " p=%x o=%x l=%zx", &s, &proc, &op, &len) !=
		4 ||
	    s != seed || len < HDR_LEN || len > MAX_FILE) {
		snprintf(why, whysz, "header %.49s is not from this run (seed %016" PRIx64 ")", b,
			 seed);
		return -1;
	}
	want = malloc(len);
	if (!want) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	gen_content(seed, proc, op, len, want);
	m = 0;
	while (m < n && m < len && b[m] == want[m])
		m++;
	free(want);
	if (m == n || all_zero(b + m, n - m))
		return 0;
	snprintf(why, whysz, "written by p%u op %u (%zu bytes), differs at byte %zu of %zu", proc,
		 op, len, m, n);
	return -1;
}

/* ---- logging --------------------------------------------------------------- */

static const char *errname(int err)
{
	const char *s = err == ERR_SHORT ? "SHORT" : strerrorname_np(err);

	return s ? s : "E?";
}

/* Start the log line of the current operation. */
static void log_op(struct proc *p, const char *fmt, ...)
{
	struct oplog *lg = &p->sh->log[p->idx];
	unsigned k = atomic_fetch_add(&lg->next, 1) % LOG_N;
	int n;
	va_list ap;

	p->line = lg->line[k];
	p->step = NULL;
	p->ino = 0;
	n = snprintf(p->line, LOG_W, "p%u #%u ", p->idx, p->opno);
	va_start(ap, fmt);
	vsnprintf(p->line + n, LOG_W - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Append the result to the current log line. */
static void log_result(struct proc *p, int rc)
{
	size_t n = strlen(p->line);

	if (rc == RC_BAD || rc == -ERR_SHORT)
		snprintf(p->line + n, LOG_W - n, " = %s: %s", rc == RC_BAD ? "BAD" : "SHORT",
			 p->why);
	else if (rc < 0)
		snprintf(p->line + n, LOG_W - n, " = %s%s%s%s", errname(-rc),
			 p->step ? " (in " : "", p->step ? p->step : "", p->step ? ")" : "");
	else
		snprintf(p->line + n, LOG_W - n, rc == RC_SKIP ? " = skipped" : " = ok");
	if (p->cfg->verbose)
		fprintf(stderr, "%s\n", p->line);
}

static void print_tail(const struct shared *sh, unsigned idx)
{
	const struct oplog *lg = &sh->log[idx];
	unsigned next = atomic_load(&lg->next), from = next > LOG_N ? next - LOG_N : 0;

	fprintf(stderr, "--- last operations of process %u ---\n", idx);
	for (unsigned i = from; i < next; i++)
		fprintf(stderr, "  %s\n", lg->line[i % LOG_N]);
}

static void print_replay(const struct cfg *c, unsigned idx)
{
	char opts[160];

	snprintf(opts, sizeof(opts), "%s%s%s", c->xattr ? " -x" : "",
		 c->tolerated_arg ? " -a " : "", c->tolerated_arg ? c->tolerated_arg : "");
	fprintf(stderr, "replay: ufs_nsstress -s 0x%" PRIx64 " -n %u -p %u%s -d <fresh dir>\n",
		c->seed, c->nops, c->nprocs, opts);
	if (c->nprocs > 1)
		fprintf(stderr,
			"        (races differ from run to run; process %u's stream alone: "
			"ufs_nsstress -s 0x%" PRIx64 " -n %u -p 1%s -d <fresh dir>)\n",
			idx, c->seed + idx, c->nops, opts);
}

/* ---- helpers used by operations -------------------------------------------- */

static int neg_errno(int rc)
{
	return rc < 0 ? -errno : rc;
}

/* -errno of a failed call, naming the call in the log (for operations that
 * make several). */
static int step_err(struct proc *p, const char *step)
{
	p->step = step;
	return -errno;
}

static pthread_mutex_t *lock_of(struct proc *p, ino_t ino)
{
	pthread_mutex_t *m = &p->sh->locks[mix64(ino) % N_LOCKS];
	int rc = pthread_mutex_lock(m);

	if (rc == EOWNERDEAD)
		pthread_mutex_consistent(m);
	return m;
}

/* Whether fd is a regular file; fills st. A FIFO or a directory opened by a
 * racing name change is not an error, just nothing to do. */
static int fd_regular(struct proc *p, int fd, struct stat *st)
{
	if (fstat(fd, st) < 0)
		return step_err(p, "fstat");
	return S_ISREG(st->st_mode) ? 1 : 0;
}

static int pwrite_full(struct proc *p, int fd, const uint8_t *b, size_t n, off_t off)
{
	while (n) {
		ssize_t k = pwrite(fd, b, n, off);

		if (k <= 0) {
			errno = k < 0 ? errno : EIO;
			return step_err(p, "pwrite");
		}
		b += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

static int write_all(struct proc *p, int fd, const uint8_t *b, size_t n, struct rng *r)
{
	size_t cut = n > 1 ? 1 + rng_below(r, (unsigned)n - 1) : n;
	int rc = 0;

	/* two pwrites, the second part first: out of order on purpose */
	if (rng_below(r, 2) && cut < n) {
		rc = pwrite_full(p, fd, b + cut, n - cut, (off_t)cut);
		n = cut;
	}
	return rc < 0 ? rc : pwrite_full(p, fd, b, n, 0);
}

/* close(fd); rc, or close's error when rc is 0. */
static int close_rc(struct proc *p, int fd, int rc)
{
	if (close(fd) < 0 && rc == 0)
		return step_err(p, "close");
	return rc;
}

static size_t gen_len(struct rng *r)
{
	unsigned roll = rng_below(r, 50);

	if (roll < 5)
		return 0;
	if (roll == 49)
		return HDR_LEN + rng_below(r, MAX_FILE - HDR_LEN + 1);
	return HDR_LEN + rng_below(r, 12000);
}

/* ---- operations ------------------------------------------------------------ */

/* Write a whole new content in place, under the file's lock. */
static int op_write(struct proc *p, struct rng *r)
{
	char path[PATH_W];
	size_t len = gen_len(r);
	bool trunc = p->cfg->nprocs == 1 && rng_below(r, 2);
	struct stat st;
	pthread_mutex_t *m;
	int fd, rc;

	gen_path(r, path);
	log_op(p, "write %s len %zu%s", path, len, trunc ? " O_TRUNC" : "");
	gen_content(p->cfg->seed, p->idx, p->opno, len, p->buf);
	fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | (trunc ? O_TRUNC : 0), 0644);
	if (fd < 0)
		return step_err(p, "open");
	rc = fd_regular(p, fd, &st);
	if (rc <= 0)
		return close_rc(p, fd, rc);
	p->ino = st.st_ino;
	m = lock_of(p, st.st_ino);
	rc = ftruncate(fd, 0) < 0 ? step_err(p, "ftruncate") : write_all(p, fd, p->buf, len, r);
	rc = close_rc(p, fd, rc);
	pthread_mutex_unlock(m);
	return rc;
}

static void parent_of(const char *path, char *out)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	memcpy(out, path, n);
	strcpy(out + n, n ? "/" : "");
}

/* Write a private temp name in the target's directory, rename it over. */
static int op_replace(struct proc *p, struct rng *r)
{
	char path[PATH_W], tmp[PATH_W + 8];
	size_t len = gen_len(r);
	struct stat st;
	int fd, rc;

	gen_path(r, path);
	parent_of(path, tmp);
	sprintf(tmp + strlen(tmp), ".t%u", p->idx);
	log_op(p, "replace %s len %zu via %s", path, len, tmp);
	gen_content(p->cfg->seed, p->idx, p->opno, len, p->buf);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0644);
	if (fd < 0)
		return step_err(p, "open");
	if (fstat(fd, &st) == 0)
		p->ino = st.st_ino;
	rc = close_rc(p, fd, write_all(p, fd, p->buf, len, r));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = step_err(p, "rename");
	if (rc < 0 && unlink(tmp) < 0 && errno != ENOENT && errno != ENOTDIR)
		return step_err(p, "unlink");
	return rc;
}

/* path with its parent resolved (the last component is not followed, as
 * rename does not follow it). */
static bool resolve_parent(const char *path, char *out)
{
	char dir[PATH_W + 2], *real;

	parent_of(path, dir);
	real = realpath(dir[0] ? dir : ".", NULL);
	if (!real)
		return false;
	snprintf(out, PATH_MAX, "%s/%s", real, strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	free(real);
	return true;
}

static bool is_below(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && b[n] == '/';
}

/* EINVAL from rename: only for a directory moved below itself (or, for an
 * exchange, the other way round). With several processes the tree may have
 * changed since; then it is accepted. */
static int rename_einval(struct proc *p, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (p->cfg->nprocs > 1)
		return -EINVAL;
	if (resolve_parent(from, a) && resolve_parent(to, b) && (is_below(a, b) || is_below(b, a)))
		return -EINVAL;
	snprintf(p->why, sizeof(p->why), "EINVAL, but neither path is below the other");
	return RC_BAD;
}

static int op_rename(struct proc *p, struct rng *r)
{
	char from[PATH_W], to[PATH_W];
	unsigned roll = rng_below(r, 20), flags = 0;
	const char *fl = "";
	int rc;

	gen_path(r, from);
	gen_path(r, to);
	if (roll < 3) {
		flags = RENAME_NOREPLACE;
		fl = " NOREPLACE";
	} else if (roll < 6) {
		flags = RENAME_EXCHANGE;
		fl = " EXCHANGE";
	}
	log_op(p, "rename %s -> %s%s", from, to, fl);
	if ((flags == RENAME_NOREPLACE && !p->sh->noreplace_ok) ||
	    (flags == RENAME_EXCHANGE && !p->sh->exchange_ok))
		return RC_SKIP;
	rc = neg_errno(flags ? renameat2(AT_FDCWD, from, AT_FDCWD, to, flags) : rename(from, to));
	return rc == -EINVAL ? rename_einval(p, from, to) : rc;
}

static int op_link(struct proc *p, struct rng *r)
{
	char from[PATH_W], to[PATH_W];
	int follow = rng_below(r, 4) == 0 ? AT_SYMLINK_FOLLOW : 0;

	gen_path(r, from);
	gen_path(r, to);
	log_op(p, "link %s -> %s%s", from, to, follow ? " FOLLOW" : "");
	return neg_errno(linkat(AT_FDCWD, from, AT_FDCWD, to, follow));
}

static int op_unlink(struct proc *p, struct rng *r)
{
	char path[PATH_W];

	gen_path(r, path);
	log_op(p, "unlink %s", path);
	return neg_errno(unlink(path));
}

static int op_mkdir(struct proc *p, struct rng *r)
{
	char path[PATH_W];

	gen_path(r, path);
	log_op(p, "mkdir %s", path);
	return neg_errno(mkdir(path, 0755));
}

static int op_rmdir(struct proc *p, struct rng *r)
{
	char path[PATH_W];

	gen_path(r, path);
	log_op(p, "rmdir %s", path);
	return neg_errno(rmdir(path));
}

static int op_symlink(struct proc *p, struct rng *r)
{
	char path[PATH_W], target[PATH_W];

	gen_path(r, path);
	gen_target(r, target);
	log_op(p, "symlink %s -> %s", path, target);
	return neg_errno(symlink(target, path));
}

static int op_mkfifo(struct proc *p, struct rng *r)
{
	char path[PATH_W];

	gen_path(r, path);
	log_op(p, "mkfifo %s", path);
	if (!p->sh->fifo_ok)
		return RC_SKIP;
	return neg_errno(mkfifo(path, 0644));
}

static int op_chmod(struct proc *p, struct rng *r)
{
	static const mode_t modes[] = {0755, 0700, 0750, 0644, 0600, 0640, 0711, 0444, 0555};
	char path[PATH_W];
	mode_t mode = modes[rng_below(r, sizeof(modes) / sizeof(modes[0]))];

	gen_path(r, path);
	log_op(p, "chmod %s %04o", path, (unsigned)mode);
	return neg_errno(chmod(path, mode));
}

/* Truncate under the file's lock; with -p 1 also by path (setattr without
 * a file handle). */
static int op_truncate(struct proc *p, struct rng *r)
{
	char path[PATH_W];
	off_t size = (off_t)rng_below(r, 16000);
	bool by_path = p->cfg->nprocs == 1 && rng_below(r, 2);
	struct stat st;
	pthread_mutex_t *m;
	int fd, rc;

	gen_path(r, path);
	log_op(p, "truncate %s %lld%s", path, (long long)size, by_path ? " by path" : "");
	if (by_path)
		return neg_errno(truncate(path, size));
	fd = open(path, O_WRONLY | O_NONBLOCK);
	if (fd < 0)
		return step_err(p, "open");
	rc = fd_regular(p, fd, &st);
	if (rc <= 0)
		return close_rc(p, fd, rc);
	p->ino = st.st_ino;
	m = lock_of(p, st.st_ino);
	rc = ftruncate(fd, size) < 0 ? step_err(p, "ftruncate") : 0;
	rc = close_rc(p, fd, rc);
	pthread_mutex_unlock(m);
	return rc;
}

static void gen_time(struct rng *r, struct timespec *t)
{
	unsigned roll = rng_below(r, 6);

	t->tv_sec = 1000000000 + (time_t)rng_below(r, 100000000);
	t->tv_nsec = roll == 0	 ? UTIME_NOW
		     : roll == 1 ? UTIME_OMIT
				 : (long)rng_below(r, 1000000000);
}

static int op_utimes(struct proc *p, struct rng *r)
{
	char path[PATH_W];
	struct timespec ts[2];
	int flags = rng_below(r, 4) == 0 ? AT_SYMLINK_NOFOLLOW : 0;

	gen_path(r, path);
	gen_time(r, &ts[0]);
	gen_time(r, &ts[1]);
	log_op(p, "utimens %s %lld.%09ld %lld.%09ld%s", path, (long long)ts[0].tv_sec,
	       ts[0].tv_nsec, (long long)ts[1].tv_sec, ts[1].tv_nsec, flags ? " NOFOLLOW" : "");
	return neg_errno(utimensat(AT_FDCWD, path, ts, flags));
}

/* An xattr value: "vPROC.OP" then filler up to len bytes. */
static size_t gen_xvalue(struct proc *p, struct rng *r, char *v)
{
	size_t len = 8 + rng_below(r, XVAL_MAX - 8);
	int n = snprintf(v, XVAL_MAX, "v%u.%u:", p->idx, p->opno);

	for (size_t i = (size_t)n; i < len; i++)
		v[i] = (char)('A' + (p->opno + i) % 26);
	return len;
}

static bool valid_xvalue(const char *v, ssize_t n)
{
	unsigned proc, op;
	int used = 0;

	return n >= 8 && n <= XVAL_MAX && sscanf(v, "v%u.%u:%n", &proc, &op, &used) == 2 &&
	       used > 0;
}

static int op_setxattr(struct proc *p, struct rng *r)
{
	static const int flagset[] = {0, 0, 0, 0, XATTR_CREATE, XATTR_REPLACE};
	char path[PATH_W], v[XVAL_MAX];
	const char *name = XNAMES[rng_below(r, N_XNAMES)];
	int flags = flagset[rng_below(r, 6)];
	bool nofollow = rng_below(r, 4) == 0;
	size_t len;

	gen_path(r, path);
	len = gen_xvalue(p, r, v);
	log_op(p, "%ssetxattr %s %s len %zu flags %d", nofollow ? "l" : "", path, name, len, flags);
	if (!p->sh->xattr_ok)
		return RC_SKIP;
	return neg_errno(nofollow ? lsetxattr(path, name, v, len, flags)
				  : setxattr(path, name, v, len, flags));
}

static int op_rmxattr(struct proc *p, struct rng *r)
{
	char path[PATH_W];
	const char *name = XNAMES[rng_below(r, N_XNAMES)];

	gen_path(r, path);
	log_op(p, "removexattr %s %s", path, name);
	if (!p->sh->xattr_ok)
		return RC_SKIP;
	return neg_errno(removexattr(path, name));
}

static int op_getxattr(struct proc *p, struct rng *r)
{
	char path[PATH_W], v[XVAL_MAX + 1];
	const char *name = XNAMES[rng_below(r, N_XNAMES)];
	ssize_t n;

	gen_path(r, path);
	log_op(p, "getxattr %s %s", path, name);
	if (!p->sh->xattr_ok)
		return RC_SKIP;
	n = getxattr(path, name, v, XVAL_MAX);
	if (n < 0)
		return -errno;
	v[n] = '\0';
	if (valid_xvalue(v, n))
		return 0;
	snprintf(p->why, sizeof(p->why), "value '%.40s' (%zd bytes) was never set", v, n);
	return RC_BAD;
}

static int op_stat(struct proc *p, struct rng *r)
{
	char path[PATH_W];
	bool follow = rng_below(r, 2);
	struct stat st;
	int rc;

	gen_path(r, path);
	log_op(p, "%s %s", follow ? "stat" : "lstat", path);
	rc = neg_errno(follow ? stat(path, &st) : lstat(path, &st));
	if (rc < 0)
		return rc;
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode) ||
	    S_ISFIFO(st.st_mode)) {
		if (st.st_nlink > 0)
			return 0;
	}
	snprintf(p->why, sizeof(p->why), "mode %o, %lu links", (unsigned)st.st_mode,
		 (unsigned long)st.st_nlink);
	return RC_BAD;
}

/* A name the tree may hold: one of NAMES or a temp name ".tN". */
static bool valid_name(const char *n)
{
	unsigned k;
	int used = 0;

	for (unsigned i = 0; i < N_NAMES; i++)
		if (strcmp(n, NAMES[i]) == 0)
			return true;
	return sscanf(n, ".t%u%n", &k, &used) == 1 && n[used] == '\0' && k < MAX_PROCS;
}

static unsigned name_slot(const char *n)
{
	return n[0] == '.' ? N_NAMES + (unsigned)atoi(n + 2) : (unsigned)(n[0] - 'a');
}

/* List a directory: every name valid, none twice. */
static int op_readdir(struct proc *p, struct rng *r)
{
	char path[PATH_W], seen[N_NAMES + MAX_PROCS] = {0};
	struct dirent *de;
	DIR *d;

	if (rng_below(r, 4) == 0)
		strcpy(path, ".");
	else
		gen_path(r, path);
	log_op(p, "readdir %s", path);
	d = opendir(path);
	if (!d)
		return -errno;
	errno = 0;
	while ((de = readdir(d))) {
		const char *n = de->d_name;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (!valid_name(n) || seen[name_slot(n)]++) {
			snprintf(p->why, sizeof(p->why), "name '%.40s' %s", n,
				 valid_name(n) ? "listed twice" : "never created");
			closedir(d);
			return RC_BAD;
		}
	}
	if (errno) {
		int err = errno;

		closedir(d);
		return -err;
	}
	closedir(d);
	return 0;
}

static int op_readlink(struct proc *p, struct rng *r)
{
	char path[PATH_W], t[PATH_W];
	ssize_t n;

	gen_path(r, path);
	log_op(p, "readlink %s", path);
	n = readlink(path, t, sizeof(t) - 1);
	if (n < 0)
		return -errno;
	t[n] = '\0';
	if (valid_target(t))
		return 0;
	snprintf(p->why, sizeof(p->why), "target '%s' was never written", t);
	return RC_BAD;
}

/* Open path again once its lock is held (close-to-open: the open must
 * follow the last writer's close): 1 with *pfd, 0 when the name now is
 * another file, or -errno. */
static int reopen_same(struct proc *p, const char *path, const struct stat *was, struct stat *st,
		       int *pfd)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), rc;

	if (fd < 0)
		return step_err(p, "open again");
	rc = fd_regular(p, fd, st);
	if (rc <= 0 || st->st_ino != was->st_ino) {
		close(fd);
		return rc < 0 ? rc : 0;
	}
	*pfd = fd;
	return 1;
}

static int read_fd(int fd, uint8_t *buf, size_t *pgot)
{
	ssize_t n;

	*pgot = 0;
	while ((n = read(fd, buf + *pgot, MAX_READ - *pgot)) > 0)
		*pgot += (size_t)n;
	return n < 0 ? -errno : 0;
}

/* Whether a tolerated error cut a write to this file short (-a). */
static bool is_damaged(const struct shared *sh, ino_t ino)
{
	unsigned n = atomic_load(&sh->n_damaged);

	for (unsigned i = 0; i < n && i < MAX_DAMAGED; i++)
		if (sh->damaged[i] == ino)
			return true;
	return false;
}

/* Read a file whole under its lock: its content must be valid, its size
 * what fstat said. */
static int op_read(struct proc *p, struct rng *r)
{
	char path[PATH_W];
	struct stat was, st;
	pthread_mutex_t *m;
	size_t got = 0;
	int fd, rc;

	gen_path(r, path);
	log_op(p, "read %s", path);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return step_err(p, "open");
	rc = close_rc(p, fd, fd_regular(p, fd, &was));
	if (rc <= 0)
		return rc;
	m = lock_of(p, was.st_ino);
	rc = reopen_same(p, path, &was, &st, &fd);
	if (rc > 0) {
		rc = read_fd(fd, p->buf, &got);
		p->step = rc < 0 ? "read" : NULL;
		rc = close_rc(p, fd, rc);
	} else if (rc == 0) {
		rc = RC_SKIP; /* raced: the name is another file now */
	}
	pthread_mutex_unlock(m);
	if (rc < 0 || rc == RC_SKIP)
		return rc == RC_SKIP ? 0 : rc;
	if ((off_t)got != st.st_size) {
		snprintf(p->why, sizeof(p->why), "read %zu bytes, fstat says %lld", got,
			 (long long)st.st_size);
		return -ERR_SHORT;
	}
	if (!is_damaged(p->sh, st.st_ino) &&
	    content_check(p->cfg->seed, p->buf, got, p->why, sizeof(p->why)) < 0)
		return RC_BAD;
	return 0;
}

/* ---- the operation table ------------------------------------------------- */

/* errnos every operation may see: a name changed by another process */
#define ERR_COMMON ENOENT, ENOTDIR, ELOOP

struct op_def {
	const char *name;
	unsigned weight;
	bool xattr;
	int (*fn)(struct proc *p, struct rng *r);
	int allowed[8]; /* besides ERR_COMMON; 0-terminated */
};

static const struct op_def OPS[N_OPS] = {
    [OP_WRITE] = {"write", 12, false, op_write, {EISDIR, ENXIO}},
    [OP_REPLACE] = {"replace", 6, false, op_replace, {EISDIR}},
    [OP_RENAME] = {"rename", 12, false, op_rename, {EEXIST, ENOTEMPTY, EISDIR, EINVAL}},
    [OP_LINK] = {"link", 6, false, op_link, {EEXIST, EPERM}},
    [OP_UNLINK] = {"unlink", 7, false, op_unlink, {EISDIR}},
    [OP_MKDIR] = {"mkdir", 9, false, op_mkdir, {EEXIST}},
    [OP_RMDIR] = {"rmdir", 5, false, op_rmdir, {ENOTEMPTY, EEXIST}},
    [OP_SYMLINK] = {"symlink", 4, false, op_symlink, {EEXIST}},
    [OP_MKFIFO] = {"mkfifo", 1, false, op_mkfifo, {EEXIST}},
    [OP_CHMOD] = {"chmod", 4, false, op_chmod, {0}},
    [OP_TRUNCATE] = {"truncate", 4, false, op_truncate, {EISDIR, ENXIO, EINVAL}},
    [OP_UTIMES] = {"utimens", 3, false, op_utimes, {0}},
    [OP_SETXATTR] = {"setxattr", 4, true, op_setxattr, {EEXIST, ENODATA, EPERM}},
    [OP_RMXATTR] = {"removexattr", 2, true, op_rmxattr, {ENODATA, EPERM}},
    [OP_GETXATTR] = {"getxattr", 2, true, op_getxattr, {ENODATA, EPERM}},
    [OP_STAT] = {"stat", 4, false, op_stat, {0}},
    [OP_READDIR] = {"readdir", 4, false, op_readdir, {0}},
    [OP_READLINK] = {"readlink", 2, false, op_readlink, {EINVAL}},
    [OP_READ] = {"read", 6, false, op_read, {0}},
};

static bool err_allowed(const struct op_def *d, int err)
{
	static const int common[] = {ERR_COMMON};

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (err == common[i])
			return true;
	for (size_t i = 0; i < 8 && d->allowed[i]; i++)
		if (err == d->allowed[i])
			return true;
	return false;
}

static void note_damaged(struct shared *sh, ino_t ino)
{
	unsigned k = ino ? atomic_fetch_add(&sh->n_damaged, 1) : MAX_DAMAGED;

	if (k < MAX_DAMAGED)
		sh->damaged[k] = ino;
}

static bool err_tolerated(const struct cfg *c, enum op_kind k, int err)
{
	for (size_t i = 0; i < 8 && c->tolerated[i]; i++) {
		int op = c->tolerated[i] >> 16;

		if (err == (c->tolerated[i] & 0xffff) && (op == 0 || op == (int)k + 1))
			return true;
	}
	return false;
}

static enum op_kind pick_op(const struct cfg *c, struct rng *r)
{
	unsigned total = 0, roll;

	for (int k = 0; k < N_OPS; k++)
		total += (!OPS[k].xattr || c->xattr) ? OPS[k].weight : 0;
	roll = rng_below(r, total);
	for (int k = 0; k < N_OPS; k++) {
		unsigned w = (!OPS[k].xattr || c->xattr) ? OPS[k].weight : 0;

		if (roll < w)
			return (enum op_kind)k;
		roll -= w;
	}
	return OP_STAT;
}

/* ---- processes ------------------------------------------------------------- */

static void fail_op(struct proc *p, const struct op_def *d, int rc)
{
	fprintf(stderr, "FAIL: process %u op #%u (%s): %s\n", p->idx, p->opno, d->name,
		rc == RC_BAD || rc == -ERR_SHORT ? p->why : errname(-rc));
	print_tail(p->sh, p->idx);
	print_replay(p->cfg, p->idx);
}

/* Run process idx's stream; the exit status of the child. */
static int proc_run(const struct cfg *c, struct shared *sh, unsigned idx)
{
	struct proc p = {.cfg = c, .sh = sh, .idx = idx};
	uint64_t stream = c->seed + idx;

	p.buf = malloc(MAX_READ);
	if (!p.buf) {
		perror("ufs_nsstress: malloc");
		return 2;
	}
	for (p.opno = 0; p.opno < c->nops; p.opno++) {
		struct rng r = {mix64(stream) ^ mix64(~(uint64_t)p.opno)};
		enum op_kind k = pick_op(c, &r);
		int rc = OPS[k].fn(&p, &r);

		log_result(&p, rc);
		sh->counts[idx].done[k] += rc != RC_SKIP;
		sh->counts[idx].ok[k] += rc == 0;
		if (rc < 0 && rc != RC_BAD && !err_allowed(&OPS[k], -rc) &&
		    err_tolerated(c, k, -rc)) {
			if (sh->counts[idx].tolerated++ < 10)
				fprintf(stderr, "tolerated: %s\n", p.line);
			note_damaged(sh, p.ino);
			continue;
		}
		if (rc < 0 && (rc == RC_BAD || !err_allowed(&OPS[k], -rc))) {
			fail_op(&p, &OPS[k], rc);
			return 1;
		}
	}
	free(p.buf);
	return 0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A child ended with status st: 1 if it failed (a crash is printed here;
 * an operation that failed was printed by the child). */
static int reaped(const struct cfg *c, const struct shared *sh, unsigned i, int st)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "FAIL: process %u died of signal %d\n", i, WTERMSIG(st));
		print_tail(sh, i);
		print_replay(c, i);
	}
	return 1;
}

/* Children still running at the time limit hang: print where each one is,
 * kill it. Returns how many. */
static unsigned kill_hung(const struct cfg *c, const struct shared *sh, const pid_t *pids)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->nprocs; i++) {
		if (!pids[i])
			continue;
		fprintf(stderr, "FAIL: process %u hangs (over %u s)\n", i, c->timeout);
		print_tail(sh, i);
		print_replay(c, i);
		kill(pids[i], SIGKILL);
		n++;
	}
	return n;
}

/* Wait for all children, at most the time limit. Returns the failures. */
static int wait_procs(const struct cfg *c, struct shared *sh, pid_t *pids)
{
	double end = now_s() + c->timeout;
	unsigned left = c->nprocs, failed = 0;

	while (left) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		for (unsigned i = 0; pid > 0 && i < c->nprocs; i++) {
			if (pids[i] == pid) {
				pids[i] = 0;
				left--;
				failed += (unsigned)reaped(c, sh, i, st);
			}
		}
		if (pid > 0)
			continue;
		if (now_s() > end)
			return (int)(failed + kill_hung(c, sh, pids));
		usleep(20000);
	}
	return (int)failed;
}

static void print_counts(const struct cfg *c, const struct shared *sh)
{
	unsigned long tolerated = 0;

	for (unsigned i = 0; i < c->nprocs; i++)
		tolerated += sh->counts[i].tolerated;
	if (tolerated)
		fprintf(stderr, "tolerated (-a, known bugs): %lu operations\n", tolerated);
	fprintf(stderr, "ops (done/ok):");
	for (int k = 0; k < N_OPS; k++) {
		unsigned long done = 0, ok = 0;

		for (unsigned i = 0; i < c->nprocs; i++) {
			done += sh->counts[i].done[k];
			ok += sh->counts[i].ok[k];
		}
		if (done)
			fprintf(stderr, " %s %lu/%lu", OPS[k].name, done, ok);
	}
	fprintf(stderr, "\n");
}

/* ---- probes ------------------------------------------------------------------ */

static void probe_xattr(struct shared *sh)
{
	int rc = setxattr(".", "user.nsstress.probe", "1", 1, 0);

	sh->xattr_ok = rc == 0;
	if (rc == 0)
		removexattr(".", "user.nsstress.probe");
	else
		fprintf(stderr, "ufs_nsstress: xattrs: %s, xattr operations skipped\n",
			errname(errno));
}

/* Whether FIFOs can be made here (mknod(2): EPERM where the filesystem
 * does not support the type). */
static bool probe_fifo(void)
{
	int rc = mkfifo(".probe.f", 0644), err = errno;

	if (rc == 0)
		unlink(".probe.f");
	else
		fprintf(stderr, "ufs_nsstress: mkfifo: %s, skipped\n", errname(err));
	return rc == 0;
}

/* Whether renameat2 with flags works here (EINVAL/ENOTSUP: unsupported). */
static bool probe_rename2(unsigned flags, const char *what)
{
	int fa = open(".probe.a", O_CREAT | O_WRONLY, 0644);
	int fb = open(".probe.b", O_CREAT | O_WRONLY, 0644);
	int rc = renameat2(AT_FDCWD, ".probe.a", AT_FDCWD, ".probe.b", flags);
	int err = errno;
	bool ok = (flags == RENAME_NOREPLACE && rc < 0 && err == EEXIST) ||
		  (flags == RENAME_EXCHANGE && rc == 0);

	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	unlink(".probe.a");
	unlink(".probe.b");
	if (!ok)
		fprintf(stderr, "ufs_nsstress: renameat2 %s: %s, skipped\n", what,
			rc == 0 ? "replaced the target" : errname(err));
	return ok;
}

/* ---- the check: DIR against BACKING ----------------------------------------------- */

struct ident {
	ino_t mino, bino;
	nlink_t nlink;
	char *rel;
};

struct check {
	const struct cfg *cfg;
	const struct shared *sh; /* the damaged files */
	unsigned bad;
	struct ident *ids;
	size_t n_ids, cap_ids;
};

static void mismatch(struct check *ck, const char *rel, const char *fmt, ...)
{
	va_list ap;

	if (ck->bad++ >= 40)
		return;
	fprintf(stderr, "MISMATCH %s: ", rel[0] ? rel : ".");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in dir (without . and ..); NULL-terminated, or NULL. */
static char **list_names(const char *dir, size_t *pn)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char **nv;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (!v)
		v = calloc(1, sizeof(*v));
	if (v) {
		v[n] = NULL;
		qsort(v, n, sizeof(*v), name_cmp);
	}
	*pn = n;
	return v;
}

static void free_names(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int read_file(const char *path, uint8_t *buf, size_t *pn)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), rc;

	if (fd < 0)
		return -errno;
	rc = read_fd(fd, buf, pn);
	close(fd);
	return rc;
}

static void check_content(struct check *ck, const char *rel, const char *m, const char *b,
			  ino_t ino)
{
	uint8_t *mb = malloc(MAX_READ), *bb = malloc(MAX_READ);
	size_t mn = 0, bn = 0;
	char why[160];
	int rc;

	if (!mb || !bb) {
		mismatch(ck, rel, "out of memory");
	} else if ((rc = read_file(m, mb, &mn)) < 0 || (rc = read_file(b, bb, &bn)) < 0) {
		mismatch(ck, rel, "read: %s", errname(-rc));
	} else if (mn < bn && memcmp(mb, bb, mn) == 0 && !ck->cfg->check_only &&
		   err_tolerated(ck->cfg, N_OPS, ERR_STALEATTR)) {
		/* -a STALEATTR, live check only: the kernel's size of this name
		 * is stale (the known bug), so the read stopped short */
		fprintf(
		    stderr,
		    "tolerated (STALEATTR): %s: %zu bytes through the mount, %zu in the store\n",
		    rel, mn, bn);
	} else if (mn != bn || memcmp(mb, bb, mn) != 0) {
		mismatch(ck, rel, "content differs (%zu bytes through the mount, %zu in the store)",
			 mn, bn);
	} else if (!is_damaged(ck->sh, ino) &&
		   content_check(ck->cfg->seed, mb, mn, why, sizeof(why)) < 0) {
		mismatch(ck, rel, "content: %s", why);
	}
	free(mb);
	free(bb);
}

static void check_symlink(struct check *ck, const char *rel, const char *m, const char *b)
{
	char mt[PATH_MAX], bt[PATH_MAX];
	ssize_t mn = readlink(m, mt, sizeof(mt) - 1), bn = readlink(b, bt, sizeof(bt) - 1);

	if (mn < 0 || bn < 0) {
		mismatch(ck, rel, "readlink: %s", errname(errno));
		return;
	}
	mt[mn] = bt[bn] = '\0';
	if (strcmp(mt, bt) != 0)
		mismatch(ck, rel, "symlink target: mount '%s', store '%s'", mt, bt);
	else if (!valid_target(mt))
		mismatch(ck, rel, "symlink target '%s' was never written", mt);
}

/* The user.* xattrs of path as "name=value\n" lines, sorted by name. */
static char *xattr_dump(const char *path)
{
	char list[4096], *names[64], val[XVAL_MAX + 1], *out;
	ssize_t n = llistxattr(path, list, sizeof(list));
	size_t k = 0, len = 0;

	if (n < 0)
		n = 0; /* ENOTSUP: none */
	for (char *s = list; s < list + n && k < 64; s += strlen(s) + 1)
		if (strncmp(s, "user.", 5) == 0)
			names[k++] = s;
	qsort(names, k, sizeof(names[0]), name_cmp);
	out = calloc(1, k * (XVAL_MAX + 80) + 1);
	for (size_t i = 0; out && i < k; i++) {
		ssize_t vn = lgetxattr(path, names[i], val, XVAL_MAX);

		val[vn < 0 ? 0 : vn] = '\0';
		len += (size_t)sprintf(out + len, "%s=%s\n", names[i], vn < 0 ? "?" : val);
	}
	return out;
}

static void check_xattrs(struct check *ck, const char *rel, const char *m, const char *b)
{
	char *mx = xattr_dump(m), *bx = xattr_dump(b);

	if (!mx || !bx)
		mismatch(ck, rel, "out of memory");
	else if (strcmp(mx, bx) != 0)
		mismatch(ck, rel, "xattrs: mount {%s}, store {%s}", mx, bx);
	free(mx);
	free(bx);
}

static void note_ident(struct check *ck, const char *rel, const struct stat *ms,
		       const struct stat *bs)
{
	struct ident *id;

	if (ck->n_ids == ck->cap_ids) {
		size_t cap = ck->cap_ids ? 2 * ck->cap_ids : 64;
		struct ident *v = realloc(ck->ids, cap * sizeof(*v));

		if (!v) {
			mismatch(ck, rel, "out of memory");
			return;
		}
		ck->ids = v;
		ck->cap_ids = cap;
	}
	id = &ck->ids[ck->n_ids++];
	*id = (struct ident){ms->st_ino, bs->st_ino, bs->st_nlink, strdup(rel)};
}

#define CMP_FIELD(field, fmt, cast)                                                                \
	do {                                                                                       \
		if (ms.field != bs.field)                                                          \
			mismatch(ck, rel, #field ": mount " fmt ", store " fmt, (cast)ms.field,    \
				 (cast)bs.field);                                                  \
	} while (0)

static void check_dir(struct check *ck, const char *rel);

/* -a STALEATTR, through the live mount only (a remounted check is exact):
 * a file's size or mtime unlike the store's is a known bug, printed, not
 * failed. */
static bool stale_tolerated(struct check *ck, const char *rel, const struct stat *ms,
			    const struct stat *bs)
{
	if (ck->cfg->check_only || !err_tolerated(ck->cfg, N_OPS, ERR_STALEATTR) ||
	    (ms->st_size == bs->st_size && ms->st_mtim.tv_sec == bs->st_mtim.tv_sec &&
	     ms->st_mtim.tv_nsec == bs->st_mtim.tv_nsec))
		return false;
	fprintf(stderr,
		"tolerated (STALEATTR): %s: size %lld mtime %lld.%09ld, store %lld %lld.%09ld\n",
		rel, (long long)ms->st_size, (long long)ms->st_mtim.tv_sec, ms->st_mtim.tv_nsec,
		(long long)bs->st_size, (long long)bs->st_mtim.tv_sec, bs->st_mtim.tv_nsec);
	return true;
}

/* rel's path through the mount (m) and in the store (b), PATH_MAX each. */
static int check_paths(struct check *ck, const char *rel, char *m, char *b)
{
	if (snprintf(m, PATH_MAX, "%s/%s", ck->cfg->dir, rel) >= PATH_MAX ||
	    snprintf(b, PATH_MAX, "%s/%s", ck->cfg->backing, rel) >= PATH_MAX) {
		mismatch(ck, rel, "path too long");
		return -1;
	}
	return 0;
}

/* Compare one name: its attributes, then what its type holds. */
static void check_entry(struct check *ck, const char *rel)
{
	char m[PATH_MAX], b[PATH_MAX];
	struct stat ms, bs;

	if (check_paths(ck, rel, m, b) < 0)
		return;
	if (lstat(m, &ms) < 0 || lstat(b, &bs) < 0) {
		mismatch(ck, rel, "lstat: %s", errname(errno));
		return;
	}
	if ((ms.st_mode & S_IFMT) != (bs.st_mode & S_IFMT)) {
		mismatch(ck, rel, "type: mount %o, store %o", ms.st_mode & S_IFMT,
			 bs.st_mode & S_IFMT);
		return;
	}
	CMP_FIELD(st_mode, "%o", unsigned);
	CMP_FIELD(st_uid, "%u", unsigned);
	CMP_FIELD(st_gid, "%u", unsigned);
	if (S_ISREG(ms.st_mode) && stale_tolerated(ck, rel, &ms, &bs)) {
		bs.st_size = ms.st_size;
		bs.st_mtim = ms.st_mtim;
	}
	CMP_FIELD(st_size, "%lld", long long);
	CMP_FIELD(st_nlink, "%lu", unsigned long);
	CMP_FIELD(st_mtim.tv_sec, "%lld", long long);
	CMP_FIELD(st_mtim.tv_nsec, "%ld", long);
	if (!S_ISDIR(ms.st_mode))
		note_ident(ck, rel, &ms, &bs);
	if (ck->cfg->xattr && (S_ISREG(ms.st_mode) || S_ISDIR(ms.st_mode)))
		check_xattrs(ck, rel, m, b);
	if (S_ISREG(ms.st_mode))
		check_content(ck, rel, m, b, ms.st_ino);
	else if (S_ISLNK(ms.st_mode))
		check_symlink(ck, rel, m, b);
	else if (S_ISDIR(ms.st_mode))
		check_dir(ck, rel);
}

/* Compare the names in a directory, then each of them. */
static void check_dir(struct check *ck, const char *rel)
{
	char m[PATH_MAX], b[PATH_MAX], sub[PATH_MAX];
	size_t mn, bn, i = 0, j = 0;
	char **mv, **bv;

	if (check_paths(ck, rel, m, b) < 0)
		return;
	mv = list_names(m, &mn);
	bv = list_names(b, &bn);
	if (!mv || !bv) {
		mismatch(ck, rel, "opendir: %s", errname(errno));
		goto out;
	}
	while (i < mn || j < bn) {
		int c = i == mn ? 1 : j == bn ? -1 : strcmp(mv[i], bv[j]);

		if (c < 0)
			mismatch(ck, rel, "'%s' listed through the mount only", mv[i++]);
		else if (c > 0)
			mismatch(ck, rel, "'%s' in the store only", bv[j++]);
		if (c != 0)
			continue;
		if (!valid_name(mv[i]))
			mismatch(ck, rel, "name '%s' was never created", mv[i]);
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", mv[i]);
		check_entry(ck, sub);
		i++;
		j++;
	}
out:
	free_names(mv);
	free_names(bv);
}

/* Hard links: same file through the mount iff same file in the store, and
 * each file has as many names as links. */
static void check_idents(struct check *ck)
{
	for (size_t i = 0; i < ck->n_ids; i++) {
		const struct ident *a = &ck->ids[i];
		nlink_t names = 0;

		for (size_t j = 0; j < ck->n_ids; j++) {
			const struct ident *b = &ck->ids[j];

			names += a->bino == b->bino;
			if (j > i && (a->mino == b->mino) != (a->bino == b->bino))
				mismatch(ck, a->rel,
					 "and %s: %s through the mount, %s in the store", b->rel,
					 a->mino == b->mino ? "one file" : "two files",
					 a->bino == b->bino ? "one file" : "two files");
		}
		if (names != a->nlink)
			mismatch(ck, a->rel, "%lu links in the store, %lu names in the tree",
				 (unsigned long)a->nlink, (unsigned long)names);
	}
}

static int check_trees(const struct cfg *c, const struct shared *sh)
{
	struct check ck = {.cfg = c, .sh = sh};
	double t0 = now_s();

	check_dir(&ck, "");
	check_idents(&ck);
	for (size_t i = 0; i < ck.n_ids; i++)
		free(ck.ids[i].rel);
	free(ck.ids);
	fprintf(stderr, "check %s against %s: %zu files, %u mismatches (%.1f s)\n", c->dir,
		c->backing, ck.n_ids, ck.bad, now_s() - t0);
	return ck.bad ? 1 : 0;
}

/* ---- main ---------------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: ufs_nsstress -s SEED -n OPS -p PROCS -d DIR [-x] [-c BACKING] "
			"[-k] [-v] [-t SECS] [-a ERRNO,...] [-D FILE]\n");
	return 2;
}

/* "ESTALE,EFAULT" into v (0-terminated, at most max - 1 names). */
/* "[OP:]ERRNO" (e.g. "ESTALE", "read:EINVAL") as errno | (op + 1) << 16. */
static int parse_tolerated(const char *t)
{
	const char *colon = strchr(t, ':'), *name = colon ? colon + 1 : t;
	int e = 1, op = 0;

	while (colon && op < N_OPS &&
	       (strlen(OPS[op].name) != (size_t)(colon - t) ||
		strncmp(OPS[op].name, t, (size_t)(colon - t)) != 0))
		op++;
	while (e < 200 && (!strerrorname_np(e) || strcmp(strerrorname_np(e), name) != 0))
		e++;
	if (strcmp(name, "SHORT") == 0)
		e = ERR_SHORT;
	if (strcmp(name, "STALEATTR") == 0)
		e = ERR_STALEATTR;
	if (e == 200 || op == N_OPS)
		return -1;
	return e | (colon ? (op + 1) << 16 : 0);
}

/* "ESTALE,read:EINVAL" into v (0-terminated, at most max - 1 entries). */
static int parse_errnos(const char *list, int *v, size_t max)
{
	char buf[128], *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int e = parse_tolerated(t);

		if (e < 0 || n + 1 >= max) {
			fprintf(stderr, "ufs_nsstress: -a: '%s' is not [OP:]ERRNO\n", t);
			return -1;
		}
		v[n++] = e;
	}
	v[n] = 0;
	return 0;
}

static int parse_args(int argc, char **argv, struct cfg *c)
{
	int opt;

	*c = (struct cfg){.nops = 1000, .nprocs = 1, .timeout = 600};
	while ((opt = getopt(argc, argv, "s:n:p:d:xc:kvt:a:D:")) != -1) {
		switch (opt) {
		case 's':
			c->seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			c->nops = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'p':
			c->nprocs = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			c->dir = optarg;
			break;
		case 'x':
			c->xattr = true;
			break;
		case 'c':
			c->backing = optarg;
			break;
		case 'k':
			c->check_only = true;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 't':
			c->timeout = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'D':
			c->damaged_file = optarg;
			break;
		case 'a':
			c->tolerated_arg = optarg;
			if (parse_errnos(optarg, c->tolerated, 8) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (!c->dir || optind != argc || c->nprocs < 1 || c->nprocs > MAX_PROCS ||
	    (c->check_only && !c->backing))
		return -1;
	return 0;
}

static struct shared *shared_create(void)
{
	struct shared *sh =
	    mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t a;

	if (sh == MAP_FAILED)
		return NULL;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	for (int i = 0; i < N_LOCKS; i++)
		pthread_mutex_init(&sh->locks[i], &a);
	pthread_mutexattr_destroy(&a);
	return sh;
}

/* DIR (made by absolute_paths) is empty, and is the working directory (the
 * processes inherit it); probes run inside it. */
static int setup_dir(const struct cfg *c, struct shared *sh)
{
	size_t n = 0;
	char **names;

	names = list_names(c->dir, &n);
	free_names(names);
	if (!names || n || chdir(c->dir) < 0) {
		fprintf(stderr, "ufs_nsstress: %s must be an empty directory\n", c->dir);
		return -1;
	}
	sh->xattr_ok = c->xattr;
	if (c->xattr)
		probe_xattr(sh);
	sh->noreplace_ok = probe_rename2(RENAME_NOREPLACE, "RENAME_NOREPLACE");
	sh->exchange_ok = probe_rename2(RENAME_EXCHANGE, "RENAME_EXCHANGE");
	sh->fifo_ok = probe_fifo();
	return 0;
}

/* DIR made when missing (unless -k); absolute paths for the check (the run
 * changes directory). */
static int absolute_paths(struct cfg *c)
{
	static char dir[PATH_MAX], backing[PATH_MAX], damaged[PATH_MAX];

	if (!c->check_only && mkdir(c->dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "ufs_nsstress: mkdir %s: %s\n", c->dir, strerror(errno));
		return -1;
	}
	if (!realpath(c->dir, dir) || (c->backing && !realpath(c->backing, backing))) {
		fprintf(stderr, "ufs_nsstress: %s: %s\n", c->dir, strerror(errno));
		return -1;
	}
	c->dir = dir;
	c->backing = c->backing ? backing : NULL;
	if (c->damaged_file && c->damaged_file[0] != '/') {
		if (!getcwd(damaged, sizeof(damaged)) ||
		    strlen(damaged) + strlen(c->damaged_file) + 2 > sizeof(damaged))
			return -1;
		strcat(strcat(damaged, "/"), c->damaged_file);
		c->damaged_file = damaged;
	}
	return 0;
}

static int run_procs(const struct cfg *c, struct shared *sh)
{
	pid_t pids[MAX_PROCS] = {0};
	double t0 = now_s();
	int failed;

	fflush(stderr);
	for (unsigned i = 0; i < c->nprocs; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(proc_run(c, sh, i));
		if (pids[i] < 0) {
			perror("ufs_nsstress: fork");
			return 1;
		}
	}
	failed = wait_procs(c, sh, pids);
	print_counts(c, sh);
	fprintf(stderr, "run: %u processes x %u ops in %.1f s, %d failed\n", c->nprocs, c->nops,
		now_s() - t0, failed);
	return failed ? 1 : 0;
}

/* -D FILE: write the damaged files after the run ("w"), read them before a
 * check (-k, "r"); one st_ino a line. */
static int damaged_io(const struct cfg *c, struct shared *sh, const char *how)
{
	FILE *f = c->damaged_file ? fopen(c->damaged_file, how) : NULL;
	unsigned long long ino;
	unsigned n = 0;

	if (!c->damaged_file)
		return 0;
	if (!f) {
		fprintf(stderr, "ufs_nsstress: %s: %s\n", c->damaged_file, strerror(errno));
		return -1;
	}
	if (how[0] == 'w') {
		n = atomic_load(&sh->n_damaged);
		for (unsigned i = 0; i < n && i < MAX_DAMAGED; i++)
			fprintf(f, "%llu\n", (unsigned long long)sh->damaged[i]);
	} else {
		while (n < MAX_DAMAGED && fscanf(f, "%llu", &ino) == 1)
			sh->damaged[n++] = (ino_t)ino;
		atomic_store(&sh->n_damaged, n);
	}
	return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct cfg c;
	struct shared *sh = NULL;
	int rc = 0;

	if (parse_args(argc, argv, &c) < 0)
		return usage();
	umask(022);
	fprintf(stderr, "ufs_nsstress -s 0x%" PRIx64 " -n %u -p %u%s -d %s\n", c.seed, c.nops,
		c.nprocs, c.xattr ? " -x" : "", c.dir);
	sh = shared_create();
	if (!sh || absolute_paths(&c) < 0)
		return 2;
	if (c.check_only && damaged_io(&c, sh, "r") < 0)
		return 2;
	if (!c.check_only) {
		if (setup_dir(&c, sh) < 0)
			return 2;
		rc = run_procs(&c, sh);
		if (damaged_io(&c, sh, "w") < 0)
			return 2;
	}
	if (c.backing && rc == 0)
		rc = check_trees(&c, sh);
	return rc;
}

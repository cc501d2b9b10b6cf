/*
 * config.c — parse and validate the unifs configuration (see config.h).
 *
 * The INI syntax is inih's; this file only interprets sections and keys.
 * inih reports the line of the first rejected key, so every handler error is
 * printed as "FILE:LINE: message". Errors found after parsing (a mount without
 * url) look the section's line up in the file again.
 *
 * Lines of any length: inih (Debian: 200 bytes a line) parses the text
 * through ufs_ini_parse_text(), which hands long values over whole. The
 * file is parsed twice: the first pass only notes each section's url, so the
 * second knows the section's scheme when it checks a key against the
 * registry's tables (struct ufs_cfg_schema). Secret values are never put in
 * a message, and the file text is wiped after parsing.
 *
 * Inline comments: inih strips ';' comments; the man page's examples also
 * use '#' after whitespace, so "value   # comment" is trimmed here too.
 */
#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/inilong.h"
#include "common/metrics.h"
#include "common/ratelimit.h"
#include "common/strbuf.h"
#include "common/secret.h"

struct parse_state {
	const struct ufs_cfg_schema *schema;
	struct ufs_config *cfg;
	struct ufs_mount_cfg *cur; /* mount section being filled, or NULL */
	int urls_only;		   /* first pass: only note each section's url */
	int in_global;
	int has_secret;
	char msg[1024]; /* first handler error */
};

static int str_in(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

static void set_msg(struct parse_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_msg(struct parse_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
}

int ufs_parse_size(const char *s, uint64_t *pout)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*pout = (uint64_t)v << shift;
	return 0;
}

/* Seconds in one unit of a duration ('s', 'm', 'h', 'd', 'w'), 0 if none. */
static uint64_t duration_unit(char c)
{
	switch (c) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 7 * 86400;
	default:
		return 0;
	}
}

int ufs_parse_duration(const char *s, uint64_t *pout)
{
	uint64_t total = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	while (*s) {
		char *end;
		unsigned long long v;
		uint64_t unit;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		errno = 0;
		v = strtoull(s, &end, 10);
		unit = *end ? duration_unit(*end) : 1;
		if (errno || unit == 0 || v > (UINT64_MAX - total) / unit)
			return -EINVAL;
		total += v * unit;
		s = *end ? end + 1 : end;
	}
	*pout = total;
	return 0;
}

int ufs_parse_bool(const char *s, int *pout)
{
	static const char *const yes[] = {"true", "yes", "1", "on", NULL};
	static const char *const no[] = {"false", "no", "0", "off", NULL};

	if (str_in(s, yes)) {
		*pout = 1;
		return 0;
	}
	if (str_in(s, no)) {
		*pout = 0;
		return 0;
	}
	return -EINVAL;
}

static int parse_seconds(const char *s, double *pout)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || isinf(v))
		return -EINVAL;
	*pout = v;
	return 0;
}

/* Copy of value without a trailing "  # comment" and surrounding blanks, or NULL. */
static char *clean_value(const char *value)
{
	char *out = strdup(value);
	size_t n;

	if (!out)
		return NULL;
	for (char *p = out; *p; p++) {
		if (*p == '#' && (p == out || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	}
	n = strlen(out);
	while (n && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	return out;
}

/* Normalise a namespace prefix: "/a//b/" -> "/a/b"; rejects "." and "..". */
static char *normalise_prefix(const char *raw)
{
	size_t len = strlen(raw);
	char *out = malloc(len + 2);
	size_t o = 0;
	const char *p = raw;

	if (!out || raw[0] != '/') {
		free(out);
		return NULL;
	}
	while (*p) {
		const char *comp;
		size_t n;

		while (*p == '/')
			p++;
		comp = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - comp);
		if (n == 0)
			break;
		if ((n == 1 && comp[0] == '.') || (n == 2 && comp[0] == '.' && comp[1] == '.')) {
			free(out);
			return NULL;
		}
		out[o++] = '/';
		memcpy(out + o, comp, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

static int set_global_key(struct ufs_config *cfg, const char *key, const char *v, char *msg,
			  size_t msglen);

static struct ufs_mount_cfg *add_mount(struct ufs_config *cfg, const char *prefix)
{
	struct ufs_mount_cfg *arr;
	struct ufs_mount_cfg *m;

	arr = realloc(cfg->mounts, (cfg->n_mounts + 1) * sizeof(*arr));
	if (!arr)
		return NULL;
	cfg->mounts = arr;
	m = &arr[cfg->n_mounts];
	memset(m, 0, sizeof(*m));
	m->prefix = normalise_prefix(prefix);
	if (!m->prefix)
		return NULL;
	cfg->n_mounts++;
	return m;
}

static int mount_add_kv(struct ufs_mount_cfg *m, const char *key, const char *value, int line)
{
	struct ufs_kv *kv = realloc(m->kv, (m->n_kv + 1) * sizeof(*kv));

	if (!kv)
		return -ENOMEM;
	m->kv = kv;
	kv[m->n_kv].key = strdup(key);
	kv[m->n_kv].value = strdup(value);
	kv[m->n_kv].line = line;
	if (!kv[m->n_kv].key || !kv[m->n_kv].value)
		return -ENOMEM;
	m->n_kv++;
	return 0;
}

/* The scheme of url ("s3" of "s3://b") into buf; 0 when url has none. */
static int url_scheme(const char *url, char *buf, size_t size)
{
	const char *sep = url ? strstr(url, "://") : NULL;
	size_t n;

	if (!sep || sep == url)
		return 0;
	n = (size_t)(sep - url);
	if (n >= size)
		n = size - 1;
	memcpy(buf, url, n);
	buf[n] = '\0';
	return 1;
}

static int url_scheme_ok(const struct ufs_cfg_schema *schema, const char *url, char *msg,
			 size_t msglen)
{
	char scheme[16];
	char names[128];

	schema->describe(NULL, names, sizeof(names));
	if (!url_scheme(url, scheme, sizeof(scheme))) {
		snprintf(msg, msglen, "url has no scheme (expected one of %s, as scheme://...)",
			 names);
		return 0;
	}
	if (!schema->scheme_known(scheme)) {
		snprintf(msg, msglen, "unknown URL scheme '%s' (use %s)", scheme, names);
		return 0;
	}
	return 1;
}

/* The registered scheme of m's url into buf, or NULL (no url yet, unknown). */
static const char *mount_scheme(const struct ufs_cfg_schema *schema, const struct ufs_mount_cfg *m,
				char *buf, size_t size)
{
	if (!url_scheme(m->url, buf, size) || !schema->scheme_known(buf))
		return NULL;
	return buf;
}

/* key itself when it looks like a key name, so a mangled line never shows a value. */
static const char *key_shown(const char *key)
{
	size_t n = strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");

	return (key[n] == '\0' && n > 0 && n <= 40) ? key : "(not a key name)";
}

/* "unknown key" for scheme, naming the scheme's valid keys. */
static void unknown_key_msg(const struct ufs_cfg_schema *schema, const struct ufs_mount_cfg *m,
			    const char *scheme, const char *key, char *msg, size_t msglen)
{
	char valid[768];

	schema->describe(scheme, valid, sizeof(valid));
	snprintf(msg, msglen, "unknown key '%s' in [mount \"%s\"] for %s:// (valid keys: %s)",
		 key_shown(key), m->prefix, scheme, valid);
}

/* Validate one mount key; 1 if fine, 0 with msg. The scheme's table is
 * asked once the section's url names a known scheme (the first pass found
 * it, wherever it stands in the section). */
static int check_mount_key(const struct ufs_cfg_schema *schema, struct ufs_mount_cfg *m,
			   const char *key, const char *v, char *msg, size_t msglen)
{
	char buf[16];
	const char *scheme = mount_scheme(schema, m, buf, sizeof(buf));
	uint64_t sz;
	double d;
	int b;

	if (scheme && !(schema->key_flags(scheme, key) & UFS_CFGKEY_VALID)) {
		unknown_key_msg(schema, m, scheme, key, msg, msglen);
		return 0;
	}
	if (ufs_mcfg_get(m, key)) {
		snprintf(msg, msglen, "duplicate key '%s'", key_shown(key));
		return 0;
	}
	if (strcmp(key, "url") == 0)
		return url_scheme_ok(schema, v, msg, msglen);
	if (strcmp(key, "readonly") == 0 || strcmp(key, "path_style") == 0) {
		if (ufs_parse_bool(v, &b) == 0) {
			if (strcmp(key, "readonly") == 0)
				m->readonly = b;
			return 1;
		}
		snprintf(msg, msglen, "%s: expected true or false, got '%s'", key, v);
		return 0;
	}
	if (strcmp(key, "part_size") == 0 || strcmp(key, "block_size") == 0) {
		if (ufs_parse_size(v, &sz) == 0 && sz >= 4096)
			return 1;
		snprintf(msg, msglen, "%s: expected a size such as 8M, got '%s'", key, v);
		return 0;
	}
	if (strcmp(key, "bwlimit") == 0) {
		if (ufs_parse_size(v, &sz) == 0)
			return 1;
		snprintf(msg, msglen, "bwlimit: expected bytes per second such as 8M, got '%s'", v);
		return 0;
	}
	if (strstr(key, "ttl") || strcmp(key, "op_timeout") == 0) {
		if (parse_seconds(v, &d) == 0)
			return 1;
		snprintf(msg, msglen, "%s: expected seconds, got '%s'", key, v);
		return 0;
	}
	return 1;
}

static int parse_section_name(const char *section, char *prefix, size_t size)
{
	const char *p = section;
	size_t n;

	if (strncmp(p, "mount", 5) != 0 || !isspace((unsigned char)p[5]))
		return 0;
	p += 5;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '"')
		return 0;
	p++;
	n = strcspn(p, "\"");
	if (p[n] != '"' || p[n + 1] != '\0' || n == 0 || n >= size)
		return 0;
	memmove(prefix, p, n); /* find_section_line() parses in place */
	prefix[n] = '\0';
	return 1;
}

/* Switch to the section named in an inih callback. 1 ok, 0 with msg. */
static int enter_section(struct parse_state *st, const char *section)
{
	char prefix[1024];

	if (strcmp(section, "global") == 0) {
		st->in_global = 1;
		st->cur = NULL;
		return 1;
	}
	st->in_global = 0;
	if (!parse_section_name(section, prefix, sizeof(prefix))) {
		set_msg(st, "unknown section [%s] (expected [global] or [mount \"/path\"])",
			section);
		return 0;
	}
	for (size_t i = 0; i < st->cfg->n_mounts; i++) {
		char *norm = normalise_prefix(prefix);
		int same = norm && strcmp(norm, st->cfg->mounts[i].prefix) == 0;

		free(norm);
		if (same) {
			st->cur = &st->cfg->mounts[i];
			return 1;
		}
	}
	st->cur = add_mount(st->cfg, prefix);
	if (!st->cur) {
		set_msg(st, "invalid mount path \"%s\" (must be absolute, without . or ..)",
			prefix);
		return 0;
	}
	return 1;
}

/* First pass: create the sections and note their urls, so that the second
 * pass knows each section's scheme before its keys. */
static int config_note_url(struct parse_state *st, const char *name, const char *value)
{
	char *v;

	if (st->in_global || strcmp(name, "url") != 0)
		return 1;
	v = clean_value(value);
	if (!v) {
		set_msg(st, "out of memory");
		return 0;
	}
	free(st->cur->url);
	st->cur->url = v;
	return 1;
}

/* Is key a secret (for the section's scheme, or for any scheme)? */
static int config_key_secret(struct parse_state *st, const char *key)
{
	char buf[16];
	const char *scheme = st->cur ? mount_scheme(st->schema, st->cur, buf, sizeof(buf)) : NULL;

	return (st->schema->key_flags(scheme, key) & UFS_CFGKEY_SECRET) != 0;
}

/* Second pass: validate and store one key. 1 ok, 0 with st->msg. */
static int config_store_key(struct parse_state *st, const char *name, const char *v)
{
	char msg[1024];

	if (st->in_global) {
		if (set_global_key(st->cfg, name, v, msg, sizeof(msg)) != 0) {
			set_msg(st, "%s", msg);
			return 0;
		}
		return 1;
	}
	if (!check_mount_key(st->schema, st->cur, name, v, msg, sizeof(msg))) {
		set_msg(st, "%s", msg);
		return 0;
	}
	if (strcmp(name, "url") == 0) {
		free(st->cur->url);
		st->cur->url = strdup(v);
	}
	if (mount_add_kv(st->cur, name, v, 0) != 0) {
		set_msg(st, "out of memory");
		return 0;
	}
	return 1;
}

static int config_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char *v;
	int ok;

	if (!enter_section(st, section))
		return 0;
	if (st->urls_only)
		return config_note_url(st, name, value);
	if (config_key_secret(st, name))
		st->has_secret = 1;
	v = clean_value(value);
	if (!v) {
		set_msg(st, "out of memory");
		return 0;
	}
	ok = config_store_key(st, name, v);
	free(v);
	return ok;
}

static struct ufs_config *config_new(const char *path)
{
	struct ufs_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->path = strdup(path);
	cfg->memory = 2ULL << 30;
	cfg->cache_size = 10ULL << 30;
	cfg->log_level = strdup("info");
	cfg->block_size = 8ULL << 20;
	cfg->readahead_max = 256ULL << 20;
	cfg->block_cache = 1;
	cfg->part_size = 8ULL << 20;
	cfg->workers = 16;
	cfg->attr_ttl = 60;
	cfg->dir_ttl = 60;
	cfg->negative_ttl = 5;
	cfg->op_timeout = 20;
	cfg->retry_down = 2;
	if (!cfg->path || !cfg->log_level) {
		ufs_config_destroy(cfg);
		return NULL;
	}
	return cfg;
}

static int replace_str(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int set_size_key(uint64_t *dst, const char *key, const char *v, uint64_t min, char *msg,
			size_t msglen)
{
	uint64_t sz;

	if (ufs_parse_size(v, &sz) != 0 || sz < min) {
		snprintf(msg, msglen,
			 "%s: expected a size such as 2G (at least %llu bytes), got '%s'", key,
			 (unsigned long long)min, v);
		return -EINVAL;
	}
	*dst = sz;
	return 0;
}

static int set_seconds_key(double *dst, const char *key, const char *v, char *msg, size_t msglen)
{
	if (parse_seconds(v, dst) != 0) {
		snprintf(msg, msglen, "%s: expected seconds, got '%s'", key, v);
		return -EINVAL;
	}
	return 0;
}

static int set_bool_key(int *dst, const char *key, const char *v, char *msg, size_t msglen)
{
	if (ufs_parse_bool(v, dst) != 0) {
		snprintf(msg, msglen, "%s: expected true or false, got '%s'", key, v);
		return -EINVAL;
	}
	return 0;
}

/* [global] bwlimit: the rate of the bucket every mount without its own
 * bwlimit shares (made on first use; 0 leaves it unlimited). */
static int set_bwlimit_key(struct ufs_config *cfg, const char *v, char *msg, size_t msglen)
{
	uint64_t rate;

	if (ufs_parse_size(v, &rate) != 0) {
		snprintf(msg, msglen, "bwlimit: expected bytes per second such as 8M, got '%s'", v);
		return -EINVAL;
	}
	if (!cfg->bw && rate && ufs_ratelimit_create(rate, NULL, &cfg->bw) != 0) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	if (cfg->bw)
		ufs_ratelimit_set_rate(cfg->bw, rate);
	cfg->bwlimit = rate;
	return 0;
}

static int set_global_key(struct ufs_config *cfg, const char *key, const char *v, char *msg,
			  size_t msglen)
{
	uint64_t n;
	enum { MIB = 1 << 20 };

	if (strcmp(key, "memory") == 0)
		return set_size_key(&cfg->memory, key, v, 64 * MIB, msg, msglen);
	if (strcmp(key, "cache_size") == 0)
		return set_size_key(&cfg->cache_size, key, v, 0, msg, msglen);
	if (strcmp(key, "block_size") == 0)
		return set_size_key(&cfg->block_size, key, v, 64 << 10, msg, msglen);
	if (strcmp(key, "readahead_max") == 0)
		return set_size_key(&cfg->readahead_max, key, v, 0, msg, msglen);
	if (strcmp(key, "part_size") == 0)
		return set_size_key(&cfg->part_size, key, v, 64 << 10, msg, msglen);
	if (strcmp(key, "bwlimit") == 0)
		return set_bwlimit_key(cfg, v, msg, msglen);
	if (strcmp(key, "attr_ttl") == 0)
		return set_seconds_key(&cfg->attr_ttl, key, v, msg, msglen);
	if (strcmp(key, "dir_ttl") == 0)
		return set_seconds_key(&cfg->dir_ttl, key, v, msg, msglen);
	if (strcmp(key, "negative_ttl") == 0)
		return set_seconds_key(&cfg->negative_ttl, key, v, msg, msglen);
	if (strcmp(key, "op_timeout") == 0)
		return set_seconds_key(&cfg->op_timeout, key, v, msg, msglen);
	if (strcmp(key, "retry_down") == 0)
		return set_seconds_key(&cfg->retry_down, key, v, msg, msglen);
	if (strcmp(key, "allow_other") == 0)
		return set_bool_key(&cfg->allow_other, key, v, msg, msglen);
	if (strcmp(key, "block_cache") == 0)
		return set_bool_key(&cfg->block_cache, key, v, msg, msglen);
	if (strcmp(key, "readonly") == 0)
		return set_bool_key(&cfg->readonly, key, v, msg, msglen);
	if (strcmp(key, "cache_dir") == 0)
		return replace_str(&cfg->cache_dir, v);
	if (strcmp(key, "staging_dir") == 0)
		return replace_str(&cfg->staging_dir, v);
	if (strcmp(key, "metrics") == 0) {
		struct sockaddr_in sa;

		if (ufs_metrics_parse_addr(v, &sa, msg, msglen) != 0)
			return -EINVAL;
		return replace_str(&cfg->metrics, v);
	}
	if (strcmp(key, "log") == 0) {
		static const char *const levels[] = {"error", "warn", "info", "debug", NULL};

		if (!str_in(v, levels)) {
			snprintf(msg, msglen, "log: expected error, warn, info or debug, got '%s'",
				 v);
			return -EINVAL;
		}
		return replace_str(&cfg->log_level, v);
	}
	if (strcmp(key, "workers") == 0) {
		if (ufs_parse_size(v, &n) != 0 || n < 1 || n > 256) {
			snprintf(msg, msglen, "workers: expected 1..256, got '%s'", v);
			return -EINVAL;
		}
		cfg->workers = (unsigned)n;
		return 0;
	}
	snprintf(msg, msglen, "unknown key '%s' in [global]", key_shown(key));
	return -EINVAL;
}

int ufs_config_set_global(struct ufs_config *cfg, const char *key, const char *value, char *err,
			  size_t errlen)
{
	if (strcmp(key, "ro") == 0 && !value)
		return set_bool_key(&cfg->readonly, "ro", "true", err, errlen);
	if (strcmp(key, "rw") == 0 && !value)
		return set_bool_key(&cfg->readonly, "rw", "false", err, errlen);
	if (strcmp(key, "allow_other") == 0 && !value)
		return set_bool_key(&cfg->allow_other, key, "true", err, errlen);
	if (!value) {
		snprintf(err, errlen, "option '%s' needs a value (%s=...)", key, key);
		return -EINVAL;
	}
	return set_global_key(cfg, key, value, err, errlen);
}

/* Line of the [mount "prefix"] header in path, 0 if not found. */
static int find_section_line(const char *path, const char *prefix)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0, found = 0;

	if (!f)
		return 0;
	while (!found && getline(&line, &cap, f) >= 0) {
		char name[1024];
		char *close;
		char *norm;
		const char *p = line;

		n++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '[')
			continue;
		snprintf(name, sizeof(name), "%s", p + 1);
		close = strrchr(name, ']');
		if (!close)
			continue;
		*close = '\0';
		if (!parse_section_name(name, name, sizeof(name)))
			continue;
		norm = normalise_prefix(name);
		found = norm && strcmp(norm, prefix) == 0;
		free(norm);
	}
	if (line)
		explicit_bzero(line, cap);
	free(line);
	fclose(f);
	return found ? n : 0;
}

int ufs_config_validate(struct ufs_config *cfg, char *err, size_t errlen)
{
	if (cfg->n_mounts == 0) {
		snprintf(err, errlen, "%s: no [mount \"/path\"] section", cfg->path);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		struct ufs_mount_cfg *m = &cfg->mounts[i];

		if (!m->url) {
			int line = find_section_line(cfg->path, m->prefix);

			snprintf(err, errlen, "%s:%d: [mount \"%s\"] has no url", cfg->path, line,
				 m->prefix);
			return -EINVAL;
		}
	}
	if (cfg->block_size > cfg->memory / 4) {
		snprintf(err, errlen, "%s: block_size must be at most a quarter of memory",
			 cfg->path);
		return -EINVAL;
	}
	return 0;
}

int ufs_check_secret_file(const char *path, char *err, size_t errlen)
{
	int fd = ufs_secret_open(path, NULL, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Read the whole file at path into a malloc'd string; 0 or -errno + message. */
static int config_read(const char *path, char **ptext, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct ufs_strbuf b = {0};
	char chunk[4096];
	size_t n;
	int e;

	if (!f) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	ufs_sb_printf(&b, "%s", "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ufs_sb_append(&b, chunk, n);
	e = ferror(f) ? EIO : 0;
	fclose(f);
	*ptext = ufs_sb_take(&b);
	if (e || !*ptext) {
		free(*ptext);
		snprintf(err, errlen, "%s: %s", path, e ? "cannot read" : "out of memory");
		return e ? -e : -ENOMEM;
	}
	return 0;
}

/* Both passes of inih over text; 0 or -EINVAL with "FILE:LINE: message". */
static int config_parse_text(struct parse_state *st, const char *text, char *err, size_t errlen)
{
	for (int pass = 0; pass < 2; pass++) {
		int rc;

		st->urls_only = pass == 0;
		st->cur = NULL;
		st->in_global = 0;
		rc = ufs_ini_parse_text(text, config_ini_handler, st);
		if (rc == -2)
			return -ENOMEM;
		if (rc != 0) {
			snprintf(err, errlen, "%s:%d: %s", st->cfg->path, rc,
				 st->msg[0] ? st->msg
					    : "syntax error (expected key = value or [section])");
			return -EINVAL;
		}
	}
	return 0;
}

int ufs_config_load(const char *path, const struct ufs_cfg_schema *schema, struct ufs_config **pcfg,
		    char *err, size_t errlen)
{
	struct parse_state st;
	char *text = NULL;
	int rc;

	memset(&st, 0, sizeof(st));
	st.schema = schema;
	rc = config_read(path, &text, err, errlen);
	if (rc != 0)
		return rc;
	st.cfg = config_new(path);
	rc = st.cfg ? config_parse_text(&st, text, err, errlen) : -ENOMEM;
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc == 0 && st.has_secret)
		rc = ufs_check_secret_file(path, err, errlen);
	if (rc == 0)
		rc = ufs_config_validate(st.cfg, err, errlen);
	if (rc != 0) {
		ufs_config_destroy(st.cfg);
		return rc;
	}
	*pcfg = st.cfg;
	return 0;
}

int ufs_config_from_url(const char *url, const struct ufs_cfg_schema *schema,
			struct ufs_config **pcfg, char *err, size_t errlen)
{
	struct ufs_config *cfg;
	struct ufs_mount_cfg *m;
	char msg[256];

	if (!url_scheme_ok(schema, url, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s", msg);
		return -EINVAL;
	}
	cfg = config_new(url);
	if (!cfg || !(m = add_mount(cfg, "/")) || !(m->url = strdup(url)) ||
	    mount_add_kv(m, "url", url, 0) != 0) {
		ufs_config_destroy(cfg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*pcfg = cfg;
	return 0;
}

void ufs_config_destroy(struct ufs_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		struct ufs_mount_cfg *m = &cfg->mounts[i];

		for (size_t k = 0; k < m->n_kv; k++) {
			free(m->kv[k].key);
			free(m->kv[k].value);
		}
		free(m->kv);
		free(m->prefix);
		free(m->url);
	}
	free(cfg->mounts);
	free(cfg->path);
	free(cfg->cache_dir);
	free(cfg->log_level);
	free(cfg->metrics);
	free(cfg->staging_dir);
	ufs_ratelimit_destroy(cfg->bw);
	free(cfg);
}

const char *ufs_mcfg_get(const struct ufs_mount_cfg *m, const char *key)
{
	for (size_t i = 0; i < m->n_kv; i++)
		if (strcmp(m->kv[i].key, key) == 0)
			return m->kv[i].value;
	return NULL;
}

int ufs_mcfg_get_bool(const struct ufs_mount_cfg *m, const char *key, int def, int *pout)
{
	const char *v = ufs_mcfg_get(m, key);

	if (!v) {
		*pout = def;
		return 0;
	}
	return ufs_parse_bool(v, pout);
}

int ufs_mcfg_get_size(const struct ufs_mount_cfg *m, const char *key, uint64_t def, uint64_t *pout)
{
	const char *v = ufs_mcfg_get(m, key);

	if (!v) {
		*pout = def;
		return 0;
	}
	return ufs_parse_size(v, pout);
}

int ufs_mcfg_get_double(const struct ufs_mount_cfg *m, const char *key, double def, double *pout)
{
	const char *v = ufs_mcfg_get(m, key);

	if (!v) {
		*pout = def;
		return 0;
	}
	return parse_seconds(v, pout);
}

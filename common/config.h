/*
 * config.h — the unifs configuration: [global] keys and one [mount "/prefix"]
 * section per subtree, parsed from an INI file with inih (or synthesised from
 * a single URL). Every value is validated here so that later layers can trust
 * it; errors name the file and line ("unifs.conf:12: unknown key 'foo'").
 *
 * Mount sections keep their keys as validated strings; backends read the ones
 * they understand with ufs_mcfg_get*(). Which keys a mount section accepts,
 * and which are secrets, is not known here: each backend declares them in
 * its ops table and the registry answers through a struct ufs_cfg_schema
 * (protocols/registry.c: ufs_backend_schema), so common/ never depends on
 * protocols/. An unknown key is an error naming the scheme's valid keys.
 */
#ifndef UFS_CONFIG_H
#define UFS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct ufs_ratelimit;

struct ufs_kv {
	char *key;
	char *value;
	int line; /* line in the config file, 0 when synthesised */
};

struct ufs_mount_cfg {
	char *prefix;	   /* normalised namespace path: "/", "/a/b"; never a trailing '/' */
	char *url;	   /* backend URL: file://, nfs://, s3://, az:// */
	int readonly;	   /* readonly = true */
	int line;	   /* line of the section header */
	struct ufs_kv *kv; /* every key of the section, url/readonly included */
	size_t n_kv;
};

struct ufs_config {
	char *path;		/* config file path, or the URL it was built from */
	uint64_t memory;	/* memory = 2G: block cache + read-ahead + write buffers */
	char *cache_dir;	/* disk tier directory, NULL = none */
	uint64_t cache_size;	/* disk tier bound in bytes */
	char *log_level;	/* error|warn|info|debug */
	uint64_t block_size;	/* cache block size, default 8 MiB */
	uint64_t readahead_max; /* read-ahead window cap, default 256 MiB */
	uint64_t part_size;	/* multipart / block upload part size, default 8 MiB */
	unsigned workers;	/* backend worker threads for read-ahead/uploads, default 16 */
	double attr_ttl;	/* seconds, default 60 */
	double dir_ttl;		/* seconds, default 60 */
	double negative_ttl;	/* seconds, default 5 */
	double op_timeout;	/* seconds a backend call may take before it fails, default 20 */
	double retry_down; /* seconds a down backend fails fast before it is retried, default 2 */
	int block_cache;   /* 1 (default): the block cache; 0: reads go to the backend */
	int allow_other;   /* FUSE allow_other */
	int readonly;	   /* whole namespace read-only (-o ro) */
	char *staging_dir; /* local staging for object-store random writes, NULL = /tmp */
	char *metrics;	   /* Prometheus endpoint "HOST:PORT" (validated), NULL = off */
	uint64_t bwlimit;  /* bwlimit = 8M: bytes/s of every mount without its own, 0 = none */
	struct ufs_ratelimit *bw; /* owned: the bucket of bwlimit those mounts share, or NULL */
	struct ufs_mount_cfg *mounts;
	size_t n_mounts;
};

#define UFS_CFGKEY_VALID 1u  /* the scheme accepts the key */
#define UFS_CFGKEY_SECRET 2u /* its value is a credential: never echoed, file must be 0600 */

/* What the backend registry tells the parser about [mount] keys. */
struct ufs_cfg_schema {
	/* 1 if a backend is registered for scheme ("s3"), else 0. */
	int (*scheme_known)(const char *scheme);
	/* UFS_CFGKEY_* flags of key for scheme (scheme NULL: any scheme); 0 when unknown. */
	unsigned (*key_flags)(const char *scheme, const char *key);
	/* Write "url, readonly, ..." (the keys scheme accepts) into buf; scheme
	 * NULL: the schemes as "file, nfs, s3 or az". */
	void (*describe)(const char *scheme, char *buf, size_t size);
};

/*
 * Parse the INI file at path, asking schema about [mount] keys. On success *pcfg is an owned config
 * (free with ufs_config_destroy) and 0 is returned. On failure returns -errno and writes a one-line
 * message naming file and line into err; no message ever holds a value of a secret key. A file that
 * holds a secret key and is readable by group or other is refused with -EPERM. Lines may be long
 * (tokens of many KiB): see config.c.
 */
int ufs_config_load(const char *path, const struct ufs_cfg_schema *schema, struct ufs_config **pcfg,
		    char *err, size_t errlen);

/*
 * Build a config holding one mount of url at "/" (used by `unifs mount URL`
 * and `unifs ls URL`). Returns 0 or -EINVAL with a message (unknown scheme...).
 */
int ufs_config_from_url(const char *url, const struct ufs_cfg_schema *schema,
			struct ufs_config **pcfg, char *err, size_t errlen);

/*
 * Apply one "-o key=value" override of a [global] key (memory=1G, log=debug,
 * cache_dir=..., attr_ttl=...) or a flag (ro, allow_other). Unknown keys
 * return -EINVAL with a message. Validates like the file parser.
 */
int ufs_config_set_global(struct ufs_config *cfg, const char *key, const char *value, char *err,
			  size_t errlen);

/* Re-check cross-field invariants after overrides; 0 or -EINVAL + message. */
int ufs_config_validate(struct ufs_config *cfg, char *err, size_t errlen);

/* Free cfg and everything it owns. NULL is a no-op. */
void ufs_config_destroy(struct ufs_config *cfg);

/* Value of key in mount m, or NULL when absent. */
const char *ufs_mcfg_get(const struct ufs_mount_cfg *m, const char *key);

/* Boolean key: true/false/yes/no/1/0/on/off; def when absent. -EINVAL if malformed. */
int ufs_mcfg_get_bool(const struct ufs_mount_cfg *m, const char *key, int def, int *pout);

/* Size key ("8M", "1G", "4096"); def when absent. -EINVAL if malformed. */
int ufs_mcfg_get_size(const struct ufs_mount_cfg *m, const char *key, uint64_t def, uint64_t *pout);

/* Seconds key ("1.5"); def when absent. -EINVAL if malformed. */
int ufs_mcfg_get_double(const struct ufs_mount_cfg *m, const char *key, double def, double *pout);

/* Parse a size with optional K/M/G/T suffix (powers of 1024). 0 or -EINVAL. */
int ufs_parse_size(const char *s, uint64_t *pout);

/* Parse a duration: a number of seconds ("90"), or numbers with units s,
 * m, h, d, w ("30s", "10m", "2h", "7d", "1h30m"). 0 or -EINVAL. */
int ufs_parse_duration(const char *s, uint64_t *pout);

/* Parse a boolean word. 0 or -EINVAL. */
int ufs_parse_bool(const char *s, int *pout);

/*
 * Refuse a file holding a secret that group/other can read or another user
 * owns (ufs_secret_open(), common/secret.h): 0 if it is safe, else -errno
 * with the one-line reason in err.
 */
int ufs_check_secret_file(const char *path, char *err, size_t errlen);

#endif

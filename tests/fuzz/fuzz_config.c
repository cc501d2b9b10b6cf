/*
 * fuzz_config.c — libFuzzer target: the config loader (common/config.c over
 * common/inilong.c and inih), asked about [mount] keys by the daemon's own
 * backend registry (protocols/backend.c: ufs_backend_schema).
 *
 * Input: the bytes of a unifs.conf, written to a private 0600 temp file and
 * loaded with ufs_config_load(); the same text is also parsed as an AWS
 * shared-credentials file (protocols/s3/creds.c: ufs_aws_creds_parse()). A
 * config that loads has every mount key read back as size, bool and seconds,
 * and one -o override applied. A config that fails must say why, and must
 * not echo a secret: the value of a secret key
 * (access_key_id, secret_access_key, session_token, account_key, sas_token)
 * that is a single long token written once in the file never appears in the
 * error message.
 *
 * Run by hand: build-fuzz/fuzz_config tests/fuzz/corpus/config
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "protocols/backend.h"
#include "protocols/s3/creds.h"
#include "tests/fuzz/helper_fuzz.h"

#define FUZZ_SECRET_MIN 16 /* shorter values may match words of a message */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[64];
static int fuzz_fd = -1;

static void fuzz_cleanup(void)
{
	if (fuzz_path[0])
		unlink(fuzz_path);
}

/* The temp file the loader reads (mkstemp: mode 0600, owned by us). */
static int fuzz_file_init(void)
{
	if (fuzz_fd >= 0)
		return 0;
	snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/ufs-fuzz-config-XXXXXX");
	fuzz_fd = mkstemp(fuzz_path);
	if (fuzz_fd < 0) {
		perror("fuzz_config: mkstemp");
		abort();
	}
	atexit(fuzz_cleanup);
	return 0;
}

static void fuzz_file_write(const uint8_t *data, size_t size)
{
	if (ftruncate(fuzz_fd, 0) != 0 || pwrite(fuzz_fd, data, size, 0) != (ssize_t)size) {
		perror("fuzz_config: write");
		abort();
	}
}

static int fuzz_token_byte(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '/' || c == '=';
}

/* Check one "key = value" line: a secret value must not be in err. */
static void fuzz_check_line(const char *text, const char *line, size_t len, const char *err)
{
	const char *eq = memchr(line, '=', len), *v, *end = line + len;
	char key[64], *val;
	size_t klen;

	if (!eq)
		return;
	while (line < eq && isspace((unsigned char)*line))
		line++;
	for (klen = (size_t)(eq - line); klen && isspace((unsigned char)line[klen - 1]); klen--)
		;
	if (klen == 0 || klen >= sizeof(key))
		return;
	memcpy(key, line, klen);
	key[klen] = '\0';
	if (!(ufs_backend_schema.key_flags(NULL, key) & UFS_CFGKEY_SECRET))
		return;
	for (v = eq + 1; v < end && isspace((unsigned char)*v); v++)
		;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	for (const char *c = v; c < end; c++)
		if (!fuzz_token_byte(*c))
			return;
	if (end - v < FUZZ_SECRET_MIN)
		return;
	val = strndup(v, (size_t)(end - v));
	if (!val)
		abort();
	/* written once: a message holding it can only have taken it from here */
	if (strstr(strstr(text, val) + 1, val) == NULL)
		UFS_FUZZ_CHECK(strstr(err, val) == NULL, "an error message echoes a secret value");
	free(val);
}

static void fuzz_check_no_secret(const char *text, const char *err)
{
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		fuzz_check_line(text, p, len, err);
		p += len + (p[len] == '\n');
	}
}

static void fuzz_use_config(struct ufs_config *cfg)
{
	char err[512];

	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct ufs_mount_cfg *m = &cfg->mounts[i];

		UFS_FUZZ_CHECK(m->prefix && m->prefix[0] == '/', "a mount prefix is absolute");
		for (size_t k = 0; k < m->n_kv; k++) {
			uint64_t sz;
			double d;
			int b;

			UFS_FUZZ_CHECK(ufs_mcfg_get(m, m->kv[k].key) != NULL,
				       "a mount key reads back");
			(void)ufs_mcfg_get_size(m, m->kv[k].key, 0, &sz);
			(void)ufs_mcfg_get_bool(m, m->kv[k].key, 0, &b);
			(void)ufs_mcfg_get_double(m, m->kv[k].key, 0, &d);
		}
	}
	if (ufs_config_set_global(cfg, "attr_ttl", "1.5", err, sizeof(err)) == 0)
		(void)ufs_config_validate(cfg, err, sizeof(err));
}

/* The text as ~/.aws/credentials: both keys come back when it parses. */
static void fuzz_creds(const char *text, const char *profile)
{
	struct ufs_aws_creds c = {0};

	if (ufs_aws_creds_parse(text, profile, &c) != 0)
		return;
	UFS_FUZZ_CHECK(c.access_key && c.secret_key, "credentials hold both keys");
	ufs_aws_creds_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ufs_config *cfg = NULL;
	char err[1024] = "";
	char *text = ufs_fuzz_str(data, size);
	int rc;

	fuzz_creds(text, "default");
	fuzz_creds(text, "prod");
	fuzz_file_init();
	fuzz_file_write(data, size);
	rc = ufs_config_load(fuzz_path, &ufs_backend_schema, &cfg, err, sizeof(err));
	if (rc == 0) {
		fuzz_use_config(cfg);
		ufs_config_destroy(cfg);
	} else {
		UFS_FUZZ_CHECK(err[0] != '\0', "a refused config says why");
		fuzz_check_no_secret(text, err);
	}
	free(text);
	return 0;
}

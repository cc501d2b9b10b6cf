/*
 * creds.c — AWS credentials from the mount section, the environment or a
 * shared-credentials file; see creds.h. The file is INI (parsed with inih); its profile section
 * is "[name]". Secrets are wiped before they are freed.
 */
#include "protocols/creds.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/inilong.h"
#include "common/secret.h"

struct creds_parse {
	const char *profile;
	struct ufs_aws_creds *c;
	int oom;
};

static int creds_set(char **dst, const char *value)
{
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	if (*dst) {
		OPENSSL_cleanse(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = v;
	return 0;
}

static int creds_on_kv(void *arg, const char *section, const char *name, const char *value)
{
	struct creds_parse *p = arg;
	char **dst = NULL;

	if (strcmp(section, p->profile) != 0)
		return 1;
	if (strcmp(name, "aws_access_key_id") == 0)
		dst = &p->c->access_key;
	else if (strcmp(name, "aws_secret_access_key") == 0)
		dst = &p->c->secret_key;
	else if (strcmp(name, "aws_session_token") == 0)
		dst = &p->c->session_token;
	if (dst && creds_set(dst, value) != 0)
		p->oom = 1;
	return 1;
}

void ufs_aws_creds_clear(struct ufs_aws_creds *pc)
{
	char **f[] = {&pc->access_key, &pc->secret_key, &pc->session_token, &pc->source};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (*f[i]) {
			OPENSSL_cleanse(*f[i], strlen(*f[i]));
			free(*f[i]);
		}
	}
	memset(pc, 0, sizeof(*pc));
}

int ufs_aws_creds_parse(const char *text, const char *profile, struct ufs_aws_creds *pc)
{
	struct creds_parse p = {profile, pc, 0};

	memset(pc, 0, sizeof(*pc));
	if (ufs_ini_parse_text(text, creds_on_kv, &p) == -2)
		p.oom = 1;
	if (p.oom || !pc->access_key || !pc->secret_key) {
		ufs_aws_creds_clear(pc);
		return p.oom ? -ENOMEM : -EINVAL;
	}
	return 0;
}

/* Fill pc from explicit values (tok may be NULL or ""); 0 or -ENOMEM. */
static int creds_from_values(const char *ak, const char *sk, const char *tok, const char *source,
			     struct ufs_aws_creds *pc)
{
	memset(pc, 0, sizeof(*pc));
	if (sk && *sk)
		ufs_secret_no_dump();
	if (creds_set(&pc->access_key, ak) || creds_set(&pc->secret_key, sk) ||
	    (tok && *tok && creds_set(&pc->session_token, tok)) || creds_set(&pc->source, source)) {
		ufs_aws_creds_clear(pc);
		return -ENOMEM;
	}
	return 0;
}

static int creds_from_env(struct ufs_aws_creds *pc)
{
	return creds_from_values(getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
				 getenv("AWS_SESSION_TOKEN"), "environment", pc);
}

static int creds_from_file(const char *path, const char *profile, struct ufs_aws_creds *pc,
			   char *err, size_t errlen)
{
	char *text = NULL;
	int rc = ufs_secret_read(path, 65536, &text, NULL, err, errlen);

	if (rc == -EPERM || rc == -EINVAL)
		return rc;
	if (rc) {
		snprintf(err, errlen, "cannot read AWS credentials file %s: %s", path,
			 strerror(-rc));
		return rc;
	}
	rc = ufs_aws_creds_parse(text, profile, pc);
	ufs_secret_free(text);
	if (rc == -EINVAL)
		snprintf(err, errlen,
			 "%s: profile [%s] lacks aws_access_key_id / aws_secret_access_key", path,
			 profile);
	if (!rc && creds_set(&pc->source, path) != 0) {
		ufs_aws_creds_clear(pc);
		rc = -ENOMEM;
	}
	return rc;
}

int ufs_aws_creds_load(const char *file, const char *profile, struct ufs_aws_creds *pc, char *err,
		       size_t errlen)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *home = getenv("HOME");
	char path[4096];

	if (!profile || !*profile)
		profile = getenv("AWS_PROFILE");
	if (!profile || !*profile)
		profile = "default";
	if (file && *file)
		return creds_from_file(file, profile, pc, err, errlen);
	if (ak && *ak && sk && *sk)
		return creds_from_env(pc);
	file = getenv("AWS_SHARED_CREDENTIALS_FILE");
	if (!file || !*file) {
		snprintf(path, sizeof(path), "%s/.aws/credentials", home ? home : "");
		file = path;
	}
	if (access(file, F_OK) != 0) {
		snprintf(err, errlen,
			 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
			 "or write %s",
			 file);
		return -ENOENT;
	}
	return creds_from_file(file, profile, pc, err, errlen);
}

int ufs_aws_creds_for_mount(const struct ufs_mount_cfg *m, struct ufs_aws_creds *pc, char *err,
			    size_t errlen)
{
	const char *ak = ufs_mcfg_get(m, "access_key_id");
	const char *sk = ufs_mcfg_get(m, "secret_access_key");
	const char *tok = ufs_mcfg_get(m, "session_token");

	if ((ak && *ak) && (sk && *sk))
		return creds_from_values(ak, sk, tok, "config file", pc);
	if (ak || sk || tok) {
		snprintf(err, errlen, "%s is set in the mount section but %s is not",
			 ak && *ak   ? "access_key_id"
			 : sk && *sk ? "secret_access_key"
				     : "session_token",
			 ak && *ak ? "secret_access_key" : "access_key_id");
		return -EINVAL;
	}
	return ufs_aws_creds_load(ufs_mcfg_get(m, "credentials_file"), ufs_mcfg_get(m, "profile"),
				  pc, err, errlen);
}

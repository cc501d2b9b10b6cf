/*
 * creds.c — the credential files: static AWS credentials from the mount
 * section, the environment or a shared-credentials file, the profiles of
 * the shared config and credentials files that the chain (creds_aws.c)
 * reads, and token files (web identity, workload identity, container
 * authorization); see creds.h. The files are INI (parsed with inih): a
 * profile is "[name]" in the credentials file and "[profile name]" (or
 * "[default]") in the config file. Secrets are wiped before they are freed.
 */
#include "protocols/s3/creds.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- profiles of the shared config and credentials files ---- */

static const char *const awsp_names[UFS_AWSP_N] = {
    "region",
    "role_arn",
    "source_profile",
    "credential_source",
    "credential_process",
    "web_identity_token_file",
    "role_session_name",
    "external_id",
    "endpoint_url",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
};

const char *ufs_aws_profile_key_name(enum ufs_awsp_key k)
{
	return awsp_names[k];
}

struct awsp_parse {
	const char *name;
	int is_config;
	struct ufs_aws_profile *p;
	int oom;
};

/* Is section the profile's section in this kind of file? */
static int awsp_section_is(const struct awsp_parse *a, const char *section)
{
	while (*section == ' ')
		section++;
	if (!a->is_config)
		return strcmp(section, a->name) == 0;
	if (strcmp(a->name, "default") == 0 && strcmp(section, "default") == 0)
		return 1;
	if (strncmp(section, "profile", 7) != 0 || (section[7] != ' ' && section[7] != '\t'))
		return 0;
	section += 8;
	while (*section == ' ' || *section == '\t')
		section++;
	return strcmp(section, a->name) == 0;
}

static int awsp_on_kv(void *arg, const char *section, const char *name, const char *value)
{
	struct awsp_parse *a = arg;

	if (!awsp_section_is(a, section))
		return 1;
	a->p->found = 1;
	for (int k = 0; k < UFS_AWSP_N; k++)
		if (strcmp(name, awsp_names[k]) == 0 && creds_set(&a->p->v[k], value) != 0)
			a->oom = 1;
	return 1;
}

int ufs_aws_profile_parse(const char *text, int is_config, const char *name,
			  struct ufs_aws_profile *p)
{
	struct awsp_parse a = {name, is_config, p, 0};
	char head[300];

	/* a section with no key still names the profile */
	snprintf(head, sizeof(head), "\n[%s%s]",
		 is_config && strcmp(name, "default") ? "profile " : "", name);
	if (strncmp(text, head + 1, strlen(head + 1)) == 0 || strstr(text, head))
		p->found = 1;
	if (ufs_ini_parse_text(text, awsp_on_kv, &a) == -2)
		a.oom = 1;
	return a.oom ? -ENOMEM : 0;
}

void ufs_aws_profile_clear(struct ufs_aws_profile *p)
{
	for (int k = 0; k < UFS_AWSP_N; k++) {
		if (p->v[k]) {
			OPENSSL_cleanse(p->v[k], strlen(p->v[k]));
			free(p->v[k]);
		}
	}
	memset(p, 0, sizeof(*p));
}

/* Read one shared file (missing: 0, *ptext NULL); the credentials file is
 * checked as a secret file, the config file only when it holds a secret. */
static int awsp_read(const char *env, const char *def, int is_config, char **ptext,
		     struct stat *pst, char *path, size_t pathlen, char *err, size_t errlen)
{
	const char *f = getenv(env), *home = getenv("HOME");
	FILE *fp;
	size_t n;

	*ptext = NULL;
	if (f && *f)
		snprintf(path, pathlen, "%s", f);
	else
		snprintf(path, pathlen, "%s/.aws/%s", home ? home : "", def);
	if (access(path, F_OK) != 0)
		return 0;
	if (!is_config)
		return ufs_secret_read(path, 1 << 20, ptext, pst, err, errlen);
	fp = fopen(path, "re");
	*ptext = fp ? calloc(1, (1 << 20) + 1) : NULL;
	if (!fp || !*ptext || fstat(fileno(fp), pst) != 0) {
		snprintf(err, errlen, "cannot read AWS config file %s: %s", path, strerror(errno));
		if (fp)
			fclose(fp);
		free(*ptext);
		*ptext = NULL;
		return -EIO;
	}
	n = fread(*ptext, 1, 1 << 20, fp);
	(*ptext)[n] = '\0';
	fclose(fp);
	return 0;
}

int ufs_aws_profile_load(const char *name, struct ufs_aws_profile *p, char *err, size_t errlen)
{
	char cpath[sizeof(p->path)], kpath[sizeof(p->path)];
	char *ctext = NULL, *ktext = NULL;
	struct stat cst, kst;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = awsp_read("AWS_CONFIG_FILE", "config", 1, &ctext, &cst, cpath, sizeof(cpath), err,
		       errlen);
	if (!rc && ctext) {
		rc = ufs_aws_profile_parse(ctext, 1, name, p);
		if (p->found)
			snprintf(p->path, sizeof(p->path), "%s", cpath);
		if (!rc && (p->v[UFS_AWSP_SECRET_KEY] || p->v[UFS_AWSP_SESSION_TOKEN]) &&
		    (cst.st_mode & 077)) {
			snprintf(err, errlen,
				 "%s: holds a secret but is readable by group/other (chmod 600 %s)",
				 cpath, cpath);
			rc = -EPERM;
		}
	}
	ufs_secret_free(ctext);
	if (!rc)
		rc = awsp_read("AWS_SHARED_CREDENTIALS_FILE", "credentials", 0, &ktext, &kst, kpath,
			       sizeof(kpath), err, errlen);
	if (!rc && ktext) {
		int had = p->found;

		p->found = 0;
		rc = ufs_aws_profile_parse(ktext, 0, name, p);
		if (p->found)
			snprintf(p->path, sizeof(p->path), "%s", kpath);
		p->found |= had;
	}
	ufs_secret_free(ktext);
	if (!rc && !p->found) {
		snprintf(err, errlen, "AWS profile '%s' is in neither %s nor %s", name, cpath,
			 kpath);
		rc = -ENOENT;
	}
	if (rc)
		ufs_aws_profile_clear(p);
	return rc;
}

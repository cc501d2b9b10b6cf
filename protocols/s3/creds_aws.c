/*
 * creds_aws.c — the AWS credential chain and region resolution; see
 * creds_aws.h for the order. This file only chooses: the sources
 * themselves are in creds_aws_src.c (network, process), the files in
 * creds.c, and the result is a self-renewing credential (credsrc.c).
 */
#include "protocols/s3/creds_aws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "protocols/s3/creds.h"
#include "protocols/s3/creds_aws_i.h"

#define AWS_PROFILE_DEPTH 4 /* source_profile hops */

/* What the chain needs while it runs. */
struct aws_chain {
	const struct ufs_mount_cfg *m;
	const char *region;
	const char *sts_endpoint; /* the mount's key, or NULL */
	unsigned duration;	  /* DurationSeconds of roles (mount role_duration), 0: default */
	char *err;
	size_t errlen;
};

static const char *aws_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A static credential from an ufs_aws_creds (cleared here). */
static int aws_static(struct ufs_aws_creds *c, const char *source, struct ufs_credsrc **psrc)
{
	struct ufs_cred_set *set =
	    ufs_cred_set_new(c->access_key, c->secret_key, c->session_token, 0);
	int rc = set ? ufs_credsrc_static(source, set, psrc) : -ENOMEM;

	ufs_aws_creds_clear(c);
	return rc;
}

static int aws_env_keys(struct ufs_credsrc **psrc)
{
	struct ufs_cred_set *set;

	if (!aws_env("AWS_ACCESS_KEY_ID") || !aws_env("AWS_SECRET_ACCESS_KEY"))
		return -ENOENT;
	set = ufs_cred_set_new(aws_env("AWS_ACCESS_KEY_ID"), aws_env("AWS_SECRET_ACCESS_KEY"),
			       aws_env("AWS_SESSION_TOKEN"), 0);
	return set ? ufs_credsrc_static("environment", set, psrc) : -ENOMEM;
}

static int aws_webid(struct aws_chain *c, const char *role, const char *file, const char *session,
		     const char *prof_url, struct ufs_credsrc **psrc)
{
	char *sts = ufs_aws_sts_endpoint(c->sts_endpoint, prof_url, c->region);
	struct ufs_aws_role r = {sts, c->region, role, session, NULL, c->duration};
	int rc;

	if (!sts)
		return -ENOMEM;
	rc = ufs_aws_src_web_identity(&r, file, psrc, c->err, c->errlen);
	free(sts);
	return rc;
}

static int aws_assume(struct aws_chain *c, const char *role, const char *session, const char *ext,
		      const char *prof_url, struct ufs_credsrc *base, struct ufs_credsrc **psrc)
{
	char *sts = ufs_aws_sts_endpoint(c->sts_endpoint, prof_url, c->region);
	struct ufs_aws_role r = {sts, c->region, role, session, ext, c->duration};
	int rc;

	if (!sts) {
		ufs_credsrc_destroy(base);
		return -ENOMEM;
	}
	rc = ufs_aws_src_assume_role(&r, base, psrc, c->err, c->errlen);
	free(sts);
	return rc;
}

static int aws_profile_source(struct aws_chain *c, const char *name, int depth,
			      struct ufs_credsrc **psrc);

/* The credentials a role of profile p is assumed with. */
static int aws_role_base(struct aws_chain *c, const char *name, struct ufs_aws_profile *p,
			 int depth, struct ufs_credsrc **pbase)
{
	const char *sp = p->v[UFS_AWSP_SOURCE_PROFILE], *cs = p->v[UFS_AWSP_CREDENTIAL_SOURCE];
	int rc;

	if (sp && strcmp(sp, name) == 0) {
		struct ufs_cred_set *set;

		if (!p->v[UFS_AWSP_ACCESS_KEY] || !p->v[UFS_AWSP_SECRET_KEY]) {
			snprintf(c->err, c->errlen,
				 "AWS profile '%s' is its own source_profile "
				 "but has no keys",
				 name);
			return -EINVAL;
		}
		set = ufs_cred_set_new(p->v[UFS_AWSP_ACCESS_KEY], p->v[UFS_AWSP_SECRET_KEY],
				       p->v[UFS_AWSP_SESSION_TOKEN], 0);
		return set ? ufs_credsrc_static(p->path, set, pbase) : -ENOMEM;
	}
	if (sp)
		return aws_profile_source(c, sp, depth + 1, pbase);
	if (cs && strcasecmp(cs, "Environment") == 0)
		rc = aws_env_keys(pbase);
	else if (cs && strcasecmp(cs, "Ec2InstanceMetadata") == 0)
		rc = ufs_aws_src_imds(pbase, c->err, c->errlen);
	else if (cs && strcasecmp(cs, "EcsContainer") == 0)
		rc = ufs_aws_src_container(pbase, c->err, c->errlen);
	else {
		snprintf(c->err, c->errlen,
			 "AWS profile '%s': role_arn needs source_profile, credential_source "
			 "(Environment, Ec2InstanceMetadata, EcsContainer) or "
			 "web_identity_token_file",
			 name);
		return -EINVAL;
	}
	if (rc == -ENOENT && !c->err[0])
		snprintf(c->err, c->errlen, "AWS profile '%s': credential_source %s has none", name,
			 cs);
	return rc;
}

/* The credentials profile name stands for; -ENOENT when it has none. */
static int aws_profile_creds(struct aws_chain *c, const char *name, struct ufs_aws_profile *p,
			     int depth, struct ufs_credsrc **psrc)
{
	const char *role = p->v[UFS_AWSP_ROLE_ARN], *url = p->v[UFS_AWSP_ENDPOINT_URL];
	const char *sess = p->v[UFS_AWSP_ROLE_SESSION_NAME];
	struct ufs_credsrc *base = NULL;
	char what[160];
	int rc;

	if (role && p->v[UFS_AWSP_WEB_IDENTITY_TOKEN_FILE])
		return aws_webid(c, role, p->v[UFS_AWSP_WEB_IDENTITY_TOKEN_FILE], sess, url, psrc);
	if (role) {
		rc = aws_role_base(c, name, p, depth, &base);
		return rc ? rc
			  : aws_assume(c, role, sess, p->v[UFS_AWSP_EXTERNAL_ID], url, base, psrc);
	}
	if (p->v[UFS_AWSP_CREDENTIAL_PROCESS])
		return ufs_aws_src_process(p->v[UFS_AWSP_CREDENTIAL_PROCESS], psrc, c->err,
					   c->errlen);
	if (p->v[UFS_AWSP_ACCESS_KEY] && p->v[UFS_AWSP_SECRET_KEY]) {
		struct ufs_cred_set *set =
		    ufs_cred_set_new(p->v[UFS_AWSP_ACCESS_KEY], p->v[UFS_AWSP_SECRET_KEY],
				     p->v[UFS_AWSP_SESSION_TOKEN], 0);

		snprintf(what, sizeof(what), "profile %.40s (%.100s)", name, p->path);
		return set ? ufs_credsrc_static(what, set, psrc) : -ENOMEM;
	}
	return -ENOENT;
}

static int aws_profile_source(struct aws_chain *c, const char *name, int depth,
			      struct ufs_credsrc **psrc)
{
	struct ufs_aws_profile p;
	int rc;

	if (depth > AWS_PROFILE_DEPTH) {
		snprintf(c->err, c->errlen, "AWS profile '%s': source_profile chain too long",
			 name);
		return -ELOOP;
	}
	rc = ufs_aws_profile_load(name, &p, c->err, c->errlen);
	if (!rc) {
		rc = aws_profile_creds(c, name, &p, depth, psrc);
		if (rc == -ENOENT && depth > 0)
			snprintf(c->err, c->errlen, "AWS profile '%s' has no credentials", name);
	}
	ufs_aws_profile_clear(&p);
	return rc;
}

/* Steps 2-6 of the chain. profile: the profile name; named: it was asked
 * for (mount key or AWS_PROFILE), so a missing one is an error. */
static int aws_chain_base(struct aws_chain *c, const char *profile, int named, const char *prof_url,
			  struct ufs_credsrc **psrc)
{
	const char *wf = aws_env("AWS_WEB_IDENTITY_TOKEN_FILE"), *wr = aws_env("AWS_ROLE_ARN");
	char perr[300] = "";
	int rc = aws_env_keys(psrc);

	if (rc != -ENOENT)
		return rc;
	if (wf && wr)
		return aws_webid(c, wr, wf, aws_env("AWS_ROLE_SESSION_NAME"), prof_url, psrc);
	rc = aws_profile_source(c, profile, 0, psrc);
	if (rc != -ENOENT || (named && c->err[0]))
		return rc;
	snprintf(perr, sizeof(perr), "%s", c->err);
	c->err[0] = '\0';
	rc = ufs_aws_src_container(psrc, c->err, c->errlen);
	if (rc != -ENOENT)
		return rc;
	rc = ufs_aws_src_imds(psrc, c->err, c->errlen);
	if (rc == 0)
		return 0;
	{
		char ierr[300];

		snprintf(ierr, sizeof(ierr), "%s", rc == -ENOENT ? "IMDS: disabled" : c->err);
		snprintf(c->err, c->errlen,
			 "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
			 "a profile, web identity or container credentials (%s)",
			 ierr);
	}
	return -ENOENT;
}

/* The region before IMDS; *pfrom says where it came from. */
static const char *aws_region(const struct ufs_mount_cfg *m, const struct ufs_aws_profile *p,
			      const char **pfrom)
{
	const char *r = ufs_mcfg_get(m, "region");

	*pfrom = "mount";
	if (!r || !*r) {
		r = aws_env("AWS_REGION");
		*pfrom = "AWS_REGION";
	}
	if (!r) {
		r = aws_env("AWS_DEFAULT_REGION");
		*pfrom = "AWS_DEFAULT_REGION";
	}
	if (!r && p->v[UFS_AWSP_REGION] && *p->v[UFS_AWSP_REGION]) {
		r = p->v[UFS_AWSP_REGION];
		*pfrom = "profile";
	}
	return r;
}

/* Steps 1-6 and the mount's role_arn. */
static int aws_chain(struct aws_chain *c, const char *profile, int named, const char *prof_url,
		     struct ufs_credsrc **psrc)
{
	const struct ufs_mount_cfg *m = c->m;
	const char *role = ufs_mcfg_get(m, "role_arn"),
		   *wf = aws_env("AWS_WEB_IDENTITY_TOKEN_FILE");
	struct ufs_credsrc *base = NULL;
	struct ufs_aws_creds ac = {0};
	int rc;

	if (ufs_mcfg_get(m, "access_key_id") || ufs_mcfg_get(m, "secret_access_key") ||
	    ufs_mcfg_get(m, "session_token") || ufs_mcfg_get(m, "credentials_file")) {
		rc = ufs_aws_creds_for_mount(m, &ac, c->err, c->errlen);
		if (rc)
			return rc;
		return aws_static(&ac, ac.source ? ac.source : "config file", psrc);
	}
	if (role && *role && wf)
		return aws_webid(c, role, wf, aws_env("AWS_ROLE_SESSION_NAME"), prof_url, psrc);
	rc = aws_chain_base(c, profile, named, prof_url, role && *role ? &base : psrc);
	if (rc || !role || !*role)
		return rc;
	return aws_assume(c, role, ufs_mcfg_get(m, "role_session_name"), NULL, prof_url, base,
			  psrc);
}

int ufs_aws_identity(const struct ufs_mount_cfg *m, struct ufs_aws_ident *pid, char *err,
		     size_t errlen)
{
	const char *profile = ufs_mcfg_get(m, "profile"), *region;
	struct ufs_aws_profile p = {0};
	struct aws_chain c = {m, NULL, ufs_mcfg_get(m, "sts_endpoint"), 0, err, errlen};
	double dur = 0;
	int named = 1, rc;

	memset(pid, 0, sizeof(*pid));
	err[0] = '\0';
	if (ufs_mcfg_get_double(m, "role_duration", 0, &dur) != 0 || dur < 0 || dur > 43200) {
		snprintf(err, errlen, "role_duration: seconds between 1 and 43200");
		return -EINVAL;
	}
	c.duration = (unsigned)dur;
	if (!profile || !*profile)
		profile = aws_env("AWS_PROFILE");
	if (!profile) {
		profile = "default";
		named = 0;
	}
	rc = ufs_aws_profile_load(profile, &p, err, errlen);
	if (rc && rc != -ENOENT)
		return rc;
	err[0] = '\0';
	region = aws_region(m, &p, &pid->region_from);
	c.region = region ? region : "us-east-1";
	rc = aws_chain(&c, profile, named, p.v[UFS_AWSP_ENDPOINT_URL], &pid->cred);
	if (!rc && !region) {
		struct ufs_credsrc_info ci;
		char ierr[200];

		ufs_credsrc_info(pid->cred, &ci);
		pid->region_from = "default";
		if (strncmp(ci.source, "IMDS", 4) == 0 &&
		    ufs_aws_imds_region(&pid->region, ierr, sizeof(ierr)) == 0)
			pid->region_from = "IMDS";
	}
	if (!rc && !pid->region)
		pid->region = strdup(c.region);
	if (!rc && p.v[UFS_AWSP_ENDPOINT_URL])
		pid->endpoint_url = strdup(p.v[UFS_AWSP_ENDPOINT_URL]);
	if (!rc && (!pid->region || (p.v[UFS_AWSP_ENDPOINT_URL] && !pid->endpoint_url)))
		rc = -ENOMEM;
	ufs_aws_profile_clear(&p);
	if (rc)
		ufs_aws_ident_clear(pid);
	return rc;
}

void ufs_aws_ident_clear(struct ufs_aws_ident *pid)
{
	ufs_credsrc_destroy(pid->cred);
	free(pid->region);
	free(pid->endpoint_url);
	memset(pid, 0, sizeof(*pid));
}

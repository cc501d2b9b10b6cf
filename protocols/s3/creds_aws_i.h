/*
 * creds_aws_i.h — the AWS token sources (creds_aws_src.c), each a
 * self-renewing credential (credsrc.h), for the chain in creds_aws.c.
 * Every constructor fetches once (bounded: UFS_CREDS_HTTP_TIMEOUT per
 * request, UFS_AWS_PROCESS_TIMEOUT for credential_process) and returns 0
 * or -errno with a one-line reason in err; none logs a secret.
 */
#ifndef UFS_CREDS_AWS_I_H
#define UFS_CREDS_AWS_I_H

#include <stddef.h>

#include "protocols/credsrc.h"

/* Seconds a credential_process may run before it is killed. */
#define UFS_AWS_PROCESS_TIMEOUT 30

/* Where STS is, for a region (owned by the caller): sts_endpoint if set,
 * else $AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL, the profile's endpoint_url
 * (may be NULL), https://sts.REGION.amazonaws.com. malloc'd or NULL. */
char *ufs_aws_sts_endpoint(const char *sts_endpoint, const char *profile_url, const char *region);

/* A role to assume (borrowed strings). */
struct ufs_aws_role {
	const char *sts;	 /* STS URL, no trailing '/' */
	const char *region;	 /* signing region of AssumeRole */
	const char *arn;	 /* RoleArn */
	const char *session;	 /* RoleSessionName, NULL: "unifs-PID-TIME" */
	const char *external_id; /* AssumeRole's ExternalId, may be NULL */
	unsigned duration;	 /* DurationSeconds, 0: the service's default */
};

/* STS AssumeRoleWithWebIdentity of role r, the token read from token_file
 * at every fetch (so a rotated token is used). */
int ufs_aws_src_web_identity(const struct ufs_aws_role *r, const char *token_file,
			     struct ufs_credsrc **psrc, char *err, size_t errlen);

/* STS AssumeRole of role r, signed with base's credentials (taken over:
 * destroyed with the result, or at once on failure). */
int ufs_aws_src_assume_role(const struct ufs_aws_role *r, struct ufs_credsrc *base,
			    struct ufs_credsrc **psrc, char *err, size_t errlen);

/* Container credentials: $AWS_CONTAINER_CREDENTIALS_FULL_URI, or
 * http://169.254.170.2 + $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, with the
 * Authorization of $AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read at every
 * fetch) or $AWS_CONTAINER_AUTHORIZATION_TOKEN. -ENOENT when neither URI is
 * set. */
int ufs_aws_src_container(struct ufs_credsrc **psrc, char *err, size_t errlen);

/* EC2 instance metadata, IMDSv2 (session token, role name, role
 * credentials) at $AWS_EC2_METADATA_SERVICE_ENDPOINT (default
 * http://169.254.169.254). -ENOENT when $AWS_EC2_METADATA_DISABLED is true. */
int ufs_aws_src_imds(struct ufs_credsrc **psrc, char *err, size_t errlen);

/* The instance's region from IMDSv2 (placement/region), malloc'd into
 * *pregion. 0 or -errno (disabled: -ENOENT). */
int ufs_aws_imds_region(char **pregion, char *err, size_t errlen);

/* credential_process: run cmd with /bin/sh (bounded), read its JSON
 * (Version 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration). */
int ufs_aws_src_process(const char *cmd, struct ufs_credsrc **psrc, char *err, size_t errlen);

/* Parse a JSON credentials answer (IMDS, container, credential_process):
 * AccessKeyId, SecretAccessKey, Token or SessionToken, Expiration (optional:
 * 0 = never). what names the source in err. 0 or -EINVAL / -ENOMEM. */
int ufs_aws_parse_json_creds(const char *what, const char *json, size_t len,
			     struct ufs_cred_set **pset, char *err, size_t errlen);

/* Parse an STS answer (AssumeRole / AssumeRoleWithWebIdentity, action names
 * the result element): Credentials/AccessKeyId, SecretAccessKey,
 * SessionToken, Expiration. 0 or -EINVAL / -ENOMEM. */
int ufs_aws_parse_sts(const char *action, const char *xml, size_t len, struct ufs_cred_set **pset,
		      char *err, size_t errlen);

#endif

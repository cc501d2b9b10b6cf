/*
 * creds_aws.h — the AWS credential chain and region of an S3 mount, in the
 * SDKs' order (first source that is configured wins; a configured source
 * that fails is an error, not a reason to try the next):
 *
 *   1. the mount's access_key_id + secret_access_key, or its credentials_file
 *   2. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN]
 *   3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      [+ AWS_ROLE_SESSION_NAME] -> STS AssumeRoleWithWebIdentity (EKS IRSA)
 *   4. the profile (mount `profile`, AWS_PROFILE, "default") of the shared
 *      config and credentials files: role_arn with web_identity_token_file,
 *      source_profile or credential_source (AssumeRole); credential_process;
 *      static keys
 *   5. container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI)
 *   6. EC2 instance metadata, IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true)
 *
 * A mount's `role_arn` is assumed on top of what the chain found (with the
 * web identity token when AWS_WEB_IDENTITY_TOKEN_FILE is set). STS is at the
 * mount's sts_endpoint, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the
 * profile's endpoint_url or https://sts.REGION.amazonaws.com.
 *
 * Region: the mount's `region`, AWS_REGION, AWS_DEFAULT_REGION, the
 * profile's region, IMDS placement (only when IMDS gave the credentials,
 * so a machine off EC2 never waits for it), else us-east-1.
 */
#ifndef UFS_CREDS_AWS_H
#define UFS_CREDS_AWS_H

#include <stddef.h>

#include "protocols/credsrc.h"

struct ufs_mount_cfg;

struct ufs_aws_ident {
	struct ufs_credsrc *cred; /* owned */
	char *region;		  /* owned */
	const char *region_from;  /* "mount", "AWS_REGION", "profile", "IMDS", "default" */
	char *endpoint_url;	  /* the profile's endpoint_url (owned) or NULL */
};

/*
 * Resolve credentials and region of mount m as above. 0 with *pid filled
 * (release with ufs_aws_ident_clear()), or -errno with a one-line reason
 * in err: -ENOENT when no source has credentials ("no AWS credentials
 * found: ..."), a source's own error otherwise.
 */
int ufs_aws_identity(const struct ufs_mount_cfg *m, struct ufs_aws_ident *pid, char *err,
		     size_t errlen);

/* Release what pid owns; pid is zeroed. */
void ufs_aws_ident_clear(struct ufs_aws_ident *pid);

#endif

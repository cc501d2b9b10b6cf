/*
 * creds.h — AWS credentials for the S3 backend: the mount section's own
 * keys (access_key_id, secret_access_key, session_token), the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or an AWS
 * shared-credentials file and profile. Secrets are never logged; a file
 * readable by group/other is refused.
 */
#ifndef UFS_CREDS_H
#define UFS_CREDS_H

#include <stddef.h>

struct ufs_aws_creds {
	char *access_key;
	char *secret_key;
	char *session_token; /* NULL when none */
	char *source;	     /* where they came from, for messages: "environment", a path */
};

/*
 * Load credentials. file: an explicit credentials file (config key), or NULL:
 * then the environment wins when AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
 * are set, else $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials is read.
 * profile: NULL = $AWS_PROFILE or "default". On success 0 and *pc filled
 * (owned; free with ufs_aws_creds_clear); else -errno with a one-line reason
 * in err (-ENOENT: none found, -EPERM: file readable by others, -EINVAL:
 * profile or keys missing in the file).
 */
int ufs_aws_creds_load(const char *file, const char *profile, struct ufs_aws_creds *pc, char *err,
		       size_t errlen);

struct ufs_mount_cfg;

/*
 * Credentials for mount m, first source that has them: the section's
 * access_key_id + secret_access_key (+ optional session_token; source
 * "config file"), then ufs_aws_creds_load(credentials_file, profile). A
 * section with only some of the three keys is refused with -EINVAL and a
 * reason naming the missing key (values never appear in err). Otherwise as
 * ufs_aws_creds_load().
 */
int ufs_aws_creds_for_mount(const struct ufs_mount_cfg *m, struct ufs_aws_creds *pc, char *err,
			    size_t errlen);

/* Wipe and free what pc owns; pc is zeroed. */
void ufs_aws_creds_clear(struct ufs_aws_creds *pc);

/*
 * Parse one profile of a shared-credentials file held in memory (text, NUL-
 * terminated). 0 with *pc filled (source left NULL), -EINVAL when the
 * profile or one of its two keys is missing, -ENOMEM.
 */
int ufs_aws_creds_parse(const char *text, const char *profile, struct ufs_aws_creds *pc);

#endif

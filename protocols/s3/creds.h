/*
 * creds.h — the static AWS credentials and the shared files: the mount
 * section's own keys (access_key_id, secret_access_key, session_token), the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
 * an AWS shared-credentials file and profile, and the profiles of the
 * shared config and credentials files with every key the credential chain
 * reads (protocols/s3/creds_aws.c). Pure file reading and parsing, no network.
 * Secrets are never logged; a file holding a secret that is readable by
 * group/other is refused.
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

/* The keys of one profile the credential chain reads (names as in the
 * files: region, role_arn, ...). */
enum ufs_awsp_key {
	UFS_AWSP_REGION,
	UFS_AWSP_ROLE_ARN,
	UFS_AWSP_SOURCE_PROFILE,
	UFS_AWSP_CREDENTIAL_SOURCE,
	UFS_AWSP_CREDENTIAL_PROCESS,
	UFS_AWSP_WEB_IDENTITY_TOKEN_FILE,
	UFS_AWSP_ROLE_SESSION_NAME,
	UFS_AWSP_EXTERNAL_ID,
	UFS_AWSP_ENDPOINT_URL,
	UFS_AWSP_ACCESS_KEY,
	UFS_AWSP_SECRET_KEY,
	UFS_AWSP_SESSION_TOKEN,
	UFS_AWSP_N
};

/* One profile merged from the config and credentials files. v[k]: owned
 * value or NULL. found: the profile's section exists in one of the files. */
struct ufs_aws_profile {
	char *v[UFS_AWSP_N];
	int found;
	char path[256]; /* the file the profile was found in last, for messages */
};

/*
 * Merge profile name of one file's text into *p (zero it before the first
 * call). is_config: the shared config file, whose sections are
 * "[profile NAME]" (and "[default]" or "[profile default]" for default);
 * otherwise the credentials file, whose sections are "[NAME]". A key already
 * in *p is replaced (read the config file first: the credentials file wins).
 * 0 or -ENOMEM (p then holds what was read).
 */
int ufs_aws_profile_parse(const char *text, int is_config, const char *name,
			  struct ufs_aws_profile *p);

/*
 * Read profile name from $AWS_CONFIG_FILE (default ~/.aws/config) and
 * $AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials); missing files
 * are fine. 0 with *p filled (free with ufs_aws_profile_clear()); -ENOENT
 * when neither file has the profile; -EPERM when a file holding a secret
 * key is readable by group/other; other -errno; a reason in err.
 */
int ufs_aws_profile_load(const char *name, struct ufs_aws_profile *p, char *err, size_t errlen);

/* Wipe and free the values of p; p is zeroed. */
void ufs_aws_profile_clear(struct ufs_aws_profile *p);

/* The file name of key k ("region", "role_arn", ...). */
const char *ufs_aws_profile_key_name(enum ufs_awsp_key k);

#endif

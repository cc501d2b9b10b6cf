/*
 * fuzz_tokens.c — libFuzzer target: the answers of token services, which a
 * hostile or broken service (or anyone on a plain-http path to it) controls:
 * the JSON member reader (common/json.c), the credentials of EC2/ECS
 * metadata and credential_process (creds_aws_src.c), STS XML answers, and
 * Azure AD / managed identity token answers (creds_azure.c).
 *
 * Input: any bytes, parsed by each reader. A reader must not crash or leak;
 * an accepted AWS answer has an access key id and a secret, an accepted
 * Azure answer a token and an expiry; a value read back is a C string no
 * longer than the input (decoding only shrinks).
 *
 * Run by hand: build-fuzz/fuzz_tokens
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "protocols/s3/creds_aws_i.h"
#include "protocols/azure/creds_azure.h"
#include "tests/fuzz/helper_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_json_keys(const char *text, size_t size)
{
	static const char *const keys[] = {"AccessKeyId", "Expiration", "access_token", "a", ""};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = NULL;
		int rc = ufs_json_get(text, size, keys[i], &v);

		UFS_FUZZ_CHECK(rc == 0 || v == NULL, "no value on failure");
		if (v)
			UFS_FUZZ_CHECK(strlen(v) <= size, "a value is no longer than the input");
		free(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = ufs_fuzz_str(data, size);
	struct ufs_cred_set *s = NULL;
	char err[256];

	if (!text)
		return 0;
	fuzz_json_keys(text, strlen(text));
	size = strlen(text);
	if (ufs_aws_parse_json_creds("fuzz", text, size, &s, err, sizeof(err)) == 0) {
		UFS_FUZZ_CHECK(s->id && *s->id && s->secret && *s->secret, "AWS keys present");
		ufs_cred_set_put(s);
	}
	s = NULL;
	if (ufs_aws_parse_sts("AssumeRoleWithWebIdentity", text, size, &s, err, sizeof(err)) == 0) {
		UFS_FUZZ_CHECK(s->id && s->secret && s->expires, "STS keys and expiry present");
		ufs_cred_set_put(s);
	}
	s = NULL;
	if (ufs_az_parse_token("fuzz", text, size, 1000, &s, err, sizeof(err)) == 0) {
		UFS_FUZZ_CHECK(s->token && *s->token && s->expires > 0, "Azure token and expiry");
		ufs_cred_set_put(s);
	}
	free(text);
	return 0;
}

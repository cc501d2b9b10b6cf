/*
 * sigv4_driver.c — reads requests on stdin, signs each with unifs' SigV4
 * signer (protocols/sign.c, S3 mode) and prints the canonical request and
 * signature, for the differential test against botocore (sigv4_diff.py).
 *
 * Input: one request per line, tab-separated hex fields:
 *   method path query payload_hash amz_date access_key secret_key token
 *   region headers
 * where path and query are as sent (percent-encoded), token may be empty,
 * and headers is "Name: value" lines joined by '\n'.
 * Output per request: "hex(canonical_request)\tsignature\n", or
 * "ERROR\t<errno>\n" when the signer refuses the request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http/http.h"
#include "protocols/sign.h"

#define NFIELDS 10

/* Decode hex s in place; -1 when malformed. */
static int hex_decode(char *s)
{
	size_t n = strlen(s), o = 0;

	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;

		if (sscanf(s + i, "%2x", &v) != 1)
			return -1;
		s[o++] = (char)v;
	}
	s[o] = '\0';
	return 0;
}

static int split_fields(char *line, char **f)
{
	char *save = NULL;
	int n = 0;

	for (char *t = strtok_r(line, "\t\n", &save); t && n < NFIELDS;
	     t = strtok_r(NULL, "\t\n", &save)) {
		if (strcmp(t, "-") == 0)
			*t = '\0';
		else if (hex_decode(t) != 0)
			return -1;
		f[n++] = t;
	}
	return n == NFIELDS ? 0 : -1;
}

static int add_headers(struct ufs_http_hdrs *h, char *text)
{
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (ufs_http_hdrs_add(h, "%s", l) != 0)
			return -ENOMEM;
	return 0;
}

static void sign_one(char **f)
{
	struct ufs_http_hdrs h = {0};
	struct ufs_sigv4_key k = {.access_key = f[5],
				  .secret_key = f[6],
				  .session_token = *f[7] ? f[7] : NULL,
				  .region = f[8],
				  .service = "s3"};
	struct ufs_sigv4_req r = {.method = f[0],
				  .path = f[1],
				  .query = f[2],
				  .headers = &h,
				  .payload_hash = f[3],
				  .amz_date = f[4],
				  .content_sha_header = 1};
	struct ufs_sigv4_out out;
	int rc = add_headers(&h, f[9]);

	if (!rc)
		rc = ufs_sigv4_sign(&r, &k, &out);
	if (rc) {
		printf("ERROR\t%d\n", -rc);
	} else {
		for (const unsigned char *c = (const unsigned char *)out.canonical_request; *c; c++)
			printf("%02x", *c);
		printf("\t%s\n", out.signature);
		ufs_sigv4_out_free(&out);
	}
	ufs_http_hdrs_clear(&h);
}

int main(void)
{
	size_t cap = 0;
	char *line = NULL;

	while (getline(&line, &cap, stdin) > 0) {
		char *f[NFIELDS];

		if (split_fields(line, f) != 0) {
			fprintf(stderr, "sigv4_driver: malformed input line\n");
			free(line);
			return 2;
		}
		sign_one(f);
	}
	free(line);
	return 0;
}

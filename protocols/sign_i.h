/*
 * sign_i.h — the canonical-request pieces that the two header signers
 * share: AWS SigV4 (sign.c) and Azure SharedKey (azure/az_sign.c) both
 * sort and fold the request's headers and sort its query parameters the
 * same way. Private to the signers; callers use sign.h or azure/az_sign.h.
 */
#ifndef UFS_SIGN_I_H
#define UFS_SIGN_I_H

#include <stddef.h>

#include "common/strbuf.h"

/* One header to sign: lower-case name, folded value, original position. */
struct ufs_sign_hdr {
	char *name;
	char *value;
	size_t order;
};

/* The headers of one request, parsed (and sorted by ufs_sign_hdr_cmp). */
struct ufs_sign_hdrset {
	struct ufs_sign_hdr *h;
	size_t n;
};

/* One query parameter, encoded (or decoded, as the scheme wants). */
struct ufs_sign_param {
	char *name;
	char *value;
};

/* qsort order of parameters: by name, then value. */
int ufs_sign_param_cmp(const void *a, const void *b);

/* qsort order of headers: by name, then original position. */
int ufs_sign_hdr_cmp(const void *a, const void *b);

/* Parse "Name: value" into h: lower-case name, value trimmed with inner
 * blank runs folded to one space. 0 or -ENOMEM (h's strings may be set:
 * free with the set). */
int ufs_sign_hdr_parse(const char *line, size_t order, struct ufs_sign_hdr *h);

/* Free every header of s and its array. */
void ufs_sign_hdrset_free(struct ufs_sign_hdrset *s);

/* Append the canonical headers block of sorted s to b ("name:v1,v2\n" per
 * name) and the ';'-joined names to signed_names. */
void ufs_sign_canonical_headers(struct ufs_strbuf *b, struct ufs_strbuf *signed_names,
				const struct ufs_sign_hdrset *s);

#endif

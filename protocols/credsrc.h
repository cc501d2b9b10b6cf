/*
 * credsrc.h — a credential that renews itself: the one object a backend's
 * worker threads share for the AWS keys or the Azure bearer token they sign
 * with, whatever source (environment, file, STS, IMDS, Azure AD, ...) fills
 * it.
 *
 * A source is a fetch function. create() fetches once, synchronously (so a
 * mount with no usable credentials fails at once, with the source's
 * reason); when the set expires, a refresh thread fetches the next one
 * ahead of time (UFS_CREDSRC_MARGIN below) and swaps it in. Readers take a
 * reference to the current set under a short lock and sign with it: a
 * request in flight keeps its set, the next one gets the new set, and no
 * reader ever waits for a fetch. A failed refresh keeps the old set while it
 * is valid, is logged once per failure streak (one line), counted, and
 * retried with exponential backoff (1 s doubling to 60 s, never later than
 * the expiry; at most 5 s apart once expired). Once the set has expired, get() fails with
 * -EKEYEXPIRED and the reason of the last failure.
 */
#ifndef UFS_CREDSRC_H
#define UFS_CREDSRC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A refresh starts this long before expiry, at most a third of the lifetime
 * (so a 60 s credential is renewed after 40 s). */
#define UFS_CREDSRC_MARGIN 300

/* One immutable credential set, reference counted. AWS: id = access key id,
 * secret = secret access key, token = session token (NULL when none); Azure
 * bearer: token only. expires: UTC seconds, 0 = never. */
struct ufs_cred_set {
	int refs; /* atomic */
	char *id;
	char *secret;
	char *token;
	time_t expires;
};

/* A new set holding copies of the strings (id/secret/token may be NULL);
 * refs = 1. NULL on ENOMEM. Marks the process non-dumpable (it holds a
 * secret). */
struct ufs_cred_set *ufs_cred_set_new(const char *id, const char *secret, const char *token,
				      time_t expires);
/* Drop one reference; the last one wipes and frees the set. NULL is fine. */
void ufs_cred_set_put(struct ufs_cred_set *s);

/*
 * Fetch a fresh set from the source into *pset (refs = 1, owned by the
 * caller). 0, or -errno with a one-line reason in err (no secret in it).
 * Called from create() and from the refresh thread, never concurrently.
 */
typedef int (*ufs_cred_fetch_fn)(void *arg, struct ufs_cred_set **pset, char *err, size_t errlen);

struct ufs_credsrc;

/*
 * A credential from fetch(arg), described as source (copied; "environment",
 * "web identity (role R)", "IMDS", ...; shown by stats and doctor). Fetches
 * the first set now; a set that is already expired is refused (-EKEYEXPIRED
 * "credentials from SOURCE expired at T"). On success *psrc owns arg (freed
 * by free_arg, may be NULL, at destroy) and the refresh thread runs when the
 * set expires. On failure -errno with the reason in err, and free_arg(arg)
 * has been called.
 */
int ufs_credsrc_create(const char *source, ufs_cred_fetch_fn fetch, void *arg,
		       void (*free_arg)(void *), struct ufs_credsrc **psrc, char *err,
		       size_t errlen);

/* A credential that never changes (keys from the config or the environment):
 * takes ownership of set. 0 or -ENOMEM (set is released). */
int ufs_credsrc_static(const char *source, struct ufs_cred_set *set, struct ufs_credsrc **psrc);

/*
 * A reference to the current set (release with ufs_cred_set_put()). Never
 * blocks on a fetch. NULL when the current set has expired (refresh failing):
 * then the last failure's reason is in err (may be NULL).
 */
struct ufs_cred_set *ufs_credsrc_get(struct ufs_credsrc *src, char *err, size_t errlen);

/* What stats, doctor and metrics show (no secret). */
struct ufs_credsrc_info {
	char source[96];
	time_t expires;		   /* current set's expiry, 0 = never */
	uint64_t refreshes;	   /* successful refreshes after the first fetch */
	uint64_t refresh_failures; /* failed refresh attempts */
	char last_error[200];	   /* reason of the last failure, "" if none */
};

/* Fill *pinfo from src (NULL src: zeroed, source ""). Thread-safe. */
void ufs_credsrc_info(struct ufs_credsrc *src, struct ufs_credsrc_info *pinfo);

/* Seconds a set fetched at now and expiring at exp is renewed before exp. */
time_t ufs_credsrc_margin(time_t now, time_t exp);

/* Stop the refresh thread, release the set and the source. NULL is a no-op. */
void ufs_credsrc_destroy(struct ufs_credsrc *src);

#endif

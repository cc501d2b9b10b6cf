/*
 * credsrc.c — the self-renewing credential; see credsrc.h for the contract.
 *
 * State (under lock): cur, the set readers get (never NULL after create);
 * next_at, when the thread fetches next; fail streak and last error; stop.
 * The refresh thread is started on the first set that expires and sleeps on
 * cond until next_at or stop. It fetches with the lock released (a fetch may
 * take seconds: readers keep taking cur meanwhile), then swaps cur under the
 * lock and drops the old set's reference; a reader holding it finishes with
 * it. Lock order: only this lock; fetch callbacks never call back in here.
 */
#include "protocols/credsrc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/secret.h"

#define CREDSRC_BACKOFF_MIN 1
#define CREDSRC_BACKOFF_MAX 60
#define CREDSRC_BACKOFF_EXPIRED 5

struct ufs_credsrc {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int thread_started;
	int stop;
	struct ufs_cred_set *cur;
	time_t next_at;	 /* next fetch (UTC seconds) */
	unsigned streak; /* failures in a row */
	uint64_t refreshes, failures;
	char last_error[200];
	char source[96];
	ufs_cred_fetch_fn fetch;
	void *arg;
	void (*free_arg)(void *);
};

static void credsrc_wipe(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

struct ufs_cred_set *ufs_cred_set_new(const char *id, const char *secret, const char *token,
				      time_t expires)
{
	struct ufs_cred_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->refs = 1;
	s->expires = expires;
	s->id = id ? strdup(id) : NULL;
	s->secret = secret ? strdup(secret) : NULL;
	s->token = token && *token ? strdup(token) : NULL;
	if ((id && !s->id) || (secret && !s->secret) || (token && *token && !s->token)) {
		ufs_cred_set_put(s);
		return NULL;
	}
	ufs_secret_no_dump();
	return s;
}

void ufs_cred_set_put(struct ufs_cred_set *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	credsrc_wipe(s->id);
	credsrc_wipe(s->secret);
	credsrc_wipe(s->token);
	free(s);
}

time_t ufs_credsrc_margin(time_t now, time_t exp)
{
	time_t life = exp > now ? exp - now : 0;

	return life / 3 < UFS_CREDSRC_MARGIN ? life / 3 : UFS_CREDSRC_MARGIN;
}

/* When to fetch after a failure: backoff, but before the set expires when
 * there is still time. Called with the lock held. */
static time_t credsrc_retry_at(struct ufs_credsrc *s, time_t now)
{
	time_t wait = CREDSRC_BACKOFF_MIN;

	for (unsigned i = 1; i < s->streak && wait < CREDSRC_BACKOFF_MAX; i++)
		wait *= 2;
	if (wait > CREDSRC_BACKOFF_MAX)
		wait = CREDSRC_BACKOFF_MAX;
	if (s->cur->expires && s->cur->expires <= now && wait > CREDSRC_BACKOFF_EXPIRED)
		wait = CREDSRC_BACKOFF_EXPIRED; /* requests fail meanwhile: try often */
	if (s->cur->expires > now && now + wait > s->cur->expires - 1)
		wait = s->cur->expires - 1 - now > 0 ? s->cur->expires - 1 - now : 1;
	return now + wait;
}

/* One fetch, refusing sets that are already expired. */
static int credsrc_fetch(struct ufs_credsrc *s, struct ufs_cred_set **pset, char *err,
			 size_t errlen)
{
	time_t now = time(NULL);
	int rc = s->fetch(s->arg, pset, err, errlen);

	if (rc == 0 && (*pset)->expires && (*pset)->expires <= now) {
		struct tm tm;
		char when[32];

		gmtime_r(&(*pset)->expires, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(err, errlen, "credentials from %s expired at %s (check the clock)",
			 s->source, when);
		ufs_cred_set_put(*pset);
		*pset = NULL;
		rc = -EKEYEXPIRED;
	}
	return rc;
}

static void credsrc_refresh(struct ufs_credsrc *s)
{
	struct ufs_cred_set *set = NULL, *old = NULL;
	char err[200] = "";
	int rc = credsrc_fetch(s, &set, err, sizeof(err));
	time_t now = time(NULL);

	pthread_mutex_lock(&s->lock);
	if (rc == 0) {
		old = s->cur;
		s->cur = set;
		s->refreshes++;
		if (s->streak)
			ufs_info("credentials from %s: refresh succeeded again", s->source);
		s->streak = 0;
		s->next_at =
		    set->expires ? set->expires - ufs_credsrc_margin(now, set->expires) : 0;
	} else {
		s->failures++;
		if (!s->streak)
			ufs_warn("credentials from %s: refresh failed (keeping the current ones "
				 "until they expire): %s",
				 s->source, err);
		s->streak++;
		snprintf(s->last_error, sizeof(s->last_error), "%s", err);
		s->next_at = credsrc_retry_at(s, now);
	}
	pthread_mutex_unlock(&s->lock);
	ufs_cred_set_put(old);
}

static void *credsrc_thread(void *arg)
{
	struct ufs_credsrc *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct timespec ts = {s->next_at, 0};

		if (!s->next_at) {
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		if (time(NULL) < s->next_at) {
			pthread_cond_timedwait(&s->cond, &s->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&s->lock);
		credsrc_refresh(s);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static struct ufs_credsrc *credsrc_alloc(const char *source)
{
	struct ufs_credsrc *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	snprintf(s->source, sizeof(s->source), "%s", source);
	return s;
}

int ufs_credsrc_static(const char *source, struct ufs_cred_set *set, struct ufs_credsrc **psrc)
{
	struct ufs_credsrc *s = credsrc_alloc(source);

	if (!s) {
		ufs_cred_set_put(set);
		return -ENOMEM;
	}
	s->cur = set;
	*psrc = s;
	return 0;
}

int ufs_credsrc_create(const char *source, ufs_cred_fetch_fn fetch, void *arg,
		       void (*free_arg)(void *), struct ufs_credsrc **psrc, char *err,
		       size_t errlen)
{
	struct ufs_credsrc *s = credsrc_alloc(source);
	struct ufs_cred_set *set = NULL;
	int rc = s ? 0 : -ENOMEM;

	if (s) {
		s->fetch = fetch;
		s->arg = arg;
		s->free_arg = free_arg;
		rc = credsrc_fetch(s, &set, err, errlen);
	}
	if (rc) {
		if (s)
			s->arg = NULL;
		ufs_credsrc_destroy(s);
		if (free_arg)
			free_arg(arg);
		return rc;
	}
	s->cur = set;
	if (set->expires) {
		s->next_at = set->expires - ufs_credsrc_margin(time(NULL), set->expires);
		if (pthread_create(&s->thread, NULL, credsrc_thread, s) != 0) {
			snprintf(err, errlen, "cannot start the credential refresh thread");
			ufs_credsrc_destroy(s);
			return -EAGAIN;
		}
		s->thread_started = 1;
	}
	*psrc = s;
	return 0;
}

struct ufs_cred_set *ufs_credsrc_get(struct ufs_credsrc *s, char *err, size_t errlen)
{
	struct ufs_cred_set *set = NULL;

	pthread_mutex_lock(&s->lock);
	if (!s->cur->expires || s->cur->expires > time(NULL)) {
		set = s->cur;
		__atomic_add_fetch(&set->refs, 1, __ATOMIC_ACQ_REL);
	} else if (err && errlen) {
		snprintf(err, errlen, "credentials from %s expired; refresh failing: %s", s->source,
			 s->last_error[0] ? s->last_error : "no answer yet");
	}
	pthread_mutex_unlock(&s->lock);
	return set;
}

void ufs_credsrc_info(struct ufs_credsrc *s, struct ufs_credsrc_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	snprintf(pi->source, sizeof(pi->source), "%s", s->source);
	pi->expires = s->cur ? s->cur->expires : 0;
	pi->refreshes = s->refreshes;
	pi->refresh_failures = s->failures;
	snprintf(pi->last_error, sizeof(pi->last_error), "%s", s->last_error);
	pthread_mutex_unlock(&s->lock);
}

void ufs_credsrc_destroy(struct ufs_credsrc *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	ufs_cred_set_put(s->cur);
	if (s->free_arg && s->arg)
		s->free_arg(s->arg);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

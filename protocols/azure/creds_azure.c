/*
 * creds_azure.c — the Azure AD token chain (service principal, workload
 * identity, managed identity); see creds_azure.h for the order. Each source
 * is a fetch function over creds_http.c; the token is kept fresh by
 * credsrc.c. The client certificate's JWT is made in creds_azure_cert.c.
 */
#include "protocols/azure/creds_azure.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/secret.h"
#include "protocols/s3/creds.h"
#include "protocols/creds_http.h"
#include "protocols/http/http.h"

#define AZ_SCOPE "https://storage.azure.com/.default"
#define AZ_RESOURCE "https://storage.azure.com/"
#define AZ_AUTHORITY "https://login.microsoftonline.com"
#define AZ_IMDS "http://169.254.169.254"
#define AZ_MAX_EPOCH 4102444800LL  /* 2100-01-01: a larger expires_on is garbage */
#define AZ_MAX_LIFETIME 31536000LL /* a year: a larger expires_in is garbage */
#define AZ_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

enum az_src_kind { AZ_SRC_SECRET, AZ_SRC_CERT, AZ_SRC_FEDERATED, AZ_SRC_APPSERVICE, AZ_SRC_IMDS };

struct az_src {
	enum az_src_kind kind;
	char *url;	 /* token endpoint (query included for managed identity) */
	char *client_id; /* AAD sources */
	char *secret;	 /* client secret, or the certificate / federated token path */
	char *header;	 /* managed identity: "Metadata: true" / "X-IDENTITY-HEADER: ..." */
};

static void az_src_free(void *arg)
{
	struct az_src *s = arg;

	if (!s)
		return;
	free(s->url);
	free(s->client_id);
	ufs_secret_free(s->secret);
	ufs_secret_free(s->header);
	free(s);
}

static const char *az_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A decimal number of seconds in (0, max] (JSON number or string). 0 or -EINVAL. */
static int az_secs(const char *s, long long max, long long *pv)
{
	char *end = NULL;

	if (!s)
		return -EINVAL;
	errno = 0;
	*pv = strtoll(s, &end, 10);
	return errno == 0 && end != s && !*end && *pv > 0 && *pv <= max ? 0 : -EINVAL;
}

int ufs_az_parse_token(const char *what, const char *json, size_t len, time_t now,
		       struct ufs_cred_set **pset, char *err, size_t errlen)
{
	static const char *const keys[] = {"access_token", "expires_on", "expires_in"};
	char *tok = NULL, *on = NULL, *in = NULL;
	char **const vals[] = {&tok, &on, &in};
	struct ufs_strbuf b = {.s = (char *)json, .len = len};
	time_t exp = 0;
	long long v;
	int rc = ufs_creds_json(what, &b, keys, vals, 3, err, errlen);

	if (rc)
		return rc;
	if (az_secs(on, AZ_MAX_EPOCH, &v) == 0)
		exp = (time_t)v;
	else if (az_secs(in, AZ_MAX_LIFETIME, &v) == 0)
		exp = now + (time_t)v;
	if (!tok || !*tok) {
		snprintf(err, errlen, "%s: the answer lacks access_token", what);
		rc = -EINVAL;
	} else if (!exp) {
		snprintf(err, errlen, "%s: the answer lacks a readable expires_on / expires_in",
			 what);
		rc = -EINVAL;
	} else {
		*pset = ufs_cred_set_new(NULL, NULL, tok, exp);
		rc = *pset ? 0 : -ENOMEM;
	}
	ufs_secret_free(tok);
	free(on);
	free(in);
	return rc;
}

/* The form body of a client-credentials grant; NULL on ENOMEM. */
static char *az_form(const struct az_src *s, const char *secret_key, const char *secret)
{
	char *cid = ufs_uri_encode(s->client_id, strlen(s->client_id), 0);
	char *sec = ufs_uri_encode(secret, strlen(secret), 0);
	char *scope = ufs_uri_encode(AZ_SCOPE, strlen(AZ_SCOPE), 0);
	char *body = NULL;

	if (cid && sec && scope &&
	    asprintf(&body, "grant_type=client_credentials&client_id=%s&scope=%s%s&%s=%s", cid,
		     scope,
		     strcmp(secret_key, "client_assertion") == 0
			 ? "&client_assertion_type=" AZ_ASSERTION_TYPE
			 : "",
		     secret_key, sec) < 0)
		body = NULL;
	free(cid);
	ufs_secret_free(sec);
	free(scope);
	return body;
}

/* The secret a grant sends: the client secret, a fresh certificate JWT or
 * the federated token file's current contents. */
static int az_grant_secret(const struct az_src *s, char **psec, const char **pkey, char *err,
			   size_t errlen)
{
	*pkey = "client_assertion";
	if (s->kind == AZ_SRC_SECRET) {
		*pkey = "client_secret";
		*psec = strdup(s->secret);
		return *psec ? 0 : -ENOMEM;
	}
	if (s->kind == AZ_SRC_CERT) {
		char aud[512];

		snprintf(aud, sizeof(aud), "%.*s", (int)strcspn(s->url, "?"), s->url);
		return ufs_az_client_assertion(s->secret, s->client_id, aud, psec, err, errlen);
	}
	return ufs_creds_read_token(s->secret, psec, err, errlen);
}

static const struct ufs_creds_opts az_imds_opts = {NULL, NULL, UFS_CREDS_METADATA_TIMEOUT};

static int az_fetch(void *arg, struct ufs_cred_set **pset, char *err, size_t errlen)
{
	struct az_src *s = arg;
	const char *hdrs[] = {s->header, NULL}, *key;
	struct ufs_strbuf out = {0};
	char *sec = NULL, *body = NULL;
	const char *what = s->kind <= AZ_SRC_FEDERATED ? "Azure AD token" : "managed identity";
	time_t now = time(NULL);
	int rc = 0;

	if (s->kind <= AZ_SRC_FEDERATED) {
		rc = az_grant_secret(s, &sec, &key, err, errlen);
		if (!rc && !(body = az_form(s, key, sec)))
			rc = -ENOMEM;
		ufs_secret_free(sec);
	}
	if (!rc)
		rc = ufs_creds_http(what, body ? "POST" : "GET", s->url, hdrs, body,
				    s->kind == AZ_SRC_IMDS ? &az_imds_opts : NULL, &out, err,
				    errlen);
	if (!rc)
		rc = ufs_az_parse_token(what, out.s ? out.s : "", out.len, now, pset, err, errlen);
	ufs_secret_free(body);
	ufs_secret_free(out.s);
	return rc;
}

static int az_start(struct az_src *s, const char *what, struct ufs_credsrc **psrc, char *err,
		    size_t errlen)
{
	return ufs_credsrc_create(what, az_fetch, s, az_src_free, psrc, err, errlen);
}

/* 1 and 2: an AAD client-credentials source of the given kind. */
static int az_aad(enum az_src_kind kind, const char *secret, struct ufs_credsrc **psrc, char *err,
		  size_t errlen)
{
	const char *host = az_env("AZURE_AUTHORITY_HOST");
	struct az_src *s = calloc(1, sizeof(*s));
	static const char *const names[] = {"service principal (client secret)",
					    "service principal (certificate)", "workload identity"};
	size_t hl;

	if (!s)
		return -ENOMEM;
	host = host ? host : AZ_AUTHORITY;
	hl = strlen(host);
	while (hl > 0 && host[hl - 1] == '/')
		hl--;
	s->kind = kind;
	s->client_id = strdup(az_env("AZURE_CLIENT_ID"));
	s->secret = strdup(secret);
	if (asprintf(&s->url, "%.*s/%s/oauth2/v2.0/token", (int)hl, host,
		     az_env("AZURE_TENANT_ID")) < 0)
		s->url = NULL;
	if (!s->client_id || !s->secret || !s->url) {
		az_src_free(s);
		return -ENOMEM;
	}
	return az_start(s, names[kind], psrc, err, errlen);
}

/* The identity selection query of a user-assigned managed identity. */
static char *az_mi_select(const struct ufs_mount_cfg *m, int appservice)
{
	static const char *const keys[] = {"client_id", "object_id", "msi_res_id"};
	static const char *const app[] = {"client_id", "principal_id", "mi_res_id"};
	char *q = NULL, *e;

	for (int i = 0; i < 3; i++) {
		const char *v = ufs_mcfg_get(m, keys[i]);

		if (!v && i == 0)
			v = az_env("AZURE_CLIENT_ID");
		if (!v || !*v)
			continue;
		e = ufs_uri_encode(v, strlen(v), 0);
		if (!e || asprintf(&q, "&%s=%s", appservice ? app[i] : keys[i], e) < 0)
			q = NULL;
		free(e);
		return q;
	}
	return strdup("");
}

/* 3: managed identity through IDENTITY_ENDPOINT or IMDS. */
static int az_managed(const struct ufs_mount_cfg *m, struct ufs_credsrc **psrc, char *err,
		      size_t errlen)
{
	const char *ie = az_env("IDENTITY_ENDPOINT"), *ih = az_env("IDENTITY_HEADER");
	const char *imds = az_env("UNIFS_AZURE_IMDS_ENDPOINT");
	struct az_src *s = calloc(1, sizeof(*s));
	int app = ie && ih;
	char *sel = az_mi_select(m, app);
	int n;

	if (!s || !sel) {
		free(s);
		free(sel);
		return -ENOMEM;
	}
	s->kind = app ? AZ_SRC_APPSERVICE : AZ_SRC_IMDS;
	if (app)
		n = asprintf(&s->url, "%s?api-version=2019-08-01&resource=%s%s", ie, AZ_RESOURCE,
			     sel);
	else
		n = asprintf(&s->url,
			     "%s/metadata/identity/oauth2/token?api-version=2018-02-01&"
			     "resource=%s%s",
			     imds ? imds : AZ_IMDS, AZ_RESOURCE, sel);
	free(sel);
	if (n < 0 || (app ? asprintf(&s->header, "X-IDENTITY-HEADER: %s", ih)
			  : asprintf(&s->header, "Metadata: true")) < 0) {
		s->header = NULL;
		az_src_free(s);
		return -ENOMEM;
	}
	return az_start(s, app ? "managed identity (IDENTITY_ENDPOINT)" : "managed identity (IMDS)",
			psrc, err, errlen);
}

int ufs_az_identity(const struct ufs_mount_cfg *m, struct ufs_credsrc **psrc, char *err,
		    size_t errlen)
{
	const char *tenant = az_env("AZURE_TENANT_ID"), *client = az_env("AZURE_CLIENT_ID");
	const char *secret = az_env("AZURE_CLIENT_SECRET");
	const char *cert = az_env("AZURE_CLIENT_CERTIFICATE_PATH");
	const char *fed = az_env("AZURE_FEDERATED_TOKEN_FILE");
	int asked, rc;

	if (tenant && client && secret)
		return az_aad(AZ_SRC_SECRET, secret, psrc, err, errlen);
	if (tenant && client && cert)
		return az_aad(AZ_SRC_CERT, cert, psrc, err, errlen);
	if (tenant && client && fed)
		return az_aad(AZ_SRC_FEDERATED, fed, psrc, err, errlen);
	asked = ufs_mcfg_get(m, "client_id") || ufs_mcfg_get(m, "object_id") ||
		ufs_mcfg_get(m, "msi_res_id") ||
		(az_env("IDENTITY_ENDPOINT") && az_env("IDENTITY_HEADER"));
	rc = az_managed(m, psrc, err, errlen);
	if (rc && !asked && rc != -ENOMEM && rc != -EKEYEXPIRED)
		rc = -ENOENT;
	return rc;
}

/*
 * creds_aws_src.c — the AWS token sources of the credential chain: STS
 * (AssumeRoleWithWebIdentity, AssumeRole), container credentials (ECS, EKS
 * Pod Identity), EC2 instance metadata (IMDSv2) and credential_process;
 * see creds_aws_i.h. Each source is a fetch function with its owned
 * arguments, wrapped in a self-renewing credential (credsrc.c), so every
 * fetch re-reads what may rotate (token files) and a failed fetch leaves
 * the current set in place. Requests go through creds_http.c (bounded, one
 * attempt each); answers are parsed here.
 */
#include "protocols/s3/creds_aws_i.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/secret.h"
#include "protocols/s3/creds.h"
#include "protocols/creds_http.h"
#include "protocols/s3/s3_i.h"
#include "protocols/sign.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define CONTAINER_HOST "http://169.254.170.2"
/* What an IAM role name may hold. */
#define AWS_ROLE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-"

/* ---- answers ---- */

static int aws_set_from(const char *what, char *ak, char *sk, char *tok, const char *exp,
			struct ufs_cred_set **pset, char *err, size_t errlen)
{
	time_t expires = 0;

	if (!ak || !*ak || !sk || !*sk) {
		snprintf(err, errlen, "%s: the answer lacks AccessKeyId or SecretAccessKey", what);
		return -EINVAL;
	}
	if (exp && ufs_creds_parse_time(exp, &expires) != 0) {
		snprintf(err, errlen, "%s: unreadable Expiration '%.40s'", what, exp);
		return -EINVAL;
	}
	*pset = ufs_cred_set_new(ak, sk, tok, expires);
	return *pset ? 0 : -ENOMEM;
}

int ufs_aws_parse_json_creds(const char *what, const char *json, size_t len,
			     struct ufs_cred_set **pset, char *err, size_t errlen)
{
	static const char *const keys[] = {"AccessKeyId",  "SecretAccessKey", "Token",
					   "SessionToken", "Expiration",      "Code"};
	char *ak = NULL, *sk = NULL, *tok = NULL, *stok = NULL, *exp = NULL, *code = NULL;
	char **const vals[] = {&ak, &sk, &tok, &stok, &exp, &code};
	struct ufs_strbuf b = {.s = (char *)json, .len = len};
	int rc = ufs_creds_json(what, &b, keys, vals, 6, err, errlen);

	if (rc)
		return rc;
	if (code && strcmp(code, "Success") != 0) {
		snprintf(err, errlen, "%s: answered Code '%.60s'", what, code);
		rc = -EACCES;
	} else {
		rc = aws_set_from(what, ak, sk, tok ? tok : stok, exp, pset, err, errlen);
	}
	for (size_t i = 0; i < 6; i++)
		ufs_secret_free(*vals[i]);
	return rc;
}

int ufs_aws_parse_sts(const char *action, const char *xml, size_t len, struct ufs_cred_set **pset,
		      char *err, size_t errlen)
{
	static const char *const f[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
					"Expiration"};
	char *v[4], path[160], what[64];
	int rc;

	snprintf(what, sizeof(what), "STS %s", action);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%sResponse/%sResult/Credentials/%s", action, action,
			 f[i]);
		v[i] = ufs_s3_xml_text(xml, len, path);
	}
	if (!v[3]) {
		snprintf(err, errlen, "%s: malformed answer (no Credentials/Expiration)", what);
		rc = -EINVAL;
	} else {
		rc = aws_set_from(what, v[0], v[1], v[2], v[3], pset, err, errlen);
	}
	for (int i = 0; i < 4; i++)
		ufs_secret_free(v[i]);
	return rc;
}

/* ---- STS ---- */

char *ufs_aws_sts_endpoint(const char *sts_endpoint, const char *profile_url, const char *region)
{
	const char *c[] = {sts_endpoint, getenv("AWS_ENDPOINT_URL_STS"), getenv("AWS_ENDPOINT_URL"),
			   profile_url};
	char *url = NULL;
	size_t n;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]) && !url; i++)
		if (c[i] && *c[i])
			url = strdup(c[i]);
	if (!url && asprintf(&url, "https://sts.%s.amazonaws.com", region) < 0)
		url = NULL;
	n = url ? strlen(url) : 0;
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	return url;
}

struct aws_sts {
	char *sts, *region, *role, *token_file, *session, *external_id;
	unsigned duration;
	struct ufs_credsrc *base; /* AssumeRole: the credentials that sign */
};

static void aws_sts_free(void *arg)
{
	struct aws_sts *a = arg;

	if (!a)
		return;
	ufs_credsrc_destroy(a->base);
	free(a->sts);
	free(a->region);
	free(a->role);
	free(a->token_file);
	free(a->session);
	free(a->external_id);
	free(a);
}

static struct aws_sts *aws_sts_new(const struct ufs_aws_role *r, const char *token_file)
{
	const char *sts = r->sts, *region = r->region, *role = r->arn, *session = r->session;
	const char *external_id = r->external_id;
	struct aws_sts *a = calloc(1, sizeof(*a));
	char def[64];

	if (!a)
		return NULL;
	snprintf(def, sizeof(def), "unifs-%ld-%ld", (long)getpid(), (long)time(NULL));
	a->sts = strdup(sts);
	a->region = strdup(region);
	a->role = strdup(role);
	a->token_file = token_file ? strdup(token_file) : NULL;
	a->session = strdup(session && *session ? session : def);
	a->external_id = external_id ? strdup(external_id) : NULL;
	a->duration = r->duration;
	if (!a->sts || !a->region || !a->role || !a->session || (token_file && !a->token_file) ||
	    (external_id && !a->external_id)) {
		aws_sts_free(a);
		return NULL;
	}
	return a;
}

/* POST an STS action with the form body; parse the answer. */
static int aws_sts_call(struct aws_sts *a, const char *action, const char *const *hdrs,
			const char *body, const struct ufs_creds_opts *opt,
			struct ufs_cred_set **pset, char *err, size_t errlen)
{
	struct ufs_strbuf out = {0};
	char *url = NULL, what[64];
	int rc;

	snprintf(what, sizeof(what), "STS %s", action);
	if (asprintf(&url, "%s/", a->sts) < 0)
		return -ENOMEM;
	rc = ufs_creds_http(what, "POST", url, hdrs, body, opt, &out, err, errlen);
	if (!rc)
		rc = ufs_aws_parse_sts(action, out.s ? out.s : "", out.len, pset, err, errlen);
	free(url);
	ufs_secret_free(out.s);
	return rc;
}

/* "Action=A&Version=2011-06-15&RoleArn=R&RoleSessionName=S[&DurationSeconds=D]"
 * + the pair k3=v3 when v3 is set. */
static char *aws_sts_form(const char *action, struct aws_sts *a, const char *k3, const char *v3)
{
	char *r = ufs_uri_encode(a->role, strlen(a->role), 0);
	char *s = ufs_uri_encode(a->session, strlen(a->session), 0);
	char *v = v3 ? ufs_uri_encode(v3, strlen(v3), 0) : NULL;
	char *body = NULL, dur[40] = "";

	if (a->duration)
		snprintf(dur, sizeof(dur), "&DurationSeconds=%u", a->duration);
	if (r && s && (!v3 || v) &&
	    asprintf(&body, "Action=%s&Version=2011-06-15&RoleArn=%s&RoleSessionName=%s%s%s%s%s%s",
		     action, r, s, dur, v ? "&" : "", v ? k3 : "", v ? "=" : "", v ? v : "") < 0)
		body = NULL;
	free(r);
	free(s);
	ufs_secret_free(v);
	return body;
}

static int aws_webid_fetch(void *arg, struct ufs_cred_set **pset, char *err, size_t errlen)
{
	struct aws_sts *a = arg;
	char *tok = NULL, *body;
	int rc = ufs_creds_read_token(a->token_file, &tok, err, errlen);

	if (rc)
		return rc;
	body = aws_sts_form("AssumeRoleWithWebIdentity", a, "WebIdentityToken", tok);
	ufs_secret_free(tok);
	if (!body)
		return -ENOMEM;
	rc = aws_sts_call(a, "AssumeRoleWithWebIdentity", NULL, body, NULL, pset, err, errlen);
	ufs_secret_free(body);
	return rc;
}

int ufs_aws_src_web_identity(const struct ufs_aws_role *r, const char *token_file,
			     struct ufs_credsrc **psrc, char *err, size_t errlen)
{
	struct aws_sts *a = aws_sts_new(r, token_file);
	char what[96];

	if (!a)
		return -ENOMEM;
	snprintf(what, sizeof(what), "web identity (%.70s)", r->arn);
	return ufs_credsrc_create(what, aws_webid_fetch, a, aws_sts_free, psrc, err, errlen);
}

/* Sign hook of AssumeRole: SigV4 for service sts with the base credentials. */
static int aws_ar_sign(void *arg, const struct ufs_http_req *req, struct ufs_http_hdrs *pauth)
{
	struct aws_sts *a = arg;
	struct ufs_cred_set *set = ufs_credsrc_get(a->base, NULL, 0);
	char date[UFS_AMZ_DATE_LEN], hash[UFS_SHA256_HEX_LEN];
	const char *p = strstr(req->url, "://");
	int rc;

	if (!set)
		return -EKEYEXPIRED;
	p = p ? p + 3 + strcspn(p + 3, "/") : "/";
	ufs_amz_date(time(NULL), date);
	ufs_sha256_hex(req->body, (size_t)req->body_len, hash);
	struct ufs_sigv4_req r = {
	    .method = req->method,
	    .path = *p ? p : "/",
	    .query = "",
	    .headers = &req->headers,
	    .payload_hash = hash,
	    .amz_date = date,
	};
	struct ufs_sigv4_key k = {set->id, set->secret, set->token, a->region, "sts"};

	rc = ufs_sigv4_add_headers(&r, &k, pauth);
	ufs_cred_set_put(set);
	return rc;
}

static int aws_ar_fetch(void *arg, struct ufs_cred_set **pset, char *err, size_t errlen)
{
	struct aws_sts *a = arg;
	struct ufs_creds_opts opt = {aws_ar_sign, a, 0};
	const char *h = strstr(a->sts, "://");
	char *body = aws_sts_form("AssumeRole", a, "ExternalId", a->external_id);
	char host[300];
	const char *hdrs[] = {host, NULL};
	int rc;

	if (!body)
		return -ENOMEM;
	h = h ? h + 3 : a->sts;
	snprintf(host, sizeof(host), "Host: %.*s", (int)strcspn(h, "/"), h);
	rc = aws_sts_call(a, "AssumeRole", hdrs, body, &opt, pset, err, errlen);
	free(body);
	return rc;
}

int ufs_aws_src_assume_role(const struct ufs_aws_role *r, struct ufs_credsrc *base,
			    struct ufs_credsrc **psrc, char *err, size_t errlen)
{
	struct aws_sts *a = aws_sts_new(r, NULL);
	struct ufs_credsrc_info bi;
	char what[128];

	if (!a) {
		ufs_credsrc_destroy(base);
		return -ENOMEM;
	}
	a->base = base;
	ufs_credsrc_info(base, &bi);
	snprintf(what, sizeof(what), "assume role %.45s via %.30s", r->arn, bi.source);
	return ufs_credsrc_create(what, aws_ar_fetch, a, aws_sts_free, psrc, err, errlen);
}

/* ---- container credentials ---- */

struct aws_container {
	char *url;
};

static void aws_container_free(void *arg)
{
	struct aws_container *c = arg;

	if (c)
		free(c->url);
	free(c);
}

static int aws_container_fetch(void *arg, struct ufs_cred_set **pset, char *err, size_t errlen)
{
	struct aws_container *c = arg;
	const char *tf = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *te = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char *tok = NULL, *auth = NULL;
	const char *hdrs[] = {NULL, NULL};
	struct ufs_strbuf out = {0};
	int rc = 0;

	if (tf && *tf)
		rc = ufs_creds_read_token(tf, &tok, err, errlen);
	else if (te && *te)
		tok = strdup(te);
	if (!rc && (tf || te) && (!tok || asprintf(&auth, "Authorization: %s", tok) < 0))
		rc = -ENOMEM;
	ufs_secret_free(tok);
	hdrs[0] = auth;
	if (!rc)
		rc = ufs_creds_http("container credentials", "GET", c->url, hdrs, NULL, NULL, &out,
				    err, errlen);
	if (!rc)
		rc = ufs_aws_parse_json_creds("container credentials", out.s ? out.s : "", out.len,
					      pset, err, errlen);
	ufs_secret_free(auth);
	ufs_secret_free(out.s);
	return rc;
}

/* The SDKs allow plain http only to loopback and the ECS/EKS agents. */
static int aws_container_url_ok(const char *url)
{
	static const char *const ok[] = {"localhost", "[::1]", "169.254.170.2", "169.254.170.23",
					 "[fd00:ec2::23]"};
	const char *h = url + 7;
	size_t n;

	if (strncasecmp(url, "https://", 8) == 0)
		return 1;
	if (strncasecmp(url, "http://", 7) != 0)
		return 0;
	n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
	if (strncmp(h, "127.", 4) == 0 && n > 4)
		return 1;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == n && strncmp(h, ok[i], n) == 0)
			return 1;
	return 0;
}

int ufs_aws_src_container(struct ufs_credsrc **psrc, char *err, size_t errlen)
{
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	struct aws_container *c;
	int n;

	if ((!full || !*full) && (!rel || !*rel))
		return -ENOENT;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (rel && *rel)
		n = asprintf(&c->url, "%s%s%s", CONTAINER_HOST, rel[0] == '/' ? "" : "/", rel);
	else
		n = asprintf(&c->url, "%s", full);
	if (n < 0) {
		free(c);
		return -ENOMEM;
	}
	if (!aws_container_url_ok(c->url)) {
		snprintf(err, errlen,
			 "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is allowed only to "
			 "loopback or the container agent, not %.80s",
			 c->url);
		aws_container_free(c);
		return -EINVAL;
	}
	return ufs_credsrc_create("container credentials", aws_container_fetch, c,
				  aws_container_free, psrc, err, errlen);
}

/* ---- EC2 instance metadata (IMDSv2) ---- */

static int aws_imds_disabled(void)
{
	const char *d = getenv("AWS_EC2_METADATA_DISABLED");

	return d && strcasecmp(d, "true") == 0;
}

static const char *aws_imds_base(void)
{
	const char *e = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");

	return e && *e ? e : IMDS_DEFAULT;
}

static const struct ufs_creds_opts imds_opts = {NULL, NULL, UFS_CREDS_METADATA_TIMEOUT};

/* GET path of IMDS with a fresh session token (PUT /latest/api/token). */
static int aws_imds_get(const char *path, struct ufs_strbuf *pout, char *err, size_t errlen)
{
	const char *base = aws_imds_base();
	size_t bl = strlen(base);
	struct ufs_strbuf tok = {0};
	const char *th[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
	const char *gh[] = {NULL, NULL};
	char *url = NULL, *hdr = NULL;
	int rc;

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (asprintf(&url, "%.*s/latest/api/token", (int)bl, base) < 0)
		return -ENOMEM;
	rc =
	    ufs_creds_http("IMDS session token", "PUT", url, th, "", &imds_opts, &tok, err, errlen);
	free(url);
	url = NULL;
	if (!rc && (!tok.s || !tok.len)) {
		snprintf(err, errlen, "IMDS session token: empty answer");
		rc = -EINVAL;
	}
	if (!rc && (asprintf(&hdr, "X-aws-ec2-metadata-token: %.*s", (int)strcspn(tok.s, "\r\n"),
			     tok.s) < 0 ||
		    asprintf(&url, "%.*s%s", (int)bl, base, path) < 0))
		rc = -ENOMEM;
	gh[0] = hdr;
	if (!rc)
		rc = ufs_creds_http("IMDS", "GET", url, gh, NULL, &imds_opts, pout, err, errlen);
	ufs_secret_free(tok.s);
	ufs_secret_free(hdr);
	free(url);
	return rc;
}

static int aws_imds_fetch(void *arg, struct ufs_cred_set **pset, char *err, size_t errlen)
{
	struct ufs_strbuf role = {0}, out = {0};
	char *path = NULL;
	int rc;

	(void)arg;
	rc = aws_imds_get("/latest/meta-data/iam/security-credentials/", &role, err, errlen);
	if (!rc && (!role.s || strcspn(role.s, "\r\n") == 0)) {
		snprintf(err, errlen, "IMDS: the instance has no IAM role attached");
		rc = -ENOENT;
	} else if (!rc && strspn(role.s, AWS_ROLE_CHARS) != strcspn(role.s, "\r\n")) {
		snprintf(err, errlen, "IMDS: malformed answer (role name)");
		rc = -EINVAL;
	}
	if (!rc && asprintf(&path, "/latest/meta-data/iam/security-credentials/%.*s",
			    (int)strcspn(role.s, "\r\n"), role.s) < 0)
		rc = -ENOMEM;
	if (!rc)
		rc = aws_imds_get(path, &out, err, errlen);
	if (!rc)
		rc = ufs_aws_parse_json_creds("IMDS role credentials", out.s ? out.s : "", out.len,
					      pset, err, errlen);
	free(path);
	free(role.s);
	ufs_secret_free(out.s);
	return rc;
}

int ufs_aws_src_imds(struct ufs_credsrc **psrc, char *err, size_t errlen)
{
	if (aws_imds_disabled())
		return -ENOENT;
	return ufs_credsrc_create("IMDS instance role", aws_imds_fetch, NULL, NULL, psrc, err,
				  errlen);
}

int ufs_aws_imds_region(char **pregion, char *err, size_t errlen)
{
	struct ufs_strbuf out = {0};
	int rc;

	if (aws_imds_disabled())
		return -ENOENT;
	rc = aws_imds_get("/latest/meta-data/placement/region", &out, err, errlen);
	if (!rc && (!out.s || !out.len))
		rc = -ENOENT;
	if (!rc) {
		out.s[strcspn(out.s, "\r\n \t")] = '\0';
		*pregion = out.s;
		return 0;
	}
	free(out.s);
	return rc;
}

/* ---- credential_process ---- */

struct aws_process {
	char *cmd;
};

static void aws_process_free(void *arg)
{
	struct aws_process *p = arg;

	if (p)
		free(p->cmd);
	free(p);
}

/* Read the child's stdout until EOF, the bound, or the deadline. */
static int aws_process_read(int fd, struct ufs_strbuf *out, time_t deadline)
{
	char buf[4096];

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long left = (long)(deadline - time(NULL));
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)(left * 1000)) == 0)
			return -ETIMEDOUT;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		if (out->len + (size_t)n > UFS_CREDS_HTTP_MAX)
			return -EFBIG;
		ufs_sb_append(out, buf, (size_t)n);
	}
}

static int aws_process_fetch(void *arg, struct ufs_cred_set **pset, char *err, size_t errlen)
{
	struct aws_process *p = arg;
	struct ufs_strbuf out = {0};
	int fds[2], st = 0, rc;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", p->cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -errno;
	}
	rc = aws_process_read(fds[0], &out, time(NULL) + UFS_AWS_PROCESS_TIMEOUT);
	close(fds[0]);
	if (rc)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "credential_process: no answer within %d s (killed)",
			 UFS_AWS_PROCESS_TIMEOUT);
	else if (rc)
		snprintf(err, errlen, "credential_process: %s", strerror(-rc));
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "credential_process: exited with status %d",
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		rc = -EIO;
	} else {
		rc = ufs_aws_parse_json_creds("credential_process", out.s ? out.s : "", out.len,
					      pset, err, errlen);
	}
	ufs_secret_free(out.s);
	return rc;
}

int ufs_aws_src_process(const char *cmd, struct ufs_credsrc **psrc, char *err, size_t errlen)
{
	struct aws_process *p = calloc(1, sizeof(*p));

	if (!p || !(p->cmd = strdup(cmd))) {
		free(p);
		return -ENOMEM;
	}
	return ufs_credsrc_create("credential_process", aws_process_fetch, p, aws_process_free,
				  psrc, err, errlen);
}

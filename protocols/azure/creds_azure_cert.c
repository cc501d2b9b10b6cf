/*
 * creds_azure_cert.c — the JWT client assertion of an Azure AD service
 * principal that authenticates with a certificate (RFC 7523, as MSAL
 * builds it): header {"alg":"RS256","typ":"JWT","x5t":THUMBPRINT}, claims
 * aud (the token endpoint), iss = sub = the client id, a random jti, nbf
 * now and exp ten minutes on; signed with the PEM's private key. The PEM
 * holds the key and the certificate (as AZURE_CLIENT_CERTIFICATE_PATH
 * does); it is read at every refresh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "common/secret.h"
#include "common/strbuf.h"
#include "protocols/azure/creds_azure.h"
#include "protocols/sign.h"

#define AZ_JWT_LIFETIME 600

/* base64url without padding of data, appended to b. */
static void az_b64url(struct ufs_strbuf *b, const void *data, size_t len)
{
	size_t cap = (len + 2) / 3 * 4 + 1;
	char *t = malloc(cap);
	int n;

	if (!t)
		return;
	n = ufs_base64_encode(data, len, t, cap);
	for (int i = 0; i < n; i++)
		t[i] = t[i] == '+' ? '-' : t[i] == '/' ? '_' : t[i];
	while (n > 0 && t[n - 1] == '=')
		n--;
	ufs_sb_append(b, t, n > 0 ? (size_t)n : 0);
	free(t);
}

/* Key and certificate of the PEM file (checked as a secret file). */
static int az_pem_load(const char *path, EVP_PKEY **pkey, X509 **pcert, char *err, size_t errlen)
{
	char *text = NULL;
	BIO *bio;
	int rc = ufs_secret_read(path, 1 << 20, &text, NULL, err, errlen);

	if (rc)
		return rc;
	bio = BIO_new_mem_buf(text, -1);
	*pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	if (bio)
		BIO_free(bio);
	bio = BIO_new_mem_buf(text, -1);
	*pcert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	if (bio)
		BIO_free(bio);
	ufs_secret_free(text);
	if (!*pkey || !*pcert) {
		snprintf(err, errlen, "%s: needs a PEM private key and certificate", path);
		EVP_PKEY_free(*pkey);
		X509_free(*pcert);
		return -EINVAL;
	}
	return 0;
}

/* "header.claims" of the assertion into b. */
static void az_jwt_body(struct ufs_strbuf *b, X509 *cert, const char *client_id, const char *aud)
{
	unsigned char sha1[EVP_MAX_MD_SIZE], jti[16];
	unsigned int n = 0;
	struct ufs_strbuf h = {0}, c = {0};
	time_t now = time(NULL);

	X509_digest(cert, EVP_sha1(), sha1, &n);
	RAND_bytes(jti, sizeof(jti));
	ufs_sb_printf(&h, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"");
	az_b64url(&h, sha1, n);
	ufs_sb_printf(&h, "\"}");
	ufs_sb_printf(&c, "{\"aud\":");
	ufs_sb_json_str(&c, aud);
	ufs_sb_printf(&c, ",\"iss\":");
	ufs_sb_json_str(&c, client_id);
	ufs_sb_printf(&c, ",\"sub\":");
	ufs_sb_json_str(&c, client_id);
	ufs_sb_printf(&c, ",\"jti\":\"");
	for (size_t i = 0; i < sizeof(jti); i++)
		ufs_sb_printf(&c, "%02x", jti[i]);
	ufs_sb_printf(&c, "\",\"nbf\":%lld,\"exp\":%lld}", (long long)now,
		      (long long)now + AZ_JWT_LIFETIME);
	az_b64url(b, h.s, h.len);
	ufs_sb_append(b, ".", 1);
	az_b64url(b, c.s, c.len);
	free(h.s);
	free(c.s);
}

int ufs_az_client_assertion(const char *pem, const char *client_id, const char *aud, char **pjwt,
			    char *err, size_t errlen)
{
	struct ufs_strbuf b = {0};
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char sig[1024];
	size_t slen = sizeof(sig);
	int rc = az_pem_load(pem, &key, &cert, err, errlen);

	if (rc)
		return rc;
	az_jwt_body(&b, cert, client_id, aud);
	md = EVP_MD_CTX_new();
	if (!b.s || !md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &slen, (const unsigned char *)b.s, b.len) != 1) {
		snprintf(err, errlen, "%s: cannot sign the client assertion (an RSA key?)", pem);
		rc = -EINVAL;
	} else {
		ufs_sb_append(&b, ".", 1);
		az_b64url(&b, sig, slen);
		*pjwt = ufs_sb_take(&b);
		rc = *pjwt ? 0 : -ENOMEM;
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	X509_free(cert);
	free(b.s);
	return rc;
}

/*
 * creds_azure.h — the Azure AD token chain of a Blob mount, in
 * DefaultAzureCredential's order, used when the mount has no explicit
 * credential (account key, SAS, connection string, token_file win):
 *
 *   1. service principal from the environment: AZURE_TENANT_ID +
 *      AZURE_CLIENT_ID + AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH:
 *      a PEM with the private key and certificate; an RS256 JWT client
 *      assertion is signed with it)
 *   2. workload identity (AKS): AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID
 *      + AZURE_TENANT_ID, the file re-read at every refresh and sent as the
 *      client assertion
 *   3. managed identity: IDENTITY_ENDPOINT + IDENTITY_HEADER (App Service,
 *      Functions, Arc) or the instance metadata service
 *      (UNIFS_AZURE_IMDS_ENDPOINT, default http://169.254.169.254), with the
 *      mount's client_id / object_id / msi_res_id (or AZURE_CLIENT_ID) for a
 *      user-assigned identity
 *
 * 1 and 2 post to AZURE_AUTHORITY_HOST (default
 * https://login.microsoftonline.com)/TENANT/oauth2/v2.0/token with scope
 * https://storage.azure.com/.default. The result is a self-renewing bearer
 * token (credsrc.h, token in set->token).
 */
#ifndef UFS_CREDS_AZURE_H
#define UFS_CREDS_AZURE_H

#include <stddef.h>

#include "protocols/credsrc.h"

struct ufs_mount_cfg;

/*
 * The first configured source of the chain for mount m into *psrc. 0;
 * -ENOENT when none is configured and the managed identity endpoint does not
 * answer (err says why: the caller may go anonymous); another -errno with a
 * one-line reason in err when a configured source fails (or a managed
 * identity was asked for by client_id / object_id / msi_res_id /
 * IDENTITY_ENDPOINT).
 */
int ufs_az_identity(const struct ufs_mount_cfg *m, struct ufs_credsrc **psrc, char *err,
		    size_t errlen);

/* Parse an Azure token answer (access_token, expires_on or expires_in)
 * received at now. 0 with *pset (token only), -EINVAL with a reason. */
int ufs_az_parse_token(const char *what, const char *json, size_t len, time_t now,
		       struct ufs_cred_set **pset, char *err, size_t errlen);

/*
 * An RS256 JWT client assertion for client_id at the token endpoint aud,
 * signed with the private key of the PEM file pem (which also holds the
 * certificate: its SHA-1 thumbprint is the x5t header). malloc'd into *pjwt.
 * 0 or -errno with a reason. (creds_azure_cert.c)
 */
int ufs_az_client_assertion(const char *pem, const char *client_id, const char *aud, char **pjwt,
			    char *err, size_t errlen);

#endif

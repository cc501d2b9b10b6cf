#!/usr/bin/env bash
# test_rgw_sts.sh — web identity end to end against a server that verifies:
# Ceph RGW's STS. A local OpenID Connect issuer (tests/servers/oidc_idp.py,
# an RSA key and certificate made here) is registered with RGW's IAM API
# (CreateOpenIDConnectProvider, its thumbprint) and trusted by a role made
# with radosgw-admin; unifs gets the role's credentials with
# AssumeRoleWithWebIdentity (RGW fetches the issuer's JWKS and checks the
# token's signature), for 20 s at a time (role_duration), and RGW verifies
# every request signed with them. A mount then writes, reads and lists
# continuously across at least two renewals with no error, and a token
# RGW does not trust is refused with a one-line error.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cloud_lib.sh"
ufs_begin "rgw sts"

rgw_up
source "$UFS_TEST_DIR/rgw/env"
C=$UFS_TEST_DIR/rgw/ceph.conf
[[ $(timeout 20 ceph -c "$C" daemon client.rgw.gw config get rgw_s3_auth_use_sts 2>/dev/null) == *true* ]] ||
	fail "RGW runs without STS (rgw s3 auth use sts): restart it with tests/servers/rgw.sh"

iam()
{
	curl -sf --aws-sigv4 aws:amz:us-east-1:iam --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
		-d Version=2010-05-08 "$@" "$RGW_ENDPOINT/"
}

# --- the issuer, its provider in RGW, a role that trusts it ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=unifs-oidc \
	-keyout "$UFS_WORK/idp.key" -out "$UFS_WORK/idp.crt" 2>/dev/null || fail "openssl"
python3 "$UFS_SERVERS/oidc_idp.py" serve --cert "$UFS_WORK/idp.crt" \
	--port-file "$UFS_WORK/idp.port" >"$UFS_WORK/idp.log" 2>&1 &
on_exit "kill $!"
for _ in $(seq 100); do
	[[ -s $UFS_WORK/idp.port ]] && break
	sleep 0.1
done
iss=http://127.0.0.1:$(cat "$UFS_WORK/idp.port")
thumb=$(openssl x509 -in "$UFS_WORK/idp.crt" -outform DER | sha1sum | cut -c1-40)
timeout 30 radosgw-admin -c "$C" caps add --uid=test --caps="oidc-provider=*;roles=*" >/dev/null ||
	fail "cannot give the test user IAM caps"
iam -d Action=CreateOpenIDConnectProvider --data-urlencode "Url=$iss" \
	-d ClientIDList.member.1=unifs-test -d "ThumbprintList.member.1=$thumb" -o /dev/null ||
	fail "CreateOpenIDConnectProvider"
on_exit "iam -d Action=DeleteOpenIDConnectProvider --data-urlencode 'OpenIDConnectProviderArn=arn:aws:iam:::oidc-provider/${iss#http://}' -o /dev/null"
role=unifs-sts-$$-$RANDOM
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":["arn:aws:iam:::oidc-provider/'${iss#http://}'"]},"Action":["sts:AssumeRoleWithWebIdentity"]}]}'
timeout 30 radosgw-admin -c "$C" role create --role-name="$role" --path=/ \
	--assume-role-policy-doc="$trust" >/dev/null || fail "role create"
on_exit "timeout 30 radosgw-admin -c '$C' role delete --role-name='$role' >/dev/null 2>&1"
timeout 30 radosgw-admin -c "$C" role-policy put --role-name="$role" --policy-name=s3 \
	--policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}' \
	>/dev/null || fail "role-policy put"
on_exit "timeout 30 radosgw-admin -c '$C' role-policy delete --role-name='$role' --policy-name=s3 >/dev/null 2>&1"

bkt=$(ufs_uniq rgwsts)
rgw_curl PUT "/$bkt" -o /dev/null || fail "cannot create bucket $bkt"
on_exit "rgw_curl DELETE '/$bkt' -o /dev/null"
rgw_curl PUT "/$bkt/seed" -d seed -o /dev/null || fail "cannot put seed"
on_exit "rgw_curl DELETE '/$bkt/seed' -o /dev/null"

python3 "$UFS_SERVERS/oidc_idp.py" mint --key "$UFS_WORK/idp.key" --iss "$iss" --aud unifs-test \
	--sub unifs-pod >"$UFS_WORK/token" || fail "cannot mint a token"

cloud_clean_env
export AWS_WEB_IDENTITY_TOKEN_FILE=$UFS_WORK/token AWS_ROLE_ARN=arn:aws:iam:::role/$role
export AWS_ENDPOINT_URL_STS=$RGW_ENDPOINT AWS_ROLE_SESSION_NAME=unifs-rgw-sts
cfg=$UFS_WORK/unifs.conf
mnt=$UFS_WORK/mnt
ufs_config "$cfg" <<CFG
[global]
memory = 256M
dir_ttl = 0
attr_ttl = 0

[mount "/rgw"]
url           = s3://$bkt/
endpoint      = $RGW_ENDPOINT
region        = us-east-1
role_duration = 20
CFG

# --- a token RGW does not trust: one line, no mount ---
python3 "$UFS_SERVERS/oidc_idp.py" mint --key "$UFS_WORK/idp.key" --iss "http://127.0.0.1:1" \
	--aud unifs-test --sub x >"$UFS_WORK/bad-token"
rc=0
AWS_WEB_IDENTITY_TOKEN_FILE=$UFS_WORK/bad-token within 30 "$UFS_BIN" ls -c "$cfg" /rgw \
	>/dev/null 2>"$UFS_WORK/bad.err" || rc=$?
((rc == 1)) || fail "untrusted token: exit $rc: $(cat "$UFS_WORK/bad.err")"
grep -q "STS AssumeRoleWithWebIdentity: HTTP 403" "$UFS_WORK/bad.err" ||
	fail "untrusted token: $(cat "$UFS_WORK/bad.err")"

# --- the role's 20 s credentials, renewed, every request verified ---
ufs_mount "$cfg" "$mnt"
[[ $(cat "$mnt/rgw/seed") == seed ]] || fail "cannot read seed with the role's credentials"
rw_loop "$mnt/rgw" 50
echo "kept" >"$mnt/rgw/kept" || fail "write kept"
on_exit "rm -f '$mnt/rgw/kept'"
# (the object belongs to the role's federated user: the bucket owner may list it)
rgw_curl GET "/$bkt?list-type=2" | grep -q "<Key>kept</Key>" ||
	fail "RGW does not hold what the role wrote"
refr=$(stats_cred "$mnt" refreshes)
((refr >= 2)) || fail "credentials renewed $refr times in 50 s (lifetime 20 s), want >= 2"
[[ $(stats_cred "$mnt" refresh_failures) == 0 ]] || fail "a renewal failed: $(stats_cred "$mnt" last_error)"
src=$(stats_cred "$mnt" source)
[[ $src == "web identity (arn:aws:iam:::role/$role)" ]] || fail "source: $src"
"$UFS_BIN" stats --json "$mnt" | python3 -c '
import json, sys
b = json.load(sys.stdin)["backends"][0]
sys.exit(0 if b["errors"] == 0 else 1)' || fail "the backend counted errors"
ufs_pass

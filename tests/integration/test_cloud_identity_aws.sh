#!/usr/bin/env bash
# test_cloud_identity_aws.sh — the AWS credential chain and region, against
# loopback emulators (tests/servers/cloud_emu.py): IMDSv2, container
# credentials, STS (web identity, assume role), shared profiles and
# credential_process. S3 requests go through the emulator's verifying proxy
# in front of s3rver, which forwards only requests signed with an access
# key the emulator issued and that has not expired, for the region it
# expects (else a 301 naming it) — so every success below proves which
# source and which region unifs used, and the refresh case proves requests
# after expiry carry renewed keys. Each source, the chain's order, region
# selection and redirect, refresh across expiries, and broken answers
# (hang, 500, malformed, expired) with a one-line error in bounded time.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cloud_lib.sh"
ufs_begin "cloud identity aws"

bkt=$(ufs_uniq cid)
"$UFS_SERVERS/s3curl.sh" PUT "/$bkt" -o /dev/null || fail "cannot create bucket $bkt"
on_exit "'$UFS_SERVERS/s3curl.sh' DELETE '/$bkt' -o /dev/null"
echo hello >"$UFS_WORK/hello"
"$UFS_SERVERS/s3curl.sh" PUT "/$bkt/hello" --data-binary "@$UFS_WORK/hello" -o /dev/null
on_exit "'$UFS_SERVERS/s3curl.sh' DELETE '/$bkt/hello' -o /dev/null"

webtok=$UFS_WORK/web-identity-token
echo "eyJhbGciOiJSUzI1NiJ9.emu-web-identity.sig" >"$webtok"
emu_start --lifetime 20 --s3-upstream "127.0.0.1:$UFS_S3_PORT" --s3-region eu-west-3 \
	--web-token-file "$webtok" --sts-base-keys BASEKEY
cloud_clean_env
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$EMU_S3_PORT
url=s3://$bkt/

# ls_ok WHAT [ARGS...]: `unifs ls` of the bucket succeeds (within 20 s).
ls_ok()
{
	local what=$1
	shift
	within 20 "$UFS_BIN" ls "$@" "$url" >"$UFS_WORK/ls.out" 2>"$UFS_WORK/ls.err" ||
		fail "$what: unifs ls failed: $(cat "$UFS_WORK/ls.err")"
	grep -q hello "$UFS_WORK/ls.out" || fail "$what: no 'hello' in the listing"
}

# ls_fails WHAT PATTERN: `unifs ls` fails with one line matching PATTERN.
ls_fails()
{
	local rc=0
	within 20 "$UFS_BIN" ls "$url" >/dev/null 2>"$UFS_WORK/ls.err" || rc=$?
	((rc == 1)) || fail "$1: unifs ls exited $rc (want 1): $(cat "$UFS_WORK/ls.err")"
	grep -Eq "$2" "$UFS_WORK/ls.err" || fail "$1: error lacks /$2/: $(cat "$UFS_WORK/ls.err")"
	(($(wc -l <"$UFS_WORK/ls.err") == 1)) || fail "$1: not one line: $(cat "$UFS_WORK/ls.err")"
}

# --- nothing configured, IMDS disabled: a clear error, at once ---
ls_fails "no credentials" "no AWS credentials found.*IMDS: disabled"

# --- IMDSv2: credentials and the region (the proxy wants eu-west-3) ---
export AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$EMU
ls_ok "IMDS"
[[ $(emu_stat req_imds) -ge 4 ]] || fail "IMDS was not asked (token, role, credentials, region)"
grep -q "region" "$UFS_WORK/ls.err" && fail "IMDS: an unexpected region warning: $(cat "$UFS_WORK/ls.err")"

# --- region: AWS_REGION beats IMDS; a wrong one is followed once, with a warning ---
AWS_REGION=us-west-2 ls_ok "redirect"
grep -q "bucket '$bkt' is in region eu-west-3, not us-west-2" "$UFS_WORK/ls.err" ||
	fail "no redirect warning: $(cat "$UFS_WORK/ls.err")"
r0=$(emu_stat s3_redirected)
AWS_REGION=us-west-2 ls_ok "--region wins over AWS_REGION" --region eu-west-3
AWS_DEFAULT_REGION=eu-west-3 ls_ok "AWS_DEFAULT_REGION"
[[ $(emu_stat s3_redirected) == "$r0" ]] || fail "--region / AWS_DEFAULT_REGION were not used"
AWS_REGION=eu-west-3 AWS_DEFAULT_REGION=us-west-1 ls_ok "AWS_REGION before AWS_DEFAULT_REGION"
[[ $(emu_stat s3_redirected) == "$r0" ]] || fail "AWS_REGION did not win over AWS_DEFAULT_REGION"

# --- container credentials win over IMDS ---
echo "emu-container-token" >"$UFS_WORK/ctok"
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$EMU/ecs/creds
export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$UFS_WORK/ctok AWS_REGION=eu-west-3
i0=$(emu_stat req_imds)
ls_ok "container"
[[ $(emu_stat req_container) -ge 1 ]] || fail "container endpoint not asked"
[[ $(emu_stat req_imds) == "$i0" ]] || fail "IMDS asked although container credentials exist"
echo "wrong" >"$UFS_WORK/ctok"
ls_fails "container: bad authorization" "container credentials: HTTP 401"
echo "emu-container-token" >"$UFS_WORK/ctok"
AWS_CONTAINER_CREDENTIALS_FULL_URI=http://10.1.2.3/creds ls_fails "container: non-loopback http" \
	"plain http is allowed only"

# --- web identity (IRSA) wins over container credentials ---
export AWS_WEB_IDENTITY_TOKEN_FILE=$webtok AWS_ROLE_ARN=arn:aws:iam::123456789012:role/irsa
export AWS_ENDPOINT_URL_STS=$EMU/sts AWS_ROLE_SESSION_NAME=pod-a
c0=$(emu_stat req_container)
ls_ok "web identity"
[[ $(emu_stat sts_web_identity) -ge 1 ]] || fail "STS AssumeRoleWithWebIdentity not called"
[[ $(emu_stat last_role) == arn:aws:iam::123456789012:role/irsa ]] || fail "wrong RoleArn"
[[ $(emu_stat last_session) == pod-a ]] || fail "AWS_ROLE_SESSION_NAME not used"
[[ $(emu_stat req_container) == "$c0" ]] || fail "container asked although web identity is set"

# --- environment keys win over everything (the proxy refuses static keys) ---
AWS_ACCESS_KEY_ID=AKIASTATIC AWS_SECRET_ACCESS_KEY=x ls_fails "environment first" \
	"credentials from environment"
unset AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME \
	AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
export AWS_EC2_METADATA_DISABLED=true

# --- profiles: assume role with source_profile, credential_process, region ---
conf=$UFS_WORK/aws-config
cat >"$conf" <<CONF
[default]
region = us-west-2

[profile base]
aws_access_key_id = BASEKEY
aws_secret_access_key = basesecret

[profile app]
role_arn = arn:aws:iam::123456789012:role/app
source_profile = base
region = eu-west-3

[profile proc]
credential_process = $UFS_WORK/cred-process.sh
region = eu-west-3

[profile webid]
role_arn = arn:aws:iam::123456789012:role/profile-webid
web_identity_token_file = $webtok
region = eu-west-3

[profile regiononly]
region = eu-west-3
CONF
chmod 600 "$conf"
cat >"$UFS_WORK/cred-process.sh" <<PROC
#!/bin/sh
curl -sf -H 'Authorization: emu-container-token' $EMU/ecs/creds |
python3 -c 'import json,sys; c=json.load(sys.stdin); print(json.dumps({"Version": 1, "AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"], "SessionToken": c["Token"], "Expiration": c["Expiration"]}))'
PROC
chmod 700 "$UFS_WORK/cred-process.sh"
export AWS_CONFIG_FILE=$conf
unset AWS_REGION
AWS_PROFILE=app ls_ok "profile assume role"
[[ $(emu_stat "sts_assume_role:arn:aws:iam::123456789012:role/app") -ge 1 ]] ||
	fail "AssumeRole of the profile's role not called (signed with the source profile's key)"
AWS_PROFILE=proc ls_ok "credential_process"
AWS_PROFILE=webid ls_ok "profile web_identity_token_file"
[[ $(emu_stat last_role) == arn:aws:iam::123456789012:role/profile-webid ]] || fail "wrong role"
AWS_PROFILE=nosuch ls_fails "missing profile" "AWS profile 'nosuch' is in neither"
AWS_PROFILE=regiononly ls_fails "profile without credentials" "no AWS credentials found"
# the default profile's region (us-west-2) is not used when AWS_REGION is set
r0=$(emu_stat s3_redirected)
AWS_PROFILE=app AWS_REGION=eu-west-3 ls_ok "AWS_REGION before the profile's region"
[[ $(emu_stat s3_redirected) == "$r0" ]] || fail "the profile's region was used"

# --- a mount: profile + role_arn per mount, doctor, refresh across expiries ---
cfg=$UFS_WORK/unifs.conf
mnt=$UFS_WORK/mnt
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ufs_config "$cfg" <<CFG
[global]
memory = 256M
dir_ttl = 0
attr_ttl = 0
metrics = 127.0.0.1:$mport

[mount "/s3"]
url          = s3://$bkt/
endpoint     = http://127.0.0.1:$EMU_S3_PORT
profile      = base
role_arn     = arn:aws:iam::123456789012:role/per-mount
sts_endpoint = $EMU/sts
region       = eu-west-3
CFG
within 60 "$UFS_BIN" doctor "$cfg" >"$UFS_WORK/doctor.out" 2>&1 ||
	fail "doctor: $(cat "$UFS_WORK/doctor.out")"
grep -Eq "credentials +ok .*assume role arn:aws:iam::123456789012:role/per-mount via .*expire .*region eu-west-3" \
	"$UFS_WORK/doctor.out" || fail "doctor does not name source, expiry, region: $(cat "$UFS_WORK/doctor.out")"
grep -Eq "basesecret|emusecret|emutoken" "$UFS_WORK/doctor.out" && fail "doctor printed a secret"
ufs_mount "$cfg" "$mnt"
[[ $(emu_stat "sts_assume_role:arn:aws:iam::123456789012:role/per-mount") -ge 1 ]] ||
	fail "mount role_arn not assumed"
d0=$(emu_stat s3_denied)
rw_loop "$mnt/s3" 50
[[ $(emu_stat s3_denied) == "$d0" ]] ||
	fail "requests were refused during refresh: $(($(emu_stat s3_denied) - d0))"
refr=$(stats_cred "$mnt" refreshes)
((refr >= 2)) || fail "credentials refreshed $refr times in 50 s (lifetime 20 s), want >= 2"
ttl=$(stats_cred "$mnt" expires_in)
((ttl > 0 && ttl <= 20)) || fail "stats expires_in $ttl"

# --- a failing refresh: counted, visible, the old keys keep working ---
# (right after a refresh, so the current keys have their full 20 s; the
# next refresh is due after ~13 s and fails)
for _ in $(seq 100); do
	(($(stats_cred "$mnt" refreshes) > refr)) && break
	sleep 0.2
done
emu_mode sts 500
sleep 15
f=$(stats_cred "$mnt" refresh_failures)
((f >= 1)) || fail "no refresh failure counted while STS answers 500"
stats_cred "$mnt" last_error | grep -q "HTTP 500" || fail "last_error lacks the reason"
echo still >"$mnt/s3/still" || fail "write with the old credentials failed"
rm -f "$mnt/s3/still"
"$UFS_BIN" stats "$mnt" | grep -q "refresh failures [1-9]" || fail "text stats lack the failures"
curl -sf "http://127.0.0.1:$mport/metrics" >"$UFS_WORK/metrics" || fail "no metrics"
grep -Eq '^unifs_backend_credentials_refresh_failures_total\{mount="/s3"\} [1-9]' "$UFS_WORK/metrics" ||
	fail "Prometheus lacks the refresh failures: $(grep credentials "$UFS_WORK/metrics")"
grep -Eq '^unifs_backend_credentials_expiry_seconds\{mount="/s3"\} ([1-9]|1[0-9]|20)$' "$UFS_WORK/metrics" ||
	fail "Prometheus lacks the seconds to expiry: $(grep credentials "$UFS_WORK/metrics")"
emu_mode sts ok
sleep 8
echo again >"$mnt/s3/again" || fail "write after the refresh recovered failed"
rm -f "$mnt/s3/again"
ufs_umount "$mnt"

# --- broken token services: one line, bounded time, no crash ---
export AWS_EC2_METADATA_DISABLED=false AWS_REGION=eu-west-3
unset AWS_CONFIG_FILE AWS_PROFILE
for m in "500:IMDS.*HTTP 500" "malformed:malformed answer" "expired:expired at" \
	"hang:no answer within 2 s"; do
	emu_mode imds "${m%%:*}"
	t0=$SECONDS
	ls_fails "IMDS ${m%%:*}" "${m#*:}"
	((SECONDS - t0 <= 15)) || fail "IMDS ${m%%:*}: took $((SECONDS - t0)) s"
done
emu_mode imds ok
ls_ok "IMDS after recovery"
ufs_pass

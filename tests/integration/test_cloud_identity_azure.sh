#!/usr/bin/env bash
# test_cloud_identity_azure.sh — the Azure AD chain against a second Azurite
# of this test's own, with OAuth (`--oauth basic`: it accepts bearer tokens
# only over HTTPS, and checks each token's issuer, audience and expiry) and
# a self-signed certificate made here, and the token services emulated on
# loopback (tests/servers/cloud_emu.py): service principal with a secret and
# with a certificate (the emulator verifies the RS256 client assertion),
# workload identity (federated token file), managed identity through IMDS
# and through IDENTITY_ENDPOINT, the chain's order, explicit keys winning,
# refresh across expiries (Azurite refuses an expired token, so requests
# after the first lifetime prove the renewal), and broken answers.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cloud_lib.sh"
ufs_begin "cloud identity azure"

# --- our own Azurite, HTTPS + OAuth, on a free port ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$UFS_WORK/tls.key" -out "$UFS_WORK/tls.crt" \
	2>/dev/null || fail "cannot make a certificate"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$UFS_SERVERS/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" \
	--location "$UFS_WORK/azurite" --disableTelemetry --skipApiVersionCheck --loose --silent \
	--disableProductStyleUrl --oauth basic --cert "$UFS_WORK/tls.crt" --key "$UFS_WORK/tls.key" \
	>"$UFS_WORK/azurite.log" 2>&1 &
on_exit "kill $!"
export AWS_CA_BUNDLE=$UFS_WORK/tls.crt # the CA bundle of https endpoints
for _ in $(seq 100); do
	curl -s --cacert "$AWS_CA_BUNDLE" -o /dev/null "https://127.0.0.1:$port/" && break
	sleep 0.2
done
ep=https://127.0.0.1:$port/devstoreaccount1

# the service principal's certificate: key + certificate in one 0600 PEM
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=unifs-sp -keyout "$UFS_WORK/sp.key" \
	-out "$UFS_WORK/sp.crt" 2>/dev/null || fail "cannot make the SP certificate"
(umask 077 && cat "$UFS_WORK/sp.key" "$UFS_WORK/sp.crt" >"$UFS_WORK/sp.pem")
echo "eyJhbGciOiJSUzI1NiJ9.emu-federated.sig" >"$UFS_WORK/federated-token"

emu_start --lifetime 20 --az-cert "$UFS_WORK/sp.crt" --federated-token "$UFS_WORK/federated-token"
cloud_clean_env
c=$(ufs_uniq cidaz)
tok=$(curl -sf -H 'Metadata: true' "$EMU/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com/" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -sf --cacert "$AWS_CA_BUNDLE" -X PUT -H "Authorization: Bearer $tok" -H "x-ms-version: 2021-12-02" \
	-H "Content-Length: 0" "$ep/$c?restype=container" || fail "cannot create container $c"
curl -sf --cacert "$AWS_CA_BUNDLE" -X PUT -H "Authorization: Bearer $tok" -H "x-ms-version: 2021-12-02" \
	-H "x-ms-blob-type: BlockBlob" --data-binary hello "$ep/$c/hello" || fail "cannot put hello"
export AZURE_STORAGE_ACCOUNT=devstoreaccount1
url=az://$c/

# ls_ok WHAT: `unifs ls` of the container (endpoint from the config) works.
cfg=$UFS_WORK/unifs.conf
write_cfg()
{
	ufs_config "$cfg" <<CFG
[global]
memory = 256M
dir_ttl = 0
attr_ttl = 0

[mount "/az"]
url      = $url
endpoint = $ep
$*
CFG
}
ls_ok()
{
	within 30 "$UFS_BIN" ls -c "$cfg" /az >"$UFS_WORK/ls.out" 2>"$UFS_WORK/ls.err" ||
		fail "$1: unifs ls failed: $(cat "$UFS_WORK/ls.err")"
	grep -q hello "$UFS_WORK/ls.out" || fail "$1: no 'hello' in the listing"
}
ls_fails()
{
	local rc=0
	within 30 "$UFS_BIN" ls -c "$cfg" /az >/dev/null 2>"$UFS_WORK/ls.err" || rc=$?
	((rc == 1)) || fail "$1: unifs ls exited $rc (want 1): $(cat "$UFS_WORK/ls.err")"
	grep -Eq "$2" "$UFS_WORK/ls.err" || fail "$1: error lacks /$2/: $(cat "$UFS_WORK/ls.err")"
	(($(grep -vc '^unifs: info:' "$UFS_WORK/ls.err") == 1)) ||
		fail "$1: not one line: $(cat "$UFS_WORK/ls.err")"
}
write_cfg

# --- nothing configured, IMDS closed: anonymous, refused by the service ---
ls_fails "anonymous" "authentication failed|no such|denied|ermission"

# --- managed identity (IMDS) ---
export UNIFS_AZURE_IMDS_ENDPOINT=$EMU
ls_ok "managed identity (IMDS)"
[[ $(emu_stat req_azimds) -ge 1 ]] || fail "Azure IMDS not asked"

# --- App Service / Functions: IDENTITY_ENDPOINT + IDENTITY_HEADER ---
i0=$(emu_stat req_azimds)
IDENTITY_ENDPOINT=$EMU/msi/token IDENTITY_HEADER=emu-identity-header ls_ok "IDENTITY_ENDPOINT"
[[ $(emu_stat req_appsvc) -ge 1 && $(emu_stat req_azimds) == "$i0" ]] ||
	fail "IDENTITY_ENDPOINT not preferred over IMDS"

# --- workload identity beats managed identity ---
export AZURE_TENANT_ID=emu-tenant AZURE_CLIENT_ID=emu-client AZURE_AUTHORITY_HOST=$EMU
export AZURE_FEDERATED_TOKEN_FILE=$UFS_WORK/federated-token
ls_ok "workload identity"
[[ $(emu_stat aad_federated) -ge 1 && $(emu_stat req_azimds) == "$i0" ]] ||
	fail "workload identity not used (or IMDS asked too)"

# --- a service principal (certificate, then secret) beats workload identity ---
f0=$(emu_stat aad_federated)
AZURE_CLIENT_CERTIFICATE_PATH=$UFS_WORK/sp.pem ls_ok "service principal (certificate)"
[[ $(emu_stat aad_assertions) -ge 1 && $(emu_stat aad_federated) == "$f0" ]] ||
	fail "the certificate's client assertion was not used (or not valid)"
AZURE_CLIENT_SECRET=emu-client-secret AZURE_CLIENT_CERTIFICATE_PATH=$UFS_WORK/sp.pem \
	ls_ok "service principal (secret)"
[[ $(emu_stat aad_federated) == "$f0" ]] || fail "federated token used despite a secret"
AZURE_CLIENT_SECRET=wrong ls_fails "wrong secret" "Azure AD token: HTTP 401"

# --- an explicit account key wins over the chain ---
a0=$(emu_stat req_aad)
AZURE_STORAGE_KEY=$UFS_AZ_KEY ls_ok "account key first"
[[ $(emu_stat req_aad) == "$a0" ]] || fail "Azure AD asked although a key is given"
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_FEDERATED_TOKEN_FILE

# --- a user-assigned managed identity chosen by client_id ---
write_cfg "client_id = emu-user-mi"
ls_ok "managed identity with client_id"
[[ $(emu_stat mi_client_id) == emu-user-mi ]] || fail "client_id not sent to IMDS"

# --- a mount: doctor, refresh across expiries, stats ---
mnt=$UFS_WORK/mnt
within 60 "$UFS_BIN" doctor "$cfg" >"$UFS_WORK/doctor.out" 2>&1 ||
	fail "doctor: $(cat "$UFS_WORK/doctor.out")"
grep -Eq "credentials +ok .*managed identity \(IMDS\), expire " "$UFS_WORK/doctor.out" ||
	fail "doctor does not name the source and expiry: $(cat "$UFS_WORK/doctor.out")"
grep -q "eyJ" "$UFS_WORK/doctor.out" && fail "doctor printed a token"
ufs_mount "$cfg" "$mnt"
rw_loop "$mnt/az" 45
refr=$(stats_cred "$mnt" refreshes)
((refr >= 2)) || fail "token refreshed $refr times in 45 s (lifetime 20 s), want >= 2"
ufs_umount "$mnt"

# --- broken token services (a managed identity asked for: errors are errors) ---
for m in "500:managed identity: HTTP 500" "malformed:malformed answer" "expired:expired at" \
	"hang:no answer within 2 s"; do
	emu_mode azimds "${m%%:*}"
	t0=$SECONDS
	ls_fails "Azure IMDS ${m%%:*}" "${m#*:}"
	((SECONDS - t0 <= 15)) || fail "Azure IMDS ${m%%:*}: took $((SECONDS - t0)) s"
done
emu_mode azimds ok
ls_ok "Azure IMDS after recovery"
ufs_pass

# shellcheck shell=bash
# tests/integration/cloud_lib.sh — helpers of the cloud-identity tests
# (test_cloud_identity_*.sh). Source after lib.sh. The token services are
# tests/servers/cloud_emu.py on loopback; nothing here reaches a cloud.

# emu_start [cloud_emu.py options...]: start the emulator (stopped at exit);
# sets EMU_PORT (token services), EMU_S3_PORT (the verifying S3 proxy, when
# --s3-upstream is given) and EMU (http://127.0.0.1:EMU_PORT).
emu_start()
{
	local pf=$UFS_WORK/emu.ports
	rm -f "$pf"
	python3 "$UFS_SERVERS/cloud_emu.py" --port-file "$pf" "$@" >"$UFS_WORK/emu.log" 2>&1 &
	on_exit "kill $!"
	for _ in $(seq 100); do
		[[ -s $pf ]] && break
		sleep 0.1
	done
	[[ -s $pf ]] || fail "cloud_emu.py did not start: $(cat "$UFS_WORK/emu.log")"
	read -r EMU_PORT EMU_S3_PORT <"$pf"
	EMU=http://127.0.0.1:$EMU_PORT
	export EMU_PORT EMU_S3_PORT EMU
}

# emu_mode SERVICE MODE: make SERVICE (imds, container, sts, aad, azimds,
# appsvc) answer ok | hang | 500 | malformed | expired.
emu_mode()
{
	curl -sf -o /dev/null -d "svc=$1&mode=$2" "$EMU/_mode" || fail "emu_mode $1 $2"
}

# emu_stat NAME: one counter of the emulator (0 when absent).
emu_stat()
{
	curl -sf "$EMU/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"
}

# stats_cred MNT FIELD: a field of the first backend's "credentials" in
# `unifs stats --json`.
stats_cred()
{
	"$UFS_BIN" stats --json "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["backends"][0]["credentials"][sys.argv[1]])' "$2"
}

# rw_loop DIR SECONDS: write, read back, list and remove a new file in DIR
# every half second for SECONDS; any failure fails the test.
rw_loop()
{
	local dir=$1 end=$((SECONDS + $2)) n=0
	while ((SECONDS < end)); do
		n=$((n + 1))
		echo "write $n" >"$dir/r$n" || fail "write $n failed"
		[[ $(cat "$dir/r$n") == "write $n" ]] || fail "read back $n"
		ls -1 "$dir" >"$UFS_WORK/rw.ls" || fail "listing $n failed"
		grep -qx "r$n" "$UFS_WORK/rw.ls" || fail "r$n not listed"
		rm "$dir/r$n" || fail "rm $n"
		sleep 0.5
	done
}

# cloud_clean_env: no credential of any kind in the environment.
cloud_clean_env()
{
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION \
		AWS_DEFAULT_REGION AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
		AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
		AWS_ENDPOINT_URL_STS AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN \
		AZURE_STORAGE_CONNECTION_STRING
	export AWS_EC2_METADATA_DISABLED=true
}

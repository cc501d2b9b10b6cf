# tests/bench/peers.sh — mount the FUSE peers installable from Debian (s3fs,
# rclone mount) on an s3rver bucket, with their defaults, for the benches.
# Source after tests/integration/lib.sh (uses UFS_WORK, UFS_S3_ENDPOINT,
# AWS_* and on_exit/ufs_umount/ufs_is_mounted from there).

# mount_s3fs BUCKET MNT / mount_rclone BUCKET MNT: the peers, defaults.
mount_s3fs()
{
	command -v s3fs >/dev/null || return 1
	mkdir -p "$2"
	(umask 077 && echo "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" >"$UFS_WORK/s3fs.passwd")
	s3fs "$1" "$2" -o "url=$UFS_S3_ENDPOINT,use_path_request_style,passwd_file=$UFS_WORK/s3fs.passwd" ||
		return 1
	on_exit "ufs_umount '$2'"
	wait_mounted "$2"
}

mount_rclone()
{
	command -v rclone >/dev/null || return 1
	mkdir -p "$2"
	cat >"$UFS_WORK/rclone.conf" <<EOF
[s]
type = s3
provider = Other
endpoint = $UFS_S3_ENDPOINT
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
force_path_style = true
EOF
	(unset AWS_CA_BUNDLE && rclone --config "$UFS_WORK/rclone.conf" mount "s:$1" "$2" --daemon) ||
		return 1
	on_exit "ufs_umount '$2'"
	wait_mounted "$2"
}

wait_mounted()
{
	for _ in $(seq 50); do
		ufs_is_mounted "$1" && return 0
		sleep 0.2
	done
	return 1
}

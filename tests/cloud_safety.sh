# shellcheck shell=bash
# tests/cloud_safety.sh — sourced by everything that runs unifs in tests,
# benches and demos (tests/integration/lib.sh, scripts/test.sh,
# scripts/demo.sh, scripts/package_demo.sh): no credential lookup may ever
# leave loopback. The cloud metadata services (169.254.169.254) are disabled
# or pointed at a closed loopback port, and the ambient cloud identity of
# the machine running the tests (profiles, web identity, container and
# Azure variables) is dropped. A test that needs one of these sets it
# itself, pointing at its own loopback emulator.
export AWS_EC2_METADATA_DISABLED=true
export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1
export UNIFS_AZURE_IMDS_ENDPOINT=http://127.0.0.1:1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
	AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME \
	AWS_ENDPOINT_URL_STS AWS_DEFAULT_REGION \
	AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
	AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
	IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT MSI_SECRET
while IFS='=' read -r _ufs_v _; do
	unset "$_ufs_v"
done < <(env | grep -o '^AZURE_[A-Za-z0-9_]*=' || true)
unset _ufs_v
# A home without ~/.aws: the default profile files are never the user's.
export AWS_CONFIG_FILE=/nonexistent/unifs-test/aws-config
export AWS_SHARED_CREDENTIALS_FILE=/nonexistent/unifs-test/aws-credentials

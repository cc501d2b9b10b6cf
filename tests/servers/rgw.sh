#!/bin/bash
# tests/servers/rgw.sh — throw-away single-host Ceph cluster (1 mon, 1 OSD, no mgr) +
# RADOS Gateway: a real S3 server that verifies SigV4 (wrong secret -> 403
# SignatureDoesNotMatch), honours If-Match (412), pages ListObjectsV2, does multipart.
# Debian 12, root: ~4 s to the first signed request, ~115 MiB RSS idle, ~500 MB/s GET.
# s3rver never verifies SigV4, so the tests that must prove a signature run here.
#   Usage: rgw.sh start|stop|status [DIR]   (DIR defaults to $UFS_TEST_DIR/rgw; start
#          writes DIR/env: RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY; stop kills our
#          daemons and wipes DIR; status exits 1 when signed requests fail).
#          tests/servers/all.sh starts and stops it with the other servers.
#   env: RGW_PORT (7480),
#        RGW_STORE (bluestore|memstore, default bluestore),
#        RGW_AK / RGW_SK (S3 keys, default AK / SK), RGW_VERBOSE=1 (timings)
# "start" always builds a fresh cluster unless one is already running (then it
# is reused).  "stop" kills every daemon it started (by pid) and wipes data.
# Needs: ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl (Debian 12).
set -Eeuo pipefail

D=${2:-${RGW_DIR:-${UFS_TEST_DIR:-/tmp/unifs-test}/rgw}}
[ -n "$D" ] || { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
D=$(realpath -m "$D")
PORT=${RGW_PORT:-7480}
STORE=${RGW_STORE:-bluestore}
AK=${RGW_AK:-AK}
SK=${RGW_SK:-SK}
MON_V2=${RGW_MON_V2:-13300}
MON_V1=${RGW_MON_V1:-13389}
C=$D/ceph.conf
DAEMONS="client.rgw.gw osd.0 mon.a"   # stop order

log() { echo "rgw.sh: $*" >&2; }
T0=$EPOCHREALTIME
step() { [ -n "${RGW_VERBOSE:-}" ] && log "$(awk "BEGIN{printf \"%.2f\", $EPOCHREALTIME-$T0}")s $*"; return 0; }

pid_of() { local f=$D/run/$1.pid; [ -s "$f" ] && cat "$f" || true; }
alive() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
http_ok() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/" | grep -q '^200$'; }
# signed ListBuckets with the test user's keys (curl >= 7.75 SigV4; RGW wants
# x-amz-content-sha256, which curl 7.88 does not add by itself)
s3_ok() { curl -sf -o /dev/null -m 2 --aws-sigv4 aws:amz:us-east-1:s3 --user "$AK:$SK" \
              -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "http://127.0.0.1:$PORT/"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# every process that runs with our private ceph.conf (unique path => only ours)
our_pids() {
    local p cmd
    for p in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' 2>/dev/null < "$p/cmdline") || continue
        [[ $cmd == *"-c $C "* ]] && echo "${p#/proc/}"
    done
    return 0
}

write_conf() {
    local fsid=$1
    cat > "$C" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind port min = 17100
ms bind port max = 17199
auth cluster required = none
auth service required = none
auth client required = none
run dir = $D/run
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
mon cluster log file = $D/log/cluster.log
keyring = $D/keyring
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data avail crit = 1
mon data avail warn = 2
[mon]
mon data = $D/mon.\$id
paxos propose interval = 0.05
paxos min wait = 0.01
[osd]
osd data = $D/osd.\$id
osd objectstore = $STORE
memstore device bytes = 8589934592
bluestore block path = $D/osd.\$id.block
bluestore block create = true
bluestore block size = ${RGW_BLOCK_SIZE:-12884901888}
bluestore fsck on mount = false
bluestore fsck on mkfs = false
osd memory target = 939524096
bluestore cache autotune = false
bluestore cache size = 134217728
osd op num shards = 1
osd op num threads per shard = 2
[client.rgw.gw]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $D/rgw
rgw thread pool size = 64
# deleted objects give their space back within a minute, not after the 2 h
# default: a long test or bench session would otherwise fill the 12 GiB OSD
rgw gc obj min wait = 30
rgw gc processor period = 30
# STS for test_rgw_sts.sh (AssumeRoleWithWebIdentity against a local OIDC
# issuer): a 16-byte key for session tokens, temporary credentials accepted
# on S3, sessions as short as 20 s (renewal is tested across expiries)
rgw sts key = unifsteststskey0
rgw s3 auth use sts = true
rgw sts min session duration = 20
ms mon client mode = crc secure
auth client required = none
EOF
}

do_stop() {
    local n p i
    for n in $DAEMONS; do
        p=$(pid_of "$n"); [ -n "$p" ] && kill "$p" 2>/dev/null || true
    done
    for p in $(our_pids); do kill "$p" 2>/dev/null || true; done
    for i in $(seq 50); do [ -z "$(our_pids)" ] && break; sleep 0.1; done
    for p in $(our_pids); do log "SIGKILL $p"; kill -9 "$p" 2>/dev/null || true; done
    for i in $(seq 20); do [ -z "$(our_pids)" ] && break; sleep 0.1; done
    [ -z "$(our_pids)" ] || { log "processes still alive: $(our_pids)"; return 1; }
    rm -rf "$D"
}

fail() {
    trap - ERR
    log "start FAILED (line $1); log tails follow, logs kept in $D.faillog"
    tail -n 5 "$D"/log/*.log "$D"/log/*.stderr >&2 2>/dev/null || true
    rm -rf "$D.faillog"; cp -r "$D/log" "$D.faillog" 2>/dev/null || true
    do_stop || true
    exit 1
}

need_pkgs() {
    local miss=() p
    for p in ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || miss+=("$p")
    done
    ((${#miss[@]} == 0)) && return 0
    log "installing ${miss[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${miss[@]}" >/dev/null </dev/null
}

write_env() {
    printf 'export RGW_ENDPOINT=http://127.0.0.1:%s RGW_ACCESS_KEY=%s RGW_SECRET_KEY=%s\n' "$PORT" "$AK" "$SK" >"$D/env"
}

do_start() {
    need_pkgs
    if alive client.rgw.gw && alive osd.0 && alive mon.a && s3_ok; then
        write_env; log "already running on 127.0.0.1:$PORT (reused)"; return 0
    fi
    [ -d "$D" ] && do_stop
    local p
    for p in "$PORT" "$MON_V2" "$MON_V1"; do
        port_busy "$p" && { log "port $p already in use by another process"; return 1; }
    done
    trap 'fail $LINENO' ERR
    mkdir -p "$D"/{mon.a,osd.0,rgw,run,log}
    local fsid osd_uuid i
    fsid=$(uuidgen); osd_uuid=$(uuidgen)
    write_conf "$fsid"
    # monitor: monmap + mkfs + start (daemonizes, writes pid file)
    step "mon mkfs"
    monmaptool -c "$C" --create --fsid "$fsid" \
        --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" "$D/monmap" >/dev/null
    ceph-mon -c "$C" -i a --mkfs --monmap "$D/monmap"
    ceph-mon -c "$C" -i a
    # OSD: register id 0 in the osdmap, mkfs the store, start
    step "mon started; osd new"
    i=$(ceph -c "$C" --connect-timeout 90 osd new "$osd_uuid")
    [ "$i" = 0 ] || { log "unexpected osd id $i"; false; }
    step "osd mkfs"
    ceph-osd -c "$C" -i 0 --mkfs --osd-uuid "$osd_uuid" 2>>"$D/log/mkfs.log"
    step "osd start"
    ceph-osd -c "$C" -i 0 2>>"$D/log/osd.0.stderr"
    # gateway (creates realm/zone/pools on first start)
    step "radosgw start"
    radosgw -c "$C" -n client.rgw.gw --client-mount-timeout 30 2>>"$D/log/rgw.stderr"
    for i in $(seq 600); do http_ok && break; sleep 0.1; done
    step "http up"
    http_ok && alive client.rgw.gw || { log "radosgw did not answer on :$PORT"; false; }
    radosgw-admin -c "$C" user create --uid=test --display-name=test \
        --access-key="$AK" --secret-key="$SK" >/dev/null
    step "user created"
    for i in $(seq 50); do s3_ok && break; sleep 0.1; done
    s3_ok || { log "signed request with the new user failed"; false; }
    trap - ERR
    write_env
    log "up: http://127.0.0.1:$PORT  access=$AK secret=$SK  ($STORE, dir $D)"
}

case ${1:-} in
    start) do_start ;;
    stop) do_stop ;;
    status) for n in $DAEMONS; do alive "$n" && echo "$n $(pid_of "$n") running" || echo "$n stopped"; done
            if s3_ok; then echo "s3 ok"; else echo "s3 down"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|status DIR" >&2; exit 2 ;;
esac

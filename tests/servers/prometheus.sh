#!/usr/bin/env bash
# tests/servers/prometheus.sh — a throw-away Debian `prometheus` on loopback
# that scrapes one target every second, for tests that check what a
# Prometheus server sees.
#
#   prometheus.sh start DIR PORT TARGET   # TARGET: HOST:PORT serving /metrics
#   prometheus.sh query DIR PROMQL        # prints the first sample's value, or ""
#   prometheus.sh stop DIR
#
# DIR holds the config, the TSDB, the log and the pid; start returns once
# the HTTP API answers (or fails after 60 s with the log's tail).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [[ -z $cmd || -z $dir || $dir != /* ]]; then
	echo "usage: $0 start|query|stop /ABS/DIR ..." >&2
	exit 2
fi

prom_start()
{
	local port=$1 target=$2 i
	command -v prometheus >/dev/null || { echo "prometheus: not installed (scripts/setup.sh)" >&2; exit 1; }
	mkdir -p "$dir/data"
	printf '%s\n' "global:" "  scrape_interval: 1s" "  scrape_timeout: 1s" \
		"scrape_configs:" "  - job_name: unifs" "    static_configs:" \
		"      - targets: ['$target']" >"$dir/prometheus.yml"
	echo "$port" >"$dir/port"
	prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" --log.level=warn \
		>"$dir/log" 2>&1 &
	echo $! >"$dir/pid"
	for ((i = 0; i < 600; i++)); do
		curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "prometheus did not start:" >&2
	tail -5 "$dir/log" >&2
	exit 1
}

prom_query()
{
	curl -sf "http://127.0.0.1:$(cat "$dir/port")/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
}

prom_stop()
{
	local pid i
	[[ -f $dir/pid ]] || return 0
	pid=$(cat "$dir/pid")
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/pid"
}

case $cmd in
start) prom_start "${3:?PORT}" "${4:?TARGET}" ;;
query) prom_query "${3:?PROMQL}" ;;
stop) prom_stop ;;
*)
	echo "usage: $0 start|query|stop DIR ..." >&2
	exit 2
	;;
esac

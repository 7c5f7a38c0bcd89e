#!/usr/bin/env bash
# Does the sidecar's on-heap near cache pay under load? Two sidecars on the same stack and the same
# upstream, one with the near cache (TM_NEAR_CACHE_ENTRIES=10000) and one without (every request
# reads the Chronicle Map), measured with wrk in alternating order (A B A B ...), loopback only,
# every run bounded in time. Stops what it started.
set -euo pipefail
source "$(dirname "$0")/../dev/lib.sh"

CONNECTIONS="${TM_BENCH_CONNECTIONS:-16}"
SECONDS_PER_RUN="${TM_BENCH_SECONDS:-10}"
ROUNDS="${TM_BENCH_ROUNDS:-5}"
API_PORT=18091
UPSTREAM_PORT=18092

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
before="$(services_up)"
cleanup() {
  stop_java bench-near; stop_java bench-l1; stop_java bench-upstream; stop_java bench-control-api
  stop_services_not_in "$before"
}
trap cleanup EXIT

ensure_tools
build_jars
stack_up
TM_API_PORT=$API_PORT TM_API_BIND=127.0.0.1 start_java bench-control-api -jar "$(jar_of control-api)"
start_java bench-upstream -cp "$(jar_of test-support)" dev.trafficmanager.testing.TestUpstream $UPSTREAM_PORT bench
wait_http "http://127.0.0.1:$API_PORT/healthz" 90

tenant="bench-$(date +%s)"
token="$(curl -sS -X POST "http://127.0.0.1:$API_PORT/v1/tenants" -H "Authorization: Bearer $TM_ADMIN_TOKEN" \
  -d "{\"name\":\"$tenant\"}" | sed -E 's/.*"token":"([^"]+)".*/\1/')"
curl -sS -o /dev/null -X PUT "http://127.0.0.1:$API_PORT/v1/routes/$tenant/hello/prod/v1" \
  -H "Authorization: Bearer $token" -d "{\"url\":\"http://127.0.0.1:$UPSTREAM_PORT/\"}"

work="$(mktemp -d)"
start_sidecar() { # name port admin near-entries
  TM_PROXY_PORT=$2 TM_PROXY_ADMIN_PORT=$3 TM_NEAR_CACHE_ENTRIES=$4 TM_TENANT=$tenant TM_ENV=prod \
    TM_L1_FILE="$work/$1.l1" start_java "$1" -Xmx256m "${CHRONICLE_FLAGS[@]}" -jar "$(jar_of proxy)"
  wait_http "http://127.0.0.1:$3/readyz" 60
}
start_sidecar bench-near 18093 18094 10000
start_sidecar bench-l1 18095 18096 0

run() { # label port
  wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -H 'x-tm-service: hello' -H 'x-tm-version: v1' \
    "http://127.0.0.1:$2/" | awk -v l="$1" '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
      END {printf "%-16s %10s req/s   p50 %8s   p99 %8s\n", l, rps, p50, p99}'
}
log "warm-up"
wrk -t1 -c"$CONNECTIONS" -d10s -H 'x-tm-service: hello' -H 'x-tm-version: v1' http://127.0.0.1:18093/ >/dev/null
wrk -t1 -c"$CONNECTIONS" -d10s -H 'x-tm-service: hello' -H 'x-tm-version: v1' http://127.0.0.1:18095/ >/dev/null
log "measuring: $ROUNDS rounds of wrk -t1 -c$CONNECTIONS -d${SECONDS_PER_RUN}s, alternating"
for ((i = 1; i <= ROUNDS; i++)); do
  run "near cache" 18093
  run "chronicle only" 18095
done
rm -rf "$work"

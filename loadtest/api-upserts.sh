#!/usr/bin/env bash
# make bench-api: sustained upserts per second and latency of the control API on this machine.
# Starts the stack and a control API of its own, warms up, then measures with wrk (one thread,
# TM_BENCH_CONNECTIONS connections, TM_BENCH_SECONDS seconds, loopback only), and stops what it started.
set -euo pipefail
source "$(dirname "$0")/../dev/lib.sh"

CONNECTIONS="${TM_BENCH_CONNECTIONS:-16}"
DURATION="${TM_BENCH_SECONDS:-20}"
PORT="${TM_BENCH_API_PORT:-18081}"

bash "$ROOT/dev/stack.sh" loadtools # wrk (and the other load tools) from Debian's packages, if missing
before="$(services_up)"
cleanup() { stop_java bench-control-api; stop_services_not_in "$before"; }
trap cleanup EXIT

ensure_tools
build_jars
stack_up
start_control_api bench-control-api "$PORT"

export TM_BENCH_TENANT="bench-$(date +%s)"
TM_BENCH_TOKEN="$(create_tenant "http://127.0.0.1:$PORT" "$TM_BENCH_TENANT")" \
  || { log "could not create the bench tenant"; exit 1; }
export TM_BENCH_TOKEN

log "warm-up: 5 s"
wrk -t1 -c"$CONNECTIONS" -d5s -s "$ROOT/loadtest/api-upserts.lua" "http://127.0.0.1:$PORT" >/dev/null
log "measuring: wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency (PUT, a new URL each time)"
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/loadtest/api-upserts.lua" "http://127.0.0.1:$PORT"
events=$(PGPASSWORD="$TM_DB_PASSWORD" psql -h 127.0.0.1 -p "${TM_PG_PORT:-55432}" -U "$TM_DB_USER" -d trafficmanager -tAc \
  "SELECT count(*) FROM route_events ev JOIN endpoints p ON p.id = ev.endpoint_id JOIN environments e ON e.id = p.environment_id
   JOIN services s ON s.id = e.service_id JOIN tenants t ON t.id = s.tenant_id WHERE t.name = '$TM_BENCH_TENANT'")
log "events written for $TM_BENCH_TENANT: $events (one per successful write)"

#!/usr/bin/env bash
# make soak: TM_SOAK_SECONDS (600) of steady load through the sidecar at TM_SOAK_RATE (500) req/s,
# a route change through the control API every second and one fault a minute in turn (Redis
# stopped, PostgreSQL hung, Kafka stopped, an upstream stopped), each TM_SOAK_FAULT_SECONDS (15)
# long; the sidecar runs with Netty's leak detector at paranoid. Writes report.md, memory.tsv and
# memory.png (heap and RSS over time) to loadtest/results/soak/ (TM_SOAK_OUT). Loopback only,
# bounded in time; stops everything it started. See Soak.java for what is measured.
set -euo pipefail
source "$(dirname "$0")/../dev/lib.sh"

SOAK_SECONDS="${TM_SOAK_SECONDS:-600}"
RATE="${TM_SOAK_RATE:-500}"
FAULT_SECONDS="${TM_SOAK_FAULT_SECONDS:-15}"
OUT="${TM_SOAK_OUT:-$ROOT/loadtest/results/soak}"
SIDECAR_PORT=18110 ADMIN_PORT=18111 API_PORT=18112
WORK="$TM_HOME/soak"

for n in "$SOAK_SECONDS" "$RATE" "$FAULT_SECONDS"; do
  [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || { log "not a positive number: '$n'"; exit 2; }
done
for port in $SIDECAR_PORT $ADMIN_PORT $API_PORT; do
  if (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    log "port $port is already in use: stop what listens there (make soak uses 18110-18112)"
    exit 1
  fi
done

before="$(services_up)"
cleanup() {
  set +e
  stop_java soak-sidecar; stop_java soak-control-api
  bash "$ROOT/dev/stack.sh" resume postgres >/dev/null 2>&1 # never leave it hung
  stop_services_not_in "$before"
}
trap cleanup EXIT

ensure_tools
bash "$ROOT/dev/stack.sh" loadtools
build_jars
rm -rf "$WORK" && mkdir -p "$WORK" "$OUT"
control_api_with_tenant soak-control-api "$API_PORT" soak

log "starting the sidecar with the leak detector at paranoid"
MALLOC_ARENA_MAX=2 TM_PROXY_PORT=$SIDECAR_PORT TM_PROXY_ADMIN_PORT=$ADMIN_PORT TM_TENANT=$tenant TM_ENV=prod \
  TM_L1_FILE="$WORK/routes.l1" \
  start_sidecar soak-sidecar "${SIDECAR_JVM_FLAGS[@]}" -Dio.netty.leakDetection.level=paranoid "${CHRONICLE_FLAGS[@]}" \
  -jar "$(jar_of proxy)"
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" 120

log "soaking for ${SOAK_SECONDS}s"
java -Xmx256m -cp "$(jar_of loadtest)" dev.trafficmanager.loadtest.Soak --api "$api" --token "$token" \
  --tenant "$tenant" --sidecar "http://127.0.0.1:$SIDECAR_PORT/" --admin "http://127.0.0.1:$ADMIN_PORT" \
  --sidecar-pid "$(cat "$TM_HOME/run/soak-sidecar.pid")" --sidecar-log "$TM_HOME/log/soak-sidecar.log" \
  --stack "$ROOT/dev/stack.sh" --out "$OUT" --seconds "$SOAK_SECONDS" --rate "$RATE" --fault-seconds "$FAULT_SECONDS"

gnuplot <<GNUPLOT
set terminal pngcairo size 900,420
set output '$OUT/memory.png'
set title 'Sidecar memory during the soak run (faults every minute)'
set xlabel 'seconds'
set ylabel 'MiB'
set key outside right
set yrange [0:*]
plot '$OUT/memory.tsv' using 1:2 skip 1 with lines lw 2 title 'heap used (of 64)', \
     '' using 1:3 skip 1 with lines lw 2 title 'RSS'
GNUPLOT
rm -f "$OUT/stack.log"
log "report: $OUT/report.md"

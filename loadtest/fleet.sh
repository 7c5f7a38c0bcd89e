#!/usr/bin/env bash
# make fleet: one node agent and TM_FLEET_NODES (50) sidecars in node mode, beside TM_FLEET_STANDALONE (5)
# standalone sidecars and one standalone sidecar of every tenant (TM_FLEET_WIDE=1), all real processes on
# this machine, with TM_FLEET_ROUTES (100000) routes over TM_FLEET_TENANTS (1000) tenants on a topic of
# TM_FLEET_PARTITIONS (256) partitions. The node sidecars serve TM_FLEET_NODE_TENANTS (1) tenant(s), which
# the agent serves. Measures PSS, connections and bytes read by role, TM_FLEET_CHANGES (1000) route changes
# under TM_FLEET_RATE (200) req/s, and an agent restart under load; writes report.md and charts to
# loadtest/results/fleet/ (TM_FLEET_OUT). TM_FLEET_ROUTES=1000000 is the long mode. Loopback only
# (ports 19000-19302), bounded in time; stops everything it started.
#
# Node sidecars share a class-data archive of the proxy jar (AppCDS, made by a training run first:
# its pages are shared by every JVM that maps it, so it counts once per node), plus TM_FLEET_NODE_FLAGS.
# With TM_FLEET_COMPARE=1 (the default) every other node sidecar runs without them ("node-plain"),
# side by side in the same run.
set -euo pipefail
source "$(dirname "$0")/../dev/lib.sh"

NODES="${TM_FLEET_NODES:-50}"
STANDALONE="${TM_FLEET_STANDALONE:-5}"
WIDE="${TM_FLEET_WIDE:-1}"
ROUTES="${TM_FLEET_ROUTES:-100000}"
TENANTS="${TM_FLEET_TENANTS:-1000}"
NODE_TENANTS="${TM_FLEET_NODE_TENANTS:-1}"
PARTITIONS="${TM_FLEET_PARTITIONS:-256}"
CHANGES="${TM_FLEET_CHANGES:-1000}"
RATE="${TM_FLEET_RATE:-200}"
COMPARE="${TM_FLEET_COMPARE:-1}"
# Measured side by side in make fleet (README): with the shared archive, -7 MiB PSS at start and -5 MiB under load.
NODE_FLAGS="${TM_FLEET_NODE_FLAGS:--Xmx32m -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.numHeapArenas=1}"
OUT="${TM_FLEET_OUT:-$ROOT/loadtest/results/fleet}"
WORK="$TM_HOME/fleet"
API_PORT=19302 UPSTREAM_PORT=19301 AGENT_ADMIN_PORT=19300
FLEET_DB=trafficmanager_fleet

for n in "$NODES" "$STANDALONE" "$ROUTES" "$TENANTS" "$NODE_TENANTS" "$PARTITIONS" "$CHANGES" "$RATE"; do
  [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || { log "not a positive number: '$n'"; exit 2; }
done
((NODES <= 100 && STANDALONE <= 49)) || { log "at most 100 node sidecars and 49 standalone ones (ports 19000-19299)"; exit 2; }
((ROUTES % TENANTS == 0)) || { log "TM_FLEET_ROUTES must be a multiple of TM_FLEET_TENANTS"; exit 2; }
((NODE_TENANTS + STANDALONE <= TENANTS)) || { log "more tenants needed than TM_FLEET_TENANTS"; exit 2; }
PER_TENANT=$((ROUTES / TENANTS))
for port in $API_PORT $UPSTREAM_PORT $AGENT_ADMIN_PORT 19000 19100 19200 19250; do
  if (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    log "port $port is already in use: stop what listens there (make fleet uses 19000-19302)"
    exit 1
  fi
done

before="$(services_up)"
cleanup() {
  set +e
  log "stopping the fleet"
  for f in "$TM_HOME"/run/fleet-*.pid; do [[ -e $f ]] && kill -TERM "$(cat "$f")" 2>/dev/null; done
  for f in "$TM_HOME"/run/fleet-*.pid; do [[ -e $f ]] && stop_java "$(basename "$f" .pid)"; done
  stop_services_not_in "$before"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_tools
bash "$ROOT/dev/stack.sh" loadtools
build_jars
stack_up
rm -rf "$WORK" && mkdir -p "$WORK" "$OUT"
tenant_name() { printf 'fleet-%04d' "$1"; }

log "a fresh database $FLEET_DB with $ROUTES routes over $TENANTS tenants"
pgsql() { PGPASSWORD="$TM_DB_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${TM_PG_PORT:-55432}" -U "$TM_DB_USER" "$@"; }
pgsql -d postgres -c "DROP DATABASE IF EXISTS $FLEET_DB" -c "CREATE DATABASE $FLEET_DB"
export TM_DB_URL="jdbc:postgresql://127.0.0.1:${TM_PG_PORT:-55432}/$FLEET_DB"
# The control API migrates the new database; without Kafka (an address nothing answers) it creates no topic yet.
TM_KAFKA_BOOTSTRAP=127.0.0.1:9 start_control_api fleet-migrate "$API_PORT"
stop_java fleet-migrate
pgsql -d "$FLEET_DB" <<SQL
INSERT INTO tenants (name) SELECT 'fleet-' || lpad(t::text, 4, '0') FROM generate_series(0, $TENANTS - 1) t;
INSERT INTO services (tenant_id, name) SELECT t.id, 'svc-' || s FROM tenants t, generate_series(0, $PER_TENANT - 1) s;
INSERT INTO environments (service_id, name) SELECT id, 'prod' FROM services;
INSERT INTO endpoints (environment_id, version, url) SELECT id, 'v1', 'http://127.0.0.1:$UPSTREAM_PORT/' FROM environments;
ANALYZE tenants, services, environments, endpoints;
SQL

# A topic of this run's own: the control API creates it and publishes every route's state to it.
export TM_KAFKA_TOPIC="tm.fleet-$(date +%s)" TM_KAFKA_TOPIC_PARTITIONS="$PARTITIONS"
t0=$(date +%s)
start_control_api fleet-control-api "$API_PORT"
until grep -q "published the state of" "$TM_HOME/log/fleet-control-api.log"; do
  (($(date +%s) - t0 < 900)) || { log "the control API did not publish the routes within 15 minutes"; exit 1; }
  sleep 0.5
done
log "$(grep -o 'published the state of.*' "$TM_HOME/log/fleet-control-api.log")"
start_java fleet-upstream -cp "$(jar_of test-support)" dev.trafficmanager.testing.TestUpstream "$UPSTREAM_PORT" fleet

processes="$WORK/processes"
: >"$processes"
node_tenants="$(for ((t = 0; t < NODE_TENANTS; t++)); do tenant_name "$t"; done | paste -sd,)"
# The sidecars' credentials and addresses (PostgreSQL through PgBouncer), on this run's database.
stack_env="$(bash "$ROOT/dev/stack.sh" env sidecar); export TM_DB_URL=\"\${TM_DB_URL%/*}/$FLEET_DB\""
common_env=(TM_KAFKA_TOPIC="$TM_KAFKA_TOPIC" TM_ENV=prod TM_DEFAULT_VERSION=v1 TM_PROXY_EVENT_LOOPS=1 MALLOC_ARENA_MAX=2)
jvm=("${SIDECAR_JVM_FLAGS[@]}" "${CHRONICLE_FLAGS[@]}" -jar "$(jar_of proxy)")

# fleet_start ROLE NAME PROXY_PORT ADMIN_PORT TENANT ENV...: a sidecar or the agent, recorded in the process list.
fleet_start() {
  local role="$1" name="$2" proxy="$3" admin="$4" tenant="$5"
  shift 5
  (
    eval "$stack_env"
    export "${common_env[@]}" TM_PROXY_PORT="$proxy" TM_PROXY_ADMIN_PORT="$admin" "$@"
    start_java "$name" "${jvm[@]}"
  )
  echo "$role $name $(cat "$TM_HOME/run/$name.pid") $proxy $admin $tenant $(date +%s%3N)" >>"$processes"
}

log "the node: an agent for $node_tenants and $NODES sidecars in node mode"
agent_env=(TM_ROLE=agent TM_AGENT_SOCKET="$WORK/node/agent.sock" TM_ALLOWED_TENANTS="$node_tenants"
  TM_L1_FILE="$WORK/node/routes.l1" TM_L1_MAX_ENTRIES=$((PER_TENANT * NODE_TENANTS * 5 / 4 + 1000)))
{ # the agent's command line, for the restart under load (AgentRestart)
  printf '%s\n' java "${jvm[@]}"
  (eval "$stack_env"; env | grep -E '^TM_(DB|KAFKA|REDIS)_' | sed 's/^/env:/')
  printf 'env:%s\n' "${common_env[@]}" "${agent_env[@]}" TM_PROXY_PORT=0 TM_PROXY_ADMIN_PORT="$AGENT_ADMIN_PORT"
  echo "log:$TM_HOME/log/fleet-agent.log"
  echo "pidfile:$TM_HOME/run/fleet-agent.pid"
} >"$WORK/agent.cmd"
mkdir -p "$WORK/node"
fleet_start agent fleet-agent 0 "$AGENT_ADMIN_PORT" "$node_tenants" "${agent_env[@]}"
wait_http "http://127.0.0.1:$AGENT_ADMIN_PORT/readyz" 900
node_env() { echo TM_AGENT_SOCKET="$WORK/node/agent.sock" TM_L1_FILE="$WORK/node/routes.l1" TM_TENANT="$(tenant_name $(($1 % NODE_TENANTS)))"; }

log "a class-data archive for the node sidecars: a training run with requests, then a clean exit"
archive="$WORK/node-sidecar.jsa"
plain_jvm=("${jvm[@]}")
jvm=(-XX:ArchiveClassesAtExit="$archive" "${plain_jvm[@]}")
# shellcheck disable=SC2046
fleet_start training fleet-training 19099 19199 "$(tenant_name 0)" $(node_env 0)
wait_http "http://127.0.0.1:19199/readyz" 120
wrk -t1 -c4 -d5s -H 'x-tm-service: svc-0' http://127.0.0.1:19099/ >/dev/null
curl -fsS -o /dev/null "http://127.0.0.1:19199/metrics"
stop_java fleet-training
[[ -s $archive ]] || { log "the training run left no archive at $archive"; exit 1; }
sed -i '/ fleet-training /d' "$processes"
# shellcheck disable=SC2206
node_jvm=(-XX:SharedArchiveFile="$archive" $NODE_FLAGS "${plain_jvm[@]}")
for ((i = 0; i < NODES; i++)); do
  role=node jvm=("${node_jvm[@]}")
  if ((COMPARE && i % 2 == 1)); then
    role=node-plain jvm=("${plain_jvm[@]}")
  fi
  # shellcheck disable=SC2046
  fleet_start "$role" "fleet-node-$i" $((19000 + i)) $((19100 + i)) "$(tenant_name $((i % NODE_TENANTS)))" $(node_env "$i")
done
jvm=("${plain_jvm[@]}")
log "$STANDALONE standalone sidecars of one tenant each$( ((WIDE)) && echo ', and one of every tenant')"
for ((j = 0; j < STANDALONE; j++)); do
  tenant="$(tenant_name $((NODE_TENANTS + j)))"
  fleet_start standalone "fleet-standalone-$j" $((19200 + j)) $((19250 + j)) "$tenant" \
    TM_TENANT="$tenant" TM_L1_FILE="$WORK/standalone-$j/routes.l1" TM_L1_MAX_ENTRIES=$((PER_TENANT * 5 / 4 + 1000))
done
if ((WIDE)); then
  fleet_start standalone-all fleet-standalone-all 19249 19299 '*' \
    TM_ALLOWED_TENANTS='*' TM_L1_FILE="$WORK/standalone-all/routes.l1" TM_L1_MAX_ENTRIES=$((ROUTES * 5 / 4 + 1000))
fi

log "measuring (report in $OUT)"
status=0
(
  eval "$stack_env"
  java -Xmx512m -cp "$(jar_of loadtest)" dev.trafficmanager.loadtest.fleet.Fleet --processes "$processes" \
    --api "http://127.0.0.1:$API_PORT" --token "$TM_ADMIN_TOKEN" --upstream "http://127.0.0.1:$UPSTREAM_PORT" \
    --out "$OUT" --changes "$CHANGES" --rate "$RATE" --topic "$TM_KAFKA_TOPIC" --routes "$ROUTES" --tenants "$TENANTS" \
    --partitions "$PARTITIONS" --node-tenants "$NODE_TENANTS" --routes-per-tenant "$PER_TENANT" \
    --agent-cmd "$WORK/agent.cmd" --kafka-port "${TM_KAFKA_PORT:-59092}" --redis-port "${TM_REDIS_PORT:-56379}" \
    --postgres-port "${TM_PG_PORT:-55432}" --pgbouncer-port "${TM_PGBOUNCER_PORT:-56432}" \
    --node-flags "-XX:SharedArchiveFile=(archive) $NODE_FLAGS"
) || status=$?
if [[ ${TM_FLEET_KEEP:-0} == 1 ]]; then
  log "TM_FLEET_KEEP=1: the fleet stays up (processes in $processes); Ctrl-C stops it"
  sleep 3600 & wait $!   # wait: a signal interrupts it, so the cleanup runs at once
fi
((status == 0)) || exit "$status"

bash "$ROOT/loadtest/fleet-charts.sh" "$OUT"
log "report: $OUT/report.md"

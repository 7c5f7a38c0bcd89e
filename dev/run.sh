#!/usr/bin/env bash
# make run: the local stack, the control API and the sidecar, a demo tenant with routes, and example
# calls. Runs in the foreground; Ctrl-C (or SIGTERM) stops everything it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

API_PORT="${TM_API_PORT:-8081}"
ADMIN_PORT="${TM_PROXY_ADMIN_PORT:-15000}"
API="http://127.0.0.1:$API_PORT"

before="$(services_up)"
cleanup() {
  trap - EXIT INT TERM
  log "stopping"
  stop_java proxy
  stop_java control-api
  stop_services_not_in "$before"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_tools
build_jars
bash "$ROOT/dev/stack.sh" up
eval "$(bash "$ROOT/dev/stack.sh" env)"
export TM_DB_URL TM_DB_USER TM_DB_PASSWORD TM_KAFKA_BOOTSTRAP
export TM_ADMIN_TOKEN="$(admin_token)"
export TM_API_PORT="$API_PORT" TM_PROXY_ADMIN_PORT="$ADMIN_PORT"

start_java control-api "$(jar_of control-api)"
start_java proxy "$(jar_of proxy)"
wait_http "$API/healthz" 90 || { tail -n 30 "$TM_HOME/log/control-api.log"; exit 1; }
wait_http "http://127.0.0.1:$ADMIN_PORT/healthz" 30 || { tail -n 30 "$TM_HOME/log/proxy.log"; exit 1; }

# The demo tenant's token is shown once at creation: keep it under .tm/ for later runs.
DEMO_TOKEN_FILE="$TM_HOME/demo-token"
status=$(curl -sS -o "$TM_HOME/demo-tenant.json" -w '%{http_code}' -X POST "$API/v1/tenants" \
  -H "Authorization: Bearer $TM_ADMIN_TOKEN" -d '{"name":"demo"}')
if [[ "$status" == 201 ]]; then
  (umask 077 && sed -E 's/.*"token":"([^"]+)".*/\1/' "$TM_HOME/demo-tenant.json" > "$DEMO_TOKEN_FILE")
fi
rm -f "$TM_HOME/demo-tenant.json"
DEMO_TOKEN="$(cat "$DEMO_TOKEN_FILE" 2>/dev/null || echo "$TM_ADMIN_TOKEN")"
for v in v1 v2; do
  curl -sS -o /dev/null -X PUT "$API/v1/routes/demo/hello/prod/$v" -H "Authorization: Bearer $DEMO_TOKEN" \
    -d "{\"url\":\"http://127.0.0.1:1808${v#v}/hello-$v\"}"
done

cat <<MSG

Traffic Manager is running.
  control API   $API        (log: .tm/log/control-api.log)
  sidecar admin http://127.0.0.1:$ADMIN_PORT   (log: .tm/log/proxy.log; the proxy port joins with the sidecar issue)
  PostgreSQL $TM_DB_URL   Kafka $TM_KAFKA_BOOTSTRAP
  admin token   $TM_ADMIN_TOKEN   (also in .tm/admin-token)
  demo tenant   demo, token in .tm/demo-token

Try:
  export ADMIN=\$(cat .tm/admin-token)
  curl -s -X POST $API/v1/tenants -H "Authorization: Bearer \$ADMIN" -d '{"name":"team-a"}'
      # 201 {"name":"team-a","token":"tm_..."}: the token is shown this once; export TOKEN_A=...
  curl -s -X PUT $API/v1/routes/team-a/payments/prod/v1 -H "Authorization: Bearer \$TOKEN_A" \\
       -d '{"url":"http://payments-v1:8080/api"}'                       # 201, revision 1
  curl -s -X PUT $API/v1/routes/team-a/payments/prod/v1 -H "Authorization: Bearer \$TOKEN_A" \\
       -d '{"url":"http://payments-v1:8080/api"}'                       # 200, still revision 1
  curl -s -X POST $API/v1/routes/team-a/payments/prod/v1/deactivate -H "Authorization: Bearer \$TOKEN_A"
  curl -s $API/v1/routes/team-a/payments/prod/v1/history -H "Authorization: Bearer \$TOKEN_A"
  curl -s "$API/v1/routes/demo?limit=10" -H "Authorization: Bearer \$(cat .tm/demo-token)"
  bash dev/events.sh                                                      # the events on tm.route-events, key = route key

Ctrl-C stops everything this command started.
MSG

# Stay in the foreground until Ctrl-C, or until a server dies.
while alive "$(cat "$TM_HOME/run/control-api.pid")" && alive "$(cat "$TM_HOME/run/proxy.pid")"; do
  sleep 1
done
log "a server exited; see .tm/log/"
exit 1

#!/usr/bin/env bash
# make run: the local stack, the control API, the sidecar and two demo upstreams, a demo tenant
# with routes for v1 and v2, and example calls. Runs in the foreground; Ctrl-C (or SIGTERM) stops
# everything it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

API_PORT="${TM_API_PORT:-8081}"
PROXY_PORT="${TM_PROXY_PORT:-15001}"
ADMIN_PORT="${TM_PROXY_ADMIN_PORT:-15000}"
API="http://127.0.0.1:$API_PORT"
PROXY="http://127.0.0.1:$PROXY_PORT"
ADMIN="http://127.0.0.1:$ADMIN_PORT"
DEMO_PORTS=(18081 18082 18083)

before="$(services_up)"
cleanup() {
  trap - EXIT INT TERM
  log "stopping"
  stop_java proxy
  stop_java control-api
  stop_java demo-v1
  stop_java demo-v2
  stop_java demo-ws
  stop_services_not_in "$before"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_tools
build_jars
stack_up
export TM_API_PORT="$API_PORT" TM_PROXY_PORT="$PROXY_PORT" TM_PROXY_ADMIN_PORT="$ADMIN_PORT"
# The sidecar of a pod of the demo tenant's "prod" environment: requests name only the service
# (by its name as the host, or a header), and v1 unless they ask for another version. Its L1 file
# lives under .tm/, so a restart of make run routes at once.
export TM_TENANT="${TM_TENANT:-demo}" TM_ENV="${TM_ENV:-prod}" TM_DEFAULT_VERSION="${TM_DEFAULT_VERSION:-v1}"
export TM_L1_FILE="${TM_L1_FILE:-$TM_HOME/sidecar/routes.l1}"
# One JSON line per request (the default is standard output, which start_sidecar sends to the log).
export TM_ACCESS_LOG="${TM_ACCESS_LOG:-$TM_HOME/log/access.log}"

upstream_jar="$(jar_of test-support)"
start_java demo-v1 -cp "$upstream_jar" dev.trafficmanager.testing.TestUpstream "${DEMO_PORTS[0]}" hello-v1
start_java demo-v2 -cp "$upstream_jar" dev.trafficmanager.testing.TestUpstream "${DEMO_PORTS[1]}" hello-v2
start_java demo-ws -cp "$upstream_jar" dev.trafficmanager.testing.WebSocketEcho server "${DEMO_PORTS[2]}"
start_java control-api -jar "$(jar_of control-api)"
wait_http "$API/healthz" 90 || { tail -n 30 "$TM_HOME/log/control-api.log"; exit 1; }
# The control API creates the topic the sidecar reads; start the sidecar once it answers.
MALLOC_ARENA_MAX=2 start_sidecar proxy "${SIDECAR_JVM_FLAGS[@]}" "${CHRONICLE_FLAGS[@]}" -jar "$(jar_of proxy)"
wait_http "$ADMIN/readyz" 90 || { tail -n 30 "$TM_HOME/log/proxy.log"; exit 1; }

# The demo tenant's token is shown once at creation: keep it under .tm/ for later runs.
DEMO_TOKEN_FILE="$TM_HOME/demo-token"
status=$(curl -sS -o "$TM_HOME/demo-tenant.json" -w '%{http_code}' -X POST "$API/v1/tenants" \
  -H "Authorization: Bearer $TM_ADMIN_TOKEN" -d '{"name":"demo"}')
if [[ "$status" == 201 ]]; then
  (umask 077 && sed -E 's/.*"token":"([^"]+)".*/\1/' "$TM_HOME/demo-tenant.json" > "$DEMO_TOKEN_FILE")
fi
rm -f "$TM_HOME/demo-tenant.json"
DEMO_TOKEN="$(cat "$DEMO_TOKEN_FILE" 2>/dev/null || echo "$TM_ADMIN_TOKEN")"
for v in 1 2; do
  curl -sS -o /dev/null -X PUT "$API/v1/routes/demo/hello/prod/v$v" -H "Authorization: Bearer $DEMO_TOKEN" \
    -d "{\"url\":\"http://127.0.0.1:${DEMO_PORTS[$((v - 1))]}/hello-v$v\"}"
  curl -sS -o /dev/null -X POST "$API/v1/routes/demo/hello/prod/v$v/activate" -H "Authorization: Bearer $DEMO_TOKEN"
done
curl -sS -o /dev/null -X PUT "$API/v1/routes/demo/chat/prod/v1" -H "Authorization: Bearer $DEMO_TOKEN" \
  -d "{\"url\":\"http://127.0.0.1:${DEMO_PORTS[2]}/\"}"
# A 90/10 split of hello between v1 and v2 for requests that name no version, sticky by x-user-id.
curl -sS -o /dev/null -X PUT "$API/v1/splits/demo/hello/prod" -H "Authorization: Bearer $DEMO_TOKEN" \
  -d '{"weights":{"v1":90,"v2":10},"stickyHeader":"x-user-id"}'
# Show it once the sidecar has it: a hundred requests, counted by the version that answered.
for _ in $(seq 100); do
  curl -s "$ADMIN/admin/resolve?service=hello&split" | grep -q '"weights"' && break
  sleep 0.1
done
SPLIT_COUNT=$(for _ in $(seq 100); do curl -s -x "$PROXY" http://hello/greet; done | cut -d' ' -f1 | sort | uniq -c | tr -s ' ' | paste -sd, -)
# Routes as code: what tmctl would change to make the demo tenant what examples/routes.yaml says.
TMCTL_PLAN=$(TM_API="$API" TM_TOKEN="$DEMO_TOKEN" "$ROOT/bin/tmctl" diff -f "$ROOT/examples/routes.yaml" 2>&1 | sed 's/^/    /')

cat <<MSG

Traffic Manager is running.
  control API   $API        (log: .tm/log/control-api.log)
  sidecar       $PROXY      (log: .tm/log/proxy.log; tenant demo, env prod, version v1 by default)
  sidecar admin $ADMIN      (/healthz /readyz /metrics /admin/routes /admin/resolve)
  upstreams     hello-v1 http://127.0.0.1:${DEMO_PORTS[0]}   hello-v2 http://127.0.0.1:${DEMO_PORTS[1]}
                chat (WebSocket echo) http://127.0.0.1:${DEMO_PORTS[2]}
  admin token   $TM_ADMIN_TOKEN   (also in .tm/admin-token); demo tenant token in .tm/demo-token

  split         hello: v1 90, v2 10, sticky by x-user-id; 100 requests just now:${SPLIT_COUNT}
  access log    .tm/log/access.log (a JSON line per request, with its x-request-id and trace id)

  tmctl diff -f examples/routes.yaml (routes as code) says:
${TMCTL_PLAN}

Try, in another terminal at the repository root:
  export TOKEN=\$(cat .tm/demo-token)
  # routes as code with tmctl: apply the plan above, then again (nothing to change), then see what it did
  export TM_API=$API TM_TOKEN=\$TOKEN
  bin/tmctl apply -f examples/routes.yaml                                            # applied 2 change(s): hello v3 created, the split 80/10/10
  bin/tmctl apply -f examples/routes.yaml                                            # nothing to change
  for i in \$(seq 100); do curl -s -x $PROXY http://hello/greet; done | cut -d' ' -f1-3 | sort | uniq -c   # ~80 v1, ~10 v2, ~10 v3 over both upstreams
  bin/tmctl get routes --tenant demo                                                 # the tenant's routes as a table (-o json, -o yaml)
  bin/tmctl export --tenant demo > /tmp/demo.yaml && bin/tmctl diff -f /tmp/demo.yaml   # the tenant as a file: applies back unchanged
  bin/tmctl resolve --sidecar $ADMIN --service hello --version v3                    # what the sidecar would do, and from which tier
  tail -n 3 .tm/log/access.log                                                       # the access log: route, status, tier, upstream, ids
  # the sidecar as the application's HTTP proxy: call the service by name, no route headers; a request
  # that names no version takes it from hello's 90/10 split
  curl -s -x $PROXY http://hello/greet?name=ada                                   # hello-v1 GET /hello-v1/greet?name=ada (v2 one time in ten)
  http_proxy=$PROXY curl -s http://hello.svc.cluster.local/greet                 # the same, suffix stripped
  curl -s -x $PROXY http://hello/greet -H 'x-tm-version: v2'                      # hello-v2 GET /hello-v2/greet: the header wins
  # the split: a hundred requests counted per version; one user stays on one version; a weight change moves the share
  for i in \$(seq 100); do curl -s -x $PROXY http://hello/greet; done | cut -d' ' -f1 | sort | uniq -c          # ~90 hello-v1, ~10 hello-v2
  for i in \$(seq 20); do curl -s -x $PROXY http://hello/greet -H 'x-user-id: ada'; done | cut -d' ' -f1 | uniq -c   # 20 of one version
  curl -s -X PUT $API/v1/splits/demo/hello/prod -H "Authorization: Bearer \$TOKEN" \\
       -d '{"weights":{"v1":50,"v2":50},"stickyHeader":"x-user-id"}'
  for i in \$(seq 100); do curl -s -x $PROXY http://hello/greet; done | cut -d' ' -f1 | sort | uniq -c          # ~50 and ~50
  curl -s "$ADMIN/admin/resolve?service=hello&split"                               # the split as the sidecar holds it
  # or plain requests with route headers: the same request, two versions, two upstreams
  curl -s $PROXY/greet?name=ada -H 'x-tm-service: hello' -H 'x-tm-version: v1'    # hello-v1 GET /hello-v1/greet?name=ada
  curl -s $PROXY/greet?name=ada -H 'x-tm-service: hello' -H 'x-tm-version: v2'    # hello-v2 GET /hello-v2/greet?name=ada
  # the sidecar serves its own tenant only
  curl -s -x $PROXY http://hello/greet -H 'x-tm-tenant: team-b'                   # 403 {"error":"tenant_forbidden",...}
  # a route change reaches the sidecar through Kafka in well under a second
  curl -s -X PUT $API/v1/routes/demo/hello/prod/v1 -H "Authorization: Bearer \$TOKEN" \\
       -d '{"url":"http://127.0.0.1:${DEMO_PORTS[1]}/moved"}'
  curl -s -x $PROXY http://hello/greet -H 'x-tm-version: v1'                      # hello-v2 GET /moved/greet
  # deactivation: 404 route_not_found at once; activate brings it back
  curl -s -X POST $API/v1/routes/demo/hello/prod/v2/deactivate -H "Authorization: Bearer \$TOKEN"
  curl -s -x $PROXY http://hello/ -H 'x-tm-version: v2'                           # {"error":"route_not_found",...}
  curl -s -X POST $API/v1/routes/demo/hello/prod/v2/activate -H "Authorization: Bearer \$TOKEN"
  # HTTP/2 on the same port (prior knowledge); hello's upstreams speak HTTP/1.1 only, so the sidecar
  # learns that from their answer to h2c and translates
  curl -s --http2-prior-knowledge $PROXY/greet -H 'x-tm-service: hello' -H 'x-tm-version: v1' -w 'HTTP/%{http_version}\\n'    # hello-v1 GET /hello-v1/greet, then HTTP/2
  # WebSocket: the upstream's 101 is relayed and the connection becomes a tunnel (JDK client)
  java -cp $upstream_jar dev.trafficmanager.testing.WebSocketEcho call ws://127.0.0.1:$PROXY_PORT/ hi x-tm-service:chat   # echo: hi
  # what the sidecar knows, and from which tier
  curl -s "$ADMIN/admin/resolve?service=hello"
  curl -s $ADMIN/metrics | grep -E '^tm_(proxy_requests|route_lookups|kafka_lag)'
  bash dev/events.sh                                                                 # the events on tm.route-events

Ctrl-C stops everything this command started.
MSG

# Stay in the foreground until Ctrl-C, or until a server dies.
while alive "$(cat "$TM_HOME/run/control-api.pid")" && alive "$(cat "$TM_HOME/run/proxy.pid")"; do
  sleep 1
done
log "a server exited; see .tm/log/"
exit 1

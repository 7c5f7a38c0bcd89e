#!/usr/bin/env bash
# make loadtest: the sidecar against nginx, HAProxy and a direct connection, on this machine, in one
# run. Installs wrk, nginx, HAProxy and gnuplot from Debian's packages if missing; starts an nginx
# upstream with a small fixed body, the local stack, the control API, the sidecar (with
# TM_LOADTEST_ROUTES routes in L1), an nginx proxy and an HAProxy (loadtest/nginx-proxy.conf,
# loadtest/haproxy.cfg) that route by the same headers to the same upstream. Then:
#   1. saturation: wrk, same connections and duration, targets alternating (A B C D A B C D ...), at
#      TM_LOADTEST_CONNECTIONS (16) and again at TM_LOADTEST_CONNECTIONS_HIGH (64) connections
#   2. latency at fixed rates: OpenLoad (open model, no coordinated omission) at 25/50/75 % of the
#      direct saturation rate, targets alternating
#   3. propagation: TM_LOADTEST_CHANGES route changes, then as many split changes, while the sidecar serves 25 % load
#   4. gRPC: unary calls through the sidecar, directly and through nginx's grpc_pass (grpc-compare.sh)
# and writes the report (Markdown and PNG charts) to loadtest/results/. Loopback only, every run
# bounded in time; stops everything it started.
set -euo pipefail
source "$(dirname "$0")/../dev/lib.sh"
source "$(dirname "$0")/grpc-compare.sh"

ROUNDS="${TM_LOADTEST_ROUNDS:-3}"
SECONDS_PER_RUN="${TM_LOADTEST_SECONDS:-10}"
CONNECTIONS="${TM_LOADTEST_CONNECTIONS:-16}"
CONNECTIONS_HIGH="${TM_LOADTEST_CONNECTIONS_HIGH:-64}" # a second saturation sweep
ROUTES="${TM_LOADTEST_ROUTES:-100000}"
CHANGES="${TM_LOADTEST_CHANGES:-1000}"
SIDECAR_HEAP="${TM_LOADTEST_SIDECAR_HEAP:-64m}"
# The sidecar's JVM flags as the README recommends them (dev/lib.sh), with the heap size asked for.
SIDECAR_JVM=("${SIDECAR_JVM_FLAGS[@]}" -Xmx"$SIDECAR_HEAP")
OUT="${TM_LOADTEST_OUT:-$ROOT/loadtest/results}"
UPSTREAM_PORT=18100 SIDECAR_PORT=18101 ADMIN_PORT=18102 NGINX_PORT=18103 HAPROXY_PORT=18104 API_PORT=18105
GRPC_UPSTREAM_PORT=18106 GRPC_NGINX_PORT=18107
WORK="$TM_HOME/loadtest"
TARGETS=(direct sidecar nginx haproxy)
HEADERS=(-H 'x-tm-service: hello' -H 'x-tm-version: v1')

for n in "$ROUNDS" "$SECONDS_PER_RUN" "$CONNECTIONS" "$CONNECTIONS_HIGH" "$ROUTES" "$CHANGES"; do
  [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || { log "not a positive number: '$n'"; exit 2; }
done

before="$(services_up)"
cleanup() {
  set +e
  [[ -n "${background_load:-}" ]] && kill "$background_load" 2>/dev/null
  stop_java lt-sidecar; stop_java lt-control-api
  for name in nginx-upstream nginx-proxy haproxy nginx-grpc grpc-echo; do
    [[ -f "$WORK/$name.master" ]] && kill -TERM "$(cat "$WORK/$name.master")" 2>/dev/null
  done
  stop_services_not_in "$before"
}
trap cleanup EXIT

ensure_tools
bash "$ROOT/dev/stack.sh" loadtools
build_jars
rm -rf "$WORK" && mkdir -p "$WORK/tmp" "$OUT"
start_daemon() { # name command... (runs in the foreground of its own process; pid kept for cleanup)
  local name="$1"; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  echo $! >"$WORK/$name.master"
}
for port in $UPSTREAM_PORT $SIDECAR_PORT $ADMIN_PORT $NGINX_PORT $HAPROXY_PORT $API_PORT $GRPC_UPSTREAM_PORT $GRPC_NGINX_PORT; do
  if (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    log "port $port is already in use: stop what listens there (make loadtest uses 18100-18107)"
    exit 1
  fi
done
for config in nginx-upstream.conf nginx-proxy.conf haproxy.cfg nginx-grpc.conf; do render_config "$config" "$WORK/$config"; done
start_daemon nginx-upstream nginx -p "$WORK" -c "$WORK/nginx-upstream.conf"
start_daemon nginx-proxy nginx -p "$WORK" -c "$WORK/nginx-proxy.conf"
start_daemon haproxy haproxy -db -f "$WORK/haproxy.cfg"
wait_port() { # port name
  local deadline=$((SECONDS + 10))
  until (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && alive "$(cat "$WORK/$2.master")"; do
    ((SECONDS < deadline)) || { log "$2 did not open port $1:"; cat "$WORK/$2.log" >&2; exit 1; }
    sleep 0.1
  done
}
wait_port "$UPSTREAM_PORT" nginx-upstream; wait_port "$NGINX_PORT" nginx-proxy; wait_port "$HAPROXY_PORT" haproxy

control_api_with_tenant lt-control-api "$API_PORT" loadtest
put_route "$api" "$token" "$tenant/hello/prod/v1" "http://127.0.0.1:$UPSTREAM_PORT/"
put_route "$api" "$token" "$tenant/prop/prod/v1" "http://127.0.0.1:$UPSTREAM_PORT/"

# The other routes go straight into the tables and the outbox the control API writes (its 770
# writes/s would take minutes for 100k); the outbox relay publishes them to Kafka like any change.
log "seeding $ROUTES routes"
services=$(((ROUTES + 99) / 100))
TM_DB_PORT="$(sed -E 's#.*:([0-9]+)/.*#\1#' <<<"$TM_DB_URL")"
pg_tm() { PGPASSWORD="$TM_DB_PASSWORD" psql -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TM_DB_PORT" -U "$TM_DB_USER" "${TM_DB_URL##*/}" "$@"; }
pg_tm -v tenant="$tenant" -v services="$services" -v upstream="http://127.0.0.1:$UPSTREAM_PORT/" <<'SQL'
WITH t AS (SELECT id FROM tenants WHERE name = :'tenant'),
s AS (INSERT INTO services (tenant_id, name) SELECT t.id, 'svc-' || g FROM t, generate_series(1, :services) g RETURNING id),
e AS (INSERT INTO environments (service_id, name) SELECT id, 'prod' FROM s RETURNING id),
p AS (INSERT INTO endpoints (environment_id, version, url) SELECT e.id, 'v' || g, :'upstream' FROM e, generate_series(1, 100) g
      RETURNING id, url, revision)
INSERT INTO route_events (endpoint_id, event_type, url, is_active, revision) SELECT id, 'created', url, true, revision FROM p;
SQL
deadline=$((SECONDS + 300))
until [[ "$(pg_tm -c 'SELECT count(*) FROM route_events WHERE published_at IS NULL')" == 0 ]]; do
  ((SECONDS < deadline)) || { log "the outbox relay did not publish the seeded routes within 300 s"; exit 1; }
  sleep 1
done

log "starting the sidecar (-Xmx$SIDECAR_HEAP); it reads every route event before /readyz turns 200"
started=$SECONDS
# The access log and trace context off, as nginx's and HAProxy's logs are here: their cost is measured
# apart, at the end (access-log.tsv).
MALLOC_ARENA_MAX=2 TM_PROXY_PORT=$SIDECAR_PORT TM_PROXY_ADMIN_PORT=$ADMIN_PORT TM_TENANT=$tenant TM_ENV=prod TM_L1_FILE="$WORK/routes.l1" \
  TM_ACCESS_LOG=off TM_TRACE_CONTEXT=off start_sidecar lt-sidecar "${SIDECAR_JVM[@]}" "${CHRONICLE_FLAGS[@]}" -jar "$(jar_of proxy)"
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" 300
catch_up=$((SECONDS - started))
sidecar_pid="$(cat "$TM_HOME/run/lt-sidecar.pid")"

url_of() {
  case $1 in
    direct) echo "http://127.0.0.1:$UPSTREAM_PORT/" ;;
    sidecar) echo "http://127.0.0.1:$SIDECAR_PORT/" ;;
    nginx) echo "http://127.0.0.1:$NGINX_PORT/" ;;
    haproxy) echo "http://127.0.0.1:$HAPROXY_PORT/" ;;
  esac
}
for target in "${TARGETS[@]}"; do # every route answers before anything is measured
  code="$(curl -sS -o /dev/null -w '%{http_code}' "${HEADERS[@]}" "$(url_of "$target")")"
  [[ $code == 200 ]] || { log "$target answered $code, not 200"; exit 1; }
done

# The process whose CPU time counts for a target (with its children: nginx's workers); none for direct.
pid_of() {
  case $1 in
    sidecar) echo "$sidecar_pid" ;;
    nginx) cat "$WORK/nginx-proxy.master" ;;
    haproxy) cat "$WORK/haproxy.master" ;;
    *) echo "" ;;
  esac
}
TICKS="$(getconf CLK_TCK)"
cpu_seconds() { awk -v t="$(($2 - $1))" -v hz="$TICKS" 'BEGIN {printf "%.2f", t / hz}'; } # ticks-before ticks-after
sidecar_memory() { # heap used, RSS and PSS of the sidecar, MiB (PSS: its share of the pages it maps with others)
  local heap rss pss
  heap="$(curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" | awk 'index($0, "jvm_memory_used_bytes{area=\"heap\"") == 1 {s += $NF} END {printf "%.1f", s / 1048576}')"
  rss="$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$sidecar_pid/status")"
  pss="$(awk '/^Pss:/ {printf "%.1f", $2 / 1024}' "/proc/$sidecar_pid/smaps_rollup")"
  echo "$heap $rss $pss"
}
field() { sed -E "s/.*\\b$1=([0-9.]+).*/\\1/" <<<"$2"; } # name line: a value from OpenLoad's summary
l1_entries() { curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '/^tm_l1_entries / {printf "%d", $2}'; }

loadgen=(java -XX:+UseParallelGC -Xmx256m -cp "$(jar_of loadtest)" )
run_dir="$WORK/results" && mkdir -p "$run_dir"
printf 'phase\theap_mib\trss_mib\tpss_mib\n' >"$run_dir/sidecar-memory.tsv"
printf 'idle\t%s\n' "$(sidecar_memory | tr ' ' '\t')" >>"$run_dir/sidecar-memory.tsv"
to_ms() { awk '{v = $1; if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0; else if (v ~ /s$/) printf "%.3f", v * 1000; else print v}' <<<"$1"; }

log "warm-up: ${SECONDS_PER_RUN}s of wrk per target"
for target in "${TARGETS[@]}"; do
  wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" "${HEADERS[@]}" "$(url_of "$target")" >/dev/null
done

# saturation CONNECTIONS FILE: ROUNDS rounds of wrk, targets alternating, into FILE.
saturation() {
  local conns="$1" file="$2" round target pid t0 t1 out requests rps p50 p99 cpu
  printf 'round\ttarget\trequests\trps\tp50_ms\tp99_ms\tcpu_s\n' >"$file"
  log "saturation: $ROUNDS rounds of wrk -t1 -c$conns -d${SECONDS_PER_RUN}s, alternating"
  for ((round = 1; round <= ROUNDS; round++)); do
    for target in "${TARGETS[@]}"; do
      pid="$(pid_of "$target")"
      t0="$(cpu_ticks "$pid")"
      out="$(wrk -t1 -c"$conns" -d"${SECONDS_PER_RUN}s" --latency "${HEADERS[@]}" "$(url_of "$target")")"
      t1="$(cpu_ticks "$pid")"
      requests="$(awk '/requests in/ {print $1}' <<<"$out")"
      rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
      p50="$(to_ms "$(awk '/^ +50%/ {print $2}' <<<"$out")")"
      p99="$(to_ms "$(awk '/^ +99%/ {print $2}' <<<"$out")")"
      if grep -q "Non-2xx\|Socket errors" <<<"$out"; then log "$target: $(grep -E 'Non-2xx|Socket errors' <<<"$out")"; fi
      cpu="$(cpu_seconds "$t0" "$t1")"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$requests" "$rps" "$p50" "$p99" "$cpu" >>"$file"
      log "c$conns round $round $target: $rps req/s, p50 $p50 ms, p99 $p99 ms, cpu $cpu s"
      if [[ $target == sidecar ]]; then
        printf 'saturation-c%s-%s\t%s\n' "$conns" "$round" "$(sidecar_memory | tr ' ' '\t')" >>"$run_dir/sidecar-memory.tsv"
      fi
    done
  done
}
saturation "$CONNECTIONS" "$run_dir/saturation.tsv"
saturation "$CONNECTIONS_HIGH" "$run_dir/saturation-high.tsv"

median_rps() { awk -F'\t' -v t="$1" '$2 == t {printf "%d\n", $4}' "$run_dir/saturation.tsv" | median; }
direct_rps="$(median_rps direct)"
slowest_rps="$(for t in sidecar nginx haproxy; do median_rps "$t"; done | sort -n | head -1)"
# Two sets of fixed rates: 25/50/75 % of the direct saturation rate, as the performance issue asks,
# and 25/50/75 % of the slowest proxy's, so every proxy runs below its capacity and the figures
# compare proxies rather than how fast their queues grow (on this machine every proxy saturates
# below half the direct rate).
log "latency at fixed rates: 25/50/75 % of direct ($direct_rps req/s) and of the slowest proxy ($slowest_rps req/s)"
printf 'basis\tload\trate\ttarget\tcompleted\terrors\tunsent\tp50_us\tp99_us\tp999_us\tmax_us\tcpu_s\n' >"$run_dir/latency.tsv"
for basis in direct proxies; do
  [[ $basis == direct ]] && base_rps=$direct_rps || base_rps=$slowest_rps
  for load in 25 50 75; do
    rate=$((base_rps * load / 100))
    for target in "${TARGETS[@]}"; do
      pid="$(pid_of "$target")"
      t0="$(cpu_ticks "$pid")"
      line="$("${loadgen[@]}" dev.trafficmanager.loadtest.OpenLoad --url "$(url_of "$target")" --rate "$rate" \
        --seconds "$SECONDS_PER_RUN" --warmup 2 --connections "$CONNECTIONS" \
        --header 'x-tm-service:hello' --header 'x-tm-version:v1' --histogram "$run_dir/hdr-$basis-$load-$target.txt")"
      t1="$(cpu_ticks "$pid")"
      cpu="$(cpu_seconds "$t0" "$t1")"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$basis" "$load" "$rate" "$target" \
        "$(field completed "$line")" "$(field errors "$line")" "$(field unsent "$line")" "$(field p50_us "$line")" \
        "$(field p99_us "$line")" "$(field p999_us "$line")" "$(field max_us "$line")" "$cpu" \
        >>"$run_dir/latency.tsv"
      log "$load % of $basis, $target: $line"
      [[ $target == sidecar ]] && printf 'rate-%s-%s\t%s\n' "$basis" "$load" "$(sidecar_memory | tr ' ' '\t')" >>"$run_dir/sidecar-memory.tsv"
    done
  done
done

log "propagation: $CHANGES route changes while the sidecar serves $((slowest_rps / 2)) req/s"
"${loadgen[@]}" dev.trafficmanager.loadtest.OpenLoad --url "$(url_of sidecar)" --rate "$((slowest_rps / 2))" \
  --seconds 600 --warmup 0 --connections "$CONNECTIONS" --header 'x-tm-service:hello' --header 'x-tm-version:v1' \
  >"$run_dir/propagation-load.txt" &
background_load=$!
propagation="$("${loadgen[@]}" dev.trafficmanager.loadtest.PropagationProbe --api "http://127.0.0.1:$API_PORT" \
  --token "$token" --tenant "$tenant" --admin "http://127.0.0.1:$ADMIN_PORT" \
  --upstream "http://127.0.0.1:$UPSTREAM_PORT" --changes "$CHANGES")"
split_propagation="$("${loadgen[@]}" dev.trafficmanager.loadtest.PropagationProbe --api "http://127.0.0.1:$API_PORT" \
  --token "$token" --tenant "$tenant" --admin "http://127.0.0.1:$ADMIN_PORT" \
  --upstream "http://127.0.0.1:$UPSTREAM_PORT" --changes "$CHANGES" --target split)"
printf 'propagation\t%s\n' "$(sidecar_memory | tr ' ' '\t')" >>"$run_dir/sidecar-memory.tsv"
kill "$background_load" 2>/dev/null || true
wait "$background_load" 2>/dev/null || true
background_load=""
log "propagation: $propagation"
log "split propagation: $split_propagation"

grpc_comparison "$run_dir/grpc.tsv"

log "access log: a sidecar with it off against one writing it to a file (trace context created), alternating"
A_NAME=log-off A_ENV="TM_ACCESS_LOG=off TM_TRACE_CONTEXT=off" B_NAME=log-on B_ENV="TM_ACCESS_LOG=$TM_HOME/sidecar-ab/access.log" \
  TM_BENCH_ROUNDS="$ROUNDS" TM_BENCH_SECONDS="$SECONDS_PER_RUN" TM_BENCH_CONNECTIONS="$CONNECTIONS" TM_BENCH_SKIP_BUILD=1 \
  bash "$ROOT/loadtest/sidecar-ab.sh"
{ printf 'variant\trps\tcpu_us\tlog_bytes\tlog_lines\n'; awk -F'\t' -v b="$(stat -c %s "$TM_HOME/sidecar-ab/access.log")" \
  -v l="$(wc -l <"$TM_HOME/sidecar-ab/access.log")" '{print $0 "\t" ($1 == "log-on" ? b "\t" l : "0\t0")}' \
  "$TM_HOME/sidecar-ab/results.tsv"; } >"$run_dir/access-log.tsv"
rm -f "$TM_HOME/sidecar-ab/access.log"

{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine=$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -r), $(java -version 2>&1 | head -1)"
  echo "cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "versions=nginx $(nginx -v 2>&1 | sed 's#.*/##'), HAProxy $(haproxy -v | awk 'NR == 1 {print $3}'), wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}')"
  echo "connections=$CONNECTIONS"
  echo "connections_high=$CONNECTIONS_HIGH"
  echo "seconds=$SECONDS_PER_RUN"
  echo "rounds=$ROUNDS"
  echo "routes=$ROUTES"
  echo "l1_entries=$(l1_entries)"
  echo "catch_up_s=$catch_up"
  echo "sidecar_heap_max=$SIDECAR_HEAP"
  echo "propagation=$propagation"
  echo "split_propagation=$split_propagation"
  echo "propagation_load=$((slowest_rps / 2))"
} >"$run_dir/run.properties"

"${loadgen[@]}" dev.trafficmanager.loadtest.Report "$run_dir" "$OUT"
log "report: $OUT/report.md"

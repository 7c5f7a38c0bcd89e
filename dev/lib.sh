# Shared by dev/run.sh, dev/test.sh and loadtest scripts: sourced, not run.
# Every wait here polls with a deadline.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TM_HOME="${TM_HOME:-$ROOT/.tm}"
MVN=(mvn -B -q)

log() { printf '[tm] %s\n' "$*" >&2; }

# Names of the stack services that are up now, one per line.
services_up() {
  bash "$ROOT/dev/stack.sh" status | awk '$2 == "up" { print $1 }'
}

# Stops the stack services that were not up when $1 (a list from services_up) was taken.
stop_services_not_in() {
  local before="$1" svc
  for svc in pgbouncer postgres redis kafka; do   # pgbouncer first: it is a client of postgres
    if ! grep -qx "$svc" <<<"$before"; then
      bash "$ROOT/dev/stack.sh" stop "$svc" || true
    fi
  done
}

# The build and the scripts need a JDK, Maven and curl: dev/stack.sh installs them from Debian's
# packages when missing, the same way it installs PostgreSQL and Redis.
ensure_tools() {
  bash "$ROOT/dev/stack.sh" tools
}

# async_profiler: the path of async-profiler's agent library, fetched from Maven Central the first
# time (tools.profiler:async-profiler, the linux-x64 jar carries the library) into .tm/tools.
ASYNC_PROFILER_VERSION=4.1
async_profiler() {
  local dir="$TM_HOME/tools/async-profiler-$ASYNC_PROFILER_VERSION" jar
  if [[ ! -f "$dir/linux-x64/libasyncProfiler.so" ]]; then
    "${MVN[@]}" dependency:get -Dartifact="tools.profiler:async-profiler:$ASYNC_PROFILER_VERSION:jar:linux-x64" >&2
    jar="$HOME/.m2/repository/tools/profiler/async-profiler/$ASYNC_PROFILER_VERSION/async-profiler-$ASYNC_PROFILER_VERSION-linux-x64.jar"
    mkdir -p "$dir" && (cd "$dir" && jar xf "$jar" linux-x64/libasyncProfiler.so)
  fi
  echo "$dir/linux-x64/libasyncProfiler.so"
}

build_jars() {
  log "building (mvn package, tests skipped)"
  (cd "$ROOT" && "${MVN[@]}" -DskipTests install)
}

# stack_up: starts the local stack (what is not running yet) and exports the control API's
# addresses and credentials (`dev/stack.sh env control-api`) and TM_ADMIN_TOKEN. Sidecars start
# with their own credentials: start_sidecar.
stack_up() {
  bash "$ROOT/dev/stack.sh" up
  eval "$(bash "$ROOT/dev/stack.sh" env control-api)"
  TM_ADMIN_TOKEN="$(admin_token)"
  export TM_ADMIN_TOKEN
}

# start_sidecar NAME JAVA_ARGS...: start_java with the sidecar's addresses and credentials
# (`dev/stack.sh env sidecar`: a read-only database role, Redis's ACL user, a Kafka user that may
# only read) in place of the control API's.
start_sidecar() {
  (
    eval "$(bash "$ROOT/dev/stack.sh" env sidecar)"
    start_java "$@"
  )
}

# The admin token: TM_ADMIN_TOKEN if set, else the one in .tm/admin-token, else a new one saved there.
admin_token() {
  if [[ -n "${TM_ADMIN_TOKEN:-}" ]]; then
    printf '%s' "$TM_ADMIN_TOKEN"
    return
  fi
  mkdir -p "$TM_HOME"
  if [[ ! -s "$TM_HOME/admin-token" ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40 > "$TM_HOME/admin-token")
  fi
  cat "$TM_HOME/admin-token"
}

# wait_http URL SECONDS: polls until URL answers 200.
wait_http() {
  local url="$1" deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      log "no answer from $url after $2 s"
      return 1
    fi
    sleep 0.2
  done
}

# start_control_api NAME PORT: a control API on 127.0.0.1:PORT (after stack_up); returns once it answers.
start_control_api() {
  TM_API_PORT="$2" TM_API_BIND=127.0.0.1 start_java "$1" -jar "$(jar_of control-api)"
  wait_http "http://127.0.0.1:$2/healthz" 90
}

# create_tenant API_URL NAME: creates a tenant with the admin token and prints the tenant's token.
create_tenant() {
  curl -fsS -X POST "$1/v1/tenants" -H "Authorization: Bearer $TM_ADMIN_TOKEN" -d "{\"name\":\"$2\"}" \
    | sed -E 's/.*"token":"([^"]+)".*/\1/'
}

# control_api_with_tenant NAME PORT PREFIX: the stack, a control API NAME on PORT publishing to a
# Kafka topic of this run's own (so a sidecar's L1 holds this run's routes, not earlier runs' too),
# and a new tenant; sets api, tenant (PREFIX-<time>) and token.
control_api_with_tenant() {
  stack_up
  export TM_KAFKA_TOPIC="tm.$3-$(date +%s)"
  start_control_api "$1" "$2"
  api="http://127.0.0.1:$2"
  tenant="$3-$(date +%s)"
  token="$(create_tenant "$api" "$tenant")"
}

# put_route API_URL TOKEN TENANT/SERVICE/ENV/VERSION UPSTREAM_URL
put_route() {
  curl -fsS -o /dev/null -X PUT "$1/v1/routes/$3" -H "Authorization: Bearer $2" -d "{\"url\":\"$4\"}"
}

# render_config TEMPLATE OUT: a loadtest/ config template with @WORK@, @UPSTREAM_PORT@, @NGINX_PORT@
# and @HAPROXY_PORT@ filled in from the variables of those names (those not set stay as they are).
render_config() {
  sed -e "s#@WORK@#${WORK:-@WORK@}#g" -e "s#@UPSTREAM_PORT@#${UPSTREAM_PORT:-@UPSTREAM_PORT@}#g" \
    -e "s#@NGINX_PORT@#${NGINX_PORT:-@NGINX_PORT@}#g" -e "s#@HAPROXY_PORT@#${HAPROXY_PORT:-@HAPROXY_PORT@}#g" \
    -e "s#@GRPC_UPSTREAM_PORT@#${GRPC_UPSTREAM_PORT:-@GRPC_UPSTREAM_PORT@}#g" -e "s#@GRPC_NGINX_PORT@#${GRPC_NGINX_PORT:-@GRPC_NGINX_PORT@}#g" \
    "$ROOT/loadtest/$1" >"$2"
}

# cpu_ticks PID: user plus system CPU time of the process and its children (nginx's workers), in
# clock ticks (getconf CLK_TCK a second); 0 for an empty PID.
cpu_ticks() {
  local total=0 p
  [[ -n $1 ]] || { echo 0; return; }
  for p in $1 $(ps -o pid= --ppid "$1"); do
    [[ -r /proc/$p/stat ]] || continue # a child that just exited
    total=$((total + $(sed -E 's/^.*\) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13 + 0}')))
  done
  echo "$total"
}

# median: the median of the numbers on standard input, one per line (the lower middle one of an even count).
median() {
  sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'
}

# The JVM flags Chronicle Map needs on Java 17 (the sidecar opens its L1 file with it); the parent
# pom passes the same ones to tests and benchmarks.
CHRONICLE_FLAGS=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-exports=java.base/sun.nio.ch=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED -Dchronicle.analytics.disable=true -Dchronicle.announcer.disable=true)

# The sidecar's JVM flags (README, "Running it as a sidecar" and "Tuning"): a heap that starts at
# 16 MiB and grows with the live set up to 64 MiB, the serial collector (G1's concurrent cycles on so
# small a heap cost a tenth of the CPU), and glibc's free memory returned every 5 s. Keeping the heap
# small after the start-up catch-up (-XX:MaxHeapFreeRatio=30) saved 18 MiB but cost 16 full
# collections of 44 ms on average in one make loadtest run, and a p99 of 139 ms at a quarter load:
# not kept. Start it with MALLOC_ARENA_MAX=2 in its environment too.
SIDECAR_JVM_FLAGS=(-Xms16m -Xmx64m -XX:+UseSerialGC -XX:TrimNativeHeapInterval=5000)

# start_java NAME JAVA_ARGS...: starts a JVM in the background, logs under .tm/log, pid in .tm/run.
start_java() {
  local name="$1"
  shift
  mkdir -p "$TM_HOME/log" "$TM_HOME/run"
  java ${JAVA_OPTS:-} "$@" >"$TM_HOME/log/$name.log" 2>&1 &
  echo $! >"$TM_HOME/run/$name.pid"
  log "$name started (pid $!, log .tm/log/$name.log)"
}

# alive PID: the process exists and is not a zombie (an exited child its parent has not reaped yet
# still answers kill -0).
alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z* ]]
}

stop_java() {
  local name="$1" pidfile="$TM_HOME/run/$1.pid" pid deadline
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 20))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

jar_of() {
  ls "$ROOT/$1"/target/"$1"-*.jar 2>/dev/null | grep -v -e sources -e javadoc -e tests | head -n 1
}

#!/usr/bin/env bash
# Two sidecars side by side on the same stack, routes and upstream (nginx with a fixed body), measured
# with wrk in alternating order (A B A B ...): requests/s and the sidecar's CPU time per request.
# Loopback only, every run bounded in time; stops what it started.
#
# Each variant is set by environment variables (X is A or B):
#   X_NAME  label                                  (A: "a", B: "b")
#   X_REV   a git revision to build the sidecar from, in a temporary worktree (default: this checkout)
#   X_JVM   JVM flags                              (default: dev/lib.sh's SIDECAR_JVM_FLAGS)
#   X_ENV   extra sidecar environment, "NAME=value NAME=value"
#   X_HEADERS the requests' headers, ';'-separated (default "x-tm-service: hello;x-tm-version: v1";
#           "Host: hello" with X_ENV=TM_DEFAULT_VERSION=v1 routes by the authority instead)
#   X_READY the admin path waited for before measuring (default /readyz; /healthz for a revision
#           older than the secured stack, which cannot read its topic and routes by lookups alone)
# TM_BENCH_ROUNDS (5), TM_BENCH_SECONDS (10), TM_BENCH_CONNECTIONS (16); TM_BENCH_SKIP_BUILD=1 uses the
# jars as built (make loadtest calls it so while its own servers run from them).
# TM_BENCH_PROFILE=cpu|alloc|wall: after the rounds, one more run per variant under async-profiler
# (from Maven Central, loaded with jcmd JVMTI.agent_load); collapsed stacks and a flame graph in
# .tm/sidecar-ab/profile-<name>.{collapsed,html}, and the top frames printed. TM_BENCH_PROFILE=strace
# counts system calls instead (strace -c -f, installed if missing), per request.
#
#   A_NAME=g1-before A_REV=8b402da A_JVM="-Xmx64m" B_NAME=after bash loadtest/sidecar-ab.sh
set -euo pipefail
source "$(dirname "$0")/../dev/lib.sh"

ROUNDS="${TM_BENCH_ROUNDS:-5}"
SECONDS_PER_RUN="${TM_BENCH_SECONDS:-10}"
CONNECTIONS="${TM_BENCH_CONNECTIONS:-16}"
UPSTREAM_PORT=18120 API_PORT=18121
declare -A PORT=([A]=18122 [B]=18124) ADMIN=([A]=18123 [B]=18125)
NAME_A="${A_NAME:-a}" NAME_B="${B_NAME:-b}"
WORK="$TM_HOME/sidecar-ab"

before="$(services_up)"
cleanup() {
  set +e
  stop_java ab-A; stop_java ab-B; stop_java ab-control-api
  [[ -f "$WORK/nginx.master" ]] && kill -TERM "$(cat "$WORK/nginx.master")" 2>/dev/null
  for tree in "$WORK"/rev-*; do [[ -d "$tree" ]] && git -C "$ROOT" worktree remove --force "$tree" 2>/dev/null; done
  git -C "$ROOT" worktree prune
  stop_services_not_in "$before"
}
trap cleanup EXIT

ensure_tools
bash "$ROOT/dev/stack.sh" loadtools
[[ -n "${TM_BENCH_SKIP_BUILD:-}" ]] || build_jars
rm -rf "$WORK" && mkdir -p "$WORK/tmp"

# The proxy jar of a variant: this checkout's, or one built from X_REV in a temporary worktree
# (removed by cleanup).
jar_for() {
  local rev="$1" tree
  if [[ -z "$rev" ]]; then
    jar_of proxy
    return
  fi
  tree="$WORK/rev-$rev"
  git -C "$ROOT" worktree prune
  git -C "$ROOT" worktree add --detach "$tree" "$rev" >/dev/null
  log "building the sidecar at $rev"
  (cd "$tree" && "${MVN[@]}" -DskipTests package -pl proxy -am >/dev/null)
  ls "$tree"/proxy/target/proxy-*.jar | grep -v -e sources -e tests | head -n 1
}
JAR_A="$(jar_for "${A_REV:-}")"
JAR_B="$(jar_for "${B_REV:-}")"

render_config nginx-upstream.conf "$WORK/nginx.conf"
nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.log" 2>&1 &
echo $! >"$WORK/nginx.master"

stack_up
start_control_api ab-control-api "$API_PORT"
tenant="ab-$(date +%s)"
put_route "http://127.0.0.1:$API_PORT" "$(create_tenant "http://127.0.0.1:$API_PORT" "$tenant")" \
  "$tenant/hello/prod/v1" "http://127.0.0.1:$UPSTREAM_PORT/"

start_variant() { # A|B jar jvm-flags env
  local jvm=() extra=()
  read -r -a jvm <<<"$3"
  read -r -a extra <<<"$4"
  ( # a subshell, so the variant's settings stay its own
    export MALLOC_ARENA_MAX=2 TM_PROXY_PORT="${PORT[$1]}" TM_PROXY_ADMIN_PORT="${ADMIN[$1]}" TM_TENANT="$tenant" \
      TM_ENV=prod TM_L1_FILE="$WORK/$1.l1" "${extra[@]}"
    start_sidecar "ab-$1" "${jvm[@]}" "${CHRONICLE_FLAGS[@]}" -jar "$2"
  )
  local ready="${1}_READY"
  wait_http "http://127.0.0.1:${ADMIN[$1]}${!ready:-/readyz}" 90
}
start_variant A "$JAR_A" "${A_JVM:-${SIDECAR_JVM_FLAGS[*]}}" "${A_ENV:-}"
start_variant B "$JAR_B" "${B_JVM:-${SIDECAR_JVM_FLAGS[*]}}" "${B_ENV:-}"

TICKS="$(getconf CLK_TCK)"
measure() { # A|B -> "req/s cpu-us-per-request"
  local pid t0 t1 out spec="${1}_HEADERS" parts=() headers=() part
  IFS=';' read -r -a parts <<<"${!spec:-x-tm-service: hello;x-tm-version: v1}"
  for part in "${parts[@]}"; do headers+=(-H "$part"); done
  pid="$(cat "$TM_HOME/run/ab-$1.pid")"
  t0="$(cpu_ticks "$pid")"
  out="$(wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" "${headers[@]}" "http://127.0.0.1:${PORT[$1]}/")"
  t1="$(cpu_ticks "$pid")"
  awk -v t="$((t1 - t0))" -v hz="$TICKS" '/requests in/ {n = $1} /Requests\/sec/ {r = $2}
    END {printf "%.0f %.1f\n", r, t / hz / n * 1e6}' <<<"$out"
}
# profile_run A|B event out-prefix: one measured run with async-profiler attached for its length.
profile_run() {
  local pid lib tracer rps
  pid="$(cat "$TM_HOME/run/ab-$1.pid")"
  if [[ $2 == strace ]]; then
    strace -c -f -p "$pid" -o "$3.strace" 2>/dev/null &
    tracer=$!
    sleep 1 # strace attaches to every thread first
    read -r rps _ < <(measure "$1")
    kill -INT "$tracer"; wait "$tracer" || true
    log "system calls of $1 per request (strace slows it: $rps req/s):"
    awk -v n="$((rps * SECONDS_PER_RUN))" '$4 ~ /^[0-9]+$/ && $NF != "total" {printf "%8.3f  %s\n", $4 / n, $NF}' \
      "$3.strace" | sort -rn | head -n 12
    return
  fi
  lib="$(async_profiler)"
  # jcmd parses '=' in its arguments itself: the agent's options travel inside quotes.
  jcmd "$pid" JVMTI.agent_load "$lib" "\"start,event=$2,interval=${TM_BENCH_PROFILE_INTERVAL:-1ms}\"" >/dev/null
  measure "$1" >/dev/null
  jcmd "$pid" JVMTI.agent_load "$lib" "\"dump,file=$3.collapsed,collapsed\"" >/dev/null
  jcmd "$pid" JVMTI.agent_load "$lib" "\"stop,file=$3.html\"" >/dev/null
  log "profile of $1 ($2): $3.collapsed; self time, top frames:"
  awk '{n = $NF; sub(/ [0-9]+$/, ""); k = split($0, f, ";"); self[f[k]] += n; all += n}
    END {for (x in self) printf "%6.2f%%  %s\n", 100 * self[x] / all, x}' "$3.collapsed" | sort -rn | head -n 25
}
log "warm-up, then $ROUNDS rounds of wrk -t1 -c$CONNECTIONS -d${SECONDS_PER_RUN}s, alternating"
measure A >/dev/null; measure B >/dev/null
results="$WORK/results.tsv"
: >"$results"
for ((i = 1; i <= ROUNDS; i++)); do
  for v in A B; do
    read -r rps cpu < <(measure "$v")
    name="NAME_$v"
    printf '%s\t%s\t%s\n' "${!name}" "$rps" "$cpu" >>"$results"
    printf '%-16s round %d: %8s req/s  %6s us CPU per request\n' "${!name}" "$i" "$rps" "$cpu"
  done
done
if [[ -n "${TM_BENCH_PROFILE:-}" ]]; then
  for v in A B; do
    name="NAME_$v"
    profile_run "$v" "$TM_BENCH_PROFILE" "$WORK/profile-${!name}"
  done
fi
for name in "$NAME_A" "$NAME_B"; do
  printf '%-16s median: %8s req/s  %6s us CPU per request\n' "$name" \
    "$(awk -F'\t' -v n="$name" '$1 == n {print $2}' "$results" | median)" \
    "$(awk -F'\t' -v n="$name" '$1 == n {print $3}' "$results" | median)"
done

#!/usr/bin/env bash
# dev/stack.sh — private local instances of PostgreSQL, Redis and Kafka for
# development and tests. No Docker, no system services: every instance runs
# as a plain process owned by this checkout, with all data, logs and pid files
# under $TM_HOME (default: <repo root>/.tm, git-ignored).
#
#   dev/stack.sh up [svc...]       start (default: postgres redis kafka pgbouncer); idempotent
#   dev/stack.sh down [svc...]     stop what this launcher started (default: all)
#   dev/stack.sh start|stop <svc>  same as up/down for the named service(s)
#   dev/stack.sh restart [svc...]  down, then up
#   dev/stack.sh pause|resume <svc>  SIGSTOP / SIGCONT (fault injection: a "hung" service)
#   dev/stack.sh status            one line per service; always exits 0
#   dev/stack.sh env [sidecar|control-api]  `export` lines with the connection settings and
#                                  credentials of that client (default: sidecar)
#   dev/stack.sh tools             install what the build needs (JDK 17, Maven, curl) if missing
#   dev/stack.sh testtools         install what make test needs besides (iptables, iproute2, python3) if missing
#   dev/stack.sh loadtools         install what make loadtest needs (wrk, nginx, HAProxy, gnuplot) if missing
#   dev/stack.sh clean             down everything and delete $TM_HOME (all data)
#
# Environment (all optional):
#   TM_HOME                   state directory (default <repo>/.tm)
#   TM_PG_PORT=55432  TM_REDIS_PORT=56379  TM_KAFKA_PORT=59092  TM_KAFKA_CONTROLLER_PORT=59093
#   TM_PGBOUNCER_PORT=56432   PgBouncer (transaction pooling) in front of PostgreSQL: the sidecars' lookups
#   TM_START_TIMEOUT=60       seconds a service may take to accept connections
#   TM_STOP_TIMEOUT=30        seconds to wait after SIGTERM before SIGKILL
#   TM_KAFKA_HEAP_OPTS        default "-Xmx512m -Xms128m"
#   TM_KAFKA_CDS=1            0 disables the JVM class-data-sharing archive (faster restarts)
#
# Missing PostgreSQL / Redis / PgBouncer (and java / mvn) are installed from Debian's
# packages on first use (needs root). Kafka has no Debian package: its jars come
# from Maven Central through dev/kafka/pom.xml.
set -euo pipefail

# --------------------------------------------------------------------------
# Locations and settings
# --------------------------------------------------------------------------
# Resolve from the script's own location (not $PWD) so this works from any
# directory and in any fresh clone.
DEV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(dirname "$DEV_DIR")

TM_HOME=${TM_HOME:-$REPO_ROOT/.tm}
case $TM_HOME in /*) ;; *) TM_HOME=$PWD/$TM_HOME ;; esac   # must be absolute: daemons chdir
RUN_DIR=$TM_HOME/run
LOG_DIR=$TM_HOME/log

PG_PORT=${TM_PG_PORT:-55432}
REDIS_PORT=${TM_REDIS_PORT:-56379}
KAFKA_PORT=${TM_KAFKA_PORT:-59092}
KAFKA_CPORT=${TM_KAFKA_CONTROLLER_PORT:-59093}
BOUNCER_PORT=${TM_PGBOUNCER_PORT:-56432}
START_TIMEOUT=${TM_START_TIMEOUT:-60}
STOP_TIMEOUT=${TM_STOP_TIMEOUT:-30}
KAFKA_HEAP_OPTS=${TM_KAFKA_HEAP_OPTS:--Xmx512m -Xms128m}

HOST=127.0.0.1               # every service binds loopback only
ALL_SERVICES=(postgres redis kafka pgbouncer)

# Application-facing credentials (dev only, never used outside this machine). Every tier
# requires them: the control API owns the schema and writes the topic; the sidecar may only read
# PostgreSQL and the topic, and use Redis's route keys.
DB_NAME=trafficmanager
DB_USER=tm
DB_PASSWORD=tm
DB_SIDECAR_USER=tm_sidecar
DB_SIDECAR_PASSWORD=tm-sidecar-dev
PG_SUPERUSER_PASSWORD=postgres   # only matters for TCP logins as postgres; the socket is trust
REDIS_USER=tm-sidecar
REDIS_PASSWORD=tm-sidecar-redis-dev
KAFKA_ADMIN_USER=admin           # the broker's own (inter-broker, controller) and the ACL tool's
KAFKA_ADMIN_PASSWORD=tm-kafka-admin-dev
KAFKA_API_USER=tm-control-api
KAFKA_API_PASSWORD=tm-control-api-kafka-dev
KAFKA_SIDECAR_USER=tm-sidecar
KAFKA_SIDECAR_PASSWORD=tm-sidecar-kafka-dev
KAFKA_TOPIC_PREFIX=tm.           # the ACLs cover every topic named tm.* (tests and load runs use their own)

for p in "$PG_PORT" "$REDIS_PORT" "$KAFKA_PORT" "$KAFKA_CPORT" "$BOUNCER_PORT" "$START_TIMEOUT" "$STOP_TIMEOUT"; do
  [[ $p =~ ^[0-9]+$ ]] || { echo "stack: not a number: '$p'" >&2; exit 2; }
done

# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------
say() { echo "stack: $*" >&2; }
die() { say "error: $*"; exit 1; }
now_ms() { date +%s%3N; }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01ds' $((ms / 1000)) $(((ms % 1000) / 100)); }

# Print the tail of one or more log files to stderr (used when a start fails).
show_log() {
  local f
  for f in "$@"; do
    [[ -e $f ]] || continue
    echo "----- last 40 lines of $f -----" >&2
    tail -n 40 "$f" >&2 || true
  done
}

# Is $1 a live process? A zombie counts as dead: PID 1 in some sandboxes is
# slow to reap orphans, so `kill -0` alone would report a stopped service as
# alive. But a JVM's main thread turns Z while its other threads are still
# exiting (and still hold the listening sockets), so it is only dead once no
# other thread is left.
pid_alive() {
  local pid=$1 state tasks
  [[ -n $pid && -r /proc/$pid/stat ]] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $state ]] || return 1
  if [[ $state == Z || $state == X ]]; then
    tasks=$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    ((tasks > 1))
  else
    return 0
  fi
}

# SIGSTOPped? (state T = stopped by signal)
pid_paused() {
  [[ $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) == T ]]
}

# Guard against pid reuse: only treat a pid as ours if the process looks like
# the service (comm for native daemons, main class for the JVM).
pid_is() {
  local svc=$1 pid=$2 comm cmd
  pid_alive "$pid" || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  case $svc in
    postgres) [[ $comm == postgres ]] ;;
    redis)    [[ $comm == redis-server* ]] ;;
    pgbouncer) [[ $comm == pgbouncer ]] ;;
    kafka)    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
              [[ $cmd == *kafka.Kafka* ]] ;;
  esac
}

# Direct children of a pid (PostgreSQL backends and auxiliary processes).
children_of() {
  local parent=$1 f ppid
  for f in /proc/[0-9]*/stat; do
    ppid=$(sed 's/^.*) //' "$f" 2>/dev/null | cut -d' ' -f2) || continue
    [[ $ppid == "$parent" ]] && { f=${f#/proc/}; echo "${f%/stat}"; }
  done
  return 0
}

# Does anything accept TCP connections on 127.0.0.1:$1? (bash's /dev/tcp, so no
# nc/ss needed on a minimal machine)
port_open() { timeout 2 bash -c ": >/dev/tcp/$HOST/$1" 2>/dev/null; }

# pid of a running service started by this launcher, or nothing.
svc_pid() {
  local svc=$1 pid=""
  [[ -r $RUN_DIR/$svc.pid ]] && pid=$(head -n1 "$RUN_DIR/$svc.pid" 2>/dev/null | tr -dc 0-9)
  if [[ -n $pid ]] && pid_is "$svc" "$pid"; then echo "$pid"; return 0; fi
  # PostgreSQL keeps its own pid file; adopt a running cluster of ours even if
  # run/postgres.pid was lost.
  if [[ $svc == postgres ]] && pg_locate && [[ -r $PG_DATA/postmaster.pid ]]; then
    pid=$(head -n1 "$PG_DATA/postmaster.pid" | tr -dc 0-9)
    if [[ -n $pid ]] && pid_is postgres "$pid"; then echo "$pid"; return 0; fi
  fi
  return 0
}

svc_port() {
  case $1 in postgres) echo "$PG_PORT" ;; redis) echo "$REDIS_PORT" ;; kafka) echo "$KAFKA_PORT" ;; pgbouncer) echo "$BOUNCER_PORT" ;; esac
}

# Port a running instance was started on (recorded at start), else the configured one.
running_port() {
  local f=$RUN_DIR/$1.port
  if [[ -r $f ]]; then cat "$f"; else svc_port "$1"; fi
}

# Stop a process: SIGCONT first (a SIGSTOPped process cannot act on SIGTERM),
# SIGTERM, poll up to STOP_TIMEOUT, then SIGKILL.
stop_pid() {
  local pid=$1 name=$2 deadline
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if pid_alive "$pid"; then
    say "$name (pid $pid) still running after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    pid_alive "$pid" && die "$name (pid $pid) survived SIGKILL"
  fi
  return 0
}

# Serialize concurrent invocations (e.g. several test JVMs calling `up`) so two
# of them never race to initdb / format / start the same service.
# Every daemon is launched with `9>&-`: a daemon inheriting fd 9 would hold
# the lock for as long as it runs.
take_lock() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w $((START_TIMEOUT * 4)) 9 || die "another dev/stack.sh is busy with $TM_HOME"
}

# --------------------------------------------------------------------------
# Installing missing packages
# --------------------------------------------------------------------------
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_CREATED=0
APT_UPDATED=0

remove_policy_rc() {
  if ((POLICY_RC_CREATED)); then rm -f "$POLICY_RC"; POLICY_RC_CREATED=0; fi
}

apt_install() {
  ((EUID == 0)) || die "need root to install $* (or install them yourself: apt-get install $*)"
  # Debian's maintainer scripts start the packaged service (postgresql's
  # cluster "main" on 5432, redis on 6379) through invoke-rc.d. We want only
  # our private instances, so tell invoke-rc.d "action forbidden" (exit 101)
  # for the duration of the install. An existing policy-rc.d (e.g. the one
  # Debian container images ship) is left exactly as it is.
  if [[ ! -e $POLICY_RC ]]; then
    printf '#!/bin/sh\n# temporary, created by dev/stack.sh during apt-get install\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    POLICY_RC_CREATED=1
    trap remove_policy_rc EXIT   # also removed if apt-get fails and set -e exits
  fi
  local apt_opts=(-o DPkg::Lock::Timeout=300 -q)
  if ((!APT_UPDATED)); then
    say "apt-get update"
    apt-get "${apt_opts[@]}" update >"$LOG_DIR/apt.log" 2>&1 || { show_log "$LOG_DIR/apt.log"; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  say "installing: $* (log: $LOG_DIR/apt.log)"
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y "$@" >>"$LOG_DIR/apt.log" 2>&1 \
    || { show_log "$LOG_DIR/apt.log"; die "apt-get install $* failed"; }
  remove_policy_rc
  trap - EXIT
  # The packaged default instances exist now but are not running; they are
  # left alone (postgresql's cluster 15/main stays "down").
}

# What the project's build and scripts need: a full JDK (javac; Chronicle Map compiles at run time
# too), Maven and curl.
ensure_build_tools() {
  local pkgs=()
  command -v javac >/dev/null || pkgs+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || pkgs+=(maven)
  command -v curl >/dev/null || pkgs+=(curl)
  ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
}

# What make test needs besides the build: iptables and iproute2 (the interception test's network
# namespaces), python3 and curl (clients that are not ours), promtool from Debian's prometheus
# package (checks deploy/monitoring; its server is never started).
ensure_test_tools() {
  local pkgs=()
  command -v promtool >/dev/null || pkgs+=(prometheus)
  command -v iptables >/dev/null || [[ -x /usr/sbin/iptables ]] || pkgs+=(iptables)
  command -v ip >/dev/null || [[ -x /usr/sbin/ip ]] || pkgs+=(iproute2)
  command -v python3 >/dev/null || pkgs+=(python3)
  command -v curl >/dev/null || pkgs+=(curl)
  ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
}

# What make loadtest needs: wrk, nginx (the upstream and a proxy), HAProxy and gnuplot (charts).
# Only their binaries are used; the packaged services are never started (see apt_install).
ensure_load_tools() {
  local pkgs=()
  command -v wrk >/dev/null || pkgs+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || pkgs+=(nginx-light)
  command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || pkgs+=(haproxy)
  command -v gnuplot >/dev/null || pkgs+=(gnuplot-nox)
  command -v strace >/dev/null || pkgs+=(strace)
  ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
}

# Install whatever the requested services need, in one apt-get run.
ensure_packages() {
  local pkgs=() svc
  for svc in "$@"; do
    case $svc in
      postgres) compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || pkgs+=(postgresql) ;;
      redis)    command -v redis-server >/dev/null || pkgs+=(redis-server) ;;
      pgbouncer) command -v pgbouncer >/dev/null || [[ -x /usr/sbin/pgbouncer ]] || pkgs+=(pgbouncer) ;;
      kafka)    command -v java >/dev/null || [[ -x ${JAVA_HOME:-/nonexistent}/bin/java ]] || pkgs+=(openjdk-17-jre-headless)
                command -v mvn >/dev/null || pkgs+=(maven) ;;
    esac
  done
  ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
}

# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------
# PostgreSQL refuses to run as root, so as root everything server-side runs as
# the `postgres` OS user. `cd /` because initdb/pg_ctl fail ("could not
# identify current directory") when started from a cwd postgres cannot read,
# e.g. a clone under /root.
as_pg() {
  if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_bindir() {
  local d
  d=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n1) || true
  [[ -n $d ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  dirname "$d"
}

# Set PG_BASE/PG_DATA/PG_SOCK/PG_LOG for an existing data area; false if none.
pg_locate() {
  [[ -e $TM_HOME/pg ]] || return 1
  PG_BASE=$(readlink -f "$TM_HOME/pg")
  PG_DATA=$PG_BASE/data
  PG_SOCK=$PG_BASE/sock
  PG_LOG=$PG_BASE/log/postgresql.log
}

# Create the data area. Normally $TM_HOME/pg itself (owned by postgres). But
# the postgres user must be able to traverse every parent directory, which it
# cannot when the clone lives under e.g. /root (mode 700); and the Unix socket
# path must stay under ~107 bytes. In either case the real directory is
# /var/tmp/tm-pg-<hash of $TM_HOME> and $TM_HOME/pg is a symlink to it
# (`dev/stack.sh clean` removes both).
pg_prepare_base() {
  local link=$TM_HOME/pg alt pid
  if [[ -L $link || -d $link ]]; then
    pg_locate
    if [[ ! -d $PG_BASE ]]; then   # dangling symlink (e.g. /var/tmp was cleaned)
      install -d -m 700 "$PG_BASE"
      ((EUID == 0)) && chown postgres:postgres "$PG_BASE"
    fi
    return 0
  fi
  mkdir -p "$link"
  if ((EUID == 0)); then
    chown postgres:postgres "$link"; chmod 700 "$link"
    if ! as_pg test -w "$link" -a -x "$link" || ((${#link} > 80)); then
      rmdir "$link"
      alt=/var/tmp/tm-pg-$(printf '%s' "$TM_HOME" | sha256sum | cut -c1-10)
      if [[ -e $alt ]]; then
        # Left over from an earlier $TM_HOME at this path that was rm -rf'd.
        # Reuse would resurrect old data, so wipe it unless it is still running.
        pid=$(head -n1 "$alt/data/postmaster.pid" 2>/dev/null | tr -dc 0-9) || true
        if [[ -n $pid ]] && pid_is postgres "$pid"; then
          die "a PostgreSQL from an earlier $TM_HOME still runs from $alt (pid $pid); stop it first: runuser -u postgres -- $(pg_bindir)/pg_ctl -D $alt/data stop"
        fi
        rm -rf "$alt"
      fi
      install -d -o postgres -g postgres -m 700 "$alt"
      ln -s "$alt" "$link"
    fi
  fi
  pg_locate
}

pg_start() {
  local bin pid t0
  bin=$(pg_bindir)
  pg_prepare_base
  as_pg mkdir -p "$PG_SOCK" "$(dirname "$PG_LOG")"
  ln -sfn "$PG_LOG" "$LOG_DIR/postgres.log"   # so all logs are findable under $TM_HOME/log

  if [[ ! -s $PG_DATA/PG_VERSION ]]; then
    # A data dir without PG_VERSION is a half-finished initdb: start over.
    rm -rf "$PG_DATA"
    say "postgres: initdb $PG_DATA"
    # Local (socket) connections: trust, so this script needs no password.
    # TCP: scram-sha-256, so the application authenticates as it would in
    # production; initdb then insists on a superuser password, hence pwfile.
    as_pg sh -c "umask 077; echo '$PG_SUPERUSER_PASSWORD' > '$PG_BASE/.pwfile'"
    if ! as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --pwfile="$PG_BASE/.pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 --no-sync --no-instructions \
        >"$PG_BASE/log/initdb.log" 2>&1; then
      rm -f "$PG_BASE/.pwfile"; show_log "$PG_BASE/log/initdb.log"; die "postgres: initdb failed"
    fi
    rm -f "$PG_BASE/.pwfile"
  fi
  [[ $(cat "$PG_DATA/PG_VERSION") == "$(basename "$(dirname "$bin")")" ]] \
    || die "postgres: $PG_DATA was created by PostgreSQL $(cat "$PG_DATA/PG_VERSION"), installed is $(basename "$(dirname "$bin")"); run 'dev/stack.sh clean'"

  port_open "$PG_PORT" && die "postgres: port $PG_PORT is already in use by a process this launcher did not start"

  # fsync/full_page_writes/synchronous_commit off: throwaway dev/test data, and
  # it makes schema migrations and test setup much faster. Not crash-safe.
  t0=$(now_ms)
  if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$START_TIMEOUT" start \
      -o "-p $PG_PORT -k $PG_SOCK -c listen_addresses=$HOST -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null 2>&1 9>&-; then
    abort_start postgres "did not start within ${START_TIMEOUT}s"
  fi
  pid=$(head -n1 "$PG_DATA/postmaster.pid" | tr -dc 0-9)
  echo "$pid" >"$RUN_DIR/postgres.pid"
  echo "$PG_PORT" >"$RUN_DIR/postgres.port"
  wait_ready postgres "$t0"
  pg_provision
}

# Application role and database; idempotent.
pg_provision() {
  local psql=(as_pg "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -tA)
  if [[ -z $("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'") ]]; then
    "${psql[@]}" -c "CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
  fi
  if [[ -z $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'") ]]; then
    # CREATE DATABASE cannot run inside a transaction block: its own -c.
    "${psql[@]}" -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  fi
  # The sidecar's role: it logs in and reads; the control API's migrations grant it SELECT on
  # the tables lookups read (TM_DB_SIDECAR_ROLE), nothing else.
  if [[ -z $("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_SIDECAR_USER'") ]]; then
    "${psql[@]}" -c "CREATE ROLE $DB_SIDECAR_USER LOGIN PASSWORD '$DB_SIDECAR_PASSWORD'"
  fi
  # Through PgBouncer the driver's per-connection options are dropped: the role carries the bound.
  "${psql[@]}" -c "ALTER ROLE $DB_SIDECAR_USER SET statement_timeout = '2s'"
}

# --------------------------------------------------------------------------
# PgBouncer: transaction pooling in front of PostgreSQL, for the sidecars' and agents' lookups.
# Its files live beside PostgreSQL's (the postgres user runs it: PgBouncer refuses root).
# --------------------------------------------------------------------------
bouncer_bin() { command -v pgbouncer 2>/dev/null || echo /usr/sbin/pgbouncer; }

bouncer_start() {
  local dir t0 deadline
  [[ -n $(svc_pid postgres) ]] || die "pgbouncer: start postgres first (dev/stack.sh up postgres pgbouncer)"
  pg_locate || die "pgbouncer: no PostgreSQL data area"
  dir=$PG_BASE/bouncer
  as_pg mkdir -p "$dir"
  port_open "$BOUNCER_PORT" && die "pgbouncer: port $BOUNCER_PORT is already in use by a process this launcher did not start"
  # Plain-text passwords let PgBouncer answer SCRAM and log in to PostgreSQL with SCRAM itself.
  printf '"%s" "%s"\n"%s" "%s"\n' "$DB_SIDECAR_USER" "$DB_SIDECAR_PASSWORD" "$DB_USER" "$DB_PASSWORD" \
    | as_pg sh -c "umask 077; cat > '$dir/userlist.txt'"
  printf '%s\n' "[databases]" "* = host=$HOST port=$PG_PORT" "[pgbouncer]" \
    "listen_addr = $HOST" "listen_port = $BOUNCER_PORT" "unix_socket_dir =" \
    "auth_type = scram-sha-256" "auth_file = $dir/userlist.txt" "pool_mode = transaction" \
    "max_client_conn = 10000" "default_pool_size = 8" "min_pool_size = 0" "server_idle_timeout = 30" \
    "; pgjdbc sends these; the statement timeout is set on the sidecars' role instead" \
    "ignore_startup_parameters = extra_float_digits,options" \
    "logfile = $dir/pgbouncer.log" "pidfile = $dir/pgbouncer.pid" \
    | as_pg sh -c "cat > '$dir/pgbouncer.ini'"
  ln -sfn "$dir/pgbouncer.log" "$LOG_DIR/pgbouncer.log"
  rm -f "$dir/pgbouncer.pid"
  t0=$(now_ms)
  as_pg "$(bouncer_bin)" -d -q "$dir/pgbouncer.ini" >>"$LOG_DIR/pgbouncer.launch.log" 2>&1 9>&- \
    || { show_log "$dir/pgbouncer.log" "$LOG_DIR/pgbouncer.launch.log"; die "pgbouncer: failed to launch"; }
  deadline=$((SECONDS + START_TIMEOUT))
  until [[ -s $dir/pgbouncer.pid ]]; do
    ((SECONDS < deadline)) || abort_start pgbouncer "no pid file after ${START_TIMEOUT}s"
    sleep 0.1
  done
  cp "$dir/pgbouncer.pid" "$RUN_DIR/pgbouncer.pid"
  echo "$BOUNCER_PORT" >"$RUN_DIR/pgbouncer.port"
  wait_ready pgbouncer "$t0"
}

pg_stop() {
  local pid=$1
  pg_pause_tree CONT "$pid"        # a stopped postmaster or backend would stall the shutdown
  if pg_locate && as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DATA" stop -m fast -w -t "$STOP_TIMEOUT" >/dev/null 2>&1; then
    return 0
  fi
  stop_pid "$pid" postgres        # fallback: SIGTERM (= smart shutdown) ... SIGKILL
}

# Signal the postmaster and all its children. Pausing only the postmaster would
# leave already-open connections working; a real hang must freeze them too.
pg_pause_tree() {
  local sig=$1 pid=$2 c
  kill -"$sig" "$pid" 2>/dev/null || true
  for c in $(children_of "$pid"); do kill -"$sig" "$c" 2>/dev/null || true; done
}

# --------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------
redis_start() {
  local t0
  mkdir -p "$TM_HOME/redis"
  port_open "$REDIS_PORT" && die "redis: port $REDIS_PORT is already in use by a process this launcher did not start"
  rm -f "$RUN_DIR/redis.pid"
  t0=$(now_ms)
  # No persistence (--save '' / no AOF): a cache for dev/tests. Redis
  # daemonizes itself and writes its own pid file.
  # shellcheck disable=SC2094  # redis writes the logfile itself; the redirect only catches launch errors
  # ACLs: the default user is off (no client without a password), and the sidecar's user may
  # use the route keys only, no administrative or dangerous command.
  redis-server --port "$REDIS_PORT" --bind "$HOST" --protected-mode yes \
    --dir "$TM_HOME/redis" --daemonize yes --pidfile "$RUN_DIR/redis.pid" \
    --logfile "$LOG_DIR/redis.log" --save '' --appendonly no \
    --user default off \
    --user "$REDIS_USER" on ">$REDIS_PASSWORD" '~tm:route:*' resetchannels +@read +@write +@connection \
      -@dangerous '+client|setname' '+client|id' \
    >>"$LOG_DIR/redis.log" 2>&1 9>&- || { show_log "$LOG_DIR/redis.log"; die "redis: redis-server failed to launch"; }
  echo "$REDIS_PORT" >"$RUN_DIR/redis.port"
  wait_ready redis "$t0"
}

# --------------------------------------------------------------------------
# Kafka (single combined broker+controller node, KRaft)
# --------------------------------------------------------------------------
KAFKA_DIR=$TM_HOME/kafka
KAFKA_LIBS=$KAFKA_DIR/libs
KAFKA_POM=$DEV_DIR/kafka/pom.xml
KAFKA_LOG4J=$DEV_DIR/kafka/log4j2.properties

java_bin() { if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then echo "$JAVA_HOME/bin/java"; else echo java; fi; }

# Copy the broker's runtime jars from the local Maven repository (downloading
# them from Maven Central the first time). The marker holds the pom's checksum,
# so editing the pom (e.g. a version bump) triggers a fresh copy; a half-done
# copy never leaves a marker, so it is redone.
kafka_libs() {
  local sum
  sum=$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)
  [[ -r $KAFKA_LIBS/.complete && $(cat "$KAFKA_LIBS/.complete") == "$sum" ]] && return 0
  say "kafka: fetching broker jars with Maven (first run only)"
  rm -rf "$KAFKA_LIBS" "$KAFKA_LIBS.tmp" "$KAFKA_DIR"/cds-*.jsa   # CDS archive is per classpath
  mkdir -p "$KAFKA_DIR"
  # MAVEN_BASEDIR: keep the main project's .mvn/ (jvm.config, maven.config,
  # extensions) out of this unrelated little build.
  if ! MAVEN_BASEDIR="$DEV_DIR/kafka" mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies \
      -DoutputDirectory="$KAFKA_LIBS.tmp" -DincludeScope=runtime >"$LOG_DIR/kafka-mvn.log" 2>&1; then
    show_log "$LOG_DIR/kafka-mvn.log"; die "kafka: mvn dependency:copy-dependencies failed"
  fi
  echo "$sum" >"$KAFKA_LIBS.tmp/.complete"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
}

# Regenerated on every start so port overrides take effect. The static
# controller.quorum.voters form (not the dynamic-quorum
# controller.quorum.bootstrap.servers + `format --standalone`) is used on
# purpose: with a static quorum the controller endpoint is not written into the
# formatted metadata, so changing TM_KAFKA_CONTROLLER_PORT later needs no reformat.
kafka_config() {
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Generated by dev/stack.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CPORT
# Every listener authenticates: clients and the broker itself with SASL/SCRAM, the controller
# listener with SASL/PLAIN (KRaft's controller supports no SCRAM). ACLs decide the rest.
listeners=SASL_PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CPORT
advertised.listeners=SASL_PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_ADMIN_USER" password="$KAFKA_ADMIN_PASSWORD";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$KAFKA_ADMIN_USER" password="$KAFKA_ADMIN_PASSWORD" user_$KAFKA_ADMIN_USER="$KAFKA_ADMIN_PASSWORD";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:$KAFKA_ADMIN_USER
allow.everyone.if.no.acl.found=false
log.dirs=$KAFKA_DIR/data

# Single node: every internal topic must make do with one replica.
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Consumers in tests join immediately instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
# Compacted topics are used by the application.
log.cleaner.enable=true
EOF
  cat >"$KAFKA_DIR/admin.properties" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_ADMIN_USER" password="$KAFKA_ADMIN_PASSWORD";
EOF
  chmod 600 "$KAFKA_DIR/server.properties" "$KAFKA_DIR/admin.properties"
}

# The clients' rights, on every start (adding an ACL that exists changes nothing): the sidecar may
# read the topics, the control API write and create them. Nothing else may do anything.
kafka_acls() {
  local java acl=(-cp "$KAFKA_LIBS/*" org.apache.kafka.tools.AclCommand --bootstrap-server "$HOST:$KAFKA_PORT"
    --command-config "$KAFKA_DIR/admin.properties" --add --force --topic "$KAFKA_TOPIC_PREFIX"
    --resource-pattern-type prefixed)
  java=$(java_bin)
  { "$java" -Dlog4j2.configurationFile="$KAFKA_LOG4J" "${acl[@]}" --allow-principal "User:$KAFKA_SIDECAR_USER" \
      --operation Read --operation Describe \
    && "$java" -Dlog4j2.configurationFile="$KAFKA_LOG4J" "${acl[@]}" --allow-principal "User:$KAFKA_API_USER" \
      --operation Write --operation Describe --operation Create --operation DescribeConfigs \
      --operation Read; } >"$LOG_DIR/kafka-acls.log" 2>&1 \
    || { show_log "$LOG_DIR/kafka-acls.log"; abort_start kafka "could not set the ACLs"; }
}

kafka_start() {
  local pid t0 java cid
  java=$(java_bin)
  mkdir -p "$KAFKA_DIR"
  kafka_libs
  kafka_config
  port_open "$KAFKA_PORT" && die "kafka: port $KAFKA_PORT is already in use by a process this launcher did not start"
  port_open "$KAFKA_CPORT" && die "kafka: controller port $KAFKA_CPORT is already in use by a process this launcher did not start"

  if [[ -s $KAFKA_DIR/data/meta.properties && ! -e $KAFKA_DIR/data/.sasl-scram ]]; then
    # Formatted before the broker required SCRAM users, which only a format can create: dev data,
    # the control API recreates the topic and its outbox is the record of every change.
    say "kafka: reformatting $KAFKA_DIR/data for SASL/SCRAM (its topics are dropped)"
    rm -rf "$KAFKA_DIR/data"
  fi
  if [[ ! -s $KAFKA_DIR/data/meta.properties ]]; then
    # Format once. Any leftover without meta.properties is a failed format.
    rm -rf "$KAFKA_DIR/data"
    cid=$("$java" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>>"$LOG_DIR/kafka-format.log" | tail -n1)
    [[ -n $cid ]] || { show_log "$LOG_DIR/kafka-format.log"; die "kafka: could not generate a cluster id"; }
    say "kafka: formatting $KAFKA_DIR/data (cluster id $cid)"
    # Static quorum: no --standalone / --initial-controllers (the tool rejects
    # them when controller.quorum.voters is set).
    "$java" -Dlog4j2.configurationFile="$KAFKA_LOG4J" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool \
      format -t "$cid" -c "$KAFKA_DIR/server.properties" \
      --add-scram "SCRAM-SHA-256=[name=$KAFKA_ADMIN_USER,password=$KAFKA_ADMIN_PASSWORD]" \
      --add-scram "SCRAM-SHA-256=[name=$KAFKA_API_USER,password=$KAFKA_API_PASSWORD]" \
      --add-scram "SCRAM-SHA-256=[name=$KAFKA_SIDECAR_USER,password=$KAFKA_SIDECAR_PASSWORD]" \
      >"$LOG_DIR/kafka-format.log" 2>&1 \
      || { show_log "$LOG_DIR/kafka-format.log"; die "kafka: storage format failed"; }
    touch "$KAFKA_DIR/data/.sasl-scram"
  fi

  # Class-data sharing: the first run records the classes it loaded into an
  # archive when the JVM exits (adds ~3 s to that first stop); later starts
  # map it and reach "started" in about half the time (~2.5 s instead of ~4.5 s
  # here). The name is keyed on the JVM binary so a JDK update starts a new
  # archive; an archive the JVM finds stale is ignored, never fatal.
  # TM_KAFKA_CDS=0 turns this off.
  local cds_opts=() jreal jsa
  if [[ ${TM_KAFKA_CDS:-1} == 1 ]]; then
    jreal=$(readlink -f "$(command -v "$java")")
    jsa=$KAFKA_DIR/cds-$(printf '%s %s' "$jreal" "$(stat -c %Y "$jreal")" | sha256sum | cut -c1-10).jsa
    if [[ -s $jsa ]]; then
      cds_opts=(-XX:SharedArchiveFile="$jsa")
    else
      rm -f "$KAFKA_DIR"/cds-*.jsa
      cds_opts=(-XX:ArchiveClassesAtExit="$jsa")
    fi
  fi

  # One log per run (previous run kept as kafka.log.1): readiness looks for
  # "Kafka Server started" and must not match an earlier run's line.
  [[ -e $LOG_DIR/kafka.log ]] && mv -f "$LOG_DIR/kafka.log" "$LOG_DIR/kafka.log.1"
  t0=$(now_ms)
  # setsid: own session, so a Ctrl-C in the terminal (or the death of a test
  # runner's process group) that ran `up` does not take the broker with it.
  # Started from a non-interactive script, setsid does not fork, so $! is the JVM.
  (
    cd "$KAFKA_DIR"
    # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS is split into words on purpose
    exec setsid "$java" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError "${cds_opts[@]}" \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"
  ) </dev/null >"$LOG_DIR/kafka.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$RUN_DIR/kafka.pid"
  echo "$KAFKA_PORT" >"$RUN_DIR/kafka.port"
  wait_ready kafka "$t0"
  kafka_acls
}

# --------------------------------------------------------------------------
# Readiness: poll until the service accepts connections, with a deadline
# --------------------------------------------------------------------------
is_ready() {
  case $1 in
    postgres) as_pg "$(pg_bindir)/pg_isready" -q -h "$HOST" -p "$PG_PORT" ;;
    redis)    [[ -n $(svc_pid redis) ]] && [[ $(redis-cli -h "$HOST" -p "$REDIS_PORT" --user "$REDIS_USER" \
                --pass "$REDIS_PASSWORD" --no-auth-warning ping 2>/dev/null) == PONG ]] ;;
    # The port opens before the broker has finished starting (the controller
    # and the metadata catch-up come first), so wait for the log line too.
    kafka)    port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$LOG_DIR/kafka.log" 2>/dev/null ;;
    pgbouncer) port_open "$BOUNCER_PORT" ;;
  esac
}

svc_logs() {
  case $1 in
    postgres) echo "$LOG_DIR/postgres.log" ;;
    redis)    echo "$LOG_DIR/redis.log" ;;
    kafka)    echo "$LOG_DIR/kafka.log" ;;
    pgbouncer) echo "$LOG_DIR/pgbouncer.log" ;;
  esac
}

# A start that failed or timed out: show the log, stop whatever did get
# started (so the next `up` starts cleanly instead of reporting a half-started
# service as "already running"), exit non-zero.
abort_start() {
  local svc=$1 msg=$2 pid
  show_log "$(svc_logs "$svc")"
  pid=$(svc_pid "$svc")
  if [[ -n $pid ]]; then
    say "$svc: stopping the half-started instance (pid $pid)"
    if [[ $svc == postgres ]]; then pg_stop "$pid"; else stop_pid "$pid" "$svc"; fi
  fi
  rm -f "$RUN_DIR/$svc.pid" "$RUN_DIR/$svc.port"
  die "$svc: $msg"
}

wait_ready() {
  local svc=$1 t0=$2 deadline=$((SECONDS + START_TIMEOUT)) pid
  until is_ready "$svc"; do
    if [[ $svc == kafka ]]; then   # a JVM that died will never become ready: fail fast
      pid=$(head -n1 "$RUN_DIR/kafka.pid" 2>/dev/null) || true
      pid_alive "${pid:-}" || abort_start kafka "the broker process exited during startup"
    fi
    ((SECONDS < deadline)) || abort_start "$svc" "not accepting connections on $HOST:$(svc_port "$svc") after ${START_TIMEOUT}s"
    sleep 0.2
  done
  STARTED_IN=$(elapsed "$t0")
}

# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------
check_services() {
  local s
  for s in "$@"; do
    case $s in postgres|redis|kafka|pgbouncer) ;; *) die "unknown service '$s' (known: ${ALL_SERVICES[*]})" ;; esac
  done
}

cmd_up() {
  local svc pid
  take_lock
  ensure_packages "$@"
  for svc in "$@"; do
    pid=$(svc_pid "$svc")
    if [[ -n $pid ]]; then
      local note="already running"
      pid_paused "$pid" && note="already running, PAUSED"
      [[ $(running_port "$svc") == "$(svc_port "$svc")" ]] || note="$note on port $(running_port "$svc"), not $(svc_port "$svc")"
      echo "$svc up $HOST:$(running_port "$svc") pid $pid ($note)"
      continue
    fi
    rm -f "$RUN_DIR/$svc.pid" "$RUN_DIR/$svc.port"   # stale
    case $svc in postgres) pg_start ;; redis) redis_start ;; kafka) kafka_start ;; pgbouncer) bouncer_start ;; esac
    echo "$svc up $HOST:$(svc_port "$svc") pid $(svc_pid "$svc") (started in $STARTED_IN)"
  done
}

cmd_down() {
  local svc pid i
  take_lock
  # Reverse order of `up`: clients of postgres/redis (none yet) would go first.
  for ((i = $# ; i >= 1 ; i--)); do
    svc=${!i}
    pid=$(svc_pid "$svc")
    if [[ -z $pid ]]; then
      [[ -e $RUN_DIR/$svc.pid ]] && say "$svc: removing stale pid file"
      rm -f "$RUN_DIR/$svc.pid" "$RUN_DIR/$svc.port"
      echo "$svc down"
      continue
    fi
    local t0; t0=$(now_ms)
    case $svc in
      postgres) pg_stop "$pid" ;;
      *)        stop_pid "$pid" "$svc" ;;
    esac
    rm -f "$RUN_DIR/$svc.pid" "$RUN_DIR/$svc.port"
    echo "$svc down (stopped pid $pid in $(elapsed "$t0"))"
  done
}

cmd_signal() {   # pause|resume svc...
  local action=$1 sig svc pid; shift
  [[ $action == pause ]] && sig=STOP || sig=CONT
  (($# > 0)) || die "usage: dev/stack.sh $action <svc>..."
  for svc in "$@"; do
    pid=$(svc_pid "$svc")
    [[ -n $pid ]] || die "$svc is not running"
    if [[ $svc == postgres ]]; then pg_pause_tree "$sig" "$pid"; else kill -"$sig" "$pid"; fi
    echo "$svc ${action}d (pid $pid)"
  done
}

cmd_status() {
  local svc pid
  for svc in "${ALL_SERVICES[@]}"; do
    pid=$(svc_pid "$svc" 2>/dev/null) || pid=""
    if [[ -n $pid ]]; then
      if pid_paused "$pid"; then
        echo "$svc up $HOST:$(running_port "$svc") pid $pid (paused)"
      else
        echo "$svc up $HOST:$(running_port "$svc") pid $pid"
      fi
    else
      echo "$svc down"
    fi
  done
}

cmd_env() {
  local who=${1:-sidecar} pg redis kafka
  pg=$PG_PORT; redis=$REDIS_PORT; kafka=$KAFKA_PORT
  [[ -n $(svc_pid postgres) ]] && pg=$(running_port postgres)
  # Sidecars and agents look routes up through PgBouncer; the control API's transactions go direct.
  if [[ $who == sidecar ]]; then
    pg=$BOUNCER_PORT
    [[ -n $(svc_pid pgbouncer) ]] && pg=$(running_port pgbouncer)
  fi
  [[ -n $(svc_pid redis) ]] && redis=$(running_port redis)
  [[ -n $(svc_pid kafka) ]] && kafka=$(running_port kafka)
  local db_user db_password kafka_user kafka_password
  case $who in
    sidecar)     db_user=$DB_SIDECAR_USER db_password=$DB_SIDECAR_PASSWORD
                 kafka_user=$KAFKA_SIDECAR_USER kafka_password=$KAFKA_SIDECAR_PASSWORD ;;
    control-api) db_user=$DB_USER db_password=$DB_PASSWORD
                 kafka_user=$KAFKA_API_USER kafka_password=$KAFKA_API_PASSWORD ;;
    *) die "env: unknown client '$who' (expected: sidecar or control-api)" ;;
  esac
  cat <<EOF
export TM_DB_URL='jdbc:postgresql://$HOST:$pg/$DB_NAME'
export TM_DB_USER='$db_user'
export TM_DB_PASSWORD='$db_password'
export TM_KAFKA_BOOTSTRAP='$HOST:$kafka'
export TM_KAFKA_USER='$kafka_user'
export TM_KAFKA_PASSWORD='$kafka_password'
EOF
  # Only the sidecar uses Redis; only the control API grants the sidecars' role.
  if [[ $who == sidecar ]]; then
    echo "export TM_REDIS_URL='redis://$REDIS_USER:$REDIS_PASSWORD@$HOST:$redis'"
  else
    echo "export TM_DB_SIDECAR_ROLE='$DB_SIDECAR_USER'"
  fi
}

cmd_clean() {
  local target=""
  cmd_down "${ALL_SERVICES[@]}"
  [[ -L $TM_HOME/pg ]] && target=$(readlink -f "$TM_HOME/pg")
  [[ -n $target && $target == /var/tmp/tm-pg-* ]] && rm -rf "$target"
  rm -rf "$TM_HOME"
  echo "removed $TM_HOME${target:+ and $target}"
}

usage() {
  local code=${1:-0}
  if ((code == 0)); then print_usage; else print_usage >&2; fi
  exit "$code"
}
print_usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

main() {
  (($# > 0)) || usage 2
  local cmd=$1; shift
  case $cmd in
    up|start)      (($#)) || set -- "${ALL_SERVICES[@]}"; check_services "$@"; cmd_up "$@" ;;
    down|stop)     (($#)) || set -- "${ALL_SERVICES[@]}"; check_services "$@"; cmd_down "$@" ;;
    restart)       (($#)) || set -- "${ALL_SERVICES[@]}"; check_services "$@"; cmd_down "$@"; cmd_up "$@" ;;
    pause|resume)  check_services "$@"; cmd_signal "$cmd" "$@" ;;
    status)        cmd_status || true; exit 0 ;;
    env)           cmd_env "$@" ;;
    tools)         mkdir -p "$LOG_DIR"; ensure_build_tools ;;
    testtools)     mkdir -p "$LOG_DIR"; ensure_test_tools ;;
    loadtools)     mkdir -p "$LOG_DIR"; ensure_load_tools ;;
    clean)         cmd_clean ;;
    -h|--help|help) usage 0 ;;
    *)             say "unknown command '$cmd'"; usage 2 ;;
  esac
}

main "$@"

# make loadtest's gRPC part, sourced by compare.sh (its functions and variables): gRPC unary calls
# per second and CPU per call through the sidecar, against the echo server directly and through
# nginx's grpc_pass, GrpcLoad (grpc-java, one HTTP/2 connection, CONNECTIONS calls outstanding),
# targets alternating, ROUNDS rounds. Writes grpc.tsv.

GRPC_TARGETS=(direct sidecar nginx)

grpc_url_of() {
  case $1 in
    direct) echo "127.0.0.1:$GRPC_UPSTREAM_PORT" ;;
    sidecar) echo "127.0.0.1:$SIDECAR_PORT" ;;
    nginx) echo "127.0.0.1:$GRPC_NGINX_PORT" ;;
  esac
}

grpc_pid_of() {
  case $1 in
    sidecar) echo "$sidecar_pid" ;;
    nginx) cat "$WORK/nginx-grpc.master" ;;
    *) echo "" ;;
  esac
}

# grpc_comparison FILE
grpc_comparison() {
  local file="$1" round target pid t0 t1 line cpu
  start_daemon grpc-echo java -XX:+UseParallelGC -Xmx256m -cp "$(jar_of loadtest)" dev.trafficmanager.loadtest.GrpcEcho "$GRPC_UPSTREAM_PORT"
  start_daemon nginx-grpc nginx -p "$WORK" -c "$WORK/nginx-grpc.conf"
  wait_port "$GRPC_NGINX_PORT" nginx-grpc
  local deadline=$((SECONDS + 30))
  until (: >"/dev/tcp/127.0.0.1/$GRPC_UPSTREAM_PORT") 2>/dev/null; do
    ((SECONDS < deadline)) || { log "the gRPC echo server did not open port $GRPC_UPSTREAM_PORT"; cat "$WORK/grpc-echo.log" >&2; exit 1; }
    sleep 0.2
  done
  put_route "$api" "$token" "$tenant/grpc/prod/v1" "http://127.0.0.1:$GRPC_UPSTREAM_PORT/"
  wait_http "http://127.0.0.1:$ADMIN_PORT/admin/resolve?service=grpc&version=v1" 30
  # The HTTP/2 path of each proxy is still cold here (the phases before were HTTP/1.1): 10 s each first.
  log "gRPC warm-up: 10 s of GrpcLoad per target"
  for target in "${GRPC_TARGETS[@]}"; do
    "${loadgen[@]}" dev.trafficmanager.loadtest.GrpcLoad --target "$(grpc_url_of "$target")" --seconds 10 --warmup 0 \
      --concurrency "$CONNECTIONS" --header x-tm-service:grpc --header x-tm-version:v1 >/dev/null
  done
  printf 'round\ttarget\tcalls\trps\tp50_us\tp99_us\terrors\tcpu_s\n' >"$file"
  log "gRPC: $ROUNDS rounds of GrpcLoad -c$CONNECTIONS for ${SECONDS_PER_RUN}s, alternating"
  for ((round = 1; round <= ROUNDS; round++)); do
    for target in "${GRPC_TARGETS[@]}"; do
      pid="$(grpc_pid_of "$target")"
      t0="$(cpu_ticks "$pid")"
      line="$("${loadgen[@]}" dev.trafficmanager.loadtest.GrpcLoad --target "$(grpc_url_of "$target")" \
        --seconds "$SECONDS_PER_RUN" --warmup 2 --concurrency "$CONNECTIONS" \
        --header x-tm-service:grpc --header x-tm-version:v1)"
      t1="$(cpu_ticks "$pid")"
      cpu="$(cpu_seconds "$t0" "$t1")"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$(field calls "$line")" "$(field rps "$line")" \
        "$(field p50_us "$line")" "$(field p99_us "$line")" "$(field errors "$line")" "$cpu" >>"$file"
      log "gRPC round $round $target: $line cpu $cpu s"
    done
  done
  kill -TERM "$(cat "$WORK/grpc-echo.master")" "$(cat "$WORK/nginx-grpc.master")" 2>/dev/null || true
}

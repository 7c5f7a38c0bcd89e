#!/usr/bin/env bash
# make bench: the JMH suite with the GC profiler; JSON results in benchmarks/results/ (or TM_BENCH_OUT).
# Extra JMH arguments pass through: bash dev/bench.sh RouteEventCodec -i 3
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_tools
build_jars
dir="${TM_BENCH_OUT:-$ROOT/benchmarks/results}"
mkdir -p "$dir"
out="$dir/jmh-$(date -u +%Y%m%dT%H%M%SZ).json"
java -jar "$ROOT/benchmarks/target/benchmarks.jar" -prof gc -rf json -rff "$out" "$@"
log "results: $out"

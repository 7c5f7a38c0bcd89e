#!/usr/bin/env bash
# make bench: the JMH suite with the GC profiler; JSON results in benchmarks/results/.
# Extra JMH arguments pass through: bash dev/bench.sh RouteEventCodec -i 3
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_tools
build_jars
mkdir -p "$ROOT/benchmarks/results"
out="$ROOT/benchmarks/results/jmh-$(date -u +%Y%m%dT%H%M%SZ).json"
java -jar "$ROOT/benchmarks/target/benchmarks.jar" -prof gc -rf json -rff "$out" "$@"
log "results: $out"

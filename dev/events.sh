#!/usr/bin/env bash
# Prints the route-events topic decoded (partition@offset, key, type, revision, url and options, or a split's weights) and exits when idle.
# Usage: bash dev/events.sh [topic]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
jar="$(jar_of control-api)"
[[ -n "$jar" ]] || build_jars
eval "$(bash "$ROOT/dev/stack.sh" env)"
export TM_KAFKA_BOOTSTRAP
exec java -cp "$(jar_of control-api)" dev.trafficmanager.controlapi.outbox.EventTail "$@"

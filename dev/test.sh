#!/usr/bin/env bash
# make test: every test of every module against the real local stack. Starts the stack services
# that are not running and stops exactly those afterwards, whatever the outcome.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_tools
bash "$ROOT/dev/stack.sh" testtools
before="$(services_up)"
trap 'log "stopping the services this run started"; stop_services_not_in "$before"' EXIT
bash "$ROOT/dev/stack.sh" up
cd "$ROOT"
mvn -B verify

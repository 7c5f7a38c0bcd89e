#!/usr/bin/env bash
# Does the sidecar's on-heap near cache pay under load? Two sidecars side by side (sidecar-ab.sh), one
# with the near cache (TM_NEAR_CACHE_ENTRIES=10000) and one without (every request reads the
# Chronicle Map), alternating rounds of wrk.
A_NAME="near-cache" A_ENV="TM_NEAR_CACHE_ENTRIES=10000" B_NAME="chronicle-only" B_ENV="TM_NEAR_CACHE_ENTRIES=0" \
  exec bash "$(dirname "$0")/sidecar-ab.sh"

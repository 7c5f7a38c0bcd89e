#!/usr/bin/env bash
# tm-iptables.sh: transparent interception for the Traffic Manager sidecar, for a pod's init
# container (like istio-iptables). Redirects the pod's outbound TCP to the chosen destination ports
# into the sidecar's proxy port with iptables REDIRECT (nat table, OUTPUT chain), so an application
# that calls http://payments/... reaches the sidecar without a proxy setting. Never redirected: the
# sidecar's own connections (by its uid), loopback traffic (the application to itself, to the
# sidecar's ports, the probes) and the excluded ports and CIDRs. IPv4 only.
#
# usage: tm-iptables.sh install --proxy-uid UID [options]
#        tm-iptables.sh remove
#        tm-iptables.sh show
# options (install):
#   --proxy-uid UID        the uid the sidecar runs as (required): its traffic is never redirected
#   --proxy-port PORT      the sidecar's proxy port (default 15001)
#   --admin-port PORT      the sidecar's admin port, never redirected (default 15000)
#   --ports LIST           destination ports to redirect, comma-separated, or * for every TCP port
#                          (default 80: plain HTTP; TLS on 443 would reach the sidecar as bytes it
#                          cannot route, so leave it out unless the application uses HTTPS_PROXY)
#   --exclude-ports LIST   destination ports never redirected (with --ports *: 22,5432, ...)
#   --include-cidrs LIST   destinations to redirect (default 0.0.0.0/0)
#   --exclude-cidrs LIST   destinations never redirected (the API server, a node-local cache, ...)
#   --dry-run              print the iptables commands instead of running them
# IPTABLES names the iptables command (default iptables; iptables-legacy on old nodes).
# install is idempotent: it removes the rules it made before adding them again. The application must
# run under another uid than the sidecar: the sidecar's uid is exempt, so an application sharing it
# is never intercepted. DNS over TCP (port 53) is never redirected.
set -euo pipefail
set -f # no globbing: "--ports *" and the lists are data, not file patterns

IPTABLES="${IPTABLES:-iptables}"
CHAIN=TM_OUTPUT
REDIRECT_CHAIN=TM_REDIRECT
PROXY_UID=""
PROXY_PORT=15001
ADMIN_PORT=15000
PORTS=80
EXCLUDE_PORTS=""
INCLUDE_CIDRS=0.0.0.0/0
EXCLUDE_CIDRS=""
DRY_RUN=0

die() { echo "tm-iptables: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

ipt() {
  if ((DRY_RUN)); then
    echo "$IPTABLES -t nat $*"
  else
    "$IPTABLES" -w 10 -t nat "$@"
  fi
}

# Splits a comma-separated list onto lines, without blanks.
items() { tr ',' '\n' <<<"$1" | sed 's/^ *//; s/ *$//' | grep -v '^$' || true; }

check_port() {
  [[ $1 =~ ^[0-9]{1,5}$ ]] && (($1 >= 1 && $1 <= 65535)) || die "$2: '$1' (expected: a port from 1 to 65535)"
}

check_cidr() {
  local re='^([0-9]{1,3}\.){3}[0-9]{1,3}(/([0-9]|[12][0-9]|3[0-2]))?$'
  [[ $1 =~ $re ]] || die "$2: '$1' (expected: an IPv4 address or CIDR such as 10.0.0.0/8)"
}

parse() {
  while (($#)); do
    case $1 in
      --proxy-uid) PROXY_UID="${2:-}"; shift ;;
      --proxy-port) PROXY_PORT="${2:-}"; shift ;;
      --admin-port) ADMIN_PORT="${2:-}"; shift ;;
      --ports) PORTS="${2:-}"; shift ;;
      --exclude-ports) EXCLUDE_PORTS="${2:-}"; shift ;;
      --include-cidrs) INCLUDE_CIDRS="${2:-}"; shift ;;
      --exclude-cidrs) EXCLUDE_CIDRS="${2:-}"; shift ;;
      --dry-run) DRY_RUN=1 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  [[ $PROXY_UID =~ ^[0-9]+$ ]] || die "--proxy-uid: '$PROXY_UID' (expected: the sidecar's numeric uid)"
  if [[ $PROXY_UID == 0 ]]; then
    echo "tm-iptables: warning: --proxy-uid 0 exempts everything that runs as root; run the application as another user" >&2
  fi
  check_port "$PROXY_PORT" --proxy-port
  check_port "$ADMIN_PORT" --admin-port
  local p c
  if [[ $PORTS != "*" ]]; then
    [[ -n $(items "$PORTS") ]] || die "--ports: '$PORTS' (expected: ports separated by commas, or *)"
    for p in $(items "$PORTS"); do check_port "$p" --ports; done
  fi
  for p in $(items "$EXCLUDE_PORTS"); do check_port "$p" --exclude-ports; done
  [[ -n $(items "$INCLUDE_CIDRS") ]] || die "--include-cidrs: '$INCLUDE_CIDRS' (expected: CIDRs separated by commas)"
  for c in $(items "$INCLUDE_CIDRS"); do check_cidr "$c" --include-cidrs; done
  for c in $(items "$EXCLUDE_CIDRS"); do check_cidr "$c" --exclude-cidrs; done
}

remove() {
  if ((DRY_RUN)); then
    echo "$IPTABLES -t nat -D OUTPUT -p tcp -j $CHAIN (and flush and delete $CHAIN, $REDIRECT_CHAIN)"
    return
  fi
  while "$IPTABLES" -w 10 -t nat -D OUTPUT -p tcp -j "$CHAIN" 2>/dev/null; do :; done
  local chain
  for chain in "$CHAIN" "$REDIRECT_CHAIN"; do
    if "$IPTABLES" -w 10 -t nat -nL "$chain" >/dev/null 2>&1; then
      ipt -F "$chain"
      ipt -X "$chain"
    fi
  done
}

install() {
  command -v "$IPTABLES" >/dev/null || ((DRY_RUN)) || die "$IPTABLES not found (Debian: apt-get install iptables)"
  remove
  ipt -N "$REDIRECT_CHAIN"
  ipt -A "$REDIRECT_CHAIN" -p tcp -j REDIRECT --to-ports "$PROXY_PORT"
  ipt -N "$CHAIN"
  # The sidecar's own connections (to upstreams, Kafka, Redis, PostgreSQL) go out as they are.
  ipt -A "$CHAIN" -m owner --uid-owner "$PROXY_UID" -j RETURN
  # Loopback: the sidecar's ports (an application calling 127.0.0.1:15001 itself, the probes) and
  # the application talking to itself.
  ipt -A "$CHAIN" -d 127.0.0.0/8 -p tcp -m multiport --dports "$PROXY_PORT,$ADMIN_PORT" -j RETURN
  ipt -A "$CHAIN" -o lo -j RETURN
  ipt -A "$CHAIN" -d 127.0.0.0/8 -j RETURN
  ipt -A "$CHAIN" -p tcp --dport 53 -j RETURN
  local c p
  for c in $(items "$EXCLUDE_CIDRS"); do ipt -A "$CHAIN" -d "$c" -j RETURN; done
  for p in $(items "$EXCLUDE_PORTS"); do ipt -A "$CHAIN" -p tcp --dport "$p" -j RETURN; done
  for c in $(items "$INCLUDE_CIDRS"); do
    if [[ $PORTS == "*" ]]; then
      ipt -A "$CHAIN" -d "$c" -j "$REDIRECT_CHAIN"
    else
      for p in $(items "$PORTS"); do ipt -A "$CHAIN" -d "$c" -p tcp --dport "$p" -j "$REDIRECT_CHAIN"; done
    fi
  done
  ipt -A OUTPUT -p tcp -j "$CHAIN"
  ((DRY_RUN)) || echo "tm-iptables: outbound TCP to port(s) $PORTS of $INCLUDE_CIDRS goes to 127.0.0.1:$PROXY_PORT (uid $PROXY_UID excluded)"
}

main() {
  (($#)) || { usage >&2; exit 2; }
  local cmd=$1
  shift
  case $cmd in
    install) parse "$@"; install ;;
    remove) [[ ${1:-} == --dry-run ]] && DRY_RUN=1; remove ;;
    show) "$IPTABLES" -w 10 -t nat -S ;;
    -h|--help|help) usage ;;
    *) die "unknown command '$cmd' (expected: install, remove or show)" ;;
  esac
}

main "$@"

#!/usr/bin/env bash
# tests/bench/setup.sh: what `make bench` needs beyond the build, installed once; never run by
# `make test`. Today: keepalived (Debian's package), for the side-by-side scenarios
# (io.quorumd.bench.KeepalivedBench), and etcd (Debian's etcd-server), for the key-value store's
# side by side (io.quorumd.bench.KvBench). Without root or without a reachable mirror it says so
# and exits 0: the bench then skips those rows with a message.
#
# The packages' own services must not start (the bench runs its own three instances of each): a policy-rc.d that refuses every start is put in place for the install if none
# exists (and removed afterwards), and a keepalived the install started anyway (its pid file
# /run/keepalived.pid, only if that process is /usr/sbin/keepalived and was not running before)
# is stopped by its PID.
set -uo pipefail

log() { echo "bench-setup: $*"; }

want=()
if [ -x /usr/sbin/keepalived ]; then
  log "keepalived present: $(/usr/sbin/keepalived --version 2>&1 | head -n 1)"
else
  want+=(keepalived)
fi
if [ -x /usr/bin/etcd ]; then
  log "etcd present: $(/usr/bin/etcd --version 2>&1 | head -n 1)"
else
  want+=(etcd-server)
fi
if [ "${#want[@]}" = 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "${want[*]} not installed and this is not root: the bench skips what needs them"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "${want[*]} not installed and there is no apt-get: the bench skips what needs them"
  exit 0
fi
etcd_before=$(pgrep -x etcd 2>/dev/null | tr '\n' ' ' || true)

running_before=$(cat /run/keepalived.pid 2>/dev/null || true)
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# bench-setup: no service starts during this install\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

log "installing ${want[*]} from Debian's packages"
t0=$(date +%s.%N)
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=600 "${want[@]}" >/dev/null; }; then
  log "installing ${want[*]} failed: the bench skips what needs them"
  exit 0
fi
log "installed ${want[*]} in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f s", b-a}')"

# a service the install started despite the policy: stop it by its PID
pid=$(cat /run/keepalived.pid 2>/dev/null || true)
if [ -n "$pid" ] && [ "$pid" != "$running_before" ] && [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/keepalived ]; then
  log "the package started keepalived ($pid): stopping it"
  kill -TERM "$pid"
  for _ in $(seq 1 50); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
fi
# an etcd the install started despite the policy (it was not running before): stop it by its PID
for pid in $(pgrep -x etcd 2>/dev/null || true); do
  case " $etcd_before " in *" $pid "*) continue ;; esac
  if [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = /usr/bin/etcd ]; then
    log "the package started etcd ($pid): stopping it"
    kill -TERM "$pid"
  fi
done
exit 0

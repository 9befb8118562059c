#!/usr/bin/env bash
# engine-and-image.sh: a local Docker engine whose every address is in 198.18.0.0/15, and the
# systemd base image the multi-host tests boot (built with no registry: mmdebstrap | docker import).
# Adapted from /work/shared/recipes/docker-engine-and-base-image.sh (proven on this machine).
#
#   tests/docker/engine-and-image.sh engine   start dockerd if none answers (prints what it did)
#   tests/docker/engine-and-image.sh image    build the image if it is missing
#   tests/docker/engine-and-image.sh stop PID stop the dockerd with this PID (only if it is dockerd)
#
# `engine` writes the PID of a dockerd it started to $DOCKERD_STARTED_FILE (if set), so the caller
# stops only what it started. A dockerd already running with other addresses is an error: this
# script never restarts an engine it did not start.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "engine-and-image.sh: run as root (it starts dockerd, builds images)" >&2; exit 1; }

SUITE=${SUITE:-bookworm}
IMAGE=${QUORUMD_IMAGE:-quorumd-base:${SUITE}-systemd-2}
BRIDGE_CIDR=198.18.0.1/24
BRIDGE_SUBNET=198.18.0.0/24
POOL_BASE=198.19.0.0/16
GUARD_RANGE=198.18.0.0/15
DNS_ADDR=198.18.0.1             # docker0 itself: nothing listens, unknown names fail fast and locally
DOCKERD_FLAGS=(
  --bip="${BRIDGE_CIDR}"
  --default-address-pool="base=${POOL_BASE},size=24"
  --ip-masq=false
  --dns="${DNS_ADDR}" --dns-opt=timeout:1 --dns-opt=attempts:1
)
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
# What the tests need inside a container: a JRE for the agent, systemd as PID 1 (+ dbus for
# systemctl), adduser for the package's postinst, bash for the watchdog, procps/iproute2/iptables
# for the tests' checks and for cutting links, rpm to run the .rpm's scriptlets under systemd.
# Changing this list: bump the image tag's suffix, so that machines with the old image build
# the new one.
IMAGE_PACKAGES=openjdk-17-jre-headless,systemd,systemd-sysv,dbus,procps,iproute2,iptables,adduser,bash,rpm
JAVA_HOME_IN_IMAGE=/usr/lib/jvm/java-17-openjdk-amd64

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f s", b-a}'; }
log() { echo "[docker] $*"; }

apt_install() {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}

dockerd_pid() {
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/dockerd ] || return 1
  echo "$pid"
}

engine_configured() {
  local sub
  docker info >/dev/null 2>&1 || return 1
  sub=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' 2>/dev/null) || return 1
  [ "$sub" = "$BRIDGE_SUBNET" ]
}

guard() {
  # forwarded packets from containers may only go to 198.18.0.0/15 (user-defined networks still
  # get a MASQUERADE rule despite --ip-masq=false: this rule is what keeps traffic on the machine)
  if ! iptables -C DOCKER-USER -s "$GUARD_RANGE" ! -d "$GUARD_RANGE" -j DROP 2>/dev/null; then
    iptables -I DOCKER-USER 1 -s "$GUARD_RANGE" ! -d "$GUARD_RANGE" -j DROP
    log "guard rule added to DOCKER-USER"
  fi
}

engine() {
  local t pid
  t=$(now)
  [ -x /usr/sbin/dockerd ] || { apt_install docker.io; log "docker.io installed in $(took "$t")"; }
  if engine_configured; then
    log "dockerd already answers with docker0 on ${BRIDGE_SUBNET}: using it"
    guard; return 0
  fi
  if docker info >/dev/null 2>&1; then
    echo "A Docker engine runs with other addresses; stop it (it is not ours) and rerun." >&2
    return 1
  fi
  if ip link show docker0 >/dev/null 2>&1 && ! ip -4 addr show docker0 | grep -q "inet ${BRIDGE_CIDR}"; then
    ip link delete docker0
  fi
  setsid nohup /usr/sbin/dockerd "${DOCKERD_FLAGS[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
      [ -n "${DOCKERD_STARTED_FILE:-}" ] && echo "$pid" >"$DOCKERD_STARTED_FILE"
      log "dockerd started as PID $pid in $(took "$t") (log: $DOCKERD_LOG)"
      guard; return 0
    fi
    [ -e "/proc/$pid" ] || break
    sleep 0.25
  done
  echo "dockerd did not come up; see $DOCKERD_LOG" >&2
  tail -5 "$DOCKERD_LOG" >&2 || true
  return 1
}

stop() {
  local pid=$1 t
  [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/dockerd ] || { log "PID $pid is not a dockerd: nothing to stop"; return 0; }
  t=$(now); kill -TERM "$pid"
  for _ in $(seq 1 150); do [ -e "/proc/$pid" ] || break; sleep 0.2; done
  [ ! -e "/proc/$pid" ] || { echo "dockerd $pid did not stop" >&2; return 1; }
  log "stopped dockerd $pid in $(took "$t")"
}

apt_sources() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Created-By: Packages' 2>/dev/null \
    | awk -v s="$SUITE" '($2==s || $2==s"-updates" || $2==s"-security") && $3=="main" {print "deb " $1 " " $2 " main"}' \
    | sort -u
}

image() {
  local t partial="${IMAGE}-partial" mlog rc
  if [ "${FORCE_REBUILD:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "$IMAGE exists"; return 0
  fi
  t=$(now)
  command -v mmdebstrap >/dev/null || apt_install mmdebstrap
  [ -n "$(apt_sources)" ] || apt-get update -qq
  [ -n "$(apt_sources)" ] || { echo "no '$SUITE' source in apt's configuration: cannot build $IMAGE" >&2; return 1; }
  mlog=$(mktemp)
  # man1 must exist or openjdk's postinst fails (its update-alternatives slave links);
  # the image keeps no apt sources: containers cannot reach a mirror anyway (guard rule);
  # a failed pipe would still leave an EMPTY image: import under a temporary tag, retag on success
  set +e
  apt_sources | mmdebstrap --variant=minbase --include="$IMAGE_PACKAGES" \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      --setup-hook='mkdir -p "$1"/usr/share/man/man1' \
      --customize-hook='rm -f "$1"/etc/apt/sources.list; rm -rf "$1"/var/lib/apt/lists/*' \
      --customize-hook='chroot "$1" systemctl mask getty@tty1.service console-getty.service systemd-logind.service >/dev/null 2>&1 || true' \
      "$SUITE" - - 2>"$mlog" \
    | docker import -c 'CMD ["/sbin/init"]' -c 'ENV container=docker' -c "ENV JAVA_HOME=${JAVA_HOME_IN_IMAGE}" \
        - "$partial" >/dev/null
  rc=$?
  set -e
  if [ "$rc" != 0 ]; then
    docker rmi -f "$partial" >/dev/null 2>&1 || true
    echo "building $IMAGE failed; mmdebstrap said:" >&2; tail -20 "$mlog" >&2; rm -f "$mlog"; return 1
  fi
  rm -f "$mlog"
  docker tag "$partial" "$IMAGE" && docker rmi "$partial" >/dev/null
  log "$IMAGE built in $(took "$t") ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1e6}'))"
}

case "${1:-}" in
  engine) engine ;;
  image) image ;;
  stop) [ -n "${2:-}" ] || { echo "usage: $0 stop PID" >&2; exit 2; }; stop "$2" ;;
  *) echo "usage: $0 engine|image|stop PID" >&2; exit 2 ;;
esac

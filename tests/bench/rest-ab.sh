#!/usr/bin/env bash
# tests/bench/rest-ab.sh ROUNDS WINDOW_S "ENV A" "ENV B" [...]: three agents with CURVE on
# 127.0.0.1 at rest (one master, two followers), per configuration: start, settle 5 s, then over
# WINDOW_S seconds each agent's CPU (utime+stime from /proc/PID/stat, % of one core), its RSS at
# the end (VmRSS, MiB), its PSS (smaps_rollup) and thread count; the configurations alternate for
# ROUNDS rounds. ENV is what `env` takes (shell words, evaluated: "QUORUMD_JAVA_OPTS='-Xss256k -Xmn2m'", "MALLOC_ARENA_MAX=2", "X=1"
# for nothing; QUORUMD_LAUNCHER=PATH for another build). With HOLD=1 the first configuration's
# cluster stays up after the first window and its pids are printed (inspect, then press enter).
# Ports 47600-47699 on 127.0.0.1.
set -euo pipefail
rounds=${1:?usage: rest-ab.sh ROUNDS WINDOW_S "ENV A" "ENV B" ...}
window=${2:?}
shift 2
configs=("$@")
here=$(cd "$(dirname "$0")" && pwd)
default_launcher=$here/../../agent/target/quorumd
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$default_launcher" keygen --out="$work/k1" > /dev/null 2>&1
"$default_launcher" keygen --out="$work/k2" > /dev/null 2>&1
"$default_launcher" keygen --out="$work/k3" > /dev/null 2>&1
pub() { sed -n 's/.*public-key = "\(.*\)"/\1/p' "$1"; }
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  ci=0
  for c in "${configs[@]}"; do
    ci=$((ci + 1))
    base=""
    for p in $(seq 47600 6 47694); do
      if [ -z "$(ss -Htln "( sport >= :$p and sport <= :$((p + 5)) )" 2>/dev/null)" ]; then base=$p; break; fi
    done
    [ -n "$base" ] || { echo "rest-ab: no 6 free ports in 47600-47699" >&2; exit 1; }
    launcher=$default_launcher
    for kv in $c; do case $kv in QUORUMD_LAUNCHER=*) launcher=${kv#QUORUMD_LAUNCHER=} ;; esac; done
    pids=()
    for n in 1 2 3; do
      d=$work/n$n; rm -rf "$d"; mkdir -p "$d/state"
      cat > "$d/q.yaml" <<YAML
cluster: rest-ab
node: n$n
bind: 127.0.0.1
security:
  curve:
    key: $work/k${n}_secret
peers:
  - {id: n1, host: 127.0.0.1, port: $base, public_key: "$(pub "$work/k1")"}
  - {id: n2, host: 127.0.0.1, port: $((base + 2)), public_key: "$(pub "$work/k2")"}
  - {id: n3, host: 127.0.0.1, port: $((base + 4)), public_key: "$(pub "$work/k3")"}
command:
  exec: ["/bin/sleep", "3600"]
  stop_timeout: 1s
state_dir: $d/state
control_socket: $d/control.sock
log_level: info
YAML
      # shellcheck disable=SC2086
      eval "exec env $c \"\$launcher\" run --config \"\$d/q.yaml\"" > "$d/log" 2>&1 &
      pids+=($!)
    done
    sleep 5
    declare -A c0
    for p in "${pids[@]}"; do c0[$p]=$(cpu "$p" 2>/dev/null || echo 0); done
    t0=$(date +%s%N)
    sleep "$window"
    t1=$(date +%s%N)
    ni=0
    for p in "${pids[@]}"; do
      ni=$((ni + 1))
      if [ ! -r "/proc/$p/stat" ]; then
        echo "rest-ab: agent n$ni of configuration $ci ($c) is gone; its log ends:" >&2
        tail -n 5 "$work/n$ni/log" >&2
        continue
      fi
      c1=$(cpu "$p")
      rss=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status")
      pss=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")
      thr=$(awk '/^Threads/ {print $2}' "/proc/$p/status")
      awk -v c="$ci" -v d=$((c1 - ${c0[$p]})) -v hz="$hz" -v ns=$((t1 - t0)) -v rss="$rss" -v pss="$pss" -v thr="$thr" \
        'BEGIN {printf "%d %.3f %.1f %.1f %d\n", c, 100 * d / hz / (ns / 1e9), rss / 1024, pss / 1024, thr}' >> "$work/samples"
    done
    if [ "${HOLD:-}" = 1 ] && [ "$r" = 1 ] && [ "$ci" = 1 ]; then
      echo "holding: pids ${pids[*]} (configuration 1); press enter"; read -r _
    fi
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
ci=0
for c in "${configs[@]}"; do
  ci=$((ci + 1))
  awk -v c="$ci" -v name="$c" '$1 == c { n++; cpu += $2; if ($2 > cmax) cmax = $2; rss += $3; if ($3 > rmax) rmax = $3; pss += $4; thr += $5 }
    END { printf "%-60s CPU %% mean %.2f max %.2f | RSS MiB mean %.1f max %.1f | PSS mean %.1f | threads %.0f (n=%d agents)\n",
          name, cpu / n, cmax, rss / n, rmax, pss / n, thr / n, n }' "$work/samples"
done

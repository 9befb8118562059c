#!/usr/bin/env bash
# tests/bench/start-time.sh [RUNS] [LAUNCHER]: a lone agent's start, spawn to its "first
# keep-alive" log line (JVM boot included, as a user sees it), RUNS times (default 7), one
# number (ms) per run, then the median. The java is the launcher's: JAVA_HOME, else `java`.
# QUORUMD_CDS=off starts without the class archive (AOT cache or AppCDS); the launcher prints
# which one it uses under `sh -x`. Ports 47500-47599 on 127.0.0.1.
set -euo pipefail
runs=${1:-7}
launcher=${2:-$(dirname "$0")/../../agent/target/quorumd}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
all=()
for i in $(seq 1 "$runs"); do
  # a free port pair for every run: a stopped agent's port may linger
  port=""
  for p in $(seq 47500 2 47598); do
    if [ -z "$(ss -Htln "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null)" ]; then port=$p; break; fi
  done
  [ -n "$port" ] || { echo "start-time: no free port pair in 47500-47599" >&2; exit 1; }
  cat > "$work/q.yaml" <<YAML
cluster: start-time
node: a
bind: 127.0.0.1
peers:
  - {id: a, host: 127.0.0.1, port: $port}
command:
  exec: ["/bin/sleep", "30"]
  stop_timeout: 1s
state_dir: $work/state
control_socket: $work/control.sock
log_level: info
YAML
  rm -rf "$work/state"; mkdir -p "$work/state"; : > "$work/log"
  t0=$(date +%s%3N)
  "$launcher" run --config "$work/q.yaml" > "$work/log" 2>&1 &
  pid=$!
  line=""
  for _ in $(seq 1 1000); do
    line=$(grep -m1 'first keep-alive' "$work/log" || true)
    [ -n "$line" ] && break
    sleep 0.01
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -n "$line" ] || { echo "start-time: no first keep-alive within 10 s; log:" >&2; cat "$work/log" >&2; exit 1; }
  at=$(date -d "$(date -d "@$((t0 / 1000))" +%F) ${line%% *}" +%s%3N)
  all+=($((at - t0)))
  echo "run $i: $((at - t0)) ms"
done
printf '%s\n' "${all[@]}" | sort -n | awk '{v[NR]=$1} END {printf "median %d ms (min %d, max %d, %d runs)\n", v[int((NR+1)/2)], v[1], v[NR], NR}'

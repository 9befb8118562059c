#!/usr/bin/env bash
# tests/bench/start-steps.sh [RUNS] [LAUNCHER]: a lone agent's start, step by step, from its own
# log lines: spawn -> main() (the "main() entered at epoch ms" line) -> config loaded and checked
# -> restart certificate -> transport bound -> control socket ready -> first keep-alive. Like
# start-time.sh but with CURVE on (security.curve.key: a key pair made once with `quorumd keygen`),
# as the packages' agents run. One line per run (ms from spawn), then p50 / max of every step.
# Extra JVM options: QUORUMD_JAVA_OPTS, as the launcher reads them; QUORUMD_CDS=off starts without
# the class archive. Ports 47500-47599 on 127.0.0.1.
set -euo pipefail
runs=${1:-12}
launcher=${2:-${QUORUMD_LAUNCHER:-$(dirname "$0")/../../agent/target/quorumd}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$launcher" keygen --out="$work/node.key" > /dev/null 2>&1
pub=$(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$work/node.key")
ms() { date -d "$day ${1%% *}" +%s%3N; }
printf 'run   main  config  cert  bound  control  keepalive\n'
for i in $(seq 1 "$runs"); do
  port=""
  for p in $(seq 47500 2 47598); do
    if [ -z "$(ss -Htln "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null)" ]; then port=$p; break; fi
  done
  [ -n "$port" ] || { echo "start-steps: no free port pair in 47500-47599" >&2; exit 1; }
  cat > "$work/q.yaml" <<YAML
cluster: start-steps
node: a
bind: 127.0.0.1
security:
  curve:
    key: $work/node.key_secret
peers:
  - {id: a, host: 127.0.0.1, port: $port, public_key: "$pub"}
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
  for _ in $(seq 1 1000); do
    grep -q 'first keep-alive' "$work/log" && break
    sleep 0.01
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  grep -q 'first keep-alive' "$work/log" || { echo "start-steps: no first keep-alive within 10 s; log:" >&2; cat "$work/log" >&2; exit 1; }
  day=$(date -d "@$((t0 / 1000))" +%F)
  main=$(sed -n 's/.*main() entered at epoch ms \([0-9]*\).*/\1/p' "$work/log")
  cfg=$(ms "$(grep -m1 'config loaded and checked' "$work/log")")
  cert=$(ms "$(grep -m1 'restart certificate' "$work/log")")
  bound=$(ms "$(grep -m1 'ZmqTransport - transport of a listening' "$work/log")")
  ctl=$(ms "$(grep -m1 'control socket .* is ready' "$work/log")")
  ka=$(ms "$(grep -m1 'first keep-alive' "$work/log")")
  printf '%3d %6d %7d %5d %6d %8d %10d\n' "$i" $((main - t0)) $((cfg - t0)) $((cert - t0)) $((bound - t0)) $((ctl - t0)) $((ka - t0))
done | tee "$work/rows"
awk 'NR > 1 {
  n++; s[1,n]=$2; s[2,n]=$3-$2; s[3,n]=$4-$3; s[4,n]=$5-$4; s[5,n]=$6-$5; s[6,n]=$7-$6; s[7,n]=$7
} END {
  split("spawn->main main->config config->cert cert->bound bound->control control->keepalive spawn->keepalive", name, " ")
  for (k = 1; k <= 7; k++) {
    m = 0; for (j = 1; j <= n; j++) v[j] = s[k,j]
    for (a = 1; a <= n; a++) for (b = a + 1; b <= n; b++) if (v[b] < v[a]) { t = v[a]; v[a] = v[b]; v[b] = t }
    printf "%-20s p50 %4d  max %4d  (n=%d)\n", name[k], v[int((n + 1) / 2)], v[n], n
  }
}' <(printf 'h\n'; cat "$work/rows")
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

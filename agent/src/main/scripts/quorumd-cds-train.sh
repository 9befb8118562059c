# quorumd-cds-train.sh, run as `sh quorumd-cds-train.sh LAUNCHER [DIR]`: writes the agent's
# class archive into DIR (default: the launcher's directory, as in a checkout) before any real
# start, so that the first start is a fast one too. The packages run it at install as the agent's user into /var/cache/quorumd (the
# unit's CacheDirectory); the checkout's build runs it into agent/target.
# A one-node agent on 127.0.0.1 elects itself, starts a command, serves one status request and
# gets SIGTERM after 2 s; at exit its JVM writes what it loaded: JDK 25+ (its java knows
# -XX:AOTCacheOutput) an AOT cache, quorumd-KEY.aot (JEP 483/514; the JVM assembles it in a
# second JVM, a few seconds), older JDKs an AppCDS archive, quorumd-KEY.jsa. The launcher picks
# the file that matches its java and jars. A failure only costs the speed-up: it is reported and
# the script exits 0.
set -u
launcher=${1:?usage: quorumd-cds-train.sh LAUNCHER [DIR]}
dir_out=${2:-$(cd "$(dirname "$launcher")" && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=""
for p in $(seq 47400 2 47498); do
  if [ -z "$(ss -Htln "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null)" ]; then port=$p; break; fi
done
[ -n "$port" ] || { echo "quorumd-cds-train: no free port pair in 47400-47499; no archive" >&2; exit 0; }
cat > "$work/q.yaml" <<YAML
cluster: cds-train
node: a
bind: 127.0.0.1
peers:
  - {id: a, host: 127.0.0.1, port: $port}
timing: {heartbeat: 100ms, election_timeout: 300ms}
command:
  exec: ["/bin/sleep", "30"]
  stop_timeout: 1s
state_dir: $work/state
control_socket: $work/control.sock
log_level: info
YAML
mkdir -p "$work/state"
# outside systemd's environment (a package install run from a unit): the launcher then reads
# /etc/default/quorumd or /etc/sysconfig/quorumd (JAVA_HOME) as the unit's EnvironmentFile= does
env -u INVOCATION_ID -u CACHE_DIRECTORY QUORUMD_CDS_DIR="$dir_out" QUORUMD_CDS_TRAIN=1 \
  "$launcher" run --config "$work/q.yaml" > "$work/log" 2>&1 &
pid=$!
sleep 2
"$launcher" status --config "$work/q.yaml" > /dev/null 2>&1 || true
kill -TERM "$pid" 2>/dev/null
wait "$pid"
made=$(ls -t "$dir_out"/quorumd-*.aot "$dir_out"/quorumd-*.jsa 2>/dev/null | head -n 1)
if [ -n "$made" ] && [ "$(find "$made" -newer "$work/q.yaml" 2>/dev/null)" = "$made" ]; then
  echo "quorumd-cds-train: $made ($(du -k "$made" | cut -f1) KiB)"
else
  echo "quorumd-cds-train: the JVM wrote no archive; agents start without one. Its log:" >&2
  cat "$work/log" >&2
fi
exit 0

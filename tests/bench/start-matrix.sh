#!/usr/bin/env bash
# tests/bench/start-matrix.sh [RUNS] [JDK25_HOME]: a lone agent's spawn to first keep-alive
# (tests/bench/start-time.sh) under the default java (17 here) and a JDK 25, each without a class
# archive (QUORUMD_CDS=off), with AppCDS, and (JDK 25) with the AOT cache, written the way the
# packages write them (agent/target/scripts/quorumd-cds-train.sh). Rounds alternate the
# configurations so that a change in the machine's load hits all of them. Run after a build
# (`mvn -DskipTests -pl agent package`); prints one line per configuration with the load average.
set -euo pipefail
runs=${1:-5}
j25=${2:-/usr/lib/jvm/temurin-25-jdk-amd64}
here=$(cd "$(dirname "$0")" && pwd)
target=$(cd "$here/../../agent/target" && pwd)
launcher=$target/quorumd
train=$target/scripts/quorumd-cds-train.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/17-cds" "$work/25-cds" "$work/25-aot"
sh "$train" "$launcher" "$work/17-cds" >/dev/null
QUORUMD_AOT=off JAVA_HOME=$j25 sh "$train" "$launcher" "$work/25-cds" >/dev/null
JAVA_HOME=$j25 sh "$train" "$launcher" "$work/25-aot" >/dev/null
ls "$work"/17-cds/*.jsa "$work"/25-cds/*.jsa "$work"/25-aot/*.aot >/dev/null || { echo "start-matrix: an archive is missing" >&2; exit 1; }
configs=("17 none" "17 appcds" "25 none" "25 appcds" "25 aot")
declare -A samples
for round in 1 2 3; do
  for c in "${configs[@]}"; do
    set -- $c
    envs=()
    [ "$1" = 25 ] && envs+=("JAVA_HOME=$j25")
    case $2 in
      none) envs+=(QUORUMD_CDS=off) ;;
      appcds) envs+=("QUORUMD_CDS_DIR=$work/$1-cds") ;;
      aot) envs+=("QUORUMD_CDS_DIR=$work/25-aot") ;;
    esac
    out=$(env "${envs[@]}" "$here/start-time.sh" "$runs" "$launcher" | grep '^run' | awk '{print $3}' | tr '\n' ' ')
    samples[$c]="${samples[$c]:-}$out"
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in "${configs[@]}"; do
  printf '%-10s ' "$c"
  tr ' ' '\n' <<<"${samples[$c]}" | grep . | sort -n | awk '{v[NR]=$1} END {printf "p50 %d ms  min %d  max %d  (n=%d)\n", v[int((NR+1)/2)], v[1], v[NR], NR}'
done

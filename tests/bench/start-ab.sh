#!/usr/bin/env bash
# tests/bench/start-ab.sh ROUNDS "ENV A" "ENV B" [LAUNCHER]: A/B of a lone agent's start
# (start-steps.sh, CURVE on), the two configurations alternating 2 starts at a time so that a
# change in the machine's load hits both. ENV is what `env` takes (shell words, evaluated), e.g. "QUORUMD_JAVA_OPTS='-Xss256k -Xmn2m'"
# or "X=1" for nothing; QUORUMD_LAUNCHER=PATH in ENV compares two builds. Prints p50 / max of every step for A and B and the load average.
set -euo pipefail
rounds=${1:?usage: start-ab.sh ROUNDS "ENV A" "ENV B" [LAUNCHER]}
a=$2; b=$3
launcher=${4:-}   # empty: start-steps.sh's default, or QUORUMD_LAUNCHER=... in ENV
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  for c in a b; do
    if [ $c = a ]; then e=$a; else e=$b; fi
    # shellcheck disable=SC2086
    eval "env $e \"\$here/start-steps.sh\" 2 \"\$launcher\"" | grep -E '^ *[0-9]+ ' >> "$work/$c"
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in a b; do
  if [ $c = a ]; then echo "A: $a"; else echo "B: $b"; fi
  awk '{ n++; s[1,n]=$2; s[2,n]=$3-$2; s[3,n]=$4-$3; s[4,n]=$5-$4; s[5,n]=$6-$5; s[6,n]=$7-$6; s[7,n]=$7 }
  END {
    split("spawn->main main->config config->cert cert->bound bound->control control->keepalive spawn->keepalive", name, " ")
    for (k = 1; k <= 7; k++) {
      for (j = 1; j <= n; j++) v[j] = s[k,j]
      for (x = 1; x <= n; x++) for (y = x + 1; y <= n; y++) if (v[y] < v[x]) { t = v[x]; v[x] = v[y]; v[y] = t }
      printf "  %-20s p50 %4d  max %4d  (n=%d)\n", name[k], v[int((n + 1) / 2)], v[n], n
    }
  }' "$work/$c"
done

#!/bin/bash
# usage: ab.sh NAME DIR  (DIR = a copy of agent/target and tests/target)
name=$1 dir=$2
cd "$dir"
{ echo "start $(date -u +%FT%T) $(uptime)"
nice java -Djava.awt.headless=true -Dquorumd.launcher=agent/target/quorumd -Dquorumd.scripts=agent/target/scripts -cp "tests/target/test-classes:$(cat tests/target/bench.classpath)" io.quorumd.bench.BenchMain --no-kv --no-trusted --no-keepalived --no-floor --scenarios KILL,STEP_DOWN --sizes none --trials 8 --keep --out /tmp/prespawn-out/$name 2>&1 | grep --line-buffered -v quorumd-spawner
echo "end $(date -u +%FT%T) $(uptime)"; } > /tmp/prespawn-out/$name.log 2>&1
d=$(grep -o "agents' files in [^)]*" /tmp/prespawn-out/$name.log | cut -d' ' -f4)
python3 /tmp/prespawn-tools/clearance.py "$d" > /tmp/prespawn-out/$name.clearance 2>&1

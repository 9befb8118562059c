#!/usr/bin/env python3
"""Per start: log's cleared -> started minus the supervisor's own 'in X ms' (start() -> go): the time
between the Agent's clearance line and its call of Supervisor.start(). usage: gap.py AGENTS_DIR..."""
import glob, os, re, sys
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
for d in sys.argv[1:]:
    for sc in ("kill", "step_down"):
        g = []
        for f in glob.glob(os.path.join(d, f"failover-{sc}-curve", "n*.log")):
            cleared = {}
            for line in open(f, errors="replace"):
                a = re.match(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*cleared to start the command in term (\d+) ", line)
                b = re.match(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*command .* started: pid/pgid \d+, term (\d+),.*\(in ([0-9.]+) ms", line)
                for x, is_c in ((a, True), (b, False)):
                    if not x: continue
                    t = ((int(x.group(1)) * 60 + int(x.group(2))) * 60 + int(x.group(3))) * 1000 + int(x.group(4))
                    if is_c: cleared[x.group(5)] = t
                    elif x.group(5) in cleared: g.append(t - cleared.pop(x.group(5)) - float(x.group(6)))
        if g: print(f"{d} {sc}: cleared line -> Supervisor.start() p50 {pct(g, .5):.0f} ms, max {max(g):.0f}, n={len(g)} (1 ms stamps)")

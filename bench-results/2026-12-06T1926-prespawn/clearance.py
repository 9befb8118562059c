#!/usr/bin/env python3
"""Clearance -> command start, from a FailoverBench run's agent logs.

usage: clearance.py AGENTS_DIR...   (the bench's "agents' files in DIR")
For every failover-*/nN.log: each "cleared to start the command in term T" line paired with the
same node's next "command ... started: pid/pgid P, term T," line; ms between the two (log stamps,
1 ms resolution). Prints n, p50 and max per scenario."""
import glob, os, re, sys

CLEARED = re.compile(r'^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*cleared to start the command in term (\d+) ')
STARTED = re.compile(r'^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*command .* started: pid/pgid \d+, term (\d+),')

def ms(m):
    h, mi, s, f = (int(x) for x in m.groups()[:4])
    return ((h * 60 + mi) * 60 + s) * 1000 + f

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]

out = {}
for d in sys.argv[1:]:
    for sc in sorted(glob.glob(os.path.join(d, 'failover-*'))):
        name = os.path.basename(sc)
        for log in sorted(glob.glob(os.path.join(sc, 'n*.log'))):
            cleared = {}
            for line in open(log, errors='replace'):
                m = CLEARED.match(line)
                if m:
                    cleared[m.group(5)] = ms(m)
                    continue
                m = STARTED.match(line)
                if m and m.group(5) in cleared:
                    out.setdefault(name, []).append(ms(m) - cleared.pop(m.group(5)))
for name, v in sorted(out.items()):
    print(f"{name}: n={len(v)} p50={pct(v, 0.5)} ms max={max(v)} ms all={sorted(v)}")

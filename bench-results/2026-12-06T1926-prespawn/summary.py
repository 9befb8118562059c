#!/usr/bin/env python3
"""One row per bench run: load, fault -> new command (KILL, STEP_DOWN) from report.md, clearance ->
command start from the agents' logs (clearance.py), and the start's own breakdown ("started" lines).
usage: summary.py OUT_DIR NAME...   (OUT_DIR/NAME.log, OUT_DIR/NAME/<stamp>/report.md)"""
import glob, os, re, subprocess, sys

out = sys.argv[1]
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
print("| run | build | load 1-min start → end | KILL fault → command p50 / max (n) | STEP_DOWN fault → command p50 / max (n) | step-down: old group empty → command p50 / p99 | cleared → command started, KILL: p50 / max (n) | cleared → started, STEP_DOWN: p50 / max (n) | in-JVM `start()` → running p50 / max (n=30) |")
print("|---|---|---|---|---|---|---|---|---|")
steps_all = {}
for name in sys.argv[2:]:
    log = open(os.path.join(out, name + ".log")).read()
    loads = re.findall(r"load average: ([0-9.]+)", log)
    rep = open(glob.glob(os.path.join(out, name, "*", "report.md"))[0]).read()
    def row(label):
        m = re.search(r"^\| " + re.escape(label) + r" \| (\d+) \| [^|]+ \| ([^|]+) \| [^|]+ \| [^|]+ \| ([^|]+) \|", rep, re.M)
        return f"{m.group(2).strip()} / {m.group(3).strip()} ({m.group(1)})" if m else "-"
    m = re.search(r"^\| quorumd step-down \(control socket request\) \| [^|]+ \| [^|]+ \| [^|]+ \| [^|]+ \| ([^|/]+/[^|]+) \|$", rep, re.M)
    sd_after = m.group(1).strip() if m else "-"
    m = re.search(r"`start\(\)` to running \(`exec sleep`\) \| (\d+) \| (\d+) \| (\d+) \|", rep)
    inj = f"{m.group(2)} / {m.group(3)}" if m else "-"
    d = re.search(r"agents' files in ([^)]*)", log).group(1)
    cl = {}
    for sc in ("kill", "step_down"):
        v = []
        for f in glob.glob(os.path.join(d, f"failover-{sc}-curve", "n*.log")):
            cleared = {}
            for line in open(f, errors="replace"):
                a = re.match(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*cleared to start the command in term (\d+) ", line)
                b = re.match(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*command .* started: pid/pgid \d+, term (\d+),", line)
                for x, is_c in ((a, True), (b, False)):
                    if not x: continue
                    t = ((int(x.group(1)) * 60 + int(x.group(2))) * 60 + int(x.group(3))) * 1000 + int(x.group(4))
                    if is_c: cleared[x.group(5)] = t
                    elif x.group(5) in cleared: v.append(t - cleared.pop(x.group(5)))
                m2 = re.search(r"\(in ([0-9.]+) ms: (.*)\)$", line.strip())
                if b and m2:
                    steps_all.setdefault(name, {}).setdefault(f"{sc}: total start() -> go", []).append(float(m2.group(1)))
                    for part in m2.group(2).split(", "):
                        k, val = part.rsplit(" ", 1)
                        steps_all.setdefault(name, {}).setdefault(k, []).append(float(val))
        cl[sc] = f"{pct(v, .5)} / {max(v)} ({len(v)})" if v else "-"
    build = {"base": "main 4bf5b6b", "new": "watchdog parked e6697db", "full": "pair parked cd30c88", "warm": "pair parked + JNA warm-up d0ae263", "post": "pair parked, parking after the event 6a37620", "late": "pair parked, parking 300 ms after a stop fa687ce"}[re.sub(r"\d+$", "", name)]
    print(f"| {name} | {build} | {loads[0]} → {loads[-1]} | {row('kill -9 of the master agent, not restarted')} | {row('quorumd step-down (control socket request)')} | {sd_after} | {cl['kill']} | {cl['step_down']} | {inj} |")
print()
for name, st in steps_all.items():
    print(f"{name} start breakdown (all starts, ms, p50 / max, n): " + "; ".join(f"{k} {pct(v, .5):.1f} / {max(v):.1f} ({len(v)})" for k, v in st.items()))

# pooled per group of builds: cleared -> command started (all starts in the failover scenarios)
pool = {}
for name in sys.argv[2:]:
    log = open(os.path.join(out, name + ".log")).read()
    d = re.search(r"agents' files in ([^)]*)", log).group(1)
    grp = "main" if name.startswith("base") else ("watchdog only" if name.startswith("new") else "pair parked")
    for sc in ("kill", "step_down"):
        for f in glob.glob(os.path.join(d, f"failover-{sc}-curve", "n*.log")):
            cleared = {}
            for line in open(f, errors="replace"):
                a = re.match(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*cleared to start the command in term (\d+) ", line)
                b = re.match(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*command .* started: pid/pgid \d+, term (\d+),", line)
                for x, is_c in ((a, True), (b, False)):
                    if not x: continue
                    t = ((int(x.group(1)) * 60 + int(x.group(2))) * 60 + int(x.group(3))) * 1000 + int(x.group(4))
                    if is_c: cleared[x.group(5)] = t
                    elif x.group(5) in cleared: pool.setdefault((grp, sc), []).append(t - cleared.pop(x.group(5)))
print()
for (grp, sc), v in sorted(pool.items()):
    print(f"pooled {grp} {sc}: cleared -> command started p50 {pct(v, .5)} ms, p90 {pct(v, .9)} ms, max {max(v)} ms, n={len(v)}")

# span.py FROM TO RUN_DIR...: p50 / max of milestone TO minus milestone FROM, per scenario
import json,sys,glob,math
def p50(v):
    v=sorted(v); return v[max(0,math.ceil(0.5*len(v))-1)] if v else float('nan')
a,b=sys.argv[1],sys.argv[2]; runs=sys.argv[3:]
for sc in ["STEP_DOWN","SIGTERM"]:
    row="%-10s %s->%s"%(sc,a,b)
    for r in runs:
        d=json.load(open((glob.glob('%s/samples.json'%r)+glob.glob('%s/*/samples.json'%r))[0]))
        v=[]
        for f in d['failover']:
            if f['scenario']!=sc: continue
            for s in f['samples']:
                m=s.get('milestones_ms') or {}
                if m.get(a) is not None and m.get(b) is not None: v.append(m[b]-m[a])
        row+="  %s: %.1f / %.0f (n%d)"%(r,p50(v),max(v) if v else float('nan'),len(v))
    print(row)

# steps.py RUN_DIR...: per-step p50 / max of the hand-over milestones (samples.json), runs side by side
import json,sys,glob,statistics
ORDER=["request","loop_stopping","stop_signal","leader_exited","group_empty","stop_recorded","handover_sent","handover_received","campaign","own_vote_persisted","voter_persisted","vote_received","elected","cleared","lease","start_issued","start_recorded","wrapper_ready","command_started","command_record"]
def p50(v):
    v=sorted(x for x in v if x is not None)
    if not v: return float('nan')
    import math
    return v[max(0,math.ceil(0.5*len(v))-1)]
def load(run):
    f=(glob.glob('%s/samples.json'%run)+glob.glob('%s/*/samples.json'%run))[0]
    return json.load(open(f))
runs=sys.argv[1:]
data={r:load(r) for r in runs}
for sc in ["STEP_DOWN","SIGTERM"]:
    print("==",sc)
    print("%-22s"%"metric"+"".join("%22s"%r for r in runs))
    def samples(r):
        for f in data[r]['failover']:
            if f['scenario']==sc: return [s for s in f['samples'] if s['ok']]
        return []
    for label,fn in [("total",lambda s:s['to_new_command_ms']),("after old empty",lambda s:s['to_new_command_ms']-s['to_old_group_empty_ms'])]:
        row="%-22s"%label
        for r in runs:
            v=[fn(s) for s in samples(r)]
            row+="%22s"%("%.0f / %.0f (n%d)"%(p50(v),max(v),len(v)) if v else "-")
        print(row)
    for i,k in enumerate(ORDER):
        row="%-22s"%k
        for r in runs:
            st=[]
            for s in samples(r):
                m=s.get('milestones_ms',{})
                v=m.get(k)
                if v is None: continue
                prev=0
                for j in range(i-1,-1,-1):
                    if m.get(ORDER[j]) is not None: prev=m[ORDER[j]];break
                st.append(v-prev)
            row+="%22s"%("%.1f / %.0f"%(p50(st),max(st)) if st else "-")
        print(row)
for r in runs: print(r, data[r].get('load_average_at_end'))

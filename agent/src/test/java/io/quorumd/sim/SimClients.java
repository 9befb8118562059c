package io.quorumd.sim;

import io.quorumd.lin.Call;
import io.quorumd.lin.History;
import io.quorumd.lin.Result;

import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The store's clients in a schedule (with {@link SimParams#kv}): each issues gets, puts,
 * compare-and-sets and deletes on a few keys, one at a time, to the agent of some host (as a
 * client of its control socket would; now and then one picks a host at random), and records each call's invocation and answer in virtual
 * real time in a {@link History}. A client that hears "not master" tries the master named, or
 * another host; a call not answered within its patience stays unknown, and the client goes on
 * under a new id (a {@link History} client is sequential). Drawn from its own random stream.
 */
final class SimClients {
    static final String[] KEYS = {"a", "b", "c"};

    private final Simulation sim;
    private final SplittableRandom r;
    final History history = new History();
    private final long patienceNanos;
    private final int[] clientId;
    private final int[] target;
    private int nextClientId;
    private long nextRequestId;
    private long values;
    long answered;
    long unknown;

    private record Pending(int slot, int op, Call call) {}

    private final TreeMap<Long, Pending> pending = new TreeMap<>();

    SimClients(Simulation sim, SplittableRandom r) {
        this.sim = sim;
        this.r = r;
        int k = sim.p.kvClients;
        clientId = new int[k];
        target = new int[k];
        for (int i = 0; i < k; i++) {
            clientId[i] = nextClientId++;
            target[i] = r.nextInt(sim.p.nodes);
        }
        // longer than the core's own bound (t) plus a round trip and a disk write: the core answers first
        patienceNanos = 3 * sim.p.timing.electionTimeoutNanos();
    }

    void start() {
        for (int i = 0; i < clientId.length; i++) {
            int slot = i;
            sim.q.at(sim.now() + r.nextLong(sim.p.timing.electionTimeoutNanos()), () -> issue(slot));
        }
    }

    private void issue(int slot) {
        if (sim.violation != null) return;
        String key = KEYS[r.nextInt(KEYS.length)];
        // the first two clients only read (monitors): a writer stuck at a master that lost its majority
        // waits out its time-out, a reader there goes on asking
        int x = slot < 2 ? 0 : r.nextInt(100);
        Call call;
        if (x < 50) call = new Call.Get(key);
        else if (x < 70) call = new Call.Put(key, "v" + (++values));
        else if (x < 88) call = new Call.Cas(key, r.nextInt(3) == 0 ? 0 : lastRevisionGuess(), "v" + (++values));
        else call = new Call.Delete(key, -1);
        int op = history.invoke(clientId[slot], sim.now(), call);
        long rid = ++nextRequestId;
        pending.put(rid, new Pending(slot, op, call));
        sim.q.at(sim.now() + patienceNanos, () -> giveUp(rid));
        // now and then a host at random rather than the master named: clients spread over the cluster
        // as they would behind a load balancer, so that two masters (an old one that has not noticed
        // yet) each get some of them
        if (r.nextInt(4) == 0) target[slot] = r.nextInt(sim.p.nodes);
        SimHost h = sim.hosts[target[slot]];
        SimAgent a = h.agent;
        if (a != null) h.post(a, y -> y.clientRequest(rid, call));
    }

    /** A revision a compare-and-set may hit: one recently handed out. */
    private long lastRevisionGuess() {
        return Math.max(1, revisionSeen - r.nextInt(3));
    }

    private long revisionSeen;

    /** The agent answered request {@code rid}; {@code master} is the master it named, or null. */
    void answer(long rid, Result result, String master) {
        Pending p = pending.remove(rid);
        if (p == null) return;   // the client gave up already
        history.respond(p.op, sim.now(), result);
        answered++;
        if (result instanceof Result.Written w) revisionSeen = Math.max(revisionSeen, w.revision());
        if (result instanceof Result.Found f) revisionSeen = Math.max(revisionSeen, f.modRevision());
        int m = sim.indexOf(master);
        if (m >= 0) target[p.slot] = m;
        else if (result instanceof Result.Unknown || result instanceof Result.NoEffect) target[p.slot] = r.nextInt(sim.p.nodes);
        if (result instanceof Result.Unknown) {
            unknown++;
            clientId[p.slot] = nextClientId++;
        }
        boolean failed = result instanceof Result.Unknown || result instanceof Result.NoEffect;
        next(p.slot, failed);
    }

    private void giveUp(long rid) {
        Pending p = pending.remove(rid);
        if (p == null) return;
        unknown++;
        clientId[p.slot] = nextClientId++;
        target[p.slot] = r.nextInt(sim.p.nodes);
        next(p.slot, true);
    }

    /** The next call after a short pause; after a failure (no master, not master) about a heartbeat. */
    private void next(int slot, boolean failed) {
        long hb = sim.p.timing.heartbeatNanos();
        long think = failed ? hb / 2 + r.nextLong(hb + 1) : r.nextLong(hb / 4 + 1);
        sim.q.at(sim.now() + think, () -> issue(slot));
    }
}

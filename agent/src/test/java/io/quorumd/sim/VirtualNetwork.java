package io.quorumd.sim;

import io.quorumd.core.Event;
import io.quorumd.core.Message;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Directed links with their own delay (minimum plus jitter, rare spikes: reordering follows),
 * loss (half of the lost frames are retransmitted by TCP 200, 400 or 800 ms later, the other half
 * die with their connection) and duplication; partitions drop frames (DROP) or refuse connections (REJECT, which the
 * sender's agent sees as {@link Event.PeerRefused}). A frame in flight when its link is cut is
 * lost. Keep-alives go to every peer (PUB/SUB); requests and answers to one.
 */
final class VirtualNetwork {
    static final int KEEPALIVE = 0;
    static final int REQUEST = 1;
    static final int RESPONSE = 2;
    /** Linux's minimum TCP retransmission timeout */
    static final long RTO_NANOS = 200 * SimParams.MS;

    /** A fault acting on a set of links until it ends. */
    static final class LinkFault {
        final long edges;
        final boolean block;
        final boolean reject;
        final double loss;
        final long extraDelayNanos;

        LinkFault(long edges, boolean block, boolean reject, double loss, long extraDelayNanos) {
            this.edges = edges;
            this.block = block;
            this.reject = reject;
            this.loss = loss;
            this.extraDelayNanos = extraDelayNanos;
        }
    }

    private final Simulation sim;
    private final SimParams p;
    private final int n;
    final boolean[] blocked;
    final boolean[] reject;
    private final double[] loss;
    private final long[] extraDelay;
    /** real time since which the link has been healthy (open, lossless, fast); MAX while it is not */
    final long[] goodSince;
    private final List<LinkFault> active = new ArrayList<>();
    private final List<List<Queued>> queuedForReconnect = new ArrayList<>();

    private record Queued(SimAgent from, int fromIndex, Message message) {}
    private double baseLoss;
    private boolean spikes = true;
    long sent;
    long dropped;

    VirtualNetwork(Simulation sim) {
        this.sim = sim;
        this.p = sim.p;
        this.n = p.nodes;
        blocked = new boolean[n * n];
        reject = new boolean[n * n];
        loss = new double[n * n];
        extraDelay = new long[n * n];
        goodSince = new long[n * n];
        Arrays.fill(goodSince, Long.MAX_VALUE);
        baseLoss = p.baseLoss;
        for (int i = 0; i < n; i++) queuedForReconnect.add(new ArrayList<>());
        recompute();
    }

    boolean open(int a, int b) {
        return !blocked[a * n + b];
    }

    void add(LinkFault f) {
        active.add(f);
        recompute();
        if (f.block && f.reject) {
            // a REJECT rule resets the connections it cuts: the sender sees a refusal, though the peer lives
            for (int a = 0; a < n; a++)
                for (int b = 0; b < n; b++)
                    if ((f.edges >>> (a * n + b) & 1) != 0) refuseSoon(a, b, sim.world.nextLong(p.timing.heartbeatNanos() + 1), true);
        }
    }

    void remove(LinkFault f) {
        if (active.remove(f)) recompute();
    }

    /** Every link as it was, and no loss or delay spikes from now on: the liveness phase. */
    void heal() {
        active.clear();
        baseLoss = 0;
        spikes = false;
        recompute();
    }

    private void recompute() {
        long now = sim.now();
        long hb = p.timing.heartbeatNanos();
        for (int e = 0; e < n * n; e++) {
            blocked[e] = false;
            reject[e] = false;
            loss[e] = baseLoss;
            extraDelay[e] = 0;
        }
        for (LinkFault f : active) {
            for (int e = 0; e < n * n; e++) {
                if ((f.edges >>> e & 1) == 0) continue;
                if (f.block) {
                    blocked[e] = true;
                    reject[e] |= f.reject;
                }
                loss[e] = Math.max(loss[e], f.loss);
                extraDelay[e] += f.extraDelayNanos;
            }
        }
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) {
                if (a == b) continue;
                int e = a * n + b;
                boolean good = !blocked[e] && loss[e] == 0 && (!spikes || p.spikeProb == 0)
                        && p.linkMinNanos[a][b] + p.linkJitterNanos[a][b] + extraDelay[e] <= hb / 2;
                if (!good) goodSince[e] = Long.MAX_VALUE;
                else if (goodSince[e] == Long.MAX_VALUE) goodSince[e] = now;
            }
        sim.checker.onTopologyChanged();
    }

    void publish(SimAgent from, Message.KeepAlive m) {
        int a = from.host.index;
        for (int b = 0; b < n; b++)
            if (b != a) transmit(from, a, b, m, KEEPALIVE);
    }

    void send(SimAgent from, int to, Message m, int kind) {
        transmit(from, from.host.index, to, m, kind);
    }

    private void transmit(SimAgent from, int a, int b, Message m, int kind) {
        int e = a * n + b;
        sent++;
        if (blocked[e]) {
            dropped++;
            if (reject[e] && kind == REQUEST) refuseSoon(a, b, 0, true);
            return;
        }
        long late = 0;
        if (loss[e] > 0 && sim.world.nextDouble() < loss[e]) {
            if (sim.world.nextBoolean()) {
                dropped++;
                return;
            }
            // TCP lost a segment and retransmits it after its timeout (200 ms, doubling): the frame is late
            late = RTO_NANOS << sim.world.nextInt(3);
        }
        schedule(from, a, b, m, kind, late);
        if (p.dupProb > 0 && sim.world.nextDouble() < p.dupProb) schedule(from, a, b, m, kind, 0);
    }

    private void schedule(SimAgent from, int a, int b, Message m, int kind, long late) {
        int e = a * n + b;
        long d = p.linkMinNanos[a][b] + extraDelay[e] + late;
        long j = p.linkJitterNanos[a][b];
        if (j > 0) d += sim.world.nextLong(j + 1);
        if (spikes && p.spikeProb > 0 && sim.world.nextDouble() < p.spikeProb) d += sim.world.nextLong(p.spikeMaxNanos + 1);
        sim.q.at(sim.now() + d, () -> arrive(from, a, b, m, kind));
    }

    private void arrive(SimAgent from, int a, int b, Message m, int kind) {
        if (blocked[a * n + b]) {
            dropped++;
            return;
        }
        SimHost h = sim.hosts[b];
        if (!h.up) return;
        SimAgent to = h.agent;
        if (to == null) {
            // the host answers with RST: its agent is gone
            if (kind == REQUEST && p.refusals) refuseSoon(a, b, 0, false);
            // ZeroMQ's REQ socket keeps the request queued and reconnects: if the agent is back before
            // the sender's Lazy Pirate deadline discards the socket, the request is delivered then
            if (kind == REQUEST) queuedForReconnect.get(b).add(new Queued(from, a, m));
            return;
        }
        if (kind == RESPONSE) h.post(to, x -> x.onResponse(m, a));
        else h.post(to, x -> x.deliver(new Event.Received(m)));
    }

    /**
     * {@code a}'s agent tries to connect to {@code b} after {@code attemptDelay} and is refused if
     * it still would be then (a REJECT rule on the link, or {@code b}'s agent down on a live host);
     * it learns so one round trip later.
     */
    private void refuseSoon(int a, int b, long attemptDelay, boolean byRule) {
        SimAgent who = sim.hosts[a].agent;
        if (who == null) return;
        String peer = p.ids[b];
        long rtt = p.linkMinNanos[a][b] + p.linkMinNanos[b][a];
        sim.q.at(sim.now() + attemptDelay, () -> {
            int e = a * n + b;
            boolean refused = byRule ? blocked[e] && reject[e] : !blocked[e] && sim.hosts[b].up && sim.hosts[b].agent == null;
            if (refused) sim.q.at(sim.now() + rtt, () -> who.host.post(who, x -> x.onRefused(peer)));
        });
    }

    /**
     * {@code from}'s agent tries a connection to {@code b}'s request port (a {@link io.quorumd.core.Effect.Probe}):
     * refused through a REJECT rule, or by {@code b}'s host when its agent is down (or shut down) and
     * the host answers with RST ({@link SimParams#refusals}); silence otherwise (a DROP rule, a host
     * that is down, or an agent that runs, paused or not: its socket accepts).
     */
    void probe(SimAgent from, int b) {
        int a = from.host.index;
        int e = a * n + b;
        if (blocked[e]) {
            if (reject[e]) refuseSoon(a, b, 0, true);
        } else if (p.refusals) {
            refuseSoon(a, b, 0, false);
        }
    }

    /** Requests waiting in their senders' REQ sockets for {@code b}'s agent to listen again. */
    void onAgentUp(SimHost h) {
        List<Queued> q = queuedForReconnect.get(h.index);
        List<Queued> due = new ArrayList<>(q);
        q.clear();
        for (Queued x : due) {
            long key = Simulation.requestId(x.message) * 16 + h.index;
            if (!x.from.alive || !x.from.isOutstanding(key) || blocked[x.fromIndex * n + h.index]) continue;
            schedule(x.from, x.fromIndex, h.index, x.message, REQUEST, 0);
        }
    }

    /**
     * An agent died on a host that still answers: its peers' SUB sockets reconnect (ZeroMQ tries
     * every 100 ms) and are refused.
     */
    void onAgentDown(SimHost h) {
        if (!p.refusals || !h.up) return;
        int b = h.index;
        for (int a = 0; a < n; a++) {
            if (a == b || blocked[a * n + b] || sim.hosts[a].agent == null) continue;
            if (sim.world.nextDouble() < p.refusalProb) refuseSoon(a, b, sim.world.nextLong(100 * SimParams.MS), false);
        }
    }
}

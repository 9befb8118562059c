package io.quorumd.core;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One node of {n0, n1, n2} driven message by message for the tests of the core's parts (t = 1000
 * ms, heartbeat 100 ms); every persist is acknowledged at once unless {@link #slowDisk} is set.
 */
final class OneNode {
    static final long MS = Timing.MS;
    static final List<Peer> PEERS = List.of(new Peer("n0", 100), new Peer("n1", 100), new Peer("n2", 100));

    final Node node;
    final List<Effect> out = new ArrayList<>();
    long now;
    boolean slowDisk;

    OneNode(String self, long bootAtNanos) {
        this(new Node(config(self), TermState.INITIAL, 7, new Proof(Proof.Kind.CERTIFICATE, self, 0, true),
                new SplittableRandom(1), bootAtNanos), bootAtNanos);
    }

    /** Drives {@code node} (booted at {@code bootAtNanos}), for a test that overrides one of its seams. */
    OneNode(Node node, long bootAtNanos) {
        this.node = node;
        now = bootAtNanos;
    }

    /** The configuration {@link #OneNode(String, long)} gives {@code self}: n0, n1, n2, no fence. */
    static NodeConfig config(String self) {
        return new NodeConfig(new Peers(self, PEERS), NodeScenarioTest.TIMING, false);
    }

    /** Handles {@code e} at {@code now}; returns this event's effects (persists acknowledged at once). */
    List<Effect> handle(Event e) {
        List<Effect> fx = new ArrayList<>(node.handle(e, now));
        for (int i = 0; i < fx.size(); i++) {
            if (!slowDisk && fx.get(i) instanceof Effect.Persist p) fx.addAll(node.handle(new Event.Persisted(p.seq()), now));
        }
        out.addAll(fx);
        return fx;
    }

    List<Effect> at(long ms, Event e) {
        now = ms * MS;
        return handle(e);
    }

    List<Effect> receive(Message m) {
        return handle(new Event.Received(m));
    }

    static Message.KeepAlive masterKeepAlive(String from, long term, long sentAt) {
        return new Message.KeepAlive(from, term, 5, sentAt, from, -1, 0, true, null, 0, 0);
    }

    static Message.KeepAlive followerKeepAlive(String from, long term, String master, long echo) {
        return new Message.KeepAlive(from, term, 5, 0, master, echo, 0, false, null, 0, 0);
    }

    static Message.VoteResponse grant(String from, long term, long requestId, boolean preVote) {
        return new Message.VoteResponse(from, term, 5, requestId, preVote, true, "", -1, MasterReport.NONE);
    }

    /** The id of the newest vote request this node sent (pre-vote or real). */
    long lastRequestId(boolean preVote) {
        long id = -1;
        for (Effect e : out)
            if (e instanceof Effect.Request r && r.message() instanceof Message.VoteRequest v && v.preVote() == preVote)
                id = v.requestId();
        if (id < 0) throw new AssertionError("no " + (preVote ? "pre-vote" : "vote") + " request in " + out);
        return id;
    }

    /** Runs the election to master: pre-vote at the election timeout, then n1's grants. */
    void electMaster() {
        at(2500, new Event.Tick());
        receive(grant("n1", node.term() + 1, lastRequestId(true), true));
        receive(grant("n1", node.term(), lastRequestId(false), false));
        if (node.role() != Role.MASTER) throw new AssertionError("not elected: " + out);
    }

    static <T> List<T> only(List<Effect> fx, Class<T> type) {
        List<T> r = new ArrayList<>();
        for (Effect e : fx) if (type.isInstance(e)) r.add(type.cast(e));
        return r;
    }
}

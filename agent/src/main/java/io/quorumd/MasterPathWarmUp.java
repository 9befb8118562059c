package io.quorumd;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.MasterReport;
import io.quorumd.core.Message;
import io.quorumd.core.Node;
import io.quorumd.core.NodeConfig;
import io.quorumd.core.Proof;
import io.quorumd.core.Role;
import io.quorumd.core.TermState;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Rehearses a hand-over on a scratch {@link Node} (the core is pure: no I/O, no clock, nothing
 * shared with the agent's own node): it follows a master, is handed over to, campaigns, wins,
 * is cleared by the hand-over, gets its lease from the echoes and starts its command, then steps
 * down and hands over in turn. The effects go nowhere. What it leaves behind is a JVM that has
 * loaded, linked and run that code once: the first election a JVM wins otherwise pays for it on
 * the fail-over's critical path (bench, issue 12: the winning vote's {@code Node.handle} took
 * 16-48 ms in a JVM that had never been master, against well under 1 ms once warm; a SIGTERM'd
 * master's successor is often such a JVM).
 */
final class MasterPathWarmUp {
    private static final long MS = 1_000_000L;

    /** The milestones the rehearsal reached, in order (for the test; the agent logs the time only). */
    enum Step { FOLLOWING, CANDIDATE, MASTER, COMMAND_STARTED, COMMAND_STOP_ASKED, HANDED_OVER }

    private final Node node;
    private final String self;
    private final List<String> others;
    private final Set<Step> reached = new LinkedHashSet<>();
    private long now;
    private final List<Effect> last = new ArrayList<>();

    private MasterPathWarmUp(NodeConfig config) {
        this.self = config.peers().self();
        this.others = config.peers().others();
        this.now = 1_000 * MS;
        this.node = new Node(config, TermState.INITIAL, 1, null, new SplittableRandom(1), now);
    }

    /** Runs the rehearsal for a node of {@code config}'s cluster; returns the steps reached. */
    static Set<Step> run(NodeConfig config) {
        MasterPathWarmUp w = new MasterPathWarmUp(config);
        if (w.others.isEmpty()) return w.reached;   // a one-node cluster has no hand-over to rehearse
        w.rehearse();
        return w.reached;
    }

    private void rehearse() {
        String old = others.get(0);
        long oldBoot = 2;
        // an old master of term 1, followed
        at(10, new Event.Received(new Message.KeepAlive(old, 1, oldBoot, now, old, -1, 0, true, null, 0, 0)));
        if (node.role() == Role.FOLLOWER) reached.add(Step.FOLLOWING);
        // its hand-over: campaign in term 2
        at(20, new Event.Received(new Message.HandOver(old, 1, oldBoot, 9, self, new Proof(Proof.Kind.HANDOVER, old, 1, true))));
        if (node.role() != Role.CANDIDATE) return;
        reached.add(Step.CANDIDATE);
        long term = node.term();
        MasterReport report = new MasterReport(old, 1, true, 20 * MS, false);
        for (Effect e : List.copyOf(last)) {
            if (e instanceof Effect.Request r && r.message() instanceof Message.VoteRequest v && !v.preVote()) {
                at(5, new Event.Received(new Message.VoteResponse(r.to(), term, 3, v.requestId(), false, true, "",
                        v.sentAtNanos(), report)));
            }
        }
        if (node.role() != Role.MASTER) return;
        reached.add(Step.MASTER);
        // the followers echo its keep-alives: the lease, then the command
        long sent = -1;
        for (Effect e : last) if (e instanceof Effect.Publish p) sent = p.keepAlive().sentAtNanos();
        for (int round = 0; round < 3 && !reached.contains(Step.COMMAND_STARTED); round++) {
            if (sent < 0) {
                at(100, new Event.Tick());
                for (Effect e : last) if (e instanceof Effect.Publish p) sent = p.keepAlive().sentAtNanos();
                continue;
            }
            for (String f : others) {
                at(1, new Event.Received(new Message.KeepAlive(f, term, 3, now, self, sent, 0, false, null, 0, 0)));
                if (seen(Effect.StartCommand.class)) reached.add(Step.COMMAND_STARTED);
            }
            sent = -1;
        }
        if (!reached.contains(Step.COMMAND_STARTED)) return;
        // and it steps down: the command stops, then the hand-over
        at(10, new Event.StepDownRequested(null));
        if (seen(Effect.StopCommand.class)) reached.add(Step.COMMAND_STOP_ASKED);
        at(10, new Event.CommandStopped(term));
        for (Effect e : last) if (e instanceof Effect.Request r && r.message() instanceof Message.HandOver) reached.add(Step.HANDED_OVER);
    }

    private boolean seen(Class<? extends Effect> type) {
        for (Effect e : last) if (type.isInstance(e)) return true;
        return false;
    }

    /** Handles {@code e} {@code ms} after the previous event; every term-and-vote write is acknowledged at once. */
    private void at(long ms, Event e) {
        now += ms * MS;
        last.clear();
        List<Effect> fx = new ArrayList<>(node.handle(e, now));
        for (int i = 0; i < fx.size(); i++) {
            if (fx.get(i) instanceof Effect.Persist p) fx.addAll(node.handle(new Event.Persisted(p.seq()), now));
        }
        last.addAll(fx);
    }
}

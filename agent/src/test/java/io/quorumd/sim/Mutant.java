package io.quorumd.sim;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.Node;
import io.quorumd.core.NodeConfig;
import io.quorumd.core.NodeView;
import io.quorumd.core.Proof;
import io.quorumd.core.Role;
import io.quorumd.core.TermState;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A deliberately broken variant of the node or of its world, to prove the checker catches what it
 * claims to: every mutant must produce violations. Mutants live here, in test sources, never as
 * flags in shipped code.
 */
final class Mutant {
    /** Builds the node of one agent run; a mutant returns a subclass of {@link Node}. */
    interface NodeFactory {
        Node create(NodeConfig config, TermState durable, long bootId, Proof certificate, RandomGenerator random,
                    long nowNanos);
    }

    static final List<String> NAMES = List.of("none", "no-handover-wait", "forget-vote", "no-stickiness");

    final String name;
    final NodeFactory factory;
    /** the simulated disk loses votedFor when the agent restarts (a storage model change) */
    final boolean forgetVote;

    private Mutant(String name, NodeFactory factory, boolean forgetVote) {
        this.name = name;
        this.factory = factory;
        this.forgetVote = forgetVote;
    }

    static Mutant none() {
        return new Mutant("none", Node::new, false);
    }

    static Mutant byName(String name) {
        switch (name) {
            case "none":
                return none();
            case "no-handover-wait":
                return new Mutant(name, NoHandoverWaitNode::new, false);
            case "forget-vote":
                return new Mutant(name, Node::new, true);
            case "no-stickiness":
                return new Mutant(name, NoStickinessNode::new, false);
            default:
                throw new IllegalArgumentException("unknown mutant '" + name + "': use one of " + NAMES);
        }
    }

    /**
     * Starts its command the moment it becomes master, without proof and without waiting for the
     * old lease plus stop_timeout. Needs no hook in {@link Node}: it adds the StartCommand the real
     * node would have delayed (the simulated supervisor ignores the later, duplicate one).
     */
    static final class NoHandoverWaitNode extends Node {
        NoHandoverWaitNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        public List<Effect> handle(Event event, long nowNanos) {
            List<Effect> effects = super.handle(event, nowNanos);
            for (Effect e : effects) {
                if (e instanceof Effect.RoleChanged rc && rc.role() == Role.MASTER) {
                    NodeView v = view(nowNanos);
                    long leaseEnd = v != null && v.leaseEndNanos() > nowNanos ? v.leaseEndNanos()
                            : nowNanos + config.timing().leaseNanos();
                    List<Effect> out = new ArrayList<>(effects);
                    out.add(new Effect.StartCommand(rc.term(), config.peers().self(), leaseEnd));
                    return out;
                }
            }
            return effects;
        }
    }

    /**
     * Never sticky when asked for a vote: every incoming vote request is shown to the real node as
     * if it carried the hand-over of the master this node follows, which is the one thing that
     * lets a sticky voter grant. (With a {@code protected boolean isSticky(long)} hook in
     * {@link Node}, this becomes a one-line override.)
     */
    static final class NoStickinessNode extends Node {
        NoStickinessNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        public List<Effect> handle(Event event, long nowNanos) {
            if (event instanceof Event.Received rcv && rcv.message() instanceof io.quorumd.core.Message.VoteRequest v
                    && v.transfer() == null) {
                NodeView view = view(nowNanos);
                if (view != null && view.master() != null && !view.master().equals(v.from())) {
                    Proof forged = new Proof(Proof.Kind.HANDOVER, view.master(), view.term(), false);
                    event = new Event.Received(new io.quorumd.core.Message.VoteRequest(v.from(), v.term(), v.bootId(),
                            v.requestId(), v.preVote(), v.sentAtNanos(), v.lastLogTerm(), v.lastLogIndex(), forged));
                }
            }
            return super.handle(event, nowNanos);
        }
    }
}

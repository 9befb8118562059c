package io.quorumd.sim;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.Node;
import io.quorumd.core.NodeConfig;
import io.quorumd.core.Proof;
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

    static final List<String> NAMES = List.of("none", "no-handover-wait", "forget-vote", "no-stickiness",
            "send-before-persist", "long-lease", "stale-token", "no-stop-wait", "eager-certificate", "ignore-fence",
            "commit-without-majority", "read-without-confirmation", "ack-before-persist", "forget-log-tail",
            "ignore-log-up-to-date", "compact-uncommitted", "ack-snapshot-before-durable");

    /** The rules each mutant must break (what the checker must catch it by). */
    static java.util.Set<String> signature(String name) {
        switch (name) {
            case "no-handover-wait":
                return java.util.Set.of("exclusive command");
            case "forget-vote":
                return java.util.Set.of("one vote per term", "election safety");
            case "no-stickiness":
                return java.util.Set.of("stickiness");
            case "send-before-persist":
                return java.util.Set.of("persist-before-send");
            case "long-lease":
                return java.util.Set.of("step down");
            case "stale-token":
                return java.util.Set.of("fencing token");
            case "no-stop-wait":
                return java.util.Set.of("command permission");
            case "eager-certificate":
                return java.util.Set.of("exclusive command");
            case "ignore-fence":
                return java.util.Set.of("self-fence required");
            case "commit-without-majority":
                return java.util.Set.of("commit durability", "linearizability");
            case "read-without-confirmation":
                return java.util.Set.of("linearizability");
            case "ack-before-persist":
                return java.util.Set.of("log persist-before-ack", "commit durability", "linearizability");
            case "forget-log-tail":
                return java.util.Set.of("commit durability", "state machine safety", "linearizability");
            case "ignore-log-up-to-date":
                // "core exception": the log's own always-on check (a master contradicts a committed entry)
                return java.util.Set.of("commit durability", "state machine safety", "linearizability", "core exception");
            case "compact-uncommitted":
                // the log's always-on check refuses to compact past the commit index
                return java.util.Set.of("core exception", "state machine safety", "linearizability");
            case "ack-snapshot-before-durable":
                return java.util.Set.of("log persist-before-ack");
            default:
                return java.util.Set.of();
        }
    }

    final String name;
    final NodeFactory factory;
    /**
     * the simulated disk loses votedFor when the agent restarts (a storage model change). Its world
     * never answers the core's probes (hosts that drop rather than refuse, as in the schedules
     * without {@link SimParams#refusals}): since the core probes a silent master itself (e354c6b),
     * a refused probe ends stickiness early and the one schedule of seeds 1-50,000 that caught
     * this mutant (10747: a rival candidate's request of the same term reaching the restarted
     * voter after its first t) no longer races; with probes unanswered it does, as before. A
     * schedule that catches it with probes answered is still to be found.
     */
    final boolean forgetVote;
    /**
     * whether the schedules run the replicated store: the election mutants keep the schedules they
     * were proven on (store off, as before it existed), the log mutants need it on; null: drawn
     * from the seed ({@link SimParams#kv})
     */
    Boolean kv;
    /** the simulated disk loses this many entries of the log's tail when the agent restarts (0: none) */
    int forgetLogTail;
    /** the world leaves every probe unanswered (see {@link #forgetVote}) */
    final boolean silentProbes;
    /** the supervisor hands every command the QUORUMD_TERM of the first one it recorded on this host */
    final boolean staleToken;
    /** a restarted agent offers its restart certificate although its old command group still runs */
    final boolean eagerCertificate;

    private Mutant(String name, NodeFactory factory, boolean forgetVote) {
        this(name, factory, forgetVote, false, false);
    }

    private Mutant(String name, NodeFactory factory, boolean forgetVote, boolean staleToken, boolean eagerCertificate) {
        this.name = name;
        this.factory = factory;
        this.forgetVote = forgetVote;
        this.silentProbes = forgetVote;
        this.staleToken = staleToken;
        this.eagerCertificate = eagerCertificate;
    }

    static Mutant none() {
        return new Mutant("none", Node::new, false);
    }

    /** A node of the test's own making (for the tests of the simulator itself), with the real world. */
    static Mutant ofNode(String name, NodeFactory factory) {
        return new Mutant(name, factory, false);
    }

    static Mutant byName(String name) {
        Mutant m = make(name);
        if (!name.equals("none")) m.kv = LOG_MUTANTS.contains(name);
        return m;
    }

    /** The mutants of the replicated log: their schedules run the store. */
    static final java.util.Set<String> LOG_MUTANTS = java.util.Set.of("commit-without-majority",
            "read-without-confirmation", "ack-before-persist", "forget-log-tail", "ignore-log-up-to-date",
            "compact-uncommitted", "ack-snapshot-before-durable");

    /** The correct node in the same world as {@code m} (store on or off alike): the control run of a mutant's seed. */
    static Mutant baseFor(Mutant m) {
        Mutant b = none();
        b.kv = m.kv;
        return b;
    }

    private static Mutant make(String name) {
        switch (name) {
            case "none":
                return none();
            case "no-handover-wait":
                return new Mutant(name, NoHandoverWaitNode::new, false);
            case "forget-vote":
                return new Mutant(name, Node::new, true);
            case "no-stickiness":
                return new Mutant(name, NoStickinessNode::new, false);
            case "send-before-persist":
                return new Mutant(name, SendBeforePersistNode::new, false);
            case "long-lease":
                return new Mutant(name, LongLeaseNode::new, false);
            case "stale-token":
                return new Mutant(name, Node::new, false, true, false);
            case "no-stop-wait":
                return new Mutant(name, NoStopWaitNode::new, false);
            case "eager-certificate":
                return new Mutant(name, Node::new, false, false, true);
            case "ignore-fence":
                return new Mutant(name, IgnoreFenceNode::new, false);
            case "commit-without-majority":
                return new Mutant(name, CommitAloneNode::new, false);
            case "read-without-confirmation":
                return new Mutant(name, UnconfirmedReadNode::new, false);
            case "ack-before-persist":
                return new Mutant(name, AckBeforePersistNode::new, false);
            case "forget-log-tail": {
                Mutant m = new Mutant(name, Node::new, false);
                m.forgetLogTail = 3;
                return m;
            }
            case "ignore-log-up-to-date":
                return new Mutant(name, IgnoreLogNode::new, false);
            case "compact-uncommitted":
                return new Mutant(name, CompactUncommittedNode::new, false);
            case "ack-snapshot-before-durable":
                return new Mutant(name, EarlySnapshotAckNode::new, false);
            default:
                throw new IllegalArgumentException("unknown mutant '" + name + "': use one of " + NAMES);
        }
    }

    /**
     * Starts its command the moment it becomes master: the wait for the old lease plus
     * stop_timeout is gone (proofs still clear it too, which changes nothing).
     */
    static final class NoHandoverWaitNode extends Node {
        NoHandoverWaitNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected long clearance(long nowNanos) {
            return nowNanos;
        }
    }

    /** Never sticky: grants (pre-)votes and campaigns even while it hears a live master. */
    static final class NoStickinessNode extends Node {
        NoStickinessNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected boolean isSticky(long nowNanos) {
            return false;
        }
    }

    /**
     * Lets every message out at once, also those the real node holds until its term or vote is on
     * disk (they still go out again when the core releases them).
     */
    static final class SendBeforePersistNode extends Node {
        private final List<Effect> early = new ArrayList<>();

        SendBeforePersistNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected void send(Effect e) {
            early.add(e);
            super.send(e);
        }

        @Override
        public List<Effect> handle(Event event, long nowNanos) {
            early.clear();
            List<Effect> out = super.handle(event, nowNanos);
            List<Effect> all = new ArrayList<>(out);
            for (Effect e : early) if (!out.contains(e)) all.add(e);
            return all;
        }
    }

    /** Holds its lease for two election timeouts instead of t(1-ρ)/(1+ρ): it steps down too late. */
    static final class LongLeaseNode extends Node {
        LongLeaseNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected long leaseNanos() {
            return 2 * timing.electionTimeoutNanos();
        }
    }

    /**
     * Without proof, waits only for the old lease, not the old lease plus stop_timeout: it starts
     * while the old command may still be stopping (its watchdog's SIGKILL is still to come).
     */
    static final class NoStopWaitNode extends Node {
        NoStopWaitNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected long clearance(long nowNanos) {
            return Math.max(nowNanos, super.clearance(nowNanos) - timing.stopWaitNanos());
        }
    }

    /** Ignores {@code self_fence.mode: required}: a FenceEligibility is handled as a mere tick. */
    static final class IgnoreFenceNode extends Node {
        IgnoreFenceNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        public List<Effect> handle(Event event, long nowNanos) {
            return super.handle(event instanceof Event.FenceEligibility ? new Event.Tick() : event, nowNanos);
        }
    }

    /** Commits what its own disk holds: the followers' match indexes are not counted. */
    static final class CommitAloneNode extends Node {
        CommitAloneNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected long[] commitVotes(long[] matchIndexes) {
            return new long[] {matchIndexes[0]};
        }
    }

    /** Serves a read as soon as its index is applied, without a majority confirming it is still master. */
    static final class UnconfirmedReadNode extends Node {
        UnconfirmedReadNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected boolean readConfirmed(boolean byMajority) {
            return true;
        }
    }

    /** Acknowledges (and, as master, counts) entries before its disk holds them. */
    static final class AckBeforePersistNode extends Node {
        AckBeforePersistNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected long ackableIndex(long durableIndex, long lastIndex) {
            return lastIndex;
        }
    }

    /** Votes for a candidate whatever its log: Raft's election restriction is gone. */
    static final class IgnoreLogNode extends Node {
        IgnoreLogNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected boolean candidateLogBehind(long candidateLastTerm, long candidateLastIndex) {
            return false;
        }
    }

    /**
     * Snapshots up to its last index, not its last applied one: the snapshot is labelled with
     * entries that are not committed (nor applied), and compacting to it throws.
     */
    static final class CompactUncommittedNode extends Node {
        CompactUncommittedNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected long snapshotIndex(long lastApplied, long lastIndex) {
            return lastIndex;
        }
    }

    /** Answers a snapshot's last chunk as installed at once, before its disk holds the snapshot. */
    static final class EarlySnapshotAckNode extends Node {
        EarlySnapshotAckNode(NodeConfig c, TermState s, long bootId, Proof cert, RandomGenerator r, long now) {
            super(c, s, bootId, cert, r, now);
        }

        @Override
        protected boolean snapshotInstalledOnLastChunk() {
            return true;
        }
    }
}

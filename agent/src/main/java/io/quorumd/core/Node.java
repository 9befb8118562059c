package io.quorumd.core;

import io.quorumd.core.Message.Append;
import io.quorumd.core.Message.AppendAck;
import io.quorumd.core.Message.HandOver;
import io.quorumd.core.Message.HandOverAck;
import io.quorumd.core.Message.InstallSnapshot;
import io.quorumd.core.Message.InstallSnapshotAck;
import io.quorumd.core.Message.KeepAlive;
import io.quorumd.core.Message.Preempt;
import io.quorumd.core.Message.VoteRequest;
import io.quorumd.core.Message.VoteResponse;
import io.quorumd.log.RaftLog;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * The election, lease and command-permission state machine of one node: the dispatcher.
 *
 * <p>Reads like etcd's {@code Step}: every message first passes the {@link TermGate}, then the
 * voter ({@link Voter}, which every role is), the hand-overs ({@link HandOvers}) or the handler of
 * the current role ({@link FollowerRole}, {@link CandidateRole}, {@link MasterRole}). The role
 * handler is the role's state: a new one on every role change, the old one dropped with all it
 * held. {@link Campaign} takes a follower or candidate to master. The pure parts ({@link Outbox},
 * {@link Lease}, {@link ClearanceJudge}, {@link HandOverPlan}, {@link MasterKnowledge},
 * {@link PeerTable}) each have one job. {@link Replication} keeps the replicated log (with
 * {@link Leadership} while master); with {@link NodeConfig#replication()} off it does nothing. A broken invariant throws (always on, not {@code assert}),
 * with the values in its message; the simulator reports it as a violation with its seed. Time
 * comes in as {@code nowNanos} (the local monotonic clock), randomness from the
 * {@link RandomGenerator} given at construction; nothing else is read.
 *
 * <p>Safety rests on three rules, each in one method:
 * <ul>
 *   <li>{@link #isSticky}: a node that heard a live master less than {@code t} ago neither votes nor
 *       campaigns, so a master's lease ({@link #updateLease}) ends before anybody else can win;</li>
 *   <li>{@link #clearance}: a new master starts its command only with proof that the old one is gone,
 *       or once the old lease plus {@code stop_timeout} has surely passed;</li>
 *   <li>{@link #send}: nothing that relies on a new term or vote leaves before it is persisted.</li>
 * </ul>
 * The protected methods are the seams the simulator's mutants override to prove the checker can fail.
 */
public class Node {
    /** Slack added to the new master's wait for the watchdog's timer granularity and kill latency. */
    public static final long WATCHDOG_SLACK_NANOS = 25 * Timing.MS;

    protected final NodeConfig config;
    protected final Peers peers;
    protected final Timing timing;
    protected final RandomGenerator random;
    protected final String self;
    protected final long bootId;

    // --- durable state and the outbox held back until it is on disk ---
    TermState state;
    final Outbox outbox = new Outbox();

    // --- the role: its handler owns what exists only while the role does ---
    private RoleHandler current;
    String master;                    // the master followed in this term (self when master)
    long electionDeadlineNanos;       // a follower's or candidate's; a master has none
    private long requestCounter;
    /** What this node knows only for its current term (its vote's time, the master's newest echo). */
    ThisTerm thisTerm = new ThisTerm();

    // --- what this node knows of the newest master, of its peers, and the proofs offered ---
    final MasterKnowledge knowledge;
    final PeerTable peerTable;
    private final SilenceProbe probe;
    final Map<String, Proof> proofs = new TreeMap<>();   // newest proof offered by each node

    // --- the command, as far as the core knows it ---
    boolean commandActive;            // StartCommand sent, CommandStopped not yet seen
    long commandTerm;
    Proof offeredProof;               // proof this node offers about its own old command
    boolean gaveUp;
    long noCampaignUntilNanos = -1;
    /** Why the self-fence device required to campaign is unusable ({@link Event.FenceEligibility}), or null. */
    String fenceProblem;

    // --- the parts that act for every role ---
    final TermGate termGate = new TermGate(this);
    final Voter voter = new Voter(this);
    final Campaign campaign = new Campaign(this);
    final HandOvers handOvers = new HandOvers(this);
    final KeepAlives keepAlives = new KeepAlives(this);
    final Preemption preemption = new Preemption(this);
    final Replication replication;

    /**
     * @param durable     the persisted term and vote
     * @param bootId      random per agent run
     * @param certificate this node's restart certificate (its previous run's command group is gone),
     *                    or null
     */
    public Node(NodeConfig config, TermState durable, long bootId, Proof certificate,
                RandomGenerator random, long nowNanos) {
        this.config = config;
        this.peers = config.peers();
        this.timing = config.timing();
        this.random = random;
        this.self = peers.self();
        this.bootId = bootId;
        this.knowledge = new MasterKnowledge(timing.electionTimeoutNanos(), nowNanos,
                timing.electionTimeoutNanos() + timing.stopWaitNanos() + WATCHDOG_SLACK_NANOS);
        this.state = durable;
        if (certificate != null) {
            if (certificate.kind() != Proof.Kind.CERTIFICATE || !certificate.node().equals(self))
                throw new IllegalArgumentException("a restart certificate must be this node's: " + certificate);
            this.offeredProof = certificate;
            this.proofs.put(self, certificate);
        }
        this.replication = new Replication(this);
        this.peerTable = new PeerTable(peers.others(), timing.electionTimeoutNanos());
        this.probe = new SilenceProbe(timing.heartbeatNanos());
        this.current = new FollowerRole(this);
        this.requestCounter = (random.nextLong() & 0x7fff_ffffL) << 20;
        this.keepAlives.nextNanos = nowNanos;
        this.electionDeadlineNanos = nowNanos + electionTimeout();
    }

    /**
     * The durable log as storage recovered it ({@code SnapshotStore.load}, then {@code LogStorage.open});
     * only before the first event. Without it the log starts empty.
     */
    public void recoverLog(RaftLog log) {
        replication.recover(log);
    }

    /** When this node snapshots its state machine ({@link SnapshotPolicy#DEFAULT} unless set); only before the first event. */
    public void snapshotPolicy(SnapshotPolicy policy) {
        replication.policy = java.util.Objects.requireNonNull(policy, "policy");
    }

    /** Snapshots taken (and the log compacted) and snapshots installed from a master, by this agent run. */
    public long snapshotsTaken() { return replication.snapshotsTaken; }

    public long snapshotsInstalled() { return replication.snapshotsInstalled; }

    public String id() { return self; }

    public long bootId() { return bootId; }

    public Role role() { return current.role(); }

    public long term() { return state.term(); }

    RoleHandler current() { return current; }

    /** The follower role; only called where this node surely is one. */
    FollowerRole follower() {
        if (current instanceof FollowerRole f) return f;
        throw new IllegalStateException("expected a follower, but " + self + " is " + role() + " in term " + state.term());
    }

    /** The master's state, or null when not master. */
    MasterState mastership() {
        return current instanceof MasterRole m ? m.ms : null;
    }

    // =====================================================================================
    // Entry point
    // =====================================================================================

    /** Handles one event at local time {@code nowNanos}; returns the effects to apply, in order. */
    public List<Effect> handle(Event event, long nowNanos) {
        outbox.begin();
        if (event instanceof Event.Tick) {
            // time only
        } else if (event instanceof Event.Received r) {
            receive(r.message(), nowNanos);
        } else if (event instanceof Event.Persisted p) {
            onPersisted(p.seq(), nowNanos);
        } else if (event instanceof Event.PersistFailed f) {
            onPersistFailed(f, nowNanos);
        } else if (event instanceof Event.CommandStopped c) {
            handOvers.onCommandStopped(c.term(), nowNanos);
        } else if (event instanceof Event.CommandGaveUp g) {
            handOvers.onCommandGaveUp(g, nowNanos);
        } else if (event instanceof Event.FenceResult f) {
            if (current instanceof MasterRole m) m.onFenceResult(f, nowNanos);
        } else if (event instanceof Event.StepDownRequested s) {
            handOvers.onStepDownRequested(s, nowNanos);
        } else if (event instanceof Event.ShutdownRequested) {
            handOvers.onShutdown(nowNanos);
        } else if (event instanceof Event.PeerRefused p) {
            campaign.onPeerRefused(p.peer(), nowNanos);
        } else if (event instanceof Event.RequestFailed f) {
            handOvers.onRequestFailed(f, nowNanos);
            replication.onRequestFailed(f);
        } else if (event instanceof Event.FenceEligibility f) {
            onFenceEligibility(f, nowNanos);
        } else if (event instanceof Event.LogPersisted p) {
            replication.onLogPersisted(p.seq(), nowNanos);
        } else if (event instanceof Event.ClientWrite w) {
            replication.onClientWrite(w, nowNanos);
        } else if (event instanceof Event.ClientRead r) {
            replication.onClientRead(r, nowNanos);
        } else if (event instanceof Event.LogPersistFailed f) {
            replication.onLogPersistFailed(f, nowNanos);
        } else if (event instanceof Event.SnapshotTaken t) {
            replication.onSnapshotTaken(t);
        } else if (event instanceof Event.SnapshotReceived r) {
            replication.onSnapshotReceived(r);
        } else if (event instanceof Event.SnapshotFailed f) {
            replication.onSnapshotFailed(f);
        } else {
            throw new IllegalArgumentException("unhandled event " + event);
        }
        onTime(nowNanos);
        replication.afterEvent(nowNanos);
        handOvers.answerStepDowns();
        probeSilentMaster(nowNanos);
        checkInvariants();
        return outbox.effects();
    }

    /** A follower whose master fell silent asks whether its agent is gone (see {@link SilenceProbe}). */
    private void probeSilentMaster(long now) {
        if (!(current instanceof FollowerRole) || master == null) return;
        long heardAt = masterHeardAtNanos();
        if (probe.due(heardAt < 0 ? -1 : now - heardAt, now)) emit(new Effect.Probe(master));
    }

    /**
     * When the master this follower follows last sent a keep-alive that arrived (stickiness counts
     * from the same moment): every follower heard it at about the same time, so they all probe
     * together. Other frames of the master (a late reply, a vote request a restarted peer's socket
     * had queued) do not move it; they would make one follower probe, find the refusal and
     * campaign later than the others, out of priority's order.
     */
    private long masterHeardAtNanos() {
        return master.equals(knowledge.master) && knowledge.lastLiveNanos >= 0 ? knowledge.lastLiveNanos
                : peerTable.heardAtNanos(master);
    }

    /** Always on: a master follows itself and nobody else does; anything else is a bug in the core. */
    private void checkInvariants() {
        if ((current instanceof MasterRole) != self.equals(master))
            throw new IllegalStateException(self + " is " + role() + " in term " + state.term() + " but follows master "
                    + master);
    }

    /** The local time at which {@link #handle} should next be called with a {@link Event.Tick}. */
    public long nextDeadlineNanos() {
        long d = current.nextDeadline(keepAlives.nextNanos);
        if (outbox.retryAtNanos() >= 0) d = Math.min(d, outbox.retryAtNanos());
        if (current instanceof FollowerRole && master != null) d = Math.min(d, probe.nextDueNanos(masterHeardAtNanos()));
        return Math.min(d, replication.nextDeadlineNanos());
    }

    private void onTime(long now) {
        if (outbox.retryDue(now)) issuePersist();
        current.onTime(now);
        if (current instanceof FollowerRole) preemption.onTime(now);
        if (now >= keepAlives.nextNanos) publishKeepAlive(now);
    }

    /** Randomised election timeout in [t, 2t), the slot chosen by priority so the preferred node goes first. */
    final long electionTimeout() {
        long t = timing.electionTimeoutNanos();
        // narrow slots: the preferred live node goes first, and nobody waits much past t
        long slot = Math.max(1, Math.min(t / peers.size(), timing.heartbeatNanos() / 2));
        return t + peers.rank(self) * slot + random.nextLong(slot);
    }

    // =====================================================================================
    // Messages: the term gate, then the voter, the hand-overs or the role
    // =====================================================================================

    private void receive(Message m, long now) {
        if (m.from().equals(self) || !peers.contains(m.from())) {
            trace("dropped %s from %s: not a peer", m.type(), m.from());
            return;
        }
        String badTerm = TermGate.badTerm(m);
        if (badTerm != null) {
            // the codec drops these (bad_term); checked here too so no caller can overflow a term
            trace("dropped %s from %s: %s beyond the largest term %d", m.type(), m.from(), badTerm, TermState.MAX_TERM);
            return;
        }
        peerTable.heard(m, now);
        termGate.offered(m, now);
        if (!termGate.pass(m, now)) return;
        if (m instanceof KeepAlive k) current.onKeepAlive(k, now);
        else if (m instanceof VoteRequest v) voter.onVoteRequest(v, now);
        else if (m instanceof VoteResponse v) current.onVoteResponse(v, now);
        else if (m instanceof HandOver h) current.onHandOver(h, now);
        else if (m instanceof HandOverAck a) {
            if (!preemption.onAnswer(a)) handOvers.onHandOverAck(a, now);
        } else if (m instanceof Preempt p) preemption.onRequest(p, now);
        else if (m instanceof Append a) replication.onAppend(a, now);
        else if (m instanceof AppendAck a) replication.onAppendAck(a, now);
        else if (m instanceof InstallSnapshot x) replication.onInstallSnapshot(x, now);
        else if (m instanceof InstallSnapshotAck a) replication.onInstallSnapshotAck(a, now);
        else throw new IllegalArgumentException("unhandled message " + m);
    }

    // =====================================================================================
    // The seams (safety rules; mutants override them)
    // =====================================================================================

    /**
     * True while this node heard a live master less than {@code t} ago (its own clock), or is a
     * master holding its lease. Such a node neither grants (pre-)votes nor campaigns.
     */
    protected boolean isSticky(long now) {
        if (current instanceof MasterRole) return true;   // with its lease, or about to get it from the first echoes
        return knowledge.sticky(now);
    }

    /** The lease length on this node's clock, {@link Timing#leaseNanos()}. */
    protected long leaseNanos() {
        return timing.leaseNanos();
    }

    /**
     * The lease runs from the send time of the newest keep-alive a majority (this node included)
     * has echoed, for {@link #leaseNanos()}. Past it the master steps down.
     */
    protected void updateLease(long now) {
        if (current instanceof MasterRole m) m.updateLease(now);
    }

    /**
     * Decides whether this new master may run its command at once (proof) or when (the wait).
     * See {@link Proof} for what counts as proof; silence never does.
     */
    protected void evaluateClearance(long now) {
        if (current instanceof MasterRole m) m.evaluateClearance(now);
    }

    /**
     * Without proof: the local time after which the old lease plus {@code stop_timeout} has surely
     * passed. A voter that heard a master {@code a} ago bounds that master's lease to end within
     * {@code t - a} of its grant (measured on any clock within the drift bound), and its watchdog
     * to SIGKILL {@code stop_timeout} later on its own clock.
     */
    protected long clearance(long now) {
        if (!(current instanceof MasterRole m))
            throw new IllegalStateException("clearance asked of " + self + " as " + role() + " in term " + state.term());
        return m.oldLeaseEndPlus(now, timing.stopWaitNanos());
    }

    /** Raft §5.4.1: a voter refuses a candidate whose log is behind its own (last term, then last index). */
    protected boolean candidateLogBehind(long candidateLastTerm, long candidateLastIndex) {
        long ownTerm = lastLogTerm();
        return candidateLastTerm < ownTerm || (candidateLastTerm == ownTerm && candidateLastIndex < lastLogIndex());
    }

    /** How far a follower may acknowledge entries: what its disk holds ({@code durableIndex}), never more. */
    protected long ackableIndex(long durableIndex, long lastIndex) {
        return durableIndex;
    }

    /** The match indexes the master's commit rule counts: one per voter, its own durable index first. */
    protected long[] commitVotes(long[] matchIndexes) {
        return matchIndexes;
    }

    /**
     * The index a snapshot asked now covers: the last one applied ({@code lastApplied}), never one
     * that is not (a mutant's seam: {@code lastIndex} includes entries not committed).
     */
    protected long snapshotIndex(long lastApplied, long lastIndex) {
        return lastApplied;
    }

    /**
     * Whether a follower answers a snapshot's last chunk as installed at once, before the world
     * reports it durable ({@link Event.SnapshotReceived}): never (a mutant's seam).
     */
    protected boolean snapshotInstalledOnLastChunk() {
        return false;
    }

    /** A read is served only once a majority confirmed this master after the read took its index. */
    protected boolean readConfirmed(boolean byMajority) {
        return byMajority;
    }

    /** Messages go out only once every term and vote they may rely on is on disk. */
    protected void send(Effect e) {
        outbox.send(e);
    }

    // =====================================================================================
    // Role changes and terms
    // =====================================================================================

    void adoptTerm(long term, long now, String why) {
        state = state.withTerm(term);
        thisTerm = new ThisTerm();
        issuePersist();
        if (current instanceof FollowerRole) {
            current = new FollowerRole(this);   // a follower of the new term: no round, no master yet
            master = null;
        } else {
            becomeFollower(null, now, why);
        }
    }

    void becomeFollower(String newMaster, long now, String why) {
        if (current instanceof MasterRole m) {
            m.stepDown(now, why);
            master = newMaster;
            return;
        }
        if (current instanceof FollowerRole f) {
            f.preVote = null;   // the round ends: a master was heard or its election failed
            master = newMaster;
        } else {
            enter(new FollowerRole(this), newMaster, now, why);
        }
        electionDeadlineNanos = now + electionTimeout();
    }

    /** The one place a role changes: the old role's handler, and all it held, is dropped. */
    void enter(RoleHandler next, String newMaster, long now, String why) {
        boolean wasMaster = current instanceof MasterRole;
        // a master's own lease counts as a live master heard until the moment it stops being one
        if (wasMaster && !(next instanceof MasterRole)) knowledge.ownMastershipEndedNanos = now;
        current = next;
        master = newMaster;
        Role r = next.role();
        emit(new Effect.RoleChanged(r, state.term(), newMaster, why));
        if (r == Role.MASTER) emit(new Effect.RunHook(Effect.Hook.ON_MASTER, state.term(), self));
        else if (wasMaster) emit(new Effect.RunHook(Effect.Hook.ON_FOLLOWER, state.term(), newMaster));
    }

    // =====================================================================================
    // Persistence and the held outbox
    // =====================================================================================

    void publishKeepAlive(long now) {
        keepAlives.publish(now);
    }

    /** Asks for the term and vote to be made durable; the writes of one event coalesce (see {@link Outbox}). */
    void issuePersist() {
        outbox.persist(state);
    }

    private void onPersisted(long seq, long now) {
        if (outbox.acknowledged(seq)) trace("storage works again");
        if (outbox.allPersisted()) {
            outbox.release(e -> voter.stale(e, now));
            keepAlives.afterPersisted(now);
        }
    }

    private void onPersistFailed(Event.PersistFailed f, long now) {
        if (!outbox.isNewest(f.seq())) return;   // a newer write is on its way
        if (outbox.storageHealthy())
            trace("cannot persist term and vote (%s): refusing to vote or campaign until it works", f.reason());
        // what relied on the failed write must not go out
        outbox.failed(f.reason(), now + timing.heartbeatNanos());
        if (current instanceof CandidateRole) becomeFollower(null, now, "cannot persist the vote: " + f.reason());
    }

    /**
     * {@code self_fence.mode: required}: without a usable device this node neither campaigns nor
     * accepts a hand-over nor preempts (it still votes and follows); a master that loses it hands
     * over, a candidate gives up its election.
     */
    private void onFenceEligibility(Event.FenceEligibility f, long now) {
        if (f.usable()) {
            if (fenceProblem != null) trace("self-fence device usable again: campaigning allowed");
            fenceProblem = null;
            return;
        }
        boolean news = fenceProblem == null;
        fenceProblem = f.reason();
        if (news) trace("self-fence device unusable (%s): no campaign until it works", f.reason());
        if (current instanceof MasterRole) handOvers.onStepDown(null, false, "self-fence device unusable: " + f.reason(), now);
        else if (current instanceof CandidateRole) becomeFollower(null, now, "self-fence device unusable: " + f.reason());
        // a pre-vote round under way ends too: its grants must not make a candidate (simulator seed 1590)
        else if (current instanceof FollowerRole fr) fr.preVote = null;
    }

    void emit(Effect e) {
        outbox.emit(e);
    }

    void trace(String fmt, Object... args) {
        outbox.emit(new Effect.Trace(String.format(fmt, args)));
    }

    // =====================================================================================
    // Small things
    // =====================================================================================

    long nextRequestId() {
        return ++requestCounter;
    }

    /** The last entry of the log, for vote requests and keep-alives. */
    public long lastLogTerm() { return replication.lastTerm(); }

    public long lastLogIndex() { return replication.lastIndex(); }

    static long ms(long nanos) {
        return nanos / Timing.MS;
    }

    /** A snapshot for status, tests and the simulator. */
    public NodeView view(long nowNanos) {
        List<NodeView.PeerView> pv = peerTable.view(nowNanos);
        MasterState ms = mastership();
        boolean isMaster = ms != null;
        return new NodeView(self, role(), state.term(), state.votedFor(), isMaster ? self : master,
                isMaster ? ms.lease.endNanos() : -1, isMaster && ms.cleared,
                isMaster ? ms.clearAtNanos : -1, isMaster && commandActive,
                outbox.storageHealthy(), pv, isMaster && ms.cleared ? ms.clearedBy : null,
                isMaster ? ms.sinceNanos : -1, isMaster && ms.cleared ? ms.clearedAtNanos : -1);
    }

    /** Why this master is (or is not yet) cleared to run its command, for logs and status; "" when not master. */
    public String clearReason() {
        MasterState ms = mastership();
        return ms != null ? ms.clearReason() : "";
    }
}

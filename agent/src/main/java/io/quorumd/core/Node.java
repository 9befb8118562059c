package io.quorumd.core;

import io.quorumd.core.Message.HandOver;
import io.quorumd.core.Message.HandOverAck;
import io.quorumd.core.Message.KeepAlive;
import io.quorumd.core.Message.VoteRequest;
import io.quorumd.core.Message.VoteResponse;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * The election, lease and command-permission state machine of one node.
 *
 * <p>Reads like etcd's {@code Step}: every message first passes the term gate ({@code termGate}),
 * then the handler of its type; every refusal says why. The parts that each do one job (the
 * {@link Outbox}, the {@link Lease}, {@link Clearance}, the {@link HandOverPlan},
 * {@link MasterKnowledge}, the {@link PeerTable}) are wired here; what exists only while a role
 * does lives in {@link MasterState} and {@link CandidateState}, created on entering the role and
 * dropped on leaving it. A broken invariant throws (always on, not {@code assert}), with the values
 * in its message; the simulator reports it as a violation with its seed. Time comes in as {@code nowNanos} (the local monotonic
 * clock), randomness from the {@link RandomGenerator} given at construction; nothing else is read.
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
    private TermState state;
    private final Outbox outbox = new Outbox();

    // --- role ---
    private Role role = Role.FOLLOWER;
    private String master;                    // the master followed in this term (self when master)
    private long nextHeartbeatNanos;
    private long electionDeadlineNanos;
    private long requestCounter;

    // --- what this node knows of the newest master (for stickiness and for MasterReports) ---
    private final MasterKnowledge knowledge;
    private long masterEchoNanos = -1;        // sentAt of the newest keep-alive of `master` this term

    // --- per peer ---
    private final PeerTable peerTable;
    private final Map<String, Proof> proofs = new TreeMap<>();   // newest proof offered by each node

    // --- role state: exists only while the role (or the round) does ---
    private PreVote preVote;                  // a pre-vote round under way (as follower), or null
    private CandidateState candidate;         // non-null exactly while candidate
    private MasterState mastership;           // non-null exactly while master
    private HandOverPlan handOver;            // a hand-over under way (outlives the master role)
    /** When this run cast its real vote of the current term (for itself or a peer); -1: none. */
    private long votedAtNanos = -1;

    // --- the command, as far as the core knows it ---
    private boolean commandActive;            // StartCommand sent, CommandStopped not yet seen
    private long commandTerm;
    private Proof offeredProof;               // proof this node offers about its own old command
    private boolean gaveUp;
    private long noCampaignUntilNanos = -1;
    private boolean shuttingDown;
    private boolean exitAnnounced;
    private boolean keepAliveSuppressed;

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
        this.peerTable = new PeerTable(peers.others(), timing.electionTimeoutNanos());
        this.requestCounter = (random.nextLong() & 0x7fff_ffffL) << 20;
        this.nextHeartbeatNanos = nowNanos;
        this.electionDeadlineNanos = nowNanos + electionTimeout();
    }

    public String id() { return self; }

    public long bootId() { return bootId; }

    public Role role() { return role; }

    public long term() { return state.term(); }

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
            onCommandStopped(c.term(), nowNanos);
        } else if (event instanceof Event.CommandGaveUp g) {
            onCommandGaveUp(g, nowNanos);
        } else if (event instanceof Event.FenceResult f) {
            onFenceResult(f, nowNanos);
        } else if (event instanceof Event.StepDownRequested s) {
            onStepDown(s.to(), false, "step-down requested", nowNanos);
        } else if (event instanceof Event.ShutdownRequested) {
            onShutdown(nowNanos);
        } else if (event instanceof Event.PeerRefused p) {
            onPeerRefused(p.peer(), nowNanos);
        } else if (event instanceof Event.RequestFailed f) {
            onRequestFailed(f, nowNanos);
        } else {
            throw new IllegalArgumentException("unhandled event " + event);
        }
        onTime(nowNanos);
        checkRoleState();
        return outbox.effects();
    }

    /** The role and its state object go together; anything else is a bug in this class. */
    private void checkRoleState() {
        if ((role == Role.MASTER) != (mastership != null) || (role == Role.CANDIDATE) != (candidate != null))
            throw new IllegalStateException("role " + role + " with master state " + (mastership != null)
                    + " and candidate state " + (candidate != null) + " in term " + state.term());
    }

    /** The local time at which {@link #handle} should next be called with a {@link Event.Tick}. */
    public long nextDeadlineNanos() {
        long d = nextHeartbeatNanos;
        if (role != Role.MASTER && !shuttingDown) d = Math.min(d, electionDeadlineNanos);
        if (role == Role.MASTER) d = mastership.nextDeadline(d, knowledge.lastLiveNanos + timing.electionTimeoutNanos());
        if (outbox.retryAtNanos() >= 0) d = Math.min(d, outbox.retryAtNanos());
        return d;
    }

    // =====================================================================================
    // Timers
    // =====================================================================================

    private void onTime(long now) {
        if (outbox.retryDue(now)) issuePersist();
        if (role == Role.MASTER) {
            updateLease(now);
            if (role == Role.MASTER) {
                MasterState ms = mastership;
                if (ms.fenceDue(now)) {
                    ms.fenceRequested = true;
                    emit(new Effect.RunFence(ms.fenceTarget, ms.fenceTargetTerm, state.term()));
                }
                if (ms.waitOver(now)) {
                    ms.clear(ms.waitClearance != null ? ms.waitClearance
                            : new Clearance(Clearance.By.LEASE_EXPIRY, null, 0, "waited out the old lease plus stop_timeout"));
                    trace("cleared to run the command in term %d: %s", state.term(), ms.clearReason());
                }
                maybeStartCommand(now);
            }
        } else if (!shuttingDown && now >= electionDeadlineNanos) {
            electionTimedOut(now);
        }
        if (now >= nextHeartbeatNanos) publishKeepAlive(now);
    }

    private void electionTimedOut(long now) {
        String why = campaignRefusal(now, false);
        if (why != null) {
            electionDeadlineNanos = now + retryDelay();
            if (role == Role.CANDIDATE) becomeFollower(null, now, "election in term " + state.term() + " failed: " + why);
            return;
        }
        if (role == Role.CANDIDATE) {
            // the real vote did not reach a majority in time: start over with a pre-vote
            becomeFollower(null, now, "election in term " + state.term() + " got "
                    + candidate.grants.size() + " of " + peers.size() + " votes");
        }
        startPreVote(now);
    }

    /** Randomised election timeout in [t, 2t), the slot chosen by priority so the preferred node goes first. */
    private long electionTimeout() {
        long t = timing.electionTimeoutNanos();
        // narrow slots: the preferred live node goes first, and nobody waits much past t
        long slot = Math.max(1, Math.min(t / peers.size(), timing.heartbeatNanos() / 2));
        return t + peers.rank(self) * slot + random.nextLong(slot);
    }

    /** Delay before the next pre-vote round once the timeout has passed: about a heartbeat. */
    private long retryDelay() {
        long hb = timing.heartbeatNanos();
        return hb + random.nextLong(hb);
    }

    // =====================================================================================
    // Stickiness
    // =====================================================================================

    /**
     * True while this node heard a live master less than {@code t} ago (its own clock), or is a
     * master holding its lease. Such a node neither grants (pre-)votes nor campaigns.
     */
    protected boolean isSticky(long now) {
        if (role == Role.MASTER) return true;   // with its lease, or about to get it from the first echoes
        return knowledge.sticky(now);
    }

    private void yieldStickiness(long now, String why) {
        if (!knowledge.yielded && isSticky(now)) {
            trace("stickiness to %s ends early: %s", knowledge.master, why);
            knowledge.yielded = true;
            if (role == Role.FOLLOWER) master = null;
            // the preferred node goes first, within a heartbeat
            long hb = timing.heartbeatNanos();
            long slot = Math.max(1, hb / peers.size());
            electionDeadlineNanos = Math.min(electionDeadlineNanos, now + peers.rank(self) * slot + random.nextLong(slot));
        }
    }

    // =====================================================================================
    // Messages
    // =====================================================================================

    private void receive(Message m, long now) {
        if (m.from().equals(self) || !peers.contains(m.from())) {
            trace("dropped %s from %s: not a peer", m.type(), m.from());
            return;
        }
        String badTerm = badTerm(m);
        if (badTerm != null) {
            // the codec drops these (bad_term); checked here too so no caller can overflow a term
            trace("dropped %s from %s: %s beyond the largest term %d", m.type(), m.from(), badTerm, TermState.MAX_TERM);
            return;
        }
        peerTable.heard(m, now);
        offeredProof(m, now);
        if (!termGate(m, now)) return;
        if (m instanceof KeepAlive k) onKeepAlive(k, now);
        else if (m instanceof VoteRequest v) onVoteRequest(v, now);
        else if (m instanceof VoteResponse v) onVoteResponse(v, now);
        else if (m instanceof HandOver h) onHandOver(h, now);
        else if (m instanceof HandOverAck a) onHandOverAck(a, now);
        else throw new IllegalArgumentException("unhandled message " + m);
    }

    /**
     * What a message offers whatever its term: a node's proof about its own old command (on its
     * keep-alives, and on a hand-over addressed to this node).
     */
    private void offeredProof(Message m, long now) {
        Proof p = null;
        if (m instanceof KeepAlive k) p = k.proof();
        else if (m instanceof HandOver h && self.equals(h.to())) p = h.proof();
        if (p != null && p.node().equals(m.from())) rememberProof(p, now);
    }

    /**
     * The term gate, before any role's handling (etcd's {@code Step}): a newer term is adopted
     * (persisted before anything that relies on it goes out), unless the message may not move this
     * node's term; an older one is answered or dropped. Returns true when the message goes on to
     * its handler, in a term it may act on.
     */
    private boolean termGate(Message m, long now) {
        long ours = state.term();
        if (m instanceof KeepAlive k) {
            if (k.term() > ours) {
                if (k.claimsMastership()) {
                    adoptTerm(k.term(), now, k.from() + " is master in term " + k.term());
                } else if (!isSticky(now) || role == Role.MASTER) {
                    // A master that sees a peer in a newer term steps down (as etcd does): otherwise a
                    // node that got ahead during a partition could never rejoin.
                    adoptTerm(k.term(), now, k.from() + " is in term " + k.term());
                } else {
                    trace("ignored term %d from %s: still hearing master %s", k.term(), k.from(), knowledge.master);
                    return false;
                }
            }
            return k.term() >= state.term();   // stale: it will see our term in our keep-alives
        }
        if (m instanceof VoteRequest v) {
            // a pre-vote changes no state: its term is a question, judged with the rest in voteRefusal
            if (v.preVote()) return true;
            if (v.term() < ours) {
                refuseVote(v, "stale term " + v.term() + " < " + ours);
                return false;
            }
            // a sticky node does not let a candidate move its term (etcd's in-lease check)
            if (isSticky(now) && !transferAccepted(v)) {
                refuseVote(v, stickyReason(now));
                return false;
            }
            if (v.term() > ours) adoptTerm(v.term(), now, v.from() + " campaigns in term " + v.term());
            return true;
        }
        if (m instanceof VoteResponse r) {
            if (r.preVote()) {
                // a grant names the proposed term (checked against the round); a refusal from a
                // newer term is adopted unless this node is sticky, and does nothing else
                if (r.granted()) return true;
                if (preVoteRoundOf(r) && r.term() > ours && !isSticky(now))
                    adoptTerm(r.term(), now, r.from() + " is in term " + r.term());
                return false;
            }
            if (r.term() > ours) {
                adoptTerm(r.term(), now, r.from() + " answered from term " + r.term());
                return false;
            }
            return r.term() == ours;
        }
        if (m instanceof HandOver h) {
            if (!self.equals(h.to())) return false;
            if (h.term() != ours) {
                refuseHandOver(h, "hand-over from term " + h.term() + ", this node is in term " + ours);
                return false;
            }
            return true;
        }
        if (m instanceof HandOverAck) return true;   // matched by its request id, whatever its term
        throw new IllegalArgumentException("unhandled message " + m);
    }

    /** True when {@code r} answers this node's current pre-vote round. */
    private boolean preVoteRoundOf(VoteResponse r) {
        return preVote != null && r.requestId() == preVote.requestId;
    }

    private void onKeepAlive(KeepAlive k, long now) {
        if (k.claimsMastership()) {
            onMasterKeepAlive(k, now);
        } else {
            if (k.from().equals(master) && role == Role.FOLLOWER && k.sentAtNanos() > masterEchoNanos
                    && k.proof() != null) {
                // the master we follow says it is no longer master and offers proof: hand-over or restart
                yieldStickiness(now, k.from() + " resigned (" + k.proof().kind().name().toLowerCase() + ")");
            }
            if (role == Role.MASTER && self.equals(k.master())) {
                if (k.echoNanos() >= 0 && k.echoNanos() <= now) {
                    mastership.lease.echo(k.from(), k.echoNanos());
                    updateLease(now);
                }
            }
        }
    }

    private void onMasterKeepAlive(KeepAlive k, long now) {
        String from = k.from();
        if (role == Role.MASTER)
            throw new IllegalStateException("two masters in term " + k.term() + ": this node " + self + " and " + from
                    + " (boot " + Long.toHexString(k.bootId()) + "), which broke the one vote per term");
        if (role == Role.CANDIDATE || (role == Role.FOLLOWER && !from.equals(master))) {
            becomeFollower(from, now, from + " is master in term " + k.term());
        }
        master = from;
        if (k.sentAtNanos() > masterEchoNanos) masterEchoNanos = k.sentAtNanos();
        knowledge.heard(from, k.term(), k.cleared(), now);
        // pre-vote grants still waiting for a Persist no longer hold: a live master is back
        outbox.dropHeld(e -> e instanceof Effect.Respond r && r.message() instanceof VoteResponse v && v.preVote() && v.granted());
        electionDeadlineNanos = now + electionTimeout();
        preVote = null;
        // echo at once (the heartbeat timer restarts): the lease never waits a follower's heartbeat
        publishKeepAlive(now);
    }

    private void rememberProof(Proof p, long now) {
        Proof old = proofs.get(p.node());
        if (old == null || p.masterTerm() >= old.masterTerm()) proofs.put(p.node(), p);
        if (role == Role.MASTER && !mastership.cleared) evaluateClearance(now);
    }

    private void onVoteRequest(VoteRequest v, long now) {
        String c = v.from();
        if (v.preVote()) {
            String why = voteRefusal(v, now);
            boolean grant = why == null;
            trace("%s pre-vote for %s in term %d%s", grant ? "granted" : "refused", c, v.term(), grant ? "" : ": " + why);
            send(new Effect.Respond(c, new VoteResponse(self, grant ? v.term() : state.term(),
                    bootId, v.requestId(), true, grant, grant ? "" : why, -1, MasterReport.NONE)));
            return;
        }
        // past the term gate: the request's term is ours
        String why = voteRefusal(v, now);
        if (why != null) {
            refuseVote(v, why);
            return;
        }
        MasterReport r = knowledge.report(now);
        if (!c.equals(state.votedFor())) {
            state = state.withVote(c);
            issuePersist();
        }
        votedAtNanos = now;
        electionDeadlineNanos = now + electionTimeout();
        trace("granted vote for %s in term %d (%s)", c, v.term(), r);
        send(new Effect.Respond(c, new VoteResponse(self, state.term(), bootId, v.requestId(), false, true, "",
                v.sentAtNanos(), r)));
    }

    /** Why this node would not vote for the request's candidate, or null. Stickiness is checked here too. */
    private String voteRefusal(VoteRequest v, long now) {
        if (!outbox.storageHealthy()) return "storage failing: " + outbox.storageProblem();
        if (shuttingDown) return "shutting down";
        if (v.preVote() && v.term() <= state.term()) return "stale term " + v.term() + " <= " + state.term();
        if (isSticky(now) && !transferAccepted(v)) return stickyReason(now);
        if (v.preVote() && electionUnderWay(v.from(), now) && !transferAccepted(v))
            return "voted for " + state.votedFor() + " in term " + state.term() + " " + ms(now - votedAtNanos)
                    + " ms ago: that election may still succeed";
        if (!v.preVote() && state.votedFor() != null && !state.votedFor().equals(v.from()))
            return "already voted for " + state.votedFor() + " in term " + state.term();
        if (v.lastLogTerm() < lastLogTerm() || (v.lastLogTerm() == lastLogTerm() && v.lastLogIndex() < lastLogIndex()))
            return "candidate's log is behind";
        return null;
    }

    /**
     * True while this node is a candidate (its own election runs until its time-out), and for half
     * an election timeout after it cast its real vote for a candidate other than {@code requester}.
     * A pre-vote grant then would let a rival raise the term just as that candidate wins, and the
     * fresh master would step down for the newer term; Raft resets the election timer on a vote for
     * the same reason. Half of t is more than a voter's answer takes to reach the candidate and no
     * longer than the shortest candidacy, so a failed candidate's rivals are not held back past its
     * own retry. A candidate's own round trip holds two disk writes (its vote, then the voter's), so
     * it keeps its pre-vote for its whole candidacy (at most t), not only t/2 (simulator seed
     * 753205: its grant came 135 ms after it voted for itself, with t/2 = 100 ms).
     */
    private boolean electionUnderWay(String requester, long now) {
        if (role == Role.CANDIDATE) return true;
        String v = state.votedFor();
        return v != null && !v.equals(requester) && votedAtNanos >= 0
                && now - votedAtNanos < timing.electionTimeoutNanos() / 2;
    }

    private String stickyReason(long now) {
        if (role == Role.MASTER) return mastership.lease.endNanos() > now
                ? "this node is master with a lease for another " + ms(mastership.lease.endNanos() - now) + " ms"
                : "this node is master (its lease starts with the first echoes)";
        return knowledge.stickyReason(now);
    }

    /** A hand-over from the very master this node is sticky to lets its successor through. */
    private boolean transferAccepted(VoteRequest v) {
        return knowledge.handedOverBy(v.transfer());
    }

    private void refuseVote(VoteRequest v, String why) {
        trace("refused vote for %s in term %d: %s", v.from(), v.term(), why);
        send(new Effect.Respond(v.from(), new VoteResponse(self, state.term(), bootId, v.requestId(), false, false, why,
                -1, MasterReport.NONE)));
    }

    private void onVoteResponse(VoteResponse r, long now) {
        if (r.preVote()) {
            // past the term gate: a grant
            if (!preVoteRoundOf(r) || r.term() != preVote.term) return;
            if (preVote.grant(r.from()) >= peers.majority()) startElection(now, null);
            return;
        }
        // past the term gate: an answer in our term
        if (!r.granted()) return;
        if (role == Role.CANDIDATE) {
            candidate.grants.put(r.from(), new Grant(r.report(), now));
            if (candidate.grants.size() >= peers.majority()) becomeMaster(now);
        } else if (role == Role.MASTER && !mastership.grants.containsKey(r.from())) {
            // a late grant still tells us what that voter knew; it may complete a proof
            // votes are not echoes (the voter is not sticky yet): no lease from them
            mastership.grants.put(r.from(), new Grant(r.report(), now));
            if (!mastership.cleared) evaluateClearance(now);
        }
    }

    private void onHandOver(HandOver h, long now) {
        // past the term gate: addressed to this node, in our term; its proof is remembered
        String why = null;
        if (role == Role.MASTER) why = "this node is master";
        else if (knowledge.master != null && knowledge.masterTerm == h.term() && !knowledge.master.equals(h.from()))
            why = knowledge.master + " is master of term " + h.term() + ", not " + h.from();
        else if (state.exhausted()) why = "term " + state.term() + " is the largest a term may be";
        else if (!outbox.storageHealthy()) why = "storage failing: " + outbox.storageProblem();
        else if (shuttingDown) why = "shutting down";
        else if (gaveUp && noCampaignUntilNanos > now) why = "this node's command failed too often";
        if (why != null) {
            refuseHandOver(h, why);
            return;
        }
        send(new Effect.Respond(h.from(), new HandOverAck(self, state.term(), bootId, h.requestId(), true, "")));
        trace("hand-over from %s: campaigning at once", h.from());
        startElection(now, h.proof());
    }

    private void refuseHandOver(HandOver h, String why) {
        send(new Effect.Respond(h.from(), new HandOverAck(self, state.term(), bootId, h.requestId(), false, why)));
        trace("refused hand-over from %s: %s", h.from(), why);
    }

    private void onHandOverAck(HandOverAck a, long now) {
        HandOverPlan plan = handOver;
        if (plan == null || a.requestId() != plan.requestId) return;
        if (a.accepted()) {
            trace("%s accepted the hand-over", a.from());
            finishHandOver(now);
        } else {
            trace("%s refused the hand-over: %s", a.from(), a.reason());
            sendHandOver(now);
        }
    }

    // =====================================================================================
    // Elections
    // =====================================================================================

    /** The term field of {@code m} that no node may hold (negative or over {@link TermState#MAX_TERM}), or null. */
    static String badTerm(Message m) {
        if (!TermState.validTerm(m.term())) return "term " + m.term();
        Proof p = null;
        long lastLogTerm = 0;
        if (m instanceof KeepAlive k) {
            p = k.proof();
            lastLogTerm = k.lastLogTerm();
        } else if (m instanceof VoteRequest v) {
            p = v.transfer();
            lastLogTerm = v.lastLogTerm();
        } else if (m instanceof VoteResponse v) {
            if (v.report() != null && !TermState.validTerm(v.report().masterTerm()))
                return "report.masterTerm " + v.report().masterTerm();
        } else if (m instanceof HandOver h) {
            p = h.proof();
        }
        if (p != null && !TermState.validTerm(p.masterTerm())) return "proof.masterTerm " + p.masterTerm();
        if (!TermState.validTerm(lastLogTerm)) return "lastLogTerm " + lastLogTerm;
        return null;
    }

    /** Why this node may not campaign now, or null. */
    private String campaignRefusal(long now, boolean handedOver) {
        if (state.exhausted()) return "term " + state.term() + " is the largest a term may be";
        if (!outbox.storageHealthy()) return "storage failing: " + outbox.storageProblem();
        if (shuttingDown) return "shutting down";
        if (gaveUp && now < noCampaignUntilNanos) return "command failed too often; no campaign for another "
                + ms(noCampaignUntilNanos - now) + " ms";
        if (!handedOver && isSticky(now)) return stickyReason(now);
        return null;
    }

    private void startPreVote(long now) {
        long nextTerm = Math.addExact(state.term(), 1);   // campaignRefusal keeps it within MAX_TERM
        if (preVote == null || preVote.term != nextTerm) {
            // a new round; answers to the previous rounds of the same term still count
            preVote = new PreVote(nextTerm, nextRequestId());
        }
        int granted = preVote.grant(self);
        electionDeadlineNanos = now + retryDelay();
        if (granted >= peers.majority()) {
            startElection(now, null);
            return;
        }
        trace("pre-vote for term %d", nextTerm);
        for (String p : peers.others()) {
            send(new Effect.Request(p, new VoteRequest(self, nextTerm, bootId, preVote.requestId, true, now,
                    lastLogTerm(), lastLogIndex(), null)));
        }
    }

    private void startElection(long now, Proof handedOver) {
        preVote = null;
        MasterReport own = knowledge.report(now);
        state = state.next().withVote(self);
        votedAtNanos = now;
        issuePersist();
        setRole(Role.CANDIDATE, null, now, handedOver != null
                ? "hand-over from " + handedOver.node() + ": campaigning in term " + state.term()
                : "no live master: campaigning in term " + state.term());
        candidate.grants.put(self, new Grant(own, now));
        long t = timing.electionTimeoutNanos();
        electionDeadlineNanos = now + t / 2 + random.nextLong(Math.max(1, t / 2));
        if (candidate.grants.size() >= peers.majority()) {
            becomeMaster(now);
            return;
        }
        long id = nextRequestId();
        for (String p : peers.others()) {
            send(new Effect.Request(p, new VoteRequest(self, state.term(), bootId, id, false, now, lastLogTerm(),
                    lastLogIndex(), handedOver)));
        }
    }

    private void becomeMaster(long now) {
        CandidateState won = candidate;
        mastership = new MasterState(won.grants);
        handOver = null;
        offeredProof = null;
        setRole(Role.MASTER, self, now, "became master in term " + state.term() + ": " + won.grants.size() + " of "
                + peers.size() + " votes");
        // The votes say who could be reached when they were asked for: without echoes from a
        // majority within t of that, this master steps down.
        knowledge.elected(self, state.term(), won.startedNanos);
        // Votes are not echoes: the lease starts with the first keep-alives the followers echo.
        publishKeepAlive(now);
        evaluateClearance(now);
        updateLease(now);
    }

    // =====================================================================================
    // Lease
    // =====================================================================================

    /** The lease length on this node's clock, {@link Timing#leaseNanos()}. */
    protected long leaseNanos() {
        return timing.leaseNanos();
    }

    /**
     * The lease runs from the send time of the newest keep-alive a majority (this node included)
     * has echoed, for {@link #leaseNanos()}. Past it the master steps down.
     */
    protected void updateLease(long now) {
        if (role != Role.MASTER) return;
        Lease lease = mastership.lease;
        if (lease.renew(now, peers.majority(), leaseNanos()) && lease.endNanos() > now)
            emit(new Effect.LeaseRenewed(state.term(), lease.endNanos()));
        if (lease.expired(now)) {
            stepDown(now, "lease expired: no majority confirmed this master within " + ms(leaseNanos()) + " ms");
        } else if (lease.endNanos() < 0 && now - knowledge.lastLiveNanos >= timing.electionTimeoutNanos()) {
            stepDown(now, "no majority echoed this master within " + ms(timing.electionTimeoutNanos()) + " ms");
        }
    }

    // =====================================================================================
    // Command permission
    // =====================================================================================

    /**
     * Decides whether this new master may run its command at once (proof) or when (the wait).
     * See {@link Proof} for what counts as proof; silence never does.
     */
    protected void evaluateClearance(long now) {
        if (role != Role.MASTER) return;
        MasterState ms = mastership;
        if (ms.cleared) return;
        ClearanceJudge.Verdict v = ClearanceJudge.judge(ms.grants, proofs, ms.fenceProof, peers, state.term());
        if (v.clearedBy() != null) {
            ms.clear(v.clearedBy());
            trace("cleared to run the command in term %d: %s", state.term(), v.clearedBy().reason());
            return;
        }
        ms.waitClearance = new Clearance(Clearance.By.LEASE_EXPIRY, v.newestMaster(), v.newestMasterTerm(),
                "waited out the old lease plus stop_timeout");
        long waitUntil = clearance(now);
        if (waitUntil != ms.clearAtNanos) {
            ms.clearAtNanos = waitUntil;
            trace("no proof the old command is gone: waiting %d ms for the old lease plus stop_timeout",
                    ms(Math.max(0, waitUntil - now)));
        }
        String x = v.newestMaster();
        if (x != null && !x.equals(self) && config.fenceConfigured() && !ms.fenceRequested) {
            // Fence only once the old lease has surely ended: before that the old agent could
            // restart what the fence stopped. Its success then spares the stop_timeout wait.
            ms.fenceTarget = x;
            ms.fenceTargetTerm = v.newestMasterTerm();
            ms.fenceAtNanos = leaseBound(now);
        }
    }

    /** When the old master's lease has surely ended (without the stop_timeout that follows it). */
    private long leaseBound(long now) {
        return oldLeaseEndPlus(now, 0);
    }

    /**
     * Without proof: the local time after which the old lease plus {@code stop_timeout} has surely
     * passed. A voter that heard a master {@code a} ago bounds that master's lease to end within
     * {@code t - a} of its grant (measured on any clock within the drift bound), and its watchdog
     * to SIGKILL {@code stop_timeout} later on its own clock.
     */
    protected long clearance(long now) {
        return oldLeaseEndPlus(now, timing.stopWaitNanos());
    }

    /** The latest end, over this master's grants, of the old lease plus {@code afterNanos} (see {@link Clearance}). */
    private long oldLeaseEndPlus(long now, long afterNanos) {
        return ClearanceJudge.oldLeaseEndPlus(mastership.grants.values(), now, timing.electionTimeoutNanos(), afterNanos,
                WATCHDOG_SLACK_NANOS);
    }

    private void maybeStartCommand(long now) {
        if (gaveUp && now >= noCampaignUntilNanos) gaveUp = false;
        if (role != Role.MASTER || !mastership.cleared || commandActive || handOver != null || gaveUp) return;
        if (!mastership.lease.holds(now)) return;
        commandActive = true;
        commandTerm = state.term();
        knowledge.masterCleared = true;
        emit(new Effect.StartCommand(state.term(), self, mastership.lease.endNanos()));
        publishKeepAlive(now);   // tell the followers this master is cleared
    }

    private void onFenceResult(Event.FenceResult f, long now) {
        if (role != Role.MASTER) return;
        MasterState ms = mastership;
        if (f.oldTerm() <= 0 || !ms.fenceRequested || !f.oldMaster().equals(ms.fenceTarget)
                || f.oldTerm() != ms.fenceTargetTerm) return;
        if (f.succeeded()) {
            ms.fenceProof = new Proof(Proof.Kind.FENCE, f.oldMaster(), f.oldTerm(), false);
            trace("fence of %s (term %d) succeeded: %s", f.oldMaster(), f.oldTerm(), f.detail());
            evaluateClearance(now);
        } else {
            trace("fence of %s (term %d) failed: %s; waiting as usual", f.oldMaster(), f.oldTerm(), f.detail());
        }
    }

    private void onCommandStopped(long term, long now) {
        if (!commandActive || term != commandTerm) return;
        commandActive = false;
        if (role != Role.MASTER || handOver != null) {
            offeredProof = new Proof(Proof.Kind.HANDOVER, self, commandTerm, true);
            proofs.put(self, new Proof(Proof.Kind.SELF, self, commandTerm, true));
        }
        if (handOver != null && !handOver.resigned) resign(now);
        else if (shuttingDown && role != Role.MASTER && handOver == null) announceExit();
    }

    private void onCommandGaveUp(Event.CommandGaveUp g, long now) {
        gaveUp = true;
        noCampaignUntilNanos = now + timing.restartWindowNanos();
        if (commandActive && g.term() == commandTerm) onCommandStopped(g.term(), now);
        if (role == Role.MASTER) onStepDown(null, false, "command failed too often: " + g.reason(), now);
    }

    // =====================================================================================
    // Hand-over
    // =====================================================================================

    private void onStepDown(String to, boolean shutdown, String reason, long now) {
        if (role != Role.MASTER) {
            trace("%s ignored: not master", reason);
            return;
        }
        if (handOver != null) return;
        handOver = new HandOverPlan(to, shutdown, reason);
        trace("%s: stopping the command before handing over", reason);
        if (commandActive) emit(new Effect.StopCommand(commandTerm, reason));
        else resign(now);
    }

    private void onShutdown(long now) {
        if (shuttingDown) return;
        shuttingDown = true;
        if (role == Role.MASTER) {
            if (handOver == null) onStepDown(null, true, "agent shutting down", now);
            // else a hand-over is under way: finishHandOver announces the exit
        } else if (handOver == null && !commandActive) {
            announceExit();
        }
    }

    /** The command is stopped: give up mastership and tell the successor to campaign. */
    private void resign(long now) {
        HandOverPlan plan = handOver;
        plan.resigned = true;
        if (role != Role.MASTER) {
            // Mastership was lost while the command stopped (lease expired, or a newer term was
            // seen): there is nothing to hand over, and asking a peer to campaign would unseat the
            // master that may already rule this term. The proof that the command stopped (set by
            // onCommandStopped, for the command's own term) still goes out with the keep-alives.
            trace("hand-over dropped: no longer master (%s)", plan.reason);
            publishKeepAlive(now);
            finishHandOver(now);
            return;
        }
        boolean wasCleared = mastership.cleared;
        long term = state.term();
        setRole(Role.FOLLOWER, null, now, plan.reason);
        Proof p = new Proof(Proof.Kind.HANDOVER, self, term, wasCleared);
        offeredProof = p;
        proofs.put(self, new Proof(Proof.Kind.SELF, self, term, wasCleared));
        knowledge.masterCleared = wasCleared;
        // let the successor win rather than campaigning again at once
        electionDeadlineNanos = now + timing.electionTimeoutNanos() + electionTimeout();
        publishKeepAlive(now);
        sendHandOver(now);
    }

    private void sendHandOver(long now) {
        HandOverPlan plan = handOver;
        if (plan == null) return;
        String to = plan.successor(peers, id -> peerTable.live(id, now));
        if (to == null) {
            trace("hand-over: no live peer to hand over to");
            finishHandOver(now);
            return;
        }
        plan.asked(to, nextRequestId());
        trace("handing over to %s", to);
        send(new Effect.Request(to, new HandOver(self, state.term(), bootId, plan.requestId, to, offeredProof)));
    }

    private void finishHandOver(long now) {
        HandOverPlan plan = handOver;
        handOver = null;
        if ((plan != null && plan.shutdown) || shuttingDown) announceExit();
    }

    private void announceExit() {
        if (exitAnnounced) return;
        exitAnnounced = true;
        emit(new Effect.ReadyToExit());
    }

    private void onRequestFailed(Event.RequestFailed f, long now) {
        HandOverPlan plan = handOver;
        if (plan != null && f.requestId() == plan.requestId) {
            trace("hand-over to %s failed: %s", f.to(), f.reason());
            sendHandOver(now);
        }
    }

    private void onPeerRefused(String peer, long now) {
        if (!peerTable.refused(peer)) return;
        if (peer.equals(knowledge.master) && role != Role.MASTER) {
            yieldStickiness(now, "master " + peer + " refused a connection (its agent is gone; no proof for its command)");
        }
    }

    // =====================================================================================
    // Role changes and terms
    // =====================================================================================

    private void adoptTerm(long term, long now, String why) {
        state = state.withTerm(term);
        votedAtNanos = -1;
        issuePersist();
        masterEchoNanos = -1;
        preVote = null;
        if (role != Role.FOLLOWER) becomeFollower(null, now, why);
        else master = null;
    }

    private void becomeFollower(String newMaster, long now, String why) {
        if (role == Role.MASTER) {
            stepDown(now, why);
            master = newMaster;
            return;
        }
        preVote = null;
        if (role != Role.FOLLOWER) setRole(Role.FOLLOWER, newMaster, now, why);
        else master = newMaster;
        electionDeadlineNanos = now + electionTimeout();
    }

    private void stepDown(long now, String why) {
        boolean wasCleared = mastership.cleared;
        long term = state.term();
        setRole(Role.FOLLOWER, null, now, why);
        if (commandActive) {
            emit(new Effect.StopCommand(commandTerm, why));
        } else {
            proofs.put(self, new Proof(Proof.Kind.SELF, self, term, wasCleared));
            if (wasCleared) offeredProof = new Proof(Proof.Kind.HANDOVER, self, term, true);
        }
        knowledge.masterCleared = wasCleared;
        electionDeadlineNanos = now + electionTimeout();
        if (shuttingDown && !commandActive && handOver == null) announceExit();
    }

    private void setRole(Role r, String newMaster, long now, String why) {
        Role old = role;
        // a master's own lease counts as a live master heard until the moment it stops being one
        if (old == Role.MASTER && r != Role.MASTER) knowledge.ownMastershipEndedNanos = now;
        role = r;
        master = newMaster;
        // the state of the role left is dropped; a candidacy starts afresh (becomeMaster has
        // already taken the grants along)
        if (r != Role.MASTER) mastership = null;
        candidate = r == Role.CANDIDATE ? new CandidateState(now) : null;
        emit(new Effect.RoleChanged(r, state.term(), newMaster, why));
        if (r == Role.MASTER) emit(new Effect.RunHook(Effect.Hook.ON_MASTER, state.term(), self));
        else if (old == Role.MASTER) emit(new Effect.RunHook(Effect.Hook.ON_FOLLOWER, state.term(), newMaster));
    }

    // =====================================================================================
    // Keep-alives
    // =====================================================================================

    private void publishKeepAlive(long now) {
        nextHeartbeatNanos = now + timing.heartbeatNanos();
        if (!outbox.mayAnnounce()) {   // never announce an unpersisted term
            keepAliveSuppressed = true;
            return;
        }
        keepAliveSuppressed = false;
        boolean isMaster = role == Role.MASTER;
        long contactAgo = isMaster ? 0 : (knowledge.lastLiveNanos >= 0 ? now - knowledge.lastLiveNanos : -1);
        emit(new Effect.Publish(new KeepAlive(self, state.term(), bootId, now, isMaster ? self : master,
                isMaster ? -1 : (master != null ? masterEchoNanos : -1), contactAgo, isMaster && mastership.cleared,
                isMaster ? null : offeredProof, lastLogTerm(), lastLogIndex())));
    }

    // =====================================================================================
    // Persistence and the held outbox
    // =====================================================================================

    /** Asks for the term and vote to be made durable; the writes of one event coalesce (see {@link Outbox}). */
    private void issuePersist() {
        outbox.persist(state);
    }

    private void onPersisted(long seq, long now) {
        if (outbox.acknowledged(seq)) trace("storage works again");
        if (outbox.allPersisted()) {
            outbox.release(e -> stale(e, now));
            if (keepAliveSuppressed) publishKeepAlive(now);
        }
    }

    private void onPersistFailed(Event.PersistFailed f, long now) {
        if (!outbox.isNewest(f.seq())) return;   // a newer write is on its way
        if (outbox.storageHealthy())
            trace("cannot persist term and vote (%s): refusing to vote or campaign until it works", f.reason());
        // what relied on the failed write must not go out
        outbox.failed(f.reason(), now + timing.heartbeatNanos());
        if (role == Role.CANDIDATE) becomeFollower(null, now, "cannot persist the vote: " + f.reason());
    }

    /**
     * A held message that no longer holds: a vote request whose round is over (a master was heard,
     * the term moved on), or a pre-vote granted before this node heard a live master.
     */
    private boolean stale(Effect e, long now) {
        if (e instanceof Effect.Respond r && r.message() instanceof VoteResponse v) {
            if (!v.granted()) return false;
            if (v.preVote()) return isSticky(now) || v.term() <= state.term();
            // A real vote is on disk either way; the grant is dropped only once it can no longer
            // make a master: a newer term began, or this node follows another live master (a
            // resumed agent works through its backlog at one instant, and may vote, then hear
            // the master of a newer term before its disk answers).
            return v.term() < state.term() || (master != null && !master.equals(r.to()) && isSticky(now));
        }
        if (!(e instanceof Effect.Request r) || !(r.message() instanceof VoteRequest v)) return false;
        if (v.preVote()) return preVote == null || v.requestId() != preVote.requestId || v.term() <= state.term() || isSticky(now);
        return role != Role.CANDIDATE || v.term() != state.term();
    }

    /** Messages go out only once every term and vote they may rely on is on disk. */
    protected void send(Effect e) {
        outbox.send(e);
    }

    private void emit(Effect e) {
        outbox.emit(e);
    }

    private void trace(String fmt, Object... args) {
        outbox.emit(new Effect.Trace(String.format(fmt, args)));
    }

    // =====================================================================================
    // Small things
    // =====================================================================================

    private long nextRequestId() {
        return ++requestCounter;
    }

    /** The replicated log arrives in a later issue; the vote rule already compares it. */
    protected long lastLogTerm() { return 0; }

    protected long lastLogIndex() { return 0; }

    private static long ms(long nanos) {
        return nanos / Timing.MS;
    }

    /** A snapshot for status, tests and the simulator. */
    public NodeView view(long nowNanos) {
        List<NodeView.PeerView> pv = peerTable.view(nowNanos);
        boolean isMaster = role == Role.MASTER;
        return new NodeView(self, role, state.term(), state.votedFor(), isMaster ? self : master,
                isMaster ? mastership.lease.endNanos() : -1, isMaster && mastership.cleared,
                isMaster ? mastership.clearAtNanos : -1, isMaster && commandActive,
                outbox.storageHealthy(), pv, isMaster && mastership.cleared ? mastership.clearedBy : null);
    }

    /** Why this master is (or is not yet) cleared to run its command, for logs and status; "" when not master. */
    public String clearReason() { return mastership != null ? mastership.clearReason() : ""; }
}

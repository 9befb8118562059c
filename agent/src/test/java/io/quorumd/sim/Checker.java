package io.quorumd.sim;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.Message;
import io.quorumd.core.NodeView;
import io.quorumd.core.Role;
import io.quorumd.core.TermState;
import io.quorumd.core.Timing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * Judges every step against SPEC.md, from the ground truth of the simulated world (not from what
 * the nodes believe). Safety: one master per term; one vote per node per term; nothing carrying
 * a term or a vote leaves before that term or vote is durable; no two hosts' command groups alive
 * at once (a frozen host's group: gone within 100 ms of the thaw); fencing tokens strictly
 * increase across masters; a command starts only with proof or after every other host's old
 * lease + stop_timeout (command permission). Liveness: after the last fault heals, a master with its command
 * running within the budget; a master that cannot reach a majority steps down within an
 * election timeout; a node that heard a live master less than t ago neither grants a
 * (pre-)vote nor campaigns (stickiness).
 */
final class Checker {
    private final Simulation sim;
    private final SimParams p;
    private final int n;

    private final TreeMap<Long, String> masterOfTerm = new TreeMap<>();
    private final TreeMap<Long, String> candidateOfTerm = new TreeMap<>();
    private final java.util.TreeSet<Long> contestedTerms = new java.util.TreeSet<>();
    private final List<TreeMap<Long, String>> votes = new ArrayList<>();
    private long maxCommandTerm = -1;
    private String maxCommandNode;
    /** vote requests received by a sticky voter: key -> why it was sticky; a grant for one is a violation */
    private final TreeMap<Long, String> stickyRequests = new TreeMap<>();

    final long livenessBudgetNanos;
    final long stepDownBoundNanos;
    boolean met;
    long metAtNanos = -1;
    // per master i and peer j: link state as of the last recompute (see recomputeIsolation)
    private final boolean[][] outOpen;
    private final boolean[][] inOpen;
    private final long[][] lastOutClose;
    private final long[][] frozenConfirm;
    private final long[] scheduledFrom;

    Checker(Simulation sim) {
        this.sim = sim;
        this.p = sim.p;
        this.n = p.nodes;
        for (int i = 0; i < n; i++) {
            votes.add(new TreeMap<>());
        }
        outOpen = new boolean[n][n];
        inOpen = new boolean[n][n];
        lastOutClose = new long[n][n];
        frozenConfirm = new long[n][n];
        for (long[] row : lastOutClose) Arrays.fill(row, Long.MIN_VALUE);
        for (long[] row : frozenConfirm) Arrays.fill(row, Long.MIN_VALUE);
        scheduledFrom = new long[n];
        Arrays.fill(scheduledFrom, Long.MAX_VALUE);
        Timing tm = p.timing;
        double rho = tm.clockDrift();
        long hb = tm.heartbeatNanos();
        long t = tm.electionTimeoutNanos();
        // SPEC 3: 2 t + stop_timeout (1 + 2ρ), on the slowest allowed clock, plus slack for what the
        // formula leaves out: two heartbeats (timers fire on ticks), six one-way delays (pre-vote
        // and vote round trips, one keep-alive and its echo) and three disk writes (candidate's
        // term and vote, voter's vote, one retry), and 1 ms of rounding.
        long slack = 2 * hb + 6 * p.maxLinkDelayNanos() + 3 * p.diskMaxNanos + SimParams.MS;
        livenessBudgetNanos = (long) Math.ceil((2 * t + tm.stopWaitNanos() + slack) / (1 - rho));
        // SPEC 3: one election timeout on the slowest clock, plus a heartbeat (tick granularity) and
        // one delay (an echo already in flight when the cut happened is dropped, but may be ahead of it)
        stepDownBoundNanos = (long) Math.ceil((t + hb) / (1 - rho)) + p.maxLinkDelayNanos() + SimParams.MS;
    }

    // ---------------------------------------------------------------- per step

    void beforeStep(SimAgent a, Event ev, long local) {
        if (ev instanceof Event.Received r) {
            Message m = r.message();
            if (m instanceof Message.KeepAlive k) noteKeepAlive(a, k, local);
            else if (m instanceof Message.VoteRequest v && v.transfer() == null) {
                NodeView before = a.view();
                if (before == null) return;
                String why = stickyTo(a, local, before.term(), sim.indexOf(v.from()));
                long key = stickyKey(a.host.index, sim.indexOf(v.from()), v.requestId());
                // judged per delivery: a duplicate that arrives once the voter has yielded may be granted
                if (why != null) stickyRequests.put(key, why);
                else stickyRequests.remove(key);
            }
        } else if (ev instanceof Event.PeerRefused pr) {
            int i = sim.indexOf(pr.peer());
            if (i >= 0) a.liveHeardLocal[i] = Long.MIN_VALUE;       // SPEC: a refusal ends stickiness
        }
    }

    void afterStep() {
        if (sim.healed && !met) checkMet();
    }

    /** The newest keep-alive from each peer's boot; a master's claim makes this agent sticky to it. */
    private void noteKeepAlive(SimAgent a, Message.KeepAlive k, long local) {
        int m = sim.indexOf(k.from());
        if (m < 0) return;
        if (a.kaBoot[m] != k.bootId()) {
            a.kaBoot[m] = k.bootId();   // a new run of that agent: it is no longer the master it was
            a.kaSent[m] = Long.MIN_VALUE;
            a.liveHeardLocal[m] = Long.MIN_VALUE;
        }
        if (k.sentAtNanos() <= a.kaSent[m]) return;      // reordered: older than one already heard
        a.kaSent[m] = k.sentAtNanos();
        if (k.claimsMastership()) {
            a.liveHeardLocal[m] = local;
            a.liveTerm[m] = k.term();
        } else {
            a.liveHeardLocal[m] = Long.MIN_VALUE;           // it says itself it is not master any more
        }
    }

    /** Why {@code a} is sticky now (a live master of term >= {@code termFloor} heard < t ago), or null. */
    private String stickyTo(SimAgent a, long local, long termFloor, int except) {
        long window = (long) (p.timing.electionTimeoutNanos() * 0.95);
        for (int m = 0; m < n; m++) {
            if (m == a.host.index || m == except || a.liveHeardLocal[m] == Long.MIN_VALUE) continue;
            long ago = local - a.liveHeardLocal[m];
            if (ago < window && a.liveTerm[m] >= termFloor)
                return "it heard live master " + p.ids[m] + " (term " + a.liveTerm[m] + ") " + SimTrace.ms(ago)
                        + " ago on its clock, and that master had not resigned, refused a connection or restarted";
        }
        return null;
    }

    private static long stickyKey(int voter, int from, long requestId) {
        return requestId * 100 + voter * 10L + from;
    }

    void onSend(SimAgent a, Message m, String to) {
        SimHost h = a.host;
        if (!h.id.equals(m.from()) || m.bootId() != a.bootId) {
            sim.violation(Violation.Kind.SAFETY, "contract", h.id + " (boot " + Long.toHexString(a.bootId & 0xffff)
                    + ") sent a message with from=" + m.from() + " boot=" + Long.toHexString(m.bootId() & 0xffff));
            return;
        }
        boolean pre = m instanceof Message.VoteRequest v0 && v0.preVote()
                || m instanceof Message.VoteResponse r0 && r0.preVote();
        TermState disk = h.disk;
        if (!pre && m.term() > disk.term()) {
            sim.violation(Violation.Kind.SAFETY, "persist-before-send", h.id + " sent " + SimTrace.message(m)
                    + (to != null ? " to " + to : "") + " carrying term " + m.term() + ", but its disk holds term "
                    + disk.term() + " (the Persist of the new term has not completed)");
            return;
        }
        if (m instanceof Message.VoteRequest v) {
            if (!v.preVote()) {
                String first = candidateOfTerm.putIfAbsent(v.term(), h.id);
                if (first != null && !first.equals(h.id) && contestedTerms.add(v.term())) sim.contestedTerms++;
                if (!voteDurable(disk, v.term(), h.id)) {
                    sim.violation(Violation.Kind.SAFETY, "persist-before-send", h.id + " asked for votes in term "
                            + v.term() + " before its own vote for itself was durable (disk: term " + disk.term()
                            + ", vote " + disk.votedFor() + ")");
                    return;
                }
            } else if (v.transfer() == null && v.term() > a.lastCampaignTerm) {
                a.lastCampaignTerm = v.term();
                String why = stickyTo(a, a.stepLocal, v.term() - 1, -1);
                if (why != null) {
                    long decided = v.sentAtNanos();
                    String when = "; it decided to campaign at local " + SimTrace.seconds(decided)
                            + (decided < a.stepLocal ? " and the request waited " + SimTrace.ms(a.stepLocal - decided)
                            + " in its outbox (for a Persist) before going out" : "");
                    sim.violation(Violation.Kind.LIVENESS, "stickiness", h.id + " campaigned (pre-vote for term "
                            + v.term() + ") although " + why + when);
                }
            }
        } else if (m instanceof Message.VoteResponse r && r.granted()) {
            if (!r.preVote()) {
                if (!voteDurable(disk, r.term(), to)) {
                    sim.violation(Violation.Kind.SAFETY, "persist-before-send", h.id + " granted its term-" + r.term()
                            + " vote to " + to + " before that vote was durable (disk: term " + disk.term() + ", vote "
                            + disk.votedFor() + ")");
                    return;
                }
                String prev = votes.get(h.index).putIfAbsent(r.term(), to);
                if (prev != null && !prev.equals(to)) {
                    sim.violation(Violation.Kind.SAFETY, "one vote per term", h.id + " voted for " + prev + " and then for "
                            + to + " in term " + r.term());
                    return;
                }
            }
            String why = stickyRequests.remove(stickyKey(h.index, sim.indexOf(to), r.requestId()));
            if (why != null)
                sim.violation(Violation.Kind.LIVENESS, "stickiness", h.id + " granted a " + (r.preVote() ? "pre-vote" : "vote")
                        + " to " + to + " (term " + r.term() + ", no hand-over) although " + why);
        } else if (m instanceof Message.KeepAlive k && k.claimsMastership()) {
            claimMaster(k.term(), h.id, "its keep-alive");
        } else if (m instanceof Message.AppendAck ack) {
            onAppendAck(h, ack, to);
        } else if (m instanceof Message.InstallSnapshotAck ack) {
            onSnapshotAck(h, ack, to);
        }
    }

    /**
     * A vote may be announced once the disk holds it, or a later term: either way no restart can
     * make this node vote differently in that term.
     */
    private static boolean voteDurable(TermState disk, long term, String candidate) {
        return disk.term() > term || disk.term() == term && candidate.equals(disk.votedFor());
    }

    // ---------------------------------------------------------------- the replicated log and the store

    /** the entry each index was first applied with, on any node (State Machine Safety) */
    private final TreeMap<Long, io.quorumd.log.LogEntry> applied = new TreeMap<>();

    /**
     * An entry is applied only once committed: a majority's disks hold it (an entry never leaves a
     * disk once committed, so this holds at every later apply too), and every node applies the same
     * entry at the same index.
     */
    void onApply(SimAgent a, Effect.Apply e) {
        io.quorumd.log.LogEntry x = e.entry();
        io.quorumd.log.LogEntry first = applied.putIfAbsent(x.index(), x);
        if (first != null && !first.equals(x)) {
            sim.violation(Violation.Kind.SAFETY, "state machine safety", a.host.id + " applied " + x + " at index "
                    + x.index() + " where " + first + " was applied before");
            return;
        }
        int holding = 0;
        StringBuilder who = new StringBuilder();
        for (SimHost h : sim.hosts) {
            long t = h.diskTermAt(x.index(), this::appliedTermAt);
            if (t == x.term()) holding++;
            who.append(' ').append(h.id).append('=').append(t < 0 ? "none" : "t" + t);
        }
        if (holding < (n / 2 + 1))
            sim.violation(Violation.Kind.SAFETY, "commit durability", a.host.id + " applied " + x + " (term " + x.term()
                    + ") but only " + holding + " of " + n + " disks hold it:" + who);
    }

    /** The term of the entry first applied at {@code index} by any node, or -1 (what a snapshot covering it holds). */
    long appliedTermAt(long index) {
        io.quorumd.log.LogEntry e = applied.get(index);
        return e == null ? -1 : e.term();
    }

    /** A follower acknowledges only entries its disk holds (its snapshot included). */
    private void onAppendAck(SimHost h, Message.AppendAck a, String to) {
        if (a.success() && a.matchIndex() > h.diskLastIndex())
            sim.violation(Violation.Kind.SAFETY, "log persist-before-ack", h.id + " acknowledged index " + a.matchIndex()
                    + " to " + to + " but its disk holds entries up to " + h.diskLastIndex());
    }

    /** A follower says it installed a snapshot only once its disk holds every entry the snapshot covers. */
    private void onSnapshotAck(SimHost h, Message.InstallSnapshotAck a, String to) {
        if (a.installed() && a.lastIndex() > h.diskLastIndex())
            sim.violation(Violation.Kind.SAFETY, "log persist-before-ack", h.id + " acknowledged snapshot " + a.lastIndex()
                    + " to " + to + " as installed but its disk holds entries up to " + h.diskLastIndex()
                    + (h.snap == null ? " and no snapshot" : " (snapshot " + h.snap.index() + ")"));
    }

    /** The run's history of client calls must be linearizable (SPEC: linearizable reads and writes). */
    void checkHistory(io.quorumd.lin.History history) {
        io.quorumd.lin.Verdict v = io.quorumd.lin.Linearizability.check(history);
        sim.linearizabilityNanos += v.nanos();
        if (!v.violations().isEmpty()) {
            String text = v.toString();
            sim.violation(Violation.Kind.SAFETY, "linearizability", text.length() > 6000 ? text.substring(0, 6000) + "..." : text);
        } else if (!v.undecided().isEmpty()) {
            sim.undecidedHistories++;
        }
    }

    void onDurable(SimHost h, Effect.Persist e) {
        TermState prev = h.disk;
        if (e.term() < prev.term())
            sim.violation(Violation.Kind.SAFETY, "term state", h.id + " wrote term " + e.term() + " over term " + prev.term());
        else if (e.term() == prev.term() && prev.votedFor() != null && !prev.votedFor().equals(e.votedFor()))
            sim.violation(Violation.Kind.SAFETY, "one vote per term", h.id + " rewrote its term-" + e.term() + " vote "
                    + prev.votedFor() + " as " + e.votedFor());
    }

    void onRoleChanged(SimAgent a, Effect.RoleChanged e) {
        SimHost h = a.host;
        if (e.role() != Role.MASTER) return;
        claimMaster(e.term(), h.id, "RoleChanged");
        if (e.term() > h.disk.term())
            sim.violation(Violation.Kind.SAFETY, "persist-before-send", h.id + " became master of term " + e.term()
                    + " while its disk holds term " + h.disk.term());
        sim.listener.onMaster(h, e.term());
    }

    private void claimMaster(long term, String id, String how) {
        String prev = masterOfTerm.putIfAbsent(term, id);
        if (prev != null && !prev.equals(id))
            sim.violation(Violation.Kind.SAFETY, "election safety", "two masters in term " + term + ": " + prev
                    + " and " + id + " (" + how + ")");
    }

    void onStartCommand(SimAgent a, Effect.StartCommand e) {
        SimHost h = a.host;
        if (!h.id.equals(e.master()) || h.role != Role.MASTER || h.roleTerm != e.term())
            sim.violation(Violation.Kind.SAFETY, "command permission", h.id + " emitted StartCommand(term " + e.term()
                    + ", master " + e.master() + ") while its role is " + h.role + " of term " + h.roleTerm);
    }

    // ---------------------------------------------------------------- the command's process groups

    private boolean excused(SimHost o) {
        return o.frozen || sim.now() < o.thawGraceUntil;
    }

    void onCommandStart(SimHost h, SimHost.Group g) {
        for (SimHost o : sim.hosts) {
            if (o == h || o.group == null || excused(o)) continue;
            sim.violation(Violation.Kind.SAFETY, "exclusive command", h.id + " started its command (term " + g.term
                    + ") while " + describeGroup(o) + " still runs");
            return;
        }
        if (g.token < maxCommandTerm || g.token == maxCommandTerm && !h.id.equals(maxCommandNode)) {
            sim.violation(Violation.Kind.SAFETY, "fencing token", h.id + " started its command (term " + g.term
                    + ") with QUORUMD_TERM=" + g.token + " after " + maxCommandNode + " had started one with "
                    + maxCommandTerm);
            return;
        }
        String master = masterOfTerm.get(g.term);
        if (!h.id.equals(master)) {
            sim.violation(Violation.Kind.SAFETY, "command permission", h.id + " started its command for term " + g.term
                    + " whose master is " + master);
            return;
        }
        String early = unclearedBy(h);
        if (early != null) {
            sim.violation(Violation.Kind.SAFETY, "command permission", h.id + " started its command (term " + g.term
                    + ") without clearance: " + early);
            return;
        }
        maxCommandTerm = g.token;
        maxCommandNode = h.id;
        sim.listener.onCommandStart(h, g);
        afterStep();
    }

    /**
     * SPEC 2, judged from the world: a command may start only once every other host's last command
     * group is surely gone: its watchdog's SIGKILL deadline (lease end + stop_timeout, on that
     * host's clock) has passed, or its end was witnessed by something that can prove it (that
     * host's running agent: hand-over or restart certificate; or a fence) before now. Silence is no
     * proof: a group that ended unwitnessed (its agent dead or paused, its host without power)
     * proves nothing until its deadline. Returns why this start is early, or null.
     */
    private String unclearedBy(SimHost h) {
        long now = sim.now();
        for (SimHost o : sim.hosts) {
            if (o == h) continue;
            if (o.group != null) {
                long kill = o.wdKillAtLocal == Long.MAX_VALUE ? Long.MAX_VALUE : o.clock.realAt(o.wdKillAtLocal);
                if (now < kill) return describeGroup(o) + " is alive and its SIGKILL deadline is "
                        + (kill == Long.MAX_VALUE ? "unset" : SimTrace.ms(kill - now) + " away");
            } else if (o.lastKillReal != Long.MIN_VALUE && now < o.lastKillReal && o.goneWitnessedAt > now) {
                return o.id + "'s last command group ended unwitnessed (no agent or fence could prove it yet) and its"
                        + " SIGKILL deadline (old lease + stop_timeout) is " + SimTrace.ms(o.lastKillReal - now) + " away";
            }
        }
        return null;
    }

    void onCommandEnd(SimHost h, SimHost.Group g) {
        sim.listener.onCommandEnd(h, g);
    }

    /** SPEC "How tests judge exclusivity": after a thaw the old group is gone within 100 ms. */
    void scheduleThawCheck(SimHost h, SimHost.Group g, long at) {
        sim.q.at(at, () -> {
            if (h.group != g || h.frozen) return;
            for (SimHost o : sim.hosts) {
                // a group on a host that is frozen now is that host's thaw check's to judge
                if (o == h || o.group == null || excused(o)) continue;
                sim.violation(Violation.Kind.SAFETY, "exclusive command", describeGroup(h)
                        + " is still alive 100 ms after its host thawed, while " + describeGroup(o) + " runs");
                return;
            }
        });
    }

    String describeGroup(SimHost o) {
        SimHost.Group g = o.group;
        StringBuilder s = new StringBuilder();
        s.append(o.id).append("'s command (term ").append(g.term).append(", started at ")
                .append(SimTrace.seconds(g.startedAtNanos));
        if (g.signalled) s.append(", stop signal at ").append(SimTrace.seconds(g.signalledAtNanos));
        else s.append(", not signalled");
        s.append(", watchdog deadlines stop@").append(SimTrace.seconds(o.clock.realAt(o.wdStopAtLocal)))
                .append(" kill@").append(SimTrace.seconds(o.clock.realAt(o.wdKillAtLocal))).append(" real");
        s.append(", agent ").append(o.agent == null ? "down" : o.paused ? "paused" : o.frozen ? "frozen" : "up");
        return s.append(')').toString();
    }

    // ---------------------------------------------------------------- liveness

    void onHeal() {
        checkMet();
        sim.q.at(sim.now() + livenessBudgetNanos, this::livenessDeadline);
    }

    /**
     * When the liveness clock starts: at the heal, or, if every agent's command gave up before it
     * (SPEC: no campaign for restart_window), when the first of them may campaign again.
     */
    long livenessStart() {
        long firstFree = Long.MAX_VALUE;
        for (SimHost h : sim.hosts) {
            if (h.agent == null || !mayWin(h)) continue;
            firstFree = Math.min(firstFree, Math.max(h.agent.noCampaignUntil, 0));
        }
        return Math.max(p.healAtNanos, firstFree == Long.MAX_VALUE ? 0 : firstFree);
    }

    /**
     * With the store, only a node whose log is at least as up to date as a majority's (itself
     * included) can win an election (Raft §5.4.1): while the only such nodes may not campaign (their
     * command gave up), nobody can be master, and the liveness clock starts when the first may again.
     */
    private boolean mayWin(SimHost h) {
        if (!p.kv) return true;
        long term = h.agent.node.lastLogTerm();
        long index = h.agent.node.lastLogIndex();
        int behindOrEqual = 0;
        for (SimHost o : sim.hosts) {
            if (o.agent == null) {
                behindOrEqual++;   // it restarts at the heal from its disk; counted as a possible voter
                continue;
            }
            long ot = o.agent.node.lastLogTerm();
            long oi = o.agent.node.lastLogIndex();
            if (term > ot || term == ot && index >= oi) behindOrEqual++;
        }
        return behindOrEqual >= n / 2 + 1;
    }

    private void checkMet() {
        if (met) return;
        for (SimHost h : sim.hosts) {
            if (h.agentRunning() && h.role == Role.MASTER && h.group != null && h.group.term == h.roleTerm
                    && h.group.owner == h.agent) {
                met = true;
                metAtNanos = sim.now();
                sim.onLivenessMet();
                return;
            }
        }
    }

    private void livenessDeadline() {
        if (met) return;
        long start = livenessStart();
        if (sim.now() < start + livenessBudgetNanos) {
            sim.extendEnd(start + livenessBudgetNanos + 1);
            sim.q.at(start + livenessBudgetNanos, this::livenessDeadline);
            return;
        }
        sim.violation(Violation.Kind.LIVENESS, "no master", "no master with its command running "
                + SimTrace.ms(livenessBudgetNanos) + " after the last fault healed at " + SimTrace.seconds(start)
                + "s; pending:\n" + pending());
    }

    /** What each node is waiting for, from its own view. */
    String pending() {
        StringBuilder s = new StringBuilder();
        for (SimHost h : sim.hosts) {
            s.append("    ").append(h.id).append(": ");
            if (!h.up) s.append("host down");
            else if (h.agent == null) s.append("agent down");
            else {
                long local = h.local();
                NodeView v = h.agent.view();
                if (v == null) s.append("(no view) role=").append(h.role);
                else {
                    s.append(v.role().label()).append(" term=").append(v.term()).append(" master=").append(v.master())
                            .append(" vote=").append(v.votedFor());
                    if (v.leaseEndNanos() >= 0) s.append(" lease ends in ").append(SimTrace.ms(v.leaseEndNanos() - local));
                    s.append(" cleared=").append(v.cleared());
                    if (v.clearAtNanos() >= 0) s.append(" clearAt in ").append(SimTrace.ms(v.clearAtNanos() - local));
                    s.append(" permitted=").append(v.commandPermitted()).append(" storage=")
                            .append(v.storageHealthy() ? "ok" : "FAILING");
                    s.append(" nextDeadline in ").append(SimTrace.ms(h.agent.node.nextDeadlineNanos() - local));
                }
                if (h.paused) s.append(" PAUSED");
            }
            if (h.group != null) s.append("; ").append(describeGroup(h));
            s.append('\n');
        }
        return s.toString();
    }

    void onAgentChange() {
        recomputeIsolation();
    }

    void onTopologyChanged() {
        recomputeIsolation();
    }

    /**
     * A master's lease runs from the send time of a keep-alive (or vote request) that a majority
     * echoed. Peer j can echo a keep-alive sent at s only if the link i>j was open at some s' >= s
     * (j's echo is monotonic: it names the newest keep-alive it holds; a paused or frozen peer
     * still counts, its socket buffers them) and j>i was open, with j's agent running, at some
     * moment after s'. {@link #confirmable} is the latest such s per peer; {@code T} (the
     * majority's) is the newest send time any echo can still vouch for, and the master must be gone
     * {@link #stepDownBoundNanos} after it. Links that are never open together at one instant can
     * still confirm (j hears at s', is cut off, echoes once j>i reopens), so this is judged per
     * peer and over time, not by counting who hears whom at one moment.
     */
    private void recomputeIsolation() {
        if (sim.net == null || sim.hosts == null) return;
        long now = sim.now();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                SimHost o = sim.hosts[j];
                if (j == i || o == null) continue;
                boolean out = sim.net.open(i, j) && o.up && o.agent != null;
                boolean in = sim.net.open(j, i) && o.agentRunning();
                if (outOpen[i][j] && !out) lastOutClose[i][j] = now;
                if (inOpen[i][j] && !in) frozenConfirm[i][j] = outOpen[i][j] ? now : lastOutClose[i][j];
                outOpen[i][j] = out;
                inOpen[i][j] = in;
            }
            long t0 = majorityConfirmable(i, now);
            if (t0 != Long.MIN_VALUE && t0 < now && t0 != scheduledFrom[i]) {
                scheduledFrom[i] = t0;
                long at = Math.max(now, t0 + stepDownBoundNanos);
                int master = i;
                sim.q.at(at, () -> checkStepDown(master, t0));
            }
        }
    }

    /** The newest send time of i's that peer j can echo, as of now; Long.MIN_VALUE: none. */
    private long confirmable(int i, int j, long now) {
        if (!inOpen[i][j]) return frozenConfirm[i][j];
        return outOpen[i][j] ? now : lastOutClose[i][j];
    }

    /** The newest send time a majority (i included, at now) can echo. */
    private long majorityConfirmable(int i, long now) {
        int need = n / 2;   // peers besides i
        if (need == 0) return now;
        long[] c = new long[n - 1];
        int k = 0;
        for (int j = 0; j < n; j++) if (j != i) c[k++] = confirmable(i, j, now);
        Arrays.sort(c);
        return c[c.length - need];
    }

    private void checkStepDown(int i, long since) {
        long now = sim.now();
        long t0 = majorityConfirmable(i, now);
        if (t0 != since) return;   // an echo can vouch for a newer keep-alive: a later check judges it
        SimHost h = sim.hosts[i];
        if (h.agentRunning() && h.role == Role.MASTER && h.activeSince <= since && now >= since + stepDownBoundNanos)
            sim.violation(Violation.Kind.LIVENESS, "step down", h.id + ": no echo from a majority can vouch for a"
                    + " keep-alive sent after " + SimTrace.seconds(since) + "s, but it is still master of term "
                    + h.roleTerm + " " + SimTrace.ms(now - since) + " later");
    }
}

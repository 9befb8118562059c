package io.quorumd.sim;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.Node;
import io.quorumd.core.Proof;
import io.quorumd.core.Role;
import io.quorumd.core.TermState;
import io.quorumd.log.LogEntry;
import io.quorumd.log.RaftLog;

import java.util.ArrayList;

/**
 * One machine and everything on it outside the JVM: its monotonic clock, its disk (term and vote
 * file; a write is durable only once the disk completes it), the state_dir record of the last
 * command, the command's process group, and the watchdog that stops that group on the host's clock
 * whatever the agent does. The agent itself is a {@link SimAgent}, replaced at every restart.
 */
final class SimHost {
    /** One process group of the managed command. */
    static final class Group {
        final long term;
        /** QUORUMD_TERM handed to the command: the term, unless the stale-token mutant reuses an older one */
        final long token;
        final long startedAtNanos;
        /** the agent run that started it: only it supervises the group and hears of its end */
        final SimAgent owner;
        boolean signalled;
        long signalledAtNanos = -1;
        boolean dieAtThaw;

        Group(long term, long token, long startedAtNanos, SimAgent owner) {
            this.term = term;
            this.token = token;
            this.startedAtNanos = startedAtNanos;
            this.owner = owner;
        }
    }

    /** Something for the agent's event loop; held while the agent is paused or its host frozen. */
    interface Item {
        void run(SimAgent a);
    }

    final Simulation sim;
    final int index;
    final String id;
    HostClock clock;
    boolean up = true;
    private boolean everBooted;

    // the disk: term/vote file; writes complete in order, unfinished ones die with the agent
    TermState disk = TermState.INITIAL;
    private long diskBusyUntil;
    private int diskEpoch;
    int storageFailures;
    /** faults making this host's required self-fence device unusable (FENCE_UNUSABLE) */
    int fenceUnusable;

    // the log's segments (a file apart from the term file, with its own fsyncs): whole entries only,
    // diskLog.get(k) is entry diskLogBase + 1 + k (the entries up to diskLogBase are compacted away)
    final ArrayList<LogEntry> diskLog = new ArrayList<>();
    long diskLogBase;
    /** faults making every log and snapshot write on this host fail (LOG_WRITE_FAIL: disk full) */
    int logFailures;
    /**
     * a log write failed: like LogStorage ("unusable until reopened") the log refuses every later
     * write until one that starts at or before its end (the core's rewrite from its durable index)
     */
    boolean logBroken;

    /** A durable snapshot of the store: every entry up to {@code index} (of {@code term}) applied. */
    record Snap(long index, long term, byte[] data) {}

    /** the current durable snapshot (null: none), and the one before it (still readable for a transfer under way) */
    Snap snap;
    Snap prevSnap;
    /** the snapshot being received, chunk by chunk: lost with the agent (the partial file is discarded at start) */
    private java.io.ByteArrayOutputStream partial;
    private long partialIndex = -1;
    /** the newest flush of the log's file (group commit): it runs from start to end */
    private long logFlushStart;
    private long logFlushEnd;

    // state_dir: term of the last command started on this host (-1: never)
    long recordedTerm = -1;
    /** QUORUMD_TERM of the first command started on this host (the stale-token mutant reuses it); -1: none */
    long firstToken = -1;

    /**
     * The last command group's end as a proof could know it (checker rule "command permission"):
     * the real time of its watchdog's SIGKILL deadline when it ended (until then a new master
     * without proof must wait), and the real time its end was first witnessed by something that
     * can prove it: an agent run of this host (hand-over, certificate) or a fence; MAX_VALUE: not
     * yet. Long.MIN_VALUE: no group ever ended here.
     */
    long lastKillReal = Long.MIN_VALUE;
    long goneWitnessedAt = Long.MIN_VALUE;

    Group group;
    long wdStopAtLocal = Long.MAX_VALUE;
    long wdKillAtLocal = Long.MAX_VALUE;
    private int wdVersion;

    SimAgent agent;
    boolean paused;
    long pausedUntil;
    boolean frozen;
    long frozenUntil;
    /** real time since which the agent has run without pause, freeze or restart */
    long activeSince;
    /** the frozen-host grace: overlap is judged again from here (SPEC: gone within 100 ms of the thaw) */
    long thawGraceUntil = -1;
    private final ArrayList<Item> held = new ArrayList<>();

    // what the checker knows of this host's role, from RoleChanged
    Role role;
    long roleTerm;
    long roleSince;

    long plannedRestartAt = Long.MAX_VALUE;
    /** armed by a CRASH_AFTER_VOTE fault: restart delay after the crash; -1 when not armed */
    long crashAfterVoteNanos = -1;
    boolean shuttingDown;

    SimHost(Simulation sim, int index) {
        this.sim = sim;
        this.index = index;
        this.id = sim.p.ids[index];
        this.clock = new HostClock(sim.p.clockOffsetNanos[index], sim.p.clockRate[index]);
    }

    long local() {
        return clock.local(sim.now());
    }

    boolean agentRunning() {
        return up && agent != null && !paused && !frozen;
    }

    // ---------------------------------------------------------------- agent life

    void boot() {
        if (!up || agent != null) return;
        long bootId = sim.nodeRandom.nextLong();
        Proof cert = certificate();
        TermState state = disk;
        if (sim.mutant.forgetVote && everBooted && state.votedFor() != null) {
            state = new TermState(state.term(), null);
            disk = state;
        }
        boolean everBootedBefore = everBooted;
        everBooted = true;
        long now = sim.now();
        Node node;
        try {
            node = sim.mutant.factory.create(sim.configs[index], state, bootId, cert, sim.nodeRandom.split(), local());
        } catch (RuntimeException e) {
            sim.violation(Violation.Kind.SAFETY, "core exception", id + ": new Node(...) threw " + e);
            return;
        }
        io.quorumd.kv.KvMachine store = new io.quorumd.kv.KvMachine(io.quorumd.kv.KvLimits.defaults());
        partial = null;
        partialIndex = -1;
        if (sim.p.kv) {
            if (sim.mutant.forgetLogTail > 0 && everBootedBefore) {
                int keep = Math.max(0, diskLog.size() - sim.mutant.forgetLogTail);
                diskLog.subList(keep, diskLog.size()).clear();
            }
            try {
                // recovery as the agent does it: the snapshot, then the stored entries after it if they follow it
                long base = snap == null ? 0 : snap.index();
                long baseTerm = snap == null ? 0 : snap.term();
                java.util.List<LogEntry> tail = new ArrayList<>();
                boolean follows = tailFollowsSnapshot();
                if (follows)
                    for (LogEntry e : diskLog) if (e.index() > base) tail.add(e);
                // and the stored log is compacted to the snapshot (LogStorage.open drops the segments at
                // or below it), all of it when it does not follow the snapshot: the next write appends base + 1
                if (snap != null) {
                    if (!follows) diskLog.clear();
                    else if (base > diskLogBase) diskLog.subList(0, (int) (base - diskLogBase)).clear();
                    diskLogBase = Math.max(diskLogBase, base);
                }
                if (snap != null) store = io.quorumd.kv.KvMachine.restore(snap.data(), io.quorumd.kv.KvLimits.defaults());
                node.recoverLog(new RaftLog(base, baseTerm, tail, base));
                node.snapshotPolicy(new io.quorumd.core.SnapshotPolicy(sim.p.snapshotEvery, Long.MAX_VALUE));
            } catch (RuntimeException | io.quorumd.kv.KvSnapshotException e) {
                sim.violation(Violation.Kind.SAFETY, "core exception", id + ": recovery threw " + Simulation.stack(e));
                return;
            }
        }
        agent = new SimAgent(this, node, bootId, store);
        witnessGroupGone();
        activeSince = now;
        paused = false;
        shuttingDown = false;
        role = Role.FOLLOWER;
        roleTerm = state.term();
        roleSince = now;
        plannedRestartAt = Long.MAX_VALUE;
        if (sim.trace != null)
            sim.trace.note(now, id, "agent boots: boot=" + Long.toHexString(bootId & 0xffff) + " disk=(t" + state.term()
                    + ",vote=" + state.votedFor() + ") certificate=" + (cert == null ? "none" : SimTrace.proof(cert))
                    + (group != null ? " (its old command group, term " + group.term + ", still runs)" : ""));
        sim.checker.onAgentChange();
        sim.net.onAgentUp(this);
        agent.rescheduleTick();
        if (fenceUnusable > 0) reportFence();   // the agent checks the device at start
    }

    /** The agent learns whether its required self-fence device can be used (FenceEligibility). */
    void reportFence() {
        SimAgent a = agent;
        if (a == null) return;
        boolean usable = fenceUnusable == 0;
        post(a, x -> x.deliver(new Event.FenceEligibility(usable, usable ? "" : "watchdog device gone")));
    }

    /**
     * SPEC "restart certificate": only a restarted agent whose previous command group is empty
     * offers one; a first boot (empty state_dir) offers none.
     */
    private Proof certificate() {
        if (!everBooted) return null;
        if (group != null && !sim.mutant.eagerCertificate) return null;
        if (recordedTerm < 0) return new Proof(Proof.Kind.CERTIFICATE, id, 0, false);
        return new Proof(Proof.Kind.CERTIFICATE, id, recordedTerm, true);
    }

    /** The agent process dies (SIGKILL, crash, or exit after ReadyToExit). */
    void agentDies(String why) {
        SimAgent a = agent;
        if (a == null) return;
        a.alive = false;
        agent = null;
        held.clear();
        paused = false;
        shuttingDown = false;
        role = null;
        diskEpoch++;                      // writes not yet completed are lost
        logBroken = false;                // the next run reopens its log
        diskBusyUntil = sim.now();
        logFlushStart = logFlushEnd = sim.now();
        if (sim.trace != null) sim.trace.note(sim.now(), id, "agent dies: " + why);
        if (group != null) {
            // SPEC 4: the watchdog stops the command at once when its agent dies
            stopSignal("watchdog: agent died");
            armKillNoLaterThan(local() + sim.p.timing.stopTimeoutNanos());
        }
        sim.net.onAgentDown(this);
        sim.checker.onAgentChange();
        if (plannedRestartAt != Long.MAX_VALUE) scheduleRestart(plannedRestartAt);
    }

    void scheduleRestart(long atNanos) {
        plannedRestartAt = atNanos;
        if (agent != null) return;        // restarts once it has exited
        if (atNanos >= sim.p.healAtNanos && !sim.healed) return;   // the heal restarts it
        sim.q.at(atNanos, () -> {
            if (!up) powerOn();
            else boot();
        });
    }

    void powerLoss() {
        if (!up) return;
        up = false;                       // first: a host without power answers nothing, not even RST
        agentDies("host lost power");
        if (group != null) groupDied(group, "host lost power", true);
        sim.checker.onAgentChange();
    }

    void powerOn() {
        if (up) return;
        up = true;
        // CLOCK_MONOTONIC starts again near zero after a reboot
        long uptime = 3_000 * SimParams.MS + sim.world.nextLong(10_000 * SimParams.MS);
        clock = new HostClock(uptime - (long) Math.floor(sim.now() * clock.rate), clock.rate);
        wdStopAtLocal = wdKillAtLocal = Long.MAX_VALUE;
        wdVersion++;
        boot();
    }

    void pause(long until) {
        if (agent == null || frozen) return;
        paused = true;
        pausedUntil = Math.max(pausedUntil, until);
        if (sim.trace != null) sim.trace.note(sim.now(), id, "agent paused until " + SimTrace.seconds(pausedUntil));
        sim.checker.onAgentChange();
        sim.q.at(until, () -> {
            if (paused && sim.now() >= pausedUntil) resume();
        });
    }

    void resume() {
        if (!paused) return;
        paused = false;
        activeSince = sim.now();
        if (agentRunning()) witnessGroupGone();
        if (sim.trace != null) sim.trace.note(sim.now(), id, "agent resumes (" + held.size() + " events waiting)");
        sim.checker.onAgentChange();
        drain();
    }

    void freeze(long until) {
        if (!up || frozen) return;
        frozen = true;
        frozenUntil = until;
        if (sim.trace != null) sim.trace.note(sim.now(), id, "host frozen until " + SimTrace.seconds(until));
        sim.checker.onAgentChange();
        sim.q.at(until, () -> {
            if (frozen && sim.now() >= frozenUntil) thaw();
        });
    }

    void thaw() {
        if (!frozen) return;
        frozen = false;
        activeSince = sim.now();
        thawGraceUntil = sim.now() + 100 * SimParams.MS;
        if (sim.trace != null) sim.trace.note(sim.now(), id, "host thawed");
        Group g = group;
        if (g != null) {
            if (g.dieAtThaw) groupDied(g, "exited (its stop signal arrived before the freeze)", true);
            else watchdogWake();
            sim.checker.scheduleThawCheck(this, g, thawGraceUntil);
        }
        if (agentRunning()) witnessGroupGone();
        sim.checker.onAgentChange();
        if (!paused) drain();
    }

    /** Hands {@code item} to agent run {@code a}: now, or when it runs again. */
    void post(SimAgent a, Item item) {
        if (a != agent || !a.alive) return;
        if (paused || frozen) held.add(item);
        else item.run(a);
    }

    /** Posts through the event queue, so that nothing re-enters a node while it is being handled. */
    void postSoon(SimAgent a, Item item) {
        sim.q.at(sim.now(), () -> post(a, item));
    }

    private void drain() {
        SimAgent a = agent;
        while (a != null && a == agent && !paused && !frozen && !held.isEmpty() && sim.violation == null) {
            Item i = held.remove(0);
            i.run(a);
        }
        if (a != null && a == agent && !paused && !frozen) a.maybeTick();
    }

    // ---------------------------------------------------------------- disk

    void write(SimAgent a, Effect.Persist e) {
        long now = sim.now();
        long latency = sim.p.diskMinNanos + sim.world.nextLong(Math.max(1, sim.p.diskMaxNanos - sim.p.diskMinNanos));
        long done = Math.max(now, diskBusyUntil) + latency;
        diskBusyUntil = done;
        int epoch = diskEpoch;
        sim.q.at(done, () -> {
            if (epoch != diskEpoch) return;            // the agent died first: never written
            boolean fail = storageFailures > 0;
            if (!fail) {
                sim.checker.onDurable(this, e);
                disk = new TermState(e.term(), e.votedFor());
            }
            Event ev = fail ? new Event.PersistFailed(e.seq(), "No space left on device (simulated)")
                    : new Event.Persisted(e.seq());
            post(a, x -> x.deliver(ev));
        });
    }

    /**
     * The log's own file: writes complete in order, in group commits (a write issued while a flush
     * runs waits for the next one, which covers all such writes); one lost with its agent never happened.
     */
    void writeLog(SimAgent a, Effect.PersistLog e) {
        long now = sim.now();
        // group commit: a write joins the flush that has not started yet, or starts the next one
        // when the current one ends (one fsync covers every write issued meanwhile)
        if (now > logFlushStart || logFlushEnd <= now) {
            long latency = sim.p.diskMinNanos + sim.world.nextLong(Math.max(1, sim.p.diskMaxNanos - sim.p.diskMinNanos));
            logFlushStart = Math.max(now, logFlushEnd);
            logFlushEnd = logFlushStart + latency;
        }
        long done = logFlushEnd;
        int epoch = diskEpoch;
        sim.q.at(done, () -> {
            if (epoch != diskEpoch) return;
            boolean reopens = e.truncateFrom() > 0 && e.truncateFrom() <= diskLogLast() + 1;
            if (logFailures > 0 || logBroken && !reopens) {
                // disk full, or a log that failed before: nothing of this write is on disk
                logBroken = true;
                sim.logWriteFailures++;
                String why = logFailures > 0 ? "No space left on device (simulated)" : "log storage unusable after a failed write";
                post(a, y -> y.deliver(new Event.LogPersistFailed(e.seq(), why)));
                return;
            }
            logBroken = false;
            if (e.truncateFrom() > 0) {
                if (e.truncateFrom() <= diskLogBase) {
                    sim.violation(Violation.Kind.SAFETY, "contract", id + " truncated its log from " + e.truncateFrom()
                            + ", inside the compacted prefix (up to " + diskLogBase + ")");
                    return;
                }
                if (e.truncateFrom() <= diskLogLast()) diskLog.subList((int) (e.truncateFrom() - diskLogBase - 1), diskLog.size()).clear();
            }
            for (LogEntry x : e.entries()) {
                if (x.index() != diskLogLast() + 1) {
                    sim.violation(Violation.Kind.SAFETY, "contract", id + " wrote log entry " + x.index()
                            + " after entry " + diskLogLast() + " on its disk");
                    return;
                }
                diskLog.add(x);
            }
            post(a, y -> y.deliver(new Event.LogPersisted(e.seq())));
        });
    }

    /** The last entry index the log file holds (its compacted base when it holds none). */
    long diskLogLast() {
        return diskLogBase + diskLog.size();
    }

    /**
     * Compaction, in order with the log writes issued before it: the entries up to {@code upTo} go
     * (every entry with {@code discardAll}). Never acknowledged, never fails: it only frees space.
     */
    void compactLog(SimAgent a, Effect.CompactLog e) {
        long at = Math.max(sim.now(), logFlushEnd);
        int epoch = diskEpoch;
        sim.q.at(at, () -> {
            if (epoch != diskEpoch) return;
            if (e.discardAll() || diskLogLast() <= e.upToIndex()) {
                diskLog.clear();
                diskLogBase = Math.max(diskLogBase, e.upToIndex());
            } else if (e.upToIndex() > diskLogBase) {
                diskLog.subList(0, (int) (e.upToIndex() - diskLogBase)).clear();
                diskLogBase = e.upToIndex();
            }
        });
    }

    /** Whether recovery keeps the stored entries after the snapshot: they start right after it, or hold its entry. */
    boolean tailFollowsSnapshot() {
        if (snap == null) return true;
        long s = snap.index();
        if (diskLogBase >= s) return diskLogBase == s;
        if (diskLogLast() < s) return false;
        return diskLog.get((int) (s - diskLogBase - 1)).term() == snap.term();
    }

    /** The last index this host's disk holds (snapshot and log as recovery reads them). */
    long diskLastIndex() {
        long s = snap == null ? 0 : snap.index();
        return tailFollowsSnapshot() ? Math.max(s, diskLogLast()) : s;
    }

    /**
     * The term of entry {@code index} on this host's disk, or -1 if it holds none. An entry inside the
     * snapshot is held as the snapshot holds it: the entry applied there ({@code appliedTerm}, the
     * checker's record of what every node applied at that index).
     */
    long diskTermAt(long index, java.util.function.LongUnaryOperator appliedTerm) {
        if (index < 1) return -1;
        if (snap != null && index <= snap.index()) return appliedTerm.applyAsLong(index);
        if (!tailFollowsSnapshot() || index <= diskLogBase || index > diskLogLast()) return -1;
        return diskLog.get((int) (index - diskLogBase - 1)).term();
    }

    // ---------------------------------------------------------------- snapshots

    /** A snapshot of the store at {@code e.index()} is written (latency of a disk write), then reported. */
    void takeSnapshot(SimAgent a, Effect.TakeSnapshot e, byte[] data) {
        storeSnapshot(a, new Snap(e.index(), e.term(), data), true);
    }

    private void storeSnapshot(SimAgent a, Snap s, boolean taken) {
        long latency = sim.p.diskMinNanos + sim.world.nextLong(Math.max(1, sim.p.diskMaxNanos - sim.p.diskMinNanos));
        int epoch = diskEpoch;
        sim.q.at(sim.now() + latency, () -> {
            if (epoch != diskEpoch) return;
            if (logFailures > 0) {
                post(a, y -> y.deliver(new Event.SnapshotFailed(s.index(), "No space left on device (simulated)")));
                return;
            }
            if (snap == null || s.index() > snap.index()) {
                prevSnap = snap;
                snap = s;
            }
            if (taken) sim.snapshotsTaken++;
            post(a, y -> y.deliver(taken ? new Event.SnapshotTaken(s.index(), s.term())
                    : new Event.SnapshotReceived(s.index(), s.term())));
        });
    }

    /** The stored snapshot {@code index} (the current one or the one before), or null. */
    Snap snapshot(long index) {
        if (snap != null && snap.index() == index) return snap;
        if (prevSnap != null && prevSnap.index() == index) return prevSnap;
        return null;
    }

    /** A chunk of a snapshot being received; the last one makes it durable and current (if newer), then reports. */
    void storeChunk(SimAgent a, Effect.StoreSnapshotChunk e) {
        if (e.offset() == 0) {
            partial = new java.io.ByteArrayOutputStream();
            partialIndex = e.index();
        }
        if (partial == null || partialIndex != e.index() || partial.size() != e.offset()) {
            sim.violation(Violation.Kind.SAFETY, "contract", id + " stored chunk at " + e.offset() + " of snapshot "
                    + e.index() + " but holds " + (partial == null ? "no partial snapshot" : partial.size() + " bytes of "
                    + partialIndex));
            return;
        }
        partial.writeBytes(e.data());
        if (!e.done()) return;
        byte[] data = partial.toByteArray();
        partial = null;
        partialIndex = -1;
        try {
            io.quorumd.kv.KvMachine.restore(data, io.quorumd.kv.KvLimits.defaults());   // verified before it is kept
        } catch (io.quorumd.kv.KvSnapshotException x) {
            sim.violation(Violation.Kind.SAFETY, "contract", id + " received snapshot " + e.index() + " that does not restore: " + x);
            return;
        }
        storeSnapshot(a, new Snap(e.index(), e.term(), data), false);
    }

    // ---------------------------------------------------------------- command group and watchdog

    void startGroup(long term, SimAgent owner) {
        if (firstToken < 0) firstToken = term;
        long token = sim.mutant.staleToken ? firstToken : term;
        Group g = new Group(term, token, sim.now(), owner);
        group = g;
        recordedTerm = term;
        if (sim.trace != null) sim.trace.note(sim.now(), id, "command group starts, QUORUMD_TERM=" + token);
        sim.checker.onCommandStart(this, g);
        if (sim.p.flakyMeanNanos > 0) {
            long life = (long) (-Math.log(1 - sim.world.nextDouble()) * sim.p.flakyMeanNanos);
            sim.q.at(sim.now() + Math.max(1, life), () -> {
                // a crashing command is a fault too: it heals with the rest
                if (group == g && !frozen && !g.signalled && !sim.healed) groupDied(g, "exited on its own (crash)", false);
            });
        }
    }

    void armWatchdog(long stopAtLocal, long killAtLocal) {
        wdStopAtLocal = stopAtLocal;
        wdKillAtLocal = killAtLocal;
        scheduleWatchdog();
    }

    void armKillNoLaterThan(long killAtLocal) {
        if (killAtLocal < wdKillAtLocal) {
            wdKillAtLocal = killAtLocal;
            scheduleWatchdog();
        }
    }

    private void scheduleWatchdog() {
        int v = ++wdVersion;
        sim.q.at(clock.realAt(wdStopAtLocal), () -> watchdogCheck(v));
        sim.q.at(clock.realAt(wdKillAtLocal), () -> watchdogCheck(v));
    }

    private void watchdogCheck(int version) {
        if (version != wdVersion || group == null || frozen) return;
        watchdogWake();
    }

    /** The watchdog looks at its deadlines; past the second it kills with no grace (SPEC Timing rules). */
    private void watchdogWake() {
        long l = local();
        if (l >= wdKillAtLocal) sigkill("watchdog: SIGKILL deadline (lease end + stop_timeout) passed");
        else if (l >= wdStopAtLocal) stopSignal("watchdog: lease ended");
    }

    void stopSignal(String why) {
        Group g = group;
        if (g == null || g.signalled) return;
        g.signalled = true;
        g.signalledAtNanos = sim.now();
        long stop = sim.p.timing.stopTimeoutNanos();
        long after;
        switch (sim.p.commandMode[index]) {
            case FAST:
                after = sim.world.nextLong(Math.min(stop, 20 * SimParams.MS) + 1);
                break;
            case UNIFORM:
                after = sim.world.nextLong(stop + 1);
                break;
            case WHOLE:
                after = stop;
                break;
            default:
                after = -1;
                break;
        }
        if (sim.trace != null)
            sim.trace.note(sim.now(), id, "stop signal to term-" + g.term + " group (" + why + "); it "
                    + (after < 0 ? "ignores it" : "exits in " + SimTrace.ms(after) + " (host clock)"));
        if (after >= 0) {
            sim.q.at(clock.realAt(local() + after), () -> {
                if (group != g) return;
                if (frozen) g.dieAtThaw = true;
                else groupDied(g, "exited after the stop signal", true);
            });
        }
    }

    void sigkill(String why) {
        Group g = group;
        if (g != null) groupDied(g, "SIGKILL (" + why + ")", true);
    }

    /** The group is empty. {@code stopped}: it was signalled or killed, not a crash of the command. */
    void groupDied(Group g, String how, boolean stopped) {
        if (group != g) return;
        group = null;
        lastKillReal = wdKillAtLocal == Long.MAX_VALUE ? Long.MAX_VALUE : clock.realAt(wdKillAtLocal);
        goneWitnessedAt = Long.MAX_VALUE;
        if (agentRunning()) witnessGroupGone();
        wdStopAtLocal = wdKillAtLocal = Long.MAX_VALUE;
        wdVersion++;
        if (sim.trace != null) sim.trace.note(sim.now(), id, "command group (term " + g.term + ") is empty: " + how);
        sim.checker.onCommandEnd(this, g);
        SimAgent a = agent;
        if (a != null) post(a, x -> x.onGroupGone(g, stopped));
    }

    /** Something that can prove it (this host's running agent, a fence) now knows the last group is empty. */
    void witnessGroupGone() {
        if (group == null && goneWitnessedAt == Long.MAX_VALUE) goneWitnessedAt = sim.now();
    }
}

package io.quorumd.sim;

import io.quorumd.core.Event;
import io.quorumd.core.Message;
import io.quorumd.core.NodeConfig;
import io.quorumd.core.Peer;
import io.quorumd.core.Peers;
import io.quorumd.core.Effect;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One schedule: the hosts boot, the faults of {@link SimParams} strike and heal at
 * {@code healAtNanos}, then the cluster must converge within the liveness budget. Everything is
 * driven from one {@link EventQueue} and two random streams split from the seed, so the same seed
 * gives the same run, step for step.
 */
final class Simulation {
    /** Scenario hooks (failover statistics); the checker calls them. */
    interface Listener {
        default void onMaster(SimHost h, long term) {}

        default void onCommandStart(SimHost h, SimHost.Group g) {}

        default void onCommandEnd(SimHost h, SimHost.Group g) {}
    }

    record Result(long seed, Violation violation, long steps, long virtualNanos, long metAfterHealNanos,
                  long deferredStarts, long lateResponses, long contestedTerms, long preemptions, long kvOps,
                  long kvAnswered, long kvUnknown, long undecidedHistories, long snapshotsTaken, long snapshotsInstalled,
                  long logWriteFailures) {}

    final SimParams p;
    final Mutant mutant;
    final EventQueue q = new EventQueue();
    /** network, disk, command and fence randomness */
    final SplittableRandom world;
    /** boot ids and each node's own random source */
    final SplittableRandom nodeRandom;
    final NodeConfig[] configs;
    final Checker checker;
    final SimHost[] hosts;
    final VirtualNetwork net;
    final SimTrace trace;
    /** the store's clients; null when the schedule runs no store */
    final SimClients clients;
    Listener listener = new Listener() {};

    boolean healed;
    /** the request ids of the step-downs asked (the operator's {@code quorumd step-down}) */
    private long stepDownIds;
    Violation violation;
    private long endAt;
    long steps;
    long lateResponses;
    long deferredStarts;
    long hooks;
    long fences;
    /** terms in which two nodes asked for real votes (split elections) */
    long contestedTerms;
    /** masters that handed over to a higher-priority peer's preempt request ({@code timing.preempt_delay}) */
    long preemptions;
    /** histories the linearizability checker could not decide within its budget (counted, not failed) */
    long undecidedHistories;
    /** snapshots made durable by the world after a TakeSnapshot, and restored after an install (RestoreSnapshot) */
    long snapshotsTaken;
    long snapshotsInstalled;
    /** log writes answered with LogPersistFailed */
    long logWriteFailures;
    /** wall time the linearizability check of this run took (not part of {@link Result}: a replay must equal its run) */
    long linearizabilityNanos;

    Simulation(SimParams p, Mutant mutant, boolean tracing) {
        if (mutant.kv != null) p.kv = mutant.kv;
        this.p = p;
        this.mutant = mutant;
        SplittableRandom root = new SplittableRandom(p.seed * 0x9E3779B97F4A7C15L + 17);
        this.world = root.split();
        this.nodeRandom = root.split();
        SplittableRandom clientRandom = root.split();
        this.trace = tracing ? new SimTrace() : null;
        List<Peer> voters = new ArrayList<>();
        for (int i = 0; i < p.nodes; i++) voters.add(new Peer(p.ids[i], p.priorities[i]));
        configs = new NodeConfig[p.nodes];
        for (int i = 0; i < p.nodes; i++)
            configs[i] = new NodeConfig(new Peers(p.ids[i], voters), p.timing, p.fenceConfigured, p.preemptDelayNanos, p.kv);
        checker = new Checker(this);
        hosts = new SimHost[p.nodes];
        for (int i = 0; i < p.nodes; i++) hosts[i] = new SimHost(this, i);
        net = new VirtualNetwork(this);
        clients = p.kv ? new SimClients(this, clientRandom) : null;
    }

    long now() {
        return q.now();
    }

    /** The chaos schedule: boot, faults, heal, then the liveness budget. */
    Result run() {
        for (SimHost h : hosts) q.at(p.bootAtNanos[h.index], h::boot);
        for (FaultPlan.Fault f : p.faults) q.at(f.at(), () -> startFault(f));
        q.at(p.healAtNanos, this::heal);
        endAt = p.healAtNanos + checker.livenessBudgetNanos + 1;
        if (clients != null) clients.start();
        loop();
        if (violation == null && clients != null) checker.checkHistory(clients.history);
        return new Result(p.seed, violation, steps, now(), checker.met ? checker.metAtNanos - p.healAtNanos : -1,
                deferredStarts, lateResponses, contestedTerms, preemptions, clients == null ? 0 : clients.history.size(),
                clients == null ? 0 : clients.answered, clients == null ? 0 : clients.unknown, undecidedHistories,
                snapshotsTaken, snapshotsInstalled, logWriteFailures);
    }

    /** A scripted scenario: boot every host, run the actions the caller queued, stop at {@code end}. */
    void runUntil(long end) {
        for (SimHost h : hosts) q.at(p.bootAtNanos[h.index], h::boot);
        endAt = end;
        loop();
    }

    private void loop() {
        while (violation == null) {
            // each action checks itself; the checker stops the loop through violation
            try {
                if (!q.runNext(endAt)) return;
            } catch (RuntimeException e) {
                // a throw outside Node.handle (its deadline, its view, a part of the world): still a
                // violation of this seed, never a crash of the whole batch
                violation(Violation.Kind.SAFETY, "core exception", "uncaught while running the schedule: " + stack(e));
            }
        }
    }

    /** Ends the run after the current instant (a scenario has its measurement). */
    void stopSoon() {
        endAt = Math.min(endAt, now());
    }

    void extendEnd(long end) {
        endAt = Math.max(endAt, end);
    }

    void onLivenessMet() {
        endAt = Math.min(endAt, now() + p.timing.electionTimeoutNanos() + 2 * p.timing.heartbeatNanos());
    }

    void violation(Violation.Kind kind, String rule, String detail) {
        if (violation != null) return;
        violation = new Violation(kind, rule, now(), detail);
        if (trace != null) trace.note(now(), "!!", "VIOLATION " + kind + " " + rule + ": " + detail);
    }

    int indexOf(String id) {
        if (id == null || id.length() != 2 || id.charAt(0) != 'n') return -1;
        int i = id.charAt(1) - '1';
        return i >= 0 && i < p.nodes ? i : -1;
    }

    static long requestId(Message m) {
        if (m instanceof Message.VoteRequest v) return v.requestId();
        if (m instanceof Message.VoteResponse v) return v.requestId();
        if (m instanceof Message.HandOver h) return h.requestId();
        if (m instanceof Message.HandOverAck a) return a.requestId();
        if (m instanceof Message.Preempt x) return x.requestId();
        if (m instanceof Message.Append a) return a.requestId();
        if (m instanceof Message.AppendAck a) return a.requestId();
        if (m instanceof Message.InstallSnapshot x) return x.requestId();
        if (m instanceof Message.InstallSnapshotAck a) return a.requestId();
        return -1;
    }

    static String stack(Throwable e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    /** The newest master still running, or {@code fallback}. */
    int currentMaster(int fallback) {
        int best = -1;
        for (SimHost h : hosts)
            if (h.agent != null && h.role == io.quorumd.core.Role.MASTER && (best < 0 || h.roleTerm > hosts[best].roleTerm))
                best = h.index;
        return best >= 0 ? best : fallback;
    }

    // ---------------------------------------------------------------- faults

    private void startFault(FaultPlan.Fault f) {
        // a log disk matters only with the store: without it the schedule stays what it was before the fault existed
        if (f.kind() == FaultPlan.Kind.LOG_WRITE_FAIL && !p.kv) return;
        int n = p.nodes;
        int hi = f.host() == -1 ? currentMaster(f.fallback()) : f.host() == -3 ? 0 : f.host();
        SimHost h = hi >= 0 ? hosts[hi] : null;
        if (trace != null) trace.note(now(), "--", "FAULT " + f.describe(p) + (f.host() == -1 ? " -> " + p.ids[hi] : ""));
        switch (f.kind()) {
            case SPLIT:
            case ONE_WAY:
            case BRIDGE:
            case FLAP:
                linkFault(new VirtualNetwork.LinkFault(f.edges(), true, f.reject(), 0, 0), f.until());
                break;
            case ISOLATE: {
                int one = 1 << hi;
                int rest = ((1 << n) - 1) & ~one;
                long edges = f.dir() == 0 ? FaultPlan.cut(n, one, rest, true)
                        : f.dir() == 1 ? FaultPlan.cut(n, one, rest, false) : FaultPlan.cut(n, rest, one, false);
                linkFault(new VirtualNetwork.LinkFault(edges, true, f.reject(), 0, 0), f.until());
                break;
            }
            case DEGRADE:
                linkFault(new VirtualNetwork.LinkFault(f.edges(), false, false, f.loss(), f.extraDelayNanos()), f.until());
                break;
            case CRASH_AGENT:
                if (h.frozen || h.agent == null) break;
                h.plannedRestartAt = f.until();
                h.agentDies("SIGKILL");
                break;
            case CRASH_HOST:
                if (!h.up) break;
                h.plannedRestartAt = f.until();
                h.powerLoss();
                h.scheduleRestart(f.until());
                break;
            case PAUSE_AGENT:
                h.pause(f.until());
                break;
            case FREEZE_HOST:
                h.freeze(f.until());
                break;
            case STEP_DOWN: {
                SimAgent a = h.agent;
                if (a == null) break;
                String to = f.to() < 0 ? null : p.ids[f.to()];
                long id = ++stepDownIds;
                h.post(a, x -> x.askStepDown(to, id));
                break;
            }
            case SHUTDOWN: {
                SimAgent a = h.agent;
                if (a == null || h.shuttingDown) break;
                h.shuttingDown = true;
                h.plannedRestartAt = f.until();
                h.post(a, x -> x.deliver(new Event.ShutdownRequested()));
                q.at(now() + p.shutdownKillAfterNanos, () -> {
                    if (h.agent == a) h.agentDies("systemd: SIGKILL after TimeoutStopSec");
                });
                break;
            }
            case CRASH_AFTER_VOTE:
                for (SimHost x : hosts) {
                    if (f.host() != -3 && x != h) continue;
                    x.crashAfterVoteNanos = f.extraDelayNanos();   // the restart delay
                    q.at(f.until(), () -> x.crashAfterVoteNanos = -1);
                }
                break;
            case FENCE_UNUSABLE:
                h.fenceUnusable++;
                h.reportFence();
                q.at(f.until(), () -> {
                    if (h.fenceUnusable > 0 && --h.fenceUnusable == 0) h.reportFence();
                });
                break;
            case LOG_WRITE_FAIL:
                h.logFailures++;
                q.at(f.until(), () -> {
                    if (h.logFailures > 0) h.logFailures--;
                });
                break;
            case STORAGE_FAIL:
                h.storageFailures++;
                q.at(f.until(), () -> {
                    if (h.storageFailures > 0) h.storageFailures--;
                });
                break;
            default:
                throw new IllegalStateException("unhandled fault " + f.kind());
        }
    }

    private void linkFault(VirtualNetwork.LinkFault lf, long until) {
        net.add(lf);
        q.at(until, () -> net.remove(lf));
    }

    /** The last fault heals: every link, pause, freeze, crash and disk; from now on the clock runs for liveness. */
    private void heal() {
        healed = true;
        if (trace != null) trace.note(now(), "--", "HEAL: all links restored (no loss, no spikes), every agent running");
        net.heal();
        for (SimHost h : hosts) {
            h.storageFailures = 0;
            h.logFailures = 0;
            if (h.fenceUnusable > 0) {
                h.fenceUnusable = 0;
                h.reportFence();
            }
            h.crashAfterVoteNanos = -1;
            if (h.frozen) h.thaw();
            if (h.paused) h.resume();
            if (h.agent != null && h.shuttingDown) {
                h.plannedRestartAt = Long.MAX_VALUE;
                h.agentDies("systemd: stop finished by SIGKILL at the heal");
            }
            if (!h.up) h.powerOn();
            else if (h.agent == null) h.boot();
        }
        checker.onHeal();
    }

    // ---------------------------------------------------------------- the fence hook

    /** The hook runs for a while; a success kills the old master's command group (that is what a fence does). */
    void runFence(SimAgent a, Effect.RunFence e) {
        fences++;
        long delay = world.nextLong(p.fenceDelayMaxNanos + 1);
        boolean ok = p.fenceSuccess > 0 && world.nextDouble() < p.fenceSuccess;
        q.at(now() + delay, () -> {
            int old = indexOf(e.oldMaster());
            if (ok && old >= 0) {
                SimHost o = hosts[old];
                if (o.group != null) o.groupDied(o.group, "SIGKILL by the fence hook of " + a.host.id, false);
                o.witnessGroupGone();   // a fence that succeeded is proof
            }
            a.host.post(a, x -> x.deliver(new Event.FenceResult(e.oldMaster(), e.oldTerm(), ok,
                    ok ? "fenced" : "fence hook exited with status 1")));
        });
    }

    /** The host whose agent is master and whose command group runs, or null (the last one, as hosts go). */
    SimHost masterRunningCommand() {
        SimHost m = null;
        for (SimHost h : hosts)
            if (h.agent != null && h.role == io.quorumd.core.Role.MASTER && h.group != null) m = h;
        return m;
    }
}

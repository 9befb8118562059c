package io.quorumd.sim;

import io.quorumd.core.Effect;
import io.quorumd.core.Effects;
import io.quorumd.core.Event;
import io.quorumd.core.Message;
import io.quorumd.core.Node;
import io.quorumd.core.NodeView;
import io.quorumd.kv.KeyValue;
import io.quorumd.kv.KvCommand;
import io.quorumd.kv.KvCommandCodec;
import io.quorumd.kv.KvLimits;
import io.quorumd.kv.KvMachine;
import io.quorumd.kv.KvResult;
import io.quorumd.lin.Call;
import io.quorumd.lin.Result;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;

import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * One run of the agent: the event loop around the real {@link Node} as the agent has it (one
 * event at a time, effects applied in order through the shared {@link Effects#apply}), its
 * request time-outs (Lazy Pirate: a late answer is dropped), and its command supervisor (start,
 * stop through the watchdog, restart on failure while the lease lasts, give up after
 * {@code max_restarts}). A crash discards the whole object.
 */
final class SimAgent implements Effects.Handler {
    private static final Event TICK = new Event.Tick();

    final SimHost host;
    final Simulation sim;
    final Node node;
    final long bootId;
    boolean alive = true;

    private long tickAt = Long.MAX_VALUE;
    private long lastTickLocal = Long.MIN_VALUE;
    private int sameTimeTicks;
    private final TreeMap<Long, Boolean> outstanding = new TreeMap<>();
    /** step-downs asked of this run and not answered yet ({@link Effect.StepDownDone}) */
    private final java.util.TreeSet<Long> stepDownsAsked = new java.util.TreeSet<>();

    // the supervisor
    private long commandTerm = -1;
    private long leaseEndLocal = Long.MIN_VALUE;
    private boolean stopRequested = true;
    private boolean pendingStart;
    private int restarts;
    private long restartWindowStart = Long.MIN_VALUE;
    private long restartVersion;

    // what this agent run heard, for the stickiness rule (indexed by peer)
    final long[] kaBoot;
    final long[] kaSent;
    final long[] liveHeardLocal;
    final long[] liveTerm;
    long lastCampaignTerm = -1;
    /** real time until which this agent run may not campaign (its command gave up) */
    long noCampaignUntil = Long.MIN_VALUE;

    // the store of this agent run: restored from the host's snapshot at boot, then rebuilt by applying the log
    KvMachine kv;
    /** client requests this run has taken and not answered yet */
    private final TreeMap<Long, Call> calls = new TreeMap<>();

    // the step being handled
    long stepLocal;
    Event stepEvent;

    SimAgent(SimHost host, Node node, long bootId, KvMachine store) {
        this.host = host;
        this.kv = store;
        this.sim = host.sim;
        this.node = node;
        this.bootId = bootId;
        int n = sim.p.nodes;
        kaBoot = new long[n];
        kaSent = new long[n];
        liveHeardLocal = new long[n];
        liveTerm = new long[n];
        Arrays.fill(kaSent, Long.MIN_VALUE);
        Arrays.fill(liveHeardLocal, Long.MIN_VALUE);
    }

    /** One step: the node handles {@code ev} at the host's local time; its effects are applied in order. */
    /** This agent run handed its node FenceEligibility(false) last: it must not become master. */
    boolean fenceToldUnusable;

    void deliver(Event ev) {
        if (!alive || sim.violation != null) return;
        long local = host.local();
        stepLocal = local;
        stepEvent = ev;
        sim.checker.beforeStep(this, ev, local);
        if (ev instanceof Event.FenceEligibility fe) fenceToldUnusable = !fe.usable();
        List<Effect> effects;
        try {
            effects = node.handle(ev, local);
            if (effects == null) throw new IllegalStateException("handle returned null");
        } catch (RuntimeException e) {
            sim.violation(Violation.Kind.SAFETY, "core exception",
                    host.id + " threw while handling " + SimTrace.event(ev) + ": " + Simulation.stack(e));
            return;
        }
        sim.steps++;
        if (sim.trace != null) sim.trace.step(sim.now(), host.id, local, ev, effects);
        try {
            Effects.apply(effects, this);
        } catch (IllegalArgumentException | NullPointerException e) {
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " returned an effect that cannot be applied: " + e);
        }
        stepEvent = null;
        sim.checker.afterStep();
        rescheduleTick();
    }

    NodeView view() {
        try {
            return node.view(host.local());
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- timers

    void rescheduleTick() {
        if (!alive) return;
        long d = node.nextDeadlineNanos();
        if (d == Long.MAX_VALUE) return;
        long r = Math.max(host.clock.realAt(d), sim.now());
        if (r < tickAt) {
            tickAt = r;
            sim.q.at(r, () -> tickTimer(r));
        }
    }

    private void tickTimer(long r) {
        if (!alive || r != tickAt) return;
        tickAt = Long.MAX_VALUE;
        host.post(this, SimAgent::maybeTick);
    }

    /** The loop wakes up: a Tick if the node's deadline has passed (also after a pause: stale timers). */
    void maybeTick() {
        if (!alive) return;
        long local = host.local();
        if (local >= node.nextDeadlineNanos()) {
            if (local == lastTickLocal) {
                if (++sameTimeTicks > 1000) {
                    sim.violation(Violation.Kind.LIVENESS, "busy loop", host.id
                            + ": nextDeadlineNanos() stays <= now after 1000 Ticks at local " + SimTrace.seconds(local));
                    return;
                }
            } else {
                sameTimeTicks = 0;
                lastTickLocal = local;
            }
            deliver(TICK);
        } else {
            rescheduleTick();
        }
    }

    // ---------------------------------------------------------------- transport

    void onResponse(Message m, int fromIndex) {
        long key = Simulation.requestId(m) * 16 + fromIndex;
        if (outstanding.remove(key) == null) {
            sim.lateResponses++;
            if (sim.trace != null) sim.trace.note(sim.now(), host.id, "late answer dropped: " + SimTrace.message(m));
            return;
        }
        deliver(new Event.Received(m));
    }

    boolean isOutstanding(long key) {
        return outstanding.containsKey(key);
    }

    void onRequestTimeout(long key, String to, long requestId) {
        if (outstanding.remove(key) == null) return;
        deliver(new Event.RequestFailed(to, requestId, "no reply within " + SimTrace.ms(sim.p.requestTimeoutNanos)));
    }

    /** The operator asks for a step-down; the core answers with {@link Effect.StepDownDone}. */
    void askStepDown(String to, long requestId) {
        if (!alive) return;
        stepDownsAsked.add(requestId);
        deliver(new Event.StepDownRequested(to, requestId));
    }

    // ---------------------------------------------------------------- the store's clients

    /** A client's call reaches this agent (its control socket): a write or a linearizable read for the core. */
    void clientRequest(long rid, Call call) {
        if (!alive) return;
        calls.put(rid, call);
        if (call instanceof Call.Get) {
            deliver(new Event.ClientRead(rid));
            return;
        }
        KvCommand c;
        byte[] key = call.key().getBytes(StandardCharsets.UTF_8);
        if (call instanceof Call.Put p) c = new KvCommand.Put(key, utf8(p.value()), OptionalLong.empty(), OptionalLong.empty());
        else if (call instanceof Call.Cas x)
            c = new KvCommand.Put(key, utf8(x.value()), OptionalLong.of(x.expectedRevision()), OptionalLong.empty());
        else c = new KvCommand.Delete(key, OptionalLong.empty(), OptionalLong.empty());
        deliver(new Event.ClientWrite(rid, KvCommandCodec.encode(c)));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void answer(long rid, Result result, String master) {
        if (calls.remove(rid) == null) {
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " answered client request #" + rid
                    + ", which it was not asked or answered already");
            return;
        }
        if (sim.clients != null) sim.clients.answer(rid, result, master);
    }

    void onRefused(String peer) {
        deliver(new Event.PeerRefused(peer));
    }

    // ---------------------------------------------------------------- the command supervisor

    private void launch() {
        host.startGroup(commandTerm, this);
        host.armWatchdog(leaseEndLocal, leaseEndLocal + sim.p.timing.stopTimeoutNanos());
    }

    /** A command group on this host is gone (maybe one left by an earlier run of the agent). */
    void onGroupGone(SimHost.Group g, boolean stopped) {
        if (g.owner == this) onCommandExited(g, stopped);
        startPendingIfAny();
    }

    private void onCommandExited(SimHost.Group g, boolean stopped) {
        if (stopped || stopRequested || g.term != commandTerm) {
            deliver(new Event.CommandStopped(g.term));
            return;
        }
        long local = host.local();
        if (restartWindowStart == Long.MIN_VALUE || local - restartWindowStart > sim.p.timing.restartWindowNanos()) {
            restartWindowStart = local;
            restarts = 0;
        }
        if (restarts >= sim.p.maxRestarts) {
            // SPEC: the master steps down and does not campaign again for restart_window
            noCampaignUntil = sim.now() + host.clock.realDuration(sim.p.timing.restartWindowNanos());
            deliver(new Event.CommandGaveUp(g.term, "exited " + (restarts + 1) + " times within restart_window"));
            return;
        }
        if (local >= leaseEndLocal) {
            deliver(new Event.CommandStopped(g.term));
            return;
        }
        restarts++;
        long backoff = (10 * SimParams.MS) << Math.min(restarts, 6);
        long v = ++restartVersion;
        long term = g.term;
        if (sim.trace != null) sim.trace.note(sim.now(), host.id, "supervisor restarts the command in " + SimTrace.ms(backoff));
        sim.q.at(host.clock.realAt(local + backoff), () -> host.post(this, a -> a.restartCommand(v, term)));
    }

    private void restartCommand(long version, long term) {
        if (version != restartVersion || stopRequested || term != commandTerm || host.group != null) return;
        if (host.local() >= leaseEndLocal) {
            deliver(new Event.CommandStopped(term));
            return;
        }
        launch();
    }

    private void startPendingIfAny() {
        if (!pendingStart || stopRequested || host.group != null || !alive) return;
        pendingStart = false;
        if (sim.trace != null) sim.trace.note(sim.now(), host.id, "deferred start of term " + commandTerm + " now");
        launch();
    }

    // ---------------------------------------------------------------- effects

    @Override
    public void publish(Effect.Publish e) {
        sim.checker.onSend(this, e.keepAlive(), null);
        sim.net.publish(this, e.keepAlive());
    }

    @Override
    public void request(Effect.Request e) {
        Message m = e.message();
        sim.checker.onSend(this, m, e.to());
        int to = sim.indexOf(e.to());
        long id = Simulation.requestId(m);
        if (to < 0 || to == host.index || id < 0 || !(m instanceof Message.VoteRequest || m instanceof Message.HandOver
                || m instanceof Message.Preempt || m instanceof Message.Append || m instanceof Message.InstallSnapshot)) {
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " sent a request that is not one: to=" + e.to()
                    + " " + SimTrace.message(m));
            return;
        }
        long key = id * 16 + to;
        outstanding.put(key, Boolean.TRUE);
        sim.net.send(this, to, m, VirtualNetwork.REQUEST);
        long timeout = host.clock.realAt(stepLocal + sim.p.requestTimeoutNanos);
        String toId = e.to();
        sim.q.at(timeout, () -> host.post(this, a -> a.onRequestTimeout(key, toId, id)));
    }

    @Override
    public void respond(Effect.Respond e) {
        Message m = e.message();
        sim.checker.onSend(this, m, e.to());
        int to = sim.indexOf(e.to());
        if (to < 0 || to == host.index
                || !(m instanceof Message.VoteResponse || m instanceof Message.HandOverAck || m instanceof Message.AppendAck
                || m instanceof Message.InstallSnapshotAck)) {
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " sent an answer that is not one: to=" + e.to()
                    + " " + SimTrace.message(m));
            return;
        }
        sim.net.send(this, to, m, VirtualNetwork.RESPONSE);
        if (host.crashAfterVoteNanos >= 0 && m instanceof Message.VoteResponse r && r.granted() && !r.preVote()) {
            long restartAfter = host.crashAfterVoteNanos;
            sim.q.at(sim.now(), () -> {
                if (host.agent != this || host.frozen) return;
                host.plannedRestartAt = sim.now() + restartAfter;
                host.agentDies("SIGKILL right after granting its vote in term " + r.term());
            });
        }
    }

    @Override
    public void persist(Effect.Persist e) {
        host.write(this, e);
    }

    @Override
    public void startCommand(Effect.StartCommand e) {
        sim.checker.onStartCommand(this, e);
        stopRequested = false;
        commandTerm = e.term();
        leaseEndLocal = e.leaseEndNanos();
        restartVersion++;
        restarts = 0;
        restartWindowStart = Long.MIN_VALUE;
        SimHost.Group g = host.group;
        if (g != null) {
            if (g.owner == this && g.term == e.term() && !g.signalled) return;     // already running
            pendingStart = true;
            sim.deferredStarts++;
            if (sim.trace != null)
                sim.trace.note(sim.now(), host.id, "start of term " + e.term() + " deferred: the term-" + g.term
                        + " group is not empty yet");
            return;
        }
        launch();
    }

    @Override
    public void stopCommand(Effect.StopCommand e) {
        stopRequested = true;
        pendingStart = false;
        restartVersion++;
        SimHost.Group g = host.group;
        if (g != null && g.owner == this) {
            host.stopSignal("StopCommand t" + e.term() + ": " + e.reason());
            host.armKillNoLaterThan(stepLocal + sim.p.timing.stopTimeoutNanos());
        } else {
            long term = e.term();
            host.postSoon(this, a -> a.deliver(new Event.CommandStopped(term)));
        }
    }

    @Override
    public void leaseRenewed(Effect.LeaseRenewed e) {
        if (e.term() == commandTerm) leaseEndLocal = e.leaseEndNanos();
        SimHost.Group g = host.group;
        // only the group of the lease's own term is renewed: a new term's lease never extends an old command
        if (g != null && g.owner == this && g.term == e.term() && !g.signalled)
            host.armWatchdog(e.leaseEndNanos(), e.leaseEndNanos() + sim.p.timing.stopTimeoutNanos());
    }

    @Override
    public void runHook(Effect.RunHook e) {
        sim.hooks++;
    }

    @Override
    public void runFence(Effect.RunFence e) {
        sim.runFence(this, e);
    }

    @Override
    public void roleChanged(Effect.RoleChanged e) {
        host.role = e.role();
        host.roleTerm = e.term();
        host.roleSince = sim.now();
        sim.checker.onRoleChanged(this, e);
        if (e.role() == io.quorumd.core.Role.MASTER && fenceToldUnusable)
            sim.violation(Violation.Kind.SAFETY, "self-fence required", host.id + " became master in term " + e.term()
                    + " although its required self-fence device is unusable (it was told so)");
        if (e.reason().startsWith("preempted by ")) sim.preemptions++;
    }

    @Override
    public void trace(Effect.Trace e) {
        // already part of the step's trace line
    }

    @Override
    public void probe(Effect.Probe e) {
        int to = sim.indexOf(e.peer());
        if (to < 0 || to == host.index) {
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " probed " + e.peer() + ", which is not a peer");
            return;
        }
        if (!sim.mutant.silentProbes) sim.net.probe(this, to);
    }

    @Override
    public void stepDownDone(Effect.StepDownDone e) {
        if (!stepDownsAsked.remove(e.requestId()))
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " answered step-down #" + e.requestId()
                    + ", which was not asked or was answered already");
        else if (node.role() == io.quorumd.core.Role.MASTER)
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " answered step-down #" + e.requestId()
                    + " while still master in term " + node.term());
    }

    @Override
    public void persistLog(Effect.PersistLog e) {
        host.writeLog(this, e);
    }

    // ---------------------------------------------------------------- snapshots

    @Override
    public void takeSnapshot(Effect.TakeSnapshot e) {
        // effects are applied in order: the store holds exactly what was applied up to here
        host.takeSnapshot(this, e, kv.snapshot());
    }

    @Override
    public void compactLog(Effect.CompactLog e) {
        host.compactLog(this, e);
    }

    @Override
    public void sendSnapshot(Effect.SendSnapshot e) {
        Message.InstallSnapshot h = e.chunk();
        SimHost.Snap s = host.snapshot(h.lastIndex());
        if (s == null || s.term() != h.lastTerm() || h.offset() > s.data().length) {
            // not held any more (a newer one replaced it): the request fails like one unanswered
            if (sim.trace != null) sim.trace.note(sim.now(), host.id, "snapshot " + h.lastIndex() + " not held: chunk not sent");
            long key = h.requestId() * 16 + sim.indexOf(e.to());
            outstanding.put(key, Boolean.TRUE);
            String to = e.to();
            long id = h.requestId();
            sim.q.at(host.clock.realAt(stepLocal + sim.p.requestTimeoutNanos), () -> host.post(this, a -> a.onRequestTimeout(key, to, id)));
            return;
        }
        byte[] all = s.data();
        int from = (int) h.offset();
        int to = Math.min(all.length, from + Math.min(sim.p.snapshotChunkBytes, Message.InstallSnapshot.MAX_CHUNK_BYTES));
        request(new Effect.Request(e.to(), h.withData(Arrays.copyOfRange(all, from, to), to == all.length)));
    }

    @Override
    public void storeSnapshotChunk(Effect.StoreSnapshotChunk e) {
        host.storeChunk(this, e);
    }

    @Override
    public void restoreSnapshot(Effect.RestoreSnapshot e) {
        SimHost.Snap s = host.snapshot(e.index());
        if (s == null || s.term() != e.term()) {
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " asked to restore snapshot " + e.index() + " (term "
                    + e.term() + "), which its disk does not hold");
            return;
        }
        try {
            kv = KvMachine.restore(s.data(), KvLimits.defaults());
        } catch (io.quorumd.kv.KvSnapshotException x) {
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " cannot restore snapshot " + e.index() + ": " + x);
            return;
        }
        sim.snapshotsInstalled++;
    }

    @Override
    public void apply(Effect.Apply e) {
        sim.checker.onApply(this, e);
        KvResult res = kv.apply(e.entry().index(), e.entry().term(), KvCommandCodec.decode(e.entry().payload()));
        if (e.requestId() == 0) return;
        Result r;
        if (res instanceof KvResult.Written w) r = new Result.Written(w.revision());
        else if (res instanceof KvResult.NotFound) r = new Result.NotFound();
        else if (res instanceof KvResult.CompareFailed) r = new Result.CompareFailed();
        else r = new Result.NoEffect();
        answer(e.requestId(), r, null);
    }

    @Override
    public void readReady(Effect.ReadReady e) {
        Call c = calls.get(e.requestId());
        if (!(c instanceof Call.Get g)) {
            answer(e.requestId(), new Result.Unknown(), null);
            return;
        }
        Optional<KeyValue> kvv = kv.get(g.key());
        answer(e.requestId(), kvv.isPresent()
                ? new Result.Found(new String(kvv.get().value(), StandardCharsets.UTF_8), kvv.get().modRevision())
                : new Result.NotFound(), null);
    }

    @Override
    public void clientFailed(Effect.ClientFailed e) {
        Call c = calls.get(e.requestId());
        boolean noEffect = !e.outcomeUnknown() && c != null && !(c instanceof Call.Get);
        answer(e.requestId(), noEffect ? new Result.NoEffect() : new Result.Unknown(), e.master());
    }

    @Override
    public void readyToExit(Effect.ReadyToExit e) {
        if (!host.shuttingDown)
            sim.violation(Violation.Kind.SAFETY, "contract", host.id + " emitted ReadyToExit without ShutdownRequested");
        sim.q.at(sim.now(), () -> {
            if (host.agent == this) host.agentDies("exits after ReadyToExit");
        });
    }
}

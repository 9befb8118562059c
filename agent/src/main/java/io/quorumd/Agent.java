package io.quorumd;

import io.quorumd.command.ExecGuards;
import io.quorumd.command.Supervisor;
import io.quorumd.config.Config;
import io.quorumd.control.ControlHandler;
import io.quorumd.control.ControlServer;
import io.quorumd.control.Reply;
import io.quorumd.control.Status;
import io.quorumd.core.Effect;
import io.quorumd.core.Effects;
import io.quorumd.core.Event;
import io.quorumd.core.Timing;
import io.quorumd.core.Node;
import io.quorumd.core.NodeConfig;
import io.quorumd.core.NodeView;
import io.quorumd.core.Role;
import io.quorumd.core.TermState;
import io.quorumd.fence.FenceEligibilityWatch;
import io.quorumd.fence.SelfFence;
import io.quorumd.metrics.LoopCounters;
import io.quorumd.metrics.Metrics;
import io.quorumd.kv.KvMachine;
import io.quorumd.storage.LogWriter;
import io.quorumd.storage.Persister;
import io.quorumd.storage.StateDirLock;
import io.quorumd.systemd.SdNotify;
import io.quorumd.transport.ZmqTransport;
import io.quorumd.wire.DropCounters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The event loop: the one thread that owns the core. Adapters hand it events through one queue;
 * it feeds them to {@link Node#handle} with the time and applies the effects in order through
 * {@link Effects}, the same dispatcher the simulator uses. It never blocks on the network, the
 * disk or a hook: those run on the adapters' own threads.
 */
public final class Agent {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    /** The loop wakes at least this often (the core's own deadlines come far sooner). */
    private static final long MAX_SLEEP_NANOS = 1_000_000_000L;

    private final Config config;
    /** Built once from the config: voters and timing (config.nodeConfig() builds anew each call). */
    private final NodeConfig nodeConfig;
    private final Node node;
    private final long bootId;
    private final long startedNanos;
    private final Inbox inbox;
    private final ThreadWatch threads;
    private final DropCounters drops;
    private final ZmqTransport transport;
    private final Persister persister;
    /** The replicated log's writer (group commit) and the store's side of the loop. */
    private final LogWriter logWriter;
    private final io.quorumd.storage.SnapshotWriter snapshots;
    private final java.util.concurrent.atomic.AtomicLong snapshotsInstalled = new java.util.concurrent.atomic.AtomicLong();
    /** Set on the loop when the store cannot go on (a snapshot to restore is missing or damaged): the agent stops. */
    private String storeFailure;
    private final KvAgent kv;
    private final Handler handler = new Handler();
    private final Supervisor supervisor;
    private final SdNotify sd;
    private final StateDirLock lock;
    private final String bindDescription;
    private final long requestTimeoutNanos;
    private final CountDownLatch exited = new CountDownLatch(1);
    /** Operators' step-downs, by the request id the core answers with {@link Effect.StepDownDone}. */
    private final ConcurrentHashMap<Long, PendingStepDown> stepDowns = new ConcurrentHashMap<>();
    private final AtomicLong stepDownIds = new AtomicLong();
    private ControlServer control;
    /** Elections, clearances and master changes, for the metrics endpoint (kept whether or not it is on). */
    private final LoopCounters loopCounters = new LoopCounters();
    /** The {@code /metrics} endpoint, or null without {@code metrics.listen}. */
    private Metrics metrics;
    /** The self-fence device's keeper, or null (self_fence off, or auto without a device). */
    private volatile SelfFence selfFence;
    /** With {@code self_fence.mode: required}: whether this node may campaign; else null. */
    private final FenceEligibilityWatch fenceWatch;
    /** {@code quorumd exec}'s process groups, under the lease; null until attached. */
    private volatile ExecGuards execGuards;
    /** Requests made through the transport, for the watch over its progress; null: not watched. */
    private ThreadWatch.Answers transportAnswers;

    /** Written by the loop, read by the control thread: the node as of the last event. */
    private volatile NodeView view;
    private volatile boolean readyToExit;
    /** Why the agent stops on its own (a dead or wedged thread, an exception in the core); null until then. */
    private volatile String fatal;
    private long lastWatchdogPingNanos;
    private boolean firstKeepAliveLogged;
    private boolean stopAnnounced;
    private String lastStatusLine = "";
    private String lastMasterLogged;
    private long lastClearanceLogged = -1;
    private long lastLeaseTermLogged = -1;
    /** The last master this node knew (never reset to null), for {@link LoopCounters#masterChanged}. */
    private String lastKnownMaster;

    private record PendingStepDown(CompletableFuture<Reply> reply, long sinceNanos) {}

    Agent(Config config, NodeConfig nodeConfig, Node node, long bootId, Inbox inbox, DropCounters drops, ZmqTransport transport,
          Persister persister, LogWriter logWriter, io.quorumd.storage.SnapshotWriter snapshots, KvMachine kvMachine, Supervisor supervisor, SdNotify sd,
          StateDirLock lock, String bindDescription, long startedNanos) {
        this.config = config;
        this.nodeConfig = nodeConfig;
        // reported before the first event the node handles: booted less than t ago, it campaigns not yet
        this.fenceWatch = config.selfFence().mode() == io.quorumd.config.SelfFenceConfig.Mode.REQUIRED
                ? new FenceEligibilityWatch(config.selfFence().device()) : null;
        this.node = node;
        this.bootId = bootId;
        this.inbox = inbox;
        this.threads = new ThreadWatch(() -> inbox.offer(new Event.Tick()));
        this.drops = drops;
        this.transport = transport;
        this.persister = persister;
        this.logWriter = logWriter;
        this.snapshots = snapshots;
        this.supervisor = supervisor;
        this.sd = sd;
        this.lock = lock;
        this.bindDescription = bindDescription;
        this.startedNanos = startedNanos;
        // A voter answers only once its vote is fsynced, and under heavy disk load (a package
        // install, a backup) one fsync can take hundreds of ms: an answer is worth waiting for as
        // long as the shortest candidacy (t/2). A newer request to the same peer supersedes an
        // outstanding one, so nothing waits behind it.
        this.requestTimeoutNanos = requestTimeoutNanos(nodeConfig.timing());
        this.view = node.view(System.nanoTime());
        this.kv = new KvAgent(config.node(), bootId, kvMachine, nodeConfig.timing().electionTimeoutNanos(),
                new KvAgent.Loop() {
                    @Override
                    public void feed(Event e) {
                        Effects.apply(node.handle(e, System.nanoTime()), handler);
                    }

                    @Override
                    public NodeView view() {
                        return node.view(System.nanoTime());
                    }

                    @Override
                    public long term() {
                        return node.term();
                    }

                    @Override
                    public void request(String to, io.quorumd.core.Message m, long timeoutNanos) {
                        if (transportAnswers != null) transportAnswers.asked(System.nanoTime());
                        transport.request(to, m, timeoutNanos);
                    }

                    @Override
                    public void respond(String to, io.quorumd.core.Message m) {
                        transport.respond(to, m);
                    }
                }, inbox::wake);
    }

    /** How long a vote or hand-over request waits for its answer: max(2 heartbeats, t/2, 200 ms). */
    static long requestTimeoutNanos(Timing timing) {
        return Math.max(Math.max(2 * timing.heartbeatNanos(), timing.electionTimeoutNanos() / 2), 200_000_000L);
    }

    void attachControl(ControlServer c) {
        this.control = c;
        threads.watch("control socket", c.thread(), c::runOnThread);
    }

    /** The self-fence: petted while the lease holds, disarmed once not master and the command is gone. */
    void attachSelfFence(SelfFence f) {
        this.selfFence = f;
    }

    /**
     * The self-fence's failure while master in {@code required} mode: the device is unusable, so the
     * core hands over and does not campaign (see {@link FenceEligibilityWatch}).
     */
    void selfFenceFailed(String why) {
        log.error("{}: self_fence.mode is required, so this node hands over and does not campaign", why);
        FenceEligibilityWatch w = fenceWatch;
        if (w != null) w.failed(why);
        inbox.offer(new Event.Tick());   // wake the loop
    }

    /** {@code quorumd exec}'s groups, guarded under this node's lease. */
    void attachExecGuards(ExecGuards g) {
        this.execGuards = g;
    }

    /** Starts the {@code /metrics} endpoint on {@code host:port}; the agent closes it when it ends. */
    void startMetrics(String host, int port) throws java.io.IOException {
        Metrics m = Metrics.start(new Metrics.Sources(() -> view, System::nanoTime, this::commandState,
                drops::snapshot, loopCounters, this::selfFenceState), host, port);
        persister.observeWrites(m.fsyncObserver());
        m.counter("quorumd_log_batches", "fsyncs of the replicated log; each covers a batch of writes (group commit)",
                logWriter::batches);
        m.counter("quorumd_log_writes", "writes of the replicated log made durable", logWriter::writes);
        m.counter("quorumd_log_write_failures", "failed writes of the replicated log (then nothing more is acknowledged "
                + "until the core rewrites its log and the writer reopens it)", logWriter::failures);
        m.gauge("quorumd_kv_revision", "the key-value store's revision (+1 per committed write) as this node applied it",
                () -> kv.figures().revision());
        m.gauge("quorumd_kv_size_bytes", "the key-value store's size: keys plus values, what kv.max_bytes bounds",
                () -> kv.figures().sizeBytes());
        m.gauge("quorumd_kv_max_bytes", "kv.max_bytes, the store's size limit", () -> kv.machine().limits().maxBytes());
        m.gauge("quorumd_kv_keys", "keys in the key-value store", () -> kv.figures().keys());
        m.counter("quorumd_snapshots_taken", "snapshots of the store taken and made durable by this agent run "
                + "(the log up to each is compacted)", snapshots::taken);
        m.counter("quorumd_snapshots_installed", "snapshots received from the master and installed in the store "
                + "by this agent run (a follower too far behind the master's log catches up so)", snapshotsInstalled::get);
        m.gauge("quorumd_snapshot_index", "the index of the newest snapshot held in state_dir (0: none)",
                snapshots::currentIndex);
        m.gauge("quorumd_log_applied_index", "the replicated log's last entry applied to the store on this node",
                () -> kv.figures().appliedIndex());
        this.metrics = m;
    }

    /** The port of the {@code /metrics} endpoint, or -1 when it is off (for tests). */
    public int metricsPort() {
        Metrics m = metrics;
        return m == null ? -1 : m.port();
    }

    private Status.StoreStatus storeStatus() {
        KvAgent.Figures f = kv.figures();
        return new Status.StoreStatus(f.revision(), f.keys(), f.sizeBytes(), f.appliedIndex());
    }

    private Metrics.CommandState commandState() {
        if (config.command() == null) return null;
        Supervisor.Snapshot c = supervisor.status();
        return new Metrics.CommandState(c.state().label(), c.term(), supervisor.restartsTotal());
    }

    private Metrics.SelfFenceState selfFenceState() {
        SelfFence f = selfFence;
        return f == null ? new Metrics.SelfFenceState(config.selfFence().mode().yamlName(), false, 0)
                : new Metrics.SelfFenceState(f.mode(), f.isOpen(), f.pets());
    }

    /** Every request through the transport is reported to {@code a} (its events are counted there). */
    void watchTransportAnswers(ThreadWatch.Answers a) {
        this.transportAnswers = a;
    }

    /** The command's supervisor (its spawner thread is one of those watched). */
    Supervisor supervisor() {
        return supervisor;
    }

    /** The adapter threads this loop depends on; the factory registers them. */
    ThreadWatch threads() {
        return threads;
    }

    /** Closes what was opened when start-up fails after the sockets were bound. */
    void abort() {
        closeAll();
    }

    /** Asks the loop to hand over and stop; returns at once. */
    public void requestShutdown() {
        inbox.offer(new Event.ShutdownRequested());
    }

    /** Blocks until the loop has ended, at most {@code nanos}; true if it has. */
    public boolean awaitExit(long nanos) throws InterruptedException {
        return exited.await(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Runs the loop on the calling thread until the node is ready to exit, or until the agent
     * cannot go on (a thread it depends on died or is wedged, the core threw): then it stops at
     * once with a message, and returns 1 so that systemd restarts it. Returns 0 after a normal stop.
     */
    public int run() {
        try {
            log.info("{}: cluster {}, term {}, boot id {}, {}; ready in {} ms", config.node(), config.cluster(),
                    node.term(), Long.toHexString(bootId), bindDescription, (System.nanoTime() - startedNanos) / 1_000_000);
            sd.ready();
            try {
                loop();
            } catch (RuntimeException | Error e) {
                fatal = "the event loop failed: " + e;
                log.error("{}: the event loop failed on an unexpected exception", config.node(), e);
            }
            if (fatal != null) {
                log.error("{}: stopping: {}. Exit status 1: systemd restarts the agent", config.node(), fatal);
                return 1;
            }
            log.info("{}: stopped", config.node());
            return 0;
        } finally {
            closeAll();
            exited.countDown();
        }
    }

    /** Why the agent stopped on its own, or null. */
    public String fatal() {
        return fatal;
    }

    private void loop() {
        Event event = new Event.Tick();
        while (!readyToExit) {
            if (event instanceof Event.ShutdownRequested && !stopAnnounced) {
                announceStop();
            }
            long now = System.nanoTime();
            Event.FenceEligibility fe = fenceWatch == null ? null : fenceWatch.poll(now);
            if (fe != null) {
                if (fe.usable()) log.info("self-fence: the device is usable: this node may campaign");
                else log.warn("self-fence: {}: this node does not campaign (self_fence.mode is required)", fe.reason());
                Effects.apply(node.handle(fe, now), handler);
            }
            if (log.isDebugEnabled()) milestone(event);
            kv.runTasks();   // the store's client requests, handed over by the control thread
            if (!kv.intercept(event)) {
                List<Effect> effects = node.handle(event, now);
                Effects.apply(effects, handler);
                // the core has restored it or decided not to: the file may go with the next snapshot
                if (event instanceof Event.SnapshotReceived r) snapshots.handled(r);
            }
            kv.sweep(System.nanoTime());
            if (!afterEvent(now)) return;
            long wait = Math.min(Math.min(node.nextDeadlineNanos(), kv.nextDeadlineNanos()) - System.nanoTime(),
                    MAX_SLEEP_NANOS);
            try {
                Event next = inbox.poll(wait);
                event = next != null ? next : new Event.Tick();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                event = new Event.ShutdownRequested();
            }
        }
    }

    /**
     * The fail-over's steps the log would not show otherwise, at debug (the bench's breakdown of
     * step-down and SIGTERM parses them): a hand-over or a vote received, a term and vote on disk.
     */
    private void milestone(Event event) {
        if (event instanceof Event.Persisted p) {
            log.debug("term {} and vote persisted (write {})", node.term(), p.seq());
        } else if (event instanceof Event.Received r) {
            if (r.message() instanceof io.quorumd.core.Message.HandOver h) {
                log.debug("hand-over from {} of term {} received", h.from(), h.term());
            } else if (r.message() instanceof io.quorumd.core.Message.VoteResponse v && !v.preVote()) {
                log.debug("vote of {} in term {} received: {}", v.from(), v.term(), v.granted() ? "granted" : "refused");
            }
        }
    }

    /**
     * Tells systemd that the stop has begun and how long it may take (stop the command, hand
     * over, let the hooks finish): a TimeoutStopSec shorter than that is extended, so that a long
     * stop_timeout or hooks.timeout is not cut short by a SIGKILL.
     */
    private void announceStop() {
        stopAnnounced = true;
        long budget = AgentFactory.shutdownBudgetNanos(config);
        sd.stopping();
        sd.extendTimeout(Duration.ofNanos(budget));
        log.info("stopping: the command, the hand-over and the hooks have up to {} ms", budget / 1_000_000);
    }

    /** After each event: false when the agent must stop now (see {@link #run}). */
    private boolean afterEvent(long now) {
        String why = threads.check(now);
        if (why == null) why = inbox.failure();
        if (why == null) why = storeFailure;
        if (why != null) {
            fatal = why;
            return false;   // and no more watchdog pings
        }
        long interval = sd.watchdogIntervalNanos();
        if (interval > 0 && now - lastWatchdogPingNanos >= interval / 2) {
            // from the loop itself, and only while every thread it depends on is alive and making
            // progress: a wedged loop or adapter stops the pings and systemd restarts the agent
            sd.watchdog();
            lastWatchdogPingNanos = now;
        }
        NodeView v = node.view(now);
        view = v;
        String line = v.role().label() + ", term " + v.term() + (v.master() != null ? ", master " + v.master() : "");
        if (!line.equals(lastStatusLine)) {
            sd.status(line);
            lastStatusLine = line;
        }
        if (v.master() != null && !v.master().equals(lastKnownMaster)) {
            if (lastKnownMaster != null) loopCounters.masterChanged();
            lastKnownMaster = v.master();
        }
        if (v.role() == Role.FOLLOWER && v.master() != null && !v.master().equals(lastMasterLogged)) {
            log.info("following {} (master in term {})", v.master(), v.term());
        }
        lastMasterLogged = v.master();
        if (v.clearedBy() != null && v.term() != lastClearanceLogged) {
            // which proof (or the wait) let this master start its command: what a fail-over cost
            lastClearanceLogged = v.term();
            loopCounters.cleared(v.clearedBy().by().label());
            log.info("cleared to start the command in term {} by {}", v.term(), v.clearedBy().describe());
        }
        SelfFence f = selfFence;
        if (f != null && v.role() != Role.MASTER && f.armed() && commandGone()) f.disarm();
        return true;
    }

    /** No managed command and no {@code quorumd exec} group runs here (they may have run under a lease). */
    private boolean commandGone() {
        Supervisor.State st = supervisor.status().state();
        ExecGuards g = execGuards;
        return (st == Supervisor.State.IDLE || st == Supervisor.State.FAILED || st == Supervisor.State.BACKOFF)
                && (g == null || g.size() == 0);
    }

    private void closeAll() {
        sd.stopping();
        close(metrics);
        close(control);
        close(supervisor);
        close(selfFence);   // after the command stopped: a clean stop disarms the device (magic close)
        kv.close();
        close(transport);
        close(persister);
        close(logWriter);
        close(snapshots);
        close(lock);
    }

    private static void close(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            log.warn("while closing {}: {}", c.getClass().getSimpleName(), e.toString());
        }
    }

    /** The control socket's view of this agent; called on the control thread, never blocks. */
    ControlHandler controlHandler() {
        return new ControlHandler() {
            @Override
            public Status status() {
                long now = System.nanoTime();
                Supervisor.Snapshot c = supervisor.status();
                Status.CommandStatus cmd = config.command() == null ? Status.CommandStatus.NONE
                        : new Status.CommandStatus(c.state().label(), c.pid() > 0 ? c.pid() : null,
                        c.term() > 0 ? c.term() : null, c.restarts());
                return Status.of(view, now, config.cluster(), bindDescription, Long.toHexString(bootId),
                        (now - startedNanos) / 1_000_000, !persister.healthy() ? persister.lastError()
                                : logWriter.healthy() ? null : "the replicated log: " + logWriter.lastError(), cmd,
                        drops.snapshot()).withStore(storeStatus());
            }

            @Override
            public Reply execTerm() {
                NodeView v = view;
                String no = notCleared(v, System.nanoTime());
                return Reply.ok(no != null ? "not-master " + no : "term=" + v.term() + " master=" + config.node());
            }

            @Override
            public CompletionStage<Reply> execGuard(int pgid, long term, long callerPid) {
                NodeView v = view;
                String no = notCleared(v, System.nanoTime());
                if (no == null && v.term() != term) no = "quorumd: " + config.node() + " is no longer the master of term "
                        + term + " (term " + v.term() + " now)";
                ExecGuards g = execGuards;
                if (no == null && g == null) no = "quorumd: this agent cannot guard quorumd exec runs yet";
                if (no != null) return CompletableFuture.completedFuture(Reply.error(Reply.UNAVAILABLE, no));
                return g.guard(pgid, callerPid, v.leaseEndNanos(), "term=" + term + " pid=" + callerPid)
                        .handle((line, failure) -> failure == null
                                ? Reply.ok("guarded " + pgid + " in term " + term + " (" + line + ")")
                                : Reply.error(Reply.FAILURE, "quorumd exec: not guarded: "
                                        + (failure.getCause() != null ? failure.getCause() : failure).getMessage()));
            }

            @Override
            public Reply execEnd(int pgid) {
                ExecGuards g = execGuards;
                if (g != null) g.ended(pgid);
                return Reply.ok("");
            }

            @Override
            public CompletionStage<Reply> kv(io.quorumd.control.KvRequest request) {
                return kv.submit(request);
            }

            @Override
            public void kvWatch(io.quorumd.control.KvRequest.Watch request, io.quorumd.control.WatchStream stream) {
                kv.watch(request, stream);
            }

            @Override
            public CompletionStage<Reply> stepDown(String to) {
                NodeView v = view;
                if (to != null && (!nodeConfig.peers().contains(to) || to.equals(config.node()))) {
                    return CompletableFuture.completedFuture(Reply.error(Reply.USAGE, "quorumd: step-down --to: "
                            + to + " is not another peer (peers: " + nodeConfig.peers().ids() + ")"));
                }
                if (v.role() != Role.MASTER) {
                    return CompletableFuture.completedFuture(Reply.error(Reply.FAILURE, "quorumd: " + config.node()
                            + " is not the master (" + (v.master() != null ? v.master() + " is" : "none is known")
                            + "); run step-down there"));
                }
                log.info("step-down requested{}", to != null ? " (to " + to + ")" : "");
                CompletableFuture<Reply> f = new CompletableFuture<>();
                long id = stepDownIds.incrementAndGet();
                stepDowns.put(id, new PendingStepDown(f, System.nanoTime()));
                inbox.offer(new Event.StepDownRequested(to, id));
                return f;
            }
        };
    }

    /**
     * Null when this node may run {@code quorumd exec}'s command now: master, cleared to run its
     * command (the old master's is surely gone), with a lease; otherwise why not.
     */
    private String notCleared(NodeView v, long now) {
        if (v.role() != Role.MASTER) {
            return "quorumd: " + config.node() + " is not the master (" + (v.master() != null ? v.master() + " is"
                    : "none is known") + ")";
        }
        if (!v.cleared()) return "quorumd: " + config.node() + " is master but not yet cleared to run commands"
                + " (it waits for the old master's command to be surely gone)";
        if (v.leaseEndNanos() == -1 || v.leaseEndNanos() - now <= 0) {
            return "quorumd: " + config.node() + " is master but holds no lease now";
        }
        return null;
    }

    /** Applies the core's effects in order. */
    private final class Handler implements Effects.Handler {
        @Override
        public void publish(Effect.Publish e) {
            if (!firstKeepAliveLogged) {
                firstKeepAliveLogged = true;
                log.info("first keep-alive {} ms after start", (System.nanoTime() - startedNanos) / 1_000_000);
            }
            transport.publish(e.keepAlive());
        }

        @Override
        public void request(Effect.Request e) {
            if (transportAnswers != null) transportAnswers.asked(System.nanoTime());
            if (e.message() instanceof io.quorumd.core.Message.HandOver h) {
                log.info("handing over to {}: asking it to campaign (term {})", e.to(), h.term());
            }
            transport.request(e.to(), e.message(), requestTimeoutNanos);
        }

        @Override
        public void respond(Effect.Respond e) {
            transport.respond(e.to(), e.message());
        }

        @Override
        public void persist(Effect.Persist e) {
            persister.submit(e.seq(), new TermState(e.term(), e.votedFor()));
        }

        @Override
        public void startCommand(Effect.StartCommand e) {
            log.debug("starting the command of term {}", e.term());
            supervisor.start(e.term(), e.master(), e.leaseEndNanos());
        }

        @Override
        public void stopCommand(Effect.StopCommand e) {
            supervisor.stop(e.term(), e.reason());
        }

        @Override
        public void leaseRenewed(Effect.LeaseRenewed e) {
            if (e.term() != lastLeaseTermLogged) {
                lastLeaseTermLogged = e.term();
                log.debug("lease of term {} holds: a majority echoed", e.term());
            }
            supervisor.renew(e.leaseEndNanos());
            ExecGuards g = execGuards;
            if (g != null) g.renew(e.leaseEndNanos());
            SelfFence f = selfFence;
            if (f != null) f.leaseRenewed(e.leaseEndNanos());
        }

        @Override
        public void runHook(Effect.RunHook e) {
            supervisor.runHook(e.hook(), e.term(), e.master());
        }

        @Override
        public void runFence(Effect.RunFence e) {
            supervisor.runFence(e.oldMaster(), e.oldTerm(), e.term());
        }

        @Override
        public void roleChanged(Effect.RoleChanged e) {
            if (e.role() == Role.CANDIDATE) loopCounters.electionStarted();
            else if (e.role() == Role.MASTER) loopCounters.electionWon();
            if (e.role() == Role.MASTER) log.info("{}", e.reason());
            else log.info("{} in term {}: {}", e.role().label(), e.term(), e.reason());
        }

        @Override
        public void trace(Effect.Trace e) {
            log.debug("{}", e.text());
        }

        @Override
        public void readyToExit(Effect.ReadyToExit e) {
            readyToExit = true;
        }

        @Override
        public void probe(Effect.Probe e) {
            transport.probe(e.peer());
        }

        @Override
        public void stepDownDone(Effect.StepDownDone e) {
            PendingStepDown p = stepDowns.remove(e.requestId());
            if (p == null) return;   // the self-fence's, or one asked before a restart of the loop
            p.reply().complete(Reply.ok(config.node() + " stepped down in " + (System.nanoTime() - p.sinceNanos()) / 1_000_000
                    + " ms; its command is stopped and mastership handed over\n"));
        }

        @Override
        public void persistLog(Effect.PersistLog e) {
            logWriter.submit(e);
        }

        @Override
        public void apply(Effect.Apply e) {
            kv.onApply(e);
        }

        @Override
        public void readReady(Effect.ReadReady e) {
            kv.onReadReady(e);
        }

        @Override
        public void clientFailed(Effect.ClientFailed e) {
            kv.onClientFailed(e);
        }

        // Snapshots: the agent's side of Effect's TakeSnapshot, CompactLog, SendSnapshot,
        // StoreSnapshotChunk and RestoreSnapshot (the simulator's SimAgent does the same).

        @Override
        public void takeSnapshot(Effect.TakeSnapshot e) {
            KvMachine m = kv.machine();
            if (m.appliedIndex() != e.index()) {
                // effects are applied in order, so the store is exactly at the index: a core bug otherwise
                String why = "the store has applied up to " + m.appliedIndex() + ", not " + e.index();
                log.error("snapshot {} not taken: {}", e.index(), why);
                inbox.offer(new Event.SnapshotFailed(e.index(), why));
                return;
            }
            snapshots.take(e.index(), e.term(), m.snapshot());   // the bytes now; the disk on the writer's thread
        }

        @Override
        public void compactLog(Effect.CompactLog e) {
            logWriter.compact(e);   // in order after the log writes issued before it
        }

        @Override
        public void sendSnapshot(Effect.SendSnapshot e) {
            io.quorumd.core.Message.InstallSnapshot h = e.chunk();
            io.quorumd.storage.SnapshotWriter.Chunk c = snapshots.readChunk(h.lastIndex(), h.lastTerm(), h.offset(),
                    io.quorumd.core.Message.InstallSnapshot.MAX_CHUNK_BYTES);
            if (c == null) {
                inbox.offer(new Event.RequestFailed(e.to(), h.requestId(), "snapshot " + h.lastIndex()
                        + " is no longer held (a newer one replaced it)"));
                return;
            }
            if (h.offset() == 0) log.info("sending snapshot {} (term {}) to {}", h.lastIndex(), h.lastTerm(), e.to());
            request(new Effect.Request(e.to(), h.withData(c.data(), c.last())));
        }

        @Override
        public void storeSnapshotChunk(Effect.StoreSnapshotChunk e) {
            snapshots.storeChunk(e);
        }

        @Override
        public void restoreSnapshot(Effect.RestoreSnapshot e) {
            KvMachine restored;
            try {
                io.quorumd.storage.SnapshotStore.Snapshot s = snapshots.load(e.index(), e.term());
                restored = KvMachine.restore(s.data(), config.kv().limits());
            } catch (Exception x) {
                // the store cannot go on from here: stop (exit 1); the next start checks the snapshot
                String why = "cannot install snapshot " + e.index() + " (term " + e.term() + ") in the store: " + x;
                log.error("{}", why);
                if (storeFailure == null) storeFailure = why;
                return;
            }
            kv.restore(restored);
            snapshotsInstalled.incrementAndGet();
            log.info("installed the snapshot at index {} (term {}) from the master: {} keys, revision {}", e.index(),
                    e.term(), restored.keyCount(), restored.revision());
        }
    }

}

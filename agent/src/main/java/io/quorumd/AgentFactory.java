package io.quorumd;

import io.quorumd.command.BaseEnv;
import io.quorumd.command.CommandSpec;
import io.quorumd.command.HookSpec;
import io.quorumd.command.RestartCertificate;
import io.quorumd.command.Supervisor;
import io.quorumd.config.BindResolver;
import io.quorumd.config.CommandConfig;
import io.quorumd.config.Config;
import io.quorumd.config.HooksConfig;
import io.quorumd.config.PeerConfig;
import io.quorumd.config.ResolvedBind;
import io.quorumd.control.ControlServer;
import io.quorumd.control.ControlSocketException;
import io.quorumd.core.Event;
import io.quorumd.core.Node;
import io.quorumd.core.NodeConfig;
import io.quorumd.core.Proof;
import io.quorumd.core.TermState;
import io.quorumd.fence.SelfFence;
import io.quorumd.kv.KvMachine;
import io.quorumd.log.LogEntry;
import io.quorumd.log.RaftLog;
import io.quorumd.storage.LogCorruptException;
import io.quorumd.storage.LogStorage;
import io.quorumd.storage.LogWriter;
import io.quorumd.storage.Persister;
import io.quorumd.storage.SnapshotStore;
import io.quorumd.storage.SnapshotWriter;
import io.quorumd.storage.StateDirLock;
import io.quorumd.storage.StateFile;
import io.quorumd.storage.StateFileException;
import io.quorumd.systemd.SdNotify;
import io.quorumd.security.CurveKeys;
import io.quorumd.security.KeyFile;
import io.quorumd.security.KeyFileException;
import io.quorumd.transport.PeerEndpoint;
import io.quorumd.transport.TransportOptions;
import io.quorumd.transport.ZmqTransport;
import io.quorumd.wire.Codec;
import io.quorumd.wire.DropCounters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Builds a running agent from a checked config, in the order that keeps the guarantees: lock
 * state_dir, load term and vote, obtain the restart certificate (the previous run's command
 * group must be gone before the first keep-alive), then bind the sockets, then READY.
 */
public final class AgentFactory {
    private static final Logger log = LoggerFactory.getLogger(AgentFactory.class);

    private AgentFactory() {}

    /** Why the agent could not start; the message is for the operator as it is. */
    public static final class StartupException extends Exception {
        private static final long serialVersionUID = 1L;
        private final boolean needsOperator;

        public StartupException(String message, Throwable cause) {
            this(message, cause, false);
        }

        /**
         * @param needsOperator true when starting again cannot help (a damaged state file, a term
         *                      beyond the largest): the agent exits 2, which the unit does not restart
         */
        public StartupException(String message, Throwable cause, boolean needsOperator) {
            super(message, cause);
            this.needsOperator = needsOperator;
        }

        public boolean needsOperator() {
            return needsOperator;
        }
    }

    /**
     * How long a SIGTERM may take: stop the command, hand over, let the hooks finish (the
     * {@code on_follower} of the hand-over above all), exit. The unit's TimeoutStopSec must cover
     * it: stop_timeout + hooks.timeout + 10 s.
     */
    public static long shutdownBudgetNanos(Config config) {
        long stop = config.nodeConfig().timing().stopTimeoutNanos();
        return stop + hookSpec(config.hooks()).timeoutNanos() + 10_000_000_000L;
    }

    public static Agent start(Config config) throws StartupException {
        return start(config, SdNotify.fromEnvironment());
    }

    /** {@link #start(Config)} telling systemd through {@code sd} (a test passes its own socket). */
    public static Agent start(Config config, SdNotify sd) throws StartupException {
        long startedNanos = System.nanoTime();
        NodeConfig nodeConfig = config.nodeConfig();
        // before the state dir is locked: a bad key file leaves nothing to undo
        CurveKeys keys = curveKeys(config);
        Map<String, PeerEndpoint> peers = peerEndpoints(config);
        StateDirLock lock;
        TermState termState;
        StateFile stateFile = new StateFile(config.stateDir());
        try {
            lock = StateDirLock.acquire(config.stateDir());
        } catch (StateFileException e) {
            throw new StartupException(e.getMessage(), e);   // another agent: it may be gone soon
        }
        try {
            termState = stateFile.load();
        } catch (StateFileException e) {
            lock.close();
            // a restart would read the same file again: exit 2, which the unit does not restart
            throw new StartupException(e.getMessage(), e, true);
        }
        Proof certificate = restartCertificate(config, nodeConfig);
        long bootId = new SecureRandom().nextLong();
        Node node = new Node(nodeConfig, termState, bootId, certificate, new SplittableRandom(bootId), System.nanoTime());
        StoredLog stored;
        try {
            stored = openLog(config);
        } catch (StartupException e) {
            lock.close();
            throw e;
        }
        node.recoverLog(stored.log());
        node.snapshotPolicy(config.kv().snapshotPolicy());

        ResolvedBind bind;
        try {
            bind = BindResolver.resolve(config);
        } catch (Exception e) {
            throw new StartupException("bind: " + e.getMessage(), e);
        }
        log.info("{}", bind.description());
        DropCounters drops = new DropCounters(System::nanoTime);
        Inbox inbox = new Inbox(drops);   // adapters offer and never block; frames beyond its bound are shed
        List<String> ids = new ArrayList<>();
        for (PeerConfig p : config.peers()) ids.add(p.id());
        Codec codec = new Codec(config.cluster(), new LinkedHashSet<>(ids));
        // every request through the transport ends in an event (a reply or its failure): counted, so
        // that a transport thread alive but wedged is noticed
        ThreadWatch.Answers transportAnswers = ThreadWatch.answers("transport",
                Agent.requestTimeoutNanos(nodeConfig.timing()));
        ZmqTransport transport = new ZmqTransport(config.node(), bind.address(), config.self().port(), peers, codec,
                drops, e -> {
                    transportAnswers.answered();
                    inbox.offer(e);
                }, TransportOptions.defaults().withCurve(keys));
        Supervisor supervisor;
        Persister persister = new Persister(stateFile, inbox::offer);
        Path stateDir = config.stateDir();
        LogWriter logWriter = new LogWriter(stored.storage(), stored.baseIndex(),
                base -> reopenLog(stateDir, base), inbox::offer);
        io.quorumd.kv.KvLimits limits = config.kv().limits();
        SnapshotWriter snapshots = new SnapshotWriter(new SnapshotStore(stateDir), stored.baseIndex(), stored.baseTerm(),
                data -> KvMachine.restore(data, limits), inbox::offer);
        try {
            transport.start();
            supervisor = new Supervisor(commandSpec(config.command()), hookSpec(config.hooks()),
                    new BaseEnv(config.cluster(), config.node(), ids), config.stateDir(), inbox::offer);
        } catch (Exception e) {
            transport.close();
            persister.close();
            logWriter.close();
            snapshots.close();
            lock.close();
            throw new StartupException(e.getMessage(), e);
        }
        Agent agent = new Agent(config, nodeConfig, node, bootId, inbox, drops, transport, persister, logWriter,
                snapshots, stored.machine(), supervisor, sd, lock,
                io.quorumd.transport.Addresses.hostPort(bind.address(), config.self().port()), startedNanos);
        agent.attachSelfFence(SelfFence.create(config.selfFence(), nodeConfig.timing().leaseNanos(),
                nodeConfig.timing().heartbeatNanos(), agent::selfFenceFailed));
        agent.attachExecGuards(supervisor.newExecGuards(
                config.command() != null ? config.command().stopSignal().number() : 15,
                nodeConfig.timing().stopTimeoutNanos()));
        ThreadWatch threads = agent.threads();
        threads.watch("state file writer", persister.thread());
        threads.watch("log writer", logWriter.thread());
        threads.watch("snapshot writer", snapshots.thread());
        threads.watch("command spawner", supervisor.spawnerThread(), supervisor::runOnSpawner);
        // the transport does not expose its I/O thread; its name is documented (ZmqTransport's Threads)
        String ioName = "quorumd-transport-" + config.node();
        Thread io = ThreadWatch.findThread(ioName);
        if (io != null) {
            threads.watch("transport", io, transportAnswers);
            agent.watchTransportAnswers(transportAnswers);
        } else log.warn("no thread named {}: the transport's I/O thread is not watched", ioName);
        try {
            agent.attachControl(ControlServer.start(config.controlSocket(), agent.controlHandler()));
        } catch (ControlSocketException e) {
            agent.abort();
            throw new StartupException(e.getMessage(), e);
        }
        if (config.metrics() != null) {
            try {
                agent.startMetrics(config.metrics().host(), config.metrics().port());
            } catch (IOException | RuntimeException e) {
                agent.abort();
                throw new StartupException(e.getMessage(), e);
            }
        }
        return agent;
    }

    /** What {@link #openLog} recovered: the store as of the snapshot, the log's storage and its entries. */
    record StoredLog(KvMachine machine, LogStorage storage, RaftLog log, long baseIndex, long baseTerm) {}

    /**
     * Opens the replicated store's durable state, in this order: the newest valid snapshot (the
     * store restored from it), then the log's segments after its base, then the in-memory log over
     * both. A torn tail (a crash mid-write, never acknowledged) is truncated and logged; any other
     * damage to the log or the snapshot stops the agent (exit 2, which the unit does not restart)
     * with the file named: an operator decides, the agent never silently starts from nothing.
     */
    static StoredLog openLog(Config config) throws StartupException {
        Path dir = config.stateDir();
        KvMachine machine;
        long baseIndex = 0;
        long baseTerm = 0;
        try {
            SnapshotStore.Loaded loaded = new SnapshotStore(dir).load();
            for (String note : loaded.notes()) log.warn("snapshot: {}", note);
            if (loaded.snapshot().isPresent()) {
                SnapshotStore.Snapshot snap = loaded.snapshot().get();
                machine = KvMachine.restore(snap.data(), config.kv().limits());
                baseIndex = snap.index();
                baseTerm = snap.term();
                log.info("the store is restored from the snapshot at index {} (term {}): {} keys, revision {}",
                        baseIndex, baseTerm, machine.keyCount(), machine.revision());
            } else {
                machine = new KvMachine(config.kv().limits());
            }
        } catch (LogCorruptException | io.quorumd.kv.KvSnapshotException e) {
            throw new StartupException("quorumd: the store's snapshot in " + dir + " is corrupt: " + e.getMessage()
                    + ". The agent does not start from an empty store by itself: restore the state directory from a "
                    + "backup, or (losing this node's copy) remove its snapshot-* files and log/ so that it catches up "
                    + "from the master", e, true);
        } catch (IOException e) {
            throw new StartupException("quorumd: cannot read the store's snapshot in " + dir + ": " + e.getMessage(), e);
        }
        LogStorage.Opened opened;
        try {
            opened = LogStorage.open(dir, baseIndex, LogStorage.DEFAULT_SEGMENT_BYTES);
        } catch (LogCorruptException e) {
            throw new StartupException("quorumd: the replicated log in " + dir.resolve(LogStorage.DIR_NAME)
                    + " is corrupt: " + e.getMessage() + ". The agent does not drop a log by itself: restore the state "
                    + "directory from a backup, or (losing this node's copy) remove " + dir.resolve(LogStorage.DIR_NAME)
                    + " so that it catches up from the master", e, true);
        } catch (IOException e) {
            throw new StartupException("quorumd: cannot open the replicated log in " + dir + ": " + e.getMessage(), e);
        }
        for (String note : opened.notes()) log.warn("log: {}", note);
        List<LogEntry> tail = opened.entries();
        if (opened.termAtBase() != 0 && opened.termAtBase() != baseTerm) {
            // the stored entries do not follow the snapshot (a snapshot installed from the master
            // replaced a log that did not match it, and the compaction did not happen): they go
            try {
                LogStorage st = opened.storage();
                st.compactPrefix(baseIndex);
                if (st.lastIndex() > baseIndex) st.truncateSuffix(baseIndex + 1);
            } catch (IOException e) {
                try {
                    opened.storage().close();
                } catch (IOException ignored) {
                    // the start fails anyway
                }
                throw new StartupException("quorumd: cannot drop the replicated log in " + dir.resolve(LogStorage.DIR_NAME)
                        + " that does not follow the snapshot at index " + baseIndex + ": " + e.getMessage(), e);
            }
            log.warn("log: the stored entries do not follow the snapshot at index {} (term {}; the log holds that entry "
                    + "with term {}): all {} of them after it dropped; the master sends what follows", baseIndex, baseTerm,
                    opened.termAtBase(), tail.size());
            tail = List.of();
        } else if (baseIndex > 0) {
            try {
                opened.storage().compactPrefix(baseIndex);
            } catch (IOException e) {
                log.warn("log: cannot compact the log to the snapshot at index {} now: {}", baseIndex, e.getMessage());
            }
        }
        RaftLog raftLog;
        try {
            raftLog = new RaftLog(baseIndex, baseTerm, tail, baseIndex);
        } catch (IllegalArgumentException e) {
            try {
                opened.storage().close();
            } catch (IOException ignored) {
                // the start fails anyway
            }
            throw new StartupException("quorumd: the replicated log in " + dir.resolve(LogStorage.DIR_NAME)
                    + " does not follow the snapshot at index " + baseIndex + ": " + e.getMessage(), e, true);
        }
        if (raftLog.lastIndex() > 0) {
            log.info("the replicated log holds entries {} to {} (term {}); they are applied again once committed",
                    raftLog.firstIndex(), raftLog.lastIndex(), raftLog.lastTerm());
        }
        return new StoredLog(machine, opened.storage(), raftLog, baseIndex, baseTerm);
    }

    /** The log opened again after a failed write (the log writer's, on its thread), with its notes logged. */
    private static LogStorage reopenLog(Path dir, long baseIndex) throws IOException {
        LogStorage.Opened o;
        try {
            o = LogStorage.open(dir, baseIndex, LogStorage.DEFAULT_SEGMENT_BYTES);
        } catch (LogCorruptException e) {
            throw new IOException("the replicated log is corrupt: " + e.getMessage()
                    + " (the agent refuses to start with it; see the start's message)", e);
        }
        for (String note : o.notes()) log.warn("log: {}", note);
        return o.storage();
    }

    /**
     * This node's CURVE key pair from {@code security.curve.key}, or null in trusted mode (which
     * is logged as a warning: SPEC "Security").
     */
    static CurveKeys curveKeys(Config config) throws StartupException {
        if (config.security() == null) {
            log.warn("{}", Config.TRUSTED_MODE_WARNING);
            return null;
        }
        Path file = config.security().curveKey();
        CurveKeys keys;
        try {
            keys = KeyFile.readSecret(file);
        } catch (KeyFileException e) {
            throw new StartupException("security.curve.key: " + file + " " + e.getMessage(), e);
        }
        String own = config.self().publicKey();
        if (own != null && !own.equals(keys.publicKeyZ85())) {
            throw new StartupException("security.curve.key: " + file + " holds the public key " + keys.publicKeyZ85()
                    + ", not this node's public_key " + own, null);
        }
        log.info("security: CURVE with the key pair in {} (public key {})", file, keys.publicKeyZ85());
        return keys;
    }

    /** Every other peer's address, with its CURVE public key when {@code security} is set. */
    static Map<String, PeerEndpoint> peerEndpoints(Config config) throws StartupException {
        Map<String, PeerEndpoint> peers = new LinkedHashMap<>();
        for (PeerConfig p : config.others()) {
            byte[] key = null;
            if (config.security() != null) {
                if (p.publicKey() == null)
                    throw new StartupException("peer " + p.id() + " has no public_key, which security.curve needs", null);
                key = CurveKeys.decodeZ85(p.publicKey());
            }
            peers.put(p.id(), new PeerEndpoint(p.host(), p.port(), key));
        }
        return peers;
    }

    /**
     * The previous run's command must be gone before this node says anything: wait for its
     * process group to empty (the old watchdog kills it within stop_timeout), then certify.
     */
    private static Proof restartCertificate(Config config, NodeConfig nc) throws StartupException {
        long deadline = System.nanoTime() + nc.timing().stopTimeoutNanos() + 2_000_000_000L;
        RestartCertificate.Result r;
        try {
            r = RestartCertificate.await(config.stateDir(), deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted while checking the previous run's command", e);
        }
        if (r.certified()) {
            log.info("restart certificate: {}", r.detail());
            return new Proof(Proof.Kind.CERTIFICATE, config.node(), r.lastCommandTerm(), true);
        }
        log.warn("no restart certificate: {}; the next master waits out the old lease", r.detail());
        return null;
    }

    static CommandSpec commandSpec(CommandConfig c) {
        if (c == null) return null;
        return new CommandSpec(c.argv(), c.workdir(), c.env(), c.stopSignal().number(), c.stopTimeout().toNanos(),
                c.restart(), c.maxRestarts(), c.restartWindow().toNanos());
    }

    static HookSpec hookSpec(HooksConfig h) {
        if (h == null) return HookSpec.none();
        return new HookSpec(h.onMaster(), h.onFollower(), h.fence(), h.timeout().toNanos());
    }
}

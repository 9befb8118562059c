package io.quorumd;

import io.quorumd.command.BaseEnv;
import io.quorumd.command.CommandSpec;
import io.quorumd.command.HookSpec;
import io.quorumd.command.RestartCertificate;
import io.quorumd.command.RestartPolicy;
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
import io.quorumd.storage.Persister;
import io.quorumd.storage.StateDirLock;
import io.quorumd.storage.StateFile;
import io.quorumd.storage.StateFileException;
import io.quorumd.systemd.SdNotify;
import io.quorumd.transport.PeerEndpoint;
import io.quorumd.transport.ZmqTransport;
import io.quorumd.wire.Codec;
import io.quorumd.wire.DropCounters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;

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
        public StartupException(String message, Throwable cause) {
            super(message, cause);
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
        long startedNanos = System.nanoTime();
        NodeConfig nodeConfig = config.nodeConfig();
        StateDirLock lock;
        TermState termState;
        StateFile stateFile = new StateFile(config.stateDir());
        try {
            lock = StateDirLock.acquire(config.stateDir());
            termState = stateFile.load();
        } catch (StateFileException e) {
            throw new StartupException(e.getMessage(), e);
        }
        Proof certificate = restartCertificate(config, nodeConfig);
        long bootId = new SecureRandom().nextLong();
        LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
        Node node = new Node(nodeConfig, termState, bootId, certificate, new SplittableRandom(bootId), System.nanoTime());

        ResolvedBind bind;
        try {
            bind = BindResolver.resolve(config);
        } catch (Exception e) {
            throw new StartupException("bind: " + e.getMessage(), e);
        }
        log.info("{}", bind.description());
        DropCounters drops = new DropCounters(System::nanoTime);
        List<String> ids = new ArrayList<>();
        Map<String, PeerEndpoint> peers = new LinkedHashMap<>();
        for (PeerConfig p : config.peers()) {
            ids.add(p.id());
            if (!p.id().equals(config.node())) peers.put(p.id(), new PeerEndpoint(p.host(), p.port()));
        }
        Codec codec = new Codec(config.cluster(), new LinkedHashSet<>(ids));
        ZmqTransport transport = new ZmqTransport(config.node(), bind.address(), config.self().port(), peers, codec,
                drops, queue::add);
        Supervisor supervisor;
        Persister persister = new Persister(stateFile, queue::add);
        try {
            transport.start();
            supervisor = new Supervisor(commandSpec(config.command()), hookSpec(config.hooks()),
                    new BaseEnv(config.cluster(), config.node(), ids), config.stateDir(), queue::add);
        } catch (Exception e) {
            transport.close();
            persister.close();
            lock.close();
            throw new StartupException(e.getMessage(), e);
        }
        SdNotify sd = SdNotify.fromEnvironment();
        Agent agent = new Agent(config, nodeConfig, node, bootId, queue, drops, transport, persister, supervisor, sd, lock,
                bind.address().getHostAddress() + ":" + config.self().port(), startedNanos);
        try {
            agent.attachControl(ControlServer.start(config.controlSocket(), agent.controlHandler()));
        } catch (ControlSocketException e) {
            agent.abort();
            throw new StartupException(e.getMessage(), e);
        }
        return agent;
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
                RestartPolicy.valueOf(c.restart().name()), c.maxRestarts(), c.restartWindow().toNanos());
    }

    static HookSpec hookSpec(HooksConfig h) {
        if (h == null) return HookSpec.none();
        return new HookSpec(h.onMaster(), h.onFollower(), h.fence(), h.timeout().toNanos());
    }
}

package io.quorumd.config;

import io.quorumd.core.NodeConfig;
import io.quorumd.core.Peer;
import io.quorumd.core.Peers;
import io.quorumd.core.Timing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Every setting of {@code quorumd.yaml}, defaults filled in. Immutable; built by
 * {@link ConfigLoader}, which has already checked every rule of SPEC, or in code (tests, demo),
 * where only nulls are refused here.
 *
 * @param source        the file it was read from, for messages (null when built in code)
 * @param bind          {@code auto} or an IP literal; see {@link BindResolver}
 * @param security      null when the file has no {@code security} section: trusted mode
 * @param command       null when the file has no {@code command} section: quorumd only elects
 * @param hooks         null when the file has no {@code hooks} section
 * @param logLevel      one of {@link #LOG_LEVELS}
 * @param metrics       null without a {@code metrics} section: no endpoint
 * @param selfFence     the {@code self_fence} section; {@link SelfFenceConfig#off()} when absent
 * @param kv            the {@code kv} section; {@link KvConfig#defaults()} when absent
 */
public record Config(Path source, String cluster, String node, String bind, List<PeerConfig> peers,
                     SecurityConfig security, TimingConfig timing, CommandConfig command, HooksConfig hooks, Path stateDir,
                     Path controlSocket, String logLevel, MetricsConfig metrics, SelfFenceConfig selfFence,
                     KvConfig kv) {
    public static final String BIND_AUTO = "auto";
    public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/quorumd");
    public static final Path DEFAULT_CONTROL_SOCKET = Path.of("/run/quorumd/control.sock");
    public static final String DEFAULT_LOG_LEVEL = "info";
    public static final List<String> LOG_LEVELS = List.of("error", "warn", "info", "debug", "trace");
    /**
     * The default config file, where the packages install it and the unit reads it; {@code -c} or
     * {@code QUORUMD_CONFIG} override it. A string, so that the CLI's annotations can name it.
     */
    public static final String DEFAULT_FILE = "/etc/quorumd/quorumd.yaml";

    public Config {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(bind, "bind");
        peers = List.copyOf(peers);
        Objects.requireNonNull(timing, "timing");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(controlSocket, "controlSocket");
        Objects.requireNonNull(logLevel, "logLevel");
        if (selfFence == null) selfFence = SelfFenceConfig.off();
        if (kv == null) kv = KvConfig.defaults();
    }

    /** With the default {@code kv} section. */
    public Config(Path source, String cluster, String node, String bind, List<PeerConfig> peers, SecurityConfig security,
                  TimingConfig timing, CommandConfig command, HooksConfig hooks, Path stateDir, Path controlSocket,
                  String logLevel, MetricsConfig metrics, SelfFenceConfig selfFence) {
        this(source, cluster, node, bind, peers, security, timing, command, hooks, stateDir, controlSocket, logLevel,
                metrics, selfFence, null);
    }

    /** Without the operations sections: no metrics endpoint, no self-fence. */
    public Config(Path source, String cluster, String node, String bind, List<PeerConfig> peers, SecurityConfig security,
                  TimingConfig timing, CommandConfig command, HooksConfig hooks, Path stateDir, Path controlSocket,
                  String logLevel) {
        this(source, cluster, node, bind, peers, security, timing, command, hooks, stateDir, controlSocket, logLevel,
                null, null);
    }

    /** This node's entry in {@link #peers()}. */
    public PeerConfig self() {
        for (PeerConfig p : peers) {
            if (p.id().equals(node)) return p;
        }
        throw new IllegalStateException("node " + node + " is not among the peers");
    }

    /** Every peer but this node, in file order. */
    public List<PeerConfig> others() {
        List<PeerConfig> l = new ArrayList<>();
        for (PeerConfig p : peers) {
            if (!p.id().equals(node)) l.add(p);
        }
        return List.copyOf(l);
    }

    /**
     * What {@code check} and the agent's start-up log say when there is no {@code security}
     * section (SPEC "Security").
     */
    public static final String TRUSTED_MODE_WARNING =
            "trusted mode: any process on a peer's host can speak for that peer; use CURVE (quorumd keygen)";

    /** True without a {@code security} section: peers are admitted by address only. */
    public boolean trustedMode() {
        return security == null;
    }

    /** {@code bind: auto}: take the address of the default-route interface. */
    public boolean bindAuto() {
        return BIND_AUTO.equals(bind);
    }

    /** The same config with another source file (the printer's round trip compares without it). */
    public Config withSource(Path newSource) {
        return new Config(newSource, cluster, node, bind, peers, security, timing, command, hooks, stateDir, controlSocket,
                logLevel, metrics, selfFence, kv);
    }

    /** The same config with another {@code metrics} section (null: off). */
    public Config withMetrics(MetricsConfig m) {
        return new Config(source, cluster, node, bind, peers, security, timing, command, hooks, stateDir, controlSocket,
                logLevel, m, selfFence, kv);
    }

    /** The same config with another {@code self_fence} section. */
    public Config withSelfFence(SelfFenceConfig f) {
        return new Config(source, cluster, node, bind, peers, security, timing, command, hooks, stateDir, controlSocket,
                logLevel, metrics, f, kv);
    }

    /** The same config with another {@code kv} section. */
    public Config withKv(KvConfig k) {
        return new Config(source, cluster, node, bind, peers, security, timing, command, hooks, stateDir, controlSocket,
                logLevel, metrics, selfFence, k);
    }

    /** What the election core needs: voters, timing (with the command's stop and restart windows). */
    public NodeConfig nodeConfig() {
        List<Peer> voters = new ArrayList<>();
        for (PeerConfig p : peers) voters.add(new Peer(p.id(), p.priority()));
        Duration stop = command != null ? command.stopTimeout() : CommandConfig.DEFAULT_STOP_TIMEOUT;
        Duration window = command != null ? command.restartWindow() : CommandConfig.DEFAULT_RESTART_WINDOW;
        Timing t = new Timing(timing.heartbeat().toNanos(), timing.electionTimeout().toNanos(), timing.clockDrift(),
                stop.toNanos(), window.toNanos());
        // the replicated log (the kv store) always runs: the master appends, every node applies
        return new NodeConfig(new Peers(node, voters), t, hooks != null && hooks.fence() != null,
                timing.preemptDelay() == null ? NodeConfig.PREEMPT_OFF : timing.preemptDelay().toNanos(), true);
    }
}

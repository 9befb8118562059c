package io.quorumd.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.quorumd.core.NodeView;
import io.quorumd.core.Role;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code /metrics} endpoint: Prometheus' text format, served by Prometheus' own Java client
 * ({@code prometheus-metrics-core} and {@code -exporter-httpserver}). Every gauge and counter is
 * a callback read on scrape; only the fsync histogram is fed as it happens (by the state file's
 * writer thread, once per write). Threads: the JDK HTTP server's dispatcher and its two timer
 * threads (idle and request time-outs, asleep between their ticks), and one worker for scrapes
 * that ends after 60 s idle; no exemplars, so none of the library's scheduler threads.
 */
public final class Metrics implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Metrics.class);
    private static final double NANOS_PER_SECOND = 1e9;

    /** What the endpoint reads on each scrape; every supplier must be cheap and thread-safe. */
    public record Sources(Supplier<NodeView> view, LongSupplier nanoTime, Supplier<CommandState> command,
                          Supplier<Map<String, Long>> drops, LoopCounters loop, Supplier<SelfFenceState> selfFence) {}

    /**
     * The managed command as the supervisor reports it; null when there is no command.
     *
     * @param restartsTotal every restart since the agent started (a counter)
     */
    public record CommandState(String state, long term, long restartsTotal) {}

    /** The self-fence device as seen now: mode, whether it is open and being petted. */
    public record SelfFenceState(String mode, boolean open, long pets) {}

    static final List<String> COMMAND_STATES = List.of("idle", "starting", "running", "stopping", "backoff", "failed");

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram fsync;
    private final HTTPServer server;

    private Metrics(Sources s, String host, int port) throws IOException {
        GaugeWithCallback.builder().name("quorumd_role").help("1 for the role this node is in now")
                .labelNames("role").callback(cb -> {
                    Role now = s.view().get().role();
                    for (Role r : Role.values()) cb.call(r == now ? 1 : 0, r.label());
                }).register(registry);
        GaugeWithCallback.builder().name("quorumd_term").help("the current term (the fencing token of its master)")
                .callback(cb -> cb.call(s.view().get().term())).register(registry);
        GaugeWithCallback.builder().name("quorumd_master").help("1, labelled with the master this node knows; absent when none")
                .labelNames("master").callback(cb -> {
                    String m = s.view().get().master();
                    if (m != null) cb.call(1, m);
                }).register(registry);
        GaugeWithCallback.builder().name("quorumd_master_known").help("1 when this node knows a master, else 0")
                .callback(cb -> cb.call(s.view().get().master() != null ? 1 : 0)).register(registry);
        GaugeWithCallback.builder().name("quorumd_lease_remaining_seconds")
                .help("how long the master's lease still holds (0 when not master or no lease)")
                .callback(cb -> {
                    NodeView v = s.view().get();
                    long left = v.role() == Role.MASTER && v.leaseEndNanos() != -1
                            ? v.leaseEndNanos() - s.nanoTime().getAsLong() : 0;
                    cb.call(Math.max(0, left) / NANOS_PER_SECOND);
                }).register(registry);
        GaugeWithCallback.builder().name("quorumd_peer_last_contact_seconds")
                .help("since the last frame from each peer; absent for a peer never heard")
                .labelNames("peer").callback(cb -> {
                    for (NodeView.PeerView p : s.view().get().peers()) {
                        if (p.lastContactAgoNanos() >= 0) cb.call(p.lastContactAgoNanos() / NANOS_PER_SECOND, p.id());
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("quorumd_peer_up").help("1 while the peer is heard (state up), else 0; "
                        + "its state is labelled: up, silent, refused or never")
                .labelNames("peer", "state").callback(cb -> {
                    for (NodeView.PeerView p : s.view().get().peers()) cb.call("up".equals(p.state()) ? 1 : 0, p.id(), p.state());
                }).register(registry);
        CounterWithCallback.builder().name("quorumd_elections").help("elections this node started (became candidate)")
                .callback(cb -> cb.call(s.loop().elections())).register(registry);
        CounterWithCallback.builder().name("quorumd_elections_won").help("elections this node won (became master)")
                .callback(cb -> cb.call(s.loop().electionsWon())).register(registry);
        CounterWithCallback.builder().name("quorumd_master_changes")
                .help("times the master this node knows changed to another node (fail-overs and hand-overs seen here)")
                .callback(cb -> cb.call(s.loop().masterChanges())).register(registry);
        CounterWithCallback.builder().name("quorumd_failovers")
                .help("times this node, as a new master, was cleared to run its command, by the proof used: handover, "
                        + "certificate, own_stop, fence, lease_expiry (the wait), no_master, self (as status shows cleared_by)")
                .labelNames("proof").callback(cb -> s.loop().clearances().forEach((k, v) -> cb.call(v, k)))
                .register(registry);
        GaugeWithCallback.builder().name("quorumd_command_state")
                .help("1 for the managed command's state now; absent without a command")
                .labelNames("state").callback(cb -> {
                    CommandState c = s.command().get();
                    if (c == null) return;
                    for (String st : COMMAND_STATES) cb.call(st.equals(c.state()) ? 1 : 0, st);
                }).register(registry);
        GaugeWithCallback.builder().name("quorumd_command_term").help("the term (QUORUMD_TERM) of the command's last start")
                .callback(cb -> {
                    CommandState c = s.command().get();
                    if (c != null) cb.call(c.term());
                }).register(registry);
        CounterWithCallback.builder().name("quorumd_command_restarts").help("restarts of the managed command since the agent started")
                .callback(cb -> {
                    CommandState c = s.command().get();
                    if (c != null) cb.call(c.restartsTotal());
                }).register(registry);
        CounterWithCallback.builder().name("quorumd_dropped_frames").help("frames dropped, by reason")
                .labelNames("reason").callback(cb -> s.drops().get().forEach((k, v) -> cb.call(v, k))).register(registry);
        GaugeWithCallback.builder().name("quorumd_self_fence_active")
                .help("1 while the self-fence device is open (petted while this node holds a lease)")
                .labelNames("mode").callback(cb -> {
                    SelfFenceState f = s.selfFence().get();
                    cb.call(f.open() ? 1 : 0, f.mode());
                }).register(registry);
        CounterWithCallback.builder().name("quorumd_self_fence_pets").help("writes to the self-fence device")
                .callback(cb -> cb.call(s.selfFence().get().pets())).register(registry);
        Histogram.Builder hb = Histogram.builder().name("quorumd_fsync_duration_seconds")
                .help("time to store the term and vote durably (write, fsync, rename, fsync of the directory)")
                .classicOnly().classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5);
        hb.withoutExemplars();   // exemplars would start the library's scheduler thread, for nothing here
        fsync = hb.register(registry);
        // one worker, created on the first scrape and ended after a minute idle: no thread at rest but the dispatcher
        ExecutorService worker = new ThreadPoolExecutor(0, 1, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "quorumd-metrics");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
        try {
            server = HTTPServer.builder().inetAddress(InetAddress.getByName(host)).port(port).registry(registry)
                    .executorService(worker).buildAndStart();
        } catch (IOException | RuntimeException e) {
            worker.shutdownNow();
            throw e;
        }
    }

    /**
     * Starts the endpoint on {@code host:port} (port 0: any free port, see {@link #port()}).
     *
     * @throws IOException the address cannot be bound (the message says which)
     */
    public static Metrics start(Sources sources, String host, int port) throws IOException {
        try {
            Metrics m = new Metrics(sources, host, port);
            log.info("metrics: Prometheus text format at http://{}/metrics", hostPort(host, m.port()));
            return m;
        } catch (IOException e) {
            throw new IOException("metrics.listen: cannot listen on " + hostPort(host, port) + ": " + e.getMessage()
                    + "; choose a free port on an address of this host", e);
        }
    }

    private static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** Adds a counter read on each scrape ({@code value} must be cheap and thread-safe). */
    public void counter(String name, String help, java.util.function.LongSupplier value) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsLong())).register(registry);
    }

    /** A gauge read from {@code value} at each scrape. */
    public void gauge(String name, String help, java.util.function.LongSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsLong())).register(registry);
    }

    /** The port it listens on. */
    public int port() {
        return server.getPort();
    }

    /** Takes the duration of one durable write of the state file (from its writer thread). */
    public LongConsumer fsyncObserver() {
        return nanos -> fsync.observe(nanos / NANOS_PER_SECOND);
    }

    @Override
    public void close() {
        server.close();
    }
}

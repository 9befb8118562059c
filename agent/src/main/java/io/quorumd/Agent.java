package io.quorumd;

import io.quorumd.command.Supervisor;
import io.quorumd.config.Config;
import io.quorumd.control.ControlServer;
import io.quorumd.control.Status;
import io.quorumd.core.Effect;
import io.quorumd.core.Effects;
import io.quorumd.core.Event;
import io.quorumd.core.Node;
import io.quorumd.core.NodeView;
import io.quorumd.core.Proof;
import io.quorumd.core.Role;
import io.quorumd.core.TermState;
import io.quorumd.storage.Persister;
import io.quorumd.systemd.SdNotify;
import io.quorumd.transport.ZmqTransport;
import io.quorumd.wire.DropCounters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The event loop: the one thread that owns the core. Adapters hand it events through one queue;
 * it feeds them to {@link Node#handle} with the time and applies the effects in order through
 * {@link Effects}. It never blocks on the network, the disk or a hook: those live on the
 * adapters' own threads.
 */
public final class Agent {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    /** The loop wakes at least this often: status snapshot, systemd watchdog. */
    private static final long MAX_SLEEP_NANOS = 50_000_000L;

    private final Config config;
    private final Node node;
    private final long bootId;
    private final long startedNanos;
    private final BlockingQueue<Event> queue = new LinkedBlockingQueue<>();
    private final DropCounters drops;
    private final ZmqTransport transport;
    private final Persister persister;
    private final Supervisor supervisor;
    private final SdNotify sd;
    private final ControlServer control;
    private final AtomicReference<Status> status = new AtomicReference<>();
    private final CountDownLatch exited = new CountDownLatch(1);
    private final long requestTimeoutNanos;
    private volatile boolean exitRequested;
    private volatile boolean readyToExit;
    private long lastWatchdogPingNanos;
    private long firstKeepAliveNanos = -1;
    private String lastStatusLine = "";
    private Role lastRole;

    /** Everything the agent needs, built by {@link AgentFactory} so tests can build it too. */
    public record Parts(Config config, Node node, long bootId, DropCounters drops, ZmqTransport transport,
                        Persister persister, Supervisor supervisor, SdNotify sd, ControlServer control) {}

    Agent(Parts p, long startedNanos) {
        this.config = p.config();
        this.node = p.node();
        this.bootId = p.bootId();
        this.drops = p.drops();
        this.transport = p.transport();
        this.persister = p.persister();
        this.supervisor = p.supervisor();
        this.sd = p.sd();
        this.control = p.control();
        this.startedNanos = startedNanos;
        this.requestTimeoutNanos = Math.max(2 * config.nodeConfig().timing().heartbeatNanos(), 200_000_000L);
    }

    /** Where adapters post their events. Thread-safe. */
    public Consumer<Event> sink() {
        return queue::add;
    }

    public Status status() {
        return status.get();
    }

    /** Asks the loop to hand over and stop; returns at once. */
    public void requestShutdown() {
        queue.add(new Event.ShutdownRequested());
    }

    /** Blocks until the loop has ended, at most {@code nanos}; true if it has. */
    public boolean awaitExit(long nanos) throws InterruptedException {
        return exited.await(nanos, TimeUnit.NANOSECONDS);
    }

    /** Runs the loop on the calling thread until the node is ready to exit. */
    public void run() {
        try {
            sd.ready();
            log.info("{} ready: cluster {}, term {}, boot id {}, bind {}", config.node(), config.cluster(),
                    node.term(), Long.toHexString(bootId), transport.describe());
            loop();
        } finally {
            closeAll();
            exited.countDown();
        }
    }

    private void loop() {
        Handler handler = new Handler();
        Event event = new Event.Tick();
        while (!readyToExit) {
            long now = System.nanoTime();
            List<Effect> effects;
            try {
                effects = node.handle(event, now);
            } catch (RuntimeException e) {
                // a bug in the core must not leave a command running without a lease: stop and exit
                log.error("internal error handling {}: {}; stopping", event, e.toString(), e);
                throw e;
            }
            Effects.apply(effects, handler);
            afterEvent(now);
            long wait = Math.min(node.nextDeadlineNanos() - System.nanoTime(), MAX_SLEEP_NANOS);
            try {
                Event next = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
                event = next != null ? next : new Event.Tick();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                event = new Event.ShutdownRequested();
            }
        }
    }

    private void afterEvent(long now) {
        if (now - lastWatchdogPingNanos >= sd.watchdogIntervalNanos() / 2) {
            sd.watchdog();   // from the loop itself: a wedged loop stops pinging and systemd restarts it
            lastWatchdogPingNanos = now;
        }
        NodeView v = node.view(now);
        Status s = StatusBuilder.build(config, v, bootId, now - startedNanos, supervisor.status(), drops.snapshot(),
                transport.describe(), now);
        status.set(s);
        String line = v.role().label() + ", term " + v.term() + (v.master() != null ? ", master " + v.master() : "");
        if (!line.equals(lastStatusLine)) {
            sd.status(line);
            lastStatusLine = line;
        }
    }

    private void closeAll() {
        sd.stopping();
        closeQuietly(control::close);
        closeQuietly(supervisor::close);
        closeQuietly(transport::close);
        closeQuietly(persister::close);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.warn("while closing: {}", e.toString());
        }
    }

    /** Applies the core's effects; the same {@link Effects.Handler} contract the simulator implements. */
    private final class Handler implements Effects.Handler {
        @Override
        public void publish(Effect.Publish e) {
            if (firstKeepAliveNanos < 0) {
                firstKeepAliveNanos = System.nanoTime();
                log.info("first keep-alive {} ms after start", (firstKeepAliveNanos - startedNanos) / 1_000_000);
            }
            transport.publish(e.keepAlive());
        }

        @Override
        public void request(Effect.Request e) {
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
            supervisor.start(e.term(), e.master(), e.leaseEndNanos());
        }

        @Override
        public void stopCommand(Effect.StopCommand e) {
            supervisor.stop(e.reason());
        }

        @Override
        public void leaseRenewed(Effect.LeaseRenewed e) {
            supervisor.renew(e.leaseEndNanos());
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
            if (e.role() != lastRole || e.role() != Role.FOLLOWER) {
                log.info("{} in term {}: {}", roleVerb(e.role()), e.term(), e.reason());
            } else {
                log.debug("follower in term {}: {}", e.term(), e.reason());
            }
            lastRole = e.role();
        }

        @Override
        public void trace(Effect.Trace e) {
            log.debug(e.text());
        }

        @Override
        public void readyToExit(Effect.ReadyToExit e) {
            readyToExit = true;
        }
    }

    private static String roleVerb(Role r) {
        return switch (r) {
            case MASTER -> "became master";
            case CANDIDATE -> "campaigning";
            case FOLLOWER -> "follower";
        };
    }

    /** A restart certificate for this node, or null. */
    static Proof certificate(String self, Long lastCommandTerm) {
        return lastCommandTerm == null ? null : new Proof(Proof.Kind.CERTIFICATE, self, lastCommandTerm, true);
    }

    static SplittableRandom seededRandom(long bootId) {
        return new SplittableRandom(bootId);
    }
}

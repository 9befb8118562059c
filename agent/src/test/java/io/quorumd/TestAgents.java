package io.quorumd;

import io.quorumd.systemd.SdNotify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Real agents in the test's JVM (the loop on a thread of its own, real sockets and state files on
 * loopback), stopped together at the end of the test; and the config file such tests write.
 */
public final class TestAgents implements AutoCloseable {
    private final List<Agent> agents = new ArrayList<>();

    /**
     * A config file for {@code node} in {@code dir}: cluster {@code c} on 127.0.0.1, the given peer
     * lines and timing, state and control socket in {@code dir}, then {@code extra} as it is.
     */
    public static Path configFile(Path dir, String node, String peers, String timing, String extra) throws IOException {
        Path f = dir.resolve(node + ".yaml");
        Files.writeString(f, "cluster: c\nnode: " + node + "\nbind: 127.0.0.1\npeers:\n" + peers
                + "timing: " + timing + "\n"
                + "state_dir: " + dir.resolve(node) + "\ncontrol_socket: " + dir.resolve(node + ".sock") + "\n" + extra);
        return f;
    }

    /** Starts an agent for {@code c} (systemd notifications go nowhere) and runs its loop on a daemon thread. */
    public Agent start(io.quorumd.config.Config c) throws AgentFactory.StartupException {
        Agent a = AgentFactory.start(c, new SdNotify(null, null, null, ProcessHandle.current().pid()));
        agents.add(a);
        Thread t = new Thread(a::run, "test-loop-" + c.node());
        t.setDaemon(true);
        t.start();
        return a;
    }

    /** Asks every agent started here to stop, and waits up to 20 s for each. */
    @Override
    public void close() {
        for (Agent a : agents) a.requestShutdown();
        try {
            for (Agent a : agents) a.awaitExit(TimeUnit.SECONDS.toNanos(20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // the test is being stopped: its daemon loops go with the JVM
        }
    }

    /** Polls {@code cond} every 10 ms until it holds; fails the test naming {@code what} after {@code seconds}. */
    public static void await(String what, long seconds, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) throw new AssertionError("not within " + seconds + " s: " + what);
            Thread.sleep(10);
        }
    }
}

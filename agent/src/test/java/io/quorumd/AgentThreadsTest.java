package io.quorumd;

import io.quorumd.cli.FreePorts;
import io.quorumd.config.Config;
import io.quorumd.config.ConfigLoader;
import io.quorumd.systemd.DatagramReceiver;
import io.quorumd.systemd.SdNotify;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * No half-alive agent, on a real agent with its real threads: when a thread the loop depends on
 * dies, or a task on one fails, the agent stops with a message and status 1, and systemd's
 * watchdog hears nothing more from it.
 */
class AgentThreadsTest {
    @TempDir
    Path tmp;
    private DatagramReceiver systemd;
    private final List<Thread> started = new ArrayList<>();

    @AfterEach
    void tearDown() {
        if (systemd != null) systemd.close();
    }

    /** A one-node agent whose sd_notify goes to {@link #systemd}, with a 200 ms watchdog (pinged every 100 ms). */
    private Agent agent() throws Exception {
        int port = FreePorts.pair(Set.of());
        Path f = tmp.resolve("q.yaml");
        Files.writeString(f, "cluster: c\nnode: a\nbind: 127.0.0.1\npeers:\n  - {id: a, host: 127.0.0.1, port: " + port + "}\n"
                + "state_dir: " + tmp.resolve("state") + "\ncontrol_socket: " + tmp.resolve("state/control.sock") + "\n");
        Config config = ConfigLoader.load(f);
        String sock = tmp.resolve("notify.sock").toString();
        systemd = new DatagramReceiver(sock);
        SdNotify sd = new SdNotify(sock, "200000", null, ProcessHandle.current().pid());
        return AgentFactory.start(config, sd);
    }

    private CompletableFuture<Integer> runInBackground(Agent agent) {
        CompletableFuture<Integer> status = new CompletableFuture<>();
        Thread t = new Thread(() -> status.complete(agent.run()), "test-agent-loop");
        t.setDaemon(true);
        t.start();
        started.add(t);
        return status;
    }

    /** Waits for a WATCHDOG=1 ping; fails after 3 s. */
    private void awaitPing() {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < end) {
            String m = systemd.receive(200);
            if (m != null && m.contains("WATCHDOG=1")) return;
        }
        throw new AssertionError("no WATCHDOG=1 within 3 s");
    }

    /** The datagrams that arrive within {@code ms}. */
    private List<String> drain(int ms) {
        List<String> all = new ArrayList<>();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (System.nanoTime() < end) {
            String m = systemd.receive(50);
            if (m != null) all.add(m);
        }
        return all;
    }

    private static int pings(List<String> msgs) {
        int n = 0;
        for (String m : msgs) if (m.contains("WATCHDOG=1")) n++;
        return n;
    }

    @Test
    @SuppressWarnings("removal")
    void theTransportThreadDyingFromAnErrorStopsTheAgentWithStatusOne() throws Exception {
        Agent agent = agent();
        CompletableFuture<Integer> status = runInBackground(agent);
        awaitPing();
        awaitPing();
        Thread io = ThreadWatch.findThread("quorumd-transport-a");
        assertNotNull(io, "the transport's I/O thread, by its documented name");
        while (systemd.receive(0) != null) {
            // the pings so far
        }
        try {
            stop(io);   // an Error (ThreadDeath) other than OutOfMemoryError, thrown inside the I/O thread
        } catch (UnsupportedOperationException e) {
            assumeTrue(false, "Thread.stop is gone from this JVM");
        }
        assertEquals(1, status.get(10, TimeUnit.SECONDS), "exit status");
        assertTrue(agent.fatal().contains("transport"), agent.fatal());
        List<String> after = drain(300);
        // one ping may have been on its way as the thread died; none after the loop saw it
        assertTrue(pings(after) <= 1, "pings after the stop: " + after);
        assertTrue(String.join("|", after).contains("STOPPING=1") || !io.isAlive(), after.toString());
        assertFalse(Files.exists(tmp.resolve("state/control.sock")), "the control socket is closed");
    }

    @Test
    void aTaskThatFailsOnTheSpawnerThreadStopsTheAgent() throws Exception {
        Agent agent = agent();
        CompletableFuture<Integer> status = runInBackground(agent);
        awaitPing();
        while (systemd.receive(0) != null) {
            // the pings so far
        }
        agent.supervisor().runOnSpawner(() -> {
            throw new IllegalStateException("a bug in the supervisor");
        });
        assertEquals(1, status.get(10, TimeUnit.SECONDS), "exit status");
        assertTrue(agent.fatal().contains("command spawner") && agent.fatal().contains("a bug in the supervisor"),
                agent.fatal());
        assertTrue(pings(drain(300)) <= 1);
    }

    @Test
    void aHealthyAgentKeepsPingingAndStopsWithStatusZero() throws Exception {
        Agent agent = agent();
        CompletableFuture<Integer> status = runInBackground(agent);
        awaitPing();
        // a few seconds: the watch's probes (every 2 s) run and are answered
        List<String> msgs = drain(2_500);
        assertTrue(pings(msgs) >= 15, "pings in 2.5 s with a 200 ms watchdog: " + pings(msgs));
        agent.requestShutdown();
        assertEquals(0, status.get(10, TimeUnit.SECONDS));
        assertEquals(null, agent.fatal());
    }

    /**
     * Thread.stop on purpose: it is the one way to throw an arbitrary Error inside a thread we do not
     * own (the agent must treat it as fatal). Deprecated since Java 1.2 and unsupported from Java 20
     * on; the caller skips the test there.
     */
    @SuppressWarnings({"deprecation", "removal"})
    private static void stop(Thread t) {
        t.stop();
    }
}

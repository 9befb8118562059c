package io.quorumd.it.local;

import io.quorumd.it.CommandObserver;
import io.quorumd.control.ControlClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exclusive-command soak on loopback: 3 real agents, random faults (kill -9 and restart of the
 * master's agent, SIGSTOP/SIGCONT longer than the lease, step-down, a crash of the command
 * itself), and an observer outside that proves no two command groups were ever alive at once.
 * Prints every fail-over time, p50/p99/max by fault kind.
 *
 * <p>{@code make test} runs a bounded soak ({@code quorumd.soak.faults}, default 50);
 * {@code make soak MINUTES=n} runs for n minutes ({@code quorumd.soak.minutes}).
 */
// Real agents measure real time: never share the machine with the concurrent container tests.
@org.junit.jupiter.api.parallel.Isolated
class SoakTest {
    enum Fault { KILL_RESTART, PAUSE, STEP_DOWN, COMMAND_CRASH }

    @TempDir
    Path tmp;

    @Test
    void noTwoCommandsEverOverlap() throws Exception {
        int faults = Integer.getInteger("quorumd.soak.faults", 50);
        double minutes = Double.parseDouble(System.getProperty("quorumd.soak.minutes", "0"));
        long seed = Long.getLong("quorumd.soak.seed", System.nanoTime());
        long endNanos = minutes > 0 ? System.nanoTime() + (long) (minutes * 60e9) : Long.MAX_VALUE;
        SplittableRandom rnd = new SplittableRandom(seed);
        System.out.printf("[soak] seed %d, %s%n", seed, minutes > 0 ? minutes + " minutes" : faults + " faults");
        Map<Fault, List<Long>> failoverMillis = new TreeMap<>();
        int done = 0;
        LocalCluster c = new LocalCluster(tmp, 3, "500ms", "  restart: on-failure\n  max_restarts: 1000\n");
        try {
            c.startAll();
            while (minutes > 0 ? System.nanoTime() < endNanos : done < faults) {
                String m = c.awaitMasterRunning(Duration.ofSeconds(20), null);
                for (String id : c.members.keySet()) {
                    String other = id;
                    if (!id.equals(m)) LocalCluster.await(() -> "follower".equals(LocalCluster.role(c.status(other))),
                            Duration.ofSeconds(20), id + " to follow");
                }
                long oldPgid = c.observer.running().get(0).hostPid();
                Fault f = Fault.values()[rnd.nextInt(Fault.values().length)];
                long t0 = System.nanoTime();
                switch (f) {
                    case KILL_RESTART -> {
                        c.kill9(m);
                        Thread.sleep(100 + rnd.nextInt(900));
                        c.start(m);
                    }
                    case PAUSE -> c.pause(m);
                    case STEP_DOWN -> ControlClient.call(c.member(m).socket, "step-down", Duration.ofSeconds(10));
                    case COMMAND_CRASH -> new ProcessBuilder("kill", "-KILL", "--", "-" + oldPgid).start().waitFor();
                }
                // the next command run (a new process group) is alive
                try {
                    LocalCluster.await(() -> {
                        List<CommandObserver.Run> r = c.observer.running();
                        return r.size() == 1 && r.get(0).hostPid() != oldPgid;
                    }, Duration.ofSeconds(20), "a new command run after " + f + " of " + m + " (fault " + (done + 1) + ")");
                } catch (AssertionError e) {
                    StringBuilder st = new StringBuilder();
                    for (String id : c.members.keySet()) st.append(id).append(": ").append(c.status(id)).append('\n');
                    throw new AssertionError(e.getMessage() + "; overlaps " + c.observer.overlaps() + "; alive now "
                            + c.observer.running() + "; statuses:\n" + st + c.logs(), e);
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                failoverMillis.computeIfAbsent(f, k -> new ArrayList<>()).add(ms);
                if (f == Fault.PAUSE) {
                    Thread.sleep(rnd.nextInt(1000));   // stay paused past the lease
                    c.resume(m);
                }
                done++;
                assertTrue(c.observer.overlaps().isEmpty(), "overlap after fault " + done + " (" + f + "): "
                        + c.observer.overlaps() + "\n" + c.logs());
            }
        } finally {
            c.close();
        }
        List<String> overlaps = c.observer.overlaps();
        System.out.printf("[soak] %d faults, %d command runs, %d polls of /proc: %s%n", done, c.observer.runs().size(),
                c.observer.polls(), overlaps.isEmpty() ? "no overlap" : "OVERLAPS " + overlaps);
        for (Map.Entry<Fault, List<Long>> e : failoverMillis.entrySet()) {
            List<Long> l = new ArrayList<>(e.getValue());
            l.sort(null);
            System.out.printf("[soak] %-13s n=%3d  p50 %5d ms  p99 %5d ms  max %5d ms%n", e.getKey(), l.size(),
                    pct(l, 50), pct(l, 99), l.get(l.size() - 1));
        }
        assertTrue(overlaps.isEmpty(), "commands overlapped: " + overlaps);
        // fencing tokens: in the order the runs were seen, a new master's term is above every
        // earlier one; a restart of the command by the same master keeps its term
        List<CommandObserver.Run> runs = new ArrayList<>(c.observer.runs());
        runs.sort(java.util.Comparator.comparingLong(CommandObserver.Run::firstSeenNanos));
        for (int i = 1; i < runs.size(); i++) {
            CommandObserver.Run a = runs.get(i - 1);
            CommandObserver.Run b = runs.get(i);
            boolean ok = b.node().equals(a.node()) ? b.term() >= a.term() : b.term() > a.term();
            assertTrue(ok, "fencing token did not grow from " + a + " to " + b);
        }
    }

    static long pct(List<Long> sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}

package io.quorumd.command;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for the agent, run as its own JVM by {@link AgentDeathTest} so that the test can
 * SIGKILL it: it starts a command, keeps renewing its lease every 100 ms, and prints
 * "RUNNING PGID" once the command runs, then
 * "RENEWED NANOS" after each renewal (the lease end handed over, on System.nanoTime()). Args: STATE_DIR STOP_TIMEOUT_MILLIS LEASE_MILLIS TERM SCRIPT.
 * TERM 0 starts nothing: it prints "PARKED WATCHDOG_PID WRAPPER_PID", the parked pair, and idles.
 */
public final class AgentStandIn {
    private AgentStandIn() {}

    public static void main(String[] args) throws Exception {
        Path stateDir = Path.of(args[0]);
        long stopTimeout = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[1]));
        long lease = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[2]));
        long term = Long.parseLong(args[3]);
        CommandSpec spec = new CommandSpec(List.of("/bin/sh", "-c", args[4]), null, Map.of(), Signals.SIGTERM,
                stopTimeout, RestartPolicy.NEVER, 0, TimeUnit.MINUTES.toNanos(1));
        Supervisor s = new Supervisor(spec, HookSpec.none(), TestSupport.BASE, stateDir,
                e -> System.out.println("EVENT " + e));
        if (term == 0) {
            // a follower: start nothing, say which watchdog is parked, and idle until killed
            long parked;
            long wrapper;
            while ((parked = s.parkedPid()) <= 0 || (wrapper = s.parkedWrapperPid()) <= 0) {
                Thread.sleep(10);
            }
            System.out.println("PARKED " + parked + " " + wrapper);
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
        s.start(term, "node-a", System.nanoTime() + lease);
        boolean announced = false;
        while (true) {
            long end = System.nanoTime() + lease;
            s.renew(end);
            if (announced) {
                System.out.println("RENEWED " + end);
                System.out.flush();
            }
            if (!announced && s.status().state() == Supervisor.State.RUNNING) {
                System.out.println("RUNNING " + s.status().pid());
                System.out.flush();
                announced = true;
            }
            Thread.sleep(100);
        }
    }
}

package io.quorumd.cli;

import java.util.Collection;

/** Stopping agents we started (the demo, the tests, the benchmark): by their Process, so by PID. */
public final class Processes {
    private Processes() {}

    /**
     * SIGTERM to every live process (an agent then hands over and stops its command), then
     * SIGKILL to those still alive after {@code graceNanos}.
     */
    public static void stopAll(Collection<Process> processes, long graceNanos) {
        for (Process p : processes) if (p.isAlive()) p.destroy();
        long deadline = System.nanoTime() + graceNanos;
        for (Process p : processes) {
            while (p.isAlive() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (p.isAlive()) p.destroyForcibly();
        }
    }
}

package io.quorumd.core;

/**
 * The timing rules of SPEC.md, all in nanoseconds of the local monotonic clock.
 *
 * @param heartbeatNanos       keep-alive period
 * @param electionTimeoutNanos {@code t}: the minimum election timeout and the stickiness window
 * @param clockDrift           {@code ρ}: assumed bound on the clock-rate difference between hosts
 * @param stopTimeoutNanos     SIGKILL follows the stop signal after this long
 * @param restartWindowNanos   after too many command failures, no campaign for this long
 */
public record Timing(long heartbeatNanos, long electionTimeoutNanos, double clockDrift,
                     long stopTimeoutNanos, long restartWindowNanos) {

    public static final long MS = 1_000_000L;

    public Timing {
        if (heartbeatNanos <= 0) throw new IllegalArgumentException("heartbeat must be positive");
        if (electionTimeoutNanos < 3 * heartbeatNanos)
            throw new IllegalArgumentException("election_timeout must be at least 3 x heartbeat");
        if (clockDrift < 0 || clockDrift >= 0.5) throw new IllegalArgumentException("clock_drift must be in [0, 50%)");
        if (stopTimeoutNanos < 0) throw new IllegalArgumentException("stop_timeout must not be negative");
        if (restartWindowNanos < 0) throw new IllegalArgumentException("restart_window must not be negative");
    }

    /** SPEC defaults: heartbeat 100 ms, election timeout 1000 ms, drift 1 %, stop 5 s, window 60 s. */
    public static Timing defaults() {
        return new Timing(100 * MS, 1000 * MS, 0.01, 5000 * MS, 60_000 * MS);
    }

    /**
     * The master's lease, on its own clock: {@code t (1 - ρ) / (1 + ρ)}. Measured on the slowest
     * allowed clock it still ends before a voter that heard the master can have waited out {@code t}
     * on the fastest one.
     */
    public long leaseNanos() {
        return (long) Math.floor(electionTimeoutNanos * (1 - clockDrift) / (1 + clockDrift));
    }

    /** A local duration long enough that at least {@code realNanos} of real time surely passed. */
    public long atLeastReal(long realNanos) {
        return (long) Math.ceil(realNanos * (1 + clockDrift));
    }

    /**
     * How long, on the new master's clock, the old master's command may still live after its lease
     * ended: {@code stop_timeout} measured on the old master's (possibly slow) clock, seen from
     * a possibly fast one: {@code stop_timeout (1 + ρ) / (1 - ρ)}, about {@code stop_timeout (1 + 2ρ)}.
     */
    public long stopWaitNanos() {
        return (long) Math.ceil(stopTimeoutNanos * (1 + clockDrift) / (1 - clockDrift));
    }
}

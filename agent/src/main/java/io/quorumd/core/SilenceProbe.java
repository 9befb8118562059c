package io.quorumd.core;

/**
 * When to probe the master a follower follows: once its frames have stopped for more than two
 * heartbeats, at most once a heartbeat. A refused connection ends stickiness early (its agent is
 * gone); it is never proof for its command, and silence proves nothing. Pure: the caller passes
 * the time.
 */
final class SilenceProbe {
    private final long heartbeatNanos;
    private boolean probed;
    private long lastProbeNanos;

    SilenceProbe(long heartbeatNanos) {
        this.heartbeatNanos = heartbeatNanos;
    }

    /**
     * True when the master, last heard {@code silentForNanos} ago (-1: never), is to be probed at
     * {@code now}; the probe then counts as made.
     */
    boolean due(long silentForNanos, long now) {
        if (silentForNanos <= 2 * heartbeatNanos) return false;
        if (probed && now - lastProbeNanos < heartbeatNanos) return false;
        probed = true;
        lastProbeNanos = now;
        return true;
    }
}

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
     * When {@link #due} first says yes for a master last heard at {@code heardAtNanos} (-1: never,
     * then {@link Long#MAX_VALUE}): a deadline of the node's own, so every follower of a master that
     * died probes it two heartbeats after its last keep-alive, which they all heard at about the
     * same moment, whatever else each of them is doing (with probes made only on other events, one
     * follower found the refusal 300 ms before the other and campaigned out of priority's order).
     */
    long nextDueNanos(long heardAtNanos) {
        if (heardAtNanos < 0) return Long.MAX_VALUE;
        long t = heardAtNanos + 2 * heartbeatNanos + 1;
        return probed ? Math.max(t, lastProbeNanos + heartbeatNanos) : t;
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

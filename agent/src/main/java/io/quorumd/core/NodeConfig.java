package io.quorumd.core;

/**
 * What the core needs to know of the configuration.
 *
 * @param fenceConfigured   a fence hook exists, so a new master without proof may try it
 * @param preemptDelayNanos {@code timing.preempt_delay}: how long a follower of a higher priority
 *                          than its master must have been healthy and in contact with it before it
 *                          asks for a hand-over; {@link #PREEMPT_OFF} (the default) never. A master
 *                          honours such a request only when preemption is on in its own config too.
 * @param replication       the replicated log runs (the {@code kv} store): the master appends and
 *                          replicates, every node applies; off, the core elects only, as before
 */
public record NodeConfig(Peers peers, Timing timing, boolean fenceConfigured, long preemptDelayNanos, boolean replication) {
    /** {@code preempt_delay: off}. */
    public static final long PREEMPT_OFF = -1;

    public NodeConfig {
        if (preemptDelayNanos < 0 && preemptDelayNanos != PREEMPT_OFF)
            throw new IllegalArgumentException("preempt delay must be off or not negative, got " + preemptDelayNanos + " ns");
    }

    /** Election only: no preemption, no replicated log (the defaults). */
    public NodeConfig(Peers peers, Timing timing, boolean fenceConfigured) {
        this(peers, timing, fenceConfigured, PREEMPT_OFF, false);
    }

    /** With {@code timing.preempt_delay}, no replicated log. */
    public NodeConfig(Peers peers, Timing timing, boolean fenceConfigured, long preemptDelayNanos) {
        this(peers, timing, fenceConfigured, preemptDelayNanos, false);
    }

    /** With or without the replicated log, no preemption. */
    public NodeConfig(Peers peers, Timing timing, boolean fenceConfigured, boolean replication) {
        this(peers, timing, fenceConfigured, PREEMPT_OFF, replication);
    }

    public boolean preemptOn() {
        return preemptDelayNanos != PREEMPT_OFF;
    }
}

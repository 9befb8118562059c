package io.quorumd.core;

/**
 * What the core needs to know of the configuration.
 *
 * @param fenceConfigured   a fence hook exists, so a new master without proof may try it
 * @param preemptDelayNanos {@code timing.preempt_delay}: how long a follower of a higher priority
 *                          than its master must have been healthy and in contact with it before it
 *                          asks for a hand-over; {@link #PREEMPT_OFF} (the default) never. A master
 *                          honours such a request only when preemption is on in its own config too.
 */
public record NodeConfig(Peers peers, Timing timing, boolean fenceConfigured, long preemptDelayNanos) {
    /** {@code preempt_delay: off}. */
    public static final long PREEMPT_OFF = -1;

    public NodeConfig {
        if (preemptDelayNanos < 0 && preemptDelayNanos != PREEMPT_OFF)
            throw new IllegalArgumentException("preempt delay must be off or not negative, got " + preemptDelayNanos + " ns");
    }

    /** Without preemption (the default). */
    public NodeConfig(Peers peers, Timing timing, boolean fenceConfigured) {
        this(peers, timing, fenceConfigured, PREEMPT_OFF);
    }

    public boolean preemptOn() {
        return preemptDelayNanos != PREEMPT_OFF;
    }
}

package io.quorumd.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code timing} section.
 *
 * @param clockDrift   ρ as a fraction: {@code 1%} is 0.01
 * @param preemptDelay {@code preempt_delay}: how long a healthy higher-priority peer must have been in
 *                     contact with the master before it asks for a hand-over; null for {@code off}
 *                     (the default: no surprise fail-overs)
 */
public record TimingConfig(Duration heartbeat, Duration electionTimeout, double clockDrift, Duration preemptDelay) {
    public static final Duration DEFAULT_HEARTBEAT = Duration.ofMillis(100);
    public static final Duration DEFAULT_ELECTION_TIMEOUT = Duration.ofMillis(1000);
    public static final double DEFAULT_CLOCK_DRIFT = 0.01;
    /** The largest {@code clock_drift} accepted: beyond it the lease shrinks by a fifth and more. */
    public static final double MAX_CLOCK_DRIFT = 0.10;
    /** How {@code preempt_delay} is turned off (its default). */
    public static final String PREEMPT_OFF = "off";

    public TimingConfig {
        Objects.requireNonNull(heartbeat, "heartbeat");
        Objects.requireNonNull(electionTimeout, "electionTimeout");
    }

    /** Without preemption. */
    public TimingConfig(Duration heartbeat, Duration electionTimeout, double clockDrift) {
        this(heartbeat, electionTimeout, clockDrift, null);
    }

    public static TimingConfig defaults() {
        return new TimingConfig(DEFAULT_HEARTBEAT, DEFAULT_ELECTION_TIMEOUT, DEFAULT_CLOCK_DRIFT);
    }
}

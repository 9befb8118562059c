package io.quorumd.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code timing} section.
 *
 * @param clockDrift ρ as a fraction: {@code 1%} is 0.01
 */
public record TimingConfig(Duration heartbeat, Duration electionTimeout, double clockDrift) {
    public static final Duration DEFAULT_HEARTBEAT = Duration.ofMillis(100);
    public static final Duration DEFAULT_ELECTION_TIMEOUT = Duration.ofMillis(1000);
    public static final double DEFAULT_CLOCK_DRIFT = 0.01;
    /** The largest {@code clock_drift} accepted: beyond it the lease shrinks by a fifth and more. */
    public static final double MAX_CLOCK_DRIFT = 0.10;

    public TimingConfig {
        Objects.requireNonNull(heartbeat, "heartbeat");
        Objects.requireNonNull(electionTimeout, "electionTimeout");
    }

    public static TimingConfig defaults() {
        return new TimingConfig(DEFAULT_HEARTBEAT, DEFAULT_ELECTION_TIMEOUT, DEFAULT_CLOCK_DRIFT);
    }
}

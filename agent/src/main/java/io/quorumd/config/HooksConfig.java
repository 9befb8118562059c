package io.quorumd.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Short scripts run on role changes ({@code hooks} section); each path is null when not set.
 *
 * @param fence   lets a new master skip the wait for the old lease; its success is proof
 * @param timeout each run is killed, with its group, past this
 */
public record HooksConfig(Path onMaster, Path onFollower, Path fence, Duration timeout) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    public HooksConfig {
        Objects.requireNonNull(timeout, "timeout");
    }
}

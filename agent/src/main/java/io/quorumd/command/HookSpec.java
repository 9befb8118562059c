package io.quorumd.command;

import java.nio.file.Path;

/**
 * The config's {@code hooks:} section. A null path means that hook is not configured.
 *
 * @param timeoutNanos for each run; a hook past it is SIGKILLed with its whole group
 */
public record HookSpec(Path onMaster, Path onFollower, Path fence, long timeoutNanos) {
    public HookSpec {
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("hooks.timeout: must be positive (got " + timeoutNanos + " ns)");
        }
    }

    /** No hooks at all. */
    public static HookSpec none() {
        return new HookSpec(null, null, null, 10_000_000_000L);
    }
}

package io.quorumd.core;

/**
 * When a node snapshots its state machine (SPEC: "periodic snapshots"): once the entries applied
 * since its snapshot base reach {@code entries}, or their payloads reach {@code bytes}. The core
 * asks ({@link Effect.TakeSnapshot}), one snapshot at a time; after a failed one
 * ({@link Event.SnapshotFailed}) it waits for half the entry threshold more before asking again.
 *
 * @param entries entries applied since the snapshot base that make a snapshot due (>= 1)
 * @param bytes   payload bytes applied since the snapshot base that make one due (>= 1)
 */
public record SnapshotPolicy(long entries, long bytes) {
    /** The agent's default: every 10,000 entries or 64 MiB of commands. */
    public static final SnapshotPolicy DEFAULT = new SnapshotPolicy(10_000, 64L << 20);

    public SnapshotPolicy {
        if (entries < 1 || bytes < 1)
            throw new IllegalArgumentException("snapshot thresholds must be >= 1 (got " + entries + " entries, " + bytes
                    + " bytes)");
    }

    /** Whether a snapshot is due with {@code appliedEntries} entries and {@code appliedBytes} bytes applied since the base. */
    public boolean due(long appliedEntries, long appliedBytes) {
        return appliedEntries >= entries || appliedBytes >= bytes;
    }

    /** Entries to apply after a failed snapshot before the next attempt. */
    public long retryGap() {
        return Math.max(1, entries / 2);
    }
}

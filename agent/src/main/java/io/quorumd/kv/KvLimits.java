package io.quorumd.kv;

/**
 * The limits a {@link KvMachine} enforces. Every node of a cluster must apply its log with the same
 * limits: a refusal is a result of applying an entry, so two nodes with different {@code maxBytes}
 * would diverge (see the package documentation).
 *
 * @param maxBytes        the store's quota ({@code kv.max_bytes}): the sum over live keys of the key's
 *                        UTF-8 bytes plus the value's bytes
 * @param historyChanges  at most this many committed changes are kept for watches
 * @param historyBytes    and at most this many bytes of them (key plus value bytes per change)
 */
public record KvLimits(long maxBytes, int historyChanges, long historyBytes) {
    /** Keys are 1 to 512 bytes of valid UTF-8. */
    public static final int MAX_KEY_BYTES = 512;
    /** Values are at most 32 KiB. */
    public static final int MAX_VALUE_BYTES = 32 * 1024;
    /** {@code kv.max_bytes}' default, 64 MiB. */
    public static final long DEFAULT_MAX_BYTES = 64L * 1024 * 1024;
    /** The default watch history: 10,000 changes. */
    public static final int DEFAULT_HISTORY_CHANGES = 10_000;
    /** The default watch history: 16 MiB. */
    public static final long DEFAULT_HISTORY_BYTES = 16L * 1024 * 1024;

    public KvLimits {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be >= 0 (got " + maxBytes + ")");
        }
        if (historyChanges < 0) {
            throw new IllegalArgumentException("historyChanges must be >= 0 (got " + historyChanges + ")");
        }
        if (historyBytes < 0) {
            throw new IllegalArgumentException("historyBytes must be >= 0 (got " + historyBytes + ")");
        }
    }

    /** The defaults SPEC gives: 64 MiB of store, 10,000 changes or 16 MiB of watch history. */
    public static KvLimits defaults() {
        return new KvLimits(DEFAULT_MAX_BYTES, DEFAULT_HISTORY_CHANGES, DEFAULT_HISTORY_BYTES);
    }
}

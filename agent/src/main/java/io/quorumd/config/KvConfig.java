package io.quorumd.config;

import io.quorumd.kv.KvLimits;

/**
 * The {@code kv} section: the replicated key-value store's settings.
 *
 * @param maxBytes the store's quota ({@code kv.max_bytes}): keys' UTF-8 bytes plus values' bytes over
 *                 the live keys. Every node of a cluster must have the same (a refusal is a result of
 *                 applying an entry, so nodes with different quotas would diverge).
 * @param snapshotEntries {@code kv.snapshot_entries}: a snapshot is taken (and the log up to it
 *                 compacted) once this many entries were applied since the last one, or 64 MiB of
 *                 them; it bounds the log on disk and what a restart applies again.
 */
public record KvConfig(long maxBytes, int snapshotEntries) {
    public static final long DEFAULT_MAX_BYTES = KvLimits.DEFAULT_MAX_BYTES;
    /** At least 1 KiB: a store that cannot hold one key is a typo. */
    public static final long MIN_MAX_BYTES = 1024;
    /** At most 1 TiB: the store lives in the heap. */
    public static final long MAX_MAX_BYTES = 1L << 40;
    public static final int DEFAULT_SNAPSHOT_ENTRIES = (int) io.quorumd.core.SnapshotPolicy.DEFAULT.entries();
    public static final int MIN_SNAPSHOT_ENTRIES = 1;
    public static final int MAX_SNAPSHOT_ENTRIES = 1_000_000_000;

    public KvConfig {
        if (maxBytes < MIN_MAX_BYTES || maxBytes > MAX_MAX_BYTES)
            throw new IllegalArgumentException("kv.max_bytes must be from 1KiB to 1TiB, got " + maxBytes + " bytes");
        if (snapshotEntries < MIN_SNAPSHOT_ENTRIES || snapshotEntries > MAX_SNAPSHOT_ENTRIES)
            throw new IllegalArgumentException("kv.snapshot_entries must be from " + MIN_SNAPSHOT_ENTRIES + " to "
                    + MAX_SNAPSHOT_ENTRIES + ", got " + snapshotEntries);
    }

    /** {@code kv.max_bytes} with the default {@code kv.snapshot_entries}. */
    public KvConfig(long maxBytes) {
        this(maxBytes, DEFAULT_SNAPSHOT_ENTRIES);
    }

    public static KvConfig defaults() {
        return new KvConfig(DEFAULT_MAX_BYTES);
    }

    /** When the core takes a snapshot: after {@link #snapshotEntries} entries or 64 MiB of them. */
    public io.quorumd.core.SnapshotPolicy snapshotPolicy() {
        return new io.quorumd.core.SnapshotPolicy(snapshotEntries, io.quorumd.core.SnapshotPolicy.DEFAULT.bytes());
    }

    /** The limits the store applies with this section. */
    public KvLimits limits() {
        return new KvLimits(maxBytes, KvLimits.DEFAULT_HISTORY_CHANGES, KvLimits.DEFAULT_HISTORY_BYTES);
    }

    /**
     * A size such as {@code 512KiB}, {@code 64MiB}, {@code 1GiB} or a plain number of bytes ({@code 1048576}).
     *
     * @throws IllegalArgumentException anything else, with what is expected
     */
    public static long parseSize(String s) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,13})(B|KiB|MiB|GiB|TiB)?").matcher(s);
        if (!m.matches())
            throw new IllegalArgumentException("a size such as 512KiB, 64MiB or 1GiB (units B, KiB, MiB, GiB, TiB)");
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2);
        int shift = switch (unit) {
            case "KiB" -> 10;
            case "MiB" -> 20;
            case "GiB" -> 30;
            case "TiB" -> 40;
            default -> 0;
        };
        if (n > (MAX_MAX_BYTES >> shift)) throw new IllegalArgumentException("at most 1TiB");
        return n << shift;
    }

    /** The shortest exact form {@link #parseSize} reads back: {@code 64MiB}, {@code 1536KiB}, {@code 1000}. */
    public static String formatSize(long bytes) {
        String[] units = {"TiB", "GiB", "MiB", "KiB"};
        int[] shifts = {40, 30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << shifts[i];
            if (bytes >= unit && bytes % unit == 0) return (bytes >> shifts[i]) + units[i];
        }
        return Long.toString(bytes);
    }
}

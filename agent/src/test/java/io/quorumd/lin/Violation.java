package io.quorumd.lin;

import java.util.List;

/**
 * Why a history is not linearizable, as small as the checker could make it.
 *
 * @param key         the key whose operations conflict, or null for a conflict across keys
 * @param ops         the operations involved (a minimal set for a per-key conflict)
 * @param explanation what cannot be, in words
 */
public record Violation(Kind kind, String key, List<Op> ops, String explanation) {
    /** Which check found it. */
    public enum Kind {
        /** A read returned a value (or revision) no write on that key could have produced. */
        NEVER_WRITTEN,
        /** Two writes reported the same revision. */
        DUPLICATE_REVISION,
        /** Revisions contradict real-time order (across keys or within one). */
        REVISION_ORDER,
        /** No order of the key's operations explains every answer. */
        NOT_LINEARIZABLE
    }

    public Violation {
        ops = List.copyOf(ops);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(kind + (key == null ? "" : " on key " + key) + ": " + explanation);
        for (Op op : ops) {
            b.append("\n  ").append(op);
        }
        return b.toString();
    }
}

package io.quorumd.lin;

import java.util.List;

/**
 * The per-key model's state: the key's value and modify revision as the operations linearized so far
 * left them.
 *
 * @param present  whether the key exists
 * @param value    its value (null when absent)
 * @param modRev   its modify revision: 0 when absent, {@link #UNKNOWN} after a write whose revision no
 *                 answer told (an unknown-outcome write), until a read or compare reveals it
 * @param floor    every later write to this key has a revision above this: the largest revision of the
 *                 key's writes linearized so far (a delete's included)
 */
record KeyState(boolean present, String value, long modRev, long floor) {
    static final long UNKNOWN = -1;
    static final KeyState INITIAL = new KeyState(false, null, 0, 0);

    /** Could the key's modify revision be {@code rev}? (0: could the key be absent?) */
    private boolean couldHaveRev(long rev) {
        if (rev == 0) {
            return !present;
        }
        return present && (modRev == rev || modRev == UNKNOWN && rev > floor);
    }

    /** Could it be anything but {@code rev}? */
    private boolean couldDiffer(long rev) {
        if (rev == 0) {
            return present;
        }
        return !present || modRev != rev;
    }

    /** The state after a write of {@code value} with revision {@code rev} (0: not told), if that revision fits. */
    private List<KeyState> written(String value, long rev) {
        if (rev == 0) {
            return List.of(new KeyState(true, value, UNKNOWN, floor));
        }
        return rev > floor ? List.of(new KeyState(true, value, rev, rev)) : List.of();
    }

    private List<KeyState> deleted(long rev) {
        if (rev == 0) {
            return List.of(new KeyState(false, null, 0, floor));
        }
        return rev > floor ? List.of(new KeyState(false, null, 0, rev)) : List.of();
    }

    /**
     * The states {@code op} can leave when it takes effect now (its linearization point) in this
     * state; empty when it cannot. An unknown outcome has two: it happened, or it never did (or
     * failed, which changes nothing either).
     */
    List<KeyState> step(Op op) {
        Call call = op.call();
        Result result = op.result();
        boolean unknown = result instanceof Result.Unknown;
        if (call instanceof Call.Get) {
            if (result instanceof Result.Found f) {
                if (!present || !value.equals(f.value())) {
                    return List.of();
                }
                if (modRev == f.modRevision()) {
                    return List.of(this);
                }
                return modRev == UNKNOWN && f.modRevision() > floor
                        ? List.of(new KeyState(true, value, f.modRevision(), f.modRevision())) : List.of();
            }
            return present ? List.of() : List.of(this); // NotFound
        }
        if (call instanceof Call.Put put) {
            if (unknown) {
                return concat(written(put.value(), 0), this);
            }
            return written(put.value(), op.writtenRevision());
        }
        if (call instanceof Call.Cas cas) {
            long expected = cas.expectedRevision();
            if (result instanceof Result.CompareFailed) {
                return couldDiffer(expected) ? List.of(this) : List.of();
            }
            List<KeyState> happened = couldHaveRev(expected)
                    ? written(cas.value(), unknown ? 0 : op.writtenRevision()) : List.of();
            return unknown ? concat(happened, this) : happened;
        }
        Call.Delete delete = (Call.Delete) call;
        long expected = delete.expectedRevision();
        if (result instanceof Result.NotFound) {
            return present ? List.of() : List.of(this);
        }
        if (result instanceof Result.CompareFailed) {
            return present && couldDiffer(expected) ? List.of(this) : List.of();
        }
        boolean allowed = present && (expected < 0 || couldHaveRev(expected));
        List<KeyState> happened = allowed ? deleted(unknown ? 0 : op.writtenRevision()) : List.of();
        return unknown ? concat(happened, this) : happened;
    }

    private static List<KeyState> concat(List<KeyState> first, KeyState then) {
        return first.isEmpty() ? List.of(then) : List.of(first.get(0), then);
    }

    @Override
    public String toString() {
        return present ? Op.quote(value) + "@" + (modRev == UNKNOWN ? "?" : Long.toString(modRev)) : "absent";
    }
}

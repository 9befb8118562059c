package io.quorumd.kv;

import java.util.Arrays;
import java.util.Objects;

/**
 * One committed change, as a watch reports it. {@link #value()} returns a copy, or null for a delete.
 *
 * @param revision the global revision the change created
 */
public record Change(long revision, String key, Type type, byte[] value) {
    /** What a change did to its key. */
    public enum Type { PUT, DELETE }

    public Change {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type");
        if ((type == Type.PUT) != (value != null)) {
            throw new IllegalArgumentException("a PUT carries a value and a DELETE none");
        }
        value = value == null ? null : value.clone();
    }

    @Override
    public byte[] value() {
        return value == null ? null : value.clone();
    }

    /** Key plus value bytes: what the change costs the history's byte bound. */
    long bytes() {
        return KvMachine.utf8Length(key) + (value == null ? 0 : value.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Change c && revision == c.revision && key.equals(c.key) && type == c.type
                && Arrays.equals(value, c.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(revision, key, type, Arrays.hashCode(value));
    }

    @Override
    public String toString() {
        return "Change[" + revision + " " + type + " " + KvMachine.quote(key)
                + (value == null ? "" : ", " + value.length + " bytes") + "]";
    }
}

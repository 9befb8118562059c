package io.quorumd.kv;

import java.util.Arrays;
import java.util.Objects;

/**
 * One live key as a read sees it. {@link #value()} returns a copy.
 *
 * @param createRevision the revision that created the key (since it last did not exist)
 * @param modRevision    the revision of its last put
 */
public record KeyValue(String key, byte[] value, long createRevision, long modRevision) {
    public KeyValue {
        Objects.requireNonNull(key, "key");
        value = value.clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyValue kv && key.equals(kv.key) && Arrays.equals(value, kv.value)
                && createRevision == kv.createRevision && modRevision == kv.modRevision;
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, Arrays.hashCode(value), createRevision, modRevision);
    }

    @Override
    public String toString() {
        return "KeyValue[" + KvMachine.quote(key) + ", " + value.length + " bytes, create " + createRevision
                + ", mod " + modRevision + "]";
    }
}

package io.quorumd.kv;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A command a committed log entry carries to {@link KvMachine#apply}. Keys are raw bytes, as they
 * arrive from a client or the log: the machine, not the constructor, refuses a key that is not
 * valid UTF-8 or is too long, so that the refusal is a deterministic result of applying the entry.
 * The arrays are not copied; callers must not modify them after constructing the command.
 */
public sealed interface KvCommand {

    /**
     * Write {@code value} under {@code key}.
     *
     * @param expectedRevision when present, the write happens only if the key's modify revision is
     *                         this one ({@code 0}: only if the key does not exist, i.e. create only)
     * @param fenceTerm        when present, the write happens only if this is the term of the master
     *                         that appended the entry (the entry's term)
     */
    record Put(byte[] key, byte[] value, OptionalLong expectedRevision, OptionalLong fenceTerm)
            implements KvCommand {
        public Put {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            checkOptional(expectedRevision, "expectedRevision");
            checkOptional(fenceTerm, "fenceTerm");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Put p && Arrays.equals(key, p.key) && Arrays.equals(value, p.value)
                    && expectedRevision.equals(p.expectedRevision) && fenceTerm.equals(p.fenceTerm);
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(key), Arrays.hashCode(value), expectedRevision, fenceTerm);
        }

        @Override
        public String toString() {
            return "Put[" + describeKey(key) + ", " + value.length + " bytes" + options(expectedRevision, fenceTerm) + "]";
        }
    }

    /**
     * Delete {@code key}.
     *
     * @param expectedRevision when present, only if the key's modify revision is this one
     * @param fenceTerm        when present, only if this is the entry's term
     */
    record Delete(byte[] key, OptionalLong expectedRevision, OptionalLong fenceTerm) implements KvCommand {
        public Delete {
            Objects.requireNonNull(key, "key");
            checkOptional(expectedRevision, "expectedRevision");
            checkOptional(fenceTerm, "fenceTerm");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Delete d && Arrays.equals(key, d.key)
                    && expectedRevision.equals(d.expectedRevision) && fenceTerm.equals(d.fenceTerm);
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(key), expectedRevision, fenceTerm);
        }

        @Override
        public String toString() {
            return "Delete[" + describeKey(key) + options(expectedRevision, fenceTerm) + "]";
        }
    }

    /** An entry with nothing for the store (a new master's first entry): advances the applied index only. */
    record Noop() implements KvCommand {}

    /** An unconditional put of a UTF-8 key. */
    static Put put(String key, byte[] value) {
        return new Put(key.getBytes(StandardCharsets.UTF_8), value, OptionalLong.empty(), OptionalLong.empty());
    }

    /** An unconditional put of a UTF-8 key and value. */
    static Put put(String key, String value) {
        return put(key, value.getBytes(StandardCharsets.UTF_8));
    }

    /** An unconditional delete of a UTF-8 key. */
    static Delete delete(String key) {
        return new Delete(key.getBytes(StandardCharsets.UTF_8), OptionalLong.empty(), OptionalLong.empty());
    }

    private static void checkOptional(OptionalLong value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isPresent() && value.getAsLong() < 0) {
            throw new IllegalArgumentException(name + " must be >= 0 (got " + value.getAsLong() + ")");
        }
    }

    private static String describeKey(byte[] key) {
        return key.length <= 64 ? new String(key, StandardCharsets.UTF_8) : key.length + "-byte key";
    }

    private static String options(OptionalLong expectedRevision, OptionalLong fenceTerm) {
        return (expectedRevision.isPresent() ? ", rev " + expectedRevision.getAsLong() : "")
                + (fenceTerm.isPresent() ? ", term " + fenceTerm.getAsLong() : "");
    }
}

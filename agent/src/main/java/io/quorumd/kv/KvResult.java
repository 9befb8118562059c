package io.quorumd.kv;

/**
 * The outcome of applying one command. Only {@link Written} changed the store (and the revision);
 * every other result left the machine as it was, apart from its applied index.
 */
public sealed interface KvResult {

    /** A short, human-readable account (what the CLI prints). */
    String message();

    /**
     * The write happened.
     *
     * @param revision the new global revision, now the key's modify revision (for a delete, the
     *                 revision of the deletion)
     * @param created  a put that created the key (it did not exist before); false for a delete
     */
    record Written(long revision, boolean created) implements KvResult {
        @Override
        public String message() {
            return "revision " + revision;
        }
    }

    /** A delete of a key that does not exist. */
    record NotFound(String key) implements KvResult {
        @Override
        public String message() {
            return "key " + KvMachine.quote(key) + " not found";
        }
    }

    /**
     * The key's modify revision was not the expected one ({@code actual} 0: the key does not exist).
     */
    record CompareFailed(String key, long expected, long actual) implements KvResult {
        @Override
        public String message() {
            return "compare failed: key " + KvMachine.quote(key) + " has revision " + actual
                    + (actual == 0 ? " (does not exist)" : "") + ", expected " + expected
                    + (expected == 0 ? " (create only)" : "");
        }
    }

    /** The write carried a term that is not the term of the master that appended it. */
    record Fenced(long requestTerm, long masterTerm) implements KvResult {
        @Override
        public String message() {
            return "fenced: the write carries term " + requestTerm + " but the master's term is " + masterTerm;
        }
    }

    /** A limit refused the write; {@code message} names the limit and the figures. */
    record Refused(Limit limit, String message) implements KvResult {}

    /** A {@link KvCommand.Noop} was applied. */
    record Applied() implements KvResult {
        @Override
        public String message() {
            return "no-op";
        }
    }

    /** The limits whose refusals {@link Refused} reports. */
    enum Limit {
        /** An empty key. */
        KEY_EMPTY,
        /** A key over {@link KvLimits#MAX_KEY_BYTES}. */
        KEY_SIZE,
        /** A key that is not valid UTF-8. */
        KEY_UTF8,
        /** A value over {@link KvLimits#MAX_VALUE_BYTES}. */
        VALUE_SIZE,
        /** The store's quota, {@code kv.max_bytes}. */
        STORE_SIZE
    }
}

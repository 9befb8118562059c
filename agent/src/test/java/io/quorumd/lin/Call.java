package io.quorumd.lin;

import java.util.Objects;

/** What a client asked of the store: one operation on one key. */
public sealed interface Call {
    String key();

    /** Read the key. */
    record Get(String key) implements Call {
        public Get {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public String toString() {
            return "get " + key;
        }
    }

    /** Write the key unconditionally. */
    record Put(String key, String value) implements Call {
        public Put {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return "put " + key + "=" + Op.quote(value);
        }
    }

    /** Write the key if its modify revision is {@code expectedRevision} (0: if it does not exist). */
    record Cas(String key, long expectedRevision, String value) implements Call {
        public Cas {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (expectedRevision < 0) {
                throw new IllegalArgumentException("expectedRevision must be >= 0");
            }
        }

        @Override
        public String toString() {
            return "cas " + key + " rev " + expectedRevision + " -> " + Op.quote(value);
        }
    }

    /** Delete the key; if {@code expectedRevision} is not negative, only if that is its modify revision. */
    record Delete(String key, long expectedRevision) implements Call {
        public Delete {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public String toString() {
            return "delete " + key + (expectedRevision >= 0 ? " rev " + expectedRevision : "");
        }
    }
}

package io.quorumd.lin;

import java.util.Objects;

/** What the client learnt of its call. */
public sealed interface Result {

    /** A get found the key. */
    record Found(String value, long modRevision) implements Result {
        public Found {
            Objects.requireNonNull(value, "value");
            if (modRevision < 1) {
                throw new IllegalArgumentException("a live key's modRevision is >= 1");
            }
        }

        @Override
        public String toString() {
            return Op.quote(value) + "@" + modRevision;
        }
    }

    /** A get or a delete found no such key. */
    record NotFound() implements Result {
        @Override
        public String toString() {
            return "not found";
        }
    }

    /** A write happened, creating {@code revision} (0: the reply did not say which). */
    record Written(long revision) implements Result {
        public Written {
            if (revision < 0) {
                throw new IllegalArgumentException("revision must be >= 0");
            }
        }

        @Override
        public String toString() {
            return revision == 0 ? "ok" : "ok, rev " + revision;
        }
    }

    /** A conditional write whose compare failed: nothing changed. */
    record CompareFailed() implements Result {
        @Override
        public String toString() {
            return "compare failed";
        }
    }

    /** Certainly did not happen (refused by a limit, fenced, rejected before it was appended). */
    record NoEffect() implements Result {
        @Override
        public String toString() {
            return "no effect";
        }
    }

    /** No answer, or "outcome unknown": the call may take effect at any time after its invocation, or never. */
    record Unknown() implements Result {
        @Override
        public String toString() {
            return "unknown";
        }
    }
}

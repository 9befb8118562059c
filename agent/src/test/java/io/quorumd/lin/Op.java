package io.quorumd.lin;

/**
 * One operation of a history: a client's call, when it was invoked, when its answer came (or
 * {@link #NEVER} when none did) and the answer.
 */
public record Op(int id, int client, long invoke, long response, Call call, Result result) {
    /** The response time of an operation whose outcome is unknown. */
    public static final long NEVER = Long.MAX_VALUE;

    public Op {
        if (response < invoke) {
            throw new IllegalArgumentException("op " + id + " responds at " + response + " before its invocation at "
                    + invoke);
        }
        if ((result instanceof Result.Unknown) != (response == NEVER)) {
            throw new IllegalArgumentException("op " + id + ": an unknown outcome, and only it, has no response time");
        }
        boolean write = !(call instanceof Call.Get);
        boolean fits;
        if (result instanceof Result.Found) {
            fits = !write;
        } else if (result instanceof Result.NotFound) {
            fits = call instanceof Call.Get || call instanceof Call.Delete;
        } else if (result instanceof Result.Written || result instanceof Result.NoEffect) {
            fits = write;
        } else if (result instanceof Result.CompareFailed) {
            fits = call instanceof Call.Cas || call instanceof Call.Delete d && d.expectedRevision() >= 0;
        } else {
            fits = true;
        }
        if (!fits) {
            throw new IllegalArgumentException("op " + id + ": " + call + " cannot answer " + result);
        }
    }

    public String key() {
        return call.key();
    }

    boolean isWrite() {
        return !(call instanceof Call.Get);
    }

    /** The revision this write reported, or 0 when it reported none. */
    long writtenRevision() {
        return result instanceof Result.Written w ? w.revision() : 0;
    }

    /** A write that may have changed the store: it succeeded, or its outcome is unknown. */
    boolean mayHaveWritten() {
        return isWrite() && (result instanceof Result.Written || result instanceof Result.Unknown);
    }

    @Override
    public String toString() {
        return "#" + id + " client " + client + " [" + invoke + ", " + (response == NEVER ? "never" : response) + "] "
                + call + " -> " + result;
    }

    static String quote(String s) {
        return "\"" + (s.length() <= 40 ? s : s.substring(0, 37) + "...") + "\"";
    }
}

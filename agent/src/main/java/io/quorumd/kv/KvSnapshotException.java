package io.quorumd.kv;

/** A snapshot that cannot be restored: unknown version, malformed or inconsistent. */
public final class KvSnapshotException extends Exception {
    private static final long serialVersionUID = 1L;

    public KvSnapshotException(String message) {
        super(message);
    }

    public KvSnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}

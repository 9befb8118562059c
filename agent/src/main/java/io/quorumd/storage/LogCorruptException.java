package io.quorumd.storage;

import java.nio.file.Path;

/**
 * A log segment or snapshot exists but cannot be trusted: a bad checksum, a gap in the indexes, a
 * missing segment, a damaged header, a newer format. It names the file, the byte offset and what
 * is wrong, and the agent must not start: the damaged part may hold acknowledged writes, so quorumd
 * never drops it silently. (A torn tail, the partial last record of a write that a crash
 * interrupted, is not corruption: {@link LogStorage#open} truncates it and says so.)
 */
public final class LogCorruptException extends Exception {
    private static final long serialVersionUID = 1L;

    /** A path is not serializable; its string is. */
    private final String file;
    private final long offset;
    private final String problem;

    public LogCorruptException(Path file, long offset, String problem) {
        super("quorumd: " + file + " is damaged at byte " + offset + ": " + problem + ". quorumd will not start: the "
                + "damaged part may hold acknowledged writes. Restore " + (file.getParent() == null ? "the state directory"
                : file.getParent().toString()) + " from a backup; or, when "
                + "the other voters still form a majority, stop this agent, move its log directory and snapshot "
                + "files away, and start it again so that it relearns the log from the master.");
        this.file = file.toString();
        this.offset = offset;
        this.problem = problem;
    }

    /** The damaged file. */
    public Path file() {
        return Path.of(file);
    }

    /** Where in it the damage starts. */
    public long offset() {
        return offset;
    }

    /** What is wrong, without the advice. */
    public String problem() {
        return problem;
    }
}

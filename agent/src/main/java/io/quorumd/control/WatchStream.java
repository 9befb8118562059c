package io.quorumd.control;

/**
 * The client end of a {@code kv.watch}: lines go to the connection, which stays open until the
 * client closes it. Thread-safe; never blocks. What a slow client has not read is bounded
 * ({@link ControlServer#MAX_WATCH_BUFFER_BYTES}): past that the watch ends with an error line.
 */
public interface WatchStream {
    /** The request's "id" as JSON text, or null. */
    String id();

    /** Queues one line (ending in a newline); false once the watch is over (client gone, too slow, ended). */
    boolean send(String line);

    /** Sends a last line and closes the connection. */
    void end(String line);

    /** False once the client went away or the watch ended. */
    boolean open();
}

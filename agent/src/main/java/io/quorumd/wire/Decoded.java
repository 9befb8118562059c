package io.quorumd.wire;

import io.quorumd.core.Message;

/** What {@link Codec#decode} makes of a frame: a message, a peer's error reply, or a failure. */
public sealed interface Decoded permits Decoded.Ok, Decoded.PeerError, DecodeFailure {

    /** The frame held a valid message. */
    record Ok(Message message) implements Decoded {}

    /**
     * The frame was a well-formed error reply: peer {@code from} could not take our request, for
     * {@code reason} (a {@link DecodeFailure.Reason} or a transport reason name; kept as text so
     * that a newer peer's reasons still decode).
     */
    record PeerError(String from, String reason) implements Decoded {}
}

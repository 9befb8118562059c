package io.quorumd.wire;

/**
 * Why a frame was refused. {@code detail} is for the log line: it names the field and, for
 * numbers, the value; text taken from the frame is sanitised and cut short, never trusted.
 */
public record DecodeFailure(Reason reason, String detail) implements Decoded {

    public enum Reason {
        /** not MessagePack, not the envelope's shape, or bytes after the value */
        MALFORMED,
        /** the frame ends inside a value, or a declared length exceeds the bytes left */
        TRUNCATED,
        /** more than {@link Codec#MAX_FRAME_BYTES} */
        OVERSIZED,
        /** protocol version other than {@link Codec#PROTOCOL_VERSION} */
        WRONG_VERSION,
        /** another cluster's frame */
        WRONG_CLUSTER,
        /** the sender id is not one of the configured peers */
        UNKNOWN_SENDER,
        /** a message type this version does not know */
        UNKNOWN_TYPE,
        /** a body field is missing, of the wrong type, null where required or out of range */
        BAD_FIELD,
        /**
         * a term (the envelope's, a proof's or report's master term, a last log term) of 2^62 or
         * more: no node may hold it ({@link io.quorumd.core.TermState#MAX_TERM}), so no term
         * arithmetic can overflow; a negative term is {@link #BAD_FIELD}
         */
        BAD_TERM
    }

    public DecodeFailure {
        if (reason == null) throw new IllegalArgumentException("a decode failure needs a reason");
        if (detail == null) detail = "";
    }
}

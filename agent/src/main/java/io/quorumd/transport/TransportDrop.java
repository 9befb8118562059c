package io.quorumd.transport;

/**
 * Why the transport dropped a frame that the codec may well have decoded; counted in the same
 * {@link io.quorumd.wire.DropCounters} as the codec's reasons.
 */
public enum TransportDrop {
    /** a message on the request port without the empty delimiter frame that REQ sockets send */
    NO_DELIMITER,
    /** the wrong number of frames: an empty request, extra frames, a multi-frame keep-alive or reply */
    BAD_ENVELOPE,
    /** a valid message on the wrong socket: a request on the keep-alive port, a keep-alive as a request... */
    MISPLACED,
    /** a frame that claims to come from this node: another node is configured with the same id */
    FROM_SELF,
    /** a reply that does not answer the request outstanding on that socket */
    UNEXPECTED_REPLY,
    /** a frame naming a sender other than the peer whose address or key authenticated its connection */
    IMPOSTOR
}

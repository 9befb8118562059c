package io.quorumd.config;

import io.quorumd.security.CurveKeys;
import java.util.Objects;

/**
 * One voter of the cluster, this node included.
 *
 * @param host     host name or IP literal; resolved when connecting, never at load time
 * @param port     keep-alives (PUB) on {@code port}, votes (REP) on {@code port + 1}
 * @param priority higher is preferred as master (decides elections only)
 * @param publicKey the peer's CURVE public key as 40 Z85 characters ({@code peers[].public_key}),
 *                 or null when the file gives none (trusted mode)
 */
public record PeerConfig(String id, String host, int port, int priority, String publicKey) {
    public static final int DEFAULT_PORT = 51621;
    public static final int DEFAULT_PRIORITY = 100;

    public PeerConfig {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(host, "host");
        if (publicKey != null && !CurveKeys.isZ85Key(publicKey))
            throw new IllegalArgumentException("peer " + id + ": public_key must be 40 Z85 characters");
    }

    /** The port of the REQ/REP socket that answers votes and requests. */
    public int requestPort() {
        return port + 1;
    }
}

package io.quorumd.transport;

/**
 * Where a peer listens: keep-alives (PUB) on {@code port}, requests (ROUTER) on {@code port + 1}.
 *
 * @param host      a host name or an IP literal; names are resolved again from time to time, so a peer
 *                  that comes back behind the same name at another address is reached
 * @param publicKey the peer's CURVE public key (32 bytes), or null in trusted mode
 */
public record PeerEndpoint(String host, int port, byte[] publicKey) {
    public PeerEndpoint {
        if (publicKey != null) {
            if (publicKey.length != 32) throw new IllegalArgumentException("a peer's CURVE public key is 32 bytes");
            publicKey = publicKey.clone();
        }
        if (host == null || host.isBlank()) throw new IllegalArgumentException("peer host must not be empty");
        if (port < 1 || port > 65534)
            throw new IllegalArgumentException("peer port must be 1-65534 (port + 1 is used too), got " + port);
    }

    /** A peer of a cluster in trusted mode (no CURVE key). */
    public PeerEndpoint(String host, int port) {
        this(host, port, null);
    }

    @Override
    public byte[] publicKey() {
        return publicKey == null ? null : publicKey.clone();
    }

    public int requestPort() {
        return port + 1;
    }
}

package io.quorumd.transport;

/**
 * Where a peer listens: keep-alives (PUB) on {@code port}, requests (ROUTER) on {@code port + 1}.
 *
 * @param host a host name or an IP literal; names are resolved again from time to time, so a peer
 *             that comes back behind the same name at another address is reached
 */
public record PeerEndpoint(String host, int port) {
    public PeerEndpoint {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("peer host must not be empty");
        if (port < 1 || port > 65534)
            throw new IllegalArgumentException("peer port must be 1-65534 (port + 1 is used too), got " + port);
    }

    public int requestPort() {
        return port + 1;
    }
}

package io.quorumd.transport;

import org.zeromq.ZMQ;

import java.net.InetAddress;

/** What the I/O thread knows about one peer. Touched by the I/O thread only. */
final class PeerLink {
    /** The request outstanding on {@link #req}; a REQ socket carries one at a time. */
    record Outstanding(long requestId, Class<?> replyType, long deadlineNanos, long timeoutNanos) {}

    final String id;
    final PeerEndpoint endpoint;

    /** null until the host resolves */
    InetAddress address;
    /** the SUB socket connected to this peer's PUB only (so its frames speak for this peer only), or null */
    ZMQ.Socket sub;
    /** the relaxed REQ socket to the peer's ROUTER; replaced only when its address changes or a send fails */
    ZMQ.Socket req;
    Outstanding outstanding;

    /** PeerRefused was delivered and nothing was heard from the peer since */
    boolean refusalReported;
    /** PeerRefused was delivered and no valid frame came since (a probe it accepts does not count): logged when one does */
    boolean unheardSinceRefusal;
    /** when the probe now in flight started; 0 when none is */
    long probeStartedNanos;
    boolean probeInFlight;
    /** when a valid frame from this peer last arrived */
    long lastHeardNanos;
    boolean everHeard;

    /**
     * The replicated log's lane to this peer (appends, forwarded client requests): its own REQ
     * socket and outstanding request, so that it never supersedes the election's requests on this
     * link nor waits behind them. Only its {@link #req}, {@link #outstanding} and {@link #address}
     * are used; what is heard from the peer is kept on this link. Null on a lane itself.
     */
    final PeerLink logLane;

    PeerLink(String id, PeerEndpoint endpoint) {
        this.id = id;
        this.endpoint = endpoint;
        this.logLane = new PeerLink(id, endpoint, true);
    }

    private PeerLink(String id, PeerEndpoint endpoint, boolean lane) {
        this.id = id;
        this.endpoint = endpoint;
        this.logLane = null;
    }

    /** This link's REQ lanes: itself (the election's) and the replicated log's. */
    java.util.List<PeerLink> lanes() {
        return logLane == null ? java.util.List.of(this) : java.util.List.of(this, logLane);
    }

    static String tcp(InetAddress a, int port) {
        return "tcp://" + Addresses.hostPort(a, port);
    }


    String pubEndpoint() {
        return tcp(address, endpoint.port());
    }

    String reqEndpoint() {
        return tcp(address, endpoint.requestPort());
    }
}

package io.quorumd.transport;

import java.net.InetAddress;

/**
 * Tuning of {@link ZmqTransport}; {@link #defaults()} suits the SPEC's default timings.
 *
 * @param reconnectIvlMillis      ZMQ_RECONNECT_IVL: first retry after a lost or refused connection
 * @param reconnectIvlMaxMillis   ZMQ_RECONNECT_IVL_MAX: the retry interval doubles up to this, so a
 *                                peer that comes back is reached within about this long
 * @param resolveIntervalNanos    how often host names (not IP literals) are resolved again; the
 *                                JVM's own DNS cache ({@code networkaddress.cache.ttl}, 30 s by
 *                                default) still applies underneath
 * @param pendingResponseTtlNanos an inbound request the agent never answers is forgotten after this
 * @param maxPendingResponses     at most this many unanswered inbound requests are remembered; the
 *                                oldest is forgotten first
 * @param probeTimeoutNanos       a connect probe that gets no answer within this is "no answer",
 *                                never "refused"
 * @param probeOnRequestTimeout   probe a peer whenever a request to it times out
 * @param resolver                resolves host names
 * @param curve                   this node's CURVE key pair, or null for trusted mode (see {@link #withCurve})
 */
public record TransportOptions(int reconnectIvlMillis, int reconnectIvlMaxMillis, long resolveIntervalNanos,
                               long pendingResponseTtlNanos, int maxPendingResponses, long probeTimeoutNanos,
                               boolean probeOnRequestTimeout, HostResolver resolver,
                               io.quorumd.security.CurveKeys curve) {

    public TransportOptions {
        if (reconnectIvlMillis < 1) throw new IllegalArgumentException("reconnectIvlMillis must be positive, got " + reconnectIvlMillis);
        if (reconnectIvlMaxMillis < reconnectIvlMillis)
            throw new IllegalArgumentException("reconnectIvlMaxMillis (" + reconnectIvlMaxMillis
                    + ") must be at least reconnectIvlMillis (" + reconnectIvlMillis + ")");
        if (resolveIntervalNanos <= 0) throw new IllegalArgumentException("resolveIntervalNanos must be positive");
        if (pendingResponseTtlNanos <= 0) throw new IllegalArgumentException("pendingResponseTtlNanos must be positive");
        if (maxPendingResponses < 1) throw new IllegalArgumentException("maxPendingResponses must be positive");
        if (probeTimeoutNanos <= 0) throw new IllegalArgumentException("probeTimeoutNanos must be positive");
        if (resolver == null) throw new IllegalArgumentException("a host resolver is required");
    }

    public static TransportOptions defaults() {
        return new TransportOptions(50, 100, 5_000_000_000L, 10_000_000_000L, 1024, 500_000_000L, true,
                InetAddress::getByName, null);
    }

    public TransportOptions withResolver(HostResolver r) {
        return new TransportOptions(reconnectIvlMillis, reconnectIvlMaxMillis, resolveIntervalNanos,
                pendingResponseTtlNanos, maxPendingResponses, probeTimeoutNanos, probeOnRequestTimeout, r, curve);
    }

    public TransportOptions withResolveIntervalNanos(long n) {
        return new TransportOptions(reconnectIvlMillis, reconnectIvlMaxMillis, n,
                pendingResponseTtlNanos, maxPendingResponses, probeTimeoutNanos, probeOnRequestTimeout, resolver, curve);
    }

    public TransportOptions withPendingResponses(long ttlNanos, int max) {
        return new TransportOptions(reconnectIvlMillis, reconnectIvlMaxMillis, resolveIntervalNanos,
                ttlNanos, max, probeTimeoutNanos, probeOnRequestTimeout, resolver, curve);
    }

    public TransportOptions withProbe(long timeoutNanos, boolean onRequestTimeout) {
        return new TransportOptions(reconnectIvlMillis, reconnectIvlMaxMillis, resolveIntervalNanos,
                pendingResponseTtlNanos, maxPendingResponses, timeoutNanos, onRequestTimeout, resolver, curve);
    }

    /**
     * CURVE on every cluster socket with this node's key pair (every peer then needs a public key);
     * null: trusted mode, where only the peers' addresses are admitted.
     */
    public TransportOptions withCurve(io.quorumd.security.CurveKeys keys) {
        return new TransportOptions(reconnectIvlMillis, reconnectIvlMaxMillis, resolveIntervalNanos,
                pendingResponseTtlNanos, maxPendingResponses, probeTimeoutNanos, probeOnRequestTimeout, resolver, keys);
    }
}

package io.quorumd.transport;

import io.quorumd.wire.DropCounters;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZEvent;
import org.zeromq.ZMQ;
import org.zeromq.ZMonitor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts connections to a server socket that closed before their handshake got as far as
 * authentication: a client of another mechanism (NULL against CURVE), a wrong server key, or
 * bytes that are not ZMTP. ZAP counts the refusals it decides itself; these never reach it.
 * JeroMQ's monitor names no connection, so this counts connections accepted and not yet past
 * the protocol exchange, and a disconnect while any is pending counts as one such failure. SPEC
 * counts a connection refused by ZAP or by the handshake as {@code unauthenticated}; the log line's
 * detail tells the two apart. A peer's refusal probe (a bare TCP connect after a request time-out)
 * lands here too, so a few of these during elections are normal.
 */
final class HandshakeWatch {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeWatch.class);
    private static final int EVENTS = ZMQ.EVENT_ACCEPTED | ZMQ.EVENT_HANDSHAKE_PROTOCOL | ZMQ.EVENT_DISCONNECTED;
    private final ZMQ.Socket monitor;
    private final String what;
    private final DropCounters drops;
    private int pending;
    /**
     * The first connection accepted and the first past its ZMTP greeting are logged, once each (where
     * a restarted agent's start-up time goes; JeroMQ 0.6 reports no end of the CURVE handshake: the
     * ZAP handler logs its first admission).
     */
    private boolean acceptedLogged;
    private boolean greetingLogged;

    HandshakeWatch(ZContext ctx, ZMQ.Socket watched, String what, String endpoint, DropCounters drops) {
        this.what = what;
        this.drops = drops;
        if (!watched.monitor(endpoint, EVENTS)) throw new IllegalStateException("cannot monitor the " + what + " socket");
        monitor = ctx.createSocket(SocketType.PAIR);
        monitor.setLinger(0);
        monitor.connect(endpoint);
    }

    ZMQ.Socket socket() {
        return monitor;
    }

    void drain() {
        ZEvent e;
        while ((e = ZEvent.recv(monitor, ZMQ.DONTWAIT)) != null) {
            ZMonitor.Event ev = e.getEvent();
            if (ev == ZMonitor.Event.ACCEPTED) {
                pending++;
                if (!acceptedLogged) {
                    acceptedLogged = true;
                    LOG.info("{}: first connection accepted", what);
                }
            } else if (ev == ZMonitor.Event.HANDSHAKE_PROTOCOL) {
                if (pending > 0) pending--;
                if (!greetingLogged) {
                    greetingLogged = true;
                    LOG.info("{}: first connection past its ZMTP greeting", what);
                }
            } else if (ev == ZMonitor.Event.DISCONNECTED && pending > 0) {
                pending--;
                drops.record(ZapHandler.UNAUTHENTICATED, "a connection to the " + what
                        + " closed before its handshake (another mechanism, a wrong server key, not ZMTP, or a refusal probe)");
            }
        }
    }
}

package io.quorumd.transport;

import io.quorumd.wire.DropCounters;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
 * SPEC counts a connection refused by ZAP or by the handshake as {@code unauthenticated}; the log
 * line's detail tells the two apart. A peer's refusal probe (a bare TCP connect after a request
 * time-out) lands here too, so a few of these during elections are normal.
 *
 * <p>What JeroMQ 0.6.0's monitor tells (read in its bytecode): ACCEPTED and DISCONNECTED carry the
 * connection's channel ({@code ZEvent.getValue()}, resolved through a weak reference: null once the
 * channel was collected); HANDSHAKE_PROTOCOL (the end of the ZMTP greeting) carries only the
 * protocol version, so it names no connection. A connection's HANDSHAKE_PROTOCOL and DISCONNECTED
 * come from its engine's I/O thread, in that order; its ACCEPTED comes from the listener's thread
 * after the connection was handed to an I/O thread, so with more than one I/O thread it may come
 * after the other two. {@link Pairing} holds the rule that stays right whatever that order.
 */
final class HandshakeWatch {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeWatch.class);
    private static final int EVENTS = ZMQ.EVENT_ACCEPTED | ZMQ.EVENT_HANDSHAKE_PROTOCOL | ZMQ.EVENT_DISCONNECTED;
    private static final String DETAIL = " closed before its handshake (another mechanism, a wrong server key, not ZMTP, or a refusal probe)";
    private final ZMQ.Socket monitor;
    private final String what;
    private final DropCounters drops;
    private final Pairing pairing;
    /**
     * The first connection accepted and the first past its ZMTP greeting are logged, once each (where
     * a restarted agent's start-up time goes; JeroMQ 0.6 reports no end of the CURVE handshake: the
     * ZAP handler logs its first admission).
     */
    private boolean acceptedLogged;
    private boolean greetingLogged;

    /** {@code handshakeIvlMillis}: the watched socket's ZMQ_HANDSHAKE_IVL, which bounds its greetings. */
    HandshakeWatch(ZContext ctx, ZMQ.Socket watched, String what, String endpoint, DropCounters drops, int handshakeIvlMillis) {
        this.what = what;
        this.drops = drops;
        this.pairing = new Pairing(TimeUnit.MILLISECONDS.toNanos(handshakeIvlMillis + Pairing.MARGIN_MILLIS));
        if (!watched.monitor(endpoint, EVENTS)) throw new IllegalStateException("cannot monitor the " + what + " socket");
        monitor = ctx.createSocket(SocketType.PAIR);
        monitor.setLinger(0);
        monitor.connect(endpoint);
    }

    ZMQ.Socket socket() {
        return monitor;
    }

    /** For tests: the pairing's state. */
    Pairing pairing() {
        return pairing;
    }

    /** Reads every event there is, then settles what the time tells ({@link Pairing#tick}). */
    void drain(long nowNanos) {
        ZEvent e;
        int failed = 0;
        while ((e = ZEvent.recv(monitor, ZMQ.DONTWAIT)) != null) {
            ZMonitor.Event ev = e.getEvent();
            if (ev == ZMonitor.Event.ACCEPTED) {
                failed += pairing.accepted(e.getValue(), nowNanos);
                if (!acceptedLogged) {
                    acceptedLogged = true;
                    LOG.info("{}: first connection accepted", what);
                }
            } else if (ev == ZMonitor.Event.HANDSHAKE_PROTOCOL) {
                failed += pairing.greeted(nowNanos);
                if (!greetingLogged) {
                    greetingLogged = true;
                    LOG.info("{}: first connection past its ZMTP greeting", what);
                }
            } else if (ev == ZMonitor.Event.DISCONNECTED) {
                failed += pairing.disconnected(e.getValue(), nowNanos);
            }
        }
        failed += pairing.tick(nowNanos);
        for (int i = 0; i < failed; i++) drops.record(ZapHandler.UNAUTHENTICATED, "a connection to the " + what + DETAIL);
    }

    /**
     * Pairs a server socket's monitor events by connection and tells how many connections closed
     * before their ZMTP greeting ended. Each method returns the number of such connections it could
     * settle (to be counted now, once each).
     *
     * <p>The rule. ACCEPTED and DISCONNECTED are paired by channel, in either order: a DISCONNECTED
     * of a channel not accepted yet is remembered, and its ACCEPTED, when it comes, is ignored. A
     * greeting (HANDSHAKE_PROTOCOL) names no connection, so greetings are a count {@code greetings}
     * not yet given to a connection, and connections are in one of these states:
     * <ul>
     * <li>{@code waiting}: accepted, open, not known to be greeted;
     * <li>{@code greeted}: open and known to be past the greeting: open longer than the socket's
     * handshake interval (plus a margin for a late timer), after which JeroMQ would have closed it
     * had its greeting not ended; each such connection takes one greeting from the count;
     * <li>{@code closedUnsettled}: closed while a greeting not given to anyone might have been its
     * own (a connection's greeting always comes before its own DISCONNECTED).
     * </ul>
     * The closed connections settle when no greeting is left to give (then none of them was
     * greeted: each counts at once), or when no connection is waiting and no greeting came for
     * longer than the bound (then the greetings left are theirs, one each: a greeting whose
     * ACCEPTED is still unread would have been paired by then). A connection that closes while
     * no greeting is unaccounted for (the usual case: no other handshake under way) is counted at
     * once; otherwise within about twice the bound.
     *
     * <p>A channel collected before its event was read (null) is paired with nothing: its
     * DISCONNECTED is settled like an unaccepted one's, its ACCEPTED ignored (an open
     * connection's engine holds its channel, so a collected one is gone and its DISCONNECTED was
     * emitted before the ACCEPTED was read).
     */
    static final class Pairing {
        /** How late a handshake timer may fire on a loaded machine and still count as on time. */
        static final long MARGIN_MILLIS = 1500;
        private final long greetingBoundNanos;
        private final Map<Object, Long> waiting = new IdentityHashMap<>();
        private final Set<Object> greeted = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        /** Channels closed before their ACCEPTED was read, in the order closed, to ignore that ACCEPTED. */
        private final Map<Object, Long> closedBeforeAccepted = new IdentityHashMap<>();
        private final ArrayDeque<Object> closedBeforeAcceptedOrder = new ArrayDeque<>();
        private int greetings;
        private int closedUnsettled;
        private long lastGreetingNanos;
        /** For tests: DISCONNECTED events paired with their ACCEPTED, and events whose channel was collected. */
        private int paired;
        private int collected;

        Pairing(long greetingBoundNanos) {
            this.greetingBoundNanos = greetingBoundNanos;
        }

        int accepted(Object channel, long nowNanos) {
            if (channel == null) {
                collected++;
            } else if (closedBeforeAccepted.remove(channel) != null) {
                paired++;
            } else {
                waiting.put(channel, nowNanos);
            }
            return settle();
        }

        int greeted(long nowNanos) {
            greetings++;
            lastGreetingNanos = nowNanos;
            return settle();
        }

        int disconnected(Object channel, long nowNanos) {
            if (channel != null && greeted.remove(channel)) {
                paired++;
                return settle();
            }
            boolean known = channel != null && waiting.remove(channel) != null;
            if (known) paired++;
            else if (channel == null) collected++;
            if (!known && channel != null) {
                closedBeforeAccepted.put(channel, nowNanos);
                closedBeforeAcceptedOrder.add(channel);
            }
            closedUnsettled++;
            return settle();
        }

        /** Connections waiting longer than the bound were greeted; stale unaccepted closes are forgotten. */
        int tick(long nowNanos) {
            for (Iterator<Map.Entry<Object, Long>> it = waiting.entrySet().iterator(); it.hasNext();) {
                Map.Entry<Object, Long> w = it.next();
                if (nowNanos - w.getValue() <= greetingBoundNanos) continue;
                Object channel = w.getKey();
                it.remove();
                greeted.add(channel);
                if (greetings > 0) greetings--;
            }
            while (!closedBeforeAcceptedOrder.isEmpty()) {
                Object c = closedBeforeAcceptedOrder.peek();
                Long at = closedBeforeAccepted.get(c);
                if (at != null && nowNanos - at <= greetingBoundNanos) break;
                closedBeforeAcceptedOrder.poll();
                if (at != null) closedBeforeAccepted.remove(c);
            }
            // nobody waiting and no greeting for longer than the bound: a greeting left is not a
            // connection's whose ACCEPTED is still to come (that comes within the bound); it is one
            // of the closed connections', or of a connection whose channel was collected
            if (greetings > 0 && waiting.isEmpty() && nowNanos - lastGreetingNanos > greetingBoundNanos) {
                int theirs = Math.min(greetings, closedUnsettled);
                int failed = closedUnsettled - theirs;
                greetings = 0;
                closedUnsettled = 0;
                return failed;
            }
            return settle();
        }

        private int settle() {
            if (closedUnsettled == 0 || greetings > 0) return 0;
            int failed = closedUnsettled;
            closedUnsettled = 0;
            return failed;
        }

        /** For tests: connections accepted and not yet settled as greeted or closed. */
        int waitingCount() {
            return waiting.size();
        }

        /** For tests: connections whose ACCEPTED and DISCONNECTED were paired by their channel. */
        int pairedCount() {
            return paired;
        }

        /** For tests: ACCEPTED and DISCONNECTED events whose channel was collected before they were read. */
        int collectedCount() {
            return collected;
        }

        /** For tests: closed connections whose greeting is not settled yet. */
        int unsettledCount() {
            return closedUnsettled;
        }
    }
}

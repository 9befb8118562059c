package io.quorumd.transport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Plain TCP connect probes, all in flight at once on one thread with a {@link Selector}: the only
 * certain sign that a peer's agent is gone is that its host actively refuses the connection (RST).
 * A probe that times out, or fails any other way (no route, network down), is "no answer" and
 * proves nothing: silence is never reported as refusal.
 */
final class RefusalProber implements AutoCloseable {
    enum Outcome {
        /** the port accepted the connection: something listens there */
        ACCEPTED,
        /** ECONNREFUSED: the host answered, and nothing listens on the port */
        REFUSED,
        /** time-out or any other error: no conclusion */
        NO_ANSWER
    }

    interface Listener {
        /** Called on the prober's thread. */
        void result(String peer, Outcome outcome, String detail);
    }

    private static final Logger LOG = LoggerFactory.getLogger(RefusalProber.class);

    private record Ask(String peer, InetSocketAddress target) {}

    private record InFlight(String peer, InetSocketAddress target, SocketChannel channel, long deadlineNanos) {}

    private final long timeoutNanos;
    private final Listener listener;
    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Ask> asks = new ConcurrentLinkedQueue<>();
    private final Map<String, InFlight> inFlight = new HashMap<>(); // prober thread only
    private volatile boolean running = true;

    RefusalProber(String threadName, long timeoutNanos, Listener listener) throws IOException {
        this.timeoutNanos = timeoutNanos;
        this.listener = listener;
        this.selector = Selector.open();
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Thread-safe. A probe already in flight for {@code peer} makes this one a no-op. */
    void probe(String peer, InetSocketAddress target) {
        asks.add(new Ask(peer, target));
        selector.wakeup();
    }

    @Override
    public void close() {
        running = false;
        selector.wakeup();
        try {
            thread.join(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            while (running) {
                startAsked();
                long wait = untilNextDeadlineNanos();
                if (wait == Long.MAX_VALUE) selector.select();
                else selector.select(Math.max(1, (wait + 999_999) / 1_000_000));
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey key = it.next();
                    it.remove();
                    finish((InFlight) key.attachment());
                }
                expire();
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("connect prober stopped: {}; refused connections will not be noticed", e.toString(), e);
        } finally {
            for (InFlight f : inFlight.values()) closeQuietly(f.channel);
            inFlight.clear();
            try {
                selector.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }

    private void startAsked() {
        Ask a;
        while ((a = asks.poll()) != null) {
            if (inFlight.containsKey(a.peer)) continue;
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open();
                ch.configureBlocking(false);
                if (ch.connect(a.target)) {
                    closeQuietly(ch);
                    report(a.peer, Outcome.ACCEPTED, "connected to " + a.target);
                    continue;
                }
                InFlight f = new InFlight(a.peer, a.target, ch, System.nanoTime() + timeoutNanos);
                ch.register(selector, SelectionKey.OP_CONNECT, f);
                inFlight.put(a.peer, f);
            } catch (IOException e) {
                closeQuietly(ch);
                report(a.peer, classify(e), a.target + ": " + e.getMessage());
            }
        }
    }

    private void finish(InFlight f) {
        if (inFlight.remove(f.peer) == null) return;
        try {
            if (f.channel.finishConnect()) {
                report(f.peer, Outcome.ACCEPTED, "connected to " + f.target);
            } else {
                inFlight.put(f.peer, f); // spurious readiness: keep waiting
                return;
            }
        } catch (IOException e) {
            report(f.peer, classify(e), f.target + ": " + e.getMessage());
        }
        closeQuietly(f.channel);
    }

    private void expire() {
        long now = System.nanoTime();
        Iterator<InFlight> it = inFlight.values().iterator();
        while (it.hasNext()) {
            InFlight f = it.next();
            if (f.deadlineNanos - now > 0) continue;
            it.remove();
            closeQuietly(f.channel);
            report(f.peer, Outcome.NO_ANSWER, f.target + ": no answer within " + timeoutNanos / 1_000_000 + " ms");
        }
    }

    private long untilNextDeadlineNanos() {
        long now = System.nanoTime();
        long min = Long.MAX_VALUE;
        for (InFlight f : inFlight.values()) min = Math.min(min, Math.max(0, f.deadlineNanos - now));
        return min;
    }

    /**
     * Only ECONNREFUSED counts. The JDK maps ECONNREFUSED, ETIMEDOUT and ENOTCONN all to
     * ConnectException, so the message must say "refused"; a localised message that does not falls
     * to NO_ANSWER, the safe side.
     */
    static Outcome classify(IOException e) {
        if (e instanceof ConnectException && e.getMessage() != null
                && e.getMessage().toLowerCase(Locale.ROOT).contains("refused")) {
            return Outcome.REFUSED;
        }
        return Outcome.NO_ANSWER;
    }

    private void report(String peer, Outcome outcome, String detail) {
        try {
            listener.result(peer, outcome, detail);
        } catch (RuntimeException e) {
            LOG.error("probe result for peer {} was lost: {}", peer, e.toString(), e);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a probe socket: nothing to do about a failure
        }
    }
}

package io.quorumd.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.wire.DropCounters;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * {@link HandshakeWatch.Pairing} fed the monitor events in the orders JeroMQ can produce with more
 * than one I/O thread: a connection's ACCEPTED (the listener's thread) may come before, between or
 * after its HANDSHAKE_PROTOCOL and DISCONNECTED (its engine's thread), and connections interleave.
 * Channels are plain objects here (the watch pairs them by identity); time is given.
 */
class HandshakeWatchTest {
    private static final long BOUND = TimeUnit.SECONDS.toNanos(4);
    private static final long MS = 1_000_000L;

    private final HandshakeWatch.Pairing p = new HandshakeWatch.Pairing(BOUND);
    private long now = 1_000 * MS;
    private int counted;

    private void accepted(Object ch) {
        counted += p.accepted(ch, now);
    }

    private void greeted() {
        counted += p.greeted(now);
    }

    private void disconnected(Object ch) {
        counted += p.disconnected(ch, now);
    }

    private void later(long millis) {
        now += millis * MS;
        counted += p.tick(now);
    }

    @Test
    void aConnectionClosedBeforeItsGreetingCountsOnceInEitherOrderOfAcceptedAndDisconnected() {
        Object first = new Object();
        accepted(first);
        disconnected(first);
        assertEquals(1, counted, "accepted, then closed");

        Object second = new Object();
        disconnected(second); // the listener's ACCEPTED comes after the engine's DISCONNECTED
        assertEquals(2, counted, "closed before its ACCEPTED was read: counted at once");
        accepted(second);
        assertEquals(2, counted, "its late ACCEPTED pairs with that close, counted nothing more");
        assertEquals(0, p.waitingCount(), "and leaves no connection waiting");
    }

    @Test
    void aGreetedConnectionIsNotCountedWhicheverOrderItsEventsCome() {
        Object before = new Object();
        greeted(); // greeting and close before the ACCEPTED
        disconnected(before);
        accepted(before);
        Object between = new Object();
        greeted();
        accepted(between);
        disconnected(between);
        Object usual = new Object();
        accepted(usual);
        greeted();
        disconnected(usual);
        later(BOUND / MS + 1);
        assertEquals(0, counted);
        assertEquals(0, p.waitingCount());
        assertEquals(0, p.unsettledCount());
    }

    @Test
    void aLateAcceptedDoesNotLeaveAConnectionPendingThatMakesALaterCloseCount() {
        // the old watch: DISCONNECTED with nothing pending counted nothing, the late ACCEPTED stayed
        // pending, and the next greeted connection's close counted as refused
        Object probe = new Object();
        disconnected(probe);
        accepted(probe);
        Object peer = new Object();
        accepted(peer);
        greeted();
        later(5_000);
        disconnected(peer);
        assertEquals(1, counted, "the probe only");
    }

    @Test
    void aGreetedPeerClosingWhileAStrangerIsInItsHandshakeIsNotCounted() {
        Object peer = new Object();
        accepted(peer);
        greeted();
        later(5_000); // long past the greeting bound: the peer is greeted
        Object stranger = new Object();
        accepted(stranger);
        disconnected(peer); // the peer restarts
        assertEquals(0, counted, "the greeted peer's close");
        disconnected(stranger);
        assertEquals(1, counted, "the stranger closed without a greeting");
    }

    @Test
    void aCloseWhileAnotherConnectionsGreetingMightBeItsOwnIsSettledWhenThatOneIsGreeted() {
        Object stranger = new Object();
        Object peer = new Object();
        accepted(stranger);
        accepted(peer);
        greeted(); // the peer's, or the stranger's: the event does not say
        disconnected(stranger);
        assertEquals(0, counted, "not known yet");
        assertEquals(1, p.unsettledCount());
        later(1_000);
        assertEquals(0, counted, "the peer is still within its greeting bound");
        later(4_000); // the peer, still open, is past the bound: the greeting was its own
        assertEquals(1, counted);
        disconnected(peer);
        assertEquals(1, counted, "the peer was greeted");
    }

    @Test
    void aCloseWhileAnotherConnectionsGreetingMightBeItsOwnIsSettledWhenThatOneCloses() {
        Object a = new Object();
        Object b = new Object();
        accepted(a);
        accepted(b);
        greeted();
        disconnected(a);
        disconnected(b);
        assertEquals(0, counted, "a greeting not given: it may be a connection's whose ACCEPTED is still to come");
        later(5_000);
        assertEquals(1, counted, "two closed, one greeting between them: one refused");
        assertEquals(0, p.unsettledCount());
    }

    @Test
    void manyInterleavedConnectionsCountExactlyTheOnesNeverGreeted() {
        Object[] refused = new Object[20];
        Object[] peers = new Object[20];
        for (int i = 0; i < 20; i++) {
            refused[i] = new Object();
            peers[i] = new Object();
        }
        // the engines' threads: each peer greets; every refused one closes; the listener's ACCEPTED
        // events come late, after every other event, in reverse order
        for (int i = 0; i < 20; i++) {
            greeted();
            disconnected(refused[i]);
        }
        for (int i = 19; i >= 0; i--) {
            accepted(peers[i]);
            accepted(refused[i]);
        }
        later(5_000);
        for (Object peer : peers) disconnected(peer);
        assertEquals(20, counted);
        assertEquals(0, p.waitingCount());
        assertEquals(0, p.unsettledCount());
    }

    @Test
    void aCollectedChannelStillCountsItsClose() {
        // JeroMQ resolves a channel through a weak reference: null once it was collected
        disconnected(null);
        accepted(null);
        assertEquals(1, counted);
        Object peer = new Object();
        accepted(peer);
        greeted();
        later(5_000);
        disconnected(peer);
        assertEquals(1, counted);
    }

    @Test
    void aGreetingThatNoConnectionTakesIsForgottenAfterTheBound() {
        greeted(); // its connection's ACCEPTED and DISCONNECTED were collected: both null, paired with nothing
        accepted(null);
        later(1);
        later(5_000);
        Object stranger = new Object();
        accepted(stranger);
        disconnected(stranger);
        assertEquals(1, counted, "a stale greeting excused a stranger");
    }

    /**
     * Against JeroMQ itself, with two I/O threads: bare TCP connections (a refusal probe) to a
     * ROUTER, closed at once, are each counted once and paired by their channels, whatever order
     * the listener's and the engines' threads emitted their events in.
     */
    @Test
    void realBareConnectionsToASocketWithTwoIoThreadsAreCountedOnceEachAndPaired() throws Exception {
        DropCounters drops = new DropCounters(System::nanoTime);
        try (ZContext ctx = new ZContext(2)) {
            ZMQ.Socket router = ctx.createSocket(SocketType.ROUTER);
            router.setLinger(0);
            HandshakeWatch watch = new HandshakeWatch(ctx, router, "test ROUTER",
                    "inproc://handshake-watch-test-" + System.nanoTime(), drops, ZmqTransport.HANDSHAKE_IVL_MILLIS);
            int port = router.bindToRandomPort("tcp://127.0.0.1");
            int n = 40;
            for (int i = 0; i < n; i++) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 3000);
                }
            }
            Harness.awaitCondition(() -> {
                watch.drain(System.nanoTime());
                return drops.count(ZapHandler.UNAUTHENTICATED) >= n;
            }, 15_000, n + " bare connections counted");
            watch.drain(System.nanoTime());
            assertEquals(n, drops.count(ZapHandler.UNAUTHENTICATED), "each counted once");
            assertEquals(0, watch.pairing().waitingCount(), "every ACCEPTED paired with its DISCONNECTED");
            assertEquals(0, watch.pairing().unsettledCount());
            // JeroMQ resolves the channel through a weak reference: a collection between an event
            // and its reading leaves it null (two nulls for one connection); every other one paired
            assertEquals(2 * n, 2 * watch.pairing().pairedCount() + watch.pairing().collectedCount(), "paired or collected");
            assertTrue(watch.pairing().pairedCount() > 0, "events carry their channel");
        }
    }

    /**
     * The agent's PUB and ROUTER cut a connection whose greeting does not end within
     * {@link ZmqTransport#HANDSHAKE_IVL_MILLIS} (JeroMQ's default is 30 s): what lets the watch take a
     * connection open longer than that for greeted. Each such connection is counted once.
     */
    @Test
    void aConnectionThatNeverGreetsIsCutByTheHandshakeIntervalAndCounted() throws Exception {
        try (Harness h = new Harness("a", "b")) {
            Harness.Node a = h.start("a");
            long before = a.drops.count(ZapHandler.UNAUTHENTICATED);
            for (int port : new int[] {h.port("a"), h.port("a") + 1}) {
                try (RawZmtp silent = new RawZmtp(Harness.LOOPBACK, Harness.LOOPBACK, port)) {
                    // sends nothing; reads the server's greeting and then waits for the close
                    assertTrue(silent.closedByPeerWithin(ZmqTransport.HANDSHAKE_IVL_MILLIS + 12_000),
                            "port " + port + " kept a connection that never greeted");
                }
            }
            Harness.awaitCondition(() -> a.drops.count(ZapHandler.UNAUTHENTICATED) - before >= 2, 15_000, "both counted");
            assertEquals(2, a.drops.count(ZapHandler.UNAUTHENTICATED) - before, "each counted once");
        }
    }
}

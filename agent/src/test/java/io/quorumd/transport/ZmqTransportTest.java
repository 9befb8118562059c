package io.quorumd.transport;

import io.quorumd.core.Event;
import io.quorumd.core.Message;
import io.quorumd.core.Proof;
import io.quorumd.wire.Codec;
import io.quorumd.wire.DecodeFailure;
import io.quorumd.wire.Decoded;
import io.quorumd.wire.DropCounters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.quorumd.transport.Harness.awaitCondition;
import static io.quorumd.transport.Harness.awaitKeepAlive;
import static io.quorumd.transport.Harness.failed;
import static io.quorumd.transport.Harness.keepAliveFrom;
import static io.quorumd.transport.Harness.received;
import static io.quorumd.transport.Harness.refused;
import static io.quorumd.transport.Harness.voteRequest;
import static io.quorumd.transport.Harness.voteResponse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZmqTransportTest {
    private static final String A = "node-a";
    private static final String B = "node-b";
    private static final String C = "node-c";

    private Harness h;

    @AfterEach
    void tearDown() {
        if (h != null) h.close();
    }

    @Test
    void threeNodesExchangeKeepAlivesAndRequestsAnsweredOutOfOrder() {
        h = new Harness(A, B, C);
        Harness.Node a = h.start(A);
        Harness.Node b = h.start(B);
        Harness.Node c = h.start(C);
        for (Harness.Node from : List.of(a, b, c)) {
            for (Harness.Node to : List.of(a, b, c)) if (from != to) awaitKeepAlive(from, to, 5_000);
        }

        a.transport.request(B, voteRequest(A, 1), 5_000_000_000L);
        c.transport.request(B, voteRequest(C, 2), 5_000_000_000L);
        b.await(received(Message.VoteRequest.class, A, 1), 3_000, "a's vote request");
        b.await(received(Message.VoteRequest.class, C, 2), 3_000, "c's vote request");
        // answered in the other order: the ROUTER routes each answer to its own requester
        b.transport.respond(C, voteResponse(B, 2));
        c.await(received(Message.VoteResponse.class, B, 2), 3_000, "b's answer to c");
        b.transport.respond(A, voteResponse(B, 1));
        a.await(received(Message.VoteResponse.class, B, 1), 3_000, "b's answer to a");

        Message.HandOver handOver = new Message.HandOver(C, 4, 9, 77, A, new Proof(Proof.Kind.HANDOVER, C, 4, true));
        c.transport.request(A, handOver, 5_000_000_000L);
        Event got = a.await(received(Message.HandOver.class, C, 77), 3_000, "hand-over");
        assertEquals(handOver, ((Event.Received) got).message());
        a.transport.respond(C, new Message.HandOverAck(A, 4, 11, 77, true, null));
        c.await(received(Message.HandOverAck.class, A, 77), 3_000, "hand-over ack");

        // a second answer to the same request goes nowhere, and nothing failed or was dropped
        b.transport.respond(C, voteResponse(B, 2));
        for (Harness.Node n : List.of(a, b, c)) {
            assertEquals(0, n.count(e -> e instanceof Event.RequestFailed), () -> n.id + ": " + n.events());
            assertEquals(0, n.drops.total(), () -> n.id + " dropped " + n.drops.snapshot());
        }
    }

    @Test
    void requestToADeadPeerFailsInItsTimeoutAndTheSocketServesAgain() {
        h = new Harness(A, B);
        Harness.Node a = h.start(A);
        long t0 = System.nanoTime();
        a.transport.request(B, voteRequest(A, 1), 300_000_000L);
        Event.RequestFailed f = (Event.RequestFailed) a.await(failed(B, 1), 10_000, "time-out of request 1");
        long elapsedMillis = (System.nanoTime() - t0) / 1_000_000;
        // not before its time-out; after it, within slack for a loaded machine (how soon: `make bench`)
        assertTrue(elapsedMillis >= 290 && elapsedMillis < 300 + 5_000, "failed after " + elapsedMillis + " ms, time-out was 300 ms");
        assertTrue(f.reason().contains("no reply"), f.reason());

        Harness.Node b = h.start(B);
        a.transport.request(B, voteRequest(A, 2), 5_000_000_000L);
        b.await(received(Message.VoteRequest.class, A, 2), 5_000, "request 2");
        // the relaxed socket kept request 1 queued: b may see it late, as any delayed request;
        // its answer, after request 2's, never reaches a as an answer (correlated away by ZMQ)
        if (b.count(received(Message.VoteRequest.class, A, 1)) > 0) b.transport.respond(A, voteResponse(B, 1));
        b.transport.respond(A, voteResponse(B, 2));
        a.await(received(Message.VoteResponse.class, B, 2), 3_000, "answer 2");
        Harness.awaitKeepAlive(b, a, 3_000); // anything b sent before has arrived by now
        assertEquals(0, a.count(received(Message.VoteResponse.class, B, 1)), "a late answer was taken for a fresh one");
    }

    @Test
    void aNewerRequestSupersedesAnOutstandingOne() {
        h = new Harness(A, B);
        Harness.Node a = h.start(A);
        Harness.Node b = h.start(B);
        a.transport.request(B, voteRequest(A, 1), 10_000_000_000L);
        b.await(received(Message.VoteRequest.class, A, 1), 5_000, "request 1");
        a.transport.request(B, voteRequest(A, 2), 10_000_000_000L);
        Event.RequestFailed f = (Event.RequestFailed) a.await(failed(B, 1), 2_000, "request 1 superseded");
        assertTrue(f.reason().contains("superseded"), f.reason());
        b.await(received(Message.VoteRequest.class, A, 2), 5_000, "request 2");
        b.transport.respond(A, voteResponse(B, 1)); // too late: a's relaxed socket waits for request 2's
        b.transport.respond(A, voteResponse(B, 2));
        a.await(received(Message.VoteResponse.class, B, 2), 3_000, "answer 2");
        assertEquals(0, a.count(received(Message.VoteResponse.class, B, 1)));
    }

    /**
     * The replicated log's lane and the election's are separate REQ sockets: a master's append,
     * sent every heartbeat, never supersedes its hand-over to the same peer, nor the reverse, and
     * a follower's forwarded request and its answer travel the log's lane.
     */
    @Test
    void appendsAndElectionRequestsToOnePeerNeverSupersedeEachOther() {
        h = new Harness(A, B);
        Harness.Node a = h.start(A);
        Harness.Node b = h.start(B);
        Message.HandOver handOver = new Message.HandOver(A, 4, 9, 77, B, new Proof(Proof.Kind.HANDOVER, A, 4, true));
        a.transport.request(B, handOver, 10_000_000_000L);
        b.await(received(Message.HandOver.class, A, 77), 5_000, "the hand-over");
        a.transport.request(B, new Message.Append(A, 4, 9, 78, 0, 0, List.of(), 0), 10_000_000_000L);
        b.await(received(Message.Append.class, A, 78), 5_000, "the append");
        b.transport.respond(A, new Message.AppendAck(B, 4, 10, 78, true, 0, 0, 0));
        a.await(received(Message.AppendAck.class, B, 78), 3_000, "the append's answer");
        a.transport.request(B, new Message.Append(A, 4, 9, 79, 0, 0, List.of(), 0), 10_000_000_000L);
        b.await(received(Message.Append.class, A, 79), 5_000, "the next append");
        b.transport.respond(A, new Message.HandOverAck(B, 4, 10, 77, true, null));
        a.await(received(Message.HandOverAck.class, B, 77), 3_000, "the hand-over's answer, after two appends");
        b.transport.respond(A, new Message.AppendAck(B, 4, 10, 79, true, 0, 0, 0));
        a.await(received(Message.AppendAck.class, B, 79), 3_000, "the second append's answer");

        b.transport.request(A, new Message.Forward(B, 4, 10, (1L << 62) | 1, true, new byte[] {1, 2}), 10_000_000_000L);
        a.await(received(Message.Forward.class, B, (1L << 62) | 1), 5_000, "the forwarded write");
        a.transport.respond(B, new Message.ForwardReply(A, 4, 9, (1L << 62) | 1, 0, "{\"rev\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        b.await(received(Message.ForwardReply.class, A, (1L << 62) | 1), 3_000, "its answer");
        for (Harness.Node n : List.of(a, b)) {
            assertEquals(0, n.count(e -> e instanceof Event.RequestFailed), () -> n.id + ": " + n.events());
            assertEquals(0, n.drops.total(), () -> n.id + " dropped " + n.drops.snapshot());
        }
    }

    @Test
    void anUndecodableRequestGetsAnErrorReplyNotSilence() {
        h = new Harness(A, B);
        Harness.Node a = h.start(A);
        // b belongs to another cluster: a's request does not decode there
        Harness.Node b = h.start(B, new Codec("other", h.endpoints.keySet()), TransportOptions.defaults());
        long t0 = System.nanoTime();
        a.transport.request(B, voteRequest(A, 5), 10_000_000_000L);
        Event.RequestFailed f = (Event.RequestFailed) a.await(failed(B, 5), 5_000, "quick failure");
        assertTrue((System.nanoTime() - t0) < 5_000_000_000L, "failed on the error reply, long before the 10 s time-out");
        assertTrue(f.reason().contains("WRONG_CLUSTER"), f.reason());
        assertEquals(1, b.drops.count("WRONG_CLUSTER"));
        assertEquals(1, a.drops.count("WRONG_CLUSTER"), "b's error reply names b's cluster, so a drops it too");
        assertEquals(0, b.count(e -> e instanceof Event.Received));
    }

    @Test
    void aPeerThatStartsLateIsReached() {
        h = new Harness(A, B);
        Harness.Node a = h.start(A);
        a.transport.publish(Harness.keepAlive(A, 1)); // into the void
        Harness.Node b = h.start(B);
        awaitKeepAlive(a, b, 5_000);
        awaitKeepAlive(b, a, 5_000);
        b.transport.request(A, voteRequest(B, 3), 5_000_000_000L);
        a.await(received(Message.VoteRequest.class, B, 3), 5_000, "b's request");
    }

    @Test
    void aPeerThatRestartsIsReachedAgainAndRefusalIsReportedOncePerEpisode() {
        h = new Harness(A, B);
        Harness.Node a = h.start(A);
        Harness.Node b = h.start(B);
        awaitKeepAlive(b, a, 5_000);
        a.transport.probe(B); // b is alive: accepted, nothing reported
        awaitCondition(() -> a.transport.probesCompleted() == 1, 3_000, "first probe");
        assertEquals(0, a.count(refused(B)));

        b.close();
        a.transport.probe(B);
        a.await(refused(B), 3_000, "PeerRefused after b closed");
        a.transport.probe(B);
        a.transport.request(B, voteRequest(A, 9), 200_000_000L); // its time-out probes too
        a.await(failed(B, 9), 3_000, "request to the closed peer");
        awaitCondition(() -> a.transport.probesCompleted() >= 4, 3_000, "later probes");
        assertEquals(1, a.count(refused(B)), "one PeerRefused per episode");

        Harness.Node b2 = h.start(B); // same ports, new process-like instance
        awaitKeepAlive(b2, a, 5_000); // hearing b again ends the episode
        a.transport.request(B, voteRequest(A, 10), 5_000_000_000L);
        b2.await(received(Message.VoteRequest.class, A, 10), 5_000, "request after the restart");
        b2.close();
        a.transport.probe(B);
        awaitCondition(() -> a.count(refused(B)) == 2, 3_000, "a second episode reported");
    }

    /**
     * A listener whose accept queue is full drops new SYNs: the probe gets silence, which must not
     * be reported as refusal.
     */
    /**
     * A peer's listener that accepts and then never says a word (as a connection JeroMQ's connect
     * race left mute, zeromq/jeromq#1022): the subscriber gives up on that handshake after
     * {@link ZmqTransport#HANDSHAKE_IVL_MILLIS} and connects again, instead of hearing nothing
     * for JeroMQ's default 30 s.
     */
    @Test
    void aHandshakeThatNeverEndsIsCutAndMadeAgain() throws Exception {
        h = new Harness(A, B);
        ServerSocket mute = h.closeLater(new ServerSocket(h.port(B), 50, Harness.LOOPBACK));
        mute.setSoTimeout(1000);
        h.start(A);
        List<Long> accepted = new ArrayList<>();
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(ZmqTransport.HANDSHAKE_IVL_MILLIS + 5_000L);
        while (accepted.size() < 2 && System.nanoTime() < deadline) {
            try {
                h.closeLater(mute.accept()); // read nothing, write nothing
                accepted.add(System.nanoTime());
            } catch (SocketTimeoutException e) {
                // keep waiting until the deadline
            }
        }
        assertEquals(2, accepted.size(), "the subscriber connected again after its handshake went nowhere");
        long gapMs = TimeUnit.NANOSECONDS.toMillis(accepted.get(1) - accepted.get(0));
        assertTrue(gapMs >= ZmqTransport.HANDSHAKE_IVL_MILLIS - 100, "not before the handshake's time-out: " + gapMs + " ms");
    }

    @Test
    void silenceIsNeverReportedAsRefusal() throws Exception {
        h = new Harness(A, B);
        int reqPort = h.endpoints.get(B).requestPort();
        ServerSocket full = h.closeLater(new ServerSocket(reqPort, 1, Harness.LOOPBACK));
        boolean silent = false;
        for (int i = 0; i < 10 && !silent; i++) {
            Socket s = h.closeLater(new Socket());
            try {
                s.connect(new InetSocketAddress(Harness.LOOPBACK, reqPort), 200);
            } catch (SocketTimeoutException e) {
                silent = true;
            }
        }
        assertTrue(silent, "the listener's accept queue did not fill up");
        Harness.Node a = h.start(A, TransportOptions.defaults().withProbe(300_000_000L, true));
        a.transport.probe(B);
        awaitCondition(() -> a.transport.probesCompleted() == 1, 3_000, "the probe's time-out");
        assertEquals(0, a.count(refused(B)));
        assertTrue(full.isBound());
    }

    @Test
    void routerSurvivesGarbageAndKeepsAnswering() {
        h = new Harness(A, B);
        Harness.Node a = h.start(A);
        Harness.Node b = h.start(B);
        String router = "tcp://127.0.0.1:" + h.endpoints.get(B).requestPort();
        Codec codec = h.codec();
        try (ZContext ctx = new ZContext(1)) {
            ZMQ.Socket dealer = ctx.createSocket(SocketType.DEALER);
            dealer.setLinger(0);
            dealer.setReceiveTimeOut(15_000); // a behaviour test: patience for a loaded machine, not a speed bound
            dealer.connect(router);

            dealer.send("no delimiter here"); // 1: no REQ delimiter
            byte[] noise = new byte[100];
            new Random(1).nextBytes(noise);
            noise[0] = (byte) 0xc1;
            dealer.sendMore(new byte[0]);
            dealer.send(noise); // 2: delimiter and random bytes: an error reply
            assertEquals(0, dealer.recv().length, "delimiter of the error reply");
            Decoded reply = codec.decode(dealer.recv());
            assertEquals(new Decoded.PeerError(B, "MALFORMED"), reply);

            dealer.sendMore(new byte[0]);
            dealer.send(codec.encode(Harness.keepAlive(A, 1))); // 3: a keep-alive is not a request
            dealer.recv();
            assertEquals(new Decoded.PeerError(B, "MISPLACED"), codec.decode(dealer.recv()));

            dealer.sendMore(new byte[0]);
            dealer.sendMore(codec.encode(voteRequest(A, 50)));
            dealer.send("extra"); // 4: one frame too many
            dealer.recv();
            assertEquals(new Decoded.PeerError(B, "BAD_ENVELOPE"), codec.decode(dealer.recv()));

            dealer.sendMore(new byte[0]);
            dealer.send(codec.encode(voteRequest(B, 51))); // 5: claims to be b itself
            dealer.recv();
            assertEquals(new Decoded.PeerError(B, "FROM_SELF"), codec.decode(dealer.recv()));

            ZMQ.Socket big = ctx.createSocket(SocketType.DEALER); // 6: beyond the max message size
            big.setLinger(0);
            big.connect(router);
            big.sendMore(new byte[0]);
            big.send(new byte[Codec.MAX_FRAME_BYTES + 1]);

            awaitCondition(() -> b.drops.total() == 5, 3_000, "five drops counted");
            assertEquals(Map.of("bad_envelope", 1L, "from_self", 1L, "malformed", 1L, "misplaced", 1L, "no_delimiter", 1L),
                    b.drops.snapshot());
        }
        for (long id = 100; id < 103; id++) {
            a.transport.request(B, voteRequest(A, id), 5_000_000_000L);
            b.await(received(Message.VoteRequest.class, A, id), 5_000, "good request " + id);
            b.transport.respond(A, voteResponse(B, id));
            a.await(received(Message.VoteResponse.class, B, id), 5_000, "answer " + id);
        }
        assertEquals(0, b.count(e -> e instanceof Event.Received r && !(r.message() instanceof Message.VoteRequest)));
        assertEquals(3, b.count(e -> e instanceof Event.Received));
    }

    @Test
    void aRenamedPeerIsReachedOnceItsNameResolves() {
        h = new Harness(A, B);
        AtomicBoolean dnsUp = new AtomicBoolean(false);
        HostResolver resolver = host -> {
            if (!host.equals("node-b.test") || !dnsUp.get()) throw new UnknownHostException(host);
            return InetAddress.getByName("127.0.0.1");
        };
        Map<String, PeerEndpoint> peers = Map.of(A, h.endpoints.get(A),
                B, new PeerEndpoint("node-b.test", h.endpoints.get(B).port()));
        Harness.Node a = h.start(A, h.codec(), TransportOptions.defaults().withResolver(resolver)
                .withResolveIntervalNanos(50_000_000L), peers);
        Harness.Node b = h.start(B);
        a.transport.request(B, voteRequest(A, 1), 1_000_000_000L);
        Event.RequestFailed f = (Event.RequestFailed) a.await(failed(B, 1), 3_000, "unresolved peer");
        assertTrue(f.reason().contains("not resolved"), f.reason());

        dnsUp.set(true);
        awaitKeepAlive(b, a, 5_000);
        a.transport.request(B, voteRequest(A, 2), 5_000_000_000L);
        b.await(received(Message.VoteRequest.class, A, 2), 5_000, "request after resolution");
    }

    @Test
    void bindFailureNamesTheAddressAndPort() throws Exception {
        h = new Harness(A, B);
        int port = h.port(A);
        try (ServerSocket squatter = new ServerSocket(port + 1, 50, Harness.LOOPBACK)) {
            ZmqTransport t = new ZmqTransport(A, Harness.LOOPBACK, port, h.endpoints, h.codec(),
                    new DropCounters(System::nanoTime), e -> { });
            BindException e = assertThrows(BindException.class, t::start);
            assertTrue(e.getMessage().contains("tcp://127.0.0.1:" + squatter.getLocalPort()), e.getMessage());
            assertTrue(e.getMessage().contains("request ROUTER"), e.getMessage());
            t.close();
        }
        // the PUB bound before the failure was released: the port can be taken again
        Harness.Node a = h.start(A);
        assertEquals(A, a.transport.self());
    }

    @Test
    void closeIsPromptAndStopsItsThreads() {
        h = new Harness(A, B, C);
        Harness.Node a = h.start(A);
        Harness.Node b = h.start(B);
        awaitKeepAlive(b, a, 5_000);
        a.transport.request(C, voteRequest(A, 1), 60_000_000_000L); // outstanding at close
        long t0 = System.nanoTime();
        a.close();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        // close does not wait for the outstanding request's 60 s time-out; 10 s is slack for load
        assertTrue(ms < 10_000, "close took " + ms + " ms");
        awaitCondition(() -> threadsNamed("-" + A).isEmpty(), 10_000, "transport threads of a gone: " + threadsNamed("-" + A));
        a.transport.publish(Harness.keepAlive(A, 1)); // after close: ignored, no exception
        a.transport.close(); // idempotent
    }

    /**
     * An idle transport must not spin. Deterministic part: the I/O thread's poll returns about once
     * per frame, not thousands of times a second (a stale-readiness bug once made it spin under
     * traffic), and not at all in a silent second. Measured part, printed only: CPU of every thread
     * but the test's, with no traffic and with keep-alives every 100 ms.
     */
    @Test
    void idleTransportsDoNotSpin() throws Exception {
        h = new Harness(A, B, C);
        List<Harness.Node> nodes = List.of(h.start(A), h.start(B), h.start(C));
        for (Harness.Node from : nodes) for (Harness.Node to : nodes) if (from != to) awaitKeepAlive(from, to, 5_000);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();

        long rounds0 = nodes.get(0).transport.pollRounds();
        Map<Long, Long> before = cpuOfOtherThreads(mx, me);
        long t0 = System.nanoTime();
        Thread.sleep(1_000); // silence is the thing measured
        double silentPct = cpuPercent(before, cpuOfOtherThreads(mx, me), System.nanoTime() - t0) / nodes.size();
        long silentRounds = nodes.get(0).transport.pollRounds() - rounds0;

        rounds0 = nodes.get(0).transport.pollRounds();
        before = cpuOfOtherThreads(mx, me);
        t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            for (Harness.Node n : nodes) n.transport.publish(Harness.keepAlive(n.id, 1));
            Thread.sleep(100); // the heartbeat itself, not a wait for a result
        }
        double busyPct = cpuPercent(before, cpuOfOtherThreads(mx, me), System.nanoTime() - t0) / nodes.size();
        long busyRounds = nodes.get(0).transport.pollRounds() - rounds0;
        System.out.printf("transport CPU per node: %.3f %% of a core silent, %.3f %% with 3 nodes' keep-alives every 100 ms;"
                + " poll rounds of node-a: %d silent, %d for 20 sends and 40 receipts%n", silentPct, busyPct, silentRounds, busyRounds);

        assertTrue(silentRounds <= 2, "the loop woke " + silentRounds + " times in a silent second");
        assertTrue(busyRounds <= 3 * 60, "the loop woke " + busyRounds + " times for 60 frames");
        // The CPU figures are printed, not asserted: on a shared 2-core CI host another JVM's load
        // moves them (a silent run once measured 0.59 %). The wake-up counts above are what proves
        // the loop does not spin; `make bench` reports idle CPU per agent with its numbers.
    }

    private static double cpuPercent(Map<Long, Long> before, Map<Long, Long> after, long wallNanos) {
        long cpu = 0;
        for (Map.Entry<Long, Long> e : after.entrySet()) cpu += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        return 100.0 * cpu / wallNanos;
    }

    private static Map<Long, Long> cpuOfOtherThreads(ThreadMXBean mx, long except) {
        Map<Long, Long> m = new java.util.HashMap<>();
        for (long id : mx.getAllThreadIds()) {
            if (id == except) continue;
            long t = mx.getThreadCpuTime(id);
            if (t > 0) m.put(id, t);
        }
        return m;
    }

    private static Set<String> threadsNamed(String suffix) {
        Set<String> names = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("quorumd-") && t.getName().endsWith(suffix)) names.add(t.getName());
        }
        return names;
    }

    @Test
    void callerMistakesAreRefusedAtTheCall() {
        h = new Harness(A, B);
        Harness.Node a = h.start(A);
        assertThrows(IllegalArgumentException.class, () -> a.transport.request(B, Harness.keepAlive(A, 1), 1_000_000));
        assertThrows(IllegalArgumentException.class, () -> a.transport.request(B, voteRequest(A, 1), 0));
        assertThrows(IllegalArgumentException.class, () -> a.transport.respond(B, voteRequest(A, 1)));
        // an unencodable request fails through the sink, like any other failed request
        a.transport.request(B, new Message.VoteRequest(A, -1, 0, 8, false, 0, 0, 0, null), 1_000_000_000L);
        Event.RequestFailed f = (Event.RequestFailed) a.await(failed(B, 8), 2_000, "unencodable request");
        assertTrue(f.reason().contains("term: negative"), f.reason());
        a.transport.request("node-x", voteRequest(A, 9), 1_000_000_000L);
        a.await(failed("node-x", 9), 2_000, "request to an unknown peer");
        assertInstanceOf(DecodeFailure.class, h.codec().decode(new byte[] {1}));
    }

    @SuppressWarnings("unused")
    private static List<String> names(List<Harness.Node> nodes) {
        List<String> l = new ArrayList<>();
        for (Harness.Node n : nodes) l.add(n.id);
        return l;
    }
}

package io.quorumd.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlClientTest {
    @TempDir Path dir;

    @Test
    void missingAgentIsExitThree() {
        Path s = dir.resolve("control.sock");
        assertEquals(new Reply(3, "quorumd: no agent answers on " + s + " (is quorumd running?)\n"),
                ControlClient.call(s, "status", Duration.ofSeconds(1)));
    }

    @Test
    void staleSocketIsExitThree() throws Exception {
        Path s = dir.resolve("control.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(s));
        dead.close();
        assertEquals(new Reply(3, "quorumd: no agent answers on " + s + " (is quorumd running?)\n"),
                ControlClient.call(s, "status", Duration.ofSeconds(1)));
    }

    @Test
    void anAgentThatNeverAnswersIsExitThreeAfterTheTimeout() throws Exception {
        Path s = dir.resolve("control.sock");
        try (ServerSocketChannel stuck = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            stuck.bind(UnixDomainSocketAddress.of(s));   // listens (the kernel accepts), never reads: a SIGSTOPped agent
            long t0 = System.nanoTime();
            Reply r = ControlClient.call(s, "status", Duration.ofMillis(400));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(new Reply(3, "quorumd: the agent on " + s + " did not answer within 400 ms (is it stopped or overloaded?)\n"), r);
            // gives up at its time-out, not before; the upper bound is slack for a loaded machine
            assertTrue(ms >= 400 && ms < 400 + 5000, ms + " ms");
        }
    }

    @Test
    void aFullBacklogIsWaitedOutNotReportedAtOnce() throws Exception {
        Path s = dir.resolve("control.sock");
        List<SocketChannel> queued = new ArrayList<>();
        try (ServerSocketChannel stuck = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            stuck.bind(UnixDomainSocketAddress.of(s), 1);   // a stopped agent: nothing is ever accepted
            while (true) {   // fill the backlog until the kernel says EAGAIN
                SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.configureBlocking(false);
                try {
                    c.connect(UnixDomainSocketAddress.of(s));
                    queued.add(c);
                } catch (java.io.IOException full) {
                    c.close();
                    break;
                }
                assertTrue(queued.size() < 1000, "the backlog never filled");
            }
            long t0 = System.nanoTime();
            Reply r = ControlClient.call(s, "status", Duration.ofMillis(300));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(new Reply(3, "quorumd: the agent on " + s + " did not answer within 300 ms (is it stopped or overloaded?)\n"), r);
            assertTrue(ms >= 300, "gave up after " + ms + " ms, before its time-out");
            // once the agent accepts again, a waiting client gets in
            CompletableFuture<Reply> late = CompletableFuture.supplyAsync(() -> ControlClient.call(s, "status", Duration.ofSeconds(5)));
            for (SocketChannel c : queued) c.close();
            queued.clear();
            SocketChannel served = null;
            while (served == null) {   // drain what was queued; the last one in is the late client
                SocketChannel a = stuck.accept();
                ByteBuffer req = ByteBuffer.allocate(64);
                a.configureBlocking(true);
                if (a.read(req) > 0) served = a;
                else a.close();
            }
            served.write(ByteBuffer.wrap((ControlServer.REPLY_HEADER + "0\nok\n").getBytes(StandardCharsets.UTF_8)));
            served.close();
            assertEquals(new Reply(0, "ok\n"), late.get(5, TimeUnit.SECONDS));
        } finally {
            for (SocketChannel c : queued) c.close();
        }
    }

    @Test
    void aClosedConnectionOrAStrangerIsNotAnAnswer() throws Exception {
        Path s = dir.resolve("control.sock");
        try (ServerSocketChannel srv = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            srv.bind(UnixDomainSocketAddress.of(s));
            CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> serveOnce(srv, null));
            assertEquals(new Reply(3, "quorumd: the agent on " + s + " closed the connection without an answer (is it shutting down?)\n"),
                    ControlClient.call(s, "status", Duration.ofSeconds(5)));
            peer.get(5, TimeUnit.SECONDS);
            peer = CompletableFuture.runAsync(() -> serveOnce(srv, "HTTP/1.0 400 Bad Request\r\n\r\n"));
            Reply r = ControlClient.call(s, "status", Duration.ofSeconds(5));
            assertEquals(1, r.exitCode());
            assertTrue(r.body().startsWith("quorumd: unexpected answer on " + s), r.body());
            peer.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void requestsAreOneLine() {
        assertThrows(IllegalArgumentException.class, () -> ControlClient.call(dir.resolve("x"), "status\nleader", Duration.ofSeconds(1)));
    }

    private static void serveOnce(ServerSocketChannel srv, String answer) {
        try (SocketChannel c = srv.accept()) {
            ByteBuffer b = ByteBuffer.allocate(100);
            while (b.position() == 0 || b.get(b.position() - 1) != '\n') c.read(b);
            if (answer != null) c.write(ByteBuffer.wrap(answer.getBytes(StandardCharsets.UTF_8)));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

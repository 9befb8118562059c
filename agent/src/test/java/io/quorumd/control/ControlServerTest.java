package io.quorumd.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlServerTest {
    static final Duration T = Duration.ofSeconds(5);

    @TempDir Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    /** The agent's side, as a test double of the agent (not of the server): a snapshot and a queue. */
    static final class Agent implements ControlHandler {
        volatile Status status = StatusTest.master();
        final LinkedBlockingQueue<String> stepDowns = new LinkedBlockingQueue<>();
        volatile CompletableFuture<Reply> stepDownResult = CompletableFuture.completedFuture(Reply.ok("handed over to node-b"));

        @Override public Status status() { return status; }

        @Override public CompletionStage<Reply> stepDown(String to) {
            stepDowns.add(String.valueOf(to));
            return stepDownResult;
        }
    }

    private final Agent agent = new Agent();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : toClose) c.close();
        pool.shutdownNow();
    }

    private Path sock() {
        return dir.resolve("run/quorumd/control.sock");
    }

    private ControlServer start(Path socket, Duration stepDownTimeout) throws Exception {
        ControlServer s = ControlServer.start(socket, "no-such-group-for-quorumd-tests", stepDownTimeout, agent);
        toClose.add(s);
        return s;
    }

    @Test
    void answersEveryRequest() throws Exception {
        start(sock(), T);
        Reply r = ControlClient.call(sock(), "status", T);
        assertEquals(new Reply(0, StatusTest.master().toTable()), r);
        r = ControlClient.call(sock(), "status-json", T);
        assertEquals(0, r.exitCode());
        assertTrue(r.body().endsWith("}\n"));
        assertEquals(StatusTest.master(), Status.fromJson(r.body()));
        assertEquals(new Reply(0, "node-a\n"), ControlClient.call(sock(), "leader", T));
        assertEquals(new Reply(0, "pong " + ProcessHandle.current().pid() + "\n"), ControlClient.call(sock(), "ping", T));

        assertEquals(new Reply(0, "handed over to node-b\n"), ControlClient.call(sock(), "step-down node-b", T));
        assertEquals("node-b", agent.stepDowns.poll());
        ControlClient.call(sock(), "step-down", T);
        assertEquals("null", agent.stepDowns.poll(), "no NODE: the cluster picks");

        agent.status = StatusTest.follower();
        assertEquals(new Reply(3, "quorumd: no master is known to node-b (follower in term 3)\n"),
                ControlClient.call(sock(), "leader", T));
    }

    @Test
    void badRequestsGetExitTwo() throws Exception {
        start(sock(), T);
        assertEquals(new Reply(2, "quorumd: unknown control request 'reboot' (expected status, status-json, leader, "
                + "step-down [NODE] or ping)\n"), ControlClient.call(sock(), "reboot", T));
        assertEquals(2, ControlClient.call(sock(), "", T).exitCode());
        assertEquals(new Reply(2, "quorumd: wrong arguments for control request 'step-down a b'\n"),
                ControlClient.call(sock(), "step-down a b", T));
        assertEquals(2, ControlClient.call(sock(), "status now", T).exitCode());
        assertEquals(new Reply(2, "quorumd: control request longer than 1024 bytes\n"),
                ControlClient.call(sock(), "x".repeat(5000), T));
        assertTrue(agent.stepDowns.isEmpty());
        assertEquals(0, ControlClient.call(sock(), "ping", T).exitCode(), "still serving");
    }

    @Test
    void socketIsMode0660InACreatedDirectoryAndRemovedOnClose() throws Exception {
        ControlServer s = start(sock(), T);
        assertTrue(ControlServer.isSocket(sock()));
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock(), LinkOption.NOFOLLOW_LINKS)));
        s.close();
        assertFalse(Files.exists(sock(), LinkOption.NOFOLLOW_LINKS));
        assertEquals(3, ControlClient.call(sock(), "status", T).exitCode());
    }

    @Test
    void socketGoesToTheGroupWhenItExists() throws Exception {
        GroupPrincipal daemon;
        try {
            daemon = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName("daemon");
        } catch (UserPrincipalNotFoundException e) {
            Assumptions.abort("no group 'daemon' on this host");
            return;
        }
        Assumptions.assumeTrue(ProcessHandle.current().info().user().orElse("").equals("root"), "chgrp to any group needs root");
        toClose.add(ControlServer.start(sock(), "daemon", T, agent));
        assertEquals(daemon, Files.getAttribute(sock(), "posix:group", LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void staleSocketIsReplaced() throws Exception {
        Files.createDirectories(sock().getParent());
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(sock()));
        dead.close();   // as after a SIGKILL: the file stays, nobody listens
        assertTrue(ControlServer.isSocket(sock()));
        assertEquals(3, ControlClient.call(sock(), "ping", T).exitCode());
        start(sock(), T);
        assertEquals(0, ControlClient.call(sock(), "ping", T).exitCode());
    }

    @Test
    void aSecondServerRefusesWhileTheFirstAnswers() throws Exception {
        start(sock(), T);
        ControlSocketException e = assertThrows(ControlSocketException.class, () -> start(sock(), T));
        assertEquals("quorumd: another quorumd agent (pid " + ProcessHandle.current().pid() + ") answers on " + sock()
                + ". Stop it first, or give this agent another control_socket.", e.getMessage());
        assertEquals(0, ControlClient.call(sock(), "ping", T).exitCode(), "the first one is untouched");
    }

    @Test
    void aFileThatIsNotASocketIsLeftAlone() throws Exception {
        Files.createDirectories(sock().getParent());
        Files.writeString(sock(), "precious");
        ControlSocketException e = assertThrows(ControlSocketException.class, () -> start(sock(), T));
        assertTrue(e.getMessage().contains(sock() + " exists and is not a socket; refusing to replace it"), e.getMessage());
        assertEquals("precious", Files.readString(sock()));
    }

    @Test
    void aSlowStepDownDoesNotHoldUpOtherRequests() throws Exception {
        start(sock(), T);
        agent.stepDownResult = new CompletableFuture<>();
        Future<Reply> stepDown = pool.submit(() -> ControlClient.call(sock(), "step-down", T));
        assertEquals("null", agent.stepDowns.poll(5, TimeUnit.SECONDS));
        for (int i = 0; i < 3; i++) assertEquals(0, ControlClient.call(sock(), "status-json", T).exitCode());
        assertFalse(stepDown.isDone());
        CompletableFuture.runAsync(() -> agent.stepDownResult.complete(Reply.error(1, "quorumd: node-c did not take over")));
        assertEquals(new Reply(1, "quorumd: node-c did not take over\n"), stepDown.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aStepDownThatNeverEndsTimesOut() throws Exception {
        start(sock(), Duration.ofMillis(300));
        agent.stepDownResult = new CompletableFuture<>();
        long t0 = System.nanoTime();
        Reply r = ControlClient.call(sock(), "step-down node-c", T);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(new Reply(1, "quorumd: the agent did not finish 'step-down node-c' within 300 ms; see its log\n"), r);
        assertTrue(ms >= 300 && ms < 3000, ms + " ms");
    }

    @Test
    void aSilentClientDoesNotBlockTheServer() throws Exception {
        start(sock(), T);
        try (SocketChannel silent = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.connect(UnixDomainSocketAddress.of(sock()));
            silent.write(ByteBuffer.wrap("sta".getBytes(StandardCharsets.UTF_8)));   // half a request, then nothing
            long t0 = System.nanoTime();
            assertEquals(0, ControlClient.call(sock(), "status", T).exitCode());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1));
        }
    }

    @Test
    void tooManyConnectionsAreTurnedAwayNotQueuedForever() throws Exception {
        start(sock(), T);
        List<SocketChannel> idle = new ArrayList<>();
        try {
            for (int i = 0; i < ControlServer.MAX_CONNECTIONS; i++) {
                SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.connect(UnixDomainSocketAddress.of(sock()));
                idle.add(c);
            }
            Reply r = ControlClient.call(sock(), "status", T);
            assertEquals(new Reply(3, "quorumd: the agent is busy (32 control connections open); try again\n"), r);
        } finally {
            for (SocketChannel c : idle) c.close();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Reply r;
        do {
            r = ControlClient.call(sock(), "status", T);
        } while (r.exitCode() != 0 && System.nanoTime() < deadline);
        assertEquals(0, r.exitCode(), "serves again once the idle ones are gone: " + r);
    }

    @Test
    void handlerFailureIsAnAnswerNotASilence() throws Exception {
        agent.status = null;
        start(sock(), T);
        Reply r = ControlClient.call(sock(), "status", T);
        assertEquals(1, r.exitCode());
        assertTrue(r.body().startsWith("quorumd: the agent failed to answer 'status': java.lang.NullPointerException"), r.body());
        agent.status = StatusTest.master();
        assertEquals(0, ControlClient.call(sock(), "status", T).exitCode());
    }
}

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

        final LinkedBlockingQueue<String> execGuards = new LinkedBlockingQueue<>();

        @Override public Reply execTerm() { return Reply.ok("term=7 master=node-a"); }

        @Override public CompletionStage<Reply> execGuard(int pgid, long term, long callerPid) {
            execGuards.add(pgid + " " + term);
            return CompletableFuture.completedFuture(Reply.error(Reply.FAILURE, "quorumd exec: the stub guards nothing"));
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
                + "step-down [NODE], ping, exec-term, exec-guard PGID TERM or exec-end PGID)\n"), ControlClient.call(sock(), "reboot", T));
        assertEquals(2, ControlClient.call(sock(), "", T).exitCode());
        assertEquals(new Reply(2, "quorumd: wrong arguments for control request 'step-down a b'\n"),
                ControlClient.call(sock(), "step-down a b", T));
        assertEquals(2, ControlClient.call(sock(), "status now", T).exitCode());
        assertEquals(new Reply(2, "quorumd: control request longer than " + ControlServer.MAX_REQUEST_BYTES + " bytes\n"),
                ControlClient.call(sock(), "x".repeat(ControlServer.MAX_REQUEST_BYTES + 100), T));
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
        // the reply above is the agent's own time-out (the client's is 5 s): only "not before it" is timing
        assertTrue(ms >= 300, ms + " ms");
    }

    @Test
    void aSilentClientDoesNotBlockTheServer() throws Exception {
        start(sock(), T);
        try (SocketChannel silent = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.connect(UnixDomainSocketAddress.of(sock()));
            silent.write(ByteBuffer.wrap("sta".getBytes(StandardCharsets.UTF_8)));   // half a request, then nothing
            // answered at all, within the client's time-out T: a server blocked by the silent client would not
            assertEquals(0, ControlClient.call(sock(), "status", T).exitCode());
        }
    }

    private SocketChannel connectIdle() throws Exception {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        c.connect(UnixDomainSocketAddress.of(sock()));
        return c;
    }

    /** True once the server has closed {@code c} (EOF), false if it is still open after {@code ms}. */
    private static boolean closedByServer(SocketChannel c, long ms) throws Exception {
        c.configureBlocking(false);
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        ByteBuffer b = ByteBuffer.allocate(256);
        do {
            b.clear();
            if (c.read(b) < 0) return true;
            Thread.sleep(5);
        } while (System.nanoTime() < end);
        return false;
    }

    /** Once, 32 idle connections made every new client hear "the agent is busy" for 5 s. */
    @Test
    void idleConnectionsNeverLockOutANewClient() throws Exception {
        start(sock(), T);
        List<SocketChannel> idle = new ArrayList<>();
        try {
            for (int i = 0; i < ControlServer.MAX_CONNECTIONS; i++) idle.add(connectIdle());
            for (int round = 0; round < 100; round++) {
                long t0 = System.nanoTime();
                Reply r = ControlClient.call(sock(), "status", T);
                assertEquals(new Reply(0, StatusTest.master().toTable()), r, "round " + round);
                // the lock-out this guards against lasted 5 s; 3 s leaves slack for a loaded machine
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(3), "served at once, round " + round);
                idle.add(connectIdle());   // the pressure goes on
            }
            assertTrue(closedByServer(idle.get(0), 2000), "the oldest idle connection was closed");
            assertTrue(closedByServer(idle.get(99), 2000), "and the next oldest ones");
            assertFalse(closedByServer(idle.get(idle.size() - 1), 100), "the newest is still open");
        } finally {
            for (SocketChannel c : idle) c.close();
        }
    }

    @Test
    void requestsInProgressAreKeptAndOnlyThemMakeTheAgentBusy() throws Exception {
        CompletableFuture<Reply> pending = new CompletableFuture<>();
        agent.stepDownResult = pending;
        start(sock(), Duration.ofSeconds(30));
        List<SocketChannel> conns = new ArrayList<>();
        try {
            SocketChannel idleOne = connectIdle();   // the oldest, and idle
            conns.add(idleOne);
            for (int i = 1; i < ControlServer.MAX_CONNECTIONS; i++) {
                SocketChannel c = connectIdle();
                c.write(ByteBuffer.wrap("step-down\n".getBytes(StandardCharsets.UTF_8)));
                conns.add(c);
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (agent.stepDowns.size() < ControlServer.MAX_CONNECTIONS - 1 && System.nanoTime() < end) Thread.sleep(5);
            assertEquals(ControlServer.MAX_CONNECTIONS - 1, agent.stepDowns.size());
            // MAX - 1 step-downs in progress and one idle connection: the idle one makes room
            assertEquals(0, ControlClient.call(sock(), "status", T).exitCode());
            assertTrue(closedByServer(idleOne, 2000));
            // all MAX in progress: now, and only now, the agent is busy
            SocketChannel c = connectIdle();
            c.write(ByteBuffer.wrap("step-down\n".getBytes(StandardCharsets.UTF_8)));
            conns.add(c);
            end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (agent.stepDowns.size() < ControlServer.MAX_CONNECTIONS && System.nanoTime() < end) Thread.sleep(5);
            assertEquals(new Reply(3, "quorumd: the agent is busy (" + ControlServer.MAX_CONNECTIONS
                            + " control connections open); try again\n"),
                    ControlClient.call(sock(), "status", T));
            pending.complete(Reply.ok("handed over"));
            for (SocketChannel s : conns.subList(1, conns.size())) assertTrue(closedByServer(s, 2000), "answered and closed");
            assertEquals(0, ControlClient.call(sock(), "status", T).exitCode());
        } finally {
            for (SocketChannel c : conns) c.close();
        }
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

    /** One raw exchange, as socat or any client would do it: a line out, everything until the close back. */
    private String raw(String line) throws Exception {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(sock()));
            c.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(4096);
            try {
                while (c.read(b) >= 0) {
                    got.write(b.array(), 0, b.position());
                    b.clear();
                }
            } catch (java.io.IOException e) {
                // a request too long for the server is answered and closed with its tail unread: a reset
                if (got.size() == 0) throw e;
            }
            return got.toString(StandardCharsets.UTF_8);
        }
    }

    @SuppressWarnings("unchecked")
    private static java.util.Map<String, Object> object(String line) {
        assertTrue(line.endsWith("}\n") && line.indexOf('\n') == line.length() - 1, "one JSON line: " + line);
        return (java.util.Map<String, Object>) Json.parse(line);
    }

    /** The protocol the README documents: one JSON object per line each way, the id echoed. */
    @Test
    void jsonRequestsGetOneJsonLineBack() throws Exception {
        start(sock(), T);
        assertEquals("{\"id\":7,\"exit\":0,\"result\":\"node-a\"}\n", raw("{\"op\":\"leader\",\"id\":7}"));
        assertEquals("{\"id\":\"a-1\",\"exit\":0,\"result\":\"pong " + ProcessHandle.current().pid() + "\"}\n",
                raw(" {\"id\":\"a-1\", \"op\": \"ping\"}"));
        java.util.Map<String, Object> st = object(raw("{\"op\":\"status\"}"));
        assertEquals(0L, st.get("exit"));
        assertEquals(StatusTest.master(), Status.fromJson(Json.write(st.get("result"))), "the status as an object: " + st);

        assertEquals("{\"exit\":0,\"result\":\"handed over to node-b\"}\n", raw("{\"op\":\"step-down\",\"to\":\"node-b\"}"));
        assertEquals("node-b", agent.stepDowns.poll());
        raw("{\"op\":\"step-down\"}");
        assertEquals("null", agent.stepDowns.poll(), "no \"to\": the cluster picks");
        assertEquals(1L, object(raw("{\"op\":\"exec-guard\",\"pgid\":4242,\"term\":9}")).get("exit"));
        assertEquals("4242 9", agent.execGuards.poll(), "the fields reach the handler");

        agent.status = StatusTest.follower();
        assertEquals("{\"exit\":3,\"error\":\"quorumd: no master is known to node-b (follower in term 3)\"}\n",
                raw("{\"op\":\"leader\"}"));
        // the client the CLI uses speaks the same protocol
        assertEquals(new Reply(3, "quorumd: no master is known to node-b (follower in term 3)\n"),
                ControlClient.request(sock(), "leader", T));
        assertEquals(StatusTest.follower(), Status.fromJson(ControlClient.request(sock(), "status", T).body()));
    }

    @Test
    void badJsonRequestsGetExitTwoInJson() throws Exception {
        start(sock(), T);
        String[][] cases = {
                {"{\"op\":", "not valid JSON"},
                {"{\"op\":\"leader\"} x", "not valid JSON"},
                {"{}", "has no \"op\" string"},
                {"{\"op\":7}", "has no \"op\" string"},
                {"{\"op\":\"reboot\"}", "unknown control op 'reboot' (expected one of [exec-end, exec-guard, exec-term, kv.delete, kv.get, kv.list, kv.put, kv.watch, leader, ping, status, step-down])"},
                {"{\"op\":\"status\",\"verbose\":true}", "op 'status' takes no field 'verbose'"},
                {"{\"op\":\"step-down\",\"to\":\"a b\"}", "\"to\" must be a node id"},
                {"{\"op\":\"step-down\",\"to\":5}", "\"to\" must be a node id"},
                {"{\"op\":\"exec-guard\",\"pgid\":0,\"term\":1}", "needs \"pgid\""},
                {"{\"op\":\"exec-guard\",\"pgid\":12,\"term\":-1}", "needs \"term\""},
                {"{\"op\":\"exec-end\",\"pgid\":\"12\"}", "needs \"pgid\""},
                {"{\"op\":\"ping\",\"id\":[1]}", "\"id\" must be a string or an integer"},
                {"{\"op\":\"ping\",\"pad\":\"" + "x".repeat(ControlServer.MAX_REQUEST_BYTES) + "\"}",
                        "control request longer than " + ControlServer.MAX_REQUEST_BYTES + " bytes"},
        };
        for (String[] c : cases) {
            java.util.Map<String, Object> a = object(raw(c[0]));
            assertEquals(2L, a.get("exit"), c[0] + " -> " + a);
            assertTrue(String.valueOf(a.get("error")).contains(c[1]), c[0] + " -> " + a);
        }
        assertTrue(agent.stepDowns.isEmpty() && agent.execGuards.isEmpty(), "no bad request reached the agent");
        // the older word protocol still works, for an earlier version's CLI during an upgrade
        assertEquals("quorumd/1 0\nnode-a\n", raw("leader"));
    }
}

package io.quorumd.control;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's end of the control socket.
 *
 * <p>Protocol (SPEC "Access", the README's "Control socket protocol"): the client connects and
 * sends one UTF-8 line of at most {@value #MAX_REQUEST_BYTES} bytes, a JSON object such as {@code {"op":"leader"}}; the
 * server answers one JSON line, {@code {"exit":0,"result":...}} or {@code {"exit":N,"error":"..."}}
 * (the exit status the CLI ends with), and closes the connection. See {@link #JSON_OPS}. A line
 * that does not start with '{' is the older word protocol, kept for the CLI of an earlier version
 * during an upgrade: the server answers {@code quorumd/1 <exit status>\n} followed by the body.
 * Requests: {@code status} (the table), {@code status-json}, {@code leader} (the master's id, or
 * exit 3), {@code step-down [NODE]}, {@code ping} ({@code pong <pid>}); for {@code quorumd exec}:
 * {@code exec-term}, {@code exec-guard PGID TERM}, {@code exec-end PGID} (see {@link ControlHandler}).
 * Anything else: exit 2. The replicated store's ops ({@code kv.get}, {@code kv.put}, {@code kv.delete},
 * {@code kv.list}, {@code kv.watch}) exist in JSON only (see {@link KvOps}); a {@code kv.watch} keeps its
 * connection open and streams one line per change until the client closes it.
 *
 * <p>Anyone who can connect may read; a request that changes state ({@code step-down}, {@code
 * exec-guard}, {@code exec-end}) is taken
 * only from uid 0, the agent's own uid or a member of the socket's group (see
 * {@link ControlAccess}), as the kernel names the peer ({@code SO_PEERCRED}, read on accept), and
 * is logged with the caller's uid and pid. Others get exit 1 and "permission denied".
 *
 * <p>One thread ({@code quorumd-control}) runs a selector over non-blocking channels: a client that
 * connects and says nothing, or never reads its reply, is dropped after 5 s and never holds up
 * another. At most {@value #MAX_CONNECTIONS} connections are open; under that pressure a new
 * client takes the place of the oldest idle one (connected without a whole request yet, or not
 * reading its reply), so idle connections cannot lock anyone out: only requests the agent is
 * still working on (a step-down) are kept, and a client finds the agent busy only when all
 * {@value #MAX_CONNECTIONS} are such. The handler is called on that thread and must not block
 * (see {@link ControlHandler}).
 */
public final class ControlServer implements AutoCloseable {
    public static final Path DEFAULT_SOCKET = Path.of("/run/quorumd/control.sock");
    public static final String DEFAULT_GROUP = "quorumd";
    public static final Duration DEFAULT_STEP_DOWN_TIMEOUT = Duration.ofSeconds(30);
    static final String REPLY_HEADER = "quorumd/1 ";
    /**
     * A request line's bound: a {@code kv.put} of a 32 KiB value as base64 (43,692 bytes) with a
     * 512-byte key escaped and the other fields fits with room to spare. A connection's buffer
     * starts at {@value #INITIAL_REQUEST_BYTES} and grows (doubling) only as a longer request
     * arrives, so the many small requests of a busy store cost little.
     */
    static final int MAX_REQUEST_BYTES = 64 * 1024 + 4 * 1024;
    static final int INITIAL_REQUEST_BYTES = 2048;
    /** At most this many {@code kv.watch} connections at once (they are never evicted as idle). */
    static final int MAX_WATCHES = 16;
    /** What a watcher may leave unread before it is dropped with an error line. */
    public static final int MAX_WATCH_BUFFER_BYTES = 1 << 20;
    /** Enough for SPEC's 64 concurrent store clients with room for status and step-down callers. */
    static final int MAX_CONNECTIONS = 256;
    /** Requests that change the agent's state: only for {@link ControlAccess}'s callers. */
    static final Set<String> STATE_CHANGING = Set.of("step-down", "exec-guard", "exec-end", "kv.put", "kv.delete");
    /**
     * The JSON requests and their fields: {@code {"op":"status"}} (result: the status object, as
     * {@code quorumd status --json} prints it), {@code {"op":"leader"}}, {@code {"op":"ping"}},
     * {@code {"op":"step-down"[,"to":NODE]}}, {@code {"op":"exec-term"}}, {@code
     * {"op":"exec-guard","pgid":P,"term":T}}, {@code {"op":"exec-end","pgid":P}}; every request
     * may carry an {@code "id"} (a string or a number), echoed in the answer.
     */
    static final java.util.Map<String, Set<String>> JSON_OPS = jsonOps();

    private static java.util.Map<String, Set<String>> jsonOps() {
        java.util.Map<String, Set<String>> m = new java.util.HashMap<>(java.util.Map.of(
                "status", Set.of(), "leader", Set.of(), "ping", Set.of(), "step-down", Set.of("to"),
                "exec-term", Set.of(), "exec-guard", Set.of("pgid", "term"), "exec-end", Set.of("pgid")));
        m.putAll(KvOps.OPS);   // kv.get, kv.put, kv.delete, kv.list, kv.watch: see KvOps
        return java.util.Map.copyOf(m);
    }
    private static final long IO_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long EVICTION_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);

    private final Path socket;
    private final ControlHandler handler;
    private final ControlAccess access;
    private final long stepDownTimeoutNanos;
    private final ServerSocketChannel server;
    private final Object fileKey;
    private final Selector selector;
    private final Thread thread;
    private final Set<Conn> conns = new HashSet<>();   // only touched by the server thread
    private long evicted;                                // idle connections closed under pressure (server thread)
    private long lastEvictionLogNanos;
    private final ConcurrentLinkedQueue<Runnable> fromOtherThreads = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    private ControlServer(Path socket, ControlHandler handler, ControlAccess access, long stepDownTimeoutNanos,
                          ServerSocketChannel server, Object fileKey, Selector selector) {
        this.socket = socket;
        this.handler = handler;
        this.access = access;
        this.stepDownTimeoutNanos = stepDownTimeoutNanos;
        this.server = server;
        this.fileKey = fileKey;
        this.selector = selector;
        this.thread = new Thread(this::run, "quorumd-control");
        thread.setDaemon(true);
    }

    /** {@link #start(Path, String, Duration, ControlHandler)} with group {@code quorumd} and a 30 s step-down timeout. */
    public static ControlServer start(Path socket, ControlHandler handler) throws ControlSocketException {
        return start(socket, DEFAULT_GROUP, DEFAULT_STEP_DOWN_TIMEOUT, handler);
    }

    /**
     * Binds {@code socket} and starts serving. Creates the parent directory if missing; replaces a
     * stale socket file that nobody answers on; sets mode 0660 and, if the group exists, gives the
     * socket to {@code group}.
     *
     * @throws ControlSocketException another agent answers on {@code socket}, the path is taken by
     *                                something that is not a socket, or it cannot be bound
     */
    public static ControlServer start(Path socket, String group, Duration stepDownTimeout, ControlHandler handler)
            throws ControlSocketException {
        Objects.requireNonNull(handler, "handler");
        Path parent = socket.toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new ControlSocketException("quorumd: cannot create " + parent + " for the control socket " + socket
                    + ": " + reason(e) + ". Create it for the agent's user, or set control_socket to another path.", e);
        }
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) removeStale(socket);
        ServerSocketChannel server = null;
        Selector selector = null;
        try {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket), 16);
            server.configureBlocking(false);
            // connecting needs write permission on the socket: 0660 lets the group in, no one else
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
            giveToGroup(socket, group);
            Object key = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            ControlAccess access = ControlAccess.forThisProcess(group);
            if (!PeerCredentials.exact())
                log.warn("control socket: peers are known by user and primary group name only (the JVM lacks "
                        + "--add-exports java.base/sun.nio.ch=ALL-UNNAMED, which the quorumd launcher passes)");
            ControlServer s = new ControlServer(socket, handler, access, stepDownTimeout.toNanos(), server, key, selector);
            s.thread.start();
            log.info("control socket {} is ready", socket);
            return s;
        } catch (IOException e) {
            closeQuietly(server);
            closeQuietly(selector);
            throw new ControlSocketException("quorumd: cannot listen on control socket " + socket + ": " + reason(e)
                    + ". Check the path (at most 107 bytes) and that the agent's user may write " + parent + ".", e);
        }
    }

    public Path socket() {
        return socket;
    }

    /** The server thread (for the agent's watch over its threads). */
    public Thread thread() {
        return thread;
    }

    /** Runs {@code task} on the server thread soon; returns at once. */
    public void runOnThread(Runnable task) {
        fromOtherThreads.add(task);
        selector.wakeup();
    }

    /** Stops serving and removes the socket file (if it is still ours). Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        selector.wakeup();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(server);
        try {
            Object now = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (Objects.equals(now, fileKey)) Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // gone already, or replaced by another agent's socket: leave it alone
        }
    }

    private static void removeStale(Path socket) throws ControlSocketException {
        if (!isSocket(socket))
            throw new ControlSocketException("quorumd: " + socket + " exists and is not a socket; refusing to replace it. "
                    + "Remove it, or set control_socket to another path.");
        try {
            Reply r = ControlClient.exchange(socket, "ping", Duration.ofSeconds(1));
            String body = r.body().trim();
            String who = body.matches("pong [0-9]+") ? " (pid " + body.substring(5) + ")" : "";
            throw new ControlSocketException("quorumd: another quorumd agent" + who + " answers on " + socket
                    + ". Stop it first, or give this agent another control_socket.");
        } catch (ControlClient.Unreachable e) {
            if (e.kind != ControlClient.Kind.NOBODY)
                throw new ControlSocketException("quorumd: something listens on " + socket + " but does not answer "
                        + "like an idle agent (" + e.getMessage() + "). Stop it first, or give this agent another "
                        + "control_socket.");
        }
        try {
            Files.deleteIfExists(socket);
            log.info("removed stale control socket {} (nobody answered on it)", socket);
        } catch (IOException e) {
            throw new ControlSocketException("quorumd: cannot remove stale control socket " + socket + ": " + reason(e) + ".", e);
        }
    }

    static boolean isSocket(Path p) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == 0140000;   // S_IFMT, S_IFSOCK
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    private static void giveToGroup(Path socket, String group) {
        if (group == null) return;
        GroupPrincipal g;
        try {
            g = socket.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        } catch (UserPrincipalNotFoundException e) {
            log.debug("no group {}: control socket {} keeps the agent's group", group, socket);
            return;
        } catch (IOException e) {
            log.warn("cannot look up group {} for control socket {}: {}", group, socket, reason(e));
            return;
        }
        try {
            Files.getFileAttributeView(socket, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(g);
        } catch (IOException e) {
            log.warn("cannot give control socket {} to group {}: {}; only its owner and group can use it",
                    socket, group, reason(e));
        }
    }

    private final class Conn {
        final SocketChannel ch;
        final SelectionKey key;
        ByteBuffer in = ByteBuffer.allocate(INITIAL_REQUEST_BYTES);
        ByteBuffer out;
        final long acceptedNanos;
        String request;
        /** A JSON request: answered in JSON. */
        boolean json;
        /** The JSON answer's result is the body as JSON (status), not as a string. */
        boolean rawResult;
        /** The JSON request's "id", written back as it came (JSON text), or null. */
        String id;
        PeerCredentials peer;   // null when SO_PEERCRED failed: reads only
        boolean waiting;
        long deadlineNanos;
        /** A kv.watch: lines go out through {@link #lines} until the client closes. */
        Watch watch;
        final java.util.ArrayDeque<ByteBuffer> lines = new java.util.ArrayDeque<>();
        boolean closeAfterLines;
        /**
         * The client shut down its sending side (socat after its stdin ends, {@code shutdown(SHUT_WR)}):
         * a watch goes on streaming; only a failed write ends it.
         */
        boolean inputClosed;

        Conn(SocketChannel ch, SelectionKey key, long now) {
            this.ch = ch;
            this.key = key;
            this.acceptedNanos = now;
            this.deadlineNanos = now + IO_TIMEOUT_NANOS;
        }

        /** Waiting for the client: for its request, or for it to read its reply. */
        boolean idle() {
            return !waiting && watch == null;
        }
    }

    /** A watch's stream: called from any thread, it hands each line to the server thread. */
    private final class Watch implements WatchStream {
        final Conn c;
        final java.util.concurrent.atomic.AtomicLong queued = new java.util.concurrent.atomic.AtomicLong();
        volatile boolean over;

        Watch(Conn c) {
            this.c = c;
        }

        @Override
        public String id() {
            return c.id;
        }

        @Override
        public boolean send(String line) {
            if (over) return false;
            byte[] b = line.getBytes(StandardCharsets.UTF_8);
            if (queued.addAndGet(b.length) > MAX_WATCH_BUFFER_BYTES) {
                end("{" + (c.id != null ? "\"id\":" + c.id + "," : "") + "\"exit\":1,\"error\":\"quorumd: watch "
                        + "dropped: the client left more than " + MAX_WATCH_BUFFER_BYTES + " bytes unread\"}\n", true);
                return false;
            }
            runOnThread(() -> queueLine(c, ByteBuffer.wrap(b), false, false));
            return true;
        }

        @Override
        public void end(String line) {
            end(line, false);
        }

        private void end(String line, boolean dropQueued) {
            if (over) return;
            over = true;
            runOnThread(() -> queueLine(c, ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), true, dropQueued));
        }

        @Override
        public boolean open() {
            return !over;
        }
    }

    /** On the server thread: queues a watch's line and writes what the socket takes. */
    private void queueLine(Conn c, ByteBuffer line, boolean last, boolean dropQueued) {
        if (!conns.contains(c)) return;
        if (dropQueued) c.lines.clear();
        c.lines.add(line);
        if (last) c.closeAfterLines = true;
        try {
            writeLines(c);
        } catch (IOException e) {
            drop(c, "i/o error: " + e.getMessage());
        }
    }

    private void writeLines(Conn c) throws IOException {
        while (!c.lines.isEmpty()) {
            ByteBuffer b = c.lines.peek();
            int n = c.ch.write(b);
            if (c.watch != null) c.watch.queued.addAndGet(-n);
            if (b.hasRemaining()) {
                c.key.interestOps(c.inputClosed ? SelectionKey.OP_WRITE : SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                return;
            }
            c.lines.poll();
        }
        if (c.closeAfterLines) drop(c, null);
        else c.key.interestOps(c.inputClosed ? 0 : SelectionKey.OP_READ);
    }

    private void run() {
        try {
            while (!closed) {
                selector.select(sweep(System.nanoTime()));
                Runnable r;
                while ((r = fromOtherThreads.poll()) != null) r.run();
                for (SelectionKey k : selector.selectedKeys()) {
                    try {
                        if (!k.isValid()) continue;
                        if (k.isAcceptable()) accept();
                        else if (k.attachment() instanceof Conn c && c.watch != null) watchReady(c, k);
                        else if (k.isReadable()) read((Conn) k.attachment());
                        else if (k.isWritable()) write((Conn) k.attachment());
                    } catch (IOException e) {
                        if (k.attachment() instanceof Conn c) drop(c, "i/o error: " + e.getMessage());
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) log.error("the control socket {} stopped serving: {}", socket, e.toString(), e);
        } finally {
            for (Conn c : new ArrayList<>(conns)) drop(c, null);
            closeQuietly(selector);
        }
    }

    /**
     * A watch's connection: anything the client sends is ignored; its end of input (a half-close,
     * as socat does when its stdin ends) stops the reading, not the stream; lines go out until a
     * write fails (the client closed the connection).
     */
    private void watchReady(Conn c, SelectionKey k) throws IOException {
        if (k.isReadable()) {
            c.in.clear();
            if (c.ch.read(c.in) < 0) {
                c.inputClosed = true;
                k.interestOps(c.lines.isEmpty() ? 0 : SelectionKey.OP_WRITE);
                return;
            }
            c.in.clear();
        }
        if (k.isValid() && k.isWritable()) writeLines(c);
    }

    /** Drops connections past their deadline; returns how long the selector may sleep (ms, > 0). */
    private long sweep(long now) {
        long next = now + TimeUnit.SECONDS.toNanos(1);
        for (Conn c : new ArrayList<>(conns)) {
            if (now - c.deadlineNanos >= 0) {
                if (c.waiting) {
                    answer(c, Reply.error(Reply.FAILURE, "quorumd: the agent did not finish '" + c.request + "' within "
                            + Status.duration(TimeUnit.NANOSECONDS.toMillis(stepDownTimeoutNanos)) + "; see its log"));
                } else {
                    drop(c, c.out == null ? "no request within 5 s" : "the client did not read its reply within 5 s");
                    continue;
                }
            }
            if (c.deadlineNanos - next < 0) next = c.deadlineNanos;
        }
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(next - now) + 1);
    }

    /** Accepts every pending connection: the backlog is short, and a client finding it full must retry. */
    private void accept() throws IOException {
        SocketChannel ch;
        while ((ch = server.accept()) != null) {
            ch.configureBlocking(false);
            if (conns.size() >= MAX_CONNECTIONS) evictOldestIdle();
            if (conns.size() >= MAX_CONNECTIONS) {
                // best effort: a short reply fits the socket buffer, so this write does not block
                try (SocketChannel busy = ch) {
                    busy.write(encode(Reply.error(Reply.UNAVAILABLE, "quorumd: the agent is busy (" + MAX_CONNECTIONS
                            + " control connections open); try again")));
                } catch (IOException e) {
                    // the client went away first: nothing to tell it
                }
                continue;
            }
            SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
            Conn c = new Conn(ch, key, System.nanoTime());
            try {
                c.peer = PeerCredentials.of(ch);   // as the kernel saw the peer connect
            } catch (IOException | RuntimeException e) {
                log.warn("control connection: cannot read its credentials ({}); it may only read", e.toString());
            }
            key.attach(c);
            conns.add(c);
        }
    }

    /** Under pressure: closes the connection idle for longest, making room for a new client. */
    private void evictOldestIdle() {
        Conn oldest = null;
        for (Conn c : conns) {
            if (c.idle() && (oldest == null || c.acceptedNanos - oldest.acceptedNanos < 0)) oldest = c;
        }
        if (oldest == null) return;   // every one is a request in progress
        long now = System.nanoTime();
        evicted++;
        if (lastEvictionLogNanos == 0 || now - lastEvictionLogNanos >= EVICTION_LOG_INTERVAL_NANOS) {
            log.warn("control socket {}: {} connections open; closing the oldest idle ones to serve new clients "
                    + "({} closed so far)", socket, MAX_CONNECTIONS, evicted);
            lastEvictionLogNanos = now;
        }
        drop(oldest, "idle for " + (now - oldest.acceptedNanos) / 1_000_000 + " ms while " + MAX_CONNECTIONS
                + " connections were open");
    }

    private void read(Conn c) throws IOException {
        if (!c.in.hasRemaining() && c.in.capacity() < MAX_REQUEST_BYTES) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.min(MAX_REQUEST_BYTES, c.in.capacity() * 2));
            c.in.flip();
            bigger.put(c.in);
            c.in = bigger;
        }
        int n = c.ch.read(c.in);
        boolean eof = n < 0;
        int nl = -1;
        for (int i = 0; i < c.in.position(); i++) {
            if (c.in.get(i) == '\n') {
                nl = i;
                break;
            }
        }
        if (nl < 0 && !eof && (c.in.hasRemaining() || c.in.capacity() < MAX_REQUEST_BYTES)) return;
        if (nl < 0 && !eof) {
            c.request = "(too long)";
            c.json = startsJson(c.in);
            answer(c, Reply.error(Reply.USAGE, "quorumd: control request longer than " + MAX_REQUEST_BYTES + " bytes"));
            return;
        }
        int len = nl < 0 ? c.in.position() : nl;
        if (len == 0 && eof) {
            drop(c, null);   // a probe that only connected
            return;
        }
        String line = new String(c.in.array(), 0, len, StandardCharsets.UTF_8);
        if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
        c.request = line;
        c.json = line.stripLeading().startsWith("{");
        c.key.interestOps(0);
        c.waiting = true;
        c.deadlineNanos = System.nanoTime() + stepDownTimeoutNanos;
        CompletionStage<Reply> stage;
        try {
            stage = c.json ? dispatchJson(c, line) : dispatch(line, c.peer);
        } catch (RuntimeException e) {
            log.error("answering control request '{}' failed", line, e);
            answer(c, Reply.error(Reply.FAILURE, "quorumd: the agent failed to answer '" + line + "': " + e));
            return;
        }
        if (stage == null) return;   // a watch: its lines come through its stream
        stage.whenComplete((reply, failure) -> {
            Reply r = failure != null
                    ? Reply.error(Reply.FAILURE, "quorumd: the agent failed to answer '" + c.request + "': " + failure)
                    : reply;
            fromOtherThreads.add(() -> {
                if (c.waiting) answer(c, r);
            });
            selector.wakeup();
        });
    }

    /**
     * A JSON request: checked field by field, then put into the words of the older protocol and
     * answered by {@link #dispatch} (the same handler calls, rights and log lines).
     */
    private CompletionStage<Reply> dispatchJson(Conn c, String line) {
        Object parsed;
        try {
            parsed = Json.parse(line);
        } catch (JsonException e) {
            return done(Reply.error(Reply.USAGE, "quorumd: the control request is not valid JSON: " + e.getMessage()));
        }
        if (!(parsed instanceof java.util.Map<?, ?> m)) {
            return done(Reply.error(Reply.USAGE, "quorumd: a control request is a JSON object, e.g. {\"op\":\"status\"}"));
        }
        Object id = m.get("id");
        if (id instanceof String || id instanceof Long) c.id = Json.write(id);
        else if (id != null) return done(Reply.error(Reply.USAGE, "quorumd: \"id\" must be a string or an integer"));
        if (!(m.get("op") instanceof String op)) {
            return done(Reply.error(Reply.USAGE, "quorumd: the control request has no \"op\" string (expected one of "
                    + new java.util.TreeSet<>(JSON_OPS.keySet()) + ")"));
        }
        Set<String> fields = JSON_OPS.get(op);
        if (fields == null) {
            return done(Reply.error(Reply.USAGE, "quorumd: unknown control op '" + printable(op) + "' (expected one of "
                    + new java.util.TreeSet<>(JSON_OPS.keySet()) + ")"));
        }
        for (Object k : m.keySet()) {
            if (!k.equals("op") && !k.equals("id") && !fields.contains(k)) {
                return done(Reply.error(Reply.USAGE, "quorumd: op '" + op + "' takes no field '" + printable(String.valueOf(k))
                        + "'" + (fields.isEmpty() ? "" : " (only " + new java.util.TreeSet<>(fields) + ")")));
            }
        }
        if (op.startsWith("kv.")) return dispatchKv(c, op, m);
        StringBuilder words = new StringBuilder(op.equals("status") ? "status-json" : op);
        c.rawResult = op.equals("status");
        if (op.equals("step-down") && m.get("to") != null) {
            if (!(m.get("to") instanceof String to) || !to.matches("[A-Za-z0-9._-]{1,64}")) {
                return done(Reply.error(Reply.USAGE, "quorumd: \"to\" must be a node id"));
            }
            words.append(' ').append(to);
        }
        for (String f : new String[] {"pgid", "term"}) {
            if (!fields.contains(f)) continue;
            if (!(m.get(f) instanceof Long v) || v < 0 || (f.equals("pgid") && (v < 1 || v > 999_999_999))) {
                return done(Reply.error(Reply.USAGE, "quorumd: op '" + op + "' needs \"" + f + "\", a "
                        + (f.equals("pgid") ? "process group id" : "term (an integer >= 0)")));
            }
            words.append(' ').append(v);
        }
        return dispatch(words.toString(), c.peer);
    }

    /** A {@code kv.*} op: fields checked by {@link KvOps#parse}, writes only with the rights of state-changing ops. */
    private CompletionStage<Reply> dispatchKv(Conn c, String op, java.util.Map<?, ?> m) {
        KvRequest req;
        try {
            req = KvOps.parse(op, m);
        } catch (KvOps.Refused e) {
            return done(Reply.error(Reply.USAGE, "quorumd: " + e.getMessage()));
        }
        if (req.write()) {
            String who = c.peer == null ? "an unknown peer" : c.peer.describe();
            String refusal = access.refusal(c.peer);
            if (refusal != null) {
                log.warn("control: refused '{}' from {}: {}", op, who, refusal);
                return done(Reply.error(Reply.FAILURE, "quorumd: permission denied: '" + op + "' changes the store, and "
                        + refusal + ". Run it as root, as the agent's user, or as a member of group "
                        + (access.group() != null ? access.group() : "quorumd") + "."));
            }
            log.debug("control: '{}' requested by {}", op, who);
        }
        if (req instanceof KvRequest.Watch w) {
            long watches = conns.stream().filter(x -> x.watch != null).count();
            if (watches >= MAX_WATCHES) {
                return done(Reply.error(Reply.UNAVAILABLE, "quorumd: the agent serves " + MAX_WATCHES
                        + " watches already; try again later"));
            }
            c.waiting = false;
            c.watch = new Watch(c);
            c.deadlineNanos = System.nanoTime() + TimeUnit.DAYS.toNanos(365 * 100L);
            c.key.interestOps(SelectionKey.OP_READ);
            handler.kvWatch(w, c.watch);
            return null;
        }
        c.rawResult = true;
        return Objects.requireNonNull(handler.kv(req), "kv");
    }

    private static boolean startsJson(ByteBuffer in) {
        for (int i = 0; i < in.position(); i++) {
            byte b = in.get(i);
            if (b != ' ' && b != '\t') return b == '{';
        }
        return false;
    }

    private CompletionStage<Reply> dispatch(String line, PeerCredentials peer) {
        String[] words = line.trim().split("[ \t]+");
        String cmd = words[0];
        int args = words.length - 1;
        if (STATE_CHANGING.contains(cmd)) {
            String who = peer == null ? "an unknown peer" : peer.describe();
            String refusal = access.refusal(peer);
            if (refusal != null) {
                log.warn("control: refused '{}' from {}: {}", printable(line), who, refusal);
                return done(Reply.error(Reply.FAILURE, "quorumd: permission denied: '" + printable(cmd) + "' changes "
                        + "the agent's state, and " + refusal + ". Run it as root, as the agent's user, or as a member "
                        + "of group " + (access.group() != null ? access.group() : "quorumd") + "."));
            }
            log.info("control: '{}' requested by {}", printable(line), who);
        }
        switch (cmd) {
            case "status":
                if (args == 0) return done(Reply.ok(handler.status().toTable()));
                break;
            case "status-json":
                if (args == 0) return done(Reply.ok(handler.status().toJson()));
                break;
            case "leader":
                if (args == 0) {
                    Status s = handler.status();
                    return done(s.master() != null ? Reply.ok(s.master())
                            : Reply.error(Reply.UNAVAILABLE, "quorumd: no master is known to " + s.node() + " ("
                                    + s.role().label() + " in term " + s.term() + ")"));
                }
                break;
            case "step-down":
                if (args <= 1) return Objects.requireNonNull(handler.stepDown(args == 1 ? words[1] : null), "stepDown");
                break;
            case "ping":
                if (args == 0) return done(Reply.ok("pong " + ProcessHandle.current().pid()));
                break;
            case "exec-term":
                if (args == 0) return done(handler.execTerm());
                break;
            case "exec-guard":
                if (args == 2 && words[1].matches("[0-9]{1,9}") && words[2].matches("[0-9]{1,19}")) {
                    return Objects.requireNonNull(handler.execGuard(Integer.parseInt(words[1]),
                            Long.parseLong(words[2]), peer == null ? -1 : peer.pid()), "execGuard");
                }
                break;
            case "exec-end":
                if (args == 1 && words[1].matches("[0-9]{1,9}")) return done(handler.execEnd(Integer.parseInt(words[1])));
                break;
            default:
                String shown = cmd.isEmpty() ? "an empty request" : "'" + printable(cmd) + "'";
                return done(Reply.error(Reply.USAGE, "quorumd: unknown control request " + shown
                        + " (expected status, status-json, leader, step-down [NODE], ping, exec-term, exec-guard PGID TERM or exec-end PGID)"));
        }
        return done(Reply.error(Reply.USAGE, "quorumd: wrong arguments for control request '" + printable(line) + "'"));
    }

    private void answer(Conn c, Reply r) {
        c.waiting = false;
        c.out = c.json ? encodeJson(r, c.rawResult, c.id) : encode(r);
        c.deadlineNanos = System.nanoTime() + IO_TIMEOUT_NANOS;
        if (!c.key.isValid()) return;
        try {
            write(c);
        } catch (IOException e) {
            drop(c, "i/o error: " + e.getMessage());
        }
    }

    private void write(Conn c) throws IOException {
        c.ch.write(c.out);
        if (c.out.hasRemaining()) c.key.interestOps(SelectionKey.OP_WRITE);
        else drop(c, null);
    }

    private void drop(Conn c, String why) {
        if (why != null) log.debug("control connection dropped: {}", why);
        if (c.watch != null) c.watch.over = true;
        conns.remove(c);
        c.key.cancel();
        closeQuietly(c.ch);
    }

    private static ByteBuffer encode(Reply r) {
        return ByteBuffer.wrap((REPLY_HEADER + r.exitCode() + "\n" + r.body()).getBytes(StandardCharsets.UTF_8));
    }

    /** One JSON line: {@code {"exit":0,"result":...}} or {@code {"exit":N,"error":"..."}}, with the request's id. */
    static ByteBuffer encodeJson(Reply r, boolean rawResult, String id) {
        String body = r.body().endsWith("\n") ? r.body().substring(0, r.body().length() - 1) : r.body();
        StringBuilder sb = new StringBuilder("{");
        if (id != null) sb.append("\"id\":").append(id).append(',');
        sb.append("\"exit\":").append(r.exitCode()).append(',');
        if (r.exitCode() == Reply.OK) {
            sb.append("\"result\":");
            if (rawResult) sb.append(body);
            else Json.quote(body, sb);
        } else {
            sb.append("\"error\":");
            Json.quote(body, sb);
        }
        return ByteBuffer.wrap(sb.append("}\n").toString().getBytes(StandardCharsets.UTF_8));
    }

    private static CompletionStage<Reply> done(Reply r) {
        return java.util.concurrent.CompletableFuture.completedFuture(r);
    }

    private static String printable(String s) {
        String t = s.length() > 60 ? s.substring(0, 60) + "..." : s;
        return t.replaceAll("\\p{Cntrl}", "?");
    }

    private static String reason(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) return f.getReason();
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}

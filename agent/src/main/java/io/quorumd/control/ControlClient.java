package io.quorumd.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The CLI's side of the control socket: one request, one reply. Every way of not getting an answer
 * becomes a {@link Reply} with exit status 3 and a message for the operator, never an exception.
 */
public final class ControlClient {
    static final int MAX_REPLY_BYTES = 16 << 20;

    private ControlClient() {}

    /**
     * Sends {@code request} (one line, e.g. {@code status-json} or {@code step-down node-b}) and waits
     * at most {@code timeout} for the whole reply.
     */
    public static Reply call(Path socket, String request, Duration timeout) {
        try {
            return exchange(socket, request, timeout);
        } catch (Unreachable e) {
            return unreachable(e);
        }
    }

    /**
     * Sends one JSON request (the protocol the README documents, e.g. {@code {"op":"leader"}}) and
     * waits at most {@code timeout} for its JSON answer. The reply's body is the answer's
     * {@code result} (a string as it is, an object as one line of JSON) or its {@code error}.
     */
    public static Reply request(Path socket, java.util.Map<String, Object> request, Duration timeout) {
        try {
            return decodeJson(exchangeBytes(socket, Json.write(request), timeout), socket);
        } catch (Unreachable e) {
            return unreachable(e);
        }
    }

    /**
     * A {@code kv.watch}: sends {@code request}, then hands each change the agent reports (the
     * {@code "event"} object of each line, as one line of JSON) to {@code onEvent}, until the agent
     * ends the watch; returns its final answer (an error, or the connection's end). Waits for the
     * first answer at most {@code timeout}, then as long as the watch runs.
     */
    public static Reply watch(Path socket, java.util.Map<String, Object> request, Duration timeout,
                              java.util.function.Consumer<String> onEvent) {
        String nobody = "quorumd: no agent answers on " + socket + " (is quorumd running?)";
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) return Reply.error(Reply.UNAVAILABLE, nobody);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (SocketChannel ch = connect(socket, deadline, timeout, nobody)) {
            ch.configureBlocking(true);
            ch.write(ByteBuffer.wrap((Json.write(request) + "\n").getBytes(StandardCharsets.UTF_8)));
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                    java.nio.channels.Channels.newInputStream(ch), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                Object parsed;
                try {
                    parsed = Json.parse(line);
                } catch (JsonException e) {
                    return Reply.error(Reply.FAILURE, "quorumd: unexpected answer on " + socket + ": " + e.getMessage());
                }
                if (!(parsed instanceof java.util.Map<?, ?> m)) continue;
                if (m.get("event") != null) {
                    onEvent.accept(Json.write(m.get("event")));
                } else if (m.get("exit") instanceof Long code && code >= 0 && code <= 255) {
                    Object body = code == 0 ? m.get("result") : m.get("error");
                    return new Reply(code.intValue(), body instanceof String str ? str : Json.write(body));
                }
            }
            return Reply.error(Reply.UNAVAILABLE, "quorumd: the agent on " + socket + " ended the watch (is it stopping?)");
        } catch (Unreachable e) {
            return unreachable(e);
        } catch (IOException e) {
            return Reply.error(Reply.UNAVAILABLE, "quorumd: the watch on " + socket + " failed: " + e.getMessage());
        }
    }

    /** {@link #request} of {@code {"op":OP}}. */
    public static Reply request(Path socket, String op, Duration timeout) {
        return request(socket, java.util.Map.of("op", op), timeout);
    }

    private static Reply unreachable(Unreachable e) {
        return Reply.error(e.kind == Kind.GARBAGE ? Reply.FAILURE : Reply.UNAVAILABLE, e.getMessage());
    }

    enum Kind {
        /** Nobody listens: no socket file, or a stale one (connection refused). */
        NOBODY,
        /** Someone listens but gave no answer in time (a stopped or wedged agent). */
        SILENT,
        DENIED,
        CLOSED,
        GARBAGE,
        OTHER
    }

    static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;
        final Kind kind;

        Unreachable(Kind kind, String message) {
            super(message);
            this.kind = kind;
        }
    }

    static Reply exchange(Path socket, String request, Duration timeout) throws Unreachable {
        return decode(exchangeBytes(socket, request, timeout), socket);
    }

    private static byte[] exchangeBytes(Path socket, String request, Duration timeout) throws Unreachable {
        if (request.indexOf('\n') >= 0 || request.indexOf('\r') >= 0)
            throw new IllegalArgumentException("a control request is one line: " + request);
        long deadline = System.nanoTime() + timeout.toNanos();
        String nobody = "quorumd: no agent answers on " + socket + " (is quorumd running?)";
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) throw new Unreachable(Kind.NOBODY, nobody);
        try (SocketChannel ch = connect(socket, deadline, timeout, nobody); Selector sel = Selector.open()) {
            ByteBuffer out = ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8));
            SelectionKey key = ch.register(sel, SelectionKey.OP_WRITE);
            try {
                while (out.hasRemaining()) {
                    ch.write(out);
                    if (out.hasRemaining()) await(sel, deadline, socket, timeout);
                }
            } catch (IOException e) {
                // the agent may answer before reading (when busy) and close: its answer is still to be read
            }
            key.interestOps(SelectionKey.OP_READ);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (true) {
                in.clear();
                int n;
                try {
                    n = ch.read(in);
                } catch (IOException e) {
                    // a reset after the answer (the agent closed with our request unread) ends it like EOF
                    if (got.size() > 0) break;
                    throw e;
                }
                if (n < 0) break;
                if (n == 0) {
                    await(sel, deadline, socket, timeout);
                    continue;
                }
                got.write(in.array(), 0, n);
                if (got.size() > MAX_REPLY_BYTES)
                    throw new Unreachable(Kind.GARBAGE, "quorumd: the reply on " + socket + " is larger than "
                            + MAX_REPLY_BYTES + " bytes (is it a quorumd control socket?)");
            }
            return got.toByteArray();
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Broken pipe") || m.contains("Connection reset"))
                throw closed(socket);
            throw new Unreachable(Kind.OTHER, "quorumd: talking to the agent on " + socket + " failed: " + m);
        }
    }

    /**
     * Connects, non-blocking. A Unix socket connects at once or fails at once; EAGAIN means the
     * agent's accept backlog is full (many clients at once, or a stopped agent), which is "not
     * answering yet": retried every 10 ms until the deadline, so the message stays true.
     */
    private static SocketChannel connect(Path socket, long deadline, Duration timeout, String nobody)
            throws IOException, Unreachable {
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            boolean ok = false;
            try {
                ch.configureBlocking(false);
                if (!ch.connect(UnixDomainSocketAddress.of(socket))) {
                    try (Selector sel = Selector.open()) {
                        ch.register(sel, SelectionKey.OP_CONNECT);
                        while (!ch.finishConnect()) await(sel, deadline, socket, timeout);
                    }
                }
                ok = true;
                return ch;
            } catch (ConnectException e) {
                throw new Unreachable(Kind.NOBODY, nobody);
            } catch (IOException e) {
                String m = String.valueOf(e.getMessage());
                if (m.contains("No such file")) throw new Unreachable(Kind.NOBODY, nobody);
                if (m.contains("Permission denied"))
                    throw new Unreachable(Kind.DENIED, "quorumd: permission denied on " + socket
                            + " (run as root or as a member of group quorumd)");
                if (!m.contains("Resource temporarily unavailable"))
                    throw new Unreachable(Kind.OTHER, "quorumd: cannot connect to " + socket + ": " + m);
            } finally {
                if (!ok) ch.close();
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) throw silent(socket, timeout);
            try {
                Thread.sleep(Math.min(10, Math.max(1, left / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw silent(socket, timeout);
            }
        }
    }

    private static Reply decode(byte[] bytes, Path socket) throws Unreachable {
        if (bytes.length == 0) throw closed(socket);
        String text = new String(bytes, StandardCharsets.UTF_8);
        int nl = text.indexOf('\n');
        String head = nl < 0 ? text : text.substring(0, nl);
        if (!head.startsWith(ControlServer.REPLY_HEADER) || nl < 0
                || !head.substring(ControlServer.REPLY_HEADER.length()).matches("[0-9]{1,3}"))
            throw new Unreachable(Kind.GARBAGE, "quorumd: unexpected answer on " + socket
                    + " (is it a quorumd control socket, of the same version?)");
        int code = Integer.parseInt(head.substring(ControlServer.REPLY_HEADER.length()));
        if (code > 255) throw new Unreachable(Kind.GARBAGE, "quorumd: unexpected exit status " + code + " from " + socket);
        return new Reply(code, text.substring(nl + 1));
    }

    /**
     * A JSON answer; the older header form is accepted too (the server answers "busy" that way
     * before it has read which protocol the client speaks).
     */
    static Reply decodeJson(byte[] bytes, Path socket) throws Unreachable {
        if (bytes.length == 0) throw closed(socket);
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.startsWith(ControlServer.REPLY_HEADER)) return decode(bytes, socket);
        Unreachable garbage = new Unreachable(Kind.GARBAGE, "quorumd: unexpected answer on " + socket
                + " (is it a quorumd control socket, of the same version?)");
        Object parsed;
        try {
            parsed = Json.parse(text.strip());
        } catch (JsonException e) {
            throw garbage;
        }
        if (!(parsed instanceof java.util.Map<?, ?> m) || !(m.get("exit") instanceof Long code) || code < 0 || code > 255) {
            throw garbage;
        }
        Object body = code == 0 ? m.get("result") : m.get("error");
        if (body == null) throw garbage;
        return new Reply(code.intValue(), body instanceof String str ? (str.isEmpty() || str.endsWith("\n") ? str : str + "\n")
                : Json.write(body) + "\n");
    }

    private static void await(Selector sel, long deadline, Path socket, Duration timeout) throws IOException, Unreachable {
        long left = deadline - System.nanoTime();
        if (left <= 0) throw silent(socket, timeout);
        sel.select(Math.max(1, left / 1_000_000));
        sel.selectedKeys().clear();
    }

    private static Unreachable silent(Path socket, Duration timeout) {
        return new Unreachable(Kind.SILENT, "quorumd: the agent on " + socket + " did not answer within "
                + Status.duration(timeout.toMillis()) + " (is it stopped or overloaded?)");
    }

    private static Unreachable closed(Path socket) {
        return new Unreachable(Kind.CLOSED, "quorumd: the agent on " + socket
                + " closed the connection without an answer (is it shutting down?)");
    }
}

package io.quorumd.it.local;

import io.quorumd.control.Json;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A raw client of an agent's control socket (one JSON request per connection), for the store's
 * process test and bench. Our own rather than {@code ControlClient}: a history needs to know
 * whether a request left this process at all, which an exit status alone does not say.
 */
public final class KvSocket {
    private KvSocket() {}

    /**
     * One call's fate: {@code NOT_SENT} (no connection: the request surely had no effect),
     * {@code SILENT} (sent, no whole answer in time), {@code DROPPED} (sent, the connection
     * closed without a whole answer: the agent died), both outcome unknown, or {@code ANSWERED} with the JSON answer.
     */
    public record Answer(Kind kind, Map<?, ?> json) {
        /** The answer's exit status, or -1 without an answer. */
        public int exit() {
            return json != null && json.get("exit") instanceof Number n ? n.intValue() : -1;
        }
    }

    public enum Kind { NOT_SENT, SILENT, DROPPED, ANSWERED }

    public static Answer call(Path socket, Map<String, Object> request, Duration timeout) {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            throw new AssertionError("cannot open a unix socket: " + e, e);
        }
        try (ch; Selector sel = Selector.open()) {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                return new Answer(Kind.NOT_SENT, null);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            ch.configureBlocking(false);
            ByteBuffer out = ByteBuffer.wrap((Json.write(request) + "\n").getBytes(StandardCharsets.UTF_8));
            ByteBuffer in = ByteBuffer.allocate(256 * 1024);
            SelectionKey key = ch.register(sel, SelectionKey.OP_WRITE | SelectionKey.OP_READ);
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) return new Answer(Kind.SILENT, null);
                sel.select(left);
                sel.selectedKeys().clear();
                if (out.hasRemaining()) {
                    ch.write(out);
                    if (!out.hasRemaining()) key.interestOps(SelectionKey.OP_READ);
                }
                int n = ch.read(in);
                for (int i = 0; i < in.position(); i++) {
                    if (in.get(i) == '\n') {
                        String line = new String(in.array(), 0, i, StandardCharsets.UTF_8);
                        return new Answer(Kind.ANSWERED, (Map<?, ?>) Json.parse(line));
                    }
                }
                if (n < 0 || !in.hasRemaining()) return new Answer(Kind.DROPPED, null);
            }
        } catch (IOException e) {
            return new Answer(Kind.DROPPED, null);
        }
    }
}

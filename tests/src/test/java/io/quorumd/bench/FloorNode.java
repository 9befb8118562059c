package io.quorumd.bench;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * One node of {@link FloorBench}: the least a JVM can do to keep the traffic quorumd's agents keep
 * at rest, every node publishing a 120-byte frame to every other node each heartbeat (100 ms) and
 * reading theirs. No election, no state, no log: what is left is the floor of the runtime and of
 * the transport library. Modes:
 * <ul>
 *   <li>{@code idle}: a JVM whose main thread sleeps (the runtime's own floor);</li>
 *   <li>{@code udp}: one UDP socket, the main thread sends and a second thread receives;</li>
 *   <li>{@code zmq}: JeroMQ, one PUB bound and one SUB connected to every other node (ZMTP heartbeats
 *       every second, as the agent sets them), a single application thread polling the SUB sockets
 *       until the next send: the "one reactor thread" shape, plus JeroMQ's I/O and reaper threads;</li>
 *   <li>{@code zmq-no-heartbeat}: the same without ZMTP heartbeats (no timers on the I/O thread);</li>
 *   <li>{@code zmq-curve}: the same under CURVE (no ZAP handler: any client key is let in).</li>
 * </ul>
 * Arguments: {@code MODE INDEX N BASE_PORT [SERVER_PUBLIC_KEYS,... OWN_SECRET_KEY]} (Z85 keys for
 * zmq-curve). Runs until killed.
 */
public final class FloorNode {
    static final long HEARTBEAT_NANOS = 100_000_000L;
    static final int FRAME_BYTES = 120;

    private FloorNode() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int self = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        int base = Integer.parseInt(args[3]);
        switch (mode) {
            case "idle" -> {
                while (true) Thread.sleep(60_000);
            }
            case "udp" -> udp(self, n, base);
            case "zmq" -> zmq(self, n, base, null, null, true);
            case "zmq-no-heartbeat" -> zmq(self, n, base, null, null, false);
            case "zmq-one-sub" -> zmqOneSub(self, n, base);
            case "zmq-curve" -> zmq(self, n, base, args[4].split(","), args[5], true);
            default -> throw new IllegalArgumentException("mode " + mode);
        }
    }

    private static void udp(int self, int n, int base) throws Exception {
        DatagramChannel ch = DatagramChannel.open();
        ch.bind(new InetSocketAddress("127.0.0.1", base + self));
        Thread rx = new Thread(() -> {
            ByteBuffer in = ByteBuffer.allocate(2048);
            try {
                while (true) {
                    in.clear();
                    ch.receive(in);
                }
            } catch (Exception e) {
                // closed at exit
            }
        }, "receiver");
        rx.setDaemon(true);
        rx.start();
        ByteBuffer out = ByteBuffer.allocate(FRAME_BYTES);
        long next = System.nanoTime();
        while (true) {
            for (int i = 0; i < n; i++) {
                if (i == self) continue;
                out.clear();
                ch.send(out, new InetSocketAddress("127.0.0.1", base + i));
            }
            next += HEARTBEAT_NANOS;
            long wait = next - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }

    private static void zmq(int self, int n, int base, String[] serverKeys, String ownSecret, boolean heartbeats)
            throws Exception {
        try (ZContext ctx = new ZContext(1)) {
            ZMQ.Socket pub = ctx.createSocket(SocketType.PUB);
            if (heartbeats) heartbeats(pub);
            else pub.setLinger(0);
            if (ownSecret != null) {
                pub.setCurveServer(true);
                pub.setCurveSecretKey(ZMQ.Curve.z85Decode(ownSecret));
            }
            pub.bind("tcp://127.0.0.1:" + (base + self));
            List<ZMQ.Socket> subs = new ArrayList<>();
            ZMQ.Poller poller = ctx.createPoller(n);
            for (int i = 0; i < n; i++) {
                if (i == self) continue;
                ZMQ.Socket sub = ctx.createSocket(SocketType.SUB);
                if (heartbeats) heartbeats(sub);
                else sub.setLinger(0);
                if (ownSecret != null) {
                    byte[] secret = ZMQ.Curve.z85Decode(ownSecret);
                    sub.setCurveServerKey(ZMQ.Curve.z85Decode(serverKeys[i]));
                    sub.setCurveSecretKey(secret);
                    sub.setCurvePublicKey(ZMQ.Curve.z85Decode(serverKeys[self]));
                }
                sub.subscribe(new byte[0]);
                sub.connect("tcp://127.0.0.1:" + (base + i));
                poller.register(sub, ZMQ.Poller.POLLIN);
                subs.add(sub);
            }
            publishEveryHeartbeat(pub, waitMillis -> {
                poller.poll(waitMillis);
                for (ZMQ.Socket s : subs) {
                    while (s.recv(ZMQ.DONTWAIT) != null) {
                        // read and dropped: the floor has no state to feed
                    }
                }
            });
        }
    }

    /** Publishes a frame every heartbeat; in between, {@code receive} waits at most the given ms for frames. */
    private static void publishEveryHeartbeat(ZMQ.Socket pub, java.util.function.LongConsumer receive) {
        byte[] frame = new byte[FRAME_BYTES];
        long next = System.nanoTime();
        while (!Thread.currentThread().isInterrupted()) {
            long wait = next - System.nanoTime();
            if (wait <= 0) {
                pub.send(frame, ZMQ.DONTWAIT);
                next += HEARTBEAT_NANOS;
                continue;
            }
            receive.accept(Math.max(1, wait / 1_000_000));
        }
    }

    private static void zmqOneSub(int self, int n, int base) throws Exception {
        try (ZContext ctx = new ZContext(1)) {
            ZMQ.Socket pub = ctx.createSocket(SocketType.PUB);
            heartbeats(pub);
            pub.bind("tcp://127.0.0.1:" + (base + self));
            ZMQ.Socket sub = ctx.createSocket(SocketType.SUB);
            heartbeats(sub);
            sub.subscribe(new byte[0]);
            for (int i = 0; i < n; i++) if (i != self) sub.connect("tcp://127.0.0.1:" + (base + i));
            publishEveryHeartbeat(pub, waitMillis -> {
                sub.setReceiveTimeOut((int) waitMillis);
                sub.recv();
            });
        }
    }

    private static void heartbeats(ZMQ.Socket s) {
        s.setLinger(0);
        s.setHeartbeatIvl(1000);
        s.setHeartbeatTimeout(3000);
        s.setHeartbeatTtl(3000);
    }
}

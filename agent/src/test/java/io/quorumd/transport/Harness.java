package io.quorumd.transport;

import io.quorumd.cli.FreePorts;
import io.quorumd.core.Event;
import io.quorumd.core.MasterReport;
import io.quorumd.core.Message;
import io.quorumd.wire.Codec;
import io.quorumd.wire.DropCounters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/** Real transports on 127.0.0.1, each with its own event list, on ports found free beforehand. */
final class Harness implements AutoCloseable {
    static final String CLUSTER = "payments";
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    final Map<String, PeerEndpoint> endpoints = new LinkedHashMap<>();
    final Map<String, Node> nodes = new TreeMap<>();
    private final List<AutoCloseable> extras = new ArrayList<>();

    Harness(String... ids) {
        Set<Integer> taken = new HashSet<>();
        for (String id : ids) endpoints.put(id, new PeerEndpoint("127.0.0.1", freePortPair(taken)));
    }

    /** A port p with p and p + 1 both free now: bound with port 0 first, then checked and released. */
    static int freePortPair(Set<Integer> taken) {
        try {
            int p = FreePorts.pair(taken);
            taken.add(p);
            taken.add(p + 1);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port(String id) {
        return endpoints.get(id).port();
    }

    Codec codec() {
        return new Codec(CLUSTER, endpoints.keySet());
    }

    Node start(String id) {
        return start(id, codec(), TransportOptions.defaults());
    }

    Node start(String id, TransportOptions options) {
        return start(id, codec(), options);
    }

    Node start(String id, Codec codec, TransportOptions options) {
        return start(id, codec, options, endpoints);
    }

    Node start(String id, Codec codec, TransportOptions options, Map<String, PeerEndpoint> peers) {
        return start(id, codec, options, peers, LOOPBACK);
    }

    Node start(String id, Codec codec, TransportOptions options, Map<String, PeerEndpoint> peers, InetAddress bind) {
        Node n = new Node(id);
        n.transport = new ZmqTransport(id, bind, port(id), peers, codec, n.drops, n::accept, options);
        try {
            n.transport.start();
        } catch (java.net.BindException e) {
            throw new IllegalStateException(e);
        }
        Node old = nodes.put(id, n);
        if (old != null) old.close();
        return n;
    }

    <T extends AutoCloseable> T closeLater(T c) {
        extras.add(c);
        return c;
    }

    @Override
    public void close() {
        for (Node n : nodes.values()) n.close();
        for (AutoCloseable c : extras) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort at the end of a test
            }
        }
    }

    static final class Node implements AutoCloseable {
        final String id;
        final DropCounters drops = new DropCounters(System::nanoTime);
        private final List<Event> events = new ArrayList<>();
        ZmqTransport transport;

        Node(String id) {
            this.id = id;
        }

        void accept(Event e) {
            synchronized (events) {
                events.add(e);
                events.notifyAll();
            }
        }

        List<Event> events() {
            synchronized (events) {
                return new ArrayList<>(events);
            }
        }

        long count(Predicate<Event> p) {
            return events().stream().filter(p).count();
        }

        /** The first event matching {@code p}, waiting up to {@code millis} for it. */
        Event await(Predicate<Event> p, long millis, String what) {
            long deadline = System.nanoTime() + millis * 1_000_000;
            synchronized (events) {
                while (true) {
                    for (Event e : events) if (p.test(e)) return e;
                    long left = deadline - System.nanoTime();
                    if (left <= 0) throw new AssertionError(id + " did not see " + what + " within " + millis + " ms; saw " + events);
                    try {
                        events.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw new AssertionError("interrupted", ie);
                    }
                }
            }
        }

        /** Waits up to {@code millis} for {@code n} events matching {@code p}; returns whether they came. */
        boolean awaitCount(Predicate<Event> p, long n, long millis) {
            long deadline = System.nanoTime() + millis * 1_000_000;
            synchronized (events) {
                while (events.stream().filter(p).count() < n) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) return false;
                    try {
                        events.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
                return true;
            }
        }

        @Override
        public void close() {
            transport.close();
        }
    }

    // ---- predicates and messages

    static Predicate<Event> keepAliveFrom(String from) {
        return e -> e instanceof Event.Received r && r.message() instanceof Message.KeepAlive k && k.from().equals(from);
    }

    static Predicate<Event> received(Class<? extends Message> type, String from, long requestId) {
        return e -> e instanceof Event.Received r && type.isInstance(r.message()) && r.message().from().equals(from)
                && requestIdOf(r.message()) == requestId;
    }

    static Predicate<Event> failed(String to, long requestId) {
        return e -> e instanceof Event.RequestFailed f && f.to().equals(to) && f.requestId() == requestId;
    }

    static Predicate<Event> refused(String peer) {
        return e -> e instanceof Event.PeerRefused r && r.peer().equals(peer);
    }

    static long requestIdOf(Message m) {
        if (m instanceof Message.VoteRequest v) return v.requestId();
        if (m instanceof Message.VoteResponse v) return v.requestId();
        if (m instanceof Message.HandOver h) return h.requestId();
        if (m instanceof Message.HandOverAck a) return a.requestId();
        if (m instanceof Message.Append a) return a.requestId();
        if (m instanceof Message.AppendAck a) return a.requestId();
        if (m instanceof Message.Forward f) return f.requestId();
        if (m instanceof Message.ForwardReply f) return f.requestId();
        return -1;
    }

    static Message.KeepAlive keepAlive(String from, long term) {
        return new Message.KeepAlive(from, term, 42, System.nanoTime(), null, -1, -1, false, null, 0, 0);
    }

    static Message.VoteRequest voteRequest(String from, long requestId) {
        return new Message.VoteRequest(from, 3, 42, requestId, false, System.nanoTime(), 0, 0, null);
    }

    static Message.VoteResponse voteResponse(String from, long requestId) {
        return new Message.VoteResponse(from, 3, 43, requestId, false, true, null, -1, MasterReport.NONE);
    }

    /**
     * Publishes keep-alives from {@code from} until {@code to} has one more than before (PUB/SUB
     * joins are not instant).
     */
    static void awaitKeepAlive(Node from, Node to, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        long before = to.count(keepAliveFrom(from.id));
        while (to.count(keepAliveFrom(from.id)) == before) {
            if (System.nanoTime() - deadline > 0)
                throw new AssertionError(to.id + " heard no new keep-alive from " + from.id + " within " + millis + " ms");
            from.transport.publish(keepAlive(from.id, 1));
            to.awaitCount(keepAliveFrom(from.id), before + 1, 20);
        }
    }

    static void awaitCondition(BooleanSupplier cond, long millis, String what) {
        awaitCondition(cond, millis, () -> what);
    }

    /** As above, the description made at the time-out (it may show the state then). */
    static void awaitCondition(BooleanSupplier cond, long millis, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) throw new AssertionError(what.get() + " not reached within " + millis + " ms");
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }
}

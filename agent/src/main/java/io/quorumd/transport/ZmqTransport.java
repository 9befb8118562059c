package io.quorumd.transport;

import io.quorumd.core.Event;
import io.quorumd.core.Message;
import io.quorumd.wire.Codec;
import io.quorumd.wire.DecodeFailure;
import io.quorumd.wire.Decoded;
import io.quorumd.wire.DropCounters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The agent's network: keep-alives on PUB/SUB, requests and answers on REQ/ROUTER, refusal probes.
 *
 * <h2>Sockets</h2>
 * <ul>
 *   <li>one PUB bound on {@code tcp://bind:port}: {@link #publish} sends every keep-alive there;</li>
 *   <li>one SUB per peer, connected to that peer's PUB only, so a keep-alive on it speaks for that
 *       peer alone (any other sender named in it is dropped as {@code impostor});</li>
 *   <li>one ROUTER bound on {@code tcp://bind:port+1}: peers' REQ sockets talk to it; a ROUTER (not
 *       a REP) lets the agent answer out of order or not at all without wedging anything;</li>
 *   <li>one REQ per peer, connected to the peer's ROUTER and kept for the peer's lifetime: one
 *       request at a time with a deadline, the reply's request id checked; the socket is relaxed
 *       (ZMQ_REQ_RELAXED), so a lost reply never wedges it and a late one is dropped by its id, and
 *       its connection (with its CURVE session) survives time-outs. Two such lanes per peer: the
 *       election's (votes, hand-overs, preemption) and the replicated log's (appends, forwarded client
 *       requests), so that neither supersedes nor waits behind the other.</li>
 * </ul>
 * <h2>Who may speak</h2>
 * PUB and ROUTER put every connection to a {@link ZapHandler} before its handshake ends: under
 * CURVE ({@link TransportOptions#curve}) only the peers' public keys are admitted, and this node is
 * the CURVE server of both while its SUB and REQ sockets dial each peer with that peer's key; in
 * trusted mode only the addresses the peers' hosts resolve to. A refused connection is closed
 * before any of its messages is read (counted as {@code unauthenticated}, with the address seen).
 * A request speaks only for the peer(s) the ZAP handler named for its connection, a keep-alive
 * only for the peer its SUB dialled; anything else is dropped as {@code impostor}.
 *
 * Every socket has linger 0 and a maximum message size of {@link Codec#MAX_FRAME_BYTES} (a peer
 * sending more is disconnected by ZMQ), and reconnects every {@link TransportOptions#reconnectIvlMillis}
 * doubling up to {@link TransportOptions#reconnectIvlMaxMillis}, so a peer that is down at start or
 * restarts is reached within about that long of its return.
 *
 * <h2>Threads</h2>
 * One I/O thread ({@code quorumd-transport-<self>}) owns every ZMQ socket. The public methods may
 * be called from any thread: they encode on the caller's thread and hand the frame over through a
 * queue and an empty wake-up message on an inproc PAIR socket, which the I/O thread polls along
 * with its other sockets (the sending end is shared by the callers under a lock). The poll
 * waits for the nearest deadline or indefinitely, so an idle transport does not spin. Two more
 * threads block until needed: {@code quorumd-probe-<self>} runs connect probes, and, only when a
 * peer's host is a name rather than an IP literal, {@code quorumd-resolve-<self>} resolves names
 * again every {@link TransportOptions#resolveIntervalNanos}; when a name's address changes, the
 * I/O thread disconnects the SUB from the old address, connects it to the new one, and replaces
 * the peer's REQ socket (an outstanding request then fails with "address changed"). ZMQ is always
 * given IP literals, never names. A name that stops resolving keeps its last address.
 *
 * <h2>Events</h2>
 * Delivered to the sink on the I/O thread, never while a caller's method is running:
 * <ul>
 *   <li>{@link Event.Received} for every valid keep-alive (SUB), request (ROUTER) and reply (REQ);</li>
 *   <li>{@link Event.RequestFailed} when a request gets no reply in time, is superseded by a newer
 *       request to the same peer, is refused by the peer with an error reply, gets an undecodable or
 *       unexpected reply, cannot be encoded, or its peer is unknown or unresolved;</li>
 *   <li>{@link Event.PeerRefused} when a connect probe to the peer's request port is refused
 *       (ECONNREFUSED), at most once until a valid frame from that peer, or a probe it accepts,
 *       ends the episode. A probe runs on {@link #probe} and after each request time-out (see
 *       {@link TransportOptions#probeOnRequestTimeout}). Silence is never reported as refusal.</li>
 * </ul>
 * A frame that does not decode, or decodes to a message that does not belong on its socket, is
 * counted in {@link DropCounters} (codec reasons and {@link TransportDrop}) and never reaches the
 * sink; a request with a proper REQ envelope that cannot be taken gets a short error reply
 * ({@link Codec#encodeError}), never silence.
 */
public final class ZmqTransport implements AutoCloseable {
    private static final int ZMTP_HEARTBEAT_IVL_MILLIS = 1000;
    /**
     * How long a connecting socket's ZMTP handshake may take before JeroMQ drops the connection and
     * connects again (its default is 30 s). JeroMQ 0.6.0 can leave a fresh outgoing connection
     * with no traffic at all (zeromq/jeromq#1022: the connecter's cancelled selection key hides
     * the new engine's registration), so without a bound a peer's SUB could hear nothing for 30 s.
     * A CURVE handshake took about 150 ms here at load 18: 3 s leaves room for a loaded machine.
     */
    static final int HANDSHAKE_IVL_MILLIS = 3000;

    /**
     * JeroMQ I/O threads of the context. Two: a restarted agent makes and takes about twelve CURVE
     * handshakes at once (pure-Java crypto), and on one I/O thread they queue; two cut the step
     * "bound -> the survivors hear it" of a crash-restart fail-over by about 260 ms p50 on this
     * project's 2-core bench machine (bench-results/2026-12-06T1627-crash). An idle agent's CPU does
     * not change: the second thread sleeps in select(). {@link HandshakeWatch} is what had to
     * change for it: a connection's events then come from two threads. The system property
     * {@code quorumd.io-threads} (1 to 4) is for measuring one against the other, not a setting.
     */
    static final int IO_THREADS = Math.max(1, Math.min(4, Integer.getInteger("quorumd.io-threads", 2)));
    private static final Logger LOG = LoggerFactory.getLogger(ZmqTransport.class);

    /** Frames taken from one socket before the others get their turn. */
    private static final int BATCH = 256;
    /** ZMQ high-water marks: keep-alives are periodic, so a backlog is better dropped than kept. */
    private static final int HWM = 100;
    private static final byte[] EMPTY = new byte[0];
    /** ZMQ_REQ_CORRELATE's request id frame, sent before the delimiter */
    private static final int CORRELATION_ID_BYTES = 4;
    private static final Pattern IP_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}|.*:.*");

    private final String self;
    private final InetAddress bindAddress;
    private final int port;
    private final Codec codec;
    private final DropCounters drops;
    private final Consumer<Event> sink;
    private final TransportOptions options;
    private final Map<String, PeerLink> links = new TreeMap<>();

    private final ConcurrentLinkedQueue<Cmd> commands = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeSignalled = new AtomicBoolean();
    private final Object lifecycle = new Object();
    private boolean started;
    private volatile boolean closed;
    private volatile boolean running;
    /**
     * The producers' end of the wake-up PAIR. Shared by every calling thread, so only ever used
     * under {@link #wakeLock} (a ZMQ socket may change threads across a full memory barrier).
     */
    private ZMQ.Socket wakeSend;
    private final Object wakeLock = new Object();

    // Set in start(), then owned by the I/O thread (Thread.start() publishes them to it).
    private ZContext ctx;
    private ZMQ.Socket pub;
    private ZMQ.Socket router;
    private ZapHandler zap;
    private HandshakeWatch pubWatch;
    private HandshakeWatch routerWatch;
    /** this node's CURVE keys, or null in trusted mode */
    private final io.quorumd.security.CurveKeys curve;
    private ZMQ.Socket wakeRecv;
    private Selector selector;
    /** inbound requests to their ROUTER envelope (routing id, and a correlating REQ's request id frame) */
    private PendingResponses<byte[][]> pendingResponses;
    private final Map<String, byte[]> errorFrames = new HashMap<>();
    private final AtomicLong probesCompleted = new AtomicLong();
    private final AtomicLong pollRounds = new AtomicLong();
    private final AtomicLong missedWakeUps = new AtomicLong();
    static final long IDLE_POLL_CAP_MILLIS = 1000;
    private Thread ioThread;
    private RefusalProber prober;
    private ScheduledExecutorService resolver;

    /**
     * @param self        this node's id (an entry for it in {@code peers} is ignored)
     * @param bindAddress the local address to bind PUB and ROUTER on
     * @param port        keep-alives on {@code port}, requests on {@code port + 1}
     * @param peers       every peer's host and port (this node's may be included)
     * @param codec       encodes and decodes frames (cluster name, known peer ids)
     * @param drops       counts refused frames
     * @param sink        receives events on the transport's I/O thread; it should only enqueue them
     */
    public ZmqTransport(String self, InetAddress bindAddress, int port, Map<String, PeerEndpoint> peers,
                        Codec codec, DropCounters drops, Consumer<Event> sink) {
        this(self, bindAddress, port, peers, codec, drops, sink, TransportOptions.defaults());
    }

    public ZmqTransport(String self, InetAddress bindAddress, int port, Map<String, PeerEndpoint> peers,
                        Codec codec, DropCounters drops, Consumer<Event> sink, TransportOptions options) {
        if (self == null || self.isEmpty()) throw new IllegalArgumentException("transport needs this node's id");
        if (bindAddress == null) throw new IllegalArgumentException("transport of " + self + " needs a bind address");
        if (port < 1 || port > 65534)
            throw new IllegalArgumentException("port of " + self + " must be 1-65534 (port + 1 is used too), got " + port);
        if (peers == null || codec == null || drops == null || sink == null || options == null)
            throw new IllegalArgumentException("transport of " + self + " needs peers, codec, drop counters, sink and options");
        if (!codec.knownPeers().contains(self))
            throw new IllegalArgumentException("node " + self + " is not among the codec's peers " + codec.knownPeers());
        this.self = self;
        this.bindAddress = bindAddress;
        this.port = port;
        this.codec = codec;
        this.drops = drops;
        this.sink = sink;
        this.options = options;
        this.curve = options.curve();
        for (Map.Entry<String, PeerEndpoint> e : peers.entrySet()) {
            if (e.getKey().equals(self)) continue;
            if (!codec.knownPeers().contains(e.getKey()))
                throw new IllegalArgumentException("peer " + e.getKey() + " is not among the codec's peers " + codec.knownPeers());
            if (curve != null && e.getValue().publicKey() == null)
                throw new IllegalArgumentException("CURVE mode: peer " + e.getKey() + " has no public key");
            links.put(e.getKey(), new PeerLink(e.getKey(), e.getValue()));
        }
    }

    public String self() {
        return self;
    }

    // ------------------------------------------------------------------------------ public API

    /**
     * Binds PUB on {@code port} and ROUTER on {@code port + 1} now, connects to the peers and starts
     * the threads.
     *
     * @throws BindException naming the socket, the address and the port when a bind fails
     */
    public void start() throws BindException {
        synchronized (lifecycle) {
            if (closed) throw new IllegalStateException("transport of " + self + " is closed; create a new one");
            if (started) throw new IllegalStateException("transport of " + self + " is already started");
            ZContext c = new ZContext(IO_THREADS);
            c.setLinger(0);
            try {
                boolean v6 = bindAddress instanceof Inet6Address;
                // the ZAP handler first: a socket with a ZAP domain and no handler would admit anyone
                zap = new ZapHandler(c, links.values(), curve != null, drops);
                pub = newServerSocket(c, SocketType.PUB);
                pub.setSndHWM(HWM);
                pub.setIPv6(v6);
                String tag = self + "-" + System.identityHashCode(this);
                pubWatch = new HandshakeWatch(c, pub, "keep-alive PUB", "inproc://quorumd-mon-pub-" + tag, drops, HANDSHAKE_IVL_MILLIS);
                bind(pub, "keep-alive PUB", port);
                router = newServerSocket(c, SocketType.ROUTER);
                router.setRcvHWM(HWM);
                router.setIPv6(v6);
                routerWatch = new HandshakeWatch(c, router, "request ROUTER", "inproc://quorumd-mon-router-" + tag, drops, HANDSHAKE_IVL_MILLIS);
                bind(router, "request ROUTER", port + 1);
                String inproc = "inproc://quorumd-wake-" + self + "-" + System.identityHashCode(this);
                wakeRecv = c.createSocket(SocketType.PAIR);
                wakeRecv.setLinger(0);
                wakeRecv.bind(inproc);
                ZMQ.Socket ws = c.createSocket(SocketType.PAIR);
                ws.setLinger(0);
                ws.connect(inproc);
                // the context's own selector (ZContext.createSelector is deprecated): closed when the context is
                selector = c.getContext().selector();
                ctx = c;
                synchronized (wakeLock) {
                    wakeSend = ws;
                }
            } catch (BindException | RuntimeException e) {
                c.close();
                throw e;
            }
            pendingResponses = new PendingResponses<>(options.pendingResponseTtlNanos(), options.maxPendingResponses());
            List<PeerLink> named = new ArrayList<>();
            for (PeerLink link : links.values()) {
                String host = link.endpoint.host();
                if (!IP_LITERAL.matcher(host).matches()) {
                    named.add(link);
                    continue;
                }
                try {
                    link.address = InetAddress.getByName(host); // a literal: no DNS query
                    connectPeer(link);
                } catch (UnknownHostException e) {
                    LOG.error("peer {}: host {} is not a valid IP address: {}", link.id, host, e.getMessage());
                }
            }
            try {
                prober = new RefusalProber("quorumd-probe-" + self, options.probeTimeoutNanos(),
                        (peer, outcome, detail) -> enqueue(new ProbeResult(peer, outcome, detail)));
            } catch (IOException e) {
                c.close();
                throw new UncheckedIOException("transport of " + self + ": cannot open the probe selector: " + e.getMessage(), e);
            }
            prober.start();
            if (!named.isEmpty()) {
                resolver = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "quorumd-resolve-" + self);
                    t.setDaemon(true);
                    return t;
                });
                NameWatch watch = new NameWatch(named);
                resolver.scheduleWithFixedDelay(watch::resolveAll, 0, options.resolveIntervalNanos(), TimeUnit.NANOSECONDS);
            }
            running = true;
            started = true;
            ioThread = new Thread(this::runLoop, "quorumd-transport-" + self);
            ioThread.setDaemon(true);
            ioThread.start();
            wake(); // for anything handed over before start()
            LOG.info("transport of {} listening: keep-alives on {}, requests on {}; {} peer(s); {} JeroMQ I/O thread(s); {}", self,
                    PeerLink.tcp(bindAddress, port), PeerLink.tcp(bindAddress, port + 1), links.size(), IO_THREADS,
                    curve != null ? "CURVE, public key " + curve.publicKeyZ85()
                            : "trusted mode: only the peers' addresses are admitted");
        }
    }

    /** Publishes a keep-alive to every subscribed peer. A keep-alive that breaks the codec's rules is logged and dropped. */
    public void publish(Message.KeepAlive keepAlive) {
        byte[] frame;
        try {
            frame = codec.encode(keepAlive);
        } catch (IllegalArgumentException e) {
            LOG.error("keep-alive not published: {}", e.getMessage());
            return;
        }
        enqueue(new Publish(frame));
    }

    /**
     * Sends a {@link Message.VoteRequest}, {@link Message.HandOver}, {@link Message.Preempt},
     * {@link Message.Append}, {@link Message.Forward} or {@link Message.InstallSnapshot} to {@code to}. The answer comes as
     * {@link Event.Received}, or else {@link Event.RequestFailed} within about {@code timeoutNanos}.
     *
     * <p>Each peer has two lanes, each a REQ socket with one request outstanding: the election's
     * (votes, hand-overs, preemption) and the replicated log's (appends, snapshot chunks, and a
     * follower's forwarded client requests). A newer request to the same peer on the same lane supersedes one still
     * outstanding (which then fails); the lanes never supersede each other, so a master's appends
     * never cancel its hand-over, and a vote never waits behind an append.
     *
     * @throws IllegalArgumentException when {@code msg} is not a request or the time-out is not positive
     */
    public void request(String to, Message msg, long timeoutNanos) {
        if (timeoutNanos <= 0) throw new IllegalArgumentException("request time-out must be positive, got " + timeoutNanos + " ns");
        long requestId;
        Class<?> replyType;
        if (msg instanceof Message.VoteRequest v) {
            requestId = v.requestId();
            replyType = Message.VoteResponse.class;
        } else if (msg instanceof Message.HandOver h) {
            requestId = h.requestId();
            replyType = Message.HandOverAck.class;
        } else if (msg instanceof Message.Preempt p) {
            requestId = p.requestId();
            replyType = Message.HandOverAck.class;
        } else if (msg instanceof Message.Append a) {
            requestId = a.requestId();
            replyType = Message.AppendAck.class;
        } else if (msg instanceof Message.Forward f) {
            requestId = f.requestId();
            replyType = Message.ForwardReply.class;
        } else if (msg instanceof Message.InstallSnapshot x) {
            requestId = x.requestId();
            replyType = Message.InstallSnapshotAck.class;
        } else {
            throw new IllegalArgumentException("only VoteRequest, HandOver, Preempt, Append, Forward and InstallSnapshot are "
                    + "requests, got "
                    + (msg == null ? "null" : msg.type()));
        }
        byte[] frame;
        try {
            frame = codec.encode(msg);
        } catch (IllegalArgumentException e) {
            LOG.error("request {} to {} not sent: {}", requestId, to, e.getMessage());
            enqueue(new FailRequest(to, requestId, "cannot encode: " + e.getMessage()));
            return;
        }
        boolean logLane = msg instanceof Message.Append || msg instanceof Message.Forward
                || msg instanceof Message.InstallSnapshot;
        enqueue(new Request(to, requestId, replyType, frame, timeoutNanos, logLane));
    }

    /**
     * Answers the inbound request from {@code to} that has {@code reply}'s request id. An answer to
     * a request that expired (see {@link TransportOptions#pendingResponseTtlNanos}), was already
     * answered or never came is dropped with a debug line.
     *
     * @throws IllegalArgumentException when {@code reply} is not a {@link Message.VoteResponse} or {@link Message.HandOverAck}
     */
    public void respond(String to, Message reply) {
        long requestId;
        if (reply instanceof Message.VoteResponse v) requestId = v.requestId();
        else if (reply instanceof Message.HandOverAck a) requestId = a.requestId();
        else if (reply instanceof Message.AppendAck a) requestId = a.requestId();
        else if (reply instanceof Message.ForwardReply f) requestId = f.requestId();
        else if (reply instanceof Message.InstallSnapshotAck a) requestId = a.requestId();
        else throw new IllegalArgumentException("only VoteResponse, HandOverAck, AppendAck, ForwardReply and InstallSnapshotAck "
                    + "are answers, got "
                    + (reply == null ? "null" : reply.type()));
        byte[] frame;
        try {
            frame = codec.encode(reply);
        } catch (IllegalArgumentException e) {
            LOG.error("answer to request {} of {} not sent: {}", requestId, to, e.getMessage());
            return;
        }
        enqueue(new Respond(to, requestId, frame));
    }

    /**
     * Tries a plain TCP connection to {@code peer}'s request port; a refusal is reported as
     * {@link Event.PeerRefused} (once per episode), anything else is not reported.
     */
    public void probe(String peer) {
        enqueue(new Probe(peer));
    }

    /** Stops the threads and closes every socket and the ZMQ context; returns within about a second. */
    @Override
    public void close() {
        Thread io;
        ScheduledExecutorService names;
        RefusalProber probes;
        synchronized (lifecycle) {
            if (closed) return;
            closed = true;
            running = false;
            io = ioThread;
            names = resolver;
            probes = prober;
        }
        if (names != null) names.shutdownNow();
        if (probes != null) probes.close();
        wake();
        if (io != null) {
            try {
                io.join(900);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (io.isAlive()) LOG.warn("transport thread of {} did not stop within 900 ms", self);
        }
    }

    // --------------------------------------------------------------------- hand-over to the I/O thread

    private sealed interface Cmd permits Publish, Request, Respond, Probe, ProbeResult, Resolved, FailRequest {}

    private record Publish(byte[] frame) implements Cmd {}

    private record Request(String to, long requestId, Class<?> replyType, byte[] frame, long timeoutNanos,
                           boolean logLane) implements Cmd {}

    private record Respond(String to, long requestId, byte[] frame) implements Cmd {}

    private record Probe(String peer) implements Cmd {}

    private record ProbeResult(String peer, RefusalProber.Outcome outcome, String detail) implements Cmd {}

    private record Resolved(String peer, InetAddress address) implements Cmd {}

    private record FailRequest(String to, long requestId, String reason) implements Cmd {}

    private void enqueue(Cmd c) {
        if (closed) return;
        commands.add(c);
        wake();
    }

    /**
     * At most one wake-up message is in flight: the flag is cleared by the I/O thread before it
     * drains the queue. (A java.nio Pipe in the ZMQ poll was tried first: JeroMQ reads a raw
     * channel's readiness from a stale SelectionKey, which made the loop spin under traffic.)
     */
    private void wake() {
        if (wakeSignalled.compareAndSet(false, true)) {
            synchronized (wakeLock) {
                if (wakeSend == null) {
                    wakeSignalled.set(false); // not started (the loop drains the queue when it starts) or stopped
                    return;
                }
                try {
                    wakeSend.send(EMPTY, ZMQ.DONTWAIT);
                } catch (ZMQException e) {
                    LOG.debug("wake-up of {} failed: {}", self, e.toString());
                }
            }
        }
    }

    // ------------------------------------------------------------------------------ the I/O thread

    private void runLoop() {
        List<ZMQ.PollItem> items = new ArrayList<>();
        List<PeerLink> reqLinks = new ArrayList<>();
        List<PeerLink> subLinks = new ArrayList<>();
        int consecutiveErrors = 0;
        try {
            boolean more = false;
            while (running) {
                try {
                    items.clear();
                    reqLinks.clear();
                    subLinks.clear();
                    items.add(new ZMQ.PollItem(wakeRecv, ZMQ.Poller.POLLIN));
                    items.add(new ZMQ.PollItem(router, ZMQ.Poller.POLLIN));
                    items.add(new ZMQ.PollItem(zap.socket(), ZMQ.Poller.POLLIN));
                    items.add(new ZMQ.PollItem(pubWatch.socket(), ZMQ.Poller.POLLIN));
                    items.add(new ZMQ.PollItem(routerWatch.socket(), ZMQ.Poller.POLLIN));
                    for (PeerLink link : links.values()) {
                        if (link.sub == null) continue;
                        items.add(new ZMQ.PollItem(link.sub, ZMQ.Poller.POLLIN));
                        subLinks.add(link);
                    }
                    int firstReq = items.size();
                    for (PeerLink peer : links.values()) {
                        for (PeerLink link : peer.lanes()) {
                            // a REQ socket only ever receives the reply to its outstanding request;
                            // polling idle ones would only add work to every round
                            if (link.req == null || link.outstanding == null) continue;
                            items.add(new ZMQ.PollItem(link.req, ZMQ.Poller.POLLIN));
                            reqLinks.add(link);
                        }
                    }
                    ZMQ.PollItem[] array = items.toArray(new ZMQ.PollItem[0]);
                    long timeoutMillis = more ? 0 : pollTimeoutMillis(System.nanoTime());
                    ZMQ.poll(selector, array, timeoutMillis);
                    pollRounds.incrementAndGet();
                    if (!running) break;
                    if (array[0].isReadable()) drainWakeUps();
                    // authentication before anything else: a handshake waits for its ZAP answer. Read
                    // every round, readable or not: JeroMQ's poll can miss a readiness change (see
                    // pollTimeoutMillis), and a ZAP request left unread would stall that handshake.
                    zap.handleAll();
                    long drained = System.nanoTime();
                    pubWatch.drain(drained);
                    routerWatch.drain(drained);
                    runCommands();
                    more = false;
                    // every round, not only after a time-out: an agent's own keep-alives wake the poll
                    // (the wake socket) ten times a second, so an input the poll missed would otherwise
                    // wait until the next frame on the same socket (TransportFuzzTest lost a SUB's
                    // batch that way with two I/O threads: nothing more came on that SUB)
                    boolean routerReady = array[1].isReadable() || hasInput(router);
                    boolean missed = routerReady && !array[1].isReadable();
                    for (int i = 0; i < subLinks.size(); i++) {
                        PeerLink link = subLinks.get(i);
                        if (link.sub != array[5 + i].getSocket()) continue; // replaced since the poll
                        boolean ready = array[5 + i].isReadable() || hasInput(link.sub);
                        missed |= ready && !array[5 + i].isReadable();
                        if (ready) more |= drainSub(link);
                    }
                    if (routerReady) more |= drainRouter();
                    for (int i = 0; i < reqLinks.size(); i++) {
                        PeerLink link = reqLinks.get(i);
                        // a command may have replaced the socket since the poll
                        if (link.req != array[firstReq + i].getSocket()) continue;
                        boolean ready = array[firstReq + i].isReadable() || hasInput(link.req);
                        missed |= ready && !array[firstReq + i].isReadable();
                        if (ready) takeReply(link);
                    }
                    if (missed) {
                        // input waiting that the poll did not report (or that arrived just after it)
                        long n = missedWakeUps.incrementAndGet();
                        LOG.debug("transport of {}: the poll missed input ({} times so far)", self, n);
                    }
                    checkDeadlines(System.nanoTime());
                    consecutiveErrors = 0;
                } catch (ZMQException e) {
                    if (!running || e.getErrorCode() == ZMQ.Error.ETERM.getCode()) break;
                    consecutiveErrors = pauseAfterError(e, consecutiveErrors);
                } catch (RuntimeException e) {
                    if (!running) break;
                    consecutiveErrors = pauseAfterError(e, consecutiveErrors);
                }
            }
        } catch (Error e) {
            LOG.error("transport thread of {} died: {}", self, e.toString(), e);
            throw e;
        } finally {
            shutdownSockets();
        }
    }

    /** Keeps the thread alive through a bug, without letting a persistent one spin a core. */
    private int pauseAfterError(RuntimeException e, int consecutive) {
        LOG.error("transport of {}: unexpected error, carrying on: {}", self, e.toString(), e);
        if (consecutive > 0) {
            try {
                Thread.sleep(Math.min(1000, 10L << Math.min(consecutive, 6)));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
        return consecutive + 1;
    }

    /**
     * Until the next deadline, and at most {@link #IDLE_POLL_CAP_MILLIS}: a poll that missed a
     * readiness change (a CI run once saw an idle transport leave a request unanswered for 3 s)
     * then costs at most that, and an idle agent wakes once a second (its keep-alives wake it
     * ten times as often anyway).
     */
    private long pollTimeoutMillis(long now) {
        long wait = Math.min(pendingResponses.untilNextExpiryNanos(now), IDLE_POLL_CAP_MILLIS * 1_000_000L);
        for (PeerLink peer : links.values()) {
            for (PeerLink link : peer.lanes()) {
                if (link.outstanding != null) wait = Math.min(wait, Math.max(0, link.outstanding.deadlineNanos() - now));
            }
        }
        return (wait + 999_999) / 1_000_000;
    }

    private static boolean hasInput(ZMQ.Socket socket) {
        return (socket.getEvents() & ZMQ.Poller.POLLIN) != 0;
    }

    private void drainWakeUps() {
        while (wakeRecv.recv(ZMQ.DONTWAIT) != null) {
            // each message only says "look at the queue"
        }
        wakeSignalled.set(false);
    }

    private void runCommands() {
        Cmd c;
        while ((c = commands.poll()) != null) {
            if (c instanceof Publish p) pub.send(p.frame, ZMQ.DONTWAIT); // at the HWM a keep-alive is best dropped
            else if (c instanceof Request r) sendRequest(r);
            else if (c instanceof Respond r) sendAnswer(r);
            else if (c instanceof Probe p) startProbe(p.peer);
            else if (c instanceof ProbeResult r) probeResult(r);
            else if (c instanceof Resolved r) resolved(r);
            else if (c instanceof FailRequest f) fail(f.to, f.requestId, f.reason);
            else throw new IllegalStateException("unhandled command " + c);
        }
    }

    // ---- requests out (REQ, Lazy Pirate)

    private void sendRequest(Request r) {
        PeerLink peer = links.get(r.to);
        if (peer == null) {
            fail(r.to, r.requestId, "no such peer: " + r.to);
            return;
        }
        PeerLink link = r.logLane ? peer.logLane : peer;
        if (link.address == null) {
            fail(link.id, r.requestId, "address of " + link.endpoint.host() + " is not resolved yet");
            return;
        }
        if (link.outstanding != null) {
            // a relaxed REQ sends again without its reply; a late reply to the old request is
            // told apart by its request id in takeReply
            fail(link.id, link.outstanding.requestId(), "superseded by request " + r.requestId);
            link.outstanding = null;
        }
        if (link.req == null) openReq(link);
        long now = System.nanoTime();
        if (!link.req.send(r.frame, ZMQ.DONTWAIT)) {
            fail(link.id, r.requestId, "could not queue the request (ZMQ errno " + link.req.errno() + ")");
            replaceReq(link);
            return;
        }
        link.outstanding = new PeerLink.Outstanding(r.requestId, r.replyType, now + r.timeoutNanos, r.timeoutNanos);
    }

    private void takeReply(PeerLink lane) {
        PeerLink link = lane;
        PeerLink peer = links.get(lane.id);
        byte[] frame = link.req.recv(ZMQ.DONTWAIT);
        if (frame == null) return;
        int extra = drainMore(link.req);
        PeerLink.Outstanding o = link.outstanding;
        link.outstanding = null;
        if (o == null) {
            drop(TransportDrop.UNEXPECTED_REPLY, "a reply from the address of " + link.id + " with no request outstanding");
            return;
        }
        if (extra > 0) {
            drop(TransportDrop.BAD_ENVELOPE, "a reply of " + (extra + 1) + " frames from the address of " + link.id);
            fail(link.id, o.requestId(), "malformed reply (" + (extra + 1) + " frames)");
            return;
        }
        Decoded d = codec.decode(frame);
        if (d instanceof DecodeFailure f) {
            drops.record(f);
            fail(link.id, o.requestId(), "undecodable reply: " + f.reason() + " (" + f.detail() + ")");
            return;
        }
        if (d instanceof Decoded.PeerError e) {
            heard(peer, "an error reply");
            fail(link.id, o.requestId(), "peer " + link.id + " could not take the request: " + e.reason());
            return;
        }
        Message m = ((Decoded.Ok) d).message();
        if (o.replyType().isInstance(m) && m.from().equals(link.id) && requestIdOf(m) != o.requestId()) {
            // the answer to a request this relaxed socket sent before (superseded or timed out):
            // the peer is alive; the request outstanding still waits for its own answer
            heard(peer, "a late reply");
            link.outstanding = o;
            drop(TransportDrop.UNEXPECTED_REPLY, "a late " + m.type() + " to request " + requestIdOf(m) + " from "
                    + link.id + " while request " + o.requestId() + " waits");
            return;
        }
        if (!o.replyType().isInstance(m) || !m.from().equals(link.id)) {
            drop(TransportDrop.UNEXPECTED_REPLY, m.type() + " " + requestIdOf(m) + " claiming to be from " + m.from()
                    + " in answer to request " + o.requestId() + " to " + link.id);
            fail(link.id, o.requestId(), "unexpected reply: " + m.type() + " " + requestIdOf(m));
            return;
        }
        heard(peer, "a reply");
        deliver(new Event.Received(m));
    }

    private void checkDeadlines(long now) {
        for (PeerLink peer : links.values()) {
            for (PeerLink link : peer.lanes()) {
                PeerLink.Outstanding o = link.outstanding;
                if (o == null || o.deadlineNanos() - now > 0) continue;
                link.outstanding = null;
                fail(link.id, o.requestId(), "no reply from " + link.id + " within " + o.timeoutNanos() / 1_000_000 + " ms");
                if (options.probeOnRequestTimeout()) startProbe(link.id);
            }
        }
        int expired = pendingResponses.expire(now);
        if (expired > 0) LOG.debug("forgot {} inbound request(s) the agent did not answer in time", expired);
    }

    private void fail(String to, long requestId, String reason) {
        LOG.debug("request {} to {} failed: {}", requestId, to, reason);
        deliver(new Event.RequestFailed(to, requestId, reason));
    }

    // ---- keep-alives in (SUB)

    /** Returns true when frames may be left for the next round. */
    private boolean drainSub(PeerLink link) {
        ZMQ.Socket sub = link.sub;
        for (int i = 0; i < BATCH; i++) {
            byte[] frame = sub.recv(ZMQ.DONTWAIT);
            if (frame == null) return false;
            int extra = drainMore(sub);
            if (extra > 0) {
                drop(TransportDrop.BAD_ENVELOPE, "a keep-alive of " + (extra + 1) + " frames");
                continue;
            }
            Decoded d = codec.decode(frame);
            if (d instanceof DecodeFailure f) {
                drops.record(f);
                continue;
            }
            if (!(d instanceof Decoded.Ok ok) || !(ok.message() instanceof Message.KeepAlive ka)) {
                drop(TransportDrop.MISPLACED, describe(d) + " on the keep-alive port");
                continue;
            }
            if (ka.from().equals(self)) {
                drop(TransportDrop.FROM_SELF, "a keep-alive claiming to come from this node (" + self
                        + "): is another node configured with the same id?");
                continue;
            }
            if (!ka.from().equals(link.id)) {
                // this socket dialled only link's address (and, under CURVE, link's server key)
                drop(TransportDrop.IMPOSTOR, "a keep-alive claiming to come from " + ka.from()
                        + " on the connection to " + link.id);
                continue;
            }
            heard(link, "a keep-alive");
            deliver(new Event.Received(ka));
        }
        return true;
    }

    // ---- requests in (ROUTER)

    /** Returns true when frames may be left for the next round. */
    private boolean drainRouter() {
        for (int i = 0; i < BATCH; i++) {
            byte[] routingId = router.recv(ZMQ.DONTWAIT);
            if (routingId == null) return false;
            byte[] delimiter = router.hasReceiveMore() ? router.recv(ZMQ.DONTWAIT) : null;
            byte[][] envelope = {routingId};
            if (delimiter != null && delimiter.length == CORRELATION_ID_BYTES && router.hasReceiveMore()) {
                // a relaxed, correlating REQ (ours) puts its request id before the delimiter: echo it
                envelope = new byte[][] {routingId, delimiter};
                delimiter = router.recv(ZMQ.DONTWAIT);
            }
            if (delimiter == null) {
                drop(TransportDrop.BAD_ENVELOPE, "a request of no frames");
                continue;
            }
            if (delimiter.length != 0) {
                int extra = drainMore(router);
                drop(TransportDrop.NO_DELIMITER, "a request of " + (extra + 1)
                        + " frame(s) without the empty delimiter frame a REQ socket sends");
                continue;
            }
            zmq.Msg bodyMsg = router.hasReceiveMore() ? router.recvMsg(ZMQ.DONTWAIT) : null;
            byte[] body = bodyMsg == null ? null : bodyMsg.data();
            int extra = drainMore(router);
            if (body == null || extra > 0) {
                drop(TransportDrop.BAD_ENVELOPE, body == null ? "a request with a delimiter and no body"
                        : "a request of " + (extra + 2) + " frames after the delimiter");
                answerError(envelope, TransportDrop.BAD_ENVELOPE.name());
                continue;
            }
            Decoded d = codec.decode(body);
            if (d instanceof DecodeFailure f) {
                drops.record(f);
                answerError(envelope, f.reason().name());
                continue;
            }
            Message m = d instanceof Decoded.Ok ok ? ok.message() : null;
            if (!(m instanceof Message.VoteRequest) && !(m instanceof Message.HandOver) && !(m instanceof Message.Preempt)
                    && !(m instanceof Message.Append) && !(m instanceof Message.Forward)
                    && !(m instanceof Message.InstallSnapshot)) {
                drop(TransportDrop.MISPLACED, describe(d) + " on the request port");
                answerError(envelope, TransportDrop.MISPLACED.name());
                continue;
            }
            if (m.from().equals(self)) {
                drop(TransportDrop.FROM_SELF, "a request claiming to come from this node (" + self
                        + "): is another node configured with the same id?");
                answerError(envelope, TransportDrop.FROM_SELF.name());
                continue;
            }
            String speaksFor = authenticatedAs(bodyMsg);
            if (!speaksFor(speaksFor, m.from())) {
                drop(TransportDrop.IMPOSTOR, "a " + m.type() + " claiming to come from " + m.from()
                        + " on a connection authenticated as " + (speaksFor == null ? "nobody" : speaksFor));
                answerError(envelope, TransportDrop.IMPOSTOR.name());
                continue;
            }
            if (pendingResponses.put(m.from(), requestIdOf(m), envelope, System.nanoTime()))
                LOG.debug("too many unanswered inbound requests: forgot the oldest");
            heard(links.get(m.from()), m.type());
            deliver(new Event.Received(m));
        }
        return true;
    }

    /** The ZAP user id of the connection a message came on: the peer id(s) it may speak for. */
    private static String authenticatedAs(zmq.Msg msg) {
        zmq.io.Metadata md = msg == null ? null : msg.getMetadata();
        return md == null ? null : md.get(zmq.io.Metadata.USER_ID);
    }

    static boolean speaksFor(String userId, String claimed) {
        if (userId == null || userId.isEmpty()) return false;
        for (String id : userId.split(",")) {
            if (id.equals(claimed)) return true;
        }
        return false;
    }

    private void sendAnswer(Respond r) {
        byte[][] envelope = pendingResponses.take(r.to, r.requestId, System.nanoTime());
        if (envelope == null) {
            LOG.debug("answer to request {} of {} dropped: no such request is waiting (answered, expired or never received)",
                    r.requestId, r.to);
            return;
        }
        sendRouted(envelope, r.frame);
    }

    private void answerError(byte[][] envelope, String reason) {
        byte[] frame = errorFrames.computeIfAbsent(reason, k -> codec.encodeError(self, k));
        sendRouted(envelope, frame);
    }

    /** An unknown or gone routing id is silently dropped by the ROUTER: the requester gave up. */
    private void sendRouted(byte[][] envelope, byte[] frame) {
        for (byte[] part : envelope) {
            if (!router.send(part, ZMQ.SNDMORE | ZMQ.DONTWAIT)) return;
        }
        if (router.send(EMPTY, ZMQ.SNDMORE | ZMQ.DONTWAIT)) router.send(frame, ZMQ.DONTWAIT);
    }

    // ---- refusal probes

    private void startProbe(String peer) {
        PeerLink link = links.get(peer);
        if (link == null) {
            LOG.warn("probe of {} ignored: no such peer", peer);
            return;
        }
        if (link.address == null || link.probeInFlight) {
            LOG.debug("probe of {} not started: {}", peer, link.address == null ? "address unknown" : "one is in flight");
            return;
        }
        LOG.debug("probing {}", peer);
        link.probeInFlight = true;
        link.probeStartedNanos = System.nanoTime();
        prober.probe(link.id, new InetSocketAddress(link.address, link.endpoint.requestPort()));
    }

    private void probeResult(ProbeResult r) {
        PeerLink link = links.get(r.peer);
        if (link == null) return;
        link.probeInFlight = false;
        switch (r.outcome) {
            case ACCEPTED -> {
                link.refusalReported = false;
                LOG.debug("probe of {}: {}", link.id, r.detail);
            }
            case REFUSED -> {
                if (link.everHeard && link.lastHeardNanos - link.probeStartedNanos > 0) {
                    LOG.debug("probe of {} refused, but the peer was heard from since it started: ignored", link.id);
                } else if (!link.refusalReported) {
                    link.refusalReported = true;
                    link.unheardSinceRefusal = true;
                    LOG.info("peer {} refused a connection ({}): its agent is not running", link.id, r.detail);
                    deliver(new Event.PeerRefused(link.id));
                } else {
                    LOG.debug("probe of {} refused again: already reported", link.id);
                }
            }
            case NO_ANSWER -> LOG.debug("probe of {}: {} (no conclusion)", link.id, r.detail);
            default -> throw new IllegalStateException("unhandled probe outcome " + r.outcome);
        }
        probesCompleted.incrementAndGet();
    }

    /** Times the I/O thread returned from its poll: a test uses it to prove the loop does not spin. */
    long pollRounds() {
        return pollRounds.get();
    }


    /** Probes whose outcome the I/O thread has taken into account: lets a test wait for one that reports nothing. */
    long probesCompleted() {
        return probesCompleted.get();
    }

    private void heard(PeerLink link, Object what) {
        if (link == null) return;
        if (link.unheardSinceRefusal) {
            link.unheardSinceRefusal = false;
            LOG.info("peer {} heard again ({}) since it refused a connection", link.id, what);
        }
        link.lastHeardNanos = System.nanoTime();
        link.everHeard = true;
        link.refusalReported = false;
    }

    // ---- addresses

    private void resolved(Resolved r) {
        PeerLink link = links.get(r.peer);
        if (link == null || r.address.equals(link.address)) return;
        if (link.address == null) {
            LOG.info("peer {}: {} resolves to {}", link.id, link.endpoint.host(), r.address.getHostAddress());
        } else {
            LOG.info("peer {}: {} now resolves to {} (was {}); reconnecting", link.id, link.endpoint.host(),
                    r.address.getHostAddress(), link.address.getHostAddress());
        }
        link.address = r.address;
        connectPeer(link);
    }

    /** (Re)connects the SUB to the peer's current address and gives it a fresh REQ socket. */
    private void connectPeer(PeerLink link) {
        if (link.sub != null) {
            link.sub.close();   // linger 0 (newSocket); closing it also drops it from the context
            link.sub = null;
        }
        // one SUB per peer: a keep-alive speaks only for the peer whose address (and key) it came from
        ZMQ.Socket s = newClientSocket(ctx, SocketType.SUB, link);
        s.setRcvHWM(HWM);
        heartbeats(s);
        s.subscribe(EMPTY);
        String ep = link.pubEndpoint();
        if (!s.connect(ep)) LOG.error("peer {}: cannot connect to {} (ZMQ errno {})", link.id, ep, s.errno());
        link.sub = s;
        link.logLane.address = link.address;
        for (PeerLink lane : link.lanes()) {
            if (lane.outstanding != null) {
                fail(lane.id, lane.outstanding.requestId(), "address of " + lane.id + " changed to " + lane.address.getHostAddress());
                lane.outstanding = null;
            }
            replaceReq(lane);
        }
    }

    /**
     * One long-lived REQ per peer, relaxed and correlated (ZMQ_REQ_RELAXED, ZMQ_REQ_CORRELATE): a
     * lost reply never wedges it, so it is not thrown away after a time-out as a Lazy Pirate
     * socket would be, and ZMQ drops a late reply to an older request by the request id frame it
     * puts before the delimiter (which the ROUTER echoes); its connection (and CURVE session: a handshake costs a few Curve25519
     * operations, slow in a cold JVM) lives on. ZMTP heartbeats drop a connection that went dead
     * without a reset, and ZMQ reconnects it.
     */
    private void openReq(PeerLink link) {
        ZMQ.Socket s = newClientSocket(ctx, SocketType.REQ, link);
        s.setReqRelaxed(true);
        s.setReqCorrelate(true);
        heartbeats(s);
        if (!s.connect(link.reqEndpoint()))
            LOG.error("peer {}: cannot connect to {} (ZMQ errno {})", link.id, link.reqEndpoint(), s.errno());
        link.req = s;
    }

    /**
     * ZMTP heartbeats on the connecting side only (SUB and REQ): a connection that went dead while
     * a link was down (no RST ever came) is dropped and re-made instead of swallowing frames after
     * the link is back. The other end answers PINGs without sending its own, so an idle agent
     * sends 2 PINGs a second per peer, not 4. Heartbeats start after the handshake; a connection
     * whose handshake never ends is cut by {@link #HANDSHAKE_IVL_MILLIS} and made again.
     */
    private static void heartbeats(ZMQ.Socket s) {
        s.setHandshakeIvl(HANDSHAKE_IVL_MILLIS);
        s.setHeartbeatIvl(ZMTP_HEARTBEAT_IVL_MILLIS);
        s.setHeartbeatTimeout(3 * ZMTP_HEARTBEAT_IVL_MILLIS);
        s.setHeartbeatTtl(3 * ZMTP_HEARTBEAT_IVL_MILLIS);
    }

    /** A fresh REQ socket for the peer (its address changed, or a send failed). */
    private void replaceReq(PeerLink link) {
        if (link.req != null) {
            link.req.close();
            link.req = null;
        }
        if (link.address != null) openReq(link);
    }

    /** Re-resolves host names on the resolver thread; tells the I/O thread only about changes. */
    private final class NameWatch {
        private final List<PeerLink> named;
        private final Map<String, InetAddress> lastSeen = new HashMap<>();
        private final Set<String> failing = new HashSet<>();

        NameWatch(List<PeerLink> named) {
            this.named = named;
        }

        void resolveAll() {
            for (PeerLink link : named) {
                String host = link.endpoint.host(); // id and endpoint are final: safe off the I/O thread
                try {
                    InetAddress a = options.resolver().resolve(host);
                    if (a == null) throw new UnknownHostException(host + ": resolver returned nothing");
                    if (failing.remove(link.id)) LOG.info("peer {}: host {} resolves again", link.id, host);
                    if (!a.equals(lastSeen.get(link.id))) {
                        lastSeen.put(link.id, a);
                        enqueue(new Resolved(link.id, a));
                    }
                } catch (UnknownHostException | RuntimeException e) {
                    if (failing.add(link.id)) {
                        LOG.warn("peer {}: cannot resolve host {} ({}); keeping its last address, retrying every {} ms",
                                link.id, host, e.getMessage(), options.resolveIntervalNanos() / 1_000_000);
                    }
                }
            }
        }
    }

    // ---- helpers

    private ZMQ.Socket newSocket(ZContext c, SocketType type) {
        ZMQ.Socket s = c.createSocket(type);
        s.setLinger(0);
        s.setMaxMsgSize(Codec.MAX_FRAME_BYTES);
        s.setReconnectIVL(options.reconnectIvlMillis());
        s.setReconnectIVLMax(options.reconnectIvlMaxMillis());
        return s;
    }

    /** PUB or ROUTER: every connection is put to the ZAP handler; under CURVE this node is the server. */
    private ZMQ.Socket newServerSocket(ZContext c, SocketType type) {
        ZMQ.Socket s = newSocket(c, type);
        s.setZAPDomain(ZapHandler.DOMAIN);
        // a greeting not done within this is cut (JeroMQ's default is 30 s): bounds how long a
        // HandshakeWatch waits before it takes a connection for greeted
        s.setHandshakeIvl(HANDSHAKE_IVL_MILLIS);
        if (curve != null) {
            s.setCurveServer(true);
            s.setCurveSecretKey(curve.secretKey());
        }
        return s;
    }

    /** SUB or REQ to one peer: under CURVE it dials with this node's keys and expects the peer's. */
    private ZMQ.Socket newClientSocket(ZContext c, SocketType type, PeerLink link) {
        ZMQ.Socket s = newSocket(c, type);
        s.setIPv6(link.address instanceof Inet6Address);
        if (curve != null) {
            s.setCurvePublicKey(curve.publicKey());
            s.setCurveSecretKey(curve.secretKey());
            s.setCurveServerKey(link.endpoint.publicKey());
        }
        return s;
    }

    private void bind(ZMQ.Socket s, String what, int p) throws BindException {
        String ep = PeerLink.tcp(bindAddress, p);
        try {
            if (s.bind(ep)) return;
            throw new ZMQException("bind returned false", s.errno());
        } catch (ZMQException e) {
            // JeroMQ's errno for a failed bind is not always the real cause: ask the JDK for it
            String cause = e.getMessage();
            try (ServerSocket probe = new ServerSocket()) {
                probe.bind(new InetSocketAddress(bindAddress, p));
            } catch (IOException je) {
                cause = je.getMessage();
            }
            BindException be = new BindException("node " + self + ": cannot bind the " + what + " socket to " + ep
                    + ": " + cause + " (is " + bindAddress.getHostAddress() + " an address of this host, and is port "
                    + p + " free? Another quorumd or another program may hold it; change bind or peers[].port)");
            be.initCause(e);
            throw be;
        }
    }

    private static int drainMore(ZMQ.Socket s) {
        int n = 0;
        while (s.hasReceiveMore()) {
            if (s.recv(ZMQ.DONTWAIT) == null) break;
            n++;
        }
        return n;
    }

    private static long requestIdOf(Message m) {
        if (m instanceof Message.VoteRequest v) return v.requestId();
        if (m instanceof Message.VoteResponse v) return v.requestId();
        if (m instanceof Message.HandOver h) return h.requestId();
        if (m instanceof Message.HandOverAck a) return a.requestId();
        if (m instanceof Message.Preempt p) return p.requestId();
        if (m instanceof Message.Append a) return a.requestId();
        if (m instanceof Message.AppendAck a) return a.requestId();
        if (m instanceof Message.Forward f) return f.requestId();
        if (m instanceof Message.ForwardReply f) return f.requestId();
        if (m instanceof Message.InstallSnapshot x) return x.requestId();
        if (m instanceof Message.InstallSnapshotAck a) return a.requestId();
        return -1;
    }

    private static String describe(Decoded d) {
        if (d instanceof Decoded.Ok ok) return "a " + ok.message().type();
        if (d instanceof Decoded.PeerError) return "an error reply";
        return "an undecodable frame";
    }

    private void drop(TransportDrop reason, String detail) {
        drops.record(reason.name(), detail);
    }

    private void deliver(Event e) {
        try {
            sink.accept(e);
        } catch (RuntimeException ex) {
            LOG.error("transport of {}: the event sink failed on {}: {}", self, e, ex.toString(), ex);
        }
    }

    private void shutdownSockets() {
        synchronized (wakeLock) { // no producer may be inside wakeSend.send while it closes
            wakeSend = null;
            try {
                ctx.close(); // linger 0 on every socket: returns at once
            } catch (RuntimeException e) {
                LOG.debug("closing the ZMQ context of {}: {}", self, e.toString());
            }
        }
        LOG.info("transport of {} stopped", self);
    }

    /** For tests and status: the peers this transport talks to, sorted. */
    public List<String> peerIds() {
        return Collections.unmodifiableList(new ArrayList<>(links.keySet()));
    }
}

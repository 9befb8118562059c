package io.quorumd.transport;

import io.quorumd.security.CurveKeys;
import io.quorumd.wire.DropCounters;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The ZAP handler (ZeroMQ's RFC 27) of one transport: every connection to this node's PUB and
 * ROUTER sockets is put to it before the handshake ends, so a connection it refuses is closed
 * before any of its messages is read.
 * <ul>
 *   <li>CURVE mode: admits only the mechanism CURVE with a key listed for a peer; the user id it
 *       answers is that peer's id, which the ROUTER then finds on every frame of the connection.</li>
 *   <li>trusted mode: admits only the mechanism NULL from an address a peer's {@code host}
 *       resolves to; the user id is the ids of every peer at that address, comma-separated (on a
 *       shared address, as on loopback, any of them may speak).</li>
 * </ul>
 * A refusal is counted as {@code unauthenticated}, with the address and what was wrong in the
 * (rate-limited) log line. Owned by the transport's I/O thread, like its socket.
 */
final class ZapHandler {
    /** The inproc endpoint ZeroMQ sends ZAP requests to, per context. */
    static final String ENDPOINT = "inproc://zeromq.zap.01";
    /** The ZAP domain set on the sockets it guards (any non-empty domain turns ZAP on for NULL). */
    static final String DOMAIN = "quorumd";
    static final String UNAUTHENTICATED = "unauthenticated";
    private static final Pattern IP_TEXT = Pattern.compile("[0-9a-fA-F:.%\\[\\]]+");

    /** What the handler answers: a user id, or a refusal with its reason. */
    record Verdict(String userId, String refusal) {
        static Verdict admit(String userId) {
            return new Verdict(userId, null);
        }

        static Verdict refuse(String why) {
            return new Verdict(null, why);
        }

        boolean admitted() {
            return refusal == null;
        }
    }

    private final ZMQ.Socket rep;
    /** Z85 public key to peer id; null in trusted mode. */
    private final Map<String, String> idByKey;
    private final Collection<PeerLink> links;
    private final DropCounters drops;
    /** The first admission is logged (a restarted agent's first CURVE handshake got this far). */
    private boolean admittedLogged;

    /**
     * Binds the handler's socket; must run before any socket that uses ZAP binds.
     *
     * @param links the peers (trusted mode reads their resolved addresses at each request)
     */
    ZapHandler(ZContext ctx, Collection<PeerLink> links, boolean curve, DropCounters drops) {
        this.links = links;
        this.drops = drops;
        if (curve) {
            idByKey = new TreeMap<>();
            for (PeerLink l : links) {
                byte[] key = l.endpoint.publicKey();
                if (key == null) throw new IllegalArgumentException("CURVE mode: peer " + l.id + " has no public key");
                idByKey.put(CurveKeys.encodeZ85(key), l.id);
            }
        } else {
            idByKey = null;
        }
        rep = ctx.createSocket(SocketType.REP);
        rep.setLinger(0);
        rep.bind(ENDPOINT);
    }

    ZMQ.Socket socket() {
        return rep;
    }

    /** Answers every request waiting on the socket. */
    void handleAll() {
        while (true) {
            byte[] first = rep.recv(ZMQ.DONTWAIT);
            if (first == null) return;
            List<byte[]> frames = new ArrayList<>();
            frames.add(first);
            while (rep.hasReceiveMore() && frames.size() < 16) frames.add(rep.recv(ZMQ.DONTWAIT));
            while (rep.hasReceiveMore()) rep.recv(ZMQ.DONTWAIT);
            answer(frames);
        }
    }

    private void answer(List<byte[]> f) {
        // RFC 27: version, request id, domain, address, identity, mechanism, credentials...
        byte[] requestId = f.size() > 1 ? f.get(1) : new byte[0];
        Verdict v;
        String address = f.size() > 3 ? text(f.get(3)) : "?";
        if (f.size() < 6 || !"1.0".equals(text(f.get(0)))) {
            v = Verdict.refuse("malformed ZAP request");
        } else {
            v = decide(text(f.get(5)), address, f.size() > 6 ? f.get(6) : null);
        }
        if (!v.admitted()) drops.record(UNAUTHENTICATED, "connection from " + address + " refused: " + v.refusal());
        else if (!admittedLogged) {
            admittedLogged = true;
            LoggerFactory.getLogger(ZapHandler.class).info("ZAP: first connection admitted ({})", v.userId());
        }
        rep.sendMore("1.0");
        rep.sendMore(requestId);
        rep.sendMore(v.admitted() ? "200" : "400");
        rep.sendMore(v.admitted() ? "OK" : v.refusal());
        rep.sendMore(v.admitted() ? v.userId() : "");
        rep.send(new byte[0]);
    }

    /** The decision alone: which peer, if any, a connection of this mechanism, address and key is. */
    Verdict decide(String mechanism, String address, byte[] credential) {
        if (idByKey != null) {
            if (!"CURVE".equals(mechanism))
                return Verdict.refuse("mechanism " + mechanism + " where this cluster requires CURVE");
            if (credential == null || credential.length != 32) return Verdict.refuse("no CURVE key presented");
            String z85 = CurveKeys.encodeZ85(credential);
            String id = idByKey.get(z85);
            return id == null ? Verdict.refuse("CURVE key " + z85 + " is not a peer's public_key") : Verdict.admit(id);
        }
        if (!"NULL".equals(mechanism)) return Verdict.refuse("mechanism " + mechanism + " in trusted mode");
        InetAddress a = literal(address);
        if (a == null) return Verdict.refuse("address " + address + " is not an IP literal");
        StringBuilder ids = new StringBuilder();
        for (PeerLink l : links) {
            if (a.equals(l.address)) {
                if (ids.length() > 0) ids.append(',');
                ids.append(l.id);
            }
        }
        if (ids.length() == 0)
            return Verdict.refuse("address " + a.getHostAddress() + " is no peer's (trusted mode admits only the"
                    + " addresses the peers' hosts resolve to; is this peer's route leaving from another address?)");
        return Verdict.admit(ids.toString());
    }

    /** Parses an IP literal without ever asking DNS; null when it is not one. */
    static InetAddress literal(String text) {
        if (text == null || text.isEmpty() || !IP_TEXT.matcher(text).matches()) return null;
        String t = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        try {
            return InetAddress.getByName(t);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static String text(byte[] b) {
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
    }
}

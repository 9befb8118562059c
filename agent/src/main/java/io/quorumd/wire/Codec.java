package io.quorumd.wire;

import io.quorumd.core.MasterReport;
import io.quorumd.core.Message;
import io.quorumd.core.Proof;
import io.quorumd.core.TermState;
import io.quorumd.log.LogEntry;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessageInsufficientBufferException;
import org.msgpack.core.MessageIntegerOverflowException;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageSizeException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.ValueType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * MessagePack encoding of every {@link Message}, protocol version {@value #PROTOCOL_VERSION}.
 *
 * <h2>Frame layout, version 1</h2>
 * One frame is one MessagePack array of exactly 7 elements; strings are MessagePack str (UTF-8),
 * integers are MessagePack int (any width), {@code nil} marks an absent optional field:
 * <pre>
 * [version:int = 1, cluster:str, from:str, term:int in [0, 2^62), bootId:int, type:str, body:array]
 *
 * type "KeepAlive"    body [sentAtNanos, master:str|nil, echoNanos, lastContactAgoNanos &gt;= -1,
 *                           cleared:bool, proof:Proof|nil, lastLogTerm &gt;= 0, lastLogIndex &gt;= 0]
 * type "VoteRequest"  body [requestId, preVote:bool, sentAtNanos, lastLogTerm &gt;= 0, lastLogIndex &gt;= 0,
 *                           transfer:Proof|nil]
 * type "VoteResponse" body [requestId, preVote:bool, granted:bool, reason:str|nil, echoNanos,
 *                           report:MasterReport]
 * type "HandOver"     body [requestId, to:str, proof:Proof]
 * type "HandOverAck"  body [requestId, accepted:bool, reason:str|nil]
 * type "Preempt"      body [requestId]         (answered with a HandOverAck; an agent older than
 *                                               this type answers it with Error UNKNOWN_TYPE)
 * type "Append"       body [requestId, prevIndex &gt;= 0, prevTerm &gt;= 0, entries:[Entry] (at most
 *                           {@value #MAX_APPEND_ENTRIES}), leaderCommit &gt;= 0]
 * type "AppendAck"    body [requestId, success:bool, matchIndex &gt;= 0, conflictIndex &gt;= 0, conflictTerm &gt;= 0]
 * type "Forward"      body [requestId, write:bool, payload:bin]   (a follower's agent hands a client's
 *                                               kv request to the master's agent)
 * type "ForwardReply" body [requestId, exit:int in [0, 255], body:bin (UTF-8)]
 * type "InstallSnapshot"    body [requestId, lastIndex &gt;= 1, lastTerm &gt;= 1, offset &gt;= 0, data:bin (at most
 *                                 {@value Message.InstallSnapshot#MAX_CHUNK_BYTES} bytes), done:bool]
 * type "InstallSnapshotAck" body [requestId, installed:bool, lastIndex &gt;= 0, nextOffset &gt;= 0]
 * type "Error"        body [reason:str]        (the answer to a request that could not be taken;
 *                                               term 0 and bootId 0 in its envelope)
 *
 * Proof        = [kind:str (HANDOVER|CERTIFICATE|FENCE|SELF), node:str, masterTerm &gt;= 0, cleared:bool]
 * MasterReport = [master:str|nil, masterTerm &gt;= 0, cleared:bool, heardAgoNanos &gt;= -1, amnesic:bool]
 * Entry        = [index &gt;= 1, term &gt;= 1, payload:bin]   (an append's entries are contiguous from
 *                prevIndex + 1, their terms never below prevTerm nor the entry before; prevIndex 0
 *                exactly when prevTerm 0)
 * </pre>
 * Every peer id in a frame (sender, {@code master}, {@code to}, a proof's or report's node) must
 * be a configured peer; free text ({@code reason}) is at most {@value #MAX_TEXT_CHARS} chars.
 * Bodies have exactly the fields listed: any change to the layout is a new version. Every version
 * keeps the version number as the first element of a top-level array, so that a frame of another
 * version is recognised as such ({@code WRONG_VERSION}) rather than as garbage.
 *
 * <p>{@link #encode} checks the same rules as {@link #decode} and refuses (with
 * {@link IllegalArgumentException}) what a peer would drop. {@link #decode} never throws. The
 * class holds no mutable state and may be shared between threads.
 */
public final class Codec {
    public static final int PROTOCOL_VERSION = 1;
    /** The largest frame, also the sockets' maximum message size. */
    public static final int MAX_FRAME_BYTES = 64 * 1024;
    /** Longest free-text field (a refusal reason), in chars. */
    public static final int MAX_TEXT_CHARS = 1024;

    static final String KEEP_ALIVE = "KeepAlive";
    static final String VOTE_REQUEST = "VoteRequest";
    static final String VOTE_RESPONSE = "VoteResponse";
    static final String HAND_OVER = "HandOver";
    static final String HAND_OVER_ACK = "HandOverAck";
    static final String PREEMPT = "Preempt";
    static final String ERROR = "Error";
    static final String APPEND = "Append";
    static final String APPEND_ACK = "AppendAck";
    static final String FORWARD = "Forward";
    static final String FORWARD_REPLY = "ForwardReply";
    static final String INSTALL_SNAPSHOT = "InstallSnapshot";
    static final String INSTALL_SNAPSHOT_ACK = "InstallSnapshotAck";
    /** The most entries one append may carry (the frame's 64 KiB bounds their bytes). */
    public static final int MAX_APPEND_ENTRIES = 1024;

    private static final int ENVELOPE_SIZE = 7;
    /** Starts the detail of a failure that only the catch-all noticed. */
    static final String UNEXPECTED = "unexpected ";
    private static final Pattern ERROR_REASON = Pattern.compile("[A-Z][A-Z0-9_]{0,39}");

    private final String cluster;
    private final Set<String> knownPeers;
    private final MessagePack.UnpackerConfig unpackerConfig = new MessagePack.UnpackerConfig()
            .withAllowReadingBinaryAsString(false)
            .withAllowReadingStringAsBinary(false);

    /**
     * @param cluster    this cluster's name; frames naming another are dropped
     * @param knownPeers every configured peer id, this node's included
     */
    public Codec(String cluster, Set<String> knownPeers) {
        if (cluster == null || cluster.isEmpty())
            throw new IllegalArgumentException("codec needs a cluster name, got " + (cluster == null ? "null" : "''"));
        if (knownPeers == null || knownPeers.isEmpty())
            throw new IllegalArgumentException("codec needs the set of peer ids, got none");
        for (String id : knownPeers) {
            if (id == null || id.isEmpty()) throw new IllegalArgumentException("peer ids must not be empty");
        }
        this.cluster = cluster;
        this.knownPeers = Set.copyOf(knownPeers);
    }

    public String cluster() {
        return cluster;
    }

    public Set<String> knownPeers() {
        return knownPeers;
    }

    // ------------------------------------------------------------------------------------ encode

    /**
     * @throws IllegalArgumentException naming the field when {@code m} breaks a rule of the layout
     *                                  (unknown peer, negative term, null where required, too long)
     */
    public byte[] encode(Message m) {
        if (m == null) throw new IllegalArgumentException("cannot encode a null message");
        String problem = problem(m);
        if (problem != null) throw new IllegalArgumentException("cannot encode " + m.type() + ": " + problem);
        String tooLarge = termProblem(m);
        if (tooLarge != null) throw new IllegalArgumentException("cannot encode " + m.type() + ": " + tooLarge);
        try {
            Writer w = new Writer();
            w.envelope(cluster, m.from(), m.term(), m.bootId(), typeOf(m));
            if (m instanceof Message.KeepAlive k) {
                w.array(8);
                w.i64(k.sentAtNanos());
                w.strOrNil(k.master());
                w.i64(k.echoNanos());
                w.i64(k.lastContactAgoNanos());
                w.bool(k.cleared());
                w.proofOrNil(k.proof());
                w.i64(k.lastLogTerm());
                w.i64(k.lastLogIndex());
            } else if (m instanceof Message.VoteRequest v) {
                w.array(6);
                w.i64(v.requestId());
                w.bool(v.preVote());
                w.i64(v.sentAtNanos());
                w.i64(v.lastLogTerm());
                w.i64(v.lastLogIndex());
                w.proofOrNil(v.transfer());
            } else if (m instanceof Message.VoteResponse v) {
                w.array(6);
                w.i64(v.requestId());
                w.bool(v.preVote());
                w.bool(v.granted());
                w.strOrNil(v.reason());
                w.i64(v.echoNanos());
                MasterReport r = v.report();
                w.array(5);
                w.strOrNil(r.master());
                w.i64(r.masterTerm());
                w.bool(r.cleared());
                w.i64(r.heardAgoNanos());
                w.bool(r.amnesic());
            } else if (m instanceof Message.HandOver h) {
                w.array(3);
                w.i64(h.requestId());
                w.str(h.to());
                w.proofOrNil(h.proof());
            } else if (m instanceof Message.HandOverAck a) {
                w.array(3);
                w.i64(a.requestId());
                w.bool(a.accepted());
                w.strOrNil(a.reason());
            } else if (m instanceof Message.Preempt p) {
                w.array(1);
                w.i64(p.requestId());
            } else if (m instanceof Message.Append a) {
                w.array(5);
                w.i64(a.requestId());
                w.i64(a.prevIndex());
                w.i64(a.prevTerm());
                w.array(a.entries().size());
                for (LogEntry e : a.entries()) {
                    w.array(3);
                    w.i64(e.index());
                    w.i64(e.term());
                    w.bin(e.payload());
                }
                w.i64(a.leaderCommit());
            } else if (m instanceof Message.AppendAck a) {
                w.array(5);
                w.i64(a.requestId());
                w.bool(a.success());
                w.i64(a.matchIndex());
                w.i64(a.conflictIndex());
                w.i64(a.conflictTerm());
            } else if (m instanceof Message.Forward f) {
                w.array(3);
                w.i64(f.requestId());
                w.bool(f.write());
                w.bin(f.payload());
            } else if (m instanceof Message.ForwardReply f) {
                w.array(3);
                w.i64(f.requestId());
                w.i64(f.exit());
                w.bin(f.body());
            } else if (m instanceof Message.InstallSnapshot x) {
                w.array(6);
                w.i64(x.requestId());
                w.i64(x.lastIndex());
                w.i64(x.lastTerm());
                w.i64(x.offset());
                w.bin(x.data());
                w.bool(x.done());
            } else if (m instanceof Message.InstallSnapshotAck a) {
                w.array(4);
                w.i64(a.requestId());
                w.bool(a.installed());
                w.i64(a.lastIndex());
                w.i64(a.nextOffset());
            } else {
                throw new IllegalArgumentException("cannot encode message type " + m.getClass().getName());
            }
            return w.finish();
        } catch (IOException e) {
            // a buffer packer writes to memory; it cannot fail short of a bug
            throw new IllegalStateException("encoding " + m.type() + " failed: " + e, e);
        }
    }

    /**
     * The short answer to a request this node could not take: a frame whose {@link #decode} on the
     * requester gives {@link Decoded.PeerError}.
     *
     * @param reason upper-case name such as {@code MALFORMED}
     */
    public byte[] encodeError(String from, String reason) {
        if (from == null || !knownPeers.contains(from))
            throw new IllegalArgumentException("cannot encode error reply: sender " + sanitize(from) + " is not a configured peer");
        if (reason == null || !ERROR_REASON.matcher(reason).matches())
            throw new IllegalArgumentException("cannot encode error reply: reason must match " + ERROR_REASON + ", got " + sanitize(reason));
        try {
            Writer w = new Writer();
            w.envelope(cluster, from, 0, 0, ERROR);
            w.array(1);
            w.str(reason);
            return w.finish();
        } catch (IOException e) {
            throw new IllegalStateException("encoding an error reply failed: " + e, e);
        }
    }

    private static String typeOf(Message m) {
        if (m instanceof Message.KeepAlive) return KEEP_ALIVE;
        if (m instanceof Message.VoteRequest) return VOTE_REQUEST;
        if (m instanceof Message.VoteResponse) return VOTE_RESPONSE;
        if (m instanceof Message.HandOver) return HAND_OVER;
        if (m instanceof Message.HandOverAck) return HAND_OVER_ACK;
        if (m instanceof Message.Preempt) return PREEMPT;
        if (m instanceof Message.Append) return APPEND;
        if (m instanceof Message.AppendAck) return APPEND_ACK;
        if (m instanceof Message.Forward) return FORWARD;
        if (m instanceof Message.ForwardReply) return FORWARD_REPLY;
        if (m instanceof Message.InstallSnapshot) return INSTALL_SNAPSHOT;
        if (m instanceof Message.InstallSnapshotAck) return INSTALL_SNAPSHOT_ACK;
        throw new IllegalArgumentException("unknown message type " + m.getClass().getName());
    }

    // ------------------------------------------------------------------------------------ decode

    /** Never throws: every frame yields a message, a peer's error reply or a {@link DecodeFailure}. */
    public Decoded decode(byte[] frame) {
        if (frame == null) return new DecodeFailure(DecodeFailure.Reason.MALFORMED, "no frame");
        if (frame.length > MAX_FRAME_BYTES)
            return new DecodeFailure(DecodeFailure.Reason.OVERSIZED,
                    frame.length + " bytes, at most " + MAX_FRAME_BYTES + " allowed");
        if (frame.length == 0) return new DecodeFailure(DecodeFailure.Reason.TRUNCATED, "empty frame");
        Reader r = null;
        try (MessageUnpacker u = unpackerConfig.newUnpacker(frame)) {
            r = new Reader(u, frame.length);
            return decodeFrame(r);
        } catch (Fail f) {
            return f.failure;
        } catch (MessageInsufficientBufferException e) {
            return new DecodeFailure(DecodeFailure.Reason.TRUNCATED, "frame ends inside " + where(r));
        } catch (MessageSizeException e) {
            return new DecodeFailure(DecodeFailure.Reason.TRUNCATED, "declared length beyond the frame at " + where(r));
        } catch (MessageIntegerOverflowException e) {
            return new DecodeFailure(r == null ? DecodeFailure.Reason.MALFORMED : r.shapeReason,
                    "integer beyond 64 bits at " + where(r));
        } catch (IOException | RuntimeException e) {
            // The reader checks each value's type and length before unpacking it, so this is only a
            // safety net: the fuzz test asserts that it never catches anything.
            return new DecodeFailure(DecodeFailure.Reason.MALFORMED,
                    UNEXPECTED + e.getClass().getSimpleName() + " at " + where(r));
        }
    }

    private static String where(Reader r) {
        return r == null || r.field == null ? "the frame" : r.field;
    }

    private Decoded decodeFrame(Reader r) throws IOException, Fail {
        int n = r.arrayHeader("frame");
        if (n < 1) throw new Fail(DecodeFailure.Reason.MALFORMED, "frame is an empty array");
        long version = r.i64("version");
        if (version != PROTOCOL_VERSION)
            throw new Fail(DecodeFailure.Reason.WRONG_VERSION,
                    "protocol version " + version + ", this node speaks " + PROTOCOL_VERSION);
        if (n != ENVELOPE_SIZE)
            throw new Fail(DecodeFailure.Reason.MALFORMED, "envelope has " + n + " elements, expected " + ENVELOPE_SIZE);
        String frameCluster = r.str("cluster");
        if (!frameCluster.equals(cluster))
            throw new Fail(DecodeFailure.Reason.WRONG_CLUSTER,
                    "cluster " + sanitize(frameCluster) + ", this node's is " + sanitize(cluster));
        String from = r.str("from");
        if (!knownPeers.contains(from))
            throw new Fail(DecodeFailure.Reason.UNKNOWN_SENDER, "sender " + sanitize(from) + " is not a configured peer");
        long term = r.i64("term");
        if (term < 0) throw new Fail(DecodeFailure.Reason.BAD_FIELD, "term: negative (" + term + ")");
        checkTerm("term", term);
        long bootId = r.i64("bootId");
        String type = r.str("type");
        r.shapeReason = DecodeFailure.Reason.BAD_FIELD;

        Decoded result;
        switch (type) {
            case KEEP_ALIVE -> {
                r.body(type, 8);
                result = new Decoded.Ok(new Message.KeepAlive(from, term, bootId,
                        r.i64("KeepAlive.sentAtNanos"), r.strOrNil("KeepAlive.master"), r.i64("KeepAlive.echoNanos"),
                        r.i64("KeepAlive.lastContactAgoNanos"), r.bool("KeepAlive.cleared"),
                        r.proofOrNil("KeepAlive.proof"), r.i64("KeepAlive.lastLogTerm"),
                        r.i64("KeepAlive.lastLogIndex")));
            }
            case VOTE_REQUEST -> {
                r.body(type, 6);
                result = new Decoded.Ok(new Message.VoteRequest(from, term, bootId,
                        r.i64("VoteRequest.requestId"), r.bool("VoteRequest.preVote"), r.i64("VoteRequest.sentAtNanos"),
                        r.i64("VoteRequest.lastLogTerm"), r.i64("VoteRequest.lastLogIndex"),
                        r.proofOrNil("VoteRequest.transfer")));
            }
            case VOTE_RESPONSE -> {
                r.body(type, 6);
                result = new Decoded.Ok(new Message.VoteResponse(from, term, bootId,
                        r.i64("VoteResponse.requestId"), r.bool("VoteResponse.preVote"), r.bool("VoteResponse.granted"),
                        r.strOrNil("VoteResponse.reason"), r.i64("VoteResponse.echoNanos"),
                        r.report("VoteResponse.report")));
            }
            case HAND_OVER -> {
                r.body(type, 3);
                result = new Decoded.Ok(new Message.HandOver(from, term, bootId,
                        r.i64("HandOver.requestId"), r.str("HandOver.to"), r.proofOrNil("HandOver.proof")));
            }
            case HAND_OVER_ACK -> {
                r.body(type, 3);
                result = new Decoded.Ok(new Message.HandOverAck(from, term, bootId,
                        r.i64("HandOverAck.requestId"), r.bool("HandOverAck.accepted"), r.strOrNil("HandOverAck.reason")));
            }
            case PREEMPT -> {
                r.body(type, 1);
                result = new Decoded.Ok(new Message.Preempt(from, term, bootId, r.i64("Preempt.requestId")));
            }
            case APPEND -> {
                r.body(type, 5);
                long requestId = r.i64("Append.requestId");
                long prevIndex = r.i64("Append.prevIndex");
                long prevTerm = r.i64("Append.prevTerm");
                int count = r.arrayHeader("Append.entries");
                if (count > MAX_APPEND_ENTRIES)
                    throw new Fail(DecodeFailure.Reason.BAD_FIELD, "Append.entries: " + count + ", at most " + MAX_APPEND_ENTRIES);
                List<LogEntry> entries = new ArrayList<>(count);
                for (int i = 0; i < count; i++) entries.add(r.entry("Append.entries[" + i + "]"));
                result = new Decoded.Ok(new Message.Append(from, term, bootId, requestId, prevIndex, prevTerm, entries,
                        r.i64("Append.leaderCommit")));
            }
            case APPEND_ACK -> {
                r.body(type, 5);
                result = new Decoded.Ok(new Message.AppendAck(from, term, bootId, r.i64("AppendAck.requestId"),
                        r.bool("AppendAck.success"), r.i64("AppendAck.matchIndex"), r.i64("AppendAck.conflictIndex"),
                        r.i64("AppendAck.conflictTerm")));
            }
            case FORWARD -> {
                r.body(type, 3);
                result = new Decoded.Ok(new Message.Forward(from, term, bootId, r.i64("Forward.requestId"),
                        r.bool("Forward.write"), r.bin("Forward.payload")));
            }
            case FORWARD_REPLY -> {
                r.body(type, 3);
                long requestId = r.i64("ForwardReply.requestId");
                long exit = r.i64("ForwardReply.exit");
                if (exit < 0 || exit > 255)
                    throw new Fail(DecodeFailure.Reason.BAD_FIELD, "ForwardReply.exit: out of 0..255 (" + exit + ")");
                result = new Decoded.Ok(new Message.ForwardReply(from, term, bootId, requestId, (int) exit,
                        r.bin("ForwardReply.body")));
            }
            case INSTALL_SNAPSHOT -> {
                r.body(type, 6);
                long requestId = r.i64("InstallSnapshot.requestId");
                long lastIndex = r.i64("InstallSnapshot.lastIndex");
                long lastTerm = r.i64("InstallSnapshot.lastTerm");
                long offset = r.i64("InstallSnapshot.offset");
                byte[] data = r.bin("InstallSnapshot.data");
                result = new Decoded.Ok(new Message.InstallSnapshot(from, term, bootId, requestId, lastIndex, lastTerm,
                        offset, data, r.bool("InstallSnapshot.done")));
            }
            case INSTALL_SNAPSHOT_ACK -> {
                r.body(type, 4);
                result = new Decoded.Ok(new Message.InstallSnapshotAck(from, term, bootId,
                        r.i64("InstallSnapshotAck.requestId"), r.bool("InstallSnapshotAck.installed"),
                        r.i64("InstallSnapshotAck.lastIndex"), r.i64("InstallSnapshotAck.nextOffset")));
            }
            case ERROR -> {
                r.body(type, 1);
                String reason = r.str("Error.reason");
                if (!ERROR_REASON.matcher(reason).matches())
                    throw new Fail(DecodeFailure.Reason.BAD_FIELD, "Error.reason: not a reason name (" + sanitize(reason) + ")");
                result = new Decoded.PeerError(from, reason);
            }
            default -> throw new Fail(DecodeFailure.Reason.UNKNOWN_TYPE, "message type " + sanitize(type));
        }
        r.field = "the end of the frame";
        long trailing = r.remaining();
        if (trailing != 0) throw new Fail(DecodeFailure.Reason.MALFORMED, trailing + " bytes after the frame's value");
        if (result instanceof Decoded.Ok ok) {
            String problem = problem(ok.message());
            if (problem != null) throw new Fail(DecodeFailure.Reason.BAD_FIELD, problem);
            String tooLarge = termProblem(ok.message());
            if (tooLarge != null) throw new Fail(DecodeFailure.Reason.BAD_TERM, tooLarge);
        }
        return result;
    }

    private static void checkTerm(String field, long term) throws Fail {
        if (term > TermState.MAX_TERM) throw new Fail(DecodeFailure.Reason.BAD_TERM, tooLarge(field, term));
    }

    private static String tooLarge(String field, long term) {
        return field + ": " + term + " is beyond the largest term, 2^62-1";
    }

    /** The first term field of {@code m} over {@link TermState#MAX_TERM}, or null (negative ones are {@link #problem}'s). */
    private static String termProblem(Message m) {
        String t = m.type();
        if (m.term() > TermState.MAX_TERM) return tooLarge(t + ".term", m.term());
        Proof p = null;
        if (m instanceof Message.KeepAlive k) {
            if (k.lastLogTerm() > TermState.MAX_TERM) return tooLarge(t + ".lastLogTerm", k.lastLogTerm());
            p = k.proof();
        } else if (m instanceof Message.VoteRequest v) {
            if (v.lastLogTerm() > TermState.MAX_TERM) return tooLarge(t + ".lastLogTerm", v.lastLogTerm());
            p = v.transfer();
        } else if (m instanceof Message.VoteResponse v) {
            if (v.report() != null && v.report().masterTerm() > TermState.MAX_TERM)
                return tooLarge(t + ".report.masterTerm", v.report().masterTerm());
        } else if (m instanceof Message.HandOver h) {
            p = h.proof();
        } else if (m instanceof Message.Append a) {
            if (a.prevTerm() > TermState.MAX_TERM) return tooLarge(t + ".prevTerm", a.prevTerm());
            for (LogEntry e : a.entries())
                if (e.term() > TermState.MAX_TERM) return tooLarge(t + ".entries[" + e.index() + "].term", e.term());
        } else if (m instanceof Message.AppendAck a) {
            if (a.conflictTerm() > TermState.MAX_TERM) return tooLarge(t + ".conflictTerm", a.conflictTerm());
        } else if (m instanceof Message.InstallSnapshot x) {
            if (x.lastTerm() > TermState.MAX_TERM) return tooLarge(t + ".lastTerm", x.lastTerm());
        }
        if (p != null && p.masterTerm() > TermState.MAX_TERM) return tooLarge(t + ".proof.masterTerm", p.masterTerm());
        return null;
    }

    // -------------------------------------------------------------------------------- validation

    /** The first rule {@code m} breaks, named with its field, or null. Shared by encode and decode. */
    private String problem(Message m) {
        String t = m.type();
        if (m.from() == null || !knownPeers.contains(m.from()))
            return t + ".from: " + sanitize(m.from()) + " is not a configured peer";
        if (m.term() < 0) return t + ".term: negative (" + m.term() + ")";
        if (m instanceof Message.KeepAlive k) {
            if (k.master() != null && !knownPeers.contains(k.master()))
                return t + ".master: " + sanitize(k.master()) + " is not a configured peer";
            if (k.lastContactAgoNanos() < -1) return t + ".lastContactAgoNanos: below -1 (" + k.lastContactAgoNanos() + ")";
            if (k.lastLogTerm() < 0) return t + ".lastLogTerm: negative (" + k.lastLogTerm() + ")";
            if (k.lastLogIndex() < 0) return t + ".lastLogIndex: negative (" + k.lastLogIndex() + ")";
            return proofProblem(t + ".proof", k.proof());
        }
        if (m instanceof Message.VoteRequest v) {
            if (v.lastLogTerm() < 0) return t + ".lastLogTerm: negative (" + v.lastLogTerm() + ")";
            if (v.lastLogIndex() < 0) return t + ".lastLogIndex: negative (" + v.lastLogIndex() + ")";
            return proofProblem(t + ".transfer", v.transfer());
        }
        if (m instanceof Message.VoteResponse v) {
            String p = textProblem(t + ".reason", v.reason());
            if (p != null) return p;
            MasterReport r = v.report();
            if (r == null) return t + ".report: required (use MasterReport.NONE for none)";
            if (r.master() != null && !knownPeers.contains(r.master()))
                return t + ".report.master: " + sanitize(r.master()) + " is not a configured peer";
            if (r.masterTerm() < 0) return t + ".report.masterTerm: negative (" + r.masterTerm() + ")";
            if (r.heardAgoNanos() < -1) return t + ".report.heardAgoNanos: below -1 (" + r.heardAgoNanos() + ")";
            return null;
        }
        if (m instanceof Message.HandOver h) {
            if (h.to() == null || !knownPeers.contains(h.to()))
                return t + ".to: " + sanitize(h.to()) + " is not a configured peer";
            if (h.to().equals(h.from())) return t + ".to: the sender itself (" + sanitize(h.to()) + ")";
            if (h.proof() == null) return t + ".proof: required (a hand-over says the command is gone)";
            return proofProblem(t + ".proof", h.proof());
        }
        if (m instanceof Message.HandOverAck a) {
            return textProblem(t + ".reason", a.reason());
        }
        if (m instanceof Message.Preempt) return null;
        if (m instanceof Message.Append a) return appendProblem(t, a);
        if (m instanceof Message.AppendAck a) {
            if (a.matchIndex() < 0) return t + ".matchIndex: negative (" + a.matchIndex() + ")";
            if (a.conflictIndex() < 0) return t + ".conflictIndex: negative (" + a.conflictIndex() + ")";
            if (a.conflictTerm() < 0) return t + ".conflictTerm: negative (" + a.conflictTerm() + ")";
            return null;
        }
        if (m instanceof Message.Forward || m instanceof Message.ForwardReply) return null;
        if (m instanceof Message.InstallSnapshot x) {
            if (x.lastIndex() < 1) return t + ".lastIndex: below 1 (" + x.lastIndex() + ")";
            if (x.lastTerm() < 1) return t + ".lastTerm: below 1 (" + x.lastTerm() + ")";
            if (x.offset() < 0) return t + ".offset: negative (" + x.offset() + ")";
            if (x.size() > Message.InstallSnapshot.MAX_CHUNK_BYTES)
                return t + ".data: " + x.size() + " bytes, at most " + Message.InstallSnapshot.MAX_CHUNK_BYTES;
            return null;
        }
        if (m instanceof Message.InstallSnapshotAck a) {
            if (a.lastIndex() < 0) return t + ".lastIndex: negative (" + a.lastIndex() + ")";
            if (a.nextOffset() < 0) return t + ".nextOffset: negative (" + a.nextOffset() + ")";
            return null;
        }
        throw new IllegalArgumentException("unknown message type " + m.getClass().getName());
    }

    private static String appendProblem(String t, Message.Append a) {
        if (a.prevIndex() < 0) return t + ".prevIndex: negative (" + a.prevIndex() + ")";
        if (a.prevTerm() < 0) return t + ".prevTerm: negative (" + a.prevTerm() + ")";
        if ((a.prevIndex() == 0) != (a.prevTerm() == 0))
            return t + ".prevTerm: " + a.prevTerm() + " with prevIndex " + a.prevIndex() + " (0 exactly together)";
        if (a.leaderCommit() < 0) return t + ".leaderCommit: negative (" + a.leaderCommit() + ")";
        if (a.entries().size() > MAX_APPEND_ENTRIES)
            return t + ".entries: " + a.entries().size() + ", at most " + MAX_APPEND_ENTRIES;
        long index = a.prevIndex();
        long term = a.prevTerm();
        for (LogEntry e : a.entries()) {
            if (e.index() != index + 1) return t + ".entries: index " + e.index() + " where " + (index + 1) + " was due";
            if (e.term() < term) return t + ".entries[" + e.index() + "].term: " + e.term() + " below " + term;
            index = e.index();
            term = e.term();
        }
        return null;
    }

    private String proofProblem(String field, Proof p) {
        if (p == null) return null;
        if (!knownPeers.contains(p.node())) return field + ".node: " + sanitize(p.node()) + " is not a configured peer";
        return null;
    }

    private static String textProblem(String field, String text) {
        if (text != null && text.length() > MAX_TEXT_CHARS)
            return field + ": " + text.length() + " chars, at most " + MAX_TEXT_CHARS;
        return null;
    }

    /** Text from an untrusted frame, made safe for one log line: printable ASCII, at most 40 chars. */
    static String sanitize(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("'");
        int n = Math.min(s.length(), 40);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f && c != '\'' ? c : '?');
        }
        b.append('\'');
        if (s.length() > n) b.append("...(").append(s.length()).append(" chars)");
        return b.toString();
    }

    // ----------------------------------------------------------------------------------- helpers

    /** A refused frame; no stack trace, since the fuzz test makes a great many of them. */
    private static final class Fail extends Exception {
        private static final long serialVersionUID = 1L;
        /** Transient: a Fail never leaves the decoder, let alone the JVM. */
        final transient DecodeFailure failure;

        Fail(DecodeFailure.Reason reason, String detail) {
            super(detail, null, false, false);
            this.failure = new DecodeFailure(reason, detail);
        }
    }

    private static final class Writer {
        private final MessageBufferPacker p = MessagePack.newDefaultBufferPacker();

        void envelope(String cluster, String from, long term, long bootId, String type) throws IOException {
            p.packArrayHeader(ENVELOPE_SIZE);
            p.packInt(PROTOCOL_VERSION);
            str(cluster);
            str(from);
            p.packLong(term);
            p.packLong(bootId);
            str(type);
        }

        void array(int n) throws IOException {
            p.packArrayHeader(n);
        }

        void i64(long v) throws IOException {
            p.packLong(v);
        }

        void bool(boolean v) throws IOException {
            p.packBoolean(v);
        }

        /** Strict UTF-8: a string with a lone surrogate is refused rather than silently altered. */
        void str(String s) throws IOException {
            byte[] bytes;
            try {
                ByteBuffer bb = StandardCharsets.UTF_8.newEncoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .encode(CharBuffer.wrap(s));
                bytes = new byte[bb.remaining()];
                bb.get(bytes);
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("string " + sanitize(s) + " is not valid Unicode (lone surrogate)");
            }
            p.packRawStringHeader(bytes.length);
            p.writePayload(bytes);
        }

        void bin(byte[] b) throws IOException {
            p.packBinaryHeader(b.length);
            p.writePayload(b);
        }

        void strOrNil(String s) throws IOException {
            if (s == null) p.packNil();
            else str(s);
        }

        void proofOrNil(Proof proof) throws IOException {
            if (proof == null) {
                p.packNil();
                return;
            }
            p.packArrayHeader(4);
            str(proof.kind().name());
            str(proof.node());
            p.packLong(proof.masterTerm());
            p.packBoolean(proof.cleared());
        }

        byte[] finish() throws IOException {
            p.close();
            byte[] out = p.toByteArray();
            if (out.length > MAX_FRAME_BYTES)
                throw new IllegalArgumentException("frame of " + out.length + " bytes exceeds " + MAX_FRAME_BYTES);
            return out;
        }
    }

    /**
     * Reads the frame's values one by one, checking each one's type before unpacking it and each
     * declared length against the bytes actually left, so that nothing is allocated from a length
     * the sender claims.
     */
    private static final class Reader {
        private final MessageUnpacker u;
        private final int length;
        /** what a value of the wrong type makes the frame: the envelope is MALFORMED, a body BAD_FIELD */
        DecodeFailure.Reason shapeReason = DecodeFailure.Reason.MALFORMED;
        /** the field being read, for the failure's detail */
        String field;

        Reader(MessageUnpacker u, int length) {
            this.u = u;
            this.length = length;
        }

        long remaining() {
            return length - u.getTotalReadBytes();
        }

        private ValueType next(String name) throws IOException, Fail {
            field = name;
            if (remaining() <= 0) throw new Fail(DecodeFailure.Reason.TRUNCATED, "frame ends before " + name);
            MessageFormat f = u.getNextFormat();
            if (f == MessageFormat.NEVER_USED)
                throw new Fail(DecodeFailure.Reason.MALFORMED, name + ": byte 0xc1, never used in MessagePack");
            return f.getValueType();
        }

        private Fail wrongType(String name, String expected, ValueType got) {
            return new Fail(shapeReason, name + ": expected " + expected + ", got " + got.name().toLowerCase());
        }

        int arrayHeader(String name) throws IOException, Fail {
            ValueType t = next(name);
            if (t != ValueType.ARRAY) throw wrongType(name, "array", t);
            int n = u.unpackArrayHeader();
            // every element takes at least one byte
            if (n < 0 || n > remaining())
                throw new Fail(DecodeFailure.Reason.TRUNCATED, name + ": declares " + n + " elements, "
                        + remaining() + " bytes left");
            return n;
        }

        void body(String type, int fields) throws IOException, Fail {
            int n = arrayHeader(type + " body");
            if (n != fields)
                throw new Fail(DecodeFailure.Reason.BAD_FIELD, type + " body has " + n + " fields, expected " + fields);
        }

        long i64(String name) throws IOException, Fail {
            ValueType t = next(name);
            if (t != ValueType.INTEGER) throw wrongType(name, "integer", t);
            return u.unpackLong();
        }

        boolean bool(String name) throws IOException, Fail {
            ValueType t = next(name);
            if (t != ValueType.BOOLEAN) throw wrongType(name, "boolean", t);
            return u.unpackBoolean();
        }

        String str(String name) throws IOException, Fail {
            ValueType t = next(name);
            if (t == ValueType.NIL) throw new Fail(shapeReason, name + ": required, got nil");
            if (t != ValueType.STRING) throw wrongType(name, "string", t);
            int len = u.unpackRawStringHeader();
            if (len < 0 || len > remaining())
                throw new Fail(DecodeFailure.Reason.TRUNCATED, name + ": declares " + len + " bytes, "
                        + remaining() + " left");
            byte[] bytes = u.readPayload(len);
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new Fail(shapeReason, name + ": not valid UTF-8");
            }
        }

        byte[] bin(String name) throws IOException, Fail {
            ValueType t = next(name);
            if (t != ValueType.BINARY) throw wrongType(name, "binary", t);
            int len = u.unpackBinaryHeader();
            if (len < 0 || len > remaining())
                throw new Fail(DecodeFailure.Reason.TRUNCATED, name + ": declares " + len + " bytes, " + remaining() + " left");
            return u.readPayload(len);
        }

        /** A log entry; its index and term are checked here, so the record's own checks never throw. */
        LogEntry entry(String name) throws IOException, Fail {
            int n = arrayHeader(name);
            if (n != 3) throw new Fail(DecodeFailure.Reason.BAD_FIELD, name + " has " + n + " fields, expected 3");
            long index = i64(name + ".index");
            long term = i64(name + ".term");
            byte[] payload = bin(name + ".payload");
            if (index < 1) throw new Fail(DecodeFailure.Reason.BAD_FIELD, name + ".index: below 1 (" + index + ")");
            if (term < 1) throw new Fail(DecodeFailure.Reason.BAD_FIELD, name + ".term: below 1 (" + term + ")");
            checkTerm(name + ".term", term);
            return new LogEntry(index, term, payload);
        }

        boolean nil(String name) throws IOException, Fail {
            if (next(name) != ValueType.NIL) return false;
            u.unpackNil();
            return true;
        }

        String strOrNil(String name) throws IOException, Fail {
            return nil(name) ? null : str(name);
        }

        Proof proofOrNil(String name) throws IOException, Fail {
            if (nil(name)) return null;
            int n = arrayHeader(name);
            if (n != 4) throw new Fail(DecodeFailure.Reason.BAD_FIELD, name + " has " + n + " fields, expected 4");
            String kindName = str(name + ".kind");
            Proof.Kind kind;
            try {
                kind = Proof.Kind.valueOf(kindName);
            } catch (IllegalArgumentException e) {
                throw new Fail(DecodeFailure.Reason.BAD_FIELD, name + ".kind: unknown (" + sanitize(kindName) + ")");
            }
            String node = str(name + ".node");
            long masterTerm = i64(name + ".masterTerm");
            boolean cleared = bool(name + ".cleared");
            if (masterTerm < 0) throw new Fail(DecodeFailure.Reason.BAD_FIELD, name + ".masterTerm: negative (" + masterTerm + ")");
            return new Proof(kind, node, masterTerm, cleared);
        }

        MasterReport report(String name) throws IOException, Fail {
            if (nil(name)) throw new Fail(DecodeFailure.Reason.BAD_FIELD, name + ": required, got nil");
            int n = arrayHeader(name);
            if (n != 5) throw new Fail(DecodeFailure.Reason.BAD_FIELD, name + " has " + n + " fields, expected 5");
            return new MasterReport(strOrNil(name + ".master"), i64(name + ".masterTerm"), bool(name + ".cleared"),
                    i64(name + ".heardAgoNanos"), bool(name + ".amnesic"));
        }
    }
}

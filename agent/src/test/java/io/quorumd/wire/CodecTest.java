package io.quorumd.wire;

import io.quorumd.core.MasterReport;
import io.quorumd.core.Message;
import io.quorumd.core.Proof;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class CodecTest {
    private final Codec codec = TestMessages.codec();

    // ------------------------------------------------------------------ round trips and layout

    @Test
    void everyMessageTypeRoundTripsWithEdgeValues() {
        TestMessages gen = new TestMessages(new Random(42), TestMessages.PEERS);
        for (int i = 0; i < 2_000; i++) {
            for (Message m : List.of(gen.keepAlive(gen.peer()), gen.voteRequest(gen.peer()), gen.voteResponse(gen.peer()),
                    gen.handOver(gen.peer()), gen.handOverAck(gen.peer()), gen.preempt(gen.peer()))) {
                assertEquals(new Decoded.Ok(m), codec.decode(codec.encode(m)), () -> "round trip of " + m);
            }
        }
    }

    private static final long MAX_TERM = (1L << 62) - 1;

    @Test
    void extremesRoundTrip() {
        Proof proof = new Proof(Proof.Kind.CERTIFICATE, "node-c", MAX_TERM, true);
        List<Message> extremes = List.of(
                new Message.KeepAlive("node-a", 0, Long.MIN_VALUE, Long.MIN_VALUE, null, -1, -1, false, null, 0, 0),
                new Message.KeepAlive("node-a", MAX_TERM, Long.MAX_VALUE, Long.MAX_VALUE, "node-a", Long.MAX_VALUE,
                        Long.MAX_VALUE, true, proof, MAX_TERM, Long.MAX_VALUE),
                new Message.VoteRequest("node-b", MAX_TERM, -1, Long.MIN_VALUE, true, Long.MIN_VALUE, 0, 0, null),
                new Message.VoteResponse("node-c", 0, 0, 0, false, false, "", Long.MIN_VALUE, MasterReport.NONE),
                new Message.VoteResponse("node-c", 1, 2, 3, true, true, "ü✓😀".repeat(10), -1,
                        new MasterReport("node-a", MAX_TERM, true, Long.MAX_VALUE, true)),
                new Message.HandOver("node-a", 3, 4, 5, "node-b", new Proof(Proof.Kind.HANDOVER, "node-a", 0, false)),
                new Message.HandOverAck("node-b", 3, 4, 5, false, "x".repeat(Codec.MAX_TEXT_CHARS)),
                new Message.HandOverAck("node-b", 3, 4, 5, true, null),
                new Message.Preempt("node-c", MAX_TERM, Long.MIN_VALUE, Long.MAX_VALUE),
                new Message.Preempt("node-a", 0, 0, Long.MIN_VALUE));
        for (Message m : extremes) assertEquals(new Decoded.Ok(m), codec.decode(codec.encode(m)), m::toString);
    }

    /** Pins the documented version-1 layout byte for byte, so that a change cannot go unnoticed. */
    @Test
    void encodingFollowsTheDocumentedLayout() {
        Proof p = new Proof(Proof.Kind.FENCE, "node-b", 6, true);
        Object[] proof = {"FENCE", "node-b", 6L, true};
        assertArrayEquals(pack(env("node-a", 7, 99, "KeepAlive", new Object[] {-5L, "node-a", 11L, -1L, true, proof, 6L, 12L})),
                codec.encode(new Message.KeepAlive("node-a", 7, 99, -5, "node-a", 11, -1, true, p, 6, 12)));
        assertArrayEquals(pack(env("node-b", 8, -2, "VoteRequest", new Object[] {21L, true, 300L, 7L, 13L, null})),
                codec.encode(new Message.VoteRequest("node-b", 8, -2, 21, true, 300, 7, 13, null)));
        assertArrayEquals(pack(env("node-c", 8, 3, "VoteResponse", new Object[] {21L, false, false, "stale log", -1L,
                        new Object[] {"node-a", 7L, true, 250L, false}})),
                codec.encode(new Message.VoteResponse("node-c", 8, 3, 21, false, false, "stale log", -1,
                        new MasterReport("node-a", 7, true, 250, false))));
        assertArrayEquals(pack(env("node-a", 7, 99, "HandOver", new Object[] {4L, "node-c", proof})),
                codec.encode(new Message.HandOver("node-a", 7, 99, 4, "node-c", p)));
        assertArrayEquals(pack(env("node-c", 7, 5, "HandOverAck", new Object[] {4L, true, null})),
                codec.encode(new Message.HandOverAck("node-c", 7, 5, 4, true, null)));
        assertArrayEquals(pack(env("node-b", 7, 8, "Preempt", new Object[] {9L})),
                codec.encode(new Message.Preempt("node-b", 7, 8, 9)));
        assertArrayEquals(pack(env("node-b", 0, 0, "Error", new Object[] {"MALFORMED"})),
                codec.encodeError("node-b", "MALFORMED"));
    }

    @Test
    void errorRepliesDecodeAsPeerErrors() {
        assertEquals(new Decoded.PeerError("node-b", "WRONG_CLUSTER"), codec.decode(codec.encodeError("node-b", "WRONG_CLUSTER")));
        assertThrows(IllegalArgumentException.class, () -> codec.encodeError("node-z", "MALFORMED"));
        assertThrows(IllegalArgumentException.class, () -> codec.encodeError("node-b", "not a reason"));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-b", 0, 0, "Error", new Object[] {"lower case"})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-b", 0, 0, "Error", new Object[] {})));
    }

    // -------------------------------------------------------------- encode refuses bad messages

    @Test
    void encodeRefusesWhatAPeerWouldDrop() {
        Proof p = new Proof(Proof.Kind.SELF, "node-a", 1, false);
        refuses("from", new Message.HandOverAck("node-z", 1, 0, 0, true, null));
        refuses("from", new Message.HandOverAck(null, 1, 0, 0, true, null));
        refuses("term: negative", new Message.HandOverAck("node-a", -1, 0, 0, true, null));
        refuses("master", new Message.KeepAlive("node-a", 1, 0, 0, "node-z", -1, -1, false, null, 0, 0));
        refuses("lastContactAgoNanos", new Message.KeepAlive("node-a", 1, 0, 0, null, -1, -2, false, null, 0, 0));
        refuses("lastLogIndex", new Message.KeepAlive("node-a", 1, 0, 0, null, -1, -1, false, null, 0, -1));
        refuses("proof.node", new Message.KeepAlive("node-a", 1, 0, 0, null, -1, -1, false,
                new Proof(Proof.Kind.SELF, "node-z", 1, false), 0, 0));
        refuses("lastLogTerm", new Message.VoteRequest("node-a", 1, 0, 0, false, 0, -1, 0, null));
        refuses("report: required", new Message.VoteResponse("node-a", 1, 0, 0, false, false, null, 0, null));
        refuses("report.master", new Message.VoteResponse("node-a", 1, 0, 0, false, false, null, 0,
                new MasterReport("node-z", 1, false, -1, false)));
        refuses("report.heardAgoNanos", new Message.VoteResponse("node-a", 1, 0, 0, false, false, null, 0,
                new MasterReport(null, 0, false, -2, false)));
        refuses("reason", new Message.VoteResponse("node-a", 1, 0, 0, false, false, "x".repeat(Codec.MAX_TEXT_CHARS + 1), 0,
                MasterReport.NONE));
        refuses("to", new Message.HandOver("node-a", 1, 0, 0, "node-z", p));
        refuses("to", new Message.HandOver("node-a", 1, 0, 0, null, p));
        refuses("to: the sender itself", new Message.HandOver("node-a", 1, 0, 0, "node-a", p));
        refuses("proof: required", new Message.HandOver("node-a", 1, 0, 0, "node-b", null));
        refuses("Unicode", new Message.HandOverAck("node-a", 1, 0, 0, true, "lone \ud800 surrogate"));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(null));
    }

    private void refuses(String fragment, Message m) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.encode(m), m::toString);
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' should mention " + fragment);
    }

    @Test
    void constructorRefusesAnEmptyClusterOrPeerSet() {
        assertThrows(IllegalArgumentException.class, () -> new Codec("", java.util.Set.of("a")));
        assertThrows(IllegalArgumentException.class, () -> new Codec("c", java.util.Set.of()));
    }

    // ------------------------------------------------------------------ each failure reason

    private static final Object[] GOOD_BODY = {1L, false, 0L, 0L, 0L, null}; // a VoteRequest body

    @Test
    void malformed() {
        assertFailure(DecodeFailure.Reason.MALFORMED, null);
        assertFailure(DecodeFailure.Reason.MALFORMED, new byte[] {(byte) 0xc1});
        assertFailure(DecodeFailure.Reason.MALFORMED, pack("just a string"));
        assertFailure(DecodeFailure.Reason.MALFORMED, pack(new Object[] {}));
        assertFailure(DecodeFailure.Reason.MALFORMED, pack(new Object[] {"1", "payments"}));
        assertFailure(DecodeFailure.Reason.MALFORMED, pack(new Object[] {1L, "payments", "node-a", 1L, 0L, "VoteRequest"}));
        assertFailure(DecodeFailure.Reason.MALFORMED, pack(new Object[] {1L, 7L, "node-a", 1L, 0L, "VoteRequest", GOOD_BODY}));
        assertFailure(DecodeFailure.Reason.MALFORMED, pack(new Object[] {1L, "payments", "node-a", "1", 0L, "VoteRequest", GOOD_BODY}));
        byte[] good = pack(env("node-a", 1, 0, "VoteRequest", GOOD_BODY));
        assertFailure(DecodeFailure.Reason.MALFORMED, Arrays.copyOf(good, good.length + 1)); // a trailing byte
        byte[] badUtf8 = pack(new Object[] {1L, new Raw(new byte[] {(byte) 0xa2, (byte) 0xc3, 0x28}), "node-a", 1L, 0L, "VoteRequest", GOOD_BODY});
        assertFailure(DecodeFailure.Reason.MALFORMED, badUtf8);
    }

    @Test
    void truncated() {
        assertFailure(DecodeFailure.Reason.TRUNCATED, new byte[0]);
        byte[] good = pack(env("node-a", 1, 0, "VoteRequest", GOOD_BODY));
        for (int n = 1; n < good.length; n++) {
            Decoded d = codec.decode(Arrays.copyOf(good, n));
            assertInstanceOf(DecodeFailure.class, d, "prefix of " + n + " bytes");
        }
        assertFailure(DecodeFailure.Reason.TRUNCATED, Arrays.copyOf(good, good.length - 1));
        // huge declared lengths: nothing may be allocated from them
        assertFailure(DecodeFailure.Reason.TRUNCATED, pack(new Object[] {1L,
                new Raw(new byte[] {(byte) 0xdb, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'p'}), "node-a", 1L, 0L, "VoteRequest", GOOD_BODY}));
        assertFailure(DecodeFailure.Reason.TRUNCATED, pack(new Object[] {1L,
                new Raw(new byte[] {(byte) 0xdb, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}), "node-a", 1L, 0L, "VoteRequest", GOOD_BODY}));
        assertFailure(DecodeFailure.Reason.TRUNCATED, pack(env("node-a", 1, 0, "HandOverAck",
                new Object[] {1L, true, new Raw(new byte[] {(byte) 0xda, (byte) 0xff, (byte) 0xff, 'x'})})));
        assertFailure(DecodeFailure.Reason.TRUNCATED, new byte[] {(byte) 0xdd, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1});
        assertFailure(DecodeFailure.Reason.TRUNCATED, pack(env("node-a", 1, 0, "VoteRequest",
                new Raw(new byte[] {(byte) 0xdd, 0x00, 0x00, 0x00, 0x06, 1}))));
    }

    @Test
    void oversized() {
        assertFailure(DecodeFailure.Reason.OVERSIZED, new byte[Codec.MAX_FRAME_BYTES + 1]);
        // exactly the limit is not oversized (it is merely not a frame)
        assertFailure(DecodeFailure.Reason.MALFORMED, new byte[Codec.MAX_FRAME_BYTES]);
    }

    @Test
    void wrongVersionEvenWhenTheRestHasAnotherShape() {
        assertFailure(DecodeFailure.Reason.WRONG_VERSION, pack(new Object[] {2L, "payments", "node-a", 1L, 0L, "VoteRequest", GOOD_BODY}));
        assertFailure(DecodeFailure.Reason.WRONG_VERSION, pack(new Object[] {0L}));
        assertFailure(DecodeFailure.Reason.WRONG_VERSION, pack(new Object[] {-1L, new Object[] {"anything"}}));
    }

    @Test
    void wrongCluster() {
        assertFailure(DecodeFailure.Reason.WRONG_CLUSTER, pack(new Object[] {1L, "payment", "node-a", 1L, 0L, "VoteRequest", GOOD_BODY}));
        assertFailure(DecodeFailure.Reason.WRONG_CLUSTER, pack(new Object[] {1L, "", "node-a", 1L, 0L, "VoteRequest", GOOD_BODY}));
        byte[] other = new Codec("other", java.util.Set.copyOf(TestMessages.PEERS))
                .encode(new Message.HandOverAck("node-a", 1, 0, 0, true, null));
        assertFailure(DecodeFailure.Reason.WRONG_CLUSTER, other);
    }

    @Test
    void unknownSender() {
        assertFailure(DecodeFailure.Reason.UNKNOWN_SENDER, pack(env("node-d", 1, 0, "VoteRequest", GOOD_BODY)));
        assertFailure(DecodeFailure.Reason.UNKNOWN_SENDER, pack(env("", 1, 0, "VoteRequest", GOOD_BODY)));
        DecodeFailure f = (DecodeFailure) codec.decode(pack(env("evil\n\u001b[31mnode", 1, 0, "VoteRequest", GOOD_BODY)));
        assertTrue(f.detail().chars().allMatch(c -> c >= 0x20 && c < 0x7f), "detail is sanitised: " + f.detail());
    }

    @Test
    void unknownType() {
        assertFailure(DecodeFailure.Reason.UNKNOWN_TYPE, pack(env("node-a", 1, 0, "Vote", GOOD_BODY)));
        assertFailure(DecodeFailure.Reason.UNKNOWN_TYPE, pack(env("node-a", 1, 0, "keepalive", GOOD_BODY)));
    }

    @Test
    void badField() {
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", -1, 0, "VoteRequest", GOOD_BODY)));       // negative term
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteRequest", new Object[] {1L, false, 0L, 0L, 0L}))); // missing field
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteRequest", new Object[] {1L, false, 0L, 0L, 0L, null, 0L})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteRequest", new Object[] {null, false, 0L, 0L, 0L, null})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteRequest", new Object[] {1L, 0L, 0L, 0L, 0L, null})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteRequest", new Object[] {1L, false, 0L, -3L, 0L, null})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteRequest", "not an array")));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteRequest",
                new Object[] {1L, false, 0L, 0L, 0L, new Object[] {"BRIBE", "node-a", 1L, true}}))); // unknown proof kind
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteRequest",
                new Object[] {1L, false, 0L, 0L, 0L, new Object[] {"FENCE", "node-z", 1L, true}})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteRequest",
                new Object[] {1L, false, 0L, 0L, 0L, new Object[] {"FENCE", "node-a", -1L, true}})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "HandOver", new Object[] {1L, "node-z", new Object[] {"SELF", "node-a", 1L, true}})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "HandOver", new Object[] {1L, "node-b", null})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "VoteResponse", new Object[] {1L, false, false, null, 0L, null})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "HandOverAck",
                new Object[] {1L, true, new Raw(new byte[] {(byte) 0xa2, (byte) 0xed, (byte) 0xa0})}))); // invalid UTF-8 (a surrogate)
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "HandOverAck",
                new Object[] {new Raw(new byte[] {(byte) 0xcf, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}), true, null}))); // uint64 beyond a long
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "HandOverAck", new Object[] {1L, true, 1.5})));
        refuses("from", new Message.Preempt("node-z", 1, 0, 0));
        refuses("term: negative", new Message.Preempt("node-a", -1, 0, 0));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "Preempt", new Object[] {})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "Preempt", new Object[] {1L, 2L})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "Preempt", new Object[] {"1"})));
        assertFailure(DecodeFailure.Reason.BAD_TERM, pack(env("node-a", 1L << 62, 0, "Preempt", new Object[] {1L})));
        assertFailure(DecodeFailure.Reason.BAD_FIELD, pack(env("node-a", 1, 0, "KeepAlive",
                new Object[] {0L, "node-q", 0L, -1L, false, null, 0L, 0L}))); // master unknown
    }

    /** A term of 2^62 or more, anywhere in a frame, is BAD_TERM: the largest, 2^62-1, still decodes. */
    @Test
    void badTerm() {
        long[] accepted = {MAX_TERM, MAX_TERM - 1};
        long[] dropped = {1L << 62, (1L << 62) + 1, Long.MAX_VALUE};
        Object[] body = {1L, false, 0L, 0L, 0L, null};
        for (long t : accepted) {
            Decoded d = codec.decode(pack(env("node-a", t, 0, "VoteRequest", body)));
            assertEquals(t, assertInstanceOf(Decoded.Ok.class, d, d::toString).message().term());
        }
        for (long t : dropped) {
            assertFailure(DecodeFailure.Reason.BAD_TERM, pack(env("node-a", t, 0, "VoteRequest", body)));
            assertFailure(DecodeFailure.Reason.BAD_TERM, pack(env("node-a", t, 0, "KeepAlive",
                    new Object[] {0L, null, 0L, -1L, false, null, 0L, 0L})));
            // the terms inside a body too: a last log term, a proof's and a report's master term
            assertFailure(DecodeFailure.Reason.BAD_TERM, pack(env("node-a", 1, 0, "VoteRequest",
                    new Object[] {1L, false, 0L, t, 0L, null})));
            assertFailure(DecodeFailure.Reason.BAD_TERM, pack(env("node-a", 1, 0, "HandOver",
                    new Object[] {1L, "node-b", new Object[] {"HANDOVER", "node-a", t, true}})));
            assertFailure(DecodeFailure.Reason.BAD_TERM, pack(env("node-a", 1, 0, "VoteResponse",
                    new Object[] {1L, false, true, null, 0L, new Object[] {"node-b", t, true, 0L, false}})));
        }
        assertEquals("BAD_TERM", DecodeFailure.Reason.BAD_TERM.name());
        // and encode refuses what a peer would drop
        refuses("beyond the largest term", new Message.VoteRequest("node-a", 1L << 62, 0, 0, false, 0, 0, 0, null));
        refuses("proof.masterTerm", new Message.HandOver("node-a", 1, 0, 0, "node-b",
                new Proof(Proof.Kind.HANDOVER, "node-a", Long.MAX_VALUE, true)));
    }

    private void assertFailure(DecodeFailure.Reason expected, byte[] frame) {
        Decoded d = codec.decode(frame);
        DecodeFailure f = assertInstanceOf(DecodeFailure.class, d, () -> "expected " + expected + ", got " + d);
        assertEquals(expected, f.reason(), () -> "detail: " + f.detail());
    }

    // ------------------------------------------------------------------ hand-made frames

    /** Raw MessagePack bytes, written as they are. */
    record Raw(byte[] bytes) {}

    /** A MessagePack bin 8 of {@code b} (at most 255 bytes), packed as it is. */
    static Raw bin(byte... b) {
        byte[] raw = new byte[b.length + 2];
        raw[0] = (byte) 0xc4;
        raw[1] = (byte) b.length;
        System.arraycopy(b, 0, raw, 2, b.length);
        return new Raw(raw);
    }

    /** An envelope as the codec lays it out (cluster {@link TestMessages#CLUSTER}), for frames a test writes by hand. */
    public static Object[] env(String from, long term, long bootId, String type, Object body) {
        return new Object[] {1L, TestMessages.CLUSTER, from, term, bootId, type, body};
    }

    public static byte[] pack(Object value) {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            write(p, value);
            return p.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void write(MessageBufferPacker p, Object v) throws IOException {
        if (v == null) p.packNil();
        else if (v instanceof Long l) p.packLong(l);
        else if (v instanceof Integer i) p.packInt(i);
        else if (v instanceof Boolean b) p.packBoolean(b);
        else if (v instanceof Double d) p.packDouble(d);
        else if (v instanceof String s) p.packString(s);
        else if (v instanceof Raw r) p.writePayload(r.bytes());
        else if (v instanceof Object[] a) {
            p.packArrayHeader(a.length);
            for (Object o : a) write(p, o);
        } else throw new IllegalArgumentException("cannot pack " + v.getClass());
    }
}

package io.quorumd.wire;

import io.quorumd.core.Message;
import io.quorumd.log.LogEntry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.quorumd.wire.CodecTest.env;
import static io.quorumd.wire.CodecTest.pack;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The replicated log's two messages on the wire: round trips, the pinned layout, and what a peer drops. */
class CodecAppendTest {
    private static final long MAX_TERM = (1L << 62) - 1;
    private final Codec codec = TestMessages.codec();

    private static Message.Append append(long prevIndex, long prevTerm, List<LogEntry> entries, long commit) {
        return new Message.Append("node-a", 9, 77, 5, prevIndex, prevTerm, entries, commit);
    }

    @Test
    void appendsAndAnswersRoundTrip() {
        Random r = new Random(7);
        for (int i = 0; i < 500; i++) {
            long prev = r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(1000);
            long term = prev == 0 ? 0 : 1 + r.nextInt(5);
            List<LogEntry> es = new ArrayList<>();
            long t = Math.max(1, term);
            for (int k = 0; k < r.nextInt(5); k++) {
                if (r.nextBoolean()) t++;
                byte[] payload = new byte[r.nextInt(200)];
                r.nextBytes(payload);
                es.add(new LogEntry(prev + 1 + k, t, payload));
            }
            Message.Append a = new Message.Append("node-b", t + r.nextInt(3), r.nextLong(), r.nextLong(), prev, term, es,
                    r.nextInt(2000));
            assertEquals(new Decoded.Ok(a), codec.decode(codec.encode(a)), a::toString);
            Message.AppendAck ack = new Message.AppendAck("node-c", r.nextInt(100), r.nextLong(), r.nextLong(),
                    r.nextBoolean(), r.nextInt(1000), r.nextInt(1000), r.nextInt(100));
            assertEquals(new Decoded.Ok(ack), codec.decode(codec.encode(ack)), ack::toString);
        }
        List<Message> extremes = List.of(append(0, 0, List.of(), 0),
                append(Long.MAX_VALUE - 1, MAX_TERM, List.of(new LogEntry(Long.MAX_VALUE, MAX_TERM, new byte[0])), Long.MAX_VALUE),
                new Message.AppendAck("node-b", MAX_TERM, -1, Long.MIN_VALUE, true, Long.MAX_VALUE, Long.MAX_VALUE, MAX_TERM));
        for (Message m : extremes) assertEquals(new Decoded.Ok(m), codec.decode(codec.encode(m)), m::toString);
    }

    @Test
    void encodingFollowsTheDocumentedLayout() {
        Message.Append a = append(3, 2, List.of(new LogEntry(4, 2, new byte[] {1, 2}), new LogEntry(5, 9, new byte[0])), 3);
        assertArrayEquals(pack(env("node-a", 9, 77, "Append", new Object[] {5L, 3L, 2L,
                new Object[] {new Object[] {4L, 2L, CodecTest.bin((byte) 1, (byte) 2)}, new Object[] {5L, 9L, CodecTest.bin()}}, 3L})), codec.encode(a));
        assertArrayEquals(pack(env("node-c", 9, 8, "AppendAck", new Object[] {5L, false, 0L, 4L, 2L})),
                codec.encode(new Message.AppendAck("node-c", 9, 8, 5, false, 0, 4, 2)));
    }

    private DecodeFailure.Reason dropped(Object body) {
        Decoded d = codec.decode(pack(env("node-a", 9, 77, "Append", body)));
        return assertInstanceOf(DecodeFailure.class, d, () -> "decoded " + d).reason();
    }

    @Test
    void malformedAppendsAreDroppedWithTheirReason() {
        Object[] ok = {4L, 2L, CodecTest.bin((byte) 1)};
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, 3L, 2L, new Object[] {ok}}), "4 fields");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, 3L, 2L, new Object[] {new Object[] {5L, 2L, CodecTest.bin()}}, 0L}),
                "not contiguous");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, 3L, 2L, new Object[] {new Object[] {4L, 1L, CodecTest.bin()}}, 0L}),
                "term below prevTerm");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, 0L, 0L, new Object[] {new Object[] {0L, 1L, CodecTest.bin()}}, 0L}),
                "index 0");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, 0L, 0L, new Object[] {new Object[] {1L, 0L, CodecTest.bin()}}, 0L}),
                "term 0");
        assertEquals(DecodeFailure.Reason.BAD_TERM, dropped(new Object[] {5L, 0L, 0L, new Object[] {new Object[] {1L, MAX_TERM + 1, CodecTest.bin()}}, 0L}),
                "term past 2^62");
        assertEquals(DecodeFailure.Reason.BAD_TERM, dropped(new Object[] {5L, 3L, MAX_TERM + 1, new Object[] {}, 0L}), "prevTerm past 2^62");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, 3L, 0L, new Object[] {}, 0L}), "prevIndex without prevTerm");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, -1L, 0L, new Object[] {}, 0L}), "negative prevIndex");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, 3L, 2L, new Object[] {}, -1L}), "negative commit");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, 3L, 2L, new Object[] {new Object[] {4L, 2L, "text"}}, 0L}),
                "payload as str");
        // a payload whose declared length runs past the frame allocates nothing
        CodecTest.Raw lying = new CodecTest.Raw(new byte[] {(byte) 0xc6, 0x7f, 0, 0, 0});
        assertEquals(DecodeFailure.Reason.TRUNCATED, dropped(new Object[] {5L, 3L, 2L, new Object[] {new Object[] {4L, 2L, lying}}, 0L}));
        // more entries than one append may carry, each a byte: refused before any is read
        Object[] many = new Object[Codec.MAX_APPEND_ENTRIES + 1];
        for (int i = 0; i < many.length; i++) many[i] = 0L;
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(new Object[] {5L, 0L, 0L, many, 0L}));
        Decoded ack = codec.decode(pack(env("node-c", 9, 8, "AppendAck", new Object[] {5L, true, -1L, 0L, 0L})));
        assertEquals(DecodeFailure.Reason.BAD_FIELD, assertInstanceOf(DecodeFailure.class, ack).reason());
        Decoded ackTerm = codec.decode(pack(env("node-c", 9, 8, "AppendAck", new Object[] {5L, false, 0L, 1L, MAX_TERM + 1})));
        assertEquals(DecodeFailure.Reason.BAD_TERM, assertInstanceOf(DecodeFailure.class, ackTerm).reason());
    }

    @Test
    void encodeRefusesWhatAPeerWouldDropAndFramesOverTheLimit() {
        assertThrows(IllegalArgumentException.class,
                () -> codec.encode(append(3, 2, List.of(new LogEntry(5, 2, new byte[0])), 0)));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(append(3, 0, List.of(), 0)));
        List<LogEntry> big = List.of(new LogEntry(1, 1, new byte[40_000]), new LogEntry(2, 1, new byte[40_000]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.encode(append(0, 0, big, 0)));
        assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
        // what the core sends at most (one value of the largest size) fits in a frame
        List<LogEntry> one = List.of(new LogEntry(1, 1, new byte[32 * 1024 + 600]));
        assertInstanceOf(Decoded.Ok.class, codec.decode(codec.encode(append(0, 0, one, 0))));
    }
}

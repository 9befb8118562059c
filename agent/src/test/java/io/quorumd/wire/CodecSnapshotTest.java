package io.quorumd.wire;

import io.quorumd.core.Message;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static io.quorumd.wire.CodecTest.env;
import static io.quorumd.wire.CodecTest.pack;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The snapshot's two messages on the wire: round trips, the pinned layout, the largest chunk, and what a peer drops. */
class CodecSnapshotTest {
    private static final long MAX_TERM = (1L << 62) - 1;
    private final Codec codec = TestMessages.codec();

    @Test
    void chunksAndAnswersRoundTrip() {
        Random r = new Random(11);
        for (int i = 0; i < 500; i++) {
            byte[] data = new byte[r.nextInt(2000)];
            r.nextBytes(data);
            Message.InstallSnapshot c = new Message.InstallSnapshot("node-b", r.nextInt(100), r.nextLong(), r.nextLong(),
                    1 + r.nextInt(100_000), 1 + r.nextInt(50), r.nextInt(1 << 20), data, r.nextBoolean());
            assertEquals(new Decoded.Ok(c), codec.decode(codec.encode(c)), c::toString);
            Message.InstallSnapshotAck a = new Message.InstallSnapshotAck("node-c", r.nextInt(100), r.nextLong(), r.nextLong(),
                    r.nextBoolean(), r.nextInt(100_000), r.nextInt(1 << 20));
            assertEquals(new Decoded.Ok(a), codec.decode(codec.encode(a)), a::toString);
        }
        List<Message> extremes = List.of(
                new Message.InstallSnapshot("node-a", MAX_TERM, -1, Long.MIN_VALUE, Long.MAX_VALUE, MAX_TERM, Long.MAX_VALUE,
                        new byte[Message.InstallSnapshot.MAX_CHUNK_BYTES], true),
                new Message.InstallSnapshot("node-a", 0, 0, 0, 1, 1, 0, new byte[0], false),
                new Message.InstallSnapshotAck("node-b", MAX_TERM, -1, Long.MIN_VALUE, true, Long.MAX_VALUE, Long.MAX_VALUE));
        for (Message m : extremes) assertEquals(new Decoded.Ok(m), codec.decode(codec.encode(m)), m::toString);
    }

    @Test
    void theLargestChunkFitsInAFrame() {
        byte[] frame = codec.encode(new Message.InstallSnapshot("node-a", MAX_TERM, Long.MIN_VALUE, Long.MIN_VALUE,
                Long.MAX_VALUE, MAX_TERM, Long.MAX_VALUE, new byte[Message.InstallSnapshot.MAX_CHUNK_BYTES], true));
        assertTrue(frame.length <= Codec.MAX_FRAME_BYTES, frame.length + " bytes");
    }

    @Test
    void encodingFollowsTheDocumentedLayout() {
        assertArrayEquals(pack(env("node-a", 9, 77, "InstallSnapshot", new Object[] {5L, 10L, 3L, 128L, CodecTest.bin((byte) 1, (byte) 2), true})),
                codec.encode(new Message.InstallSnapshot("node-a", 9, 77, 5, 10, 3, 128, new byte[] {1, 2}, true)));
        assertArrayEquals(pack(env("node-c", 9, 8, "InstallSnapshotAck", new Object[] {5L, false, 10L, 256L})),
                codec.encode(new Message.InstallSnapshotAck("node-c", 9, 8, 5, false, 10, 256)));
    }

    private DecodeFailure.Reason dropped(String type, Object body) {
        Decoded d = codec.decode(pack(env("node-a", 9, 77, type, body)));
        return assertInstanceOf(DecodeFailure.class, d, () -> "decoded " + d).reason();
    }

    @Test
    void malformedChunksAndAnswersAreDroppedWithTheirReason() {
        String c = "InstallSnapshot";
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(c, new Object[] {5L, 10L, 3L, 0L, CodecTest.bin()}), "5 fields");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(c, new Object[] {5L, 0L, 3L, 0L, CodecTest.bin(), true}), "index 0");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(c, new Object[] {5L, 10L, 0L, 0L, CodecTest.bin(), true}), "last term 0");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(c, new Object[] {5L, 10L, 3L, -1L, CodecTest.bin(), true}), "negative offset");
        assertEquals(DecodeFailure.Reason.BAD_TERM, dropped(c, new Object[] {5L, 10L, MAX_TERM + 1, 0L, CodecTest.bin(), true}),
                "last term past 2^62");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(c, new Object[] {5L, 10L, 3L, 0L, "text", true}), "data as str");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(c, new Object[] {5L, 10L, 3L, 0L, CodecTest.bin(), 1L}), "done as int");
        CodecTest.Raw lying = new CodecTest.Raw(new byte[] {(byte) 0xc6, 0x7f, 0, 0, 0});
        assertEquals(DecodeFailure.Reason.TRUNCATED, dropped(c, new Object[] {5L, 10L, 3L, 0L, lying, true}),
                "a declared length past the frame allocates nothing");
        String a = "InstallSnapshotAck";
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(a, new Object[] {5L, true, -1L, 0L}), "negative index");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(a, new Object[] {5L, true, 1L, -1L}), "negative offset");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped(a, new Object[] {5L, true, 1L}), "3 fields");
    }

    @Test
    void encodeRefusesWhatAPeerWouldDrop() {
        assertThrows(IllegalArgumentException.class, () -> codec.encode(
                new Message.InstallSnapshot("node-a", 1, 1, 1, 0, 1, 0, new byte[0], false)));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(
                new Message.InstallSnapshot("node-a", 1, 1, 1, 1, 1, 0, new byte[Message.InstallSnapshot.MAX_CHUNK_BYTES + 1], true)));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(
                new Message.InstallSnapshotAck("node-a", 1, 1, 1, false, 0, -5)));
    }
}

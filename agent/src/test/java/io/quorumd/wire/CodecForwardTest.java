package io.quorumd.wire;

import io.quorumd.core.Message;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static io.quorumd.wire.CodecTest.env;
import static io.quorumd.wire.CodecTest.pack;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A follower's forwarded kv request and the master's answer on the wire: round trips, the pinned layout, drops. */
class CodecForwardTest {
    private static final long MAX_TERM = (1L << 62) - 1;
    private final Codec codec = TestMessages.codec();

    @Test
    void forwardsAndRepliesRoundTrip() {
        Random r = new Random(11);
        for (int i = 0; i < 300; i++) {
            byte[] payload = new byte[r.nextInt(3) == 0 ? 0 : r.nextInt(40_000)];
            r.nextBytes(payload);
            Message.Forward f = new Message.Forward("node-b", r.nextInt(100), r.nextLong(), r.nextLong(), r.nextBoolean(), payload);
            assertEquals(new Decoded.Ok(f), codec.decode(codec.encode(f)), f::toString);
            byte[] body = new byte[r.nextInt(60_000)];
            r.nextBytes(body);
            Message.ForwardReply a = new Message.ForwardReply("node-a", r.nextInt(100), r.nextLong(), r.nextLong(),
                    r.nextInt(256), body);
            assertEquals(new Decoded.Ok(a), codec.decode(codec.encode(a)), a::toString);
        }
        Message.ForwardReply extreme = new Message.ForwardReply("node-c", MAX_TERM, -1, Long.MIN_VALUE, 255, new byte[0]);
        assertEquals(new Decoded.Ok(extreme), codec.decode(codec.encode(extreme)));
    }

    @Test
    void encodingFollowsTheDocumentedLayout() {
        assertArrayEquals(pack(env("node-b", 4, 7, "Forward", new Object[] {9L, true, CodecTest.bin((byte) 1, (byte) 2)})),
                codec.encode(new Message.Forward("node-b", 4, 7, 9, true, new byte[] {1, 2})));
        byte[] body = "{\"rev\":3}".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(pack(env("node-a", 4, 8, "ForwardReply", new Object[] {9L, 0L, CodecTest.bin(body)})),
                codec.encode(new Message.ForwardReply("node-a", 4, 8, 9, 0, body)));
    }

    private DecodeFailure.Reason dropped(String type, Object body) {
        Decoded d = codec.decode(pack(env("node-a", 9, 77, type, body)));
        return assertInstanceOf(DecodeFailure.class, d, () -> "decoded " + d).reason();
    }

    @Test
    void malformedOnesAreDroppedWithTheirReason() {
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped("Forward", new Object[] {9L, true}), "2 fields");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped("Forward", new Object[] {9L, 1L, CodecTest.bin()}), "write as int");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped("Forward", new Object[] {9L, true, "text"}), "payload as str");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped("ForwardReply", new Object[] {9L, 256L, CodecTest.bin()}), "exit 256");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped("ForwardReply", new Object[] {9L, -1L, CodecTest.bin()}), "exit -1");
        assertEquals(DecodeFailure.Reason.BAD_FIELD, dropped("ForwardReply", new Object[] {9L, 0L, CodecTest.bin(), 1L}), "4 fields");
        CodecTest.Raw lying = new CodecTest.Raw(new byte[] {(byte) 0xc6, 0x7f, 0, 0, 0});
        assertEquals(DecodeFailure.Reason.TRUNCATED, dropped("Forward", new Object[] {9L, false, lying}));
    }

    @Test
    void encodeRefusesFramesOverTheLimit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> codec.encode(new Message.ForwardReply("node-a", 1, 1, 1, 0, new byte[Codec.MAX_FRAME_BYTES])));
        assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Message.ForwardReply("node-a", 1, 1, 1, 300, new byte[0]));
    }
}

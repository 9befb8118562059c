package io.quorumd.wire;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * What a refused frame's log line says: text from the frame is quoted, made printable and cut at
 * 40 characters, and a truncated frame names the field it ended in. (Mutation testing found these
 * unchecked: every test asserted the reason, none the detail.)
 */
class CodecDetailTest {
    private final Codec codec = TestMessages.codec();

    @Test
    void sanitizeQuotesKeepsPrintableAsciiAndReplacesTheRest() {
        assertEquals("null", Codec.sanitize(null));
        assertEquals("''", Codec.sanitize(""));
        assertEquals("' a~'", Codec.sanitize(" a~"));                           // 0x20 and 0x7e are kept
        assertEquals("'???x'", Codec.sanitize("\u001f\u007f'x"));              // 0x1f, 0x7f and the quote are not
        assertEquals("'??[31m?'", Codec.sanitize("\n\u001b[31m\u00e9"));
    }

    @Test
    void sanitizeCutsAt40CharactersAndSaysHowLongItWas() {
        String forty = "x".repeat(40);
        assertEquals("'" + forty + "'", Codec.sanitize(forty));
        assertEquals("'" + forty + "'...(41 chars)", Codec.sanitize(forty + "y"));
        assertEquals("'" + forty + "'...(100000 chars)", Codec.sanitize("x".repeat(100_000)));
    }

    @Test
    void aTruncatedFrameNamesTheFieldItEndedIn() {
        byte[] good = CodecTest.pack(CodecTest.env("node-a", 1, 0, "VoteRequest", new Object[] {1L, false, 0L, 0L, 0L, null}));
        assertEquals("empty frame", detail(new byte[0]));
        assertEquals("frame: declares 7 elements, 0 bytes left", detail(Arrays.copyOf(good, 1)));
        assertEquals("from: declares 6 bytes, 0 left", detail(Arrays.copyOf(good, 12)));
        assertEquals("frame ends before term", detail(Arrays.copyOf(good, 18)));
        assertEquals("type: declares 11 bytes, 3 left", detail(Arrays.copyOf(good, 24)));
    }

    @Test
    void anUnknownSenderIsQuotedSanitised() {
        assertEquals("sender 'node-d' is not a configured peer",
                detail(CodecTest.pack(CodecTest.env("node-d", 1, 0, "VoteRequest", new Object[] {1L, false, 0L, 0L, 0L, null}))));
        assertEquals("sender 'evil??[31mnode' is not a configured peer",
                detail(CodecTest.pack(CodecTest.env("evil\n\u001b[31mnode", 1, 0, "VoteRequest", new Object[] {1L, false, 0L, 0L, 0L, null}))));
    }

    @Test
    void aDecodeFailureNeedsAReasonAndHasADetail() {
        assertThrows(IllegalArgumentException.class, () -> new DecodeFailure(null, "x"));
        assertEquals("", new DecodeFailure(DecodeFailure.Reason.MALFORMED, null).detail());
        assertEquals("x", new DecodeFailure(DecodeFailure.Reason.MALFORMED, "x").detail());
    }

    private String detail(byte[] frame) {
        return assertInstanceOf(DecodeFailure.class, codec.decode(frame)).detail();
    }
}

package io.quorumd.wire;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * At least 100,000 hostile frames through the decoder: no exception may escape, and every frame
 * is either a valid message (that encodes back to an equal one) or counted as dropped.
 */
class CodecFuzzTest {
    private static final int FRAMES = 120_000;

    @Test
    void decoderSurvivesRandomAndMutatedFrames() {
        long seed = Long.getLong("quorumd.fuzz.seed", System.nanoTime());
        Codec codec = TestMessages.codec();
        FrameFuzzer fuzzer = new FrameFuzzer(seed, codec, TestMessages.PEERS);
        DropCounters drops = new DropCounters(System::nanoTime, line -> { });
        byte[][] frames = new byte[FRAMES][];
        for (int i = 0; i < FRAMES; i++) frames[i] = fuzzer.next();

        long ok = 0;
        long peerErrors = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < FRAMES; i++) {
            Decoded d;
            try {
                d = codec.decode(frames[i]);
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + ", frame " + i + " (" + hex(frames[i]) + ") threw " + t, t);
            }
            if (d instanceof Decoded.Ok o) {
                ok++;
                Decoded again;
                try {
                    again = codec.decode(codec.encode(o.message()));
                } catch (IllegalArgumentException e) {
                    throw new AssertionError("seed " + seed + ", frame " + i + ": decoded " + o.message()
                            + " but the encoder refuses it: " + e.getMessage(), e);
                }
                assertEquals(d, again, () -> "seed " + seed + ": re-encoding changed the message");
            } else if (d instanceof Decoded.PeerError) {
                peerErrors++;
            } else if (d instanceof DecodeFailure f) {
                drops.record(f);
                if (f.detail().startsWith(Codec.UNEXPECTED))
                    fail("seed " + seed + ", frame " + i + " (" + hex(frames[i]) + ") reached the decoder's catch-all: "
                            + f.detail() + "; its checks missed a case");
            } else {
                fail("seed " + seed + ": decode returned " + d);
            }
        }
        long elapsed = System.nanoTime() - t0;

        assertEquals(FRAMES, ok + peerErrors + drops.total(), "every frame is a message or counted");
        Set<DecodeFailure.Reason> seen = EnumSet.noneOf(DecodeFailure.Reason.class);
        for (DecodeFailure.Reason r : DecodeFailure.Reason.values()) if (drops.count(r.name()) > 0) seen.add(r);
        assertEquals(EnumSet.allOf(DecodeFailure.Reason.class), seen, "seed " + seed + ": every reason was reached");
        assertTrue(ok > 0, "some mutations stay valid");
        System.out.printf("codec fuzz (seed %d): %d frames in %d ms = %.0f frames/s; %d valid, %d error replies, dropped %s%n",
                seed, FRAMES, elapsed / 1_000_000, FRAMES / (elapsed / 1e9), ok, peerErrors, new TreeMap<>(drops.snapshot()));
    }

    private static String hex(byte[] b) {
        if (b == null) return "null";
        String h = HexFormat.of().formatHex(b, 0, Math.min(b.length, 200));
        return b.length > 200 ? h + "...(" + b.length + " bytes)" : h;
    }
}

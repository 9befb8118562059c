package io.quorumd.wire;

import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Hostile frames for the decoder: valid encodings mutated (bit flips, truncation, splices,
 * insertions, huge declared lengths, values of the wrong type, trailing bytes), plain random
 * bytes, random MessagePack structures shaped like the envelope, and now and then an oversized
 * frame. Seeded: a failing frame can be made again from its seed and index.
 */
public final class FrameFuzzer {
    /** MessagePack headers that declare a length, followed by a huge one. */
    private static final byte[][] HUGE_HEADERS = {
            {(byte) 0xdb, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}, // str32 4 GiB
            {(byte) 0xdb, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff},        // str32 2 GiB
            {(byte) 0xdd, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}, // array32
            {(byte) 0xdd, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff},
            {(byte) 0xdf, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff},        // map32
            {(byte) 0xc6, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff},        // bin32
            {(byte) 0xc9, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1},     // ext32
            {(byte) 0xda, (byte) 0xff, (byte) 0xff},                           // str16
            {(byte) 0xdc, (byte) 0xff, (byte) 0xff},                           // array16
            {(byte) 0xcf, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}, // uint64 max
    };
    /** Single bytes that are values of other types: nil, false, true, float, fixstr, fixarray, fixmap, never-used. */
    private static final byte[] TYPE_BYTES = {(byte) 0xc0, (byte) 0xc2, (byte) 0xc3, (byte) 0xca, (byte) 0xa0,
            (byte) 0x90, (byte) 0x80, (byte) 0xc1, 0x00, (byte) 0xff, (byte) 0xd4};

    private final Random random;
    private final TestMessages messages;
    private final Codec codec;
    private final List<byte[]> seeds = new ArrayList<>();

    public FrameFuzzer(long seed, Codec codec, List<String> peers) {
        this.random = new Random(seed);
        this.messages = new TestMessages(new Random(seed ^ 0x5DEECE66DL), peers);
        this.codec = codec;
        for (int i = 0; i < 200; i++) seeds.add(codec.encode(messages.any()));
        seeds.add(codec.encodeError(peers.get(0), "MALFORMED"));
    }

    /** A fresh valid frame. */
    public byte[] valid() {
        return codec.encode(messages.any());
    }

    /** The next hostile (or, now and then by chance, still valid) frame. */
    public byte[] next() {
        int kind = random.nextInt(100);
        if (kind < 4) return randomBytes();
        if (kind < 8) return envelopeShaped();
        if (kind < 9 && random.nextInt(10) == 0) return new byte[Codec.MAX_FRAME_BYTES + 1 + random.nextInt(100)];
        byte[] f = seed();
        int rounds = 1 + (random.nextInt(4) == 0 ? random.nextInt(4) : 0);
        for (int i = 0; i < rounds; i++) f = mutate(f);
        return f;
    }

    private byte[] seed() {
        return random.nextInt(4) == 0 ? valid() : seeds.get(random.nextInt(seeds.size()));
    }

    private byte[] mutate(byte[] f) {
        if (f.length == 0) return randomBytes();
        switch (random.nextInt(9)) {
            case 0: { // bit flips
                byte[] g = f.clone();
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) g[random.nextInt(g.length)] ^= (byte) (1 << random.nextInt(8));
                return g;
            }
            case 1: // truncation
                return Arrays.copyOf(f, random.nextInt(f.length));
            case 2: { // splice two frames
                byte[] other = seed();
                int a = random.nextInt(f.length + 1);
                int b = random.nextInt(other.length + 1);
                byte[] g = Arrays.copyOf(f, a + other.length - b);
                System.arraycopy(other, b, g, a, other.length - b);
                return g;
            }
            case 3: { // a huge declared length in place of some bytes
                byte[] h = HUGE_HEADERS[random.nextInt(HUGE_HEADERS.length)];
                int at = random.nextInt(f.length);
                byte[] g = Arrays.copyOf(f, Math.max(f.length, at + h.length));
                System.arraycopy(h, 0, g, at, h.length);
                return g;
            }
            case 4: { // a value of the wrong type
                byte[] g = f.clone();
                g[random.nextInt(g.length)] = TYPE_BYTES[random.nextInt(TYPE_BYTES.length)];
                return g;
            }
            case 5: { // insert random bytes
                int at = random.nextInt(f.length + 1);
                byte[] ins = new byte[1 + random.nextInt(8)];
                random.nextBytes(ins);
                byte[] g = new byte[f.length + ins.length];
                System.arraycopy(f, 0, g, 0, at);
                System.arraycopy(ins, 0, g, at, ins.length);
                System.arraycopy(f, at, g, at + ins.length, f.length - at);
                return g;
            }
            case 6: { // delete a run of bytes
                int at = random.nextInt(f.length);
                int n = 1 + random.nextInt(Math.min(8, f.length - at));
                byte[] g = new byte[f.length - n];
                System.arraycopy(f, 0, g, 0, at);
                System.arraycopy(f, at + n, g, at, f.length - at - n);
                return g;
            }
            case 7: { // trailing bytes
                byte[] g = Arrays.copyOf(f, f.length + 1 + random.nextInt(4));
                for (int i = f.length; i < g.length; i++) g[i] = (byte) random.nextInt(256);
                return g;
            }
            default: { // replace one byte by any value
                byte[] g = f.clone();
                g[random.nextInt(g.length)] = (byte) random.nextInt(256);
                return g;
            }
        }
    }

    private byte[] randomBytes() {
        byte[] b = new byte[random.nextInt(300)];
        random.nextBytes(b);
        return b;
    }

    /** An array that starts like an envelope and goes on with random values, nested at random. */
    private byte[] envelopeShaped() {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            int n = random.nextInt(4) == 0 ? random.nextInt(10) : 7;
            p.packArrayHeader(n);
            if (n > 0) p.packInt(random.nextInt(8) == 0 ? random.nextInt(3) : Codec.PROTOCOL_VERSION);
            if (n > 1) p.packString(random.nextInt(8) == 0 ? "other" : TestMessages.CLUSTER);
            if (n > 2) p.packString(random.nextInt(8) == 0 ? "node-z" : messages.peer());
            for (int i = 3; i < n; i++) randomValue(p, 0);
            return p.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void randomValue(MessageBufferPacker p, int depth) throws IOException {
        switch (random.nextInt(depth > 3 ? 7 : 9)) {
            case 0 -> p.packNil();
            case 1 -> p.packBoolean(random.nextBoolean());
            case 2 -> p.packLong(messages.anyLong());
            case 3 -> p.packString(random.nextBoolean() ? "KeepAlive" : messages.peer());
            case 4 -> p.packDouble(random.nextDouble());
            case 5 -> {
                byte[] b = new byte[random.nextInt(16)];
                random.nextBytes(b);
                p.packBinaryHeader(b.length);
                p.writePayload(b);
            }
            case 6 -> p.packString(new String[] {"VoteRequest", "VoteResponse", "HandOver", "HandOverAck", "Preempt", "Error", "x",
                    "Append", "AppendAck", "InstallSnapshot", "InstallSnapshotAck", "Forward", "ForwardReply"}[random.nextInt(13)]);
            case 7 -> {
                int n = random.nextInt(10);
                p.packArrayHeader(n);
                for (int i = 0; i < n; i++) randomValue(p, depth + 1);
            }
            default -> {
                int n = random.nextInt(4);
                p.packMapHeader(n);
                for (int i = 0; i < 2 * n; i++) randomValue(p, depth + 1);
            }
        }
    }
}

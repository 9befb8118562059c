package io.quorumd.wire;

import io.quorumd.core.MasterReport;
import io.quorumd.core.Message;
import io.quorumd.core.Proof;
import io.quorumd.core.TermState;

import java.util.List;
import java.util.Random;
import java.util.Set;

/** Valid messages drawn from a seeded random source, biased towards edge values. */
public final class TestMessages {
    public static final String CLUSTER = "payments";
    public static final List<String> PEERS = List.of("node-a", "node-b", "node-c");

    private static final long[] EDGES = {0, 1, -1, 2, 127, 128, 255, 256, -32, -33, -128, -129, 65535, 65536,
            Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 32, -(1L << 32), Long.MAX_VALUE, Long.MIN_VALUE};
    private static final String[] TEXTS = {null, "", "granted", "already voted for node-c in term 7",
            "ünïcødé ✓ 投票", "emoji 😀 and tab\t", "x".repeat(Codec.MAX_TEXT_CHARS)};

    private final Random random;
    private final List<String> peers;

    public TestMessages(Random random, List<String> peers) {
        this.random = random;
        this.peers = peers;
    }

    public static Codec codec() {
        return new Codec(CLUSTER, Set.copyOf(PEERS));
    }

    /** Any long, often an edge value. */
    public long anyLong() {
        return random.nextInt(3) == 0 ? random.nextLong() : EDGES[random.nextInt(EDGES.length)];
    }

    /** A long that is at least {@code min} (0 or -1), often an edge value. */
    public long atLeast(long min) {
        long v = anyLong();
        if (v >= min) return v;
        return v == Long.MIN_VALUE ? Long.MAX_VALUE : Math.max(min, -v);
    }

    /** A term a node may hold (0 to 2^62-1), often an edge value: larger ones are dropped as BAD_TERM. */
    public long term() {
        long v = atLeast(0);
        if (v <= TermState.MAX_TERM) return v;
        return random.nextBoolean() ? TermState.MAX_TERM : v >>> 2;
    }

    public String peer() {
        return peers.get(random.nextInt(peers.size()));
    }

    public String peerOrNull() {
        return random.nextInt(4) == 0 ? null : peer();
    }

    public String text() {
        return TEXTS[random.nextInt(TEXTS.length)];
    }

    public Proof proof() {
        Proof.Kind[] kinds = Proof.Kind.values();
        return new Proof(kinds[random.nextInt(kinds.length)], peer(), term(), random.nextBoolean());
    }

    public Proof proofOrNull() {
        return random.nextInt(3) == 0 ? null : proof();
    }

    public MasterReport report() {
        if (random.nextInt(5) == 0) return MasterReport.NONE;
        return new MasterReport(peerOrNull(), term(), random.nextBoolean(), atLeast(-1), random.nextBoolean());
    }

    public Message keepAlive(String from) {
        return new Message.KeepAlive(from, term(), anyLong(), anyLong(), peerOrNull(), anyLong(), atLeast(-1),
                random.nextBoolean(), proofOrNull(), term(), atLeast(0));
    }

    public Message voteRequest(String from) {
        return new Message.VoteRequest(from, term(), anyLong(), anyLong(), random.nextBoolean(), anyLong(),
                term(), atLeast(0), proofOrNull());
    }

    public Message voteResponse(String from) {
        return new Message.VoteResponse(from, term(), anyLong(), anyLong(), random.nextBoolean(),
                random.nextBoolean(), text(), anyLong(), report());
    }

    public Message handOver(String from) {
        String to;
        do {
            to = peer();
        } while (to.equals(from));
        return new Message.HandOver(from, term(), anyLong(), anyLong(), to, proof());
    }

    public Message handOverAck(String from) {
        return new Message.HandOverAck(from, term(), anyLong(), anyLong(), random.nextBoolean(), text());
    }

    public Message preempt(String from) {
        return new Message.Preempt(from, term(), anyLong(), anyLong());
    }

    public Message forward(String from) {
        byte[] payload = new byte[random.nextInt(64)];
        random.nextBytes(payload);
        return new Message.Forward(from, term(), anyLong(), anyLong(), random.nextBoolean(), payload);
    }

    public Message forwardReply(String from) {
        byte[] body = new byte[random.nextInt(64)];
        random.nextBytes(body);
        return new Message.ForwardReply(from, term(), anyLong(), anyLong(), random.nextInt(256), body);
    }

    public Message installSnapshot(String from) {
        byte[] data = new byte[random.nextInt(8) == 0 ? Message.InstallSnapshot.MAX_CHUNK_BYTES : random.nextInt(64)];
        random.nextBytes(data);
        long index = Math.max(1, atLeast(0));
        long lastTerm = Math.max(1, term());
        return new Message.InstallSnapshot(from, term(), anyLong(), anyLong(), index, lastTerm, atLeast(0), data,
                random.nextBoolean());
    }

    public Message installSnapshotAck(String from) {
        return new Message.InstallSnapshotAck(from, term(), anyLong(), anyLong(), random.nextBoolean(), atLeast(0), atLeast(0));
    }

    /** A random valid message of a random type from a random peer. */
    public Message any() {
        String from = peer();
        switch (random.nextInt(10)) {
            case 6: return forward(from);
            case 7: return forwardReply(from);
            case 8: return installSnapshot(from);
            case 9: return installSnapshotAck(from);
            case 0: return keepAlive(from);
            case 1: return voteRequest(from);
            case 2: return voteResponse(from);
            case 3: return handOver(from);
            case 4: return preempt(from);
            default: return handOverAck(from);
        }
    }
}

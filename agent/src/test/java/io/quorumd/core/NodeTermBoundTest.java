package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A term near 2^63 once spread through a cluster and made every agent crash-loop ("term must
 * grow: 9223372036854775807 -> -9223372036854775808"). The codec drops such frames; the core must
 * not crash either way: it ignores terms beyond {@link TermState#MAX_TERM}, and a node that holds
 * the largest term never campaigns past it.
 */
class NodeTermBoundTest {
    static final long MS = Timing.MS;
    static final Timing TIMING = NodeScenarioTest.TIMING;
    static final List<Peer> PEERS = List.of(new Peer("n0", 100), new Peer("n1", 100), new Peer("n2", 100));
    static final long[] HUGE = {1L << 62, (1L << 62) + 1, Long.MAX_VALUE};

    private final List<Effect> out = new ArrayList<>();
    private Node node;
    private long now;

    private void boot(TermState durable) {
        node = new Node(new NodeConfig(new Peers("n0", PEERS), TIMING, false), durable, 7,
                new Proof(Proof.Kind.CERTIFICATE, "n0", 0, true), new SplittableRandom(1), now);
    }

    private void handle(Event e) {
        List<Effect> fx = new ArrayList<>(node.handle(e, now));
        for (int i = 0; i < fx.size(); i++) {
            out.add(fx.get(i));
            if (fx.get(i) instanceof Effect.Persist p) fx.addAll(node.handle(new Event.Persisted(p.seq()), now));
        }
    }

    private List<Message> everyMessageWith(long term, long innerTerm) {
        Proof proof = new Proof(Proof.Kind.HANDOVER, "n1", innerTerm, true);
        return List.of(
                new Message.KeepAlive("n1", term, 9, now, "n1", -1, -1, true, proof, innerTerm, 0),
                new Message.VoteRequest("n1", term, 9, 1, true, now, innerTerm, 0, null),
                new Message.VoteRequest("n1", term, 9, 2, false, now, 0, 0, proof),
                new Message.VoteResponse("n1", term, 9, 3, false, true, "", now,
                        new MasterReport("n1", innerTerm, true, 0, false)),
                new Message.HandOver("n1", term, 9, 4, "n0", proof),
                new Message.HandOverAck("n1", term, 9, 5, true, ""));
    }

    @Test
    void framesWithHugeTermsChangeNothingAndNeverThrow() {
        boot(new TermState(5, null));
        now = 1500 * MS;
        handle(new Event.Tick());
        for (long huge : HUGE) {
            for (Message m : everyMessageWith(huge, 1)) handle(new Event.Received(m));
            for (Message m : everyMessageWith(5, huge)) handle(new Event.Received(m));
            assertEquals(5, node.term(), "term after frames with " + huge);
        }
        for (Effect e : out) {
            assertFalse(e instanceof Effect.Persist p && p.term() != 5, "persisted " + e);
        }
        // and the node goes on as usual: with no master, it asks for pre-votes for term 6
        for (int i = 0; i < 50; i++) {
            now += 100 * MS;
            handle(new Event.Tick());
        }
        assertTrue(out.stream().anyMatch(e -> e instanceof Effect.Request r && r.message() instanceof Message.VoteRequest v
                && v.preVote() && v.term() == 6), "no pre-vote for term 6: " + out);
        assertEquals(5, node.term());
    }

    @Test
    void aNodeAtTheLargestTermNeverCampaignsPastIt() {
        boot(new TermState(TermState.MAX_TERM - 1, null));
        now = 1500 * MS;
        handle(new Event.Tick());
        // a peer's keep-alive in the largest valid term: adopted
        handle(new Event.Received(new Message.KeepAlive("n1", TermState.MAX_TERM, 9, now, null, -1, -1, false, null, 0, 0)));
        assertEquals(TermState.MAX_TERM, node.term());
        // a hand-over in that term is refused, with the reason
        handle(new Event.Received(new Message.HandOver("n1", TermState.MAX_TERM, 9, 44, "n0",
                new Proof(Proof.Kind.HANDOVER, "n1", TermState.MAX_TERM, true))));
        Message.HandOverAck ack = null;
        for (Effect e : out) if (e instanceof Effect.Respond r && r.message() instanceof Message.HandOverAck a) ack = a;
        assertTrue(ack != null && !ack.accepted() && ack.reason().contains("largest a term may be"), String.valueOf(ack));
        for (int i = 0; i < 200; i++) {   // 20 election timeouts without a master
            now += 100 * MS;
            handle(new Event.Tick());
        }
        assertEquals(TermState.MAX_TERM, node.term());
        for (Effect e : out) {
            if (e instanceof Effect.Request r && r.message() instanceof Message.VoteRequest v)
                assertTrue(v.term() <= TermState.MAX_TERM, "asked for votes in term " + v.term());
        }
        assertEquals(Role.FOLLOWER, node.role());
    }

    @Test
    void termStateRefusesWhatOverflows() {
        assertThrows(IllegalArgumentException.class, () -> new TermState(1L << 62, null));
        assertThrows(IllegalStateException.class, () -> new TermState(TermState.MAX_TERM, null).next());
        assertThrows(IllegalStateException.class, () -> new TermState(3, null).withTerm(Long.MAX_VALUE));
        assertTrue(new TermState(TermState.MAX_TERM, null).exhausted());
        assertEquals(4, new TermState(3, "n1").next().term());
    }
}

package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The voter ({@link Voter}): which (pre-)votes it grants, the answer's term and the reason it
 * gives for a refusal (what the candidate logs and counts), and which held answers and requests it
 * drops once the disk write they waited for is done.
 */
class VoterTest {
    static final long MS = OneNode.MS;

    static Message.VoteRequest request(String from, long term, boolean preVote, long id) {
        return new Message.VoteRequest(from, term, 5, id, preVote, 0, 0, 0, null);
    }

    /** The answer to vote request {@code id} among {@code fx}, or null. */
    static Message.VoteResponse answer(List<Effect> fx, long id) {
        Message.VoteResponse found = null;
        for (Effect e : fx)
            if (e instanceof Effect.Respond r && r.message() instanceof Message.VoteResponse v && v.requestId() == id) found = v;
        return found;
    }

    static Message.VoteResponse answered(List<Effect> fx, long id) {
        Message.VoteResponse v = answer(fx, id);
        assertNotNull(v, "no answer to request " + id + ": " + fx);
        return v;
    }

    // ------------------------------------------------------------------ which votes, and why not

    @Test
    void aPreVoteForTheVotersOwnTermIsRefusedAsStaleAndANewerOneIsGrantedWithItsTerm() {
        OneNode a = new OneNode("n0", 0);
        assertTrue(answered(a.at(1500, new Event.Received(request("n1", 3, false, 1))), 1).granted());
        // past the half election timeout during which n1's election holds the pre-vote back, before n0's own timeout
        var same = answered(a.at(2200, new Event.Received(request("n2", 3, true, 2))), 2);
        assertFalse(same.granted(), "a pre-vote for the term the voter is already in: " + same);
        assertEquals("stale term 3 <= 3", same.reason());
        assertEquals(3, same.term(), "a refusal carries the voter's term");
        var newer = answered(a.receive(request("n2", 4, true, 3)), 3);
        assertTrue(newer.granted(), "the next term: " + newer);
        assertEquals(4, newer.term(), "a pre-vote grant names the term asked about");
        assertEquals(3, a.node.term(), "a pre-vote moves no term");
    }

    /**
     * Crossing pre-vote rounds for the same term: the less preferred follower (n1 against n0; equal
     * priorities rank by id) grants and drops its own round, so a grant arriving for that round
     * starts no election; against a less preferred asker (n2) it grants and keeps its round, and a
     * grant then starts its election (simulator seed 503411: split votes otherwise).
     */
    @Test
    void aFollowerWhosePreVoteRoundCrossesAPreferredOnesYieldsToIt() {
        OneNode a = new OneNode("n1", 0);
        a.at(2500, new Event.Tick());
        long mine = a.lastRequestId(true);
        assertNotNull(((FollowerRole) a.node.current()).preVote, "n1's round for term 1: " + a.out);
        assertTrue(answered(a.receive(request("n0", 1, true, 900)), 900).granted());
        assertNull(((FollowerRole) a.node.current()).preVote, "n1 still asks for term 1 beside n0");
        List<Effect> late = a.receive(OneNode.grant("n2", 1, mine, true));
        assertEquals(Role.FOLLOWER, a.node.role(), "n1 campaigned after yielding: " + late);
        assertTrue(OneNode.only(late, Effect.Persist.class).isEmpty(), late::toString);
        assertEquals(0, a.node.term());
        // its own timer comes round again within an election timeout, then it asks anew
        List<Effect> again = a.at(2500 + 1200, new Event.Tick());
        assertNotNull(((FollowerRole) a.node.current()).preVote, "no new round: " + again);

        OneNode b = new OneNode("n1", 0);
        b.at(2500, new Event.Tick());
        long round = b.lastRequestId(true);
        assertTrue(answered(b.receive(request("n2", 1, true, 901)), 901).granted());
        assertNotNull(((FollowerRole) b.node.current()).preVote, "n1 yielded to the less preferred n2");
        b.receive(OneNode.grant("n0", 1, round, true));
        assertEquals(Role.CANDIDATE, b.node.role(), b.out::toString);
        assertEquals(1, b.node.term());
    }

    @Test
    void aRealVoteGoesToOneCandidatePerTermAndIsRepeatedWithoutASecondWrite() {
        OneNode a = new OneNode("n0", 0);
        var first = a.at(1500, new Event.Received(request("n1", 3, false, 1)));
        assertTrue(answered(first, 1).granted());
        assertEquals(List.of(new Effect.Persist(1, 3, "n1")), OneNode.only(first, Effect.Persist.class));
        var rival = a.at(1600, new Event.Received(request("n2", 3, false, 2)));
        Message.VoteResponse r = answered(rival, 2);
        assertFalse(r.granted(), "" + r);
        assertEquals("already voted for n1 in term 3", r.reason());
        assertEquals("n1", a.node.view(a.now).votedFor());
        var again = a.at(1700, new Event.Received(request("n1", 3, false, 3)));
        assertTrue(answered(again, 3).granted(), "the candidate it voted for asks again (its answer was lost)");
        assertTrue(OneNode.only(again, Effect.Persist.class).isEmpty(), "the vote is on disk already: " + again);
    }

    @Test
    void aVoterThatIsShuttingDownRefusesEveryVote() {
        OneNode a = new OneNode("n0", 0);
        a.at(1500, new Event.ShutdownRequested());
        Message.VoteResponse pre = answered(a.at(1600, new Event.Received(request("n1", 1, true, 1))), 1);
        assertFalse(pre.granted());
        assertEquals("shutting down", pre.reason());
        Message.VoteResponse real = answered(a.receive(request("n1", 1, false, 2)), 2);
        assertFalse(real.granted());
        assertEquals("shutting down", real.reason());
        assertNull(a.node.view(a.now).votedFor(), "no vote cast");
    }

    /**
     * A voter whose disk fails refuses to vote and says why; the refusal names a term not yet on
     * disk, so it waits for the retried write, and then goes out (a held refusal is never stale).
     */
    @Test
    void aVoterWhoseDiskFailsRefusesVotesAndSaysWhyOnceItsTermIsOnDisk() {
        OneNode a = new OneNode("n0", 0);
        a.slowDisk = true;
        var fx = a.at(1500, new Event.Received(request("n1", 1, false, 1)));
        Effect.Persist p = OneNode.only(fx, Effect.Persist.class).get(0);
        a.handle(new Event.PersistFailed(p.seq(), "No space left on device"));
        var asked = a.at(1510, new Event.Received(request("n2", 2, true, 2)));
        assertNull(answer(asked, 2), "term 1 is not on disk yet: " + asked);
        var retry = OneNode.only(a.at(1600, new Event.Tick()), Effect.Persist.class);
        assertEquals(1, retry.size(), "the write is retried a heartbeat later");
        Message.VoteResponse r = answered(a.handle(new Event.Persisted(retry.get(0).seq())), 2);
        assertFalse(r.granted());
        assertEquals("storage failing: No space left on device", r.reason());
        assertEquals(1, r.term());
    }

    /** A node whose replicated log ends at (term 2, index 5): the seam the log of a later issue fills. */
    static OneNode withLog(long lastLogTerm, long lastLogIndex) {
        Node n = new Node(OneNode.config("n0"), TermState.INITIAL, 7, new Proof(Proof.Kind.CERTIFICATE, "n0", 0, true),
                new SplittableRandom(1), 0) {
            @Override
            public long lastLogTerm() {
                return lastLogTerm;
            }

            @Override
            public long lastLogIndex() {
                return lastLogIndex;
            }
        };
        return new OneNode(n, 0);
    }

    static Message.VoteRequest withLog(String from, long term, boolean preVote, long id, long lastLogTerm, long lastLogIndex) {
        return new Message.VoteRequest(from, term, 5, id, preVote, 0, lastLogTerm, lastLogIndex, null);
    }

    /** Raft's up-to-date rule: the newer last term wins, and within one term the longer log. */
    @Test
    void aVoteGoesOnlyToACandidateWhoseLogIsAtLeastAsUpToDate() {
        OneNode a = withLog(2, 5);
        a.at(1500, new Event.Tick());
        Message.VoteResponse olderTerm = answered(a.receive(withLog("n1", 1, true, 1, 1, 9)), 1);
        assertFalse(olderTerm.granted(), "an older last term, however long: " + olderTerm);
        assertEquals("candidate's log (last term 1, index 9) is behind this node's (last term 2, index 5)", olderTerm.reason());
        Message.VoteResponse shorter = answered(a.receive(withLog("n1", 1, true, 2, 2, 4)), 2);
        assertFalse(shorter.granted(), "the same last term, shorter: " + shorter);
        assertEquals("candidate's log (last term 2, index 4) is behind this node's (last term 2, index 5)", shorter.reason());
        assertTrue(answered(a.receive(withLog("n1", 1, true, 3, 2, 5)), 3).granted(), "the same log");
        assertTrue(answered(a.receive(withLog("n1", 1, true, 4, 3, 0)), 4).granted(), "a newer last term, however short");
        Message.VoteResponse real = answered(a.receive(withLog("n2", 1, false, 5, 2, 4)), 5);
        assertFalse(real.granted(), "the real vote follows the same rule: " + real);
        assertEquals("candidate's log (last term 2, index 4) is behind this node's (last term 2, index 5)", real.reason());
        assertTrue(answered(a.receive(withLog("n2", 1, false, 6, 2, 6)), 6).granted(), "a longer log of the same term");
    }

    /** After its real vote a voter keeps its pre-vote from rivals for exactly half an election timeout, and says since when. */
    @Test
    void aRivalsPreVoteIsRefusedForHalfAnElectionTimeoutAfterAVote() {
        OneNode a = new OneNode("n0", 0);
        assertTrue(answered(a.at(1500, new Event.Received(request("n1", 1, false, 1))), 1).granted());
        Message.VoteResponse early = answered(a.at(1520, new Event.Received(request("n2", 2, true, 2))), 2);
        assertFalse(early.granted());
        assertEquals("voted for n1 in term 1 20 ms ago: that election may still succeed", early.reason());
        Message.VoteResponse late = answered(a.at(1500 + 500, new Event.Received(request("n2", 2, true, 3))), 3);
        assertTrue(late.granted(), "t/2 after the vote: " + late);
    }

    /**
     * A voter that never heard a master since it booted tells candidates it may have forgotten one
     * until a forgotten lease plus stop_timeout plus the watchdog's slack is surely over, and no
     * longer.
     */
    @Test
    void aRestartedVoterReportsItselfAmnesicUntilAForgottenLeaseAndItsStopAreOver() {
        Timing t = NodeScenarioTest.TIMING;
        long until = t.electionTimeoutNanos() + t.stopWaitNanos() + Node.WATCHDOG_SLACK_NANOS;
        OneNode a = new OneNode("n0", 0);
        a.now = until - 1;
        MasterReport early = answered(a.handle(new Event.Received(request("n1", 1, false, 1))), 1).report();
        assertTrue(early.amnesic(), "" + early);
        assertEquals(until - 1, early.heardAgoNanos(), "since its boot");
        a.now = until;
        MasterReport late = answered(a.handle(new Event.Received(request("n2", 2, false, 2))), 2).report();
        assertFalse(late.amnesic(), "" + late);
        assertEquals(-1, late.heardAgoNanos(), "it never heard a master");
    }

    // ------------------------------------------------------------------ held answers and requests

    /**
     * A pre-vote grant waiting for another write is dropped if the voter reached the proposed term
     * meanwhile: that election has begun, and the grant could only start a rival round.
     */
    @Test
    void aHeldPreVoteGrantIsDroppedOnceTheVoterIsInThatTerm() {
        OneNode a = new OneNode("n0", 0);
        a.slowDisk = true;
        List<Effect> fx = new ArrayList<>(a.at(1500, new Event.Received(request("n1", 1, false, 1))));
        fx.addAll(a.receive(request("n1", 2, true, 2)));   // granted, held behind the vote's write
        fx.addAll(a.receive(request("n1", 2, false, 3)));  // n1 campaigns in term 2: n0 adopts it and votes
        assertNull(answer(fx, 2), "nothing leaves before the disk: " + fx);
        List<Effect> after = new ArrayList<>();
        for (Effect.Persist p : OneNode.only(fx, Effect.Persist.class)) after.addAll(a.handle(new Event.Persisted(p.seq())));
        assertNull(answer(after, 2), "the pre-vote grant for the term the voter is in: " + after);
        assertTrue(answered(after, 3).granted(), "the real vote of that term goes out: " + after);
        assertEquals(2, answered(after, 3).term());
    }

    /**
     * A real vote waiting for its write is dropped once the voter follows another master of that
     * term (a 5-node cluster elected n2 without it), and goes out when the master heard is the
     * candidate itself (a late grant still tells the new master what this voter knew).
     */
    @Test
    void aHeldRealVoteIsDroppedOnlyWhenAnotherMasterOfItsTermIsHeard() {
        OneNode a = new OneNode("n0", 0);
        a.slowDisk = true;
        List<Effect> fx = new ArrayList<>(a.at(1500, new Event.Received(request("n1", 4, false, 1))));
        fx.addAll(a.receive(OneNode.masterKeepAlive("n2", 4, a.now)));
        assertEquals("n2", a.node.view(a.now).master());
        List<Effect> after = new ArrayList<>();
        for (Effect.Persist p : OneNode.only(fx, Effect.Persist.class)) after.addAll(a.handle(new Event.Persisted(p.seq())));
        assertNull(answer(after, 1), "a grant to n1 once n2 is the term's master: " + after);

        OneNode b = new OneNode("n0", 0);
        b.slowDisk = true;
        List<Effect> gx = new ArrayList<>(b.at(1500, new Event.Received(request("n1", 4, false, 1))));
        gx.addAll(b.receive(OneNode.masterKeepAlive("n1", 4, b.now)));
        assertEquals("n1", b.node.view(b.now).master());
        List<Effect> later = new ArrayList<>();
        for (Effect.Persist p : OneNode.only(gx, Effect.Persist.class)) later.addAll(b.handle(new Event.Persisted(p.seq())));
        assertTrue(answered(later, 1).granted(), "the grant reaches the master it helped elect: " + later);
    }

    /** Pre-vote requests held behind a term's write are dropped once a master is heard: that round is over. */
    @Test
    void heldPreVoteRequestsAreDroppedOnceAMasterIsHeard() {
        OneNode a = new OneNode("n0", 0);
        a.slowDisk = true;
        // past the election timeout, n0 hears a newer term from a non-master: it adopts it (a write) and pre-votes
        List<Effect> fx = new ArrayList<>(a.at(2500, new Event.Received(OneNode.followerKeepAlive("n1", 3, null, -1))));
        assertEquals(3, a.node.term());
        assertNotNull(((FollowerRole) a.node.current()).preVote, "a round for term 4: " + fx);
        assertTrue(OneNode.only(fx, Effect.Request.class).isEmpty(), "held behind the write: " + fx);
        fx.addAll(a.receive(OneNode.masterKeepAlive("n2", 3, a.now)));
        List<Effect> after = new ArrayList<>();
        for (Effect.Persist p : OneNode.only(fx, Effect.Persist.class)) after.addAll(a.handle(new Event.Persisted(p.seq())));
        assertTrue(OneNode.only(after, Effect.Request.class).isEmpty(), "n2 is master of term 3: " + after);

        OneNode b = new OneNode("n0", 0);
        b.slowDisk = true;
        List<Effect> gx = new ArrayList<>(b.at(2500, new Event.Received(OneNode.followerKeepAlive("n1", 3, null, -1))));
        List<Effect> released = new ArrayList<>();
        for (Effect.Persist p : OneNode.only(gx, Effect.Persist.class)) released.addAll(b.handle(new Event.Persisted(p.seq())));
        List<Effect.Request> reqs = OneNode.only(released, Effect.Request.class);
        assertEquals(2, reqs.size(), "without a master the round's requests leave once the term is on disk: " + released);
        assertEquals(4, reqs.get(0).message().term());
    }

    /** A pre-vote grant held behind another write goes out once it is written, while it still holds. */
    @Test
    void aHeldPreVoteGrantGoesOutOnceTheWriteIsDone() {
        OneNode a = new OneNode("n0", 0);
        a.slowDisk = true;
        List<Effect> fx = new ArrayList<>(a.at(1500, new Event.Received(request("n1", 1, false, 1))));
        fx.addAll(a.receive(request("n1", 2, true, 2)));
        assertNull(answer(fx, 2), "held: " + fx);
        List<Effect> after = new ArrayList<>();
        for (Effect.Persist p : OneNode.only(fx, Effect.Persist.class)) after.addAll(a.handle(new Event.Persisted(p.seq())));
        assertTrue(answered(after, 1).granted(), after.toString());
        Message.VoteResponse pre = answered(after, 2);
        assertTrue(pre.granted() && pre.preVote(), "" + pre);
        assertEquals(2, pre.term());
    }

    /** A hand-over refusal held behind the write of a newer term goes out once the term is on disk. */
    @Test
    void aHeldHandOverRefusalGoesOutOnceTheTermIsWritten() {
        OneNode a = new OneNode("n0", 0);
        a.slowDisk = true;
        List<Effect> fx = new ArrayList<>(a.at(1500, new Event.Received(OneNode.masterKeepAlive("n1", 3, 1))));
        fx.addAll(a.receive(new Message.HandOver("n2", 2, 5, 44, "n0", null)));
        assertTrue(OneNode.only(fx, Effect.Respond.class).isEmpty(), "held: " + fx);
        List<Effect> after = new ArrayList<>();
        for (Effect.Persist p : OneNode.only(fx, Effect.Persist.class)) after.addAll(a.handle(new Event.Persisted(p.seq())));
        List<Effect.Respond> answers = OneNode.only(after, Effect.Respond.class);
        assertEquals(1, answers.size(), after.toString());
        Message.HandOverAck ack = (Message.HandOverAck) answers.get(0).message();
        assertEquals(44, ack.requestId());
        assertFalse(ack.accepted());
        assertEquals("hand-over from term 2, this node is in term 3", ack.reason());
    }
}

package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Races the seeded simulator found (seeds 28625 and 15816 of the 40,000-schedule run), pinned as
 * single-node exchanges: the answers a node gives, message by message.
 */
class NodeElectionRaceTest {
    static final long MS = Timing.MS;
    static final Timing TIMING = NodeScenarioTest.TIMING;   // t = 1000 ms, heartbeat 100 ms
    static final List<Peer> PEERS = List.of(new Peer("n0", 100), new Peer("n1", 100), new Peer("n2", 100));

    private final List<Effect> out = new ArrayList<>();
    private Node node;
    private long now;

    private void boot(String self) {
        node = new Node(new NodeConfig(new Peers(self, PEERS), TIMING, false), TermState.INITIAL, 7,
                new Proof(Proof.Kind.CERTIFICATE, self, 0, true), new SplittableRandom(1), now);
    }

    /** Handles one event, acknowledging every persist at once (a fast disk). */
    private void handle(Event e) {
        List<Effect> fx = new ArrayList<>(node.handle(e, now));
        for (int i = 0; i < fx.size(); i++) {
            out.add(fx.get(i));
            if (fx.get(i) instanceof Effect.Persist p) fx.addAll(node.handle(new Event.Persisted(p.seq()), now));
        }
    }

    private Message.VoteRequest request(String from, long term, boolean preVote, long id) {
        return new Message.VoteRequest(from, term, 99, id, preVote, now, 0, 0, null);
    }

    private Message.VoteResponse answerTo(long requestId) {
        Message.VoteResponse found = null;
        for (Effect f : out)
            if (f instanceof Effect.Respond r && r.message() instanceof Message.VoteResponse v && v.requestId() == requestId) found = v;
        assertNotNull(found, "no answer to request " + requestId + ": " + out);
        return found;
    }

    @Test
    void aVoterKeepsItsPreVoteFromRivalsWhileTheElectionItVotedInMayStillSucceed() {
        boot("n0");
        now = 1500 * MS;   // past the restart quiet time
        handle(new Event.Tick());
        handle(new Event.Received(request("n1", 1, false, 1)));
        assertTrue(answerTo(1).granted(), "the real vote: " + answerTo(1));

        now += 20 * MS;   // n2's pre-vote arrives before n1's first keep-alive as master
        handle(new Event.Received(request("n2", 2, true, 2)));
        Message.VoteResponse rival = answerTo(2);
        assertFalse(rival.granted(), "a rival's pre-vote right after a real vote: " + rival);
        assertTrue(rival.reason().contains("voted for n1 in term 1"), rival.reason());

        handle(new Event.Received(request("n1", 2, true, 3)));
        assertTrue(answerTo(3).granted(), "the candidate it voted for may retry: " + answerTo(3));

        now += TIMING.electionTimeoutNanos() / 2;   // that election has had its chance
        handle(new Event.Received(request("n2", 2, true, 4)));
        assertTrue(answerTo(4).granted(), "half an election timeout later: " + answerTo(4));
    }

    @Test
    void aCandidateKeepsItsPreVoteFromRivalsDuringItsOwnElection() {
        boot("n0");
        now = 2500 * MS;   // the election timer has fired by now: n0 pre-votes, then campaigns
        handle(new Event.Tick());
        handle(new Event.Received(new Message.VoteResponse("n1", 1, 98, lastPreVoteId(), true, true, "", -1,
                MasterReport.NONE)));
        assertEquals(Role.CANDIDATE, node.role(), "" + out);
        now += 10 * MS;
        handle(new Event.Received(request("n2", 2, true, 5)));
        assertFalse(answerTo(5).granted(), "" + answerTo(5));
    }

    /**
     * Simulator seed 753205 (t = 200 ms, disk writes up to 60 ms): a candidate's vote requests left
     * after its own disk write (37 ms) and the grant came back after the voter's (72 ms), 135 ms
     * after it voted for itself. At 112 ms, past the t/2 during which it kept its pre-vote from
     * rivals, it granted a rival's pre-vote; the rival raised the term, and its keep-alive of the
     * newer term unseated the fresh master 14 ms after it won (the next master then waited out that
     * master's lease: no command 1.2 s after the heal). A candidate keeps its pre-vote for its whole
     * candidacy; once that has timed out it grants again. Here at t = 1000 ms, the times scaled.
     */
    @Test
    void aCandidateOnASlowDiskKeepsItsPreVoteFromRivalsUntilItsElectionEnds() {
        long voteRequest = campaignOnASlowDisk(185 * MS);
        long votedAt = now - 185 * MS;

        for (long at = votedAt + 100 * MS; at < votedAt + 560 * MS; at += 100 * MS) tickAt(at);
        now = votedAt + 560 * MS;   // the rival's pre-vote: past t/2, before this candidate's grant
        assertEquals(Role.CANDIDATE, node.role(), "its election is still running: " + out);
        handle(new Event.Received(request("n2", 2, true, 20)));
        Message.VoteResponse rival = answerTo(20);
        assertFalse(rival.granted(), "a rival's pre-vote during the candidacy: " + rival);
        assertTrue(rival.reason().contains("voted for n0 in term 1"), rival.reason());

        now = votedAt + 675 * MS;   // the voter's grant, after its own slow disk write
        handle(new Event.Received(new Message.VoteResponse("n1", 1, 98, voteRequest, false, true, "", votedAt,
                MasterReport.NONE)));
        assertEquals(Role.MASTER, node.role(), "" + out);
        assertEquals(1, node.term());
    }

    @Test
    void aCandidateWhoseElectionTimedOutGrantsARivalsPreVote() {
        campaignOnASlowDisk(185 * MS);
        long votedAt = now - 185 * MS;
        // no grant comes: a candidacy lasts at most t
        for (long at = votedAt + 100 * MS; at <= votedAt + TIMING.electionTimeoutNanos(); at += 100 * MS) tickAt(at);
        tickAt(votedAt + TIMING.electionTimeoutNanos() + MS);
        assertEquals(Role.FOLLOWER, node.role(), "" + out);
        handle(new Event.Received(request("n2", 2, true, 21)));
        assertTrue(answerTo(21).granted(), "after the candidacy: " + answerTo(21));
    }

    /**
     * n0 pre-votes, n1 grants, n0 campaigns in term 1; its vote is on disk {@code diskNanos} later,
     * and only then do its vote requests leave. Returns the vote request's id; {@code now} is then.
     */
    private long campaignOnASlowDisk(long diskNanos) {
        boot("n0");
        now = 2500 * MS;   // the election timer has fired by now
        out.addAll(node.handle(new Event.Tick(), now));
        List<Effect> fx = node.handle(new Event.Received(new Message.VoteResponse("n1", 1, 98, lastPreVoteId(), true,
                true, "", -1, MasterReport.NONE)), now);
        out.addAll(fx);
        assertEquals(Role.CANDIDATE, node.role(), "" + out);
        Effect.Persist vote = null;
        for (Effect f : fx) if (f instanceof Effect.Persist p) vote = p;
        assertNotNull(vote, "the candidate's vote for itself: " + fx);
        assertTrue(fx.stream().noneMatch(f -> f instanceof Effect.Request r && !((Message.VoteRequest) r.message()).preVote()),
                "no vote request before the disk: " + fx);
        now += diskNanos;
        fx = node.handle(new Event.Persisted(vote.seq()), now);
        out.addAll(fx);
        long id = -1;
        for (Effect f : fx)
            if (f instanceof Effect.Request r && r.message() instanceof Message.VoteRequest v && !v.preVote()) id = v.requestId();
        assertTrue(id >= 0, "the vote requests leave once the vote is on disk: " + fx);
        return id;
    }

    private void tickAt(long at) {
        now = at;
        handle(new Event.Tick());
    }

    private long lastPreVoteId() {
        long id = -1;
        for (Effect f : out)
            if (f instanceof Effect.Request r && r.message() instanceof Message.VoteRequest v && v.preVote()) id = v.requestId();
        assertTrue(id >= 0, "no pre-vote sent: " + out);
        return id;
    }

    @Test
    void aHandOverFromANodeThatIsNotTheTermsMasterIsRefused() {
        boot("n0");
        now = 1500 * MS;
        handle(new Event.Tick());
        // n1 is master of term 3
        handle(new Event.Received(new Message.KeepAlive("n1", 3, 98, now, "n1", -1, 0, false, null, 0, 0)));
        assertEquals(3, node.term());
        // n2, also in term 3 but not its master, asks n0 to campaign
        now += 10 * MS;
        handle(new Event.Received(new Message.HandOver("n2", 3, 97, 6, "n0", new Proof(Proof.Kind.HANDOVER, "n2", 2, true))));
        Message.HandOverAck ack = null;
        for (Effect f : out) if (f instanceof Effect.Respond r && r.message() instanceof Message.HandOverAck a) ack = a;
        assertNotNull(ack, "" + out);
        assertFalse(ack.accepted(), "" + ack);
        assertEquals(3, node.term(), "no campaign against the term's master");
        assertEquals(Role.FOLLOWER, node.role());
    }

    /**
     * Simulator seed 43636: an agent resumed from a long pause works through its backlog at one
     * instant. It votes (the grant waits for the disk), then hears the master of a newer term. The
     * held grant can no longer make a master and must not go out once the disk answers.
     */
    @Test
    void aHeldVoteGrantIsDroppedOnceANewerTermsMasterIsHeard() {
        boot("n0");
        now = 1500 * MS;
        handle(new Event.Tick());
        out.clear();
        List<Effect> fx = new ArrayList<>(node.handle(new Event.Received(request("n1", 4, false, 8)), now));
        Effect.Persist vote = null;
        for (Effect f : fx) if (f instanceof Effect.Persist p) vote = p;
        assertNotNull(vote, "a real vote is persisted first: " + fx);
        assertEquals(1, fx.stream().filter(f -> f instanceof Effect.Persist).count(),
                "adopting the term and voting is one disk write: " + fx);
        assertTrue(fx.stream().noneMatch(f -> f instanceof Effect.Respond), "no answer before the disk: " + fx);
        // n2 is master of term 5 (its keep-alive is read before the disk answers)
        fx.addAll(node.handle(new Event.Received(new Message.KeepAlive("n2", 5, 96, now, "n2", -1, 0, true, null, 0, 0)), now));
        long newest = fx.stream().filter(f -> f instanceof Effect.Persist).mapToLong(f -> ((Effect.Persist) f).seq()).max().orElseThrow();
        assertTrue(newest > vote.seq(), "the newer term is persisted too: " + fx);
        List<Effect> after = new ArrayList<>(node.handle(new Event.Persisted(vote.seq()), now));
        after.addAll(node.handle(new Event.Persisted(newest), now));
        for (Effect f : after)
            if (f instanceof Effect.Respond r && r.message() instanceof Message.VoteResponse v)
                assertFalse(v.granted() && v.requestId() == 8, "a stale grant went out: " + v);
        assertEquals(5, node.term());
    }

    /**
     * Simulator seed 249707: after a full disk, the node retried every heartbeat while each write
     * took longer than that; the newest write was never the one acknowledged, so the node stayed
     * "storage failing" (refusing to vote or campaign) long after the disk had recovered.
     */
    @Test
    void aSlowDiskAfterAFailureIsRetriedOneWriteAtATimeAndRecovers() {
        boot("n0");
        now = 1500 * MS;
        node.handle(new Event.Tick(), now);
        List<Effect> fx = node.handle(new Event.Received(request("n1", 1, false, 9)), now);
        long seq = fx.stream().filter(f -> f instanceof Effect.Persist).mapToLong(f -> ((Effect.Persist) f).seq()).max().orElseThrow();
        node.handle(new Event.PersistFailed(seq, "No space left on device"), now);
        assertFalse(node.view(now).storageHealthy());
        long retries = 0;
        long retrySeq = -1;
        for (int i = 0; i < 10; i++) {   // a second of heartbeats while the retry's write is still under way
            now += 100 * MS;
            for (Effect f : node.handle(new Event.Tick(), now)) {
                if (f instanceof Effect.Persist p) {
                    retries++;
                    retrySeq = p.seq();
                }
            }
        }
        assertEquals(1, retries, "one retry until its outcome is known");
        node.handle(new Event.Persisted(retrySeq), now);
        assertTrue(node.view(now).storageHealthy(), "the disk answered the newest write");
    }

    /**
     * Stickiness also guards real votes, not only pre-votes: a follower that hears a live master
     * refuses a vote request without a hand-over and keeps its term (a rival that skipped the
     * pre-vote, or whose keep-alive raced it, cannot unseat a healthy master).
     */
    @Test
    void aStickyFollowerRefusesARealVoteWithoutAHandOver() {
        boot("n0");
        now = 1500 * MS;
        handle(new Event.Tick());
        handle(new Event.Received(new Message.KeepAlive("n1", 1, 96, now, "n1", -1, 0, true, null, 0, 0)));
        assertEquals(1, node.term());
        now += 100 * MS;
        handle(new Event.Received(request("n2", 2, false, 11)));
        Message.VoteResponse a = answerTo(11);
        assertFalse(a.granted(), "a real vote while n1 is live: " + a);
        assertEquals(1, node.term(), "a refused request does not move the term");
        assertEquals(null, node.view(now).votedFor());
    }

    /** A vote request of an older term is answered, refused, with the voter's newer term (so the candidate steps back). */
    @Test
    void aVoteRequestOfAnOlderTermIsRefusedWithTheNewerTerm() {
        boot("n0");
        now = 1500 * MS;
        handle(new Event.Tick());
        handle(new Event.Received(request("n1", 3, false, 12)));
        assertTrue(answerTo(12).granted(), "" + answerTo(12));
        now += 2 * TIMING.electionTimeoutNanos();
        handle(new Event.Received(request("n2", 2, false, 13)));
        Message.VoteResponse a = answerTo(13);
        assertFalse(a.granted(), "" + a);
        assertEquals(3, a.term());
        assertTrue(a.reason().contains("stale term 2 < 3"), a.reason());
        assertEquals("n1", node.view(now).votedFor());
    }

    /** A refused connection from the master ends stickiness at once (its agent is gone): a rival's pre-vote is granted. */
    @Test
    void aRefusalFromTheMasterEndsStickiness() {
        boot("n0");
        now = 1500 * MS;
        handle(new Event.Tick());
        handle(new Event.Received(new Message.KeepAlive("n1", 1, 96, now, "n1", -1, 0, true, null, 0, 0)));
        now += 50 * MS;
        handle(new Event.Received(request("n2", 2, true, 21)));
        assertFalse(answerTo(21).granted(), "sticky to n1: " + answerTo(21));
        now += 10 * MS;
        handle(new Event.PeerRefused("n1"));
        handle(new Event.Received(request("n2", 2, true, 22)));
        assertTrue(answerTo(22).granted(), "n1 refused a connection: " + answerTo(22));
    }

    /**
     * A candidate whose vote for itself cannot be written steps back to follower, and what waited
     * for that write (its vote requests) never leaves, not even once a later write succeeds.
     */
    @Test
    void aCandidateWhoseVoteCannotBeWrittenStepsBackAndSendsNothing() {
        boot("n0");
        now = 2500 * MS;
        out.addAll(node.handle(new Event.Tick(), now));
        List<Effect> fx = node.handle(new Event.Received(new Message.VoteResponse("n1", 1, 98, lastPreVoteId(), true,
                true, "", -1, MasterReport.NONE)), now);
        assertEquals(Role.CANDIDATE, node.role(), "" + fx);
        Effect.Persist vote = null;
        for (Effect f : fx) if (f instanceof Effect.Persist p) vote = p;
        assertNotNull(vote, "" + fx);
        now += 5 * MS;
        List<Effect> after = new ArrayList<>(node.handle(new Event.PersistFailed(vote.seq(), "No space left on device"), now));
        assertEquals(Role.FOLLOWER, node.role(), "" + after);
        assertFalse(node.view(now).storageHealthy());
        // the retry succeeds: still no vote request of the failed candidacy goes out
        now += TIMING.heartbeatNanos();
        List<Effect> retry = new ArrayList<>(node.handle(new Event.Tick(), now));
        for (Effect f : retry) if (f instanceof Effect.Persist p) after.addAll(node.handle(new Event.Persisted(p.seq()), now));
        after.addAll(retry);
        assertTrue(after.stream().noneMatch(f -> f instanceof Effect.Request r && r.message() instanceof Message.VoteRequest v
                && !v.preVote() && v.term() == 1), "a vote request of the failed candidacy left: " + after);
    }
}

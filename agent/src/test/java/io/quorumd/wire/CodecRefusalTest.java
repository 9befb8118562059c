package io.quorumd.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.quorumd.core.MasterReport;
import io.quorumd.core.Message;
import io.quorumd.log.LogEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Each rule of the layout refuses with the field it names and the value it got (issue 16's PIT
 * run: the refusals were tested, their words were not), and the limits hold at their edges.
 */
class CodecRefusalTest {
    private static final long TOO_LARGE = 1L << 62;   // the largest term is 2^62-1
    private final Codec codec = TestMessages.codec();

    private String refusal(Message m) {
        return assertThrows(IllegalArgumentException.class, () -> codec.encode(m)).getMessage();
    }

    private static Message.KeepAlive keepAlive(long lastLogTerm) {
        return new Message.KeepAlive("node-a", 3, 1, 10, "node-a", -1, -1, false, null, lastLogTerm, 0);
    }

    private static Message.Append append(long term, long prevIndex, long prevTerm, List<LogEntry> entries) {
        return new Message.Append("node-a", term, 1, 5, prevIndex, prevTerm, entries, 0);
    }

    @Test
    void termsBeyondTheLargestAreRefusedByName() {
        assertEquals("cannot encode KeepAlive: KeepAlive.term: 4611686018427387904 is beyond the largest term, 2^62-1",
                refusal(new Message.KeepAlive("node-a", TOO_LARGE, 1, 10, null, -1, -1, false, null, 0, 0)));
        assertEquals("cannot encode KeepAlive: KeepAlive.lastLogTerm: 4611686018427387904 is beyond the largest term,"
                + " 2^62-1", refusal(keepAlive(TOO_LARGE)));
        assertEquals("cannot encode VoteRequest: VoteRequest.lastLogTerm: 4611686018427387904 is beyond the largest"
                + " term, 2^62-1", refusal(new Message.VoteRequest("node-a", 3, 1, 7, false, 10, TOO_LARGE, 0, null)));
        assertEquals("cannot encode VoteResponse: VoteResponse.report.masterTerm: 4611686018427387904 is beyond the"
                + " largest term, 2^62-1", refusal(new Message.VoteResponse("node-a", 3, 1, 7, false, true, null, -1,
                new MasterReport("node-b", TOO_LARGE, false, -1, false))));
        assertEquals("cannot encode Append: Append.prevTerm: 4611686018427387904 is beyond the largest term, 2^62-1",
                refusal(append(3, 4, TOO_LARGE, List.of())));
        assertEquals("cannot encode Append: Append.entries[5].term: 4611686018427387904 is beyond the largest term,"
                + " 2^62-1", refusal(append(3, 4, 2, List.of(new LogEntry(5, TOO_LARGE, new byte[0])))));
        assertEquals("cannot encode AppendAck: AppendAck.conflictTerm: 4611686018427387904 is beyond the largest"
                + " term, 2^62-1", refusal(new Message.AppendAck("node-a", 3, 1, 7, false, 0, 1, TOO_LARGE)));
        assertEquals("cannot encode InstallSnapshot: InstallSnapshot.lastTerm: 4611686018427387904 is beyond the largest"
                + " term, 2^62-1", refusal(new Message.InstallSnapshot("node-a", 3, 1, 7, 1, TOO_LARGE, 0, new byte[0], true)));
    }

    @Test
    void negativeAndMissingFieldsAreRefusedByName() {
        assertEquals("cannot encode KeepAlive: KeepAlive.lastLogTerm: negative (-1)", refusal(keepAlive(-1)));
        assertEquals("cannot encode VoteRequest: VoteRequest.lastLogIndex: negative (-2)",
                refusal(new Message.VoteRequest("node-a", 3, 1, 7, false, 10, 0, -2, null)));
        assertEquals("cannot encode VoteResponse: VoteResponse.report.masterTerm: negative (-1)",
                refusal(new Message.VoteResponse("node-a", 3, 1, 7, false, true, null, -1,
                        new MasterReport("node-b", -1, false, -1, false))));
        assertEquals("cannot encode AppendAck: AppendAck.matchIndex: negative (-1)",
                refusal(new Message.AppendAck("node-a", 3, 1, 7, false, -1, 0, 0)));
        assertEquals("cannot encode AppendAck: AppendAck.conflictIndex: negative (-1)",
                refusal(new Message.AppendAck("node-a", 3, 1, 7, false, 0, -1, 0)));
        assertEquals("cannot encode AppendAck: AppendAck.conflictTerm: negative (-1)",
                refusal(new Message.AppendAck("node-a", 3, 1, 7, false, 0, 0, -1)));
        assertEquals("cannot encode InstallSnapshot: InstallSnapshot.lastIndex: below 1 (0)",
                refusal(new Message.InstallSnapshot("node-a", 3, 1, 7, 0, 1, 0, new byte[0], true)));
        assertEquals("cannot encode InstallSnapshot: InstallSnapshot.lastTerm: below 1 (0)",
                refusal(new Message.InstallSnapshot("node-a", 3, 1, 7, 1, 0, 0, new byte[0], true)));
        assertEquals("cannot encode InstallSnapshot: InstallSnapshot.offset: negative (-1)",
                refusal(new Message.InstallSnapshot("node-a", 3, 1, 7, 1, 1, -1, new byte[0], true)));
        assertEquals("cannot encode InstallSnapshot: InstallSnapshot.data: 61441 bytes, at most 61440",
                refusal(new Message.InstallSnapshot("node-a", 3, 1, 7, 1, 1, 0, new byte[61441], true)));
        assertEquals("cannot encode InstallSnapshotAck: InstallSnapshotAck.lastIndex: negative (-1)",
                refusal(new Message.InstallSnapshotAck("node-a", 3, 1, 7, false, -1, 0)));
        assertEquals("cannot encode InstallSnapshotAck: InstallSnapshotAck.nextOffset: negative (-1)",
                refusal(new Message.InstallSnapshotAck("node-a", 3, 1, 7, false, 0, -1)));
    }

    @Test
    void anAppendsRulesAreRefusedByName() {
        assertEquals("cannot encode Append: Append.prevIndex: negative (-1)", refusal(append(3, -1, 0, List.of())));
        assertEquals("cannot encode Append: Append.prevTerm: negative (-1)", refusal(append(3, 0, -1, List.of())));
        assertEquals("cannot encode Append: Append.prevTerm: 0 with prevIndex 4 (0 exactly together)",
                refusal(append(3, 4, 0, List.of())));
        assertEquals("cannot encode Append: Append.leaderCommit: negative (-1)",
                refusal(new Message.Append("node-a", 3, 1, 5, 0, 0, List.of(), -1)));
        assertEquals("cannot encode Append: Append.entries: index 6 where 5 was due",
                refusal(append(3, 4, 2, List.of(new LogEntry(6, 2, new byte[0])))));
        assertEquals("cannot encode Append: Append.entries[5].term: 1 below 2",
                refusal(append(3, 4, 2, List.of(new LogEntry(5, 1, new byte[0])))));
        List<LogEntry> tooMany = new ArrayList<>();
        for (int i = 1; i <= Codec.MAX_APPEND_ENTRIES + 1; i++) tooMany.add(new LogEntry(i, 1, new byte[0]));
        assertEquals("cannot encode Append: Append.entries: 1025, at most 1024", refusal(append(3, 0, 0, tooMany)));
    }

    @Test
    void theLimitsHoldAtTheirEdges() {
        List<LogEntry> most = new ArrayList<>();
        for (int i = 1; i <= Codec.MAX_APPEND_ENTRIES; i++) most.add(new LogEntry(i, 1, new byte[0]));
        Message.Append full = append(3, 0, 0, most);
        assertEquals(new Decoded.Ok(full), codec.decode(codec.encode(full)));
        Message.AppendAck zero = new Message.AppendAck("node-a", 3, 1, 7, false, 0, 0, 0);
        assertEquals(new Decoded.Ok(zero), codec.decode(codec.encode(zero)));
    }

    @Test
    void aFrameOfExactlyTheLimitIsSent() {
        // the largest reply that encodes: one more payload byte is one more frame byte
        int lo = 0;
        int hi = Codec.MAX_FRAME_BYTES;
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (encodes(mid)) lo = mid;
            else hi = mid - 1;
        }
        int largest = lo;
        assertEquals(Codec.MAX_FRAME_BYTES, codec.encode(reply(largest)).length);
        assertEquals("frame of " + (Codec.MAX_FRAME_BYTES + 1) + " bytes exceeds " + Codec.MAX_FRAME_BYTES,
                assertThrows(IllegalArgumentException.class, () -> codec.encode(reply(largest + 1))).getMessage());
    }

    private static Message.ForwardReply reply(int payloadBytes) {
        return new Message.ForwardReply("node-a", 1, 1, 1, 0, new byte[payloadBytes]);
    }

    private boolean encodes(int payloadBytes) {
        try {
            codec.encode(reply(payloadBytes));
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void aCodecNeedsAClusterName() {
        assertEquals("codec needs a cluster name, got ''", assertThrows(IllegalArgumentException.class,
                () -> new Codec("", Set.of("node-a"))).getMessage());
        assertEquals("codec needs a cluster name, got null", assertThrows(IllegalArgumentException.class,
                () -> new Codec(null, Set.of("node-a"))).getMessage());
    }
}

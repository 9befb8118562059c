package io.quorumd.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RaftLogTest {

    static LogEntry e(long index, long term) {
        return new LogEntry(index, term, ("cmd" + index + "@" + term).getBytes(StandardCharsets.UTF_8));
    }

    /** A log whose entry i+1 has term terms[i]. */
    static RaftLog log(long... terms) {
        List<LogEntry> es = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) es.add(e(i + 1, terms[i]));
        return new RaftLog(0, 0, es, 0);
    }

    static long[] terms(RaftLog l) {
        long[] t = new long[(int) (l.lastIndex() - l.baseIndex())];
        for (int i = 0; i < t.length; i++) t[i] = l.termAt(l.baseIndex() + 1 + i);
        return t;
    }

    // --- election restriction (§5.4.1)

    @Test
    void upToDateComparesLastTermFirstThenLength() {
        RaftLog mine = log(1, 1, 2, 2);   // last (term 2, index 4)
        assertTrue(mine.isUpToDate(3, 1), "a higher last term wins even with a shorter log");
        assertTrue(mine.isUpToDate(2, 4), "same last term, same length");
        assertTrue(mine.isUpToDate(2, 9), "same last term, longer");
        assertFalse(mine.isUpToDate(2, 3), "same last term, shorter");
        assertFalse(mine.isUpToDate(1, 100), "a lower last term loses however long");
        assertTrue(RaftLog.empty().isUpToDate(0, 0), "two empty logs are equally up to date");
        assertFalse(mine.isUpToDate(0, 0), "an empty candidate is behind a log with entries");
    }

    @Test
    void upToDateUsesTheSnapshotBaseWhenTheLogIsEmpty() {
        RaftLog l = new RaftLog(10, 3, List.of(), 10);
        assertEquals(10, l.lastIndex());
        assertEquals(3, l.lastTerm());
        assertFalse(l.isUpToDate(3, 9));
        assertTrue(l.isUpToDate(3, 10));
        assertFalse(l.isUpToDate(2, 50));
    }

    // --- follower: log matching and conflict truncation (§5.3)

    @Test
    void acceptsOnAnEmptyLogAndAdvancesCommitToTheLastNewEntry() {
        RaftLog l = RaftLog.empty();
        AppendResult r = l.appendFromLeader(0, 0, List.of(e(1, 1), e(2, 1), e(3, 2)), 10);
        AppendResult.Accepted a = assertInstanceOf(AppendResult.Accepted.class, r);
        assertEquals(3, a.matchIndex());
        assertEquals(0, a.truncatedFrom());
        assertEquals(List.of(e(1, 1), e(2, 1), e(3, 2)), a.newEntries());
        assertEquals(3, l.commitIndex(), "min(leaderCommit 10, last new entry 3)");
        assertEquals(3, a.commitIndex());
    }

    @Test
    void followerCommitIsTheLeadersWhenItIsLowerAndNeverGoesBack() {
        RaftLog l = log(1, 1, 1, 1);
        l.appendFromLeader(4, 1, List.of(), 2);
        assertEquals(2, l.commitIndex());
        l.appendFromLeader(1, 1, List.of(), 4);   // a heartbeat that says only up to its prevIndex + 0 entries
        assertEquals(2, l.commitIndex(), "min(leaderCommit 4, last new entry 1) is 1: commit never decreases");
        l.appendFromLeader(4, 1, List.of(), 4);
        assertEquals(4, l.commitIndex());
    }

    @Test
    void rejectsWhenTheLogIsTooShortWithItsEndAsTheHint() {
        RaftLog l = log(1, 1);
        AppendResult.Rejected r = assertInstanceOf(AppendResult.Rejected.class, l.appendFromLeader(5, 3, List.of(e(6, 3)), 0));
        assertEquals(3, r.conflictIndex());
        assertEquals(0, r.conflictTerm());
        assertEquals(2, l.lastIndex(), "a rejection changes nothing");
    }

    @Test
    void rejectsATermMismatchWithTheFirstIndexOfTheConflictingTerm() {
        RaftLog l = log(1, 1, 2, 2, 2);
        AppendResult.Rejected r = assertInstanceOf(AppendResult.Rejected.class, l.appendFromLeader(5, 3, List.of(e(6, 3)), 0));
        assertEquals(2, r.conflictTerm());
        assertEquals(3, r.conflictIndex(), "term 2 starts at index 3");
        assertTrue(r.reason().contains("entry 5 has term 2"), r.reason());
        assertEquals(5, l.lastIndex());
    }

    @Test
    void truncatesOnlyTheConflictingSuffix() {
        RaftLog l = log(1, 1, 2, 2, 2);
        // the master's log is 1 1 2 3 3: entries 2 and 3 match, 4 conflicts
        AppendResult.Accepted a = assertInstanceOf(AppendResult.Accepted.class,
                l.appendFromLeader(1, 1, List.of(e(2, 1), e(3, 2), e(4, 3), e(5, 3)), 0));
        assertEquals(4, a.truncatedFrom());
        assertEquals(List.of(e(4, 3), e(5, 3)), a.newEntries());
        assertEquals(5, a.matchIndex());
        assertEquals(List.of(1L, 1L, 2L, 3L, 3L), boxed(terms(l)));
        assertEquals(e(3, 2), l.entry(3), "the matching entry is the original, not rewritten");
    }

    @Test
    void aStaleShorterAppendNeverTruncatesMatchingEntries() {
        RaftLog l = RaftLog.empty();
        l.appendFromLeader(0, 0, List.of(e(1, 1), e(2, 1), e(3, 1), e(4, 1)), 0);
        // the same master's earlier message, delivered late
        AppendResult.Accepted a = assertInstanceOf(AppendResult.Accepted.class, l.appendFromLeader(0, 0, List.of(e(1, 1), e(2, 1)), 0));
        assertEquals(2, a.matchIndex(), "it matches as far as it reaches");
        assertEquals(0, a.truncatedFrom());
        assertTrue(a.newEntries().isEmpty());
        assertEquals(4, l.lastIndex(), "entries 3 and 4 stay: they do not conflict");
    }

    @Test
    void aConflictWithACommittedEntryIsASafetyViolationAndThrowsWithTheValues() {
        RaftLog l = log(1, 1, 2);
        l.appendFromLeader(3, 2, List.of(), 3);
        assertEquals(3, l.commitIndex());
        IllegalStateException x = assertThrows(IllegalStateException.class,
                () -> l.appendFromLeader(2, 1, List.of(e(3, 3)), 3));
        assertTrue(x.getMessage().contains("committed entry 3") && x.getMessage().contains("commit index 3"), x.getMessage());
        IllegalStateException y = assertThrows(IllegalStateException.class, () -> l.appendFromLeader(3, 5, List.of(), 3));
        assertTrue(y.getMessage().contains("committed entry 3 has term 5"), y.getMessage());
        assertEquals(List.of(1L, 1L, 2L), boxed(terms(l)), "nothing changed");
    }

    @Test
    void malformedAppendsAreRefused() {
        RaftLog l = log(1);
        assertThrows(IllegalArgumentException.class, () -> l.appendFromLeader(1, 1, List.of(e(3, 1)), 0), "a gap");
        assertThrows(IllegalArgumentException.class, () -> l.appendFromLeader(1, 2, List.of(e(2, 1)), 0), "a term going back");
        assertThrows(IllegalArgumentException.class, () -> l.appendFromLeader(1, 1, List.of(e(2, 2), e(3, 1)), 0));
        assertThrows(IllegalArgumentException.class, () -> l.appendFromLeader(0, 1, List.of(), 0));
        assertEquals(1, l.lastIndex());
    }

    @Test
    void entriesInTheSnapshotAreSkippedAsCommitted() {
        RaftLog l = new RaftLog(5, 2, List.of(e(6, 2)), 5);
        AppendResult.Accepted a = assertInstanceOf(AppendResult.Accepted.class,
                l.appendFromLeader(3, 2, List.of(e(4, 2), e(5, 2), e(6, 2), e(7, 3)), 7));
        assertEquals(List.of(e(7, 3)), a.newEntries());
        assertEquals(7, l.commitIndex());
        assertEquals(7, a.matchIndex());
    }

    // --- master: the hint, and the commit rule (§5.3, §5.4.2)

    @Test
    void nextIndexAfterRejectSkipsAWholeTerm() {
        RaftLog master = log(1, 1, 4, 4, 5, 5);
        assertEquals(5, master.nextIndexAfterReject(7, new AppendResult.Rejected(3, 4, "")),
                "the master has term 4 up to 4: resend from 5");
        assertEquals(2, master.nextIndexAfterReject(7, new AppendResult.Rejected(2, 3, "")),
                "the master has no term 3: resend from the follower's first entry of it");
        assertEquals(3, master.nextIndexAfterReject(7, new AppendResult.Rejected(3, 0, "")), "a short follower log");
        assertEquals(4, master.nextIndexAfterReject(5, new AppendResult.Rejected(3, 5, "")),
                "never at or past the index that was just refused");
    }

    @Test
    void figure8AnEntryOfAnOlderTermIsNotCommittedByCountingReplicas() {
        // Raft paper, Figure 8: S1 is master again in term 4 and has copied its term-2 entry 2 to a
        // majority (S1, S2, S3). S5 (term 3 at index 2) could still win an election and overwrite it,
        // so entry 2 must not be committed by counting.
        RaftLog s1 = log(1, 2);
        assertFalse(s1.advanceCommit(4, 2, 2, 2, 1, 1));
        assertEquals(0, s1.commitIndex());
        // Once an entry of term 4 is on a majority, it and everything before it is committed.
        s1.appendAsMaster(4, new byte[] {42});
        assertFalse(s1.advanceCommit(4, 3, 2, 2, 1, 1), "entry 3 on a minority only");
        assertTrue(s1.advanceCommit(4, 3, 3, 3, 1, 1));
        assertEquals(3, s1.commitIndex());
    }

    @Test
    void commitIsTheHighestIndexAMajorityHolds() {
        RaftLog l = log(1, 1, 1, 1, 1);
        assertTrue(l.advanceCommit(1, 5, 5, 3, 1, 1));
        assertEquals(3, l.commitIndex(), "5 voters: 3 of them hold 3");
        assertTrue(l.advanceCommit(1, 5, 4, 4, 1));
        assertEquals(4, l.commitIndex(), "4 voters need 3");
        assertFalse(l.advanceCommit(1, 1, 1, 1), "commit never goes back");
        assertEquals(4, l.commitIndex());
        assertTrue(l.advanceCommit(1, 5));
        assertEquals(5, l.commitIndex(), "one voter is its own majority");
        IllegalStateException x = assertThrows(IllegalStateException.class, () -> l.advanceCommit(1, 9, 9, 9));
        assertTrue(x.getMessage().contains("majority holds index 9") && x.getMessage().contains("ends at 5"), x.getMessage());
    }

    // --- invariants, compaction and snapshots

    @Test
    void termsNeverGoBackwardsInTheLog() {
        RaftLog l = log(1, 3);
        IllegalStateException x = assertThrows(IllegalStateException.class, () -> l.appendAsMaster(2, new byte[0]));
        assertTrue(x.getMessage().contains("term 2") && x.getMessage().contains("previous entry's term 3"), x.getMessage());
        assertThrows(IllegalStateException.class, () -> new RaftLog(0, 0, List.of(e(1, 3), e(2, 2)), 0));
        assertThrows(IllegalArgumentException.class, () -> new RaftLog(0, 0, List.of(e(2, 1)), 0), "not from base + 1");
        assertThrows(IllegalArgumentException.class, () -> new RaftLog(0, 0, List.of(e(1, 1)), 2), "commit past the end");
        assertThrows(IllegalStateException.class, () -> log(1, 1).advanceCommit(0, 2), "a master behind its own log");
    }

    @Test
    void compactionKeepsTheBaseTermAndRefusesUncommittedEntries() {
        RaftLog l = log(1, 1, 2, 2, 3);
        l.appendFromLeader(5, 3, List.of(), 3);
        IllegalStateException x = assertThrows(IllegalStateException.class, () -> l.compactTo(4));
        assertTrue(x.getMessage().contains("commit index 3"), x.getMessage());
        l.compactTo(3);
        assertEquals(3, l.baseIndex());
        assertEquals(2, l.baseTerm());
        assertEquals(2, l.termAt(3));
        assertEquals(5, l.lastIndex());
        IllegalArgumentException y = assertThrows(IllegalArgumentException.class, () -> l.entry(2));
        assertTrue(y.getMessage().contains("compacted"), y.getMessage());
        assertTrue(l.needsSnapshot(3));
        assertFalse(l.needsSnapshot(4));
        assertEquals(List.of(e(4, 2), e(5, 3)), l.entriesFrom(4, 10));
        assertEquals(List.of(e(4, 2)), l.entriesFrom(4, 1));
        assertEquals(List.of(), l.entriesFrom(6, 10));
        assertThrows(IllegalArgumentException.class, () -> l.entriesFrom(3, 10));
        // the prevIndex of the first sendable entry is the base itself
        assertInstanceOf(AppendResult.Accepted.class, l.appendFromLeader(3, 2, List.of(e(4, 2)), 3));
    }

    @Test
    void installSnapshotKeepsAMatchingSuffixAndDropsAConflictingLog() {
        RaftLog keeps = log(1, 1, 2, 2);
        assertTrue(keeps.installSnapshot(3, 2));
        assertEquals(3, keeps.baseIndex());
        assertEquals(4, keeps.lastIndex(), "entry 4 follows the snapshot's matching entry 3");
        assertEquals(3, keeps.commitIndex());

        RaftLog drops = log(1, 1, 2, 2);
        assertTrue(drops.installSnapshot(3, 3));
        assertEquals(3, drops.lastIndex());
        assertEquals(3, drops.lastTerm());

        RaftLog behind = log(1);
        assertTrue(behind.installSnapshot(10, 4));
        assertEquals(10, behind.lastIndex());
        assertFalse(behind.installSnapshot(8, 4), "a snapshot below the commit index is stale");
    }

    /**
     * Log Matching end to end: from any follower log that shares a committed prefix with the
     * master's, the master's reject-and-retry loop (with the hints) makes the follower's log equal
     * to its own, never touching the committed prefix.
     */
    @Test
    void aFollowerConvergesToTheMastersLogFromRandomDivergentLogs() {
        for (long seed = 1; seed <= 300; seed++) {
            Random rnd = new Random(seed);
            int common = rnd.nextInt(5);
            List<Long> shared = randomTerms(rnd, common, 1, -1);
            long sharedTerm = shared.isEmpty() ? 1 : shared.get(shared.size() - 1);
            // after the shared prefix the two logs hold entries of different masters: disjoint terms
            // (even for the master's, odd for the follower's), as one term has one master
            List<Long> m = new ArrayList<>(shared);
            m.addAll(randomTerms(rnd, rnd.nextInt(8), sharedTerm, 0));
            List<Long> f = new ArrayList<>(shared);
            f.addAll(randomTerms(rnd, rnd.nextInt(8), sharedTerm, 1));
            RaftLog master = log(m.stream().mapToLong(Long::longValue).toArray());
            RaftLog follower = new RaftLog(0, 0, entries(f), common);
            long masterTerm = Math.max(master.lastTerm(), follower.lastTerm()) + 1;
            master.appendAsMaster(masterTerm, new byte[0]);   // the new master's no-op

            long next = master.lastIndex() + 1;
            int rounds = 0;
            while (true) {
                if (++rounds > 50) throw new AssertionError("seed " + seed + ": no convergence");
                long prev = next - 1;
                AppendResult r = follower.appendFromLeader(prev, master.termAt(prev), master.entriesFrom(next, 100), 0);
                if (r instanceof AppendResult.Accepted a) {
                    assertEquals(master.lastIndex(), a.matchIndex(), "seed " + seed);
                    break;
                }
                long n = master.nextIndexAfterReject(next, (AppendResult.Rejected) r);
                assertTrue(n < next && n >= common + 1, "seed " + seed + ": next index " + n + " after " + next);
                next = n;
            }
            assertEquals(boxed(terms(master)), boxed(terms(follower)), "seed " + seed + ": master " + m + ", follower " + f);
        }
    }

    /**
     * n non-decreasing terms from {@code from}. With parity 0 or 1 every term is above
     * {@code from} and of that parity (so two such runs never share a term); with -1, any.
     */
    private static List<Long> randomTerms(Random rnd, int n, long from, int parity) {
        List<Long> out = new ArrayList<>();
        long t = from;
        if (parity >= 0) {
            t = from + 1;
            if (t % 2 != parity) t++;
        }
        for (int i = 0; i < n; i++) {
            if (rnd.nextInt(3) == 0) t += parity >= 0 ? 2 : 1 + rnd.nextInt(2);
            out.add(t);
        }
        return out;
    }

    private static List<LogEntry> entries(List<Long> terms) {
        List<LogEntry> out = new ArrayList<>();
        for (int i = 0; i < terms.size(); i++) out.add(e(i + 1, terms.get(i)));
        return out;
    }

    private static List<Long> boxed(long[] a) {
        List<Long> out = new ArrayList<>();
        for (long v : a) out.add(v);
        return out;
    }
}

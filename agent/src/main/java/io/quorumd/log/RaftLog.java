package io.quorumd.log;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The replicated log's rules (Raft §5.3, §5.4 and §7), in memory and without I/O: the entries after
 * the snapshot base, the commit index, and the decisions a master and a follower make over them.
 * The caller persists what a decision returns (and fsyncs it) before it acts on the decision, as
 * the core's {@code Persist} effects do for the term and vote.
 *
 * <p>Invariants, checked always (not with {@code assert}) and reported with their values:
 * indexes are contiguous from {@code baseIndex + 1}; terms never decrease along the log; the
 * commit index never decreases, never passes the last index, and no committed entry is ever
 * truncated or contradicted.
 *
 * <p>Not thread-safe: the event loop owns it.
 */
public final class RaftLog {
    private long baseIndex;
    private long baseTerm;
    /** entries.get(k).index() == baseIndex + 1 + k. */
    private final ArrayList<LogEntry> entries = new ArrayList<>();
    private long commitIndex;

    /**
     * A log over what storage loaded.
     *
     * @param baseIndex   the last index covered by the snapshot (0 without one)
     * @param baseTerm    the term of that entry (0 without a snapshot)
     * @param loaded      the entries after the base, in order
     * @param commitIndex what is known committed: at least the base (a snapshot holds only committed entries)
     */
    public RaftLog(long baseIndex, long baseTerm, List<LogEntry> loaded, long commitIndex) {
        if (baseIndex < 0 || baseTerm < 0 || (baseIndex == 0) != (baseTerm == 0))
            throw new IllegalArgumentException("snapshot base must be (0, 0) or both positive (got index "
                    + baseIndex + ", term " + baseTerm + ")");
        this.baseIndex = baseIndex;
        this.baseTerm = baseTerm;
        for (LogEntry e : loaded) appendChecked(e);
        if (commitIndex < baseIndex || commitIndex > lastIndex())
            throw new IllegalArgumentException("commit index " + commitIndex + " is outside [snapshot base "
                    + baseIndex + ", last index " + lastIndex() + "]");
        this.commitIndex = commitIndex;
    }

    /** A fresh node's log: no snapshot, no entries. */
    public static RaftLog empty() {
        return new RaftLog(0, 0, List.of(), 0);
    }

    public long baseIndex() {
        return baseIndex;
    }

    public long baseTerm() {
        return baseTerm;
    }

    /** The first index held as an entry (baseIndex + 1; past the end when the log is empty). */
    public long firstIndex() {
        return baseIndex + 1;
    }

    public long lastIndex() {
        return baseIndex + entries.size();
    }

    public long lastTerm() {
        return entries.isEmpty() ? baseTerm : entries.get(entries.size() - 1).term();
    }

    public long commitIndex() {
        return commitIndex;
    }

    /** The term of entry {@code index}; the base's term for the base itself. */
    public long termAt(long index) {
        if (index == baseIndex) return baseTerm;
        return entry(index).term();
    }

    /** Entry {@code index}, which must lie in (baseIndex, lastIndex]. */
    public LogEntry entry(long index) {
        if (index <= baseIndex || index > lastIndex())
            throw new IllegalArgumentException("no log entry " + index + ": the log holds (" + baseIndex + ", "
                    + lastIndex() + "]" + (index <= baseIndex && baseIndex > 0 ? " (compacted into the snapshot)" : ""));
        return entries.get((int) (index - baseIndex - 1));
    }

    /** Up to {@code max} entries from {@code from}: what a master sends a follower whose next index is {@code from}. */
    public List<LogEntry> entriesFrom(long from, int max) {
        if (from <= baseIndex)
            throw new IllegalArgumentException("entries from " + from + " are compacted (snapshot base " + baseIndex
                    + "): send the snapshot instead");
        if (from > lastIndex() + 1)
            throw new IllegalArgumentException("entries from " + from + " are past the end (last index " + lastIndex() + ")");
        int start = (int) (from - baseIndex - 1);
        return List.copyOf(entries.subList(start, Math.min(entries.size(), start + Math.max(0, max))));
    }

    /** Whether a follower whose next index is {@code nextIndex} needs the snapshot (its entries are compacted). */
    public boolean needsSnapshot(long nextIndex) {
        return nextIndex <= baseIndex;
    }

    /**
     * Raft's election restriction (§5.4.1): a candidate whose last entry is {@code (lastTerm,
     * lastIndex)} is at least as up to date as this log when its last term is higher, or equal with
     * an index at least this log's last.
     */
    public boolean isUpToDate(long candidateLastTerm, long candidateLastIndex) {
        long myTerm = lastTerm();
        return candidateLastTerm > myTerm || (candidateLastTerm == myTerm && candidateLastIndex >= lastIndex());
    }

    /** The master appends a new command in its own term; the term must not be below the log's last. */
    public LogEntry appendAsMaster(long term, byte[] payload) {
        LogEntry e = new LogEntry(lastIndex() + 1, term, payload);
        appendChecked(e);
        return e;
    }

    /**
     * A follower's handling of a master's append (Raft §5.3, Figure 2 "AppendEntries RPC"):
     * reject unless this log holds an entry at {@code prevIndex} with {@code prevTerm}; otherwise
     * keep every entry that matches, truncate from the first one that conflicts (same index,
     * other term), append what is new, and advance the commit index to {@code min(leaderCommit,
     * index of the last entry sent)}. A stale or repeated message never truncates matching
     * entries, so a delayed short append cannot undo a longer one.
     *
     * @throws IllegalArgumentException the sent entries are not contiguous from {@code prevIndex + 1}
     *                                  or their terms go backwards (a malformed message)
     * @throws IllegalStateException    the master contradicts a committed entry (a safety violation)
     */
    public AppendResult appendFromLeader(long prevIndex, long prevTerm, List<LogEntry> sent, long leaderCommit) {
        checkSent(prevIndex, prevTerm, sent, leaderCommit);
        if (prevIndex > lastIndex())
            return new AppendResult.Rejected(lastIndex() + 1, 0, "no entry at prevIndex " + prevIndex
                    + ": this log ends at " + lastIndex());
        if (prevIndex >= baseIndex) {
            long mine = termAt(prevIndex);
            if (mine != prevTerm) {
                if (prevIndex <= commitIndex)
                    throw new IllegalStateException("the master says committed entry " + prevIndex + " has term "
                            + prevTerm + ", this log has term " + mine + " (commit index " + commitIndex + ")");
                return new AppendResult.Rejected(firstIndexOfTerm(mine, prevIndex), mine, "entry " + prevIndex
                        + " has term " + mine + ", the master's has term " + prevTerm);
            }
        }
        // entries at or below the base are in the snapshot: committed, so they match (Log Matching)
        long truncatedFrom = 0;
        List<LogEntry> fresh = new ArrayList<>();
        for (LogEntry e : sent) {
            if (!fresh.isEmpty() || e.index() > lastIndex()) {
                fresh.add(e);
            } else if (e.index() > baseIndex && termAt(e.index()) != e.term()) {
                truncateFrom(e.index(), e.term());
                truncatedFrom = e.index();
                fresh.add(e);
            }
        }
        for (LogEntry e : fresh) appendChecked(e);
        long lastNew = prevIndex + sent.size();
        long newCommit = Math.min(leaderCommit, lastNew);
        if (newCommit > commitIndex) commitIndex = newCommit;
        return new AppendResult.Accepted(lastNew, truncatedFrom, fresh, commitIndex);
    }

    /**
     * The master's next index for a follower that rejected the append sent from {@code sentNextIndex}
     * with {@code r}'s hint: past the master's last entry of the conflicting term when it has that
     * term, else the follower's conflict index (the first entry of the term to overwrite, or the
     * end of its short log). Always below {@code sentNextIndex}, so the retries make progress even
     * on a hint that Log Matching rules out; at or below {@link #baseIndex()} the follower needs
     * the snapshot.
     */
    public long nextIndexAfterReject(long sentNextIndex, AppendResult.Rejected r) {
        long next = Math.max(1, r.conflictIndex());
        if (r.conflictTerm() > 0) {
            for (long i = lastIndex(); i > baseIndex; i--) {
                long t = termAt(i);
                if (t == r.conflictTerm()) {
                    next = i + 1;
                    break;
                }
                if (t < r.conflictTerm()) break;   // terms never decrease: it is not further back
            }
        }
        return Math.max(1, Math.min(next, sentNextIndex - 1));
    }

    /**
     * The master's commit rule (Raft §5.3 and §5.4.2, Figure 8): the highest index that a majority
     * of voters hold becomes committed only if its entry is of the master's current term; an entry
     * of an older term commits only indirectly, with a later entry of the current term.
     *
     * @param currentTerm  the master's term
     * @param matchIndexes one per voter, the master's own durable last index included
     * @return whether the commit index advanced
     */
    public boolean advanceCommit(long currentTerm, long... matchIndexes) {
        if (matchIndexes.length == 0) throw new IllegalArgumentException("no voters' match indexes");
        if (lastTerm() > currentTerm)
            throw new IllegalStateException("the log's last term " + lastTerm() + " is above the master's term "
                    + currentTerm);
        long[] sorted = matchIndexes.clone();
        Arrays.sort(sorted);
        int majority = sorted.length / 2 + 1;
        long n = sorted[sorted.length - majority];   // the highest index held by a majority
        if (n > lastIndex())
            throw new IllegalStateException("a majority holds index " + n + " but the master's log ends at " + lastIndex()
                    + " (match indexes " + Arrays.toString(matchIndexes) + ")");
        if (n <= commitIndex || termAt(n) != currentTerm) return false;
        commitIndex = n;
        return true;
    }

    /**
     * Drops the entries up to {@code index}, which a durable snapshot now covers; only committed
     * entries may go into a snapshot.
     */
    public void compactTo(long index) {
        if (index <= baseIndex) return;
        if (index > commitIndex)
            throw new IllegalStateException("cannot compact to " + index + ": only committed entries go into a snapshot"
                    + " (commit index " + commitIndex + ")");
        long term = termAt(index);
        entries.subList(0, (int) (index - baseIndex)).clear();
        entries.trimToSize();
        baseIndex = index;
        baseTerm = term;
    }

    /**
     * A follower installs the master's snapshot (Raft §7): when this log holds the snapshot's last
     * entry with the same term, the entries after it stay; otherwise the whole log goes. A snapshot
     * at or below the commit index is stale and ignored.
     *
     * @return whether the snapshot was installed
     */
    public boolean installSnapshot(long index, long term) {
        if (index < 1 || term < 1)
            throw new IllegalArgumentException("snapshot index and term must be >= 1 (got " + index + ", " + term + ")");
        if (index <= commitIndex) return false;
        boolean keep = index <= lastIndex() && termAt(index) == term;
        if (keep) {
            entries.subList(0, (int) (index - baseIndex)).clear();
        } else {
            entries.clear();
        }
        entries.trimToSize();
        baseIndex = index;
        baseTerm = term;
        commitIndex = index;
        return true;
    }

    private void appendChecked(LogEntry e) {
        if (e.index() != lastIndex() + 1)
            throw new IllegalArgumentException("log entry " + e.index() + " does not follow the last index " + lastIndex());
        if (e.term() < lastTerm())
            throw new IllegalStateException("log entry " + e.index() + " has term " + e.term()
                    + ", below the previous entry's term " + lastTerm() + ": terms never go backwards in the log");
        entries.add(e);
    }

    private void truncateFrom(long index, long masterTerm) {
        if (index <= commitIndex)
            throw new IllegalStateException("the master's entry " + index + " (term " + masterTerm + ") conflicts with"
                    + " committed entry " + index + " (term " + termAt(index) + ", commit index " + commitIndex + ")");
        entries.subList((int) (index - baseIndex - 1), entries.size()).clear();
    }

    /** The first index of the run of {@code term} that ends at {@code at} (not below the base). */
    private long firstIndexOfTerm(long term, long at) {
        long i = at;
        while (i - 1 > baseIndex && termAt(i - 1) == term) i--;
        return i;
    }

    private static void checkSent(long prevIndex, long prevTerm, List<LogEntry> sent, long leaderCommit) {
        if (prevIndex < 0 || prevTerm < 0 || leaderCommit < 0 || (prevIndex == 0) != (prevTerm == 0))
            throw new IllegalArgumentException("bad append: prevIndex " + prevIndex + ", prevTerm " + prevTerm
                    + ", leaderCommit " + leaderCommit);
        long expect = prevIndex + 1;
        long term = prevTerm;
        for (LogEntry e : sent) {
            if (e.index() != expect)
                throw new IllegalArgumentException("bad append: entry " + e.index() + " where " + expect + " was due"
                        + " (prevIndex " + prevIndex + ")");
            if (e.term() < term)
                throw new IllegalArgumentException("bad append: entry " + e.index() + " has term " + e.term()
                        + ", below the term before it " + term);
            expect++;
            term = e.term();
        }
    }
}

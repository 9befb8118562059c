package io.quorumd.log;

import java.util.List;

/**
 * A follower's answer to a master's append: {@link Accepted} (what to persist, how far it matches)
 * or {@link Rejected} (with the hint that lets the master skip a whole conflicting term at once).
 */
public sealed interface AppendResult {

    /**
     * The entries matched up to {@code matchIndex}. Before answering, the caller persists exactly
     * this: truncate the stored log from {@code truncatedFrom} when it is not 0, then append
     * {@code newEntries} (possibly none), then fsync; only then may it send the acknowledgement.
     *
     * @param matchIndex    index of the last entry the master sent (prevIndex + entries sent)
     * @param truncatedFrom first index removed because it conflicted with the master, or 0
     * @param newEntries    entries this log did not have, in index order
     * @param commitIndex   this log's commit index after the append
     */
    record Accepted(long matchIndex, long truncatedFrom, List<LogEntry> newEntries, long commitIndex)
            implements AppendResult {
        public Accepted {
            newEntries = List.copyOf(newEntries);
        }
    }

    /**
     * The entry before the sent ones did not match (Raft §5.3). The hint follows the Raft
     * dissertation (§5.3's optimisation): {@code conflictTerm} is this log's term at the master's
     * prevIndex and {@code conflictIndex} the first index this log holds for that term; or, when
     * this log is too short, {@code conflictTerm} 0 and {@code conflictIndex} this log's last index
     * + 1. {@link RaftLog#nextIndexAfterReject} turns it into the master's next index.
     */
    record Rejected(long conflictIndex, long conflictTerm, String reason) implements AppendResult {
    }
}

package io.quorumd.core;

import io.quorumd.log.LogEntry;

import java.util.List;

/**
 * What the core asks the world to do, in order. The core never announces a term or a vote before
 * the {@link Persist} behind it is acknowledged: it holds such messages back itself.
 */
public sealed interface Effect
        permits Effect.Publish, Effect.Request, Effect.Respond, Effect.Persist, Effect.StartCommand,
        Effect.StopCommand, Effect.LeaseRenewed, Effect.RunHook, Effect.RunFence, Effect.RoleChanged,
        Effect.Trace, Effect.ReadyToExit, Effect.Probe, Effect.StepDownDone, Effect.PersistLog, Effect.Apply,
        Effect.ReadReady, Effect.ClientFailed, Effect.TakeSnapshot, Effect.CompactLog, Effect.SendSnapshot,
        Effect.StoreSnapshotChunk, Effect.RestoreSnapshot {

    /** Publish a keep-alive to every peer (PUB/SUB). */
    record Publish(Message.KeepAlive keepAlive) implements Effect {}

    /** Send a request that expects an answer (REQ/REP); a failure comes back as {@link Event.RequestFailed}. */
    record Request(String to, Message message) implements Effect {}

    /** Answer the request with the same {@code requestId} from {@code to}. */
    record Respond(String to, Message message) implements Effect {}

    /** Write term and vote durably; acknowledge with {@link Event.Persisted} or {@link Event.PersistFailed}. */
    record Persist(long seq, long term, String votedFor) implements Effect {}

    /**
     * The command may start now for {@code term} (the fencing token), with its watchdog armed at
     * {@code leaseEndNanos}.
     */
    record StartCommand(long term, String master, long leaseEndNanos) implements Effect {}

    /**
     * Stop the command of {@code term} (stop signal, then SIGKILL after {@code stop_timeout}); then
     * {@link Event.CommandStopped}. A supervisor running another term's command leaves it alone.
     */
    record StopCommand(long term, String reason) implements Effect {}

    /**
     * The master's lease now ends at {@code leaseEndNanos} (local monotonic clock). The watchdog
     * sends the stop signal then, and SIGKILL {@code stop_timeout} later, unless renewed.
     */
    record LeaseRenewed(long term, long leaseEndNanos) implements Effect {}

    /** Run the {@code on_master} or {@code on_follower} hook, asynchronously. */
    record RunHook(Hook hook, long term, String master) implements Effect {}

    /** Run the fence hook against the old master; report with {@link Event.FenceResult}. */
    record RunFence(String oldMaster, long oldTerm, long term) implements Effect {}

    /** For logs, status and systemd's STATUS=: one per role change, with the reason. */
    record RoleChanged(Role role, long term, String master, String reason) implements Effect {}

    /** A debug note (each vote, each refusal and why). */
    record Trace(String text) implements Effect {}

    /** Shutdown requested and the command is stopped and handed over: the agent may exit. */
    record ReadyToExit() implements Effect {}

    /**
     * Try a connection to {@code peer}'s request port: the master this follower follows has been
     * silent for two heartbeats. A refusal comes back as {@link Event.PeerRefused} (its agent is
     * gone: stickiness ends early, never proof for its command); silence is never reported.
     */
    record Probe(String peer) implements Effect {}

    /**
     * The step-down asked with {@code requestId} ({@link Event.StepDownRequested}) is over: this
     * node is no longer master (its command stopped and mastership handed over, or it lost
     * mastership meanwhile, or it was not master when the request came).
     */
    record StepDownDone(long requestId) implements Effect {}

    /**
     * Make the log durable: remove the stored entries from {@code truncateFrom} on (0: none), then
     * append {@code entries}, then fsync; acknowledge with {@link Event.LogPersisted}. Writes
     * complete in sequence order. Nothing that acknowledges these entries leaves before that.
     */
    record PersistLog(long seq, long truncateFrom, List<LogEntry> entries) implements Effect {
        public PersistLog {
            entries = List.copyOf(entries);
        }
    }

    /**
     * Entry {@code entry.index()} is committed: apply it to the store, in index order (each index
     * exactly once per agent run; a restarted run applies again from its snapshot). An empty payload
     * is a master's no-op. {@code requestId} is the {@link Event.ClientWrite} it answers, or 0.
     */
    record Apply(LogEntry entry, long requestId) implements Effect {}

    /**
     * The linearizable read {@code requestId} may be served now from the state applied so far
     * (every entry up to its read index is applied; a majority confirmed this master after the read arrived).
     */
    record ReadReady(long requestId) implements Effect {}

    /**
     * Client request {@code requestId} failed. {@code outcomeUnknown}: a write that was appended and
     * may still commit (the master was lost, or no majority answered in time); otherwise it surely
     * had no effect. {@code master} is the master this node knows, or null.
     */
    record ClientFailed(long requestId, boolean outcomeUnknown, String master, String reason) implements Effect {}

    /**
     * The state machine has applied exactly entry {@code index} (of {@code term}) when this effect is
     * reached (effects are applied in order): snapshot it now, store the snapshot durably (the
     * previous one stays readable until the core has handled the new one's event), then report
     * {@link Event.SnapshotTaken} or {@link Event.SnapshotFailed}. Only committed, applied entries
     * are ever in a snapshot. One at a time; when is {@link SnapshotPolicy}'s decision.
     */
    record TakeSnapshot(long index, long term) implements Effect {}

    /**
     * Storage may drop the stored log entries up to {@code upToIndex} (a durable snapshot, last entry
     * of term {@code term}, covers them); with {@code discardAll}, every stored entry (a snapshot
     * installed from the master replaced a log that does not match it). Carried out in order with the
     * {@link PersistLog} writes issued before it, and acknowledged by none: whether it happened or
     * not, recovery gives the same log: the agent loads its current snapshot (index {@code b}, term
     * {@code bt}), keeps the stored entries after it only if they follow it (the stored log starts at
     * {@code b + 1}, or holds entry {@code b} with term {@code bt}), compacts the stored log to
     * {@code b} (all of it when the entries do not follow: it may even end before {@code b}), and
     * hands the core {@code new RaftLog(b, bt, entriesAfter, b)} with its state machine restored from
     * the snapshot.
     */
    record CompactLog(long upToIndex, long term, boolean discardAll) implements Effect {}

    /**
     * The master sends {@code to} one chunk of its current snapshot ({@code chunk.lastIndex()}): read
     * at most {@link Message.InstallSnapshot#MAX_CHUNK_BYTES} from {@code chunk.offset()} of that
     * snapshot's bytes and send {@code chunk.withData(bytes, last)} as a request, {@code last} when
     * the chunk ends the snapshot. Its answer comes back as a received message, its failure (or a
     * snapshot no longer held) as {@link Event.RequestFailed} with {@code chunk.requestId()}.
     */
    record SendSnapshot(String to, Message.InstallSnapshot chunk) implements Effect {}

    /**
     * A follower stores one chunk of master {@code from}'s snapshot {@code index} (last entry of
     * term {@code term}): offset 0 starts a new partial snapshot (any other partial one goes), the
     * next chunks follow in order. With {@code done}: write it, fsync, verify it, keep it as the
     * current snapshot unless a newer one is held, and report {@link Event.SnapshotReceived} (or
     * {@link Event.SnapshotFailed}); do not restore the state machine yet.
     */
    record StoreSnapshotChunk(String from, long index, long term, long offset, byte[] data, boolean done)
            implements Effect {
        public StoreSnapshotChunk {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof StoreSnapshotChunk x && from.equals(x.from) && index == x.index && term == x.term
                    && offset == x.offset && java.util.Arrays.equals(data, x.data) && done == x.done;
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(from, index, term, offset, java.util.Arrays.hashCode(data), done);
        }

        @Override
        public String toString() {
            return "StoreSnapshotChunk[from=" + from + ", index=" + index + ", term=" + term + ", offset=" + offset
                    + ", " + data.length + " bytes, done=" + done + "]";
        }
    }

    /**
     * Replace the state machine with the received snapshot {@code index} (term {@code term}, the one
     * {@link Event.SnapshotReceived} reported): it now holds every entry up to {@code index}, and the
     * next {@link Apply} is of {@code index + 1}.
     */
    record RestoreSnapshot(long index, long term) implements Effect {}

    enum Hook { ON_MASTER, ON_FOLLOWER }
}

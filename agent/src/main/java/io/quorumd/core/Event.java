package io.quorumd.core;

/** Everything that can happen to a node. The caller passes the time separately. */
public sealed interface Event
        permits Event.Tick, Event.Received, Event.Persisted, Event.PersistFailed, Event.CommandStopped,
        Event.CommandGaveUp, Event.FenceResult, Event.StepDownRequested, Event.ShutdownRequested,
        Event.PeerRefused, Event.RequestFailed, Event.FenceEligibility, Event.LogPersisted, Event.ClientWrite,
        Event.ClientRead, Event.LogPersistFailed, Event.SnapshotTaken, Event.SnapshotReceived, Event.SnapshotFailed {

    /** Time passed; nothing else. */
    record Tick() implements Event {}

    /** A frame arrived and decoded. */
    record Received(Message message) implements Event {}

    /** The {@link Effect.Persist} with this sequence number is on disk (fsynced, renamed). */
    record Persisted(long seq) implements Event {}

    /** The {@link Effect.Persist} with this sequence number failed (for example a full disk). */
    record PersistFailed(long seq, String reason) implements Event {}

    /** The command started for {@code term} is gone: its process group is empty. */
    record CommandStopped(long term) implements Event {}

    /** The command failed more than {@code max_restarts} times within {@code restart_window}. */
    record CommandGaveUp(long term, String reason) implements Event {}

    /** The fence hook against {@code oldMaster} (master in {@code oldTerm}) finished. */
    record FenceResult(String oldMaster, long oldTerm, boolean succeeded, String detail) implements Event {}

    /**
     * Graceful hand-over asked by the operator; {@code to} may be null (pick the best peer). The
     * core answers a non-zero {@code requestId} with {@link Effect.StepDownDone} once this node is no
     * longer master; 0: nobody waits for the answer.
     */
    record StepDownRequested(String to, long requestId) implements Event {
        /** A step-down nobody waits for (the self-fence's). */
        public StepDownRequested(String to) {
            this(to, 0);
        }
    }

    /** The agent is stopping: hand over like a step-down, then {@link Effect.ReadyToExit}. */
    record ShutdownRequested() implements Event {}

    /**
     * A peer's agent refused a connection (a {@link Effect.Probe}, or a request's connection): it
     * is gone, but its command may not be.
     */
    record PeerRefused(String peer) implements Event {}

    /** A request sent by {@link Effect.Request} got no answer in time. */
    record RequestFailed(String to, long requestId, String reason) implements Event {}

    /**
     * With {@code self_fence.mode: required}: whether the watchdog device can be used. While it cannot
     * ({@code usable} false, {@code reason} says why) the node does not campaign, and a master hands
     * over. Nodes start usable; the agent reports a change (and the state at start).
     */
    record FenceEligibility(boolean usable, String reason) implements Event {}

    /** The {@link Effect.PersistLog} with this sequence number is on disk (written and fsynced). */
    record LogPersisted(long seq) implements Event {}

    /**
     * A client asks for a write: {@code payload} is the command the store applies (opaque to the
     * core, never empty). Answered by {@link Effect.Apply} with the same {@code requestId}, or by
     * {@link Effect.ClientFailed}, within an election timeout.
     */
    record ClientWrite(long requestId, byte[] payload) implements Event {
        public ClientWrite {
            payload = payload.clone();
        }

        @Override
        public byte[] payload() {
            return payload.clone();
        }
    }

    /**
     * A client asks for a linearizable read: answered by {@link Effect.ReadReady} (serve it from the
     * state applied so far) or by {@link Effect.ClientFailed}, within an election timeout.
     */
    record ClientRead(long requestId) implements Event {}

    /**
     * The {@link Effect.PersistLog} with this sequence number failed (for example a full disk); so do
     * the writes issued after it, as far as durability goes: the core counts none of their entries as
     * durable and acknowledges none of them. It rewrites its log from its durable index on, once a
     * heartbeat later and then after each failure, until a rewrite succeeds; meanwhile a master refuses
     * new client writes (those in flight may still commit through the followers' disks).
     *
     * <p>The agent: {@code LogStorage} is unusable after a failed write until reopened, so it answers
     * every later {@link Effect.PersistLog} with this event too, until one whose {@code truncateFrom}
     * is at or below its stored last index + 1 (the core's rewrite): it reopens the storage, truncates
     * from there, appends and syncs. A write that would leave a hole in the stored log is a bug.
     */
    record LogPersistFailed(long seq, String reason) implements Event {}

    /**
     * The snapshot asked by {@link Effect.TakeSnapshot} ({@code index}, {@code term}) is durable:
     * the core drops the entries it covers ({@link Effect.CompactLog}).
     */
    record SnapshotTaken(long index, long term) implements Event {}

    /**
     * The snapshot whose chunks came through {@link Effect.StoreSnapshotChunk} (the last one with
     * {@code done}) is complete, verified and durable, and the agent keeps it as its current snapshot
     * unless it already holds a newer one; its state machine is not restored yet. The core installs
     * it ({@link Effect.RestoreSnapshot}) unless its own commit index has passed it meanwhile.
     */
    record SnapshotReceived(long index, long term) implements Event {}

    /**
     * Taking ({@link Effect.TakeSnapshot}) or storing ({@link Effect.StoreSnapshotChunk}) snapshot
     * {@code index} failed; the log stays as it is (nothing is compacted, nothing acknowledged).
     */
    record SnapshotFailed(long index, String reason) implements Event {}
}

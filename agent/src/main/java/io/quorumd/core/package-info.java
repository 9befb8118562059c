/**
 * The pure election and lease state machine. Nothing here has threads, sockets, files, clocks or
 * randomness of its own: {@link io.quorumd.core.Node#handle} takes an {@link io.quorumd.core.Event}
 * and the time, and returns {@link io.quorumd.core.Effect}s for the caller to carry out in order.
 * The same code runs in the agent and, thousands of times per test run, in the simulator.
 *
 * <p>{@code Node} is the dispatcher (etcd's {@code Step}): every message passes the {@code TermGate},
 * then goes to the {@code Voter} (vote requests: every role votes), {@code HandOvers} (answers to a
 * hand-over) or the handler of the current role. The role is an object, {@code FollowerRole}
 * (its pre-vote round), {@code CandidateRole} (its votes, {@code CandidateState}) or
 * {@code MasterRole} (lease, clearance, fence, the command's start: {@code MasterState}), created
 * in one place on every role change and dropped with all it held. {@code Campaign} takes a follower
 * or candidate to master; {@code HandOvers} leaves mastership on purpose (step-down, shutdown) and
 * answers the operator's step-down ({@code StepDownDone}); {@code KeepAlives} announces the term;
 * {@code Preemption} asks a lower-priority master for a hand-over after {@code preempt_delay} and
 * answers such a request with the step-down's path. {@code Event.FenceEligibility} (a required
 * self-fence device usable or not) decides whether this node may campaign.
 * The pure parts each have one job and their own tests: {@code Outbox} (persist sequence, messages
 * held until their write is acknowledged, write coalescing, storage health), {@code Lease} (echoes
 * to lease end), {@code ClearanceJudge} (proofs, fence, the old lease plus stop bound),
 * {@code HandOverPlan} (whom to ask next), {@code MasterKnowledge} (stickiness, amnesia, the report
 * a voter gives), {@code PeerTable}, {@code SilenceProbe} (when a follower probes its silent master:
 * the {@code Probe} effect). {@code Replication} is the replicated log for every role (what is
 * durable, what a follower acknowledges, what is committed and applied; appends are requests, their
 * answers {@code AppendAck}s sent only for entries on disk) and {@code Leadership} the master's side
 * for one term (next and match indexes, the commit rule over durable indexes, Raft's no-op, client
 * writes and ReadIndex reads with their deadlines); both run only with {@code NodeConfig.replication}.
 * Snapshots (issue 14): {@code SnapshotPolicy} says when the state machine is snapshotted
 * ({@code TakeSnapshot}, then {@code SnapshotTaken} compacts the log: {@code CompactLog}); a follower
 * whose next index is compacted gets the master's snapshot in chunks ({@code SendSnapshot} on the
 * master, {@code InstallSnapshot}/{@code InstallSnapshotAck} on the wire, {@code StoreSnapshotChunk},
 * {@code SnapshotReceived} and {@code RestoreSnapshot} on the follower). The core holds no snapshot
 * bytes beyond one chunk in one event and never owns the store: the agent keeps the state machine
 * and the files. A failed log write ({@code LogPersistFailed}) is never acknowledged; the log is
 * rewritten from its durable index and a master refuses client writes meanwhile.
 * Broken invariants throw, with the values in the message.
 */
package io.quorumd.core;

/**
 * The pure election and lease state machine. Nothing here has threads, sockets, files, clocks or
 * randomness of its own: {@link io.quorumd.core.Node#handle} takes an {@link io.quorumd.core.Event}
 * and the time, and returns {@link io.quorumd.core.Effect}s for the caller to carry out in order.
 * The same code runs in the agent and, thousands of times per test run, in the simulator.
 *
 * <p>{@code Node} is the dispatcher: the term gate, then the handler of each message and event. The
 * parts it wires each have one job and their own tests: {@code Outbox} (persist sequence, messages
 * held until their write is acknowledged, write coalescing, storage health), {@code Lease} (echoes
 * to lease end), {@code Clearance} (proofs, fence, the old lease plus stop bound),
 * {@code HandOverPlan} (whom to ask next), {@code MasterKnowledge} (stickiness, amnesia, the report
 * a voter gives), {@code PeerTable}. Role state lives in objects that exist only while the role
 * does: {@code MasterState}, {@code CandidateState}, and {@code PreVote} for a pre-vote round.
 */
package io.quorumd.core;

/**
 * The replicated log's rules, pure: {@link io.quorumd.log.RaftLog} holds the entries after the
 * snapshot base and decides what a master commits (only by majority and only in its own term,
 * Raft's Figure 8), what a follower keeps, truncates and commits from a master's append, and
 * whether a candidate's log is up to date enough for a vote. No threads, files or clocks: the
 * caller persists what a decision returns through {@link io.quorumd.storage.LogStorage} before
 * acting on it.
 *
 * <p>Not yet wired into the agent: the core ({@code core.Node}) and the loop will drive it when
 * the key-value store lands (issue 14).
 */
package io.quorumd.log;

package io.quorumd.core;

import io.quorumd.log.LogEntry;

import java.util.List;

/**
 * Every frame the nodes exchange. The codec adds protocol version and cluster name; every message
 * carries its sender, the sender's term and the sender's boot id (random per agent run).
 */
public sealed interface Message
        permits Message.KeepAlive, Message.VoteRequest, Message.VoteResponse, Message.HandOver, Message.HandOverAck,
        Message.Preempt, Message.Append, Message.AppendAck, Message.Forward, Message.ForwardReply,
        Message.InstallSnapshot, Message.InstallSnapshotAck {

    String from();

    long term();

    long bootId();

    /** Short type name for logs and counters. */
    default String type() {
        return getClass().getSimpleName();
    }

    /**
     * Published by every node every heartbeat, to every peer.
     *
     * @param sentAtNanos       sender's clock when sent
     * @param master            the master the sender follows (itself when it is master), or null
     * @param echoNanos         {@code sentAtNanos} of the newest keep-alive of {@code master} in this
     *                          term that the sender received; -1 if none. The master's lease counts these.
     * @param lastContactAgoNanos how long ago the sender last heard its master; -1 if never
     * @param cleared           sender is master and has permission to run its command
     * @param proof             evidence the sender offers about its own old command, or null
     */
    record KeepAlive(String from, long term, long bootId, long sentAtNanos, String master, long echoNanos,
                     long lastContactAgoNanos, boolean cleared, Proof proof,
                     long lastLogTerm, long lastLogIndex) implements Message {
        public boolean claimsMastership() {
            return from.equals(master);
        }
    }

    /**
     * A (pre-)vote request. A pre-vote asks "would you vote for me in {@code term}" and changes no
     * state; a real vote is persisted by the voter before it answers.
     *
     * @param sentAtNanos candidate's clock when sent; a grant echoes it like a keep-alive
     * @param transfer    the old master's hand-over naming this candidate, or null
     */
    record VoteRequest(String from, long term, long bootId, long requestId, boolean preVote, long sentAtNanos,
                       long lastLogTerm, long lastLogIndex, Proof transfer) implements Message {}

    /** The answer to a {@link VoteRequest}; {@code reason} says why a vote was refused. */
    record VoteResponse(String from, long term, long bootId, long requestId, boolean preVote, boolean granted,
                        String reason, long echoNanos, MasterReport report) implements Message {}

    /**
     * Sent by a master that has stepped down and seen its command stop: "campaign now".
     * {@code proof} says its command is gone.
     */
    record HandOver(String from, long term, long bootId, long requestId, String to, Proof proof) implements Message {}

    /**
     * The answer to a {@link HandOver}, and to a {@link Preempt} ({@code accepted}: the master
     * starts its hand-over to the asker).
     */
    record HandOverAck(String from, long term, long bootId, long requestId, boolean accepted, String reason)
            implements Message {}

    /**
     * Preemption ({@code timing.preempt_delay}): a follower of a higher priority than the master it
     * follows, healthy and in contact with it for the delay, asks that master of {@code term} for a
     * graceful hand-over to itself. Answered with a {@link HandOverAck}; the hand-over itself is the
     * step-down's ({@link HandOver} with proof). Never moves anybody's term.
     */
    record Preempt(String from, long term, long bootId, long requestId) implements Message {}

    /**
     * The master's append (Raft's AppendEntries), a request: the entries after {@code prevIndex}
     * (none: a heartbeat that confirms mastership for a read and carries the commit index).
     *
     * @param prevIndex    index of the entry before {@code entries} (0: none)
     * @param prevTerm     its term (0 with prevIndex 0)
     * @param entries      contiguous from {@code prevIndex + 1}, terms never decreasing
     * @param leaderCommit the master's commit index
     */
    record Append(String from, long term, long bootId, long requestId, long prevIndex, long prevTerm,
                  List<LogEntry> entries, long leaderCommit) implements Message {
        public Append {
            entries = List.copyOf(entries);
        }
    }

    /**
     * The answer to an {@link Append}, sent only once the entries it acknowledges are on disk.
     * {@code success}: the log matches the master's up to {@code matchIndex}. A refusal carries the
     * hint ({@code conflictIndex}, {@code conflictTerm}) of {@link io.quorumd.log.AppendResult.Rejected};
     * an answer from a newer term tells the master it is deposed.
     */
    record AppendAck(String from, long term, long bootId, long requestId, boolean success, long matchIndex,
                     long conflictIndex, long conflictTerm) implements Message {}

    /**
     * A follower's agent hands a client's request of the replicated store to the master it knows
     * (SPEC: "a request to a follower's agent is forwarded to the master"). Never seen by the core:
     * the master's agent feeds it to its core as {@link Event.ClientWrite} ({@code write}: the
     * payload is the command) or {@link Event.ClientRead} (the payload names the read), and answers
     * with a {@link ForwardReply}. The follower's term is informational.
     */
    record Forward(String from, long term, long bootId, long requestId, boolean write, byte[] payload) implements Message {
        public Forward {
            payload = payload.clone();
        }

        @Override
        public byte[] payload() {
            return payload.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Forward f && from.equals(f.from) && term == f.term && bootId == f.bootId
                    && requestId == f.requestId && write == f.write && java.util.Arrays.equals(payload, f.payload);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(from, term, bootId, requestId, write, java.util.Arrays.hashCode(payload));
        }

        @Override
        public String toString() {
            return "Forward[" + from + ", term " + term + ", request " + requestId + (write ? ", write, " : ", read, ")
                    + payload.length + " bytes]";
        }
    }

    /**
     * The master's answer to a {@link Forward}: the exit status and the body (UTF-8: the result's
     * JSON when {@code exit} is 0, else the error message) the follower's agent gives its client.
     */
    record ForwardReply(String from, long term, long bootId, long requestId, int exit, byte[] body) implements Message {
        public ForwardReply {
            if (exit < 0 || exit > 255) throw new IllegalArgumentException("exit status out of 0..255: " + exit);
            body = body.clone();
        }

        @Override
        public byte[] body() {
            return body.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ForwardReply f && from.equals(f.from) && term == f.term && bootId == f.bootId
                    && requestId == f.requestId && exit == f.exit && java.util.Arrays.equals(body, f.body);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(from, term, bootId, requestId, exit, java.util.Arrays.hashCode(body));
        }

        @Override
        public String toString() {
            return "ForwardReply[" + from + ", term " + term + ", request " + requestId + ", exit " + exit + ", "
                    + body.length + " bytes]";
        }
    }

    /**
     * One chunk of the master's snapshot (Raft §7 InstallSnapshot), a request: the snapshot covers
     * every entry up to {@code lastIndex}, whose term is {@code lastTerm}. The master's core names the
     * chunk ({@link Effect.SendSnapshot}: everything but {@code data} and {@code done}); its agent reads
     * {@code data} from its stored snapshot at {@code offset} and sets {@code done} on the last chunk.
     * A frame holds at most {@link #MAX_CHUNK_BYTES} of data. Answered by {@link InstallSnapshotAck}.
     */
    record InstallSnapshot(String from, long term, long bootId, long requestId, long lastIndex, long lastTerm,
                           long offset, byte[] data, boolean done) implements Message {
        /** The most snapshot bytes one chunk carries: a frame is at most 64 KiB, envelope included. */
        public static final int MAX_CHUNK_BYTES = 60 * 1024;

        public InstallSnapshot {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        /** Number of data bytes, without copying them. */
        public int size() {
            return data.length;
        }

        /** This chunk's header with {@code data} and {@code done} filled in (what the agent sends). */
        public InstallSnapshot withData(byte[] chunk, boolean last) {
            return new InstallSnapshot(from, term, bootId, requestId, lastIndex, lastTerm, offset, chunk, last);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof InstallSnapshot x && from.equals(x.from) && term == x.term && bootId == x.bootId
                    && requestId == x.requestId && lastIndex == x.lastIndex && lastTerm == x.lastTerm
                    && offset == x.offset && java.util.Arrays.equals(data, x.data) && done == x.done;
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(from, term, bootId, requestId, lastIndex, lastTerm, offset,
                    java.util.Arrays.hashCode(data), done);
        }

        @Override
        public String toString() {
            return "InstallSnapshot[from=" + from + ", term=" + term + ", bootId=" + bootId + ", requestId=" + requestId
                    + ", lastIndex=" + lastIndex + ", lastTerm=" + lastTerm + ", offset=" + offset + ", "
                    + data.length + " bytes, done=" + done + "]";
        }
    }

    /**
     * The answer to an {@link InstallSnapshot}. {@code installed}: this node holds the snapshot up to
     * {@code lastIndex} durably (or already had every entry up to it committed and durable), so the
     * master's match index for it may become {@code lastIndex}; sent only once that is true.
     * Otherwise {@code nextOffset} is the chunk it wants next (0: start again). An answer from a
     * newer term tells the master it is deposed.
     */
    record InstallSnapshotAck(String from, long term, long bootId, long requestId, boolean installed, long lastIndex,
                              long nextOffset) implements Message {}
}

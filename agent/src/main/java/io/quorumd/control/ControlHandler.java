package io.quorumd.control;

import java.util.concurrent.CompletionStage;

/**
 * What the agent offers the control socket. Both methods are called on the control server's thread
 * and must return at once: read an immutable snapshot, or post an event to the agent's queue and
 * complete the returned stage later from the agent's thread.
 */
public interface ControlHandler {
    /** The node as it is now: for {@code status}, {@code status-json} and {@code leader}. */
    Status status();

    /**
     * Graceful hand-over asked by the operator ({@code quorumd step-down [--to NODE]}).
     * Complete the stage when the hand-over is done or refused (for example {@code Reply.error(1,
     * "quorumd: node-b is not the master (node-a is); run step-down there")}); the server answers
     * exit 1 itself if it takes longer than its step-down timeout.
     *
     * @param to the preferred next master, or null to let the cluster pick
     */
    CompletionStage<Reply> stepDown(String to);

    /**
     * {@code exec-term}: may {@code quorumd exec} run its command here now? {@code Reply.ok("term=T
     * master=ID")} when this node is the master, cleared to run its command, with a lease;
     * otherwise {@code Reply.ok("not-master WHY")} (exit 3 stays "no agent answers").
     */
    default Reply execTerm() {
        return Reply.error(Reply.USAGE, "quorumd: this agent does not run quorumd exec");
    }

    /**
     * {@code exec-guard PGID TERM}: guard {@code pgid} (a child of the caller, leading its own
     * group) under this master's lease, as the managed command is; complete once the watchdog
     * guards it. Refused (exit 3) when this node is no longer the master of {@code term}.
     *
     * @param callerPid the caller's pid as the kernel names it, or -1 when unknown
     */
    default CompletionStage<Reply> execGuard(int pgid, long term, long callerPid) {
        return java.util.concurrent.CompletableFuture.completedFuture(execTerm());
    }

    /** {@code exec-end PGID}: the CLI saw its command end; the guard ends once the group is empty. */
    default Reply execEnd(int pgid) {
        return Reply.ok("");
    }

    /**
     * A request of the replicated store ({@code kv.get}, {@code kv.put}, {@code kv.delete},
     * {@code kv.list}); the answer's body is the result's JSON when the exit status is 0. Complete
     * the stage within about an election timeout: never leave it hanging.
     */
    default CompletionStage<Reply> kv(KvRequest request) {
        return java.util.concurrent.CompletableFuture.completedFuture(
                Reply.error(Reply.UNAVAILABLE, "quorumd: this agent does not run the replicated store"));
    }

    /** {@code kv.watch}: report the committed changes {@code request} selects to {@code stream}, until it closes. */
    default void kvWatch(KvRequest.Watch request, WatchStream stream) {
        stream.end("{" + (stream.id() != null ? "\"id\":" + stream.id() + "," : "")
                + "\"exit\":3,\"error\":\"quorumd: this agent does not run the replicated store\"}\n");
    }
}

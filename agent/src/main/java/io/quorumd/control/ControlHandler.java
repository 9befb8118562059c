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
}

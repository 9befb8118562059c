package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Step-down and shutdown ({@link HandOvers}): the command stops first, then the node resigns and
 * asks a successor; an operator's step-down is answered with {@link Effect.StepDownDone} once the
 * node is no longer master.
 */
class HandOversTest {
    @Test
    void aStepDownAskedOfAFollowerIsAnsweredAtOnce() {
        OneNode a = new OneNode("n0", 0);
        var fx = a.at(1500, new Event.StepDownRequested(null, 41));
        assertEquals(List.of(new Effect.StepDownDone(41)), OneNode.only(fx, Effect.StepDownDone.class));
    }

    @Test
    void theMasterAnswersOnceItsCommandStoppedAndItResigned() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        a.now += 1100 * OneNode.MS;   // the wait for the old lease plus stop_timeout is over
        a.receive(OneNode.followerKeepAlive("n1", 1, "n0", a.now - OneNode.MS));   // an echo: a lease, and it starts
        assertEquals(1, OneNode.only(a.out, Effect.StartCommand.class).size(), a.out.toString());
        var asked = a.handle(new Event.StepDownRequested("n2", 7));
        assertEquals(List.of(new Effect.StopCommand(1, "step-down requested")), OneNode.only(asked, Effect.StopCommand.class));
        assertTrue(OneNode.only(asked, Effect.StepDownDone.class).isEmpty(), "still master while the command stops");
        assertTrue(OneNode.only(a.handle(new Event.StepDownRequested(null, 8)), Effect.StepDownDone.class).isEmpty(),
                "a second request while the first runs waits too");
        var stopped = a.handle(new Event.CommandStopped(1));
        assertEquals(Role.FOLLOWER, a.node.role());
        assertEquals(List.of(new Effect.StepDownDone(7), new Effect.StepDownDone(8)),
                OneNode.only(stopped, Effect.StepDownDone.class));
        Effect.Request r = OneNode.only(stopped, Effect.Request.class).get(0);
        assertEquals("n2", r.to(), "the successor asked for");
        Message.HandOver h = (Message.HandOver) r.message();
        assertEquals(new Proof(Proof.Kind.HANDOVER, "n0", 1, true), h.proof());
    }

    @Test
    void aStepDownNobodyWaitsForIsNotAnswered() {
        OneNode a = new OneNode("n0", 0);
        var fx = a.at(1500, new Event.StepDownRequested(null));
        assertTrue(OneNode.only(fx, Effect.StepDownDone.class).isEmpty());
    }

    @Test
    void aShutdownOfAFollowerWithoutACommandMayExitAtOnce() {
        OneNode a = new OneNode("n0", 0);
        var fx = a.at(1500, new Event.ShutdownRequested());
        assertEquals(1, OneNode.only(fx, Effect.ReadyToExit.class).size());
        assertTrue(OneNode.only(a.at(1600, new Event.ShutdownRequested()), Effect.ReadyToExit.class).isEmpty(), "once");
    }
}

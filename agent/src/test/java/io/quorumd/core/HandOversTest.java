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

    /** The hand-over requests {@code fx} holds, as (to, request id). */
    private static List<Effect.Request> handOvers(List<Effect> fx) {
        return OneNode.only(fx, Effect.Request.class).stream().filter(r -> r.message() instanceof Message.HandOver).toList();
    }

    private static Message.HandOverAck ack(String from, long term, long requestId, boolean accepted) {
        return new Message.HandOverAck(from, term, 5, requestId, accepted, accepted ? "" : "this node's command failed too often");
    }

    /**
     * A master shutting down (no command running) resigns at once and asks the most preferred live
     * peer; a refusal sends it to the next one, and once nobody is left the agent may exit. An
     * answer to another request changes nothing.
     */
    @Test
    void aRefusedHandOverGoesToTheNextPeerAndTheLastFailureEndsTheShutdown() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        a.receive(OneNode.followerKeepAlive("n2", 1, "n0", -1));   // n2 is live too
        var first = a.handle(new Event.ShutdownRequested());
        assertEquals(Role.FOLLOWER, a.node.role());
        List<Effect.Request> asked = handOvers(first);
        assertEquals(1, asked.size(), first.toString());
        assertEquals("n1", asked.get(0).to(), "the most preferred live peer");
        long id1 = ((Message.HandOver) asked.get(0).message()).requestId();
        assertTrue(OneNode.only(first, Effect.ReadyToExit.class).isEmpty(), "not before the hand-over ends");

        var stray = a.receive(ack("n1", 1, id1 + 100, false));
        assertTrue(handOvers(stray).isEmpty() && OneNode.only(stray, Effect.ReadyToExit.class).isEmpty(),
                "an answer to another request: " + stray);

        var refused = a.receive(ack("n1", 1, id1, false));
        List<Effect.Request> next = handOvers(refused);
        assertEquals(1, next.size(), refused.toString());
        assertEquals("n2", next.get(0).to(), "refused: the next live peer");
        assertTrue(refused.contains(new Effect.Trace("n1 refused the hand-over: this node's command failed too often")),
                refused.toString());
        long id2 = ((Message.HandOver) next.get(0).message()).requestId();
        assertTrue(id2 != id1, "a new request id");
        assertTrue(OneNode.only(refused, Effect.ReadyToExit.class).isEmpty());

        var strayFailure = a.handle(new Event.RequestFailed("n2", id1, "timed out"));
        assertTrue(OneNode.only(strayFailure, Effect.ReadyToExit.class).isEmpty(), "the failure of an answered request: "
                + strayFailure);
        var failed = a.handle(new Event.RequestFailed("n2", id2, "timed out"));
        assertTrue(handOvers(failed).isEmpty(), "nobody left to ask: " + failed);
        assertEquals(1, OneNode.only(failed, Effect.ReadyToExit.class).size(), "the shutdown ends: " + failed);
        assertTrue(failed.contains(new Effect.Trace("hand-over: no live peer to hand over to")), failed.toString());
    }

    /** A failed hand-over request goes to the next peer too; an accepted one ends the step-down (no exit). */
    @Test
    void aFailedHandOverGoesToTheNextPeerAndAnAcceptedOneEndsTheStepDown() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        a.receive(OneNode.followerKeepAlive("n2", 1, "n0", -1));
        var first = a.handle(new Event.StepDownRequested("n2", 3));
        List<Effect.Request> asked = handOvers(first);
        assertEquals("n2", asked.get(0).to(), "the named peer first");
        long id1 = ((Message.HandOver) asked.get(0).message()).requestId();
        var failed = a.handle(new Event.RequestFailed("n2", id1, "timed out"));
        assertTrue(failed.contains(new Effect.Trace("hand-over to n2 failed: timed out")), failed.toString());
        List<Effect.Request> next = handOvers(failed);
        assertEquals(1, next.size(), failed.toString());
        assertEquals("n1", next.get(0).to());
        long id2 = ((Message.HandOver) next.get(0).message()).requestId();
        var accepted = a.receive(ack("n1", 1, id2, true));
        assertTrue(handOvers(accepted).isEmpty());
        assertTrue(accepted.contains(new Effect.Trace("n1 accepted the hand-over")), accepted.toString());
        assertTrue(OneNode.only(a.out, Effect.ReadyToExit.class).isEmpty(), "a step-down is no shutdown");
        var late = a.handle(new Event.RequestFailed("n1", id2, "timed out"));
        assertTrue(handOvers(late).isEmpty(), "the hand-over is over: " + late);
    }

    /** A shutdown asked while a step-down's hand-over runs lets the agent exit once that hand-over ends. */
    @Test
    void aShutdownDuringAStepDownsHandOverExitsWhenItEnds() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        long id = ((Message.HandOver) handOvers(a.handle(new Event.StepDownRequested(null, 3))).get(0).message()).requestId();
        assertTrue(OneNode.only(a.handle(new Event.ShutdownRequested()), Effect.ReadyToExit.class).isEmpty(),
                "the hand-over is still under way");
        var accepted = a.receive(ack("n1", 1, id, true));
        assertEquals(1, OneNode.only(accepted, Effect.ReadyToExit.class).size(), accepted.toString());
    }

    /** A peer not heard within t is not asked: after the only live one refused, the hand-over ends. */
    @Test
    void aSilentPeerIsNotAskedToTakeOver() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();   // n2 never spoke
        long id = ((Message.HandOver) handOvers(a.handle(new Event.StepDownRequested(null, 3))).get(0).message()).requestId();
        var refused = a.receive(ack("n1", 1, id, false));
        assertTrue(handOvers(refused).isEmpty(), "n2 is silent: " + refused);
        assertTrue(refused.contains(new Effect.Trace("hand-over: no live peer to hand over to")), refused.toString());
    }

    /** n0 master of term 1, its command running (the wait over, n1's echo a lease). */
    private static OneNode masterRunningItsCommand() {
        OneNode a = new OneNode("n0", 0);
        a.electMaster();
        a.now += 1100 * OneNode.MS;
        a.receive(OneNode.followerKeepAlive("n1", 1, "n0", a.now - OneNode.MS));
        assertEquals(1, OneNode.only(a.out, Effect.StartCommand.class).size(), a.out.toString());
        return a;
    }

    /**
     * A master shutting down loses its lease while its command stops: once the command is gone it
     * asks nobody to campaign (it is no master any more), publishes its proof at once, and may exit.
     */
    @Test
    void aShutdownWhoseLeaseRanOutWhileStoppingPublishesItsProofAndExitsWithoutHandingOver() {
        OneNode a = masterRunningItsCommand();
        a.handle(new Event.ShutdownRequested());
        a.now += 2000 * OneNode.MS;   // no echo: the lease is over
        a.handle(new Event.Tick());
        assertEquals(Role.FOLLOWER, a.node.role());
        assertTrue(OneNode.only(a.out, Effect.ReadyToExit.class).isEmpty(), "the command still runs");
        var stopped = a.handle(new Event.CommandStopped(1));
        assertTrue(handOvers(stopped).isEmpty(), stopped.toString());
        assertTrue(stopped.contains(new Effect.Trace("hand-over dropped: no longer master (agent shutting down)")), stopped.toString());
        List<Effect.Publish> ka = OneNode.only(stopped, Effect.Publish.class);
        assertEquals(1, ka.size(), "the proof goes out at once: " + stopped);
        assertEquals(new Proof(Proof.Kind.HANDOVER, "n0", 1, true), ka.get(0).keepAlive().proof());
        assertEquals(1, OneNode.only(stopped, Effect.ReadyToExit.class).size(), stopped.toString());
    }

    /** A shutdown asked after the master lost its lease, while its command still stops, exits once the command is gone. */
    @Test
    void aShutdownWaitsForTheCommandOfALostMastership() {
        OneNode a = masterRunningItsCommand();
        a.now += 2000 * OneNode.MS;
        var lost = a.handle(new Event.Tick());
        assertEquals(Role.FOLLOWER, a.node.role());
        assertEquals(1, OneNode.only(lost, Effect.StopCommand.class).size(), lost.toString());
        assertTrue(OneNode.only(a.handle(new Event.ShutdownRequested()), Effect.ReadyToExit.class).isEmpty(),
                "its command still runs");
        var stopped = a.handle(new Event.CommandStopped(1));
        assertEquals(1, OneNode.only(stopped, Effect.ReadyToExit.class).size(), stopped.toString());
        a.now += 100 * OneNode.MS;
        List<Effect.Publish> ka = OneNode.only(a.handle(new Event.Tick()), Effect.Publish.class);
        assertEquals(new Proof(Proof.Kind.HANDOVER, "n0", 1, true), ka.get(0).keepAlive().proof(),
                "its keep-alives say the command of term 1 is gone");
    }
}

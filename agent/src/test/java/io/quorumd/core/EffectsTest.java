package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Effects#apply}: the agent's event loop and the simulator carry out every effect through it,
 * so each type must reach its own action, once, in the order given.
 */
class EffectsTest {
    /** Records "action: effect" for every call. */
    static final class Recorder implements Effects.Handler {
        final List<String> calls = new ArrayList<>();

        private void on(String action, Effect e) {
            calls.add(action + ": " + e);
        }

        @Override public void publish(Effect.Publish e) { on("publish", e); }
        @Override public void request(Effect.Request e) { on("request", e); }
        @Override public void respond(Effect.Respond e) { on("respond", e); }
        @Override public void persist(Effect.Persist e) { on("persist", e); }
        @Override public void startCommand(Effect.StartCommand e) { on("startCommand", e); }
        @Override public void stopCommand(Effect.StopCommand e) { on("stopCommand", e); }
        @Override public void leaseRenewed(Effect.LeaseRenewed e) { on("leaseRenewed", e); }
        @Override public void runHook(Effect.RunHook e) { on("runHook", e); }
        @Override public void runFence(Effect.RunFence e) { on("runFence", e); }
        @Override public void roleChanged(Effect.RoleChanged e) { on("roleChanged", e); }
        @Override public void trace(Effect.Trace e) { on("trace", e); }
        @Override public void readyToExit(Effect.ReadyToExit e) { on("readyToExit", e); }
        @Override public void probe(Effect.Probe e) { on("probe", e); }
        @Override public void stepDownDone(Effect.StepDownDone e) { on("stepDownDone", e); }
        @Override public void persistLog(Effect.PersistLog e) { on("persistLog", e); }
        @Override public void apply(Effect.Apply e) { on("apply", e); }
        @Override public void readReady(Effect.ReadReady e) { on("readReady", e); }
        @Override public void clientFailed(Effect.ClientFailed e) { on("clientFailed", e); }
        @Override public void takeSnapshot(Effect.TakeSnapshot e) { on("takeSnapshot", e); }
        @Override public void compactLog(Effect.CompactLog e) { on("compactLog", e); }
        @Override public void sendSnapshot(Effect.SendSnapshot e) { on("sendSnapshot", e); }
        @Override public void storeSnapshotChunk(Effect.StoreSnapshotChunk e) { on("storeSnapshotChunk", e); }
        @Override public void restoreSnapshot(Effect.RestoreSnapshot e) { on("restoreSnapshot", e); }
    }

    @Test
    void everyEffectReachesItsOwnActionInOrder() {
        Message.KeepAlive k = OneNode.masterKeepAlive("n1", 2, 5);
        Message.VoteRequest v = new Message.VoteRequest("n0", 3, 5, 1, true, 0, 0, 0, null);
        Message.HandOverAck a = new Message.HandOverAck("n0", 3, 5, 2, true, "");
        List<Effect> effects = List.of(new Effect.Publish(k), new Effect.Request("n1", v), new Effect.Respond("n2", a),
                new Effect.Persist(4, 3, "n0"), new Effect.StartCommand(3, "n0", 900), new Effect.StopCommand(3, "lease expired"),
                new Effect.LeaseRenewed(3, 950), new Effect.RunHook(Effect.Hook.ON_MASTER, 3, "n0"),
                new Effect.RunFence("n1", 2, 3), new Effect.RoleChanged(Role.MASTER, 3, "n0", "won"), new Effect.Trace("hello"),
                new Effect.ReadyToExit(), new Effect.Probe("n1"), new Effect.StepDownDone(7),
                new Effect.PersistLog(8, 3, List.of(new io.quorumd.log.LogEntry(3, 3, new byte[] {1}))),
                new Effect.Apply(new io.quorumd.log.LogEntry(3, 3, new byte[] {1}), 9), new Effect.ReadReady(10),
                new Effect.ClientFailed(11, true, "n1", "lost mastership"), new Effect.TakeSnapshot(12, 3),
                new Effect.CompactLog(12, 3, false),
                new Effect.SendSnapshot("n1", new Message.InstallSnapshot("n0", 3, 5, 13, 12, 3, 0, new byte[0], false)),
                new Effect.StoreSnapshotChunk("n1", 12, 3, 0, new byte[] {1, 2}, true), new Effect.RestoreSnapshot(12, 3));
        Recorder r = new Recorder();
        Effects.apply(effects, r);
        List<String> expected = new ArrayList<>();
        String[] actions = {"publish", "request", "respond", "persist", "startCommand", "stopCommand", "leaseRenewed", "runHook",
                "runFence", "roleChanged", "trace", "readyToExit", "probe", "stepDownDone", "persistLog", "apply", "readReady",
                "clientFailed", "takeSnapshot", "compactLog", "sendSnapshot", "storeSnapshotChunk", "restoreSnapshot"};
        for (int i = 0; i < actions.length; i++) expected.add(actions[i] + ": " + effects.get(i));
        assertEquals(expected, r.calls);
    }
}

package io.quorumd.core;

/**
 * Applies effects through a handler: the one place that maps each effect type to an action, used
 * by the agent's event loop and by the simulator alike, so that neither can forget a type.
 */
public final class Effects {
    private Effects() {}

    /** The actions behind the effects; the agent and the simulator each implement them. */
    public interface Handler {
        void publish(Effect.Publish e);

        void request(Effect.Request e);

        void respond(Effect.Respond e);

        void persist(Effect.Persist e);

        void startCommand(Effect.StartCommand e);

        void stopCommand(Effect.StopCommand e);

        void leaseRenewed(Effect.LeaseRenewed e);

        void runHook(Effect.RunHook e);

        void runFence(Effect.RunFence e);

        void roleChanged(Effect.RoleChanged e);

        void trace(Effect.Trace e);

        void readyToExit(Effect.ReadyToExit e);

        void probe(Effect.Probe e);

        void stepDownDone(Effect.StepDownDone e);

        void persistLog(Effect.PersistLog e);

        void apply(Effect.Apply e);

        void readReady(Effect.ReadReady e);

        void clientFailed(Effect.ClientFailed e);

        void takeSnapshot(Effect.TakeSnapshot e);

        void compactLog(Effect.CompactLog e);

        void sendSnapshot(Effect.SendSnapshot e);

        void storeSnapshotChunk(Effect.StoreSnapshotChunk e);

        void restoreSnapshot(Effect.RestoreSnapshot e);
    }

    /** Carries out {@code effects} in order. */
    public static void apply(Iterable<? extends Effect> effects, Handler h) {
        for (Effect e : effects) apply(e, h);
    }

    public static void apply(Effect e, Handler h) {
        if (e instanceof Effect.Publish x) h.publish(x);
        else if (e instanceof Effect.Request x) h.request(x);
        else if (e instanceof Effect.Respond x) h.respond(x);
        else if (e instanceof Effect.Persist x) h.persist(x);
        else if (e instanceof Effect.StartCommand x) h.startCommand(x);
        else if (e instanceof Effect.StopCommand x) h.stopCommand(x);
        else if (e instanceof Effect.LeaseRenewed x) h.leaseRenewed(x);
        else if (e instanceof Effect.RunHook x) h.runHook(x);
        else if (e instanceof Effect.RunFence x) h.runFence(x);
        else if (e instanceof Effect.RoleChanged x) h.roleChanged(x);
        else if (e instanceof Effect.Trace x) h.trace(x);
        else if (e instanceof Effect.ReadyToExit x) h.readyToExit(x);
        else if (e instanceof Effect.Probe x) h.probe(x);
        else if (e instanceof Effect.StepDownDone x) h.stepDownDone(x);
        else if (e instanceof Effect.PersistLog x) h.persistLog(x);
        else if (e instanceof Effect.Apply x) h.apply(x);
        else if (e instanceof Effect.ReadReady x) h.readReady(x);
        else if (e instanceof Effect.ClientFailed x) h.clientFailed(x);
        else if (e instanceof Effect.TakeSnapshot x) h.takeSnapshot(x);
        else if (e instanceof Effect.CompactLog x) h.compactLog(x);
        else if (e instanceof Effect.SendSnapshot x) h.sendSnapshot(x);
        else if (e instanceof Effect.StoreSnapshotChunk x) h.storeSnapshotChunk(x);
        else if (e instanceof Effect.RestoreSnapshot x) h.restoreSnapshot(x);
        else throw new IllegalArgumentException("unhandled effect " + e);
    }
}

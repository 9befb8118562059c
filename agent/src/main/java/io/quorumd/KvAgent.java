package io.quorumd;

import io.quorumd.control.KvOps;
import io.quorumd.control.KvRequest;
import io.quorumd.control.Reply;
import io.quorumd.control.WatchStream;
import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.Message;
import io.quorumd.core.NodeView;
import io.quorumd.core.Role;
import io.quorumd.kv.Change;
import io.quorumd.kv.Changes;
import io.quorumd.kv.KvCommand;
import io.quorumd.kv.KvCommandCodec;
import io.quorumd.kv.KvMachine;
import io.quorumd.kv.KvResult;
import io.quorumd.kv.Selector;
import io.quorumd.log.LogEntry;
import io.quorumd.wire.Codec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The replicated store's side of the agent: the state machine the committed entries are applied
 * to, the client requests of the control socket waiting for the core, the requests forwarded to the
 * master or from a follower, and the watches. Everything but {@link #submit} and {@link #watch}
 * runs on the event loop's thread (which owns the core and the {@link KvMachine}); those two,
 * called on the control thread, hand a task to the loop.
 *
 * <p>Every request is answered: by the core ({@link Effect.Apply}, {@link Effect.ReadReady},
 * {@link Effect.ClientFailed}, each within an election timeout), by the master's agent for a
 * forwarded one (or, when its answer does not come, "outcome unknown" for a write that may have been
 * taken, exit 3 for one that surely was not), or at its deadline while it waits for its turn to be
 * forwarded.
 */
final class KvAgent {
    private static final Logger log = LoggerFactory.getLogger(KvAgent.class);
    /** Forwards carry request ids with this bit, apart from the core's ids on the same transport. */
    static final long FORWARD_BIT = 1L << 62;
    /** The largest answer body a ForwardReply carries (the frame is at most 64 KiB). */
    static final int MAX_FORWARDED_BODY = Codec.MAX_FRAME_BYTES - 1024;
    /** Requests waiting for their turn to be forwarded, at most. */
    static final int MAX_FORWARD_QUEUE = 256;

    /** What the loop does for this part: feed an event to the core (effects applied) and send frames. */
    interface Loop {
        void feed(Event e);

        NodeView view();

        long term();

        void request(String to, Message m, long timeoutNanos);

        void respond(String to, Message m);
    }

    private final String self;
    private final long bootId;
    private KvMachine kv;   // replaced when a snapshot from the master is installed
    private final Loop loop;
    private final long electionTimeoutNanos;
    private final long forwardTimeoutNanos;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Runnable wake;

    private long nextClientId;
    private long nextForwardId;
    /** Requests given to the core, by the client request id it answers with. */
    private final Map<Long, Pending> inCore = new HashMap<>();
    private final ArrayDeque<Local> forwardQueue = new ArrayDeque<>();
    private Local forwardInFlight;
    private long forwardInFlightId;
    private String forwardInFlightTo;
    private final List<Watcher> watchers = new ArrayList<>();
    private long applyFailures;

    private sealed interface Pending permits Local, Remote {
        KvRequest request();
    }

    /** A request of this agent's control socket. */
    private record Local(KvRequest request, CompletableFuture<Reply> reply, long deadlineNanos) implements Pending {}

    /** A request a follower forwarded: answered with a ForwardReply. */
    private record Remote(KvRequest request, String from, long requestId) implements Pending {}

    private record Watcher(Selector selector, long fromRevision, WatchStream stream) {}

    KvAgent(String self, long bootId, KvMachine kv, long electionTimeoutNanos, Loop loop, Runnable wake) {
        this.self = self;
        this.bootId = bootId;
        this.kv = kv;
        this.loop = loop;
        this.electionTimeoutNanos = electionTimeoutNanos;
        // the master answers within an election timeout of the arrival; the rest is the network
        this.forwardTimeoutNanos = electionTimeoutNanos + Math.max(electionTimeoutNanos / 2, 500_000_000L);
        this.wake = wake;
        this.nextClientId = 1;
    }

    KvMachine machine() {
        return kv;
    }

    /**
     * The store's figures as of the last entry applied, for {@code /metrics} (read on another
     * thread): revision, size in bytes (keys plus values, what {@code kv.max_bytes} bounds), keys,
     * and the index of the last entry applied.
     */
    record Figures(long revision, long sizeBytes, long keys, long appliedIndex) {}

    private volatile Figures figures;

    Figures figures() {
        Figures f = figures;
        return f != null ? f : publish();
    }

    private Figures publish() {
        Figures f = new Figures(kv.revision(), kv.sizeBytes(), kv.keyCount(), kv.appliedIndex());
        figures = f;
        return f;
    }

    long applyFailures() {
        return applyFailures;
    }

    // ------------------------------------------------------------------ from the control thread

    /** A get, put, delete or list; the stage completes on the loop's thread. */
    CompletionStage<Reply> submit(KvRequest r) {
        CompletableFuture<Reply> f = new CompletableFuture<>();
        tasks.add(() -> start(r, f));
        wake.run();
        return f;
    }

    /** A watch, registered on the loop's thread. */
    void watch(KvRequest.Watch w, WatchStream s) {
        tasks.add(() -> startWatch(w, s));
        wake.run();
    }

    // ------------------------------------------------------------------ on the loop's thread

    /** Runs what the control thread handed over; called by the loop before each event. */
    void runTasks() {
        Runnable r;
        while ((r = tasks.poll()) != null) r.run();
    }

    private void start(KvRequest r, CompletableFuture<Reply> f) {
        long now = System.nanoTime();
        if (r instanceof KvRequest.Get g && g.stale()) {
            f.complete(serve(r));
            return;
        }
        if (r instanceof KvRequest.List l && l.stale()) {
            f.complete(serve(r));
            return;
        }
        Local p = new Local(r, f, now + electionTimeoutNanos);
        NodeView v = loop.view();
        if (v.role() == Role.MASTER) {
            toCore(p);
            return;
        }
        if (v.master() == null) {
            f.complete(Reply.error(Reply.UNAVAILABLE, "quorumd: no master is known to " + self + " ("
                    + v.role().label() + " in term " + v.term() + "); the store cannot answer now"));
            return;
        }
        if (forwardQueue.size() >= MAX_FORWARD_QUEUE) {
            f.complete(Reply.error(Reply.UNAVAILABLE, "quorumd: " + MAX_FORWARD_QUEUE + " requests already wait to be "
                    + "forwarded to the master " + v.master() + "; try again"));
            return;
        }
        forwardQueue.add(p);
        pumpForwards();
    }

    /** Hands {@code p} to the core, which answers it through {@link #onApply}, {@link #onReadReady} or {@link #onClientFailed}. */
    private void toCore(Pending p) {
        long id = nextClientId++;
        inCore.put(id, p);   // before feeding: the core may answer at once
        KvRequest r = p.request();
        loop.feed(r.write() ? new Event.ClientWrite(id, KvRequest.command(r)) : new Event.ClientRead(id));
    }

    /** The core applied entry {@code e.entry()}: the store changes, and the waiting client hears of it. */
    void onApply(Effect.Apply e) {
        LogEntry entry = e.entry();
        KvCommand cmd;
        try {
            cmd = KvCommandCodec.decode(entry.payload());
        } catch (IllegalArgumentException x) {
            // every node decodes the same bytes the same way: a no-op everywhere, never a divergence
            applyFailures++;
            log.error("log entry {} (term {}) is not a store command ({}); applied as a no-op", entry.index(),
                    entry.term(), x.getMessage());
            cmd = new KvCommand.Noop();
        }
        KvResult result = kv.apply(entry.index(), entry.term(), cmd);
        if (result instanceof KvResult.Written w) notifyWatchers(cmd, w.revision());
        publish();
        if (e.requestId() == 0) return;
        Pending p = inCore.remove(e.requestId());
        if (p != null) answer(p, KvOps.writeResult(result));
    }

    void onReadReady(Effect.ReadReady e) {
        Pending p = inCore.remove(e.requestId());
        if (p != null) answer(p, serve(p.request()));
    }

    void onClientFailed(Effect.ClientFailed e) {
        Pending p = inCore.remove(e.requestId());
        if (p == null) return;
        String reason = e.reason();
        if (!e.outcomeUnknown()) reason = "quorumd: " + reason + (e.master() != null ? " (master: " + e.master() + ")" : "");
        answer(p, KvOps.failed(e.outcomeUnknown(), reason));
    }

    /** A Forward, ForwardReply or the failure of a forward: this part's, not the core's; false: not ours. */
    boolean intercept(Event event) {
        if (event instanceof Event.Received r && r.message() instanceof Message.Forward f) {
            onForward(f);
            return true;
        }
        if (event instanceof Event.Received r && r.message() instanceof Message.ForwardReply f) {
            onForwardReply(f);
            return true;
        }
        if (event instanceof Event.RequestFailed f && (f.requestId() & FORWARD_BIT) != 0) {
            onForwardFailed(f);
            return true;
        }
        return false;
    }

    private void onForward(Message.Forward f) {
        KvRequest r;
        if (f.write()) {
            r = new KvRequest.Raw(f.payload());
        } else {
            try {
                r = KvRequest.readOf(f.payload());
            } catch (IllegalArgumentException e) {
                loop.respond(f.from(), reply(f.requestId(), Reply.error(Reply.USAGE, "quorumd: a forwarded read "
                        + "the master cannot take: " + e.getMessage())));
                return;
            }
        }
        toCore(new Remote(r, f.from(), f.requestId()));
    }

    private void pumpForwards() {
        while (forwardInFlight == null && !forwardQueue.isEmpty()) {
            Local p = forwardQueue.poll();
            NodeView v = loop.view();
            if (v.role() == Role.MASTER) {
                toCore(p);
                continue;
            }
            if (v.master() == null) {
                p.reply().complete(Reply.error(Reply.UNAVAILABLE, "quorumd: no master is known to " + self + " ("
                        + v.role().label() + " in term " + v.term() + "); the store cannot answer now"));
                continue;
            }
            long id = FORWARD_BIT | ++nextForwardId;
            forwardInFlight = p;
            forwardInFlightId = id;
            forwardInFlightTo = v.master();
            loop.request(v.master(), new Message.Forward(self, loop.term(), bootId, id, p.request().write(),
                    KvRequest.forwardPayload(p.request())), forwardTimeoutNanos);
        }
    }

    private void onForwardReply(Message.ForwardReply f) {
        if (forwardInFlight == null || f.requestId() != forwardInFlightId) return;   // late: it was answered already
        Local p = forwardInFlight;
        forwardInFlight = null;
        p.reply().complete(new Reply(f.exit(), new String(f.body(), StandardCharsets.UTF_8)));
        pumpForwards();
    }

    private void onForwardFailed(Event.RequestFailed f) {
        if (forwardInFlight == null || f.requestId() != forwardInFlightId) return;
        Local p = forwardInFlight;
        forwardInFlight = null;
        String to = forwardInFlightTo;
        String why = f.reason();
        boolean surelyNotTaken = why.startsWith("no such peer") || why.startsWith("address of")
                || why.startsWith("cannot encode") || why.startsWith("could not queue") || why.startsWith("peer ");
        if (p.request().write() && !surelyNotTaken) {
            p.reply().complete(Reply.error(Reply.FAILURE, "outcome unknown: the write was forwarded to the master " + to
                    + ", whose answer did not come (" + why + "); it may or may not have committed"));
        } else {
            p.reply().complete(Reply.error(Reply.UNAVAILABLE, "quorumd: the master " + to + " did not answer the "
                    + "forwarded request (" + why + ")"));
        }
        pumpForwards();
    }

    /** After each event: requests that waited their turn to be forwarded for too long fail (never sent). */
    void sweep(long now) {
        for (Iterator<Local> it = forwardQueue.iterator(); it.hasNext(); ) {
            Local p = it.next();
            if (now - p.deadlineNanos() < 0) continue;
            it.remove();
            p.reply().complete(Reply.error(Reply.UNAVAILABLE, "quorumd: no answer within "
                    + electionTimeoutNanos / 1_000_000 + " ms: the requests forwarded before it to the master "
                    + forwardInFlightTo + " took that long (this one was not sent)"));
        }
        pumpForwards();
    }

    long nextDeadlineNanos() {
        Local first = forwardQueue.peek();
        return first == null ? Long.MAX_VALUE : first.deadlineNanos();
    }

    private void answer(Pending p, Reply r) {
        if (p instanceof Local l) {
            l.reply().complete(r);
            return;
        }
        Remote x = (Remote) p;
        loop.respond(x.from(), reply(x.requestId(), r));
    }

    private Message.ForwardReply reply(long requestId, Reply r) {
        byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
        if (body.length > MAX_FORWARDED_BODY) {
            body = ("quorumd: the answer (" + body.length + " bytes) is too large to forward from the master " + self
                    + "; ask the master's agent, or read the local copy with --stale").getBytes(StandardCharsets.UTF_8);
            return new Message.ForwardReply(self, loop.term(), bootId, requestId, Reply.FAILURE, body);
        }
        return new Message.ForwardReply(self, loop.term(), bootId, requestId, r.exitCode(), body);
    }

    /** A read from the state applied so far. */
    private Reply serve(KvRequest r) {
        if (r instanceof KvRequest.Get g) return KvOps.get(g.key(), kv.get(g.key()), kv.revision());
        if (r instanceof KvRequest.List l) return KvOps.list(kv.list(l.prefix()), kv.revision());
        return Reply.error(Reply.USAGE, "quorumd: not a read: " + r);
    }

    // ------------------------------------------------------------------ watches

    private void startWatch(KvRequest.Watch w, WatchStream s) {
        long rev = kv.revision();
        long from = w.from() == 0 ? rev + 1 : w.from();
        List<Change> backlog = List.of();
        if (from <= rev) {
            Changes c = kv.changesSince(from, w.selector());
            if (c instanceof Changes.Compacted x) {
                s.end("{" + (s.id() != null ? "\"id\":" + s.id() + "," : "") + "\"exit\":" + KvOps.NOT_FOUND
                        + ",\"error\":\"revision " + x.requested() + " is compacted; the oldest available is "
                        + x.oldestAvailable() + "\"}\n");
                return;
            }
            backlog = ((Changes.Events) c).changes();
        }
        if (!s.send(KvOps.watching(s.id(), rev))) return;
        for (Change c : backlog) {
            if (!s.send(KvOps.event(s.id(), c))) return;
        }
        watchers.add(new Watcher(w.selector(), Math.max(from, rev + 1), s));
    }

    private void notifyWatchers(KvCommand cmd, long revision) {
        if (watchers.isEmpty()) return;
        Change change;
        if (cmd instanceof KvCommand.Put p) {
            change = new Change(revision, new String(p.key(), StandardCharsets.UTF_8), Change.Type.PUT, p.value());
        } else if (cmd instanceof KvCommand.Delete d) {
            change = new Change(revision, new String(d.key(), StandardCharsets.UTF_8), Change.Type.DELETE, null);
        } else {
            return;
        }
        for (java.util.ListIterator<Watcher> it = watchers.listIterator(); it.hasNext(); ) {
            Watcher w = it.next();
            if (!w.stream().open()) {
                it.remove();
                continue;
            }
            if (change.revision() < w.fromRevision()) continue;
            // seen, matching or not: a restore from a snapshot goes on after it
            it.set(new Watcher(w.selector(), change.revision() + 1, w.stream()));
            if (!w.selector().matches(change.key())) continue;
            if (!w.stream().send(KvOps.event(w.stream().id(), change))) it.remove();
        }
    }

    /**
     * The store is replaced by {@code restored} (a snapshot from the master, Effect.RestoreSnapshot):
     * each watch gets the changes it has not seen yet if the new store's history still holds them,
     * or ends with the compacted error, as a watch started from that revision would.
     */
    void restore(KvMachine restored) {
        kv = restored;
        publish();
        long rev = kv.revision();
        List<Watcher> kept = new ArrayList<>();
        for (Watcher w : watchers) {
            WatchStream s = w.stream();
            if (!s.open()) continue;
            if (w.fromRevision() > rev) {
                kept.add(w);
                continue;
            }
            Changes c = kv.changesSince(w.fromRevision(), w.selector());
            if (c instanceof Changes.Compacted x) {
                s.end("{" + (s.id() != null ? "\"id\":" + s.id() + "," : "") + "\"exit\":" + KvOps.NOT_FOUND
                        + ",\"error\":\"revision " + x.requested() + " is compacted; the oldest available is "
                        + x.oldestAvailable() + "\"}\n");
                continue;
            }
            boolean open = true;
            for (Change ch : ((Changes.Events) c).changes()) {
                if (!s.send(KvOps.event(s.id(), ch))) {
                    open = false;
                    break;
                }
            }
            if (open) kept.add(new Watcher(w.selector(), rev + 1, s));
        }
        watchers.clear();
        watchers.addAll(kept);
    }

    /** Ends every watch (the agent stops). */
    void close() {
        for (Watcher w : watchers) {
            w.stream().end("{" + (w.stream().id() != null ? "\"id\":" + w.stream().id() + "," : "")
                    + "\"exit\":3,\"error\":\"quorumd: the agent is stopping\"}\n");
        }
        watchers.clear();
    }
}

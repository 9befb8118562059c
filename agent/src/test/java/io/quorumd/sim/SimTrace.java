package io.quorumd.sim;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.MasterReport;
import io.quorumd.core.Message;
import io.quorumd.core.Proof;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The readable record of a schedule, one step a line like etcd's {@code testdata/*.txt}: real
 * time, node (and its local clock), the event it handled, {@code =>} the effects it returned; world
 * happenings (faults, the watchdog, the command's group) as {@code !} lines. Only built when a
 * schedule is replayed for its report: a batch run records nothing.
 */
final class SimTrace {
    private final List<String> lines = new ArrayList<>();
    /** Every event and effect in full (record {@code toString}), for {@code SimMain --digest}. */
    private final java.security.MessageDigest raw = sha256();

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }

    /** A digest of the whole run: every line, and every event and effect with all their fields. */
    String digest() {
        java.security.MessageDigest d = sha256();
        for (String l : lines) d.update((l + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try {
            d.update(((java.security.MessageDigest) raw.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
        return java.util.HexFormat.of().formatHex(d.digest()).substring(0, 32);
    }

    void step(long realNanos, String node, long localNanos, Event event, List<Effect> effects) {
        StringBuilder s = new StringBuilder(128);
        s.append(String.format(Locale.ROOT, "%11s %-3s @%s  ", seconds(realNanos), node, seconds(localNanos)));
        s.append(event(event));
        if (!effects.isEmpty()) {
            s.append("  =>");
            boolean first = true;
            for (Effect e : effects) {
                s.append(first ? " " : "; ");
                first = false;
                s.append(effect(e));
            }
        }
        lines.add(s.toString());
        raw.update((node + " " + localNanos + " " + event + " => " + effects + "\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    void note(long realNanos, String who, String text) {
        lines.add(String.format(Locale.ROOT, "%11s %-3s ! %s", seconds(realNanos), who, text));
    }

    List<String> lines() {
        return lines;
    }

    /** The last {@code max} lines (all when {@code max <= 0}). */
    String render(int max) {
        StringBuilder s = new StringBuilder();
        int from = max <= 0 ? 0 : Math.max(0, lines.size() - max);
        if (from > 0) s.append("  ... ").append(from).append(" earlier lines (replay with --seed to see all)\n");
        for (int i = from; i < lines.size(); i++) s.append(lines.get(i)).append('\n');
        return s.toString();
    }

    static String seconds(long nanos) {
        if (nanos == Long.MAX_VALUE) return "never";
        return String.format(Locale.ROOT, "%.6f", nanos / 1e9);
    }

    static String ms(long nanos) {
        if (nanos == Long.MAX_VALUE) return "never";
        if (nanos % SimParams.MS == 0) return (nanos / SimParams.MS) + "ms";
        return String.format(Locale.ROOT, "%.3fms", nanos / 1e6);
    }

    static String event(Event e) {
        if (e instanceof Event.Tick) return "Tick";
        if (e instanceof Event.Received x) return "recv " + message(x.message());
        if (e instanceof Event.Persisted x) return "Persisted#" + x.seq();
        if (e instanceof Event.PersistFailed x) return "PersistFailed#" + x.seq() + " (" + x.reason() + ")";
        if (e instanceof Event.CommandStopped x) return "CommandStopped t" + x.term();
        if (e instanceof Event.CommandGaveUp x) return "CommandGaveUp t" + x.term() + " (" + x.reason() + ")";
        if (e instanceof Event.FenceResult x)
            return "FenceResult " + x.oldMaster() + "@" + x.oldTerm() + (x.succeeded() ? " OK" : " FAILED") + " (" + x.detail() + ")";
        if (e instanceof Event.StepDownRequested x) return "StepDownRequested to=" + x.to() + " #" + x.requestId();
        if (e instanceof Event.ShutdownRequested) return "ShutdownRequested";
        if (e instanceof Event.PeerRefused x) return "PeerRefused " + x.peer();
        if (e instanceof Event.RequestFailed x) return "RequestFailed " + x.to() + " #" + x.requestId() + " (" + x.reason() + ")";
        if (e instanceof Event.LogPersisted x) return "LogPersisted#" + x.seq();
        if (e instanceof Event.ClientWrite x) return "ClientWrite #" + x.requestId() + " (" + x.payload().length + " bytes)";
        if (e instanceof Event.ClientRead x) return "ClientRead #" + x.requestId();
        if (e instanceof Event.LogPersistFailed x) return "LogPersistFailed#" + x.seq() + " (" + x.reason() + ")";
        if (e instanceof Event.SnapshotTaken x) return "SnapshotTaken " + x.index() + "/t" + x.term();
        if (e instanceof Event.SnapshotReceived x) return "SnapshotReceived " + x.index() + "/t" + x.term();
        if (e instanceof Event.SnapshotFailed x) return "SnapshotFailed " + x.index() + " (" + x.reason() + ")";
        return String.valueOf(e);
    }

    static String effect(Effect e) {
        if (e instanceof Effect.Publish x) return "pub " + message(x.keepAlive());
        if (e instanceof Effect.Request x) return "req>" + x.to() + " " + message(x.message());
        if (e instanceof Effect.Respond x) return "resp>" + x.to() + " " + message(x.message());
        if (e instanceof Effect.Persist x) return "Persist#" + x.seq() + "(t" + x.term() + ",vote=" + x.votedFor() + ")";
        if (e instanceof Effect.StartCommand x)
            return "START t" + x.term() + " master=" + x.master() + " leaseEnd=" + seconds(x.leaseEndNanos());
        if (e instanceof Effect.StopCommand x) return "STOP t" + x.term() + " (" + x.reason() + ")";
        if (e instanceof Effect.LeaseRenewed x) return "lease t" + x.term() + " end=" + seconds(x.leaseEndNanos());
        if (e instanceof Effect.RunHook x) return "hook " + x.hook() + " t" + x.term();
        if (e instanceof Effect.RunFence x) return "FENCE " + x.oldMaster() + "@" + x.oldTerm() + " for t" + x.term();
        if (e instanceof Effect.RoleChanged x)
            return "ROLE " + x.role().label() + " t" + x.term() + " master=" + x.master() + " (" + x.reason() + ")";
        if (e instanceof Effect.Trace x) return "# " + x.text();
        if (e instanceof Effect.ReadyToExit) return "ReadyToExit";
        if (e instanceof Effect.Probe x) return "probe>" + x.peer();
        if (e instanceof Effect.StepDownDone x) return "StepDownDone #" + x.requestId();
        if (e instanceof Effect.PersistLog x)
            return "PersistLog#" + x.seq() + "(" + (x.truncateFrom() > 0 ? "truncate from " + x.truncateFrom() + ", " : "")
                    + entries(x.entries()) + ")";
        if (e instanceof Effect.Apply x)
            return "APPLY " + x.entry().index() + "/t" + x.entry().term() + (x.requestId() != 0 ? " #" + x.requestId() : "");
        if (e instanceof Effect.ReadReady x) return "READ #" + x.requestId();
        if (e instanceof Effect.TakeSnapshot x) return "TakeSnapshot " + x.index() + "/t" + x.term();
        if (e instanceof Effect.CompactLog x)
            return "CompactLog to " + x.upToIndex() + "/t" + x.term() + (x.discardAll() ? " discarding all" : "");
        if (e instanceof Effect.SendSnapshot x) return "snap>" + x.to() + " " + message(x.chunk());
        if (e instanceof Effect.StoreSnapshotChunk x)
            return "StoreChunk " + x.index() + "/t" + x.term() + " @" + x.offset() + "+" + x.data().length + (x.done() ? " done" : "");
        if (e instanceof Effect.RestoreSnapshot x) return "RESTORE " + x.index() + "/t" + x.term();
        if (e instanceof Effect.ClientFailed x)
            return "FAILED #" + x.requestId() + (x.outcomeUnknown() ? " unknown" : " no effect") + " master=" + x.master()
                    + " (" + x.reason() + ")";
        return String.valueOf(e);
    }

    static String message(Message m) {
        if (m instanceof Message.KeepAlive k) {
            StringBuilder s = new StringBuilder("KA(").append(k.from()).append(" t").append(k.term());
            s.append(" m=").append(k.master()).append(" sent=").append(seconds(k.sentAtNanos()));
            if (k.echoNanos() >= 0) s.append(" echo=").append(seconds(k.echoNanos()));
            if (k.lastContactAgoNanos() >= 0) s.append(" ago=").append(ms(k.lastContactAgoNanos()));
            if (k.cleared()) s.append(" cleared");
            if (k.proof() != null) s.append(" proof=").append(proof(k.proof()));
            s.append(" boot=").append(Long.toHexString(k.bootId() & 0xffff));
            return s.append(')').toString();
        }
        if (m instanceof Message.VoteRequest v) {
            StringBuilder s = new StringBuilder(v.preVote() ? "PreVoteReq(" : "VoteReq(");
            s.append(v.from()).append(" t").append(v.term()).append(" #").append(v.requestId());
            s.append(" sent=").append(seconds(v.sentAtNanos())).append(" log=").append(v.lastLogTerm()).append('/')
                    .append(v.lastLogIndex());
            if (v.transfer() != null) s.append(" transfer=").append(proof(v.transfer()));
            return s.append(')').toString();
        }
        if (m instanceof Message.VoteResponse v) {
            StringBuilder s = new StringBuilder(v.preVote() ? "PreVoteResp(" : "VoteResp(");
            s.append(v.from()).append(" t").append(v.term()).append(" #").append(v.requestId());
            s.append(v.granted() ? " GRANT" : " DENY");
            if (v.reason() != null && !v.reason().isEmpty()) s.append(" '").append(v.reason()).append('\'');
            if (v.echoNanos() >= 0) s.append(" echo=").append(seconds(v.echoNanos()));
            if (v.report() != null) s.append(" report=").append(report(v.report()));
            return s.append(')').toString();
        }
        if (m instanceof Message.HandOver h)
            return "HandOver(" + h.from() + " t" + h.term() + " #" + h.requestId() + " to=" + h.to() + " proof="
                    + (h.proof() == null ? "null" : proof(h.proof())) + ")";
        if (m instanceof Message.HandOverAck a)
            return "HandOverAck(" + a.from() + " t" + a.term() + " #" + a.requestId() + (a.accepted() ? " OK" : " NO '" + a.reason() + "'") + ")";
        if (m instanceof Message.Preempt x)
            return "Preempt(" + x.from() + " t" + x.term() + " #" + x.requestId() + ")";
        if (m instanceof Message.Append a)
            return "Append(" + a.from() + " t" + a.term() + " #" + a.requestId() + " prev=" + a.prevIndex() + "/t" + a.prevTerm()
                    + " " + entries(a.entries()) + " commit=" + a.leaderCommit() + ")";
        if (m instanceof Message.AppendAck a)
            return "AppendAck(" + a.from() + " t" + a.term() + " #" + a.requestId() + (a.success() ? " OK match=" + a.matchIndex()
                    : " NO hint=" + a.conflictIndex() + "/t" + a.conflictTerm()) + ")";
        if (m instanceof Message.InstallSnapshot x)
            return "InstallSnapshot(" + x.from() + " t" + x.term() + " #" + x.requestId() + " snap=" + x.lastIndex() + "/t"
                    + x.lastTerm() + " @" + x.offset() + "+" + x.size() + (x.done() ? " done" : "") + ")";
        if (m instanceof Message.InstallSnapshotAck a)
            return "InstallSnapshotAck(" + a.from() + " t" + a.term() + " #" + a.requestId() + " snap=" + a.lastIndex()
                    + (a.installed() ? " INSTALLED" : " next@" + a.nextOffset()) + ")";
        return String.valueOf(m);
    }

    static String entries(java.util.List<io.quorumd.log.LogEntry> es) {
        if (es.isEmpty()) return "no entries";
        io.quorumd.log.LogEntry a = es.get(0);
        io.quorumd.log.LogEntry b = es.get(es.size() - 1);
        return "entries " + a.index() + "/t" + a.term() + (es.size() > 1 ? ".." + b.index() + "/t" + b.term() : "");
    }

    static String proof(Proof p) {
        return p.kind() + "(" + p.node() + "@" + p.masterTerm() + (p.cleared() ? ",cleared" : "") + ")";
    }

    static String report(MasterReport r) {
        if (r.master() == null && r.heardAgoNanos() < 0 && !r.amnesic()) return "none";
        return r.master() + "@" + r.masterTerm() + (r.cleared() ? ",cleared" : "") + ",ago="
                + (r.heardAgoNanos() < 0 ? "never" : ms(r.heardAgoNanos())) + (r.amnesic() ? ",amnesic" : "");
    }
}

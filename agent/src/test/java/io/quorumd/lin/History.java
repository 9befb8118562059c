package io.quorumd.lin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A concurrent history being recorded: {@link #invoke} when a client sends a call, {@link #respond}
 * when its answer arrives; a call never answered stays unknown. Each client is sequential: it
 * invokes its next call only after the previous one's answer, and a client whose call stays
 * unknown makes no further calls (a simulated client that gave up takes a new id, as in Jepsen).
 * The helpers ({@link #put}, {@link #get}, ...) add whole operations, for hand-made histories.
 * Times are any monotonic clock shared by all clients; an answer at the same instant as another
 * call's invocation counts as concurrent with it. Not thread-safe.
 */
public final class History {
    private final List<Pending> ops = new ArrayList<>();
    private final Map<Integer, Integer> lastOfClient = new HashMap<>();

    private static final class Pending {
        final int client;
        final long invoke;
        final Call call;
        long response = Op.NEVER;
        Result result = new Result.Unknown();

        Pending(int client, long invoke, Call call) {
            this.client = client;
            this.invoke = invoke;
            this.call = call;
        }
    }

    /** Records a call; returns its id for {@link #respond}. */
    public int invoke(int client, long time, Call call) {
        Objects.requireNonNull(call, "call");
        Integer last = lastOfClient.get(client);
        if (last != null) {
            Pending previous = ops.get(last);
            if (previous.response == Op.NEVER) {
                throw new IllegalArgumentException("client " + client + " invokes " + call + " while its op #" + last
                        + " (" + previous.call + ") has no answer: a client is sequential");
            }
            if (time < previous.response) {
                throw new IllegalArgumentException("client " + client + " invokes " + call + " at " + time
                        + ", before its op #" + last + " answered at " + previous.response);
            }
        }
        ops.add(new Pending(client, time, call));
        lastOfClient.put(client, ops.size() - 1);
        return ops.size() - 1;
    }

    /** Records the answer to call {@code id}; {@link Result.Unknown} leaves it unknown (response never). */
    public void respond(int id, long time, Result result) {
        Pending p = ops.get(id);
        if (p.response != Op.NEVER) {
            throw new IllegalArgumentException("op #" + id + " answered twice");
        }
        if (result instanceof Result.Unknown) {
            return;
        }
        if (time < p.invoke) {
            throw new IllegalArgumentException("op #" + id + " answered at " + time + " before its call at " + p.invoke);
        }
        new Op(id, p.client, p.invoke, time, p.call, Objects.requireNonNull(result, "result")); // validates
        p.response = time;
        p.result = result;
    }

    /** The operations, in the order they were invoked. */
    public List<Op> ops() {
        List<Op> out = new ArrayList<>(ops.size());
        for (int i = 0; i < ops.size(); i++) {
            Pending p = ops.get(i);
            out.add(new Op(i, p.client, p.invoke, p.response, p.call, p.result));
        }
        return out;
    }

    public int size() {
        return ops.size();
    }

    private History whole(int client, long invoke, long response, Call call, Result result) {
        int id = invoke(client, invoke, call);
        respond(id, response, result);
        return this;
    }

    /** A put answered with {@code revision}. */
    public History put(int client, long invoke, long response, String key, String value, long revision) {
        return whole(client, invoke, response, new Call.Put(key, value), new Result.Written(revision));
    }

    /** A put never answered. */
    public History putUnknown(int client, long invoke, String key, String value) {
        return whole(client, invoke, 0, new Call.Put(key, value), new Result.Unknown());
    }

    /** A get that found {@code value} at {@code modRevision}. */
    public History get(int client, long invoke, long response, String key, String value, long modRevision) {
        return whole(client, invoke, response, new Call.Get(key), new Result.Found(value, modRevision));
    }

    /** A get that found no such key. */
    public History getAbsent(int client, long invoke, long response, String key) {
        return whole(client, invoke, response, new Call.Get(key), new Result.NotFound());
    }

    /** A compare-and-set that succeeded with {@code revision}. */
    public History cas(int client, long invoke, long response, String key, long expected, String value,
                       long revision) {
        return whole(client, invoke, response, new Call.Cas(key, expected, value), new Result.Written(revision));
    }

    /** A compare-and-set whose compare failed. */
    public History casFailed(int client, long invoke, long response, String key, long expected, String value) {
        return whole(client, invoke, response, new Call.Cas(key, expected, value), new Result.CompareFailed());
    }

    /** A compare-and-set never answered. */
    public History casUnknown(int client, long invoke, String key, long expected, String value) {
        return whole(client, invoke, 0, new Call.Cas(key, expected, value), new Result.Unknown());
    }

    /** A delete that happened with {@code revision}. */
    public History delete(int client, long invoke, long response, String key, long revision) {
        return whole(client, invoke, response, new Call.Delete(key, -1), new Result.Written(revision));
    }

    /** A delete of a key that did not exist. */
    public History deleteAbsent(int client, long invoke, long response, String key) {
        return whole(client, invoke, response, new Call.Delete(key, -1), new Result.NotFound());
    }

    /** A delete never answered. */
    public History deleteUnknown(int client, long invoke, String key) {
        return whole(client, invoke, 0, new Call.Delete(key, -1), new Result.Unknown());
    }
}

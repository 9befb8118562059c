package io.quorumd.control;

import io.quorumd.kv.Change;
import io.quorumd.kv.KeyValue;
import io.quorumd.kv.KvLimits;
import io.quorumd.kv.KvResult;
import io.quorumd.kv.Selector;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The control socket's {@code kv.*} ops (README "Replicated key-value store"): their fields, checked
 * into a {@link KvRequest}, and their answers, written as JSON. Exit statuses as SPEC's: 0; 4 not
 * found, compare failed or fenced; 2 a usage error or a limit; 3 no master or no majority; 1 outcome
 * unknown.
 */
public final class KvOps {
    /** Not found, compare failed, fenced (SPEC's exit status 4 of {@code quorumd kv}). */
    public static final int NOT_FOUND = 4;

    /** The ops and their fields (besides "op" and "id"). */
    static final Map<String, Set<String>> OPS = Map.of(
            "kv.get", Set.of("key", "stale"),
            "kv.put", Set.of("key", "value", "value_base64", "rev", "term"),
            "kv.delete", Set.of("key", "rev", "term"),
            "kv.list", Set.of("prefix", "stale"),
            "kv.watch", Set.of("key", "prefix", "from"));

    private KvOps() {}

    /** A usage error in a request's fields. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /** Checks the fields of {@code op} (one of {@link #OPS}); unknown fields were refused before. */
    static KvRequest parse(String op, Map<?, ?> m) throws Refused {
        switch (op) {
            case "kv.get":
                return new KvRequest.Get(key(m, op), bool(m, "stale"));
            case "kv.list": {
                Object p = m.get("prefix");
                if (p != null && !(p instanceof String)) throw new Refused("\"prefix\" must be a string");
                return new KvRequest.List(p == null ? "" : (String) p, bool(m, "stale"));
            }
            case "kv.put": {
                String key = key(m, op);
                Object v = m.get("value");
                Object b = m.get("value_base64");
                if ((v == null) == (b == null))
                    throw new Refused("op 'kv.put' needs exactly one of \"value\" (text) and \"value_base64\"");
                byte[] value;
                if (v != null) {
                    if (!(v instanceof String s)) throw new Refused("\"value\" must be a string (or use \"value_base64\")");
                    value = s.getBytes(StandardCharsets.UTF_8);
                } else {
                    if (!(b instanceof String s)) throw new Refused("\"value_base64\" must be a base64 string");
                    try {
                        value = Base64.getDecoder().decode(s);
                    } catch (IllegalArgumentException e) {
                        throw new Refused("\"value_base64\" is not base64: " + e.getMessage());
                    }
                }
                if (value.length > KvLimits.MAX_VALUE_BYTES)
                    throw new Refused("value is " + value.length + " bytes; the limit is " + KvLimits.MAX_VALUE_BYTES
                            + " (32 KiB)");
                return new KvRequest.Put(key, value, number(m, "rev"), number(m, "term"));
            }
            case "kv.delete":
                return new KvRequest.Delete(key(m, op), number(m, "rev"), number(m, "term"));
            case "kv.watch": {
                Object k = m.get("key");
                Object p = m.get("prefix");
                if ((k == null) == (p == null)) throw new Refused("op 'kv.watch' needs exactly one of \"key\" and \"prefix\"");
                if (!((k != null ? k : p) instanceof String s)) throw new Refused("\"" + (k != null ? "key" : "prefix")
                        + "\" must be a string");
                if (k != null) checkKey(s);
                long from = number(m, "from");
                if (from == 0) throw new Refused("\"from\" must be a revision >= 1");
                return new KvRequest.Watch(k != null ? Selector.key(s) : Selector.prefix(s), Math.max(0, from));
            }
            default:
                throw new IllegalArgumentException("not a kv op: " + op);
        }
    }

    private static String key(Map<?, ?> m, String op) throws Refused {
        if (!(m.get("key") instanceof String k)) throw new Refused("op '" + op + "' needs \"key\", a string");
        checkKey(k);
        return k;
    }

    private static void checkKey(String k) throws Refused {
        if (k.isEmpty()) throw new Refused("the key is empty");
        int n = k.getBytes(StandardCharsets.UTF_8).length;
        if (n > KvLimits.MAX_KEY_BYTES)
            throw new Refused("key is " + n + " bytes; the limit is " + KvLimits.MAX_KEY_BYTES);
    }

    private static boolean bool(Map<?, ?> m, String f) throws Refused {
        Object v = m.get(f);
        if (v == null) return false;
        if (!(v instanceof Boolean b)) throw new Refused("\"" + f + "\" must be true or false");
        return b;
    }

    /** An optional integer >= 0; -1 when absent. */
    private static long number(Map<?, ?> m, String f) throws Refused {
        Object v = m.get(f);
        if (v == null) return -1;
        if (!(v instanceof Long n) || n < 0) throw new Refused("\"" + f + "\" must be an integer >= 0");
        return n;
    }

    // ------------------------------------------------------------------ answers

    /** The answer to a write, from the result of applying its entry. */
    public static Reply writeResult(KvResult r) {
        if (r instanceof KvResult.Written w) return Reply.ok("{\"rev\":" + w.revision() + "}");
        if (r instanceof KvResult.NotFound n) return Reply.error(NOT_FOUND, "key not found: " + n.key());
        if (r instanceof KvResult.CompareFailed || r instanceof KvResult.Fenced) return Reply.error(NOT_FOUND, r.message());
        if (r instanceof KvResult.Refused x) return Reply.error(Reply.USAGE, x.message());
        return Reply.error(Reply.FAILURE, "unexpected result: " + r.message());
    }

    /** The answer to a get: the key's value and revisions, or exit 4. */
    public static Reply get(String key, Optional<KeyValue> kv, long storeRevision) {
        if (kv.isEmpty()) return Reply.error(NOT_FOUND, "key not found: " + key);
        KeyValue v = kv.get();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("key", v.key());
        putValue(o, v.value());
        o.put("create_rev", v.createRevision());
        o.put("mod_rev", v.modRevision());
        o.put("rev", storeRevision);
        return Reply.ok(Json.write(o));
    }

    /** The answer to a list: the keys with their revisions, and the store's revision. */
    public static Reply list(java.util.List<KeyValue> keys, long storeRevision) {
        java.util.List<Object> l = new ArrayList<>();
        for (KeyValue v : keys) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("key", v.key());
            o.put("create_rev", v.createRevision());
            o.put("mod_rev", v.modRevision());
            l.add(o);
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("rev", storeRevision);
        o.put("keys", l);
        return Reply.ok(Json.write(o));
    }

    /** A watch's first line. */
    public static String watching(String id, long rev) {
        return "{" + (id != null ? "\"id\":" + id + "," : "") + "\"watching\":true,\"rev\":" + rev + "}\n";
    }

    /** A watch's line for one committed change. */
    public static String event(String id, Change c) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("rev", c.revision());
        e.put("type", c.type() == Change.Type.PUT ? "put" : "delete");
        e.put("key", c.key());
        if (c.value() != null) putValue(e, c.value());
        return "{" + (id != null ? "\"id\":" + id + "," : "") + "\"event\":" + Json.write(e) + "}\n";
    }

    /** The value as {@code "value"} when it is valid UTF-8, else as {@code "value_base64"}. */
    static void putValue(Map<String, Object> o, byte[] value) {
        String text = utf8(value);
        if (text != null) o.put("value", text);
        else o.put("value_base64", Base64.getEncoder().encodeToString(value));
    }

    /** {@code b} as text when it is valid UTF-8, else null. */
    static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /**
     * The answer to a request the core failed: "outcome unknown" (exit 1) when a write may still
     * commit, else exit 3 (it surely had no effect: no master, no majority in time).
     */
    public static Reply failed(boolean outcomeUnknown, String reason) {
        if (outcomeUnknown) {
            return Reply.error(Reply.FAILURE, reason.startsWith("outcome unknown") ? reason : "outcome unknown: " + reason);
        }
        return Reply.error(Reply.UNAVAILABLE, reason);
    }
}

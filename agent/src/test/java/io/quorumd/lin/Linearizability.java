package io.quorumd.lin;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Checks a history of key-value operations for linearizability against the store's model (one
 * global revision, a key's modify revision, compare-and-set on it): Wing and Gong's search with
 * Lowe's memoization, per key, plus cross-key checks of the revisions. See the package documentation
 * for the model and why splitting it by key stays sound.
 */
public final class Linearizability {
    /** Search steps one attempt of the minimization may take before that attempt is given up. */
    private static final long MINIMIZE_BUDGET = 200_000;
    /** Per-key witnesses above this many ops are reported unminimized (only cut at the blocking op). */
    private static final int MINIMIZE_MAX_OPS = 400;

    private Linearizability() {}

    /**
     * Search steps each key may take before the checker gives up on it ({@link Verdict#undecided()}):
     * a linearizable history takes about two steps per op, but a failing one whose key has many
     * unknown-outcome writes pending at once may need exponentially many, each holding memory.
     */
    public static final long DEFAULT_BUDGET = 2_000_000;

    public static Verdict check(History history) {
        return check(history.ops());
    }

    public static Verdict check(List<Op> ops) {
        return check(ops, DEFAULT_BUDGET);
    }

    /** As {@link #check(List)}, with {@code budget} search steps per key. */
    public static Verdict check(List<Op> ops, long budget) {
        long start = System.nanoTime();
        Map<String, List<Op>> byKey = new TreeMap<>();
        for (Op op : ops) {
            if (matters(op)) {
                byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            }
        }
        List<Violation> violations = new ArrayList<>();
        Set<String> explained = new HashSet<>();
        List<String> undecided = new ArrayList<>();
        for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
            Violation v = neverWritten(e.getKey(), e.getValue());
            if (v != null) {
                violations.add(v);
                explained.add(e.getKey());
            }
        }
        Violation duplicate = duplicateRevision(byKey);
        if (duplicate != null) {
            violations.add(duplicate);
        }
        Violation order = revisionOrder(byKey);
        if (order != null) {
            violations.add(order);
        }
        for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
            if (explained.contains(e.getKey())) {
                continue;
            }
            Search s = search(e.getValue(), budget);
            if (s.outcome == Outcome.VIOLATION) {
                violations.add(explain(e.getKey(), e.getValue(), s));
            } else if (s.outcome == Outcome.GAVE_UP) {
                undecided.add(e.getKey());
            }
        }
        return new Verdict(violations, undecided, ops.size(), byKey.size(), System.nanoTime() - start);
    }

    /** Reads that were never answered and writes that certainly did nothing constrain nothing. */
    private static boolean matters(Op op) {
        if (op.result() instanceof Result.NoEffect) {
            return false;
        }
        return op.isWrite() || !(op.result() instanceof Result.Unknown);
    }

    // ------------------------------------------------------------------ simple checks

    /** A read of a value that no write of that key, invoked before the read returned, wrote. */
    private static Violation neverWritten(String key, List<Op> ops) {
        for (Op read : ops) {
            if (!(read.result() instanceof Result.Found found)) {
                continue;
            }
            List<Op> sameValue = new ArrayList<>();
            boolean explained = false;
            for (Op w : ops) {
                String written = writtenValue(w);
                if (written == null || !written.equals(found.value()) || !w.mayHaveWritten()
                        || w.invoke() > read.response()) {
                    continue;
                }
                sameValue.add(w);
                if (w.writtenRevision() == 0 || w.writtenRevision() == found.modRevision()) {
                    explained = true;
                    break;
                }
            }
            if (!explained) {
                List<Op> involved = new ArrayList<>(sameValue);
                involved.add(read);
                return new Violation(Violation.Kind.NEVER_WRITTEN, key, involved,
                        sameValue.isEmpty()
                                ? "#" + read.id() + " read " + found + " but no write of " + Op.quote(found.value())
                                        + " to " + key + " was invoked before that read returned"
                                : "#" + read.id() + " read " + found + " but the writes of " + Op.quote(found.value())
                                        + " to " + key + " created other revisions");
            }
        }
        return null;
    }

    private static String writtenValue(Op op) {
        if (op.call() instanceof Call.Put p) {
            return p.value();
        }
        return op.call() instanceof Call.Cas c ? c.value() : null;
    }

    private static Violation duplicateRevision(Map<String, List<Op>> byKey) {
        Map<Long, Op> byRevision = new HashMap<>();
        for (List<Op> ops : byKey.values()) {
            for (Op op : ops) {
                long rev = op.writtenRevision();
                if (rev == 0) {
                    continue;
                }
                Op other = byRevision.putIfAbsent(rev, op);
                if (other != null) {
                    return new Violation(Violation.Kind.DUPLICATE_REVISION, null, List.of(other, op),
                            "#" + other.id() + " and #" + op.id() + " both report revision " + rev
                                    + ": each committed write creates a revision of its own");
                }
            }
        }
        return null;
    }

    /**
     * Places every op with a known revision on the global revision line, in doubled units: a write
     * creating revision R at 2R, a read that saw the store at revision g at 2g+1 (so reads fall
     * between the writes around them). Real-time order must not go backwards on that line.
     */
    private static Violation revisionOrder(Map<String, List<Op>> byKey) {
        List<Placed> placed = new ArrayList<>();
        for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
            TreeSet<Long> revisions = new TreeSet<>();
            boolean mayDelete = false;
            for (Op op : e.getValue()) {
                if (op.writtenRevision() > 0) {
                    revisions.add(op.writtenRevision());
                }
                mayDelete |= op.call() instanceof Call.Delete && op.mayHaveWritten();
            }
            for (Op op : e.getValue()) {
                long rev = op.writtenRevision();
                if (rev > 0) {
                    placed.add(new Placed(op, 2 * rev, 2 * rev));
                } else if (op.result() instanceof Result.Found f) {
                    Long next = revisions.higher(f.modRevision());
                    placed.add(new Placed(op, 2 * f.modRevision() + 1, next == null ? Long.MAX_VALUE : 2 * next - 1));
                } else if (op.result() instanceof Result.NotFound) {
                    long hi = mayDelete || revisions.isEmpty() ? Long.MAX_VALUE : 2 * revisions.first() - 1;
                    placed.add(new Placed(op, 1, hi));
                }
            }
        }
        placed.sort(Comparator.comparingLong((Placed p) -> p.op.invoke()).thenComparingInt(p -> p.op.id()));
        PriorityQueue<Placed> done = new PriorityQueue<>(Comparator.comparingLong((Placed p) -> p.op.response()));
        long floor = 0;
        Placed floorOp = null;
        for (Placed b : placed) {
            while (!done.isEmpty() && done.peek().op.response() < b.op.invoke()) {
                Placed a = done.poll();
                if (a.lo > floor) {
                    floor = a.lo;
                    floorOp = a.witness;
                }
            }
            if (floor > b.lo) {
                b.lo = floor;
                b.witness = floorOp;
            }
            if (b.lo > b.hi) {
                Placed a = b.witness;
                return new Violation(Violation.Kind.REVISION_ORDER, a.op.key().equals(b.op.key()) ? a.op.key() : null,
                        List.of(a.op, b.op), "#" + a.op.id() + " " + lowText(a) + " and completed before #" + b.op.id()
                                + " was invoked, but #" + b.op.id() + " " + highText(b));
            }
            done.add(b);
        }
        return null;
    }

    private static final class Placed {
        final Op op;
        final long ownLo;
        long lo;
        final long hi;
        Placed witness;

        Placed(Op op, long lo, long hi) {
            this.op = op;
            this.ownLo = lo;
            this.lo = lo;
            this.hi = hi;
            this.witness = this;
        }
    }

    private static String lowText(Placed p) {
        return p.op.writtenRevision() > 0 ? "created revision " + p.op.writtenRevision()
                : "saw the store at revision " + (p.ownLo - 1) / 2 + " or later";
    }

    private static String highText(Placed p) {
        return p.op.writtenRevision() > 0 ? "created revision " + p.op.writtenRevision()
                : "saw the store before revision " + (p.hi + 1) / 2;
    }

    // ------------------------------------------------------------------ per-key search

    private enum Outcome { LINEARIZABLE, VIOLATION, GAVE_UP }

    private record Search(Outcome outcome, int deepest, int total, KeyState stateThere, Op blocked,
                          List<Op> orderThere) {}

    /** One call or return event in the doubly linked list the search lifts entries out of. */
    private static final class Entry {
        final int index;
        final boolean call;
        final long time;
        Entry match;
        Entry prev;
        Entry next;

        Entry(int index, boolean call, long time) {
            this.index = index;
            this.call = call;
            this.time = time;
        }
    }

    private record Memo(BitSet linearized, KeyState state) {}

    private record Frame(Entry entry, KeyState state, int alternative) {}

    /**
     * Wing and Gong's search with Lowe's memoization over one key's ops: take, in event order, a
     * call whose op can take effect in the current state (and whose (linearized set, state) pair is
     * new), lift it out, start again from the first event; meeting a return whose call is not yet
     * linearized means the choices so far cannot work: undo the last one and try its next
     * alternative (an unknown outcome has two: it happened, or not) or the next call.
     */
    private static Search search(List<Op> ops, long budget) {
        int n = ops.size();
        List<Entry> events = new ArrayList<>(2 * n);
        for (int i = 0; i < n; i++) {
            Op op = ops.get(i);
            Entry call = new Entry(i, true, op.invoke());
            Entry ret = new Entry(i, false, op.response());
            call.match = ret;
            events.add(call);
            events.add(ret);
        }
        // an answer at the same instant as an invocation is concurrent with it: calls first
        events.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> !e.call)
                .thenComparingInt(e -> e.index));
        Entry head = new Entry(-1, false, Long.MIN_VALUE);
        Entry last = head;
        for (Entry e : events) {
            last.next = e;
            e.prev = last;
            last = e;
        }

        Set<Memo> cache = new HashSet<>();
        Deque<Frame> stack = new ArrayDeque<>();
        BitSet linearized = new BitSet(n);
        KeyState state = KeyState.INITIAL;
        Entry entry = head.next;
        int alternative = 0;
        long steps = 0;
        int deepest = -1;
        KeyState deepestState = state;
        Op blocked = null;
        List<Op> orderThere = List.of();
        while (head.next != null) {
            if (++steps > budget) {
                return new Search(Outcome.GAVE_UP, 0, n, null, null, List.of());
            }
            if (entry.call) {
                Op op = ops.get(entry.index);
                List<KeyState> next = state.step(op);
                boolean lifted = false;
                for (int i = alternative; i < next.size(); i++) {
                    BitSet after = (BitSet) linearized.clone();
                    after.set(entry.index);
                    if (cache.add(new Memo(after, next.get(i)))) {
                        stack.push(new Frame(entry, state, i));
                        state = next.get(i);
                        linearized.set(entry.index);
                        lift(entry);
                        entry = head.next;
                        lifted = true;
                        break;
                    }
                }
                alternative = 0;
                if (!lifted) {
                    entry = entry.next;
                }
            } else {
                if (stack.size() > deepest) {
                    deepest = stack.size();
                    deepestState = state;
                    blocked = ops.get(entry.index);
                    List<Op> order = new ArrayList<>();
                    stack.descendingIterator().forEachRemaining(f -> order.add(ops.get(f.entry.index)));
                    orderThere = order;
                }
                if (stack.isEmpty()) {
                    return new Search(Outcome.VIOLATION, deepest, n, deepestState, blocked, orderThere);
                }
                Frame top = stack.pop();
                state = top.state;
                linearized.clear(top.entry.index);
                unlift(top.entry);
                entry = top.entry;
                alternative = top.alternative + 1;
            }
        }
        return new Search(Outcome.LINEARIZABLE, n, n, state, null, List.of());
    }

    private static void lift(Entry call) {
        call.prev.next = call.next;
        if (call.next != null) {
            call.next.prev = call.prev;
        }
        Entry ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) {
            ret.next.prev = ret.prev;
        }
    }

    private static void unlift(Entry call) {
        Entry ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        if (call.next != null) {
            call.next.prev = call;
        }
    }

    // ------------------------------------------------------------------ explaining

    /**
     * Shrinks a key's failing ops to a small set that still fails: first cut at the op that blocked
     * (later invocations dropped, answers after it treated as unknown), then drop ops one at a time
     * while the rest still fails, keeping the writes of values that kept reads return.
     */
    private static Violation explain(String key, List<Op> ops, Search failure) {
        List<Op> witness = ops;
        long cut = failure.blocked.response();
        List<Op> truncated = new ArrayList<>();
        for (Op op : ops) {
            if (op.invoke() > cut) {
                continue;
            }
            if (op.response() > cut) {
                if (op.isWrite()) {
                    truncated.add(new Op(op.id(), op.client(), op.invoke(), Op.NEVER, op.call(), new Result.Unknown()));
                }
            } else {
                truncated.add(op);
            }
        }
        if (search(truncated, MINIMIZE_BUDGET).outcome == Outcome.VIOLATION) {
            witness = truncated;
        }
        if (witness.size() <= MINIMIZE_MAX_OPS) {
            for (int i = witness.size() - 1; i >= 0; i--) {
                if (isSourceOfAnother(witness, i)) {
                    continue;
                }
                List<Op> candidate = new ArrayList<>(witness);
                candidate.remove(i);
                if (search(candidate, MINIMIZE_BUDGET).outcome == Outcome.VIOLATION) {
                    witness = candidate;
                }
            }
        }
        Search s = witness == ops ? failure : search(witness, Long.MAX_VALUE);
        Map<Integer, Op> original = new HashMap<>();
        for (Op op : ops) {
            original.put(op.id(), op);
        }
        List<Op> involved = witness.stream().map(op -> original.get(op.id())).toList();
        String order = s.orderThere.isEmpty() ? "no op can take effect first"
                : "the longest consistent order, " + ids(s.orderThere) + ", leaves " + key + " " + s.stateThere;
        String text = "no order of these " + witness.size() + " ops (of " + ops.size() + " on " + key
                + ") explains every answer: " + order + ", and #" + s.blocked.id() + " (" + s.blocked.call() + " -> "
                + s.blocked.result() + ") had answered before it could take effect after them";
        return new Violation(Violation.Kind.NOT_LINEARIZABLE, key, involved, text);
    }

    /**
     * Whether dropping op {@code index} would only swap the conflict for a cruder one: it is the only
     * write of a value some op read, or it created a revision another op names (read, or compared).
     */
    private static boolean isSourceOfAnother(List<Op> ops, int index) {
        Op w = ops.get(index);
        String value = writtenValue(w);
        long revision = w.writtenRevision();
        boolean valueRead = false;
        boolean otherWriter = false;
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            if (i == index) {
                continue;
            }
            if (value != null && value.equals(writtenValue(op))) {
                otherWriter = true;
            }
            if (op.result() instanceof Result.Found f) {
                valueRead |= f.value().equals(value);
                if (revision > 0 && f.modRevision() == revision) {
                    return true;
                }
            }
            long expected = op.call() instanceof Call.Cas c ? c.expectedRevision()
                    : op.call() instanceof Call.Delete d ? d.expectedRevision() : -1;
            if (revision > 0 && expected == revision) {
                return true;
            }
        }
        return valueRead && !otherWriter;
    }

    private static String ids(List<Op> ops) {
        StringBuilder b = new StringBuilder();
        for (Op op : ops) {
            b.append(b.length() == 0 ? "" : " < ").append('#').append(op.id());
        }
        return b.toString();
    }

}

package io.quorumd.sim;

import java.util.SplittableRandom;

/** The faults of one chaos schedule, drawn from its seed; all of them heal at {@code healAtNanos}. */
final class FaultPlan {
    private FaultPlan() {}

    enum Kind {
        /** two sides, no link between them (majority/minority: n is odd) */
        SPLIT,
        /** side A cannot send to side B; B still reaches A */
        ONE_WAY,
        /** A and B cut from each other, the bridge node sees both */
        BRIDGE,
        /** one node (the master at that moment, or a fixed one) cut off: both ways, outgoing or incoming */
        ISOLATE,
        /** a random set of directed links down */
        FLAP,
        /** loss and extra delay on a set of directed links */
        DEGRADE,
        /** the agent is SIGKILLed; restarted at {@code until} (its command lives on until the watchdog stops it) */
        CRASH_AGENT,
        /** power loss: agent and command die at once, the monotonic clock restarts at boot */
        CRASH_HOST,
        /** SIGSTOP / a long GC: the agent handles nothing, its watchdog and command run on */
        PAUSE_AGENT,
        /** docker pause: nothing on the host runs, not even the watchdog */
        FREEZE_HOST,
        /** quorumd step-down [--to] */
        STEP_DOWN,
        /** systemctl stop, then start again at {@code until} */
        SHUTDOWN,
        /** every Persist fails (disk full) */
        STORAGE_FAIL,
        /** the worst moment for a crash: the agent dies right after each vote it sends, and restarts soon */
        CRASH_AFTER_VOTE,
        /**
         * self_fence.mode required and the watchdog device unusable (drawn after every other
         * parameter, never by the weights below, so older seeds keep their schedules)
         */
        FENCE_UNUSABLE,
        /**
         * the log's disk is full: every log write (PersistLog) and every snapshot write fails (drawn
         * after everything else, so older seeds keep their schedules)
         */
        LOG_WRITE_FAIL
    }

    /**
     * One fault. {@code host} -1 means "the master when the fault starts" ({@code fallback} if there
     * is none), -2 none, -3 every host. {@code edges} has bit {@code a*n+b} for each directed link a->b it affects.
     */
    record Fault(Kind kind, long at, long until, int host, int fallback, int dir, long edges, int bridge,
                 boolean reject, int to, double loss, long extraDelayNanos) {

        String describe(SimParams p) {
            StringBuilder s = new StringBuilder();
            s.append(SimTrace.ms(at)).append("..").append(SimTrace.ms(until)).append(' ').append(kind);
            if (host == -3) s.append(" every host");
            else if (host != -2) s.append(" host=").append(host == -1 ? "master(else " + p.ids[fallback] + ")" : p.ids[host]);
            if (kind == Kind.ISOLATE) s.append(dir == 0 ? " both-ways" : dir == 1 ? " outgoing" : " incoming");
            if (kind == Kind.BRIDGE) s.append(" bridge=").append(p.ids[bridge]);
            if (edges != 0) s.append(" links=").append(edgeList(p, edges));
            if (reject) s.append(" REJECT");
            if (kind == Kind.STEP_DOWN) s.append(" to=").append(to < 0 ? "any" : p.ids[to]);
            if (kind == Kind.DEGRADE) s.append(String.format(" loss=%.2f +delay=%s", loss, SimTrace.ms(extraDelayNanos)));
            if (kind == Kind.CRASH_AFTER_VOTE) s.append(" restart after ").append(SimTrace.ms(extraDelayNanos));
            return s.toString();
        }
    }

    static String edgeList(SimParams p, long edges) {
        StringBuilder s = new StringBuilder();
        int n = p.nodes;
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                if ((edges >>> (a * n + b) & 1) != 0) {
                    if (s.length() > 0) s.append(',');
                    s.append(p.ids[a]).append('>').append(p.ids[b]);
                }
        return s.toString();
    }

    static long cut(int n, int maskA, int maskB, boolean bothWays) {
        long e = 0;
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) {
                if (a == b) continue;
                boolean ab = (maskA >> a & 1) != 0 && (maskB >> b & 1) != 0;
                boolean ba = bothWays && (maskB >> a & 1) != 0 && (maskA >> b & 1) != 0;
                if (ab || ba) e |= 1L << (a * n + b);
            }
        return e;
    }

    static void draw(SimParams p, SplittableRandom r) {
        int n = p.nodes;
        long t = p.timing.electionTimeoutNanos();
        long stop = p.timing.stopTimeoutNanos();
        long heal = p.healAtNanos;
        int all = (1 << n) - 1;
        int count = 1 + r.nextInt(10);
        Kind[] kinds = Kind.values();   // FENCE_UNUSABLE and LOG_WRITE_FAIL have no weight: see their draws
        int[] weight = {12, 8, 6, 14, 5, 8, 12, 4, 10, 4, 8, 4, 5, 6};
        int total = 0;
        for (int w : weight) total += w;
        for (int k = 0; k < count; k++) {
            int x = r.nextInt(total);
            int ki = 0;
            while (x >= weight[ki]) x -= weight[ki++];
            Kind kind = kinds[ki];
            long at = t / 2 + r.nextLong(Math.max(1, heal - t / 2));
            long dur;
            int cls = r.nextInt(10);
            if (cls < 4) dur = t / 10 + r.nextLong(t);
            else if (cls < 8) dur = t + r.nextLong(3 * t + stop);
            else dur = 4 * t + stop + r.nextLong(10 * t);
            long until = at + dur;
            boolean master = r.nextInt(10) < 6;
            int host = master ? -1 : r.nextInt(n);
            int fallback = r.nextInt(n);
            boolean reject = r.nextInt(4) == 0;
            Fault f;
            switch (kind) {
                case SPLIT: {
                    int a = randomMask(r, n, 1 + r.nextInt(n - 1));
                    f = new Fault(kind, at, Math.min(until, heal), -2, 0, 0, cut(n, a, all & ~a, true), -1, reject, -1, 0, 0);
                    break;
                }
                case ONE_WAY: {
                    int a = randomMask(r, n, 1 + r.nextInt(n - 1));
                    f = new Fault(kind, at, Math.min(until, heal), -2, 0, 0, cut(n, a, all & ~a, false), -1, reject, -1, 0, 0);
                    break;
                }
                case BRIDGE: {
                    int bridge = r.nextInt(n);
                    int rest = all & ~(1 << bridge);
                    int a = 0;
                    for (int i = 0; i < n; i++) if (i != bridge && r.nextBoolean()) a |= 1 << i;
                    if (a == 0 || a == rest) a = Integer.lowestOneBit(rest);
                    int b = rest & ~a;
                    f = new Fault(kind, at, Math.min(until, heal), -2, 0, 0, cut(n, a, b, true), bridge, reject, -1, 0, 0);
                    break;
                }
                case ISOLATE:
                    f = new Fault(kind, at, Math.min(until, heal), host, fallback, r.nextInt(3), 0, -1, reject, -1, 0, 0);
                    break;
                case FLAP: {
                    long e = 0;
                    for (int a = 0; a < n; a++)
                        for (int b = 0; b < n; b++)
                            if (a != b && r.nextInt(3) == 0) e |= 1L << (a * n + b);
                    f = new Fault(kind, at, Math.min(until, heal), -2, 0, 0, e, -1, reject, -1, 0, 0);
                    break;
                }
                case DEGRADE: {
                    long e = 0;
                    for (int a = 0; a < n; a++)
                        for (int b = 0; b < n; b++)
                            if (a != b && r.nextBoolean()) e |= 1L << (a * n + b);
                    double loss = r.nextDouble() * 0.5;
                    long extra = r.nextBoolean() ? 0 : r.nextLong(t);
                    f = new Fault(kind, at, Math.min(until, heal), -2, 0, 0, e, -1, false, -1, loss, extra);
                    break;
                }
                case CRASH_AGENT:
                case CRASH_HOST:
                case SHUTDOWN: {
                    // a supervisor restarts quickly (systemd: ~100 ms) in half the cases
                    long restart = r.nextBoolean() ? at + 20 * SimParams.MS + r.nextLong(300 * SimParams.MS) : until;
                    f = new Fault(kind, at, restart, kind == Kind.SHUTDOWN && !master ? r.nextInt(n) : host, fallback,
                            0, 0, -1, false, -1, 0, 0);
                    break;
                }
                case PAUSE_AGENT:
                case FREEZE_HOST:
                case STORAGE_FAIL:
                    f = new Fault(kind, at, Math.min(until, heal), host, fallback, 0, 0, -1, false, -1, 0, 0);
                    break;
                case CRASH_AFTER_VOTE:
                    // every vote it grants until `until` kills it; a supervisor restarts it 20..300 ms later
                    f = new Fault(kind, at, Math.min(until, heal), r.nextBoolean() ? -3 : r.nextInt(n), 0, 0, 0, -1, false, -1, 0,
                            20 * SimParams.MS + r.nextLong(280 * SimParams.MS));
                    break;
                case STEP_DOWN:
                    f = new Fault(kind, at, at, host, fallback, 0, 0, -1, false, r.nextBoolean() ? -1 : r.nextInt(n), 0, 0);
                    break;
                default:
                    throw new IllegalStateException("unhandled fault kind " + kind);
            }
            p.faults.add(f);
        }
    }

    /** In a fifth of the schedules, one host's required self-fence device is unusable for a while. */
    static void drawFenceUnusable(SimParams p, SplittableRandom r) {
        if (r.nextInt(5) != 0) return;
        long t = p.timing.electionTimeoutNanos();
        long at = t / 2 + r.nextLong(Math.max(1, p.healAtNanos - t / 2));
        long until = Math.min(p.healAtNanos, at + t / 10 + r.nextLong(6 * t));
        boolean master = r.nextInt(10) < 6;
        p.faults.add(new Fault(Kind.FENCE_UNUSABLE, at, until, master ? -1 : r.nextInt(p.nodes), r.nextInt(p.nodes),
                0, 0, -1, false, -1, 0, 0));
    }

    /** In a quarter of the schedules, one host's log disk fails for a while (it matters with the store on). */
    static void drawLogWriteFail(SimParams p, SplittableRandom r) {
        if (r.nextInt(4) != 0) return;
        long t = p.timing.electionTimeoutNanos();
        long at = t / 2 + r.nextLong(Math.max(1, p.healAtNanos - t / 2));
        long until = Math.min(p.healAtNanos, at + t / 10 + r.nextLong(6 * t));
        boolean master = r.nextInt(10) < 6;
        p.faults.add(new Fault(Kind.LOG_WRITE_FAIL, at, until, master ? -1 : r.nextInt(p.nodes), r.nextInt(p.nodes),
                0, 0, -1, false, -1, 0, 0));
    }

    private static int randomMask(SplittableRandom r, int n, int size) {
        int m = 0;
        while (Integer.bitCount(m) < size) m |= 1 << r.nextInt(n);
        return m;
    }
}

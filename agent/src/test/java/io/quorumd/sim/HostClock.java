package io.quorumd.sim;

/**
 * A host's monotonic clock: {@code local = offset + rate * real}, with {@code rate} within
 * {@code [1 - ρ, 1 + ρ]}. The node only ever sees local time; the simulator converts its
 * deadlines back to real time.
 */
final class HostClock {
    final long offsetNanos;
    final double rate;

    HostClock(long offsetNanos, double rate) {
        this.offsetNanos = offsetNanos;
        this.rate = rate;
    }

    long local(long realNanos) {
        return offsetNanos + (long) Math.floor(realNanos * rate);
    }

    /** The first real time at which this clock reads at least {@code localNanos}. */
    long realAt(long localNanos) {
        if (localNanos == Long.MAX_VALUE) return Long.MAX_VALUE;
        double d = (localNanos - (double) offsetNanos) / rate;
        if (d <= 0) return 0;
        if (d >= 9.0e18) return Long.MAX_VALUE;
        long r = (long) Math.ceil(d);
        while (r > 0 && local(r - 1) >= localNanos) r--;
        while (local(r) < localNanos) r++;
        return r;
    }

    /** Real duration that surely covers {@code localNanos} on this clock. */
    long realDuration(long localNanos) {
        return (long) Math.ceil(localNanos / rate);
    }
}

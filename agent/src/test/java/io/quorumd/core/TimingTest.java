package io.quorumd.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The timing SPEC allows (each limit itself accepted, one past it refused) and the durations derived from it. */
class TimingTest {
    static final long MS = Timing.MS;

    @Test
    void eachLimitIsAcceptedAndOnePastItRefused() {
        assertDoesNotThrow(() -> new Timing(1, 3, 0, 0, 0), "t = 3 heartbeats, no stop_timeout, no restart window");
        assertThrows(IllegalArgumentException.class, () -> new Timing(0, 3, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Timing(100 * MS, 300 * MS - 1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Timing(1, 3, 0, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Timing(1, 3, 0, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> new Timing(1, 3, 0.5, 0, 0));
    }

    @Test
    void theDefaultsAreSpecsAndTheDerivedDurationsAllowForDrift() {
        assertEquals(new Timing(100 * MS, 1000 * MS, 0.01, 5000 * MS, 60_000 * MS), Timing.defaults());
        Timing t = new Timing(100 * MS, 1000 * MS, 0.01, 1000 * MS, 0);
        assertEquals(1010 * MS, t.atLeastReal(1000 * MS), "1000 ms of real time on a clock up to 1 % slow");
        assertEquals((long) Math.floor(1000 * MS * 0.99 / 1.01), t.leaseNanos());
        assertEquals((long) Math.ceil(1000 * MS * 1.01 / 0.99), t.stopWaitNanos());
    }
}

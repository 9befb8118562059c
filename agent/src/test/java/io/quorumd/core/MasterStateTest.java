package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A master's own deadlines: the lease end (or the step-down without echoes), the fence, the end of the wait. */
class MasterStateTest {
    @Test
    void beforeAnyEchoTheMasterWakesToStepDownWithoutOne() {
        MasterState m = new MasterState(Map.of(), 0);
        assertEquals(500, m.nextDeadline(10_000, 500));
        m.lease.echo("b", 100);
        m.lease.renew(100, 2, 900);
        assertEquals(1000, m.nextDeadline(10_000, 500), "then the lease end");
    }

    @Test
    void theWaitAndTheFenceAreDeadlinesUntilCleared() {
        MasterState m = new MasterState(Map.of(), 0);
        m.clearAtNanos = 700;
        m.fenceTarget = "c";
        m.fenceAtNanos = 300;
        assertEquals(300, m.nextDeadline(10_000, 5000));
        assertFalse(m.fenceDue(299));
        assertTrue(m.fenceDue(300));
        m.fenceRequested = true;
        assertFalse(m.fenceDue(400), "fenced once");
        assertEquals(700, m.nextDeadline(10_000, 5000));
        assertFalse(m.waitOver(699));
        assertTrue(m.waitOver(700));
        m.clear(new Clearance(Clearance.By.LEASE_EXPIRY, null, 0, "waited out the old lease plus stop_timeout"), 700);
        assertEquals(700, m.clearedAtNanos, "when it was cleared");
        assertEquals("waited out the old lease plus stop_timeout", m.clearReason());
        assertFalse(m.waitOver(800));
        assertEquals(5000, m.nextDeadline(10_000, 5000), "cleared: only the lease matters");
    }
}

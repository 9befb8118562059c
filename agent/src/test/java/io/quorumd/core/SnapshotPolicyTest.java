package io.quorumd.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.quorumd.core.ReplicationTest.MS;
import static io.quorumd.core.ReplicationTest.all;
import static io.quorumd.core.ReplicationTest.handle;
import static io.quorumd.core.ReplicationTest.node;
import static io.quorumd.core.ReplicationTest.recv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When a snapshot is due: by entries or by bytes applied since the base, each threshold exactly. */
class SnapshotPolicyTest {
    @Test
    void dueAtEitherThresholdAndNotOneBelow() {
        SnapshotPolicy p = new SnapshotPolicy(10, 1000);
        assertFalse(p.due(9, 999));
        assertTrue(p.due(10, 0));
        assertTrue(p.due(1, 1000));
        assertEquals(5, p.retryGap());
        assertEquals(1, new SnapshotPolicy(1, 1).retryGap());
        assertEquals(new SnapshotPolicy(10_000, 64L << 20), SnapshotPolicy.DEFAULT);
    }

    @Test
    void thresholdsBelowOneAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SnapshotPolicy(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SnapshotPolicy(1, 0));
    }

    @Test
    void theCoreAsksForASnapshotOnceTheBytesAppliedReachTheThreshold() {
        Node f = node("n1");
        f.snapshotPolicy(new SnapshotPolicy(1000, 30));
        List<io.quorumd.log.LogEntry> es = List.of(new io.quorumd.log.LogEntry(1, 1, new byte[10]),
                new io.quorumd.log.LogEntry(2, 1, new byte[10]), new io.quorumd.log.LogEntry(3, 1, new byte[10]));
        List<Effect> two = handle(f, recv(new Message.Append("n0", 1, 9, 11, 0, 0, es, 2)), 10 * MS);
        assertTrue(all(two, Effect.TakeSnapshot.class).isEmpty(), "20 bytes applied: " + two);
        List<Effect> three = handle(f, recv(new Message.Append("n0", 1, 9, 12, 3, 1, List.of(), 3)), 11 * MS);
        assertEquals(List.of(new Effect.TakeSnapshot(3, 1)), all(three, Effect.TakeSnapshot.class), three::toString);
    }

    @Test
    void aNodeRefusesNoPolicy() {
        assertThrows(NullPointerException.class, () -> node("n1").snapshotPolicy(null));
    }
}

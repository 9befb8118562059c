package io.quorumd.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PendingResponsesTest {
    private static final byte[] R1 = {1};
    private static final byte[] R2 = {2};

    @Test
    void answersOnceByClaimedSenderAndRequestId() {
        PendingResponses<byte[]> p = new PendingResponses<>(1_000, 10);
        p.put("node-a", 7, R1, 0);
        p.put("node-b", 7, R2, 0);
        assertArrayEquals(R2, p.take("node-b", 7, 10));
        assertNull(p.take("node-b", 7, 10), "answered already");
        assertNull(p.take("node-a", 8, 10), "never asked");
        assertArrayEquals(R1, p.take("node-a", 7, 10));
    }

    @Test
    void forgetsUnansweredRequestsAfterTheirTtl() {
        PendingResponses<byte[]> p = new PendingResponses<>(1_000, 10);
        p.put("node-a", 1, R1, 0);
        p.put("node-a", 2, R2, 500);
        assertEquals(1_000, p.untilNextExpiryNanos(0));
        assertEquals(0, p.expire(999));
        assertEquals(1, p.expire(1_000));
        assertEquals(500, p.untilNextExpiryNanos(1_000));
        assertNull(p.take("node-a", 2, 1_500), "expired exactly at its deadline");
        assertEquals(Long.MAX_VALUE, p.untilNextExpiryNanos(2_000));
    }

    @Test
    void boundedInSizeOldestFirst() {
        PendingResponses<byte[]> p = new PendingResponses<>(1_000, 2);
        assertFalse(p.put("node-a", 1, R1, 0));
        assertFalse(p.put("node-a", 2, R1, 0));
        assertTrue(p.put("node-a", 3, R1, 0));
        assertEquals(2, p.size());
        assertNull(p.take("node-a", 1, 0));
        assertArrayEquals(R1, p.take("node-a", 3, 0));
    }

    @Test
    void aRepeatedRequestTakesTheNewRoutingIdAndDeadline() {
        PendingResponses<byte[]> p = new PendingResponses<>(1_000, 10);
        p.put("node-a", 1, R1, 0);
        p.put("node-a", 1, R2, 800);
        assertEquals(1, p.size());
        assertEquals(0, p.expire(1_000));
        assertArrayEquals(R2, p.take("node-a", 1, 1_500));
    }
}

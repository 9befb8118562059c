package io.quorumd.wire;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropCountersTest {
    private final AtomicLong clock = new AtomicLong(1_000);
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final DropCounters drops = new DropCounters(clock::get, lines::add);

    @Test
    void countsByReasonInASortedSnapshot() {
        drops.record(new DecodeFailure(DecodeFailure.Reason.TRUNCATED, "x"));
        drops.record("NO_DELIMITER", "y");
        drops.record(new DecodeFailure(DecodeFailure.Reason.BAD_FIELD, "z"));
        drops.record(new DecodeFailure(DecodeFailure.Reason.TRUNCATED, "x"));
        Map<String, Long> snap = drops.snapshot();
        assertEquals(List.of("bad_field", "no_delimiter", "truncated"), new ArrayList<>(snap.keySet()));
        assertEquals(Map.of("bad_field", 1L, "no_delimiter", 1L, "truncated", 2L), snap);
        assertEquals(4, drops.total());
        assertEquals(2, drops.count("TRUNCATED"));
        assertEquals(0, drops.count("MALFORMED"));
        assertThrows(UnsupportedOperationException.class, () -> snap.put("X", 1L));
    }

    @Test
    void logsOneLinePerReasonPerMinuteWithTheSuppressedCount() {
        // a flood claiming many different senders is still one reason: one line
        for (int i = 0; i < 500; i++) drops.record("UNKNOWN_SENDER", "sender 'node-" + i + "' is not a configured peer");
        assertEquals(1, lines.size(), lines::toString);
        assertTrue(lines.get(0).contains("unknown_sender") && lines.get(0).contains("node-0"), lines.get(0));

        drops.record("MALFORMED", "junk"); // another reason has its own allowance
        assertEquals(2, lines.size());

        clock.addAndGet(DropCounters.LOG_INTERVAL_NANOS - 1);
        drops.record("UNKNOWN_SENDER", "still within the minute");
        assertEquals(2, lines.size());

        clock.addAndGet(1);
        drops.record("UNKNOWN_SENDER", "a minute later");
        assertEquals(3, lines.size());
        String line = lines.get(2);
        assertTrue(line.contains("a minute later"), line);
        assertTrue(line.contains("; 500 more unknown_sender drops since the last such line were not logged"), line);
        assertTrue(line.contains("502 unknown_sender drops in all"), line);

        clock.addAndGet(DropCounters.LOG_INTERVAL_NANOS);
        drops.record("UNKNOWN_SENDER", "quiet minute");
        assertTrue(lines.get(3).contains("0 more"), lines.get(3));
    }

    @Test
    void threadSafeUnderContention() throws InterruptedException {
        String[] reasons = {"A", "B", "C", "D"};
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int id = t;
            threads.add(new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    drops.record(reasons[(i + id) % reasons.length], "d");
                    if (i % 1000 == 0) clock.addAndGet(DropCounters.LOG_INTERVAL_NANOS / 10);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) t.join();
        assertEquals(160_000, drops.total());
        for (String r : reasons) assertEquals(40_000, drops.count(r));
        // 16 minutes of fake time passed: at most one line per reason per minute, plus the first
        assertTrue(lines.size() <= reasons.length * 18, "lines: " + lines.size());
        assertFalse(lines.isEmpty());
    }

    @Test
    void aFailingLogSinkDoesNotLoseTheCount() {
        DropCounters d = new DropCounters(clock::get, s -> {
            throw new IllegalStateException("log down");
        });
        d.record("MALFORMED", "x");
        assertEquals(1, d.total());
    }
}

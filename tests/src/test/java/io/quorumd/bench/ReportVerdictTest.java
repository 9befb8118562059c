package io.quorumd.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The at-rest verdict: no rows give no verdict, and the start is judged after the spawn. */
class ReportVerdictTest {
    @Test
    void nothingMeasuredIsNotAMeets() {
        String v = Report.restVerdict(true, 0, 0, 0, 0);
        assertTrue(v.contains("not measured"), v);
        assertFalse(v.contains("meets"), v);
    }

    @Test
    void theStartIsJudgedFromTheSpawnNotFromTheAgentsOwnCount() {
        String v = Report.restVerdict(false, 0.4, 40, 820, 310);
        assertTrue(v.contains("CPU < 0.5 % of one core — meets"), v);
        assertTrue(v.contains("RSS < 48 MiB — meets"), v);
        assertTrue(v.contains("spawn to first keep-alive < 400 ms — **misses** (worst 820"), v);
        assertTrue(Report.restVerdict(false, 3, 57, 390, 100).contains("< 400 ms — meets"));
        assertTrue(Report.restVerdict(false, 3, 57, 390, 100).contains("CPU < 0.5 % of one core — **misses**"));
    }
}
